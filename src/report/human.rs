//! `--stats` for people: one line per record on stderr.

use crate::stats::{ConnRecord, Record, TotalRecord};
use crate::term::{Styles, escape};
use crate::units::{format_bytes, format_duration, format_rate};
use std::time::Duration;

pub fn render(record: &Record, s: &Styles) -> String {
    match record {
        Record::Connection(c) => connection(c, s),
        Record::Total(t) => total(t, s),
    }
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
}
