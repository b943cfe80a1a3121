//! Wiring one pair: ipctool's end of a connection and a peer process at the other end,
//! through the transport core (`Listener::bind`/`accept`, `dial`, the halves of a `Conn`),
//! so `bench` measures the code `listen` and `connect` run.
//!
//! - unix, abstract, tcp: ipctool binds, the peer connects, ipctool accepts.
//! - fifo: FIFOs in a private directory; the peer writes into `N.up`, and for latency
//!   reads `N.down`, which ipctool writes.
//! - pipe: unnamed pipes made here become the peer's stdout (and stdin, for latency).
//! - seqpacket: as unix, each message whole.
//! - unix-dgram: ipctool binds a datagram socket, the peer connects to it (with a name of
//!   its own) and announces itself with a one-byte datagram, which tells ipctool where to
//!   send; then each message is one datagram.

use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use super::kill::KillList;
use super::peer::{Peer, PeerSpec};
use super::tempdir::PrivateDir;
use super::{Mode, Transport};
use crate::addr::{Address, SocketName};
use crate::error::{Interrupted, TimedOut};
use crate::signals::Signals;
use crate::term::Printer;
use crate::transport::{
    self, BindOpts, CloseHow, Conn, DialOpts, Framing, Input, Listener, Output, Wait,
};

/// How long a peer may take to connect.
const CONNECT_DEADLINE: Duration = Duration::from_secs(10);

/// One wired pair.
#[derive(Debug)]
pub struct Pair {
    pub conn: Conn,
    pub peer: Peer,
}

/// What wiring needs from the run.
pub struct Wiring<'a> {
    pub printer: &'a Printer,
    pub signals: &'a Signals,
    pub kills: &'a KillList,
    /// Where socket files and FIFOs go (unix, fifo).
    pub dir: Option<&'a PrivateDir>,
}

/// Wires pair `i` of a case.
pub fn wire(
    w: &Wiring<'_>,
    transport: Transport,
    mode: Mode,
    size: usize,
    i: usize,
    cpu: Option<usize>,
) -> Result<Pair> {
    let spec = |addr: Address, from: Option<Address>| PeerSpec {
        mode,
        size,
        addr,
        from,
        cpu,
    };
    let dir = || {
        w.dir
            .ok_or_else(|| anyhow!("no private directory for {transport} files"))
    };
    match transport {
        Transport::Unix | Transport::Abstract | Transport::Tcp => {
            let addr = match transport {
                Transport::Unix => Address::Unix(dir()?.join(&format!("{i}.sock"))),
                Transport::Abstract => Address::Abstract(format!(
                    "ipctool-bench.{}.{}.{i}",
                    std::process::id(),
                    nonce()
                )),
                _ => Address::Tcp {
                    host: "127.0.0.1".into(),
                    port: 0,
                },
            };
            let listener = Listener::bind(&addr, &BindOpts::default(), w.printer)?;
            let addr = listener.address();
            let mut peer = Peer::spawn(&spec(addr.clone(), None), null(), null(), w.kills)?;
            w.printer.event(format_args!(
                "bench: peer pid {} connects to {addr}",
                peer.pid()
            ));
            wait_for_peer(w.signals, &listener, &mut peer)?;
            let conn = listener
                .accept()
                .with_context(|| format!("could not accept the benchmark peer on {addr}"))?;
            // The socket file goes with the listener; the connection stays.
            Ok(Pair { conn, peer })
        }
        Transport::Seqpacket | Transport::UnixDgram => {
            let path = dir()?.join(&format!("{i}.msg"));
            let addr = match transport {
                Transport::Seqpacket => Address::Seqpacket(SocketName::Path(path)),
                _ => Address::UnixDgram(SocketName::Path(path)),
            };
            let whole = BindOpts {
                framing: Framing::Whole,
                ..BindOpts::default()
            };
            let listener = Listener::bind(&addr, &whole, w.printer)?;
            let mut peer = Peer::spawn(&spec(addr.clone(), None), null(), null(), w.kills)?;
            w.printer.event(format_args!(
                "bench: peer pid {} connects to {addr}",
                peer.pid()
            ));
            // Readable once the peer has connected (seqpacket) or said hello (datagram).
            wait_for_peer(w.signals, &listener, &mut peer)?;
            let mut conn = listener
                .accept()
                .with_context(|| format!("could not accept the benchmark peer on {addr}"))?;
            if listener.is_datagram() {
                let input = conn
                    .input
                    .as_mut()
                    .ok_or_else(|| anyhow!("no readable half on {addr}"))?;
                input
                    .read(&mut [0u8; 1])
                    .with_context(|| format!("could not read the peer's hello on {addr}"))?;
            }
            Ok(Pair { conn, peer })
        }
        Transport::Fifo => {
            let up = Address::Fifo(dir()?.join(&format!("{i}.up")));
            let listener = Listener::bind(&up, &BindOpts::default(), w.printer)?;
            match mode {
                Mode::Throughput => {
                    let mut peer = Peer::spawn(&spec(up.clone(), None), null(), null(), w.kills)?;
                    w.printer
                        .event(format_args!("bench: peer pid {} writes {up}", peer.pid()));
                    // Readable once the peer has written: then its end is open for sure.
                    wait_for_peer(w.signals, &listener, &mut peer)?;
                    let conn = listener
                        .accept()
                        .with_context(|| format!("could not read {up}"))?;
                    Ok(Pair { conn, peer })
                }
                Mode::Latency => {
                    let down_path = dir()?.join(&format!("{i}.down"));
                    interprocess::os::unix::fifo_file::create_fifo(&down_path, 0o600)
                        .with_context(|| {
                            format!("cannot create the FIFO {}", down_path.display())
                        })?;
                    let down = Address::Fifo(down_path);
                    let mut peer = Peer::spawn(
                        &spec(up.clone(), Some(down.clone())),
                        null(),
                        null(),
                        w.kills,
                    )?;
                    w.printer.event(format_args!(
                        "bench: peer pid {} writes {up} and reads {down}",
                        peer.pid()
                    ));
                    // The peer opens its writer of `up` before its reader of `down`: once
                    // ours of `down` opens, both of its ends are there.
                    let output = dial_fifo(w.signals, &down, &mut peer)?;
                    let input = listener
                        .accept()
                        .with_context(|| format!("could not read {up}"))?;
                    Ok(Pair {
                        conn: Conn::halves(input.input, output.output),
                        peer,
                    })
                }
            }
        }
        Transport::Pipe => {
            let (up_r, up_w) = std::io::pipe().context("cannot create a pipe")?;
            let (stdin, down_w) = match mode {
                Mode::Throughput => (null(), None),
                Mode::Latency => {
                    let (r, w) = std::io::pipe().context("cannot create a pipe")?;
                    (Stdio::from(r), Some(w))
                }
            };
            let peer = Peer::spawn(
                &spec(Address::Stdio, None),
                stdin,
                Stdio::from(up_w),
                w.kills,
            )?;
            w.printer.event(format_args!(
                "bench: peer pid {} on pipes (its stdin and stdout)",
                peer.pid()
            ));
            let conn = Conn::halves(
                Some(Input::new(OwnedFd::from(up_r))),
                down_w.map(|w| Output::new(OwnedFd::from(w), CloseHow::Close)),
            );
            Ok(Pair { conn, peer })
        }
    }
}

