//! A [`Slot`]: what the accept loop knows about one running connection — its number and
//! peer, how to stop it, and its live meters for reports and idle checks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::addr::Address;
use crate::stats::{ConnRecord, Meter};
use crate::transport::PeerCreds;

type StopFn = Box<dyn FnOnce() + Send>;

/// A connection's meters (sent, received) and when it started.
struct Tracked {
    sent: Arc<Meter>,
    received: Arc<Meter>,
    started: Instant,
}

/// One running connection, shared between its thread and the accept loop.
pub struct Slot {
    /// Connection number, from 1.
    pub id: u64,
    /// The served address.
    pub address: Address,
    pub peer: PeerCreds,
    /// The peer's network address (TCP).
    pub peer_label: Option<String>,
    stop: Mutex<(bool, Option<StopFn>)>,
    idle: AtomicBool,
    meters: Mutex<Option<Tracked>>,
}

impl Slot {
    pub fn new(id: u64, address: Address, peer: PeerCreds, peer_label: Option<String>) -> Slot {
        Slot {
            id,
            address,
            peer,
            peer_label,
            stop: Mutex::new((false, None)),
            idle: AtomicBool::new(false),
            meters: Mutex::new(None),
        }
    }

    /// Registers how to stop the connection. If it was already asked to stop, `f` runs now.
    pub fn on_stop(&self, f: impl FnOnce() + Send + 'static) {
        let mut g = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        if g.0 {
            drop(g);
            f();
        } else {
            g.1 = Some(Box::new(f));
        }
    }

    /// Asks the connection to stop (once).
    pub fn stop(&self) {
        let f = {
            let mut g = self.stop.lock().unwrap_or_else(|p| p.into_inner());
            g.0 = true;
            g.1.take()
        };
        if let Some(f) = f {
            f();
        }
    }

    /// Stops the connection because it was idle too long.
    pub fn stop_idle(&self) {
        self.idle.store(true, Ordering::SeqCst);
        self.stop();
    }

    /// True if the connection was asked to stop.
    pub fn is_stopped(&self) -> bool {
        self.stop.lock().map(|g| g.0).unwrap_or(true)
    }

    /// True if it was stopped for being idle.
    pub fn was_idle(&self) -> bool {
        self.idle.load(Ordering::SeqCst)
    }

    /// Registers the connection's meters (sent, received) and its start.
    pub fn track(&self, sent: Arc<Meter>, received: Arc<Meter>, started: Instant) {
        if let Ok(mut g) = self.meters.lock() {
            *g = Some(Tracked {
                sent,
                received,
                started,
            });
        }
    }

    /// The registered meters (sent, received).
    pub fn meters(&self) -> Option<(Arc<Meter>, Arc<Meter>)> {
        let g = self.meters.lock().ok()?;
        g.as_ref()
            .map(|t| (Arc::clone(&t.sent), Arc::clone(&t.received)))
    }

    /// How long since the last byte moved either way, once meters are registered.
    pub fn idle_for(&self, now: Instant) -> Option<Duration> {
        let g = self.meters.lock().ok()?;
        let t = g.as_ref()?;
        Some(t.sent.idle_for(now).min(t.received.idle_for(now)))
    }

    /// The live record (status `open`), once meters are registered.
    pub fn snapshot(&self) -> Option<ConnRecord> {
        let g = self.meters.lock().ok()?;
        let t = g.as_ref()?;
        let mut rec = ConnRecord::from_meters(
            self.id,
            self.address.to_string(),
            self.peer,
            (&t.sent, &t.received),
            t.started,
            None,
        );
        rec.peer = self.peer_label.clone();
        Some(rec)
    }

    /// The final record from the registered meters, with `status`.
    pub fn record(&self, status: &'static str) -> ConnRecord {
        let mut rec = self.snapshot().unwrap_or_else(|| {
            ConnRecord::new(
                self.id,
                self.address.to_string(),
                self.peer,
                0,
                0,
                Duration::ZERO,
            )
        });
        rec.status = status;
        rec
    }
}
