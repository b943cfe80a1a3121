//! The accept loop shared by `listen -k`, `listen -e` and `relay`: accepts clients on a
//! [`Listener`], hands each to a [`Handler`] on its own thread, and owns what the whole
//! server shares: `--max-clients` (extra clients wait in the backlog), `--count` (exit
//! after N clients), `--allow-uid`, `--timeout` for the first client, `--idle-timeout`,
//! SIGUSR1 reports, per-connection `--stats` records and the total, and the shutdown on a
//! stop signal: stop accepting, stop every connection (clients get EOF, `exec` children
//! SIGTERM and are reaped), print the totals, remove the socket file, exit 128 + signal.

mod fanout;
pub mod handlers;
mod slot;

use std::collections::BTreeMap;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::cmd::Ctx;
use crate::error::{ExitStatus, TimedOut};
use crate::report::{StatsFormat, StatsOut};
use crate::stats::{ConnRecord, Record, TotalRecord};
use crate::term::escape;
use crate::transport::{Conn, Listener, PeerCreds};
use crate::units::format_duration;
use crate::wake::Waker;

pub use slot::Slot;

/// How a server runs.
#[derive(Clone, Debug, Default)]
pub struct ServeConfig {
    /// At most this many connections at once; later clients wait in the backlog.
    pub max_clients: Option<usize>,
    /// Exit after serving this many clients.
    pub count: Option<u64>,
    /// Only peers with one of these uids are served.
    pub allow_uids: Option<Vec<u32>>,
    /// Exit 124 if no client arrives within this.
    pub timeout: Option<Duration>,
    /// Stop a connection after this long without traffic.
    pub idle_timeout: Option<Duration>,
    pub stats: Option<StatsFormat>,
    /// Said after "listening on ADDR" in the `-v` readiness line (", relaying to TO").
    pub ready_note: String,
}

impl ServeConfig {
    /// The shared server flags, validated.
    pub fn from_args(args: &crate::cli::ServeArgs, stats: Option<StatsFormat>) -> ServeConfig {
        ServeConfig {
            max_clients: args.max_clients.map(|n| n as usize),
            count: args.count,
            allow_uids: args.allow_uid.clone(),
            timeout: args.timeout,
            idle_timeout: None,
            stats,
            ready_note: String::new(),
        }
    }
}

/// How long the listener rests after running out of descriptors.
const FD_PAUSE: Duration = Duration::from_millis(100);
/// At most one "out of descriptors" warning this often.
const FD_WARNING_EVERY: Duration = Duration::from_secs(10);

/// True for the errors that mean "no descriptor (or memory) for one more connection".
fn is_out_of_fds(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Descriptors a connection takes on the accept loop: the socket, its two duplicates
/// (reading half, abort handle) and a waker for its thread.
const FDS_PER_ACCEPT: usize = 4;

/// Checks that [`FDS_PER_ACCEPT`] descriptors are free by taking and returning them.
fn room_for_a_connection(any: BorrowedFd<'_>) -> std::io::Result<()> {
    let mut held = Vec::with_capacity(FDS_PER_ACCEPT);
    for _ in 0..FDS_PER_ACCEPT {
        held.push(rustix::io::fcntl_dupfd_cloexec(any, 0)?);
    }
    Ok(())
}

/// How long a stopping server waits for its connections to wind up.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// Serves one accepted connection to its end.
pub trait Handler: Send + Sync + 'static {
    /// Runs the connection. Register a way to stop it with [`Slot::on_stop`] and its meters
    /// with [`Slot::track`] as soon as they exist; return its record (the server fills in
    /// the connection number and address).
    fn serve(&self, conn: Conn, slot: &Slot) -> ConnRecord;

    /// Runs on the accept loop right after the accept, before the connection is announced
    /// and before `serve` starts on its own thread: what must be in place by the time a
    /// client is reported as accepted.
    fn accepted(&self, _conn: &mut Conn, _slot: &Slot) {}

    /// True when the handler can no longer serve anyone (its stdout's reader went away):
    /// the server then stops quietly with exit 0.
    fn finished(&self) -> bool {
        false
    }
}

