//! One direction of a transfer: bytes from a [`Source`] to a [`Sink`] until EOF, counted
//! into a [`Meter`]. The engine never prints and never closes anything; callers propagate
//! the EOF (half-close) and report.
//!
//! How the bytes move is chosen once per copy, from what the two descriptors are:
//! - `splice(2)` straight from one to the other when either is a pipe (stdin/stdout pipes
//!   to and from a socket, pipe to pipe): no copy through user space;
//! - `splice(2)` through a private pipe between two non-pipes (socket to socket in a relay,
//!   socket to /dev/null or a file);
//! - `read(2)`/`write(2)` through one reusable buffer otherwise (terminals, in-memory test
//!   endpoints, `--no-splice`), or when the kernel refuses the first splice (EINVAL).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::pipe::{PipeFlags, SpliceFlags};

use crate::stats::Meter;
use crate::transport::{FdKind, Input, Output};

/// Default chunk: unix streams saturate at 64 KiB; 128 KiB halves the syscalls of pipes.
pub const DEFAULT_CHUNK: usize = 128 << 10;

/// Something bytes are read from.
pub trait Source: Send {
    /// One read; 0 means end of data.
    fn read_into(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// The descriptor and its kind, when splice may be used on it.
    fn raw(&self) -> Option<(BorrowedFd<'_>, FdKind)> {
        None
    }
}

/// Something bytes are written to.
pub trait Sink: Send {
    /// One write; returns how much was taken.
    fn write_from(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// Signals end of data to the reader on the other side.
    fn close_write(&mut self) -> io::Result<()>;
    /// The descriptor and its kind, when splice may be used on it.
    fn raw(&self) -> Option<(BorrowedFd<'_>, FdKind)> {
        None
    }
}

impl Source for Input {
    fn read_into(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read(buf)
    }
    fn raw(&self) -> Option<(BorrowedFd<'_>, FdKind)> {
        Some((self.fd(), self.kind()))
    }
}

impl Sink for Output {
    fn write_from(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write(buf)
    }
    fn close_write(&mut self) -> io::Result<()> {
        Output::close_write(self)
    }
    fn raw(&self) -> Option<(BorrowedFd<'_>, FdKind)> {
        self.fd().map(|fd| (fd, self.kind()))
    }
}

/// How a copy is done.
#[derive(Clone, Debug)]
pub struct CopyConfig {
    /// Bytes per read/splice.
    pub chunk: usize,
    /// Use splice(2) where the descriptors allow it.
    pub splice: bool,
    /// Bytes per second at most.
    pub rate_limit: Option<u64>,
}

impl Default for CopyConfig {
    fn default() -> Self {
        CopyConfig {
            chunk: DEFAULT_CHUNK,
            splice: true,
            rate_limit: None,
        }
    }
}

/// Which side of a copy failed.
#[derive(Debug)]
pub enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

impl CopyError {
    pub fn io(&self) -> &io::Error {
        match self {
            CopyError::Read(e) | CopyError::Write(e) => e,
        }
    }
}

/// The data path chosen for one copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    ReadWrite,
    Splice,
    SpliceViaPipe,
}

/// Chooses the data path for a pair of descriptor kinds.
pub fn plan(src: FdKind, dst: FdKind) -> Path {
    use FdKind::*;
    match (src, dst) {
        (Pipe, Pipe | Socket | File | CharDev) | (Socket | File, Pipe) => Path::Splice,
        (Socket | File, Socket | File | CharDev) => Path::SpliceViaPipe,
        _ => Path::ReadWrite,
    }
}

/// Copies until EOF; returns the bytes moved. Does not close `dst`.
pub fn copy<S: Source, D: Sink>(
    src: &mut S,
    dst: &mut D,
    meter: &Meter,
    cfg: &CopyConfig,
) -> Result<u64, CopyError> {
    meter.touch(Instant::now());
    let pacer = cfg.rate_limit.map(Pacer::new);
    let chunk = match cfg.rate_limit {
        // Small enough chunks that a throttled copy looks smooth (20 steps a second).
        Some(rate) => cfg
            .chunk
            .min(usize::try_from(rate / 20).unwrap_or(usize::MAX).max(1)),
        None => cfg.chunk,
    };
    let path = match (cfg.splice, src.raw(), dst.raw()) {
        (true, Some((_, s)), Some((_, d))) => plan(s, d),
        _ => Path::ReadWrite,
    };
    let mut tally = Tally {
        meter,
        pacer,
        chunk,
        total: 0,
    };
    let fell_back = match path {
        Path::Splice => splice_direct(src, dst, &mut tally)?,
        Path::SpliceViaPipe => splice_via_pipe(src, dst, &mut tally)?,
        Path::ReadWrite => true,
    };
    if fell_back {
        read_write(src, dst, &mut tally)?;
    }
    Ok(tally.total)
}

/// What a copy has delivered so far, and its pace.
struct Tally<'m> {
    meter: &'m Meter,
    pacer: Option<Pacer>,
    chunk: usize,
    total: u64,
}

