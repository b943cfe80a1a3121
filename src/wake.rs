//! A self-pipe that wakes a `poll` loop: from another thread, or from a signal handler
//! (signal-hook writes to a duplicate of the write end).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;
use rustix::pipe::PipeFlags;

/// Both ends of a non-blocking, close-on-exec pipe.
#[derive(Debug)]
pub struct Waker {
    rx: OwnedFd,
    tx: OwnedFd,
}

impl Waker {
    pub fn new() -> io::Result<Waker> {
        let (rx, tx) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        Ok(Waker { rx, tx })
    }

    /// Wakes the loop. Never blocks: a full pipe already means "wake up".
    pub fn wake(&self) {
        let _ = rustix::io::write(&self.tx, &[1]);
    }

    /// A duplicate of the write end, for another owner (a signal handler, a thread).
    pub fn sender(&self) -> io::Result<WakeSender> {
        Ok(WakeSender(self.tx.try_clone()?))
    }

    /// The read end, to put in a `poll` set.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.rx.as_fd()
    }

    /// Empties the pipe after a wake-up.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        loop {
            match rustix::io::read(&self.rx, &mut buf) {
                Ok(n) if n == buf.len() => continue,
                Err(Errno::INTR) => continue,
                _ => return,
            }
        }
    }
}

/// A handle that wakes a [`Waker`] from elsewhere.
#[derive(Debug)]
pub struct WakeSender(OwnedFd);

impl WakeSender {
    pub fn wake(&self) {
        let _ = rustix::io::write(&self.0, &[1]);
    }

    pub fn try_clone(&self) -> io::Result<WakeSender> {
        Ok(WakeSender(self.0.try_clone()?))
    }

    /// Gives the descriptor away (to signal-hook).
    pub fn into_fd(self) -> OwnedFd {
        self.0
    }
}
