//! `ipctool relay FROM TO`: a proxy with one connection to TO per client of FROM, and
//! `relay --intercept PATH`, the same in front of a running server.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use rustix::event::{PollFd, PollFlags, poll};

use super::{Ctx, Transfer, check_raw_messages, require_stdout};
use crate::addr::{Address, SocketName};
use crate::cli::RelayArgs;
use crate::engine::SessionConfig;
use crate::error::{ExitStatus, UsageError, hinted};
use crate::report::StatsOut;
use crate::report::hexdump::HexDump;
use crate::server::handlers::RelayHandler;
use crate::server::{self, Handler, ServeConfig, Slot};
use crate::stats::{Record, TotalRecord};
use crate::term::escape;
use crate::transport::intercept::{self, Intercept};
use crate::transport::{self, BindOpts, DialOpts, Framing, Listener};
use crate::wake::Waker;

/// Where the relay's clients come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum From {
    /// Accepted on a served address.
    Serve(Address),
    /// One client: our stdin/stdout, a FIFO's stream of writers, or the datagrams of
    /// every sender.
    Open(Address),
    /// In front of the live socket at this path.
    Intercept(std::path::PathBuf),
}

/// `relay`, validated.
#[derive(Debug)]
pub struct RelayConfig {
    pub from: From,
    /// None with --intercept (TO is the moved original).
    pub to: Option<Address>,
    pub serve: ServeConfig,
    pub bind: BindOpts,
    pub dial: DialOpts,
    pub hex: bool,
    pub dump: Option<std::path::PathBuf>,
    pub transfer: Transfer,
}

impl RelayConfig {
    pub fn from_args(args: &RelayArgs, ctx: &Ctx) -> Result<RelayConfig> {
        let usage = |why: String| -> anyhow::Error { UsageError(why).into() };
        let from = match (&args.intercept, &args.from) {
            (Some(path), _) => From::Intercept(path.clone()),
            (
                None,
                Some(
                    a @ (Address::Unix(_)
                    | Address::Abstract(_)
                    | Address::Tcp { .. }
                    | Address::Seqpacket(_)),
                ),
            ) => From::Serve(a.clone()),
            (None, Some(a @ (Address::Stdio | Address::Fifo(_) | Address::UnixDgram(_)))) => {
                From::Open(a.clone())
            }
            (None, Some(a @ Address::Exec(_))) => {
                return Err(usage(format!(
                    "cannot relay from {a}: a command has no clients; put it on the TO side"
                )));
            }
            (None, Some(other)) => return Err(transport::unsupported(other, "relay from")),
            (None, None) => {
                return Err(usage("relay needs FROM and TO, or --intercept PATH".into()));
            }
        };
        if let (From::Serve(a), Some(to)) = (&from, &args.to)
            && same_place(a, to)
        {
            return Err(usage(format!(
                "cannot relay {a} to itself: every connection would connect back to the relay"
            )));
        }
        let from_addr = args.from.as_ref().filter(|_| args.intercept.is_none());
        let ends: Vec<&Address> = from_addr.iter().copied().chain(&args.to).collect();
        check_raw_messages(&args.transfer, &ends)?;
        let dgram_from = matches!(from_addr, Some(Address::UnixDgram(_)));
        if dgram_from && args.serve.max_clients.is_some() {
            return Err(usage(format!(
                "cannot use --max-clients with {}: one socket receives every sender's datagrams",
                from_addr.map(|a| a.to_string()).unwrap_or_default()
            )));
        }
        let mut transfer = Transfer::from_args(&args.transfer, &ctx.copy);
        // Between two message sockets each message passes whole, so each read must hold
        // the largest message a sender may send.
        let both = from_addr.is_some_and(Address::is_message)
            && args.to.as_ref().is_some_and(Address::is_message);
        let framing = if both {
            let copy = &mut transfer.session.copy;
            copy.chunk = copy.chunk.max(transport::msgsock::max_message());
            Framing::Whole
        } else {
            transfer.framing
        };
        Ok(RelayConfig {
            from,
            to: args.to.clone(),
            serve: ServeConfig::from_args(&args.serve, transfer.stats),
            bind: BindOpts {
                mode: args.serve.mode,
                keep_open: true,
                framing,
                count: if dgram_from { args.serve.count } else { None },
                allow_uids: if dgram_from {
                    args.serve.allow_uid.clone()
                } else {
                    None
                },
            },
            dial: DialOpts {
                wait: args.wait,
                framing,
                keep_receiving: transfer.keep_receiving(),
            },
            hex: args.hex || args.dump.is_some(),
            dump: args.dump.clone(),
            transfer,
        })
    }
}

