//! The measured loops, shared by `bench` and its peer. They are as tight as the C reference
//! loop: one reusable buffer per connection, one `write(2)` per message, `read(2)` of a
//! message size, no allocation per message; throughput loops never read the clock per
//! message (the [`Phase`] says when the window opens and closes), latency loops read it
//! twice per round trip.

use std::io;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};

use super::conductor::{Phase, Step};
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
/// other process stopped reading.
pub fn is_peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

fn closed_early() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the other side closed the connection",
    )
}

fn no_half(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("the connection has no {what} half"),
    )
}

/// Writes all of `buf`: one `write(2)` unless the kernel takes less.
#[inline]
pub fn write_all(out: &mut Output, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match out.write(buf)? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
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
    loop {
        match read_exact(input, buf) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) if is_peer_gone(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
        match write_all(out, buf) {
            Ok(()) => {}
            Err(e) if is_peer_gone(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// How one round trip is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundTrip {
    /// Write the whole message, then read the whole answer: right when the other side
    /// reads a whole message before answering (ipctool's peer).
    Sequential,
    /// Write and read at once (non-blocking descriptors, `poll`): needed against a server
    /// that streams the answer while the message still arrives (`cat`) once the message is
    /// larger than the socket buffers.
    Interleaved,
}

/// Latency: timed round trips until the window closes (or `count` were timed). `None` if
/// aborted. Interleaved round trips need non-blocking descriptors.
pub fn ping(
    input: &mut Input,
    out: &mut Output,
    how: RoundTrip,
    size: usize,
    phase: &Phase,
    count: Option<u64>,
) -> io::Result<Option<Measured>> {
    let msg = buffer(size);
    let mut answer = buffer(size);
    let mut lat = Latencies::new();
    let mut start: Option<Instant> = None;
    let mut n: u64 = 0;
    loop {
        let t0 = Instant::now();
        match how {
            RoundTrip::Sequential => {
                write_all(out, &msg)?;
                if !read_exact(input, &mut answer)? {
                    return Err(closed_early());
                }
            }
            RoundTrip::Interleaved => round_trip_interleaved(input, out, &msg, &mut answer, None)?,
        }
        let t1 = Instant::now();
        let step = phase.get();
        match step {
            Step::Warmup => continue,
            Step::Abort => return Ok(None),
            Step::Measure | Step::Done => {}
        }
        let first = *start.get_or_insert(t0);
        lat.record(u64::try_from((t1 - t0).as_nanos()).unwrap_or(u64::MAX));
        n += 1;
        if step == Step::Done || count.is_some_and(|c| n >= c) {
            return Ok(Some(Measured {
                bytes: n * size as u64,
                messages: n,
                elapsed: t1 - first,
                latencies: Some(lat),
            }));
        }
    }
}

/// One untimed round trip that gives up after `within`: does the other side answer at
/// all? (A server that never sends back what it receives would make `ping` wait forever.)
pub fn probe(input: &mut Input, out: &mut Output, size: usize, within: Duration) -> io::Result<()> {
    let ofd = out.fd().ok_or_else(|| no_half("writable"))?;
    let flags = (
        rustix::fs::fcntl_getfl(input.fd())?,
        rustix::fs::fcntl_getfl(ofd)?,
    );
    set_nonblocking(input.fd())?;
    set_nonblocking(ofd)?;
    let deadline = Instant::now() + within;
    let res = round_trip_interleaved(input, out, &buffer(size), &mut buffer(size), Some(deadline));
    rustix::fs::fcntl_setfl(input.fd(), flags.0)?;
    if let Some(ofd) = out.fd() {
        rustix::fs::fcntl_setfl(ofd, flags.1)?;
    }
    res
}

/// One round trip with writing and reading interleaved by `poll`; `TimedOut` after
/// `deadline`.
fn round_trip_interleaved(
    input: &mut Input,
    out: &mut Output,
    msg: &[u8],
    answer: &mut [u8],
    deadline: Option<Instant>,
) -> io::Result<()> {
    let (mut sent, mut got) = (0, 0);
    while got < answer.len() {
        let timeout = match deadline {
            None => None,
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(
                    rustix::event::Timespec::try_from(left)
                        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
                ),
                _ => return Err(io::ErrorKind::TimedOut.into()),
            },
        };
        let writing = sent < msg.len();
        let (readable, writable) = {
            let ofd = out.fd().ok_or_else(|| no_half("writable"))?;
            let ifd = input.fd();
            let mut fds = [
                PollFd::new(&ifd, PollFlags::IN),
                PollFd::new(&ofd, PollFlags::OUT),
            ];
            let used = if writing { 2 } else { 1 };
            match poll(&mut fds[..used], timeout.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            (!fds[0].revents().is_empty(), !fds[1].revents().is_empty())
        };
        if writing && writable {
            match out.write(&msg[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if readable {
            match input.read(&mut answer[got..]) {
                Ok(0) => return Err(closed_early()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
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
mod tests {
    use super::*;
    use crate::transport::CloseHow;
    use std::os::fd::OwnedFd;

    fn pipe() -> (Input, Output) {
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
    fn ping_against_echo_times_each_round_trip() {
        let (mut a_in, mut b_out) = pipe();
        let (mut b_in, mut a_out) = pipe();
        let echoer = std::thread::spawn(move || echo(&mut b_in, &mut b_out, &mut buffer(32)));
        let phase = Phase::default();
        phase.set(Step::Measure);
        let m = ping(
            &mut a_in,
            &mut a_out,
            RoundTrip::Sequential,
            32,
            &phase,
            Some(50),
        )
        .expect("ping")
        .expect("not aborted");
        assert_eq!(m.messages, 50);
        assert_eq!(m.latencies.as_ref().map(Latencies::count), Some(50));
        drop(a_out);
        echoer.join().expect("echo").expect("ends at EOF");
    }

    #[test]
    fn interleaved_round_trip_survives_a_streaming_echo_larger_than_the_pipe() {
        let (mut a_in, mut b_out) = pipe();
        let (mut b_in, mut a_out) = pipe();
        // A `cat`: answers as it reads, whatever the message size.
        let cat = std::thread::spawn(move || -> io::Result<()> {
            let mut buf = buffer(4096);
            loop {
                match b_in.read(&mut buf)? {
                    0 => return Ok(()),
                    n => write_all(&mut b_out, &buf[..n])?,
                }
            }
        });
        set_nonblocking(a_in.fd()).expect("nonblock");
        set_nonblocking(a_out.fd().expect("open")).expect("nonblock");
        let phase = Phase::default();
        phase.set(Step::Measure);
        let m = ping(
            &mut a_in,
            &mut a_out,
            RoundTrip::Interleaved,
            1 << 20,
            &phase,
            Some(3),
        )
        .expect("ping")
        .expect("not aborted");
        assert_eq!(m.messages, 3);
        drop(a_out);
        cat.join().expect("cat").expect("cat ends at EOF");
    }

    #[test]
    fn probe_times_out_against_a_silent_peer_and_passes_an_echo() {
        let (mut a_in, b_out) = pipe();
        let (b_in, mut a_out) = pipe();
        let err = probe(&mut a_in, &mut a_out, 64, Duration::from_millis(30)).expect_err("silent");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop((b_out, b_in));
        let (mut a_in, mut b_out) = pipe();
        let (mut b_in, mut a_out) = pipe();
        let echoer = std::thread::spawn(move || echo(&mut b_in, &mut b_out, &mut buffer(64)));
        probe(&mut a_in, &mut a_out, 64, Duration::from_secs(30)).expect("an echo answers");
        // Blocking again afterwards: a sequential round trip still works.
        let phase = Phase::default();
        phase.set(Step::Measure);
        let m = ping(
            &mut a_in,
            &mut a_out,
            RoundTrip::Sequential,
            64,
            &phase,
            Some(2),
        )
        .expect("ping")
        .expect("not aborted");
        assert_eq!(m.messages, 2);
        drop(a_out);
        echoer.join().expect("echo").expect("EOF");
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
