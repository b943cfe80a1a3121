//! `listen -k` without a command: every client's data goes to our one stdout, whole lines
//! at a time ([`SharedStdout`], [`LineSink`]), and our stdin goes to every connected client
//! ([`Broadcast`]). Memory stays bounded: a slow stdout holds the clients back, a slow
//! client holds the broadcast back.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::engine::Sink;
use crate::engine::copy::write_all;
use crate::stats::Meter;
use crate::transport::{Aborter, Output};

/// A partial line is held back up to this size; a longer one takes stdout for itself
/// until its newline (or EOF), so it is still never split by another client's line.
const LINE_LIMIT: usize = 64 << 10;

struct StdoutState {
    out: Output,
    /// The client whose unfinished long line owns stdout.
    owner: Option<u64>,
    /// The client whose bytes end stdout in the middle of a line: it closed (or died)
    /// before its newline. Another client's data starts on a new line.
    open: Option<u64>,
}

impl StdoutState {
    /// Writes `data` for client `id`; if another client left stdout mid-line, a newline
    /// ends that line first.
    fn put(&mut self, id: u64, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.open.is_some_and(|o| o != id) {
            write_all(&mut self.out, b"\n")?;
            self.open = None;
        }
        write_all(&mut self.out, data)?;
        self.open = (data.last() != Some(&b'\n')).then_some(id);
        Ok(())
    }
}

/// Our stdout, shared by all clients.
pub struct SharedStdout {
    state: Mutex<StdoutState>,
    turn: Condvar,
    gone: AtomicBool,
}

impl SharedStdout {
    pub fn new(out: Output) -> SharedStdout {
        SharedStdout {
            state: Mutex::new(StdoutState {
                out,
                owner: None,
                open: None,
            }),
            turn: Condvar::new(),
            gone: AtomicBool::new(false),
        }
    }

    /// True once a write found our stdout's reader gone.
    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::SeqCst)
    }

    /// Waits until `id` may write: nobody holds stdout, or `id` does.
    fn take(&self, id: u64) -> MutexGuard<'_, StdoutState> {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while g.owner.is_some_and(|o| o != id) {
            g = self.turn.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        g
    }

    /// Writes `data` for client `id`; `keep` keeps stdout for `id` afterwards.
    fn write(&self, id: u64, data: &[u8], keep: bool) -> io::Result<()> {
        let mut g = self.take(id);
        let result = g.put(id, data);
        if let Err(e) = &result
            && e.kind() == io::ErrorKind::BrokenPipe
        {
            self.gone.store(true, Ordering::SeqCst);
        }
        g.owner = if keep && result.is_ok() {
            Some(id)
        } else {
            None
        };
        drop(g);
        self.turn.notify_all();
        result
    }

    /// Gives stdout back if `id` holds it.
    fn release(&self, id: u64) {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if g.owner == Some(id) {
            g.owner = None;
            drop(g);
            self.turn.notify_all();
        }
    }
}

/// One client's writer into the [`SharedStdout`]: buffers the current line.
pub struct LineSink {
    shared: Arc<SharedStdout>,
    id: u64,
    pending: Vec<u8>,
}

impl LineSink {
    pub fn new(shared: Arc<SharedStdout>, id: u64) -> LineSink {
        LineSink {
            shared,
            id,
            pending: Vec::new(),
        }
    }
}

impl Sink for LineSink {
    fn write_from(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.shared.write(self.id, &self.pending[..=end], false)?;
            self.pending.drain(..=end);
        }
        if self.pending.len() >= LINE_LIMIT {
            self.shared.write(self.id, &self.pending, true)?;
            self.pending.clear();
        }
        Ok(buf.len())
    }

    /// The client's EOF: its last, unterminated line goes out as it is; a newline ends it
    /// only if another client's data follows.
    fn close_write(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.shared.write(self.id, &self.pending, false)?;
            self.pending.clear();
        }
        self.shared.release(self.id);
        Ok(())
    }
}

impl Drop for LineSink {
    fn drop(&mut self) {
        // A client that dies mid-line must not keep stdout from everyone else.
        self.shared.release(self.id);
    }
}

struct Member {
    /// Locked only by whoever writes to this client: a client that does not read blocks
    /// the broadcast (backpressure), never the accept loop.
    out: Mutex<Output>,
    sent: Arc<Meter>,
    aborter: Aborter,
}

/// Our stdin, sent to every connected client.
#[derive(Default)]
pub struct Broadcast {
    /// Held only to add, remove or list members, never across I/O.
    members: Mutex<BTreeMap<u64, Arc<Member>>>,
    eof: AtomicBool,
}

impl Broadcast {
    /// Adds a client. After our stdin has ended, a new client gets EOF at once.
    pub fn join(&self, id: u64, mut out: Output, sent: Arc<Meter>, aborter: Aborter) {
        let mut g = self.members.lock().unwrap_or_else(|p| p.into_inner());
        if self.eof.load(Ordering::SeqCst) {
            drop(g);
            let _ = out.close_write();
            return;
        }
        let member = Member {
            out: Mutex::new(out),
            sent,
            aborter,
        };
        g.insert(id, Arc::new(member));
    }

    /// Removes a client, unblocking a broadcast write stuck on it first.
    pub fn leave(&self, id: u64, aborter: &Aborter) {
        aborter.abort();
        let mut g = self.members.lock().unwrap_or_else(|p| p.into_inner());
        g.remove(&id);
    }

    fn snapshot(&self) -> Vec<(u64, Arc<Member>)> {
        let g = self.members.lock().unwrap_or_else(|p| p.into_inner());
        g.iter().map(|(id, m)| (*id, Arc::clone(m))).collect()
    }
}

