//! Shell completions and man pages, rendered from the clap definition. The committed copies
//! in `completions/` and `man/` are checked by `tests/cli/generated.rs`; refresh them with
//! `IPCTOOL_BLESS=1 cargo test --test cli generated`.
//!
//! clap_complete completes flags and subcommands; an address is free text to it. So the
//! bash, zsh and fish scripts get an address completer added here: where an address goes,
//! it offers the address prefixes (`unix:`, `@`, `fifo:`, `exec:`, `tcp:` ...) and file
//! paths, and after `unix:`, `fifo:`, `unix-dgram:` or `seqpacket:` it completes the path.
//! elvish and PowerShell keep clap's completion.
//!
//! clap_complete's bash and fish scripts ignore `require_equals`: they offer the values of
//! `--stats[=FORMAT]` as the next word, which the parser takes as a new argument (a `pipe`
//! stage, an address). Here those options offer their values only in the `--NAME=` form.

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
    let mut cmd = visible_command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ipctool", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    let equals = equals_only(&cmd);
    match shell {
        Shell::Bash => bash_equals_only(bash_addresses(script), &equals),
        Shell::Zsh => zsh_addresses(script),
        Shell::Fish => fish_addresses(fish_equals_only(script, &equals)),
        _ => script,
    }
}

/// A long option that takes its value only as `--NAME=VALUE` (`require_equals`).
#[derive(Debug, PartialEq, Eq)]
struct EqualsOnly {
    long: String,
    values: Vec<String>,
}

/// The `require_equals` options of the whole tree, once per long name (their values are
/// the same wherever the name is used: see the tests).
fn equals_only(cmd: &clap::Command) -> Vec<EqualsOnly> {
    let mut found: Vec<EqualsOnly> = Vec::new();
    let mut stack = vec![cmd];
    while let Some(c) = stack.pop() {
        for a in c.get_arguments().filter(|a| a.is_require_equals_set()) {
            let Some(long) = a.get_long() else { continue };
            if found.iter().any(|o| o.long == long) {
                continue;
            }
            let values = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_owned())
                .collect();
            found.push(EqualsOnly {
                long: long.to_owned(),
                values,
            });
        }
        stack.extend(c.get_subcommands());
    }
    found.sort_by(|a, b| a.long.cmp(&b.long));
    found
}

