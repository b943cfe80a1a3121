//! Socket files that are safe by construction: exact modes whatever the umask, stale files
//! reclaimed, live listeners left alone, non-sockets and symlinks never touched, only our
//! own file removed, other users kept out.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};

use crate::util::*;

#[test]
fn stale_socket_file_is_reclaimed_with_a_note() {
    let env = Env::new();
    drop(UnixListener::bind(env.path("s")).expect("bind"));
    assert!(
        env.path("s").exists(),
        "std leaves the file behind: a stale socket"
    );
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.close_stdin();
    let log = server.wait_ready();
    assert!(log.contains("reclaimed"), "{log}");
    env.run(["connect", "./s"], b"works").success();
    server.finish().success().stdout_is(b"works");
}

#[test]
fn a_live_listener_is_refused_by_pid_and_keeps_serving() {
    let env = Env::new();
    let mut first = env.spawn(["listen", "-v", "./s"]);
    first.close_stdin();
    first.wait_ready();
    let pid = first.pid().to_string();
    env.run(["listen", "./s"], b"")
        .assert_code(1)
        .one_error(&["unix:./s", "in use", &pid]);
    // The first listener was not disturbed: its one client is still to come.
    env.run(["connect", "./s"], b"still here").success();
    first.finish().success().stdout_is(b"still here");
}

#[test]
fn an_abstract_name_in_use_is_refused() {
    let env = Env::new();
    let name = format!("@ipctool-inuse-{}", std::process::id());
    let mut first = env.spawn(["listen", "-v", &name]);
    first.close_stdin();
    first.wait_ready();
    env.run(["listen", &name], b"").assert_code(1).one_error(&[
        &name,
        "in use",
        &first.pid().to_string(),
    ]);
    env.run(["connect", &name], b"ok").success();
    first.finish().success().stdout_is(b"ok");
}

#[test]
fn non_sockets_are_refused_and_left_byte_for_byte() {
    let env = Env::new();
    std::fs::write(env.path("file"), b"precious bytes").expect("write");
    std::fs::create_dir(env.path("dir")).expect("mkdir");
    interprocess::os::unix::fifo_file::create_fifo(env.path("fifo"), 0o644).expect("mkfifo");
    std::os::unix::fs::symlink(env.path("file"), env.path("link")).expect("symlink");
    let before: Vec<_> = ["file", "dir", "fifo", "link"]
        .iter()
        .map(|n| std::fs::symlink_metadata(env.path(n)).expect("lstat"))
        .map(|m| (m.ino(), m.mode(), m.mtime(), m.size()))
        .collect();
    for (name, kind) in [
        ("file", "regular file"),
        ("dir", "directory"),
        ("fifo", "FIFO"),
        ("link", "symbolic link"),
    ] {
        env.run(["listen", &format!("unix:{name}")], b"")
            .assert_code(1)
            .one_error(&[name, kind, "not a socket"]);
    }
    let after: Vec<_> = ["file", "dir", "fifo", "link"]
        .iter()
        .map(|n| std::fs::symlink_metadata(env.path(n)).expect("lstat"))
        .map(|m| (m.ino(), m.mode(), m.mtime(), m.size()))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        std::fs::read(env.path("file")).expect("read"),
        b"precious bytes"
    );
}

