//! `seqpacket:`: Unix sequenced-packet sockets. They have connections, a listen backlog,
//! peer credentials and half-close like stream sockets, so they fit the accept loop and the
//! sessions as they are; only their halves differ (a message framing, see
//! [`super::framing`]).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use anyhow::{Result, anyhow};

use super::framing::{Framing, MsgReader, MsgWriter, OnClose};
use super::msgsock::{self, MsgType};
use super::sockfile::OwnedPath;
use super::{BindOpts, Conn, DialOpts, PeerCreds, retry, socktype};
use crate::addr::{Address, SocketName};
use crate::signals::Signals;
use crate::term::{Printer, escape};

/// The listen backlog (as std's listeners).
const BACKLOG: i32 = 128;

/// A listening seqpacket socket, and the socket file it owns.
#[derive(Debug)]
pub struct SeqpacketListener {
    fd: OwnedFd,
    address: Address,
    framing: Framing,
    _file: Option<OwnedPath>,
}

impl SeqpacketListener {
    /// Binds and listens on `name` (a path gets the socket-file rules and `opts.mode`).
    pub fn bind(
        addr: &Address,
        name: &SocketName,
        opts: &BindOpts,
        printer: &Printer,
    ) -> Result<SeqpacketListener> {
        let (fd, file) = msgsock::bind(addr, MsgType::Seqpacket, name, opts.mode, printer)?;
        rustix::net::listen(&fd, BACKLOG).map_err(|e| {
            anyhow!(io::Error::from(e))
                .context(format!("cannot listen on {}", escape(&addr.to_string())))
        })?;
        Ok(SeqpacketListener {
            fd,
            address: addr.clone(),
            framing: opts.framing,
            _file: file,
        })
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Readable when a client is waiting.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn accept(&self) -> io::Result<Conn> {
        let fd = rustix::net::accept_with(&self.fd, rustix::net::SocketFlags::CLOEXEC)?;
        let peer = PeerCreds::of_socket(fd.as_fd());
        conn_of(fd, peer, self.framing)
    }

    /// Closes the listening socket, keeping the socket file's guard.
    pub fn into_file(self) -> Option<OwnedPath> {
        self._file
    }
}

fn conn_of(fd: OwnedFd, peer: PeerCreds, framing: Framing) -> io::Result<Conn> {
    let reader = MsgReader::new(MsgType::Seqpacket, framing);
    let writer = MsgWriter::new(MsgType::Seqpacket, framing, OnClose::ShutdownWrite);
    Conn::message(fd, peer, reader, writer)
}

/// Connects to a seqpacket listener; with `--wait`, retries while nothing listens or the
/// backlog stays full.
pub fn connect(
    addr: &Address,
    name: &SocketName,
    opts: &DialOpts,
    signals: &Signals,
) -> Result<Conn> {
    let shown = escape(&addr.to_string());
    let target = msgsock::socket_addr(name)
        .map_err(|e| anyhow!(e).context(format!("could not connect to {shown}")))?;
    let fd = retry::until_ready(addr, opts.wait, signals, |left| {
        let fatal = |e: io::Error| {
            retry::Failure::Fatal(anyhow!(e).context(format!("could not connect to {shown}")))
        };
        let fd = msgsock::new_socket(MsgType::Seqpacket).map_err(fatal)?;
        // A bounded connect: a full backlog makes it wait this long at most (EAGAIN).
        if left.is_some() {
            msgsock::set_send_timeout(&fd, left).map_err(fatal)?;
        }
        rustix::net::connect(&fd, &target)
            .map_err(|e| socktype::classify_connect(addr, MsgType::Seqpacket, e.into()))?;
        if left.is_some() {
            msgsock::set_send_timeout(&fd, None).map_err(fatal)?;
        }
        Ok(fd)
    })?;
    let peer = PeerCreds::of_socket(fd.as_fd());
    Ok(conn_of(fd, peer, opts.framing)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_and_the_accepted_connection_exchange_whole_messages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = SocketName::Path(dir.path().join("p"));
        let addr = Address::Seqpacket(name.clone());
        let opts = BindOpts {
            framing: Framing::Whole,
            mode: 0o640,
            ..BindOpts::default()
        };
        let l = SeqpacketListener::bind(&addr, &name, &opts, &Printer::quiet()).expect("bind");
        let meta = std::fs::symlink_metadata(dir.path().join("p")).expect("lstat");
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777,
            0o640
        );
        let dial = DialOpts {
            framing: Framing::Whole,
            ..DialOpts::default()
        };
        let mut client = connect(&addr, &name, &dial, &Signals::inert()).expect("connect");
        let mut server = l.accept().expect("accept");
        assert_eq!(server.peer.pid, Some(std::process::id()));
        let out = client.output.as_mut().expect("out");
        out.write(b"one").expect("write");
        out.write(b"two, longer").expect("write");
        out.close_write().expect("close");
        let input = server.input.as_mut().expect("in");
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        loop {
            match input.read(&mut buf).expect("read") {
                0 => break,
                n => got.push(buf[..n].to_vec()),
            }
        }
        assert_eq!(got, [&b"one"[..], b"two, longer"]);
    }
}
