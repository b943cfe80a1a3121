//! The address grammar of SPEC §1: the only place where a command-line address is parsed.
//!
//! `Address::from_str` accepts every form of the table, `Display` prints the canonical form
//! (which parses back to the same value), and every malformed input is an [`AddrError`] that
//! quotes the input and says what was expected. Clap turns that error into a usage error
//! (exit 2).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Longest socket path or abstract name the OS accepts (`sun_path` is 108 bytes on Linux,
/// one of which is the terminating NUL or the leading NUL of an abstract name).
pub const MAX_SOCKET_NAME: usize = 107;

/// The accepted forms, listed in every "malformed address" message.
pub const FORMS: &str = "PATH (with a '/'), unix:PATH, @NAME, abstract:NAME, fifo:PATH, -, \
                         exec:CMD, tcp:HOST:PORT, unix-dgram:PATH, seqpacket:PATH";

/// One endpoint, as named on the command line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// A Unix domain stream socket on a filesystem path.
    Unix(PathBuf),
    /// A socket in the Linux abstract namespace (no file).
    Abstract(String),
    /// A FIFO (named pipe file).
    Fifo(PathBuf),
    /// A Windows named pipe (Windows builds only).
    Npipe(String),
    /// This process's stdin and stdout.
    Stdio,
    /// `sh -c CMD` with its stdin and stdout attached through unnamed pipes.
    Exec(String),
    /// TCP, to bridge to the network and as a benchmark baseline.
    Tcp { host: String, port: u16 },
    /// A Unix datagram socket.
    UnixDgram(SocketName),
    /// A Unix sequenced-packet socket.
    Seqpacket(SocketName),
}

/// The name of a message-oriented socket: a path or an abstract name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SocketName {
    Path(PathBuf),
    Abstract(String),
}

/// A malformed address: the input and what was wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrError {
    pub input: String,
    pub reason: String,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid address '{}': {}", self.input, self.reason)
    }
}

impl std::error::Error for AddrError {}

impl Address {
    /// The socket-file path this address names, if any (for cleanup and messages).
    pub fn socket_path(&self) -> Option<&Path> {
        match self {
            Address::Unix(p) => Some(p),
            Address::UnixDgram(SocketName::Path(p)) | Address::Seqpacket(SocketName::Path(p)) => {
                Some(p)
            }
            _ => None,
        }
    }

    /// True for the message-oriented forms (`unix-dgram:`, `seqpacket:`).
    pub fn is_message(&self) -> bool {
        matches!(self, Address::UnixDgram(_) | Address::Seqpacket(_))
    }
}

impl FromStr for Address {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, AddrError> {
        let err = |reason: String| AddrError {
            input: s.to_owned(),
            reason,
        };
        if s.is_empty() {
            return Err(err(format!("the address is empty; expected {FORMS}")));
        }
        if s.contains('\0') {
            return Err(err("it contains a NUL byte".into()));
        }
        if s == "-" || s == "stdio" {
            return Ok(Address::Stdio);
        }
        if let Some(name) = s.strip_prefix('@') {
            return abstract_name(name, "@NAME")
                .map(Address::Abstract)
                .map_err(err);
        }
        if let Some((prefix, rest)) = s.split_once(':') {
            match prefix {
                "unix" => {
                    return socket_path(rest, "unix:PATH")
                        .map(Address::Unix)
                        .map_err(err);
                }
                "abstract" => {
                    return abstract_name(rest, "abstract:NAME")
                        .map(Address::Abstract)
                        .map_err(err);
                }
                "fifo" => {
                    return plain_path(rest, "fifo:PATH")
                        .map(Address::Fifo)
                        .map_err(err);
                }
                "npipe" => return npipe(rest).map(Address::Npipe).map_err(err),
                "exec" => {
                    if rest.trim().is_empty() {
                        return Err(err("expected a command after 'exec:' (exec:CMD)".into()));
                    }
                    return Ok(Address::Exec(rest.to_owned()));
                }
                "tcp" => return tcp(rest).map_err(err),
                "unix-dgram" => {
                    return message_name(rest, "unix-dgram")
                        .map(Address::UnixDgram)
                        .map_err(err);
                }
                "seqpacket" => {
                    return message_name(rest, "seqpacket")
                        .map(Address::Seqpacket)
                        .map_err(err);
                }
                _ => {}
            }
        }
        // A bare path: it must contain a '/' or name something that exists, so that a typo
        // such as `tpc:x:1` or `listen sock` is an error rather than a new socket file.
        let path = Path::new(s);
        if s.contains('/') || path.symlink_metadata().is_ok() {
            if is_fifo(path) {
                return Ok(Address::Fifo(path.to_owned()));
            }
            return socket_path(s, "PATH").map(Address::Unix).map_err(err);
        }
        if let Some((prefix, _)) = s.split_once(':')
            && !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(err(format!(
                "unknown address type '{prefix}:'; expected {FORMS}"
            )));
        }
        Err(err(format!(
            "no such file, and a new socket path needs a '/' (./{s} or unix:{s}); \
             expected {FORMS}"
        )))
    }
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    path.metadata().is_ok_and(|m| m.file_type().is_fifo())
}

