//! Interop with the tools users know: socat (UNIX-LISTEN, UNIX-CONNECT, ABSTRACT-*) and
//! OpenBSD nc (-U), each as client and as server. Skipped with a note when a tool is
//! missing, a failure under IPCTOOL_REQUIRE_INTEROP=1 (CI).

use std::process::{Command, Stdio};

use crate::util::*;

fn tool(env: &Env, program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    hermetic(&mut c);
    c.current_dir(env.dir.path()).args(args);
    c
}

/// Runs a peer server collecting stdout, then `ipctool connect --wait` into it.
fn ipctool_into(server: Command, target: &str) {
    let env = Env::new();
    let data = random_bytes(8 << 20, 41);
    let server = {
        let mut s = server;
        s.current_dir(env.dir.path()).stdin(Stdio::null());
        s.stdout(Stdio::piped()).stderr(Stdio::piped());
        Proc::spawn_raw(s)
    };
    env.run(["connect", "--wait", "10s", target], &data)
        .success();
    let out = server.finish();
    out.success();
    assert_eq!(sha256(&out.stdout), sha256(&data), "{}", out.stderr);
}

/// Runs `ipctool listen`, then the peer client sending `data` into it.
fn peer_into_ipctool(addr: &str, client: impl FnOnce(&Env) -> Command) {
    let env = Env::new();
    let data = random_bytes(8 << 20, 42);
    let mut server = env.spawn(["listen", "-v", addr]);
    server.close_stdin();
    server.wait_ready();
    run_with_input(client(&env), &data).success();
    let out = server.finish();
    out.success();
    assert_eq!(sha256(&out.stdout), sha256(&data));
}

#[test]
fn socat_unix_listen_receives_from_ipctool() {
    if !have("socat") {
        return;
    }
    ipctool_into(
        {
            let mut c = Command::new("socat");
            c.args(["-u", "UNIX-LISTEN:./s", "STDOUT"]);
            c
        },
        "./s",
    );
}

#[test]
fn socat_unix_connect_sends_to_ipctool() {
    if !have("socat") {
        return;
    }
    peer_into_ipctool("./s", |env| {
        tool(env, "socat", &["-u", "STDIN", "UNIX-CONNECT:./s"])
    });
}

#[test]
fn socat_abstract_both_ways() {
    if !have("socat") {
        return;
    }
    let name = format!("ipctool-interop-{}", std::process::id());
    ipctool_into(
        {
            let mut c = Command::new("socat");
            c.args(["-u", &format!("ABSTRACT-LISTEN:{name}a"), "STDOUT"]);
            c
        },
        &format!("@{name}a"),
    );
    let b = format!("{name}b");
    peer_into_ipctool(&format!("@{b}"), |env| {
        tool(
            env,
            "socat",
            &["-u", "STDIN", &format!("ABSTRACT-CONNECT:{b}")],
        )
    });
}

#[test]
fn socat_echo_server_round_trip() {
    if !have("socat") {
        return;
    }
    let env = Env::new();
    let mut server = Proc::spawn(tool(&env, "socat", &["UNIX-LISTEN:./e,fork", "EXEC:cat"]));
    server.close_stdin();
    let data = random_bytes(4 << 20, 43);
    env.run(["connect", "--wait", "10s", "./e"], &data)
        .success()
        .stdout_is(&data);
}

#[test]
fn nc_listener_receives_from_ipctool() {
    if !have("nc") {
        return;
    }
    ipctool_into(
        {
            let mut c = Command::new("nc");
            c.args(["-lU", "./s"]);
            c
        },
        "./s",
    );
}

#[test]
fn nc_client_sends_to_ipctool() {
    if !have("nc") {
        return;
    }
    peer_into_ipctool("./s", |env| tool(env, "nc", &["-N", "-U", "./s"]));
}
