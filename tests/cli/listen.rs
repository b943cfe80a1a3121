//! Single-client `listen`: timeouts, signals, socket-file safety, and a reader that leaves.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::time::{Duration, Instant};

use crate::util::*;

#[test]
fn timeout_without_a_client_is_124_and_the_socket_is_removed() {
    let env = Env::new();
    let t0 = Instant::now();
    env.run(["listen", "--timeout", "300ms", "./s"], b"")
        .assert_code(124)
        .one_error(&["unix:./s", "300ms"]);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert!(!env.path("s").exists());
}

#[test]
fn stop_signals_exit_128_plus_signal_and_remove_the_socket() {
    for (sig, code) in [
        (libc::SIGINT, 130),
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
    ] {
        let env = Env::new();
        let server = env.spawn(["listen", "-v", "./s"]);
        server.wait_ready();
        assert!(env.path("s").exists());
        server.signal(sig);
        let out = server.finish();
        out.assert_code(code);
        assert!(
            out.error_lines().is_empty(),
            "no error line: {}",
            out.stderr
        );
        assert!(!env.path("s").exists(), "socket removed after signal {sig}");
    }
}

#[test]
fn a_signal_during_a_session_also_cleans_up() {
    let env = Env::new();
    let server = env.spawn(["listen", "-v", "./s"]);
    server.wait_ready();
    let mut client = env.spawn(["connect", "./s"]);
    server.wait_for("accepted");
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143);
    assert!(!env.path("s").exists());
    // The client sees the connection closed completely: it ends although its stdin stays
    // open, and it lost nothing it had to send.
    let status = client.wait_deadline();
    assert_eq!(status.code(), Some(0));
    client.close_stdin();
    client.finish().success().stdout_is(b"");
}

#[test]
fn socket_file_is_0600_and_removed_at_exit() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.close_stdin();
    server.wait_ready();
    let meta = std::fs::symlink_metadata(env.path("s")).expect("lstat");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    env.run(["connect", "./s"], b"x").success();
    server.finish().success().stdout_is(b"x");
    assert!(!env.path("s").exists());
}

#[test]
fn an_existing_regular_file_is_refused_and_untouched() {
    let env = Env::new();
    std::fs::write(env.path("f"), b"precious").expect("write");
    env.run(["listen", "./f"], b"")
        .assert_code(1)
        .one_error(&["unix:./f", "regular file"])
        .stderr_has("hint:");
    assert_eq!(std::fs::read(env.path("f")).expect("read"), b"precious");
}

#[test]
fn a_second_client_is_refused_while_the_first_is_served() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.wait_ready();
    let mut first = env.spawn(["connect", "./s"]);
    server.wait_for("accepted connection 1");
    env.run(["connect", "./s"], b"second")
        .assert_code(1)
        .one_error(&["unix:./s"]);
    first.feed(b"first".to_vec());
    server.close_stdin();
    first.finish().success();
    server.finish().success().stdout_is(b"first");
}

#[test]
fn a_reader_that_leaves_stdout_ends_quietly_with_0() {
    let env = Env::new();
    let script = r#"
        set -o pipefail
        yes | "$IPCTOOL" listen -v ./s 2>listen.err >/dev/null &
        wait_ready listen.err
        "$IPCTOOL" connect ./s </dev/null | head -c 10 >/dev/null
        echo "connect=$?"
    "#;
    let out = run_with_input(env.bash(script), b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "connect=0",
        "{}",
        out.stderr
    );
    assert!(out.error_lines().is_empty(), "quiet: {}", out.stderr);
}

#[test]
fn listen_on_tcp_port_0_announces_the_real_port() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "tcp:127.0.0.1:0"]);
    server.close_stdin();
    let ready = server.wait_ready();
    let addr = crate::transfer::listening_address(&ready);
    assert!(
        addr.starts_with("tcp:127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    env.run(["connect", &addr], b"tcp data").success();
    server.finish().success().stdout_is(b"tcp data");
}
