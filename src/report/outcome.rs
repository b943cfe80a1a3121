//! The verdict on a finished session: its status word for the records, and the error that
//! names what failed and where.

use anyhow::anyhow;

use crate::engine::{CopyError, Dir, DirEnd, End, Outcome};
use crate::error::TimedOut;

/// Names for the two sides of a session, for messages.
pub struct Sides<'a> {
    /// What the send direction reads (e.g. "stdin").
    pub local_in: &'a str,
    /// What the recv direction writes (e.g. "stdout").
    pub local_out: &'a str,
    /// The remote endpoint.
    pub remote: &'a str,
}

impl<'a> Sides<'a> {
    /// A session between our stdin/stdout and `remote`.
    pub fn stdio(remote: &'a str) -> Sides<'a> {
        Sides {
            local_in: "stdin",
            local_out: "stdout",
            remote,
        }
    }
}

/// The status word and the error (if any) of a finished session.
pub fn judge(outcome: &Outcome, sides: &Sides<'_>) -> (&'static str, Option<anyhow::Error>) {
    match outcome.end {
        End::Complete => ("complete", None),
        End::Idle => ("idle", None),
        End::IdleWithData => (
            "failed",
            Some(anyhow!(
                "the idle timeout closed the connection to {} while data still waited to be delivered (the peer stopped reading)",
                sides.remote
            )),
        ),
        End::StdoutGone => ("stdout-closed", None),
        End::Signal(_) => ("interrupted", None),
        End::Aborted => ("aborted", None),
        End::Failed => {
            let failed = [(Dir::Send, &outcome.send), (Dir::Recv, &outcome.recv)]
                .into_iter()
                .find(|(_, e)| e.failed());
            let err = match failed {
                Some((dir, DirEnd::Failed(e))) => failure(dir, e, outcome.into_child, sides),
                Some((dir, _)) => cut(dir, outcome.into_child, sides),
                None => anyhow!("the connection to {} failed", sides.remote),
            };
            ("failed", Some(err))
        }
    }
}

/// Where a direction reads and writes: (source, destination).
fn ends<'a>(dir: Dir, sides: &Sides<'a>) -> (&'a str, &'a str) {
    match dir {
        Dir::Send => (sides.local_in, sides.remote),
        Dir::Recv => (sides.remote, sides.local_out),
    }
}

/// What a destination that went away did, in words.
fn gone(dir: Dir, into_child: Option<Dir>) -> &'static str {
    if into_child == Some(dir) {
        "the command stopped reading"
    } else {
        "the peer closed the connection"
    }
}

/// A direction whose destination went away for good with bytes still waiting for it.
fn cut(dir: Dir, into_child: Option<Dir>, sides: &Sides<'_>) -> anyhow::Error {
    let (from, to) = ends(dir, sides);
    anyhow!(
        "could not send all of {from} to {to}: {} before it was all sent",
        gone(dir, into_child)
    )
}

fn failure(dir: Dir, e: &CopyError, into_child: Option<Dir>, sides: &Sides<'_>) -> anyhow::Error {
    use std::io::ErrorKind as K;
    let io = e.io();
    // A bounded wait that ran out (a datagram queue that stayed full under --wait): 124.
    if let Some(t) = io.get_ref().and_then(|i| i.downcast_ref::<TimedOut>()) {
        return anyhow::Error::new(TimedOut(format!("could not send to {}: {t}", sides.remote)));
    }
    let lost = matches!(io.kind(), K::BrokenPipe | K::ConnectionReset);
    match (dir, e) {
        (Dir::Send, CopyError::Read(_)) => anyhow!("could not read {}: {io}", sides.local_in),
        (_, CopyError::Write(_)) if lost => {
            let (from, to) = ends(dir, sides);
            anyhow!(
                "could not send all of {from} to {to}: {} ({io})",
                gone(dir, into_child)
            )
        }
        (Dir::Send, CopyError::Write(_)) => anyhow!("could not send to {}: {io}", sides.remote),
        (Dir::Recv, CopyError::Read(_)) => anyhow!("could not receive from {}: {io}", sides.remote),
        (Dir::Recv, CopyError::Write(_)) => {
            anyhow!("could not write to {}: {io}", sides.local_out)
        }
    }
}
