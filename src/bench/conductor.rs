//! The clock of a case. The measuring loops never read the clock to know when to stop:
//! they look at a shared [`Phase`] (one relaxed atomic load per message), which the
//! conductor, on the main thread, moves from warm-up to measuring to done. The conductor also
//! watches for SIGINT/SIGTERM/SIGHUP: it then aborts the phase and fires the kill list, so a
//! loop blocked on a peer returns at once.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::kill::KillList;
use super::loops::Measured;
use super::{Case, Length, placement};
use crate::signals::Signals;
use crate::stats::bench::CpuPair;
use crate::wake::{WakeSender, Waker};

/// Where a case is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Step {
    /// Messages flow, nothing is counted.
    Warmup = 0,
    /// The measured window.
    Measure = 1,
    /// The window is over: finish the current message and stop.
    Done = 2,
    /// Interrupted: stop without a result.
    Abort = 3,
}

/// The current [`Step`], shared by the conductor and the loops.
#[derive(Debug)]
pub struct Phase(AtomicU8);

impl Default for Phase {
    fn default() -> Self {
        Phase(AtomicU8::new(Step::Warmup as u8))
    }
}

impl Phase {
    /// The current step.
    #[inline]
    pub fn get(&self) -> Step {
        match self.0.load(Ordering::Relaxed) {
            0 => Step::Warmup,
            1 => Step::Measure,
            2 => Step::Done,
            _ => Step::Abort,
        }
    }

    /// Moves to `step`.
    pub fn set(&self, step: Step) {
        self.0.store(step as u8, Ordering::Relaxed);
    }
}

/// How the phases of a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every measuring thread finished.
    Finished,
    /// A stop signal came (the kill list was fired).
    Signal(i32),
    /// The window closed but a thread was still blocked after the grace period (the kill
    /// list was fired to unblock it): the other side stopped reading or answering.
    Overran,
}

/// Runs the phases of one case.
#[derive(Debug)]
pub struct Conductor {
    pub phase: Arc<Phase>,
    waker: Waker,
    finished: Arc<AtomicUsize>,
}

/// Held by a measuring thread: tells the conductor it has finished when dropped.
#[derive(Debug)]
pub struct Finisher {
    finished: Arc<AtomicUsize>,
    wake: WakeSender,
}

impl Drop for Finisher {
    fn drop(&mut self) {
        self.finished.fetch_add(1, Ordering::SeqCst);
        self.wake.wake();
    }
}

