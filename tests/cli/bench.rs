//! `ipctool bench`: the JSON schema (pinned: unknown fields are rejected), CSV and Markdown
//! shapes, `--connect` against a socat echo server, usage errors, and no process or file
//! left behind after a run or after SIGINT. Tiny durations and counts; no speed asserted.

use std::path::Path;
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::util::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    results: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    transport: String,
    #[serde(default)]
    address: Option<String>,
    mode: String,
    size_bytes: u64,
    clients: u64,
    pin: String,
    cpus: Vec<Cpus>,
    duration_secs: f64,
    messages: u64,
    #[serde(default)]
    bytes_per_sec: Option<f64>,
    #[serde(default)]
    msgs_per_sec: Option<f64>,
    #[serde(default)]
    latency_ns: Option<Latency>,
    #[serde(default)]
    pairs: Vec<Pair>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cpus {
    bench: u64,
    peer: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    pair: u64,
    duration_secs: f64,
    messages: u64,
    #[serde(default)]
    bytes_per_sec: Option<f64>,
    #[serde(default)]
    msgs_per_sec: Option<f64>,
    #[serde(default)]
    latency_ns: Option<Latency>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Latency {
    min: u64,
    p50: u64,
    p90: u64,
    p99: u64,
    p999: u64,
    max: u64,
    mean: f64,
}

/// (transport, mode, size) of each result, in order.
fn cases(r: &Report) -> Vec<(&str, &str, u64)> {
    r.results
        .iter()
        .map(|e| (e.transport.as_str(), e.mode.as_str(), e.size_bytes))
        .collect()
}

fn report(out: &Output) -> Report {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bench --json is not the pinned schema: {e}\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[track_caller]
fn check_latency(l: &Latency) {
    assert!(l.min > 0, "{l:?}");
    assert!(
        l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
        "percentiles out of order: {l:?}"
    );
    assert!(l.mean >= l.min as f64 && l.mean <= l.max as f64, "{l:?}");
}

/// Checks one entry: the SPEC keys for its mode, positive numbers, nothing of the other
/// mode.
#[track_caller]
fn check_entry(e: &Entry) {
    assert!(
        e.size_bytes > 0 && e.messages > 0 && e.duration_secs > 0.0,
        "{e:?}"
    );
    match e.mode.as_str() {
        "throughput" => {
            assert!(e.bytes_per_sec.is_some_and(|v| v > 0.0), "{e:?}");
            assert!(e.msgs_per_sec.is_some_and(|v| v > 0.0), "{e:?}");
            assert!(e.latency_ns.is_none(), "{e:?}");
        }
        "latency" => {
            check_latency(&e.latency_ns.expect("latency_ns"));
            assert!(
                e.bytes_per_sec.is_none() && e.msgs_per_sec.is_none(),
                "{e:?}"
            );
        }
        other => panic!("mode {other:?}"),
    }
    if e.clients > 1 {
        assert_eq!(e.pairs.len() as u64, e.clients, "{e:?}");
        for (i, p) in e.pairs.iter().enumerate() {
            assert_eq!(p.pair, i as u64 + 1);
            assert!(p.messages > 0 && p.duration_secs > 0.0, "{p:?}");
            assert_eq!(p.bytes_per_sec.is_some(), e.mode == "throughput");
            assert_eq!(p.msgs_per_sec.is_some(), e.mode == "throughput");
            if let Some(l) = &p.latency_ns {
                check_latency(l);
            }
        }
    } else {
        assert!(e.pairs.is_empty(), "{e:?}");
    }
}

#[test]
fn json_over_unix_has_the_spec_keys_and_ordered_percentiles() {
    let env = Env::new();
    let out = env.run(
        [
            "bench",
            "--transport",
            "unix",
            "--duration",
            "300ms",
            "--json",
        ],
        b"",
    );
    out.success();
    let r = report(&out);
    assert_eq!(
        cases(&r),
        [("unix", "throughput", 65536), ("unix", "latency", 64)]
    );
    for e in &r.results {
        check_entry(e);
        assert_eq!((e.clients, e.pin.as_str()), (1, "none"));
        assert!(e.cpus.is_empty() && e.address.is_none());
    }
}

#[test]
fn json_includes_the_message_transports_with_the_spec_keys() {
    let env = Env::new();
    let out = env.run(
        [
            "bench",
            "--transport",
            "unix-dgram,seqpacket",
            "--count",
            "300",
            "--warmup",
            "50ms",
            "--clients",
            "2",
            "--json",
        ],
        b"",
    );
    out.success();
    let r = report(&out);
    assert_eq!(
        cases(&r),
        [
            ("unix-dgram", "throughput", 65536),
            ("seqpacket", "throughput", 65536),
            ("unix-dgram", "latency", 64),
            ("seqpacket", "latency", 64),
        ]
    );
    for e in &r.results {
        check_entry(e);
        // One message is one datagram or packet: counted whole.
        assert!(e.messages >= 300, "{e:?}");
    }
}

#[test]
fn csv_has_a_header_and_one_row_per_case() {
    let env = Env::new();
    let out = env.run(
        [
            "bench",
            "-t",
            "pipe,fifo",
            "-m",
            "throughput",
            "-s",
            "4KiB",
            "-n",
            "500",
            "--csv",
        ],
        b"",
    );
    out.success();
    // Not a terminal: no progress bar, no other noise on stderr.
    assert_eq!(out.stderr, "", "stderr");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(&header[..4], ["transport", "address", "mode", "size_bytes"]);
    for (line, transport) in lines[1..].iter().zip(["pipe", "fifo"]) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        let get = |name: &str| cells[header.iter().position(|h| *h == name).expect(name)];
        assert_eq!(get("transport"), transport);
        assert_eq!(get("mode"), "throughput");
        assert_eq!(get("size_bytes"), "4096");
        assert_eq!(get("pair"), "all");
        assert!(
            get("bytes_per_sec").parse::<f64>().expect("number") > 0.0,
            "{line}"
        );
        assert!(
            get("messages").parse::<u64>().expect("number") >= 500,
            "{line}"
        );
        assert_eq!(get("latency_p50_ns"), "");
    }
}

#[test]
fn markdown_is_a_table_to_paste() {
    let env = Env::new();
    let out = env.run(
        [
            "bench",
            "-t",
            "unix,tcp",
            "--mode",
            "latency",
            "--pin",
            "same",
            "-n",
            "300",
            "--markdown",
        ],
        b"",
    );
    out.success();
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 4, "header, alignment, two transports:\n{text}");
    assert!(
        rows[0].starts_with("| transport | size | min µs | p50 µs |"),
        "{text}"
    );
    assert!(rows[1].starts_with("|---|---:|"), "{text}");
    let columns = rows[0].matches('|').count();
    for r in &rows {
        assert_eq!(r.matches('|').count(), columns, "{r}");
    }
    assert!(
        rows[2].starts_with("| unix | 64 B |") && rows[2].contains("| same "),
        "{text}"
    );
    assert!(rows[3].starts_with("| tcp | 64 B |"), "{text}");
    assert!(
        text.contains("round trip p50"),
        "the comparison line:\n{text}"
    );
}

