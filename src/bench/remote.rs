//! One case against an existing server (`--connect ADDR`): each client dials ADDR through
//! the transport core and either times round trips (send a message, wait for as many bytes
//! back) or streams messages while a second thread reads and drops whatever comes back, so
//! an echo server never stalls on its own output.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::conductor::{self, Ended, Phase};
use super::kill::KillList;
use super::local::{Env, label};
use super::loops::{self, Measured};
use super::outcome::{Outcome, Subject, named, result};
use super::placement;
use super::roundtrip::{self, RoundTrip};
use super::{Case, Mode};
use crate::addr::Address;
use crate::error::{HintExt, hint_of, hinted};
use crate::stats::bench::CpuPair;
use crate::transport::{self, Conn, DialOpts};

/// Above this size a round trip writes and reads at once: a server that echoes as it
/// reads (`cat`) would otherwise block on its full output while we still write.
const SEQUENTIAL_MAX: usize = 16 << 10;

/// How long a server may take to close after our half-close, once a throughput window is
/// over, before its connection is shut down.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// How long a server may stay silent: for the first answer, and after the window closes.
const SILENCE: Duration = Duration::from_secs(5);

const ECHO_HINT: &str = "bench --connect needs a server that reads everything and sends it back, e.g. socat UNIX-LISTEN:/tmp/echo.sock,fork EXEC:cat";

/// The transport name recorded for a `--connect` address.
pub fn kind(addr: &Address) -> &'static str {
    match addr {
        Address::Unix(_) => "unix",
        Address::Abstract(_) => "abstract",
        Address::Tcp { .. } => "tcp",
        Address::Exec(_) => "exec",
        Address::Fifo(_) => "fifo",
        Address::Stdio => "stdio",
        Address::Npipe(_) => "npipe",
        Address::UnixDgram(_) => "unix-dgram",
        Address::Seqpacket(_) => "seqpacket",
    }
}

/// Runs one case against the server at `addr`.
pub fn run_case(env: &Env<'_>, addr: &Address, case: &Case) -> Result<Outcome> {
    named(&label(&addr.to_string(), case), run(env, addr, case))
}

fn run(env: &Env<'_>, addr: &Address, case: &Case) -> Result<Outcome> {
    // Only our side can be pinned: the server's placement is its own.
    let cpus: Vec<CpuPair> = placement::plan(case.pin, case.clients, env.cpus)
        .into_iter()
        .map(|c| CpuPair { peer: None, ..c })
        .collect();
    let how = if case.mode == Mode::Latency && case.size > SEQUENTIAL_MAX {
        RoundTrip::Interleaved
    } else {
        RoundTrip::Sequential
    };
    let mut clients = Clients {
        conns: Vec::with_capacity(case.clients),
        kills: env.kills.clone(),
    };
    for _ in 0..case.clients {
        let conn = clients.open(env, addr)?;
        if case.mode == Mode::Latency {
            check_echo(conn, case.size)?;
        }
        if how == RoundTrip::Interleaved {
            set_nonblocking(conn).with_context(|| format!("cannot set up {addr}"))?;
        }
    }
    let (stopped, measured) = conductor::measure_each(
        &mut clients.conns,
        &cpus,
        case,
        SILENCE,
        env.signals,
        env.kills,
        |conn, phase, count| measure(conn, case, how, phase, count),
    )?;
    drop(clients);
    env.kills.clear_aborters();
    match stopped {
        Ended::Finished => {}
        Ended::Signal(sig) => return Ok(Outcome::Interrupted(sig)),
        Ended::Overran => {
            return Err(anyhow!(
                "the server stopped reading or answering: a client was still waiting {} s after the measurement",
                SILENCE.as_secs()
            ))
            .hint(ECHO_HINT);
        }
    }
    let mut done = Vec::with_capacity(measured.len());
    for (i, m) in measured.into_iter().enumerate() {
        let which = if case.clients > 1 {
            format!("client {}", i + 1)
        } else {
            "the client".into()
        };
        match m {
            Ok(Some(m)) => done.push(m),
            Ok(None) => return Err(anyhow!("the measurement of {which} was aborted")),
            Err(e) => return Err(e.context(format!("{which} lost its connection to {addr}"))),
        }
    }
    let subject = Subject {
        transport: kind(addr).into(),
        address: Some(addr.to_string()),
    };
    Ok(Outcome::Done(Box::new(result(&subject, case, cpus, &done))))
}