impl Tally<'_> {
    /// Counts `n` bytes delivered at `now`, then keeps to the rate limit.
    fn delivered(&mut self, n: usize, now: Instant) {
        self.meter.add(n as u64, now);
        self.total += n as u64;
        if let Some(p) = &mut self.pacer {
            self.meter.add_throttled(p.pace(n));
        }
    }
}

/// Keeps a copy under its rate limit.
struct Pacer {
    rate: u64,
    start: Instant,
    sent: u64,
}

impl Pacer {
    fn new(rate: u64) -> Pacer {
        Pacer {
            rate,
            start: Instant::now(),
            sent: 0,
        }
    }

    /// Counts `n` bytes and sleeps until they are due; returns how long it slept.
    fn pace(&mut self, n: usize) -> Duration {
        self.sent += n as u64;
        let due = Duration::from_secs_f64(self.sent as f64 / self.rate as f64);
        let ahead = due.saturating_sub(self.start.elapsed());
        if !ahead.is_zero() {
            std::thread::sleep(ahead);
        }
        ahead
    }
}

fn read_write<S: Source, D: Sink>(
    src: &mut S,
    dst: &mut D,
    t: &mut Tally<'_>,
) -> Result<(), CopyError> {
    let mut buf = vec![0u8; t.chunk];
    loop {
        let t0 = Instant::now();
        let n = match src.read_into(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                // At once: a session that finds the destination gone looks at the source,
                // then at this flag (see `session`); bytes taken are hidden from both only
                // for the instant the read takes to return.
                t.meter.set_in_flight(true);
                n
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        let t1 = Instant::now();
        t.meter.add_read_wait(t1 - t0);
        write_all(dst, &buf[..n]).map_err(CopyError::Write)?;
        t.meter.set_in_flight(false);
        let t2 = Instant::now();
        t.meter.add_write_wait(t2 - t1);
        t.delivered(n, t2);
    }
}

/// Writes all of `buf`, retrying short writes and EINTR.
pub fn write_all<D: Sink>(dst: &mut D, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match dst.write_from(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// splice(2) from `src` to `dst`, one of which is a pipe. Returns true if the kernel
/// refused splice before anything moved (the caller then copies through a buffer).
fn splice_direct<S: Source, D: Sink>(
    src: &mut S,
    dst: &mut D,
    t: &mut Tally<'_>,
) -> Result<bool, CopyError> {
    let (Some((sfd, skind)), Some((dfd, dkind))) = (src.raw(), dst.raw()) else {
        return Ok(true);
    };
    // Into a pipe, splice never waits inside the kernel: a splice that blocks on its
    // source holds the destination pipe's lock, so the pipe's reader (our stdout's reader,
    // an `exec` command) could not read what was already delivered; a request/answer
    // exchange would stall until more input came. It waits in poll instead, which also
    // tells how long each side held the data up (`pipe` reports where the data waited).
    // The same holds between a pipe and a regular file or a character device (these always
    // poll ready, so a wait is the pipe's). SPLICE_F_NONBLOCK covers pipes and Unix
    // sockets; TCP ignores it, so a TCP source is polled before each splice. Into a
    // socket, splice blocks on the socket (its own flags decide); that time counts as
    // reading.
    let pollable = |k: FdKind| matches!(k, FdKind::Pipe | FdKind::File | FdKind::CharDev);
    let guarded =
        (pollable(skind) && pollable(dkind)) || (skind == FdKind::Socket && dkind == FdKind::Pipe);
    let poll_first = guarded && skind == FdKind::Socket && !is_unix_socket(sfd);
    let flags = if guarded {
        SpliceFlags::MOVE | SpliceFlags::NONBLOCK
    } else {
        SpliceFlags::MOVE
    };
    // A guarded splice that drained its source waits in poll for the source before the
    // next try, rather than trying first and failing (EAGAIN, then finding out which side
    // to wait for): request/answer traffic costs one poll and one splice per message,
    // while a stream that keeps its source full still costs one splice per chunk.
    let mut next = if poll_first {
        Wait::Source
    } else {
        Wait::Nothing
    };
    loop {
        match next {
            Wait::Nothing => {}
            Wait::Source => wait_for(sfd, PollFlags::IN, t.meter, true),
            Wait::Destination => wait_for(dfd, PollFlags::OUT, t.meter, false),
            Wait::Either => wait_for_pipes(sfd, dfd, t.meter),
        }
        let t0 = Instant::now();
        match rustix::pipe::splice(sfd, None, dfd, None, t.chunk, flags) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                let now = Instant::now();
                if !guarded {
                    t.meter.add_read_wait(now - t0);
                }
                t.delivered(n, now);
                next = if poll_first || (guarded && n < t.chunk) {
                    Wait::Source
                } else {
                    Wait::Nothing
                };
            }
            Err(Errno::INTR) => {}
            // Waited for data and it is there: the destination is full.
            Err(Errno::AGAIN) if guarded && next == Wait::Source => next = Wait::Destination,
            Err(Errno::AGAIN) if guarded => next = Wait::Either,
            Err(Errno::INVAL) if t.total == 0 => return Ok(true),
            // splice(2) checks the reader before noticing that an empty pipe has no writer
            // left: that is EOF, with nothing lost.
            Err(Errno::PIPE) if skind == FdKind::Pipe && drained(sfd) => return Ok(false),
            Err(e) => return Err(side_of(e, sfd, dfd)),
        }
    }
}

/// What a guarded splice waits for before its next try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    Nothing,
    Source,
    Destination,
    /// Unknown: probe both, wait for the one that is not ready.
    Either,
}

