//! Message sockets (`unix-dgram:`, `seqpacket:`) through listen, connect and relay: message
//! boundaries end to end, line and raw framing, datagram senders and answers, interop with
//! socat's UNIX-RECV and UNIX-SENDTO, and a seqpacket echo through `listen -k -e cat`.

use std::os::fd::{AsFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType};

use crate::util::*;

fn tool(env: &Env, program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    hermetic(&mut c);
    c.current_dir(env.dir.path()).args(args);
    c
}

/// A datagram socket of the test's own, bound to `path`, that gives up reading at the
/// deadline.
fn datagram_at(path: &Path) -> UnixDatagram {
    let s = UnixDatagram::bind(path).expect("bind");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s
}

/// A seqpacket client of the test's own.
fn seqpacket_to(path: &Path) -> OwnedFd {
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .expect("socket");
    rustix::net::connect(&fd, &SocketAddrUnix::new(path).expect("addr")).expect("connect");
    rustix::net::sockopt::set_socket_timeout(
        &fd,
        rustix::net::sockopt::Timeout::Recv,
        Some(DEADLINE),
    )
    .expect("timeout");
    fd
}

/// One whole message (empty at EOF); fails the test if it did not fit `room`.
fn recv_message(fd: &OwnedFd, room: usize) -> Vec<u8> {
    let mut buf = vec![0u8; room];
    let (n, _) = again(|| {
        Ok(rustix::net::recv(
            fd.as_fd(),
            &mut buf[..],
            RecvFlags::TRUNC,
        )?)
    })
    .expect("recv");
    assert!(n <= room, "a message of {n} bytes did not fit {room}");
    buf.truncate(n);
    buf
}

#[test]
fn logger_style_lines_arrive_as_one_datagram_each() {
    let env = Env::new();
    std::fs::create_dir(env.path("x")).expect("mkdir");
    let addr = format!("unix-dgram:{}", env.p("x/log"));
    let mut listen = env.spawn(["listen", "-v", "--count", "2", &addr]);
    listen.close_stdin();
    listen.wait_ready();
    let sender = env.sh(&format!("printf 'a\\nb\\n' | \"$IPCTOOL\" connect {addr}"));
    run_with_input(sender, b"").success();
    // A third datagram: a listener that took "a\nb" for one message would print it too.
    let _ = UnixDatagram::unbound()
        .and_then(|s| s.send_to(b"c", env.path("x/log")))
        .ok();
    let out = listen.finish();
    out.success()
        .stdout_is(b"a\nb\n")
        .stderr_has("datagram from @");
    assert!(!env.path("x/log").exists(), "the socket file is removed");
}

#[test]
fn connect_sends_one_datagram_per_line_and_per_read_with_raw_messages() {
    let env = Env::new();
    let server = datagram_at(&env.path("d"));
    let mut buf = [0u8; 64];
    env.run(["connect", "unix-dgram:./d"], b"one\n\ntwo\nthree")
        .success();
    for want in [&b"one"[..], b"", b"two", b"three"] {
        let n = again(|| server.recv(&mut buf)).expect("datagram");
        assert_eq!(&buf[..n], want);
    }
    env.run(
        ["connect", "--raw-messages", "unix-dgram:./d"],
        b"one\ntwo\n",
    )
    .success();
    let n = again(|| server.recv(&mut buf)).expect("datagram");
    assert_eq!(&buf[..n], b"one\ntwo\n", "one read is one message");
}

#[test]
fn listen_writes_a_line_per_datagram_or_them_raw() {
    for (raw, want) in [(false, &b"x\ny\nz\n"[..]), (true, b"xy\nz")] {
        let env = Env::new();
        let mut args = vec!["listen", "-v", "--count", "3"];
        if raw {
            args.push("--raw-messages");
        }
        args.push("unix-dgram:./d");
        let mut listen = env.spawn(args);
        listen.close_stdin();
        listen.wait_ready();
        let s = UnixDatagram::unbound().expect("socket");
        for m in [&b"x"[..], b"y\n", b"z"] {
            s.send_to(m, env.path("d")).expect("send");
        }
        listen.finish().success().stdout_is(want);
    }
}

