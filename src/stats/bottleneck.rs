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
    let ns = |d: Duration| d.as_nanos() as i128;
    // Positive: write-bound; negative: read-bound.
    let leans: Vec<i128> = hops
        .iter()
        .map(|h| ns(h.write_wait) - ns(h.read_wait))
        .collect();
    let total: i128 = leans.iter().sum();
    // score(b) = Σ_{j≤b} lean_j − Σ_{j>b} lean_j = 2·prefix(b) − total. The evidence of a
    // split is what the hops on either side waited on it: the hop into it waiting to
    // write, the hop out of it waiting to read.
    let mut candidates: Vec<(i128, i128, Bottleneck)> = Vec::with_capacity(n + 2);
    // Stages first, so that on a tie a stage is named rather than an end.
    let mut prefix = 0i128;
    for (b, lean) in leans.iter().enumerate().take(n) {
        prefix += lean;
        let evidence = ns(hops[b].write_wait) + ns(hops[b + 1].read_wait);
        candidates.push((2 * prefix - total, evidence, Bottleneck::Stage(b)));
    }
    let carried = |h: &HopWaits| h.metered && h.bytes > 0;
    if carried(&hops[0]) {
        candidates.push((-total, ns(hops[0].read_wait), Bottleneck::Input));
    }
    if carried(&hops[n]) {
        candidates.push((total, ns(hops[n].write_wait), Bottleneck::Output));
    }
    let best = candidates.iter().map(|c| c.0).max()?;
    if best <= 0 {
        return None;
    }
    // Without back-pressure (the data fit in the pipes) the hops before a slow stage wait
    // on nothing, so every split before it scores about the same and a stray microsecond
    // would decide. Among the splits that score close to the best, the one the hops around
    // it waited on most is named.
    let slack = leans.iter().map(|l| l.abs()).sum::<i128>() / 4;
    let mut pick: Option<(i128, Bottleneck)> = None;
    for &(score, evidence, who) in &candidates {
        if score >= best - slack && pick.is_none_or(|(e, _)| evidence > e) {
            pick = Some((evidence, who));
        }
    }
    pick.map(|(_, who)| who)
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
    fn without_back_pressure_the_stage_its_reader_waited_on_is_named() {
        // `echo hi | ipctool pipe -- 'sleep 1; cat'`: stdin was read at once.
        let hops = [hop(3, 1, 0), hop(3, 1000, 0)];
        assert_eq!(find(&hops), Some(Bottleneck::Stage(0)));
        // `'echo hi' 'sleep 1; cat' 'cat'`: echo answered at once, sleep did not.
        let hops = [hop(0, 0, 0), hop(3, 1, 0), hop(3, 1000, 0), hop(3, 1000, 0)];
        assert_eq!(find(&hops), Some(Bottleneck::Stage(1)));
        // 1 MB through head, gzip, wc (fits in the pipes): gzip took 23 ms, head 2.
        let hops = [
            hop(0, 0, 0),
            hop(100, 2, 0),
            hop(100, 23, 0),
            hop(100, 23, 0),
        ];
        assert_eq!(find(&hops), Some(Bottleneck::Stage(1)));
        // A slow writer of stdin still starves everything after it.
        let hops = [hop(3, 1000, 0), hop(3, 1000, 0)];
        assert_eq!(find(&hops), Some(Bottleneck::Input));
    }

    #[test]
    fn no_waits_no_verdict() {
        assert_eq!(find(&[]), None);
        assert_eq!(find(&[hop(0, 0, 0)]), None);
        assert_eq!(find(&[hop(5, 0, 0), hop(5, 0, 0)]), None);
    }
}
