//! Malformed addresses are usage errors (exit 2) that quote the input and say what was
//! expected, for every subcommand that takes one.

use crate::util::*;

#[test]
fn every_class_of_bad_address_is_exit_2_with_the_reason() {
    let env = Env::new();
    let long_path = format!("/tmp/{}", "x".repeat(120));
    let long_name = format!("@{}", "n".repeat(108));
    let rows: Vec<(String, &str)> = vec![
        ("no-such-name".into(), "needs a '/'"),
        ("udp:127.0.0.1:53".into(), "unknown address type 'udp:'"),
        ("tcp:localhost".into(), "tcp:HOST:PORT"),
        ("tcp:localhost:99999".into(), "port must be a number"),
        ("tcp::1:80".into(), "tcp:HOST:PORT"),
        ("unix:".into(), "expected a path"),
        ("@".into(), "expected a name"),
        ("exec:".into(), "expected a command"),
        ("npipe:foo".into(), "only supported on Windows"),
        (long_path.clone(), "too long"),
        (long_name.clone(), "too long"),
    ];
    for sub in ["connect", "listen"] {
        for (addr, why) in &rows {
            let out = env.run([sub, addr.as_str()], b"");
            out.assert_code(2)
                .stderr_has(&format!("'{addr}'"))
                .stderr_has(why);
        }
    }
    // The limit is named, and nothing was created for the too-long path.
    env.run(["listen", &long_path], b"").stderr_has("107");
    assert!(!std::path::Path::new(&long_path).exists());
}

#[test]
fn a_bad_address_lists_the_accepted_forms() {
    let env = Env::new();
    env.run(["connect", "ftp:x"], b"")
        .assert_code(2)
        .stderr_has("unix:PATH")
        .stderr_has("@NAME")
        .stderr_has("fifo:PATH")
        .stderr_has("tcp:HOST:PORT")
        .stderr_has("exec:CMD");
}

#[test]
fn listen_refuses_stdio_and_exec() {
    let env = Env::new();
    for addr in ["-", "exec:cat"] {
        env.run(["listen", addr], b"")
            .assert_code(2)
            .one_error(&["cannot listen on"]);
    }
}

#[test]
fn an_existing_file_without_a_slash_is_a_path() {
    let env = Env::new();
    std::fs::write(env.path("plain"), b"data").expect("write");
    // The name parses as a path (not a usage error) and is refused as a non-socket.
    env.run(["connect", "plain"], b"")
        .assert_code(1)
        .one_error(&["unix:plain", "regular file"]);
}

#[test]
fn bad_durations_and_modes_are_usage_errors() {
    let env = Env::new();
    env.run(["connect", "--wait", "5", "./s"], b"")
        .assert_code(2)
        .stderr_has("'5'");
    env.run(["listen", "--timeout", "soon", "./s"], b"")
        .assert_code(2)
        .stderr_has("'soon'");
    env.run(["listen", "--mode", "0888", "./s"], b"")
        .assert_code(2)
        .stderr_has("'0888'");
    env.run(["connect", "--idle-timeout", "0s", "./s"], b"")
        .assert_code(2)
        .stderr_has("longer than zero");
}
