//! `bench --csv`: a header, then one row per result, and one row per pair under
//! `--clients N` (`pair` is `all` on the total row). Empty cells where a value does not
//! apply to the mode; latency in nanoseconds.

use std::fmt::Write;

use crate::stats::bench::{BenchResult, PairResult};
use crate::stats::latency::LatencySummary;

const HEADER: &str = "transport,address,mode,size_bytes,clients,pair,pin,cpus,duration_secs,messages,bytes_per_sec,msgs_per_sec,latency_min_ns,latency_p50_ns,latency_p90_ns,latency_p99_ns,latency_p999_ns,latency_max_ns,latency_mean_ns";

/// The CSV text, header first.
pub fn render(results: &[BenchResult]) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for r in results {
        row(
            &mut out,
            r,
            "all",
            r.duration_secs,
            r.messages,
            r.bytes_per_sec,
            r.msgs_per_sec,
            r.latency_ns,
        );
        for p in &r.pairs {
            let PairResult {
                pair,
                duration_secs,
                messages,
                bytes_per_sec,
                msgs_per_sec,
                latency_ns,
            } = p;
            row(
                &mut out,
                r,
                &pair.to_string(),
                *duration_secs,
                *messages,
                *bytes_per_sec,
                *msgs_per_sec,
                *latency_ns,
            );
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn row(
    out: &mut String,
    r: &BenchResult,
    pair: &str,
    secs: f64,
    messages: u64,
    bps: Option<f64>,
    mps: Option<f64>,
    lat: Option<LatencySummary>,
) {
    let cpus: Vec<String> = r
        .cpus
        .iter()
        .map(|c| match c.peer {
            Some(p) => format!("{}/{p}", c.bench),
            None => format!("{}/-", c.bench),
        })
        .collect();
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let mut fields = vec![
        field(&r.transport),
        field(r.address.as_deref().unwrap_or("")),
        r.mode.name().to_owned(),
        r.size_bytes.to_string(),
        r.clients.to_string(),
        pair.to_owned(),
        r.pin.name().to_owned(),
        field(&cpus.join(" ")),
        format!("{secs:.6}"),
        messages.to_string(),
        opt(bps),
        opt(mps),
    ];
    match lat {
        Some(l) => {
            for v in [l.min, l.p50, l.p90, l.p99, l.p999, l.max] {
                fields.push(v.to_string());
            }
            fields.push(format!("{:.1}", l.mean));
        }
        None => fields.extend(std::iter::repeat_n(String::new(), 7)),
    }
    let _ = writeln!(out, "{}", fields.join(","));
}

/// Quotes a field that holds a comma, a quote or a line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::bench::fixtures::*;

    #[test]
    fn rows_and_columns() {
        let text = render(&[throughput("unix", 1.0), two_pairs(latency("tcp", 7000))]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines.len(), 1 + 1 + 3);
        let columns = HEADER.split(',').count();
        for l in &lines {
            assert_eq!(l.split(',').count(), columns, "{l}");
        }
        assert_eq!(
            lines[1],
            "unix,,throughput,65536,1,all,none,,1.000000,16,1048576.0,16.0,,,,,,,"
        );
        assert!(
            lines[2].starts_with("tcp,,latency,64,2,all,same,0/0,"),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].ends_with(",3500,7000,8000,9000,10000,70000,7700.0"),
            "{}",
            lines[2]
        );
        assert!(lines[4].starts_with("tcp,,latency,64,2,2,"), "{}", lines[4]);
    }

    #[test]
    fn quoting() {
        assert_eq!(field("unix:/tmp/a"), "unix:/tmp/a");
        assert_eq!(field("exec:tr a,b c"), "\"exec:tr a,b c\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
