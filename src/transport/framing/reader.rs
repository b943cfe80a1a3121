//! Messages in: each message a socket receives becomes bytes of a stream (a line, raw
//! bytes) or one whole read, as [`super::Framing`] says; never cut silently.

use std::io;
use std::os::fd::BorrowedFd;

use rustix::net::Shutdown;

use super::super::msgsock::{self, MsgType};
use super::{Framing, Gate};

/// Reads messages from a socket as a byte stream (see [`Framing`]).
#[derive(Debug)]
pub struct MsgReader {
    framing: Framing,
    kind: MsgType,
    /// Where a message waits until the caller has taken it (lines, raw).
    staging: Vec<u8>,
    start: usize,
    end: usize,
    /// A newline is due after the staged bytes.
    newline: bool,
    done: bool,
    gate: Option<Box<dyn Gate>>,
    /// Room for one message (lines, raw): the largest an unprivileged sender can send.
    room: usize,
}

impl MsgReader {
    pub fn new(kind: MsgType, framing: Framing) -> MsgReader {
        MsgReader {
            framing,
            kind,
            staging: Vec::new(),
            start: 0,
            end: 0,
            newline: false,
            done: false,
            gate: None,
            room: msgsock::max_message(),
        }
    }

    /// Filters and counts the messages with `gate`.
    pub fn with_gate(mut self, gate: Box<dyn Gate>) -> MsgReader {
        self.gate = Some(gate);
        self
    }

    /// Yields the next bytes; 0 at the end of the input (a seqpacket peer closed, a datagram
    /// socket shut down, or the gate's last message delivered).
    pub fn read(&mut self, fd: BorrowedFd<'_>, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.start < self.end {
                let n = (self.end - self.start).min(out.len());
                out[..n].copy_from_slice(&self.staging[self.start..self.start + n]);
                self.start += n;
                return Ok(n);
            }
            if self.newline && !out.is_empty() {
                self.newline = false;
                out[0] = b'\n';
                return Ok(1);
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            if self.framing == Framing::Whole {
                match self.receive(fd, Room::Caller(out))? {
                    None => return Ok(0),
                    // An empty datagram has no bytes to pass on (0 would read as the end).
                    Some(0) => continue,
                    Some(n) => return Ok(n),
                }
            }
            if self.staging.is_empty() {
                // Zeroed pages are not resident until a message is that long.
                self.staging = vec![0; self.room];
            }
            let Some(n) = self.receive(fd, Room::Staging)? else {
                return Ok(0);
            };
            self.start = 0;
            self.end = n;
            self.newline =
                self.framing == Framing::Lines && self.staging[..n].last() != Some(&b'\n');
        }
    }

    /// Receives the next admitted message; `None` at the end of the input.
    fn receive(&mut self, fd: BorrowedFd<'_>, into: Room<'_>) -> io::Result<Option<usize>> {
        let creds = self.gate.as_ref().is_some_and(|g| g.wants_creds());
        let caller = matches!(into, Room::Caller(_));
        let buf: &mut [u8] = match into {
            Room::Caller(out) => out,
            Room::Staging => &mut self.staging,
        };
        loop {
            let msg = msgsock::recv(fd, buf, creds)?;
            let end = match self.kind {
                // A zero-length read is the peer's EOF (an empty message reads the same).
                MsgType::Seqpacket => msg.len == 0,
                // A socket shut down for reading returns nothing, from nobody; so does an
                // empty datagram from a sender without a name.
                MsgType::Dgram => {
                    msg.len == 0 && msg.from.is_none() && msgsock::datagram_input_ended(fd)
                }
            };
            if end {
                self.done = true;
                return Ok(None);
            }
            if msg.len > buf.len() {
                return Err(cut(msg.len, buf.len(), caller));
            }
            if let Some(gate) = &mut self.gate {
                if !gate.admit(&msg) {
                    continue;
                }
                if gate.is_done() {
                    self.done = true;
                    // Tells the session the other direction is over too (POLLHUP).
                    let _ = rustix::net::shutdown(fd, Shutdown::Both);
                }
            }
            return Ok(Some(msg.len));
        }
    }
}

/// Where [`MsgReader::receive`] puts a message.
enum Room<'a> {
    Caller(&'a mut [u8]),
    Staging,
}

