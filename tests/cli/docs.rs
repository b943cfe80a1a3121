//! Every command the documentation shows is run here as written: the lines of the README's
//! ```sh blocks and the EXAMPLES of each subcommand's `--help` (which the man pages carry).
//! [`Case::doc`], called with a documented line as a raw string literal (its trailing
//! `# comment` left out), gives it back ready to run, with `/tmp/` and `/var/run/docker.sock` moved into the test's own
//! directory, abstract names made unique and port 9000 replaced by a free port;
//! `ipctool` is the binary under test. [`every_documented_command_is_run`] fails when a
//! documented line has no test here or a test names a line the docs no longer have.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::util::*;

const README: &str = include_str!("../../README.md");
const THIS_FILE: &str = include_str!("docs.rs");

/// Documented lines no test here runs, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo install --locked --path . && ipctool bench",
        "the set-up; `ipctool bench` itself runs below",
    ),
    ("cargo test --locked", "the test suite itself"),
    (
        "IPCTOOL_BLESS=1 cargo test --test cli generated",
        "the generated-files test of this suite",
    ),
];

/// How long a benchmark with its default durations may take on a busy 2-CPU machine.
const BENCH_LIMIT: Duration = Duration::from_secs(180);

/// A line without its trailing `# comment`.
fn key_of(line: &str) -> String {
    let line = line.trim();
    match line.find(" #") {
        Some(i) => line[..i].trim_end().to_owned(),
        None => line.to_owned(),
    }
}

/// The command lines of the README's ```sh blocks.
fn readme_lines() -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    for line in README.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            continue;
        }
        if in_sh && !line.trim().is_empty() {
            lines.push(key_of(line));
        }
    }
    lines
}

/// The command lines of every subcommand's `--help` EXAMPLES (indented four spaces).
fn help_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for sub in ["", "connect", "listen", "relay", "mkfifo", "pipe", "bench"] {
        let mut c = Command::new(bin());
        hermetic(&mut c);
        if !sub.is_empty() {
            c.arg(sub);
        }
        let out = c.arg("--help").output().expect("help");
        let text = String::from_utf8(out.stdout).expect("utf-8 help");
        let mut in_examples = false;
        for line in text.lines() {
            if line == "EXAMPLES:" {
                in_examples = true;
            } else if !line.starts_with(' ') {
                in_examples = false;
            } else if in_examples && line.starts_with("    ") {
                lines.push(key_of(line));
            }
        }
    }
    lines
}

/// The lines this file runs: the raw-string argument of every [`Case::doc`] call in it.
fn lines_run_here() -> BTreeSet<String> {
    THIS_FILE
        .split("doc(")
        .skip(1)
        .filter_map(|rest| rest.trim_start().strip_prefix("r#\""))
        .filter_map(|rest| rest.split_once("\"#").map(|(line, _)| line.to_owned()))
        .collect()
}

#[test]
fn every_documented_command_is_run() {
    let documented: BTreeSet<String> = readme_lines().into_iter().chain(help_lines()).collect();
    let not_run: BTreeSet<String> = NOT_RUN.iter().map(|(l, _)| l.to_string()).collect();
    let run = lines_run_here();
    let missing: Vec<&String> = documented
        .iter()
        .filter(|l| !run.contains(*l) && !not_run.contains(*l))
        .collect();
    assert!(missing.is_empty(), "documented but not run: {missing:#?}");
    let stale: Vec<&String> = run
        .iter()
        .chain(&not_run)
        .filter(|l| !documented.contains(*l))
        .collect();
    assert!(
        stale.is_empty(),
        "run here but no longer documented: {stale:#?}"
    );
}

/// One test's private world for documented commands.
struct Case {
    env: Env,
    tag: String,
    port: u16,
}