#[test]
fn listen_names_each_sender_and_answers_the_most_recent_one() {
    let env = Env::new();
    let mut listen = env.spawn(["listen", "-v", "unix-dgram:./d"]);
    listen.wait_ready();
    let a = datagram_at(&env.path("a"));
    let b = datagram_at(&env.path("b"));
    a.send_to(b"from a", env.path("d")).expect("send");
    listen.wait_for("datagram from");
    b.send_to(b"from b", env.path("d")).expect("send");
    let seen = listen.wait_for(&format!("datagram from {}", env.p("b")));
    let me = std::process::id();
    assert!(
        seen.contains(&format!("datagram from {} (peer pid {me} uid ", env.p("a"))),
        "{seen}"
    );
    // stdin goes to the most recent sender.
    use std::io::Write;
    listen.stdin().write_all(b"answer\n").expect("stdin");
    listen.close_stdin();
    let mut buf = [0u8; 64];
    let n = again(|| b.recv(&mut buf)).expect("the answer");
    assert_eq!(&buf[..n], b"answer");
    // EOF on stdin does not end a datagram listen; a signal does.
    let c = datagram_at(&env.path("c"));
    c.send_to(b"still here", env.path("d")).expect("send");
    listen.wait_for(&format!("datagram from {}", env.p("c")));
    listen.signal(libc::SIGTERM);
    listen
        .finish()
        .assert_code(143)
        .stdout_is(b"from a\nfrom b\nstill here\n");
}

#[test]
fn a_datagram_client_waits_for_answers_until_idle() {
    let env = Env::new();
    let server = datagram_at(&env.path("svc"));
    let answerer = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = again(|| server.recv_from(&mut buf)).expect("question");
        assert_eq!(&buf[..n], b"status?");
        // The client bound an abstract name of its own: it can be answered.
        let name = from
            .as_abstract_name()
            .expect("an autobound abstract name")
            .to_vec();
        let to = std::os::unix::net::SocketAddr::from_abstract_name(&name).expect("addr");
        for answer in [&b"all"[..], b"good"] {
            server.send_to_addr(answer, &to).expect("answer");
        }
    });
    let out = env.run(
        [
            "connect",
            "--idle-timeout",
            "500ms",
            "-v",
            "unix-dgram:./svc",
        ],
        b"status?\n",
    );
    answerer.join().expect("answerer");
    out.success()
        .stdout_is(b"all\ngood\n")
        .stderr_has("idle for 500ms");
}

#[test]
fn socat_unix_recv_gets_one_datagram_per_line() {
    if !have("socat") {
        return;
    }
    let env = Env::new();
    let socat = Proc::spawn(tool(
        &env,
        "socat",
        &["-v", "-u", "UNIX-RECV:./log", "STDOUT"],
    ));
    wait_for_path(&env.path("log"));
    env.run(["connect", "unix-dgram:./log"], b"a\nb\n")
        .success();
    // socat -v logs each transfer: two datagrams of one byte.
    socat.wait_for("length=1 from=1 to=1");
    socat.signal(libc::SIGTERM);
    let out = socat.finish();
    assert_eq!(out.stdout, b"ab");
    assert_eq!(out.stderr.matches("length=1 ").count(), 2, "{}", out.stderr);
}

#[test]
fn socat_unix_sendto_reaches_listen() {
    if !have("socat") {
        return;
    }
    let env = Env::new();
    let mut listen = env.spawn(["listen", "-v", "--count", "2", "unix-dgram:./log"]);
    listen.close_stdin();
    listen.wait_ready();
    for line in [&b"a\n"[..], b"b\n"] {
        run_with_input(tool(&env, "socat", &["-u", "-", "UNIX-SENDTO:./log"]), line).success();
    }
    // Messages that end with a newline get no second one.
    listen
        .finish()
        .success()
        .stdout_is(b"a\nb\n")
        .stderr_has("datagram from an unnamed socket");
}

