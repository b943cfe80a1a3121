//! The other process of a pair: `ipctool __bench-peer`, started from this very binary.
//!
//! It runs in its own process group (a Ctrl-C at the terminal reaches ipctool only, which
//! then kills it), dies with ipctool (parent-death signal), is listed in the [`KillList`]
//! while it runs, and is always reaped: by [`Peer::finish`], or by `Drop` with SIGKILL.
//! Its stderr is kept, so that a failure of the peer becomes part of ipctool's one error
//! message.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use rustix::process::Pid;

use super::Mode;
use super::kill::KillList;
use crate::addr::Address;

/// The name of the hidden subcommand.
pub const SUBCOMMAND: &str = "__bench-peer";

/// What the peer is asked to do.
#[derive(Clone, Debug)]
pub struct PeerSpec {
    pub mode: Mode,
    pub size: usize,
    /// Where the peer connects (or `-`: its stdin and stdout).
    pub addr: Address,
    /// A FIFO to read from, when `addr` is a FIFO it writes to.
    pub from: Option<Address>,
    pub cpu: Option<usize>,
}

impl PeerSpec {
    /// The peer's command line after the executable.
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = ["-q", "--color", "never", SUBCOMMAND, "--mode"]
            .into_iter()
            .map(String::from)
            .collect();
        a.push(self.mode.name().into());
        a.push("--size".into());
        a.push(self.size.to_string());
        a.push("--parent".into());
        a.push(std::process::id().to_string());
        if let Some(cpu) = self.cpu {
            a.push("--cpu".into());
            a.push(cpu.to_string());
        }
        if let Some(from) = &self.from {
            a.push("--from".into());
            a.push(from.to_string());
        }
        a.push("--".into());
        a.push(self.addr.to_string());
        a
    }
}

/// A running peer.
#[derive(Debug)]
pub struct Peer {
    child: Option<Child>,
    stderr: Option<ChildStderr>,
    kills: KillList,
}

impl Peer {
    /// Starts the peer with the given stdin and stdout.
    pub fn spawn(spec: &PeerSpec, stdin: Stdio, stdout: Stdio, kills: &KillList) -> Result<Peer> {
        let exe = std::env::current_exe()
            .context("cannot find the ipctool executable to start the benchmark peer")?;
        let mut cmd = Command::new(&exe);
        cmd.args(spec.args())
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start the benchmark peer {}", exe.display()))?;
        // The Command holds our copies of the child's pipe ends: close them now, so that
        // the other side sees EOF when the peer goes.
        drop(cmd);
        kills.add_pid(pid_of(&child));
        let stderr = child.stderr.take();
        Ok(Peer {
            child: Some(child),
            stderr,
            kills: kills.clone(),
        })
    }

    /// The peer's process id (0 once reaped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The exit status, if the peer has ended (reaped then).
    pub fn try_exited(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let pid = pid_of(child);
        match child.try_wait() {
            Ok(Some(status)) => {
                self.kills.remove_pid(pid);
                self.child = None;
                Some(status)
            }
            _ => None,
        }
    }

    /// What the peer printed on stderr (its error line), once it has ended.
    pub fn said(&mut self) -> String {
        let mut text = String::new();
        if self.child.is_none()
            && let Some(mut err) = self.stderr.take()
        {
            let _ = (&mut err).take(4096).read_to_string(&mut text);
        }
        let text = text.trim();
        text.strip_prefix("ipctool: error: ")
            .unwrap_or(text)
            .replace('\n', " ")
    }

    /// An error for a peer that ended early, with what it said.
    pub fn ended_error(&mut self, status: ExitStatus) -> anyhow::Error {
        let said = self.said();
        if said.is_empty() {
            anyhow!("the benchmark peer ended early ({status})")
        } else {
            anyhow!("the benchmark peer failed: {said}")
        }
    }

    /// Waits up to `grace` for the peer to end by itself (it does once its connection is
    /// closed), then kills it. An error if it failed or had to be killed.
    pub fn finish(&mut self, grace: Duration) -> Result<()> {
        let deadline = Instant::now() + grace;
        let mut pause = Duration::from_micros(200);
        loop {
            if let Some(status) = self.try_exited() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(self.ended_error(status))
                };
            }
            if self.child.is_none() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(anyhow!(
                    "the benchmark peer did not end within {} s of the end of its case",
                    grace.as_secs()
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Kills and reaps the peer.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            self.kills.remove_pid(pid_of(&child));
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_child(child)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line() {
        let spec = PeerSpec {
            mode: Mode::Latency,
            size: 64,
            addr: "fifo:/t/0.up".parse().expect("addr"),
            from: Some("fifo:/t/0.down".parse().expect("addr")),
            cpu: Some(1),
        };
        let args = spec.args();
        let parent = std::process::id().to_string();
        assert_eq!(
            args,
            [
                "-q",
                "--color",
                "never",
                "__bench-peer",
                "--mode",
                "latency",
                "--size",
                "64",
                "--parent",
                &parent,
                "--cpu",
                "1",
                "--from",
                "fifo:/t/0.down",
                "--",
                "fifo:/t/0.up"
            ]
        );
    }
}
