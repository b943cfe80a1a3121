//! A session joins two connections, `local` and `remote`, with two metered copies:
//! *send* (local → remote) and *recv* (remote → local), each on its own thread, each
//! propagating EOF as a half-close. The thread that calls [`Session::wait`] decides when the
//! session is over:
//!
//! - both directions reached EOF (or were never run): complete;
//! - a direction's destination hung up for good (a socket closed both ways, an `exec:` child
//!   that exited, our stdout's reader gone): that direction is over even if its source never
//!   ends. If bytes for a socket were still waiting (in the source: a pipe or socket with
//!   bytes queued, a regular file short of its end; or read and not yet written), data was
//!   lost and the direction is [`DirEnd::Cut`]; a source with nothing queued (an idle pipe,
//!   a terminal) just ends. A command that exits or closes its stdin before reading
//!   everything made that choice (as `head` in a shell pipeline): its direction just ends,
//!   and the command's exit status tells whether it failed;
//! - the idle timeout passed, or a stop was asked for.
//!
//! A direction whose copy fails passes its half-close on like an EOF and the other
//! direction runs to its end; the session then ends as failed. A `fail_both` session (`relay`) instead ends at the first failure and
//! fails both connections ([`Aborter::fail`]), so that neither peer takes the end for a
//! clean one; it passes EOFs into sockets on itself, once it knows that the event behind
//! an EOF (a peer gone) did not also fail the other direction.
//!
//! When it is over, both connections are torn down (sockets shut down both ways, children
//! sent SIGTERM after a grace period) so that no thread stays blocked on them; a thread
//! blocked on our own stdin is left behind, which only matters until the process exits.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::copy::{CopyConfig, CopyError, copy};
use super::tap::{Tap, Tapped};
use crate::signals::Signals;
use crate::stats::Meter;
use crate::transport::{Aborter, CloseHow, Conn, ExecChild, FdKind, Input, Output, PeerCreds};
use crate::wake::{WakeSender, Waker};

/// How a session runs.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub copy: CopyConfig,
    /// End the session after this long with no traffic either way.
    pub idle_timeout: Option<Duration>,
    /// Run the send direction (local → remote); otherwise shut it at once.
    pub send: bool,
    /// Run the recv direction (remote → local); otherwise shut it at once.
    pub recv: bool,
    /// Shown every chunk, both ways (`relay --hex`).
    pub tap: Option<Arc<dyn Tap>>,
    /// When a direction fails, end the session at once and make both peers see a failure
    /// rather than a clean EOF, as far as the OS allows ([`Aborter::fail`]): `relay`, whose
    /// client must not take a broken back end's end for a complete answer.
    pub fail_both: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            copy: CopyConfig::default(),
            idle_timeout: None,
            send: true,
            recv: true,
            tap: None,
            fail_both: false,
        }
    }
}

/// One direction of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// local → remote
    Send,
    /// remote → local
    Recv,
}

/// How one direction ended.
#[derive(Debug)]
pub enum DirEnd {
    /// Not run (`--send-only`/`--recv-only`, or an endpoint with no such half).
    Skipped,
    /// Still running when the session ended.
    Unfinished,
    /// EOF reached and passed on.
    Eof,
    /// Its destination went away while it had nothing left to deliver.
    PeerGone,
    /// Its destination went away for good while bytes for it were still waiting: data
    /// was lost.
    Cut,
    /// Its copy failed.
    Failed(CopyError),
}

impl DirEnd {
    fn is_over(&self) -> bool {
        !matches!(self, DirEnd::Unfinished)
    }

    /// True when this direction lost data.
    pub fn failed(&self) -> bool {
        matches!(self, DirEnd::Failed(_) | DirEnd::Cut)
    }
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Both directions ended normally.
    Complete,
    /// A copy failed (see the directions).
    Failed,
    /// Our stdout's reader went away.
    StdoutGone,
    /// No traffic for the idle timeout.
    Idle,
    /// No traffic for the idle timeout, with bytes still waiting to be delivered (the
    /// peer stopped reading): data was lost.
    IdleWithData,
    /// A stop signal arrived.
    Signal(i32),
    /// The owner aborted it (server shutdown).
    Aborted,
}

