//! Terminal policy: colour per stream, verbosity, and the [`Printer`] every diagnostic goes
//! through (stderr only; stdout carries data).
//!
//! Colour is decided once per stream: `--color always|never` wins, otherwise it is off when
//! `NO_COLOR` is set and non-empty, otherwise on when that stream is a terminal. Tests pretend
//! both streams are terminals with `IPCTOOL_TEST_TTY=1`; nothing else reads that variable.

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use crossterm::style::{Color, Stylize};
use indicatif::{MultiProgress, ProgressDrawTarget};

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour where the stream is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// How much ipctool says on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors and requested reports only.
    Quiet,
    /// Warnings too.
    Normal,
    /// `-v`: events (listening, accepted, closed, reclaimed).
    Verbose,
}

/// Which standard stream a decision is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// True when the stream is a terminal (or a test pretends it is).
pub fn is_terminal(stream: Stream) -> bool {
    if std::env::var_os("IPCTOOL_TEST_TTY").is_some_and(|v| v == "1") {
        return true;
    }
    match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    }
}

/// Decides colour for one stream.
pub fn use_color(choice: ColorChoice, stream: Stream) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && is_terminal(stream)
        }
    }
}

/// Semantic styles for one stream; plain text when colour is off.
#[derive(Clone, Copy, Debug)]
pub struct Styles {
    pub enabled: bool,
}

impl Styles {
    fn paint(&self, s: impl Display, color: Color, bold: bool) -> String {
        if !self.enabled {
            return s.to_string();
        }
        let styled = s.to_string().with(color);
        if bold {
            styled.bold().to_string()
        } else {
            styled.to_string()
        }
    }
    /// Table headings.
    pub fn heading(&self, s: impl Display) -> String {
        if self.enabled {
            s.to_string().bold().to_string()
        } else {
            s.to_string()
        }
    }
    /// Good news, best values.
    pub fn good(&self, s: impl Display) -> String {
        self.paint(s, Color::Green, false)
    }
    /// Errors.
    pub fn bad(&self, s: impl Display) -> String {
        self.paint(s, Color::Red, true)
    }
    /// Warnings and hints.
    pub fn warn(&self, s: impl Display) -> String {
        self.paint(s, Color::Yellow, true)
    }
    /// Secondary text (offsets, units).
    pub fn dim(&self, s: impl Display) -> String {
        self.paint(s, Color::DarkGrey, false)
    }
    /// Highlighted values.
    pub fn accent(&self, s: impl Display) -> String {
        self.paint(s, Color::Cyan, false)
    }
    /// Any colour.
    pub fn color(&self, s: impl Display, color: Color) -> String {
        self.paint(s, color, false)
    }
}

/// Everything that writes diagnostics to stderr. Cheap to clone and safe to share between
/// threads: each call writes whole lines, suspending progress bars while it does.
#[derive(Clone, Debug)]
pub struct Printer {
    pub verbosity: Verbosity,
    /// Styles for stderr.
    pub err: Styles,
    /// Styles for stdout (bench tables).
    pub out: Styles,
    multi: MultiProgress,
    progress_allowed: bool,
}

impl Printer {
    /// Builds the printer from the global flags.
    pub fn new(verbosity: Verbosity, color: ColorChoice) -> Printer {
        let err = use_color(color, Stream::Stderr);
        let out = use_color(color, Stream::Stdout);
        if err || out {
            // We decided; crossterm must not veto it from NO_COLOR on its own.
            crossterm::style::force_color_output(true);
        }
        Printer {
            verbosity,
            err: Styles { enabled: err },
            out: Styles { enabled: out },
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
            progress_allowed: verbosity > Verbosity::Quiet,
        }
    }

    /// A printer that prints nothing but errors (tests, hidden helpers).
    pub fn quiet() -> Printer {
        Printer::new(Verbosity::Quiet, ColorChoice::Never)
    }

    /// True under `-v`.
    pub fn is_verbose(&self) -> bool {
        self.verbosity >= Verbosity::Verbose
    }

