//! Message-oriented Unix sockets (`unix-dgram:`, `seqpacket:`) at the system-call level:
//! making and naming them, binding under the socket-file rules of [`super::sockfile`],
//! sending one message and receiving one.
//!
//! - A message longer than the send buffer allows (EMSGSIZE) grows the buffer once, up to
//!   what the OS lets an unprivileged process have, and is then an error naming its size
//!   and the limit.
//! - A received message is never cut silently: `MSG_TRUNC` makes the kernel report its real
//!   length, which the caller compares with the room it gave.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use rustix::io::Errno;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendFlags, SocketAddrAny,
    SocketAddrUnix, SocketFlags, SocketType, UCred,
};

use super::sockfile::{self, OwnedPath};
use super::unix_diag;
use crate::addr::{Address, SocketName};
use crate::error::HintExt;
use crate::term::{Printer, escape};

/// The two message-oriented socket types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgType {
    /// `SOCK_DGRAM`: connectionless; each datagram names its sender.
    Dgram,
    /// `SOCK_SEQPACKET`: connections, like a stream, that keep message boundaries.
    Seqpacket,
}

impl MsgType {
    /// The type and name of a message address.
    pub fn of(addr: &Address) -> Option<(MsgType, &SocketName)> {
        match addr {
            Address::UnixDgram(n) => Some((MsgType::Dgram, n)),
            Address::Seqpacket(n) => Some((MsgType::Seqpacket, n)),
            _ => None,
        }
    }

    fn socket_type(self) -> SocketType {
        match self {
            MsgType::Dgram => SocketType::DGRAM,
            MsgType::Seqpacket => SocketType::SEQPACKET,
        }
    }

    /// The type as `unix_diag` reports it.
    pub(super) fn diag_kind(self) -> u8 {
        match self {
            MsgType::Dgram => unix_diag::DGRAM,
            MsgType::Seqpacket => unix_diag::SEQPACKET,
        }
    }
}

/// A new close-on-exec socket of type `t`.
pub fn new_socket(t: MsgType) -> io::Result<OwnedFd> {
    Ok(rustix::net::socket_with(
        AddressFamily::UNIX,
        t.socket_type(),
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// The kernel's address for a socket name.
pub fn socket_addr(name: &SocketName) -> io::Result<SocketAddrUnix> {
    Ok(match name {
        SocketName::Path(p) => SocketAddrUnix::new(p.as_path())?,
        SocketName::Abstract(n) => SocketAddrUnix::new_abstract_name(n.as_bytes())?,
    })
}

/// Binds a new socket of type `t` on `name`. A path gets exactly `mode` and the socket-file
/// rules (stale files reclaimed, live ones and non-sockets refused); the returned guard
/// removes the file at drop if it is still ours.
pub fn bind(
    addr: &Address,
    t: MsgType,
    name: &SocketName,
    mode: u32,
    printer: &Printer,
) -> Result<(OwnedFd, Option<OwnedPath>)> {
    let sa = socket_addr(name).map_err(|e| anyhow!(e).context(cannot_listen(addr)))?;
    match name {
        SocketName::Path(path) => {
            let (fd, owned) = sockfile::bind_file(addr, path, printer, || {
                let fd = new_socket(t)?;
                // The file takes the socket's mode at bind(2) (the umask is cleared).
                rustix::fs::fchmod(&fd, rustix::fs::Mode::from_raw_mode(mode))?;
                rustix::net::bind(&fd, &sa)?;
                Ok(fd)
            })?;
            Ok((fd, Some(owned)))
        }
        SocketName::Abstract(n) => {
            let fd = new_socket(t).map_err(|e| anyhow!(e).context(cannot_listen(addr)))?;
            match rustix::net::bind(&fd, &sa) {
                Ok(()) => Ok((fd, None)),
                Err(Errno::ADDRINUSE) => {
                    let pid = unix_diag::bound_to_abstract(n)
                        .ok()
                        .and_then(|v| v.into_iter().find(|l| l.kind == t.diag_kind()))
                        .and_then(|l| unix_diag::holder_pid(l.socket_inode));
                    let holder = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
                    Err(anyhow!("{}: in use{holder}", cannot_listen(addr))).hint(format!(
                        "another process{holder} holds this abstract name: stop it or choose another name"
                    ))
                }
                Err(e) => Err(anyhow!(io::Error::from(e)).context(cannot_listen(addr))),
            }
        }
    }
}

fn cannot_listen(addr: &Address) -> String {
    format!("cannot listen on {}", escape(&addr.to_string()))
}

/// The largest message an unprivileged process can send here. Its send buffer may grow to
/// twice `net.core.wmem_max`, of which the kernel keeps 32 bytes; and the kernel allocates
/// most of a message in one piece, which caps it (about 4 MiB with 4 KiB pages) whatever the
/// buffer. Where the buffer allows more than 4 MiB, the cap is found once by trying.
pub fn max_message() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        let wmem_max = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(212_992);
        let by_buffer = (2 * wmem_max).saturating_sub(32).max(1);
        if by_buffer <= 4 << 20 {
            return by_buffer;
        }
        largest_sendable(by_buffer).unwrap_or(by_buffer)
    })
}

