//! A pipeline: the hops (one metered copy per thread) that join ipctool's stdin, the stages
//! and ipctool's stdout, and the stage processes, run to the end.
//!
//! It is over when every stage has been reaped and every hop out of a stage has reached EOF
//! (the plain meter, with no stage: when its one hop has ended). The hop into the first
//! stage is then left behind if it still waits on ipctool's stdin: nobody is left to read
//! it. A hop whose destination stage stopped reading ends quietly (EPIPE, as a writer in a
//! shell pipeline is ended by SIGPIPE) and closes its source, so the stage before it gets
//! SIGPIPE in turn. A stop signal is passed on to every stage still running (at once to a
//! stage in its own process group; [`FORWARD_AFTER`] later to one sharing ipctool's group,
//! which a Ctrl-C on the terminal has reached already); those still running [`KILL_AFTER`]
//! later are killed. The engine never prints; callers report.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::Signal;

use super::copy::{CopyConfig, CopyError, copy};
use crate::signals::Signals;
use crate::stats::Meter;
use crate::transport::stage::Stage;
use crate::transport::{Input, Output};
use crate::wake::Waker;

/// How long stages may take to exit after a stop signal was passed on to them.
pub const KILL_AFTER: Duration = Duration::from_secs(3);

/// How long a stage in ipctool's process group gets to end on a terminal's signal before
/// ipctool passes the signal on (it may have come from `kill`, not the terminal); a stage
/// that traps the signal is not sent it twice at once.
pub const FORWARD_AFTER: Duration = Duration::from_millis(100);

/// The two ends of a hop ipctool copies.
#[derive(Debug)]
pub struct Hop {
    pub input: Input,
    pub output: Output,
}

/// How a hop ended.
#[derive(Debug)]
pub enum HopEnd {
    /// Still copying (or left behind waiting on ipctool's stdin).
    Running,
    /// Not copied by ipctool: a terminal was given to the stage directly.
    Direct,
    /// EOF reached and passed on.
    Eof,
    /// Its destination stage stopped reading (EPIPE): a normal end in a pipeline.
    ReaderGone,
    /// The reader of ipctool's stdout went away.
    StdoutGone,
    /// The copy failed.
    Failed(CopyError),
}

/// Why a pipeline ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every stage exited and every hop ended.
    Complete,
    /// A stop signal arrived (it was passed on to the stages).
    Signal(i32),
}

/// A running pipeline.
pub struct Pipeline {
    started: Instant,
    meters: Vec<Arc<Meter>>,
    ends: Vec<HopEnd>,
    stages: Vec<Stage>,
    rx: Receiver<(usize, Result<(), CopyError>)>,
    waker: Waker,
}

impl Pipeline {
    /// Starts a copy for each hop that ipctool stands in (`None`: the stage was given the
    /// terminal directly). `hops` has one more entry than `stages`.
    pub fn start(
        hops: Vec<Option<Hop>>,
        stages: Vec<Stage>,
        cfg: &CopyConfig,
    ) -> io::Result<Pipeline> {
        debug_assert_eq!(hops.len(), stages.len() + 1, "one hop more than stages");
        let started = Instant::now();
        let waker = Waker::new()?;
        let (tx, rx) = channel();
        let mut meters = Vec::with_capacity(hops.len());
        let mut ends = Vec::with_capacity(hops.len());
        for (i, hop) in hops.into_iter().enumerate() {
            let meter = Arc::new(Meter::new(started));
            meters.push(Arc::clone(&meter));
            let Some(Hop {
                mut input,
                mut output,
            }) = hop
            else {
                meter.finish(started);
                ends.push(HopEnd::Direct);
                continue;
            };
            ends.push(HopEnd::Running);
            let (tx, wake, cfg) = (tx.clone(), waker.sender()?, cfg.clone());
            std::thread::Builder::new()
                .name(format!("hop-{i}"))
                .stack_size(256 << 10)
                .spawn(move || {
                    let result = copy(&mut input, &mut output, &meter, &cfg)
                        .and_then(|_| output.close_write().map_err(CopyError::Write));
                    meter.finish(Instant::now());
                    // Closing both ends now tells the stages on either side.
                    drop(input);
                    drop(output);
                    let _ = tx.send((i, result));
                    wake.wake();
                })?;
        }
        Ok(Pipeline {
            started,
            meters,
            ends,
            stages,
            rx,
            waker,
        })
    }

