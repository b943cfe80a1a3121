//! One case against ipctool's own peers: wire the pairs, run one measuring thread per
//! pair (pinned if asked) while the main thread conducts the phases, then close the
//! connections and reap the peers.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::conductor::{self, Ended};
use super::kill::KillList;
use super::loops::{self, Measured};
use super::outcome::{Outcome, Subject, named, result};
use super::placement;
use super::rig::{self, Pair, Wiring};
use super::roundtrip::{self, RoundTrip};
use super::tempdir::PrivateDir;
use super::{Case, Mode, Transport};
use crate::signals::Signals;
use crate::term::Printer;
use crate::transport::Conn;

/// How long a peer may take to end after its connection closed, and a measuring thread to
/// finish after the window closed.
const PEER_GRACE: Duration = Duration::from_secs(5);

/// What every case runs with.
pub struct Env<'a> {
    pub printer: &'a Printer,
    pub signals: &'a Signals,
    pub kills: &'a KillList,
    /// The CPUs ipctool may use (for `--pin`).
    pub cpus: &'a [usize],
}

/// A case's name in messages: `unix latency at 64 B`.
pub fn label(transport: &str, case: &Case) -> String {
    format!(
        "{transport} {} at {}",
        case.mode,
        crate::units::format_bytes(case.size as u64)
    )
}

/// Runs one case over `transport`.
pub fn run_case(env: &Env<'_>, transport: Transport, case: &Case) -> Result<Outcome> {
    named(&label(transport.name(), case), run(env, transport, case))
}

fn run(env: &Env<'_>, transport: Transport, case: &Case) -> Result<Outcome> {
    let max = crate::transport::msgsock::max_message();
    if transport.is_message() && case.size > max {
        return Err(anyhow!(
            "a message of {} bytes is larger than a {transport} socket allows here (at most {max} bytes: twice net.core.wmem_max, less 32)",
            case.size
        ));
    }
    let cpus = placement::plan(case.pin, case.clients, env.cpus);
    let dir = match transport {
        Transport::Unix | Transport::Fifo | Transport::UnixDgram | Transport::Seqpacket => Some(
            PrivateDir::create().context("cannot create a private directory for the benchmark")?,
        ),
        _ => None,
    };
    if let Some(d) = &dir {
        env.printer
            .event(format_args!("bench: files in {}", d.path().display()));
    }
    let wiring = Wiring {
        printer: env.printer,
        signals: env.signals,
        kills: env.kills,
        dir: dir.as_ref(),
    };
    let mut pairs = Vec::with_capacity(case.clients);
    for i in 0..case.clients {
        let peer_cpu = cpus.get(i).and_then(|c| c.peer);
        pairs.push(rig::wire(
            &wiring, transport, case.mode, case.size, i, peer_cpu,
        )?);
    }
    let (mode, size) = (case.mode, case.size);
    let (stopped, measured) = conductor::measure_each(
        &mut pairs,
        &cpus,
        case,
        PEER_GRACE,
        env.signals,
        env.kills,
        |pair, phase, count| measure(&mut pair.conn, mode, size, phase, count),
    )?;
    match stopped {
        Ended::Finished => {}
        Ended::Signal(sig) => return Ok(Outcome::Interrupted(sig)),
        Ended::Overran => {
            return Err(anyhow!(
                "the benchmark peer stopped responding ({} s after the measurement)",
                PEER_GRACE.as_secs()
            ));
        }
    }
    let mut done = Vec::with_capacity(pairs.len());
    for (i, (pair, m)) in pairs.into_iter().zip(measured).enumerate() {
        let Pair { conn, mut peer } = pair;
        // Closing our end is what tells the peer to stop.
        drop(conn);
        let ended = peer.finish(PEER_GRACE);
        let which = if case.clients > 1 {
            format!(" (pair {})", i + 1)
        } else {
            String::new()
        };
        match (m, ended) {
            (Ok(Some(m)), Ok(())) => done.push(m),
            (Ok(None), _) => return Err(anyhow!("the measurement{which} was aborted")),
            (Ok(Some(_)), Err(e)) => {
                return Err(e.context(format!("after the measurement{which}")));
            }
            (Err(e), Ok(())) => return Err(e.context(format!("lost the benchmark peer{which}"))),
            // The peer's own words say why the connection broke.
            (Err(e), Err(peer)) => {
                return Err(
                    anyhow!("{e:#}; {peer:#}").context(format!("lost the benchmark peer{which}"))
                );
            }
        }
    }
    let subject = Subject {
        transport: transport.name().into(),
        address: None,
    };
    Ok(Outcome::Done(Box::new(result(&subject, case, cpus, &done))))
}

/// The measuring side of one pair.
fn measure(
    conn: &mut Conn,
    mode: Mode,
    size: usize,
    phase: &super::conductor::Phase,
    count: Option<u64>,
) -> std::io::Result<Option<Measured>> {
    match mode {
        Mode::Throughput => {
            let input = conn
                .input
                .as_mut()
                .ok_or_else(|| std::io::Error::other("the connection has no readable half"))?;
            let mut buf = loops::buffer(size);
            loops::receive(input, &mut buf, phase, count)
        }
        Mode::Latency => {
            let (input, output) = loops::halves(conn.input.as_mut(), conn.output.as_mut())?;
            roundtrip::ping(input, output, RoundTrip::Sequential, size, phase, count)
        }
    }
}
