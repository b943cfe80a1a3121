//! `ipctool pipe [CMD...]`: a pass-through meter from stdin to stdout, or a pipeline of
//! `sh -c CMD` stages joined by pipes through ipctool, which meters every hop.
//!
//! This module wires the pipeline (pipes, stages, hops) and drives it; `verdict` turns
//! what happened into the records, the bottleneck and the exit status.

mod verdict;

pub use verdict::describe_status;

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use anyhow::{Context, Result};

use super::{Ctx, StatsOut};
use crate::cli::PipeArgs;
use crate::engine::CopyConfig;
use crate::engine::pipeline::{Hop, Pipeline};
use crate::error::{ExitStatus, UsageError};
use crate::report::StatsFormat;
use crate::report::progress::{HopBars, HopLine};
use crate::stdfds;
use crate::term::escape;
use crate::transport::stage::{Stage, StageIo, grow_pipe, pipe_target, sized_pipe};
use crate::transport::{CloseHow, FdKind, Input, Output};
use verdict::Plan;

/// When the live lines (and the closing summary in their place) are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressWhen {
    /// When stderr is a terminal that stdout does not share (and not `-q`).
    Auto,
    /// `--progress`: on any stderr; one line when stdout shares its terminal.
    Always,
    /// `--no-progress`.
    Never,
}

/// `pipe`, validated.
#[derive(Clone, Debug)]
pub struct PipeConfig {
    /// The stages' commands; empty for the plain meter.
    pub stages: Vec<String>,
    /// Bytes expected on stdin (`--size`).
    pub size: Option<u64>,
    pub copy: CopyConfig,
    pub stats: Option<StatsFormat>,
    pub progress: ProgressWhen,
}

impl PipeConfig {
    pub fn from_args(args: &PipeArgs, copy: &CopyConfig) -> Result<PipeConfig> {
        if let Some(i) = args.commands.iter().position(|c| c.trim().is_empty()) {
            return Err(UsageError(format!(
                "stage {} is an empty command: each CMD is one stage, run as `sh -c CMD`",
                i + 1
            ))
            .into());
        }
        let progress = if args.no_progress {
            ProgressWhen::Never
        } else if args.progress {
            ProgressWhen::Always
        } else {
            ProgressWhen::Auto
        };
        Ok(PipeConfig {
            stages: args.commands.clone(),
            size: args.size,
            copy: CopyConfig {
                rate_limit: args.rate_limit,
                ..copy.clone()
            },
            stats: args.stats,
            progress,
        })
    }
}

pub fn run(ctx: &Ctx, args: &PipeArgs) -> Result<ExitStatus> {
    let started = std::time::Instant::now();
    let mut cfg = PipeConfig::from_args(args, &ctx.copy)?;
    stdfds::require_stdout(
        if cfg.stages.is_empty() {
            "the data"
        } else {
            "the last stage's output"
        },
        "redirect stdout instead of closing it: >/dev/null discards the data",
    )?;
    let stdin = stdin_fd().context("cannot read stdin")?;
    let stdout = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot write to stdout")?;
    let size = cfg.size.or_else(|| remaining_file_size(&stdin));
    let target = pipe_target();
    // Splice moves at most what the pipes hold; one call per full pipe.
    cfg.copy.chunk = cfg.copy.chunk.max(target);
    let (hops, stages) = if cfg.stages.is_empty() {
        (vec![Some(meter_hop(stdin, stdout, target))], Vec::new())
    } else {
        wire(ctx, &cfg.stages, stdin, stdout, target)?
    };
    let plan = Plan::new(&cfg.stages, &hops);
    let pipeline = Pipeline::start(hops, stages, &cfg.copy)
        .context("cannot start copying between the stages")?;
    let _wake = ctx.signals.wake_on_signal(pipeline.waker())?;
    let (multi, layout) = ctx.printer.data_progress(
        cfg.progress != ProgressWhen::Never,
        cfg.progress == ProgressWhen::Always,
    );
    let shown = !multi.is_hidden();
    let meters = pipeline.meters();
    let bars = HopBars::start(
        &multi,
        layout,
        plan.hops
            .iter()
            .zip(&meters)
            .enumerate()
            .filter(|(_, (h, _))| h.metered)
            .map(|(i, (_, m))| HopLine {
                hop: i,
                label: plan.line_label(i),
                meter: m.clone(),
                size: if i == 0 { size } else { None },
            })
            .collect(),
    );
    // Without --stats, the human summary replaces the live lines where they were drawn.
    let stats = StatsOut::new(
        cfg.stats.or(shown.then_some(StatsFormat::Human)),
        &ctx.printer,
    );
    let outcome = pipeline.wait(&ctx.signals, || {
        if ctx.signals.take_usr1() {
            stats.print_now(&plan.records(&meters, started, None));
        }
    });
    drop(bars);
    for (i, s) in outcome.stages.iter().enumerate() {
        if let Some(status) = s.status() {
            ctx.printer.event(format_args!(
                "{} {}",
                verdict::stage_name(i, &s.command),
                verdict::describe_status(status)
            ));
        }
    }
    stats.print(&plan.records(&outcome.meters, started, Some(&outcome)));
    verdict::status(&plan, &outcome)
}

/// A duplicate of our stdin; /dev/null when stdin is closed (nothing to read then).
fn stdin_fd() -> io::Result<OwnedFd> {
    match io::stdin().as_fd().try_clone_to_owned() {
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => {
            Ok(OwnedFd::from(std::fs::File::open("/dev/null")?))
        }
        other => other,
    }
}

