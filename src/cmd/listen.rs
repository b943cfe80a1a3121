//! `ipctool listen ADDR`: serve ADDR; bridge one client to stdin/stdout, or (with -k / -e)
//! many clients through the shared server loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Ctx, Transfer, bridge_stdio, check_raw_messages, require_stdout};
use crate::addr::{Address, SocketName};
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
    /// The datagrams of every sender (`unix-dgram:`, with or without `-k`).
    Datagrams,
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
            Address::Unix(_)
            | Address::Abstract(_)
            | Address::Tcp { .. }
            | Address::Fifo(_)
            | Address::Seqpacket(_)
            | Address::UnixDgram(_) => {}
            Address::Stdio | Address::Exec(_) => {
                return Err(usage(format!(
                    "cannot listen on {shown}: listen serves a socket path, @NAME, fifo:PATH, tcp:HOST:PORT, seqpacket:PATH or unix-dgram:PATH"
                )));
            }
            other => return Err(transport::unsupported(other, "listen on")),
        }
        check_raw_messages(&args.transfer, &[&args.addr])?;
        let keep_open = args.keep_open || args.serve.count.is_some();
        let is_fifo = matches!(args.addr, Address::Fifo(_));
        let is_dgram = matches!(args.addr, Address::UnixDgram(_));
        if is_dgram && args.exec.is_some() {
            return Err(usage(format!(
                "cannot use --exec with {shown}: datagrams have no connections to give a command; pipe the output instead (ipctool listen {shown} | CMD)"
            )));
        }
        if is_dgram && args.serve.max_clients.is_some() {
            return Err(usage(format!(
                "cannot use --max-clients with {shown}: one socket receives every sender's datagrams"
            )));
        }
        let mode = match (&args.exec, keep_open) {
            _ if is_dgram => Mode::Datagrams,
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
                framing: transfer.framing,
                count: if is_dgram { args.serve.count } else { None },
                allow_uids: if is_dgram {
                    args.serve.allow_uid.clone()
                } else {
                    None
                },
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
    // Before binding: no client is accepted only to be dropped, no file is created.
    if !matches!(cfg.mode, Mode::Exec(_)) {
        let what = format!("what clients send to {}", escape(&cfg.addr.to_string()));
        require_stdout(&cfg.transfer, &what)?;
    }
    let listener = Listener::bind(&cfg.addr, &cfg.bind, &ctx.printer)?;
    let addr = listener.address();
    let shown = escape(&addr.to_string());
    let is_abstract = matches!(
        addr,
        Address::Abstract(_)
            | Address::Seqpacket(SocketName::Abstract(_))
            | Address::UnixDgram(SocketName::Abstract(_))
    );
    if is_abstract && cfg.serve.allow_uids.is_none() {
        let can = if listener.is_datagram() {
            "send to it"
        } else {
            "connect"
        };
        ctx.printer.event(format_args!(
            "warning: {shown} has no file permissions: any local user can {can}; limit it with --allow-uid"
        ));
    }
    let handler: Arc<dyn Handler> = match &cfg.mode {
        Mode::Single | Mode::FifoStream | Mode::Datagrams => {
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

/// One client (or a FIFO's stream of writers, or every sender of datagrams) bridged to
/// stdin/stdout.
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
                stats.print_now(&no_clients())
            })
            .with_context(|| format!("cannot wait for clients on {shown}"))?,
        };
        match waited {
            Wait::Ready => {}
            Wait::TimedOut => {
                stats.print(&no_clients());
                let what = if listener.is_datagram() {
                    "no datagram arrived on"
                } else {
                    "no client connected to"
                };
                return Err(TimedOut(format!(
                    "{what} {shown} within {}",
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
        // A datagram socket checks --allow-uid datagram by datagram.
        if listener.is_datagram() || server::admitted(ctx, &cfg.serve, &conn, &shown) {
            break conn;
        }
    };
    if listener.is_fifo() {
        ctx.printer.event(format_args!("a writer opened {shown}"));
    } else if listener.is_datagram() {
        // Each new sender is announced as its first datagram is read.
    } else {
        server::announce_accepted(ctx, 1, remote.peer_label.as_deref(), &remote.peer);
    }
    // One client only: later ones are refused; the socket file stays ours until exit.
    let _file = listener.stop_accepting();
    bridge_stdio(ctx, remote, &addr, &cfg.transfer, started)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::transport::Framing;

    fn config(line: &str) -> Result<ListenConfig, String> {
        match crate::cmd::parse_for_test(line)? {
            (Command::Listen(args), ctx) => {
                ListenConfig::from_args(&args, &ctx).map_err(|e| format!("{e:#}"))
            }
            _ => Err("not listen".into()),
        }
    }

    #[test]
    fn message_addresses_to_config() {
        // (command line, mode, framing, datagram count, datagram allow-uid)
        type Row = (&'static str, Mode, Framing, Option<u64>, Option<Vec<u32>>);
        let rows: Vec<Row> = vec![
            (
                "listen unix-dgram:/l",
                Mode::Datagrams,
                Framing::Lines,
                None,
                None,
            ),
            (
                "listen -k unix-dgram:@l",
                Mode::Datagrams,
                Framing::Lines,
                None,
                None,
            ),
            (
                "listen --count 3 --allow-uid 7 --raw-messages unix-dgram:/l",
                Mode::Datagrams,
                Framing::Raw,
                Some(3),
                Some(vec![7]),
            ),
            (
                "listen seqpacket:/p",
                Mode::Single,
                Framing::Lines,
                None,
                None,
            ),
            (
                "listen -k seqpacket:/p",
                Mode::Broadcast,
                Framing::Lines,
                None,
                None,
            ),
            (
                "listen -k -e cat --raw-messages seqpacket:@p",
                Mode::Exec("cat".into()),
                Framing::Raw,
                None,
                None,
            ),
        ];
        for (line, mode, framing, count, allow) in rows {
            let cfg = config(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(cfg.mode, mode, "{line}");
            assert_eq!(
                (cfg.bind.framing, cfg.bind.count, cfg.bind.allow_uids),
                (framing, count, allow),
                "{line}"
            );
        }
    }

    #[test]
    fn what_datagrams_cannot_do_is_a_usage_error() {
        let rows = [
            (
                "listen -e cat unix-dgram:/l",
                "datagrams have no connections",
            ),
            ("listen --max-clients 2 unix-dgram:/l", "every sender"),
            ("listen --raw-messages /tmp/s", "--raw-messages applies to"),
        ];
        for (line, want) in rows {
            let err = config(line).expect_err(line);
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
