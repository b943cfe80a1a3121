//! `listen` as a server: many clients (-k), a command per client (-e), --max-clients,
//! --count, signals, and the clients' own view through std sockets.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::util::*;

#[test]
fn two_hundred_concurrent_clients_through_exec_cat_get_their_own_bytes() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "-e", "cat", "./s"]);
    server.close_stdin();
    server.wait_ready();
    assert_eq!(
        echo_clients(&env.path("s"), 200, 1 << 20, 1000),
        200,
        "intact echoes"
    );
    server.wait_for("closed connection 200");
    server.signal(libc::SIGTERM);
    let out = server.finish();
    out.assert_code(143);
    assert_eq!(
        out.stderr.matches("command exited with status 0").count(),
        200
    );
}

#[test]
fn fifty_clients_times_ten_thousand_lines_arrive_whole() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "--count", "50", "./s"]);
    server.close_stdin();
    server.wait_ready();
    let path = env.path("s");
    let clients: Vec<_> = (0..50u32)
        .map(|c| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut text = Vec::new();
                for l in 0..10_000u32 {
                    writeln!(
                        text,
                        "client {c} line {l} {}",
                        "=".repeat((l % 50) as usize)
                    )
                    .expect("format");
                }
                let mut s = UnixStream::connect(&path).expect("connect");
                // Awkward write sizes so lines are split across writes.
                let mut rest = &text[..];
                let mut n = 1usize;
                while !rest.is_empty() {
                    let k = rest.len().min(n % 7919 + 1);
                    s.write_all(&rest[..k]).expect("write");
                    rest = &rest[k..];
                    n = n.wrapping_mul(31).wrapping_add(17);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client");
    }
    let out = server.finish();
    out.success();
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut seen = HashSet::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 5, "broken line {line:?}");
        let l: u32 = parts[3].parse().expect("line number");
        assert_eq!(
            parts[4],
            "=".repeat((l % 50) as usize),
            "broken line {line:?}"
        );
        assert!(seen.insert(line.to_owned()), "duplicate line {line:?}");
    }
    assert_eq!(seen.len(), 500_000);
}

#[test]
fn a_thousand_sequential_exec_true_connections_leak_no_fd_and_no_zombie() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "-e", "true", "./s"]);
    server.close_stdin();
    server.wait_ready();
    let pid = server.pid();
    let before = fd_count(pid);
    let path = env.path("s");
    for _ in 0..1000 {
        let mut c = UnixStream::connect(&path).expect("connect");
        let mut buf = Vec::new();
        c.read_to_end(&mut buf).expect("read");
        assert!(buf.is_empty());
    }
    server.wait_for("closed connection 1000 ");
    // The last session's threads finish right after they report.
    let deadline = Instant::now() + DEADLINE;
    while fd_count(pid) != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        fd_count(pid),
        before,
        "open descriptors after 1000 connections"
    );
    assert_eq!(zombies_of(pid), 0);
    server.signal(libc::SIGINT);
    server.finish().assert_code(130);
}

fn zombies_of(parent: u32) -> usize {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...
            let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
            let mut f = after.split_whitespace();
            let state = f.next();
            let ppid = f.next().and_then(|p| p.parse::<u32>().ok());
            state == Some("Z") && ppid == Some(parent)
        })
        .count()
}

#[test]
fn exec_child_sees_the_peer_credentials_and_a_clean_start() {
    use std::io::BufRead;
    let env = Env::new();
    // The command becomes `sleep`, whose descriptors and signal state are inspected from
    // outside (a shell listing its own /proc entry shows what it opened for the listing).
    let script =
        r#"echo "$IPCTOOL_PEER_PID $IPCTOOL_PEER_UID $IPCTOOL_PEER_GID $$"; exec sleep 30"#;
    let mut server = env.spawn(["listen", "-v", "-e", script, "./s"]);
    server.close_stdin();
    server.wait_ready();
    let c = UnixStream::connect(env.path("s")).expect("connect");
    c.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut line = String::new();
    std::io::BufReader::new(&c)
        .read_line(&mut line)
        .expect("read");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let want = [
        std::process::id().to_string(),
        rustix::process::geteuid().as_raw().to_string(),
        rustix::process::getegid().as_raw().to_string(),
    ];
    assert_eq!(fields[..3], want, "peer credentials in the environment");
    let pid = fields[3];
    // `exec` may not have happened yet when the line arrives: wait for `sleep`.
    let deadline = Instant::now() + DEADLINE;
    while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default() != "sleep\n" {
        assert!(Instant::now() < deadline, "the command never became sleep");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Right after `exec`, the kernel may not have closed close-on-exec descriptors yet and
    // the dynamic loader briefly opens the C library: a leak is a descriptor that stays.
    let listing = || -> Vec<(u32, String)> {
        let mut fds: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("fd dir")
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(e.path()).unwrap_or_default();
                Some((n, target.display().to_string()))
            })
            .collect();
        fds.sort();
        fds
    };
    let deadline = Instant::now() + DEADLINE;
    loop {
        let fds = listing();
        let numbers: Vec<u32> = fds.iter().map(|(n, _)| *n).collect();
        if numbers == [0, 1, 2] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "descriptors of the command: {fds:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    assert!(status.contains("SigBlk:\t0000000000000000"), "{status}");
    assert!(status.contains("SigIgn:\t0000000000000000"), "{status}");
    drop(c);
    server.finish().success();
}

