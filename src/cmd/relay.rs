//! `ipctool relay FROM TO`: a proxy with one connection to TO per client of FROM, and
//! `relay --intercept PATH`, the same in front of a running server.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use rustix::event::{PollFd, PollFlags, poll};

use super::{Ctx, Transfer};
use crate::addr::Address;
use crate::cli::RelayArgs;
use crate::error::{ExitStatus, UsageError};
use crate::report::StatsOut;
use crate::report::hexdump::HexDump;
use crate::server::handlers::RelayHandler;
use crate::server::{self, Handler, ServeConfig, Slot};
use crate::stats::{Record, TotalRecord};
use crate::term::escape;
use crate::transport::intercept::{self, Intercept};
use crate::transport::{self, BindOpts, DialOpts, Listener};
use crate::wake::Waker;

/// Where the relay's clients come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum From {
    /// Accepted on a served address.
    Serve(Address),
    /// One client: our stdin/stdout, or a FIFO's stream of writers.
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
            (None, Some(a @ (Address::Unix(_) | Address::Abstract(_) | Address::Tcp { .. }))) => {
                From::Serve(a.clone())
            }
            (None, Some(a @ (Address::Stdio | Address::Fifo(_)))) => From::Open(a.clone()),
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
        if let Some(to) = &args.to
            && to.is_message()
        {
            return Err(transport::unsupported(to, "relay to"));
        }
        let transfer = Transfer::from_args(&args.transfer, &ctx.copy);
        Ok(RelayConfig {
            from,
            to: args.to.clone(),
            serve: ServeConfig::from_args(&args.serve, transfer.stats),
            bind: BindOpts {
                mode: args.serve.mode,
                keep_open: true,
            },
            dial: DialOpts { wait: args.wait },
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
    // The dump first: a dump that cannot be written must not leave a socket behind.
    let dump = match (&cfg.dump, cfg.hex) {
        (Some(path), _) => Some(Arc::new(
            HexDump::to_file(path, to.to_string()).with_context(|| {
                format!(
                    "cannot write the dump to {}",
                    escape(&path.display().to_string())
                )
            })?,
        )),
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
        session: cfg.transfer.session.clone(),
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

/// FROM is our stdio or a FIFO: one client, relayed to TO. The relay runs on its own
/// thread; this one waits for it, stops it on a stop signal, reports on SIGUSR1.
fn relay_once(ctx: &Ctx, cfg: &RelayConfig, handler: RelayHandler) -> Result<ExitStatus> {
    let started = Instant::now();
    let From::Open(from) = &cfg.from else {
        return Err(anyhow!("relay_once needs an opened FROM"));
    };
    // A FIFO ipctool created is removed when its guard goes: keep it for the session.
    let (conn, _fifo_file) = match from {
        Address::Fifo(_) => {
            let fifo = Listener::bind(from, &cfg.bind, &ctx.printer)?;
            ctx.printer.event(format_args!(
                "listening on {}",
                escape(&fifo.address().to_string())
            ));
            let conn = fifo
                .accept()
                .with_context(|| format!("cannot read {}", escape(&from.to_string())))?;
            (conn, fifo.stop_accepting())
        }
        _ => (transport::stdio()?, None),
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
            stats.print(&[Record::Connection(rec)]);
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
