//! `pipe`: the pass-through meter and measured pipelines, run the way a user runs them:
//! bytes intact, every hop counted exactly, the bottleneck named, `pipefail` statuses,
//! EOF reaching every stage, no leaked pipe ends, quiet `| head`, signals, throttling, and
//! what reaches stderr with and without a terminal.

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::util::*;

/// A `hop` record, with every field ipctool may emit: an unknown key fails.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Hop {
    kind: String,
    hop: u64,
    from: String,
    to: String,
    bytes: u64,
    sent_bytes: u64,
    received_bytes: u64,
    duration_secs: f64,
    bytes_per_sec: f64,
    read_wait_secs: f64,
    write_wait_secs: f64,
    metered: bool,
}

/// `pipe`'s `total` record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Total {
    kind: String,
    stages: u64,
    sent_bytes: u64,
    received_bytes: u64,
    duration_secs: f64,
    sent_bytes_per_sec: f64,
    received_bytes_per_sec: f64,
    bottleneck: Option<String>,
    bottleneck_stage: Option<u64>,
}

/// The hop records (in order, numbered from 0) and the one total that follows them.
fn records(stderr: &str) -> (Vec<Hop>, Total) {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with('{')).collect();
    let (last, hops) = lines.split_last().expect("some records");
    let hops: Vec<Hop> = hops
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("hop record {l}: {e}")))
        .collect();
    for (i, h) in hops.iter().enumerate() {
        assert_eq!((h.kind.as_str(), h.hop), ("hop", i as u64), "{stderr}");
    }
    let total: Total =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("total record {last}: {e}"));
    assert_eq!(total.kind, "total");
    (hops, total)
}

/// `bash -c SCRIPT` (for `set -o pipefail`) with `$IPCTOOL` set.
fn bash(env: &Env, script: &str) -> Command {
    let mut c = Command::new("bash");
    hermetic(&mut c);
    c.current_dir(env.dir.path())
        .env("IPCTOOL", bin())
        .args(["-c", script]);
    c
}

/// Streams `blocks` distinct MiB blocks through `cmd` (stdin to stdout) without holding
/// them: returns the sha256 sent, the sha256 and length received, the status and stderr.
fn stream_through(cmd: Command, blocks: u64) -> (String, String, u64, Output) {
    const MIB: usize = 1 << 20;
    let (p, mut stdin, mut stdout) = Proc::spawn_streaming(cmd);
    let feeder = std::thread::spawn(move || {
        let base = random_bytes(MIB + 4096, 6);
        let mut block = vec![0u8; MIB];
        let mut h = Sha256::new();
        for i in 0..blocks {
            let at = (i as usize * 613) % 4096;
            block.copy_from_slice(&base[at..at + MIB]);
            block[..8].copy_from_slice(&i.to_le_bytes());
            h.update(&block);
            if stdin.write_all(&block).is_err() {
                break;
            }
        }
        hex(&h.finalize())
    });
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; MIB];
        let mut h = Sha256::new();
        let mut n = 0u64;
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => {
                    h.update(&buf[..k]);
                    n += k as u64;
                }
            }
        }
        (hex(&h.finalize()), n)
    });
    let sent = feeder.join().expect("feeder");
    let (received, n) = reader.join().expect("reader");
    (sent, received, n, p.finish())
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_gibibyte_passes_intact_and_hop_0_counts_every_byte() {
    let env = Env::new();
    let (sent, received, n, out) = stream_through(env.cmd(["pipe", "--stats=json"]), 1024);
    out.success();
    assert_eq!(n, 1 << 30);
    assert_eq!(received, sent, "sha256 of what came out");
    let (hops, total) = records(&out.stderr);
    assert_eq!(hops.len(), 1, "the plain meter has hop 0 only");
    assert_eq!(
        (hops[0].from.as_str(), hops[0].to.as_str()),
        ("stdin", "stdout")
    );
    assert_eq!(hops[0].bytes, 1 << 30);
    assert!(hops[0].metered);
    assert_eq!(
        (total.stages, total.sent_bytes, total.received_bytes),
        (0, 1 << 30, 1 << 30)
    );
}

