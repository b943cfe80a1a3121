//! What was moved: live meters, and the records reported at exit.

mod meter;
pub mod summary;

pub use meter::Meter;
pub use summary::{ConnRecord, Record, TotalRecord};
