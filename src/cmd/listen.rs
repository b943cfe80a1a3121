//! `ipctool listen ADDR`: serve ADDR and bridge the client to stdin/stdout.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Ctx, StatsOut, Transfer, bridge_stdio};
use crate::addr::Address;
use crate::cli::ListenArgs;
use crate::error::{ExitStatus, TimedOut, UsageError};
use crate::stats::{Record, TotalRecord};
use crate::term::escape;
use crate::transport::{self, BindOpts, Listener, Wait};
use crate::units::format_duration;

/// `listen`, validated.
#[derive(Debug)]
pub struct ListenConfig {
    pub addr: Address,
    pub timeout: Option<Duration>,
    pub bind: BindOpts,
    pub transfer: Transfer,
}

impl ListenConfig {
    pub fn from_args(args: &ListenArgs, ctx: &Ctx) -> Result<ListenConfig> {
        match &args.addr {
            Address::Unix(_) | Address::Abstract(_) | Address::Tcp { .. } | Address::Fifo(_) => {}
            Address::Stdio | Address::Exec(_) => {
                return Err(UsageError(format!(
                    "cannot listen on {}: listen serves a socket path, @NAME, fifo:PATH or tcp:HOST:PORT",
                    args.addr
                ))
                .into());
            }
            other => return Err(transport::unsupported(other, "listen on")),
        }
        Ok(ListenConfig {
            addr: args.addr.clone(),
            timeout: args.timeout,
            bind: BindOpts {
                mode: args.mode,
                keep_open: false,
            },
            transfer: Transfer::from_args(&args.transfer, &ctx.copy),
        })
    }
}

pub fn run(ctx: &Ctx, args: &ListenArgs) -> Result<ExitStatus> {
    let started = Instant::now();
    let cfg = ListenConfig::from_args(args, ctx)?;
    let stats = StatsOut::new(cfg.transfer.stats, &ctx.printer);
    let no_clients = || vec![Record::Total(TotalRecord::new(0, 0, 0, started.elapsed()))];
    let listener = Listener::bind(&cfg.addr, &cfg.bind, &ctx.printer)?;
    let addr = listener.address();
    let shown = escape(&addr.to_string());
    ctx.printer.event(format_args!("listening on {shown}"));
    let waited = transport::wait_readable(listener.ready_fd(), cfg.timeout, &ctx.signals, || {
        stats.print(&no_clients())
    })
    .with_context(|| format!("cannot wait for clients on {shown}"))?;
    match waited {
        Wait::Ready => {}
        Wait::TimedOut => {
            stats.print(&no_clients());
            return Err(TimedOut(format!(
                "no client connected to {shown} within {}",
                format_duration(cfg.timeout.unwrap_or_default())
            ))
            .into());
        }
        Wait::Signal(sig) => {
            stats.print(&no_clients());
            return Ok(ExitStatus::Signal(sig));
        }
    }
    let remote = listener
        .accept()
        .with_context(|| format!("could not accept a client on {shown}"))?;
    if listener.is_fifo() {
        ctx.printer.event(format_args!("a writer opened {shown}"));
    } else {
        let from = remote
            .peer_label
            .as_deref()
            .map(|l| format!(" from {}", escape(l)))
            .unwrap_or_default();
        let peer = if remote.peer.is_known() {
            format!(" (peer {})", remote.peer)
        } else {
            String::new()
        };
        ctx.printer
            .event(format_args!("accepted connection 1{from}{peer}"));
    }
    // One client only: later ones are refused; the socket file stays ours until exit.
    let _file = listener.stop_accepting();
    bridge_stdio(ctx, remote, &addr, &cfg.transfer, started)
}
