//! From what each pair measured to the [`BenchResult`] of a case: rates summed over the
//! pairs, latency histograms merged (never an average of averages).

use std::time::Duration;

use super::loops::Measured;
use super::{Case, Mode};
use crate::error::Interrupted;
use crate::stats::bench::{BenchResult, CpuPair, PairResult};
use crate::stats::latency::Latencies;
use crate::units::per_sec;

/// How a case ended.
#[derive(Debug)]
pub enum Outcome {
    Done(Box<BenchResult>),
    /// A stop signal came; peers are gone, nothing was measured.
    Interrupted(i32),
}

/// A case's own result, or its error named after the case; a stop signal that surfaced
/// as an error is an interruption, not a failure.
pub fn named(name: &str, r: anyhow::Result<Outcome>) -> anyhow::Result<Outcome> {
    match r {
        Err(e) => {
            if let Some(Interrupted(sig)) = e.chain().find_map(|c| c.downcast_ref()) {
                return Ok(Outcome::Interrupted(*sig));
            }
            Err(e.context(format!("benchmark {name} failed")))
        }
        ok => ok,
    }
}

/// Who was measured: a transport with ipctool's own peer, or a server under `--connect`.
#[derive(Clone, Debug)]
pub struct Subject {
    pub transport: String,
    pub address: Option<String>,
}

fn pair_result(i: usize, m: &Measured, mode: Mode, size: u64) -> PairResult {
    let (bps, mps, lat) = rates(m.bytes, m.elapsed, mode, size, m.latencies.as_ref());
    PairResult {
        pair: i + 1,
        duration_secs: m.elapsed.as_secs_f64(),
        messages: m.messages,
        bytes_per_sec: bps,
        msgs_per_sec: mps,
        latency_ns: lat,
    }
}

type Rates = (
    Option<f64>,
    Option<f64>,
    Option<crate::stats::latency::LatencySummary>,
);

fn rates(bytes: u64, elapsed: Duration, mode: Mode, size: u64, lat: Option<&Latencies>) -> Rates {
    match mode {
        Mode::Throughput => {
            let bps = per_sec(bytes, elapsed);
            (Some(bps), Some(bps / size.max(1) as f64), None)
        }
        Mode::Latency => (None, None, lat.and_then(Latencies::summary)),
    }
}

/// The result of a case from its pairs' measurements.
pub fn result(
    subject: &Subject,
    case: &Case,
    cpus: Vec<CpuPair>,
    pairs: &[Measured],
) -> BenchResult {
    let size = case.size as u64;
    let per_pair: Vec<PairResult> = pairs
        .iter()
        .enumerate()
        .map(|(i, m)| pair_result(i, m, case.mode, size))
        .collect();
    let duration = pairs.iter().map(|m| m.elapsed).max().unwrap_or_default();
    let messages = pairs.iter().map(|m| m.messages).sum();
    let (bytes_per_sec, msgs_per_sec, latency_ns) = match case.mode {
        Mode::Throughput => {
            // Each pair's rate over its own window; the windows are the same one.
            let bps: f64 = per_pair.iter().filter_map(|p| p.bytes_per_sec).sum();
            let mps: f64 = per_pair.iter().filter_map(|p| p.msgs_per_sec).sum();
            (Some(bps), Some(mps), None)
        }
        Mode::Latency => {
            let mut all = Latencies::new();
            for l in pairs.iter().filter_map(|m| m.latencies.as_ref()) {
                all.merge(l);
            }
            (None, None, all.summary())
        }
    };
    BenchResult {
        transport: subject.transport.clone(),
        address: subject.address.clone(),
        mode: case.mode,
        size_bytes: size,
        clients: case.clients,
        pin: case.pin,
        cpus,
        duration_secs: duration.as_secs_f64(),
        messages,
        bytes_per_sec,
        msgs_per_sec,
        latency_ns,
        pairs: if pairs.len() > 1 {
            per_pair
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{Length, Pin};

    fn case(mode: Mode, clients: usize) -> Case {
        Case {
            mode,
            size: 1024,
            clients,
            pin: Pin::None,
            warmup: Duration::ZERO,
            length: Length::Count(10),
        }
    }

    fn subject() -> Subject {
        Subject {
            transport: "unix".into(),
            address: None,
        }
    }

    #[test]
    fn throughput_sums_pairs() {
        let m = |kib: u64, ms: u64| Measured {
            bytes: kib * 1024,
            messages: kib,
            elapsed: Duration::from_millis(ms),
            latencies: None,
        };
        let r = result(
            &subject(),
            &case(Mode::Throughput, 2),
            Vec::new(),
            &[m(100, 1000), m(300, 500)],
        );
        assert_eq!(r.bytes_per_sec, Some(100.0 * 1024.0 + 600.0 * 1024.0));
        assert_eq!(r.msgs_per_sec, Some(700.0));
        assert_eq!(r.messages, 400);
        assert_eq!(r.duration_secs, 1.0);
        assert_eq!(r.pairs.len(), 2);
        assert_eq!(r.pairs[1].msgs_per_sec, Some(600.0));
        assert!(r.latency_ns.is_none());
    }

    #[test]
    fn latency_merges_histograms_and_one_pair_has_no_pair_list() {
        let mut l = Latencies::new();
        for v in [1000, 2000, 3000] {
            l.record(v);
        }
        let m = Measured {
            bytes: 3 * 1024,
            messages: 3,
            elapsed: Duration::from_millis(1),
            latencies: Some(l),
        };
        let r = result(&subject(), &case(Mode::Latency, 1), Vec::new(), &[m]);
        let lat = r.latency_ns.expect("latency");
        assert_eq!((lat.min, lat.p50, lat.max), (1000, 2000, 3000));
        assert_eq!(lat.mean, 2000.0);
        assert!(r.pairs.is_empty());
        assert!(r.bytes_per_sec.is_none());
    }
}
