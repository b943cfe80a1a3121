//! The measured stream loops, shared by `bench` and its peer (round trips are in
//! [`super::roundtrip`]). They are as tight as the C reference
//! loop: one reusable buffer per connection, one `write(2)` per message, `read(2)` of a
//! message size, no allocation per message; throughput loops never read the clock per
//! message (the [`Phase`] says when the window opens and closes), latency loops read it
//! twice per round trip.

use std::io;
use std::time::{Duration, Instant};

use super::conductor::{Phase, Step};
use crate::engine::copy::write_all;
use crate::stats::latency::Latencies;
use crate::transport::{Input, Output};

/// What one connection measured.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Bytes moved in the window (round trips: bytes sent).
    pub bytes: u64,
    /// Whole messages moved, or round trips timed.
    pub messages: u64,
    /// Length of the window.
    pub elapsed: Duration,
    /// Every round trip, for latency.
    pub latencies: Option<Latencies>,
}

/// A message buffer, written once so that page faults stay out of the figures.
pub fn buffer(size: usize) -> Vec<u8> {
    vec![b'x'; size]
}

/// True for the errors that mean "the other side closed": the normal end of a stream the
/// other process stopped reading (a datagram socket: refused once the other one is gone).
pub fn is_peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

pub(super) fn closed_early() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the other side closed the connection",
    )
}

pub(super) fn no_half(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("the connection has no {what} half"),
    )
}

/// Fills `buf`. `Ok(false)` at a clean end (EOF before the first byte).
#[inline]
pub fn read_exact(input: &mut Input, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..])? {
            0 if got == 0 => return Ok(false),
            0 => return Err(closed_early()),
            n => got += n,
        }
    }
    Ok(true)
}

/// Counts a stream of transfers into the measured window.
struct Window {
    size: u64,
    limit: Option<u64>,
    total: u64,
    start: Option<(Instant, u64)>,
}

enum Next {
    Go,
    Stop(Option<Measured>),
}

impl Window {
    fn new(size: usize, count: Option<u64>) -> Window {
        let size = size as u64;
        Window {
            size,
            limit: count.map(|c| c.saturating_mul(size)),
            total: 0,
            start: None,
        }
    }

    fn finish(&self, t0: Instant, b0: u64) -> Next {
        let bytes = self.total - b0;
        Next::Stop(Some(Measured {
            bytes,
            messages: bytes / self.size.max(1),
            elapsed: t0.elapsed(),
            latencies: None,
        }))
    }

    /// After `n` more bytes: go on, or the result.
    #[inline]
    fn step(&mut self, n: usize, phase: &Phase) -> Next {
        self.total += n as u64;
        match (phase.get(), self.start) {
            (Step::Warmup, _) => Next::Go,
            // The window opens after the first transfer that sees it open; the window also
            // opens late if it closed before this loop saw it (a stalled peer), so that it
            // always holds at least one transfer.
            (Step::Measure | Step::Done, None) => {
                self.start = Some((Instant::now(), self.total));
                Next::Go
            }
            (Step::Measure, Some((t0, b0))) => match self.limit {
                Some(limit) if self.total - b0 >= limit => self.finish(t0, b0),
                _ => Next::Go,
            },
            (Step::Done, Some((t0, b0))) => self.finish(t0, b0),
            (Step::Abort, _) => Next::Stop(None),
        }
    }
}

/// Throughput, receiving side: reads messages until the window closes (or `count`
/// messages have arrived in it). `None` if aborted.
pub fn receive(
    input: &mut Input,
    buf: &mut [u8],
    phase: &Phase,
    count: Option<u64>,
) -> io::Result<Option<Measured>> {
    let mut w = Window::new(buf.len(), count);
    loop {
        let n = input.read(buf)?;
        if n == 0 {
            return Err(closed_early());
        }
        if let Next::Stop(m) = w.step(n, phase) {
            return Ok(m);
        }
    }
}

/// Throughput, sending side (against a server under `--connect`): writes messages until
/// the window closes (or `count` messages were accepted). `None` if aborted.
pub fn send(
    out: &mut Output,
    buf: &[u8],
    phase: &Phase,
    count: Option<u64>,
) -> io::Result<Option<Measured>> {
    let mut w = Window::new(buf.len(), count);
    loop {
        write_all(out, buf)?;
        if let Next::Stop(m) = w.step(buf.len(), phase) {
            return Ok(m);
        }
    }
}

