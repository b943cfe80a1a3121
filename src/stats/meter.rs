//! A [`Meter`] counts what one direction of a copy moved, as it moves: bytes, when the last
//! byte moved, and how long the copy waited on its source and on its destination. It is
//! shared between the copying thread and whoever reports (stats, progress, SIGUSR1), so
//! every field is atomic; a copy updates it once per chunk.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::PollFlags;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Meter {
    start: Instant,
    bytes: AtomicU64,
    /// Nanoseconds from `start` to the last activity (a chunk moved, or the copy started).
    last_ns: AtomicU64,
    /// Nanoseconds from `start` to the end of the copy; 0 while running.
    end_ns: AtomicU64,
    read_wait_ns: AtomicU64,
    write_wait_ns: AtomicU64,
    /// Time spent holding back to keep to a rate limit (`--rate-limit`).
    throttled_ns: AtomicU64,
    /// True while the copy holds bytes it has read but not yet delivered.
    in_flight: AtomicBool,
    /// The private pipe a splicing copy moves its bytes through (a duplicate of its read
    /// end): what it holds was taken from the source and is not delivered yet. The kernel
    /// moves bytes into it in one step, so no byte is ever out of both the source and it.
    staging: OnceLock<OwnedFd>,
}

impl Meter {
    pub fn new(start: Instant) -> Meter {
        Meter {
            start,
            bytes: AtomicU64::new(0),
            last_ns: AtomicU64::new(0),
            end_ns: AtomicU64::new(0),
            read_wait_ns: AtomicU64::new(0),
            write_wait_ns: AtomicU64::new(0),
            throttled_ns: AtomicU64::new(0),
            in_flight: AtomicBool::new(false),
            staging: OnceLock::new(),
        }
    }

    fn since_start(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.start).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Records `n` bytes delivered at `now`.
    pub fn add(&self, n: u64, now: Instant) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
        self.last_ns.store(self.since_start(now), Ordering::Relaxed);
    }

    /// Records activity without bytes (a copy starting).
    pub fn touch(&self, now: Instant) {
        self.last_ns.store(self.since_start(now), Ordering::Relaxed);
    }

    pub fn add_read_wait(&self, d: Duration) {
        self.read_wait_ns.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn add_write_wait(&self, d: Duration) {
        self.write_wait_ns.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Records time spent holding back for a rate limit.
    pub fn add_throttled(&self, d: Duration) {
        self.throttled_ns.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn set_in_flight(&self, v: bool) {
        self.in_flight.store(v, Ordering::SeqCst);
    }

    /// True while the copy holds bytes it has read but not yet delivered: in its buffer,
    /// or in its private pipe.
    pub fn in_flight(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst)
            || self
                .staging
                .get()
                .is_some_and(|fd| pipe_holds_bytes(fd.as_fd()))
    }

    /// Registers the private pipe of a splicing copy (see [`Meter::in_flight`]).
    pub fn set_staging(&self, pipe_read_end: OwnedFd) {
        let _ = self.staging.set(pipe_read_end);
    }

    /// Marks the copy finished at `now`.
    pub fn finish(&self, now: Instant) {
        self.end_ns
            .store(self.since_start(now).max(1), Ordering::Relaxed);
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Time since the last activity.
    pub fn idle_for(&self, now: Instant) -> Duration {
        let last = self.start + Duration::from_nanos(self.last_ns.load(Ordering::Relaxed));
        now.saturating_duration_since(last)
    }

    /// When the copy ended, if it has.
    pub fn ended_at(&self) -> Option<Instant> {
        match self.end_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(self.start + Duration::from_nanos(ns)),
        }
    }

    /// Time held back for a rate limit so far.
    pub fn throttled(&self) -> Duration {
        Duration::from_nanos(self.throttled_ns.load(Ordering::Relaxed))
    }

    pub fn read_wait(&self) -> Duration {
        Duration::from_nanos(self.read_wait_ns.load(Ordering::Relaxed))
    }

    pub fn write_wait(&self) -> Duration {
        Duration::from_nanos(self.write_wait_ns.load(Ordering::Relaxed))
    }
}

/// True when a pipe holds bytes, asked without waiting: poll(2) reads a pipe's state
/// without its lock, while FIONREAD takes it, and a splice blocked on its source holds the
/// lock of the pipe it fills (a copy's private pipe) until data comes.
pub fn pipe_holds_bytes(fd: BorrowedFd<'_>) -> bool {
    crate::ready::now(fd, PollFlags::IN).is_ok_and(|r| r.contains(PollFlags::IN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_idle() {
        let t0 = Instant::now();
        let m = Meter::new(t0);
        m.add(10, t0 + Duration::from_millis(5));
        m.add(5, t0 + Duration::from_millis(10));
        assert_eq!(m.bytes(), 15);
        assert_eq!(
            m.idle_for(t0 + Duration::from_millis(30)),
            Duration::from_millis(20)
        );
        assert_eq!(m.ended_at(), None);
        m.finish(t0 + Duration::from_millis(40));
        assert_eq!(m.ended_at(), Some(t0 + Duration::from_millis(40)));
        m.add_read_wait(Duration::from_millis(3));
        m.add_write_wait(Duration::from_millis(4));
        assert_eq!(m.read_wait(), Duration::from_millis(3));
        assert_eq!(m.write_wait(), Duration::from_millis(4));
    }
}
