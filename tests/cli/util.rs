//! Test helpers: a private temp directory, the binary run hermetically, children that are
//! killed when a test fails, readiness read from the `-v` "listening on" line (never a
//! sleep), a deadline on every wait, and data helpers.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A shell function every [`Env::sh`] script has: `wait_ready FILE` waits (30 s at most)
/// until FILE holds the `-v` readiness line of a listener started with `2>FILE`.
const WAIT_READY_FN: &str = r#"wait_ready() { i=0; while ! grep -q 'listening on' "$1" 2>/dev/null; do i=$((i+1)); if [ $i -gt 3000 ]; then echo "no listening line in $1" >&2; exit 99; fi; sleep 0.01; done; }"#;

/// How long any single wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ipctool")
}

/// A private directory with a short path (socket paths stay far below 108 bytes).
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("ipct")
            .tempdir_in("/tmp")
            .expect("temp dir");
        Env { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `path` as a string, for command lines.
    pub fn p(&self, name: &str) -> String {
        self.path(name)
            .to_str()
            .expect("utf-8 temp path")
            .to_owned()
    }

    /// ipctool with a hermetic environment: no NO_COLOR, no IPCTOOL_* from outside.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new(bin());
        hermetic(&mut c);
        c.current_dir(self.dir.path()).args(args);
        c
    }

    /// Runs ipctool to completion with `input` on stdin.
    pub fn run<I, S>(&self, args: I, input: &[u8]) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_with_input(self.cmd(args), input)
    }

    /// Starts ipctool with piped stdio.
    pub fn spawn<I, S>(&self, args: I) -> Proc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Proc::spawn(self.cmd(args))
    }

    /// `sh -c SCRIPT` in the temp dir, with `$IPCTOOL` set and `wait_ready FILE` defined.
    pub fn sh(&self, script: &str) -> Command {
        self.shell("sh", script)
    }

    /// The same under bash (for `pipefail`, `PIPESTATUS`).
    pub fn bash(&self, script: &str) -> Command {
        self.shell("bash", script)
    }

    fn shell(&self, shell: &str, script: &str) -> Command {
        let mut c = Command::new(shell);
        hermetic(&mut c);
        c.current_dir(self.dir.path())
            .env("IPCTOOL", bin())
            .args(["-c", &format!("{WAIT_READY_FN}\n{script}")]);
        c
    }
}

pub fn hermetic(c: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("IPCTOOL") || k == "NO_COLOR" {
            c.env_remove(&k);
        }
    }
    c.env("RUST_BACKTRACE", "0");
}

/// What a finished process did.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    #[track_caller]
    pub fn assert_code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(want),
            "exit status {:?}, want {want}\nstderr:\n{}\nstdout: {:?}",
            self.status,
            self.stderr,
            String::from_utf8_lossy(&self.stdout[..self.stdout.len().min(300)])
        );
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        self.assert_code(0)
    }

    #[track_caller]
    pub fn stdout_is(&self, want: &[u8]) -> &Self {
        if self.stdout != want {
            panic!(
                "stdout differs: got {} bytes (sha {}), want {} bytes (sha {})\ngot: {:?}\nwant: {:?}\nstderr:\n{}",
                self.stdout.len(),
                sha256(&self.stdout),
                want.len(),
                sha256(want),
                String::from_utf8_lossy(&self.stdout[..self.stdout.len().min(200)]),
                String::from_utf8_lossy(&want[..want.len().min(200)]),
                self.stderr
            );
        }
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, want: &str) -> &Self {
        assert!(
            self.stderr.contains(want),
            "stderr lacks {want:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_lacks(&self, unwanted: &str) -> &Self {
        assert!(
            !self.stderr.contains(unwanted),
            "stderr has {unwanted:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_is_empty(&self) -> &Self {
        assert!(
            self.stderr.is_empty(),
            "stderr is not empty:\n{}",
            self.stderr
        );
        self
    }

    /// Lines of stderr starting with `ipctool: error:`.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("ipctool: error:"))
            .collect()
    }

    /// Asserts exactly one error line, containing every `words`.
    #[track_caller]
    pub fn one_error(&self, words: &[&str]) -> &Self {
        let lines = self.error_lines();
        assert_eq!(lines.len(), 1, "want one error line:\n{}", self.stderr);
        for w in words {
            assert!(lines[0].contains(w), "error line lacks {w:?}: {}", lines[0]);
        }
        self
    }

    /// The JSON Lines records on stderr.
    pub fn json_records(&self) -> Vec<serde_json::Value> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
            .collect()
    }
}

/// Runs `cmd` to completion, feeding `input` and collecting both outputs concurrently.
pub fn run_with_input(mut cmd: Command, input: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut p = Proc::spawn_raw(cmd);
    p.feed(input.to_vec());
    p.finish()
}

/// Shared stderr lines of a running process, with a condition variable for waiters.
#[derive(Default)]
struct Lines {
    text: Mutex<(String, bool)>,
    cv: Condvar,
}

