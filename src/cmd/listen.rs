//! `ipctool listen ADDR`: serve ADDR; bridge one client to stdin/stdout, or (with -k / -e)
//! many clients through the shared server loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Ctx, Transfer, bridge_stdio};
use crate::addr::Address;
use crate::cli::ListenArgs;
use crate::error::{ExitStatus, TimedOut, UsageError};
use crate::report::StatsOut;
use crate::server::handlers::{BroadcastHandler, ExecHandler};
use crate::server::{self, Handler, ServeConfig};
use crate::stats::{Record, TotalRecord};
use crate::term::escape;
use crate::transport::{self, BindOpts, Conn, Listener, Wait};
use crate::units::format_duration;

/// How clients are served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One client bridged to stdin/stdout (the default).
    Single,
    /// Many clients: lines to stdout, stdin to all (`-k`).
    Broadcast,
    /// A command per client (`-e`).
    Exec(String),
    /// A FIFO read across successive writers (`-k fifo:`).
    FifoStream,
}

/// `listen`, validated.
#[derive(Debug)]
pub struct ListenConfig {
    pub addr: Address,
    pub mode: Mode,
    pub bind: BindOpts,
    pub serve: ServeConfig,
    pub transfer: Transfer,
}

impl ListenConfig {
    pub fn from_args(args: &ListenArgs, ctx: &Ctx) -> Result<ListenConfig> {
        let usage = |why: String| -> anyhow::Error { UsageError(why).into() };
        let shown = &args.addr;
        match &args.addr {
            Address::Unix(_) | Address::Abstract(_) | Address::Tcp { .. } | Address::Fifo(_) => {}
            Address::Stdio | Address::Exec(_) => {
                return Err(usage(format!(
                    "cannot listen on {shown}: listen serves a socket path, @NAME, fifo:PATH or tcp:HOST:PORT"
                )));
            }
            other => return Err(transport::unsupported(other, "listen on")),
        }
        let keep_open = args.keep_open || args.serve.count.is_some();
        let is_fifo = matches!(args.addr, Address::Fifo(_));
        let mode = match (&args.exec, keep_open) {
            (Some(_), _) if is_fifo => {
                return Err(usage(format!(
                    "cannot use --exec with {shown}: a FIFO has no clients to give a command; pipe its output instead (ipctool listen {shown} | CMD)"
                )));
            }
            (Some(cmd), _) => Mode::Exec(cmd.clone()),
            (None, true) if is_fifo => Mode::FifoStream,
            (None, true) => Mode::Broadcast,
            (None, false) => Mode::Single,
        };
        if is_fifo
            && (args.serve.count.is_some()
                || args.serve.max_clients.is_some()
                || args.serve.allow_uid.is_some())
        {
            return Err(usage(format!(
                "cannot use --count, --max-clients or --allow-uid with {shown}: FIFO writers are not told apart"
            )));
        }
        let transfer = Transfer::from_args(&args.transfer, &ctx.copy);
        let count = match mode {
            // Without -k, `-e` serves one client.
            Mode::Exec(_) if !keep_open => Some(1),
            _ => args.serve.count,
        };
        Ok(ListenConfig {
            addr: args.addr.clone(),
            bind: BindOpts {
                mode: args.serve.mode,
                keep_open: mode == Mode::FifoStream,
            },
            serve: ServeConfig {
                count,
                idle_timeout: match mode {
                    Mode::Broadcast => args.transfer.idle_timeout,
                    _ => None,
                },
                ..ServeConfig::from_args(&args.serve, transfer.stats)
            },
            mode,
            transfer,
        })
    }
}

pub fn run(ctx: &Ctx, args: &ListenArgs) -> Result<ExitStatus> {
    let started = Instant::now();
    let cfg = ListenConfig::from_args(args, ctx)?;
    let listener = Listener::bind(&cfg.addr, &cfg.bind, &ctx.printer)?;
    let addr = listener.address();
    let shown = escape(&addr.to_string());
    if matches!(addr, Address::Abstract(_)) && cfg.serve.allow_uids.is_none() {
        ctx.printer.event(format_args!(
            "warning: {shown} has no file permissions: any local user can connect; limit it with --allow-uid"
        ));
    }
    let handler: Arc<dyn Handler> = match &cfg.mode {
        Mode::Single | Mode::FifoStream => {
            ctx.printer.event(format_args!("listening on {shown}"));
            return single(ctx, &cfg, listener, started);
        }
        Mode::Exec(cmd) => Arc::new(ExecHandler {
            command: cmd.clone(),
            session: cfg.transfer.session.clone(),
        }),
        Mode::Broadcast => BroadcastHandler::start(&ctx.copy)
            .with_context(|| format!("cannot serve {shown}: stdin/stdout"))?,
    };
    server::serve(ctx, listener, &cfg.serve, handler)
}

/// One client (or a FIFO's stream of writers) bridged to stdin/stdout.
fn single(
    ctx: &Ctx,
    cfg: &ListenConfig,
    listener: Listener,
    started: Instant,
) -> Result<ExitStatus> {
    let addr = listener.address();
    let shown = escape(&addr.to_string());
    let stats = StatsOut::new(cfg.transfer.stats, &ctx.printer);
    let no_clients = || vec![Record::Total(TotalRecord::new(0, 0, 0, started.elapsed()))];
    let deadline = cfg.serve.timeout.map(|t| started + t);
    let remote: Conn = loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let waited = match left {
            Some(left) if left.is_zero() => Wait::TimedOut,
            _ => transport::wait_readable(listener.ready_fd(), left, &ctx.signals, || {
                stats.print(&no_clients())
            })
            .with_context(|| format!("cannot wait for clients on {shown}"))?,
        };
        match waited {
            Wait::Ready => {}
            Wait::TimedOut => {
                stats.print(&no_clients());
                return Err(TimedOut(format!(
                    "no client connected to {shown} within {}",
                    format_duration(cfg.serve.timeout.unwrap_or(Duration::ZERO))
                ))
                .into());
            }
            Wait::Signal(sig) => {
                stats.print(&no_clients());
                return Ok(ExitStatus::Signal(sig));
            }
        }
        let conn = listener
            .accept()
            .with_context(|| format!("could not accept a client on {shown}"))?;
        if server::admitted(ctx, &cfg.serve, &conn, &shown) {
            break conn;
        }
    };
    if listener.is_fifo() {
        ctx.printer.event(format_args!("a writer opened {shown}"));
    } else {
        server::announce_accepted(ctx, 1, remote.peer_label.as_deref(), &remote.peer);
    }
    // One client only: later ones are refused; the socket file stays ours until exit.
    let _file = listener.stop_accepting();
    bridge_stdio(ctx, remote, &addr, &cfg.transfer, started)
}
