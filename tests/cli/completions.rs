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

#[test]
fn fish_completes_prefixes_and_paths() {
    if !have("fish") {
        return;
    }
    let env = Env::new();
    std::fs::write(env.path("app.sock"), b"").expect("file");
    let run = |line: &str| -> Vec<String> {
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
    };
    assert_eq!(run("ipctool connect un"), ["unix:", "unix-dgram:"]);
    assert!(run("ipctool listen fifo:ap").contains(&"fifo:app.sock".to_owned()));
    assert!(run("ipctool listen --keep").contains(&"--keep-open".to_owned()));
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
