//! Local stream sockets: Unix domain sockets on a path (`unix:`) and in the Linux abstract
//! namespace (`@name`), through interprocess. Once connected, a socket is a plain descriptor
//! for the copy engine.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use anyhow::{Result, anyhow};
use interprocess::local_socket::{
    ConnectOptions, GenericFilePath, GenericNamespaced, Listener, Name, Stream, prelude::*,
};

use super::sockfile::{self, OwnedPath};
use super::{Conn, DialOpts, PeerCreds, retry, socktype, unix_diag};
use crate::addr::Address;
use crate::signals::Signals;
use crate::term::{Printer, escape};

/// A listening local socket, and the socket file it owns (removed at drop if still ours).
#[derive(Debug)]
pub struct LocalListener {
    listener: Listener,
    address: Address,
    _file: Option<OwnedPath>,
}

impl LocalListener {
    pub fn bind(addr: &Address, mode: u32, printer: &Printer) -> Result<LocalListener> {
        let shown = escape(&addr.to_string());
        let (listener, file) = match addr {
            Address::Unix(path) => {
                let (l, owned) = sockfile::bind_path(addr, path, mode, printer)?;
                (l, Some(owned))
            }
            Address::Abstract(name) => (sockfile::bind_abstract(&shown, name)?, None),
            _ => unreachable!("LocalListener::bind is only called for local socket addresses"),
        };
        Ok(LocalListener {
            listener,
            address: addr.clone(),
            _file: file,
        })
    }

    /// A listener whose socket file someone else looks after (`--intercept`).
    pub fn from_parts(listener: Listener, address: Address) -> LocalListener {
        LocalListener {
            listener,
            address,
            _file: None,
        }
    }

    /// Closes the listening socket, keeping the socket file's guard.
    pub fn into_file(self) -> Option<OwnedPath> {
        self._file
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        match &self.listener {
            Listener::UdSocket(l) => l.as_fd(),
        }
    }

    pub fn accept(&self) -> io::Result<Conn> {
        let stream = self.listener.accept()?;
        conn_of(stream)
    }
}

fn conn_of(stream: Stream) -> io::Result<Conn> {
    let fd = match stream {
        Stream::UdSocket(s) => OwnedFd::from(s),
    };
    let peer = PeerCreds::of_socket(fd.as_fd());
    Conn::socket(fd, peer)
}

fn name_of(addr: &Address) -> io::Result<Name<'static>> {
    match addr {
        Address::Unix(path) => path.clone().to_fs_name::<GenericFilePath>(),
        Address::Abstract(name) => name.clone().to_ns_name::<GenericNamespaced>(),
        _ => Err(io::ErrorKind::InvalidInput.into()),
    }
}

/// Connects to a local socket; with `--wait`, retries while nothing listens.
pub fn connect(addr: &Address, opts: &DialOpts, signals: &Signals) -> Result<Conn> {
    let name =
        name_of(addr).map_err(|e| anyhow!(e).context(format!("could not connect to {addr}")))?;
    retry::until_ready(addr, opts.wait, signals, |left| {
        // Bounded slices even without --wait: a connect blocked on a full backlog is
        // restarted after a signal, so Ctrl-C would not be seen until the listener took us.
        let slice = left.map_or(SLICE, |l| l.min(SLICE));
        match connect_bounded(&name, slice).and_then(conn_of) {
            Ok(conn) => Ok(conn),
            // A full backlog without --wait: keep waiting for room, like any client.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && left.is_none() => {
                std::thread::sleep(BACKLOG_PAUSE);
                Err(retry::Failure::Again)
            }
            Err(e) => Err(classify(addr, e)),
        }
    })
}

/// How long one connect attempt may block before stop signals are looked at again.
const SLICE: Duration = Duration::from_millis(250);
/// The pause between attempts while the backlog stays full.
const BACKLOG_PAUSE: Duration = Duration::from_millis(5);

/// A connect that gives up after `left`. interprocess reports a full backlog on a bounded
/// connect as success with an unconnected socket (see the notes), so the new socket is
/// checked with `SO_PEERCRED`; an unconnected one counts as "backlog full".
fn connect_bounded(name: &Name<'_>, left: Duration) -> io::Result<Stream> {
    let stream = ConnectOptions::new()
        .name(name.borrow())
        .wait_mode(interprocess::ConnectWaitMode::Timeout(
            left.max(Duration::from_millis(1)),
        ))
        .connect_sync()?;
    match stream.peer_creds() {
        Ok(_) => Ok(stream),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotConnected | io::ErrorKind::ConnectionReset
            ) =>
        {
            Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the listen backlog is full",
            ))
        }
        Err(e) => Err(e),
    }
}

/// Sorts a connect error into "try again later" or "give up", with a description of what
/// was found at the address.
fn classify(addr: &Address, e: io::Error) -> retry::Failure {
    use io::ErrorKind as K;
    // A datagram or seqpacket socket at a path refuses a stream (EPROTOTYPE); in the
    // abstract namespace each type has its own names, so it is just "refused".
    if e.raw_os_error() == Some(libc::EPROTOTYPE) {
        let found = socktype::other_type_at(addr, unix_diag::STREAM);
        return retry::Failure::Fatal(socktype::wrong_type(addr, found));
    }
    if e.kind() == K::ConnectionRefused
        && let Some(kind) = socktype::other_type_at(addr, unix_diag::STREAM)
    {
        return retry::Failure::Fatal(socktype::wrong_type(addr, Some(kind)));
    }
    let found = match e.kind() {
        K::NotFound => "no such file".to_owned(),
        K::ConnectionRefused => match addr.socket_path().map(std::fs::symlink_metadata) {
            Some(Ok(meta)) if !std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => {
                return retry::Failure::Fatal(anyhow!(
                    "could not connect to {}: it is {}, not a socket",
                    escape(&addr.to_string()),
                    sockfile::describe(&meta)
                ));
            }
            Some(_) => "a socket file with no listener (connection refused)".to_owned(),
            None => "nothing listening on that name (connection refused)".to_owned(),
        },
        K::WouldBlock | K::TimedOut => "a listener whose backlog stayed full".to_owned(),
        _ => {
            return retry::Failure::Fatal(anyhow!(e).context(format!(
                "could not connect to {}",
                escape(&addr.to_string())
            )));
        }
    };
    retry::Failure::NotYet { found }
}
