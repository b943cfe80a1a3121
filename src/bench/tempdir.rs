//! A private directory (mode 0700) for the socket files and FIFOs of a run, removed with
//! everything in it when dropped (at the end of the run, on an error, and after an
//! interrupt, since the run returns normally).

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::addr::MAX_SOCKET_NAME;

/// Room left in a socket path for the names put inside the directory.
const NAME_ROOM: usize = 16;

#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Creates `ipctool-bench.PID.N` under `$TMPDIR` (or /tmp when that path would leave
    /// no room for socket names).
    pub fn create() -> io::Result<PrivateDir> {
        let mut base = std::env::temp_dir();
        if base.as_os_str().len() + 40 + NAME_ROOM > MAX_SOCKET_NAME {
            base = PathBuf::from("/tmp");
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut last = None;
        for attempt in 0..16u32 {
            let path = base.join(format!(
                "ipctool-bench.{}.{:x}",
                std::process::id(),
                nanos.wrapping_add(attempt)
            ));
            // mkdir(2) never follows a symlink at the last component, and fails if the
            // name exists: the directory is ours and nobody else's.
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(PrivateDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free directory name")))
    }

    /// Where the directory is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_and_removed() {
        let d = PrivateDir::create().expect("create");
        let p = d.path().to_owned();
        let meta = fs::metadata(&p).expect("exists");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        fs::write(d.join("x"), b"x").expect("write inside");
        drop(d);
        assert!(!p.exists());
    }
}
