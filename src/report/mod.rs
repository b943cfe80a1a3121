//! Rendering reports: `--stats` records as human lines or JSON Lines, live progress, and
//! `bench` results.

pub mod bench;
mod human;
pub mod progress;

use crate::stats::Record;
use crate::term::Styles;

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