fn plain_path(rest: &str, form: &str) -> Result<PathBuf, String> {
    if rest.is_empty() {
        return Err(format!("expected a path after the prefix ({form})"));
    }
    Ok(PathBuf::from(rest))
}

fn socket_path(rest: &str, form: &str) -> Result<PathBuf, String> {
    let path = plain_path(rest, form)?;
    if rest.len() > MAX_SOCKET_NAME {
        return Err(too_long("socket path", rest.len()));
    }
    Ok(path)
}

fn too_long(what: &str, len: usize) -> String {
    format!("the {what} is too long: {len} bytes, the OS limit is {MAX_SOCKET_NAME} bytes")
}

fn abstract_name(name: &str, form: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err(format!("expected a name ({form})"));
    }
    if name.len() > MAX_SOCKET_NAME {
        return Err(too_long("abstract socket name", name.len()));
    }
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return Err("the abstract socket namespace is not supported on this OS".into());
    }
    Ok(name.to_owned())
}

fn npipe(name: &str) -> Result<String, String> {
    if !cfg!(windows) {
        return Err("npipe: names a Windows named pipe and is only supported on Windows".into());
    }
    if name.is_empty() {
        return Err("expected a pipe name (npipe:NAME)".into());
    }
    Ok(name.to_owned())
}

fn message_name(rest: &str, prefix: &str) -> Result<SocketName, String> {
    match rest.strip_prefix('@') {
        Some(name) => abstract_name(name, &format!("{prefix}:@NAME")).map(SocketName::Abstract),
        None => socket_path(rest, &format!("{prefix}:PATH")).map(SocketName::Path),
    }
}

fn tcp(rest: &str) -> Result<Address, String> {
    const FORM: &str = "expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:9000 or tcp:[::1]:9000";
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| FORM.to_owned())?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6
            .strip_suffix(']')
            .filter(|h| h.contains(':'))
            .ok_or_else(|| FORM.to_owned())?,
        None if host.contains(':') => {
            return Err(format!("{FORM} (an IPv6 host goes in brackets)"));
        }
        None => host,
    };
    if host.is_empty() {
        return Err(format!("{FORM} (the host is missing)"));
    }
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("{FORM} (the port must be a number from 0 to 65535)"))?;
    Ok(Address::Tcp {
        host: host.to_owned(),
        port,
    })
}

