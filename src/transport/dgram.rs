//! `unix-dgram:`: Unix datagram sockets, which have no connections and no end of stream.
//!
//! - A client ([`connect`]) binds a name of its own before it sends, so that the server can
//!   answer (a sender without a name cannot be answered: ncat's trap). The name is an
//!   abstract one the kernel picks (autobind, `@` and five hex digits): nothing is created on
//!   disk, so nothing is left behind, even after `kill -9`. Since a datagram peer never
//!   sends an EOF, the client stops receiving when its own input ends, unless told to keep
//!   receiving (`--idle-timeout`, `--recv-only`). Under `--wait`, a send waits that long for
//!   room in a full receive queue, then gives up (exit 124).
//! - A server ([`DgramServer`]) is one socket for every sender: its one "connection" reads
//!   every datagram (announcing each new sender under `-v` with the credentials the kernel
//!   attaches, dropping those `--allow-uid` refuses, ending after `--count`) and answers the
//!   most recent sender, as socat's `UNIX-RECVFROM` does.

use std::collections::HashSet;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, anyhow};
use rustix::io::Errno;
use rustix::net::{SocketAddrUnix, sockopt};

use super::framing::{Framing, Gate, MsgReader, MsgWriter, OnClose, Route};
use super::msgsock::{self, MsgType, Received, describe_addr};
use super::sockfile::OwnedPath;
use super::{BindOpts, Conn, DialOpts, PeerCreds, retry, socktype};
use crate::addr::{Address, SocketName};
use crate::error::TimedOut;
use crate::signals::Signals;
use crate::term::{Printer, escape};
use crate::units::format_duration;

/// Connects a datagram client to `addr` (see the module notes).
pub fn connect(
    addr: &Address,
    name: &SocketName,
    opts: &DialOpts,
    signals: &Signals,
) -> Result<Conn> {
    let shown = escape(&addr.to_string());
    let target = msgsock::socket_addr(name)
        .map_err(|e| anyhow!(e).context(format!("could not connect to {shown}")))?;
    let fd = retry::until_ready(addr, opts.wait, signals, |_| {
        let fatal = |e: io::Error| {
            retry::Failure::Fatal(anyhow!(e).context(format!("could not connect to {shown}")))
        };
        let fd = msgsock::new_socket(MsgType::Dgram).map_err(fatal)?;
        // Autobind: the kernel gives the socket a unique abstract name to be answered at.
        rustix::net::bind(&fd, &SocketAddrUnix::new_unnamed()).map_err(|e| fatal(e.into()))?;
        rustix::net::connect(&fd, &target)
            .map_err(|e| socktype::classify_connect(addr, MsgType::Dgram, e.into()))?;
        Ok(fd)
    })?;
    let on_close = if opts.keep_receiving {
        OnClose::Nothing
    } else {
        OnClose::StopReceiving
    };
    let mut writer = MsgWriter::new(MsgType::Dgram, opts.framing, on_close);
    if let Some(wait) = opts.wait {
        msgsock::set_send_timeout(&fd, Some(wait))
            .map_err(|e| anyhow!(e).context(format!("could not connect to {shown}")))?;
        writer = writer.with_route(Arc::new(Bounded { wait, shown }));
    }
    let reader = MsgReader::new(MsgType::Dgram, opts.framing);
    Ok(Conn::message(fd, PeerCreds::default(), reader, writer)?)
}

/// A client's sends under `--wait`: a receive queue that stays full that long is a timeout.
#[derive(Debug)]
struct Bounded {
    wait: Duration,
    shown: String,
}

impl Route for Bounded {
    fn send(&self, fd: BorrowedFd<'_>, msg: &[u8]) -> io::Result<()> {
        match msgsock::send(fd, None, msg) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                TimedOut(format!(
                    "the receive queue of {} stayed full for {} (nobody is reading it?)",
                    self.shown,
                    format_duration(self.wait)
                )),
            )),
            other => other,
        }
    }
}

/// A bound datagram socket that every sender reaches.
#[derive(Debug)]
pub struct DgramServer {
    fd: OwnedFd,
    address: Address,
    framing: Framing,
    count: Option<u64>,
    allow_uids: Option<Vec<u32>>,
    printer: Printer,
    _file: Option<OwnedPath>,
}

