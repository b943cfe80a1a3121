//! The shared copy engine: one metered direction ([`copy`]) and a two-way session between
//! two connections ([`session`]). It never prints; callers report from the meters.

pub mod copy;
pub mod session;

pub use copy::{CopyConfig, CopyError, Sink, Source, copy};
pub use session::{Dir, DirEnd, End, Outcome, Session, SessionConfig, SessionHandle};
