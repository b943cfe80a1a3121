//! The benchmark machinery behind `ipctool bench`: what a case is (transport, mode, size,
//! placement), how the two processes of a case are wired through the transport core, the
//! measured loops, and the peer process. `cmd/bench.rs` plans the cases and reports them;
//! `cmd/bench_peer.rs` is the other end.

pub mod conductor;
pub mod kill;
pub mod local;
pub mod loops;
pub mod outcome;
pub mod peer;
pub mod placement;
pub mod remote;
pub mod rig;
pub mod roundtrip;
pub mod tempdir;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// A transport `bench` can measure with its own peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A Unix domain stream socket on a path in a private temporary directory.
    Unix,
    /// A Unix stream socket in the Linux abstract namespace.
    Abstract,
    /// FIFOs (named pipes) in a private temporary directory: one each way.
    Fifo,
    /// Unnamed pipes: the peer's stdin and stdout.
    Pipe,
    /// TCP over loopback, the baseline.
    Tcp,
    /// A Unix datagram socket on a path in a private temporary directory (only when named:
    /// not in the default suite).
    #[value(name = "unix-dgram")]
    #[serde(rename = "unix-dgram")]
    UnixDgram,
    /// A Unix sequenced-packet socket on a path in a private temporary directory (only
    /// when named: not in the default suite).
    Seqpacket,
}

impl Transport {
    /// Every transport, in the order of the default suite.
    pub const ALL: [Transport; 5] = [
        Transport::Unix,
        Transport::Abstract,
        Transport::Fifo,
        Transport::Pipe,
        Transport::Tcp,
    ];

    /// The name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Unix => "unix",
            Transport::Abstract => "abstract",
            Transport::Fifo => "fifo",
            Transport::Pipe => "pipe",
            Transport::Tcp => "tcp",
            Transport::UnixDgram => "unix-dgram",
            Transport::Seqpacket => "seqpacket",
        }
    }

    /// True for the message-oriented transports: each message is one datagram or packet,
    /// so a message may not be larger than the socket allows.
    pub fn is_message(self) -> bool {
        matches!(self, Transport::UnixDgram | Transport::Seqpacket)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one case measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A one-way stream of messages: bytes/s and messages/s.
    Throughput,
    /// Ping-pong round trips: a histogram of their times.
    Latency,
}

impl Mode {
    /// The name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Throughput => "throughput",
            Mode::Latency => "latency",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `--mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeChoice {
    /// Throughput only.
    Throughput,
    /// Round-trip latency only.
    Latency,
    /// Throughput, then latency.
    #[default]
    Both,
}

impl ModeChoice {
    /// The modes to run, in order.
    pub fn modes(self) -> &'static [Mode] {
        match self {
            ModeChoice::Throughput => &[Mode::Throughput],
            ModeChoice::Latency => &[Mode::Latency],
            ModeChoice::Both => &[Mode::Throughput, Mode::Latency],
        }
    }
}

/// `--pin`: where the two processes of a pair run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pin {
    /// Leave placement to the scheduler.
    #[default]
    None,
    /// Both processes of a pair on one CPU.
    Same,
    /// The two processes of a pair on different CPUs.
    Spread,
}

impl Pin {
    /// The name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Pin::None => "none",
            Pin::Same => "same",
            Pin::Spread => "spread",
        }
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long a case measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// Measure for this long.
    Time(Duration),
    /// Measure this many messages (throughput) or round trips (latency) per pair.
    Count(u64),
}

/// One case to measure, as planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub mode: Mode,
    pub size: usize,
    pub clients: usize,
    pub pin: Pin,
    pub warmup: Duration,
    pub length: Length,
}