/// The largest datagram up to `limit` the kernel takes, by bisection over a socket pair.
fn largest_sendable(limit: usize) -> io::Result<usize> {
    let (a, b) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    rustix::net::sockopt::set_socket_send_buffer_size(&a, limit)?;
    // Zeroed pages: the kernel reads them without making them resident.
    let data = vec![0u8; limit];
    let fits = |n: usize| -> bool {
        let sent = rustix::net::send(&a, &data[..n], SendFlags::DONTWAIT).is_ok();
        if sent {
            // Drop it (a zero-byte receive discards a datagram).
            let mut none = [0u8; 0];
            let _ = rustix::net::recv(&b, &mut none[..], RecvFlags::DONTWAIT);
        }
        sent
    };
    if fits(limit) {
        return Ok(limit);
    }
    let (mut lo, mut hi) = (1usize, limit);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    Ok(lo)
}

/// The error for a message the socket cannot take.
pub fn too_large(len: usize, limit: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "a message of {len} bytes is larger than this socket allows (at most {limit} bytes)"
        ),
    )
}

/// Sends `msg` as one message: to the connected peer, or to `to`. Grows the send buffer
/// once if the message does not fit it.
pub fn send(fd: BorrowedFd<'_>, to: Option<&SocketAddrUnix>, msg: &[u8]) -> io::Result<()> {
    let mut grown = false;
    loop {
        let sent = match to {
            None => rustix::net::send(fd, msg, SendFlags::NOSIGNAL),
            Some(to) => rustix::net::sendto(fd, msg, SendFlags::NOSIGNAL, to),
        };
        match sent {
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(Errno::MSGSIZE) if !grown => {
                grown = true;
                // The kernel doubles what it is given and caps it at wmem_max.
                let want = msg.len().saturating_add(32);
                let _ = rustix::net::sockopt::set_socket_send_buffer_size(fd, want);
            }
            Err(Errno::MSGSIZE) => {
                let buf = rustix::net::sockopt::socket_send_buffer_size(fd).unwrap_or(0);
                return Err(too_large(
                    msg.len(),
                    buf.saturating_sub(32).min(max_message()),
                ));
            }
            // Beyond what the kernel allocates for one message (or memory is short).
            Err(Errno::NOBUFS) if msg.len() > max_message() => {
                return Err(too_large(msg.len(), max_message()));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// One received message.
#[derive(Debug)]
pub struct Received {
    /// Its real length, which may exceed the buffer it was received into (it was cut).
    pub len: usize,
    /// The sender's address (`None` at the end of a datagram socket's input).
    pub from: Option<SocketAddrAny>,
    /// The sender's credentials, when asked for and the socket has `SO_PASSCRED`.
    pub creds: Option<UCred>,
}

/// Receives one message into `buf`, reporting its real length (`MSG_TRUNC`).
pub fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], creds: bool) -> io::Result<Received> {
    recv_flags(fd, buf, creds, RecvFlags::empty())
}

/// Looks at the next message without taking it or waiting for it: its sender and length.
pub fn peek(fd: BorrowedFd<'_>, creds: bool) -> io::Result<Received> {
    recv_flags(fd, &mut [], creds, RecvFlags::PEEK | RecvFlags::DONTWAIT)
}

fn recv_flags(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    creds: bool,
    flags: RecvFlags,
) -> io::Result<Received> {
    let mut space = [std::mem::MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
    let mut control = if creds {
        RecvAncillaryBuffer::new(&mut space)
    } else {
        RecvAncillaryBuffer::default()
    };
    loop {
        let mut iov = [io::IoSliceMut::new(&mut *buf)];
        match rustix::net::recvmsg(fd, &mut iov, &mut control, RecvFlags::TRUNC | flags) {
            Ok(r) => {
                let creds = control.drain().find_map(|m| match m {
                    RecvAncillaryMessage::ScmCredentials(c) => Some(c),
                    _ => None,
                });
                return Ok(Received {
                    len: r.bytes,
                    from: r.address,
                    creds,
                });
            }
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// After a datagram socket returned nothing from no named sender: true if that was the end
/// of its input (it was shut down for reading, and nothing more is queued), false if it was
/// an empty datagram from a sender without a name (the kernel reports no address for one).
pub fn datagram_input_ended(fd: BorrowedFd<'_>) -> bool {
    use rustix::event::PollFlags;
    let shut = crate::ready::now(fd, PollFlags::RDHUP).is_ok_and(|r| r.contains(PollFlags::RDHUP));
    // Shut down: the end, unless another datagram waits (a non-blocking peek finds none).
    let mut none = [0u8; 0];
    shut && rustix::net::recv(fd, &mut none[..], RecvFlags::PEEK | RecvFlags::DONTWAIT).is_err()
}

/// A sender's address in words: its path, `@name`, or "an unnamed socket".
pub fn describe_addr(addr: Option<&SocketAddrAny>) -> String {
    let unix = addr.and_then(|a| SocketAddrUnix::try_from(a.clone()).ok());
    match unix {
        Some(u) => {
            if let Some(p) = u.path_bytes() {
                escape(&String::from_utf8_lossy(p))
            } else if let Some(n) = u.abstract_name() {
                format!("@{}", escape(&String::from_utf8_lossy(n)))
            } else {
                "an unnamed socket".into()
            }
        }
        None => "an unnamed socket".into(),
    }
}

/// Sets or clears `SO_SNDTIMEO` (a bounded connect, or a bounded wait for room in a full
/// receive queue).
pub fn set_send_timeout(fd: impl AsFd, t: Option<std::time::Duration>) -> io::Result<()> {
    let t = t.map(|t| t.max(std::time::Duration::from_millis(1)));
    rustix::net::sockopt::set_socket_timeout(fd, rustix::net::sockopt::Timeout::Send, t)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(t: MsgType) -> (OwnedFd, OwnedFd) {
        rustix::net::socketpair(
            AddressFamily::UNIX,
            t.socket_type(),
            SocketFlags::CLOEXEC,
            None,
        )
        .expect("socketpair")
    }

    #[test]
    fn messages_keep_their_boundaries_and_real_length() {
        let (a, b) = pair(MsgType::Seqpacket);
        send(a.as_fd(), None, b"hello").expect("send");
        send(a.as_fd(), None, b"world!").expect("send");
        let mut buf = [0u8; 3];
        let r = recv(b.as_fd(), &mut buf, false).expect("recv");
        assert_eq!((r.len, &buf), (5, b"hel"), "cut, and says so");
        let mut buf = [0u8; 16];
        let r = recv(b.as_fd(), &mut buf, false).expect("recv");
        assert_eq!(&buf[..r.len], b"world!");
    }

    #[test]
    fn a_message_beyond_the_send_buffer_grows_it_or_names_the_limit() {
        let (a, b) = pair(MsgType::Dgram);
        let small = 8192;
        rustix::net::sockopt::set_socket_send_buffer_size(&a, small).expect("sndbuf");
        let big = vec![7u8; 3 * small];
        send(a.as_fd(), None, &big).expect("grows to fit");
        let mut buf = vec![0u8; big.len()];
        assert_eq!(
            recv(b.as_fd(), &mut buf, false).expect("recv").len,
            big.len()
        );
        let huge = vec![7u8; max_message() + 1];
        let err = send(a.as_fd(), None, &huge).expect_err("too large");
        let msg = err.to_string();
        assert!(msg.contains(&format!("{} bytes", huge.len())), "{msg}");
        assert!(msg.contains(&format!("at most {}", max_message())), "{msg}");
    }

    #[test]
    fn credentials_come_with_each_datagram_when_asked() {
        let (a, b) = pair(MsgType::Dgram);
        rustix::net::sockopt::set_socket_passcred(&b, true).expect("passcred");
        send(a.as_fd(), None, b"x").expect("send");
        let mut buf = [0u8; 4];
        let r = recv(b.as_fd(), &mut buf, true).expect("recv");
        let c = r.creds.expect("credentials");
        assert_eq!(c.pid.as_raw_nonzero().get() as u32, std::process::id());
        assert_eq!(c.uid, rustix::process::getuid());
    }

    #[test]
    fn unnamed_and_named_senders_are_described() {
        assert_eq!(describe_addr(None), "an unnamed socket");
        let a = SocketAddrUnix::new_abstract_name(b"log").expect("addr");
        assert_eq!(describe_addr(Some(&SocketAddrAny::from(a))), "@log");
        let p = SocketAddrUnix::new("/tmp/x").expect("addr");
        assert_eq!(describe_addr(Some(&SocketAddrAny::from(p))), "/tmp/x");
    }
}