impl DgramServer {
    /// Binds `name` (a path gets the socket-file rules and exactly `opts.mode`).
    pub fn bind(
        addr: &Address,
        name: &SocketName,
        opts: &BindOpts,
        printer: &Printer,
    ) -> Result<DgramServer> {
        let (fd, file) = msgsock::bind(addr, MsgType::Dgram, name, opts.mode, printer)?;
        if printer.is_verbose() || opts.allow_uids.is_some() {
            // The kernel then attaches each sender's pid, uid and gid to its datagrams.
            sockopt::set_socket_passcred(&fd, true).map_err(|e| {
                anyhow!(io::Error::from(e)).context(format!(
                    "cannot ask for the credentials of senders on {}",
                    escape(&addr.to_string())
                ))
            })?;
        }
        Ok(DgramServer {
            fd,
            address: addr.clone(),
            framing: opts.framing,
            count: opts.count,
            allow_uids: opts.allow_uids.clone(),
            printer: printer.clone(),
            _file: file,
        })
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Readable when a datagram has arrived.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The socket as one connection: every sender's datagrams in, answers out to the most
    /// recent sender.
    pub fn accept(&self) -> io::Result<Conn> {
        let shown = escape(&self.address.to_string());
        let reply = Arc::new(ReplyTo {
            last: Mutex::new(None),
            shown: shown.clone(),
            printer: self.printer.clone(),
        });
        let gate = Senders {
            shown,
            printer: self.printer.clone(),
            allow: self.allow_uids.clone(),
            left: self.count,
            reply: Arc::clone(&reply),
            seen: HashSet::new(),
            refused: HashSet::new(),
        };
        // A datagram already waiting (`listen` accepts once one has come) says whom to
        // answer before the two directions of the session start: an answer ready on stdin
        // at once must not find nobody to go to.
        if let Ok(first) = msgsock::peek(self.fd.as_fd(), gate.wants_creds())
            && gate.allowed(&peer_of(&first))
        {
            reply.set(first.from.as_ref());
        }
        let reader = MsgReader::new(MsgType::Dgram, self.framing).with_gate(Box::new(gate));
        let writer =
            MsgWriter::new(MsgType::Dgram, self.framing, OnClose::Nothing).with_route(reply);
        Conn::message(self.fd.try_clone()?, PeerCreds::default(), reader, writer)
    }

    /// Closes this handle (connections made by [`DgramServer::accept`] keep the socket),
    /// keeping the socket file's guard.
    pub fn into_file(self) -> Option<OwnedPath> {
        self._file
    }
}

/// Remembers at most this many senders for `-v` and `--allow-uid` notes.
const SENDERS_KEPT: usize = 4096;

/// The server's reading side: who sent each datagram.
#[derive(Debug)]
struct Senders {
    shown: String,
    printer: Printer,
    allow: Option<Vec<u32>>,
    /// Datagrams still to deliver under `--count`.
    left: Option<u64>,
    reply: Arc<ReplyTo>,
    seen: HashSet<(String, Option<u32>)>,
    refused: HashSet<(String, Option<u32>)>,
}

impl Gate for Senders {
    fn wants_creds(&self) -> bool {
        self.printer.is_verbose() || self.allow.is_some()
    }

    fn admit(&mut self, msg: &Received) -> bool {
        let name = describe_addr(msg.from.as_ref());
        let peer = peer_of(msg);
        let key = (name.clone(), peer.pid);
        if !self.allowed(&peer) {
            if remember(&mut self.refused, key) {
                let uid = peer.uid.map_or("unknown".into(), |u| u.to_string());
                let pid = peer.pid.map_or("unknown".into(), |p| p.to_string());
                self.printer.warn(format_args!(
                    "refused datagrams on {} from {name}: peer uid {uid} pid {pid} is not in --allow-uid",
                    self.shown
                ));
            }
            return false;
        }
        // Answers go to this sender from now on; set before `-v` names it, so that whoever
        // reacts to that line (a script, a test) is answered, not the previous sender.
        self.reply.set(msg.from.as_ref());
        if self.printer.is_verbose() && remember(&mut self.seen, key) {
            let creds = if peer.is_known() {
                format!(" (peer {peer})")
            } else {
                String::new()
            };
            self.printer.event(format_args!(
                "datagram from {name}{creds} on {}",
                self.shown
            ));
        }
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(1);
        }
        true
    }

    fn is_done(&self) -> bool {
        self.left == Some(0)
    }
}

impl Senders {
    /// Passes `--allow-uid` (when given).
    fn allowed(&self, peer: &PeerCreds) -> bool {
        match &self.allow {
            Some(allow) => peer.uid.is_some_and(|u| allow.contains(&u)),
            None => true,
        }
    }
}