pub fn run(ctx: &Ctx, args: &RelayArgs) -> Result<ExitStatus> {
    let cfg = RelayConfig::from_args(args, ctx)?;
    // With --intercept, TO is the original socket, moved aside.
    let to = match (&cfg.from, &cfg.to) {
        (From::Intercept(path), _) => Address::Unix(intercept::aside_of(path)),
        (_, Some(to)) => to.clone(),
        (_, None) => return Err(anyhow!("relay needs TO")),
    };
    if matches!(cfg.from, From::Open(Address::Stdio)) {
        require_stdout(
            &cfg.transfer,
            &format!("what {} sends", escape(&to.to_string())),
        )?;
    }
    // The dump first: a dump that cannot be written must not leave a socket behind.
    let dump = match (&cfg.dump, cfg.hex) {
        (Some(path), _) => {
            let shown = escape(&path.display().to_string());
            let dump = HexDump::to_file(path, to.to_string()).map_err(|e| {
                // ELOOP also comes from a loop among the directories: name a link only
                // when the path itself is one.
                let symlink = e.raw_os_error() == Some(libc::ELOOP)
                    && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
                let e = anyhow::Error::new(e).context(format!("cannot write the dump to {shown}"));
                if symlink {
                    hinted(
                        e,
                        format!("{shown} is a symbolic link, which ipctool never writes through: name the file itself"),
                    )
                } else {
                    e
                }
            })?;
            Some(Arc::new(dump))
        }
        (None, true) => Some(Arc::new(HexDump::to_stderr(&ctx.printer, to.to_string()))),
        (None, false) => None,
    };
    let mut intercept = None;
    let listener = match &cfg.from {
        From::Intercept(path) => {
            let (listener, guard) = Intercept::install(path, &ctx.printer)?;
            intercept = Some(guard);
            Some(listener)
        }
        From::Serve(addr) => Some(Listener::bind(addr, &cfg.bind, &ctx.printer)?),
        From::Open(_) => None,
    };
    let handler = RelayHandler {
        to: to.clone(),
        dial: cfg.dial.clone(),
        signals: ctx.signals.clone(),
        printer: ctx.printer.clone(),
        // A failure on one side must not reach the other as a clean end.
        session: SessionConfig {
            fail_both: true,
            ..cfg.transfer.session.clone()
        },
        dump,
    };
    let status = match listener {
        Some(listener) => {
            let serve = ServeConfig {
                ready_note: format!(", relaying to {}", escape(&to.to_string())),
                ..cfg.serve.clone()
            };
            server::serve(ctx, listener, &serve, Arc::new(handler))
        }
        None => relay_once(ctx, &cfg, handler),
    };
    if let Some(guard) = intercept {
        guard
            .restore()
            .context("could not put the intercepted socket back")?;
        std::mem::forget(guard);
    }
    status
}

/// FROM is our stdio, a FIFO or a datagram socket: one client, relayed to TO. The relay
/// runs on its own thread; this one waits for it, stops it on a stop signal, reports on
/// SIGUSR1.
fn relay_once(ctx: &Ctx, cfg: &RelayConfig, handler: RelayHandler) -> Result<ExitStatus> {
    let started = Instant::now();
    let From::Open(from) = &cfg.from else {
        return Err(anyhow!("relay_once needs an opened FROM"));
    };
    // The file ipctool created (FIFO, socket) stays until exit: later datagrams and
    // writers must still find it.
    let mut _file = None;
    let conn = match from {
        Address::Fifo(_) | Address::UnixDgram(_) => {
            let l = Listener::bind(from, &cfg.bind, &ctx.printer)?;
            ctx.printer.event(format_args!(
                "listening on {}",
                escape(&l.address().to_string())
            ));
            let conn = l
                .accept()
                .with_context(|| format!("cannot read {}", escape(&from.to_string())))?;
            _file = l.stop_accepting();
            conn
        }
        _ => transport::stdio()?,
    };
    let slot = Arc::new(Slot::new(1, from.clone(), conn.peer, None));
    let waker = Waker::new()?;
    let _signals = ctx.signals.wake_on_signal(&waker)?;
    let stats = StatsOut::new(cfg.transfer.stats, &ctx.printer);
    // The result comes through a channel: a thread that has woken us may not have
    // finished yet, so `is_finished` could send us back to sleep for good.
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let (slot, wake) = (Arc::clone(&slot), waker.sender()?);
        std::thread::spawn(move || {
            let _ = tx.send(handler.serve(conn, &slot));
            wake.wake();
        });
    }
    let mut stopped = None;
    let rec = loop {
        if let Ok(rec) = rx.try_recv() {
            break rec;
        }
        let mut fds = [PollFd::from_borrowed_fd(waker.fd(), PollFlags::IN)];
        let _ = poll(&mut fds, None);
        waker.drain();
        if let Some(sig) = ctx.signals.stop_requested() {
            stopped = Some(sig);
            slot.stop();
        }
        if ctx.signals.take_usr1()
            && let Some(rec) = slot.snapshot()
        {
            stats.print_now(&[Record::Connection(rec)]);
        }
    };
    let total = TotalRecord::new(1, rec.sent_bytes, rec.received_bytes, started.elapsed());
    let failed = rec.error.clone();
    stats.print(&[Record::Connection(rec), Record::Total(total)]);
    match (stopped, failed) {
        (Some(sig), _) => Ok(ExitStatus::Signal(sig)),
        (None, Some(e)) => Err(anyhow!(e)),
        (None, None) => Ok(ExitStatus::Success),
    }
}