/// One round trip with a time limit: a server that does not send back what it receives
/// would make the measurement wait forever.
fn check_echo(conn: &mut Conn, size: usize) -> Result<()> {
    let (input, output) = loops::halves(conn.input.as_mut(), conn.output.as_mut())?;
    match roundtrip::probe(input, output, size, SILENCE) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(anyhow!(
            "the server sent nothing back within {} s of a {size}-byte message",
            SILENCE.as_secs(),
        ))
        .hint(ECHO_HINT),
        Err(e) if loops::is_peer_gone(&e) || e.kind() == std::io::ErrorKind::UnexpectedEof => Err(
            anyhow!("the server closed the connection during the first round trip"),
        ),
        Err(e) => Err(anyhow!(e).context("the first round trip failed")),
    }
}

fn set_nonblocking(conn: &Conn) -> std::io::Result<()> {
    if let Some(i) = &conn.input {
        loops::set_nonblocking(i.fd())?;
    }
    if let Some(fd) = conn.output.as_ref().and_then(|o| o.fd()) {
        loops::set_nonblocking(fd)?;
    }
    Ok(())
}

/// One client's measurement.
fn measure(
    conn: &mut Conn,
    case: &Case,
    how: RoundTrip,
    phase: &Phase,
    count: Option<u64>,
) -> std::io::Result<Option<Measured>> {
    let aborter = conn.aborter();
    let (input, output) = loops::halves(conn.input.as_mut(), conn.output.as_mut())?;
    match case.mode {
        Mode::Latency => roundtrip::ping(input, output, how, case.size, phase, count),
        Mode::Throughput => thread::scope(|s| {
            let (tx, drained) = mpsc::channel();
            let drainer = s.spawn(move || {
                let r = loops::drain(input, &mut loops::buffer(64 << 10));
                let _ = tx.send(());
                r
            });
            let sent = loops::send(output, &loops::buffer(case.size), phase, count);
            // End the replies: half-close, so that an echo server sends back what is still
            // in flight and closes; shut the socket down for a server that does not.
            let _ = output.close_write();
            if drained.recv_timeout(DRAIN_GRACE).is_err() {
                aborter.abort();
            }
            let drained = drainer
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the reply reader panicked")));
            let sent = sent?;
            drained?;
            Ok(sent)
        }),
    }
}

/// The clients' connections; `exec:` children are stopped and reaped when dropped.
struct Clients {
    conns: Vec<Conn>,
    kills: KillList,
}

impl Clients {
    /// Connects one more client, listed for an interrupt.
    fn open(&mut self, env: &Env<'_>, addr: &Address) -> Result<&mut Conn> {
        let conn = transport::dial(addr, &DialOpts::default(), env.signals).map_err(|e| {
            // The dial's own hint is about `connect --wait`, which bench does not have.
            if hint_of(&e).is_some_and(|h| h.contains("--wait")) {
                hinted(
                    e,
                    "start the server first: bench --connect measures a server that is already listening",
                )
            } else {
                e
            }
        })?;
        self.kills.add_aborter(conn.aborter());
        if let Some(child) = &conn.child {
            self.kills.add_pid(child.pid());
        }
        self.conns.push(conn);
        Ok(self.conns.last_mut().expect("a connection was just added"))
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        for conn in &mut self.conns {
            if let Some(out) = conn.output.as_mut() {
                let _ = out.close_write();
            }
            conn.aborter().abort();
            if let Some(child) = conn.child.as_mut() {
                self.kills.remove_pid(child.pid());
                // SIGTERM now, SIGKILL two seconds later: a child that ignores SIGTERM
                // must not keep bench from ending.
                let _ = crate::engine::session::reap(child, std::time::Duration::ZERO);
            }
        }
    }
}
