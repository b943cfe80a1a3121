//! What was moved: live meters, the records reported at exit, and benchmark results.

pub mod bench;
pub mod latency;
mod meter;
pub mod summary;

pub use meter::Meter;
pub use summary::{ConnRecord, Record, TotalRecord};
