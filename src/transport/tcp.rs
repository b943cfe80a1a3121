//! TCP: to bridge local IPC to the network, and as the baseline in `bench`.

use std::io;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use anyhow::{Result, anyhow};

use super::{Conn, DialOpts, PeerCreds, retry};
use crate::addr::Address;
use crate::error::HintExt;
use crate::signals::Signals;
use crate::term::escape;

/// A listening TCP socket.
#[derive(Debug)]
pub struct TcpServer {
    listener: TcpListener,
}

impl TcpServer {
    pub fn bind(addr: &Address, host: &str, port: u16) -> Result<TcpServer> {
        let shown = escape(&addr.to_string());
        let listener = TcpListener::bind((host, port));
        match listener {
            Ok(listener) => Ok(TcpServer { listener }),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(anyhow!(e))
                .map_err(|e| e.context(format!("cannot listen on {shown}")))
                .hint("another process uses this port: choose another one, or port 0 for any free port"),
            Err(e) => Err(anyhow!(e).context(format!("cannot listen on {shown}"))),
        }
    }

    /// The address with the port the OS chose for port 0.
    pub fn address(&self) -> Address {
        match self.listener.local_addr() {
            Ok(a) => Address::Tcp {
                host: a.ip().to_string(),
                port: a.port(),
            },
            Err(_) => Address::Tcp {
                host: "?".into(),
                port: 0,
            },
        }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    pub fn accept(&self) -> io::Result<Conn> {
        let (stream, peer) = self.listener.accept()?;
        let mut conn = conn_of(stream)?;
        conn.peer_label = Some(peer.to_string());
        Ok(conn)
    }
}

fn conn_of(stream: TcpStream) -> io::Result<Conn> {
    // Interactive traffic must not wait for Nagle; bulk writes are large anyway.
    stream.set_nodelay(true)?;
    Conn::socket(OwnedFd::from(stream), PeerCreds::default())
}

/// How long one connect attempt may block before stop signals are looked at again.
const SLICE: Duration = Duration::from_secs(1);
/// How long an unanswered connect is retried without `--wait`.
const NO_ANSWER: Duration = Duration::from_secs(127);

/// Connects over TCP; with `--wait`, retries while the port refuses.
pub fn connect(
    addr: &Address,
    host: &str,
    port: u16,
    opts: &DialOpts,
    signals: &Signals,
) -> Result<Conn> {
    let shown = escape(&addr.to_string());
    let targets: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| anyhow!(e).context(format!("could not resolve {shown}")))?
        .collect();
    let began = std::time::Instant::now();
    retry::until_ready(addr, opts.wait, signals, |left| {
        let mut last = None;
        for target in &targets {
            // Bounded slices even without --wait, so that a stop signal is seen while a
            // host does not answer (a blocking connect is restarted after the signal).
            let slice = left
                .map_or(SLICE, |l| l.min(SLICE))
                .max(Duration::from_millis(1));
            let attempt = TcpStream::connect_timeout(target, slice);
            match attempt {
                Ok(s) => {
                    let mut conn = conn_of(s).map_err(|e| retry::Failure::Fatal(e.into()))?;
                    conn.peer_label = Some(target.to_string());
                    return Ok(conn);
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"));
        match e.kind() {
            io::ErrorKind::ConnectionRefused => Err(retry::Failure::NotYet {
                found: "nothing listening on that port (connection refused)".into(),
            }),
            // Without --wait, a host that does not answer is given as long as the kernel
            // gives a blocking connect (about two minutes of SYN retries).
            io::ErrorKind::TimedOut if left.is_none() && began.elapsed() < NO_ANSWER => {
                Err(retry::Failure::Again)
            }
            io::ErrorKind::TimedOut => Err(retry::Failure::NotYet {
                found: "no answer (connect timed out)".into(),
            }),
            _ => Err(retry::Failure::Fatal(
                anyhow!(e).context(format!("could not connect to {shown}")),
            )),
        }
    })
}