/// Waits until `fd` is ready for `events` (or hung up), counting the wait as reading or
/// writing.
fn wait_for(fd: BorrowedFd<'_>, events: PollFlags, meter: &Meter, reading: bool) {
    let t0 = Instant::now();
    let mut one = [PollFd::from_borrowed_fd(fd, events)];
    while let Err(Errno::INTR) = poll(&mut one, None) {}
    if reading {
        meter.add_read_wait(t0.elapsed());
    } else {
        meter.add_write_wait(t0.elapsed());
    }
}

fn is_unix_socket(fd: BorrowedFd<'_>) -> bool {
    rustix::net::getsockname(fd)
        .is_ok_and(|a| a.address_family() == rustix::net::AddressFamily::UNIX)
}

/// True when a pipe is empty and has no writer left (poll says HUP without IN).
fn drained(fd: BorrowedFd<'_>) -> bool {
    crate::ready::now(fd, PollFlags::IN)
        .is_ok_and(|r| r.contains(PollFlags::HUP) && !r.contains(PollFlags::IN))
}

/// After a non-blocking splice into a pipe would block: waits for whichever side holds
/// the data up (no data to read, or no room in the pipe) and counts the wait against it.
fn wait_for_pipes(sfd: BorrowedFd<'_>, dfd: BorrowedFd<'_>, meter: &Meter) {
    let t0 = Instant::now();
    let mut probe = [
        PollFd::from_borrowed_fd(sfd, PollFlags::IN),
        PollFd::from_borrowed_fd(dfd, PollFlags::OUT),
    ];
    let _ = poll(
        &mut probe,
        Some(&rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        }),
    );
    let readable = !probe[0].revents().is_empty();
    let probed = t0.elapsed();
    // Wait on the side that is not ready (the source first: no data, nothing to write).
    if readable {
        meter.add_write_wait(probed);
        wait_for(dfd, PollFlags::OUT, meter, false);
    } else {
        meter.add_read_wait(probed);
        wait_for(sfd, PollFlags::IN, meter, true);
    }
}

/// Which side a failed splice broke on. One splice(2) both reads and writes, and its errno
/// does not say which: EPIPE and what only a write gives (no space, quota, file too big)
/// are the writer's; any error with a descriptor not open for its side (EBADF: stdout
/// opened read-only, `1<FILE`) belongs to that descriptor; a hung-up destination is the
/// writer's; anything else is the reader's.
fn side_of(e: Errno, sfd: BorrowedFd<'_>, dfd: BorrowedFd<'_>) -> CopyError {
    let err = io::Error::from(e);
    let writer = match e {
        Errno::PIPE | Errno::NOSPC | Errno::DQUOT | Errno::FBIG => true,
        _ if !open_for(dfd, Access::Write) => true,
        _ if !open_for(sfd, Access::Read) => false,
        _ => hung_up(dfd),
    };
    if writer {
        CopyError::Write(err)
    } else {
        CopyError::Read(err)
    }
}