#[test]
fn a_pipeline_meters_every_hop_and_names_gzip_as_the_bottleneck() {
    let env = Env::new();
    let out = env.run(
        [
            "pipe",
            "--stats=json",
            "--",
            "head -c 100000000 /dev/urandom",
            "gzip -1",
            "gunzip",
            "wc -c",
        ],
        b"",
    );
    out.success().stdout_is(b"100000000\n");
    let (hops, total) = records(&out.stderr);
    let bytes: Vec<u64> = hops.iter().map(|h| h.bytes).collect();
    assert_eq!(bytes.len(), 5, "{}", out.stderr);
    assert_eq!(bytes[0], 0, "nothing on stdin");
    assert_eq!(bytes[1], 100_000_000);
    assert!(
        bytes[2] > 50_000_000,
        "gzip output of random data: {}",
        bytes[2]
    );
    assert_eq!(bytes[3], 100_000_000);
    assert_eq!(bytes[4], 10);
    assert!(hops.iter().all(|h| h.metered));
    assert_eq!(hops[1].from, "head -c 100000000 /dev/urandom");
    assert_eq!(
        (hops[2].from.as_str(), hops[2].to.as_str()),
        ("gzip -1", "gunzip")
    );
    assert_eq!(
        total.bottleneck.as_deref(),
        Some("gzip -1"),
        "{}",
        out.stderr
    );
    // gzip -1 is the second stage: stages are numbered from 1.
    assert_eq!(total.bottleneck_stage, Some(2));
    assert_eq!(
        (total.stages, total.sent_bytes, total.received_bytes),
        (4, 0, 10)
    );
}

#[test]
fn human_stats_name_each_hop_and_the_bottleneck() {
    let env = Env::new();
    env.run(
        ["pipe", "--stats", "--", "cat", "sleep 0.2; wc -c"],
        b"12345",
    )
    .success()
    .stdout_is(b"5\n")
    .stderr_has("hop 0 (stdin → cat): 5 B")
    .stderr_has("hop 1 (cat → sleep 0.2; wc -c): 5 B")
    .stderr_has("hop 2 (sleep 0.2; wc -c → stdout): 2 B")
    .stderr_has("total: 2 stages");
}

#[test]
fn every_stage_sees_eof_and_bytes_arrive_exactly() {
    let env = Env::new();
    let data = random_bytes(3_000_017, 9);
    env.run(["pipe", "--", "cat", "cat", "cat"], &data)
        .success()
        .stdout_is(&data)
        .stderr_is_empty();
    env.run(["pipe", "--no-splice", "--", "cat", "wc -c"], &data)
        .success()
        .stdout_is(b"3000017\n");
}

#[test]
fn a_failing_stage_gives_its_status_and_is_named() {
    let env = Env::new();
    env.run(["pipe", "--", "echo hi", "false", "cat"], b"")
        .assert_code(1)
        .one_error(&["stage 2 (false)", "exited with status 1"]);
    env.run(["pipe", "--", "cat", "exit 3"], b"")
        .assert_code(3)
        .one_error(&["stage 2 (exit 3)", "exited with status 3"]);
    // pipefail: the last failing stage wins, the others are mentioned.
    env.run(["pipe", "--", "exit 4", "cat", "exit 5", "cat"], b"")
        .assert_code(5)
        .one_error(&["stage 3 (exit 5)", "stage 1 (exit 4) also failed"]);
    env.run(["pipe", "--", "ipctool-no-such-command"], b"")
        .assert_code(127)
        .stderr_has("hint: the shell did not find a command")
        .one_error(&["stage 1 (ipctool-no-such-command)", "status 127"]);
}