/// What is left to read of a regular file on stdin, for the bar.
fn remaining_file_size(fd: &OwnedFd) -> Option<u64> {
    let st = rustix::fs::fstat(fd).ok()?;
    if FdKind::of(fd.as_fd()) != FdKind::File {
        return None;
    }
    let pos = rustix::fs::seek(fd, rustix::fs::SeekFrom::Current(0)).unwrap_or(0);
    u64::try_from(st.st_size).ok()?.checked_sub(pos)
}

/// The plain meter's one hop, stdin to stdout.
fn meter_hop(stdin: OwnedFd, stdout: OwnedFd, target: usize) -> Hop {
    let input = Input::new(stdin);
    let output = Output::new(stdout, CloseHow::Stdout);
    // Grow the pipes we are given on either side, as we grow our own: far fewer wake-ups.
    if input.kind() == FdKind::Pipe {
        grow_pipe(input.fd(), target);
    }
    if let (Some(fd), FdKind::Pipe) = (output.fd(), output.kind()) {
        grow_pipe(fd, target);
    }
    Hop { input, output }
}

/// Starts the stages and returns the hops between them: one more hop than stages. A
/// terminal on stdin (stdout) is given to the first (last) stage directly: a stage that
/// reads the terminal itself is not stopped by SIGTTIN in the background, and one that
/// writes to it still sees a terminal (colours, paging).
fn wire(
    ctx: &Ctx,
    commands: &[String],
    stdin: OwnedFd,
    stdout: OwnedFd,
    target: usize,
) -> Result<(Vec<Option<Hop>>, Vec<Stage>)> {
    let n = commands.len();
    let mut hops: Vec<Option<Hop>> = Vec::with_capacity(n + 1);
    let mut stages: Vec<Stage> = Vec::with_capacity(n);
    let stdin_tty = FdKind::of(stdin.as_fd()) == FdKind::Tty;
    let stdout_tty = FdKind::of(stdout.as_fd()) == FdKind::Tty;
    let own_groups = crate::transport::stage::own_groups();
    let mut upstream = Some(stdin);
    let mut stdout = Some(stdout);
    for (i, cmd) in commands.iter().enumerate() {
        let spawned = (|| -> io::Result<Stage> {
            let stage_in = if i == 0 && stdin_tty {
                upstream = None;
                hops.push(None);
                StageIo::Inherit
            } else {
                let (r, w) = sized_pipe(target)?;
                let from = upstream.take().expect("each hop has a source");
                hops.push(Some(Hop {
                    input: Input::new(from),
                    output: Output::new(w, CloseHow::Close),
                }));
                StageIo::Pipe(r)
            };
            let stage_out = if i + 1 == n && stdout_tty {
                StageIo::Inherit
            } else {
                let (r, w) = sized_pipe(target)?;
                upstream = Some(r);
                StageIo::Pipe(w)
            };
            Stage::spawn(cmd, stage_in, stage_out, own_groups)
        })();
        match spawned {
            Ok(stage) => {
                ctx.printer.event(format_args!(
                    "started stage {} (pid {}): {}",
                    i + 1,
                    stage.pid(),
                    escape(cmd)
                ));
                stages.push(stage);
            }
            Err(e) => {
                for s in &mut stages {
                    s.kill_and_reap();
                }
                return Err(anyhow::Error::new(e)
                    .context(format!("could not start {}", verdict::stage_name(i, cmd))));
            }
        }
    }
    match upstream {
        Some(from) => hops.push(Some(Hop {
            input: Input::new(from),
            output: Output::new(
                stdout.take().expect("stdout is used once"),
                CloseHow::Stdout,
            ),
        })),
        None => hops.push(None),
    }
    Ok((hops, stages))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn config(args: &[&str]) -> Result<PipeConfig> {
        let cli = Cli::try_parse_from(["ipctool", "pipe"].iter().chain(args))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let Command::Pipe(a) = cli.command else {
            panic!("not pipe")
        };
        PipeConfig::from_args(&a, &CopyConfig::default())
    }

    #[test]
    fn command_lines_to_configs() {
        type Want = (
            Vec<&'static str>,
            Option<u64>,
            Option<u64>,
            Option<StatsFormat>,
            ProgressWhen,
        );
        let rows: Vec<(&[&str], Want)> = vec![
            (&[], (vec![], None, None, None, ProgressWhen::Auto)),
            (
                &["--size", "1G", "-L", "20M", "--stats"],
                (
                    vec![],
                    Some(1 << 30),
                    Some(20 << 20),
                    Some(StatsFormat::Human),
                    ProgressWhen::Auto,
                ),
            ),
            (
                &["--stats=json", "--progress", "--", "gzip -1", "wc -c"],
                (
                    vec!["gzip -1", "wc -c"],
                    None,
                    None,
                    Some(StatsFormat::Json),
                    ProgressWhen::Always,
                ),
            ),
            (
                &["--no-progress", "cat"],
                (vec!["cat"], None, None, None, ProgressWhen::Never),
            ),
            // The last of --progress/--no-progress wins.
            (
                &["--no-progress", "--progress"],
                (vec![], None, None, None, ProgressWhen::Always),
            ),
            (
                &["--", "-x"],
                (vec!["-x"], None, None, None, ProgressWhen::Auto),
            ),
        ];
        for (args, want) in rows {
            let c = config(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let got = (
                c.stages.iter().map(String::as_str).collect::<Vec<_>>(),
                c.size,
                c.copy.rate_limit,
                c.stats,
                c.progress,
            );
            assert_eq!(got, want, "{args:?}");
        }
    }

    #[test]
    fn bad_command_lines_are_refused() {
        let e = config(&["--", "cat", " "]).expect_err("empty stage");
        assert!(
            format!("{e}").contains("stage 2 is an empty command"),
            "{e}"
        );
        assert!(config(&["-L", "0"]).is_err());
        assert!(config(&["--size", "0"]).is_err());
        assert!(config(&["--stats=xml"]).is_err());
    }
}
