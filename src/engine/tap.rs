//! Watching the bytes of a session go by (`relay --hex`): a [`Tap`] is shown every chunk a
//! direction reads, before it is written on. A tapped copy moves through a buffer (the
//! bytes must be seen), one block per read.

use std::fmt::Debug;
use std::io;
use std::os::fd::BorrowedFd;

use super::copy::Source;
use super::session::Dir;
use crate::transport::FdKind;

/// Sees each chunk that passes through a session.
pub trait Tap: Send + Sync + Debug {
    /// `data` was read in direction `dir`; `offset` is where it starts in that
    /// direction's stream.
    fn chunk(&self, dir: Dir, offset: u64, data: &[u8]);
}

/// A source that shows what it reads to a tap.
pub struct Tapped<'a, S: Source> {
    pub inner: &'a mut S,
    pub tap: &'a dyn Tap,
    pub dir: Dir,
    pub offset: u64,
}

impl<S: Source> Source for Tapped<'_, S> {
    fn read_into(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read_into(buf)?;
        if n > 0 {
            self.tap.chunk(self.dir, self.offset, &buf[..n]);
            self.offset += n as u64;
        }
        Ok(n)
    }

    /// None: the bytes must pass through our memory to be seen.
    fn raw(&self) -> Option<(BorrowedFd<'_>, FdKind)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{CopyConfig, copy};
    use crate::stats::Meter;
    use crate::transport::mem::{MemSink, MemSource};
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<(Dir, u64, Vec<u8>)>>);

    impl Tap for Recorder {
        fn chunk(&self, dir: Dir, offset: u64, data: &[u8]) {
            self.0
                .lock()
                .expect("lock")
                .push((dir, offset, data.to_vec()));
        }
    }

    #[test]
    fn every_chunk_is_seen_once_with_its_offset() {
        let rec = Recorder::default();
        let mut src = MemSource::chunked(b"hello, world", 5);
        let mut tapped = Tapped {
            inner: &mut src,
            tap: &rec,
            dir: Dir::Recv,
            offset: 0,
        };
        let mut dst = MemSink {
            max_write: 2,
            ..MemSink::new()
        };
        let meter = Meter::new(std::time::Instant::now());
        copy(&mut tapped, &mut dst, &meter, &CopyConfig::default()).expect("copy");
        assert_eq!(dst.received.bytes(), b"hello, world");
        let seen = rec.0.lock().expect("lock").clone();
        assert_eq!(
            seen,
            vec![
                (Dir::Recv, 0, b"hello".to_vec()),
                (Dir::Recv, 5, b", wor".to_vec()),
                (Dir::Recv, 10, b"ld".to_vec()),
            ]
        );
    }
}