    /// The live meters, one per hop.
    pub fn meters(&self) -> Vec<Arc<Meter>> {
        self.meters.clone()
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// The waker of the pipeline's loop (to register with signal handlers).
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// The stages.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Runs the pipeline to its end. `on_wake` runs on every wake-up (SIGUSR1 reports).
    pub fn wait(mut self, signals: &Signals, mut on_wake: impl FnMut()) -> Outcome {
        // The stop signal, when it is passed on, and when survivors are killed.
        let mut stopped: Option<(i32, Instant, Instant)> = None;
        let (mut forwarded, mut killed) = (false, false);
        loop {
            while let Ok((i, result)) = self.rx.try_recv() {
                self.ends[i] = classify(result, i + 1 == self.ends.len());
            }
            for s in &mut self.stages {
                s.try_reap();
            }
            if stopped.is_none()
                && let Some(sig) = signals.stop_requested()
            {
                let now = Instant::now();
                let shared = self.stages.iter().any(|s| !s.own_group());
                let forward_at = now
                    + if shared {
                        FORWARD_AFTER
                    } else {
                        Duration::ZERO
                    };
                stopped = Some((sig, forward_at, forward_at + KILL_AFTER));
            }
            if let Some((sig, forward_at, kill_at)) = stopped {
                let now = Instant::now();
                if !forwarded && now >= forward_at {
                    let forward = Signal::from_named_raw(sig).unwrap_or(Signal::TERM);
                    for s in &self.stages {
                        s.signal(forward);
                    }
                    forwarded = true;
                }
                if !killed && now >= kill_at {
                    for s in &self.stages {
                        s.signal(Signal::KILL);
                    }
                    killed = true;
                }
            }
            if self.is_over(stopped.is_some()) {
                break;
            }
            on_wake();
            let timeout = match stopped {
                Some((_, forward_at, _)) if !forwarded => {
                    Some(forward_at.saturating_duration_since(Instant::now()))
                }
                Some((_, _, kill_at)) if !killed => {
                    Some(kill_at.saturating_duration_since(Instant::now()))
                }
                _ => None,
            };
            self.poll_once(timeout);
        }
        Outcome {
            end: stopped.map_or(End::Complete, |(sig, _, _)| End::Signal(sig)),
            hops: self.ends,
            meters: self.meters,
            stages: self.stages,
            started: self.started,
            duration: self.started.elapsed(),
        }
    }

    fn is_over(&self, stopping: bool) -> bool {
        let reaped = self.stages.iter().all(|s| s.status().is_some());
        let ended = |h: &HopEnd| !matches!(h, HopEnd::Running);
        if self.stages.is_empty() {
            return stopping || ended(&self.ends[0]);
        }
        // Once stopping, hops still open (a stage's background child may hold a pipe) do
        // not keep ipctool waiting.
        reaped && (stopping || self.ends[1..].iter().all(ended))
    }

    /// Waits for a hop to end, a stage to exit, a signal, or `timeout`.
    fn poll_once(&mut self, timeout: Option<Duration>) {
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(self.stages.len() + 1);
        fds.push(PollFd::from_borrowed_fd(self.waker.fd(), PollFlags::IN));
        let mut blind = false;
        for s in self.stages.iter().filter(|s| s.status().is_none()) {
            match s.exit_fd() {
                Some(fd) => fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN)),
                None => blind = true,
            }
        }
        // Without pidfds, look at the stages every 20 ms.
        let timeout = match (timeout, blind) {
            (t, true) => Some(t.map_or(Duration::from_millis(20), |t| {
                t.min(Duration::from_millis(20))
            })),
            (t, false) => t,
        };
        let ts = timeout.map(|t| {
            Timespec::try_from(t).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            })
        });
        let _ = poll(&mut fds, ts.as_ref());
        let woke = !fds[0].revents().is_empty();
        drop(fds);
        if woke {
            self.waker.drain();
        }
    }
}

