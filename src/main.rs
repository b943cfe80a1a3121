//! The `ipctool` binary: parse the command line, run, exit with the status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ipctool::cli::Cli::parse();
    ipctool::run(cli).into()
}

/// Records which of fds 0-2 were closed at exec, before Rust's runtime reopens them on
/// /dev/null and `>&-` can no longer be told from `>/dev/null` (see `ipctool::stdfds`).
/// Nothing safe runs code that early: the loader calls what this constructor section
/// lists. It must live in the binary, where the linker cannot drop it.
#[cfg(unix)]
#[allow(unsafe_code)]
#[used]
#[cfg_attr(
    target_vendor = "apple",
    unsafe(link_section = "__DATA,__mod_init_func")
)]
#[cfg_attr(not(target_vendor = "apple"), unsafe(link_section = ".init_array"))]
static NOTE_CLOSED_STDIO: extern "C" fn() = ipctool::stdfds::note_closed_at_start;