/// A running process: killed on drop, stderr collected in the background.
pub struct Proc {
    pub child: Child,
    stdin: Option<ChildStdin>,
    feeder: Option<JoinHandle<()>>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Arc<Lines>,
    stderr_thread: Option<JoinHandle<()>>,
}

impl Proc {
    /// Starts `cmd` with piped stdin, stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Proc::spawn_raw(cmd)
    }

    /// Starts `cmd` as configured; collects stdout/stderr if they are piped.
    pub fn spawn_raw(mut cmd: Command) -> Proc {
        Proc::adopt(cmd.spawn().expect("spawn"))
    }

    /// Starts `cmd` with piped stdio and hands its stdin and stdout to the caller, to stream
    /// more than memory should hold; stderr is collected.
    pub fn spawn_streaming(mut cmd: Command) -> (Proc, ChildStdin, std::process::ChildStdout) {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        (Proc::adopt(child), stdin, stdout)
    }

    /// Watches a started child: collects its stdout/stderr where they are piped.
    fn adopt(mut child: Child) -> Proc {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().map(|mut out| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = out.read_to_end(&mut buf);
                buf
            })
        });
        let lines = Arc::new(Lines::default());
        let stderr_thread = child.stderr.take().map(|err| {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                let mut r = BufReader::new(err);
                let mut line = String::new();
                loop {
                    line.clear();
                    let n = r.read_line(&mut line).unwrap_or(0);
                    let mut g = lines.text.lock().expect("lock");
                    if n == 0 {
                        g.1 = true;
                        lines.cv.notify_all();
                        return;
                    }
                    g.0.push_str(&line);
                    lines.cv.notify_all();
                }
            })
        });
        Proc {
            child,
            stdin,
            feeder: None,
            stdout,
            stderr: lines,
            stderr_thread,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `data` to stdin in the background, then closes it.
    pub fn feed(&mut self, data: Vec<u8>) {
        if let Some(mut stdin) = self.stdin.take() {
            self.feeder = Some(std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            }));
        }
    }

    /// The stdin pipe, to write to it by hand.
    pub fn stdin(&mut self) -> &mut ChildStdin {
        self.stdin.as_mut().expect("stdin is piped and open")
    }

    /// Takes the stdin pipe (to write to it from another thread).
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin is piped and open")
    }

    /// Closes stdin now.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Stderr so far.
    pub fn stderr_now(&self) -> String {
        self.stderr.text.lock().expect("lock").0.clone()
    }

    /// Waits until stderr contains `needle`; returns stderr so far. Fails the test after
    /// the deadline or if stderr closes first.
    #[track_caller]
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_for_count(needle, 1)
    }

    /// Waits until stderr contains `needle` at least `count` times; returns stderr so far.
    #[track_caller]
    pub fn wait_for_count(&self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + DEADLINE;
        let mut g = self.stderr.text.lock().expect("lock");
        loop {
            if g.0.matches(needle).count() >= count {
                return g.0.clone();
            }
            let now = Instant::now();
            if g.1 || now >= deadline {
                let text = g.0.clone();
                drop(g);
                panic!(
                    "waiting for {count} × {needle:?} on stderr: {}\n{text}",
                    if now >= deadline {
                        "deadline passed"
                    } else {
                        "stderr closed"
                    }
                );
            }
            g = self
                .stderr
                .cv
                .wait_timeout(g, deadline - now)
                .expect("lock")
                .0;
        }
    }

    /// Waits for the `-v` readiness line of a listener.
    #[track_caller]
    pub fn wait_ready(&self) -> String {
        self.wait_for("listening on")
    }

    /// Sends a signal.
    pub fn signal(&self, sig: i32) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).expect("pid");
        rustix::process::kill_process(
            pid,
            rustix::process::Signal::from_named_raw(sig).expect("signal"),
        )
        .expect("kill");
    }

    /// Waits for the exit (deadline) and collects everything.
    #[track_caller]
    pub fn finish(self) -> Output {
        self.finish_within(DEADLINE)
    }

    /// [`Proc::finish`] for a process that legitimately runs long (a benchmark).
    #[track_caller]
    pub fn finish_within(mut self, limit: Duration) -> Output {
        let status = self.wait_within(limit);
        if let Some(f) = self.feeder.take() {
            let _ = f.join();
        }
        let stdout = self
            .stdout
            .take()
            .map(|t| t.join().expect("stdout reader"))
            .unwrap_or_default();
        if let Some(t) = self.stderr_thread.take() {
            let _ = t.join();
        }
        let stderr = self.stderr_now();
        Output {
            status,
            stdout,
            stderr,
        }
    }

    /// Waits for the exit, failing the test (and killing the process) at the deadline.
    #[track_caller]
    pub fn wait_deadline(&mut self) -> ExitStatus {
        self.wait_within(DEADLINE)
    }

    #[track_caller]
    fn wait_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "process did not exit in time; stderr:\n{}",
                    self.stderr_now()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Retries a call that a stop and resume of the test process (a frozen cgroup, a debugger)
