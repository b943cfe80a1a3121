//! The stages of `pipe`: `sh -c CMD` processes joined by unnamed pipes that ipctool owns.
//!
//! The pipes come from `std::io::pipe()`, which makes both ends close-on-exec: a stage
//! inherits exactly its stdin and stdout (dup2 onto 0 and 1 clears the flag on those) and no
//! other pipe end, so every stage sees EOF as soon as the hop feeding it closes.
//! (interprocess's unnamed pipes are not close-on-exec: see the notes.) Stages come from
//! [`super::shell_command`]: default signal dispositions, an empty mask, and no descriptor
//! ipctool inherited; stderr is ipctool's.
//!
//! Process groups: with a controlling terminal, stages stay in ipctool's group, as in a
//! shell pipeline, so Ctrl-C reaches every process of every stage, job control (Ctrl-Z,
//! `fg`) moves them together, and a stage may read the terminal. Without one (scripts,
//! services, CI), each stage gets its own group, so that a signal passed on to a stage
//! reaches what its `sh` started too (`sh -c 'sleep 30'` waits for `sleep`, which must get
//! the signal).

use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ExitStatus, Stdio};

use rustix::process::{Pid, Signal};

/// Largest pipe buffer ipctool asks for. Past 1 MiB a hop is no faster (each splice already
/// moves a whole buffer per wake-up) and the kernel memory pinned per pipe only grows.
pub const PIPE_TARGET: usize = 1 << 20;

/// The pipe size to ask for: [`PIPE_TARGET`], or less where the system allows less to an
/// unprivileged process (`/proc/sys/fs/pipe-max-size`; root is not held to it, but we are
/// no greedier as root).
pub fn pipe_target() -> usize {
    let max = fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(PIPE_TARGET);
    max.min(PIPE_TARGET)
}

/// Grows the pipe behind `fd` to `want` bytes if it is smaller; returns its capacity after.
/// Failing to grow is not an error: the pipe works at its old size.
pub fn grow_pipe(fd: BorrowedFd<'_>, want: usize) -> usize {
    let now = rustix::pipe::fcntl_getpipe_size(fd).unwrap_or(0);
    if now >= want {
        return now;
    }
    rustix::pipe::fcntl_setpipe_size(fd, want).unwrap_or(now)
}

/// A new close-on-exec pipe grown to `size`: (read end, write end).
pub fn sized_pipe(size: usize) -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = io::pipe()?;
    let (r, w) = (OwnedFd::from(r), OwnedFd::from(w));
    grow_pipe(r.as_fd(), size);
    Ok((r, w))
}

/// True when stages should get their own process groups: ipctool has no controlling
/// terminal (see the module doc).
pub fn own_groups() -> bool {
    fs::File::open("/dev/tty").is_err()
}

/// What a stage's stdin or stdout is joined to.
#[derive(Debug)]
pub enum StageIo {
    /// One end of a pipe ipctool owns the other end of.
    Pipe(OwnedFd),
    /// ipctool's own stdin or stdout, given directly (a terminal).
    Inherit,
}

impl StageIo {
    fn stdio(self) -> Stdio {
        match self {
            StageIo::Pipe(fd) => Stdio::from(fd),
            StageIo::Inherit => Stdio::inherit(),
        }
    }
}

/// One running (or finished) stage.
#[derive(Debug)]
pub struct Stage {
    /// The command, as given.
    pub command: String,
    child: Child,
    pidfd: Option<OwnedFd>,
    status: Option<ExitStatus>,
    /// The stage leads its own process group: signals go to the group.
    own_group: bool,
}

impl Stage {
    /// Starts `sh -c COMMAND` with the given stdin and stdout; stderr is ipctool's. With
    /// `own_group`, the stage leads a new process group.
    pub fn spawn(
        command: &str,
        stdin: StageIo,
        stdout: StageIo,
        own_group: bool,
    ) -> io::Result<Stage> {
        // The Command holds the child's ends until it is dropped, at the end of this
        // function: after that only the child has them.
        let mut cmd = super::shell_command(command);
        cmd.stdin(stdin.stdio())
            .stdout(stdout.stdio())
            .stderr(Stdio::inherit());
        if own_group {
            cmd.process_group(0);
        }
        let child = cmd.spawn()?;
        let pidfd = rustix::process::pidfd_open(
            Pid::from_child(&child),
            rustix::process::PidfdFlags::empty(),
        )
        .ok();
        Ok(Stage {
            command: command.to_owned(),
            child,
            pidfd,
            status: None,
            own_group,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Readable once the stage has exited (Linux pidfd); `None` on kernels without them,
    /// where the caller polls [`Stage::try_reap`] instead.
    pub fn exit_fd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|f| f.as_fd())
    }

    /// Reaps the stage if it has exited; true once it has.
    pub fn try_reap(&mut self) -> bool {
        if self.status.is_none()
            && let Ok(Some(s)) = self.child.try_wait()
        {
            self.status = Some(s);
            self.pidfd = None;
        }
        self.status.is_some()
    }

    /// How it ended, once reaped.
    pub fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    /// Kills the stage and reaps it (a pipeline that could not be started whole).
    pub fn kill_and_reap(&mut self) {
        self.signal(Signal::KILL);
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
    }

    /// True when the stage leads its own process group.
    pub fn own_group(&self) -> bool {
        self.own_group
    }

    /// Sends `sig` to the stage (its whole group, if it has one) while it has not been
    /// reaped (so the pid is still its own).
    pub fn signal(&self, sig: Signal) {
        if self.status.is_some() {
            return;
        }
        let pid = Pid::from_child(&self.child);
        if self.own_group {
            let _ = rustix::process::kill_process_group(pid, sig);
        } else {
            let _ = rustix::process::kill_process(pid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_pipes_grow_up_to_the_target() {
        let target = pipe_target();
        assert!((4096..=PIPE_TARGET).contains(&target));
        let (r, _w) = sized_pipe(target).expect("pipe");
        let cap = rustix::pipe::fcntl_getpipe_size(&r).expect("size");
        assert!(cap >= 65536, "{cap}");
        let flags = rustix::io::fcntl_getfd(&r).expect("flags");
        assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
    }

    #[test]
    fn a_stage_is_reaped_with_its_status() {
        let (r, w) = sized_pipe(4096).expect("pipe");
        drop(w);
        let mut s =
            Stage::spawn("exit 7", StageIo::Pipe(r), StageIo::Inherit, true).expect("spawn");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !s.try_reap() {
            assert!(std::time::Instant::now() < deadline, "stage never exited");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(s.status().and_then(|s| s.code()), Some(7));
    }
}