impl Conductor {
    /// A conductor at warm-up, with no finisher yet.
    pub fn new() -> io::Result<Conductor> {
        Ok(Conductor {
            phase: Arc::new(Phase::default()),
            waker: Waker::new()?,
            finished: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// One per measuring thread.
    pub fn finisher(&self) -> io::Result<Finisher> {
        Ok(Finisher {
            finished: Arc::clone(&self.finished),
            wake: self.waker.sender()?,
        })
    }

    /// Moves the phase along (`warmup`, then the window of `length`) until `workers`
    /// finishers have been dropped. A timed window that closed more than `grace` ago with
    /// a thread still out fires the kill list.
    pub fn run(
        &self,
        workers: usize,
        warmup: Duration,
        length: Length,
        grace: Duration,
        signals: &Signals,
        kills: &KillList,
    ) -> io::Result<Ended> {
        let _reg = signals.wake_on_signal(&self.waker)?;
        let measure_at = Instant::now() + warmup;
        let done_at = match length {
            Length::Time(d) => Some(measure_at + d),
            Length::Count(_) => None,
        };
        let give_up_at = done_at.map(|d| d + grace);
        let mut ended = Ended::Finished;
        loop {
            if ended == Ended::Finished
                && let Some(sig) = signals.stop_requested()
            {
                self.phase.set(Step::Abort);
                kills.fire();
                ended = Ended::Signal(sig);
            }
            if self.finished.load(Ordering::SeqCst) >= workers {
                return Ok(ended);
            }
            let now = Instant::now();
            if ended == Ended::Finished && give_up_at.is_some_and(|t| now >= t) {
                kills.fire();
                ended = Ended::Overran;
            }
            let step = self.phase.get();
            if step == Step::Warmup && now >= measure_at {
                self.phase.set(Step::Measure);
            }
            if self.phase.get() == Step::Measure && done_at.is_some_and(|d| now >= d) {
                self.phase.set(Step::Done);
            }
            let next = match (self.phase.get(), ended) {
                (Step::Warmup, _) => Some(measure_at),
                (Step::Measure, _) => done_at,
                (Step::Done, Ended::Finished) => give_up_at,
                _ => None,
            };
            let timeout = next.map(|t| {
                let left = t.saturating_duration_since(now);
                Timespec::try_from(left).unwrap_or(Timespec {
                    tv_sec: i64::MAX,
                    tv_nsec: 0,
                })
            });
            let mut fds = [PollFd::from_borrowed_fd(self.waker.fd(), PollFlags::IN)];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            self.waker.drain();
        }
    }
}

/// What one measuring thread brought back: `None` if its loop was aborted.
pub type Measurement = anyhow::Result<Option<Measured>>;

/// Runs `measure` on each of `conns` in a thread of its own (pinned to the `bench` CPU of
/// the same index in `cpus`, where there is one) while this thread conducts the phases of
/// `case`. Returns how the phases ended and each thread's measurement, in `conns` order.
pub fn measure_each<C, F>(
    conns: &mut [C],
    cpus: &[CpuPair],
    case: &Case,
    grace: Duration,
    signals: &Signals,
    kills: &KillList,
    measure: F,
) -> anyhow::Result<(Ended, Vec<Measurement>)>
where
    C: Send,
    F: Fn(&mut C, &Phase, Option<u64>) -> io::Result<Option<Measured>> + Sync,
{
    let conductor = Conductor::new().context("cannot set up the benchmark clock")?;
    let finishers = (0..conns.len())
        .map(|_| conductor.finisher())
        .collect::<io::Result<Vec<_>>>()
        .context("cannot set up the benchmark clock")?;
    let count = match case.length {
        Length::Count(n) => Some(n),
        Length::Time(_) => None,
    };
    let (stopped, measured) = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .iter_mut()
            .zip(finishers)
            .enumerate()
            .map(|(i, (conn, fin))| {
                let (phase, measure) = (&conductor.phase, &measure);
                let bench_cpu = cpus.get(i).map(|c| c.bench);
                s.spawn(move || -> Measurement {
                    let _fin = fin;
                    if let Some(cpu) = bench_cpu {
                        placement::pin_current_thread(cpu)?;
                    }
                    Ok(measure(conn, phase, count)?)
                })
            })
            .collect();
        let stopped = conductor.run(
            handles.len(),
            case.warmup,
            case.length,
            grace,
            signals,
            kills,
        );
        let measured: Vec<Measurement> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a measuring thread panicked")))
            })
            .collect();
        (stopped, measured)
    });
    let stopped = stopped.context("cannot run the benchmark clock")?;
    Ok((stopped, measured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_advance_and_end_when_workers_finish() {
        let c = Conductor::new().expect("conductor");
        let phase = Arc::clone(&c.phase);
        let f = c.finisher().expect("finisher");
        let seen = std::thread::spawn(move || {
            let mut seen = vec![phase.get()];
            while phase.get() != Step::Done {
                if seen.last() != Some(&phase.get()) {
                    seen.push(phase.get());
                }
                std::thread::yield_now();
            }
            drop(f);
            if seen.last() != Some(&Step::Done) {
                seen.push(Step::Done);
            }
            seen
        });
        let t0 = Instant::now();
        let stopped = c
            .run(
                1,
                Duration::from_millis(5),
                Length::Time(Duration::from_millis(5)),
                Duration::from_secs(30),
                &Signals::inert(),
                &KillList::new(),
            )
            .expect("run");
        assert!(t0.elapsed() >= Duration::from_millis(10));
        assert_eq!(stopped, Ended::Finished);
        let seen = seen.join().expect("thread");
        // A busy machine may hide the measure step from the spinning thread; the order holds.
        assert_eq!(seen.first(), Some(&Step::Warmup));
        assert_eq!(seen.last(), Some(&Step::Done));
        assert!(
            seen.windows(2).all(|w| (w[0] as u8) < (w[1] as u8)),
            "{seen:?}"
        );
    }
}

#[cfg(test)]
mod overrun_tests {
    use super::*;

    #[test]
    fn a_thread_stuck_after_the_window_fires_the_kill_list() {
        let c = Conductor::new().expect("conductor");
        let kills = KillList::new();
        let (r, w) = std::io::pipe().expect("pipe");
        let mut input = crate::transport::Input::new(std::os::fd::OwnedFd::from(r));
        let aborter_pipe = w;
        // A reader blocked on a pipe nobody writes: only the kill list can free it, here by
        // a process-less aborter standing in for the peer (closing the writer).
        let fin = c.finisher().expect("finisher");
        let stuck = std::thread::spawn(move || {
            let _fin = fin;
            input.read(&mut [0u8; 8])
        });
        let watcher = {
            let kills = kills.clone();
            std::thread::spawn(move || {
                while !kills.fired() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                drop(aborter_pipe);
            })
        };
        let ended = c
            .run(
                1,
                Duration::ZERO,
                Length::Time(Duration::from_millis(5)),
                Duration::from_millis(20),
                &Signals::inert(),
                &kills,
            )
            .expect("run");
        assert_eq!(ended, Ended::Overran);
        assert_eq!(stuck.join().expect("thread").expect("EOF"), 0);
        watcher.join().expect("watcher");
    }
}
