//! `relay`: bulk and concurrent traffic through it, faults that stay with their pair,
//! half-close both ways, the hex dump, and `--intercept`.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::util::*;

fn socat(env: &Env, args: &[&str]) -> Proc {
    let mut c = Command::new("socat");
    hermetic(&mut c);
    c.current_dir(env.dir.path()).args(args);
    Proc::spawn(c)
}

/// Starts `relay -v ARGS` and waits for its readiness line.
fn relay(env: &Env, args: &[&str]) -> Proc {
    let mut full = vec!["relay", "-v"];
    full.extend_from_slice(args);
    let mut p = env.spawn(&full);
    p.close_stdin();
    p.wait_ready();
    p
}

#[test]
fn one_gib_through_the_relay_to_a_socat_sink() {
    if !have("socat") {
        return;
    }
    let env = Env::new();
    let mut sink = Command::new("socat");
    hermetic(&mut sink);
    sink.current_dir(env.dir.path())
        .args(["-u", "UNIX-LISTEN:./sink", "STDOUT"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut sink = sink.spawn().expect("socat");
    let mut out = sink.stdout.take().expect("stdout");
    let hasher = std::thread::spawn(move || {
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = out.read(&mut buf).expect("read");
            if n == 0 {
                return (total, h.finalize().to_vec());
            }
            h.update(&buf[..n]);
            total += n as u64;
        }
    });
    let relay = relay(&env, &["--wait", "10s", "./r", "./sink"]);
    let mut client = env.cmd(["connect", "./r"]);
    client.stdin(Stdio::piped()).stdout(Stdio::null());
    let mut client = client.spawn().expect("connect");
    let mut stdin = client.stdin.take().expect("stdin");
    let mut sent = Sha256::new();
    for i in 0..1024u64 {
        let chunk = random_bytes(1 << 20, i);
        sent.update(&chunk);
        stdin.write_all(&chunk).expect("write");
    }
    drop(stdin);
    assert!(client.wait().expect("wait").success());
    let (total, got) = hasher.join().expect("hasher");
    assert_eq!(total, 1 << 30);
    assert_eq!(got, sent.finalize().to_vec(), "sha256 of 1 GiB");
    let _ = sink.wait();
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
}

#[test]
fn two_hundred_clients_through_the_relay_to_an_echo_server() {
    if !have("socat") {
        return;
    }
    let env = Env::new();
    // -t 30: socat's default gives up 0.5 s after the first EOF, cutting off `cat`'s
    // echo when 200 of them share two CPUs.
    let echo = socat(&env, &["-t", "30", "UNIX-LISTEN:./echo,fork", "EXEC:cat"]);
    let relay = relay(&env, &["--wait", "10s", "./r", "./echo"]);
    let baseline = fd_count(relay.pid());
    let ok = echo_clients(&env.path("r"), 200, 1 << 20, 5000);
    assert_eq!(ok, 200, "clients whose bytes came back intact");
    relay.wait_for("closed connection 200 ");
    let deadline = Instant::now() + DEADLINE;
    while fd_count(relay.pid()) != baseline && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        fd_count(relay.pid()),
        baseline,
        "descriptors back to the baseline"
    );
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
    drop(echo);
}

#[test]
fn exec_backends_are_reaped() {
    let env = Env::new();
    let relay = relay(&env, &["./r", "exec:cat"]);
    for i in 0..20u8 {
        env.run(["connect", "./r"], &[i; 1000])
            .success()
            .stdout_is(&[i; 1000]);
    }
    relay.wait_for("closed connection 20 ");
    let zombies = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|s| {
            let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
            let f: Vec<&str> = rest.split_whitespace().collect();
            f.first() == Some(&"Z") && f.get(1) == Some(&relay.pid().to_string().as_str())
        })
        .count();
    assert_eq!(zombies, 0);
    relay.signal(libc::SIGINT);
    relay.finish().assert_code(130);
}

