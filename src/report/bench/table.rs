//! `bench` for people: a throughput table and a latency table on stdout, one unit per
//! column, best value per message size in green, per-pair rows under `--clients N`, then
//! the placement and the comparison lines. The grids are shared with the Markdown format.

use std::collections::HashMap;

use super::cells;
use super::compare::comparisons;
use crate::bench::{Mode, Pin};
use crate::stats::bench::BenchResult;
use crate::term::Styles;

/// One table before layout.
pub(super) struct Grid {
    pub title: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Row>,
}

/// One line of a table.
pub(super) struct Row {
    pub cells: Vec<String>,
    /// The column holding the best value of its size, to highlight.
    pub best: Option<usize>,
    /// A per-pair line under its total.
    pub pair: bool,
}

/// The throughput grid, if there are throughput results.
pub(super) fn throughput_grid(results: &[BenchResult]) -> Option<Grid> {
    let rs: Vec<&BenchResult> = results
        .iter()
        .filter(|r| r.mode == Mode::Throughput)
        .collect();
    if rs.is_empty() {
        return None;
    }
    let best = best_per_size(&rs, |r| r.bytes_per_sec.unwrap_or(0.0));
    let mut rows = Vec::new();
    for r in rs {
        let is_best = best.get(&r.size_bytes) == Some(&r.bytes_per_sec.unwrap_or(0.0));
        rows.push(Row {
            cells: vec![
                cells::subject(r),
                cells::size(r),
                cells::mib_per_sec(r.bytes_per_sec),
                cells::per_sec(r.msgs_per_sec),
                r.clients.to_string(),
                cells::pin(r),
            ],
            best: (is_best && best_matters(results, Mode::Throughput)).then_some(2),
            pair: false,
        });
        for p in &r.pairs {
            rows.push(Row {
                cells: vec![
                    format!("  pair {}", p.pair),
                    String::new(),
                    cells::mib_per_sec(p.bytes_per_sec),
                    cells::per_sec(p.msgs_per_sec),
                    String::new(),
                    String::new(),
                ],
                best: None,
                pair: true,
            });
        }
    }
    Some(Grid {
        title: "Throughput (one-way stream)",
        header: vec!["transport", "size", "MiB/s", "msgs/s", "pairs", "pin"],
        rows,
    })
}

/// The latency grid, if there are latency results.
pub(super) fn latency_grid(results: &[BenchResult]) -> Option<Grid> {
    let rs: Vec<&BenchResult> = results.iter().filter(|r| r.mode == Mode::Latency).collect();
    if rs.is_empty() {
        return None;
    }
    let p50 = |r: &BenchResult| r.latency_ns.map(|l| -(l.p50 as f64)).unwrap_or(f64::MIN);
    let best = best_per_size(&rs, p50);
    let lat_cells = |l: Option<crate::stats::latency::LatencySummary>| -> Vec<String> {
        match l {
            Some(l) => {
                let mut v: Vec<String> = [l.min, l.p50, l.p90, l.p99, l.p999, l.max]
                    .into_iter()
                    .map(|ns| cells::micros(ns as f64))
                    .collect();
                v.push(cells::micros(l.mean));
                v
            }
            None => vec![String::new(); 7],
        }
    };
    let mut rows = Vec::new();
    for r in rs {
        let mut c = vec![cells::subject(r), cells::size(r)];
        c.extend(lat_cells(r.latency_ns));
        c.push(r.messages.to_string());
        c.push(r.clients.to_string());
        c.push(cells::pin(r));
        let is_best = best.get(&r.size_bytes) == Some(&p50(r));
        rows.push(Row {
            cells: c,
            best: (is_best && best_matters(results, Mode::Latency)).then_some(3),
            pair: false,
        });
        for p in &r.pairs {
            let mut c = vec![format!("  pair {}", p.pair), String::new()];
            c.extend(lat_cells(p.latency_ns));
            c.push(p.messages.to_string());
            c.push(String::new());
            c.push(String::new());
            rows.push(Row {
                cells: c,
                best: None,
                pair: true,
            });
        }
    }
    Some(Grid {
        title: "Round-trip latency (ping-pong)",
        header: vec![
            "transport",
            "size",
            "min µs",
            "p50 µs",
            "p90 µs",
            "p99 µs",
            "p99.9 µs",
            "max µs",
            "mean µs",
            "round trips",
            "pairs",
            "pin",
        ],
        rows,
    })
}

/// Highlighting a best value only means something with two results to compare.
fn best_matters(results: &[BenchResult], mode: Mode) -> bool {
    results.iter().filter(|r| r.mode == mode).count() > 1
}