/// interrupts: a socket call with a timeout is not restarted by the kernel.
pub fn again<T>(mut call: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift), different per seed.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Is an interop peer (socat, nc) or a shell the completions are tried in (zsh, fish)
/// installed? Without it the test is skipped with a visible note, unless
/// IPCTOOL_REQUIRE_INTEROP=1 makes that a failure (CI installs them all).
pub fn have(tool: &str) -> bool {
    let found = installed(tool);
    if !found {
        if std::env::var("IPCTOOL_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("{tool} is not installed and IPCTOOL_REQUIRE_INTEROP=1");
        }
        // Straight to fd 2: libtest captures eprintln! of passing tests, and the skip
        // must be visible in a plain `cargo test`.
        let _ = writeln!(
            std::io::stderr(),
            "note: {tool} is not installed: skipping {}",
            std::thread::current().name().unwrap_or("a test")
        );
    }
    found
}

/// Is `tool` on PATH? (No note: for a test that has a fallback.)
pub fn installed(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs ipctool as uid/gid 65534 where the test may (root, with setpriv); `None`, with a
/// note on stderr, elsewhere.
pub fn as_nobody(env: &Env, args: &[&str], input: &[u8]) -> Option<Output> {
    if !rustix::process::geteuid().is_root() || !have("setpriv") {
        let _ = writeln!(
            std::io::stderr(),
            "note: not root (or no setpriv): skipping the other-uid check in {}",
            std::thread::current().name().unwrap_or("a test")
        );
        return None;
    }
    let mut c = Command::new("setpriv");
    hermetic(&mut c);
    c.current_dir(env.dir.path())
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            bin(),
        ])
        .args(args);
    Some(run_with_input(c, input))
}

/// Waits until a socket path exists (for peers that have no readiness line, like socat).
#[track_caller]
pub fn wait_for_path(path: &Path) {
    let deadline = Instant::now() + DEADLINE;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Open descriptors of a process.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Connects `n` clients to the echo server at `path` at once; each sends `size` random
/// bytes, half-closes, and reads everything back. Returns how many got exactly their own
/// bytes back.
pub fn echo_clients(path: &Path, n: u64, size: usize, seed: u64) -> usize {
    use std::os::unix::net::UnixStream;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n as usize));
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let (path, barrier) = (path.to_owned(), std::sync::Arc::clone(&barrier));
            std::thread::spawn(move || {
                let data = random_bytes(size, seed + i);
                let mut c = UnixStream::connect(&path).expect("connect");
                c.set_read_timeout(Some(DEADLINE)).expect("timeout");
                barrier.wait();
                let mut w = c.try_clone().expect("clone");
                let want = sha256(&data);
                let writer = std::thread::spawn(move || {
                    w.write_all(&data).expect("write");
                    w.shutdown(std::net::Shutdown::Write).expect("shutdown");
                });
                let mut got = Vec::new();
                c.read_to_end(&mut got).expect("read");
                writer.join().expect("writer");
                sha256(&got) == want
            })
        })
        .collect();
    clients
        .into_iter()
        .map(|c| c.join().unwrap_or(false))
        .filter(|ok| *ok)
        .count()
}

/// Everything a terminal received while `sh -c SCRIPT` ran on a new pseudo-terminal `cols`
/// wide, started by `script(1)` in the temp dir with `$IPCTOOL` and `NO_COLOR` set: stdin,
/// stdout and stderr are that terminal unless SCRIPT redirects them. `None`, with a note,
/// without `script`.
#[track_caller]
pub fn on_terminal(env: &Env, cols: u16, script: &str) -> Option<Vec<u8>> {
    if !have("script") {
        return None;
    }
    let log = env.path("typescript");
    let mut c = Command::new("script");
    hermetic(&mut c);
    c.current_dir(env.dir.path())
        .env("IPCTOOL", bin())
        .env("SHELL", "/bin/sh")
        .env("NO_COLOR", "1")
        .args(["-q", "-e", "-c"])
        .arg(format!("stty cols {cols} rows 40; {script}"))
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = Proc::spawn_raw(c).finish();
    out.success();
    let text = std::fs::read(&log).expect("script's log");
    // Without script's own first line (which quotes SCRIPT) and its closing line.
    let start = text.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    let end = find(&text, b"\nScript done").unwrap_or(text.len());
    Some(text[start..end.max(start)].to_vec())
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// True when `bytes` move a terminal's cursor up (`ESC [ n A`), over what is above it.
pub fn moves_cursor_up(bytes: &[u8]) -> bool {
    bytes.windows(2).enumerate().any(|(i, w)| {
        w == b"\x1b[" && {
            let rest = &bytes[i + 2..];
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            rest.get(digits) == Some(&b'A')
        }
    })
}

/// Asserts that every line of `lines` reached the terminal whole, in order.
#[track_caller]
pub fn shows_lines_in_order(screen: &[u8], lines: &[&str]) {
    let mut from = 0;
    for line in lines {
        let want = format!("{line}\r\n");
        match find(&screen[from..], want.as_bytes()) {
            Some(i) => from += i + want.len(),
            None => panic!(
                "the terminal lacks {want:?} after byte {from}:\n{:?}",
                String::from_utf8_lossy(screen)
            ),
        }
    }
}