/// The sender's credentials, as the kernel attached them.
fn peer_of(msg: &Received) -> PeerCreds {
    msg.creds.map_or_else(PeerCreds::default, |c| PeerCreds {
        pid: u32::try_from(c.pid.as_raw_nonzero().get()).ok(),
        uid: Some(c.uid.as_raw()),
        gid: Some(c.gid.as_raw()),
    })
}

/// Adds `key`; true if it was new. The set is emptied when full, so memory stays bounded.
fn remember(set: &mut HashSet<(String, Option<u32>)>, key: (String, Option<u32>)) -> bool {
    if set.len() >= SENDERS_KEPT {
        set.clear();
    }
    set.insert(key)
}

/// The server's writing side: answers go to the most recent sender.
#[derive(Debug)]
struct ReplyTo {
    last: Mutex<Option<SocketAddrUnix>>,
    shown: String,
    printer: Printer,
}

impl ReplyTo {
    fn set(&self, from: Option<&rustix::net::SocketAddrAny>) {
        let addr = from.and_then(|a| SocketAddrUnix::try_from(a.clone()).ok());
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = addr;
    }
}

impl Route for ReplyTo {
    fn send(&self, fd: BorrowedFd<'_>, msg: &[u8]) -> io::Result<()> {
        let to = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let dropped = |why: String| {
            self.printer.warn(format_args!(
                "dropped an answer of {} bytes on {}: {why}",
                msg.len(),
                self.shown
            ));
            Ok(())
        };
        let to = match to {
            None => return dropped("no datagram has arrived yet, so nobody to answer".into()),
            Some(a) if a.is_unnamed() => {
                return dropped(
                    "the last sender has no name to answer (it did not bind one)".into(),
                );
            }
            Some(a) => a,
        };
        match msgsock::send(fd, Some(&to), msg) {
            // The sender is gone or unreachable: this answer only.
            Err(e)
                if matches!(
                    e.raw_os_error().map(Errno::from_raw_os_error),
                    Some(Errno::CONNREFUSED | Errno::NOENT | Errno::PERM | Errno::ACCESS)
                ) =>
            {
                dropped(format!(
                    "could not reach {}: {e}",
                    describe_addr(Some(&to.into()))
                ))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    fn server(dir: &std::path::Path, opts: &BindOpts) -> (DgramServer, std::path::PathBuf) {
        let path = dir.join("d");
        let addr = Address::UnixDgram(SocketName::Path(path.clone()));
        let s = DgramServer::bind(
            &addr,
            &SocketName::Path(path.clone()),
            opts,
            &Printer::quiet(),
        )
        .expect("bind");
        (s, path)
    }

    #[test]
    fn answers_go_to_the_most_recent_sender_and_count_ends_the_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = BindOpts {
            count: Some(2),
            ..BindOpts::default()
        };
        let (s, path) = server(dir.path(), &opts);
        let mut conn = s.accept().expect("accept");
        let (a, b) = (UnixDatagram::unbound().expect("a"), {
            let b = UnixDatagram::bind(dir.path().join("b")).expect("b");
            b.set_read_timeout(Some(Duration::from_secs(30)))
                .expect("timeout");
            b
        });
        a.send_to(b"from a", &path).expect("send");
        b.send_to(b"from b", &path).expect("send");
        let input = conn.input.as_mut().expect("input");
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match input.read(&mut buf).expect("read") {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"from a\nfrom b\n", "--count 2 ends the input");
        let out = conn.output.as_mut().expect("output");
        // The socket was shut down at the count: nothing more goes out.
        assert!(out.write(b"late\n").is_err());
        drop(conn);
        drop(s);
        assert!(!path.exists(), "the socket file is removed with its server");
    }

    #[test]
    fn the_server_answers_the_last_named_sender() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (s, path) = server(dir.path(), &BindOpts::default());
        let mut conn = s.accept().expect("accept");
        let b = UnixDatagram::bind(dir.path().join("b")).expect("b");
        b.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        b.send_to(b"question", &path).expect("send");
        let mut buf = [0u8; 64];
        let n = conn
            .input
            .as_mut()
            .expect("in")
            .read(&mut buf)
            .expect("read");
        assert_eq!(&buf[..n], b"question");
        let out = conn.output.as_mut().expect("out");
        out.write(b"answer\n").expect("write");
        let n = b.recv(&mut buf).expect("answer");
        assert_eq!(&buf[..n], b"answer");
    }
}