#[test]
fn a_missing_backend_closes_that_client_with_the_reason_then_later_ones_are_served() {
    let env = Env::new();
    let relay = relay(&env, &["./r", "./backend"]);
    // No backend yet: the client is closed; the reason names TO.
    let out = env.run(["connect", "./r"], b"lost");
    assert!(out.stdout.is_empty());
    let log = relay.wait_for("closed connection 1");
    assert!(
        log.contains("unix:./backend") && log.contains("no such file"),
        "{log}"
    );
    // The backend comes up: the next client is served.
    let mut backend = env.spawn(["listen", "-v", "./backend"]);
    backend.feed(b"from backend".to_vec());
    backend.wait_ready();
    env.run(["connect", "./r"], b"to backend")
        .success()
        .stdout_is(b"from backend");
    backend.finish().success().stdout_is(b"to backend");
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
}

#[test]
fn a_client_killed_mid_stream_takes_down_only_its_pair() {
    let env = Env::new();
    let relay = relay(&env, &["./r", "exec:cat"]);
    // A client streaming through the relay, then killed.
    let mut streamer = env.cmd(["connect", "./r"]);
    streamer.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut streamer = streamer.spawn().expect("spawn");
    let mut stdin = streamer.stdin.take().expect("stdin");
    let mut stdout = streamer.stdout.take().expect("stdout");
    stdin.write_all(&[1u8; 100_000]).expect("write");
    let mut first = [0u8; 1000];
    stdout.read_exact(&mut first).expect("the stream flows");
    relay.wait_for("accepted connection 1");
    streamer.kill().expect("kill");
    let _ = streamer.wait();
    // The pair is closed promptly and a probe client is served within a second.
    let t0 = Instant::now();
    env.run(["connect", "./r"], b"probe")
        .success()
        .stdout_is(b"probe");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "probe took {:?}",
        t0.elapsed()
    );
    relay.wait_for("closed connection 1");
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
}

#[test]
fn a_backend_killed_mid_stream_closes_its_client_promptly() {
    let env = Env::new();
    let relay = relay(&env, &["./r", "exec:echo started; exec sleep 30"]);
    let mut c = UnixStream::connect(env.path("r")).expect("connect");
    c.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut line = [0u8; 8];
    c.read_exact(&mut line).expect("read");
    assert_eq!(&line, b"started\n");
    // Kill the backend command: the client must see EOF at once, not after 30 s.
    let log = relay.wait_for("connected to");
    let pid: u32 = log
        .split("connected to exec:echo started; exec sleep 30 (peer pid ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.parse().ok())
        .expect("backend pid");
    let t0 = Instant::now();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).expect("EOF");
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t0.elapsed()
    );
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
}

#[test]
fn half_close_passes_through_the_relay_both_ways() {
    let env = Env::new();
    // The backend answers only after our EOF.
    let relay = relay(&env, &["./r", "exec:wc -c"]);
    env.run(["connect", "./r"], &[b'x'; 12345])
        .success()
        .stdout_is(b"12345\n");
    // And the other way: the backend ends first, the client keeps sending.
    let listener = UnixListener::bind(env.path("b")).expect("bind");
    let backend = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accept");
        c.write_all(b"early").expect("write");
        c.shutdown(Shutdown::Write).expect("shutdown");
        let mut got = Vec::new();
        c.read_to_end(&mut got).expect("read");
        got
    });
    let relay2 = self::relay(&env, &["./r2", "./b"]);
    let mut client = UnixStream::connect(env.path("r2")).expect("connect");
    client.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut early = Vec::new();
    client
        .read_to_end(&mut early)
        .expect("read to the backend's EOF");
    assert_eq!(early, b"early");
    client
        .write_all(b"sent after the backend's EOF")
        .expect("write");
    client.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(
        backend.join().expect("backend"),
        b"sent after the backend's EOF"
    );
    for r in [relay, relay2] {
        r.signal(libc::SIGTERM);
        r.finish().assert_code(143);
    }
}

/// Reads the bytes back out of hex-dump blocks of one direction ("→" or "←").
fn bytes_of_dump(dump: &str, arrow: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut take = false;
    for line in dump.lines() {
        if line.starts_with('#') {
            // "#N → client → TO" or "#N ← TO → client": the direction is the 2nd word.
            take = line.split_whitespace().nth(1) == Some(arrow);
            continue;
        }
        let is_data = line.len() > 10 && line[..8].chars().all(|c| c.is_ascii_hexdigit());
        if !take || !is_data {
            continue;
        }
        let hex = line[10..].split('│').next().unwrap_or("");
        out.extend(
            hex.split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).expect("hex byte")),
        );
    }
    out
}

