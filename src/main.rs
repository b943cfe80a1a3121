//! The `ipctool` binary: parse the command line, run, exit with the status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ipctool::cli::Cli::parse();
    ipctool::run(cli).into()
}
