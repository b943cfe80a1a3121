//! Message sockets when things go wrong: a message larger than the OS allows, a stream
//! socket named as a message address and the reverse, a full receive queue under --wait,
//! what datagrams cannot do; and their socket files
//! (exact mode, stale reclaim, live refusal naming the pid, non-sockets untouched, removed
//! at exit).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;

use crate::util::*;

/// The largest message this machine takes, as ipctool's probe finds it (the send-buffer
/// limit, or the kernel's one-piece allocation limit); the test checks that a message of
/// that size goes through and one byte more does not.
fn max_message() -> usize {
    ipctool::transport::msgsock::max_message()
}

/// Starts `ipctool listen -v ARGS` and waits until it is ready.
fn listen(env: &Env, args: &[&str]) -> Proc {
    let mut p = env.spawn(["listen", "-v"].iter().chain(args));
    p.close_stdin();
    p.wait_ready();
    p
}

#[test]
fn a_message_larger_than_the_os_allows_names_its_size_and_the_limit() {
    let env = Env::new();
    let max = max_message();
    // A message of exactly the limit goes through, whole.
    let server = listen(&env, &["--count", "1", "unix-dgram:./d"]);
    let mut line = vec![b'x'; max];
    line.push(b'\n');
    env.run(["connect", "unix-dgram:./d"], &line).success();
    let out = server.finish();
    out.success();
    assert!(
        out.stdout == line,
        "got {} bytes, want {}",
        out.stdout.len(),
        line.len()
    );
    let server = listen(&env, &["unix-dgram:./d"]);
    // A whole line one byte too long: EMSGSIZE (or the kernel's allocation limit).
    let mut line = vec![b'x'; max + 1];
    line.push(b'\n');
    env.run(["connect", "unix-dgram:./d"], &line)
        .assert_code(1)
        .one_error(&[
            "could not send to unix-dgram:./d",
            &format!(
                "a message of {} bytes is larger than this socket allows",
                max + 1
            ),
            &format!("at most {max} bytes"),
        ]);
    // A line that has not ended by then is refused before it fills memory.
    let endless = vec![b'y'; max + (1 << 20)];
    env.run(["connect", "--send-only", "unix-dgram:./d"], &endless)
        .assert_code(1)
        .one_error(&[
            "could not send to unix-dgram:./d",
            &format!("a line longer than {max} bytes cannot be one message"),
        ]);
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143).stdout_is(b"");
}

#[test]
fn a_bench_message_larger_than_the_socket_allows_names_size_and_limit() {
    let env = Env::new();
    let max = max_message();
    for t in ["unix-dgram", "seqpacket"] {
        let size = (max + 1).to_string();
        env.run(["bench", "-t", t, "-s", &size, "-n", "5"], b"")
            .assert_code(1)
            .one_error(&[
                &format!("a message of {size} bytes"),
                &format!("larger than a {t} socket allows"),
                &format!("at most {max} bytes"),
            ]);
    }
}

#[test]
fn stream_and_message_sockets_named_as_each_other_are_refused_with_the_right_address() {
    let env = Env::new();
    let stream = listen(&env, &["./s"]);
    let dgram = listen(&env, &["unix-dgram:./d"]);
    let seq = listen(&env, &["seqpacket:@ipctool-msg-errors-seq"]);
    let rows = [
        (
            "unix-dgram:./s",
            "a stream socket, not a datagram",
            "unix:./s",
        ),
        (
            "seqpacket:./s",
            "a stream socket, not a seqpacket",
            "unix:./s",
        ),
        ("./d", "a datagram socket, not a stream", "unix-dgram:./d"),
        (
            "seqpacket:./d",
            "a datagram socket, not a seqpacket",
            "unix-dgram:./d",
        ),
        (
            "@ipctool-msg-errors-seq",
            "a seqpacket socket, not a stream",
            "seqpacket:@ipctool-msg-errors-seq",
        ),
    ];
    for (addr, what, right) in rows {
        // --wait must not retry what waiting cannot fix.
        let out = env.run(["connect", "--wait", "10s", addr], b"x\n");
        out.assert_code(1)
            .one_error(&[addr, what])
            .stderr_has(&format!("hint: address it as {right}"));
    }
    // Serving the path of a live datagram socket as a stream is refused, naming its pid.
    env.run(["listen", "./d"], b"")
        .assert_code(1)
        .one_error(&["unix:./d", "in use by a live datagram socket (pid"]);
    // None of them was disturbed: each still serves a real client.
    env.run(["connect", "./s"], b"stream\n").success();
    stream.finish().success().stdout_is(b"stream\n");
    env.run(["connect", "unix-dgram:./d"], b"datagram\n")
        .success();
    dgram.wait_for("datagram from");
    dgram.signal(libc::SIGTERM);
    dgram.finish().assert_code(143).stdout_is(b"datagram\n");
    env.run(
        ["connect", "seqpacket:@ipctool-msg-errors-seq"],
        b"packet\n",
    )
    .success();
    seq.finish().success().stdout_is(b"packet\n");
}

#[test]
fn a_receive_queue_that_stays_full_under_wait_is_124() {
    let env = Env::new();
    // Bound, never read: its queue fills after a few datagrams.
    let _deaf = UnixDatagram::bind(env.path("q")).expect("bind");
    let lines: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    env.run(
        ["connect", "--wait", "300ms", "unix-dgram:./q"],
        lines.as_bytes(),
    )
    .assert_code(124)
    .one_error(&["unix-dgram:./q", "receive queue", "stayed full for 300ms"]);
    env.run(["connect", "--wait", "200ms", "unix-dgram:./none"], b"x\n")
        .assert_code(124)
        .one_error(&["unix-dgram:./none", "after 200ms", "no such file"]);
}

