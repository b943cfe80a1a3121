//! The subcommands: each turns its arguments into a validated config, then drives the
//! shared transport core and engine. What they share lives here: the run context, the
//! stats reporter, and bridging one connection to stdio.

pub mod bench;
pub mod bench_peer;
pub mod connect;
pub mod listen;

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use crate::addr::Address;
use crate::cli::TransferArgs;
use crate::engine::{CopyConfig, CopyError, Dir, DirEnd, End, Outcome, Session, SessionConfig};
use crate::error::ExitStatus;
use crate::report::progress::LiveLine;
use crate::report::{StatsFormat, render};
use crate::signals::Signals;
use crate::stats::{ConnRecord, Meter, Record, TotalRecord};
use crate::term::{Printer, escape};
use crate::transport::{self, Conn, PeerCreds};
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
            },
        }
    }
}

/// Prints `--stats` records, if asked for.
#[derive(Clone, Debug)]
pub struct StatsOut {
    format: Option<StatsFormat>,
    printer: Printer,
}

impl StatsOut {
    pub fn new(format: Option<StatsFormat>, printer: &Printer) -> StatsOut {
        StatsOut {
            format,
            printer: printer.clone(),
        }
    }

    pub fn print(&self, records: &[Record]) {
        if let Some(format) = self.format {
            let text: Vec<String> = records
                .iter()
                .map(|r| render(r, format, &self.printer.err))
                .collect();
            self.printer.report(&text.join("\n"));
        }
    }
}

/// Names for the two sides of a session, for messages.
pub struct Sides<'a> {
    /// What the send direction reads (e.g. "stdin").
    pub local_in: &'a str,
    /// What the recv direction writes (e.g. "stdout").
    pub local_out: &'a str,
    /// The remote endpoint.
    pub remote: &'a str,
}

impl Sides<'_> {
    pub const STDIO: (&'static str, &'static str) = ("stdin", "stdout");
}

/// The status word and the error (if any) of a finished session.
pub fn judge(outcome: &Outcome, sides: &Sides<'_>) -> (&'static str, Option<anyhow::Error>) {
    match outcome.end {
        End::Complete => ("complete", None),
        End::Idle => ("idle", None),
        End::StdoutGone => ("stdout-closed", None),
        End::Signal(_) => ("interrupted", None),
        End::Aborted => ("aborted", None),
        End::Failed => {
            let failed = [(Dir::Send, &outcome.send), (Dir::Recv, &outcome.recv)]
                .into_iter()
                .find_map(|(d, e)| match e {
                    DirEnd::Failed(err) => Some((d, err)),
                    _ => None,
                });
            let err = match failed {
                Some((dir, e)) => failure(dir, e, sides),
                None => anyhow!("the connection to {} failed", sides.remote),
            };
            ("failed", Some(err))
        }
    }
}

fn failure(dir: Dir, e: &CopyError, sides: &Sides<'_>) -> anyhow::Error {
    use std::io::ErrorKind as K;
    let io = e.io();
    let gone = matches!(io.kind(), K::BrokenPipe | K::ConnectionReset);
    match (dir, e) {
        (Dir::Send, CopyError::Read(_)) => anyhow!("could not read {}: {io}", sides.local_in),
        (Dir::Send, CopyError::Write(_)) if gone => anyhow!(
            "could not send all of {} to {}: the peer closed the connection ({io})",
            sides.local_in,
            sides.remote
        ),
        (Dir::Send, CopyError::Write(_)) => anyhow!("could not send to {}: {io}", sides.remote),
        (Dir::Recv, CopyError::Read(_)) => anyhow!("could not receive from {}: {io}", sides.remote),
        (Dir::Recv, CopyError::Write(_)) => {
            anyhow!("could not write to {}: {io}", sides.local_out)
        }
    }
}

/// A connection record from live meters or a finished session.
pub fn conn_record(
    id: u64,
    addr: &Address,
    peer: PeerCreds,
    peer_label: Option<String>,
    meters: (&Meter, &Meter),
    started: Instant,
    ended: Option<Instant>,
) -> ConnRecord {
    let end = ended.unwrap_or_else(Instant::now);
    let mut rec = ConnRecord::new(
        id,
        addr.to_string(),
        peer,
        meters.0.bytes(),
        meters.1.bytes(),
        end.saturating_duration_since(started),
    );
    rec.peer = peer_label;
    rec
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
        let mut c = conn_record(
            1,
            addr,
            peer,
            label.clone(),
            (&sent, &received),
            conn_started,
            ended,
        );
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
            &ctx.printer.progress(true, true),
            shown.clone(),
            sent.clone(),
            received.clone(),
        )
    });
    let outcome = session.wait(Some(&ctx.signals), || {
        if ctx.signals.take_usr1() {
            stats.print(&snapshot("open", None));
        }
    });
    drop(line);
    let ended = Instant::now();
    let (status, err) = judge(
        &outcome,
        &Sides {
            local_in: Sides::STDIO.0,
            local_out: Sides::STDIO.1,
            remote: &shown,
        },
    );
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
            End::Idle => format!(
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
    if let Some(status) = outcome.child_status
        && !status.success()
    {
        return Err(anyhow!("{shown} exited with {status}"));
    }
    Ok(ExitStatus::Success)
}