#[test]
fn a_stage_starting_with_a_dash_is_a_command_not_an_option_of_sh() {
    // `sh -c -x` would take -x as its own option ("-c requires an argument").
    let env = Env::new();
    let out = env.run(["pipe", "--", "-ipctool-no-such-command"], b"");
    out.assert_code(127);
    assert!(
        out.stderr.contains("-ipctool-no-such-command: not found"),
        "{}",
        out.stderr
    );
    let out = env.run(["connect", "exec:-ipctool-no-such-command"], b"");
    out.assert_code(1);
    assert!(
        out.stderr.contains("-ipctool-no-such-command: not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_stage_killed_by_sigpipe_fails_as_with_pipefail() {
    let env = Env::new();
    env.run(["pipe", "--", "yes", "head -n 1"], b"")
        .assert_code(141)
        .stdout_is(b"y\n")
        .one_error(&["stage 1 (yes)", "status 141"]);
}

#[test]
fn a_reader_leaving_stdout_ends_quietly_with_0() {
    let env = Env::new();
    for script in [
        "set -o pipefail; \"$IPCTOOL\" pipe < /dev/zero | head -c 1M | wc -c",
        "set -o pipefail; \"$IPCTOOL\" pipe -- 'cat /dev/zero' 'cat' | head -c 1M | wc -c",
    ] {
        run_with_input(bash(&env, script), b"")
            .success()
            .stdout_is(b"1048576\n")
            .stderr_is_empty();
    }
}

#[test]
fn no_stage_holds_a_descriptor_but_its_stdio() {
    let env = Env::new();
    let list = "ls /proc/$$/fd; true";
    // Not even what ipctool itself inherited from its parent (the test harness may leak).
    let out = env.run(["pipe", "--", "cat", list, "cat"], b"");
    out.success().stdout_is(b"0\n1\n2\n");
}

/// Runs `pipe -v -- STAGES` without a controlling terminal (as from a script or a
/// service) and returns it once every stage has started, with stage 1's pid.
fn spawn_detached(env: &Env, stages: &[&str]) -> (Proc, u32) {
    let mut c = Command::new("setsid");
    hermetic(&mut c);
    c.current_dir(env.dir.path())
        .args([bin(), "pipe", "-v", "--"])
        .args(stages);
    let p = Proc::spawn(c);
    let text = p.wait_for(&format!("started stage {}", stages.len()));
    let pid = text
        .split("started stage 1 (pid ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.parse().ok())
        .expect("stage 1's pid");
    (p, pid)
}

/// Waits until a child of `parent` runs `comm` (its exec is past the point of no return).
fn wait_for_child(parent: u32, comm: &str) {
    let deadline = Instant::now() + DEADLINE;
    let running = || {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                // pid (comm) state ppid ...
                stat.rsplit_once(')').is_some_and(|(head, tail)| {
                    head.ends_with(&format!("({comm}"))
                        && tail.split_whitespace().nth(1) == Some(&parent.to_string())
                })
            })
    };
    while !running() {
        assert!(Instant::now() < deadline, "{parent} never started {comm}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigint_reaches_the_stages_and_exits_130() {
    if !have("setsid") {
        return;
    }
    let env = Env::new();
    // `sh` waits for `sleep`: the signal must reach `sleep` too, not only the shell.
    // "ar''med" prints as "armed", which the echoed command line does not contain.
    let (p, pid) = spawn_detached(
        &env,
        &["echo ar''med >&2; sleep 30; echo not reached", "cat"],
    );
    p.wait_for("armed");
    // A SIGINT between the shell's fork and `sleep`'s exec is caught by the shell's own
    // handler in the child and lost at the exec: signal once `sleep` is running.
    wait_for_child(pid, "sleep");
    p.signal(libc::SIGINT);
    let out = p.finish();
    out.assert_code(130).stdout_is(b"");
    assert!(out.error_lines().is_empty(), "{}", out.stderr);
    // Ended by the SIGINT passed on, not by the SIGKILL that follows 3 s later.
    out.stderr_has("stage 1 (echo ar''med >&2; sleep 30; echo not reached) was killed by SIGINT");
    // cat gets the SIGINT too, unless the EOF from stage 1's death reached it first.
    assert!(
        out.stderr.contains("stage 2 (cat) was killed by SIGINT")
            || out.stderr.contains("stage 2 (cat) exited with status 0"),
        "{}",
        out.stderr
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "stage 1 (pid {pid}) was signalled and reaped"
    );
}

#[test]
fn a_stage_that_ignores_sigint_is_killed() {
    if !have("setsid") {
        return;
    }
    let env = Env::new();
    // The signal must come after the trap is set, or the shell dies of it first.
    let (p, pid) = spawn_detached(&env, &["trap '' INT; echo ar''med >&2; sleep 20", "cat"]);
    p.wait_for("armed");
    p.signal(libc::SIGINT);
    p.finish()
        .assert_code(130)
        .stderr_has("stage 1 (trap '' INT; echo ar''med >&2; sleep 20) was killed by SIGKILL");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn rate_limit_throttles() {
    let env = Env::new();
    let data = vec![7u8; 16 << 20];
    let t0 = Instant::now();
    env.run(["pipe", "--rate-limit", "8M"], &data)
        .success()
        .stdout_is(&data);
    let took = t0.elapsed();
    // 16 MiB at 8 MiB/s is 2 s; only the lower bound is the throttle's doing.
    assert!(took >= Duration::from_millis(1900), "took {took:?}");
}

/// Under --rate-limit the limit sets the pace: it is named, not the writer of stdin or a
/// stage that only waited for it.
#[test]
fn a_rate_limit_that_sets_the_pace_is_named_the_bottleneck() {
    let env = Env::new();
    let data = vec![7u8; 2 << 20];
    for stages in [&[][..], &["cat"][..], &["cat", "cat"][..]] {
        let mut args = vec!["pipe", "-L", "4M", "--stats=json", "--"];
        args.extend_from_slice(stages);
        let out = env.run(&args, &data);
        out.success().stdout_is(&data);
        let (_, total) = records(&out.stderr);
        assert_eq!(
            (total.bottleneck.as_deref(), total.bottleneck_stage),
            (Some("rate-limit"), None),
            "{stages:?}: {}",
            out.stderr
        );
    }
    env.run(["pipe", "-L", "4M", "--stats", "--", "cat"], &data)
        .success()
        .stderr_has("bottleneck: the rate limit (-L)");
}

#[test]
fn stderr_is_silent_unless_a_terminal_or_forced() {
    let env = Env::new();
    let data = random_bytes(100_000, 4);
    env.run(["pipe"], &data).success().stderr_is_empty();
    env.run(["pipe", "--progress", "--color", "never"], &data)
        .success()
        .stderr_has("ipctool: total: 97.7 KiB");
    let tty = |args: &[&str]| {
        let mut c = env.cmd(args);
        c.env("IPCTOOL_TEST_TTY", "1");
        run_with_input(c, &data)
    };
    // Both "terminals": the data shares the screen, so nothing is drawn unless forced,
    // and then on one line that is never left by moving the cursor up.
    tty(&["pipe", "--", "cat"])
        .success()
        .stdout_is(&data)
        .stderr_is_empty();
    let out = tty(&["pipe", "--progress", "--color", "never", "--", "cat"]);
    out.success()
        .stdout_is(&data)
        .stderr_has("hop 1 (cat → stdout)")
        .stderr_has("total: 1 stage");
    assert!(!moves_cursor_up(out.stderr.as_bytes()), "{:?}", out.stderr);
    tty(&["pipe", "--no-progress"]).success().stderr_is_empty();
    tty(&["pipe", "-q"]).success().stderr_is_empty();
    // --stats wins over the terminal summary: only JSON.
    let out = tty(&["pipe", "--stats=json"]);
    out.success();
    assert!(!out.stderr.contains("ipctool: total"), "{}", out.stderr);
    records(&out.stderr);
}

#[test]
fn an_empty_stage_is_a_usage_error() {
    let env = Env::new();
    env.run(["pipe", "--", "cat", ""], b"")
        .assert_code(2)
        .one_error(&["stage 2 is an empty command"]);
}

/// A stage that writes, pauses while the live lines are redrawn, writes again and pauses
/// again before its end, and the lines it writes.
const TALKER: &str = "printf 'alpha\\nbravo\\n'; sleep 0.4; printf 'charlie\\ndelta\\n'; sleep 0.4";
const TALKED: [&str; 4] = ["alpha", "bravo", "charlie", "delta"];

#[test]
fn live_lines_never_erase_output_on_the_same_terminal() {
    let env = Env::new();
    let pipeline = format!("\"$IPCTOOL\" pipe -- \"{TALKER}\" cat cat </dev/null");
    let meter = format!("sh -c \"{TALKER}\" | \"$IPCTOOL\" pipe");
    // By default nothing is drawn where stdout is the terminal: not even the summary.
    for script in [&pipeline, &meter] {
        let Some(screen) = on_terminal(&env, 60, script) else {
            return;
        };
        shows_lines_in_order(&screen, &TALKED);
        assert!(
            find(&screen, b"ipctool").is_none(),
            "{script}: {:?}",
            String::from_utf8_lossy(&screen)
        );
    }
    // Forced: one line, redrawn where the cursor is, never above it; then the summary.
    for (script, total) in [
        (
            pipeline.replace(" pipe ", " pipe --progress "),
            "total: 3 stages",
        ),
        (format!("{meter} --progress"), "total: 26 B"),
    ] {
        let screen = on_terminal(&env, 60, &script).expect("script was found above");
        let text = String::from_utf8_lossy(&screen);
        shows_lines_in_order(&screen, &TALKED);
        assert!(!moves_cursor_up(&screen), "{script}: {text:?}");
        assert!(text.contains(total), "{script}: {text:?}");
    }
}

#[test]
fn live_lines_are_drawn_when_stdout_is_not_the_terminal() {
    let env = Env::new();
    let script = format!("\"$IPCTOOL\" pipe -- \"{TALKER}\" cat >out </dev/null");
    let Some(screen) = on_terminal(&env, 100, &script) else {
        return;
    };
    let text = String::from_utf8_lossy(&screen);
    assert!(text.contains("hop 2 cat → stdout"), "{text:?}");
    assert!(text.contains("ipctool: total: 2 stages"), "{text:?}");
    assert_eq!(
        std::fs::read_to_string(env.path("out")).expect("out"),
        "alpha\nbravo\ncharlie\ndelta\n"
    );
}

#[test]
fn sigusr1_prints_the_counters_without_stats() {
    let env = Env::new();
    // (arguments, a line of the report once the 10 bytes are counted, the report's last
    // line, how many reports the exit adds)
    let human = "ipctool: total:";
    let json = r#"{"kind":"total""#;
    let cases: [(&[&str], &str, &str, usize); 4] = [
        (
            &["pipe", "--", "cat"],
            "ipctool: hop 1 (cat → stdout): 10 B",
            human,
            0,
        ),
        (&["pipe"], "ipctool: hop 0 (stdin → stdout): 10 B", human, 0),
        (&["pipe", "-q"], "ipctool: total: 10 B", human, 0),
        (
            &["pipe", "--stats=json", "--", "cat"],
            r#"{"kind":"hop","hop":1,"from":"cat","to":"stdout","bytes":10,"#,
            json,
            1,
        ),
    ];
    for (args, counted, last, at_exit) in cases {
        let (p, mut stdin, mut stdout) = Proc::spawn_streaming(env.cmd(args));
        stdin.write_all(b"0123456789").expect("stdin");
        let mut got = [0u8; 10];
        stdout.read_exact(&mut got).expect("the bytes pass");
        assert_eq!(&got, b"0123456789");
        // A count moves just after its bytes: ask until the report has them all.
        let mut asked = 0;
        while !p.stderr_now().contains(counted) {
            assert!(asked < 1000, "{args:?}: {}", p.stderr_now());
            p.signal(libc::SIGUSR1);
            asked += 1;
            p.wait_for_count(last, asked);
        }
        // Still running after the reports: it ends on EOF.
        drop(stdin);
        let out = p.finish();
        out.success();
        assert_eq!(
            out.stderr.matches(last).count(),
            asked + at_exit,
            "{args:?}: {}",
            out.stderr
        );
    }
}