/// Drops clap's `case "${prev}"` arms that offer a value after `--NAME ` for options in
/// `equals`, and completes `--NAME=VALUE` instead in the wrapper.
fn bash_equals_only(script: String, equals: &[EqualsOnly]) -> String {
    let arms: Vec<String> = equals.iter().map(|o| format!("--{})", o.long)).collect();
    let mut out = String::with_capacity(script.len());
    let mut skipping = false;
    for line in script.lines() {
        let t = line.trim();
        if skipping {
            skipping = t != ";;";
            continue;
        }
        if arms.iter().any(|a| a == t) {
            skipping = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    let cases: String = equals
        .iter()
        .filter(|o| !o.values.is_empty())
        .map(|o| {
            format!(
                "        --{}=*) _ipctool_equals_value \"$word\" {}; return 0 ;;\n",
                o.long,
                o.values.join(" ")
            )
        })
        .collect();
    out.replace("@EQUALS_ONLY@\n", &cases)
}

/// Drops fish's `-r` (value required, offered as the next word) from the options in
/// `equals`: without it fish offers their values only as `--NAME=VALUE`.
fn fish_equals_only(script: String, equals: &[EqualsOnly]) -> String {
    script
        .lines()
        .map(|l| {
            let ours = l.starts_with("complete -c ipctool ")
                && equals
                    .iter()
                    .any(|o| l.contains(&format!(" -l {} ", o.long)));
            match ours.then(|| fish_value_spec_at(l)).flatten() {
                Some(at) => format!("{}{}", &l[..at], &l[at + " -r".len()..]),
                None => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Where the ` -r` of a fish `complete` line's value spec starts: after the description
/// `-d '...'` (in which clap escapes `'` and `\`), if there is one.
fn fish_value_spec_at(line: &str) -> Option<usize> {
    let mut from = 0;
    if let Some(d) = line.find(" -d '") {
        let body = d + " -d '".len();
        let mut chars = line[body..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '\'' => {
                    from = body + i + 1;
                    break;
                }
                _ => {}
            }
        }
    }
    let at = from + line[from..].find(" -r")?;
    let rest = &line[at + " -r".len()..];
    (rest.is_empty() || rest.starts_with(' ')).then_some(at)
}

/// The subcommands whose positional arguments are addresses.
const ADDRESS_SUBCOMMANDS: [&str; 3] = ["connect", "listen", "relay"];

const BASH_ADDRESSES: &str = r#"
# Addresses (added to clap's completion): where clap offers nothing for a word that is not
# a flag, offer the address prefixes and paths; after unix:, fifo:, unix-dgram: or
# seqpacket:, complete the path. COMP_WORDBREAKS usually splits words at ':', so the
# replacements drop what bash already considers typed. Options that take their value only
# as --NAME=VALUE complete it in that form.
_ipctool_with_addresses() {
    local line="${COMP_LINE:0:COMP_POINT}" word sub w
    word="${line##*[[:space:]]}"
    case "$word" in
@EQUALS_ONLY@
    esac
    _ipctool "$@"
    [[ ${#COMPREPLY[@]} -eq 0 ]] || return 0
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

# The value of --NAME=VALUE ($1 is the word typed so far, the rest the values); without
# '=' in COMP_WORDBREAKS, bash replaces the whole word.
_ipctool_equals_value() {
    local word=$1
    shift
    COMPREPLY=( $(compgen -W "$*" -- "${word#*=}") )
    [[ $COMP_WORDBREAKS == *=* ]] || COMPREPLY=( "${COMPREPLY[@]/#/${word%%=*}=}" )
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
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    write_pages(&cmd, dir)
}

/// The page of `cmd`, then those of its visible subcommands (as clap_mangen's
/// `generate_to`, with [`render_page`]).
fn write_pages(cmd: &clap::Command, dir: &Path) -> io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    render_page(&man, cmd, &mut page)?;
    // Each section rendered on its own starts with roff's apostrophe preamble: keep one.
    let preamble = roff::Roff::new().render();
    let body = String::from_utf8_lossy(&page).replace(&preamble, "");
    std::fs::write(dir.join(man.get_filename()), preamble + &body)
}

/// clap_mangen's page, except for the text after the options (`after_long_help`):
/// clap_mangen puts it under one "EXTRA" heading in fill mode, which reflows it and wraps
/// a long example mid-command. Here each `HEADING:` line of it becomes its own section
/// (EXIT STATUS, ADDRESSES, EXAMPLES) and the text under it keeps its lines as written
/// (no-fill), so an example pastes whole.
fn render_page(man: &clap_mangen::Man, cmd: &clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(out)?;
    }
    if let Some(text) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
        out.extend_from_slice(after_help_sections(&text.to_string()).as_bytes());
    }
    if cmd.get_version().is_some() {
        man.render_version_section(out)?;
    }
    Ok(())
}

/// roff for help text made of `HEADING:` lines, each followed by lines indented by two.
fn after_help_sections(text: &str) -> String {
    let mut roff = roff::Roff::new();
    let mut open = false;
    for line in text.lines() {
        if let Some(heading) = line.strip_suffix(':').filter(|h| is_heading(h)) {
            if open {
                roff.control("fi", []);
            }
            roff.control("SH", [heading]).control("nf", []);
            open = true;
        } else {
            roff.text([roff::roman(line.strip_prefix("  ").unwrap_or(line))]);
        }
    }
    if open {
        roff.control("fi", []);
    }
    roff.render()
}

/// `EXAMPLES`, `EXIT STATUS`: capitals and spaces, at the start of the line.
fn is_heading(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == ' ') && !s.starts_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_is_the_one_equals_only_option_with_the_same_values_everywhere() {
        let cmd = visible_command();
        let equals = equals_only(&cmd);
        assert_eq!(
            equals,
            [EqualsOnly {
                long: "stats".into(),
                values: vec!["human".into(), "json".into()],
            }]
        );
        // The scripts are edited by long name: every option of that name must agree.
        let mut stack = vec![&cmd];
        while let Some(c) = stack.pop() {
            for a in c.get_arguments() {
                if let Some(o) = equals.iter().find(|o| a.get_long() == Some(&o.long)) {
                    assert!(a.is_require_equals_set(), "{} --{}", c.get_name(), o.long);
                    let values: Vec<_> = a
                        .get_possible_values()
                        .iter()
                        .map(|v| v.get_name().to_owned())
                        .collect();
                    assert_eq!(values, o.values, "{} --{}", c.get_name(), o.long);
                }
            }
            stack.extend(c.get_subcommands());
        }
    }

    #[test]
    fn fish_value_spec_is_found_after_the_description() {
        let l = r#"complete -c x -l stats -d 'it\'s -r here' -r -f -a "human\t'h'"#;
        let at = fish_value_spec_at(l).expect("found");
        assert_eq!(&l[at..], r#" -r -f -a "human\t'h'"#);
        let l = "complete -c x -l stats -r";
        assert_eq!(fish_value_spec_at(l), Some(l.len() - 3));
        assert_eq!(fish_value_spec_at("complete -c x -l stats -d 'a -r'"), None);
    }

    #[test]
    fn bash_and_fish_offer_stats_values_only_after_the_equals_sign() {
        let bash = completion(Shell::Bash);
        assert!(!bash.contains("--stats)"), "no value after `--stats `");
        assert!(bash.contains(r#"--stats=*) _ipctool_equals_value "$word" human json;"#));
        let fish = completion(Shell::Fish);
        let stats: Vec<_> = fish.lines().filter(|l| l.contains(" -l stats ")).collect();
        assert_eq!(stats.len(), 4, "connect, listen, relay, pipe");
        for l in stats {
            assert!(!l.contains(" -r "), "{l}");
            assert!(l.contains(r#" -f -a "human\t"#), "{l}");
        }
    }
}
