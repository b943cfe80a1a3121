//! `ipctool bench`: plan the cases from the flags, run them one after the other (own
//! peers, or a server under `--connect`) under a progress bar, and print the results in
//! the chosen format on stdout.

use std::time::Duration;

use anyhow::Result;

use super::Ctx;
use crate::addr::Address;
use crate::bench::kill::KillList;
use crate::bench::local::{self, Env, label};
use crate::bench::outcome::Outcome;
use crate::bench::{Case, Length, Mode, Pin, Transport, placement, remote};
use crate::cli::BenchArgs;
use crate::error::{ExitStatus, UsageError};
use crate::report::bench::{BenchFormat, BenchProgress, render};
use crate::stats::bench::BenchResult;
use crate::stdfds;

/// Measuring time per case without --duration or --count.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(1);
/// Warm-up per case without --warmup.
pub const DEFAULT_WARMUP: Duration = Duration::from_millis(200);
/// Message size for throughput without --size.
pub const DEFAULT_THROUGHPUT_SIZE: usize = 64 << 10;
/// Message size for latency without --size.
pub const DEFAULT_LATENCY_SIZE: usize = 64;

/// What is measured: ipctool's own peers over transports, or a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Transports(Vec<Transport>),
    Server(Address),
}

/// The other end of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Counterpart {
    /// ipctool's own peer over a transport.
    Own(Transport),
    /// A server under `--connect`.
    Server(Address),
}

/// `bench`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchConfig {
    pub target: Target,
    pub modes: Vec<Mode>,
    /// Sizes given with --size (for every mode), or `None` for the defaults per mode.
    pub sizes: Option<Vec<usize>>,
    pub length: Length,
    pub warmup: Duration,
    pub clients: usize,
    pub pin: Pin,
    pub format: BenchFormat,
}

impl BenchConfig {
    /// Validates the flags: usage errors (exit 2) for what clap cannot check.
    pub fn from_args(args: &BenchArgs) -> Result<BenchConfig> {
        let target = match &args.connect {
            Some(addr) => {
                match addr {
                    Address::Unix(_)
                    | Address::Abstract(_)
                    | Address::Tcp { .. }
                    | Address::Exec(_) => {}
                    _ => {
                        return Err(UsageError(format!(
                            "cannot benchmark {addr}: --connect needs a two-way stream: a socket path, @NAME, tcp:HOST:PORT or exec:CMD"
                        ))
                        .into());
                    }
                }
                Target::Server(addr.clone())
            }
            None if args.transport.is_empty() => Target::Transports(Transport::ALL.to_vec()),
            None => {
                let mut list = Vec::new();
                for t in &args.transport {
                    if !list.contains(t) {
                        list.push(*t);
                    }
                }
                Target::Transports(list)
            }
        };
        let sizes = if args.size.is_empty() {
            None
        } else {
            let mut list = Vec::new();
            for &s in &args.size {
                let s = usize::try_from(s).map_err(|_| UsageError("--size: too large".into()))?;
                if !list.contains(&s) {
                    list.push(s);
                }
            }
            Some(list)
        };
        let length = match (args.count, args.duration) {
            (Some(n), _) => Length::Count(n),
            (None, Some(d)) => Length::Time(d),
            (None, None) => Length::Time(DEFAULT_DURATION),
        };
        let format = match (args.json, args.csv, args.markdown) {
            (true, _, _) => BenchFormat::Json,
            (_, true, _) => BenchFormat::Csv,
            (_, _, true) => BenchFormat::Markdown,
            _ => BenchFormat::Table,
        };
        Ok(BenchConfig {
            target,
            modes: args.mode.modes().to_vec(),
            sizes,
            length,
            warmup: args.warmup.unwrap_or(DEFAULT_WARMUP),
            clients: usize::from(args.clients),
            pin: args.pin,
            format,
        })
    }

