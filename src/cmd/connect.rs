//! `ipctool connect ADDR`: stdin to ADDR, ADDR to stdout.

use std::time::Instant;

use anyhow::Result;

use super::{Ctx, Transfer, bridge_stdio, check_raw_messages, require_stdout};
use crate::addr::Address;
use crate::cli::ConnectArgs;
use crate::error::ExitStatus;
use crate::report::StatsOut;
use crate::stats::{Record, TotalRecord};
use crate::term::escape;
use crate::transport::{self, DialOpts};

/// `connect`, validated.
#[derive(Debug)]
pub struct ConnectConfig {
    pub addr: Address,
    pub dial: DialOpts,
    pub transfer: Transfer,
}

impl ConnectConfig {
    pub fn from_args(args: &ConnectArgs, ctx: &Ctx) -> Result<ConnectConfig> {
        check_raw_messages(&args.transfer, &[&args.addr])?;
        let transfer = Transfer::from_args(&args.transfer, &ctx.copy);
        Ok(ConnectConfig {
            addr: args.addr.clone(),
            dial: DialOpts {
                wait: args.wait,
                framing: transfer.framing,
                keep_receiving: transfer.keep_receiving(),
            },
            transfer,
        })
    }
}

pub fn run(ctx: &Ctx, args: &ConnectArgs) -> Result<ExitStatus> {
    let started = Instant::now();
    let cfg = ConnectConfig::from_args(args, ctx)?;
    let shown = escape(&cfg.addr.to_string());
    let dialed = require_stdout(&cfg.transfer, &format!("what {shown} sends"))
        .and_then(|()| transport::dial(&cfg.addr, &cfg.dial, &ctx.signals));
    let remote = match dialed {
        Ok(remote) => remote,
        Err(e) => {
            // SPEC §3: a `total` record at exit, even when no connection was made.
            let total = TotalRecord::new(0, 0, 0, started.elapsed());
            StatsOut::new(cfg.transfer.stats, &ctx.printer).print(&[Record::Total(total)]);
            return Err(e);
        }
    };
    let peer = if remote.peer.is_known() {
        format!(" (peer {})", remote.peer)
    } else {
        String::new()
    };
    ctx.printer
        .event(format_args!("connected to {shown}{peer}"));
    bridge_stdio(ctx, remote, &cfg.addr, &cfg.transfer, started)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::transport::Framing;

    fn config(line: &str) -> Result<ConnectConfig, String> {
        match crate::cmd::parse_for_test(line)? {
            (Command::Connect(args), ctx) => {
                ConnectConfig::from_args(&args, &ctx).map_err(|e| format!("{e:#}"))
            }
            _ => Err("not connect".into()),
        }
    }

    #[test]
    fn message_options_from_the_command_line() {
        let s = std::time::Duration::from_secs;
        // (command line, framing, keep receiving after EOF, wait)
        let rows = [
            ("connect unix-dgram:/l", Framing::Lines, false, None),
            (
                "connect --raw-messages seqpacket:@p",
                Framing::Raw,
                false,
                None,
            ),
            (
                "connect --idle-timeout 1s unix-dgram:/l",
                Framing::Lines,
                true,
                None,
            ),
            (
                "connect --recv-only unix-dgram:/l",
                Framing::Lines,
                true,
                None,
            ),
            (
                "connect --wait 2s unix-dgram:/l",
                Framing::Lines,
                false,
                Some(s(2)),
            ),
        ];
        for (line, framing, keep, wait) in rows {
            let cfg = config(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(
                (cfg.dial.framing, cfg.dial.keep_receiving, cfg.dial.wait),
                (framing, keep, wait),
                "{line}"
            );
        }
    }

    #[test]
    fn raw_messages_needs_a_message_address() {
        for line in ["connect --raw-messages /tmp/s", "connect --raw-messages @x"] {
            let err = config(line).expect_err(line);
            assert!(err.contains("--raw-messages applies to"), "{line}: {err}");
        }
    }
}