/// What a session did.
#[derive(Debug)]
pub struct Outcome {
    pub end: End,
    pub send: DirEnd,
    pub recv: DirEnd,
    pub started: Instant,
    pub duration: Duration,
    pub sent: Arc<Meter>,
    pub received: Arc<Meter>,
    /// The exit status of the remote's `exec:` child, once reaped.
    pub child_status: Option<std::process::ExitStatus>,
    /// The direction that writes into an `exec:` child's stdin, if there is one.
    pub into_child: Option<Dir>,
}

/// A handle to stop a running session from another thread.
#[derive(Debug)]
pub struct SessionHandle {
    abort: Arc<AtomicBool>,
    waker: WakeSender,
}

impl SessionHandle {
    pub fn abort(&self) {
        self.abort.store(true, Ordering::SeqCst);
        self.waker.wake();
    }
}

/// What can tell a direction's destination has gone for good, without owning it.
#[derive(Debug)]
enum Hangup {
    /// A duplicate of a socket: harmless to hold (EOF is sent by `shutdown`, not `close`).
    Socket(OwnedFd),
    /// Our stdout, fd 1 itself (a duplicate would keep a pipe open).
    Stdout,
    /// A pidfd of an `exec:` child: readable once it exits.
    Child(OwnedFd),
    None,
}

impl Hangup {
    fn fd(&self) -> Option<(BorrowedFd<'_>, PollFlags)> {
        match self {
            Hangup::Socket(fd) => Some((fd.as_fd(), PollFlags::empty())),
            Hangup::Stdout => Some((rustix::stdio::stdout(), PollFlags::empty())),
            Hangup::Child(fd) => Some((fd.as_fd(), PollFlags::IN)),
            Hangup::None => None,
        }
    }
}

/// The two directions, in the order of [`Session::dirs`].
const DIRS: [Dir; 2] = [Dir::Send, Dir::Recv];

/// Where bytes for a direction's destination still wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    Nowhere,
    /// In its source (see [`Backlog`]).
    Queued,
    /// Taken by its copy and not written yet (a failed write leaves them so).
    InFlight,
}

/// What can tell whether a direction's source still holds bytes, without taking them.
#[derive(Debug)]
enum Backlog {
    /// A pipe (a duplicate): see [`crate::stats::pipe_holds_bytes`].
    Pipe(OwnedFd),
    /// A socket (a duplicate): `FIONREAD` counts the bytes queued in it; an EOF or a
    /// hang-up alone counts none.
    Queue(OwnedFd),
    /// A regular file (a duplicate, sharing the offset): bytes are left while the offset
    /// is short of the size.
    File(OwnedFd),
    /// A terminal or a device: what is typed later, or a stream that never ends, is not a
    /// backlog.
    Unknown,
}

impl Backlog {
    fn of(input: &Input) -> Backlog {
        let dup = || input.fd().try_clone_to_owned().ok();
        match input.kind() {
            FdKind::Pipe => dup().map_or(Backlog::Unknown, Backlog::Pipe),
            FdKind::Socket | FdKind::Message => dup().map_or(Backlog::Unknown, Backlog::Queue),
            FdKind::File => dup().map_or(Backlog::Unknown, Backlog::File),
            _ => Backlog::Unknown,
        }
    }

    fn holds_bytes(&self) -> bool {
        match self {
            Backlog::Pipe(fd) => crate::stats::pipe_holds_bytes(fd.as_fd()),
            Backlog::Queue(fd) => rustix::io::ioctl_fionread(fd).is_ok_and(|n| n > 0),
            Backlog::File(fd) => {
                let offset = rustix::fs::seek(fd, rustix::fs::SeekFrom::Current(0));
                let size = rustix::fs::fstat(fd).map(|st| st.st_size);
                matches!((offset, size), (Ok(at), Ok(size)) if i64::try_from(at).is_ok_and(|at| at < size))
            }
            Backlog::Unknown => false,
        }
    }
}