impl fmt::Display for SocketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketName::Path(p) => write!(f, "{}", p.display()),
            SocketName::Abstract(n) => write!(f, "@{n}"),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Abstract(n) => write!(f, "@{n}"),
            Address::Fifo(p) => write!(f, "fifo:{}", p.display()),
            Address::Npipe(n) => write!(f, "npipe:{n}"),
            Address::Stdio => f.write_str("-"),
            Address::Exec(c) => write!(f, "exec:{c}"),
            Address::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Address::UnixDgram(n) => write!(f, "unix-dgram:{n}"),
            Address::Seqpacket(n) => write!(f, "seqpacket:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Address {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn reject(s: &str) -> String {
        match s.parse::<Address>() {
            Ok(a) => panic!("{s} parsed as {a:?}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(&format!("'{s}'")),
                    "{msg} does not quote the input"
                );
                msg
            }
        }
    }

    #[test]
    fn every_form_parses_and_round_trips() {
        let rows = [
            ("/tmp/s", Address::Unix("/tmp/s".into()), "unix:/tmp/s"),
            ("./s", Address::Unix("./s".into()), "unix:./s"),
            ("unix:/tmp/s", Address::Unix("/tmp/s".into()), "unix:/tmp/s"),
            ("unix:rel", Address::Unix("rel".into()), "unix:rel"),
            ("@demo", Address::Abstract("demo".into()), "@demo"),
            ("abstract:demo", Address::Abstract("demo".into()), "@demo"),
            ("fifo:/tmp/f", Address::Fifo("/tmp/f".into()), "fifo:/tmp/f"),
            ("-", Address::Stdio, "-"),
            ("stdio", Address::Stdio, "-"),
            ("exec:cat -n", Address::Exec("cat -n".into()), "exec:cat -n"),
            (
                "tcp:127.0.0.1:9000",
                Address::Tcp {
                    host: "127.0.0.1".into(),
                    port: 9000,
                },
                "tcp:127.0.0.1:9000",
            ),
            (
                "tcp:localhost:0",
                Address::Tcp {
                    host: "localhost".into(),
                    port: 0,
                },
                "tcp:localhost:0",
            ),
            (
                "tcp:[::1]:80",
                Address::Tcp {
                    host: "::1".into(),
                    port: 80,
                },
                "tcp:[::1]:80",
            ),
            (
                "unix-dgram:/tmp/log",
                Address::UnixDgram(SocketName::Path("/tmp/log".into())),
                "unix-dgram:/tmp/log",
            ),
            (
                "unix-dgram:@log",
                Address::UnixDgram(SocketName::Abstract("log".into())),
                "unix-dgram:@log",
            ),
            (
                "seqpacket:/tmp/p",
                Address::Seqpacket(SocketName::Path("/tmp/p".into())),
                "seqpacket:/tmp/p",
            ),
            (
                "seqpacket:@p",
                Address::Seqpacket(SocketName::Abstract("p".into())),
                "seqpacket:@p",
            ),
        ];
        for (input, want, canonical) in rows {
            let got = parse(input);
            assert_eq!(got, want, "{input}");
            assert_eq!(got.to_string(), canonical, "{input}");
            assert_eq!(parse(canonical), want, "{canonical} must parse back");
        }
    }

    #[test]
    fn an_existing_fifo_named_by_a_bare_path_is_a_fifo() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("f");
        interprocess::os::unix::fifo_file::create_fifo(&fifo, 0o600).expect("mkfifo");
        let s = fifo.to_str().expect("utf-8 temp path");
        assert_eq!(parse(s), Address::Fifo(fifo.clone()));
        // unix: forces a socket even where a FIFO exists
        assert_eq!(parse(&format!("unix:{s}")), Address::Unix(fifo));
    }

    #[test]
    fn length_limit_is_enforced_not_truncated() {
        let ok = format!("/{}", "a".repeat(MAX_SOCKET_NAME - 1));
        assert_eq!(parse(&ok), Address::Unix(ok.clone().into()));
        let long = format!("/{}", "a".repeat(MAX_SOCKET_NAME));
        let msg = reject(&long);
        assert!(msg.contains("too long") && msg.contains("108 bytes") && msg.contains("107"));
        let msg = reject(&format!("@{}", "n".repeat(108)));
        assert!(msg.contains("too long") && msg.contains("107"), "{msg}");
        assert!(reject(&format!("unix-dgram:{long}")).contains("too long"));
        // FIFOs are not socket addresses: no limit
        assert_eq!(parse(&format!("fifo:{long}")), Address::Fifo(long.into()));
    }

    #[test]
    fn malformed_inputs_are_rejected_with_the_reason() {
        let rows = [
            ("", "empty"),
            ("unix:", "expected a path"),
            ("fifo:", "expected a path"),
            ("@", "expected a name"),
            ("abstract:", "expected a name"),
            ("exec:", "expected a command"),
            ("exec:  ", "expected a command"),
            ("tcp:", "tcp:HOST:PORT"),
            ("tcp:9000", "tcp:HOST:PORT"),
            ("tcp::9000", "host is missing"),
            ("tcp:127.0.0.1", "tcp:HOST:PORT"),
            ("tcp:127.0.0.1:http", "port must be a number"),
            ("tcp:127.0.0.1:70000", "port must be a number"),
            ("tcp:::1:80", "brackets"),
            ("tcp:[127.0.0.1]:80", "tcp:HOST:PORT"),
            ("udp:127.0.0.1:53", "unknown address type 'udp:'"),
            ("tpc:x:1", "unknown address type 'tpc:'"),
            ("npipe:x", "only supported on Windows"),
            ("no-such-name-here", "needs a '/'"),
            ("unix-dgram:", "expected a path"),
            ("seqpacket:@", "expected a name"),
            ("a\0b", "NUL"),
        ];
        for (input, want) in rows {
            let msg = reject(input);
            assert!(msg.contains(want), "{input:?}: {msg:?} lacks {want:?}");
        }
        assert!(
            reject("udp:x:1").contains("unix:PATH, @NAME"),
            "lists the forms"
        );
    }
}
