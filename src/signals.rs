//! Signals. SIGINT, SIGTERM and SIGHUP ask for a clean stop (loops see the flag, files are
//! removed by their guards, the summary prints, the status is 128 + signal); a second one
//! while stopping acts as the default action at once. SIGUSR1 asks for a counters report.
//! The handlers only set flags and wake a pipe; all the work happens in the loops.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::SigId;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};

use crate::wake::Waker;

const STOP_SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The process's signal state, installed once in `run`.
#[derive(Clone, Debug)]
pub struct Signals {
    stop: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    usr1: Arc<AtomicBool>,
}

impl Signals {
    /// Installs the handlers.
    pub fn install() -> io::Result<Signals> {
        let s = Signals {
            stop: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
            usr1: Arc::new(AtomicBool::new(false)),
        };
        for sig in STOP_SIGNALS {
            // Order matters: the second signal must find `stopping` set by the first.
            signal_hook::flag::register_conditional_default(sig, Arc::clone(&s.stopping))?;
            signal_hook::flag::register_usize(sig, Arc::clone(&s.stop), sig as usize)?;
            signal_hook::flag::register(sig, Arc::clone(&s.stopping))?;
        }
        signal_hook::flag::register(SIGUSR1, Arc::clone(&s.usr1))?;
        Ok(s)
    }

    /// A signal state that never fires (unit tests, in-process helpers).
    pub fn inert() -> Signals {
        Signals {
            stop: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
            usr1: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The stop signal received, if any.
    pub fn stop_requested(&self) -> Option<i32> {
        match self.stop.load(Ordering::SeqCst) {
            0 => None,
            sig => i32::try_from(sig).ok(),
        }
    }

    /// True once per SIGUSR1.
    pub fn take_usr1(&self) -> bool {
        self.usr1.swap(false, Ordering::SeqCst)
    }

    /// Makes every handled signal also wake `waker`, until the registration is dropped.
    pub fn wake_on_signal(&self, waker: &Waker) -> io::Result<WakeRegistration> {
        let mut ids = Vec::new();
        for sig in STOP_SIGNALS.into_iter().chain([SIGUSR1]) {
            let fd = waker.sender()?.into_fd();
            ids.push(signal_hook::low_level::pipe::register(sig, fd)?);
        }
        Ok(WakeRegistration { ids })
    }
}

/// Keeps a waker registered with the signal handlers.
#[derive(Debug)]
pub struct WakeRegistration {
    ids: Vec<SigId>,
}

impl Drop for WakeRegistration {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