fn best_per_size(rs: &[&BenchResult], score: impl Fn(&BenchResult) -> f64) -> HashMap<u64, f64> {
    let mut best: HashMap<u64, f64> = HashMap::new();
    for r in rs {
        let s = score(r);
        let e = best.entry(r.size_bytes).or_insert(s);
        if s > *e {
            *e = s;
        }
    }
    best
}

/// The line that says where the processes ran.
pub(super) fn placement_note(results: &[BenchResult]) -> String {
    let pins: Vec<Pin> = results.iter().map(|r| r.pin).collect();
    if pins.iter().all(|p| *p == Pin::None) {
        "placement: none (unpinned: the scheduler moves both processes between CPUs, which can change round trips several-fold on small machines; compare --pin same and --pin spread)".into()
    } else {
        "placement: the pin column gives each pair's CPUs as ipctool/peer".into()
    }
}

/// Lays out a grid: columns padded to their widest cell, text left, numbers right.
fn layout(grid: &Grid, s: &Styles) -> String {
    let n = grid.header.len();
    let mut width = vec![0usize; n];
    for (i, h) in grid.header.iter().enumerate() {
        width[i] = h.chars().count();
    }
    for row in &grid.rows {
        for (i, c) in row.cells.iter().enumerate().take(n) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    // The first column and the pin column are text; the rest are numbers or sizes.
    let left = |i: usize| i == 0 || i + 1 == n;
    let pad = |text: &str, i: usize| {
        let fill = " ".repeat(width[i].saturating_sub(text.chars().count()));
        if left(i) {
            format!("{text}{fill}")
        } else {
            format!("{fill}{text}")
        }
    };
    let mut out = format!("{}\n", s.heading(grid.title));
    let header: Vec<String> = grid
        .header
        .iter()
        .enumerate()
        .map(|(i, h)| s.heading(pad(h, i)))
        .collect();
    out.push_str(header.join("  ").trim_end());
    out.push('\n');
    for row in &grid.rows {
        let cells: Vec<String> = row
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let text = pad(c, i);
                if row.best == Some(i) {
                    s.good(text)
                } else if row.pair {
                    s.dim(text)
                } else if i == 0 {
                    s.accent(text)
                } else {
                    text
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The tables, the placement line and the comparison lines.
pub fn render(results: &[BenchResult], s: &Styles) -> String {
    if results.is_empty() {
        return "no results\n".into();
    }
    let mut parts = Vec::new();
    for grid in [throughput_grid(results), latency_grid(results)]
        .into_iter()
        .flatten()
    {
        parts.push(layout(&grid, s));
    }
    let mut out = parts.join("\n");
    out.push('\n');
    out.push_str(&s.dim(placement_note(results)));
    out.push('\n');
    for line in comparisons(results) {
        out.push_str(&s.heading(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::bench::fixtures::*;

    #[test]
    fn plain_table() {
        let s = Styles { enabled: false };
        let text = render(
            &[
                throughput("unix", 2048.0),
                throughput("tcp", 1024.0),
                latency("unix", 6_000),
                two_pairs(latency("tcp", 12_500)),
            ],
            &s,
        );
        let want = "\
Throughput (one-way stream)
transport    size   MiB/s  msgs/s  pairs  pin
unix       64 KiB  2048.0   32768      1  none
tcp        64 KiB  1024.0   16384      1  none

Round-trip latency (ping-pong)
transport  size  min µs  p50 µs  p90 µs  p99 µs  p99.9 µs  max µs  mean µs  round trips  pairs  pin
unix       64 B    3.00    6.00    7.00    8.00      9.00   60.00     6.60         1000      1  same 0/0
tcp        64 B    6.25   12.50   13.50   14.50     15.50  125.00    13.75         1000      2  same 0/0
  pair 1           6.25   12.50   13.50   14.50     15.50  125.00    13.75          500
  pair 2           6.25   12.50   13.50   14.50     15.50  125.00    13.75          500

placement: the pin column gives each pair's CPUs as ipctool/peer
unix moved 2.00x the bytes of tcp
unix round trip p50 2.08x lower than tcp
";
        assert_eq!(text, want);
    }

    #[test]
    fn unpinned_runs_say_so_and_colour_marks_the_best() {
        let s = Styles { enabled: true };
        let text = render(&[throughput("unix", 2.0), throughput("pipe", 3.0)], &s);
        assert!(text.contains("placement: none"));
        let pipe = text
            .lines()
            .find(|l| l.contains("pipe") && l.contains("3.0"))
            .expect("row");
        assert!(
            pipe.contains("\x1b[38;5;10m") || pipe.contains("\x1b[32m"),
            "{pipe:?}"
        );
    }
}