fn null() -> Stdio {
    Stdio::null()
}

/// A number that differs between runs, for abstract names.
fn nonce() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Waits until the listener has a client, the peer ends, a stop signal comes, or the
/// deadline passes.
fn wait_for_peer(signals: &Signals, listener: &Listener, peer: &mut Peer) -> Result<()> {
    let deadline = Instant::now() + CONNECT_DEADLINE;
    loop {
        let slice = Some(Duration::from_millis(20));
        match transport::wait_readable(listener.ready_fd(), slice, signals, || {})
            .context("cannot wait for the benchmark peer")?
        {
            Wait::Ready => return Ok(()),
            Wait::Signal(sig) => return Err(Interrupted(sig).into()),
            Wait::TimedOut => {}
        }
        if let Some(status) = peer.try_exited() {
            return Err(peer.ended_error(status));
        }
        if Instant::now() >= deadline {
            return Err(anyhow!(
                "the benchmark peer did not connect to {} within {} s",
                listener.address(),
                CONNECT_DEADLINE.as_secs()
            ));
        }
    }
}

/// Opens a FIFO for writing once the peer reads it, watching the peer meanwhile.
fn dial_fifo(signals: &Signals, addr: &Address, peer: &mut Peer) -> Result<Conn> {
    let deadline = Instant::now() + CONNECT_DEADLINE;
    let slice = DialOpts {
        wait: Some(Duration::from_millis(20)),
        ..DialOpts::default()
    };
    loop {
        match transport::dial(addr, &slice, signals) {
            Ok(conn) => return Ok(conn),
            Err(e) if e.chain().any(|c| c.is::<TimedOut>()) => {}
            Err(e) => return Err(e),
        }
        if let Some(status) = peer.try_exited() {
            return Err(peer.ended_error(status));
        }
        if let Some(sig) = signals.stop_requested() {
            return Err(Interrupted(sig).into());
        }
        if Instant::now() >= deadline {
            return Err(anyhow!(
                "the benchmark peer did not open {addr} within {} s",
                CONNECT_DEADLINE.as_secs()
            ));
        }
    }
}
