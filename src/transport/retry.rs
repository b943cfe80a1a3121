//! `--wait`: retry reaching an address while nothing is there yet, and say what was found
//! when the time runs out.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use crate::addr::Address;
use crate::error::{Interrupted, TimedOut, hinted};
use crate::signals::Signals;
use crate::term::escape;
use crate::units::format_duration;

/// Why one attempt failed.
#[derive(Debug)]
pub enum Failure {
    /// Nothing is there yet (missing path, refused, backlog full, FIFO without a reader):
    /// worth retrying under `--wait`. `found` says what was found, for the messages.
    NotYet { found: String },
    /// Retrying cannot help.
    Fatal(anyhow::Error),
    /// Try again at once, with no deadline (the attempt already waited); a stop signal
    /// ends the retrying.
    Again,
}

/// Calls `attempt` until it succeeds, fails for good, or `wait` runs out (exit 124). Without
/// `wait`, the first "not yet" is an error with a hint to use `--wait`. `attempt` gets the
/// time left, if bounded.
pub fn until_ready<T>(
    addr: &Address,
    wait: Option<Duration>,
    signals: &Signals,
    mut attempt: impl FnMut(Option<Duration>) -> Result<T, Failure>,
) -> Result<T> {
    let shown = escape(&addr.to_string());
    let deadline = wait.map(|w| Instant::now() + w);
    let mut pause = Duration::from_millis(2);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let found = match attempt(left) {
            Ok(v) => return Ok(v),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::NotYet { found }) => found,
            Err(Failure::Again) => {
                if let Some(sig) = signals.stop_requested() {
                    return Err(Interrupted(sig).into());
                }
                continue;
            }
        };
        let Some(deadline) = deadline else {
            return Err(hinted(
                anyhow!("could not connect to {shown}: {found}"),
                "nothing listens there yet: start the server first, or wait for it with --wait 5s",
            ));
        };
        if let Some(sig) = signals.stop_requested() {
            return Err(Interrupted(sig).into());
        }
        let now = Instant::now();
        if now >= deadline {
            let waited = format_duration(wait.unwrap_or_default());
            return Err(TimedOut(format!(
                "gave up waiting for {shown} after {waited}: found {found}"
            ))
            .into());
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
