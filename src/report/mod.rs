//! Rendering reports: `--stats` records as human lines or JSON Lines, live progress, and
//! `bench` results.

pub mod bench;
pub mod hexdump;
mod human;
pub mod outcome;
pub mod progress;

use crate::stats::Record;
use crate::term::{Printer, Styles};

/// `--stats=FORMAT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    /// One line per record, for people.
    #[default]
    Human,
    /// One JSON object per line (JSON Lines), for programs.
    Json,
}

/// Renders one record as one line (no trailing newline).
pub fn render(record: &Record, format: StatsFormat, styles: &Styles) -> String {
    match format {
        StatsFormat::Json => serde_json::to_string(record).expect("records always serialize"),
        StatsFormat::Human => human::render(record, styles),
    }
}

/// Renders several records, one per line.
pub fn render_all(records: &[Record], format: StatsFormat, styles: &Styles) -> String {
    records
        .iter()
        .map(|r| render(r, format, styles))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints `--stats` records, if asked for.
#[derive(Clone, Debug)]
pub struct StatsOut {
    format: Option<StatsFormat>,
    printer: Printer,
}

impl StatsOut {
    pub fn new(format: Option<StatsFormat>, printer: &Printer) -> StatsOut {
        StatsOut {
            format,
            printer: printer.clone(),
        }
    }

    pub fn print(&self, records: &[Record]) {
        if let Some(format) = self.format {
            self.printer
                .report(&render_all(records, format, &self.printer.err));
        }
    }

    /// Prints a SIGUSR1 report, which is always wanted: in the `--stats` format, for
    /// people when `--stats` was not given.
    pub fn print_now(&self, records: &[Record]) {
        let format = self.format.unwrap_or_default();
        self.printer
            .report(&render_all(records, format, &self.printer.err));
    }
}
