//! Live progress on stderr, redrawn a few times a second from the meters (the copies never
//! touch the terminal): a line with bytes and rate each way per connection (`--progress`),
//! and one line per hop for `pipe` (all hops on one line when stdout shares the terminal,
//! see [`LiveLayout`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::stats::Meter;
use crate::term::LiveLayout;
use crate::units::{format_bytes, format_rate};

/// A thread that redraws from the meters until stopped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Runs `tick` every `every` until dropped.
    fn start(every: Duration, mut tick: impl FnMut() + Send + 'static) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        tick();
                        std::thread::sleep(every);
                    }
                })
                .ok()
        };
        Ticker { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A live line for one connection; cleared when dropped.
pub struct LiveLine {
    bar: ProgressBar,
    ticker: Option<Ticker>,
}

impl LiveLine {
    /// Shows `label` with the sent and received meters.
    pub fn start(
        multi: &MultiProgress,
        label: String,
        sent: Arc<Meter>,
        received: Arc<Meter>,
    ) -> LiveLine {
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(
            // The message is the part cut short on a narrow terminal.
            ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
                .expect("static template is valid"),
        );
        bar.set_prefix(label);
        let ticker = {
            let bar = bar.clone();
            let mut last: Option<(Instant, u64, u64)> = None;
            Ticker::start(Duration::from_millis(200), move || {
                let now = Instant::now();
                let (s, r) = (sent.bytes(), received.bytes());
                let (t0, s0, r0) = last.unwrap_or((now, s, r));
                let dt = now.duration_since(t0).as_secs_f64().max(1e-3);
                bar.set_message(format!(
                    "sent {} ({}) received {} ({})",
                    format_bytes(s),
                    format_rate((s - s0) as f64 / dt),
                    format_bytes(r),
                    format_rate((r - r0) as f64 / dt)
                ));
                bar.tick();
                last = Some((now, s, r));
            })
        };
        LiveLine {
            bar,
            ticker: Some(ticker),
        }
    }
}

impl Drop for LiveLine {
    fn drop(&mut self) {
        drop(self.ticker.take());
        self.bar.finish_and_clear();
    }
}

/// What one live line of `pipe` shows.
pub struct HopLine {
    /// The hop's number.
    pub hop: usize,
    /// The hop's name (`hop 1: head → gzip -1`; empty for the plain meter).
    pub label: String,
    pub meter: Arc<Meter>,
    /// Bytes expected (`--size`, or the size of a file on stdin): a bar, percent and ETA.
    pub size: Option<u64>,
}

/// `pipe`'s live lines, one per hop: bytes, rate and elapsed time (and a bar with percent
/// and ETA where the size is known), redrawn from the meters a few times a second; a hop's
/// line stops when the hop ends. In the [`LiveLayout::OneLine`] layout, several hops share
/// one line: `hop N` with its bytes and mean rate each. Cleared when dropped.
pub struct HopBars {
    bars: Vec<ProgressBar>,
    ticker: Option<Ticker>,
}

impl HopBars {
    pub fn start(multi: &MultiProgress, layout: LiveLayout, lines: Vec<HopLine>) -> HopBars {
        if multi.is_hidden() || lines.is_empty() {
            return HopBars {
                bars: Vec::new(),
                ticker: None,
            };
        }
        if layout == LiveLayout::OneLine && lines.len() > 1 {
            return HopBars::one_line(multi, lines);
        }
        let mut watched = Vec::with_capacity(lines.len());
        for line in lines {
            let template = match line.size {
                Some(_) => {
                    "{prefix}[{bar:25}] {percent:>3}% {binary_bytes:>10}/{binary_total_bytes} {binary_bytes_per_sec:>12} ETA {eta} {wide_msg}"
                }
                None => {
                    "{prefix}{binary_bytes:>10} {binary_bytes_per_sec:>12} {elapsed:>4} {wide_msg}"
                }
            };
            let bar = multi.add(match line.size {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::no_length(),
            });
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("static template is valid")
                    .progress_chars("=> "),
            );
            if !line.label.is_empty() {
                bar.set_prefix(format!("{} ", line.label));
            }
            watched.push((bar, line.meter));
        }
        let bars: Vec<ProgressBar> = watched.iter().map(|(b, _)| b.clone()).collect();
        let ticker = Ticker::start(Duration::from_millis(100), move || {
            for (bar, meter) in &watched {
                if bar.is_finished() {
                    continue;
                }
                bar.set_position(meter.bytes());
                if meter.ended_at().is_some() {
                    bar.finish();
                }
            }
        });
        HopBars {
            bars,
            ticker: Some(ticker),
        }
    }

    /// Every hop on one line.
    fn one_line(multi: &MultiProgress, lines: Vec<HopLine>) -> HopBars {
        let bar = multi.add(ProgressBar::no_length());
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} {wide_msg}")
                .expect("static template is valid"),
        );
        let started = Instant::now();
        let ticker = {
            let bar = bar.clone();
            Ticker::start(Duration::from_millis(100), move || {
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                let hops: Vec<String> = lines
                    .iter()
                    .map(|l| {
                        let bytes = l.meter.bytes();
                        format!(
                            "hop {} {} {}",
                            l.hop,
                            format_bytes(bytes),
                            format_rate(bytes as f64 / secs)
                        )
                    })
                    .collect();
                bar.set_message(hops.join(" · "));
            })
        };
        HopBars {
            bars: vec![bar],
            ticker: Some(ticker),
        }
    }
}

impl Drop for HopBars {
    fn drop(&mut self) {
        drop(self.ticker.take());
        for bar in &self.bars {
            bar.finish_and_clear();
        }
    }
}
