//! What a pipeline amounts to: its `--stats` records (one `hop` per hop, then the `total`
//! with the bottleneck), and its exit status, as `set -o pipefail` gives it.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus as ProcStatus;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};

use crate::engine::CopyError;
use crate::engine::pipeline::{End, Hop, HopEnd, Outcome};
use crate::error::{ExitStatus, StageFailed, hinted};
use crate::stats::bottleneck::{self, Bottleneck, HopWaits};
use crate::stats::{HopRecord, Meter, PipeTotalRecord, Record};
use crate::term::escape;

/// One hop, as reports name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HopPlan {
    /// `stdin` or the command of the stage it reads.
    pub from: String,
    /// The command of the stage it feeds, or `stdout`.
    pub to: String,
    /// False when the stage was given the terminal directly.
    pub metered: bool,
}

/// The shape of a pipeline, for reports.
#[derive(Clone, Debug)]
pub struct Plan {
    pub hops: Vec<HopPlan>,
    stages: Vec<String>,
}

impl Plan {
    pub fn new(stages: &[String], hops: &[Option<Hop>]) -> Plan {
        let n = stages.len();
        let hops = (0..=n)
            .map(|i| HopPlan {
                from: if i == 0 {
                    "stdin".into()
                } else {
                    stages[i - 1].clone()
                },
                to: if i == n {
                    "stdout".into()
                } else {
                    stages[i].clone()
                },
                metered: hops.get(i).is_some_and(Option::is_some),
            })
            .collect();
        Plan {
            hops,
            stages: stages.to_vec(),
        }
    }

    /// The label of a hop's live line: empty for the plain meter.
    pub fn line_label(&self, i: usize) -> String {
        if self.stages.is_empty() {
            return String::new();
        }
        let h = &self.hops[i];
        format!("hop {i} {} → {}", short(&h.from), short(&h.to))
    }

    /// The records so far (`outcome` is `None` for a live report).
    pub fn records(
        &self,
        meters: &[Arc<Meter>],
        started: Instant,
        outcome: Option<&Outcome>,
    ) -> Vec<Record> {
        let now = outcome.map_or_else(Instant::now, |o| o.started + o.duration);
        let pipe_started = outcome.map_or(started, |o| o.started);
        let mut records: Vec<Record> = Vec::with_capacity(meters.len() + 1);
        let mut waits = Vec::with_capacity(meters.len());
        for (i, (plan, m)) in self.hops.iter().zip(meters).enumerate() {
            let ended = m.ended_at().unwrap_or(now);
            let mut rec = HopRecord::new(
                i as u64,
                (plan.from.clone(), plan.to.clone()),
                m.bytes(),
                ended.saturating_duration_since(pipe_started),
                (m.read_wait(), m.write_wait()),
            );
            rec.metered = plan.metered;
            waits.push(HopWaits {
                bytes: m.bytes(),
                read_wait: m.read_wait(),
                write_wait: m.write_wait(),
                metered: plan.metered,
            });
            records.push(Record::Hop(rec));
        }
        let d = now.saturating_duration_since(started);
        let first = meters.first().map_or(0, |m| m.bytes());
        let last = meters.last().map_or(0, |m| m.bytes());
        // A hop that spent half the time or more holding back for --rate-limit: the limit
        // set the pace, whatever the waits around it say (they only show its effect).
        let throttled = meters
            .iter()
            .map(|m| m.throttled())
            .max()
            .unwrap_or_default();
        let paced = !d.is_zero() && throttled * 2 >= d;
        let found = if paced {
            None
        } else {
            bottleneck::find(&waits)
        };
        let (bottleneck, bottleneck_stage) = match found {
            _ if paced => (Some(RATE_LIMIT.into()), None),
            Some(Bottleneck::Stage(i)) => (self.stages.get(i).cloned(), Some(i as u64 + 1)),
            Some(Bottleneck::Input) => (Some("stdin".into()), None),
            Some(Bottleneck::Output) => (Some("stdout".into()), None),
            None => (None, None),
        };
        records.push(Record::PipeTotal(PipeTotalRecord {
            kind: "total",
            stages: self.stages.len() as u64,
            sent_bytes: first,
            received_bytes: last,
            duration_secs: d.as_secs_f64(),
            sent_bytes_per_sec: crate::units::per_sec(first, d),
            received_bytes_per_sec: crate::units::per_sec(last, d),
            bottleneck,
            bottleneck_stage,
        }));
        records
    }

    /// How to name one end of hop `i` in a message.
    fn source(&self, i: usize) -> String {
        match i {
            0 => "stdin".into(),
            _ => stage_name(i - 1, &self.stages[i - 1]),
        }
    }

    fn destination(&self, i: usize) -> String {
        match self.stages.get(i) {
            Some(cmd) => stage_name(i, cmd),
            None => "stdout".into(),
        }
    }
}

/// The bottleneck's name when `--rate-limit` set the pace.
pub const RATE_LIMIT: &str = "rate-limit";

