//! Our standard descriptors as ipctool was started, and writing data to stdout so that
//! every failure is seen.
//!
//! Rust's runtime reopens a closed fd 0, 1 or 2 on /dev/null (read-write) before `main`, so
//! that a file opened later cannot take its number. From then on `ipctool … >&-` looks like
//! `>/dev/null`: the data would vanish and ipctool would exit 0. `main.rs` registers
//! [`note_closed_at_start`] as a constructor, which the loader runs before Rust's runtime:
//! it only records which of the three were closed. [`seal_closed_stdout`] then points a
//! closed stdout at /dev/null opened *read-only*, so a write that a command did not refuse
//! up front ([`require_stdout`]) fails with EBADF, as on the closed descriptor, instead of
//! vanishing. A closed stdin reads as empty (the runtime's /dev/null), and a closed stderr
//! discards the diagnostics; the exit status still tells.
//!
//! `std::io::Stdout` ignores EBADF (a write to a closed or read-only stdout "succeeds"), so
//! results never go through it: [`print_data`] writes fd 1 directly and reports every
//! error.

use std::io;
use std::sync::atomic::{AtomicU8, Ordering};

use anyhow::anyhow;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::error::{StdoutGone, hinted};

/// Bit `n` set: fd `n` was closed when ipctool started.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);

/// Records which of fds 0, 1 and 2 are closed. Meant to run before Rust's runtime (an
/// `.init_array` constructor in `main.rs`); later calls see the runtime's /dev/null.
#[allow(unsafe_code)]
pub extern "C" fn note_closed_at_start() {
    for fd in 0..3 {
        // SAFETY: fcntl(F_GETFD) takes no third argument and only looks the number up in
        // the descriptor table; it touches no memory of ours. No safe wrapper exists for a
        // descriptor that may be closed (a `BorrowedFd` promises it is open).
        let closed = unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
        if closed {
            CLOSED_AT_START.fetch_or(1 << fd, Ordering::Relaxed);
        }
    }
}

/// True when ipctool was started with its stdout closed (`>&-`).
pub fn stdout_was_closed() -> bool {
    CLOSED_AT_START.load(Ordering::Relaxed) & 0b10 != 0
}

/// When stdout was closed at start, replaces the runtime's read-write /dev/null on fd 1 by
/// a read-only one: every write to it then fails (EBADF) as it would have on the closed
/// descriptor, whichever path the write takes (splice, a child's inherited stdout).
pub fn seal_closed_stdout() -> io::Result<()> {
    if !stdout_was_closed() {
        return Ok(());
    }
    let null = rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    rustix::stdio::dup2_stdout(&null)?;
    Ok(())
}

/// Refuses to start when stdout was closed at start and `what` (e.g. "the data") would
/// go there: it would be lost. Nothing has moved yet when this fails.
pub fn require_stdout(what: &str, hint: &str) -> anyhow::Result<()> {
    if stdout_was_closed() {
        return Err(hinted(
            anyhow!("stdout is closed: {what} would be lost"),
            hint,
        ));
    }
    Ok(())
}

/// Writes all of `bytes` to fd 1, retrying short writes and EINTR; unlike
/// `std::io::Stdout`, a closed or read-only stdout is an error (EBADF).
pub fn write_stdout(mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(rustix::stdio::stdout(), bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Writes `bytes` (named `what` in the message, e.g. "the results") to stdout. A reader
/// that went away (`| head`) is [`StdoutGone`]; any other failure is an error naming
/// stdout.
pub fn print_data(bytes: &[u8], what: &str) -> anyhow::Result<()> {
    write_stdout(bytes).map_err(|e| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            anyhow::Error::new(StdoutGone)
        } else if stdout_was_closed() {
            anyhow!("cannot write {what} to stdout: it is closed")
        } else {
            anyhow!(e).context(format!("cannot write {what} to stdout"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_closed_unless_noted() {
        // The test binary has no constructor: nothing is recorded, nothing is refused.
        assert!(!stdout_was_closed());
        assert!(require_stdout("the data", "").is_ok());
        assert!(seal_closed_stdout().is_ok());
    }
}
