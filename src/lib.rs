//! ipctool: one binary for inter-process communication from a terminal.
//!
//! `run` sets up what every subcommand shares (the printer for diagnostics, signal
//! handling, the copy configuration), dispatches, and turns an error into the one
//! `ipctool: error:` line and its exit status.

pub mod addr;
pub mod bench;
pub mod cli;
pub mod cmd;
pub mod engine;
pub mod error;
pub mod generate;
pub mod ready;
pub mod report;
pub mod server;
pub mod signals;
pub mod stats;
pub mod stdfds;
pub mod term;
pub mod transport;
pub mod units;
pub mod wake;

use cli::{Cli, Command};
use cmd::Ctx;
use engine::CopyConfig;
use error::{ExitStatus, Several, hint_of, is_stdout_gone, status_of};
use signals::Signals;
use term::{Printer, Verbosity};

/// Runs one command line.
pub fn run(cli: Cli) -> ExitStatus {
    let verbosity = if cli.global.quiet {
        Verbosity::Quiet
    } else if cli.global.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let printer = Printer::new(verbosity, cli.global.color);
    transport::raise_descriptor_limit();
    if let Err(e) = stdfds::seal_closed_stdout() {
        printer.error(format_args!("cannot reopen the closed stdout: {e}"), None);
        return ExitStatus::Failure;
    }
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            printer.error(format_args!("cannot install signal handlers: {e}"), None);
            return ExitStatus::Failure;
        }
    };
    let ctx = Ctx {
        printer,
        signals,
        copy: CopyConfig {
            splice: !cli.global.no_splice,
            ..CopyConfig::default()
        },
    };
    let result = match &cli.command {
        Command::Connect(args) => cmd::connect::run(&ctx, args),
        Command::Listen(args) => cmd::listen::run(&ctx, args),
        Command::Relay(args) => cmd::relay::run(&ctx, args),
        Command::Mkfifo(args) => cmd::mkfifo::run(&ctx, args),
        Command::Pipe(args) => cmd::pipe::run(&ctx, args),
        Command::Bench(args) => cmd::bench::run(&ctx, args),
        Command::BenchPeer(args) => cmd::bench_peer::run(&ctx, args),
    };
    match result {
        Ok(status) => status,
        Err(err) => {
            if is_stdout_gone(&err) {
                return ExitStatus::Success;
            }
            let status = status_of(&err);
            if matches!(status, ExitStatus::Signal(_)) {
                return status;
            }
            match err.downcast_ref::<Several>() {
                Some(Several(errors)) => {
                    for e in errors {
                        ctx.printer
                            .error(format_args!("{e:#}"), hint_of(e).as_deref());
                    }
                }
                None => ctx
                    .printer
                    .error(format_args!("{err:#}"), hint_of(&err).as_deref()),
            }
            status
        }
    }
}
