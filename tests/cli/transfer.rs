//! Bytes arrive exactly: every stream address kind end to end with bulk random data each
//! way (sha256), byte-exact small transfers around buffer boundaries, and the same bytes
//! with and without splice.

use crate::util::*;

/// Starts `listen -v ADDR` fed with `to_client`, connects with `to_server`, and returns
/// both outputs. `extra` flags go to both commands.
pub fn exchange(
    env: &Env,
    addr: &str,
    extra: &[&str],
    to_server: Vec<u8>,
    to_client: Vec<u8>,
) -> (Output, Output) {
    let mut args = vec!["listen", "-v", addr];
    args.extend_from_slice(extra);
    let mut server = env.spawn(&args);
    server.feed(to_client);
    let ready = server.wait_ready();
    let reachable = listening_address(&ready);
    let mut cargs = vec!["connect".to_owned(), reachable];
    cargs.extend(extra.iter().map(|s| s.to_string()));
    let client = env.run(&cargs, &to_server);
    (server.finish(), client)
}

/// The canonical address from a `listening on ADDR` line.
pub fn listening_address(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.split("listening on ").nth(1))
        .expect("a listening line")
        .trim()
        .to_owned()
}

fn bulk_both_ways(addr: &str, extra: &[&str]) {
    let env = Env::new();
    let up = random_bytes(64 << 20, 1);
    let down = random_bytes(64 << 20, 2);
    let (server, client) = exchange(&env, addr, extra, up.clone(), down.clone());
    server.success();
    client.success();
    assert_eq!(sha256(&server.stdout), sha256(&up), "client to server");
    assert_eq!(sha256(&client.stdout), sha256(&down), "server to client");
}

#[test]
fn unix_path_64mib_each_way() {
    bulk_both_ways("./s", &[]);
}

#[test]
fn unix_prefix_64mib_each_way_without_splice() {
    bulk_both_ways("unix:s", &["--no-splice"]);
}

#[test]
fn abstract_64mib_each_way() {
    let name = format!("@ipctool-test-bulk-{}", std::process::id());
    bulk_both_ways(&name, &[]);
}

#[test]
fn tcp_64mib_each_way() {
    bulk_both_ways("tcp:127.0.0.1:0", &[]);
}

#[test]
fn fifo_64mib() {
    let env = Env::new();
    let data = random_bytes(64 << 20, 3);
    let mut server = env.spawn(["listen", "-v", "fifo:f"]);
    server.close_stdin();
    server.wait_ready();
    env.run(["connect", "fifo:f"], &data)
        .success()
        .stdout_is(b"");
    let out = server.finish();
    out.success();
    assert_eq!(sha256(&out.stdout), sha256(&data));
    assert!(
        !env.path("f").exists(),
        "the FIFO ipctool created is removed"
    );
}

#[test]
fn exec_64mib_round_trip() {
    let env = Env::new();
    let data = random_bytes(64 << 20, 4);
    let out = env.run(["connect", "exec:cat"], &data);
    out.success();
    assert_eq!(sha256(&out.stdout), sha256(&data));
}

#[test]
fn stdio_64mib() {
    let env = Env::new();
    let data = random_bytes(64 << 20, 5);
    let out = env.run(["connect", "-"], &data);
    out.success();
    assert_eq!(sha256(&out.stdout), sha256(&data));
}

#[test]
fn exact_bytes_around_buffer_boundaries() {
    let env = Env::new();
    let all_values: Vec<u8> = (0..=255u8).collect();
    let mut cases: Vec<Vec<u8>> = vec![Vec::new(), vec![0], vec![b'\n'], all_values];
    for n in [
        4095, 4096, 4097, 65535, 65536, 65537, 131071, 131072, 131073, 1048575, 1048576, 1048577,
    ] {
        cases.push(random_bytes(n, n as u64));
    }
    for (i, up) in cases.into_iter().enumerate() {
        let down: Vec<u8> = up.iter().rev().copied().collect();
        let sock = format!("./s{i}");
        let (server, client) = exchange(&env, &sock, &[], up.clone(), down.clone());
        server.success().stdout_is(&up);
        client.success().stdout_is(&down);
    }
}

#[test]
fn exact_bytes_without_splice() {
    let env = Env::new();
    for (i, n) in [0usize, 1, 65537, 1048577].into_iter().enumerate() {
        let up = random_bytes(n, 100 + i as u64);
        let down = random_bytes(n / 2, 200 + i as u64);
        let sock = format!("./n{i}");
        let (server, client) = exchange(&env, &sock, &["--no-splice"], up.clone(), down.clone());
        server.success().stdout_is(&up);
        client.success().stdout_is(&down);
    }
}
