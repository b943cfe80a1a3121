//! `-`: this process's stdin and stdout as one connection.

use std::io;
use std::os::fd::AsFd;

use super::{CloseHow, Conn, Input, Output};

/// Our stdin and stdout. The halves own duplicates of fds 0 and 1; closing the output also
/// points fd 1 at /dev/null, so our stdout's reader sees EOF.
pub fn stdio() -> io::Result<Conn> {
    let input = Input::new(io::stdin().as_fd().try_clone_to_owned()?);
    let output = Output::new(io::stdout().as_fd().try_clone_to_owned()?, CloseHow::Stdout);
    Ok(Conn::halves(Some(input), Some(output)))
}
