//! `relay --intercept PATH`: put the relay in front of a live socket.
//!
//! The relay binds its socket at a hidden name beside the original (`DIR/.NAME.ipctool-
//! intercepted`, same mode), then swaps the two names in one `renameat2(RENAME_EXCHANGE)`:
//! PATH is the relay's socket and the hidden name the original's, with no moment where PATH
//! is missing. The relay forwards to the hidden name. On exit the names are swapped back
//! and the relay's socket removed. After a SIGKILL the next `--intercept PATH` finds the
//! hidden name and repairs it first (or says exactly what to do).

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use rustix::fs::{CWD, RenameFlags};

use super::Listener;
use super::local::LocalListener;
use super::sockfile::{self, describe};
use super::unix_diag;
use crate::addr::Address;
use crate::error::HintExt;
use crate::term::{Printer, escape};

/// Where the original socket waits while PATH is intercepted.
pub fn aside_of(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.ipctool-intercepted"))
}

fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    rustix::fs::renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn listener_pid(path: &Path) -> Option<Option<u32>> {
    let m = fs::symlink_metadata(path).ok()?;
    let l = unix_diag::listener_on_file(m.dev(), m.ino()).ok()??;
    Some(unix_diag::holder_pid(l.socket_inode))
}

/// An installed interception; puts everything back when dropped.
#[derive(Debug)]
pub struct Intercept {
    path: PathBuf,
    aside: PathBuf,
    /// The relay's socket file.
    ours: (u64, u64),
    /// The original socket file.
    original: (u64, u64),
}

impl Intercept {
    /// Moves the live socket at `path` aside and binds the relay in its place.
    pub fn install(path: &Path, printer: &Printer) -> Result<(Listener, Intercept)> {
        let shown = escape(&path.display().to_string());
        repair_leftover(path, printer)?;
        let meta = fs::symlink_metadata(path)
            .with_context(|| format!("cannot intercept {shown}"))
            .hint("--intercept needs the path of a live socket")?;
        if !meta.file_type().is_socket() {
            return Err(anyhow!(
                "cannot intercept {shown}: it is {}, not a socket",
                describe(&meta)
            ));
        }
        if listener_pid(path).is_none() {
            return Err(anyhow!("cannot intercept {shown}: nothing listens on it"))
                .hint("--intercept puts the relay in front of a running server; start it first");
        }
        let aside = aside_of(path);
        let addr = Address::Unix(path.to_owned());
        let mode = meta.permissions().mode() & 0o7777;
        let (listener, mut file) =
            sockfile::bind_path(&Address::Unix(aside.clone()), &aside, mode, printer)
                .with_context(|| format!("cannot intercept {shown}"))?;
        // Same owner as the original, where we may (root), so the same clients get in.
        let _ = rustix::fs::chownat(
            CWD,
            &aside,
            Some(rustix::fs::Uid::from_raw(meta.uid())),
            Some(rustix::fs::Gid::from_raw(meta.gid())),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        );
        let ours = identity(&aside)
            .ok_or_else(|| anyhow!("cannot intercept {shown}: the relay's socket vanished"))?;
        exchange(&aside, path).with_context(|| {
            format!("cannot intercept {shown}: swapping it with the relay's socket")
        })?;
        // From here the files are the Intercept's to put back.
        file.forget();
        let original = (meta.dev(), meta.ino());
        printer.event(format_args!(
            "intercepting {shown}: the original now waits at {}",
            escape(&aside.display().to_string())
        ));
        Ok((
            Listener::Local(LocalListener::from_parts(listener, addr)),
            Intercept {
                path: path.to_owned(),
                aside,
                ours,
                original,
            },
        ))
    }

    /// The address the original server is reachable at meanwhile.
    pub fn original(&self) -> Address {
        Address::Unix(self.aside.clone())
    }

    /// Puts the original back at PATH and removes the relay's socket.
    pub fn restore(&self) -> io::Result<()> {
        let at_path = identity(&self.path);
        let at_aside = identity(&self.aside);
        match (at_path, at_aside) {
            (Some(p), Some(a)) if p == self.ours && a == self.original => {
                exchange(&self.aside, &self.path)?;
                if identity(&self.aside) == Some(self.ours) {
                    fs::remove_file(&self.aside)?;
                }
                Ok(())
            }
            // The relay's socket was removed (a server that deletes its path at exit
            // deleted ours): put the original file back.
            (None, Some(a)) if a == self.original => fs::rename(&self.aside, &self.path),
            _ => Err(io::Error::other(format!(
                "{} or {} changed while intercepted; nothing was moved",
                self.path.display(),
                self.aside.display()
            ))),
        }
    }
}

impl Drop for Intercept {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}

/// Repairs what a relay killed while intercepting left behind, or explains it.
fn repair_leftover(path: &Path, printer: &Printer) -> Result<()> {
    let aside = aside_of(path);
    let Ok(aside_meta) = fs::symlink_metadata(&aside) else {
        return Ok(());
    };
    let (shown, shown_aside) = (
        escape(&path.display().to_string()),
        escape(&aside.display().to_string()),
    );
    if !aside_meta.file_type().is_socket() {
        return Err(anyhow!(
            "cannot intercept {shown}: {shown_aside} exists and is {}",
            describe(&aside_meta)
        ))
        .hint("it is not ipctool's: move it away, then run this again");
    }
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::rename(&aside, path).with_context(|| format!("cannot repair {shown}"))?;
        }
        Ok(m) if m.file_type().is_socket() => {
            if let Some(pid) = listener_pid(path) {
                let holder = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
                return Err(anyhow!(
                    "cannot intercept {shown}: it is already intercepted by a running relay{holder}"
                ))
                .hint("stop that relay first; it puts the original back when it exits");
            }
            // PATH is the stale socket of a relay that was killed: swap back, remove it.
            let stale = (m.dev(), m.ino());
            exchange(&aside, path).with_context(|| format!("cannot repair {shown}"))?;
            if identity(&aside) == Some(stale) {
                fs::remove_file(&aside).with_context(|| format!("cannot repair {shown}"))?;
            }
        }
        Ok(m) => {
            return Err(anyhow!(
                "cannot intercept {shown}: it is {} and {shown_aside} holds the original socket",
                describe(&m)
            ))
            .hint(format!("move {shown} away, then: mv {shown_aside} {shown}"));
        }
        Err(e) => return Err(anyhow!(e).context(format!("cannot intercept {shown}"))),
    }
    printer.warn(format_args!(
        "repaired the leftover of an earlier --intercept: {shown} is the original socket again"
    ));
    Ok(())
}