    /// The sizes a mode runs at.
    pub fn sizes_for(&self, mode: Mode) -> Vec<usize> {
        match &self.sizes {
            Some(list) => list.clone(),
            None => vec![match mode {
                Mode::Throughput => DEFAULT_THROUGHPUT_SIZE,
                Mode::Latency => DEFAULT_LATENCY_SIZE,
            }],
        }
    }

    /// Every case in order: by mode, then size, then transport (so the transports of one
    /// size are measured close together in time and compare fairly).
    pub fn cases(&self) -> Vec<(Counterpart, Case)> {
        let transports: Vec<Counterpart> = match &self.target {
            Target::Transports(list) => list.iter().copied().map(Counterpart::Own).collect(),
            Target::Server(addr) => vec![Counterpart::Server(addr.clone())],
        };
        let mut out = Vec::new();
        for &mode in &self.modes {
            for size in self.sizes_for(mode) {
                for t in &transports {
                    out.push((
                        t.clone(),
                        Case {
                            mode,
                            size,
                            clients: self.clients,
                            pin: self.pin,
                            warmup: self.warmup,
                            length: self.length,
                        },
                    ));
                }
            }
        }
        out
    }
}

/// Runs `bench`: every case, then the results on stdout.
pub fn run(ctx: &Ctx, args: &BenchArgs) -> Result<ExitStatus> {
    let cfg = BenchConfig::from_args(args)?;
    stdfds::require_stdout(
        "the results",
        "redirect stdout instead of closing it (>/dev/null discards the results)",
    )?;
    let cpus = match cfg.pin {
        Pin::None => Vec::new(),
        Pin::Same | Pin::Spread => placement::allowed_cpus()?,
    };
    if let [only] = cpus[..]
        && cfg.pin == Pin::Spread
    {
        ctx.printer.warn(format_args!(
            "only one CPU is available: --pin spread runs both processes on CPU {only}"
        ));
    }
    let kills = KillList::new();
    let env = Env {
        printer: &ctx.printer,
        signals: &ctx.signals,
        kills: &kills,
        cpus: &cpus,
    };
    let cases = cfg.cases();
    let progress = BenchProgress::start(&ctx.printer, cases.len(), &cfg.length);
    let mut results: Vec<BenchResult> = Vec::with_capacity(cases.len());
    let mut status = Ok(ExitStatus::Success);
    for (other, case) in &cases {
        let outcome = match other {
            Counterpart::Own(t) => {
                progress.case(&label(t.name(), case));
                local::run_case(&env, *t, case)
            }
            Counterpart::Server(addr) => {
                progress.case(&label(&addr.to_string(), case));
                remote::run_case(&env, addr, case)
            }
        };
        match outcome {
            Ok(Outcome::Done(r)) => results.push(*r),
            Ok(Outcome::Interrupted(sig)) => {
                status = Ok(ExitStatus::Signal(sig));
                break;
            }
            Err(e) => {
                status = Err(e);
                break;
            }
        }
        progress.done_one();
    }
    progress.finish();
    // What was measured before an interrupt or a failure is still printed; the exit status
    // says it is not the whole run.
    if results.is_empty() {
        return status;
    }
    let text = render(&results, cfg.format, &ctx.printer.out);
    stdfds::print_data(text.as_bytes(), "the results")?;
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn config(line: &str) -> Result<BenchConfig, String> {
        let argv = std::iter::once("ipctool").chain(line.split_whitespace());
        let cli = Cli::try_parse_from(argv).map_err(|e| format!("clap: {:?}", e.kind()))?;
        match cli.command {
            Command::Bench(args) => BenchConfig::from_args(&args).map_err(|e| format!("{e:#}")),
            _ => Err("not bench".into()),
        }
    }

    fn defaults() -> BenchConfig {
        BenchConfig {
            target: Target::Transports(Transport::ALL.to_vec()),
            modes: vec![Mode::Throughput, Mode::Latency],
            sizes: None,
            length: Length::Time(DEFAULT_DURATION),
            warmup: DEFAULT_WARMUP,
            clients: 1,
            pin: Pin::None,
            format: BenchFormat::Table,
        }
    }

    #[test]
    fn command_line_to_config() {
        let ms = Duration::from_millis;
        let rows: Vec<(&str, BenchConfig)> = vec![
            ("bench", defaults()),
            (
                "bench --transport unix,tcp,unix --mode latency",
                BenchConfig {
                    target: Target::Transports(vec![Transport::Unix, Transport::Tcp]),
                    modes: vec![Mode::Latency],
                    ..defaults()
                },
            ),
            (
                "bench -s 64,4KiB,1MiB,64 -d 300ms --warmup 0s --json",
                BenchConfig {
                    sizes: Some(vec![64, 4096, 1 << 20]),
                    length: Length::Time(ms(300)),
                    warmup: Duration::ZERO,
                    format: BenchFormat::Json,
                    ..defaults()
                },
            ),
            (
                "bench --count 1000 --clients 4 --pin spread --csv",
                BenchConfig {
                    length: Length::Count(1000),
                    clients: 4,
                    pin: Pin::Spread,
                    format: BenchFormat::Csv,
                    ..defaults()
                },
            ),
            (
                "bench --connect /tmp/echo.sock --mode throughput --markdown",
                BenchConfig {
                    target: Target::Server(Address::Unix("/tmp/echo.sock".into())),
                    modes: vec![Mode::Throughput],
                    format: BenchFormat::Markdown,
                    ..defaults()
                },
            ),
            (
                "bench --connect exec:cat --pin same",
                BenchConfig {
                    target: Target::Server(Address::Exec("cat".into())),
                    pin: Pin::Same,
                    ..defaults()
                },
            ),
        ];
        for (line, want) in rows {
            assert_eq!(config(line).as_ref(), Ok(&want), "{line}");
        }
    }

    #[test]
    fn bad_command_lines() {
        let rows = [
            ("bench --size 0", "clap: ValueValidation"),
            ("bench --size 12parsecs", "clap: ValueValidation"),
            ("bench --size 1GiB", "clap: ValueValidation"),
            ("bench --transport carrier-pigeon", "clap: InvalidValue"),
            ("bench --duration 5", "clap: ValueValidation"),
            ("bench --duration 0s", "clap: ValueValidation"),
            ("bench --duration 1s --count 5", "clap: ArgumentConflict"),
            ("bench --count 0", "clap: ValueValidation"),
            ("bench --clients 0", "clap: ValueValidation"),
            ("bench --json --csv", "clap: ArgumentConflict"),
            (
                "bench --connect @x --transport unix",
                "clap: ArgumentConflict",
            ),
            ("bench --connect fifo:/tmp/f", "needs a two-way stream"),
            ("bench --connect -", "needs a two-way stream"),
        ];
        for (line, want) in rows {
            let got = config(line).expect_err(line);
            assert!(got.contains(want), "{line}: {got}");
        }
    }

    #[test]
    fn cases_are_ordered_by_mode_size_transport() {
        let cfg = config("bench -t pipe,unix -s 64,1KiB").expect("config");
        let got: Vec<(Transport, Mode, usize)> = cfg
            .cases()
            .into_iter()
            .map(|(t, c)| match t {
                Counterpart::Own(t) => (t, c.mode, c.size),
                Counterpart::Server(a) => panic!("no server asked for: {a}"),
            })
            .collect();
        use Mode::*;
        use Transport::*;
        assert_eq!(
            got,
            [
                (Pipe, Throughput, 64),
                (Unix, Throughput, 64),
                (Pipe, Throughput, 1024),
                (Unix, Throughput, 1024),
                (Pipe, Latency, 64),
                (Unix, Latency, 64),
                (Pipe, Latency, 1024),
                (Unix, Latency, 1024),
            ]
        );
        let defaults = config("bench").expect("config").cases();
        assert_eq!(defaults.len(), 10);
        assert!(
            defaults
                .iter()
                .all(|(_, c)| c.size == if c.mode == Throughput { 65536 } else { 64 })
        );
    }
}
