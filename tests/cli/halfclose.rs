//! Half-close both ways, with std sockets as the peer: a late answer after our EOF, a
//! server that stops talking first while the client keeps sending, and a peer that closes
//! completely while our stdin never ends.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use crate::util::*;

/// A server that reads everything, waits 2 s, then answers.
#[test]
fn connect_gets_an_answer_sent_2s_after_its_eof() {
    let env = Env::new();
    let listener = UnixListener::bind(env.path("s")).expect("bind");
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accept");
        let mut got = Vec::new();
        c.read_to_end(&mut got).expect("read");
        std::thread::sleep(Duration::from_secs(2));
        c.write_all(b"late answer to ").expect("write");
        c.write_all(&got).expect("write");
    });
    let t0 = Instant::now();
    env.run(["connect", "./s"], b"question")
        .success()
        .stdout_is(b"late answer to question");
    assert!(t0.elapsed() >= Duration::from_secs(2));
    server.join().expect("server");
}

/// The client half-closes; `listen` answers from a stdin that only starts 2 s later.
#[test]
fn listen_answers_after_the_clients_eof() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.wait_ready();
    let mut c = UnixStream::connect(env.path("s")).expect("connect");
    c.write_all(b"ping").expect("write");
    c.shutdown(Shutdown::Write).expect("shutdown");
    server.wait_for("accepted");
    std::thread::sleep(Duration::from_secs(2));
    server.stdin().write_all(b"pong").expect("stdin");
    server.close_stdin();
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).expect("read");
    assert_eq!(answer, b"pong");
    server.finish().success().stdout_is(b"ping");
}

/// The server shuts its side first; the client keeps sending and everything arrives.
#[test]
fn connect_keeps_sending_after_the_server_half_closes() {
    let env = Env::new();
    let listener = UnixListener::bind(env.path("s")).expect("bind");
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accept");
        c.write_all(b"early").expect("write");
        c.shutdown(Shutdown::Write).expect("shutdown");
        let mut got = Vec::new();
        c.read_to_end(&mut got).expect("read");
        got
    });
    let data = random_bytes(3 << 20, 9);
    let mut client = env.spawn(["connect", "./s"]);
    // Written in pieces, well after the server's EOF reached the client.
    {
        let stdin = client.stdin();
        for piece in data.chunks(256 << 10) {
            stdin.write_all(piece).expect("stdin");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    client.close_stdin();
    client.finish().success().stdout_is(b"early");
    assert_eq!(sha256(&server.join().expect("server")), sha256(&data));
}

/// The peer closes completely: connect ends at once although its stdin stays open.
#[test]
fn connect_ends_when_the_peer_closes_fully_even_if_stdin_never_ends() {
    let env = Env::new();
    let listener = UnixListener::bind(env.path("s")).expect("bind");
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accept");
        c.write_all(b"bye").expect("write");
        // dropping `c` closes both directions
    });
    let mut client = env.spawn(["connect", "./s"]);
    server.join().expect("server");
    // stdin is still open (the test holds the pipe), yet the client must finish.
    let status = client.wait_deadline();
    assert_eq!(status.code(), Some(0));
    client.close_stdin();
    client.finish().success().stdout_is(b"bye");
}

/// Same from the listening side: the client closes fully, listen's stdin never ends.
#[test]
fn listen_ends_when_the_client_closes_fully_even_if_stdin_never_ends() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.wait_ready();
    {
        let mut c = UnixStream::connect(env.path("s")).expect("connect");
        c.write_all(b"hello").expect("write");
    }
    let status = server.wait_deadline();
    assert_eq!(status.code(), Some(0));
    server.close_stdin();
    server.finish().success().stdout_is(b"hello");
}

/// A peer that goes away while we still have data to send: exit 1, never 0.
#[test]
fn a_write_that_fails_midway_is_exit_1() {
    let env = Env::new();
    let listener = UnixListener::bind(env.path("s")).expect("bind");
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 1000];
        c.read_exact(&mut buf).expect("read");
        // close with megabytes still unread
    });
    let data = random_bytes(32 << 20, 11);
    let out = env.run(["connect", "./s"], &data);
    server.join().expect("server");
    // Whichever direction notices first names the loss: the unsent stdin, or the reset.
    out.assert_code(1).one_error(&["unix:./s"]);
    let line = out.error_lines()[0];
    assert!(
        line.contains("could not send all of stdin") || line.contains("reset"),
        "{line}"
    );
}

/// A reset while receiving: exit 1 with the address in the message.
#[test]
fn a_reset_while_receiving_is_exit_1() {
    let env = Env::new();
    let listener = UnixListener::bind(env.path("s")).expect("bind");
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accept");
        c.write_all(b"partial").expect("write");
        // Leave our receive queue non-empty and close: the kernel resets the peer.
        let mut one = [0u8; 1];
        c.read_exact(&mut one).expect("read");
    });
    let mut client = env.spawn(["connect", "./s"]);
    client.stdin().write_all(b"xy").expect("stdin");
    server.join().expect("server");
    let out = client.finish();
    // Either the reset is seen (1) or all data was read and the peer's close is clean (0
    // is only allowed if nothing was lost, i.e. "partial" arrived and our 2 bytes were
    // consumed — they were not: one byte stayed unread, so the session lost data).
    out.assert_code(1).one_error(&["unix:./s"]);
}

