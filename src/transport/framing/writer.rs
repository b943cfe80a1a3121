//! Messages out: the bytes given to a message socket's output become messages, one per line
//! or one per write, as [`super::Framing`] says.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;

use rustix::net::Shutdown;

use super::super::msgsock::{self, MsgType};
use super::{Framing, Route};

/// What closing a writer does besides sending the last unterminated line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnClose {
    /// `shutdown(SHUT_WR)`: the peer reads EOF (seqpacket).
    ShutdownWrite,
    /// `shutdown(SHUT_RD)`: our own input ends once what has arrived is read (a datagram
    /// client: a datagram peer never sends an EOF).
    StopReceiving,
    /// Nothing: a datagram server goes on receiving.
    Nothing,
}

/// Writes a byte stream to a socket as messages (see [`Framing`]).
#[derive(Debug)]
pub struct MsgWriter {
    framing: Framing,
    kind: MsgType,
    /// The unterminated line so far.
    line: Vec<u8>,
    route: Option<Arc<dyn Route>>,
    on_close: OnClose,
}

impl MsgWriter {
    pub fn new(kind: MsgType, framing: Framing, on_close: OnClose) -> MsgWriter {
        MsgWriter {
            framing,
            kind,
            line: Vec::new(),
            route: None,
            on_close,
        }
    }

    /// Sends through `route` instead of to the connected peer.
    pub fn with_route(mut self, route: Arc<dyn Route>) -> MsgWriter {
        self.route = Some(route);
        self
    }

    /// Takes all of `buf`: one message (raw, whole) or one per complete line.
    pub fn write(&mut self, fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
        if self.framing != Framing::Lines {
            self.send(fd, buf)?;
            return Ok(buf.len());
        }
        let mut rest = buf;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            if self.line.is_empty() {
                self.send(fd, &rest[..i])?;
            } else {
                self.line.extend_from_slice(&rest[..i]);
                let sent = self.send(fd, &self.line);
                self.line.clear();
                sent?;
            }
            rest = &rest[i + 1..];
        }
        let max = msgsock::max_message();
        if self.line.len() + rest.len() > max {
            // The stream is broken here: what came of this line is never sent.
            self.line.clear();
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a line longer than {max} bytes cannot be one message: this socket allows at most {max} bytes"
                ),
            ));
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    /// The end of the stream: sends the unterminated last line, then does what
    /// [`OnClose`] says.
    pub fn finish(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        let flushed = if self.line.is_empty() {
            Ok(())
        } else {
            self.send(fd, &self.line)
        };
        self.line.clear();
        // Even when the last line could not go: the other direction must learn the end.
        let how = match self.on_close {
            OnClose::ShutdownWrite => Shutdown::Write,
            OnClose::StopReceiving => Shutdown::Read,
            OnClose::Nothing => return flushed,
        };
        match rustix::net::shutdown(fd, how) {
            Ok(()) | Err(rustix::io::Errno::NOTCONN) => flushed,
            Err(e) => flushed.and(Err(e.into())),
        }
    }

    fn send(&self, fd: BorrowedFd<'_>, msg: &[u8]) -> io::Result<()> {
        // An empty seqpacket message reads as the end of the connection: not sent.
        if msg.is_empty() && self.kind == MsgType::Seqpacket {
            return Ok(());
        }
        match &self.route {
            Some(route) => route.send(fd, msg),
            None => msgsock::send(fd, None, msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{messages, pair};
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn lines_become_messages_whatever_the_pieces() {
        let (a, b) = pair(MsgType::Seqpacket);
        let mut w = MsgWriter::new(MsgType::Seqpacket, Framing::Lines, OnClose::ShutdownWrite);
        for piece in [&b"al"[..], b"pha\nbe", b"ta\n\ngam", b"ma"] {
            assert_eq!(w.write(a.as_fd(), piece).expect("write"), piece.len());
        }
        w.finish(a.as_fd()).expect("finish");
        // The empty line is not sent on seqpacket; the unterminated last line is.
        assert_eq!(messages(&b), [&b"alpha"[..], b"beta", b"gamma"]);
    }

    #[test]
    fn raw_writes_are_one_message_each() {
        let (a, b) = pair(MsgType::Seqpacket);
        let mut w = MsgWriter::new(MsgType::Seqpacket, Framing::Raw, OnClose::ShutdownWrite);
        w.write(a.as_fd(), b"one\ntwo").expect("write");
        w.write(a.as_fd(), b"three").expect("write");
        w.finish(a.as_fd()).expect("finish");
        assert_eq!(messages(&b), [&b"one\ntwo"[..], b"three"]);
    }

    #[test]
    fn an_overlong_line_is_refused_before_it_fills_memory() {
        let (a, _b) = pair(MsgType::Dgram);
        let mut w = MsgWriter::new(MsgType::Dgram, Framing::Lines, OnClose::Nothing);
        let chunk = vec![b'x'; 1 << 20];
        let mut sent = 0;
        let err = loop {
            match w.write(a.as_fd(), &chunk) {
                Ok(n) => sent += n,
                Err(e) => break e,
            }
            assert!(sent <= msgsock::max_message(), "buffered past the limit");
        };
        assert!(err.to_string().contains("cannot be one message"), "{err}");
    }
}