/// The [`Sink`] side of a [`Broadcast`], fed by the copy of our stdin.
pub struct BroadcastSink(pub Arc<Broadcast>);

impl Sink for BroadcastSink {
    fn write_from(&mut self, buf: &[u8]) -> io::Result<usize> {
        for (id, m) in self.0.snapshot() {
            let written = {
                let mut out = m.out.lock().unwrap_or_else(|p| p.into_inner());
                write_all(&mut *out, buf)
            };
            match written {
                Ok(()) => m.sent.add(buf.len() as u64, Instant::now()),
                // This client went away; the others go on.
                Err(_) => self.0.leave(id, &m.aborter),
            }
        }
        Ok(buf.len())
    }

    fn close_write(&mut self) -> io::Result<()> {
        let members = {
            // Set under the lock: a client joining now either sees EOF or is listed.
            let g = self.0.members.lock().unwrap_or_else(|p| p.into_inner());
            self.0.eof.store(true, Ordering::SeqCst);
            g.values().cloned().collect::<Vec<_>>()
        };
        for m in members {
            let mut out = m.out.lock().unwrap_or_else(|p| p.into_inner());
            let _ = out.close_write();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::CloseHow;
    use std::io::Read;
    use std::os::fd::OwnedFd;

    fn shared_pipe() -> (Arc<SharedStdout>, std::io::PipeReader) {
        let (r, w) = std::io::pipe().expect("pipe");
        let out = Output::new(OwnedFd::from(w), CloseHow::Close);
        (Arc::new(SharedStdout::new(out)), r)
    }

    #[test]
    fn lines_of_two_clients_never_interleave() {
        let (shared, mut r) = shared_pipe();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            r.read_to_string(&mut s).expect("read");
            s
        });
        let writers: Vec<_> = (0..2u64)
            .map(|id| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let mut sink = LineSink::new(shared, id);
                    for i in 0..500 {
                        // Lines arrive in awkward pieces.
                        let line = format!("client {id} line {i} {}\n", "x".repeat(i % 37));
                        let (a, b) = line.as_bytes().split_at(line.len() / 2);
                        sink.write_from(a).expect("write");
                        sink.write_from(b).expect("write");
                    }
                    sink.close_write().expect("close");
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        drop(shared);
        let text = reader.join().expect("reader");
        assert_eq!(text.lines().count(), 1000);
        for line in text.lines() {
            let mut parts = line.split(' ');
            assert_eq!(parts.next(), Some("client"), "{line}");
            let id = parts.next().expect("id");
            let i: usize = parts.nth(1).and_then(|n| n.parse().ok()).expect("number");
            assert_eq!(line, format!("client {id} line {i} {}", "x".repeat(i % 37)));
        }
    }

    #[test]
    fn a_long_line_keeps_stdout_until_its_newline() {
        let (shared, mut r) = shared_pipe();
        let reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            r.read_to_end(&mut s).expect("read");
            s
        });
        let mut long = LineSink::new(Arc::clone(&shared), 1);
        long.write_from(&vec![b'a'; LINE_LIMIT + 10])
            .expect("write");
        let other = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let mut s = LineSink::new(shared, 2);
                s.write_from(b"short\n").expect("write");
            })
        };
        long.write_from(b"tail\n").expect("write");
        other.join().expect("other");
        drop(long);
        drop(shared);
        let out = reader.join().expect("reader");
        let mut want = vec![b'a'; LINE_LIMIT + 10];
        want.extend_from_slice(b"tail\nshort\n");
        assert_eq!(out, want);
    }

    /// Runs `steps` (client id, bytes; empty bytes = that client's EOF) and returns stdout.
    fn stdout_after(steps: &[(u64, &[u8])]) -> Vec<u8> {
        let (shared, mut r) = shared_pipe();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            r.read_to_end(&mut out).expect("read");
            out
        });
        let mut sinks: BTreeMap<u64, LineSink> = BTreeMap::new();
        for &(id, data) in steps {
            let sink = sinks
                .entry(id)
                .or_insert_with(|| LineSink::new(Arc::clone(&shared), id));
            if data.is_empty() {
                sink.close_write().expect("close");
            } else {
                sink.write_from(data).expect("write");
            }
        }
        drop(sinks);
        drop(shared);
        reader.join().expect("reader")
    }

    #[test]
    fn an_unterminated_last_line_is_ended_only_when_another_client_follows() {
        assert_eq!(stdout_after(&[(1, b"hello"), (1, b"")]), b"hello");
        assert_eq!(
            stdout_after(&[(1, b"hello"), (1, b""), (2, b"world\n"), (2, b"")]),
            b"hello\nworld\n"
        );
        assert_eq!(
            stdout_after(&[
                (1, b"a"),
                (1, b""),
                (2, b"b"),
                (2, b""),
                (3, b"c"),
                (3, b"")
            ]),
            b"a\nb\nc"
        );
    }

    #[test]
    fn a_partial_line_of_a_connected_client_gets_no_line_inserted_into_it() {
        let out = stdout_after(&[
            (1, b"A-part"),
            (2, b"B-line\n"),
            (2, b""),
            (1, b"-rest\n"),
            (1, b""),
        ]);
        assert_eq!(out, b"B-line\nA-part-rest\n");
    }

    #[test]
    fn a_long_line_cut_by_eof_is_ended_before_the_next_client() {
        let long = vec![b'a'; LINE_LIMIT + 10];
        let out = stdout_after(&[(1, &long), (1, b""), (2, b"next\n")]);
        let mut want = long.clone();
        want.extend_from_slice(b"\nnext\n");
        assert_eq!(out, want);
    }
}
