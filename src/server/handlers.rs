//! What a server does with each client: run a command for it (`listen -e`), or join it to
//! our stdin and stdout with every other client (`listen -k`).

use std::sync::Arc;
use std::time::Instant;

use super::fanout::{Broadcast, BroadcastSink, LineSink, SharedStdout};
use super::{Handler, Slot};
use crate::engine::{CopyConfig, CopyError, Session, SessionConfig, Sink, copy};
use crate::report::outcome::{Sides, judge};
use crate::stats::{ConnRecord, Meter};
use crate::transport::{self, Conn, ExecChild};

/// `listen -e CMD`: each client gets its own `sh -c CMD`, joined to it by a session.
pub struct ExecHandler {
    pub command: String,
    pub session: SessionConfig,
}

impl Handler for ExecHandler {
    fn serve(&self, conn: Conn, slot: &Slot) -> ConnRecord {
        let label = format!("exec:{}", self.command);
        let child = match transport::exec_spawn(&self.command, &conn.peer) {
            Ok(child) => child,
            Err(e) => {
                conn.aborter().abort();
                let mut rec = slot.record("failed");
                rec.error = Some(format!("could not start {label}: {e}"));
                return rec;
            }
        };
        run_session(child, conn, slot, self.session.clone(), &label)
    }
}

