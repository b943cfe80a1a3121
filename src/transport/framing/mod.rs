//! Where messages meet byte streams: a [`MsgReader`] turns the messages of a socket into
//! the bytes an [`super::Input`] yields, a [`MsgWriter`] turns the bytes given to an
//! [`super::Output`] into messages. The copy engine and sessions see an ordinary connection
//! (that is never spliced: its kind is [`super::FdKind::Message`]).
//!
//! [`Framing`] says how: by lines (the default, for stdio, pipes and commands), raw (each
//! read is one message, messages written as they are), or whole messages (between two
//! message sockets, where each read of one is exactly one message written to the other).

mod reader;
mod writer;

use std::fmt::Debug;
use std::io;
use std::os::fd::BorrowedFd;

pub use reader::MsgReader;
pub use writer::{MsgWriter, OnClose};

use super::msgsock::Received;

/// How the messages of a socket map to a byte stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// One line is one message: the newline is not sent, and is added back after each
    /// received message (unless it already ends with one).
    #[default]
    Lines,
    /// Each read of the stream is one message; a received message is written as it is.
    Raw,
    /// The other end is a message socket too: each read yields exactly one whole message.
    Whole,
}

/// Decides, message by message, what a reader delivers (a datagram server: who sent it,
/// `--allow-uid`, `--count`).
pub trait Gate: Send + Debug {
    /// Whether the sender's credentials are needed.
    fn wants_creds(&self) -> bool;
    /// Called for each message received: deliver it?
    fn admit(&mut self, msg: &Received) -> bool;
    /// True once the last message wanted has been delivered: the input then ends.
    fn is_done(&self) -> bool;
}

/// Where a writer's messages go when its socket is not connected (a datagram server
/// answering its senders).
pub trait Route: Send + Sync + Debug {
    /// Sends one message.
    fn send(&self, fd: BorrowedFd<'_>, msg: &[u8]) -> io::Result<()>;
}

#[cfg(test)]
mod testutil {
    use std::os::fd::{AsFd, OwnedFd};

    use super::super::msgsock::{self, MsgType};

    /// A connected pair of message sockets.
    pub fn pair(kind: MsgType) -> (OwnedFd, OwnedFd) {
        let t = match kind {
            MsgType::Dgram => rustix::net::SocketType::DGRAM,
            MsgType::Seqpacket => rustix::net::SocketType::SEQPACKET,
        };
        rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            t,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .expect("socketpair")
    }

    /// Every message waiting on `fd` (the writer side has shut down).
    pub fn messages(fd: &OwnedFd) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let r = msgsock::recv(fd.as_fd(), &mut buf, false).expect("recv");
            if r.len == 0 {
                return out;
            }
            out.push(buf[..r.len].to_vec());
        }
    }

    pub fn drain(r: &mut super::MsgReader, fd: &OwnedFd, chunk: usize) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match r.read(fd.as_fd(), &mut buf).expect("read") {
                0 => return all,
                n => all.extend_from_slice(&buf[..n]),
            }
        }
    }
}
