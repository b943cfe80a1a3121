//! A stdout that cannot take the data: closed at start (`>&-`), open read-only
//! (`1<FILE`), full (`/dev/full`). A session that may have lost data never exits 0, and
//! the one error line names stdout, never the side that read.

use crate::util::*;

/// With splice, EBADF on a read-only stdout was blamed on the reading side ("could not
/// read stdin", "could not read stage 0").
#[test]
fn review_a_read_only_stdout_is_named_as_the_side_that_failed() {
    let env = Env::new();
    std::fs::write(env.path("f"), b"").expect("write");
    for splice in ["", "--no-splice"] {
        for pipe in ["pipe", "pipe -- cat"] {
            let script = format!("echo hi | \"$IPCTOOL\" {splice} {pipe} 1<f");
            let out = run_with_input(env.sh(&script), b"");
            out.assert_code(1)
                .one_error(&["could not write to stdout", "Bad file descriptor"])
                .stderr_lacks("could not read");
        }
    }
    let out = run_with_input(env.sh("seq 3 | \"$IPCTOOL\" pipe -- cat >/dev/full"), b"");
    out.assert_code(1)
        .one_error(&["could not write to stdout", "No space left on device"]);
}