/// Joins `local` (a command, a backend) to the client `remote` until either side is done.
pub fn run_session(
    local: Conn,
    remote: Conn,
    slot: &Slot,
    cfg: SessionConfig,
    local_label: &str,
) -> ConnRecord {
    let aborters = [local.aborter(), remote.aborter()];
    let pids = [local.child.as_ref().map(ExecChild::pid), None];
    let session = match Session::start(local, remote, cfg) {
        Ok(s) => s,
        Err(e) => {
            for a in &aborters {
                a.abort();
            }
            for pid in pids.into_iter().flatten() {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let mut rec = slot.record("failed");
            rec.error = Some(format!("could not start the session: {e}"));
            return rec;
        }
    };
    match session.handle() {
        Ok(handle) => slot.on_stop(move || handle.abort()),
        Err(_) => slot.on_stop(move || {
            for a in &aborters {
                a.abort();
            }
        }),
    }
    let (sent, received) = session.meters();
    slot.track(sent, received, session.started());
    let outcome = session.wait(None, || {});
    let remote_label = format!("connection {}", slot.id);
    let (mut status, err) = judge(
        &outcome,
        &Sides {
            local_in: local_label,
            local_out: local_label,
            remote: &remote_label,
        },
    );
    if slot.was_idle() {
        status = "idle";
    }
    let mut rec = slot.record(status);
    rec.set_exit(outcome.child_status);
    rec.error = err.map(|e| format!("{e:#}"));
    rec
}

/// `listen -k`: what clients send goes to our stdout in whole lines; our stdin goes to
/// every connected client.
pub struct BroadcastHandler {
    stdout: Arc<SharedStdout>,
    broadcast: Arc<Broadcast>,
    copy: CopyConfig,
}

impl BroadcastHandler {
    /// Takes over our stdin and stdout.
    pub fn start(base: &CopyConfig) -> std::io::Result<Arc<BroadcastHandler>> {
        let stdio = transport::stdio()?;
        let (Some(mut input), Some(output)) = (stdio.input, stdio.output) else {
            return Err(std::io::Error::other("stdio has no input or output"));
        };
        let broadcast = Arc::new(Broadcast::default());
        let cfg = CopyConfig {
            // Many clients, mostly lines: small buffers keep memory low.
            chunk: 32 << 10,
            ..base.clone()
        };
        {
            let (broadcast, cfg) = (Arc::clone(&broadcast), cfg.clone());
            std::thread::Builder::new()
                .name("broadcast".into())
                .stack_size(256 << 10)
                .spawn(move || {
                    let meter = Meter::new(Instant::now());
                    let mut sink = BroadcastSink(broadcast);
                    // A failure to read stdin ends the broadcast like EOF: clients get EOF.
                    let _ = copy(&mut input, &mut sink, &meter, &cfg);
                    let _ = sink.close_write();
                })?;
        }
        Ok(Arc::new(BroadcastHandler {
            stdout: Arc::new(SharedStdout::new(output)),
            broadcast,
            copy: cfg,
        }))
    }
}

impl Handler for BroadcastHandler {
    /// Joins the broadcast at once: stdin sent after the client is reported as accepted
    /// reaches it.
    fn accepted(&self, conn: &mut Conn, slot: &Slot) {
        let started = Instant::now();
        let sent = Arc::new(Meter::new(started));
        let received = Arc::new(Meter::new(started));
        slot.track(Arc::clone(&sent), received, started);
        if let Some(out) = conn.output.take() {
            self.broadcast.join(slot.id, out, sent, conn.aborter());
        }
    }

    fn serve(&self, conn: Conn, slot: &Slot) -> ConnRecord {
        let Some(received) = slot.meters().map(|(_, r)| r) else {
            return slot.record("failed");
        };
        let stopper = conn.aborter();
        slot.on_stop(move || stopper.abort());
        let aborter = conn.aborter();
        let result = match conn.input {
            Some(mut input) => {
                let mut sink = LineSink::new(Arc::clone(&self.stdout), slot.id);
                copy(&mut input, &mut sink, &received, &self.copy)
                    .and_then(|_| sink.close_write().map_err(CopyError::Write))
            }
            None => Ok(()),
        };
        received.finish(Instant::now());
        // The client closed its side: its connection ends now.
        self.broadcast.leave(slot.id, &aborter);
        let (status, error) = match result {
            _ if slot.was_idle() => ("idle", None),
            Ok(()) => ("complete", None),
            Err(CopyError::Write(_)) if self.stdout.is_gone() => ("stdout-closed", None),
            Err(_) if slot.is_stopped() => ("aborted", None),
            Err(CopyError::Read(e)) => (
                "failed",
                Some(format!(
                    "could not receive from connection {}: {e}",
                    slot.id
                )),
            ),
            Err(CopyError::Write(e)) => ("failed", Some(format!("could not write to stdout: {e}"))),
        };
        let mut rec = slot.record(status);
        rec.error = error;
        rec
    }

    fn finished(&self) -> bool {
        self.stdout.is_gone()
    }
}

/// `relay`: each client gets its own connection to TO, joined to it by a session.
pub struct RelayHandler {
    pub to: crate::addr::Address,
    pub dial: transport::DialOpts,
    pub signals: crate::signals::Signals,
    pub printer: crate::term::Printer,
    pub session: SessionConfig,
    /// `--hex`/`--dump`: every chunk of every connection.
    pub dump: Option<Arc<crate::report::hexdump::HexDump>>,
}

impl Handler for RelayHandler {
    fn serve(&self, conn: Conn, slot: &Slot) -> ConnRecord {
        let to = crate::term::escape(&self.to.to_string());
        let backend = match transport::dial(&self.to, &self.dial, &self.signals) {
            Ok(b) => b,
            Err(e) => {
                // This client only: the relay keeps serving the others.
                conn.aborter().abort();
                let mut rec = slot.record("failed");
                rec.error = Some(format!("{e:#}"));
                return rec;
            }
        };
        let peer = if backend.peer.is_known() {
            format!(" (peer {})", backend.peer)
        } else {
            String::new()
        };
        self.printer.event(format_args!(
            "connection {}: connected to {to}{peer}",
            slot.id
        ));
        let mut cfg = self.session.clone();
        if let Some(dump) = &self.dump {
            cfg.tap = Some(Arc::new(dump.tap(slot.id)));
        }
        run_session(backend, conn, slot, cfg, &to)
    }
}
