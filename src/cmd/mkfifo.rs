//! `ipctool mkfifo PATH...`: FIFOs with exactly the mode asked for, whatever the umask.
//!
//! The classic traps avoided: the umask narrowing the mode (it is cleared around mkfifo);
//! a symbolic link followed (mkfifo(3) never follows one, and lstat decides what is
//! there); `--force` deleting a file that is not a FIFO (the new FIFO is made beside the old
//! one and the two are swapped atomically with `renameat2(RENAME_EXCHANGE)`: if what came
//! out is not a FIFO, because the path changed since we looked, it is swapped back).

use std::collections::hash_map::RandomState;
use std::fs::{self, DirBuilder};
use std::hash::BuildHasher;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt};
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use rustix::fs::{CWD, RenameFlags};

use super::Ctx;
use crate::cli::MkfifoArgs;
use crate::error::{ExitStatus, HintExt, Several, hinted};
use crate::stdfds;
use crate::term::escape;
use crate::transport::sockfile::{create_error, describe, parent_dir, with_umask_cleared};

/// `mkfifo`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MkfifoConfig {
    /// What to create.
    pub target: Target,
    /// Exact mode of each FIFO.
    pub mode: u32,
    pub parents: bool,
    pub force: bool,
}

/// Where the FIFOs go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// These paths.
    Paths(Vec<PathBuf>),
    /// One FIFO in a new private directory under this one; its path is printed.
    Temp(PathBuf),
}

impl MkfifoConfig {
    pub fn from_args(args: &MkfifoArgs) -> MkfifoConfig {
        MkfifoConfig {
            target: if args.temp {
                Target::Temp(std::env::temp_dir())
            } else {
                Target::Paths(args.paths.clone())
            },
            mode: args.mode,
            parents: args.parents,
            force: args.force,
        }
    }
}

pub fn run(ctx: &Ctx, args: &MkfifoArgs) -> Result<ExitStatus> {
    let cfg = MkfifoConfig::from_args(args);
    match &cfg.target {
        Target::Temp(base) => {
            // Its path is the only way to the FIFO: none is made that nobody would see.
            stdfds::require_stdout(
                "the FIFO's path",
                "run it as f=$(ipctool mkfifo --temp), or redirect stdout to a file",
            )?;
            let path = create_temp(base, cfg.mode)?;
            let mut line = path.as_os_str().as_bytes().to_vec();
            line.push(b'\n');
            let what = format!("the path of FIFO {}", shown(&path));
            if let Err(e) = stdfds::print_data(&line, &what) {
                remove_temp(&path);
                ctx.printer.event(format_args!(
                    "removed FIFO {} and its directory: its path could not be printed",
                    shown(&path)
                ));
                return Err(e);
            }
            ctx.printer.event(format_args!(
                "created FIFO {} (mode {:04o})",
                shown(&path),
                cfg.mode
            ));
            Ok(ExitStatus::Success)
        }
        Target::Paths(paths) => {
            let mut errors = Vec::new();
            for path in paths {
                match create(path, &cfg) {
                    Ok(replaced) => ctx.printer.event(format_args!(
                        "{} FIFO {} (mode {:04o})",
                        if replaced { "replaced" } else { "created" },
                        shown(path),
                        cfg.mode
                    )),
                    Err(e) => errors.push(e),
                }
            }
            match errors.len() {
                0 => Ok(ExitStatus::Success),
                1 => Err(errors.remove(0)),
                _ => Err(Several(errors).into()),
            }
        }
    }
}

fn shown(path: &Path) -> String {
    escape(&path.display().to_string())
}

/// Creates one FIFO; true if it replaced an existing one.
fn create(path: &Path, cfg: &MkfifoConfig) -> Result<bool> {
    let what = || format!("cannot create FIFO {}", shown(path));
    if cfg.parents {
        let dir = parent_dir(path);
        DirBuilder::new().recursive(true).create(dir).map_err(|e| {
            anyhow!(e).context(format!(
                "{}: cannot create the directory {}",
                what(),
                shown(dir)
            ))
        })?;
    }
    let err = match mkfifo(path, cfg.mode) {
        Ok(()) => return Ok(false),
        Err(e) => e,
    };
    match err.kind() {
        io::ErrorKind::AlreadyExists => {
            let meta = fs::symlink_metadata(path).map_err(|e| anyhow!(e).context(what()))?;
            if !meta.file_type().is_fifo() {
                return Err(anyhow!(
                    "{}: the path exists and is {}, not a FIFO",
                    what(),
                    describe(&meta)
                ))
                .hint("ipctool replaces only FIFOs, even with --force: remove it yourself or choose another path");
            }
            if !cfg.force {
                return Err(anyhow!("{}: a FIFO already exists there", what()))
                    .hint("--force replaces it");
            }
            replace(path, cfg.mode).map_err(|e| e.context(what()))?;
            Ok(true)
        }
        io::ErrorKind::NotFound if !parent_dir(path).exists() => {
            let dir = shown(parent_dir(path));
            Err(hinted(
                anyhow!("{}: the directory {dir} does not exist", what()),
                "-p creates missing parent directories",
            ))
        }
        _ if err.raw_os_error() == Some(libc::EACCES) => {
            let dir = shown(parent_dir(path));
            Err(hinted(
                anyhow!("{}: permission denied in {dir}", what()),
                format!("you may not create files in {dir} (ls -ld {dir})"),
            ))
        }
        _ if err.raw_os_error() == Some(libc::ENOTDIR) => Err(anyhow!(
            "{}: a component of the path is not a directory",
            what()
        )),
        // ENOENT with the directory there (/proc), EPERM (/sys), EROFS: the hint says why.
        _ => Err(create_error(err, path, "FIFO", what())),
    }
}