/// A message longer than the room it was received into: the kernel cut it.
fn cut(len: usize, room: usize, caller: bool) -> io::Error {
    let why = if caller {
        format!("the {room}-byte buffer it is copied through")
    } else {
        format!("the {room} bytes an unprivileged sender can send")
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a message of {len} bytes arrived, more than {why}; it was cut"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{drain, pair};
    use super::super::{MsgWriter, OnClose, Received};
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn received_messages_become_lines_even_through_a_small_buffer() {
        let (a, b) = pair(MsgType::Seqpacket);
        for m in [&b"first"[..], b"second\n", b"a long third message"] {
            msgsock::send(a.as_fd(), None, m).expect("send");
        }
        rustix::net::shutdown(&a, Shutdown::Write).expect("shutdown");
        let mut r = MsgReader::new(MsgType::Seqpacket, Framing::Lines);
        assert_eq!(
            drain(&mut r, &b, 4),
            b"first\nsecond\na long third message\n"
        );
    }

    #[test]
    fn whole_reads_are_one_message_and_never_cut_silently() {
        let (a, b) = pair(MsgType::Dgram);
        msgsock::send(a.as_fd(), None, b"").expect("send");
        msgsock::send(a.as_fd(), None, b"12345").expect("send");
        msgsock::send(a.as_fd(), None, b"123456789").expect("send");
        let mut r = MsgReader::new(MsgType::Dgram, Framing::Whole);
        let mut buf = [0u8; 8];
        // The empty datagram has nothing to pass on; the next one comes whole.
        assert_eq!(r.read(b.as_fd(), &mut buf).expect("read"), 5);
        let err = r.read(b.as_fd(), &mut buf).expect_err("cut");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("message of 9 bytes"), "{err}");
    }

    #[test]
    fn a_datagram_socket_shut_down_for_reading_ends_after_what_arrived() {
        let (a, b) = pair(MsgType::Dgram);
        msgsock::send(a.as_fd(), None, b"").expect("send");
        msgsock::send(a.as_fd(), None, b"x").expect("send");
        let mut w = MsgWriter::new(MsgType::Dgram, Framing::Lines, OnClose::StopReceiving);
        w.finish(b.as_fd()).expect("finish");
        let mut r = MsgReader::new(MsgType::Dgram, Framing::Lines);
        assert_eq!(
            drain(&mut r, &b, 64),
            b"\nx\n",
            "an empty datagram is an empty line"
        );
    }

    #[test]
    fn a_message_longer_than_the_room_is_reported_not_passed_on_cut() {
        let (a, b) = pair(MsgType::Seqpacket);
        msgsock::send(a.as_fd(), None, b"fits").expect("send");
        msgsock::send(a.as_fd(), None, b"does not fit").expect("send");
        let mut r = MsgReader::new(MsgType::Seqpacket, Framing::Raw);
        r.room = 8;
        let mut buf = [0u8; 64];
        assert_eq!(r.read(b.as_fd(), &mut buf).expect("read"), 4);
        let err = r.read(b.as_fd(), &mut buf).expect_err("cut");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().contains("message of 12 bytes")
                && err.to_string().contains("the 8 bytes"),
            "{err}"
        );
    }

    #[derive(Debug)]
    struct Every2nd(u32, u32);

    impl Gate for Every2nd {
        fn wants_creds(&self) -> bool {
            false
        }
        fn admit(&mut self, _: &Received) -> bool {
            self.0 += 1;
            let keep = self.0.is_multiple_of(2);
            self.1 += u32::from(keep);
            keep
        }
        fn is_done(&self) -> bool {
            self.1 == 2
        }
    }

    #[test]
    fn a_gate_filters_and_ends_the_input() {
        let (a, b) = pair(MsgType::Dgram);
        for m in [b"1", b"2", b"3", b"4", b"5", b"6"] {
            msgsock::send(a.as_fd(), None, m).expect("send");
        }
        let mut r =
            MsgReader::new(MsgType::Dgram, Framing::Lines).with_gate(Box::new(Every2nd(0, 0)));
        assert_eq!(drain(&mut r, &b, 64), b"2\n4\n");
        // The socket was shut down both ways: the other direction sees POLLHUP.
        assert!(crate::engine::copy::hung_up(b.as_fd()));
    }
}
