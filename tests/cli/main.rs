//! The integration tests: one binary, real OS objects (sockets, FIFOs, processes) and real
//! peers (socat, nc, std sockets), readiness from the `-v` "listening on" line, a deadline
//! on every wait.

mod util;

mod addresses;
mod bench;
mod completions;
mod connect;
mod docs;
mod generated;
mod halfclose;
mod interop;
mod listen;
mod message_errors;
mod messages;
mod mkfifo;
mod pipe;
mod regressions;
mod relay;
mod server;
mod sockfile;
mod stats;
mod stdout_state;
mod transfer;