struct DirState {
    end: DirEnd,
    hangup: Hangup,
    /// What its source still holds, looked at when the destination hangs up.
    backlog: Backlog,
    /// Its EOF is passed on by the session (a `fail_both` session, a socket destination).
    defer_eof: bool,
    /// It reached EOF and the session has not passed it on yet.
    eof_owed: bool,
    /// The destination hung up while bytes were in flight: wait for the copy to fail.
    hup_pending: bool,
    to_stdout: bool,
    /// The destination is an `exec` child's stdin.
    into_child: bool,
    /// The copy's thread has reported (or there never was one).
    thread_done: bool,
}

/// A running session.
pub struct Session {
    started: Instant,
    cfg: SessionConfig,
    sent: Arc<Meter>,
    received: Arc<Meter>,
    dirs: [DirState; 2],
    rx: Receiver<(Dir, Result<(), CopyError>)>,
    waker: Waker,
    abort: Arc<AtomicBool>,
    aborters: [Aborter; 2],
    /// A `fail_both` session failed its connections.
    failing: bool,
    child: Option<ExecChild>,
    /// The child's status, if it was reaped while the session ran.
    child_status: Option<std::process::ExitStatus>,
    /// The direction that reads the child's stdout.
    from_child: Option<Dir>,
    /// The remote's peer credentials, for reports.
    pub peer: PeerCreds,
    /// The connections, emptied of their halves: what they still hold (a FIFO's own
    /// writer) must live as long as the session.
    _conns: [Conn; 2],
}

impl Session {
    /// Starts the copies. `remote` is the endpoint the session is about (its `sent` and
    /// `received` counts are towards and from it).
    pub fn start(
        mut local: Conn,
        mut remote: Conn,
        cfg: SessionConfig,
    ) -> std::io::Result<Session> {
        let started = Instant::now();
        let sent = Arc::new(Meter::new(started));
        let received = Arc::new(Meter::new(started));
        let waker = Waker::new()?;
        let (tx, rx) = channel();
        let aborters = [local.aborter(), remote.aborter()];
        let child_is_remote = remote.child.is_some();
        let child = remote.child.take().or_else(|| local.child.take());
        let from_child = child.as_ref().map(|_| {
            if child_is_remote {
                Dir::Recv
            } else {
                Dir::Send
            }
        });
        // Which direction writes into the child (its stdin): a pidfd tells when it is gone.
        let into_child = |dir: Dir| {
            child.is_some()
                && match dir {
                    Dir::Send => child_is_remote,
                    Dir::Recv => !child_is_remote,
                }
        };
        let peer = remote.peer;

        let mut dirs = [
            DirState::new(Hangup::None, false),
            DirState::new(Hangup::None, false),
        ];
        for (dir, from, to, on) in [
            (
                Dir::Send,
                local.input.take(),
                remote.output.take(),
                cfg.send,
            ),
            (
                Dir::Recv,
                remote.input.take(),
                local.output.take(),
                cfg.recv,
            ),
        ] {
            let state = &mut dirs[dir as usize];
            let (input, mut output) = match (from, to, on) {
                (Some(input), Some(output), true) => (input, output),
                (from, to, _) => {
                    // One side missing, or not wanted: shut what exists now, so the other
                    // side sees EOF at once.
                    shut(from, to);
                    state.end = DirEnd::Skipped;
                    state.thread_done = true;
                    continue;
                }
            };
            state.to_stdout = output_is_stdout(&output);
            state.into_child = into_child(dir);
            state.hangup = hangup_of(&output, child.as_ref(), state.into_child);
            state.backlog = Backlog::of(&input);
            let meter = match dir {
                Dir::Send => Arc::clone(&sent),
                Dir::Recv => Arc::clone(&received),
            };
            let copy_cfg = cfg.copy.clone();
            let tap = cfg.tap.clone();
            // In a `fail_both` session a socket's EOF is passed on by the session, once it
            // knows the other direction did not fail because of the same event.
            state.defer_eof = cfg.fail_both && output.close_how() == CloseHow::Shutdown;
            let ends = Ends {
                fail_both: cfg.fail_both,
                defer_eof: state.defer_eof,
            };
            let (tx, wake) = (tx.clone(), waker.sender()?);
            std::thread::Builder::new()
                .name(format!("{dir:?}").to_lowercase())
                .stack_size(256 << 10)
                .spawn(move || {
                    let mut input: Input = input;
                    let result = run_direction(
                        &mut input,
                        &mut output,
                        &meter,
                        &copy_cfg,
                        tap.as_deref(),
                        dir,
                        ends,
                    );
                    meter.finish(Instant::now());
                    drop(input);
                    drop(output);
                    let _ = tx.send((dir, result));
                    wake.wake();
                })?;
        }
        drop(tx);
        Ok(Session {
            started,
            cfg,
            sent,
            received,
            dirs,
            rx,
            waker,
            abort: Arc::new(AtomicBool::new(false)),
            aborters,
            failing: false,
            child,
            child_status: None,
            from_child,
            peer,
            _conns: [local, remote],
        })
    }