#[test]
fn a_dangling_symlink_is_refused_and_its_target_never_created() {
    let env = Env::new();
    std::os::unix::fs::symlink(env.path("target"), env.path("link")).expect("symlink");
    env.run(["listen", "./link"], b"")
        .assert_code(1)
        .one_error(&["unix:./link", "symbolic link"]);
    env.run(["listen", "fifo:link"], b"")
        .assert_code(1)
        .one_error(&["fifo:link", "symbolic link"]);
    assert!(!env.path("target").exists());
    assert!(
        std::fs::symlink_metadata(env.path("link"))
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_successors_socket_is_never_removed() {
    let env = Env::new();
    let server = env.spawn(["listen", "-k", "-v", "./s"]);
    server.wait_ready();
    // Someone moves our socket away and binds their own at the same path.
    std::fs::rename(env.path("s"), env.path("moved")).expect("rename");
    let successor = UnixListener::bind(env.path("s")).expect("bind successor");
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143);
    assert!(
        std::fs::symlink_metadata(env.path("s"))
            .expect("successor's socket")
            .file_type()
            .is_socket()
    );
    // And it still works.
    let mut c = UnixStream::connect(env.path("s")).expect("connect");
    let (mut a, _) = successor.accept().expect("accept");
    c.write_all(b"x").expect("write");
    let mut one = [0u8; 1];
    a.read_exact(&mut one).expect("read");
}

#[test]
fn after_sigkill_the_next_listen_reclaims_the_stale_file() {
    let env = Env::new();
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.wait_ready();
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    assert!(env.path("s").exists(), "SIGKILL leaves the file behind");
    let mut again = env.spawn(["listen", "-v", "./s"]);
    again.close_stdin();
    let log = again.wait_ready();
    assert!(log.contains("reclaimed"), "{log}");
    env.run(["connect", "./s"], b"second life").success();
    again.finish().success().stdout_is(b"second life");
}

#[test]
fn modes_are_exact_whatever_the_umask() {
    let env = Env::new();
    for (umask, args, want) in [
        ("000", "", 0o600),
        ("022", "", 0o600),
        ("077", "--mode 0660", 0o660),
        ("000", "--mode 0640", 0o640),
        ("022", "--mode 0666", 0o666),
    ] {
        let name = format!("m{umask}{}", want);
        let script = format!(
            r#"umask {umask}; "$IPCTOOL" listen -v {args} ./{name} 2>{name}.err </dev/null & 
               wait_ready {name}.err
               stat -c %a {name}; "$IPCTOOL" connect ./{name} </dev/null; wait"#
        );
        let out = run_with_input(env.sh(&script), b"");
        out.success();
        let got = u32::from_str_radix(String::from_utf8_lossy(&out.stdout).trim(), 8)
            .expect("octal mode");
        assert_eq!(got, want, "umask {umask} {args}");
        // FIFOs too.
        let fifo = format!("f{name}");
        let script = format!(
            r#"umask {umask}; "$IPCTOOL" listen -v {args} fifo:{fifo} 2>{fifo}.err & 
               wait_ready {fifo}.err
               stat -c %a {fifo}; echo x | "$IPCTOOL" connect fifo:{fifo} >/dev/null; wait"#
        );
        let out = run_with_input(env.sh(&script), b"");
        out.success();
        let got = u32::from_str_radix(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim(),
            8,
        )
        .expect("octal mode");
        assert_eq!(got, want, "FIFO, umask {umask} {args}");
    }
}

#[test]
fn another_uid_is_refused_by_a_0600_socket() {
    let env = Env::new();
    // Let other users reach the directory: only the socket's own mode should stop them.
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let mut server = env.spawn(["listen", "-v", "./s"]);
    server.close_stdin();
    server.wait_ready();
    let Some(out) = as_nobody(&env, &["connect", "./s"], b"from nobody") else {
        return;
    };
    out.assert_code(1)
        .one_error(&["unix:./s", "ermission denied"]);
    env.run(["connect", "./s"], b"owner").success();
    server.finish().success().stdout_is(b"owner");
}

#[test]
fn allow_uid_refuses_others_on_an_abstract_socket_and_keeps_serving() {
    let env = Env::new();
    let name = format!("@ipctool-allow-{}", std::process::id());
    let mut server = env.spawn(["listen", "-k", "-v", "--allow-uid", "0", &name]);
    server.close_stdin();
    server.wait_ready();
    let Some(out) = as_nobody(&env, &["connect", &name], b"from nobody") else {
        return;
    };
    out.stdout_is(b"");
    let log = server.wait_for("refused");
    assert!(log.contains("uid 65534"), "{log}");
    assert!(log.contains("pid "), "{log}");
    env.run(["connect", &name], b"root line\n").success();
    server.wait_for("closed connection 1");
    server.signal(libc::SIGTERM);
    server.finish().assert_code(143).stdout_is(b"root line\n");
}

#[test]
fn abstract_without_allow_uid_warns_under_v() {
    let env = Env::new();
    let name = format!("@ipctool-warn-{}", std::process::id());
    let mut server = env.spawn(["listen", "-v", "--timeout", "100ms", &name]);
    server.close_stdin();
    server
        .finish()
        .assert_code(124)
        .stderr_has("any local user can connect")
        .stderr_has("--allow-uid");
}

#[test]
fn a_missing_directory_is_named_as_missing() {
    let env = Env::new();
    env.run(["listen", "no/such/s"], b"")
        .assert_code(1)
        .one_error(&["cannot listen on unix:no/such/s"])
        .stderr_has("hint: the directory no/such does not exist");
    env.run(["listen", "fifo:no/such/f"], b"")
        .assert_code(1)
        .one_error(&["cannot create the FIFO fifo:no/such/f"])
        .stderr_has("hint: the directory no/such does not exist");
}

#[test]
fn a_filesystem_that_holds_no_sockets_or_fifos_is_named_not_called_missing() {
    let env = Env::new();
    // proc(5) answers ENOENT for a new name in a directory that exists.
    let mut cases = vec![
        (
            vec!["listen", "/proc/x.sock"],
            "cannot listen on unix:/proc/x.sock",
            "hint: the directory /proc exists, but its filesystem does not allow creating a socket in it",
        ),
        (
            vec!["listen", "fifo:/proc/x.fifo"],
            "cannot create the FIFO fifo:/proc/x.fifo",
            "hint: the directory /proc exists, but its filesystem does not allow creating a FIFO in it",
        ),
        (
            vec!["relay", "/proc/x.sock", "./nowhere"],
            "cannot listen on unix:/proc/x.sock",
            "hint: the directory /proc exists, but its filesystem does not allow creating a socket in it",
        ),
        (
            vec!["mkfifo", "/proc/x.fifo"],
            "cannot create FIFO /proc/x.fifo",
            "hint: the directory /proc exists, but its filesystem does not allow creating a FIFO in it",
        ),
    ];
    // sysfs answers EPERM even to root (a user gets EACCES: the directory is 0555).
    if rustix::process::geteuid().is_root() {
        cases.push((
            vec!["listen", "/sys/x.sock"],
            "cannot listen on unix:/sys/x.sock",
            "hint: the directory /sys does not allow creating a socket",
        ));
        cases.push((
            vec!["mkfifo", "/sys/x.fifo"],
            "cannot create FIFO /sys/x.fifo",
            "hint: the directory /sys does not allow creating a FIFO",
        ));
    }
    for (args, error, hint) in cases {
        env.run(&args, b"")
            .assert_code(1)
            .one_error(&[error])
            .stderr_has(hint)
            .stderr_has("writable directory such as $XDG_RUNTIME_DIR or /tmp")
            .stderr_lacks("does not exist")
            .stderr_lacks("you may not create files");
    }
}
