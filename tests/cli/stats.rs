//! `--stats`: exact byte counts in the SPEC §3 records, SIGUSR1 reports, `--send-only`,
//! `--recv-only`, `--idle-timeout`, `--progress`, colour.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::util::*;

/// The connection record, with every field ipctool may emit: an unknown key fails.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Connection {
    kind: String,
    connection: u64,
    address: String,
    peer: Option<String>,
    peer_pid: Option<u32>,
    peer_uid: Option<u32>,
    peer_gid: Option<u32>,
    sent_bytes: u64,
    received_bytes: u64,
    duration_secs: f64,
    sent_bytes_per_sec: f64,
    received_bytes_per_sec: f64,
    status: String,
    error: Option<String>,
    exit_code: Option<i32>,
    exit_signal: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Total {
    kind: String,
    connections: u64,
    sent_bytes: u64,
    received_bytes: u64,
    duration_secs: f64,
    sent_bytes_per_sec: f64,
    received_bytes_per_sec: f64,
}

fn records(out: &Output) -> (Vec<Connection>, Vec<Total>) {
    let mut conns = Vec::new();
    let mut totals = Vec::new();
    for v in out.json_records() {
        match v["kind"].as_str() {
            Some("connection") => conns.push(serde_json::from_value(v).expect("connection record")),
            Some("total") => totals.push(serde_json::from_value(v).expect("total record")),
            other => panic!("unexpected kind {other:?}"),
        }
    }
    (conns, totals)
}

#[test]
fn json_byte_counts_equal_what_moved() {
    let env = Env::new();
    let up = random_bytes(5_000_003, 21);
    let down = random_bytes(777_777, 22);
    let (server, client) = crate::transfer::exchange(&env, "./s", &["--stats=json"], up, down);
    server.success();
    client.success();
    let (sc, st) = records(&server);
    assert_eq!((sc.len(), st.len()), (1, 1), "{}", server.stderr);
    assert_eq!(sc[0].received_bytes, 5_000_003);
    assert_eq!(sc[0].sent_bytes, 777_777);
    assert_eq!(sc[0].status, "complete");
    assert_eq!(sc[0].connection, 1);
    assert_eq!(sc[0].address, "unix:./s");
    assert!(sc[0].peer_pid.is_some() && sc[0].peer_uid.is_some() && sc[0].peer_gid.is_some());
    assert_eq!(
        (st[0].connections, st[0].sent_bytes, st[0].received_bytes),
        (1, 777_777, 5_000_003)
    );
    let (cc, ct) = records(&client);
    assert_eq!(
        (cc[0].sent_bytes, cc[0].received_bytes),
        (5_000_003, 777_777)
    );
    assert_eq!(ct[0].received_bytes, 777_777);
    assert!(cc[0].duration_secs > 0.0 && ct[0].duration_secs >= cc[0].duration_secs);
}

#[test]
fn human_stats_name_the_address_and_the_counts() {
    let env = Env::new();
    env.run(["connect", "--stats", "exec:cat"], b"12345")
        .success()
        .stdout_is(b"12345")
        .stderr_has("connection 1 (exec:cat")
        .stderr_has("sent 5 B")
        .stderr_has("received 5 B")
        .stderr_has("total: 1 connection");
}

#[test]
fn sigusr1_prints_the_counters_without_stopping() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "--stats=json", "./s"]);
    server.wait_ready();
    let mut client = env.spawn(["connect", "./s"]);
    client.stdin().write_all(b"0123456789").expect("stdin");
    server.wait_for("accepted");
    // Wait until the 10 bytes are through, by polling SIGUSR1 reports.
    let deadline = Instant::now() + DEADLINE;
    loop {
        server.signal(libc::SIGUSR1);
        std::thread::sleep(Duration::from_millis(50));
        if server.stderr_now().contains("\"received_bytes\":10") {
            break;
        }
        assert!(Instant::now() < deadline, "{}", server.stderr_now());
    }
    assert!(server.stderr_now().contains("\"status\":\"open\""));
    client.close_stdin();
    server.close_stdin();
    client.finish().success();
    let out = server.finish();
    out.success().stdout_is(b"0123456789");
    let (conns, _) = records(&out);
    assert_eq!(conns.last().expect("final record").status, "complete");
}

