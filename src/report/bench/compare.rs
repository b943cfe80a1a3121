//! The closing comparison lines: the best transport against TCP (the baseline users know),
//! or against the slowest when TCP was not measured or was the best. One line per mode,
//! at the first message size measured over several transports:
//! "pipe moved 1.82x the bytes of tcp", "unix round trip p50 2.10x lower than tcp".

use crate::bench::Mode;
use crate::stats::bench::BenchResult;
use crate::units::format_bytes;

/// The comparison lines (none when fewer than two transports share a size).
pub fn comparisons(results: &[BenchResult]) -> Vec<String> {
    let mut lines = Vec::new();
    let sizes = |mode: Mode| -> Vec<u64> {
        let mut v: Vec<u64> = Vec::new();
        for r in results.iter().filter(|r| r.mode == mode) {
            if !v.contains(&r.size_bytes) {
                v.push(r.size_bytes);
            }
        }
        v
    };
    for mode in [Mode::Throughput, Mode::Latency] {
        let all_sizes = sizes(mode);
        let several = all_sizes.len() > 1;
        for size in all_sizes {
            let same: Vec<&BenchResult> = results
                .iter()
                .filter(|r| r.mode == mode && r.size_bytes == size)
                .collect();
            if same.len() < 2 {
                continue;
            }
            let at = if several {
                format!(" ({} messages)", format_bytes(size))
            } else {
                String::new()
            };
            if let Some(line) = match mode {
                Mode::Throughput => throughput_line(&same),
                Mode::Latency => latency_line(&same),
            } {
                lines.push(format!("{line}{at}"));
            }
            break;
        }
    }
    lines
}

fn name(r: &BenchResult) -> &str {
    r.address.as_deref().unwrap_or(&r.transport)
}

/// Picks (best, baseline) by a score where higher is better.
fn pick<'a>(
    rs: &[&'a BenchResult],
    score: impl Fn(&BenchResult) -> Option<f64>,
) -> Option<(&'a BenchResult, &'a BenchResult)> {
    let scored: Vec<(&BenchResult, f64)> = rs
        .iter()
        .filter_map(|r| score(r).map(|s| (*r, s)))
        .collect();
    let best = scored.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let tcp = scored
        .iter()
        .copied()
        .find(|(r, _)| r.transport == "tcp" && !std::ptr::eq(*r, best.0));
    let worst = scored.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let base = tcp.unwrap_or(worst);
    (!std::ptr::eq(best.0, base.0)).then_some((best.0, base.0))
}

fn throughput_line(rs: &[&BenchResult]) -> Option<String> {
    let (best, base) = pick(rs, |r| r.bytes_per_sec.filter(|v| *v > 0.0))?;
    let ratio = best.bytes_per_sec? / base.bytes_per_sec?;
    Some(format!(
        "{} moved {ratio:.2}x the bytes of {}",
        name(best),
        name(base)
    ))
}

fn latency_line(rs: &[&BenchResult]) -> Option<String> {
    let p50 = |r: &BenchResult| r.latency_ns.map(|l| l.p50 as f64).filter(|v| *v > 0.0);
    let (best, base) = pick(rs, |r| p50(r).map(|v| -v))?;
    let ratio = p50(base)? / p50(best)?;
    Some(format!(
        "{} round trip p50 {ratio:.2}x lower than {}",
        name(best),
        name(base)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::bench::fixtures::*;

    #[test]
    fn best_against_tcp() {
        let rs = [
            throughput("unix", 1500.0),
            throughput("pipe", 1800.0),
            throughput("tcp", 1000.0),
            latency("unix", 6_300),
            latency("tcp", 13_230),
            latency("fifo", 7_000),
        ];
        assert_eq!(
            comparisons(&rs),
            [
                "pipe moved 1.80x the bytes of tcp",
                "unix round trip p50 2.10x lower than tcp"
            ]
        );
    }

    #[test]
    fn without_tcp_or_when_tcp_wins_the_slowest_is_the_baseline() {
        let rs = [
            throughput("tcp", 3000.0),
            throughput("fifo", 1000.0),
            throughput("unix", 2000.0),
        ];
        assert_eq!(comparisons(&rs), ["tcp moved 3.00x the bytes of fifo"]);
        let rs = [latency("unix", 5_000), latency("fifo", 10_000)];
        assert_eq!(
            comparisons(&rs),
            ["unix round trip p50 2.00x lower than fifo"]
        );
    }

    #[test]
    fn nothing_to_compare() {
        assert!(comparisons(&[throughput("unix", 1.0)]).is_empty());
        assert!(comparisons(&[]).is_empty());
        let mut big = throughput("tcp", 1.0);
        big.size_bytes = 1 << 20;
        assert!(comparisons(&[throughput("unix", 1.0), big]).is_empty());
    }

    #[test]
    fn several_sizes_name_the_size() {
        let mut small = throughput("tcp", 10.0);
        small.size_bytes = 64;
        let mut small2 = throughput("unix", 20.0);
        small2.size_bytes = 64;
        let rs = [
            small,
            small2,
            throughput("tcp", 1.0),
            throughput("unix", 4.0),
        ];
        assert_eq!(
            comparisons(&rs),
            ["unix moved 2.00x the bytes of tcp (64 B messages)"]
        );
    }
}
