//! The completion scripts work in their shells: subcommands and flags from clap, and the
//! address completer added on top (prefixes, and paths after `unix:`/`fifo:`).

use std::process::Command;

use crate::util::*;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What bash completes for `line` (the cursor at its end), with the committed script.
fn bash_complete(env: &Env, line: &str) -> Vec<String> {
    let script = format!(
        r#"source {}
COMP_LINE={line:?}; COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"; [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_ipctool_with_addresses ipctool "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        root().join("completions/ipctool.bash").display()
    );
    let out = run_with_input(env.bash(&script), b"");
    out.success();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_subcommands_flags_prefixes_and_paths() {
    let env = Env::new();
    std::fs::create_dir(env.path("socks")).expect("mkdir");
    std::fs::write(env.path("socks/app.sock"), b"").expect("file");
    assert!(bash_complete(&env, "ipctool con").contains(&"connect".to_owned()));
    assert!(bash_complete(&env, "ipctool listen --keep").contains(&"--keep-open".to_owned()));
    let prefixes = bash_complete(&env, "ipctool connect un");
    assert_eq!(prefixes, ["unix:", "unix-dgram:"]);
    let all = bash_complete(&env, "ipctool relay -x f");
    assert!(all.contains(&"fifo:".to_owned()), "{all:?}");
    // After a prefix, the path (bash splits words at ':': only the part after it).
    assert_eq!(
        bash_complete(&env, "ipctool connect unix:socks/a"),
        ["socks/app.sock"]
    );
    assert_eq!(bash_complete(&env, "ipctool relay -x ./s"), ["./socks/"]);
}

/// What fish completes for `line`, with the committed script (candidates without their
/// descriptions).
fn fish_complete(env: &Env, line: &str) -> Vec<String> {
    let mut c = Command::new("fish");
    hermetic(&mut c);
    c.current_dir(env.dir.path()).args([
        "-c",
        &format!(
            "source {}; complete -C {line:?}",
            root().join("completions/ipctool.fish").display()
        ),
    ]);
    let out = run_with_input(c, b"");
    out.success();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn fish_completes_prefixes_and_paths() {
    if !have("fish") {
        return;
    }
    let env = Env::new();
    std::fs::write(env.path("app.sock"), b"").expect("file");
    assert_eq!(
        fish_complete(&env, "ipctool connect un"),
        ["unix:", "unix-dgram:"]
    );
    assert!(fish_complete(&env, "ipctool listen fifo:ap").contains(&"fifo:app.sock".to_owned()));
    assert!(fish_complete(&env, "ipctool listen --keep").contains(&"--keep-open".to_owned()));
}

/// `--stats[=FORMAT]` takes its value only after '=': a next word is a new argument (a
/// `pipe` stage, an address), so `complete` must not offer the formats there.
#[track_caller]
fn assert_no_format_as_next_word(complete: impl Fn(&str) -> Vec<String>) {
    for line in [
        "ipctool pipe --stats ",
        "ipctool connect --stats ",
        "ipctool listen --stats j",
        "ipctool relay --stats ",
    ] {
        let got = complete(line);
        assert!(
            !got.iter().any(|w| w == "human" || w == "json"),
            "{line:?}: {got:?}"
        );
    }
}

#[test]
fn bash_offers_stats_formats_only_after_the_equals_sign() {
    if !have("bash") {
        return;
    }
    let env = Env::new();
    assert_no_format_as_next_word(|line| bash_complete(&env, line));
    // bash splits words at '=': the replacements are what follows it.
    assert_eq!(
        bash_complete(&env, "ipctool pipe --stats="),
        ["human", "json"]
    );
    assert_eq!(bash_complete(&env, "ipctool connect --stats=j"), ["json"]);
    // An option whose value is the next word still gets it there.
    assert_eq!(
        bash_complete(&env, "ipctool listen --color "),
        ["auto", "always", "never"]
    );
}

#[test]
fn fish_offers_stats_formats_only_after_the_equals_sign() {
    if !have("fish") {
        return;
    }
    let env = Env::new();
    assert_no_format_as_next_word(|line| fish_complete(&env, line));
    assert_eq!(
        fish_complete(&env, "ipctool pipe --stats="),
        ["--stats=human", "--stats=json"]
    );
    assert_eq!(
        fish_complete(&env, "ipctool listen --stats=j"),
        ["--stats=json"]
    );
    assert!(fish_complete(&env, "ipctool connect --st").contains(&"--stats=".to_owned()));
    // fish sorts the candidates.
    assert_eq!(
        fish_complete(&env, "ipctool listen --color "),
        ["always", "auto", "never"]
    );
}

#[test]
fn zsh_script_parses() {
    if !have("zsh") {
        return;
    }
    let mut c = Command::new("zsh");
    hermetic(&mut c);
    c.arg("-n").arg(root().join("completions/_ipctool"));
    run_with_input(c, b"").success();
}
