//! Regressions, one test per defect found in review (2026-11-22), named after it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// `listen -k`: a client that never reads used to block the broadcast while it held the
/// members lock, so the accept loop (which needs it to add a client) froze and no signal
/// was handled.
#[test]
fn review_a_client_that_does_not_read_freezes_neither_accepts_nor_signals() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "./s"]);
    server.wait_ready();
    let _deaf = UnixStream::connect(env.path("s")).expect("connect");
    server.wait_for("accepted connection 1");
    // Fill the deaf client's socket: the broadcast blocks on it.
    let feeder = {
        let mut stdin = server.take_stdin();
        std::thread::spawn(move || {
            let line = vec![b'y'; 64 << 10];
            while stdin.write_all(&line).is_ok() {}
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // A new client is still accepted, and its line still reaches stdout.
    env.run(["connect", "--send-only", "./s"], b"still served\n")
        .success();
    server.wait_for("closed connection 2");
    server.signal(libc::SIGINT);
    let out = server.finish();
    out.assert_code(130).stdout_is(b"still served\n");
    assert!(!env.path("s").exists(), "the socket file is removed");
    drop(feeder);
}

/// A stop signal used to wait forever for a connection thread stuck writing to a stdout
/// nobody reads.
#[test]
fn review_a_stop_signal_completes_while_stdout_is_blocked() {
    let env = Env::new();
    let (reader, writer) = std::io::pipe().expect("pipe");
    let mut cmd = env.cmd(["listen", "-k", "-v", "./s"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped());
    let server = Proc::spawn_raw(cmd);
    server.wait_ready();
    // More than any pipe holds, from a client, into a stdout that is never read.
    let client = std::thread::spawn({
        let path = env.path("s");
        move || {
            if let Ok(mut c) = UnixStream::connect(path) {
                let _ = c.write_all(&vec![b'x'; 8 << 20]);
            }
        }
    });
    server.wait_for("accepted connection 1");
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    server.signal(libc::SIGTERM);
    let out = server.finish();
    out.assert_code(143);
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t0.elapsed()
    );
    drop(reader);
    let _ = client.join();
}

/// A connect held by a full backlog used to be restarted after SIGINT, so Ctrl-C did
/// nothing until the listener took the client.
#[test]
fn review_sigint_ends_a_connect_waiting_on_a_full_backlog() {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let env = Env::new();
    let listener =
        rustix::net::socket(AddressFamily::UNIX, SocketType::STREAM, None).expect("socket");
    let addr = SocketAddrUnix::new(env.path("bl")).expect("addr");
    rustix::net::bind(&listener, &addr).expect("bind");
    rustix::net::listen(&listener, 0).expect("listen");
    // Fill the backlog with clients nobody accepts.
    let mut queued = Vec::new();
    loop {
        let c = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::NONBLOCK,
            None,
        )
        .expect("socket");
        match rustix::net::connect(&c, &addr) {
            Ok(()) => queued.push(c),
            Err(_) => break,
        }
        assert!(queued.len() < 64, "the backlog never filled");
    }
    let mut client = env.spawn(["connect", "./bl"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        client.child.try_wait().expect("wait").is_none(),
        "connect waits for room"
    );
    client.signal(libc::SIGINT);
    client.close_stdin();
    let out = client.finish();
    out.assert_code(130);
    assert!(out.error_lines().is_empty(), "{}", out.stderr);
    drop((listener, queued));
}

/// Durations far in the future used to overflow the clock arithmetic and panic.
#[test]
fn review_huge_durations_are_usage_errors_not_panics() {
    let env = Env::new();
    for args in [
        vec!["listen", "--timeout", "584000000000y", "./s"],
        vec!["connect", "--wait", "584000000000y", "./s"],
        vec!["connect", "--idle-timeout", "584000000000y", "./s"],
        vec!["bench", "-t", "pipe", "-d", "584000000000y"],
    ] {
        env.run(&args, b"").assert_code(2).stderr_has("too long");
    }
}

/// `relay fifo:PATH TO` used to remove the FIFO it had just created.
#[test]
fn review_relay_from_a_fifo_keeps_the_fifo_and_forwards_its_writers() {
    let env = Env::new();
    let sink = std::os::unix::net::UnixListener::bind(env.path("sink")).expect("bind");
    let relay = env.spawn(["relay", "-v", "fifo:f", "./sink"]);
    relay.wait_ready();
    assert!(
        env.path("f").exists(),
        "the FIFO is there while the relay runs"
    );
    let (mut c, _) = sink.accept().expect("the relay connects to TO");
    env.run(["connect", "fifo:f"], b"through the fifo\n")
        .success();
    let mut got = [0u8; 17];
    c.read_exact(&mut got).expect("forwarded");
    assert_eq!(&got, b"through the fifo\n");
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
    assert!(!env.path("f").exists(), "and removed at exit");
}

/// Out of descriptors, the server used to spin on a failed accept (and die when one
/// more descriptor could not be had for a connection).
#[test]
fn review_running_out_of_descriptors_pauses_the_server_and_it_recovers() {
    let env = Env::new();
    let script = format!(
        "ulimit -Sn 40; ulimit -Hn 40; exec {} listen -k -v ./s",
        bin()
    );
    let mut cmd = Command::new("sh");
    hermetic(&mut cmd);
    cmd.current_dir(env.dir.path()).args(["-c", &script]);
    let server = Proc::spawn(cmd);
    server.wait_ready();
    let clients: Vec<UnixStream> = (0..30)
        .filter_map(|_| UnixStream::connect(env.path("s")).ok())
        .collect();
    server.wait_for("could not take a client");
    // Paused, not spinning: almost no CPU for a second.
    let ticks = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        let f: Vec<&str> = stat
            .rsplit_once(')')
            .expect("comm")
            .1
            .split_whitespace()
            .collect();
        f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
    };
    let before = ticks(server.pid());
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        ticks(server.pid()) - before <= 20,
        "the server spins when out of descriptors"
    );
    let waiting = clients.len();
    drop(clients);
    // Descriptors come back: the queued clients are taken (each sees its end), then a new
    // client is served.
    server.wait_for_count("closed connection", waiting);
    env.run(["connect", "--send-only", "./s"], b"after\n")
        .success();
    server.wait_for_count("closed connection", waiting + 1);
    server.signal(libc::SIGTERM);
    let out = server.finish();
    out.assert_code(143);
    assert!(
        out.stdout.ends_with(b"after\n"),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.matches("could not take a client").count() <= 2,
        "{}",
        out.stderr
    );
}

