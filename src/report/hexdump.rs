//! `relay --hex`: one block per chunk — a header with the connection number, direction,
//! time, length and stream offset, then 16 bytes a line with the offset, the hex and the
//! printable characters, aligned. Bytes are coloured by class on a terminal (as hexyl
//! does): NUL, printable ASCII, ASCII whitespace, other ASCII, and non-ASCII.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use crossterm::style::Color;

use crate::engine::{Dir, Tap};
use crate::term::{Printer, Styles};

const PER_LINE: usize = 16;

fn class_color(b: u8) -> Color {
    match b {
        0 => Color::DarkGrey,
        b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => Color::Green,
        0x21..=0x7e => Color::Cyan,
        0x01..=0x1f | 0x7f => Color::Magenta,
        _ => Color::Yellow,
    }
}

fn printable(b: u8) -> char {
    match b {
        0x20..=0x7e => b as char,
        0 => '0',
        b'\t' | b'\n' | b'\r' => '_',
        0x01..=0x1f | 0x7f => '•',
        _ => '×',
    }
}

/// Appends the lines of `data`, whose first byte is at `offset` in its stream.
pub fn render_lines(out: &mut String, data: &[u8], offset: u64, s: &Styles) {
    for (i, line) in data.chunks(PER_LINE).enumerate() {
        let at = offset + (i * PER_LINE) as u64;
        let _ = write!(out, "{}  ", s.dim(format!("{at:08x}")));
        for col in 0..PER_LINE {
            if col == 8 {
                out.push(' ');
            }
            match line.get(col) {
                Some(&b) => out.push_str(&s.color(format!("{b:02x}"), class_color(b))),
                None => out.push_str("  "),
            }
            out.push(' ');
        }
        out.push_str(&s.dim("│"));
        for (col, &b) in line.iter().enumerate() {
            if col == 8 {
                out.push_str(&s.dim("┊"));
            }
            out.push_str(&s.color(printable(b), class_color(b)));
        }
        out.push_str(&" ".repeat(PER_LINE - line.len() + usize::from(line.len() <= 8)));
        out.push_str(&s.dim("│"));
        out.push('\n');
    }
}

/// Where dumps go.
#[derive(Debug)]
enum Target {
    Stderr(Printer),
    File(Mutex<File>),
}

/// The dump of a relay: shared by all its connections.
#[derive(Debug)]
pub struct HexDump {
    target: Target,
    styles: Styles,
    /// Label of the far end (TO), for the headers.
    to: String,
}

impl HexDump {
    /// Dumps to stderr, coloured if stderr takes colour.
    pub fn to_stderr(printer: &Printer, to: String) -> HexDump {
        HexDump {
            styles: printer.err,
            target: Target::Stderr(printer.clone()),
            to,
        }
    }

    /// Dumps into `path`: created 0600 if missing, truncated if a regular file, never
    /// opened through a symlink. A character device (a terminal, /dev/null) is written as
    /// it is; a FIFO, socket or directory is refused rather than waited on.
    pub fn to_file(path: &Path, to: String) -> io::Result<HexDump> {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let file = crate::transport::sockfile::with_umask_cleared(|| {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(path)
        })?;
        let kind = file.metadata()?.file_type();
        if kind.is_file() {
            file.set_len(0)?;
        } else if !kind.is_char_device() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file or a device",
            ));
        }
        let flags = rustix::fs::fcntl_getfl(&file)?;
        rustix::fs::fcntl_setfl(&file, flags - rustix::fs::OFlags::NONBLOCK)?;
        Ok(HexDump {
            target: Target::File(Mutex::new(file)),
            styles: Styles { enabled: false },
            to,
        })
    }

    /// A tap for connection `id`.
    pub fn tap(self: &std::sync::Arc<Self>, id: u64) -> ConnTap {
        ConnTap {
            dump: std::sync::Arc::clone(self),
            id,
        }
    }

    fn block(&self, id: u64, dir: Dir, offset: u64, data: &[u8]) -> String {
        let s = &self.styles;
        let (arrow, way) = match dir {
            Dir::Recv => (s.good("→"), format!("client → {}", self.to)),
            Dir::Send => (s.accent("←"), format!("{} → client", self.to)),
        };
        let time = humantime::format_rfc3339_micros(SystemTime::now());
        let mut out = format!(
            "{} {arrow} {}  {time}  {} B at offset {offset}\n",
            s.heading(format!("#{id}")),
            crate::term::escape(&way),
            data.len(),
        );
        render_lines(&mut out, data, offset, s);
        out
    }
}

/// A connection's tap into the shared [`HexDump`].
#[derive(Debug)]
pub struct ConnTap {
    dump: std::sync::Arc<HexDump>,
    id: u64,
}

impl Tap for ConnTap {
    fn chunk(&self, dir: Dir, offset: u64, data: &[u8]) {
        let block = self.dump.block(self.id, dir, offset, data);
        match &self.dump.target {
            Target::Stderr(p) => p.line(block.trim_end_matches('\n')),
            Target::File(f) => {
                if let Ok(mut f) = f.lock() {
                    // A full disk must not stop the relay; the dump is a side channel.
                    let _ = f.write_all(block.as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_aligned_with_offset_hex_and_text() {
        let mut out = String::new();
        let plain = Styles { enabled: false };
        render_lines(
            &mut out,
            b"Hello, world!\n\x00\xff\x01ABCDEFGHIJ",
            0x20,
            &plain,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "00000020  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 ff │Hello, w┊orld!_0×│"
        );
        assert_eq!(
            lines[1],
            "00000030  01 41 42 43 44 45 46 47  48 49 4a                │•ABCDEFG┊HIJ     │"
        );
        // Every line has the same width, short or full.
        assert_eq!(lines[0].chars().count(), lines[1].chars().count());
    }

    #[test]
    fn short_lines_align_with_full_ones() {
        let plain = Styles { enabled: false };
        let width = |data: &[u8]| {
            let mut out = String::new();
            render_lines(&mut out, data, 0, &plain);
            out.lines().next().map(|l| l.chars().count()).unwrap_or(0)
        };
        let full = width(&[b'x'; 16]);
        for n in 1..16 {
            assert_eq!(width(&vec![b'x'; n]), full, "{n} bytes");
        }
    }
}
