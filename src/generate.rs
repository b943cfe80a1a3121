//! Shell completions and man pages, rendered from the clap definition. The committed copies
//! in `completions/` and `man/` are checked by `tests/cli/generated.rs`; refresh them with
//! `IPCTOOL_BLESS=1 cargo test --test cli generated`.

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
    String::from_utf8(out).expect("clap_complete writes UTF-8")
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