    /// A handle that ends the session from another thread.
    pub fn handle(&self) -> std::io::Result<SessionHandle> {
        Ok(SessionHandle {
            abort: Arc::clone(&self.abort),
            waker: self.waker.sender()?,
        })
    }

    /// The waker of the session's loop (to register with signal handlers).
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// The live meters: bytes sent and received so far.
    pub fn meters(&self) -> (Arc<Meter>, Arc<Meter>) {
        (Arc::clone(&self.sent), Arc::clone(&self.received))
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// Runs the session to its end. `signals`, if given, can stop it; `on_wake` runs on
    /// every wake-up (SIGUSR1 reports).
    pub fn wait(mut self, signals: Option<&Signals>, mut on_wake: impl FnMut()) -> Outcome {
        let end = self.run_loop(signals, &mut on_wake);
        // The duplicates of the sources must not outlive the session's decision: one of a
        // command's stdout would keep the pipe readable for it.
        for d in &mut self.dirs {
            d.backlog = Backlog::Unknown;
        }
        // A failed `fail_both` session has reset its connections already; shutting them
        // down now would give a Unix peer an EOF before the last close can reset it.
        let failing = self.failing;
        if !failing {
            // Unblock copies still running on a socket (a half whose peer hung up).
            for a in &self.aborters {
                a.abort();
            }
        }
        // A child that finished its part gets a moment to exit on its own.
        let grace = if end == End::Complete {
            Duration::from_secs(1)
        } else {
            Duration::ZERO
        };
        let child_status = match self.child_status {
            Some(status) => Some(status),
            None => self.child.as_mut().and_then(|c| reap(c, grace)),
        };
        // The command is gone but something it started still holds its stdout, so the
        // copy reading it would wait (and keep its descriptors) for as long as that lives.
        // Its end may be decided already (the client hung up): what matters is its thread.
        if let (true, Some(dir)) = (self.child.is_some(), self.from_child) {
            // A copy about to report its EOF gets a moment, so that a background job the
            // command started properly (its output elsewhere) is not stopped for nothing.
            if !self.join_copies(&[dir], Duration::from_millis(100))
                && let Some(child) = &self.child
            {
                child.stop_group();
            }
        }
        // The copies the reset unblocked end now, and with them the last descriptors of
        // the connections, closed with what was not read still queued. One blocked
        // writing to a peer that does not read is unblocked by a shutdown after a moment.
        if failing && !self.join_copies(&DIRS, Duration::from_millis(100)) {
            for a in &self.aborters {
                a.abort();
            }
        }
        let into_child = DIRS.into_iter().find(|d| self.dirs[*d as usize].into_child);
        let [send, recv] = self.dirs;
        Outcome {
            end,
            send: send.end,
            recv: recv.end,
            started: self.started,
            duration: self.started.elapsed(),
            sent: self.sent,
            received: self.received,
            child_status,
            into_child,
        }
    }

    /// Waits up to `limit` for the copies of `dirs` to report; true if they all have.
    fn join_copies(&mut self, dirs: &[Dir], limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while !dirs.iter().all(|d| self.dirs[*d as usize].thread_done) {
            let left = until.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((d, _)) => self.dirs[d as usize].thread_done = true,
                Err(_) => return false,
            }
        }
        true
    }

