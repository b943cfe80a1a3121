//! What was moved: live meters, the records reported at exit, where a pipeline waited, and
//! benchmark results.

pub mod bench;
pub mod bottleneck;
pub mod latency;
mod meter;
pub mod summary;

pub use meter::{Meter, pipe_holds_bytes};
pub use summary::{ConnRecord, HopRecord, PipeTotalRecord, Record, TotalRecord};
