//! `ipctool connect ADDR`: stdin to ADDR, ADDR to stdout.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Ctx, Transfer, bridge_stdio};
use crate::addr::Address;
use crate::cli::ConnectArgs;
use crate::error::ExitStatus;
use crate::term::escape;
use crate::transport::{self, DialOpts};

/// `connect`, validated.
#[derive(Debug)]
pub struct ConnectConfig {
    pub addr: Address,
    pub wait: Option<Duration>,
    pub transfer: Transfer,
}

impl ConnectConfig {
    pub fn from_args(args: &ConnectArgs, ctx: &Ctx) -> Result<ConnectConfig> {
        if args.addr.is_message() {
            return Err(transport::unsupported(&args.addr, "connect to"));
        }
        Ok(ConnectConfig {
            addr: args.addr.clone(),
            wait: args.wait,
            transfer: Transfer::from_args(&args.transfer, &ctx.copy),
        })
    }
}

pub fn run(ctx: &Ctx, args: &ConnectArgs) -> Result<ExitStatus> {
    let started = Instant::now();
    let cfg = ConnectConfig::from_args(args, ctx)?;
    let remote = transport::dial(&cfg.addr, &DialOpts { wait: cfg.wait }, &ctx.signals)?;
    let peer = if remote.peer.is_known() {
        format!(" (peer {})", remote.peer)
    } else {
        String::new()
    };
    ctx.printer.event(format_args!(
        "connected to {}{peer}",
        escape(&cfg.addr.to_string())
    ));
    bridge_stdio(ctx, remote, &cfg.addr, &cfg.transfer, started)
}