/// How messages name the stage at index `i` (from 0) of the pipeline: stages are
/// numbered from 1, as SPEC §3 counts them (hop i is stage i into stage i+1).
pub fn stage_name(i: usize, cmd: &str) -> String {
    format!("stage {} ({})", i + 1, escape(cmd))
}

/// A command shortened for a live line.
fn short(cmd: &str) -> String {
    const MAX: usize = 24;
    let cmd = escape(cmd);
    if cmd.chars().count() <= MAX {
        return cmd;
    }
    let mut s: String = cmd.chars().take(MAX - 1).collect();
    s.push('…');
    s
}

/// The exit status of a finished pipeline: 128 + the stop signal; exit 1 if ipctool
/// failed to move data; else the status of the last stage that failed (`pipefail`), as an
/// error naming it. Stages killed by SIGPIPE after the reader of stdout went away have not
/// failed: that end is quiet.
pub fn status(plan: &Plan, outcome: &Outcome) -> Result<ExitStatus> {
    if let End::Signal(sig) = outcome.end {
        return Ok(ExitStatus::Signal(sig));
    }
    for (i, h) in outcome.hops.iter().enumerate() {
        if let HopEnd::Failed(e) = h {
            return Err(match e {
                CopyError::Read(io) => anyhow!("could not read {}: {io}", plan.source(i)),
                CopyError::Write(io) => anyhow!("could not write to {}: {io}", plan.destination(i)),
            });
        }
    }
    let quiet_sigpipe = outcome.stdout_gone();
    let failed: Vec<(usize, ProcStatus)> = outcome
        .stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.status().map(|st| (i, st)))
        .filter(|(_, st)| !st.success())
        .filter(|(_, st)| !(quiet_sigpipe && died_of_sigpipe(*st)))
        .collect();
    let Some(&(last, st)) = failed.last() else {
        return Ok(ExitStatus::Success);
    };
    let mut message = format!(
        "{} {}",
        stage_name(last, &plan.stages[last]),
        describe_status(st)
    );
    for &(i, st) in failed.iter().rev().skip(1) {
        message.push_str(&format!(
            "; {} also failed: {}",
            stage_name(i, &plan.stages[i]),
            describe_status(st)
        ));
    }
    let err = StageFailed {
        code: code_of(st),
        message,
    }
    .into();
    // What sh says with these two: the command was not found, or could not be run.
    let hint = match st.code() {
        Some(127) => "the shell did not find a command of that stage: check its name and $PATH",
        Some(126) => {
            "the shell found a command of that stage but could not run it: check that it is executable"
        }
        _ => return Err(err),
    };
    Err(hinted(err, hint))
}

/// Killed by SIGPIPE, or a shell reporting that of its last command (141).
fn died_of_sigpipe(st: ProcStatus) -> bool {
    st.signal() == Some(libc::SIGPIPE) || st.code() == Some(128 + libc::SIGPIPE)
}

/// The shell's number for a status: the exit code, or 128 + the signal.
pub fn code_of(st: ProcStatus) -> u8 {
    match (st.code(), st.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(255),
        (None, None) => 1,
    }
}

/// "exited with status 1", "was killed by SIGPIPE (status 141)".
pub fn describe_status(st: ProcStatus) -> String {
    match st.signal() {
        Some(sig) => format!(
            "was killed by {} (status {})",
            signal_name(sig),
            code_of(st)
        ),
        None => format!("exited with status {}", code_of(st)),
    }
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_in_the_shells_numbers() {
        assert_eq!(code_of(ProcStatus::from_raw(3 << 8)), 3);
        assert_eq!(code_of(ProcStatus::from_raw(libc::SIGPIPE)), 141);
        assert_eq!(
            describe_status(ProcStatus::from_raw(libc::SIGPIPE)),
            "was killed by SIGPIPE (status 141)"
        );
        assert_eq!(
            describe_status(ProcStatus::from_raw(1 << 8)),
            "exited with status 1"
        );
        assert_eq!(signal_name(64), "signal 64");
    }

    #[test]
    fn plans_name_every_hop() {
        let stages = vec![
            "head -c 100000000 /dev/urandom".to_owned(),
            "wc -c".to_owned(),
        ];
        let plan = Plan::new(&stages, &[None, None, None]);
        let names: Vec<(&str, &str)> = plan
            .hops
            .iter()
            .map(|h| (h.from.as_str(), h.to.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("stdin", "head -c 100000000 /dev/urandom"),
                ("head -c 100000000 /dev/urandom", "wc -c"),
                ("wc -c", "stdout")
            ]
        );
        assert_eq!(plan.line_label(1), "hop 1 head -c 100000000 /dev/… → wc -c");
        assert_eq!(plan.source(1), "stage 1 (head -c 100000000 /dev/urandom)");
        assert_eq!(plan.source(2), "stage 2 (wc -c)");
        assert_eq!(plan.destination(1), "stage 2 (wc -c)");
        assert_eq!(plan.destination(2), "stdout");
        let meter = Plan::new(&[], &[None]);
        assert_eq!(meter.line_label(0), "");
    }
}
