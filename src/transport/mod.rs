//! The transport core: every address becomes a [`Conn`] (an [`Input`], an [`Output`], what
//! is known about the peer, and how to abort it), whether it was dialled ([`dial`]) or
//! accepted from a [`Listener`]. Message sockets (`unix-dgram:`, `seqpacket:`) are
//! connections too, whose halves frame messages as a byte stream ([`Framing`]).
//! Subcommands hold no transport-specific code.

mod dgram;
mod exec;
mod fifo;
pub mod framing;
mod half;
pub mod intercept;
mod local;
pub mod mem;
pub mod msgsock;
mod retry;
mod seqpacket;
pub mod sockfile;
mod socktype;
pub mod stage;
mod stdio;
mod tcp;
mod unix_diag;

use std::fmt;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::addr::Address;
use crate::error::UsageError;
use crate::signals::Signals;
use crate::term::Printer;
use crate::wake::Waker;

pub use exec::{ExecChild, raise_descriptor_limit, shell_command, spawn as exec_spawn};
pub use framing::Framing;
pub use half::{CloseHow, FdKind, Input, Output};
pub use stdio::stdio;

/// What the OS says about the process on the other side of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerCreds {
    pub pid: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

impl PeerCreds {
    /// `SO_PEERCRED` of a Unix socket.
    pub fn of_socket(fd: BorrowedFd<'_>) -> PeerCreds {
        match rustix::net::sockopt::socket_peercred(fd) {
            Ok(c) => PeerCreds {
                pid: u32::try_from(c.pid.as_raw_nonzero().get()).ok(),
                uid: Some(c.uid.as_raw()),
                gid: Some(c.gid.as_raw()),
            },
            Err(_) => PeerCreds::default(),
        }
    }

    pub fn is_known(&self) -> bool {
        self.pid.is_some() || self.uid.is_some()
    }
}

impl fmt::Display for PeerCreds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (name, v) in [("pid", self.pid), ("uid", self.uid), ("gid", self.gid)] {
            if let Some(v) = v {
                write!(f, "{sep}{name} {v}")?;
                sep = " ";
            }
        }
        Ok(())
    }
}

/// One open connection to an endpoint.
#[derive(Debug)]
pub struct Conn {
    /// What the endpoint sends us; `None` for write-only endpoints (a FIFO we write).
    pub input: Option<Input>,
    /// Where we send to the endpoint; `None` for read-only endpoints (a FIFO we read).
    pub output: Option<Output>,
    /// The peer's credentials, where the OS gives them.
    pub peer: PeerCreds,
    /// A human description of the peer (TCP address), if any.
    pub peer_label: Option<String>,
    /// The child process behind an `exec:` endpoint.
    pub child: Option<ExecChild>,
    /// A descriptor kept to unblock both halves at once (`shutdown(SHUT_RDWR)`).
    abort_fd: Option<OwnedFd>,
    /// Extra descriptors that must live as long as the connection (a FIFO's own writer).
    _keep: Vec<OwnedFd>,
}

impl Conn {
    /// A full-duplex socket connection: both halves are the same socket.
    pub fn socket(fd: OwnedFd, peer: PeerCreds) -> std::io::Result<Conn> {
        let input = Input::new(fd.try_clone()?);
        let abort_fd = fd.try_clone()?;
        Ok(Conn {
            input: Some(input),
            output: Some(Output::new(fd, CloseHow::Shutdown)),
            peer,
            peer_label: None,
            child: None,
            abort_fd: Some(abort_fd),
            _keep: Vec::new(),
        })
    }

    /// A message socket connection: both halves are the same socket, read and written
    /// through a message framing.
    pub fn message(
        fd: OwnedFd,
        peer: PeerCreds,
        reader: framing::MsgReader,
        writer: framing::MsgWriter,
    ) -> std::io::Result<Conn> {
        let input = Input::message(fd.try_clone()?, reader);
        let abort_fd = fd.try_clone()?;
        Ok(Conn {
            input: Some(input),
            output: Some(Output::message(fd, writer)),
            peer,
            peer_label: None,
            child: None,
            abort_fd: Some(abort_fd),
            _keep: Vec::new(),
        })
    }

    /// A connection from separate halves (pipes, FIFOs, stdio).
    pub fn halves(input: Option<Input>, output: Option<Output>) -> Conn {
        Conn {
            input,
            output,
            peer: PeerCreds::default(),
            peer_label: None,
            child: None,
            abort_fd: None,
            _keep: Vec::new(),
        }
    }

    /// Keeps a descriptor open for as long as the connection lives.
    pub fn keep(&mut self, fd: OwnedFd) {
        self._keep.push(fd);
    }

