//! In-memory endpoints with scripted behaviour, for testing the engine without OS objects:
//! a source that yields given chunks (and errors) then EOF, a sink that collects what it is
//! given, takes at most N bytes per write, and can fail after a given amount.

use std::io;
use std::sync::{Arc, Mutex};

use crate::engine::{Sink, Source};

/// One scripted step of a [`MemSource`].
#[derive(Debug)]
pub enum Step {
    Data(Vec<u8>),
    Interrupted,
    Fail(io::ErrorKind),
}

/// Yields its steps in order, then EOF.
#[derive(Debug)]
pub struct MemSource {
    steps: std::collections::VecDeque<Step>,
    pending: Vec<u8>,
}

impl MemSource {
    pub fn new(steps: Vec<Step>) -> MemSource {
        MemSource {
            steps: steps.into(),
            pending: Vec::new(),
        }
    }

    /// Yields `data` in chunks of `chunk` bytes.
    pub fn chunked(data: &[u8], chunk: usize) -> MemSource {
        MemSource::new(
            data.chunks(chunk.max(1))
                .map(|c| Step::Data(c.to_vec()))
                .collect(),
        )
    }
}

impl Source for MemSource {
    fn read_into(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.steps.pop_front() {
                None => return Ok(0),
                Some(Step::Data(d)) => self.pending = d,
                Some(Step::Interrupted) => return Err(io::ErrorKind::Interrupted.into()),
                Some(Step::Fail(kind)) => return Err(kind.into()),
            }
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// What a [`MemSink`] received, shared with the test.
#[derive(Clone, Debug, Default)]
pub struct Received(Arc<Mutex<(Vec<u8>, bool)>>);

impl Received {
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().map(|g| g.0.clone()).unwrap_or_default()
    }
    pub fn closed(&self) -> bool {
        self.0.lock().map(|g| g.1).unwrap_or(false)
    }
}

/// Collects writes, at most `max_write` bytes each; fails with `fail_with` once `fail_after`
/// bytes were taken.
#[derive(Debug)]
pub struct MemSink {
    pub received: Received,
    pub max_write: usize,
    pub fail_after: Option<(usize, io::ErrorKind)>,
}

impl MemSink {
    pub fn new() -> MemSink {
        MemSink {
            received: Received::default(),
            max_write: usize::MAX,
            fail_after: None,
        }
    }
}

impl Default for MemSink {
    fn default() -> Self {
        MemSink::new()
    }
}

impl Sink for MemSink {
    fn write_from(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut g = self
            .received
            .0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?;
        if g.1 {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let mut n = buf.len().min(self.max_write);
        if let Some((limit, kind)) = self.fail_after {
            if g.0.len() >= limit {
                return Err(kind.into());
            }
            n = n.min(limit - g.0.len());
        }
        g.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn close_write(&mut self) -> io::Result<()> {
        if let Ok(mut g) = self.received.0.lock() {
            g.1 = true;
        }
        Ok(())
    }
}