#[test]
fn sigusr1_prints_human_counters_without_stats() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.wait_ready();
    // Waiting for a client.
    server.signal(libc::SIGUSR1);
    server.wait_for("ipctool: total: 0 connections, sent 0 B");
    let mut client = env.spawn(["connect", "./s"]);
    client.stdin().write_all(b"0123456789").expect("stdin");
    server.wait_for("accepted");
    // The counters move as the bytes do: ask until the report has all 10.
    let deadline = Instant::now() + DEADLINE;
    let mut asked = 0;
    while !server.stderr_now().contains("received 10 B") {
        assert!(Instant::now() < deadline, "{}", server.stderr_now());
        server.signal(libc::SIGUSR1);
        asked += 1;
        server.wait_for_count("ipctool: total: 1 connection", asked);
    }
    server.wait_for("[open]");
    // The client has sent them all once the server has received them.
    client.signal(libc::SIGUSR1);
    client.wait_for("ipctool: total: 1 connection, sent 10 B");
    let text = client.wait_for("[open]");
    assert!(text.contains("ipctool: connection 1 (unix:"), "{text}");
    client.close_stdin();
    server.close_stdin();
    client.finish().success();
    server.finish().success().stdout_is(b"0123456789");

    // A relay, and a server of many clients, waiting for clients.
    for args in [
        &["relay", "-v", "./r", "exec:cat"][..],
        &["listen", "-v", "-k", "./k"],
    ] {
        let server = env.spawn(args);
        server.wait_ready();
        server.signal(libc::SIGUSR1);
        server.wait_for("ipctool: total: 0 connections");
        server.signal(libc::SIGTERM);
        server.finish().assert_code(143);
    }
}

#[test]
fn recv_only_sends_nothing_and_send_only_receives_nothing() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.feed(b"from server".to_vec());
    server.wait_ready();
    env.run(["connect", "--recv-only", "./s"], b"must not be sent")
        .success()
        .stdout_is(b"from server");
    server.finish().success().stdout_is(b"");

    let mut server = env.spawn(["listen", "-v", "./t"]);
    server.feed(b"must not be printed".to_vec());
    server.wait_ready();
    env.run(["connect", "--send-only", "./t"], b"from client")
        .success()
        .stdout_is(b"");
    let out = server.finish();
    assert_eq!(out.stdout, b"from client");
}

#[test]
fn idle_timeout_closes_a_silent_connection() {
    let env = Env::new();
    let listener = std::os::unix::net::UnixListener::bind(env.path("s")).expect("bind");
    let hold = std::thread::spawn(move || {
        // Accept and keep the connection open and silent.
        let c = listener.accept().expect("accept");
        std::thread::sleep(Duration::from_secs(10));
        drop(c);
    });
    let t0 = Instant::now();
    let mut client = env.spawn(["connect", "-v", "--idle-timeout", "300ms", "./s"]);
    let status = client.wait_deadline();
    assert_eq!(status.code(), Some(0));
    assert!(t0.elapsed() >= Duration::from_millis(300) && t0.elapsed() < Duration::from_secs(8));
    client.close_stdin();
    client.finish().stderr_has("idle for 300ms");
    drop(hold);
}

