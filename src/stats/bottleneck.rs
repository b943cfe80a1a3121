//! Which part of a pipeline held the data up, found from where each hop waited.
//!
//! Every hop times how long it waited to read (its source had nothing) and to write (its
//! destination was full). A slow stage makes the hops before it wait on writing (the pipe
//! into it stays full, and the back-pressure reaches every hop upstream) and the hops after
//! it wait on reading (they are starved). So the hops read, in order, as write-bound up to
//! the bottleneck and read-bound after it; the bottleneck is the split point that fits the
//! measured waits best: the one maximising
//! `Σ_{hop ≤ b} (write − read) + Σ_{hop > b} (read − write)`.
//! The split can also fall before every stage (the writer of ipctool's stdin was the
//! slowest) or after them (the reader of its stdout was).

use std::time::Duration;

/// What one hop measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HopWaits {
    pub bytes: u64,
    pub read_wait: Duration,
    pub write_wait: Duration,
    /// False for a hop ipctool did not stand in (a terminal given to a stage directly).
    pub metered: bool,
}

/// The slowest part of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bottleneck {
    /// Whatever writes ipctool's stdin.
    Input,
    /// The stage with this number.
    Stage(usize),
    /// Whatever reads ipctool's stdout.
    Output,
}

/// Finds the bottleneck of a pipeline with `hops.len() - 1` stages, or `None` when the waits
/// do not point anywhere (no hop waited, or they all waited alike).
pub fn find(hops: &[HopWaits]) -> Option<Bottleneck> {
    let n = hops.len().checked_sub(1)?;
    let lean = |h: &HopWaits| -> i128 {
        // Positive: write-bound; negative: read-bound.
        h.write_wait.as_nanos() as i128 - h.read_wait.as_nanos() as i128
    };
    let leans: Vec<i128> = hops.iter().map(lean).collect();
    let total: i128 = leans.iter().sum();
    // score(b) = Σ_{j≤b} lean_j − Σ_{j>b} lean_j = 2·prefix(b) − total.
    let mut best: Option<(i128, Bottleneck)> = None;
    let mut consider = |score: i128, who: Bottleneck| {
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, who));
        }
    };
    // Stages first, so that on a tie a stage is named rather than an end.
    let mut prefix = 0i128;
    for (b, lean) in leans.iter().enumerate().take(n) {
        prefix += lean;
        consider(2 * prefix - total, Bottleneck::Stage(b));
    }
    let carried = |h: &HopWaits| h.metered && h.bytes > 0;
    if carried(&hops[0]) {
        consider(-total, Bottleneck::Input);
    }
    if carried(&hops[n]) {
        consider(total, Bottleneck::Output);
    }
    match best {
        Some((score, who)) if score > 0 => Some(who),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(bytes: u64, read_ms: u64, write_ms: u64) -> HopWaits {
        HopWaits {
            bytes,
            read_wait: Duration::from_millis(read_ms),
            write_wait: Duration::from_millis(write_ms),
            metered: true,
        }
    }

    #[test]
    fn a_slow_middle_stage_is_where_write_waits_turn_into_read_waits() {
        // stdin (empty) → head → gzip → gunzip → wc → stdout, gzip slow.
        let hops = [
            hop(0, 0, 0),
            hop(100, 20, 1900),
            hop(100, 1850, 30),
            hop(100, 1900, 5),
            hop(10, 1990, 0),
        ];
        assert_eq!(find(&hops), Some(Bottleneck::Stage(1)));
    }

    #[test]
    fn a_slow_first_stage_starves_everything_after_it() {
        let hops = [hop(0, 0, 0), hop(100, 1800, 10), hop(100, 1850, 0)];
        assert_eq!(find(&hops), Some(Bottleneck::Stage(0)));
    }

    #[test]
    fn a_slow_last_stage_backs_everything_up() {
        let hops = [hop(100, 5, 1800), hop(100, 10, 1700), hop(100, 1900, 0)];
        assert_eq!(find(&hops), Some(Bottleneck::Stage(1)));
    }

    #[test]
    fn the_ends_can_be_the_bottleneck() {
        // Plain meter: a slow producer, then a slow consumer.
        assert_eq!(find(&[hop(100, 900, 10)]), Some(Bottleneck::Input));
        assert_eq!(find(&[hop(100, 10, 900)]), Some(Bottleneck::Output));
        // A pipeline whose reader of stdout is the slowest.
        let hops = [hop(100, 5, 800), hop(100, 5, 900)];
        assert_eq!(find(&hops), Some(Bottleneck::Output));
    }

    #[test]
    fn an_end_that_carried_nothing_is_never_named() {
        // Hop 0 empty: the tie between "stdin" and stage 0 goes to the stage.
        let hops = [hop(0, 0, 0), hop(100, 900, 0)];
        assert_eq!(find(&hops), Some(Bottleneck::Stage(0)));
        let unmetered = HopWaits {
            metered: false,
            ..hop(100, 0, 0)
        };
        assert_eq!(
            find(&[unmetered, hop(100, 900, 0)]),
            Some(Bottleneck::Stage(0))
        );
    }

    #[test]
    fn no_waits_no_verdict() {
        assert_eq!(find(&[]), None);
        assert_eq!(find(&[hop(0, 0, 0)]), None);
        assert_eq!(find(&[hop(5, 0, 0), hop(5, 0, 0)]), None);
    }
}