impl Case {
    fn new() -> Case {
        static N: AtomicU32 = AtomicU32::new(0);
        let tag = format!(
            "ipct{}-{}-",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Case {
            env: Env::new(),
            tag,
            port,
        }
    }

    fn p(&self, name: &str) -> String {
        self.env.p(name)
    }

    /// A documented line, made to run here.
    fn doc(&self, line: &str) -> String {
        let documented = readme_lines().into_iter().chain(help_lines());
        assert!(
            documented.into_iter().any(|l| l == line),
            "not a documented line: {line}"
        );
        let dir = self.env.dir.path().display().to_string();
        // `/tmp/` first: the test directory itself may be under /tmp.
        let mut s = line
            .replace("/tmp/", &format!("{dir}/"))
            .replace("/var/run/docker.sock", &format!("{dir}/docker.sock"))
            .replace(":9000", &format!(":{}", self.port));
        for name in ["@demo", "@whoami", "@collector"] {
            s = s.replace(name, &format!("@{}{}", self.tag, &name[1..]));
        }
        s
    }

    /// An abstract name as [`Case::doc`] rewrites it.
    fn abstract_name(&self, name: &str) -> String {
        format!("{}{name}", self.tag)
    }

    /// `sh -c SCRIPT` in the test's directory, with ipctool first on PATH and TMPDIR here.
    fn sh(&self, script: &str) -> Command {
        let bin_dir = std::path::Path::new(bin()).parent().expect("bin dir");
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new("sh");
        hermetic(&mut c);
        c.current_dir(self.env.dir.path())
            .env("PATH", path)
            .env("TMPDIR", self.env.dir.path())
            .args(["-c", script]);
        c
    }

    /// Runs a documented line (already rewritten) to its end.
    fn run(&self, script: &str, input: &[u8]) -> Output {
        run_with_input(self.sh(script), input)
    }

    /// Runs a documented benchmark line, which takes its default durations.
    fn run_long(&self, script: &str) -> Output {
        let mut c = self.sh(script);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Proc::spawn_raw(c).finish_within(BENCH_LIMIT)
    }

    /// Starts a documented server line in the foreground of its own `sh` (a trailing `&`
    /// dropped), which `exec`s it, so that signals and exit status are its own.
    fn spawn(&self, script: &str) -> Proc {
        let script = script.trim_end().trim_end_matches('&').trim_end();
        Proc::spawn(self.sh(&format!("exec {script}")))
    }

    /// An ipctool of the test's own (not a documented line).
    fn ipctool(&self, args: &[&str], input: &[u8]) -> Output {
        self.env.run(args, input)
    }
}

/// Waits until `ready` holds, failing the test at the deadline: readiness of a server
/// started without `-v`, seen from outside.
#[track_caller]
fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !ready() {
        assert!(Instant::now() < deadline, "waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ids() -> (u32, u32) {
    (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    )
}

/// A stand-in for the Docker daemon at `docker.sock`: answers an HTTP/1.0 request with
/// a JSON body once the request's blank line has come.
fn fake_docker(case: &Case) -> Proc {
    let answer = r#"while IFS= read -r l; do [ "$l" = "$(printf '\r')" ] && break; done; printf 'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"Version":"27.0"}\n'"#;
    let mut p = case
        .env
        .spawn(["listen", "-k", "-v", "-e", answer, "./docker.sock"]);
    p.close_stdin();
    p.wait_ready();
    p
}

/// A server of the test's own that answers each client in capitals.
fn upper_server(case: &Case, name: &str) -> Proc {
    let mut p = case
        .env
        .spawn(["listen", "-k", "-v", "-e", "tr a-z A-Z", name]);
    p.close_stdin();
    p.wait_ready();
    p
}

#[track_caller]
fn stop(p: Proc) -> Output {
    p.signal(libc::SIGINT);
    let out = p.finish();
    out.assert_code(130);
    out
}

// ---- connect and listen ---------------------------------------------------------------

#[test]
fn connect_waits_for_the_listener_and_every_byte_arrives() {
    let c = Case::new();
    let data = random_bytes(1 << 20, 21);
    std::fs::write(c.env.path("in"), &data).expect("in");
    // The client first: --wait rides out the time before the server exists.
    let client = Proc::spawn(c.sh(&c.doc(r#"ipctool connect --wait 5s /tmp/demo.sock < in"#)));
    let mut server = c.spawn(&c.doc(r#"ipctool listen -v /tmp/demo.sock > out &"#));
    server.close_stdin();
    server.wait_ready();
    client.finish().success();
    server.finish().success();
    let out = std::fs::read(c.env.path("out")).expect("out");
    assert_eq!(sha256(&out), sha256(&data));
}

#[test]
fn help_connect_wait_and_listen_to_a_file() {
    let c = Case::new();
    let data = random_bytes(300_000, 22);
    std::fs::write(c.env.path("file"), &data).expect("file");
    let client = Proc::spawn(c.sh(&c.doc(r#"ipctool connect --wait 5s /tmp/demo.sock < file"#)));
    let mut server = c.spawn(&c.doc(r#"ipctool listen /tmp/demo.sock > out"#));
    server.close_stdin();
    client.finish().success();
    server.finish().success();
    assert_eq!(std::fs::read(c.env.path("out")).expect("out"), data);
}

#[test]
fn a_request_to_a_docker_like_server_prints_the_answer() {
    let c = Case::new();
    let _docker = fake_docker(&c);
    let out = c.run(
        &c.doc(
            r#"printf 'GET /version HTTP/1.0\r\nHost: x\r\n\r\n' | ipctool connect /var/run/docker.sock"#,
        ),
        b"",
    );
    out.success().stdout_is(
        b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"Version\":\"27.0\"}\n",
    );
}

#[test]
fn abstract_listener_with_json_stats() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -v --stats=json @demo"#));
    server.close_stdin();
    server.wait_ready();
    c.run(&c.doc(r#"echo hello | ipctool connect @demo"#), b"")
        .success();
    let out = server.finish();
    out.success().stdout_is(b"hello\n");
    let total = out
        .json_records()
        .into_iter()
        .find(|r| r["kind"] == "total")
        .expect("a total record");
    assert_eq!(total["received_bytes"], 6);
    assert_eq!(total["connections"], 1);
}

#[test]
fn help_connect_with_json_stats() {
    let c = Case::new();
    let mut server = c
        .env
        .spawn(["listen", "-v", &format!("@{}", c.abstract_name("demo"))]);
    server.close_stdin();
    server.wait_ready();
    let out = c.run(
        &c.doc(r#"echo hi | ipctool connect --stats=json @demo"#),
        b"",
    );
    out.success();
    let conn = out
        .json_records()
        .into_iter()
        .find(|r| r["kind"] == "connection")
        .expect("a connection record");
    assert_eq!(conn["sent_bytes"], 3);
    server.finish().success().stdout_is(b"hi\n");
}

#[test]
fn help_allow_uid_refuses_other_users() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -v --allow-uid 1000 --stats=json @demo"#));
    server.close_stdin();
    server.wait_ready();
    let client = c.ipctool(
        &["connect", &format!("@{}", c.abstract_name("demo"))],
        b"let me in\n",
    );
    if ids().0 == 1000 {
        client.success();
        server.finish().success().stdout_is(b"let me in\n");
    } else {
        server.wait_for("not in --allow-uid");
        let out = stop(server);
        assert!(
            out.stdout.is_empty(),
            "a refused client's bytes were printed"
        );
    }
}

#[test]
fn fifo_listener_and_writer() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen fifo:/tmp/demo.fifo &"#));
    server.close_stdin();
    let fifo = c.env.path("demo.fifo");
    until("the FIFO", || fifo.exists());
    c.run(
        &c.doc(r#"echo hi | ipctool connect fifo:/tmp/demo.fifo"#),
        b"",
    )
    .success();
    server.finish().success().stdout_is(b"hi\n");
    let mode = std::fs::metadata(&fifo).map(|m| m.mode() & 0o777);
    assert!(mode.is_err(), "the FIFO ipctool created is removed at exit");
}

#[test]
fn help_fifo_listener_and_writer() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen fifo:/tmp/demo.fifo"#));
    server.close_stdin();
    let fifo = c.env.path("demo.fifo");
    until("the FIFO", || fifo.exists());
    c.run(
        &c.doc(r#"echo hello | ipctool connect fifo:/tmp/demo.fifo"#),
        b"",
    )
    .success();
    server.finish().success().stdout_is(b"hello\n");
}

#[test]
fn tcp_listener_on_port_zero_names_the_port() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -v tcp:127.0.0.1:0"#));
    server.close_stdin();
    let line = server.wait_ready();
    let port: u16 = line
        .split("listening on tcp:127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("the real port in the listening line");
    assert_ne!(port, 0);
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"over tcp\n").expect("write");
    drop(s);
    server.finish().success().stdout_is(b"over tcp\n");
}

#[test]
fn help_tcp_listener_with_a_timeout() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen --timeout 10s tcp:127.0.0.1:9000"#));
    server.close_stdin();
    let mut s = None;
    until("the TCP listener", || {
        s = TcpStream::connect(("127.0.0.1", c.port)).ok();
        s.is_some()
    });
    let mut s = s.expect("connected");
    s.write_all(b"in time\n").expect("write");
    drop(s);
    server.finish().success().stdout_is(b"in time\n");
}

// ---- servers ----------------------------------------------------------------------------

#[test]
fn log_collector_keeps_every_line_whole() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -k -v /tmp/log.sock >> log.txt"#));
    server.close_stdin();
    server.wait_ready();
    let client = c.doc(r#"echo "job 42 done" | ipctool connect /tmp/log.sock"#);
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let mut p = Proc::spawn(c.sh(&client));
            p.close_stdin();
            p
        })
        .collect();
    for p in clients {
        p.finish().success();
    }
    server.wait_for_count("closed connection", 8);
    stop(server);
    let log = std::fs::read_to_string(c.env.path("log.txt")).expect("log.txt");
    assert_eq!(log, "job 42 done\n".repeat(8));
}

#[test]
fn verbose_listener_names_each_client() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -k -v /tmp/who.sock > /dev/null"#));
    server.close_stdin();
    server.wait_ready();
    let mut client = c.env.spawn(["connect", "./who.sock"]);
    let pid = client.pid();
    client.feed(b"hello\n".to_vec());
    client.finish().success();
    server.wait_for("closed connection 1");
    let out = stop(server);
    let (uid, gid) = ids();
    out.stderr_has(&format!(
        "accepted connection 1 (peer pid {pid} uid {uid} gid {gid})"
    ))
    .stderr_has("closed connection 1 (complete): sent 0 B, received 6 B");
}

#[test]
fn echo_server_per_client() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -k -e cat /tmp/echo.sock"#));
    server.close_stdin();
    let data = random_bytes(200_000, 23);
    for _ in 0..2 {
        c.ipctool(&["connect", "--wait", "5s", "./echo.sock"], &data)
            .success()
            .stdout_is(&data);
    }
    stop(server);
}

/// The client's pid and what it printed, for a command server on `@NAME`.
fn ask_whoami(c: &Case) -> (u32, Vec<u8>) {
    let name = format!("@{}", c.abstract_name("whoami"));
    let mut client = c.env.spawn(["connect", "--wait", "5s", &name]);
    let pid = client.pid();
    client.close_stdin();
    let out = client.finish();
    out.success();
    (pid, out.stdout)
}

#[test]
fn command_server_sees_the_peer_credentials() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(
        r#"ipctool listen -k -e 'echo "hello uid $IPCTOOL_PEER_UID (pid $IPCTOOL_PEER_PID)"' @whoami"#,
    ));
    server.close_stdin();
    let (pid, said) = ask_whoami(&c);
    assert_eq!(
        String::from_utf8_lossy(&said),
        format!("hello uid {} (pid {pid})\n", ids().0)
    );
    stop(server);
}

#[test]
fn help_command_server_sees_the_peer_credentials() {
    let c = Case::new();
    let mut server =
        c.spawn(&c.doc(
            r#"ipctool listen -k -e 'echo pid=$IPCTOOL_PEER_PID uid=$IPCTOOL_PEER_UID' @whoami"#,
        ));
    server.close_stdin();
    let (pid, said) = ask_whoami(&c);
    assert_eq!(
        String::from_utf8_lossy(&said),
        format!("pid={pid} uid={}\n", ids().0)
    );
    stop(server);
}

// ---- relay ------------------------------------------------------------------------------

#[test]
fn relay_shows_what_a_program_says_to_its_server() {
    let c = Case::new();
    let _docker = fake_docker(&c);
    let mut relay = c.spawn(&c.doc(r#"ipctool relay -x /tmp/spy.sock /var/run/docker.sock"#));
    relay.close_stdin();
    let request = "GET /version HTTP/1.0\r\nHost: x\r\n\r\n";
    let out = c.ipctool(
        &["connect", "--wait", "5s", "./spy.sock"],
        request.as_bytes(),
    );
    out.success();
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("{\"Version\":\"27.0\"}\n"),
        "the answer through the relay"
    );
    let out = stop(relay);
    let docker = format!("unix:{}", c.p("docker.sock"));
    out.stderr_has(&format!("#1 → client → {docker}"))
        .stderr_has(&format!("#1 ← {docker} → client"))
        .stderr_has("47 45 54 20 2f 76 65 72"); // "GET /ver"
}

/// The inode at `path`, if any.
fn inode(path: &std::path::Path) -> Option<u64> {
    std::fs::symlink_metadata(path).ok().map(|m| m.ino())
}

/// Puts a documented `relay --intercept` in front of a running server and checks that
/// clients go through it and that the server's socket is back in place at exit.
fn intercept(c: &Case, line: &str) -> Output {
    let _server = upper_server(c, "./app.sock");
    let app = c.env.path("app.sock");
    let original = inode(&app);
    let mut relay = c.spawn(line);
    relay.close_stdin();
    until("the swap of app.sock", || {
        inode(&app).is_some_and(|i| Some(i) != original)
    });
    c.ipctool(&["connect", "./app.sock"], b"through the relay\n")
        .success()
        .stdout_is(b"THROUGH THE RELAY\n");
    let out = stop(relay);
    assert_eq!(inode(&app), original, "the server's socket is back");
    c.ipctool(&["connect", "./app.sock"], b"direct\n")
        .success()
        .stdout_is(b"DIRECT\n");
    out
}

#[test]
fn intercept_swaps_in_and_back_with_a_hex_dump() {
    let c = Case::new();
    let out = intercept(&c, &c.doc(r#"ipctool relay --intercept /tmp/app.sock -x"#));
    // "through" in hex, both ways (the answer in capitals).
    out.stderr_has("74 68 72 6f 75 67 68")
        .stderr_has("54 48 52 4f 55 47 48");
}

#[test]
fn help_intercept_dumps_to_a_private_file() {
    let c = Case::new();
    let out = intercept(
        &c,
        &c.doc(r#"ipctool relay --intercept /tmp/app.sock --dump /tmp/app.hex"#),
    );
    out.stderr_lacks("74 68 72 6f 75 67 68");
    let dump = std::fs::read_to_string(c.env.path("app.hex")).expect("the dump");
    assert!(dump.contains("74 68 72 6f 75 67 68"), "{dump}");
    let mode = std::fs::metadata(c.env.path("app.hex"))
        .expect("dump")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn relay_from_tcp_to_a_local_socket() {
    let c = Case::new();
    let _server = upper_server(&c, "./app.sock");
    let mut relay = c.spawn(&c.doc(r#"ipctool relay -v tcp:127.0.0.1:9000 /tmp/app.sock"#));
    relay.close_stdin();
    relay.wait_ready();
    let mut s = TcpStream::connect(("127.0.0.1", c.port)).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s.write_all(b"over tcp\n").expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    assert_eq!(answer, "OVER TCP\n");
    stop(relay);
}

#[test]
fn help_relay_to_a_command_with_stats() {
    let c = Case::new();
    let mut relay = c.spawn(&c.doc(r#"ipctool relay --stats /tmp/upper.sock exec:'tr a-z A-Z'"#));
    relay.close_stdin();
    c.ipctool(&["connect", "--wait", "5s", "./upper.sock"], b"shout\n")
        .success()
        .stdout_is(b"SHOUT\n");
    relay.wait_for("connection 1");
    let out = stop(relay);
    out.stderr_has("total");
}

#[test]
fn datagrams_collected_from_ipctool_and_logger_then_relayed() {
    let c = Case::new();
    let mut collector =
        c.spawn(&c.doc(r#"ipctool listen -v unix-dgram:/tmp/log.sock >> log.txt &"#));
    collector.close_stdin();
    collector.wait_ready();
    c.run(
        &c.doc(r#"printf 'disk full\nretrying\n' | ipctool connect unix-dgram:/tmp/log.sock"#),
        b"",
    )
    .success();
    let mut lines = 2;
    if have("logger") {
        c.run(
            &c.doc(r#"logger -u /tmp/log.sock 'hello from logger'"#),
            b"",
        )
        .success();
        lines += 1;
    }
    // And through a relay from another datagram socket.
    let mut relay =
        c.spawn(&c.doc(r#"ipctool relay -x unix-dgram:/tmp/in.sock unix-dgram:/tmp/log.sock"#));
    relay.close_stdin();
    c.ipctool(
        &["connect", "--wait", "5s", "unix-dgram:in.sock"],
        b"relayed\n",
    )
    .success();
    lines += 1;
    let log = c.env.path("log.txt");
    until("every datagram in log.txt", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.lines().count() >= lines)
    });
    let relay_out = stop(relay);
    relay_out.stderr_has("72 65 6c 61 79 65 64"); // "relayed"
    let out = stop(collector);
    out.stderr_has("datagram from");
    let text = std::fs::read_to_string(&log).expect("log.txt");
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got[..2], ["disk full", "retrying"], "{text}");
    if lines == 4 {
        assert!(got[2].ends_with("hello from logger"), "{text}");
    }
    assert_eq!(got.last(), Some(&"relayed"), "{text}");
}

#[test]
fn help_datagram_collector_in_the_foreground() {
    let c = Case::new();
    let mut collector = c.spawn(&c.doc(r#"ipctool listen -v unix-dgram:/tmp/log.sock >> log.txt"#));
    collector.close_stdin();
    collector.wait_ready();
    let sender = UnixDatagram::unbound().expect("socket");
    sender
        .send_to(b"one datagram", c.env.path("log.sock"))
        .expect("send");
    // The `-v` line comes as the datagram is received, before it is written out.
    let log = c.env.path("log.txt");
    until("the datagram in log.txt", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.ends_with('\n'))
    });
    let out = stop(collector);
    out.stderr_has("datagram from");
    let log = std::fs::read_to_string(c.env.path("log.txt")).expect("log.txt");
    assert_eq!(log, "one datagram\n", "{}", out.stderr);
}

#[test]
fn help_datagram_question_and_answer() {
    let c = Case::new();
    let (server, mut answers, questions) =
        Proc::spawn_streaming(c.env.cmd(["listen", "-v", "unix-dgram:svc.sock"]));
    server.wait_ready();
    let mut client = Proc::spawn(
        c.sh(&c.doc(r#"echo status | ipctool connect --idle-timeout 1s unix-dgram:/tmp/svc.sock"#)),
    );
    client.close_stdin();
    // Kept open to the end: a listener whose stdout is closed has nowhere to deliver.
    let mut questions = BufReader::new(questions);
    let mut question = String::new();
    questions.read_line(&mut question).expect("the question");
    assert_eq!(question, "status\n");
    answers.write_all(b"all good\n").expect("answer");
    client.finish().success().stdout_is(b"all good\n");
    stop(server);
}

#[test]
fn help_collector_that_stops_after_three_datagrams() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen --count 3 unix-dgram:@collector"#));
    server.close_stdin();
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(c.abstract_name("collector"))
        .expect("name");
    let sender = UnixDatagram::unbound().expect("socket");
    until("the collector", || sender.send_to_addr(b"1", &addr).is_ok());
    sender.send_to_addr(b"2", &addr).expect("send");
    sender.send_to_addr(b"3", &addr).expect("send");
    server.finish().success().stdout_is(b"1\n2\n3\n");
}

/// Waits until a seqpacket listener takes connections at `path`.
fn seqpacket_ready(path: &std::path::Path) {
    let addr = rustix::net::SocketAddrUnix::new(path).expect("addr");
    until("the seqpacket listener", || {
        rustix::net::socket_with(
            rustix::net::AddressFamily::UNIX,
            rustix::net::SocketType::SEQPACKET,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .is_ok_and(|fd| rustix::net::connect(&fd, &addr).is_ok())
    });
}

#[test]
fn seqpacket_echo_keeps_each_message() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -k -e cat seqpacket:/tmp/echo.seq &"#));
    server.close_stdin();
    seqpacket_ready(&c.env.path("echo.seq"));
    c.run(
        &c.doc(r#"printf 'one\ntwo\n' | ipctool connect seqpacket:/tmp/echo.seq"#),
        b"",
    )
    .success()
    .stdout_is(b"one\ntwo\n");
    stop(server);
}

#[test]
fn help_seqpacket_echo() {
    let c = Case::new();
    let mut server = c.spawn(&c.doc(r#"ipctool listen -k -e cat seqpacket:/tmp/echo.seq"#));
    server.close_stdin();
    seqpacket_ready(&c.env.path("echo.seq"));
    c.ipctool(&["connect", "seqpacket:echo.seq"], b"ping\n")
        .success()
        .stdout_is(b"ping\n");
    stop(server);
}

#[test]
fn help_raw_messages_from_a_file() {
    let c = Case::new();
    let request = b"a request\nof two lines, one message";
    std::fs::write(c.env.path("request.bin"), request).expect("request.bin");
    let name = format!("seqpacket:@{}", c.abstract_name("demo"));
    let mut server = c.env.spawn(["listen", "-v", "--raw-messages", &name]);
    server.close_stdin();
    server.wait_ready();
    c.run(
        &c.doc(r#"ipctool connect --raw-messages seqpacket:@demo < request.bin"#),
        b"",
    )
    .success();
    server.finish().success().stdout_is(request);
}

// ---- pipe -------------------------------------------------------------------------------

#[test]
fn pipe_meters_with_a_known_size() {
    let c = Case::new();
    c.run(
        &c.doc(r#"head -c 1G /dev/zero | ipctool pipe --size 1G > /dev/null"#),
        b"",
    )
    .success()
    .stderr_is_empty();
}

#[test]
fn pipe_rate_limit_passes_every_byte() {
    let c = Case::new();
    c.run(
        &c.doc(r#"head -c 100M /dev/urandom | ipctool pipe --rate-limit 20M | wc -c"#),
        b"",
    )
    .success()
    .stdout_is(b"104857600\n");
}

#[test]
fn help_pipe_short_rate_limit() {
    let c = Case::new();
    c.run(
        &c.doc(r#"head -c 100M /dev/urandom | ipctool pipe -L 20M > /dev/null"#),
        b"",
    )
    .success();
}

#[test]
fn help_pipe_meter_under_head() {
    let c = Case::new();
    c.run(
        &c.doc(r#"ipctool pipe < /dev/zero | head -c 1G > /dev/null"#),
        b"",
    )
    .success()
    .stderr_is_empty();
}

#[test]
fn pipeline_with_stats_names_a_bottleneck() {
    let c = Case::new();
    let out = c.run_long(&c.doc(
        r#"ipctool pipe --stats -- 'head -c 100000000 /dev/urandom' 'gzip -1' 'gunzip' 'wc -c'"#,
    ));
    out.success()
        .stdout_is(b"100000000\n")
        .stderr_has("hop 1 (head -c 100000000 /dev/urandom → gzip -1): 95.4 MiB")
        .stderr_has("hop 4 (wc -c → stdout): 10 B")
        .stderr_has("total: 4 stages")
        .stderr_has("; bottleneck: ");
}

#[test]
fn help_pipeline_with_json_stats() {
    let c = Case::new();
    let out = c.run(
        &c.doc(r#"ipctool pipe --stats=json -- 'seq 1000000' 'sort -r' 'wc -l'"#),
        b"",
    );
    out.success().stdout_is(b"1000000\n");
    let records = out.json_records();
    let hops = records.iter().filter(|r| r["kind"] == "hop").count();
    assert_eq!(hops, 4, "stdin, two inner hops, stdout");
    let total = records.last().expect("records");
    assert_eq!(
        (total["kind"].as_str(), total["stages"].as_u64()),
        (Some("total"), Some(3))
    );
    assert_eq!(total["received_bytes"], 8);
}

// ---- mkfifo -----------------------------------------------------------------------------

fn fifo_mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::symlink_metadata(path).expect("the FIFO");
    assert!(meta.file_type().is_fifo(), "{} is a FIFO", path.display());
    meta.mode() & 0o7777
}

#[test]
fn mkfifo_private_and_shared() {
    let c = Case::new();
    c.run(&c.doc(r#"ipctool mkfifo /tmp/demo.fifo"#), b"")
        .success();
    assert_eq!(fifo_mode(&c.env.path("demo.fifo")), 0o600);
    c.run(&c.doc(r#"ipctool mkfifo /tmp/demo.fifo"#), b"")
        .assert_code(1)
        .stderr_has("exists");
    c.run(
        &c.doc(r#"ipctool mkfifo -p -m 0660 /tmp/ipctool-demo/in.fifo"#),
        b"",
    )
    .success();
    assert_eq!(fifo_mode(&c.env.path("ipctool-demo/in.fifo")), 0o660);
}

#[test]
fn mkfifo_temp_and_its_removal() {
    let c = Case::new();
    let script = [
        c.doc(r#"f=$(ipctool mkfifo --temp) && echo "$f""#),
        c.doc(r#"rm -r "${f%/*}""#),
        // Only to check: the FIFO was where it said, and is gone with its directory.
        r#"[ ! -e "$f" ] && echo gone"#.to_owned(),
    ]
    .join("\n");
    let out = c.run(&script, b"");
    out.success();
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = text.lines();
    let path = lines.next().expect("the FIFO's path");
    assert!(
        path.starts_with(&c.p("")),
        "{path} is under TMPDIR ({})",
        c.p("")
    );
    assert_eq!(lines.next(), Some("gone"));
}

#[test]
fn help_mkfifo_temp_listed_and_removed() {
    let c = Case::new();
    let out = c.run(
        &c.doc(r#"f=$(ipctool mkfifo --temp) && ls -l "$f" && rm -r "${f%/*}""#),
        b"",
    );
    out.success();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("prw------- "),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let left: Vec<_> = std::fs::read_dir(c.env.dir.path())
        .expect("dir")
        .flatten()
        .collect();
    assert!(
        left.is_empty(),
        "the temporary directory is removed: {left:?}"
    );
}

// ---- bench ------------------------------------------------------------------------------

#[test]
fn bench_on_its_defaults() {
    let c = Case::new();
    let out = c.run_long(&c.doc(r#"ipctool bench"#));
    out.success();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Throughput (one-way stream)"), "{table}");
    assert!(table.contains("Round-trip latency (ping-pong)"), "{table}");
    for t in ["unix", "abstract", "fifo", "pipe", "tcp"] {
        assert_eq!(
            rows_of(&table, t),
            2,
            "{t}: one throughput and one latency row\n{table}"
        );
    }
}

/// How many rows of a bench table measure transport `t` (a size after the name).
fn rows_of(table: &str, t: &str) -> usize {
    table
        .lines()
        .filter(|l| {
            let mut f = l.split_whitespace();
            f.next() == Some(t) && f.next().is_some_and(|n| n.parse::<u64>().is_ok())
        })
        .count()
}

/// Latency rows (transport, size) of a table.
fn latency_rows(table: &str) -> Vec<(String, String)> {
    table
        .split("Round-trip latency")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 3 && f[3].parse::<f64>().is_ok())
                .then(|| (f[0].into(), format!("{} {}", f[1], f[2])))
        })
        .collect()
}

#[test]
fn bench_latency_on_one_cpu() {
    let c = Case::new();
    let out = c.run_long(&c.doc(r#"ipctool bench --mode latency --size 64,4KiB --pin same"#));
    out.success();
    let rows = latency_rows(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(rows.len(), 10, "5 transports x 2 sizes: {rows:?}");
    assert!(rows.iter().any(|r| r.1 == "4 KiB"), "{rows:?}");
}

#[test]
fn help_bench_latency_three_sizes() {
    let c = Case::new();
    let out = c.run_long(&c.doc(r#"ipctool bench --mode latency --size 64,4KiB,64KiB --pin same"#));
    out.success();
    let rows = latency_rows(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(rows.len(), 15, "5 transports x 3 sizes: {rows:?}");
}

#[test]
fn help_bench_json_with_four_pairs() {
    let c = Case::new();
    let out = c.run_long(&c.doc(r#"ipctool bench --transport unix,tcp --clients 4 --json"#));
    out.success();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    for r in results {
        assert_eq!(r["clients"], 4);
        assert_eq!(r["pairs"].as_array().map(Vec::len), Some(4));
    }
}

#[test]
fn help_bench_message_sockets() {
    let c = Case::new();
    let out =
        c.run_long(&c.doc(r#"ipctool bench --transport unix-dgram,seqpacket,unix --size 64,1KiB"#));
    out.success();
    let table = String::from_utf8_lossy(&out.stdout);
    for t in ["unix-dgram", "seqpacket", "unix"] {
        assert_eq!(rows_of(&table, t), 4, "{t}: 2 sizes x 2 modes\n{table}");
    }
}

#[test]
fn help_bench_markdown_to_a_file() {
    let c = Case::new();
    c.run_long(&c.doc(r#"ipctool bench --markdown > bench.md"#))
        .success();
    let md = std::fs::read_to_string(c.env.path("bench.md")).expect("bench.md");
    assert!(md.contains("| unix |") || md.contains("| unix "), "{md}");
}

/// The README's and the help's echo server for `bench --connect`: socat where installed,
/// else the tour's own `listen -k -e cat` (not a skip: the line under test is ipctool's).
fn echo_server(c: &Case) -> Proc {
    let mut p = if installed("socat") {
        c.spawn(&c.doc(r#"socat UNIX-LISTEN:/tmp/echo.sock,fork EXEC:cat &"#))
    } else {
        c.env.spawn(["listen", "-k", "-e", "cat", "./echo.sock"])
    };
    p.close_stdin();
    let path = c.env.path("echo.sock");
    until("the echo server", || {
        std::os::unix::net::UnixStream::connect(&path).is_ok()
    });
    p
}

#[test]
fn bench_your_own_echo_server() {
    let c = Case::new();
    let _echo = echo_server(&c);
    let out =
        c.run_long(&c.doc(r#"ipctool bench --connect /tmp/echo.sock --clients 4 --mode latency"#));
    out.success();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&c.p("echo.sock")), "{table}");
}

#[test]
fn help_bench_your_own_echo_server_both_modes() {
    let c = Case::new();
    let _echo = echo_server(&c);
    let out = c.run_long(&c.doc(r#"ipctool bench --connect /tmp/echo.sock --clients 8"#));
    out.success();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Throughput") && table.contains("Round-trip"),
        "{table}"
    );
}

#[test]
fn bench_a_command_that_echoes() {
    let c = Case::new();
    let out = c.run_long(&c.doc(r#"ipctool bench --connect exec:cat"#));
    out.success();
    assert!(String::from_utf8_lossy(&out.stdout).contains("exec:cat"));
}