/// True when connecting to `to` would reach the listener on `from`: the same path however
/// spelled (`r`, `./r`, `unix:r`), the same abstract name, or the same TCP port where both
/// hosts are this machine (a wildcard or loopback listener, a loopback target).
fn same_place(from: &Address, to: &Address) -> bool {
    let path = |p: &std::path::Path| {
        std::path::absolute(p)
            .ok()
            .map(|a| a.components().collect::<std::path::PathBuf>())
    };
    let local = |h: &str| {
        matches!(h, "localhost" | "0.0.0.0" | "::" | "[::]" | "::1" | "[::1]")
            || h.starts_with("127.")
    };
    match (from, to) {
        (Address::Unix(a), Address::Unix(b))
        | (Address::Seqpacket(SocketName::Path(a)), Address::Seqpacket(SocketName::Path(b))) => {
            a == b || path(a).is_some_and(|a| Some(a) == path(b))
        }
        (Address::Tcp { host: h1, port: p1 }, Address::Tcp { host: h2, port: p2 }) => {
            p1 == p2 && (h1 == h2 || (local(h1) && local(h2)))
        }
        _ => from == to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;

    #[test]
    fn an_address_relayed_to_itself_is_found_however_spelled() {
        let a = |s: &str| s.parse::<Address>().expect("address");
        for (from, to, same) in [
            ("./r", "unix:r", true),
            ("unix:./d/../r", "./d/../r", true),
            ("r/", "./r", true),
            ("./r", "./q", false),
            ("@n", "abstract:n", true),
            ("@n", "@m", false),
            ("seqpacket:./s", "seqpacket:s", true),
            ("tcp:0.0.0.0:7000", "tcp:127.0.0.1:7000", true),
            ("tcp:127.0.0.1:7000", "tcp:localhost:7000", true),
            ("tcp:127.0.0.1:7000", "tcp:127.0.0.1:7001", false),
            ("tcp:127.0.0.1:7000", "tcp:example.org:7000", false),
            ("./r", "exec:cat", false),
        ] {
            assert_eq!(same_place(&a(from), &a(to)), same, "{from} {to}");
        }
    }

    fn config(line: &str) -> Result<RelayConfig, String> {
        match crate::cmd::parse_for_test(line)? {
            (Command::Relay(args), ctx) => {
                RelayConfig::from_args(&args, &ctx).map_err(|e| format!("{e:#}"))
            }
            _ => Err("not relay".into()),
        }
    }

    #[test]
    fn message_ends_to_config() {
        let whole_chunk = transport::msgsock::max_message().max(crate::engine::copy::DEFAULT_CHUNK);
        let stream_chunk = crate::engine::copy::DEFAULT_CHUNK;
        // (command line, FROM kind, framing both ways, copy chunk, datagram count)
        let rows = [
            (
                "relay ./s seqpacket:/p",
                "serve",
                Framing::Lines,
                stream_chunk,
                None,
            ),
            (
                "relay --raw-messages seqpacket:/p ./s",
                "serve",
                Framing::Raw,
                stream_chunk,
                None,
            ),
            (
                "relay --count 5 unix-dgram:/in unix-dgram:/out",
                "open",
                Framing::Whole,
                whole_chunk,
                Some(5),
            ),
            (
                "relay seqpacket:/p unix-dgram:@log",
                "serve",
                Framing::Whole,
                whole_chunk,
                None,
            ),
            (
                "relay unix-dgram:/in -",
                "open",
                Framing::Lines,
                stream_chunk,
                None,
            ),
        ];
        for (line, from, framing, chunk, count) in rows {
            let cfg = config(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let kind = match cfg.from {
                From::Serve(_) => "serve",
                From::Open(_) => "open",
                From::Intercept(_) => "intercept",
            };
            assert_eq!(kind, from, "{line}");
            assert_eq!(
                (cfg.bind.framing, cfg.dial.framing),
                (framing, framing),
                "{line}"
            );
            assert_eq!(cfg.transfer.session.copy.chunk, chunk, "{line}");
            assert_eq!(cfg.bind.count, count, "{line}");
        }
        // A datagram TO stops receiving at the client's EOF, unless something else ends it.
        assert!(
            !config("relay ./s unix-dgram:/d")
                .expect("cfg")
                .dial
                .keep_receiving
        );
        assert!(
            config("relay --idle-timeout 1s ./s unix-dgram:/d")
                .expect("cfg")
                .dial
                .keep_receiving
        );
    }

    #[test]
    fn bad_message_combinations() {
        let rows = [
            ("relay --max-clients 2 unix-dgram:/in ./s", "--max-clients"),
            ("relay --raw-messages ./a ./b", "--raw-messages applies to"),
        ];
        for (line, want) in rows {
            let err = config(line).expect_err(line);
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