/// Accepts and serves clients until `--count`, a stop signal, or the handler finishes.
pub fn serve(
    ctx: &Ctx,
    listener: Listener,
    cfg: &ServeConfig,
    handler: Arc<dyn Handler>,
) -> Result<ExitStatus> {
    let started = Instant::now();
    let addr = listener.address();
    let shown = escape(&addr.to_string());
    let waker = Waker::new()?;
    let _signals = ctx.signals.wake_on_signal(&waker)?;
    // Ready: everything the loop needs exists; a client may come now.
    ctx.printer
        .event(format_args!("listening on {shown}{}", cfg.ready_note));
    let (done_tx, done_rx) = channel::<(u64, ConnRecord)>();
    let stats = StatsOut::new(cfg.stats, &ctx.printer);
    let mut listener = Some(listener);
    let mut _file = None;
    let mut active: BTreeMap<u64, Arc<Slot>> = BTreeMap::new();
    let mut totals = Totals::default();
    let mut accepted = 0u64;
    // Out of descriptors (EMFILE): stop polling the listener until a connection ends or
    // a moment passes, instead of spinning on a backlog we cannot take.
    let mut paused_until: Option<Instant> = None;
    let mut last_fd_warning: Option<Instant> = None;
    let stop_all = |active: &BTreeMap<u64, Arc<Slot>>| {
        for slot in active.values() {
            slot.stop();
        }
    };

    let status = loop {
        while let Ok((id, rec)) = done_rx.try_recv() {
            paused_until = None;
            active.remove(&id);
            totals.add(&rec);
            report_closed(ctx, &shown, &rec);
            stats.print(&[Record::Connection(rec)]);
        }
        if let Some(sig) = ctx.signals.stop_requested() {
            stop_all(&active);
            break ExitStatus::Signal(sig);
        }
        if handler.finished() {
            stop_all(&active);
            break ExitStatus::Success;
        }
        if ctx.signals.take_usr1() {
            let mut records: Vec<Record> = active
                .values()
                .filter_map(|s| s.snapshot())
                .map(Record::Connection)
                .collect();
            records.push(Record::Total(totals.live(&active, started)));
            stats.print_now(&records);
        }
        let more = cfg.count.is_none_or(|n| accepted < n);
        if !more && let Some(l) = listener.take() {
            // --count reached: later clients are refused; the file stays ours until exit.
            _file = l.stop_accepting();
        }
        if !more && active.is_empty() {
            break ExitStatus::Success;
        }
        let mut timeout = idle_check(cfg, &active);
        if accepted == 0
            && let Some(limit) = cfg.timeout
        {
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                stats.print(&[Record::Total(totals.total(started))]);
                return Err(TimedOut(format!(
                    "no client connected to {shown} within {}",
                    format_duration(limit)
                ))
                .into());
            }
            timeout = Some(timeout.map_or(left, |t| t.min(left)));
        }
        let room = cfg.max_clients.is_none_or(|m| active.len() < m);
        if let Some(until) = paused_until {
            match until.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => {
                    timeout = Some(timeout.map_or(left, |t| t.min(left)))
                }
                _ => paused_until = None,
            }
        }
        let accepting = listener
            .as_ref()
            .filter(|_| room && more && paused_until.is_none());
        let mut fds = vec![PollFd::from_borrowed_fd(waker.fd(), PollFlags::IN)];
        if let Some(l) = accepting {
            fds.push(PollFd::from_borrowed_fd(l.ready_fd(), PollFlags::IN));
        }
        let ts = timeout.map(|t| {
            Timespec::try_from(t).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            })
        });
        match poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(anyhow!(e).context(format!("cannot wait for clients on {shown}"))),
        }
        let woke = !fds[0].revents().is_empty();
        let ready = fds.get(1).is_some_and(|p| !p.revents().is_empty());
        drop(fds);
        if woke {
            waker.drain();
        }
        if !ready {
            continue;
        }
        let Some(l) = &listener else { continue };
        let mut out_of_fds = |e: &std::io::Error| {
            paused_until = Some(Instant::now() + FD_PAUSE);
            if last_fd_warning.is_none_or(|t| t.elapsed() >= FD_WARNING_EVERY) {
                last_fd_warning = Some(Instant::now());
                ctx.printer.warn(format_args!(
                    "could not take a client on {shown}: {e}; waiting for connections to end"
                ));
            }
        };
        // Take a client from the backlog only with room for all it needs: a client
        // accepted and then dropped for want of a descriptor would be lost.
        if let Err(e) = room_for_a_connection(waker.fd()) {
            out_of_fds(&e);
            continue;
        }
        let mut conn = match l.accept() {
            Ok(conn) => conn,
            Err(e) if is_out_of_fds(&e) => {
                out_of_fds(&e);
                continue;
            }
            // A client that left before accept, and the like: that client only.
            Err(e) => {
                ctx.printer
                    .warn(format_args!("could not accept a client on {shown}: {e}"));
                continue;
            }
        };
        if !admitted(ctx, cfg, &conn, &shown) {
            continue;
        }
        let wake = match waker.sender() {
            Ok(w) => w,
            Err(e) => {
                conn.aborter().abort();
                out_of_fds(&e);
                continue;
            }
        };
        accepted += 1;
        let slot = Arc::new(Slot::new(
            accepted,
            addr.clone(),
            conn.peer,
            conn.peer_label.clone(),
        ));
        handler.accepted(&mut conn, &slot);
        report_accepted(ctx, &slot);
        active.insert(accepted, Arc::clone(&slot));
        let (handler, done_tx) = (Arc::clone(&handler), done_tx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("conn-{accepted}"))
            .stack_size(256 << 10)
            .spawn(move || {
                let mut rec = handler.serve(conn, &slot);
                rec.connection = slot.id;
                rec.address = slot.address.to_string();
                let _ = done_tx.send((slot.id, rec));
                wake.wake();
            });
        if let Err(e) = spawned {
            active.remove(&accepted);
            ctx.printer.warn(format_args!(
                "could not start a thread for connection {accepted}: {e}"
            ));
        }
    };

    // Stopping: connections were told to stop; collect their records. A connection stuck
    // where no stop reaches (writing to a stdout nobody reads) is not waited for past
    // STOP_GRACE: it is reported from its meters and left to the process exit.
    drop(listener);
    drop(done_tx);
    let deadline = Instant::now() + STOP_GRACE;
    while !active.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok((id, rec)) => {
                active.remove(&id);
                totals.add(&rec);
                report_closed(ctx, &shown, &rec);
                stats.print(&[Record::Connection(rec)]);
            }
            Err(_) => break,
        }
    }
    for slot in std::mem::take(&mut active).into_values() {
        let rec = slot.record("aborted");
        totals.add(&rec);
        report_closed(ctx, &shown, &rec);
        stats.print(&[Record::Connection(rec)]);
    }
    stats.print(&[Record::Total(totals.total(started))]);
    if status == ExitStatus::Success && totals.failed > 0 {
        return Err(anyhow!(
            "{} of {} connections on {shown} failed (see the messages above)",
            totals.failed,
            totals.connections
        ))
        .context("some connections lost data");
    }
    Ok(status)
}