/// What a descriptor is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// False when `fd`'s access mode (F_GETFL) rules out `access`; true when it allows it or
/// cannot be told.
fn open_for(fd: BorrowedFd<'_>, access: Access) -> bool {
    let Ok(flags) = rustix::fs::fcntl_getfl(fd) else {
        return true;
    };
    let mode = flags & OFlags::RWMODE;
    let needed = match access {
        Access::Read => OFlags::RDONLY,
        Access::Write => OFlags::WRONLY,
    };
    mode == OFlags::RDWR || mode == needed
}

/// True when a descriptor we write to can no longer deliver (peer gone).
pub fn hung_up(fd: BorrowedFd<'_>) -> bool {
    crate::ready::now(fd, PollFlags::empty())
        .is_ok_and(|r| r.intersects(PollFlags::HUP | PollFlags::ERR))
}

/// A private pipe for splicing between two non-pipes, sized to hold a whole chunk.
fn private_pipe(chunk: usize) -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)?;
    let want = chunk.max(64 << 10);
    if rustix::pipe::fcntl_getpipe_size(&r).unwrap_or(0) < want {
        let _ = rustix::pipe::fcntl_setpipe_size(&r, want);
    }
    Ok((r, w))
}

/// splice(2) from `src` into a private pipe and from there to `dst`. Returns true if the
/// kernel refused splice before anything was delivered; what the pipe held is then
/// delivered through a buffer first.
fn splice_via_pipe<S: Source, D: Sink>(
    src: &mut S,
    dst: &mut D,
    t: &mut Tally<'_>,
) -> Result<bool, CopyError> {
    let (pr, pw) = match private_pipe(t.chunk) {
        Ok(p) => p,
        Err(_) => return Ok(true),
    };
    if let Ok(dup) = pr.try_clone() {
        t.meter.set_staging(dup);
    }
    let chunk = rustix::pipe::fcntl_getpipe_size(&pr).map_or(t.chunk, |cap| t.chunk.min(cap));
    loop {
        let t0 = Instant::now();
        let got = {
            let Some((sfd, _)) = src.raw() else {
                return Ok(true);
            };
            match rustix::pipe::splice(sfd, None, &pw, None, chunk, SpliceFlags::MOVE) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    // The private pipe already shows them (see `Meter::in_flight`).
                    t.meter.set_in_flight(true);
                    n
                }
                Err(Errno::INTR) => continue,
                Err(Errno::INVAL) if t.total == 0 => return Ok(true),
                Err(e) => return Err(CopyError::Read(e.into())),
            }
        };
        let t1 = Instant::now();
        t.meter.add_read_wait(t1 - t0);
        let mut left = got;
        while left > 0 {
            let Some((dfd, _)) = dst.raw() else {
                return Err(CopyError::Write(io::ErrorKind::BrokenPipe.into()));
            };
            match rustix::pipe::splice(&pr, None, dfd, None, left, SpliceFlags::MOVE) {
                Ok(0) => return Err(CopyError::Write(io::ErrorKind::WriteZero.into())),
                Ok(n) => left -= n,
                Err(Errno::INTR) => {}
                Err(Errno::INVAL) if t.total == 0 => {
                    // The destination refuses splice: hand over what the pipe holds, then
                    // let the caller go on with read/write.
                    drain_pipe(&pr, left, dst).map_err(CopyError::Write)?;
                    t.meter.set_in_flight(false);
                    t.delivered(got, Instant::now());
                    return Ok(true);
                }
                Err(e) => return Err(CopyError::Write(e.into())),
            }
        }
        t.meter.set_in_flight(false);
        let t2 = Instant::now();
        t.meter.add_write_wait(t2 - t1);
        t.delivered(got, t2);
    }
}

