//! Who holds a Unix socket name, asked of the kernel without connecting to it.
//!
//! Probing a socket file by connecting would be accepted as a client by the live server (a
//! single-client `ipctool listen` would take it as its one client and exit). The kernel's
//! `sock_diag` netlink interface (what `ss -x` uses) lists Unix sockets with their type and
//! state and the device and inode of the file each is bound to, or its abstract name;
//! `/proc/*/fd` then names the process holding that socket, where we may look. Datagram
//! sockets never listen: one that is bound holds its name as surely as a listener does.

use std::io;
use std::os::fd::AsFd;

use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const AF_UNIX: u8 = 1;
const TCP_LISTEN: u32 = 10;
/// `SOCK_STREAM`, `SOCK_DGRAM`, `SOCK_SEQPACKET` as `udiag_type` reports them.
pub const STREAM: u8 = 1;
pub const DGRAM: u8 = 2;
pub const SEQPACKET: u8 = 5;
/// `udiag_state` of a listening socket.
pub const LISTEN: u8 = TCP_LISTEN as u8;
const UDIAG_SHOW_NAME: u32 = 0x1;
const UDIAG_SHOW_VFS: u32 = 0x2;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_VFS: u16 = 1;

/// One Unix socket (listening, or bound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listening {
    /// The socket's inode (as in `/proc/PID/fd` links `socket:[INODE]`).
    pub socket_inode: u32,
    /// [`STREAM`], [`DGRAM`] or [`SEQPACKET`].
    pub kind: u8,
    /// [`LISTEN`] for a listener; other TCP-like states otherwise.
    pub state: u8,
    /// The bound name: a path as given to bind(2), or `\0`-prefixed abstract name.
    pub name: Vec<u8>,
    /// Device and inode of the socket file, for filesystem sockets (userspace `st_dev`).
    pub file: Option<(u64, u64)>,
}

impl Listening {
    /// True if the socket serves its name: a listener, or a datagram socket (which
    /// receives without listening).
    pub fn is_live(&self) -> bool {
        self.state == LISTEN || self.kind == DGRAM
    }
}

/// Every listening Unix socket on the system (in our network namespace).
pub fn listening_sockets() -> io::Result<Vec<Listening>> {
    sockets(1 << TCP_LISTEN)
}

/// Every Unix socket in one of the `states` (a bit mask of `1 << state`).
fn sockets(states: u32) -> io::Result<Vec<Listening>> {
    let sock = rustix::net::socket_with(
        AddressFamily::NETLINK,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        Some(netlink::SOCK_DIAG),
    )?;
    let mut req = Vec::with_capacity(40);
    req.extend_from_slice(&40u32.to_ne_bytes()); // nlmsg_len
    req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req.extend_from_slice(&1u32.to_ne_bytes()); // seq
    req.extend_from_slice(&0u32.to_ne_bytes()); // pid
    req.extend_from_slice(&[AF_UNIX, 0, 0, 0]); // family, protocol, pad
    req.extend_from_slice(&states.to_ne_bytes()); // states
    req.extend_from_slice(&0u32.to_ne_bytes()); // ino
    req.extend_from_slice(&(UDIAG_SHOW_NAME | UDIAG_SHOW_VFS).to_ne_bytes());
    req.extend_from_slice(&[0xff; 8]); // cookie: none
    rustix::net::sendto(
        &sock,
        &req,
        SendFlags::empty(),
        &SocketAddrNetlink::new(0, 0),
    )?;

    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 << 10];
    loop {
        let (n, _) = rustix::net::recv(sock.as_fd(), &mut buf[..], RecvFlags::empty())?;
        if n == 0 {
            return Ok(out);
        }
        if parse_messages(&buf[..n], &mut out)? {
            return Ok(out);
        }
    }
}

/// Parses one datagram of replies; true when the dump is complete.
fn parse_messages(mut data: &[u8], out: &mut Vec<Listening>) -> io::Result<bool> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed sock_diag reply");
    while data.len() >= 16 {
        let len = u32_at(data, 0).ok_or_else(bad)? as usize;
        let kind = u16_at(data, 4).ok_or_else(bad)?;
        if len < 16 || len > data.len() {
            return Err(bad());
        }
        let body = &data[16..len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = u32_at(body, 0).map(|e| -(e as i32)).unwrap_or(0);
                return Err(io::Error::from_raw_os_error(errno));
            }
            SOCK_DIAG_BY_FAMILY => out.push(parse_socket(body).ok_or_else(bad)?),
            _ => {}
        }
        data = &data[align(len).min(data.len())..];
    }
    Ok(false)
}

fn parse_socket(body: &[u8]) -> Option<Listening> {
    let kind = *body.get(1)?;
    let state = *body.get(2)?;
    let socket_inode = u32_at(body, 4)?;
    let mut attrs = body.get(16..)?;
    let mut name = Vec::new();
    let mut file = None;
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0)?);
        let kind = u16_at(attrs, 2)?;
        if len < 4 || len > attrs.len() {
            return None;
        }
        let value = &attrs[4..len];
        match kind {
            UNIX_DIAG_NAME => {
                // Path names come NUL-terminated; abstract names start with a NUL.
                let end = match value.first() {
                    Some(0) => value.len(),
                    _ => value.iter().position(|&b| b == 0).unwrap_or(value.len()),
                };
                name = value[..end].to_vec();
            }
            UNIX_DIAG_VFS => {
                let ino = u64::from(u32_at(value, 0)?);
                let kdev = u32_at(value, 4)?;
                file = Some((user_dev(kdev), ino));
            }
            _ => {}
        }
        attrs = &attrs[align(len).min(attrs.len())..];
    }
    Some(Listening {
        socket_inode,
        kind,
        state,
        name,
        file,
    })
}