/// How a finished hop ended, from its copy's result.
fn classify(result: Result<(), CopyError>, last: bool) -> HopEnd {
    match result {
        Ok(()) => HopEnd::Eof,
        Err(CopyError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            if last {
                HopEnd::StdoutGone
            } else {
                HopEnd::ReaderGone
            }
        }
        Err(e) => HopEnd::Failed(e),
    }
}

/// What a pipeline did.
#[derive(Debug)]
pub struct Outcome {
    pub end: End,
    /// How each hop ended.
    pub hops: Vec<HopEnd>,
    /// The meters, one per hop.
    pub meters: Vec<Arc<Meter>>,
    /// The stages, reaped (unless a stage survived SIGKILL, which it cannot).
    pub stages: Vec<Stage>,
    pub started: Instant,
    pub duration: Duration,
}

impl Outcome {
    /// True when the reader of ipctool's stdout went away.
    pub fn stdout_gone(&self) -> bool {
        self.hops
            .last()
            .is_some_and(|h| matches!(h, HopEnd::StdoutGone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::CloseHow;
    use crate::transport::stage::{StageIo, sized_pipe};
    use std::io::{Read, Write};
    use std::os::fd::OwnedFd;

    /// Feeds `data` through `cat | tr a-z A-Z` with ipctool's hops between pipes the test
    /// holds: every hop is metered and EOF reaches every stage.
    #[test]
    fn bytes_flow_through_every_hop_and_every_stage_is_reaped() {
        let (in_r, mut in_w) = std::io::pipe().expect("pipe");
        let (out_r, out_w) = std::io::pipe().expect("pipe");
        let mut hops = vec![];
        let mut stages = vec![];
        let mut prev: Option<OwnedFd> = Some(OwnedFd::from(in_r));
        for cmd in ["cat", "tr a-z A-Z"] {
            let (r0, w0) = sized_pipe(65536).expect("pipe");
            let (r1, w1) = sized_pipe(65536).expect("pipe");
            hops.push(Some(Hop {
                input: Input::new(prev.take().expect("source")),
                output: Output::new(w0, CloseHow::Close),
            }));
            stages.push(
                Stage::spawn(cmd, StageIo::Pipe(r0), StageIo::Pipe(w1), true).expect("spawn"),
            );
            prev = Some(r1);
        }
        hops.push(Some(Hop {
            input: Input::new(prev.take().expect("source")),
            output: Output::new(OwnedFd::from(out_w), CloseHow::Close),
        }));
        let p = Pipeline::start(hops, stages, &CopyConfig::default()).expect("start");
        let reader = std::thread::spawn(move || {
            let mut out_r = out_r;
            let mut got = Vec::new();
            out_r.read_to_end(&mut got).expect("read");
            got
        });
        in_w.write_all(b"hello pipeline").expect("write");
        drop(in_w);
        let outcome = p.wait(&Signals::inert(), || {});
        assert_eq!(reader.join().expect("reader"), b"HELLO PIPELINE");
        assert_eq!(outcome.end, End::Complete);
        for (i, m) in outcome.meters.iter().enumerate() {
            assert_eq!(m.bytes(), 14, "hop {i}");
        }
        assert!(outcome.hops.iter().all(|h| matches!(h, HopEnd::Eof)));
        assert!(
            outcome
                .stages
                .iter()
                .all(|s| s.status().is_some_and(|s| s.success()))
        );
    }

    #[test]
    fn a_broken_pipe_into_a_stage_is_the_end_of_that_hop_not_a_failure() {
        let e = classify(
            Err(CopyError::Write(io::ErrorKind::BrokenPipe.into())),
            false,
        );
        assert!(matches!(e, HopEnd::ReaderGone));
        let e = classify(
            Err(CopyError::Write(io::ErrorKind::BrokenPipe.into())),
            true,
        );
        assert!(matches!(e, HopEnd::StdoutGone));
        let e = classify(Err(CopyError::Read(io::ErrorKind::BrokenPipe.into())), true);
        assert!(matches!(e, HopEnd::Failed(_)));
    }
}
