//! What was moved: live meters, the records reported at exit, and where a pipeline waited.

pub mod bottleneck;
mod meter;
pub mod summary;

pub use meter::Meter;
pub use summary::{ConnRecord, HopRecord, PipeTotalRecord, Record, TotalRecord};
