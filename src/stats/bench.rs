//! The result of one benchmark case: the one type every `bench` output format (table,
//! `--json`, `--csv`, `--markdown`) is rendered from. JSON keys are snake_case with their
//! unit in the name; `latency_ns` holds nanoseconds.

use serde::Serialize;

use super::latency::LatencySummary;
use crate::bench::{Mode, Pin};

/// Where the two processes of one pair ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CpuPair {
    /// The CPU of ipctool's measuring thread.
    pub bench: usize,
    /// The CPU of the peer process; `null` for a server measured with `--connect`.
    pub peer: Option<usize>,
}

/// What one pair (one connection) measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairResult {
    /// Pair number, from 1.
    pub pair: usize,
    /// Length of the measured window.
    pub duration_secs: f64,
    /// Messages moved (throughput) or round trips timed (latency).
    pub messages: u64,
    /// Throughput: bytes per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_sec: Option<f64>,
    /// Throughput: messages per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msgs_per_sec: Option<f64>,
    /// Latency: this pair's round-trip times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ns: Option<LatencySummary>,
}

/// One case: a transport, a mode, a message size, a number of pairs, a placement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchResult {
    /// `unix`, `abstract`, `fifo`, `pipe`, `tcp`; with `--connect`, the kind of the address
    /// (`unix`, `abstract`, `tcp`, `exec`).
    pub transport: String,
    /// The server measured with `--connect`, canonical form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `throughput` or `latency`.
    pub mode: Mode,
    /// Bytes per message.
    pub size_bytes: u64,
    /// Pairs measured in parallel (`--clients`).
    pub clients: usize,
    /// `none`, `same` or `spread` (`--pin`).
    pub pin: Pin,
    /// Per pair, the CPUs the two sides were pinned to; empty when not pinned.
    pub cpus: Vec<CpuPair>,
    /// Length of the measured window (the longest over the pairs).
    pub duration_secs: f64,
    /// Messages moved (throughput) or round trips timed (latency), over all pairs.
    pub messages: u64,
    /// Throughput: bytes per second, summed over the pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_sec: Option<f64>,
    /// Throughput: messages per second, summed over the pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msgs_per_sec: Option<f64>,
    /// Latency: round-trip times over every sample of every pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ns: Option<LatencySummary>,
    /// Per pair, when there is more than one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<PairResult>,
}

/// The `--json` document.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport<'a> {
    /// One entry per case, in the order they ran.
    pub results: &'a [BenchResult],
}