#[test]
fn what_datagrams_cannot_do_is_a_usage_error() {
    let env = Env::new();
    let rows: [(&[&str], &str); 4] = [
        (&["listen", "-e", "cat", "unix-dgram:./d"], "no connections"),
        (
            &["listen", "--max-clients", "2", "unix-dgram:./d"],
            "--max-clients",
        ),
        (
            &["relay", "--max-clients", "2", "unix-dgram:./d", "-"],
            "--max-clients",
        ),
        (
            &["connect", "--raw-messages", "./s"],
            "--raw-messages applies to",
        ),
    ];
    for (args, want) in rows {
        env.run(args, b"").assert_code(2).one_error(&[want]);
    }
    assert!(!env.path("d").exists(), "nothing was created");
}

#[test]
fn a_datagram_listen_ends_by_timeout_idle_or_signal() {
    let env = Env::new();
    env.run(["listen", "--timeout", "200ms", "unix-dgram:./d"], b"")
        .assert_code(124)
        .one_error(&["no datagram arrived on unix-dgram:./d within 200ms"]);
    let server = listen(&env, &["--idle-timeout", "300ms", "unix-dgram:./d"]);
    UnixDatagram::unbound()
        .expect("socket")
        .send_to(b"hi", env.path("d"))
        .expect("send");
    server
        .finish()
        .success()
        .stdout_is(b"hi\n")
        .stderr_has("idle for 300ms");
}

#[test]
fn message_socket_files_follow_the_socket_file_rules() {
    for form in ["unix-dgram", "seqpacket"] {
        let env = Env::new();
        let addr = format!("{form}:./m");
        // Exactly --mode, whatever the umask; removed at exit (SIGTERM).
        let server = listen(&env, &["--mode", "0640", &addr]);
        let meta = std::fs::symlink_metadata(env.path("m")).expect("lstat");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o640, "{form}");
        // A live one is refused, naming the holder.
        env.run(["listen", &addr], b"").assert_code(1).one_error(&[
            &addr,
            "in use by a live",
            &format!("(pid {})", server.pid()),
        ]);
        server.signal(libc::SIGTERM);
        server.finish().assert_code(143);
        assert!(!env.path("m").exists(), "{form}: removed at exit");

        // A stale socket file is reclaimed, with a note.
        drop(std::os::unix::net::UnixListener::bind(env.path("m")).expect("bind"));
        assert!(env.path("m").exists());
        let mut server = listen(&env, &["--timeout", "100ms", &addr]);
        server.close_stdin();
        server
            .finish()
            .assert_code(124)
            .stderr_has(&format!("reclaimed stale socket file {addr}"));

        // A file that is not a socket is never touched.
        std::fs::write(env.path("m"), b"keep me").expect("write");
        env.run(["listen", &addr], b"")
            .assert_code(1)
            .one_error(&[&addr, "a regular file, not a socket"]);
        assert_eq!(std::fs::read(env.path("m")).expect("read"), b"keep me");
    }
}

#[test]
fn a_seqpacket_backlog_that_stays_full_under_wait_is_124() {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let env = Env::new();
    let socket = || {
        rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .expect("socket")
    };
    let addr = SocketAddrUnix::new(env.path("p")).expect("addr");
    // A listener that never accepts, with a backlog of one that a client fills.
    let l = socket();
    rustix::net::bind(&l, &addr).expect("bind");
    rustix::net::listen(&l, 0).expect("listen");
    let mut held = Vec::new();
    loop {
        let c = socket();
        match rustix::net::connect(&c, &addr) {
            Ok(()) => held.push(c),
            Err(rustix::io::Errno::AGAIN) => break,
            Err(e) => panic!("filling the backlog: {e}"),
        }
    }
    env.run(["connect", "--wait", "300ms", "seqpacket:./p"], b"x\n")
        .assert_code(124)
        .one_error(&["seqpacket:./p", "after 300ms", "backlog stayed full"]);
}

#[test]
fn allow_uid_drops_other_users_datagrams_and_refuses_their_seqpacket_clients() {
    let env = Env::new();
    let id = std::process::id();
    let dgram = format!("unix-dgram:@ipctool-allow-d-{id}");
    let seq = format!("seqpacket:@ipctool-allow-s-{id}");
    let me = rustix::process::getuid().as_raw().to_string();
    let d = listen(&env, &["--allow-uid", &me, "--count", "1", &dgram]);
    let s = listen(&env, &["-k", "--allow-uid", &me, &seq]);
    let Some(out) = as_nobody(&env, &["connect", &dgram], b"from nobody\n") else {
        return;
    };
    out.success();
    let log = d.wait_for("refused datagrams");
    assert!(log.contains("uid 65534 pid "), "{log}");
    env.run(["connect", &dgram], b"from me\n").success();
    d.finish().success().stdout_is(b"from me\n");

    let out = as_nobody(&env, &["connect", &seq], b"from nobody\n").expect("root");
    out.stdout_is(b"");
    let log = s.wait_for("refused a client");
    assert!(log.contains("uid 65534"), "{log}");
    env.run(["connect", &seq], b"from me\n").success();
    s.wait_for("closed connection 1");
    s.signal(libc::SIGTERM);
    s.finish().assert_code(143).stdout_is(b"from me\n");
}
