//! Live progress on stderr, redrawn a few times a second from the meters (the copies never
//! touch the terminal): a line with bytes and rate each way per connection (`--progress`),
//! and one line per hop for `pipe`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::stats::Meter;
use crate::units::{format_bytes, format_rate};

/// A live line for one connection; cleared when dropped.
pub struct LiveLine {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
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
            ProgressStyle::with_template("{spinner} {prefix} {msg} {elapsed}")
                .expect("static template is valid"),
        );
        bar.set_prefix(label);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (bar, stop) = (bar.clone(), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    let mut last = (Instant::now(), 0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(200));
                        let now = Instant::now();
                        let (s, r) = (sent.bytes(), received.bytes());
                        let dt = now.duration_since(last.0).as_secs_f64().max(1e-3);
                        bar.set_message(format!(
                            "sent {} ({}) received {} ({})",
                            format_bytes(s),
                            format_rate((s - last.1) as f64 / dt),
                            format_bytes(r),
                            format_rate((r - last.2) as f64 / dt)
                        ));
                        bar.tick();
                        last = (now, s, r);
                    }
                })
                .ok()
        };
        LiveLine { bar, stop, thread }
    }
}

impl Drop for LiveLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

/// What one live line of `pipe` shows.
pub struct HopLine {
    /// The hop's name (`hop 1: head → gzip -1`; empty for the plain meter).
    pub label: String,
    pub meter: Arc<Meter>,
    /// Bytes expected (`--size`, or the size of a file on stdin): a bar, percent and ETA.
    pub size: Option<u64>,
}

/// `pipe`'s live lines, one per hop: bytes, rate and elapsed time (and a bar with percent
/// and ETA where the size is known), redrawn from the meters a few times a second; a hop's
/// line stops when the hop ends. Cleared when dropped.
pub struct HopBars {
    bars: Vec<ProgressBar>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HopBars {
    pub fn start(multi: &MultiProgress, lines: Vec<HopLine>) -> HopBars {
        let stop = Arc::new(AtomicBool::new(false));
        if multi.is_hidden() {
            return HopBars {
                bars: Vec::new(),
                stop,
                thread: None,
            };
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
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        for (bar, meter) in &watched {
                            if bar.is_finished() {
                                continue;
                            }
                            bar.set_position(meter.bytes());
                            if meter.ended_at().is_some() {
                                bar.finish();
                            }
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
                .ok()
        };
        HopBars { bars, stop, thread }
    }
}

impl Drop for HopBars {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for bar in &self.bars {
            bar.finish_and_clear();
        }
    }
}
