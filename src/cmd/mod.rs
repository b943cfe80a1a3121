//! The subcommands: each turns its arguments into a validated config, then drives the
//! shared transport core and engine. What they share lives here: the run context, the
//! validated data-moving flags, and bridging one connection to stdio.

pub mod bench;
pub mod bench_peer;
pub mod connect;
pub mod listen;
pub mod mkfifo;
pub mod pipe;
pub mod relay;

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use crate::addr::Address;
use crate::cli::TransferArgs;
use crate::engine::{CopyConfig, End, Session, SessionConfig};
use crate::error::ExitStatus;
use crate::error::UsageError;
use crate::report::outcome::{Sides, judge};
use crate::report::progress::LiveLine;
use crate::report::{StatsFormat, StatsOut};
use crate::signals::Signals;
use crate::stats::{ConnRecord, Record, TotalRecord};
use crate::stdfds;
use crate::term::{Printer, escape};
use crate::transport::{self, Conn, Framing};
use crate::units::format_duration;

/// What every subcommand runs with.
#[derive(Debug)]
pub struct Ctx {
    pub printer: Printer,
    pub signals: Signals,
    /// How copies move bytes (global `--no-splice`).
    pub copy: CopyConfig,
}

/// The data-moving flags, validated.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub stats: Option<StatsFormat>,
    pub progress: bool,
    pub session: SessionConfig,
    /// How message sockets meet the byte stream (`--raw-messages`).
    pub framing: Framing,
}

impl Transfer {
    pub fn from_args(args: &TransferArgs, copy: &CopyConfig) -> Transfer {
        Transfer {
            stats: args.stats,
            progress: args.progress,
            session: SessionConfig {
                copy: copy.clone(),
                idle_timeout: args.idle_timeout,
                send: !args.recv_only,
                recv: !args.send_only,
                tap: None,
                fail_both: false,
            },
            framing: if args.raw_messages {
                Framing::Raw
            } else {
                Framing::Lines
            },
        }
    }

    /// A datagram client keeps receiving after its input ended only when something else
    /// ends it: `--idle-timeout`, or `--recv-only` (where it never sends).
    pub fn keep_receiving(&self) -> bool {
        self.session.idle_timeout.is_some() || !self.session.send
    }
}

/// `--raw-messages` needs a message address among `addrs`.
pub fn check_raw_messages(args: &TransferArgs, addrs: &[&Address]) -> Result<()> {
    if args.raw_messages && !addrs.iter().any(|a| a.is_message()) {
        let shown: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
        return Err(UsageError(format!(
            "--raw-messages applies to unix-dgram: and seqpacket: addresses, not {}",
            shown.join(" or ")
        ))
        .into());
    }
    Ok(())
}

/// Refuses to start a session that writes what it receives (`what`, e.g. "what ADDR
/// sends") to a stdout that was closed at start (`>&-`): it would be lost, and the exit
/// status could not tell. With `--send-only` nothing goes to stdout.
pub fn require_stdout(transfer: &Transfer, what: &str) -> Result<()> {
    if transfer.session.recv {
        stdfds::require_stdout(
            what,
            "redirect stdout instead of closing it (>/dev/null discards the data), or use --send-only",
        )?;
    }
    Ok(())
}

/// Bridges one connection to stdin/stdout until it ends: the whole of `connect` and of a
/// single-client `listen` once connected. Prints the `--stats` records and returns the
/// exit status; a failure is an error naming the address.
pub fn bridge_stdio(
    ctx: &Ctx,
    remote: Conn,
    addr: &Address,
    transfer: &Transfer,
    started: Instant,
) -> Result<ExitStatus> {
    let shown = escape(&addr.to_string());
    let peer = remote.peer;
    let label = remote.peer_label.clone();
    let local = transport::stdio()?;
    let session = Session::start(local, remote, transfer.session.clone())?;
    let _wake = ctx.signals.wake_on_signal(session.waker())?;
    let (sent, received) = session.meters();
    let conn_started = session.started();
    let stats = StatsOut::new(transfer.stats, &ctx.printer);
    let snapshot = |status: &'static str, ended: Option<Instant>| -> Vec<Record> {
        let mut c = ConnRecord::from_meters(
            1,
            addr.to_string(),
            peer,
            (&sent, &received),
            conn_started,
            ended,
        );
        c.peer = label.clone();
        c.status = status;
        let t = TotalRecord::new(
            1,
            c.sent_bytes,
            c.received_bytes,
            ended
                .unwrap_or_else(Instant::now)
                .saturating_duration_since(started),
        );
        vec![Record::Connection(c), Record::Total(t)]
    };
    let line = transfer.progress.then(|| {
        LiveLine::start(
            &ctx.printer.data_progress(true, true).0,
            shown.clone(),
            sent.clone(),
            received.clone(),
        )
    });
    let outcome = session.wait(Some(&ctx.signals), || {
        if ctx.signals.take_usr1() {
            stats.print_now(&snapshot("open", None));
        }
    });
    drop(line);
    let ended = Instant::now();
    let (status, err) = judge(&outcome, &Sides::stdio(&shown));
    let mut records = snapshot(status, Some(ended));
    if let Record::Connection(c) = &mut records[0] {
        c.set_exit(outcome.child_status);
        c.error = err.as_ref().map(|e| format!("{e:#}"));
    }
    ctx.printer.event(format_args!(
        "closed {shown}: sent {} B, received {} B{}",
        sent.bytes(),
        received.bytes(),
        match outcome.end {
            End::Idle | End::IdleWithData => format!(
                " (idle for {})",
                format_duration(transfer.session.idle_timeout.unwrap_or(Duration::ZERO))
            ),
            _ => String::new(),
        }
    ));
    stats.print(&records);
    if let Some(err) = err {
        return Err(err);
    }
    if let End::Signal(sig) = outcome.end {
        return Ok(ExitStatus::Signal(sig));
    }
    // Our stdout's reader gone (`| head`) ends quietly with 0 (SPEC §4), whatever the
    // teardown then did to the command.
    if let Some(status) = outcome.child_status
        && !status.success()
        && outcome.end != End::StdoutGone
    {
        return Err(anyhow!("{shown} {}", pipe::describe_status(status)));
    }
    Ok(ExitStatus::Success)
}

/// Parses a command line (words split on spaces) for the unit tests of a subcommand's
/// configuration, with a quiet context.
#[cfg(test)]
pub fn parse_for_test(line: &str) -> Result<(crate::cli::Command, Ctx), String> {
    use clap::Parser;
    let argv = std::iter::once("ipctool").chain(line.split_whitespace());
    let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| format!("clap: {:?}", e.kind()))?;
    let ctx = Ctx {
        printer: Printer::quiet(),
        signals: Signals::inert(),
        copy: CopyConfig::default(),
    };
    Ok((cli.command, ctx))
}