#[test]
fn seqpacket_echo_through_exec_cat_keeps_ten_thousand_boundaries() {
    const MESSAGES: usize = 10_000;
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "-e", "cat", "seqpacket:./echo"]);
    server.close_stdin();
    server.wait_ready();
    // Messages of 1 B to 64 KiB cut from one pool of bytes; a line is a message for `cat`,
    // so they hold no newline.
    let mut pool = random_bytes(1 << 20, 8);
    for b in &mut pool {
        if *b == b'\n' {
            *b = b' ';
        }
    }
    let pool = Arc::new(pool);
    let message = |pool: &[u8], i: usize| -> std::ops::Range<usize> {
        let size = 1 + (i * 7919 + i * i * 13) % (64 << 10);
        let start = (i * 104_729) % (pool.len() - size);
        start..start + size
    };
    let fd = Arc::new(seqpacket_to(&env.path("echo")));
    let writer = {
        let (fd, pool) = (Arc::clone(&fd), Arc::clone(&pool));
        std::thread::spawn(move || {
            for i in 0..MESSAGES {
                let m = &pool[message(&pool, i)];
                let n = rustix::net::send(fd.as_fd(), m, SendFlags::empty()).expect("send");
                assert_eq!(n, m.len());
            }
            rustix::net::shutdown(fd.as_fd(), rustix::net::Shutdown::Write).expect("shutdown");
        })
    };
    for i in 0..MESSAGES {
        let got = recv_message(&fd, 128 << 10);
        let want = &pool[message(&pool, i)];
        assert!(
            got == want,
            "message {i}: got {} bytes, want {} bytes",
            got.len(),
            want.len()
        );
    }
    assert!(recv_message(&fd, 16).is_empty(), "EOF after the last one");
    writer.join().expect("writer");
    server.wait_for("closed connection 1");
    server.signal(libc::SIGTERM);
    let out = server.finish();
    out.assert_code(143)
        .stderr_has("closed connection 1 (complete)")
        .stderr_has("command exited with status 0");
}

#[test]
fn seqpacket_listen_and_connect_exchange_lines_with_half_close() {
    let env = Env::new();
    let mut listen = env.spawn(["listen", "-v", "seqpacket:./p"]);
    listen.wait_ready();
    let fd = seqpacket_to(&env.path("p"));
    use std::io::Write;
    listen
        .stdin()
        .write_all(b"hello\n\nworld\n")
        .expect("stdin");
    listen.close_stdin();
    // An empty line is no message on seqpacket (it would read as the end).
    assert_eq!(recv_message(&fd, 64), b"hello");
    assert_eq!(recv_message(&fd, 64), b"world");
    assert!(recv_message(&fd, 64).is_empty(), "listen half-closed");
    for m in [&b"one"[..], b"two\nlines"] {
        rustix::net::send(fd.as_fd(), m, SendFlags::empty()).expect("send");
    }
    drop(fd);
    listen.finish().success().stdout_is(b"one\ntwo\nlines\n");
}

#[test]
fn connect_to_seqpacket_and_back_through_a_relay_to_a_stream_server() {
    let env = Env::new();
    // A stream server that upper-cases lines, behind a seqpacket relay.
    let mut relay = env.spawn(["relay", "-v", "seqpacket:./front", "exec:tr a-z A-Z"]);
    relay.close_stdin();
    relay.wait_ready();
    env.run(["connect", "seqpacket:./front"], b"abc\ndef\n")
        .success()
        .stdout_is(b"ABC\nDEF\n");
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
}

#[test]
fn relay_between_two_message_sockets_passes_messages_whole() {
    let env = Env::new();
    let sink = datagram_at(&env.path("out"));
    let mut relay = env.spawn(["relay", "-v", "-x", "unix-dgram:./in", "unix-dgram:./out"]);
    relay.close_stdin();
    relay.wait_ready();
    let sender = datagram_at(&env.path("sender"));
    let big = random_bytes(150 << 10, 3);
    for m in [&b"two\nlines"[..], b"", &big] {
        sender.send_to(m, env.path("in")).expect("send");
    }
    let mut buf = vec![0u8; 256 << 10];
    let n = again(|| sink.recv(&mut buf)).expect("relayed");
    assert_eq!(&buf[..n], b"two\nlines", "newlines stay inside the message");
    let (n, relay_addr) = again(|| sink.recv_from(&mut buf)).expect("relayed");
    assert_eq!(sha256(&buf[..n]), sha256(&big), "150 KiB, whole");
    // An answer goes back to the last sender.
    sink.send_to_addr(b"ack", &relay_addr).expect("answer");
    let n = again(|| sender.recv(&mut buf)).expect("the answer");
    assert_eq!(&buf[..n], b"ack");
    relay.signal(libc::SIGTERM);
    let out = relay.finish();
    out.assert_code(143);
    // The hex dump shows one block per message.
    assert!(out.stderr.contains("9 B at offset 0"), "{}", out.stderr);
    assert!(
        out.stderr.contains("153600 B at offset 9"),
        "{}",
        out.stderr
    );
}