/// Regression: with stdout a regular file the copy from the client splices through a
/// private pipe, and asking that pipe whether it held bytes (FIONREAD) waited for the
/// pipe's lock, held by the splice blocked on the silent client: the idle timeout only
/// fired when the client finally sent or closed.
#[test]
fn idle_timeout_closes_a_silent_client_when_stdout_is_a_file() {
    let env = Env::new();
    let server = Proc::spawn(
        env.sh(r#"exec "$IPCTOOL" listen -v --idle-timeout 300ms ./s </dev/null >out.txt"#),
    );
    server.wait_ready();
    let client = std::os::unix::net::UnixStream::connect(env.path("s")).expect("connect");
    let t0 = Instant::now();
    let out = server.finish();
    out.success().stderr_has("idle for 300ms");
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
    drop(client);
}

#[test]
fn progress_can_be_forced_onto_a_pipe() {
    let env = Env::new();
    let data = random_bytes(1 << 20, 31);
    let out = env.run(["connect", "--progress", "exec:sleep 0.5; cat"], &data);
    out.success();
    assert!(
        out.stderr.contains("sent") && out.stderr.contains("received"),
        "{}",
        out.stderr
    );
}

#[test]
fn progress_never_erases_what_connect_writes_to_the_same_terminal() {
    let env = Env::new();
    // 40 columns: the live line is longer, and a wrapped line was redrawn from the row
    // above, erasing what the command had written there.
    let script = "\"$IPCTOOL\" connect --progress \"exec:printf 'alpha\\nbravo\\n'; \
                  sleep 0.5; printf 'charlie\\n'; sleep 0.5\" </dev/null";
    let Some(screen) = on_terminal(&env, 40, script) else {
        return;
    };
    let text = String::from_utf8_lossy(&screen);
    shows_lines_in_order(&screen, &["alpha", "bravo", "charlie"]);
    assert!(!moves_cursor_up(&screen), "{text:?}");
    assert!(
        text.contains("⠁ exec:printf"),
        "the live line was drawn: {text:?}"
    );
}

#[test]
fn color_always_colours_the_error_and_never_does_not() {
    let env = Env::new();
    env.run(["connect", "--color", "always", "./none"], b"")
        .assert_code(1)
        .stderr_has("\x1b[");
    env.run(["connect", "--color", "never", "./none"], b"")
        .assert_code(1)
        .stderr_lacks("\x1b[");
    let mut c = env.cmd(["connect", "./none"]);
    c.env("IPCTOOL_TEST_TTY", "1").env("NO_COLOR", "1");
    run_with_input(c, b"").assert_code(1).stderr_lacks("\x1b[");
    let mut c = env.cmd(["connect", "./none"]);
    c.env("IPCTOOL_TEST_TTY", "1");
    run_with_input(c, b"").assert_code(1).stderr_has("\x1b[");
}

#[test]
fn quiet_keeps_errors_and_requested_reports() {
    let env = Env::new();
    env.run(["connect", "-q", "--stats", "exec:cat"], b"ab")
        .success()
        .stderr_has("total: 1 connection");
    env.run(["connect", "-q", "./none"], b"")
        .assert_code(1)
        .one_error(&["unix:./none"]);
}

#[test]
fn connect_prints_the_total_when_no_connection_was_made() {
    // SPEC §3: one `total` record at exit, even when the connection failed, as `listen`
    // and `relay` do when no client came.
    let env = Env::new();
    for (args, code) in [
        (&["connect", "--stats=json", "./nothere.sock"][..], 1),
        (
            &[
                "connect",
                "--stats=json",
                "--wait",
                "200ms",
                "./nothere.sock",
            ][..],
            124,
        ),
    ] {
        let out = env.run(args, b"");
        out.assert_code(code).one_error(&["unix:./nothere.sock"]);
        let (conns, totals) = records(&out);
        assert!(conns.is_empty(), "{args:?}: {}", out.stderr);
        assert_eq!(totals.len(), 1, "{args:?}: {}", out.stderr);
        let t = &totals[0];
        assert_eq!(
            (
                t.kind.as_str(),
                t.connections,
                t.sent_bytes,
                t.received_bytes
            ),
            ("total", 0, 0, 0),
            "{args:?}"
        );
    }
    env.run(["connect", "--stats", "./nothere.sock"], b"")
        .assert_code(1)
        .stderr_has("total: 0 connections");
}
