//! `ipctool __bench-peer` (hidden): the other process of a `bench` pair. It connects where
//! `bench` says, through the same transport core, and either writes messages until its
//! reader goes away (throughput) or echoes each message back until EOF (latency). It ends
//! with `bench`, whatever happens to `bench`.

use anyhow::{Context, Result, anyhow};

use super::Ctx;
use crate::addr::Address;
use crate::bench::{Mode, loops, placement};
use crate::cli::BenchPeerArgs;
use crate::engine::copy::write_all;
use crate::error::ExitStatus;
use crate::transport::{self, BindOpts, Conn, DialOpts, Framing, Listener, Wait};

/// Runs the peer until its connection ends.
pub fn run(ctx: &Ctx, args: &BenchPeerArgs) -> Result<ExitStatus> {
    die_with_parent(args.parent)?;
    if let Some(cpu) = args.cpu {
        placement::pin_current_thread(cpu)?;
    }
    let size = usize::try_from(args.size).context("--size is too large")?;
    let addr = &args.addr;
    // Message sockets: each message whole, as bench sends and reads them.
    let dial = DialOpts {
        framing: Framing::Whole,
        ..DialOpts::default()
    };
    let mut conn = transport::dial(addr, &dial, &ctx.signals)?;
    let datagram = matches!(addr, Address::UnixDgram(_));
    if datagram {
        hello(&mut conn).with_context(|| format!("cannot send to {addr}"))?;
    }
    let mut buf = loops::buffer(size);
    match args.mode {
        Mode::Throughput => {
            let out = conn
                .output
                .as_mut()
                .ok_or_else(|| anyhow!("cannot write to {addr}"))?;
            loops::send_until_closed(out, &buf)
                .with_context(|| format!("cannot send to {addr}"))?;
        }
        Mode::Latency => {
            let mut input = match &args.from {
                // A FIFO to read: wait until bench has written into it, since a read before
                // its writer opens would be an immediate EOF.
                Some(from) => {
                    let l = Listener::bind(from, &BindOpts::default(), &ctx.printer)?;
                    match transport::wait_readable(l.ready_fd(), None, &ctx.signals, || {})? {
                        Wait::Ready => {}
                        Wait::Signal(sig) => return Ok(ExitStatus::Signal(sig)),
                        Wait::TimedOut => return Err(anyhow!("timed out waiting for {from}")),
                    }
                    l.accept()
                        .with_context(|| format!("cannot read {from}"))?
                        .input
                }
                None => conn.input.take(),
            }
            .ok_or_else(|| anyhow!("cannot read from {addr}"))?;
            let out = conn
                .output
                .as_mut()
                .ok_or_else(|| anyhow!("cannot write to {addr}"))?;
            let echoed = if datagram {
                loops::echo_datagrams(&mut input, out, &mut buf)
            } else {
                loops::echo(&mut input, out, &mut buf)
            };
            echoed.with_context(|| format!("cannot echo over {addr}"))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// A datagram peer's first message: it tells bench where to send (the peer's own name).
/// Reads then time out now and then, so that an idle peer can check that bench is still
/// there (see [`loops::echo_datagrams`]).
fn hello(conn: &mut Conn) -> Result<()> {
    if let Some(input) = &conn.input {
        rustix::net::sockopt::set_socket_timeout(
            input.fd(),
            rustix::net::sockopt::Timeout::Recv,
            Some(loops::DATAGRAM_PROBE),
        )?;
    }
    let out = conn
        .output
        .as_mut()
        .ok_or_else(|| anyhow!("no writable half"))?;
    write_all(out, b"h")?;
    Ok(())
}

/// Asks the kernel to kill this process when `bench` ends, then checks that `bench` had
/// not already ended before that.
fn die_with_parent(parent: u32) -> Result<()> {
    use rustix::process::{Signal, getppid, set_parent_process_death_signal};
    set_parent_process_death_signal(Some(Signal::KILL))
        .context("cannot tie the benchmark peer to its parent")?;
    let ppid = getppid().map(|p| p.as_raw_nonzero().get() as u32);
    if ppid != Some(parent) {
        return Err(anyhow!("the bench process {parent} has already ended"));
    }
    Ok(())
}
