//! The committed completions and man pages match the clap definition. On a mismatch,
//! regenerate them with:
//!
//!     IPCTOOL_BLESS=1 cargo test --test cli generated

use std::path::{Path, PathBuf};

use ipctool::generate::{SHELLS, completion, write_man_pages};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bless() -> bool {
    std::env::var("IPCTOOL_BLESS").as_deref() == Ok("1")
}

/// Compares (or, when blessing, writes) one generated file.
fn check(path: &Path, want: &[u8]) -> Option<String> {
    if bless() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, want).expect("write");
        return None;
    }
    let have = std::fs::read(path).unwrap_or_default();
    if have == want {
        return None;
    }
    let (h, w) = (
        String::from_utf8_lossy(&have),
        String::from_utf8_lossy(want),
    );
    let line = h
        .lines()
        .zip(w.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| h.lines().count().min(w.lines().count()));
    Some(format!(
        "{} is stale (first difference at line {}):\n  committed: {:?}\n  generated: {:?}",
        path.display(),
        line + 1,
        h.lines().nth(line).unwrap_or("<end of file>"),
        w.lines().nth(line).unwrap_or("<end of file>"),
    ))
}

fn report(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{}\n\nregenerate with: IPCTOOL_BLESS=1 cargo test --test cli generated",
        problems.join("\n")
    );
}

#[test]
fn generated_completions_are_current() {
    let problems = SHELLS
        .iter()
        .filter_map(|(shell, file)| {
            check(
                &root().join("completions").join(file),
                completion(*shell).as_bytes(),
            )
        })
        .collect();
    report(problems);
}

#[test]
fn generated_man_pages_are_current() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_man_pages(tmp.path()).expect("render man pages");
    let mut problems = Vec::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(tmp.path()).expect("read").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let want = std::fs::read(entry.path()).expect("read");
        problems.extend(check(&root().join("man").join(&name), &want));
        names.push(name);
    }
    // No stale page for a subcommand that no longer exists.
    for entry in std::fs::read_dir(root().join("man"))
        .expect("man/")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !names.contains(&name) {
            if bless() {
                std::fs::remove_file(entry.path()).expect("remove stale page");
            } else {
                problems.push(format!("man/{name} has no subcommand any more"));
            }
        }
    }
    report(problems);
    assert!(names.contains(&"ipctool.1".to_owned()));
    assert!(names.contains(&"ipctool-listen.1".to_owned()));
}

#[test]
fn generated_man_page_has_exit_status_and_examples() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_man_pages(tmp.path()).expect("render");
    let top = std::fs::read_to_string(tmp.path().join("ipctool.1")).expect("ipctool.1");
    assert!(top.contains("EXIT STATUS"), "ipctool.1 lacks EXIT STATUS");
    // Every subcommand's page ends with examples that work when pasted.
    for sub in ["connect", "listen", "relay", "mkfifo", "pipe", "bench"] {
        let page = std::fs::read_to_string(tmp.path().join(format!("ipctool-{sub}.1")))
            .unwrap_or_else(|e| panic!("ipctool-{sub}.1: {e}"));
        // Their own section, lines kept as written (no fill: a long one is not wrapped).
        assert!(
            page.contains(".SH EXAMPLES\n.nf\n"),
            "ipctool-{sub}.1 lacks an EXAMPLES section in no-fill mode"
        );
        assert!(
            !page.contains(".SH EXTRA"),
            "ipctool-{sub}.1 has an EXTRA section"
        );
    }
}

#[test]
fn hidden_bench_peer_is_in_no_completion_or_man_page() {
    for (shell, file) in SHELLS {
        let script = completion(shell);
        assert!(
            !script.contains("__bench-peer") && !script.contains("bench__subcmd__peer"),
            "the {file} completion lists the hidden bench peer"
        );
        assert!(
            script.contains("bench"),
            "the {file} completion lacks bench"
        );
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    write_man_pages(tmp.path()).expect("render");
    let mut pages = 0;
    for entry in std::fs::read_dir(tmp.path()).expect("read").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(entry.path()).expect("page");
        assert!(!name.contains("peer"), "a man page for the peer: {name}");
        assert!(
            !text.contains("__bench") && !text.contains("bench\\-peer"),
            "{name} mentions the hidden bench peer"
        );
        pages += 1;
    }
    assert!(pages >= 4, "ipctool.1 and one page per subcommand");
    let bench = std::fs::read_to_string(tmp.path().join("ipctool-bench.1")).expect("bench page");
    assert!(bench.contains("EXAMPLES"), "ipctool-bench.1 lacks EXAMPLES");
}
