//! `mkfifo`: exact modes whatever the umask, refusals that name the path and the reason,
//! `--force` that only ever replaces a FIFO, `--temp` in a private directory.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::util::*;

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).expect("lstat").mode() & 0o7777
}

fn is_fifo(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

#[test]
fn modes_are_exact_under_any_umask() {
    for umask in ["000", "022", "077"] {
        let env = Env::new();
        let script = format!(
            "umask {umask}; \"$IPCTOOL\" mkfifo a && \"$IPCTOOL\" mkfifo -m 0666 b && \"$IPCTOOL\" mkfifo --mode 640 c"
        );
        run_with_input(env.sh(&script), b"")
            .success()
            .stdout_is(b"");
        for (name, want) in [("a", 0o600), ("b", 0o666), ("c", 0o640)] {
            assert!(is_fifo(&env.path(name)), "{name} is a FIFO");
            assert_eq!(mode_of(&env.path(name)), want, "{name} under umask {umask}");
        }
    }
}

#[test]
fn an_existing_fifo_is_refused_without_force() {
    let env = Env::new();
    env.run(["mkfifo", "f"], b"").success();
    let before = fs::metadata(env.path("f")).expect("stat").ino();
    env.run(["mkfifo", "f"], b"")
        .assert_code(1)
        .one_error(&["cannot create FIFO f", "already exists"])
        .stderr_has("hint: --force replaces it");
    assert_eq!(fs::metadata(env.path("f")).expect("stat").ino(), before);
}

#[test]
fn force_replaces_a_fifo_with_a_new_one() {
    let env = Env::new();
    env.run(["mkfifo", "f"], b"").success();
    let before = fs::metadata(env.path("f")).expect("stat").ino();
    env.run(["mkfifo", "--force", "-m", "0620", "f"], b"")
        .success()
        .stderr_is_empty();
    assert!(is_fifo(&env.path("f")));
    assert_ne!(fs::metadata(env.path("f")).expect("stat").ino(), before);
    assert_eq!(mode_of(&env.path("f")), 0o620);
    let left: Vec<_> = fs::read_dir(env.dir.path()).expect("ls").collect();
    assert_eq!(left.len(), 1, "no temporary name left behind");
}

#[test]
fn force_never_replaces_a_regular_file_or_a_symlink() {
    let env = Env::new();
    fs::write(env.path("file"), b"precious").expect("write");
    std::os::unix::fs::symlink("nowhere", env.path("link")).expect("symlink");
    env.run(["mkfifo", "--force", "file"], b"")
        .assert_code(1)
        .one_error(&["cannot create FIFO file", "is a regular file"]);
    assert_eq!(fs::read(env.path("file")).expect("read"), b"precious");
    env.run(["mkfifo", "--force", "link"], b"")
        .assert_code(1)
        .one_error(&["cannot create FIFO link", "symbolic link"]);
    assert!(
        fs::symlink_metadata(env.path("link"))
            .expect("lstat")
            .is_symlink()
    );
    assert!(!env.path("nowhere").exists(), "the link was not followed");
}

#[test]
fn a_missing_directory_is_named_and_parents_creates_it() {
    let env = Env::new();
    env.run(["mkfifo", "x/y/f"], b"")
        .assert_code(1)
        .one_error(&[
            "cannot create FIFO x/y/f",
            "the directory x/y does not exist",
        ])
        .stderr_has("hint: -p creates missing parent directories");
    env.run(["mkfifo", "-p", "x/y/f"], b"").success();
    assert!(is_fifo(&env.path("x/y/f")));
    assert_eq!(mode_of(&env.path("x/y/f")), 0o600);
}

#[test]
fn a_directory_without_write_permission_is_named() {
    let env = Env::new();
    let ro = env.path("ro");
    fs::create_dir(&ro).expect("mkdir");
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root may write anywhere: drop to nobody for this one.
    let mut cmd = if rustix::process::geteuid().is_root() {
        if !have("setpriv") {
            return;
        }
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin()]);
        c
    } else {
        std::process::Command::new(bin())
    };
    hermetic(&mut cmd);
    cmd.current_dir(env.dir.path()).args(["mkfifo", "ro/f"]);
    run_with_input(cmd, b"")
        .assert_code(1)
        .one_error(&["cannot create FIFO ro/f", "permission denied in ro"])
        .stderr_has("hint: you may not create files in ro");
    assert!(!env.path("ro/f").exists());
}

#[test]
fn each_failure_has_its_own_line_and_the_rest_are_created() {
    let env = Env::new();
    fs::write(env.path("file"), b"").expect("write");
    let out = env.run(["mkfifo", "file", "good", "no/such/f", "good2"], b"");
    out.assert_code(1);
    let lines = out.error_lines();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(lines[0].contains("file") && lines[0].contains("regular file"));
    assert!(lines[1].contains("no/such/f") && lines[1].contains("does not exist"));
    assert!(is_fifo(&env.path("good")) && is_fifo(&env.path("good2")));
}

#[test]
fn temp_makes_a_private_directory_and_prints_the_fifo() {
    let env = Env::new();
    let mut cmd = env.cmd(["mkfifo", "--temp"]);
    cmd.env("TMPDIR", env.dir.path());
    let out = run_with_input(cmd, b"");
    out.success().stderr_is_empty();
    let text = String::from_utf8(out.stdout.clone()).expect("utf-8");
    let path = Path::new(text.strip_suffix('\n').expect("one line"));
    assert!(is_fifo(path), "{text:?}");
    assert_eq!(mode_of(path), 0o600);
    let dir = path.parent().expect("a directory");
    assert_eq!(dir.parent(), Some(env.dir.path()), "under $TMPDIR");
    assert_eq!(mode_of(dir), 0o700);
    // Under a umask that would narrow 0700, and with --mode.
    let mut cmd = env.sh("umask 277; TMPDIR=. \"$IPCTOOL\" mkfifo --temp -m 0660");
    cmd.env("TMPDIR", env.dir.path());
    let out = run_with_input(cmd, b"");
    out.success();
    let text = String::from_utf8(out.stdout.clone()).expect("utf-8");
    let path = env.path(text.trim_end());
    assert_eq!(mode_of(&path), 0o660);
    assert_eq!(mode_of(path.parent().expect("dir")), 0o700);
}

#[test]
fn temp_takes_no_path() {
    let env = Env::new();
    env.run(["mkfifo", "--temp", "f"], b"")
        .assert_code(2)
        .stderr_has("cannot be used with");
    env.run(["mkfifo"], b"").assert_code(2);
}
