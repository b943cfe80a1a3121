//! Round trips: the latency loop (`ping`), its peer side being [`super::loops::echo`],
//! and a probe that checks a server answers at all. A round trip is one `write(2)` of the
//! message and `read(2)`s of the answer, timed with one clock pair; against a server that
//! streams its answer while the message still arrives (`cat`), large messages are written
//! and read at once with `poll`.

use std::io;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};

use super::conductor::{Phase, Step};
use super::loops::{Measured, buffer, closed_early, no_half, read_exact, set_nonblocking};
use crate::engine::copy::write_all;
use crate::stats::latency::Latencies;
use crate::transport::{Input, Output};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::loops::{echo, tests::pipe};

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
}