/// Regression: what connect receives reaches the reader of its stdout (a pipe) at once,
/// before the peer sends anything more.
#[test]
fn connect_stdout_delivers_each_message_before_the_next_arrives() {
    use std::io::BufRead;
    let env = Env::new();
    let listener = UnixListener::bind(env.path("s")).expect("bind");
    let server = std::thread::spawn(move || {
        let (c, _) = listener.accept().expect("accept");
        c.set_read_timeout(Some(DEADLINE)).expect("timeout");
        let mut r = std::io::BufReader::new(c.try_clone().expect("clone"));
        let mut w = c;
        for i in 0..100 {
            writeln!(w, "question {i}").expect("write");
            let mut answer = String::new();
            r.read_line(&mut answer).expect("read");
            assert_eq!(answer, format!("answer {i}\n"));
        }
    });
    let mut client = env.cmd(["connect", "./s"]);
    client
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = client.spawn().expect("spawn");
    // A stall must fail the test, not hang it: kill connect at the deadline, unless the
    // test said it is done (so a recycled pid is never hit).
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(DEADLINE).is_err() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    });
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    for i in 0..100 {
        // Arrive late, after connect is already back in its next splice: that must not
        // keep the bytes it delivered from us.
        std::thread::sleep(Duration::from_millis(5));
        let mut q = String::new();
        stdout.read_line(&mut q).expect("read");
        assert_eq!(q, format!("question {i}\n"));
        writeln!(stdin, "answer {i}").expect("write");
    }
    server.join().expect("server");
    drop(stdin);
    let status = child.wait().expect("wait");
    let _ = done.send(());
    watchdog.join().expect("watchdog");
    assert!(status.success());
}

/// A peer that accepts and closes at once without reading: the stdin it never got is lost,
/// so exit 1 naming the address, never 0, however the race between its close and our
/// first send goes. Stdin is a regular file, then a pipe that already holds the bytes (its
/// writer stays open: only the peer can end the session).
#[test]
fn a_peer_that_closes_before_stdin_was_sent_is_exit_1() {
    use std::process::Stdio;
    let env = Env::new();
    let listener = UnixListener::bind(env.path("s")).expect("bind");
    let rounds = 30;
    let server = std::thread::spawn(move || {
        for _ in 0..2 * rounds {
            let (c, _) = listener.accept().expect("accept");
            drop(c);
        }
    });
    std::fs::write(env.path("in"), b"hi\n").expect("write");
    let run = |stdin: Stdio| {
        let mut c = env.cmd(["connect", "--stats", "./s"]);
        c.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = Proc::spawn_raw(c).finish();
        out.assert_code(1).one_error(&["unix:./s"]);
        let line = out.error_lines()[0];
        assert!(
            line.contains("could not send all of stdin") || line.contains("reset"),
            "{line}"
        );
    };
    for _ in 0..rounds {
        run(Stdio::from(
            std::fs::File::open(env.path("in")).expect("open"),
        ));
        let (r, mut w) = std::io::pipe().expect("pipe");
        w.write_all(b"hi\n").expect("fill the pipe");
        run(Stdio::from(r));
        drop(w);
    }
    server.join().expect("server");
}

/// A command that stops reading its stdin (it exits, or closes it) while more is coming:
/// what it did not take is lost, so exit 1 naming the command, not 0.
#[test]
fn a_command_that_stops_reading_made_that_choice() {
    // As `head` in a shell pipeline: what it did not read is its choice, and its exit
    // status says whether it failed. (Bytes already in its stdin pipe vanish unseen when it
    // exits, so "lost" could only be told by luck.)
    let env = Env::new();
    let data = random_bytes(5 << 20, 12);
    for cmd in ["head -c 10 >/dev/null", "exec 0<&-; sleep 1"] {
        let addr = format!("exec:{cmd}");
        env.run(["connect", &addr], &data)
            .success()
            .stderr_is_empty();
    }
    env.run(["connect", "exec:head -c 10 >/dev/null; exit 4"], &data)
        .assert_code(1)
        .one_error(&["exited with status 4"]);
}

/// Regression: a duplicate of the command's stdout, kept to look for bytes left behind,
/// held the pipe open after its reader failed, so the command blocked writing instead of
/// dying of SIGPIPE, until the client's stdin ended.
#[test]
fn a_command_whose_reader_failed_gets_sigpipe_at_once() {
    let env = Env::new();
    let server = env.spawn(["listen", "-v", "--count", "1", "-e", "yes", "./s"]);
    server.wait_ready();
    // --send-only shuts the reading half at once; its stdin stays open (never fed).
    let mut client = env.spawn(["connect", "--send-only", "./s"]);
    let t0 = Instant::now();
    let out = server.finish_within(Duration::from_secs(10));
    // What yes wrote to a client that reads nothing is lost: the connection failed.
    out.assert_code(1)
        .stderr_has("command exited with status 141");
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
    client.close_stdin();
    client.finish().success();
}