    /// An event line under `-v`: `ipctool: listening on @demo`.
    pub fn event(&self, msg: impl Display) {
        if self.is_verbose() {
            self.line(&format!("ipctool: {msg}"));
        }
    }

    /// A warning, unless `-q`.
    pub fn warn(&self, msg: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let label = self.err.warn("warning:");
            self.line(&format!("ipctool: {label} {msg}"));
        }
    }

    /// The one `ipctool: error:` line of a failure, and its hint.
    pub fn error(&self, msg: impl Display, hint: Option<&str>) {
        let label = self.err.bad("error:");
        let mut text = format!("ipctool: {label} {msg}");
        if let Some(hint) = hint {
            text.push('\n');
            text.push_str(&self.err.warn("hint:"));
            text.push(' ');
            text.push_str(hint);
        }
        self.line(&text);
    }

    /// A report the user asked for (`--stats`, SIGUSR1): printed even under `-q`.
    pub fn report(&self, text: &str) {
        self.line(text.trim_end_matches('\n'));
    }

    /// Writes one or more whole lines to stderr, with progress bars out of the way.
    pub fn line(&self, text: &str) {
        self.multi.suspend(|| {
            let mut err = std::io::stderr().lock();
            // A closed stderr must not turn into a panic or a failure of the data path.
            let _ = writeln!(err, "{text}");
        });
    }

    /// The progress-bar container of a command that writes nothing to stdout while it
    /// draws (`bench`), drawing on stderr when `show` is true. `force` draws even when
    /// stderr is not a terminal.
    pub fn progress(&self, show: bool, force: bool) -> MultiProgress {
        let target = if !show || !self.progress_allowed {
            ProgressDrawTarget::hidden()
        } else if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr_with_hz(10)
        } else if force || is_terminal(Stream::Stderr) {
            StderrTerm::target(false)
        } else {
            ProgressDrawTarget::hidden()
        };
        self.multi.set_draw_target(target);
        self.multi.clone()
    }

    /// The progress container of a command whose data goes to stdout while it draws, and
    /// how its lines are laid out. When stdout and stderr are both terminals, the data
    /// shares the screen with the live lines and is written below them behind indicatif's
    /// back: redrawing several lines would move the cursor up over it and erase it. So
    /// then nothing is drawn unless `force` (as curl does), and a forced line is a single
    /// one, redrawn on the row the cursor is on, never above.
    pub fn data_progress(&self, show: bool, force: bool) -> (MultiProgress, LiveLayout) {
        let shared = is_terminal(Stream::Stdout) && is_terminal(Stream::Stderr);
        let layout = if !show || !self.progress_allowed {
            LiveLayout::Hidden
        } else if shared {
            if force {
                LiveLayout::OneLine
            } else {
                LiveLayout::Hidden
            }
        } else if force || is_terminal(Stream::Stderr) {
            LiveLayout::Lines
        } else {
            LiveLayout::Hidden
        };
        let multi = match layout {
            LiveLayout::Hidden => self.progress(false, false),
            LiveLayout::Lines => self.progress(true, true),
            LiveLayout::OneLine => {
                self.multi.set_draw_target(StderrTerm::target(true));
                self.multi.clone()
            }
        };
        (multi, layout)
    }
}

/// How live lines are laid out on stderr (see [`Printer::data_progress`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveLayout {
    /// Nothing is drawn.
    Hidden,
    /// Any number of lines, redrawn in place: stderr has its screen to itself.
    Lines,
    /// One line, redrawn where the cursor is: stdout writes to the same terminal.
    OneLine,
}

/// stderr as indicatif's terminal, for progress forced onto a non-terminal (a log file, a
/// test pipe: plain ANSI cursor moves, a fixed width) or drawn on a terminal that stdout
/// shares (`one_line`): then the real width, text past it is cut rather than wrapped, and
/// the cursor is never moved up or down, so no row but the cursor's is ever redrawn and
/// whatever the data wrote above stays. Each draw is written at once.
#[derive(Debug)]
struct StderrTerm {
    one_line: bool,
    /// The draw being built, and the column it has reached.
    draw: std::sync::Mutex<(Vec<u8>, u16)>,
}