#[test]
fn exec_child_exit_status_and_signal_are_reaped_and_logged() {
    let env = Env::new();
    let mut server = env.spawn([
        "listen",
        "-k",
        "-v",
        "--stats=json",
        "--count",
        "2",
        "-e",
        "exit 3",
        "./s",
    ]);
    server.close_stdin();
    server.wait_ready();
    drop(UnixStream::connect(env.path("s")).map(|mut c| c.read_to_end(&mut Vec::new())));
    server.wait_for("closed connection 1");
    drop(UnixStream::connect(env.path("s")).map(|mut c| c.read_to_end(&mut Vec::new())));
    let out = server.finish();
    out.success()
        .stderr_has("command exited with status 3")
        .stderr_has("\"exit_code\":3");

    let mut server = env.spawn(["listen", "-v", "-e", "kill -9 $$", "./k"]);
    server.close_stdin();
    server.wait_ready();
    drop(UnixStream::connect(env.path("k")).map(|mut c| c.read_to_end(&mut Vec::new())));
    server.finish().success().stderr_has("killed by signal 9");
}

#[test]
fn a_command_that_closes_its_stdout_gives_the_client_eof_at_once() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "-e", "echo bye; exec 1>&-; sleep 20", "./s"]);
    server.close_stdin();
    server.wait_ready();
    let t0 = Instant::now();
    let mut c = UnixStream::connect(env.path("s")).expect("connect");
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("read");
    assert_eq!(got, b"bye\n");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "EOF came after {:?}",
        t0.elapsed()
    );
    drop(c);
    // The command is still sleeping: the server stops it and reaps it.
    let out = server.finish();
    out.success().stderr_has("killed by signal 15");
}

#[test]
fn stdin_is_broadcast_to_every_connected_client() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "./s"]);
    server.wait_ready();
    let mut a = UnixStream::connect(env.path("s")).expect("connect");
    let mut b = UnixStream::connect(env.path("s")).expect("connect");
    server.wait_for("accepted connection 2");
    server.stdin().write_all(b"to everyone\n").expect("stdin");
    server.close_stdin();
    // EOF on stdin is passed on (clients read EOF) but does not stop the server.
    for c in [&mut a, &mut b] {
        let mut got = Vec::new();
        c.read_to_end(&mut got).expect("read");
        assert_eq!(got, b"to everyone\n");
    }
    let mut late = UnixStream::connect(env.path("s")).expect("server still accepts");
    late.write_all(b"late line\n").expect("write");
    drop((a, b, late));
    server.wait_for("closed connection 3");
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143).stdout_is(b"late line\n");
}

/// `listen -k -v --count N ./s` with stdin closed, ready.
fn log_server(env: &Env, count: u32) -> Proc {
    let count = count.to_string();
    let mut server = env.spawn(["listen", "-k", "-v", "--count", &count, "./s"]);
    server.close_stdin();
    server.wait_ready();
    server
}

#[test]
fn keep_open_ends_a_clients_unterminated_line_only_when_another_client_follows() {
    let env = Env::new();
    // A lone client's bytes stay exactly as sent.
    let server = log_server(&env, 1);
    env.run(["connect", "./s"], b"hello").success();
    server.finish().success().stdout_is(b"hello");

    // One after the other.
    let server = log_server(&env, 2);
    env.run(["connect", "./s"], b"hello").success();
    server.wait_for("closed connection 1");
    env.run(["connect", "./s"], b"world\n").success();
    server.finish().success().stdout_is(b"hello\nworld\n");

    // Both connected: A ends mid-line while B is still sending.
    let server = log_server(&env, 2);
    let mut a = UnixStream::connect(env.path("s")).expect("connect");
    let mut b = UnixStream::connect(env.path("s")).expect("connect");
    server.wait_for("accepted connection 2");
    a.write_all(b"A-no-newline").expect("write");
    drop(a);
    server.wait_for("closed connection 1");
    b.write_all(b"B-rest\n").expect("write");
    drop(b);
    server
        .finish()
        .success()
        .stdout_is(b"A-no-newline\nB-rest\n");
}

#[test]
fn keep_open_inserts_no_line_into_a_connected_clients_partial_line() {
    let env = Env::new();
    let server = log_server(&env, 2);
    let mut a = UnixStream::connect(env.path("s")).expect("connect");
    a.write_all(b"A-part").expect("write");
    server.wait_for("accepted connection 1");
    env.run(["connect", "./s"], b"B-line\n").success();
    server.wait_for("closed connection 2");
    a.write_all(b"-rest\n").expect("write");
    drop(a);
    server
        .finish()
        .success()
        .stdout_is(b"B-line\nA-part-rest\n");
}

