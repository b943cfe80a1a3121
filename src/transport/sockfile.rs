//! Socket and FIFO files that are safe by construction.
//!
//! - A socket file is created with exactly the requested mode: the mode is set on the socket
//!   before bind(2) and the umask is cleared around it, so the file is never wider.
//! - An existing path is inspected with lstat (never followed): a stale socket (no listener
//!   bound to that very file) is reclaimed; a live one is refused, naming its holder; anything
//!   that is not a socket is refused and left untouched.
//! - An [`OwnedPath`] removes the file at exit only if the path still holds the file we
//!   created (same device and inode): a successor's socket is never removed.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use interprocess::local_socket::{GenericFilePath, ListenerOptions, prelude::*};
use interprocess::os::unix::local_socket::ListenerOptionsExt;

use crate::addr::Address;
use crate::error::{HintExt, hinted};
use crate::term::{Printer, escape};
use crate::transport::unix_diag;

/// A file ipctool created, removed on drop if it is still that file.
#[derive(Debug)]
pub struct OwnedPath {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl OwnedPath {
    /// Records the file now at `path` (lstat) as ours.
    pub fn record(path: &Path) -> io::Result<OwnedPath> {
        let meta = fs::symlink_metadata(path)?;
        Ok(OwnedPath {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Gives up the file: it will not be removed on drop.
    pub fn forget(&mut self) {
        self.path = PathBuf::new();
    }

    /// True while the path still holds the file we created.
    pub fn is_ours(&self) -> bool {
        !self.path.as_os_str().is_empty()
            && fs::symlink_metadata(&self.path)
                .is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino)
    }
}

impl Drop for OwnedPath {
    fn drop(&mut self) {
        if self.is_ours() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// What lstat found at a path, in words: "a regular file", "a directory" …
pub fn describe(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Runs `f` with the umask cleared, so that modes we set are exactly the modes we get.
pub fn with_umask_cleared<T>(f: impl FnOnce() -> T) -> T {
    let old = rustix::process::umask(rustix::fs::Mode::empty());
    let out = f();
    rustix::process::umask(old);
    out
}

/// Binds a Unix stream socket on a filesystem path with exactly `mode`, reclaiming a stale
/// socket file and refusing anything else that is there.
pub fn bind_path(
    addr: &Address,
    path: &Path,
    mode: u32,
    printer: &Printer,
) -> Result<(interprocess::local_socket::Listener, OwnedPath)> {
    bind_file(addr, path, printer, || {
        let name = path.to_fs_name::<GenericFilePath>()?;
        ListenerOptions::new()
            .name(name)
            .reclaim_name(false)
            .mode(mode as libc::mode_t)
            .create_sync()
    })
}

/// Binds a socket of any type on a filesystem path: `bind` creates and binds it (it runs
/// with the umask cleared, so a mode set on the socket before bind(2) is the file's mode
/// exactly). A stale socket file is reclaimed once; anything else at the path is refused.
pub fn bind_file<T>(
    addr: &Address,
    path: &Path,
    printer: &Printer,
    bind: impl Fn() -> io::Result<T>,
) -> Result<(T, OwnedPath)> {
    let shown = escape(&addr.to_string());
    let mut reclaimed = false;
    loop {
        match with_umask_cleared(&bind) {
            Ok(l) => {
                let owned = OwnedPath::record(path)
                    .with_context(|| format!("cannot listen on {shown}: lstat after bind"))?;
                return Ok((l, owned));
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && !reclaimed => {
                reclaim_stale(&shown, path, printer)?;
                reclaimed = true;
            }
            Err(e) => {
                return Err(create_error(
                    e,
                    path,
                    "socket",
                    format!("cannot listen on {shown}"),
                ));
            }
        }
    }
}

/// Removes a stale socket file at `path`, or explains why the path cannot be used.
fn reclaim_stale(shown: &str, path: &Path, printer: &Printer) -> Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        // It went away between bind and lstat: just bind again.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(anyhow!(e).context(format!("cannot listen on {shown}"))),
    };
    if !meta.file_type().is_socket() {
        return Err(anyhow!(
            "cannot listen on {shown}: the path exists and is {}, not a socket",
            describe(&meta)
        ))
        .hint("ipctool never replaces a file that is not a socket: remove it yourself or choose another path");
    }
    match live_holder(meta.dev(), meta.ino(), path) {
        Liveness::Live { pid, what } => {
            let holder = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            Err(anyhow!(
                "cannot listen on {shown}: in use by {what}{holder}"
            ))
            .hint(format!(
                "{what}{holder} holds this path: stop it or choose another path"
            ))
        }
        Liveness::Stale => {
            // Remove only the file we inspected: if it was replaced meanwhile, leave it.
            let again = fs::symlink_metadata(path)?;
            if again.dev() == meta.dev() && again.ino() == meta.ino() {
                fs::remove_file(path)
                    .with_context(|| format!("cannot reclaim the stale socket file {shown}"))?;
                printer.event(format_args!("reclaimed stale socket file {shown}"));
            }
            Ok(())
        }
    }
}

enum Liveness {
    /// Something serves the file: `what` says what ("a live listener").
    Live {
        pid: Option<u32>,
        what: &'static str,
    },
    Stale,
}

/// Is a socket serving this socket file: a listener, or a bound datagram socket? Asked of
/// the kernel (sock_diag) so the live server is not disturbed; where sock_diag is
/// unavailable, by connecting (a datagram probe sends nothing).
fn live_holder(dev: u64, ino: u64, path: &Path) -> Liveness {
    use std::os::unix::net::{UnixDatagram, UnixStream};
    match unix_diag::bound_to_file(dev, ino) {
        Ok(found) => match found.into_iter().find(unix_diag::Listening::is_live) {
            Some(l) => Liveness::Live {
                pid: unix_diag::holder_pid(l.socket_inode),
                what: if l.kind == unix_diag::DGRAM {
                    "a live datagram socket"
                } else {
                    "a live listener"
                },
            },
            None => Liveness::Stale,
        },
        Err(_) => match UnixStream::connect(path) {
            Ok(s) => Liveness::Live {
                pid: super::PeerCreds::of_socket(std::os::fd::AsFd::as_fd(&s)).pid,
                what: "a live listener",
            },
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Liveness::Stale,
            // EPROTOTYPE: not a stream socket; a datagram one is live if it takes a connect.
            Err(_) => match UnixDatagram::unbound().and_then(|d| d.connect(path)) {
                Ok(()) => Liveness::Live {
                    pid: None,
                    what: "a live datagram socket",
                },
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Liveness::Stale,
                Err(_) => Liveness::Live {
                    pid: None,
                    what: "a live listener",
                },
            },
        },
    }
}

/// The error for a failure `e` to create a `what` (socket, FIFO) at `path`, under
/// `context`, with a hint where one helps.
pub fn create_error(e: io::Error, path: &Path, what: &str, context: String) -> anyhow::Error {
    let hint = create_hint(parent_dir(path), what, &e);
    let err = anyhow!(e).context(context);
    match hint {
        Some(h) => hinted(err, h),
        None => err,
    }
}

/// The directory `path` is created in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A hint for the failure `e` to create a `what` (socket, FIFO) in `dir`. The errno alone
/// misleads: ENOENT also comes from a directory that exists on a filesystem that holds no
/// such files (/proc), EPERM from one that refuses them (/sys).
fn create_hint(dir: &Path, what: &str, e: &io::Error) -> Option<String> {
    const ELSEWHERE: &str = "use a path in a writable directory such as $XDG_RUNTIME_DIR or /tmp";
    let shown = escape(&dir.display().to_string());
    match e.raw_os_error()? {
        libc::ENOENT => match fs::metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Some(format!("the directory {shown} does not exist"))
            }
            Ok(m) if m.is_dir() => Some(format!(
                "the directory {shown} exists, but its filesystem does not allow creating a {what} in it: {ELSEWHERE}"
            )),
            _ => None,
        },
        libc::EPERM => Some(format!(
            "the directory {shown} does not allow creating a {what} (its filesystem or its attributes forbid it): {ELSEWHERE}"
        )),
        libc::EROFS => Some(format!(
            "the directory {shown} is on a read-only filesystem: {ELSEWHERE}"
        )),
        libc::EACCES => Some(format!(
            "you may not create files in {shown} (ls -ld {shown})"
        )),
        _ => None,
    }
}

/// A listener on an abstract name, or why it cannot be had.
pub fn bind_abstract(shown: &str, name: &str) -> Result<interprocess::local_socket::Listener> {
    use interprocess::local_socket::GenericNamespaced;
    let listener = name
        .to_ns_name::<GenericNamespaced>()
        .and_then(|n| ListenerOptions::new().name(n).create_sync());
    match listener {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            let pid = unix_diag::listener_on_abstract(name)
                .ok()
                .flatten()
                .and_then(|l| unix_diag::holder_pid(l.socket_inode));
            let holder = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            Err(anyhow!("cannot listen on {shown}: in use{holder}")).hint(format!(
                "another process{holder} holds this abstract name: stop it or choose another name"
            ))
        }
        Err(e) => Err(anyhow!(e).context(format!("cannot listen on {shown}"))),
    }
}
