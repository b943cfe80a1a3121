//! `exec:CMD` and `--exec`: `sh -c CMD` with its stdin and stdout joined to us by pipes.
//!
//! The child gets default signal dispositions and an empty signal mask (std resets SIGPIPE
//! and the mask; our handlers do not survive exec), and no descriptor but its stdio: every
//! descriptor ipctool opens is close-on-exec, and the pipes come from std, which creates
//! them close-on-exec (interprocess's unnamed pipes are not: see the notes).

use std::io;
use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};

use super::{CloseHow, Conn, Input, Output, PeerCreds};

/// The process behind an `exec:` connection.
#[derive(Debug)]
pub struct ExecChild {
    child: Child,
    pub command: String,
}

impl ExecChild {
    pub fn pid(&self) -> rustix::process::Pid {
        rustix::process::Pid::from_child(&self.child)
    }

    /// A descriptor that becomes readable when the child exits (Linux pidfd), if the kernel
    /// has them.
    pub fn pidfd(&self) -> Option<OwnedFd> {
        rustix::process::pidfd_open(self.pid(), rustix::process::PidfdFlags::empty()).ok()
    }

    /// Reaps the child, waiting for it to exit.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait()
    }

    /// Reaps the child if it has exited.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Asks the child to stop (SIGTERM).
    pub fn terminate(&self) {
        let _ = rustix::process::kill_process(self.pid(), rustix::process::Signal::TERM);
    }
}

/// Starts `sh -c CMD`, with the peer's credentials in its environment where known.
pub fn spawn(cmd: &str, peer: &PeerCreds) -> io::Result<Conn> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, value) in [
        ("IPCTOOL_PEER_PID", peer.pid),
        ("IPCTOOL_PEER_UID", peer.uid),
        ("IPCTOOL_PEER_GID", peer.gid),
    ] {
        match value {
            Some(v) => command.env(name, v.to_string()),
            None => command.env_remove(name),
        };
    }
    let mut child = command.spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("the child has no stdin pipe"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("the child has no stdout pipe"))?;
    let mut conn = Conn::halves(
        Some(Input::new(OwnedFd::from(stdout))),
        Some(Output::new(OwnedFd::from(stdin), CloseHow::Close)),
    );
    conn.peer = PeerCreds {
        pid: Some(child.id()),
        uid: None,
        gid: None,
    };
    conn.child = Some(ExecChild {
        child,
        command: cmd.to_owned(),
    });
    Ok(conn)
}
