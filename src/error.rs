//! Exit statuses (SPEC §4), the typed errors that choose them, and the `hint:` lines.
//!
//! Commands return `anyhow::Result<ExitStatus>`. Only `lib.rs` turns an error into a status:
//! it prints `ipctool: error: {err:#}` once, then a hint if one applies, and picks the exit
//! code by looking for the typed errors below in the chain (anything else is 1).

use std::fmt;
use std::io;
use std::process::ExitCode;

/// How ipctool ends (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0
    Success,
    /// 1: a runtime failure (I/O, refused, not found, permission).
    Failure,
    /// 2: a usage error or a bad address.
    Usage,
    /// 124: a `--timeout` or `--wait` ran out.
    TimedOut,
    /// 128 + the signal number (SIGINT 130, SIGTERM 143, SIGHUP 129).
    Signal(i32),
    /// The exit status of a failed `pipe` stage.
    Stage(u8),
}

impl ExitStatus {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::TimedOut => 124,
            ExitStatus::Signal(sig) => u8::try_from(128 + sig).unwrap_or(1),
            ExitStatus::Stage(code) => code,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s.code())
    }
}

/// A usage error found after argument parsing (exit 2): a bad combination or an address
/// that this subcommand cannot use.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

/// A `--timeout` or `--wait` ran out (exit 124). The message says what was found.
#[derive(Debug)]
pub struct TimedOut(pub String);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for TimedOut {}

/// A stop signal arrived while waiting (exit 128 + signal, no message).
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted by signal {}", self.0)
    }
}
impl std::error::Error for Interrupted {}

/// A `pipe` stage failed (exit with its status, as `pipefail` does). The message names the
/// stage.
#[derive(Debug)]
pub struct StageFailed {
    /// The exit status to give: the stage's code, or 128 + the signal that killed it.
    pub code: u8,
    pub message: String,
}

impl fmt::Display for StageFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for StageFailed {}

/// Several independent failures of one command (`mkfifo a b c`): each gets its own
/// `ipctool: error:` line and hint; the status is that of the first.
#[derive(Debug)]
pub struct Several(pub Vec<anyhow::Error>);

impl fmt::Display for Several {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: Vec<String> = self.0.iter().map(|e| format!("{e:#}")).collect();
        f.write_str(&text.join("; "))
    }
}
impl std::error::Error for Several {}

/// An error with a `hint:` line that suggests the likely fix.
#[derive(Debug)]
pub struct Hinted {
    pub error: anyhow::Error,
    pub hint: String,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The inner chain is already part of Display; a source would print it twice.
        None
    }
}

/// Attaches a hint to an error: `.hint("try --wait 5s")`.
pub trait HintExt<T> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> HintExt<T> for Result<T, E> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| hinted(e.into(), hint))
    }
}

/// Wraps an error with a hint.
pub fn hinted(error: anyhow::Error, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        error,
        hint: hint.into(),
    })
}

/// The exit status an error stands for.
pub fn status_of(err: &anyhow::Error) -> ExitStatus {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return ExitStatus::Usage;
        }
        if cause.is::<TimedOut>() {
            return ExitStatus::TimedOut;
        }
        if let Some(Interrupted(sig)) = cause.downcast_ref::<Interrupted>() {
            return ExitStatus::Signal(*sig);
        }
        if let Some(stage) = cause.downcast_ref::<StageFailed>() {
            return ExitStatus::Stage(stage.code);
        }
        if let Some(Several(errors)) = cause.downcast_ref::<Several>() {
            return errors.first().map_or(ExitStatus::Failure, status_of);
        }
        if let Some(h) = cause.downcast_ref::<Hinted>() {
            return status_of(&h.error);
        }
    }
    ExitStatus::Failure
}

/// The `hint:` line for an error, if there is a likely fix.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(h) = cause.downcast_ref::<Hinted>() {
            return Some(h.hint.clone());
        }
    }
    let io = err.chain().find_map(|c| c.downcast_ref::<io::Error>())?;
    match io.kind() {
        io::ErrorKind::PermissionDenied => {
            Some("check the mode and owner of the file and of its directory (ls -l)".into())
        }
        _ => None,
    }
}

/// True when the error is a broken pipe on our own stdout: the reader went away (`| head`),
/// which ends a command quietly with 0.
pub fn is_stdout_gone(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.is::<StdoutGone>())
}

/// Marks a broken pipe on stdout (see [`is_stdout_gone`]).
#[derive(Debug)]
pub struct StdoutGone;

impl fmt::Display for StdoutGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout was closed by its reader")
    }
}
impl std::error::Error for StdoutGone {}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::{Context, anyhow};

    #[test]
    fn codes() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failure.code(), 1);
        assert_eq!(ExitStatus::Usage.code(), 2);
        assert_eq!(ExitStatus::TimedOut.code(), 124);
        assert_eq!(ExitStatus::Signal(2).code(), 130);
        assert_eq!(ExitStatus::Signal(15).code(), 143);
        assert_eq!(ExitStatus::Signal(1).code(), 129);
        assert_eq!(ExitStatus::Stage(3).code(), 3);
    }

    #[test]
    fn status_found_anywhere_in_the_chain() {
        let e = Err::<(), _>(UsageError("bad".into())).context("while x");
        assert_eq!(status_of(&e.expect_err("err")), ExitStatus::Usage);
        let e = anyhow::Error::new(TimedOut("gave up".into())).context("connect");
        assert_eq!(status_of(&e), ExitStatus::TimedOut);
        let e = anyhow::Error::new(StageFailed {
            code: 3,
            message: "stage 1 (exit 3) exited with status 3".into(),
        });
        assert_eq!(status_of(&e), ExitStatus::Stage(3));
        let e = anyhow::Error::new(Several(vec![anyhow!("a"), anyhow!("b")]));
        assert_eq!(status_of(&e), ExitStatus::Failure);
        assert_eq!(format!("{e:#}"), "a; b");
        assert_eq!(status_of(&anyhow!("boom")), ExitStatus::Failure);
    }

    #[test]
    fn hints_survive_context_and_print_once() {
        let e = Err::<(), _>(io::Error::from(io::ErrorKind::NotFound))
            .context("could not connect to unix:/x")
            .hint("nothing listens there yet: try --wait 5s")
            .context("outer")
            .expect_err("err");
        assert_eq!(
            hint_of(&e).as_deref(),
            Some("nothing listens there yet: try --wait 5s")
        );
        assert_eq!(
            format!("{e:#}"),
            "outer: could not connect to unix:/x: entity not found"
        );
    }
}
