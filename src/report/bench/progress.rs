//! The progress bar of `bench` on stderr: cases done out of all, the case running, time
//! spent and left. Hidden when stderr is not a terminal and under `-q` (the Printer
//! decides); cleared before the results are printed.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::bench::Length;
use crate::term::Printer;

/// The bar; cleared when dropped.
pub struct BenchProgress {
    bar: ProgressBar,
}

impl BenchProgress {
    /// A bar over `cases` cases; with a fixed duration per case it also shows an ETA.
    pub fn start(printer: &Printer, cases: usize, length: &Length) -> BenchProgress {
        let multi = printer.progress(true, false);
        let bar = multi.add(ProgressBar::new(cases as u64));
        let template = match length {
            Length::Time(_) => {
                "{spinner} bench [{bar:24}] {pos}/{len} {msg}  {elapsed} (~{eta} left)"
            }
            Length::Count(_) => "{spinner} bench [{bar:24}] {pos}/{len} {msg}  {elapsed}",
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("static template is valid")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        BenchProgress { bar }
    }

    /// Names the case now running.
    pub fn case(&self, name: &str) {
        self.bar.set_message(name.to_owned());
    }

    /// One more case done.
    pub fn done_one(&self) {
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for BenchProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