impl StderrTerm {
    fn target(one_line: bool) -> ProgressDrawTarget {
        let hz = if one_line { 10 } else { 4 };
        ProgressDrawTarget::term_like_with_hz(
            Box::new(StderrTerm {
                one_line,
                draw: std::sync::Mutex::new((Vec::new(), 0)),
            }),
            hz,
        )
    }

    fn draw(&self) -> std::sync::MutexGuard<'_, (Vec<u8>, u16)> {
        self.draw.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cursor(&self, n: usize, dir: char) -> std::io::Result<()> {
        if n == 0 || (self.one_line && matches!(dir, 'A' | 'B')) {
            return Ok(());
        }
        write!(self.draw().0, "\x1b[{n}{dir}")
    }
}

impl indicatif::TermLike for StderrTerm {
    fn width(&self) -> u16 {
        let real = rustix::termios::tcgetwinsize(std::io::stderr())
            .ok()
            .map(|w| w.ws_col)
            .filter(|&c| c > 0);
        match (self.one_line, real) {
            (true, Some(cols)) => cols,
            _ => 100,
        }
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'A')
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'B')
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'C')
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'D')
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)?;
        self.write_str("\n")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let width = self.width();
        let mut draw = self.draw();
        let (buf, col) = &mut *draw;
        if !self.one_line {
            buf.extend_from_slice(s.as_bytes());
            return Ok(());
        }
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                // Styles take no room: copied whole.
                '\x1b' => {
                    buf.push(0x1b);
                    for c in chars.by_ref() {
                        let mut b = [0; 4];
                        buf.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
                '\r' | '\n' => {
                    buf.push(c as u8);
                    *col = 0;
                }
                c if *col < width => {
                    let mut b = [0; 4];
                    buf.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    *col += 1;
                }
                _ => {}
            }
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        let mut draw = self.draw();
        draw.0.extend_from_slice(b"\r\x1b[2K");
        draw.1 = 0;
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        let drawn = std::mem::take(&mut self.draw().0);
        let mut err = std::io::stderr().lock();
        err.write_all(&drawn)?;
        err.flush()
    }
}

/// Escapes text that came from a peer or the filesystem before it reaches a terminal:
/// control characters become `\xNN`, so a file name cannot move the cursor or recolour it.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_control_characters() {
        assert_eq!(escape("plain/path"), "plain/path");
        assert_eq!(escape("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(escape("new\nline\t"), "new\\x0aline\\x09");
        assert_eq!(escape("back\\slash"), "back\\\\slash");
    }

    #[test]
    fn a_shared_screen_line_never_moves_up_nor_wraps() {
        use indicatif::TermLike;
        let term = |one_line| StderrTerm {
            one_line,
            draw: std::sync::Mutex::new((Vec::new(), 0)),
        };
        let drawn = |t: &StderrTerm| String::from_utf8(t.draw().0.clone()).expect("utf-8");
        let shared = term(true);
        let width = usize::from(shared.width());
        shared.move_cursor_up(2).expect("buffered");
        shared.move_cursor_down(1).expect("buffered");
        shared.clear_line().expect("buffered");
        shared.write_str("\x1b[1mé\x1b[0m").expect("buffered");
        shared.write_str(&"x".repeat(2 * width)).expect("buffered");
        let want = format!("\r\x1b[2K\x1b[1mé\x1b[0m{}", "x".repeat(width - 1));
        assert_eq!(drawn(&shared), want);
        let plain = term(false);
        plain.move_cursor_up(2).expect("buffered");
        plain.write_str(&"y".repeat(150)).expect("buffered");
        assert_eq!(drawn(&plain), format!("\x1b[2A{}", "y".repeat(150)));
    }

    #[test]
    fn styles_are_plain_when_disabled() {
        let s = Styles { enabled: false };
        assert_eq!(s.bad("x"), "x");
        let s = Styles { enabled: true };
        assert!(s.bad("x").contains("\x1b["));
    }
}