    fn run_loop(&mut self, signals: Option<&Signals>, on_wake: &mut impl FnMut()) -> End {
        loop {
            while let Ok((dir, result)) = self.rx.try_recv() {
                let undelivered = self.waiting(dir) != Waiting::Nowhere;
                let state = &mut self.dirs[dir as usize];
                state.thread_done = true;
                // The duplicate of the source must go with its copy: one of a command's
                // stdout would keep the pipe open, and the command would block writing
                // instead of getting EPIPE.
                state.backlog = Backlog::Unknown;
                let broken = |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe;
                state.end = match result {
                    Ok(()) => {
                        state.eof_owed = state.defer_eof;
                        DirEnd::Eof
                    }
                    Err(CopyError::Write(e)) if state.to_stdout && broken(&e) => {
                        return End::StdoutGone;
                    }
                    // A command that exits (or closes its stdin) without reading all of its
                    // input made that choice, as `head` does in a shell pipeline. (Telling
                    // it from lost data is not possible: bytes already in its stdin pipe
                    // vanish unseen when it exits.)
                    Err(CopyError::Write(e)) if broken(&e) && state.into_child => DirEnd::PeerGone,
                    // The destination went away for good while this direction held nothing
                    // for it (a splice into a pipe whose reader has gone fails before it
                    // looks at its source): as if the hang-up had been seen first.
                    Err(CopyError::Write(e)) if broken(&e) && !undelivered => DirEnd::PeerGone,
                    Err(e) => DirEnd::Failed(e),
                };
            }
            if self.cfg.fail_both {
                // An EOF may come with the failure of the other direction (a peer that
                // closed with bytes still on their way to it): look at the hang-ups first.
                if self.dirs.iter().any(|d| d.eof_owed)
                    && let Some(end) = self.poll_once(Some(Duration::ZERO))
                {
                    return end;
                }
                if self.dirs.iter().any(|d| d.end.failed()) {
                    // Both peers are told at once; no EOF owed is passed on.
                    self.failing = true;
                    for a in &self.aborters {
                        a.fail();
                    }
                    return End::Failed;
                }
                // A copy bound to fail soon (`hup_pending`) may still turn this session
                // into a failure: the EOFs wait for it.
                if !self.dirs.iter().any(|d| d.hup_pending) {
                    for d in &mut self.dirs {
                        d.pass_eof();
                    }
                }
            }
            // A failed direction has passed its half-close on like an EOF; the other one
            // runs to its own end, so what still comes the other way is not cut off.
            if self.dirs.iter().all(|d| d.end.is_over()) {
                let failed = self.dirs.iter().any(|d| d.end.failed());
                return if failed { End::Failed } else { End::Complete };
            }
            if self.abort.load(Ordering::SeqCst) {
                return End::Aborted;
            }
            if let Some(sig) = signals.and_then(|s| s.stop_requested()) {
                return End::Signal(sig);
            }
            on_wake();
            let now = Instant::now();
            let timeout = match self.cfg.idle_timeout {
                Some(limit) => {
                    let idle = self.sent.idle_for(now).min(self.received.idle_for(now));
                    if idle >= limit {
                        return if self.data_stuck() {
                            End::IdleWithData
                        } else {
                            End::Idle
                        };
                    }
                    Some(limit - idle)
                }
                None => None,
            };
            match self.poll_once(timeout) {
                Some(end) => return end,
                None => continue,
            }
        }
    }