/// The peer's side of throughput: writes messages until the reader goes away.
pub fn send_until_closed(out: &mut Output, buf: &[u8]) -> io::Result<()> {
    loop {
        match write_all(out, buf) {
            Ok(()) => {}
            Err(e) if is_peer_gone(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Reads and drops everything until EOF (the replies of a server under `--connect`).
pub fn drain(input: &mut Input, buf: &mut [u8]) -> io::Result<()> {
    loop {
        match input.read(buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if is_peer_gone(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// The peer's side of latency: echoes each message back until EOF.
pub fn echo(input: &mut Input, out: &mut Output, buf: &mut [u8]) -> io::Result<()> {
    echo_until_gone(input, out, buf, false)
}

/// How long an idle datagram peer waits before it checks that bench is still there.
pub const DATAGRAM_PROBE: Duration = Duration::from_millis(200);

/// The peer's side of latency over datagrams, which have no EOF: echoes each message back.
/// When none has come for [`DATAGRAM_PROBE`] (a receive timeout), an empty datagram asks
/// whether bench is still there (it carries nothing, and bench reads past it); once that is
/// refused, bench is gone and the echo ends.
pub fn echo_datagrams(input: &mut Input, out: &mut Output, buf: &mut [u8]) -> io::Result<()> {
    echo_until_gone(input, out, buf, true)
}

/// Echoes until EOF or until bench is gone; `probe` sends the empty "still there?"
/// datagram on a receive timeout.
fn echo_until_gone(
    input: &mut Input,
    out: &mut Output,
    buf: &mut [u8],
    probe: bool,
) -> io::Result<()> {
    let gone_or = |e: io::Error| if is_peer_gone(&e) { Ok(()) } else { Err(e) };
    loop {
        match read_exact(input, buf) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) if probe && e.kind() == io::ErrorKind::WouldBlock => match out.write(&[]) {
                Ok(_) => continue,
                Err(e) => return gone_or(e),
            },
            Err(e) => return gone_or(e),
        }
        if let Err(e) = write_all(out, buf) {
            return gone_or(e);
        }
    }
}

/// The halves a mode needs, or an error naming what is missing.
pub fn halves<'a>(
    input: Option<&'a mut Input>,
    output: Option<&'a mut Output>,
) -> io::Result<(&'a mut Input, &'a mut Output)> {
    match (input, output) {
        (Some(i), Some(o)) => Ok((i, o)),
        (None, _) => Err(no_half("readable")),
        (_, None) => Err(no_half("writable")),
    }
}

/// Sets a descriptor non-blocking (interleaved round trips).
pub fn set_nonblocking(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags | rustix::fs::OFlags::NONBLOCK)?;
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::transport::CloseHow;
    use std::os::fd::OwnedFd;

    pub(crate) fn pipe() -> (Input, Output) {
        let (r, w) = std::io::pipe().expect("pipe");
        (
            Input::new(OwnedFd::from(r)),
            Output::new(OwnedFd::from(w), CloseHow::Close),
        )
    }

    #[test]
    fn receive_counts_a_window_of_messages() {
        let (mut input, mut out) = pipe();
        let writer = std::thread::spawn(move || send_until_closed(&mut out, &buffer(64)));
        let phase = Phase::default();
        phase.set(Step::Measure);
        let mut buf = buffer(64);
        let m = receive(&mut input, &mut buf, &phase, Some(100))
            .expect("receive")
            .expect("not aborted");
        assert!(m.bytes >= 100 * 64 && m.messages >= 100, "{m:?}");
        drop(input);
        writer
            .join()
            .expect("writer")
            .expect("ends quietly on EPIPE");
    }

    #[test]
    fn abort_stops_without_a_result() {
        let (mut input, mut out) = pipe();
        let writer = std::thread::spawn(move || send_until_closed(&mut out, &buffer(8)));
        let phase = Phase::default();
        phase.set(Step::Abort);
        let got = receive(&mut input, &mut buffer(8), &phase, None).expect("receive");
        assert!(got.is_none());
        drop(input);
        writer.join().expect("writer").expect("quiet");
    }
}
