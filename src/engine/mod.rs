//! The shared copy engine: one metered direction ([`copy`]), a two-way session between two
//! connections ([`session`]) and a pipeline of stages joined by metered hops ([`pipeline`]).
//! It never prints; callers report from the meters.

pub mod copy;
pub mod pipeline;
pub mod session;
pub mod tap;

pub use copy::{CopyConfig, CopyError, Sink, Source, copy};
pub use session::{Dir, DirEnd, End, Outcome, Session, SessionConfig, SessionHandle};
pub use tap::Tap;
