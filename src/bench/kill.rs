//! What an interrupt must stop: the peer processes of the running case and the
//! connections its loops may be blocked on. The conductor fires it on SIGINT/SIGTERM/SIGHUP
//! so that every blocked read or write returns at once.
//!
//! A pid is removed from the list (under the lock) before its owner reaps it, so a kill
//! never reaches a recycled pid.

use std::sync::{Arc, Mutex, MutexGuard};

use rustix::process::{Pid, Signal, kill_process};

use crate::transport::Aborter;

#[derive(Debug, Default)]
struct Inner {
    pids: Vec<Pid>,
    aborters: Vec<Aborter>,
    fired: bool,
}

/// Shared between the owners of peers and connections and the conductor.
#[derive(Clone, Debug, Default)]
pub struct KillList {
    inner: Arc<Mutex<Inner>>,
}

impl KillList {
    /// An empty list.
    pub fn new() -> KillList {
        KillList::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere must not stop the cleanup: the data stays consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a process to kill on interrupt (at once, if already fired).
    pub fn add_pid(&self, pid: Pid) {
        let mut g = self.lock();
        if g.fired {
            let _ = kill_process(pid, Signal::KILL);
        }
        g.pids.push(pid);
    }

    /// Removes a process before it is reaped.
    pub fn remove_pid(&self, pid: Pid) {
        self.lock().pids.retain(|p| *p != pid);
    }

    /// Adds a connection to shut down on interrupt.
    pub fn add_aborter(&self, aborter: Aborter) {
        let mut g = self.lock();
        if g.fired {
            aborter.abort();
        }
        g.aborters.push(aborter);
    }

    /// Forgets the connections of a finished case.
    pub fn clear_aborters(&self) {
        self.lock().aborters.clear();
    }

    /// Kills every listed process and shuts down every listed connection.
    pub fn fire(&self) {
        let mut g = self.lock();
        g.fired = true;
        for pid in &g.pids {
            let _ = kill_process(*pid, Signal::KILL);
        }
        for a in &g.aborters {
            a.abort();
        }
    }

    /// True once fired.
    pub fn fired(&self) -> bool {
        self.lock().fired
    }
}
