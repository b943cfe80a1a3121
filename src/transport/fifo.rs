//! FIFOs (named pipes): `listen fifo:PATH` reads what writers send; `connect fifo:PATH`
//! writes into one.
//!
//! Opening a FIFO blocks until the other side opens it, which no signal can interrupt
//! cleanly; so both sides open it non-blocking and wait in `poll` (reader) or retry
//! (writer), then switch the descriptor back to blocking for the copy.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{Context, Result, anyhow};

use super::sockfile::{OwnedPath, create_error, describe, with_umask_cleared};
use super::{CloseHow, Conn, DialOpts, Input, Output, retry};
use crate::addr::Address;
use crate::error::HintExt;
use crate::signals::Signals;
use crate::term::escape;

/// A FIFO being read.
#[derive(Debug)]
pub struct FifoServer {
    address: Address,
    read: OwnedFd,
    /// With `-k`, our own write end: the FIFO never reports EOF between writers, and the
    /// reader blocks instead of spinning.
    hold: Option<OwnedFd>,
    _created: Option<OwnedPath>,
}

impl FifoServer {
    /// Opens the FIFO at `path` for reading, creating it (exactly `opts.mode`) if missing.
    pub fn bind(addr: &Address, path: &Path, opts: &super::BindOpts) -> Result<FifoServer> {
        let shown = escape(&addr.to_string());
        let created = match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // mkfifo(3) never follows a symlink: a dangling one makes it fail (EEXIST).
                with_umask_cleared(|| {
                    interprocess::os::unix::fifo_file::create_fifo(path, opts.mode as libc::mode_t)
                })
                .map_err(|e| {
                    create_error(e, path, "FIFO", format!("cannot create the FIFO {shown}"))
                })?;
                Some(OwnedPath::record(path)?)
            }
            Err(e) => return Err(anyhow!(e).context(format!("cannot open {shown}"))),
            Ok(meta) if meta.file_type().is_fifo() => None,
            // A symlink to an existing FIFO is opened (not created) like any FIFO.
            Ok(meta) if fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) => {
                let _ = meta;
                None
            }
            Ok(meta) => {
                return Err(anyhow!(
                    "cannot listen on {shown}: the path exists and is {}, not a FIFO",
                    describe(&meta)
                ))
                .hint("ipctool never replaces a file that is not a FIFO: remove it or choose another path");
            }
        };
        let read = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .with_context(|| format!("cannot open {shown} for reading"))?;
        let read = OwnedFd::from(read);
        let hold = if opts.keep_open {
            let w = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .with_context(|| format!("cannot open {shown}"))?;
            Some(OwnedFd::from(w))
        } else {
            None
        };
        Ok(FifoServer {
            address: addr.clone(),
            read,
            hold,
            _created: created,
        })
    }

    /// Closes our descriptors, keeping the guard of a FIFO we created.
    pub fn into_file(self) -> Option<OwnedPath> {
        self._created
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Readable once a writer has sent data (or come and gone).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// The FIFO's stream of writers as one connection.
    pub fn accept(&self) -> io::Result<Conn> {
        set_blocking(self.read.as_fd())?;
        let mut conn = Conn::halves(Some(Input::new(self.read.try_clone()?)), None);
        if let Some(hold) = &self.hold {
            conn.keep(hold.try_clone()?);
        }
        Ok(conn)
    }
}

fn set_blocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags - rustix::fs::OFlags::NONBLOCK)?;
    Ok(())
}

/// Opens a FIFO for writing, waiting for a reader as a shell redirection does. A missing
/// FIFO is an error unless `--wait` is given; a path that is not a FIFO is never written.
pub fn open_writer(
    addr: &Address,
    path: &Path,
    opts: &DialOpts,
    signals: &Signals,
) -> Result<Conn> {
    let shown = escape(&addr.to_string());
    let mut attempts = 0u32;
    let file = retry::until_ready(addr, opts.wait, signals, |_| {
        attempts += 1;
        match OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => Ok(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(retry::Failure::NotYet {
                found: "no such file".into(),
            }),
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                // ENXIO is also what opening a socket file gives: only a FIFO waits.
                if let Ok(meta) = fs::metadata(path)
                    && !meta.file_type().is_fifo()
                {
                    return Err(retry::Failure::Fatal(anyhow!(
                        "could not connect to {shown}: it is {}, not a FIFO",
                        describe(&meta)
                    )));
                }
                if opts.wait.is_none() {
                    // No --wait: block until a reader comes, like `> fifo` in a shell, but
                    // in small sleeps so that Ctrl-C still works.
                    std::thread::sleep(std::time::Duration::from_millis(attempts.min(20) as u64));
                    return Err(retry::Failure::Again);
                }
                Err(retry::Failure::NotYet {
                    found: "a FIFO with no reader".into(),
                })
            }
            Err(e) => Err(retry::Failure::Fatal(
                anyhow!(e).context(format!("could not open {shown} for writing")),
            )),
        }
    })?;
    check_fifo(&file, &shown)?;
    set_blocking(file.as_fd())?;
    Ok(Conn::halves(
        None,
        Some(Output::new(OwnedFd::from(file), CloseHow::Close)),
    ))
}

fn check_fifo(file: &File, shown: &str) -> Result<()> {
    let meta = file.metadata()?;
    if meta.file_type().is_fifo() {
        return Ok(());
    }
    Err(anyhow!(
        "could not connect to {shown}: it is {}, not a FIFO",
        describe(&meta)
    ))
}
