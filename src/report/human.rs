//! `--stats` for people: one line per record on stderr.

use crate::stats::{ConnRecord, HopRecord, PipeTotalRecord, Record, TotalRecord};
use crate::term::{Styles, escape};
use crate::units::{format_bytes, format_duration, format_rate};
use std::time::Duration;

pub fn render(record: &Record, s: &Styles) -> String {
    match record {
        Record::Connection(c) => connection(c, s),
        Record::Total(t) => total(t, s),
        Record::Hop(h) => hop(h, s),
        Record::PipeTotal(t) => pipe_total(t, s),
    }
}

fn hop(h: &HopRecord, s: &Styles) -> String {
    let head = format!(
        "ipctool: {} ({} → {})",
        s.heading(format!("hop {}", h.hop)),
        escape(&h.from),
        escape(&h.to)
    );
    if !h.metered {
        return format!("{head}: a terminal, given to the stage directly (not metered)");
    }
    let share = |wait: f64| {
        if h.duration_secs > 0.0 {
            (100.0 * wait / h.duration_secs).round().min(100.0)
        } else {
            0.0
        }
    };
    format!(
        "{head}: {} ({}) in {}; waited to read {}%, to write {}%",
        s.accent(format_bytes(h.bytes)),
        format_rate(h.bytes_per_sec),
        format_duration(Duration::from_secs_f64(h.duration_secs.max(0.0))),
        share(h.read_wait_secs),
        share(h.write_wait_secs)
    )
}

fn pipe_total(t: &PipeTotalRecord, s: &Styles) -> String {
    let d = Duration::from_secs_f64(t.duration_secs.max(0.0));
    let mut line = if t.stages == 0 {
        format!(
            "ipctool: {}: {} ({}) in {}",
            s.heading("total"),
            s.accent(format_bytes(t.sent_bytes)),
            format_rate(t.sent_bytes_per_sec),
            format_duration(d)
        )
    } else {
        let plural = if t.stages == 1 { "" } else { "s" };
        format!(
            "ipctool: {}: {} stage{plural} in {}, {} from stdin, {} to stdout",
            s.heading("total"),
            t.stages,
            format_duration(d),
            s.accent(format_bytes(t.sent_bytes)),
            s.accent(format_bytes(t.received_bytes)),
        )
    };
    let who = match (&t.bottleneck, t.bottleneck_stage) {
        (Some(cmd), Some(n)) => Some(format!("{} (stage {n})", s.warn(escape(cmd)))),
        (Some(end), None) if end == "stdin" => Some("the writer of stdin".to_owned()),
        (Some(end), None) if end == "stdout" => Some("the reader of stdout".to_owned()),
        (Some(end), None) if end == "rate-limit" => Some("the rate limit (-L)".to_owned()),
        (Some(other), None) => Some(escape(other)),
        (None, _) => None,
    };
    if let Some(who) = who {
        line.push_str(&format!("; bottleneck: {who}"));
    }
    line
}

fn connection(c: &ConnRecord, s: &Styles) -> String {
    let mut who = escape(&c.address);
    if let Some(peer) = &c.peer {
        who.push_str(&format!(" from {}", escape(peer)));
    }
    let creds: Vec<String> = [
        ("pid", c.peer_pid),
        ("uid", c.peer_uid),
        ("gid", c.peer_gid),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
    .collect();
    if !creds.is_empty() {
        who.push_str(&format!(", peer {}", creds.join(" ")));
    }
    let mut line = format!(
        "ipctool: {} {} ({who}): {}",
        s.heading("connection"),
        c.connection,
        flow(c.sent_bytes, c.received_bytes, c.duration_secs, s)
    );
    if c.status != "complete" {
        line.push_str(&format!(" [{}]", c.status));
    }
    if let Some(code) = c.exit_code {
        line.push_str(&format!(", command exited {code}"));
    }
    if let Some(sig) = c.exit_signal {
        line.push_str(&format!(", command killed by signal {sig}"));
    }
    if let Some(e) = &c.error {
        line.push_str(&format!(": {}", s.bad(escape(e))));
    }
    line
}

fn total(t: &TotalRecord, s: &Styles) -> String {
    let plural = if t.connections == 1 { "" } else { "s" };
    format!(
        "ipctool: {}: {} connection{plural}, {}",
        s.heading("total"),
        t.connections,
        flow(t.sent_bytes, t.received_bytes, t.duration_secs, s)
    )
}

fn flow(sent: u64, received: u64, secs: f64, s: &Styles) -> String {
    let d = Duration::from_secs_f64(secs.max(0.0));
    let rate = |b: u64| format_rate(if secs > 0.0 { b as f64 / secs } else { 0.0 });
    format!(
        "sent {} ({}), received {} ({}) in {}",
        s.accent(format_bytes(sent)),
        rate(sent),
        s.accent(format_bytes(received)),
        rate(received),
        format_duration(d)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::PeerCreds;

    #[test]
    fn lines() {
        let s = Styles { enabled: false };
        let mut c = ConnRecord::new(
            1,
            "unix:/tmp/s".into(),
            PeerCreds {
                pid: Some(42),
                uid: Some(0),
                gid: Some(0),
            },
            2048,
            0,
            Duration::from_secs(2),
        );
        c.status = "complete";
        assert_eq!(
            connection(&c, &s),
            "ipctool: connection 1 (unix:/tmp/s, peer pid 42 uid 0 gid 0): sent 2.00 KiB (1.00 KiB/s), received 0 B (0 B/s) in 2.00s"
        );
        let t = TotalRecord::new(2, 10, 20, Duration::from_millis(500));
        assert_eq!(
            total(&t, &s),
            "ipctool: total: 2 connections, sent 10 B (20 B/s), received 20 B (40 B/s) in 500ms"
        );
    }

    #[test]
    fn hop_and_pipe_lines() {
        let s = Styles { enabled: false };
        let h = HopRecord::new(
            1,
            ("head".into(), "gzip -1".into()),
            2048,
            Duration::from_secs(2),
            (Duration::from_millis(100), Duration::from_millis(1500)),
        );
        assert_eq!(
            hop(&h, &s),
            "ipctool: hop 1 (head → gzip -1): 2.00 KiB (1.00 KiB/s) in 2.00s; waited to read 5%, to write 75%"
        );
        let direct = HopRecord {
            metered: false,
            ..h
        };
        assert!(hop(&direct, &s).ends_with("(not metered)"));
        let mut t = PipeTotalRecord {
            kind: "total",
            stages: 2,
            sent_bytes: 0,
            received_bytes: 10,
            duration_secs: 2.0,
            sent_bytes_per_sec: 0.0,
            received_bytes_per_sec: 5.0,
            bottleneck: Some("gzip -1".into()),
            bottleneck_stage: Some(2),
        };
        assert_eq!(
            pipe_total(&t, &s),
            "ipctool: total: 2 stages in 2.00s, 0 B from stdin, 10 B to stdout; bottleneck: gzip -1 (stage 2)"
        );
        t.stages = 0;
        t.sent_bytes = 10;
        t.bottleneck = Some("stdout".into());
        t.bottleneck_stage = None;
        assert_eq!(
            pipe_total(&t, &s),
            "ipctool: total: 10 B (0 B/s) in 2.00s; bottleneck: the reader of stdout"
        );
    }
}
