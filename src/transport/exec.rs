//! `exec:CMD` and `--exec`: `sh -c CMD` with its stdin and stdout joined to us by pipes.
//!
//! Every command ipctool starts comes from [`shell_command`], so it begins with default
//! signal dispositions, an empty signal mask, and no descriptor but its stdio.

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

    /// Stops the child for good (SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }
}

/// `sh -c CMD`, set up to start clean: every signal at its default disposition, and every
/// descriptor but 0, 1 and 2 closed at exec.
///
/// std spawns with posix_spawn, and glibc's posix_spawn leaves its two internal signals
/// (32 and 33) ignored in the child, where SIG_IGN survives exec; a disposition ipctool
/// inherited as ignored (SIGQUIT in a shell's background job, SIGHUP under nohup) would
/// survive too. Descriptors ipctool inherited without close-on-exec would leak into the
/// command. Neither can be fixed from the parent with rustix's safe API, hence the hook.
pub fn shell_command(cmd: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new("sh");
    command.arg("-c").arg(cmd);
    #[allow(unsafe_code)]
    // SAFETY: the hook runs in the forked child before exec and only makes
    // async-signal-safe calls (rt_sigaction, close_range); it touches no memory of the
    // parent's other threads.
    unsafe {
        command.pre_exec(|| {
            for sig in 1..libc::SIGRTMAX() {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    default_disposition(sig);
                }
            }
            // Mark every descriptor above stderr close-on-exec (std's own error-report
            // pipe already is); closing them outright would hide a failed exec from std.
            libc::close_range(
                3,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC as libc::c_int,
            );
            Ok(())
        });
    }
    command
}

/// Sets one signal to SIG_DFL in a forked child. glibc's sigaction refuses its internal
/// signal 32, so on Linux the kernel is asked directly: an all-zero kernel sigaction is
/// SIG_DFL with no flags and an empty mask, whatever the architecture's field order.
#[allow(unsafe_code)]
fn default_disposition(sig: libc::c_int) {
    #[cfg(target_os = "linux")]
    {
        let zero = [0u64; 4];
        // SAFETY: rt_sigaction reads `zero` (large enough for any kernel sigaction) and
        // writes nothing (null old action); 8 is the kernel's sigset size.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                zero.as_ptr(),
                std::ptr::null_mut::<libc::c_void>(),
                8usize,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    // SAFETY: signal(2) is async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Starts `sh -c CMD`, with the peer's credentials in its environment where known.
pub fn spawn(cmd: &str, peer: &PeerCreds) -> io::Result<Conn> {
    let mut command = shell_command(cmd);
    command
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