    /// Where bytes for a direction's destination still wait, if anywhere.
    fn waiting(&self, dir: Dir) -> Waiting {
        // The source first, then what the copy holds: a copy marks what it takes in flight
        // right after its read returns, so only a read returning at this very instant
        // could pass between the two looks unseen.
        let queued = self.dirs[dir as usize].backlog.holds_bytes();
        if self.meter(dir).in_flight() {
            Waiting::InFlight
        } else if queued {
            Waiting::Queued
        } else {
            Waiting::Nowhere
        }
    }

    fn meter(&self, dir: Dir) -> &Meter {
        match dir {
            Dir::Send => &self.sent,
            Dir::Recv => &self.received,
        }
    }

    /// True when a direction still running holds bytes it could not deliver, or faces a
    /// destination that takes nothing more (a socket or our stdout that is full).
    fn data_stuck(&self) -> bool {
        DIRS.iter().zip(&self.dirs).any(|(dir, d)| {
            if d.end.is_over() {
                return false;
            }
            if self.meter(*dir).in_flight() {
                return true;
            }
            match &d.hangup {
                Hangup::Socket(_) | Hangup::Stdout => d.hangup.fd().is_some_and(|(fd, _)| {
                    crate::ready::now(fd, PollFlags::OUT).is_ok_and(|r| r.is_empty())
                }),
                _ => false,
            }
        })
    }

    /// Waits for a wake-up or a hang-up; returns an end if one was decided.
    fn poll_once(&mut self, timeout: Option<Duration>) -> Option<End> {
        let mut watched: Vec<usize> = Vec::with_capacity(2);
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(3);
        fds.push(PollFd::from_borrowed_fd(self.waker.fd(), PollFlags::IN));
        for (i, d) in self.dirs.iter().enumerate() {
            if d.end.is_over() || d.hup_pending {
                continue;
            }
            if let Some((fd, events)) = d.hangup.fd() {
                fds.push(PollFd::from_borrowed_fd(fd, events));
                watched.push(i);
            }
        }
        let ts = timeout.map(|t| {
            Timespec::try_from(t).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            })
        });
        if poll(&mut fds, ts.as_ref()).is_err() {
            return None;
        }
        let fired: Vec<usize> = watched
            .iter()
            .zip(&fds[1..])
            .filter(|(_, p)| !p.revents().is_empty())
            .map(|(i, _)| *i)
            .collect();
        let woke = !fds[0].revents().is_empty();
        drop(fds);
        if woke {
            self.waker.drain();
        }
        for i in fired {
            if self.dirs[i].to_stdout {
                return Some(End::StdoutGone);
            }
            let waiting = self.waiting(DIRS[i]);
            let state = &mut self.dirs[i];
            match waiting {
                // A command that ended without reading everything: its choice (see above).
                Waiting::Queued | Waiting::Nowhere if state.into_child => {
                    state.end = DirEnd::PeerGone;
                }
                // Bytes are on their way to a destination that is gone: the copy will fail
                // and say so.
                Waiting::InFlight => state.hup_pending = true,
                // Bytes still wait for a destination that is gone for good: lost.
                Waiting::Queued => state.end = DirEnd::Cut,
                Waiting::Nowhere => state.end = DirEnd::PeerGone,
            }
        }
        None
    }
}

impl DirState {
    /// Passes on an EOF owed: shuts the destination socket (a duplicate) for writing.
    fn pass_eof(&mut self) {
        if std::mem::take(&mut self.eof_owed)
            && let Hangup::Socket(fd) = &self.hangup
        {
            let _ = rustix::net::shutdown(fd, rustix::net::Shutdown::Write);
        }
    }