#[test]
fn hex_dump_shows_every_byte_both_ways() {
    let env = Env::new();
    let request: Vec<u8> = (0..=255u8)
        .chain(b"request tail\n".iter().copied())
        .collect();
    let mut relay = env.spawn([
        "relay",
        "-v",
        "-x",
        "--count",
        "1",
        "./r",
        "exec:tr a-z A-Z",
    ]);
    relay.close_stdin();
    relay.wait_ready();
    let out = env.run(["connect", "./r"], &request);
    out.success();
    let reply = out.stdout.clone();
    let log = relay.finish();
    log.success();
    assert_eq!(bytes_of_dump(&log.stderr, "→"), request, "client to TO");
    assert_eq!(bytes_of_dump(&log.stderr, "←"), reply, "TO to client");
    assert!(
        log.stderr.contains("#1 → client → exec:tr a-z A-Z"),
        "{}",
        log.stderr
    );
    assert!(log.stderr.contains("at offset 0"));
}

#[test]
fn dump_goes_to_a_private_file_and_never_through_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let mut relay = env.spawn([
        "relay", "-v", "--dump", "dump.hex", "--count", "1", "./r", "exec:cat",
    ]);
    relay.close_stdin();
    relay.wait_ready();
    env.run(["connect", "./r"], b"secret")
        .success()
        .stdout_is(b"secret");
    let out = relay.finish();
    out.success().stderr_lacks("secret");
    let dump = std::fs::read_to_string(env.path("dump.hex")).expect("dump");
    assert_eq!(bytes_of_dump(&dump, "→"), b"secret");
    let mode = std::fs::metadata(env.path("dump.hex"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    std::os::unix::fs::symlink(env.path("target"), env.path("link.hex")).expect("symlink");
    env.run(["relay", "--dump", "link.hex", "./r2", "exec:cat"], b"")
        .assert_code(1)
        .one_error(&["link.hex"]);
    assert!(!env.path("target").exists());
}

#[test]
fn relay_from_stdio_is_one_client() {
    let env = Env::new();
    env.run(["relay", "-", "exec:tr a-z A-Z"], b"shout\n")
        .success()
        .stdout_is(b"SHOUT\n");
}

#[test]
fn intercept_puts_the_relay_in_front_and_everything_back() {
    let env = Env::new();
    let mut original = env.spawn(["listen", "-k", "-v", "-e", "tr a-z A-Z", "./app"]);
    original.close_stdin();
    original.wait_ready();
    let relay = relay(&env, &["-x", "--intercept", "./app"]);
    env.run(["connect", "./app"], b"through the relay\n")
        .success()
        .stdout_is(b"THROUGH THE RELAY\n");
    relay.wait_for("closed connection 1");
    let seen = relay.stderr_now();
    assert!(
        seen.contains("#1 → client → unix:./.app.ipctool-intercepted"),
        "{seen}"
    );
    assert_eq!(
        bytes_of_dump(&seen, "→"),
        b"through the relay\n",
        "the traffic was seen"
    );
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
    assert!(!env.path(".app.ipctool-intercepted").exists());
    env.run(["connect", "./app"], b"direct again\n")
        .success()
        .stdout_is(b"DIRECT AGAIN\n");
    original.signal(libc::SIGTERM);
    original.finish().assert_code(143);
}

#[test]
fn intercept_after_sigkill_repairs_the_leftover() {
    let env = Env::new();
    let mut original = env.spawn(["listen", "-k", "-v", "-e", "cat", "./app"]);
    original.close_stdin();
    original.wait_ready();
    let mut first = relay(&env, &["--intercept", "./app"]);
    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    assert!(
        env.path(".app.ipctool-intercepted").exists(),
        "the leftover"
    );
    let again = relay(&env, &["--intercept", "./app"]);
    assert!(
        again.stderr_now().contains("repaired"),
        "{}",
        again.stderr_now()
    );
    env.run(["connect", "./app"], b"ok")
        .success()
        .stdout_is(b"ok");
    again.signal(libc::SIGTERM);
    again.finish().assert_code(143);
    env.run(["connect", "./app"], b"direct")
        .success()
        .stdout_is(b"direct");
    original.signal(libc::SIGTERM);
    original.finish().assert_code(143);
}

#[test]
fn intercept_refuses_what_is_not_a_live_socket() {
    let env = Env::new();
    std::fs::write(env.path("file"), b"x").expect("write");
    env.run(["relay", "--intercept", "./file"], b"")
        .assert_code(1)
        .one_error(&["./file", "not a socket"]);
    drop(UnixListener::bind(env.path("stale")).expect("bind"));
    env.run(["relay", "--intercept", "./stale"], b"")
        .assert_code(1)
        .one_error(&["./stale", "nothing listens"]);
    env.run(["relay", "--intercept", "./missing"], b"")
        .assert_code(1)
        .one_error(&["./missing"]);
    env.run(["relay", "./r"], b"").assert_code(2);
    env.run(["relay", "exec:cat", "./x"], b"")
        .assert_code(2)
        .one_error(&["a command has no clients"]);
    // Relaying an address to itself would connect back to the relay without end.
    env.run(["relay", "./r", "unix:r"], b"")
        .assert_code(2)
        .one_error(&["to itself"]);
    assert!(!env.path("r").exists(), "nothing is created");
}

/// A slow consumer applies backpressure: the relay buffers at most a chunk each way.
#[test]
fn a_slow_backend_slows_the_client_instead_of_filling_memory() {
    let env = Env::new();
    let slow = format!("exec:{} pipe -q --rate-limit 1M >/dev/null", bin());
    let relay = relay(&env, &["./r", &slow]);
    let mut c = UnixStream::connect(env.path("r")).expect("connect");
    c.set_write_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let chunk = vec![0u8; 1 << 20];
    let t0 = Instant::now();
    let mut pushed = 0u64;
    while t0.elapsed() < Duration::from_secs(3) {
        match c.write(&chunk) {
            Ok(n) => pushed += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("write: {e}"),
        }
    }
    // About 3 MiB drained at 1 MiB/s, plus the socket and pipe buffers: never the 1 GiB
    // a blind copier would have taken in.
    assert!(
        pushed < 64 << 20,
        "the client pushed {pushed} bytes into a 1 MiB/s backend"
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", relay.pid())).expect("status");
    let hwm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmHWM");
    assert!(hwm_kib < 64 << 10, "relay peak RSS {hwm_kib} KiB");
    drop(c);
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
}

/// The splice path (socket → private pipe → socket) and the buffered one move the same
/// bytes.
#[test]
fn splice_and_buffered_relays_move_identical_bytes() {
    let env = Env::new();
    let data = random_bytes(32 << 20, 77);
    for (i, extra) in [&[][..], &["--no-splice"][..]].into_iter().enumerate() {
        let (r, b) = (format!("./r{i}"), format!("./b{i}"));
        let mut sink = env.spawn(["listen", "-v", &b]);
        sink.close_stdin();
        sink.wait_ready();
        let mut args = vec!["--count", "1", &r, &b];
        args.extend_from_slice(extra);
        let relay = relay(&env, &args);
        env.run(["connect", &r], &data).success();
        let out = sink.finish();
        out.success();
        assert_eq!(sha256(&out.stdout), sha256(&data), "relay {extra:?}");
        relay.finish().success();
    }
}

#[test]
fn relay_from_a_fifo_it_created_keeps_it_until_exit() {
    let env = Env::new();
    let r = relay(&env, &["fifo:./f", "exec:cat > got"]);
    // The FIFO ipctool created is still there for writers to open, one after the other.
    for line in [&b"first writer\n"[..], b"second writer\n"] {
        env.run(["connect", "fifo:./f"], line).success();
    }
    let deadline = std::time::Instant::now() + DEADLINE;
    while std::fs::read(env.path("got")).unwrap_or_default() != b"first writer\nsecond writer\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "the relayed bytes never arrived"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    r.signal(libc::SIGTERM);
    r.finish().assert_code(143);
    assert!(!env.path("f").exists(), "removed at exit");
}

/// A backend command that stops reading while the client still sends: the relay counts
/// the connection failed and exits 1, as it does for a socket backend.
#[test]
fn a_backend_command_that_stops_reading_ends_its_pair_cleanly() {
    // The command's choice (as `head` in a shell pipeline); the client, whose writes then
    // fail midway, is the one that says data did not get through.
    let env = Env::new();
    let relay = relay(&env, &["--count", "1", "./r", "exec:head -c 10 >/dev/null"]);
    let data = random_bytes(5 << 20, 13);
    env.run(["connect", "./r"], &data)
        .assert_code(1)
        .one_error(&["unix:./r"]);
    relay
        .finish()
        .success()
        .stderr_has("closed connection 1 (complete)");
}

/// A back end that closes with bytes it never read: the kernel resets the relay's
/// connection to it. Returns once that back end has gone; `go` lets it close.
fn resetting_backend(
    env: &Env,
    name: &str,
) -> (
    std::thread::JoinHandle<()>,
    std::sync::mpsc::Sender<()>,
    std::sync::mpsc::Receiver<()>,
) {
    let listener = UnixListener::bind(env.path(name)).expect("bind");
    let (go, wait_go) = std::sync::mpsc::channel::<()>();
    let (arrived, data_arrived) = std::sync::mpsc::channel::<()>();
    let backend = std::thread::spawn(move || {
        let (c, _) = listener.accept().expect("accept");
        // Wait for data, never read it, close when told: a reset.
        let mut p = [rustix::event::PollFd::new(&c, rustix::event::PollFlags::IN)];
        rustix::event::poll(&mut p, None).expect("poll");
        let _ = arrived.send(());
        let _ = wait_go.recv_timeout(DEADLINE);
        drop(c);
    });
    (backend, go, data_arrived)
}

/// A back end that resets reaches a TCP client as a reset, not as a clean end: the relay
/// resets the client's connection (SO_LINGER 0), so `connect` exits 1.
#[test]
fn a_backend_reset_reaches_a_tcp_client_as_a_reset() {
    let env = Env::new();
    let (backend, go, _arrived) = resetting_backend(&env, "p");
    drop(go);
    let relay = relay(&env, &["--count", "1", "tcp:127.0.0.1:0", "./p"]);
    let ready = crate::transfer::listening_address(&relay.stderr_now());
    let addr = ready.split(',').next().expect("address").to_owned();
    env.run(["connect", &addr], b"hi\n")
        .assert_code(1)
        .one_error(&[&addr, "reset"]);
    backend.join().expect("backend");
    relay
        .finish()
        .assert_code(1)
        .stderr_has("could not read unix:./p")
        .stderr_has("closed connection 1 (failed)");
}

/// The same on a Unix socket: a client whose bytes the relay had not read yet gets
/// ECONNRESET when it reads, not EOF. (One with nothing left unread can only see EOF:
/// Unix sockets have no reset of their own; see `relay --help`.)
#[test]
fn a_backend_reset_reaches_a_unix_client_with_unread_bytes_as_a_reset() {
    let env = Env::new();
    let (backend, go, arrived) = resetting_backend(&env, "p");
    let relay = relay(&env, &["--count", "1", "./r", "./p"]);
    let mut client = UnixStream::connect(env.path("r")).expect("connect");
    client.set_read_timeout(Some(DEADLINE)).expect("timeout");
    // Fill every buffer on the way: the back end reads nothing, so the relay ends up
    // blocked writing to it, and what we send then stays unread in the relay's queue. It
    // is blocked once our socket stays full for a while.
    client.set_nonblocking(true).expect("nonblocking");
    let chunk = vec![b'x'; 64 << 10];
    let settled = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 300_000_000,
    };
    loop {
        match client.write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let mut p = [rustix::event::PollFd::new(
                    &client,
                    rustix::event::PollFlags::OUT,
                )];
                if again(|| Ok(rustix::event::poll(&mut p, Some(&settled))?)).expect("poll") == 0 {
                    break;
                }
            }
            Err(e) => panic!("write: {e}"),
        }
    }
    client.set_nonblocking(false).expect("blocking");
    arrived
        .recv_timeout(DEADLINE)
        .expect("the back end got data");
    go.send(()).expect("close the back end");
    backend.join().expect("backend");
    let mut buf = [0u8; 16];
    let got = client.read(&mut buf);
    assert!(
        matches!(&got, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "want a reset, got {got:?}"
    );
    relay
        .finish()
        .assert_code(1)
        .stderr_has("closed connection 1 (failed)");
}
