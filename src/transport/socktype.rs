//! Which type of Unix socket is at an address, and the errors for the wrong one: a stream
//! socket named as `unix-dgram:` or `seqpacket:`, or the reverse, is refused with what is
//! there and the address that reaches it (connect(2) says EPROTOTYPE for a path; abstract
//! names are separate per type, so there it only says "refused").

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use anyhow::anyhow;
use rustix::io::Errno;

use super::msgsock::MsgType;
use super::retry::Failure;
use super::{sockfile, unix_diag};
use crate::addr::{Address, SocketName};
use crate::error::hinted;
use crate::term::escape;

/// The socket type of what is bound at a path or abstract name, if it differs from
/// `want` (a `unix_diag` kind).
pub fn other_type_at(addr: &Address, want: u8) -> Option<u8> {
    let found = match addr {
        Address::Unix(p)
        | Address::UnixDgram(SocketName::Path(p))
        | Address::Seqpacket(SocketName::Path(p)) => {
            let meta = std::fs::symlink_metadata(p).ok()?;
            if !meta.file_type().is_socket() {
                return None;
            }
            unix_diag::bound_to_file(meta.dev(), meta.ino()).ok()?
        }
        Address::Abstract(n)
        | Address::UnixDgram(SocketName::Abstract(n))
        | Address::Seqpacket(SocketName::Abstract(n)) => unix_diag::bound_to_abstract(n).ok()?,
        _ => return None,
    };
    if found.iter().any(|l| l.kind == want) {
        return None;
    }
    found.into_iter().find(|l| l.is_live()).map(|l| l.kind)
}

/// The error for an address that names a socket of another type (`found`, a `unix_diag`
/// kind, if the kernel said which), with the address that reaches it.
pub fn wrong_type(addr: &Address, found: Option<u8>) -> anyhow::Error {
    let (want, name) = match addr {
        Address::Unix(p) => ("stream", SocketName::Path(p.clone())),
        Address::Abstract(n) => ("stream", SocketName::Abstract(n.clone())),
        Address::UnixDgram(n) => ("datagram", n.clone()),
        Address::Seqpacket(n) => ("seqpacket", n.clone()),
        _ => ("stream", SocketName::Abstract(String::new())),
    };
    let stream = |name: SocketName| match name {
        SocketName::Path(p) => Address::Unix(p),
        SocketName::Abstract(n) => Address::Abstract(n),
    };
    let shown = escape(&addr.to_string());
    let (word, right) = match found {
        Some(unix_diag::DGRAM) => ("datagram", Address::UnixDgram(name)),
        Some(unix_diag::SEQPACKET) => ("seqpacket", Address::Seqpacket(name)),
        Some(_) => ("stream", stream(name)),
        None => {
            let forms = [
                stream(name.clone()),
                Address::UnixDgram(name.clone()),
                Address::Seqpacket(name),
            ];
            let others: Vec<String> = forms
                .iter()
                .filter(|a| std::mem::discriminant(*a) != std::mem::discriminant(addr))
                .map(|a| escape(&a.to_string()))
                .collect();
            return hinted(
                anyhow!("could not connect to {shown}: it is not a {want} socket"),
                format!("address it as {}", others.join(" or ")),
            );
        }
    };
    hinted(
        anyhow!("could not connect to {shown}: it is a {word} socket, not a {want} socket"),
        format!("address it as {}", escape(&right.to_string())),
    )
}

/// Sorts a failed connect(2) to a message address into "try again later" (under `--wait`)
/// or "give up", saying what was found.
pub fn classify_connect(addr: &Address, t: MsgType, e: io::Error) -> Failure {
    let shown = escape(&addr.to_string());
    let wrong = |found: Option<u8>| Failure::Fatal(wrong_type(addr, found));
    match e.raw_os_error().map(Errno::from_raw_os_error) {
        Some(Errno::NOENT) => Failure::NotYet {
            found: "no such file".into(),
        },
        Some(Errno::PROTOTYPE) => wrong(other_type_at(addr, t.diag_kind())),
        Some(Errno::CONNREFUSED) => {
            if let Some(p) = addr.socket_path()
                && let Ok(meta) = std::fs::symlink_metadata(p)
                && !meta.file_type().is_socket()
            {
                return Failure::Fatal(anyhow!(
                    "could not connect to {shown}: it is {}, not a socket",
                    sockfile::describe(&meta)
                ));
            }
            if let Some(kind) = other_type_at(addr, t.diag_kind()) {
                return wrong(Some(kind));
            }
            Failure::NotYet {
                found: match addr.socket_path() {
                    Some(_) => "a socket file with nothing bound to it (connection refused)",
                    None => "nothing bound to that name (connection refused)",
                }
                .into(),
            }
        }
        Some(Errno::AGAIN) => Failure::NotYet {
            found: "a listener whose backlog stayed full".into(),
        },
        // A bounded connect (SO_SNDTIMEO) is not restarted after a signal: try again.
        Some(Errno::INTR) => Failure::Again,
        _ => Failure::Fatal(anyhow!(e).context(format!("could not connect to {shown}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_type_found_and_the_address_to_use() {
        let at = |s: &str| s.parse::<Address>().expect("address");
        let rows = [
            (
                at("unix-dgram:/run/s"),
                Some(unix_diag::STREAM),
                "it is a stream socket, not a datagram socket",
                "address it as unix:/run/s",
            ),
            (
                at("/run/d"),
                Some(unix_diag::DGRAM),
                "it is a datagram socket, not a stream socket",
                "address it as unix-dgram:/run/d",
            ),
            (
                at("unix-dgram:@n"),
                Some(unix_diag::SEQPACKET),
                "it is a seqpacket socket, not a datagram socket",
                "address it as seqpacket:@n",
            ),
            (
                at("seqpacket:/run/x"),
                None,
                "it is not a seqpacket socket",
                "address it as unix:/run/x or unix-dgram:/run/x",
            ),
        ];
        for (addr, found, what, hint) in rows {
            let e = wrong_type(&addr, found);
            assert!(format!("{e:#}").contains(what), "{addr}: {e:#}");
            assert_eq!(crate::error::hint_of(&e).as_deref(), Some(hint), "{addr}");
        }
    }
}