/// mkfifo(3) with exactly `mode`. Never follows a symlink: one at `path` is EEXIST.
fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    with_umask_cleared(|| {
        interprocess::os::unix::fifo_file::create_fifo(path, mode as libc::mode_t)
    })
}

/// Replaces the FIFO at `path` with a new one, never anything else that may have taken
/// its place meanwhile.
fn replace(path: &Path, mode: u32) -> Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("the path has no file name"))?;
    let mut prefix = b".".to_vec();
    prefix.extend_from_slice(name.as_bytes());
    prefix.extend_from_slice(b".ipctool-new");
    let fresh = unique_in(dir, &prefix, |p| mkfifo(p, mode))?;
    match rustix::fs::renameat_with(CWD, &fresh, CWD, path, RenameFlags::EXCHANGE) {
        Ok(()) => {
            // `fresh` now holds what was at `path`: remove it only if it is a FIFO.
            let old = fs::symlink_metadata(&fresh)?;
            if old.file_type().is_fifo() {
                fs::remove_file(&fresh)?;
                return Ok(());
            }
            rustix::fs::renameat_with(CWD, &fresh, CWD, path, RenameFlags::EXCHANGE)?;
            let _ = fs::remove_file(&fresh);
            Err(anyhow!(
                "the path changed meanwhile and is now {}, not a FIFO; left as it was",
                describe(&old)
            ))
        }
        // A filesystem without RENAME_EXCHANGE: look once more, then rename over it.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            let still_fifo = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo());
            if !still_fifo {
                let _ = fs::remove_file(&fresh);
                return Err(anyhow!(
                    "the path changed meanwhile and is no longer a FIFO"
                ));
            }
            fs::rename(&fresh, path).inspect_err(|_| {
                let _ = fs::remove_file(&fresh);
            })?;
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&fresh);
            Err(io::Error::from(e).into())
        }
    }
}

/// A new private directory (0700) under `base` with a FIFO named `fifo` in it.
fn create_temp(base: &Path, mode: u32) -> Result<PathBuf> {
    let mkdir = |p: &Path| with_umask_cleared(|| DirBuilder::new().mode(0o700).create(p));
    let dir = unique_in(base, b"ipctool", mkdir).map_err(|e| {
        e.context(format!(
            "cannot create a private directory in {}",
            shown(base)
        ))
    })?;
    let fifo = dir.join("fifo");
    if let Err(e) = mkfifo(&fifo, mode) {
        let _ = fs::remove_dir(&dir);
        return Err(anyhow!(e).context(format!("cannot create FIFO {}", shown(&fifo))));
    }
    Ok(fifo)
}

/// Removes a FIFO made by [`create_temp`] and its directory.
fn remove_temp(fifo: &Path) {
    let _ = fs::remove_file(fifo);
    if let Some(dir) = fifo.parent() {
        let _ = fs::remove_dir(dir);
    }
}

/// Creates something (`make`) at a new, unguessable name `PREFIX.XXXXXXXXXXXX` in `dir`,
/// retrying on a name clash; returns its path.
fn unique_in(dir: &Path, prefix: &[u8], make: impl Fn(&Path) -> io::Result<()>) -> Result<PathBuf> {
    for attempt in 0..100u32 {
        let noise = RandomState::new().hash_one((std::process::id(), attempt));
        let mut name = prefix.to_vec();
        name.extend_from_slice(format!(".{:012x}", noise & 0xffff_ffff_ffff).as_bytes());
        let candidate = dir.join(std::ffi::OsStr::from_bytes(&name));
        match make(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow!("no free name found after 100 attempts"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn config(args: &[&str]) -> Result<MkfifoConfig, String> {
        let cli = Cli::try_parse_from(["ipctool", "mkfifo"].iter().chain(args))
            .map_err(|e| e.to_string())?;
        let Command::Mkfifo(a) = cli.command else {
            panic!("not mkfifo")
        };
        Ok(MkfifoConfig::from_args(&a))
    }

    #[test]
    fn command_lines_to_configs() {
        let paths = |p: &[&str]| Target::Paths(p.iter().map(PathBuf::from).collect());
        let rows: Vec<(&[&str], MkfifoConfig)> = vec![
            (
                &["a"],
                MkfifoConfig {
                    target: paths(&["a"]),
                    mode: 0o600,
                    parents: false,
                    force: false,
                },
            ),
            (
                &["-m", "0660", "-p", "--force", "a/b", "c"],
                MkfifoConfig {
                    target: paths(&["a/b", "c"]),
                    mode: 0o660,
                    parents: true,
                    force: true,
                },
            ),
            (
                &["--temp", "--mode", "640"],
                MkfifoConfig {
                    target: Target::Temp(std::env::temp_dir()),
                    mode: 0o640,
                    parents: false,
                    force: false,
                },
            ),
        ];
        for (args, want) in rows {
            assert_eq!(config(args).as_ref(), Ok(&want), "{args:?}");
        }
        for bad in [
            &[][..],
            &["--temp", "a"],
            &["--temp", "-p"],
            &["-m", "rw", "a"],
        ] {
            assert!(config(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn force_replaces_a_fifo_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("f");
        let file = dir.path().join("r");
        mkfifo(&fifo, 0o600).expect("mkfifo");
        fs::write(&file, b"keep").expect("write");
        let cfg = MkfifoConfig {
            target: Target::Paths(vec![]),
            mode: 0o640,
            parents: false,
            force: true,
        };
        assert!(create(&fifo, &cfg).expect("replace"));
        let e = create(&file, &cfg).expect_err("a regular file");
        assert!(format!("{e:#}").contains("is a regular file"), "{e:#}");
        assert_eq!(fs::read(&file).expect("read"), b"keep");
        // Nothing left behind beside them.
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 2);
    }
}
