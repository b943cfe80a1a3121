//! Shell completions and man pages, rendered from the clap definition. The committed copies
//! in `completions/` and `man/` are checked by `tests/cli/generated.rs`; refresh them with
//! `IPCTOOL_BLESS=1 cargo test --test cli generated`.
//!
//! clap_complete completes flags and subcommands; an address is free text to it. So the
//! bash, zsh and fish scripts get an address completer added here: where an address goes,
//! it offers the address prefixes (`unix:`, `@`, `fifo:`, `exec:`, `tcp:` ...) and file
//! paths, and after `unix:`, `fifo:`, `unix-dgram:` or `seqpacket:` it completes the path.
//! elvish and PowerShell keep clap's completion.

use std::io;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The shells completions are generated for, and their file names.
pub const SHELLS: [(Shell, &str); 5] = [
    (Shell::Bash, "ipctool.bash"),
    (Shell::Zsh, "_ipctool"),
    (Shell::Fish, "ipctool.fish"),
    (Shell::Elvish, "ipctool.elv"),
    (Shell::PowerShell, "_ipctool.ps1"),
];

/// The completion script for one shell.
pub fn completion(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut visible_command(), "ipctool", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Bash => bash_addresses(script),
        Shell::Zsh => zsh_addresses(script),
        Shell::Fish => fish_addresses(script),
        _ => script,
    }
}

/// The subcommands whose positional arguments are addresses.
const ADDRESS_SUBCOMMANDS: [&str; 3] = ["connect", "listen", "relay"];

const BASH_ADDRESSES: &str = r#"
# Addresses (added to clap's completion): where clap offers nothing for a word that is not
# a flag, offer the address prefixes and paths; after unix:, fifo:, unix-dgram: or
# seqpacket:, complete the path. COMP_WORDBREAKS usually splits words at ':', so the
# replacements drop what bash already considers typed.
_ipctool_with_addresses() {
    _ipctool "$@"
    [[ ${#COMPREPLY[@]} -eq 0 ]] || return 0
    local line="${COMP_LINE:0:COMP_POINT}" word sub w
    word="${line##*[[:space:]]}"
    [[ $word == -* ]] && return 0
    for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        case "$w" in connect|listen|relay) sub=$w; break ;; esac
    done
    [[ -n $sub ]] || return 0
    local prefix="" path="$word"
    case "$word" in
        unix:*|fifo:*|unix-dgram:*|seqpacket:*) prefix="${word%%:*}:"; path="${word#*:}" ;;
    esac
    local -a out=()
    if [[ -z $prefix ]]; then
        out+=( $(compgen -W "unix: @ abstract: fifo: exec: tcp: unix-dgram: seqpacket: -" -- "$word") )
    fi
    local f
    while IFS= read -r f; do
        [[ -d $f ]] && f="$f/"
        out+=( "$prefix$f" )
    done < <(compgen -f -- "$path")
    if [[ $COMP_WORDBREAKS == *:* && $word == *:* ]]; then
        local typed="${word%"${word##*:}"}"
        out=( "${out[@]#"$typed"}" )
    fi
    COMPREPLY=( "${out[@]}" )
    compopt -o nospace 2>/dev/null
    return 0
}
"#;

fn bash_addresses(script: String) -> String {
    let script = script.replace(
        "complete -F _ipctool ",
        "complete -F _ipctool_with_addresses ",
    );
    let at = script
        .find("\nif [[ \"${BASH_VERSINFO[0]}\" -eq 4")
        .unwrap_or(script.len());
    format!("{}{BASH_ADDRESSES}{}", &script[..at], &script[at..])
}

const ZSH_ADDRESSES: &str = r#"
(( $+functions[_ipctool_address] )) ||
_ipctool_address() {
    local -a kinds=('unix:' '@' 'abstract:' 'fifo:' 'exec:' 'tcp:' 'unix-dgram:' 'seqpacket:' '-')
    if compset -P '(unix|fifo|unix-dgram|seqpacket):'; then
        _files
    else
        compadd -S '' -a kinds
        _files
    fi
}
"#;

fn zsh_addresses(script: String) -> String {
    let mut script = script;
    // Required positionals are ':name -- ...', optional ones '::name -- ...'.
    for name in ["addr", "from", "to"] {
        script = script.replace(&format!(":{name} -- "), &format!(":{name}__ADDR -- "));
    }
    // Positional address arguments and `--connect ADDR` complete with _ipctool_address.
    let script: String = script
        .lines()
        .map(|l| {
            let is_address = l.contains("__ADDR -- ") || l.contains("]:ADDR:_default");
            let l = l.replace("__ADDR -- ", " -- ");
            if is_address {
                l.replace(":_default'", ":_ipctool_address'")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let at = script
        .find("\nif [ \"$funcstack[1]\" = \"_ipctool\" ]")
        .unwrap_or(script.len());
    format!("{}{ZSH_ADDRESSES}{}", &script[..at], &script[at..])
}

const FISH_ADDRESSES: &str = r#"
# Addresses: the prefixes, and paths after unix:, fifo:, unix-dgram: or seqpacket:.
function __fish_ipctool_address
    set -l tok (commandline -ct)
    if string match -qr '^(unix|fifo|unix-dgram|seqpacket):' -- $tok
        set -l prefix (string replace -r '^([a-z-]+:).*' '$1' -- $tok)
        for f in (__fish_complete_path (string replace -r '^[a-z-]+:' '' -- $tok))
            echo $prefix$f
        end
    else
        printf '%s\n' unix: @ abstract: fifo: exec: tcp: unix-dgram: seqpacket: -
    end
end
"#;

fn fish_addresses(script: String) -> String {
    let mut out = script;
    out.push_str(FISH_ADDRESSES);
    for sub in ADDRESS_SUBCOMMANDS {
        out.push_str(&format!(
            "complete -c ipctool -n \"__fish_ipctool_using_subcommand {sub}\" -a \"(__fish_ipctool_address)\"\n"
        ));
    }
    out
}

/// The command tree without hidden subcommands (the `bench` peer): clap_complete lists
/// them, clap_mangen does not. clap cannot remove a subcommand, so the root is rebuilt
/// from the parts completions use: its arguments (globals included), its visible
/// subcommands, its version and help texts.
fn visible_command() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new("ipctool")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(about) = full.get_long_about() {
        cmd = cmd.long_about(about.clone());
    }
    cmd
}

/// Writes `ipctool.1` and one page per subcommand into `dir`.
pub fn write_man_pages(dir: &Path) -> io::Result<()> {
    clap_mangen::generate_to(Cli::command(), dir)
}