fn drain_pipe<D: Sink>(pr: &OwnedFd, mut left: usize, dst: &mut D) -> io::Result<()> {
    let mut buf = vec![0u8; left.min(DEFAULT_CHUNK)];
    while left > 0 {
        let want = left.min(buf.len());
        let n = rustix::io::read(pr.as_fd(), &mut buf[..want])?;
        if n == 0 {
            break;
        }
        write_all(dst, &buf[..n])?;
        left -= n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::mem::{MemSink, MemSource, Step};

    fn run(src: &mut MemSource, dst: &mut MemSink) -> (Result<u64, CopyError>, u64) {
        let meter = Meter::new(Instant::now());
        let r = copy(src, dst, &meter, &CopyConfig::default());
        (r, meter.bytes())
    }

    #[test]
    fn copies_every_chunk_exactly_and_counts_them() {
        let data: Vec<u8> = (0..=255u8).cycle().take(300_001).collect();
        let mut src = MemSource::chunked(&data, 4093);
        let mut dst = MemSink::new();
        let (r, counted) = run(&mut src, &mut dst);
        assert_eq!(r.expect("copy"), 300_001);
        assert_eq!(counted, 300_001);
        assert_eq!(dst.received.bytes(), data);
        assert!(
            !dst.received.closed(),
            "the engine never closes: callers propagate EOF"
        );
    }

    #[test]
    fn interrupted_reads_and_short_writes_lose_nothing() {
        let mut src = MemSource::new(vec![
            Step::Data(b"abc".to_vec()),
            Step::Interrupted,
            Step::Data(b"defghijklmnop".to_vec()),
        ]);
        let mut dst = MemSink {
            max_write: 2,
            ..MemSink::new()
        };
        let (r, _) = run(&mut src, &mut dst);
        assert_eq!(r.expect("copy"), 16);
        assert_eq!(dst.received.bytes(), b"abcdefghijklmnop");
    }

    #[test]
    fn a_read_error_is_the_readers_and_keeps_the_count() {
        let mut src = MemSource::new(vec![
            Step::Data(b"12345".to_vec()),
            Step::Fail(io::ErrorKind::ConnectionReset),
        ]);
        let mut dst = MemSink::new();
        let (r, counted) = run(&mut src, &mut dst);
        match r {
            Err(CopyError::Read(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("want a read error, got {other:?}"),
        }
        assert_eq!(counted, 5);
    }

    #[test]
    fn a_write_error_is_the_writers_and_counts_only_what_was_delivered() {
        let mut src = MemSource::chunked(&[7u8; 100], 30);
        let mut dst = MemSink {
            fail_after: Some((45, io::ErrorKind::BrokenPipe)),
            ..MemSink::new()
        };
        let (r, counted) = run(&mut src, &mut dst);
        match r {
            Err(CopyError::Write(e)) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
            other => panic!("want a write error, got {other:?}"),
        }
        assert_eq!(counted, 30, "only whole chunks delivered are counted");
        assert_eq!(dst.received.bytes().len(), 45);
    }

    #[test]
    fn empty_source_is_immediate_eof() {
        let mut src = MemSource::new(vec![]);
        let mut dst = MemSink::new();
        assert_eq!(run(&mut src, &mut dst).0.expect("copy"), 0);
    }

    #[test]
    fn plan_by_descriptor_kinds() {
        use FdKind::*;
        let rows = [
            (Pipe, Socket, Path::Splice),
            (Socket, Pipe, Path::Splice),
            (Pipe, Pipe, Path::Splice),
            (Pipe, CharDev, Path::Splice),
            (File, Pipe, Path::Splice),
            (Socket, Socket, Path::SpliceViaPipe),
            (Socket, CharDev, Path::SpliceViaPipe),
            (File, Socket, Path::SpliceViaPipe),
            (Tty, Socket, Path::ReadWrite),
            (Socket, Tty, Path::ReadWrite),
            (CharDev, Socket, Path::ReadWrite),
        ];
        for (s, d, want) in rows {
            assert_eq!(plan(s, d), want, "{s:?} -> {d:?}");
        }
    }

    #[test]
    fn eof_is_eof_even_when_the_destination_has_gone() {
        // An empty pipe with no writer into a pipe with no reader: splice(2) says EPIPE,
        // but nothing was lost.
        let (r1, w1) = std::io::pipe().expect("pipe");
        let (r2, w2) = std::io::pipe().expect("pipe");
        drop((w1, r2));
        let mut input = Input::new(OwnedFd::from(r1));
        let mut output = Output::new(OwnedFd::from(w2), crate::transport::CloseHow::Close);
        let meter = Meter::new(Instant::now());
        let got = copy(&mut input, &mut output, &meter, &CopyConfig::default());
        assert_eq!(got.expect("EOF, not a failure"), 0);
    }

    #[test]
    fn splice_and_read_write_move_the_same_bytes_between_real_pipes() {
        for splice in [true, false] {
            let data: Vec<u8> = (0..1_000_003u32).map(|i| (i * 7 % 251) as u8).collect();
            let (r1, w1) = std::io::pipe().expect("pipe");
            let (r2, w2) = std::io::pipe().expect("pipe");
            let feeder = {
                let data = data.clone();
                std::thread::spawn(move || {
                    use std::io::Write;
                    let mut w1 = w1;
                    w1.write_all(&data).expect("feed");
                })
            };
            let reader = std::thread::spawn(move || {
                use std::io::Read;
                let mut r2 = r2;
                let mut got = Vec::new();
                r2.read_to_end(&mut got).expect("read");
                got
            });
            let mut input = Input::new(OwnedFd::from(r1));
            let mut output = Output::new(OwnedFd::from(w2), crate::transport::CloseHow::Close);
            let meter = Meter::new(Instant::now());
            let cfg = CopyConfig {
                splice,
                ..CopyConfig::default()
            };
            assert_eq!(
                copy(&mut input, &mut output, &meter, &cfg).expect("copy"),
                1_000_003
            );
            output.close_write().expect("close");
            drop(output);
            feeder.join().expect("feeder");
            assert_eq!(reader.join().expect("reader"), data, "splice={splice}");
        }
    }

    #[test]
    fn a_failed_copy_is_blamed_on_the_descriptor_that_cannot_do_its_part() {
        use std::io::Write;
        use std::os::unix::net::UnixStream;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"data\n").expect("write");
        let open = |path: &std::path::Path, write: bool| -> OwnedFd {
            std::fs::File::options()
                .read(!write)
                .write(write)
                .open(path)
                .expect("open")
                .into()
        };
        // A pipe and a socket holding a line, their writers closed.
        let fed_pipe = || -> OwnedFd {
            let (r, mut w) = std::io::pipe().expect("pipe");
            w.write_all(b"data\n").expect("feed");
            r.into()
        };
        let fed_socket = || -> OwnedFd {
            let (a, mut b) = UnixStream::pair().expect("socketpair");
            b.write_all(b"data\n").expect("feed");
            a.into()
        };
        // (what, source, destination, the side to blame, errno)
        type Row = (&'static str, OwnedFd, OwnedFd, bool, i32);
        let rows = || -> Vec<(Row, Option<std::io::PipeReader>)> {
            let (keep, w) = std::io::pipe().expect("pipe");
            vec![
                (
                    (
                        "a pipe into a read-only file (1<FILE)",
                        fed_pipe(),
                        open(&file, false),
                        true,
                        libc::EBADF,
                    ),
                    None,
                ),
                (
                    (
                        "a pipe into /dev/full",
                        fed_pipe(),
                        open("/dev/full".as_ref(), true),
                        true,
                        libc::ENOSPC,
                    ),
                    None,
                ),
                (
                    (
                        "a socket into a read-only file",
                        fed_socket(),
                        open(&file, false),
                        true,
                        libc::EBADF,
                    ),
                    None,
                ),
                (
                    (
                        "a write-only file into a pipe",
                        open(&file, true),
                        w.into(),
                        false,
                        libc::EBADF,
                    ),
                    Some(keep),
                ),
            ]
        };
        for splice in [true, false] {
            for ((what, src, dst, writer, errno), _keep) in rows() {
                let mut input = Input::new(src);
                let mut output = Output::new(dst, crate::transport::CloseHow::Close);
                let meter = Meter::new(Instant::now());
                let cfg = CopyConfig {
                    splice,
                    ..CopyConfig::default()
                };
                let got = copy(&mut input, &mut output, &meter, &cfg);
                let (blamed_writer, e) = match &got {
                    Err(CopyError::Write(e)) => (true, e),
                    Err(CopyError::Read(e)) => (false, e),
                    Ok(n) => panic!("{what} (splice {splice}): copied {n} bytes"),
                };
                assert_eq!(
                    (blamed_writer, e.raw_os_error()),
                    (writer, Some(errno)),
                    "{what} (splice {splice}): {e}"
                );
            }
        }
    }
}