/// Checks `--allow-uid`; logs a refusal.
pub fn admitted(ctx: &Ctx, cfg: &ServeConfig, conn: &Conn, shown: &str) -> bool {
    let Some(allowed) = &cfg.allow_uids else {
        return true;
    };
    if conn.peer.uid.is_some_and(|uid| allowed.contains(&uid)) {
        return true;
    }
    let uid = conn.peer.uid.map_or("unknown".into(), |u| u.to_string());
    let pid = conn.peer.pid.map_or("unknown".into(), |p| p.to_string());
    ctx.printer.warn(format_args!(
        "refused a client on {shown}: peer uid {uid} pid {pid} is not in --allow-uid"
    ));
    conn.aborter().abort();
    false
}

/// How long until the next idle connection must be stopped; stops those already idle.
fn idle_check(cfg: &ServeConfig, active: &BTreeMap<u64, Arc<Slot>>) -> Option<Duration> {
    let limit = cfg.idle_timeout?;
    let now = Instant::now();
    let mut next: Option<Duration> = None;
    for slot in active.values() {
        let Some(idle) = slot.idle_for(now) else {
            continue;
        };
        if idle >= limit {
            slot.stop_idle();
        } else {
            let left = limit - idle;
            next = Some(next.map_or(left, |n| n.min(left)));
        }
    }
    // Connections that have not reported meters yet are checked again soon.
    next.or(Some(limit))
}

fn report_accepted(ctx: &Ctx, slot: &Slot) {
    announce_accepted(ctx, slot.id, slot.peer_label.as_deref(), &slot.peer);
}

/// The `-v` line for an accepted client: its number, network address and credentials.
pub fn announce_accepted(ctx: &Ctx, id: u64, from: Option<&str>, peer: &PeerCreds) {
    if !ctx.printer.is_verbose() {
        return;
    }
    let from = from
        .map(|l| format!(" from {}", escape(l)))
        .unwrap_or_default();
    let peer = if peer.is_known() {
        format!(" (peer {peer})")
    } else {
        String::new()
    };
    ctx.printer
        .event(format_args!("accepted connection {id}{from}{peer}"));
}

fn report_closed(ctx: &Ctx, shown: &str, rec: &ConnRecord) {
    if let Some(e) = &rec.error {
        ctx.printer.warn(format_args!(
            "connection {} on {shown}: {}",
            rec.connection,
            escape(e)
        ));
    }
    if !ctx.printer.is_verbose() {
        return;
    }
    let mut exit = String::new();
    if let Some(code) = rec.exit_code {
        exit = format!(", command exited with status {code}");
    }
    if let Some(sig) = rec.exit_signal {
        exit = format!(", command killed by signal {sig}");
    }
    ctx.printer.event(format_args!(
        "closed connection {} ({}): sent {} B, received {} B{exit}",
        rec.connection, rec.status, rec.sent_bytes, rec.received_bytes
    ));
}

/// Sums of the connections that have ended.
#[derive(Debug, Default)]
struct Totals {
    connections: u64,
    sent: u64,
    received: u64,
    failed: u64,
}

impl Totals {
    fn add(&mut self, rec: &ConnRecord) {
        self.connections += 1;
        self.sent += rec.sent_bytes;
        self.received += rec.received_bytes;
        if rec.status == "failed" {
            self.failed += 1;
        }
    }

    fn total(&self, started: Instant) -> TotalRecord {
        TotalRecord::new(
            self.connections,
            self.sent,
            self.received,
            started.elapsed(),
        )
    }

    /// Ended connections plus the live counts of the active ones.
    fn live(&self, active: &BTreeMap<u64, Arc<Slot>>, started: Instant) -> TotalRecord {
        let (mut sent, mut received) = (self.sent, self.received);
        for rec in active.values().filter_map(|s| s.snapshot()) {
            sent += rec.sent_bytes;
            received += rec.received_bytes;
        }
        TotalRecord::new(
            self.connections + active.len() as u64,
            sent,
            received,
            started.elapsed(),
        )
    }
}
