//! Round-trip times: every sample goes into an HDR histogram (bounded relative error, fixed
//! memory, no allocation per sample), with the exact minimum, maximum and sum kept beside
//! it. Percentiles are nearest-rank over all samples, read from the histogram.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest sample the histogram resolves (one minute, in nanoseconds); longer ones are
/// counted as one minute.
const HIGHEST_NS: u64 = 60_000_000_000;

/// Significant decimal digits kept: a percentile is off by at most 0.1%.
const SIGFIGS: u8 = 3;

/// Collects round-trip samples in nanoseconds.
#[derive(Clone, Debug)]
pub struct Latencies {
    hist: Histogram<u64>,
    min: u64,
    max: u64,
    sum: u128,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

impl Latencies {
    /// No samples yet.
    pub fn new() -> Latencies {
        Latencies {
            hist: Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIGS)
                .expect("constant histogram bounds are valid"),
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }

    /// Records one sample.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns.max(1));
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
        self.sum += u128::from(ns);
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Adds another collection's samples (the total over several pairs).
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides: addition cannot fail.
        let _ = self.hist.add(&other.hist);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// The nearest-rank value at quantile `q` (0..=1): the smallest sample such that at
    /// least `q` of all samples are lower or equal, to within 0.1%, and never outside the
    /// exact minimum and maximum.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count() == 0 {
            return 0;
        }
        self.hist.value_at_quantile(q).clamp(self.min, self.max)
    }

    /// The summary reported for a case, or `None` without samples.
    pub fn summary(&self) -> Option<LatencySummary> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        Some(LatencySummary {
            min: self.min,
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p99: self.quantile(0.99),
            p999: self.quantile(0.999),
            max: self.max,
            mean: self.sum as f64 / n as f64,
        })
    }
}

/// Round-trip times of a case, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Fastest round trip (exact).
    pub min: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Slowest round trip (exact).
    pub max: u64,
    /// Arithmetic mean of all samples (exact).
    pub mean: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest rank over sorted samples, as the histogram defines it.
    fn exact(sorted: &[u64], q: f64) -> u64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    fn samples() -> Vec<Vec<u64>> {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        vec![
            vec![7_000],
            vec![5, 5, 5, 5],
            (1..=1000).collect(),
            (1..=1000).map(|i| i * 1_237).collect(),
            // A latency-like shape: a dense body around 6 µs and a long tail to 60 µs+.
            (0..20_000)
                .map(|i| {
                    let r = next();
                    if i % 97 == 0 {
                        30_000 + r % 400_000
                    } else {
                        5_800 + r % 900
                    }
                })
                .collect(),
            (0..5_000).map(|_| 1 + next() % 10_000_000_000).collect(),
        ]
    }

    #[test]
    fn percentiles_match_exact_sorting_within_a_tenth_of_a_percent() {
        for set in samples() {
            let mut rec = Latencies::new();
            for &v in &set {
                rec.record(v);
            }
            let mut sorted = set.clone();
            sorted.sort_unstable();
            let s = rec.summary().expect("samples");
            assert_eq!(s.min, sorted[0]);
            assert_eq!(s.max, *sorted.last().expect("non-empty"));
            let mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / sorted.len() as f64;
            assert!(
                (s.mean - mean).abs() <= mean * 1e-12,
                "{} vs {mean}",
                s.mean
            );
            for (q, got) in [(0.5, s.p50), (0.9, s.p90), (0.99, s.p99), (0.999, s.p999)] {
                let want = exact(&sorted, q);
                let err = got.abs_diff(want);
                assert!(
                    err <= want / 1000,
                    "q={q} over {} samples: got {got}, exact {want}",
                    sorted.len()
                );
            }
            assert!(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p99);
            assert!(s.p99 <= s.p999 && s.p999 <= s.max);
        }
    }

    #[test]
    fn small_values_are_exact() {
        let mut rec = Latencies::new();
        for v in [3, 1, 2, 4, 5, 6, 7, 8, 9, 10] {
            rec.record(v);
        }
        assert_eq!(rec.quantile(0.5), 5);
        assert_eq!(rec.quantile(0.9), 9);
        assert_eq!(rec.quantile(0.99), 10);
    }

    #[test]
    fn merged_equals_recorded_together() {
        let (mut a, mut b, mut all) = (Latencies::new(), Latencies::new(), Latencies::new());
        for v in 1..=500u64 {
            let v = v * 97;
            if v % 3 == 0 { &mut a } else { &mut b }.record(v);
            all.record(v);
        }
        a.merge(&b);
        assert_eq!(a.summary(), all.summary());
    }

    #[test]
    fn empty_has_no_summary() {
        assert_eq!(Latencies::new().summary(), None);
        assert_eq!(Latencies::new().quantile(0.5), 0);
    }
}