    fn new(hangup: Hangup, to_stdout: bool) -> DirState {
        DirState {
            end: DirEnd::Unfinished,
            hangup,
            backlog: Backlog::Unknown,
            defer_eof: false,
            eof_owed: false,
            hup_pending: false,
            to_stdout,
            into_child: false,
            thread_done: false,
        }
    }
}

fn output_is_stdout(output: &Output) -> bool {
    output.close_how() == CloseHow::Stdout
}

fn hangup_of(output: &Output, child: Option<&ExecChild>, into_child: bool) -> Hangup {
    if output_is_stdout(output) {
        return Hangup::Stdout;
    }
    if output.kind().is_socket()
        && let Some(fd) = output.fd().and_then(|f| f.try_clone_to_owned().ok())
    {
        return Hangup::Socket(fd);
    }
    if into_child && let Some(fd) = child.and_then(|c| c.pidfd()) {
        return Hangup::Child(fd);
    }
    Hangup::None
}

fn shut(input: Option<Input>, output: Option<Output>) {
    if let Some(mut out) = output {
        let _ = out.close_write();
    }
    if let Some(input) = input
        && input.kind().is_socket()
    {
        let _ = rustix::net::shutdown(input.fd(), rustix::net::Shutdown::Read);
    }
}

/// What a direction does with its ends when its copy is over.
#[derive(Clone, Copy, Debug)]
struct Ends {
    /// On failure, leave both ends to the session, which fails them.
    fail_both: bool,
    /// On EOF, leave the half-close to the session.
    defer_eof: bool,
}

/// One direction: the copy, then the half-close. A copy that fails still tells both ends
/// this direction is over (the destination gets EOF, a socket source stops taking data),
/// so the peer can finish the other direction; in a `fail_both` session it leaves them to
/// the session.
fn run_direction(
    input: &mut Input,
    output: &mut Output,
    meter: &Meter,
    cfg: &CopyConfig,
    tap: Option<&dyn Tap>,
    dir: Dir,
    ends: Ends,
) -> Result<(), CopyError> {
    let copied = match tap {
        Some(tap) => {
            let mut tapped = Tapped {
                inner: &mut *input,
                tap,
                dir,
                offset: 0,
            };
            copy(&mut tapped, output, meter, cfg)
        }
        None => copy(input, output, meter, cfg),
    };
    if let Err(e) = copied {
        if !ends.fail_both {
            let _ = output.close_write();
            if input.kind().is_socket() {
                let _ = rustix::net::shutdown(input.fd(), rustix::net::Shutdown::Read);
            }
        } else if !ends.defer_eof {
            // A pipe into a command: closing it is all that can be said.
            let _ = output.close_write();
        }
        return Err(e);
    }
    if ends.defer_eof {
        return Ok(());
    }
    output.close_write().map_err(CopyError::Write)
}

/// Reaps an `exec:` child: `grace` to exit on its own, then SIGTERM, and SIGKILL if it
/// ignores that for two seconds.
pub fn reap(child: &mut ExecChild, grace: Duration) -> Option<std::process::ExitStatus> {
    if let Some(status) = wait_for_exit(child, grace) {
        return Some(status);
    }
    child.terminate();
    if let Some(status) = wait_for_exit(child, Duration::from_secs(2)) {
        return Some(status);
    }
    child.kill();
    child.wait().ok()
}

/// Waits up to `limit` for the child to exit; reaps it if it did.
fn wait_for_exit(child: &mut ExecChild, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    let pidfd = child.pidfd();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        match &pidfd {
            Some(fd) => {
                let ts = Timespec::try_from(left).ok();
                let mut p = [PollFd::new(fd, PollFlags::IN)];
                let _ = poll(&mut p, ts.as_ref());
            }
            None => {
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }
}
