//! The two halves of every connection: an [`Input`] we read from and an [`Output`] we write
//! to, each owning a file descriptor, with an explicit [`Output::close_write`] (half-close).
//!
//! Sockets are shut down for writing (the peer reads EOF and can still answer); pipes and
//! FIFOs are closed; our own stdout is shut down or closed *and* replaced by /dev/null, so the
//! reader of our stdout sees EOF even though fd 1 stays open.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::FileType;
use rustix::io::Errno;

use super::framing::{MsgReader, MsgWriter};

/// What a descriptor is, which decides how bytes can move through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdKind {
    /// A pipe or FIFO: splice(2) can move pages in and out.
    Pipe,
    /// A socket.
    Socket,
    /// A message-oriented socket (`unix-dgram:`, `seqpacket:`) behind a message framing:
    /// never spliced, never split.
    Message,
    /// A regular file.
    File,
    /// A terminal.
    Tty,
    /// A character device other than a terminal (/dev/null, /dev/zero).
    CharDev,
    /// Anything else.
    Other,
}

impl FdKind {
    /// True for sockets of any kind (they can be shut down, and they report hang-ups).
    pub fn is_socket(self) -> bool {
        matches!(self, FdKind::Socket | FdKind::Message)
    }

    /// Looks at a descriptor.
    pub fn of(fd: BorrowedFd<'_>) -> FdKind {
        let Ok(st) = rustix::fs::fstat(fd) else {
            return FdKind::Other;
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Fifo => FdKind::Pipe,
            FileType::Socket => FdKind::Socket,
            FileType::RegularFile => FdKind::File,
            FileType::CharacterDevice if rustix::termios::isatty(fd) => FdKind::Tty,
            FileType::CharacterDevice => FdKind::CharDev,
            _ => FdKind::Other,
        }
    }
}

/// The readable half of a connection.
#[derive(Debug)]
pub struct Input {
    fd: OwnedFd,
    kind: FdKind,
    /// Turns a message socket's messages into bytes.
    msg: Option<Box<MsgReader>>,
}

impl Input {
    pub fn new(fd: OwnedFd) -> Input {
        let kind = FdKind::of(fd.as_fd());
        Input {
            fd,
            kind,
            msg: None,
        }
    }

    /// The readable half of a message socket, read through `reader`.
    pub fn message(fd: OwnedFd, reader: MsgReader) -> Input {
        Input {
            fd,
            kind: FdKind::Message,
            msg: Some(Box::new(reader)),
        }
    }

    pub fn kind(&self) -> FdKind {
        self.kind
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// One `read(2)`, retried on EINTR (a message socket: see [`MsgReader::read`]).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(m) = &mut self.msg {
            return m.read(self.fd.as_fd(), buf);
        }
        loop {
            match rustix::io::read(&self.fd, &mut *buf) {
                Err(Errno::INTR) => continue,
                other => return other.map_err(io::Error::from),
            }
        }
    }
}

/// How an [`Output`] signals end of data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseHow {
    /// `shutdown(SHUT_WR)`: the socket stays readable.
    Shutdown,
    /// Close the descriptor (pipes, FIFOs, files).
    Close,
    /// Our stdout: shut down or close, then point fd 1 at /dev/null.
    Stdout,
}

/// The writable half of a connection.
#[derive(Debug)]
pub struct Output {
    fd: Option<OwnedFd>,
    kind: FdKind,
    how: CloseHow,
    /// Turns bytes into a message socket's messages.
    msg: Option<Box<MsgWriter>>,
}

impl Output {
    pub fn new(fd: OwnedFd, how: CloseHow) -> Output {
        let kind = FdKind::of(fd.as_fd());
        Output {
            fd: Some(fd),
            kind,
            how,
            msg: None,
        }
    }

    /// The writable half of a message socket, written through `writer` (which also decides
    /// what closing it does).
    pub fn message(fd: OwnedFd, writer: MsgWriter) -> Output {
        Output {
            fd: Some(fd),
            kind: FdKind::Message,
            how: CloseHow::Close,
            msg: Some(Box::new(writer)),
        }
    }

    pub fn kind(&self) -> FdKind {
        self.kind
    }

    pub fn close_how(&self) -> CloseHow {
        self.how
    }

    /// The descriptor, until the half is closed.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }

    /// One `write(2)`, retried on EINTR (a message socket: see [`MsgWriter::write`]).
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let fd = self.fd.as_ref().ok_or_else(closed)?;
        if let Some(m) = &mut self.msg {
            return m.write(fd.as_fd(), buf);
        }
        loop {
            match rustix::io::write(fd, buf) {
                Err(Errno::INTR) => continue,
                other => return other.map_err(io::Error::from),
            }
        }
    }

    /// Signals end of data to the reader on the other side. Idempotent.
    pub fn close_write(&mut self) -> io::Result<()> {
        let Some(fd) = self.fd.take() else {
            return Ok(());
        };
        if let Some(m) = &mut self.msg {
            m.finish(fd.as_fd())?;
        }
        let shut = |fd: &OwnedFd| match rustix::net::shutdown(fd, rustix::net::Shutdown::Write) {
            // The peer is already gone: nothing left to tell it.
            Ok(()) | Err(Errno::NOTCONN) => Ok(()),
            Err(e) => Err(io::Error::from(e)),
        };
        match self.how {
            CloseHow::Shutdown => shut(&fd),
            CloseHow::Close => Ok(()),
            CloseHow::Stdout => {
                if self.kind == FdKind::Socket {
                    shut(&fd)?;
                }
                drop(fd);
                let null = File::options().write(true).open("/dev/null")?;
                rustix::stdio::dup2_stdout(&null)?;
                Ok(())
            }
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "this half is already closed")
}