    /// Something that can unblock this connection's halves from another thread.
    pub fn aborter(&self) -> Aborter {
        Aborter {
            fd: self.abort_fd.as_ref().and_then(|f| f.try_clone().ok()),
        }
    }
}

/// Unblocks whatever is reading or writing a socket connection by shutting it down both
/// ways. (`exec:` children are stopped by whoever reaps them.)
#[derive(Debug, Default)]
pub struct Aborter {
    fd: Option<OwnedFd>,
}

impl Aborter {
    pub fn abort(&self) {
        if let Some(fd) = &self.fd {
            let _ = rustix::net::shutdown(fd, rustix::net::Shutdown::Both);
        }
    }

    /// Ends a connection so that its peer sees a failure rather than a clean EOF, as far as
    /// the OS allows. A TCP peer is reset at once (`SO_LINGER` 0, then a disconnect sends
    /// RST whatever other descriptors share the socket). A Unix stream or seqpacket peer's
    /// further writes fail (EPIPE), and what it sent that was not read stays queued, so
    /// that the last close of the socket resets it (ECONNRESET); one that has nothing left
    /// unread sees only EOF then, as Unix sockets have no reset of their own. Readers of
    /// this connection are unblocked; a writer blocked on it is not (see
    /// [`Aborter::abort`]).
    pub fn fail(&self) {
        use rustix::net::{AddressFamily, Shutdown, SocketType, sockopt};
        let Some(fd) = &self.fd else {
            return;
        };
        if sockopt::socket_type(fd) == Ok(SocketType::DGRAM) {
            // One socket shared by every sender: nothing to reset.
            return;
        }
        let family = rustix::net::getsockname(fd).map(|a| a.address_family());
        if matches!(family, Ok(AddressFamily::INET | AddressFamily::INET6)) {
            let _ = sockopt::set_socket_linger(fd, Some(Duration::ZERO));
            if rustix::net::connect_unspec(fd).is_ok() {
                return;
            }
        }
        let _ = rustix::net::shutdown(fd, Shutdown::Read);
    }
}

/// How to reach an address.
#[derive(Clone, Debug, Default)]
pub struct DialOpts {
    /// Keep retrying while nothing listens, for this long (a datagram client: also how long
    /// a send waits for room in a full receive queue).
    pub wait: Option<Duration>,
    /// How a message socket's messages meet the byte stream.
    pub framing: Framing,
    /// A datagram client keeps receiving after its own sending side has ended (otherwise
    /// its input ends then: a datagram peer sends no EOF).
    pub keep_receiving: bool,
}

/// Connects to (or opens, or starts) a stream address.
pub fn dial(addr: &Address, opts: &DialOpts, signals: &Signals) -> Result<Conn> {
    match addr {
        Address::Unix(_) | Address::Abstract(_) => local::connect(addr, opts, signals),
        Address::Tcp { host, port } => tcp::connect(addr, host, *port, opts, signals),
        Address::Fifo(path) => fifo::open_writer(addr, path, opts, signals),
        Address::Stdio => Ok(stdio()?),
        Address::Exec(cmd) => exec::spawn(cmd, &PeerCreds::default())
            .with_context(|| format!("could not start {addr}")),
        Address::Seqpacket(name) => seqpacket::connect(addr, name, opts, signals),
        Address::UnixDgram(name) => dgram::connect(addr, name, opts, signals),
        Address::Npipe(_) => Err(unsupported(addr, "connect")),
    }
}

/// A usage error for an address that a subcommand cannot use.
pub fn unsupported(addr: &Address, what: &str) -> anyhow::Error {
    UsageError(format!(
        "cannot {what} {addr}: this address type is not supported here"
    ))
    .into()
}

/// How to serve an address.
#[derive(Clone, Debug)]
pub struct BindOpts {
    /// Mode of a socket file or a FIFO we create.
    pub mode: u32,
    /// Keep a FIFO readable across successive writers.
    pub keep_open: bool,
    /// How a message socket's messages meet the byte stream.
    pub framing: Framing,
    /// A datagram server: deliver this many datagrams, then end.
    pub count: Option<u64>,
    /// A datagram server: only datagrams from these uids (the others are dropped and
    /// logged).
    pub allow_uids: Option<Vec<u32>>,
}

impl Default for BindOpts {
    fn default() -> Self {
        BindOpts {
            mode: 0o600,
            keep_open: false,
            framing: Framing::default(),
            count: None,
            allow_uids: None,
        }
    }
}