/// `connect fifo:PATH` on a socket file used to wait forever for "a reader".
#[test]
fn review_connect_fifo_on_a_socket_fails_at_once() {
    let env = Env::new();
    let _l = std::os::unix::net::UnixListener::bind(env.path("sock")).expect("bind");
    let t0 = Instant::now();
    env.run(["connect", "fifo:sock"], b"x")
        .assert_code(1)
        .one_error(&["fifo:sock", "a socket, not a FIFO"]);
    assert!(t0.elapsed() < Duration::from_secs(5));
}

/// `--idle-timeout` used to exit 0 when it closed a connection whose peer had stopped
/// reading, with data still waiting to be sent.
#[test]
fn review_idle_timeout_with_undelivered_data_is_a_failure() {
    let env = Env::new();
    let listener = std::os::unix::net::UnixListener::bind(env.path("nr")).expect("bind");
    let hold = std::thread::spawn(move || {
        let (c, _) = listener.accept().expect("accept");
        std::thread::sleep(Duration::from_secs(8));
        drop(c);
    });
    let data = vec![0u8; 10 << 20];
    env.run(["connect", "--idle-timeout", "500ms", "./nr"], &data)
        .assert_code(1)
        .one_error(&["unix:./nr", "still waited to be delivered"]);
    drop(hold);
}

/// `relay --dump` on a FIFO used to block at start, before any signal could end it, and
/// leave the relay's socket behind.
#[test]
fn review_dump_into_a_fifo_is_refused_at_once() {
    let env = Env::new();
    interprocess::os::unix::fifo_file::create_fifo(env.path("d"), 0o600).expect("mkfifo");
    let t0 = Instant::now();
    env.run(["relay", "--dump", "./d", "./r", "exec:cat"], b"")
        .assert_code(1)
        .one_error(&["./d"]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(!env.path("r").exists(), "no socket left behind");
}

/// `relay --dump` onto a symlink said only "Too many levels of symbolic links".
#[test]
fn review_dump_onto_a_symlink_is_refused_with_a_hint() {
    let env = Env::new();
    std::fs::write(env.path("target"), b"keep").expect("target");
    std::os::unix::fs::symlink(env.path("target"), env.path("d")).expect("symlink");
    env.run(["relay", "--dump", "./d", "./r", "exec:cat"], b"")
        .assert_code(1)
        .one_error(&["./d"])
        .stderr_has("hint: ./d is a symbolic link");
    assert_eq!(std::fs::read(env.path("target")).expect("target"), b"keep");
    assert!(!env.path("r").exists(), "no socket left behind");
}

/// `listen -e` used to keep a copy thread and its descriptors for as long as something
/// the command started in the background held its stdout.
#[test]
fn review_a_commands_background_child_does_not_pin_the_connection() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "-e", "sleep 30 & echo hi", "./s"]);
    server.close_stdin();
    server.wait_ready();
    let pid = server.pid();
    let before = fd_count(pid);
    for i in 1..=10 {
        let mut c = UnixStream::connect(env.path("s")).expect("connect");
        let mut hi = [0u8; 3];
        c.read_exact(&mut hi).expect("read");
        drop(c);
        server.wait_for(&format!("closed connection {i} "));
    }
    let deadline = Instant::now() + DEADLINE;
    while fd_count(pid) != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fd_count(pid), before, "descriptors back to the baseline");
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143);
}

/// `bench --connect exec:` used to wait without a deadline for a command that ignores
/// SIGTERM.
#[test]
fn review_bench_does_not_wait_forever_for_a_command_ignoring_sigterm() {
    let env = Env::new();
    let t0 = Instant::now();
    let out = env.run(
        [
            "bench",
            "--connect",
            "exec:trap '' TERM; cat; sleep 60",
            "--mode",
            "latency",
            "--count",
            "20",
            "--json",
        ],
        b"",
    );
    out.success();
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t0.elapsed()
    );
}
