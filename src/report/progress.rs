//! `--progress`: a live line on stderr with bytes and rate each way, redrawn a few times a
//! second from the meters (the copies never touch the terminal).

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
