//! `bench` results for people and programs, one module per format (as hyperfine's
//! `src/export/`): a coloured table, JSON, CSV, Markdown; plus the closing comparison line
//! and the progress bar. Every format renders the same [`BenchResult`]s.

mod compare;
mod csv;
mod json;
mod markdown;
mod progress;
mod table;

pub use compare::comparisons;
pub use progress::BenchProgress;

use crate::stats::bench::BenchResult;
use crate::term::Styles;

/// The output format of `bench`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BenchFormat {
    /// Tables for a terminal, coloured where stdout allows.
    #[default]
    Table,
    /// `--json`: one document `{"results": [...]}`.
    Json,
    /// `--csv`: a header and one row per result (and per pair).
    Csv,
    /// `--markdown`: tables to paste into a document.
    Markdown,
}

/// Renders the results, ending with a newline.
pub fn render(results: &[BenchResult], format: BenchFormat, styles: &Styles) -> String {
    match format {
        BenchFormat::Table => table::render(results, styles),
        BenchFormat::Json => json::render(results),
        BenchFormat::Csv => csv::render(results),
        BenchFormat::Markdown => markdown::render(results),
    }
}

/// Column values shared by the table and Markdown formats.
pub(crate) mod cells {
    use crate::bench::Pin;
    use crate::bench::placement::describe;
    use crate::stats::bench::BenchResult;
    use crate::units::format_bytes;

    /// `64 B`, `64 KiB`, `1 MiB`: exact where the size is a whole number of a binary unit
    /// (as sizes are given), else rounded (`1.50 KiB`).
    pub fn size(r: &BenchResult) -> String {
        let n = r.size_bytes;
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
            if n >= 1 << shift && n.is_multiple_of(1 << shift) {
                return format!("{} {unit}", n >> shift);
            }
        }
        format_bytes(n)
    }

    /// `none`, `same 0/0`, `spread 0/1 1/0`.
    pub fn pin(r: &BenchResult) -> String {
        match r.pin {
            Pin::None => "none".into(),
            p => format!("{p} {}", describe(&r.cpus)),
        }
    }

    /// Bytes per second in MiB/s.
    pub fn mib_per_sec(v: Option<f64>) -> String {
        v.map(|b| format!("{:.1}", b / (1u64 << 20) as f64))
            .unwrap_or_default()
    }

    /// Messages per second, whole.
    pub fn per_sec(v: Option<f64>) -> String {
        v.map(|m| format!("{m:.0}")).unwrap_or_default()
    }

    /// Nanoseconds in microseconds.
    pub fn micros(ns: f64) -> String {
        format!("{:.2}", ns / 1000.0)
    }

    /// The transport, with the address of a `--connect` server.
    pub fn subject(r: &BenchResult) -> String {
        match &r.address {
            Some(a) => a.clone(),
            None => r.transport.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::throughput;

    #[test]
    fn sizes_are_exact_when_whole() {
        let size = |n: u64| {
            let mut r = throughput("unix", 1.0);
            r.size_bytes = n;
            super::cells::size(&r)
        };
        assert_eq!(size(64), "64 B");
        assert_eq!(size(1000), "1000 B");
        assert_eq!(size(4096), "4 KiB");
        assert_eq!(size(1536), "1.50 KiB");
        assert_eq!(size(1 << 20), "1 MiB");
        assert_eq!(size(3 << 30), "3 GiB");
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::bench::{Mode, Pin};
    use crate::stats::bench::{BenchResult, CpuPair, PairResult};
    use crate::stats::latency::LatencySummary;

    pub fn throughput(transport: &str, mib_s: f64) -> BenchResult {
        let bps = mib_s * (1u64 << 20) as f64;
        BenchResult {
            transport: transport.into(),
            address: None,
            mode: Mode::Throughput,
            size_bytes: 65536,
            clients: 1,
            pin: Pin::None,
            cpus: Vec::new(),
            duration_secs: 1.0,
            messages: (bps / 65536.0) as u64,
            bytes_per_sec: Some(bps),
            msgs_per_sec: Some(bps / 65536.0),
            latency_ns: None,
            pairs: Vec::new(),
        }
    }

    pub fn latency(transport: &str, p50_ns: u64) -> BenchResult {
        BenchResult {
            transport: transport.into(),
            address: None,
            mode: Mode::Latency,
            size_bytes: 64,
            clients: 1,
            pin: Pin::Same,
            cpus: vec![CpuPair {
                bench: 0,
                peer: Some(0),
            }],
            duration_secs: 1.0,
            messages: 1000,
            bytes_per_sec: None,
            msgs_per_sec: None,
            latency_ns: Some(LatencySummary {
                min: p50_ns / 2,
                p50: p50_ns,
                p90: p50_ns + 1000,
                p99: p50_ns + 2000,
                p999: p50_ns + 3000,
                max: p50_ns * 10,
                mean: p50_ns as f64 * 1.1,
            }),
            pairs: Vec::new(),
        }
    }

    /// Two pairs, as `--clients 2` reports them.
    pub fn two_pairs(mut r: BenchResult) -> BenchResult {
        r.clients = 2;
        let half = |p: usize| PairResult {
            pair: p,
            duration_secs: r.duration_secs,
            messages: r.messages / 2,
            bytes_per_sec: r.bytes_per_sec.map(|v| v / 2.0),
            msgs_per_sec: r.msgs_per_sec.map(|v| v / 2.0),
            latency_ns: r.latency_ns,
        };
        r.pairs = vec![half(1), half(2)];
        r
    }
}
