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

    /// Asks the child to stop (SIGTERM), with what it started: its process group.
    pub fn terminate(&self) {
        self.signal_group(rustix::process::Signal::TERM);
    }

    fn signal_group(&self, sig: rustix::process::Signal) {
        if rustix::process::kill_process_group(self.pid(), sig).is_err() {
            let _ = rustix::process::kill_process(self.pid(), sig);
        }
    }

    /// Sends SIGTERM to the child's process group: what it started and left holding its
    /// pipes. The group outlives the child's pid only while it has members, so the number
    /// cannot have been reused.
    pub fn stop_group(&self) {
        self.signal_group(rustix::process::Signal::TERM);
    }

    /// Stops the child and its process group for good (SIGKILL).
    pub fn kill(&mut self) {
        self.signal_group(rustix::process::Signal::KILL);
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
    // `--`: a CMD starting with `-` is a command, not an option of sh.
    command.arg("-c").arg("--").arg(cmd);
    #[allow(unsafe_code)]
    // SAFETY: the hook runs in the forked child before exec and only makes
    // async-signal-safe calls (rt_sigaction, setrlimit, close_range); it reads one
    // initialized static and touches no memory of the parent's other threads.
    unsafe {
        command.pre_exec(|| {
            for sig in 1..libc::SIGRTMAX() {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    default_disposition(sig);
                }
            }
            if let Some(limit) = START_NOFILE.get() {
                libc::setrlimit(libc::RLIMIT_NOFILE, limit);
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

/// The descriptor limit ipctool started with, restored in its commands.
static START_NOFILE: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// Raises our soft limit on open descriptors to the hard limit (every connection of a
/// server takes a dozen), remembering the old one for the commands we start: a program
/// using select(2) breaks on descriptors above 1024.
pub fn raise_descriptor_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    let to_raw = |v: Option<u64>| v.unwrap_or(libc::RLIM_INFINITY);
    let _ = START_NOFILE.set(libc::rlimit {
        rlim_cur: to_raw(now.current),
        rlim_max: to_raw(now.maximum),
    });
    if now.current != now.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: now.maximum,
                maximum: now.maximum,
            },
        );
    }
}

/// Starts `sh -c CMD`, with the peer's credentials in its environment where known.
pub fn spawn(cmd: &str, peer: &PeerCreds) -> io::Result<Conn> {
    let mut command = shell_command(cmd);
    // Its own process group: what the command starts in the background can be stopped
    // with it when the connection ends (see `ExecChild::stop_group`).
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
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