/// A served address: accepts connections.
#[derive(Debug)]
pub enum Listener {
    Local(local::LocalListener),
    Tcp(tcp::TcpServer),
    Fifo(fifo::FifoServer),
    Seqpacket(seqpacket::SeqpacketListener),
    /// A datagram socket: [`Listener::accept`] gives the one connection all senders share.
    Dgram(dgram::DgramServer),
}

impl Listener {
    /// Serves `addr` (unix path, `@name`, `tcp:`, `fifo:`, `seqpacket:`, `unix-dgram:`).
    pub fn bind(addr: &Address, opts: &BindOpts, printer: &Printer) -> Result<Listener> {
        match addr {
            Address::Unix(_) | Address::Abstract(_) => {
                local::LocalListener::bind(addr, opts.mode, printer).map(Listener::Local)
            }
            Address::Tcp { host, port } => {
                tcp::TcpServer::bind(addr, host, *port).map(Listener::Tcp)
            }
            Address::Fifo(path) => fifo::FifoServer::bind(addr, path, opts).map(Listener::Fifo),
            Address::Seqpacket(name) => {
                seqpacket::SeqpacketListener::bind(addr, name, opts, printer)
                    .map(Listener::Seqpacket)
            }
            Address::UnixDgram(name) => {
                dgram::DgramServer::bind(addr, name, opts, printer).map(Listener::Dgram)
            }
            _ => Err(unsupported(addr, "listen on")),
        }
    }

    /// The canonical address clients can reach (a TCP port 0 is resolved).
    pub fn address(&self) -> Address {
        match self {
            Listener::Local(l) => l.address().clone(),
            Listener::Tcp(t) => t.address(),
            Listener::Fifo(f) => f.address().clone(),
            Listener::Seqpacket(l) => l.address().clone(),
            Listener::Dgram(d) => d.address().clone(),
        }
    }

    /// The descriptor that becomes readable when a client is waiting (a datagram has
    /// arrived).
    pub fn ready_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Local(l) => l.fd(),
            Listener::Tcp(t) => t.fd(),
            Listener::Fifo(f) => f.fd(),
            Listener::Seqpacket(l) => l.fd(),
            Listener::Dgram(d) => d.fd(),
        }
    }

    /// Accepts one client; call when [`Listener::ready_fd`] is readable.
    pub fn accept(&self) -> std::io::Result<Conn> {
        match self {
            Listener::Local(l) => l.accept(),
            Listener::Tcp(t) => t.accept(),
            Listener::Fifo(f) => f.accept(),
            Listener::Seqpacket(l) => l.accept(),
            Listener::Dgram(d) => d.accept(),
        }
    }

    /// True for a FIFO: its writers arrive as one stream, not one connection each.
    pub fn is_fifo(&self) -> bool {
        matches!(self, Listener::Fifo(_))
    }

    /// True for a datagram socket: its senders share one connection.
    pub fn is_datagram(&self) -> bool {
        matches!(self, Listener::Dgram(_))
    }

    /// Stops accepting (later clients are refused) but keeps the file ipctool created until
    /// the returned guard is dropped.
    pub fn stop_accepting(self) -> Option<sockfile::OwnedPath> {
        match self {
            Listener::Local(l) => l.into_file(),
            Listener::Tcp(_) => None,
            Listener::Fifo(f) => f.into_file(),
            Listener::Seqpacket(l) => l.into_file(),
            Listener::Dgram(d) => d.into_file(),
        }
    }
}

/// What waiting for a client ended with.
#[derive(Debug)]
pub enum Wait {
    Ready,
    TimedOut,
    Signal(i32),
}

/// Waits until `fd` is readable, a stop signal arrives, or `timeout` passes. SIGUSR1 is
/// passed to `on_usr1` and the wait goes on.
pub fn wait_readable(
    fd: BorrowedFd<'_>,
    timeout: Option<Duration>,
    signals: &Signals,
    mut on_usr1: impl FnMut(),
) -> std::io::Result<Wait> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let waker = Waker::new()?;
    let _reg = signals.wake_on_signal(&waker)?;
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        if let Some(sig) = signals.stop_requested() {
            return Ok(Wait::Signal(sig));
        }
        if signals.take_usr1() {
            on_usr1();
        }
        let left = match deadline {
            Some(d) => match d.checked_duration_since(std::time::Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(Wait::TimedOut),
            },
            None => None,
        };
        let ts = left.map(|l| {
            Timespec::try_from(l).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            })
        });
        let mut fds = [
            PollFd::new(&fd, PollFlags::IN),
            PollFd::from_borrowed_fd(waker.fd(), PollFlags::IN),
        ];
        match poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        if !fds[1].revents().is_empty() {
            waker.drain();
        }
        if !fds[0].revents().is_empty() {
            return Ok(Wait::Ready);
        }
    }
}