/// The kernel reports `s_dev` in its internal encoding (major << 20 | minor); `stat` gives
/// the userspace encoding.
fn user_dev(kdev: u32) -> u64 {
    let major = u64::from(kdev >> 20);
    let minor = u64::from(kdev & 0xfffff);
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// The listener bound to the socket file with this device and inode, if one is listening.
///
/// Matched on the inode alone, truncated to the 32 bits the kernel reports: the device
/// the kernel gives is the superblock's, which is not what `stat` says on btrfs (each
/// subvolume has its own `st_dev`). A false match (another filesystem's listening socket
/// with the same inode number) only makes a stale file look live, so it is refused, never
/// deleted; the device is kept to prefer an exact match for the holder's pid.
pub fn listener_on_file(dev: u64, ino: u64) -> io::Result<Option<Listening>> {
    let mut candidates: Vec<Listening> = listening_sockets()?
        .into_iter()
        .filter(|l| l.file.is_some_and(|(_, i)| i == u64::from(ino as u32)))
        .collect();
    let exact = candidates
        .iter()
        .position(|l| l.file.is_some_and(|(d, _)| d == dev));
    Ok(match exact {
        Some(i) => Some(candidates.swap_remove(i)),
        None => candidates.pop(),
    })
}

/// The listener on this abstract name, if one is listening.
pub fn listener_on_abstract(name: &str) -> io::Result<Option<Listening>> {
    Ok(listening_sockets()?
        .into_iter()
        .find(|l| l.name.first() == Some(&0) && &l.name[1..] == name.as_bytes()))
}

/// The sockets of any type and state bound to the socket file with this device and inode
/// (a live one first).
pub fn bound_to_file(dev: u64, ino: u64) -> io::Result<Vec<Listening>> {
    let mut found: Vec<Listening> = sockets(u32::MAX)?
        .into_iter()
        .filter(|l| l.file == Some((dev, ino)))
        .collect();
    found.sort_by_key(|l| !l.is_live());
    Ok(found)
}

/// The sockets of any type and state bound to this abstract name (a live one first).
pub fn bound_to_abstract(name: &str) -> io::Result<Vec<Listening>> {
    let mut found: Vec<Listening> = sockets(u32::MAX)?
        .into_iter()
        .filter(|l| l.name.first() == Some(&0) && &l.name[1..] == name.as_bytes())
        .collect();
    found.sort_by_key(|l| !l.is_live());
    Ok(found)
}

/// The process holding a socket open, found through `/proc/*/fd` (only processes we may
/// inspect: all of them as root, our own otherwise).
pub fn holder_pid(socket_inode: u32) -> Option<u32> {
    let target = format!("socket:[{socket_inode}]");
    let me = std::process::id();
    let mut found = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == target.as_str())
        });
        if holds {
            if pid != me {
                return Some(pid);
            }
            found = Some(pid);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::net::UnixListener;

    #[test]
    fn finds_a_listening_socket_file_and_its_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let l = UnixListener::bind(&path).expect("bind");
        let meta = std::fs::symlink_metadata(&path).expect("lstat");
        let found = listener_on_file(meta.dev(), meta.ino())
            .expect("sock_diag")
            .expect("our listener is listed");
        assert_eq!(found.name, path.as_os_str().as_encoded_bytes());
        assert_eq!(holder_pid(found.socket_inode), Some(std::process::id()));
        drop(l);
        assert_eq!(
            listener_on_file(meta.dev(), meta.ino()).expect("sock_diag"),
            None
        );
    }

    /// Regression (btrfs): `stat`'s device differs from the one the kernel reports, and a
    /// live listener must still be found, or its socket would be taken for stale.
    #[test]
    fn a_listener_is_found_whatever_device_stat_reports() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let _l = UnixListener::bind(&path).expect("bind");
        let meta = std::fs::symlink_metadata(&path).expect("lstat");
        let found = listener_on_file(meta.dev() ^ 0xdead, meta.ino()).expect("sock_diag");
        assert!(
            found.is_some(),
            "found by inode despite another device number"
        );
    }

    #[test]
    fn finds_an_abstract_listener() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("ipctool-diag-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).expect("addr");
        let l = UnixListener::bind_addr(&addr).expect("bind");
        assert!(listener_on_abstract(&name).expect("sock_diag").is_some());
        drop(l);
        assert!(listener_on_abstract(&name).expect("sock_diag").is_none());
    }

    #[test]
    fn a_bound_datagram_socket_is_live_and_typed() {
        use std::os::unix::net::UnixDatagram;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d");
        let d = UnixDatagram::bind(&path).expect("bind");
        let meta = std::fs::symlink_metadata(&path).expect("lstat");
        assert_eq!(
            listener_on_file(meta.dev(), meta.ino()).expect("diag"),
            None
        );
        let found = bound_to_file(meta.dev(), meta.ino()).expect("sock_diag");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].kind, found[0].is_live()), (DGRAM, true));
        drop(d);
        assert!(
            bound_to_file(meta.dev(), meta.ino())
                .expect("diag")
                .is_empty()
        );
    }

    #[test]
    fn user_dev_matches_stat_encoding() {
        // major 8, minor 1 (sda1): kernel 0x800001, userspace 0x801
        assert_eq!(user_dev((8 << 20) | 1), 0x801);
        // major 259, minor 300: the high minor bits move above the major
        assert_eq!(
            user_dev((259 << 20) | 300),
            (300 & 0xff) | (259 << 8) | ((300 & !0xff) << 12)
        );
    }
}