#[test]
fn seqpacket_keep_open_serves_clients_concurrently_until_count() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-k", "-v", "--count", "2", "seqpacket:./p"]);
    server.wait_ready();
    let a = seqpacket_to(&env.path("p"));
    let b = seqpacket_to(&env.path("p"));
    server.wait_for("accepted connection 2");
    // stdin goes to every client, a line per message.
    use std::io::Write;
    server.stdin().write_all(b"to all\n").expect("stdin");
    assert_eq!(recv_message(&a, 64), b"to all");
    assert_eq!(recv_message(&b, 64), b"to all");
    rustix::net::send(a.as_fd(), b"from a", SendFlags::empty()).expect("send");
    rustix::net::send(b.as_fd(), b"from b", SendFlags::empty()).expect("send");
    drop((a, b));
    let out = server.finish();
    out.success();
    let mut lines: Vec<&[u8]> = out.stdout.split_inclusive(|&c| c == b'\n').collect();
    lines.sort();
    assert_eq!(lines, [&b"from a\n"[..], b"from b\n"]);
}

/// The README's tour of message sockets, as pasted (paths in the test's directory).
#[test]
fn readme_collector_and_seqpacket_echo() {
    let env = Env::new();
    let logger = have("logger");
    let count = if logger { "3" } else { "2" };
    let mut collector = env.spawn(["listen", "-v", "--count", count, "unix-dgram:./log.sock"]);
    collector.close_stdin();
    collector.wait_ready();
    let sh = env.sh(r#"printf 'disk full\nretrying\n' | "$IPCTOOL" connect unix-dgram:./log.sock"#);
    run_with_input(sh, b"").success();
    if logger {
        run_with_input(
            tool(&env, "logger", &["-u", "./log.sock", "hello from logger"]),
            b"",
        )
        .success();
    }
    let out = collector.finish();
    out.success().stderr_has("datagram from @");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("disk full\nretrying\n"), "{text}");
    if logger {
        assert!(text.ends_with(" hello from logger\n"), "{text}");
        assert!(
            out.stderr.contains("datagram from an unnamed socket"),
            "{}",
            out.stderr
        );
    }

    let mut echo = env.spawn(["listen", "-k", "-v", "-e", "cat", "seqpacket:./echo.seq"]);
    echo.close_stdin();
    echo.wait_ready();
    let sh = env.sh(r#"printf 'one\ntwo\n' | "$IPCTOOL" connect seqpacket:./echo.seq"#);
    run_with_input(sh, b"").success().stdout_is(b"one\ntwo\n");
    echo.signal(libc::SIGTERM);
    echo.finish().assert_code(143);
}

#[test]
fn relay_gives_each_stream_client_its_own_datagram_name_to_be_answered_at() {
    use std::io::{BufRead, BufReader, Read, Write};
    let env = Env::new();
    let server = datagram_at(&env.path("svc"));
    let mut relay = env.spawn(["relay", "-v", "./front", "unix-dgram:./svc"]);
    relay.close_stdin();
    relay.wait_ready();
    let answerer = std::thread::spawn(move || {
        let mut names = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..2 {
            let (n, from) = again(|| server.recv_from(&mut buf)).expect("question");
            let name = from.as_abstract_name().expect("autobound").to_vec();
            let to = std::os::unix::net::SocketAddr::from_abstract_name(&name).expect("addr");
            let mut answer = b"re: ".to_vec();
            answer.extend_from_slice(&buf[..n]);
            server.send_to_addr(&answer, &to).expect("answer");
            names.push(name);
        }
        names
    });
    for who in ["alice", "bob"] {
        let mut c = std::os::unix::net::UnixStream::connect(env.path("front")).expect("connect");
        c.set_read_timeout(Some(DEADLINE)).expect("timeout");
        writeln!(c, "{who}").expect("write");
        let mut r = BufReader::new(c.try_clone().expect("clone"));
        let mut line = String::new();
        r.read_line(&mut line).expect("answer");
        assert_eq!(line, format!("re: {who}\n"));
        // The client's EOF ends its pair: its datagram socket stops receiving.
        c.shutdown(std::net::Shutdown::Write).expect("shutdown");
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).expect("EOF");
        assert!(rest.is_empty());
    }
    let names = answerer.join().expect("answerer");
    assert_ne!(names[0], names[1], "one name per client");
    relay.wait_for("closed connection 2");
    relay.signal(libc::SIGTERM);
    relay.finish().assert_code(143);
}
