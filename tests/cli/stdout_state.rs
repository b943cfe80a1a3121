//! A stdout that cannot take the data: closed at start (`>&-`), open read-only
//! (`1<FILE`), full (`/dev/full`). A session that may have lost data never exits 0, and
//! the one error line names stdout, never the side that read.

use crate::util::*;

/// With splice, EBADF on a read-only stdout was blamed on the reading side ("could not
/// read stdin", "could not read stage 0").
#[test]
fn review_a_read_only_stdout_is_named_as_the_side_that_failed() {
    let env = Env::new();
    std::fs::write(env.path("f"), b"").expect("write");
    for splice in ["", "--no-splice"] {
        for pipe in ["pipe", "pipe -- cat"] {
            let script = format!("echo hi | \"$IPCTOOL\" {splice} {pipe} 1<f");
            let out = run_with_input(env.sh(&script), b"");
            out.assert_code(1)
                .one_error(&["could not write to stdout", "Bad file descriptor"])
                .stderr_lacks("could not read");
        }
    }
    let out = run_with_input(env.sh("seq 3 | \"$IPCTOOL\" pipe -- cat >/dev/full"), b"");
    out.assert_code(1)
        .one_error(&["could not write to stdout", "No space left on device"]);
}

/// `sh -c SCRIPT` with TMPDIR in a fresh directory of `env`, which it returns.
fn sh_with_tmp(env: &Env, script: &str) -> (std::process::Command, std::path::PathBuf) {
    let tmp = env.path("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let mut cmd = env.sh(script);
    cmd.env("TMPDIR", &tmp);
    (cmd, tmp)
}

#[track_caller]
fn assert_empty(dir: &std::path::Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        dir.display()
    );
}

/// Rust's runtime reopens a closed stdout on /dev/null before `main`: every command used
/// to lose its data with exit 0.
#[test]
fn review_a_closed_stdout_fails_before_any_data_moves() {
    let env = Env::new();
    for script in [
        "seq 3 | \"$IPCTOOL\" pipe >&-",
        "seq 3 | \"$IPCTOOL\" pipe -- cat >&-",
        "\"$IPCTOOL\" bench -t pipe -d 50ms --warmup 0s -m throughput >&-",
        "\"$IPCTOOL\" relay - exec:cat </dev/null >&-",
    ] {
        let out = run_with_input(env.sh(script), b"");
        out.assert_code(1).one_error(&["stdout is closed"]);
        assert!(out.stderr.contains("hint:"), "{script}: {}", out.stderr);
    }

    // connect: refused before connecting, so the listener's 3 MiB stay unsent.
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.feed(vec![b'x'; 3 << 20]);
    server.wait_ready();
    let out = run_with_input(env.sh("\"$IPCTOOL\" connect ./s </dev/null >&-"), b"");
    out.assert_code(1)
        .one_error(&["stdout is closed", "unix:./s"]);
    assert!(
        !server.stderr_now().contains("accepted"),
        "{}",
        server.stderr_now()
    );
    drop(server);

    // listen: refused before binding, so no client is accepted and then dropped.
    let out = run_with_input(env.sh("\"$IPCTOOL\" listen -v ./l </dev/null >&-"), b"");
    out.assert_code(1)
        .one_error(&["stdout is closed", "unix:./l"])
        .stderr_lacks("listening on");
    assert!(!env.path("l").exists(), "no socket file is created");

    // mkfifo --temp: nobody would see the path, so nothing is created.
    let (cmd, tmp) = sh_with_tmp(&env, "\"$IPCTOOL\" mkfifo --temp >&-");
    run_with_input(cmd, b"")
        .assert_code(1)
        .one_error(&["stdout is closed", "FIFO"]);
    assert_empty(&tmp);
}

/// With --send-only nothing is written to stdout: a closed one is fine. A closed stdin
/// reads as empty.
#[test]
fn a_closed_stdout_is_fine_with_send_only_and_a_closed_stdin_is_empty() {
    let env = Env::new();
    let server = env.spawn(["listen", "-v", "./s"]);
    server.wait_ready();
    let out = run_with_input(
        env.sh("seq 3 | \"$IPCTOOL\" connect --send-only ./s >&-"),
        b"",
    );
    out.success().stderr_is_empty();
    server.finish().success().stdout_is(b"1\n2\n3\n");

    let mut server = env.spawn(["listen", "-v", "./t"]);
    server.feed(b"hello\n".to_vec());
    server.wait_ready();
    let out = run_with_input(env.sh("\"$IPCTOOL\" connect ./t <&-"), b"");
    out.success().stdout_is(b"hello\n");
    server.finish().success().stdout_is(b"");
}

/// `std::io::Stdout` ignores EBADF: results printed to a read-only stdout vanished with
/// exit 0; `mkfifo --temp` into /dev/full said only "No space left on device" and left
/// the FIFO nobody saw.
#[test]
fn review_results_that_cannot_be_printed_are_an_error_naming_stdout() {
    let env = Env::new();
    std::fs::write(env.path("f"), b"").expect("write");
    let out = run_with_input(
        env.sh("\"$IPCTOOL\" bench -t pipe -d 50ms --warmup 0s -m throughput 1<f"),
        b"",
    );
    out.assert_code(1)
        .one_error(&["cannot write the results to stdout", "Bad file descriptor"]);
    for (redirect, why) in [
        ("1<f", "Bad file descriptor"),
        (">/dev/full", "No space left on device"),
    ] {
        let script = format!("\"$IPCTOOL\" mkfifo --temp {redirect}");
        let (cmd, tmp) = sh_with_tmp(&env, &script);
        run_with_input(cmd, b"").assert_code(1).one_error(&[
            "cannot write the path of FIFO",
            "to stdout",
            why,
        ]);
        assert_empty(&tmp);
    }
}
