//! `connect` failures and `--wait`: one error line naming the path, the right exit code,
//! a hint where a fix is likely.

use std::time::{Duration, Instant};

use crate::util::*;

#[test]
fn missing_path_is_exit_1_with_a_wait_hint() {
    let env = Env::new();
    env.run(["connect", "./nothing"], b"")
        .assert_code(1)
        .one_error(&["unix:./nothing", "no such file"])
        .stderr_has("hint:")
        .stderr_has("--wait");
}

#[test]
fn regular_file_and_directory_are_refused_by_name() {
    let env = Env::new();
    std::fs::write(env.path("file"), b"keep me").expect("write");
    std::fs::create_dir(env.path("dir")).expect("mkdir");
    env.run(["connect", "./file"], b"data")
        .assert_code(1)
        .one_error(&["unix:./file", "a regular file, not a socket"]);
    assert_eq!(std::fs::read(env.path("file")).expect("read"), b"keep me");
    env.run(["connect", "./dir"], b"")
        .assert_code(1)
        .one_error(&["unix:./dir", "a directory, not a socket"]);
    // Even under --wait these are final at once.
    let t0 = Instant::now();
    env.run(["connect", "--wait", "10s", "./file"], b"")
        .assert_code(1)
        .one_error(&["a regular file"]);
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[test]
fn stale_socket_file_is_refused_with_a_hint() {
    let env = Env::new();
    drop(std::os::unix::net::UnixListener::bind(env.path("stale")).expect("bind"));
    env.run(["connect", "./stale"], b"")
        .assert_code(1)
        .one_error(&["unix:./stale", "no listener"])
        .stderr_has("--wait");
}

#[test]
fn abstract_name_with_no_listener_is_refused() {
    let env = Env::new();
    let name = format!("@ipctool-nobody-{}", std::process::id());
    env.run(["connect", &name], b"")
        .assert_code(1)
        .one_error(&[&name, "connection refused"]);
}

#[test]
fn wait_succeeds_when_the_listener_comes_up_late() {
    let env = Env::new();
    let mut client = env.spawn(["connect", "--wait", "20s", "./late"]);
    client.feed(b"hello late server".to_vec());
    // The client is retrying (still running, nothing there yet); the server comes up
    // afterwards.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        client.child.try_wait().expect("wait").is_none(),
        "connect --wait retries"
    );
    assert!(!env.path("late").exists());
    let mut server = env.spawn(["listen", "-v", "./late"]);
    server.feed(b"welcome".to_vec());
    server.wait_ready();
    client.finish().success().stdout_is(b"welcome");
    server.finish().success().stdout_is(b"hello late server");
}

#[test]
fn wait_runs_out_with_124_and_says_what_it_found() {
    let env = Env::new();
    let t0 = Instant::now();
    env.run(["connect", "--wait", "300ms", "./never"], b"")
        .assert_code(124)
        .one_error(&["unix:./never", "300ms", "no such file"]);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    drop(std::os::unix::net::UnixListener::bind(env.path("stale")).expect("bind"));
    env.run(["connect", "--wait", "200ms", "./stale"], b"")
        .assert_code(124)
        .one_error(&["unix:./stale", "no listener"]);
}

#[test]
fn wait_for_a_fifo_reader() {
    let env = Env::new();
    let server = env.spawn(["listen", "-v", "fifo:f"]);
    server.wait_ready();
    env.run(["connect", "--wait", "5s", "fifo:f"], b"through the fifo")
        .success();
    server.finish().success().stdout_is(b"through the fifo");
    // No reader: --wait runs out.
    interprocess::os::unix::fifo_file::create_fifo(env.path("lonely"), 0o600).expect("mkfifo");
    env.run(["connect", "--wait", "200ms", "fifo:lonely"], b"x")
        .assert_code(124)
        .one_error(&["fifo:lonely", "no reader"]);
}

#[test]
fn connect_fifo_never_writes_into_a_regular_file() {
    let env = Env::new();
    std::fs::write(env.path("file"), b"original").expect("write");
    env.run(["connect", "fifo:file"], b"clobber")
        .assert_code(1)
        .one_error(&["fifo:file", "not a FIFO"]);
    assert_eq!(std::fs::read(env.path("file")).expect("read"), b"original");
}

#[test]
fn tcp_refused_then_waited_for() {
    let env = Env::new();
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let addr = format!("tcp:127.0.0.1:{port}");
    env.run(["connect", &addr], b"")
        .assert_code(1)
        .one_error(&[&addr, "connection refused"]);
    env.run(["connect", "--wait", "200ms", &addr], b"")
        .assert_code(124)
        .one_error(&[&addr]);
}

/// `| head` ends quietly with 0 (SPEC §4), though the command is then stopped.
#[test]
fn a_reader_leaving_stdout_is_quiet_with_exec() {
    let env = Env::new();
    let out = run_with_input(
        env.bash(r#"yes | "$IPCTOOL" connect exec:cat | head -n 1; exit "${PIPESTATUS[1]}""#),
        b"",
    );
    out.success().stdout_is(b"y\n").stderr_is_empty();
}

#[test]
fn exec_child_failure_is_reported() {
    let env = Env::new();
    env.run(["connect", "exec:exit 3"], b"")
        .assert_code(1)
        .one_error(&["exec:exit 3", "exited with status 3"]);
}
