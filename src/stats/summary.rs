//! The `--stats` records (SPEC §3): one `connection` record per connection, one `total` at
//! exit; `pipe` prints one `hop` record per hop, then its own `total`. Every format (human lines, JSON Lines) is rendered
//! from these types; JSON keys are snake_case with their unit in the name.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Meter;
use crate::transport::PeerCreds;
use crate::units::per_sec;

/// One connection.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConnRecord {
    /// Always `"connection"`.
    pub kind: &'static str,
    /// Connection number, from 1 in the order of arrival.
    pub connection: u64,
    /// The address served or dialled, canonical form.
    pub address: String,
    /// The peer's network address (TCP), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The peer's process id, where the OS gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_pid: Option<u32>,
    /// The peer's user id, where the OS gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_uid: Option<u32>,
    /// The peer's group id, where the OS gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_gid: Option<u32>,
    /// Bytes sent towards the endpoint.
    pub sent_bytes: u64,
    /// Bytes received from the endpoint.
    pub received_bytes: u64,
    /// From connection to close (so far, for a live report).
    pub duration_secs: f64,
    pub sent_bytes_per_sec: f64,
    pub received_bytes_per_sec: f64,
    /// `open` (live report), `complete`, `idle` (idle timeout), `failed`, `interrupted`,
    /// `aborted` (server shutdown), `stdout-closed`.
    pub status: &'static str,
    /// What failed, for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Exit status of the connection's `exec` child, once reaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Signal that ended the connection's `exec` child.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_signal: Option<i32>,
}

impl ConnRecord {
    /// A record with the counts and nothing else known yet.
    pub fn new(
        connection: u64,
        address: String,
        peer: PeerCreds,
        sent: u64,
        received: u64,
        d: Duration,
    ) -> ConnRecord {
        ConnRecord {
            kind: "connection",
            connection,
            address,
            peer: None,
            peer_pid: peer.pid,
            peer_uid: peer.uid,
            peer_gid: peer.gid,
            sent_bytes: sent,
            received_bytes: received,
            duration_secs: d.as_secs_f64(),
            sent_bytes_per_sec: per_sec(sent, d),
            received_bytes_per_sec: per_sec(received, d),
            status: "open",
            error: None,
            exit_code: None,
            exit_signal: None,
        }
    }

    /// A record from a connection's meters, as of `ended` (or now, for a live report).
    pub fn from_meters(
        id: u64,
        address: String,
        peer: PeerCreds,
        meters: (&Meter, &Meter),
        started: Instant,
        ended: Option<Instant>,
    ) -> ConnRecord {
        let end = ended.unwrap_or_else(Instant::now);
        ConnRecord::new(
            id,
            address,
            peer,
            meters.0.bytes(),
            meters.1.bytes(),
            end.saturating_duration_since(started),
        )
    }

    /// Records how an `exec` child ended.
    pub fn set_exit(&mut self, status: Option<std::process::ExitStatus>) {
        use std::os::unix::process::ExitStatusExt;
        if let Some(s) = status {
            self.exit_code = s.code();
            self.exit_signal = s.signal();
        }
    }
}

/// Everything, at exit (or so far, for SIGUSR1).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TotalRecord {
    /// Always `"total"`.
    pub kind: &'static str,
    /// Connections accepted or made.
    pub connections: u64,
    pub sent_bytes: u64,
    pub received_bytes: u64,
    /// From start to exit.
    pub duration_secs: f64,
    pub sent_bytes_per_sec: f64,
    pub received_bytes_per_sec: f64,
}

impl TotalRecord {
    pub fn new(connections: u64, sent: u64, received: u64, d: Duration) -> TotalRecord {
        TotalRecord {
            kind: "total",
            connections,
            sent_bytes: sent,
            received_bytes: received,
            duration_secs: d.as_secs_f64(),
            sent_bytes_per_sec: per_sec(sent, d),
            received_bytes_per_sec: per_sec(received, d),
        }
    }
}

/// One hop of `pipe`: the bytes ipctool moved from one place to the next. Stages are
/// numbered from 1: hop 0 is ipctool's stdin into stage 1, hop i is stage i into stage
/// i+1, the last hop is the last stage into ipctool's stdout (the plain meter has hop 0
/// only: stdin to stdout).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HopRecord {
    /// Always `"hop"`.
    pub kind: &'static str,
    /// The hop number, from 0.
    pub hop: u64,
    /// Where the bytes came from: `stdin` or a stage's command.
    pub from: String,
    /// Where they went: a stage's command or `stdout`.
    pub to: String,
    /// Bytes delivered.
    pub bytes: u64,
    /// Bytes written towards `to` (equal to `bytes`: a hop delivers what it reads).
    pub sent_bytes: u64,
    /// Bytes read from `from` (equal to `bytes`).
    pub received_bytes: u64,
    /// From the start of the pipeline to the end of this hop (so far, for a live report).
    pub duration_secs: f64,
    pub bytes_per_sec: f64,
    /// Time the hop waited for `from` to produce.
    pub read_wait_secs: f64,
    /// Time the hop waited for `to` to take what it had.
    pub write_wait_secs: f64,
    /// False when ipctool did not stand in this hop: a terminal on stdin or stdout is given
    /// to the stage directly, so the counts are zero.
    pub metered: bool,
}

impl HopRecord {
    /// A record from a hop's counts.
    pub fn new(
        hop: u64,
        (from, to): (String, String),
        bytes: u64,
        d: Duration,
        (read_wait, write_wait): (Duration, Duration),
    ) -> HopRecord {
        HopRecord {
            kind: "hop",
            hop,
            from,
            to,
            bytes,
            sent_bytes: bytes,
            received_bytes: bytes,
            duration_secs: d.as_secs_f64(),
            bytes_per_sec: per_sec(bytes, d),
            read_wait_secs: read_wait.as_secs_f64(),
            write_wait_secs: write_wait.as_secs_f64(),
            metered: true,
        }
    }
}

/// `pipe`, at exit (or so far, for SIGUSR1). The pipeline is the endpoint: `sent_bytes` went
/// into it from stdin (hop 0), `received_bytes` came out of it to stdout (the last hop).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PipeTotalRecord {
    /// Always `"total"`.
    pub kind: &'static str,
    /// Number of stages (0 for the plain meter).
    pub stages: u64,
    pub sent_bytes: u64,
    pub received_bytes: u64,
    /// From start to exit.
    pub duration_secs: f64,
    pub sent_bytes_per_sec: f64,
    pub received_bytes_per_sec: f64,
    /// Where the data waited: a stage's command, `stdin` (its writer was the slowest) or
    /// `stdout` (its reader was); absent when the waits do not tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<String>,
    /// The bottleneck's stage number (from 1, as in messages), when it is a stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottleneck_stage: Option<u64>,
}

/// Any record.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Record {
    Connection(ConnRecord),
    Total(TotalRecord),
    Hop(HopRecord),
    PipeTotal(PipeTotalRecord),
}
