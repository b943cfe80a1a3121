//! `bench --markdown`: the same tables as the terminal, as GitHub-flavoured Markdown
//! (numbers right-aligned), with the placement and comparison lines, ready for a README.

use super::compare::comparisons;
use super::table::{Grid, latency_grid, placement_note, throughput_grid};
use crate::stats::bench::BenchResult;

/// The Markdown tables and lines.
pub fn render(results: &[BenchResult]) -> String {
    let mut parts = Vec::new();
    for grid in [throughput_grid(results), latency_grid(results)]
        .into_iter()
        .flatten()
    {
        parts.push(table(&grid));
    }
    let mut out = parts.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&placement_note(results));
    out.push('\n');
    for line in comparisons(results) {
        out.push('\n');
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn table(grid: &Grid) -> String {
    let n = grid.header.len();
    let mut out = format!("**{}**\n\n", grid.title);
    out.push_str(&format!("| {} |\n", grid.header.join(" | ")));
    let align: Vec<&str> = (0..n)
        .map(|i| if i == 0 || i + 1 == n { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for row in &grid.rows {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|c| {
                let c = c.trim().replace('|', "\\|");
                if row.pair && !c.is_empty() && c.starts_with("pair") {
                    format!("↳ {c}")
                } else {
                    c
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::bench::fixtures::*;

    #[test]
    fn tables_for_a_readme() {
        let text = render(&[
            throughput("unix", 2048.0),
            throughput("tcp", 1024.0),
            two_pairs(latency("unix", 6_000)),
        ]);
        let want = "\
**Throughput (one-way stream)**

| transport | size | MiB/s | msgs/s | pairs | pin |
|---|---:|---:|---:|---:|---|
| unix | 64 KiB | 2048.0 | 32768 | 1 | none |
| tcp | 64 KiB | 1024.0 | 16384 | 1 | none |

**Round-trip latency (ping-pong)**

| transport | size | min µs | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | mean µs | round trips | pairs | pin |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
| unix | 64 B | 3.00 | 6.00 | 7.00 | 8.00 | 9.00 | 60.00 | 6.60 | 1000 | 2 | same 0/0 |
| ↳ pair 1 |  | 3.00 | 6.00 | 7.00 | 8.00 | 9.00 | 60.00 | 6.60 | 500 |  |  |
| ↳ pair 2 |  | 3.00 | 6.00 | 7.00 | 8.00 | 9.00 | 60.00 | 6.60 | 500 |  |  |

placement: the pin column gives each pair's CPUs as ipctool/peer

unix moved 2.00x the bytes of tcp
";
        assert_eq!(text, want);
        for line in text.lines().filter(|l| l.starts_with("| ")) {
            let cols = line.matches(" | ").count();
            assert!(cols == 5 || cols == 11, "{line}");
        }
    }
}