#[test]
fn connect_measures_a_socat_echo_server_with_several_clients() {
    if !have("socat") {
        return;
    }
    let env = Env::new();
    let mut socat = Command::new("socat");
    hermetic(&mut socat);
    socat
        .current_dir(env.dir.path())
        .args(["UNIX-LISTEN:./echo.sock,fork", "EXEC:cat"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _socat = Proc::spawn_raw(socat);
    wait_for_path(&env.path("echo.sock"));
    let out = env.run(
        [
            "bench",
            "--connect",
            "./echo.sock",
            "--clients",
            "2",
            "-s",
            "64,64KiB",
            "-n",
            "200",
            "--json",
        ],
        b"",
    );
    out.success();
    let r = report(&out);
    assert_eq!(r.results.len(), 4);
    for e in &r.results {
        check_entry(e);
        assert_eq!(e.transport, "unix");
        assert_eq!(e.address.as_deref(), Some("unix:./echo.sock"));
        assert_eq!(e.clients, 2);
    }
    let lat: Vec<u64> = r
        .results
        .iter()
        .filter(|e| e.mode == "latency")
        .map(|e| e.size_bytes)
        .collect();
    assert_eq!(lat, [64, 65536], "both sizes round-trip through cat");
}

#[test]
fn bad_size_transport_and_duration_are_usage_errors() {
    let env = Env::new();
    for (args, word) in [
        (&["bench", "--size", "12parsecs"][..], "12parsecs"),
        (&["bench", "--size", "0"][..], "'0'"),
        (&["bench", "--size", "64,300M"][..], "'300M'"),
        (
            &["bench", "--transport", "carrier-pigeon"][..],
            "carrier-pigeon",
        ),
        (&["bench", "--duration", "5"][..], "'5'"),
        (&["bench", "--duration", "soon"][..], "soon"),
        (&["bench", "--connect", "fifo:./f"][..], "two-way"),
    ] {
        let out = env.run(args, b"");
        out.assert_code(2).stderr_has(word);
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// The peer pids from the `-v` lines.
fn peer_pids(stderr: &str) -> Vec<u32> {
    stderr
        .lines()
        .filter_map(|l| l.split("peer pid ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|pid| pid.parse().expect("pid"))
        .collect()
}

#[track_caller]
fn assert_gone(pids: &[u32], tmp: &Path) {
    assert!(!pids.is_empty(), "no peer was reported");
    for pid in pids {
        // A recycled pid is someone else's process: only a bench peer counts.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("__bench-peer"),
            "peer {pid} is still running"
        );
    }
    let left: Vec<_> = std::fs::read_dir(tmp)
        .expect("tmp dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn no_process_or_file_is_left_after_a_run_over_every_transport() {
    let env = Env::new();
    let tmp = env.path("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    let mut cmd = env.cmd([
        "bench",
        "-v",
        "--clients",
        "2",
        "--pin",
        "spread",
        "-n",
        "200",
        "--warmup",
        "10ms",
        "--json",
    ]);
    cmd.env("TMPDIR", &tmp);
    let out = run_with_input(cmd, b"");
    out.success();
    let r = report(&out);
    let got: Vec<(String, String)> = r
        .results
        .iter()
        .map(|e| (e.transport.clone(), e.mode.clone()))
        .collect();
    let mut want = Vec::new();
    for mode in ["throughput", "latency"] {
        for t in ["unix", "abstract", "fifo", "pipe", "tcp"] {
            want.push((t.to_owned(), mode.to_owned()));
        }
    }
    assert_eq!(got, want);
    for e in &r.results {
        check_entry(e);
        assert_eq!(e.pin, "spread");
        assert_eq!(e.cpus.len(), 2);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        for c in &e.cpus {
            let peer = c.peer.expect("the peer's CPU");
            assert!(cpus < 2 || c.bench != peer, "spread on one CPU: {e:?}");
        }
    }
    let pids = peer_pids(&out.stderr);
    assert_eq!(pids.len(), 20, "two peers per case:\n{}", out.stderr);
    assert_gone(&pids, &tmp);
}

#[test]
fn sigint_during_a_run_exits_130_and_leaves_nothing() {
    for transport in ["unix", "fifo", "pipe"] {
        let env = Env::new();
        let tmp = env.path("tmp");
        std::fs::create_dir(&tmp).expect("tmp");
        let mut cmd = env.cmd([
            "bench",
            "-v",
            "-t",
            transport,
            "-m",
            "latency",
            "--clients",
            "2",
            "-d",
            "30s",
        ]);
        cmd.env("TMPDIR", &tmp);
        let p = Proc::spawn(cmd);
        p.wait_for("peer pid");
        // Both pairs wired: the measurement is running.
        let deadline = std::time::Instant::now() + DEADLINE;
        while peer_pids(&p.stderr_now()).len() < 2 {
            assert!(std::time::Instant::now() < deadline, "{}", p.stderr_now());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        p.signal(libc::SIGINT);
        let out = p.finish();
        out.assert_code(130);
        assert!(out.error_lines().is_empty(), "{}", out.stderr);
        assert_gone(&peer_pids(&out.stderr), &tmp);
    }
}

#[test]
fn readme_tour_latency_table_at_two_sizes_pinned() {
    // The README's `ipctool bench --mode latency --size 64,4KiB --pin same`, made short.
    let env = Env::new();
    let out = env.run(
        [
            "bench", "--mode", "latency", "--size", "64,4KiB", "--pin", "same", "--count", "200",
        ],
        b"",
    );
    out.success();
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(!text.contains("Throughput"), "{text}");
    assert!(text.starts_with("Round-trip latency"), "{text}");
    let header = text.lines().nth(1).expect("header");
    for column in [
        "transport",
        "min µs",
        "p50 µs",
        "p99.9 µs",
        "max µs",
        "mean µs",
        "pin",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" same ")).collect();
    assert_eq!(rows.len(), 10, "five transports at two sizes:\n{text}");
    for t in ["unix", "abstract", "fifo", "pipe", "tcp"] {
        for size in ["64 B", "4 KiB"] {
            assert!(
                rows.iter().any(|r| r.starts_with(t) && r.contains(size)),
                "no {t} row at {size}:\n{text}"
            );
        }
    }
    assert!(text.contains("placement: the pin column"), "{text}");
    assert!(text.contains("round trip p50"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn a_failed_case_keeps_what_was_measured_before_it() {
    // An echo server that works once: the throughput case gets it, the latency case
    // finds a command that exits at once.
    let env = Env::new();
    let server = "exec:if [ -e used ]; then exit 1; fi; touch used; exec cat";
    let out = env.run(["bench", "--connect", server, "-n", "100", "--csv"], b"");
    out.assert_code(1).one_error(&[
        "latency at 64 B failed",
        "closed the connection during the first round trip",
    ]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert!(rows[0].starts_with("exec,exec:if"), "{text}");
    assert!(rows[0].contains(",throughput,65536,"), "{text}");
}