#[test]
fn max_clients_makes_extra_clients_wait_their_turn() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "--max-clients", "1", "./s"]);
    server.close_stdin();
    server.wait_ready();
    let mut first = UnixStream::connect(env.path("s")).expect("connect");
    first.write_all(b"A1\n").expect("write");
    server.wait_for("accepted connection 1");
    let mut second = UnixStream::connect(env.path("s")).expect("connect (waits in the backlog)");
    second.write_all(b"B\n").expect("write");
    second.shutdown(Shutdown::Write).expect("shutdown");
    first.write_all(b"A2\n").expect("write");
    drop(first);
    let log = server.wait_for("accepted connection 2");
    let closed1 = log.find("closed connection 1").expect("first closed");
    let accepted2 = log.find("accepted connection 2").expect("second accepted");
    assert!(closed1 < accepted2, "the second client waited:\n{log}");
    server.wait_for("closed connection 2");
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143).stdout_is(b"A1\nA2\nB\n");
}

#[test]
fn count_exits_after_n_clients() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "--count", "3", "-v", "./s"]);
    server.close_stdin();
    server.wait_ready();
    for i in 0..3 {
        let mut c = UnixStream::connect(env.path("s")).expect("connect");
        writeln!(c, "client {i}").expect("write");
    }
    let out = server.finish();
    out.success();
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(lines, ["client 0", "client 1", "client 2"]);
    assert!(!env.path("s").exists());
}

#[test]
fn sigint_and_sigterm_stop_a_busy_server_and_remove_its_socket() {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let env = Env::new();
        let mut server = env.spawn([
            "listen",
            "-k",
            "-v",
            "--stats=json",
            "-e",
            "sleep 30",
            "./s",
        ]);
        server.close_stdin();
        server.wait_ready();
        let mut c = UnixStream::connect(env.path("s")).expect("connect");
        server.wait_for("accepted connection 1");
        server.signal(sig);
        // The client gets EOF; the command is stopped and reaped; totals are printed.
        let mut got = Vec::new();
        c.read_to_end(&mut got).expect("read");
        let out = server.finish();
        out.assert_code(code)
            .stderr_has("\"kind\":\"total\"")
            .stderr_has("\"exit_signal\":15");
        assert!(!env.path("s").exists());
    }
}

#[test]
fn fifo_keep_open_reads_successive_writers_without_spinning() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "fifo:f"]);
    server.close_stdin();
    server.wait_ready();
    for word in ["one\n", "two\n", "three\n"] {
        env.run(["connect", "fifo:f"], word.as_bytes()).success();
    }
    // Idle now: the server must sleep in the kernel, not poll.
    let ticks = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        let after = stat.rsplit_once(')').expect("comm").1;
        let f: Vec<&str> = after.split_whitespace().collect();
        f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
    };
    let before = ticks(server.pid());
    std::thread::sleep(Duration::from_secs(1));
    let spent = ticks(server.pid()) - before;
    assert!(spent <= 2, "an idle FIFO server used {spent} ticks in 1 s");
    server.signal(libc::SIGTERM);
    let out = server.finish();
    out.assert_code(143).stdout_is(b"one\ntwo\nthree\n");
    assert!(
        !env.path("f").exists(),
        "the FIFO ipctool created is removed"
    );
}

#[test]
fn usage_errors_of_server_flags() {
    let env = Env::new();
    env.run(["listen", "-e", "cat", "fifo:f"], b"")
        .assert_code(2)
        .one_error(&["--exec", "fifo:f"]);
    env.run(["listen", "--count", "0", "./s"], b"")
        .assert_code(2);
    env.run(["listen", "--max-clients", "0", "./s"], b"")
        .assert_code(2);
    env.run(["listen", "--allow-uid", "x", "./s"], b"")
        .assert_code(2);
    for blank in ["", "  "] {
        let out = env.run(["listen", "-e", blank, "./s"], b"");
        out.assert_code(2);
        assert!(out.stderr.contains("expected a command"), "{}", out.stderr);
        assert!(!env.path("s").exists(), "nothing is created");
    }
}

/// Regression: a splice from a socket into a pipe must not wait for more socket data
/// while holding the pipe, or the command cannot read what it was already given and a
/// ping-pong stalls.
#[test]
fn ping_pong_through_exec_cat_does_not_stall() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "-e", "cat", "./s"]);
    server.close_stdin();
    server.wait_ready();
    for size in [1usize, 64, 4096, 100_000] {
        let mut c = UnixStream::connect(env.path("s")).expect("connect");
        c.set_read_timeout(Some(DEADLINE)).expect("timeout");
        for round in 0..200u64 {
            let msg = random_bytes(size, round);
            c.write_all(&msg).expect("write");
            let mut back = vec![0u8; size];
            c.read_exact(&mut back).expect("the echo comes back");
            assert_eq!(back, msg, "size {size} round {round}");
        }
    }
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143);
}
