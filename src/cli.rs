//! The command line: the whole clap tree and the value parsers. Declarations only: no I/O.
//! The `///` comment on each item is its help (first line short help, the rest long help).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::addr::Address;
use crate::bench::{Mode, ModeChoice, Pin, Transport};
use crate::report::StatsFormat;
use crate::term::ColorChoice;
use crate::units;

const EXIT_STATUS: &str = "\
EXIT STATUS:
  0    success
  1    runtime failure (I/O, refused, not found, permission)
  2    usage error or bad address
  124  a --timeout or --wait ran out
  130  interrupted by SIGINT (143 by SIGTERM, 129 by SIGHUP)
  A broken pipe on stdout (the reader went away, as with `| head`) ends quietly with 0.
  Any other failure to write stdout (read-only, full) is 1. A stdout closed at start (>&-)
  is 1 before any data moves, unless nothing would be written to it (--send-only,
  listen -e): use >/dev/null to discard the data. A closed stdin (<&-) reads as empty.

ADDRESSES:
  PATH            a Unix socket on PATH (needs a '/' unless the file exists);
                  an existing FIFO at PATH is used as a FIFO
  unix:PATH       a Unix domain stream socket on a filesystem path
  @NAME           a socket in the Linux abstract namespace (also abstract:NAME)
  fifo:PATH       a FIFO (named pipe)
  -               stdin and stdout (also stdio)
  exec:CMD        `sh -c CMD`, its stdin and stdout
  tcp:HOST:PORT   TCP (tcp:[::1]:PORT for IPv6)
  unix-dgram:PATH a Unix datagram socket (unix-dgram:@NAME in the abstract namespace)
  seqpacket:PATH  a Unix sequenced-packet socket (seqpacket:@NAME in the abstract namespace)
  Socket paths and abstract names are limited to 107 bytes. The two message sockets keep
  message boundaries: from stdin, a pipe or a command each line is one message (its
  newline not sent) and each message received is written as one line; with
  --raw-messages each read is one message and messages are written as they are.";

/// Inter-process communication from the terminal: serve and reach local sockets, FIFOs
/// and pipes, and report what moved, how fast.
#[derive(Debug, Parser)]
#[command(name = "ipctool", version, propagate_version = true, after_long_help = EXIT_STATUS)]
#[command(max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print only errors and the reports you asked for
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to use colour on stderr and in tables
    ///
    /// `auto` colours a stream only when it is a terminal and NO_COLOR is unset or empty.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// Copy through a buffer with read(2)/write(2) instead of splice(2)
    ///
    /// By default bytes that only pass through ipctool are moved with splice(2) where the
    /// kernel allows it. This switch is for debugging and comparisons.
    #[arg(long, global = true, hide_short_help = true)]
    pub no_splice: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Connect(ConnectArgs),
    Listen(ListenArgs),
    Relay(RelayArgs),
    Mkfifo(MkfifoArgs),
    Pipe(PipeArgs),
    Bench(BenchArgs),
    /// The other process of a `bench` pair (internal; started by `bench` itself)
    #[command(name = "__bench-peer", hide = true)]
    BenchPeer(BenchPeerArgs),
}

/// Flags of every subcommand that moves data over a connection.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Print a summary on stderr at exit: bytes each way, duration, throughput
    ///
    /// `human` (the default) prints one line per connection and a total; `json` prints the
    /// same as JSON Lines: one object per line with `kind` (`connection` or `total`),
    /// `sent_bytes`, `received_bytes`, `duration_secs`, and the peer's `peer_pid`,
    /// `peer_uid`, `peer_gid` where the OS gives them. SIGUSR1 prints the current counters
    /// in the same format without stopping (as human lines when --stats is not given).
    #[arg(long, value_name = "FORMAT", value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "human")]
    pub stats: Option<StatsFormat>,

    /// Show live bytes and rate on stderr
    ///
    /// Drawn on stderr even when it is not a terminal. When stdout is the same terminal,
    /// the line is redrawn where the cursor is and never above it, so the data written
    /// below it is never erased (a copy of the line stays above it; a line the data has
    /// not ended yet can be overwritten).
    #[arg(long)]
    pub progress: bool,

    /// Only send stdin to the endpoint; shut the other direction at once
    #[arg(long, conflicts_with = "recv_only")]
    pub send_only: bool,

    /// Only receive from the endpoint; shut the other direction at once
    #[arg(long)]
    pub recv_only: bool,

    /// Close a connection after this long with no traffic either way (e.g. 30s)
    ///
    /// Closing an idle connection is a normal end (exit 0); `-v` says so. If bytes were
    /// still waiting to be delivered (the peer stopped reading), it is a failure (exit 1).
    /// On a unix-dgram: address, which has no end of stream, it is also how long `connect`
    /// (and `relay`) keep waiting for answers after the input has ended.
    #[arg(long, value_name = "DURATION", value_parser = units::parse_positive_duration)]
    pub idle_timeout: Option<Duration>,

    /// Message sockets: each read is one message; messages are written as they are
    ///
    /// With unix-dgram: and seqpacket: addresses, by default each line of the byte-stream
    /// side (stdin, a stream peer, an -e command's output) is one message, sent without its
    /// newline, and each message received is written followed by a newline (unless it ends
    /// with one). With --raw-messages, each read of the stream side is one message (whatever
    /// one read returns) and received messages are written back to back, unchanged. Between two
    /// message sockets (relay), messages pass whole either way.
    #[arg(long)]
    pub raw_messages: bool,
}

/// Connect to ADDR and bridge it to stdin/stdout
///
/// Sends stdin to ADDR and writes what comes back to stdout. At EOF on stdin the sending
/// side is shut down (half-close) and ipctool keeps reading the answer, with no time limit.
/// It exits 0 when the peer has closed; when the peer closes completely it ends at once,
/// even if stdin never ends. (Over TCP a complete close cannot be told from a half-close
/// until something is sent: with an idle stdin, connect waits; use --idle-timeout.) A reset
/// or a failed write is exit 1: a session that may have lost data never exits 0. So is a
/// complete close while stdin still holds bytes for the peer (a pipe with data waiting, a
/// file not read to its end); a terminal, or a pipe with nothing waiting, ends with 0. An
/// exec: command that exits or closes its stdin before reading everything made that
/// choice (as head in a shell pipeline): its exit status decides.
///
/// On seqpacket:, each line of stdin is one message (see --raw-messages). On unix-dgram:,
/// ipctool first binds a name of its own, an abstract one the kernel picks (nothing is
/// created on disk), so that the server can answer; as a datagram peer never sends an EOF,
/// it ends when stdin ends, or with --idle-timeout once answers stop coming for that long.
/// With --wait, a send also waits that long for room in a full receive queue, then exits
/// 124.
#[derive(Debug, Args)]
#[command(after_long_help = CONNECT_EXAMPLES)]
pub struct ConnectArgs {
    /// The address to connect to (see `ipctool --help` for the forms)
    #[arg(value_name = "ADDR", value_parser = parse_address)]
    pub addr: Address,

    /// Retry while nothing listens (missing path, refused, full backlog, FIFO without a
    /// reader, a datagram receive queue that stays full), for up to DURATION; then exit 124
    #[arg(long, value_name = "DURATION", value_parser = units::parse_positive_duration)]
    pub wait: Option<Duration>,

    #[command(flatten)]
    pub transfer: TransferArgs,
}

const CONNECT_EXAMPLES: &str = "\
EXAMPLES:
  Send a request and print the answer:
    printf 'GET /version HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' | ipctool connect /var/run/docker.sock
  Wait up to 5 s for a server to come up, then send a file:
    ipctool connect --wait 5s /tmp/demo.sock < file
  Write into a FIFO (blocks until a reader opens it):
    echo hello | ipctool connect fifo:/tmp/demo.fifo
  Summary as JSON on stderr:
    echo hi | ipctool connect --stats=json @demo
  Log two messages to a datagram collector (one per line):
    printf 'disk full\\nretrying\\n' | ipctool connect unix-dgram:/tmp/log.sock
  Ask a datagram server and wait up to 1 s for its answers:
    echo status | ipctool connect --idle-timeout 1s unix-dgram:/tmp/svc.sock
  One message per read instead of per line:
    ipctool connect --raw-messages seqpacket:@demo < request.bin";

/// Serve ADDR and bridge clients to stdin/stdout or to a command
///
/// By default accepts one client, copies stdin to it and it to stdout, and exits 0 when
/// both directions have ended (half-close is honoured both ways).
///
/// With -k, serves clients concurrently until a signal or --count: what they send goes to
/// stdout in whole lines (two clients never split one line; a client's unterminated last
/// line is ended with a newline when another client's data follows it), stdin is sent to
/// every connected client (a slow client slows the broadcast; EOF on stdin does not stop
/// the server), and a client's connection ends as soon as it closes its side. With -e, each
/// client gets its own `sh -c CMD` instead, its stdin and stdout joined to the client.
///
/// Socket files are created with exactly --mode (0600 by default) whatever the umask, and
/// removed at exit (SIGINT, SIGTERM and SIGHUP included) if they are still the file
/// ipctool created. A stale socket file is reclaimed; a path served by a live listener is
/// refused, naming its pid; a path that is not a socket is never touched, and a symlink is
/// never followed. `listen fifo:PATH` creates the FIFO if missing and copies what writers
/// send to stdout; with -k it keeps reading across successive writers. On a stop signal
/// the server stops accepting, gives connected clients EOF, stops and reaps commands,
/// prints the --stats totals, removes its file and exits 128 + the signal.
///
/// seqpacket: serves clients like a stream socket (-k, -e, --max-clients, --count,
/// --allow-uid), one message per line each way (see --raw-messages). unix-dgram: has no
/// clients: one socket receives the datagrams of every sender and writes each as a line
/// (-v names each new sender with its pid and uid; --allow-uid drops the datagrams of other
/// users); what comes on stdin is sent, a line per datagram, to the most recent sender.
/// Datagrams have no end of stream, so a datagram listen ends on a signal, after --count N
/// datagrams, after --idle-timeout without traffic, or (exit 124) when --timeout passes
/// before the first datagram; EOF on stdin does not end it; -k changes nothing.
#[derive(Debug, Args)]
#[command(after_long_help = LISTEN_EXAMPLES)]
pub struct ListenArgs {
    /// The address to serve: a socket path, @NAME, fifo:PATH, tcp:HOST:PORT,
    /// seqpacket:PATH or unix-dgram:PATH
    #[arg(value_name = "ADDR", value_parser = parse_address)]
    pub addr: Address,

    /// Keep accepting clients, concurrently, until a signal or --count
    #[arg(short = 'k', long)]
    pub keep_open: bool,

    /// Run `sh -c CMD` for each client, joined to it
    ///
    /// The command's environment has IPCTOOL_PEER_PID, IPCTOOL_PEER_UID and
    /// IPCTOOL_PEER_GID (the client's credentials, where the OS gives them). It starts with
    /// default signal dispositions and no descriptor but stdin, stdout and stderr. When it
    /// closes its stdout the client sees EOF at once; its exit status is in -v and --stats.
    /// Without -k, one client is served. On seqpacket:, each message the client sends is one
    /// line of the command's stdin and each line of its stdout is one message back (with
    /// --raw-messages: messages are written as they are, and each read of its stdout is one
    /// message).
    #[arg(short = 'e', long, value_name = "CMD", value_parser = parse_command)]
    pub exec: Option<String>,

    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(flatten)]
    pub transfer: TransferArgs,
}

/// Flags of the subcommands that serve an address (`listen`, `relay`).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve at most N clients at once; later ones wait their turn
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_clients: Option<u32>,

    /// Exit after serving N clients (for listen, implies -k); on unix-dgram:, after N
    /// datagrams
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Serve only peers with one of these user ids; others are refused and logged
    ///
    /// The uid is the OS's peer credential (SO_PEERCRED). Abstract sockets (@NAME) have no
    /// file permissions, so this is how to keep other users out of them.
    #[arg(long, value_name = "UID[,UID...]", value_delimiter = ',')]
    pub allow_uid: Option<Vec<u32>>,

    /// Exit 124 if no client arrives within DURATION
    #[arg(long, value_name = "DURATION", value_parser = units::parse_positive_duration)]
    pub timeout: Option<Duration>,

    /// Mode of the socket file or FIFO created (octal), exactly, whatever the umask
    #[arg(long, value_name = "OCTAL", value_parser = parse_mode, default_value = "0600")]
    pub mode: u32,
}

const LISTEN_EXAMPLES: &str = "\
EXAMPLES:
  Receive one client's data into a file:
    ipctool listen /tmp/demo.sock > out
  Collect log lines from many clients (Ctrl-C to stop):
    ipctool listen -k -v /tmp/log.sock >> log.txt
  An echo server, one `cat` per client:
    ipctool listen -k -e cat /tmp/echo.sock
  Show who connects (pid, uid, gid of each client):
    ipctool listen -k -e 'echo pid=$IPCTOOL_PEER_PID uid=$IPCTOOL_PEER_UID' @whoami
  Only let uid 1000 in, announce readiness, JSON summary at exit:
    ipctool listen -v --allow-uid 1000 --stats=json @demo
  Read what writers put into a FIFO (created 0600 if missing):
    ipctool listen fifo:/tmp/demo.fifo
  Give up if nobody connects within 10 s (exit 124):
    ipctool listen --timeout 10s tcp:127.0.0.1:9000
  A syslog-style collector: every sender's datagrams, one per line, senders shown:
    ipctool listen -v unix-dgram:/tmp/log.sock >> log.txt
  Receive exactly 3 datagrams, then exit:
    ipctool listen --count 3 unix-dgram:@collector
  A seqpacket echo server (each message comes back as it was sent):
    ipctool listen -k -e cat seqpacket:/tmp/echo.seq";

/// Create FIFOs (named pipes), owner-only by default
///
/// Each FIFO is created with exactly --mode (0600 by default), whatever the umask. A path
/// that exists is refused, naming what is there; --force replaces an existing FIFO but never
/// any other kind of file, and the swap is atomic. A symbolic link is never followed. Each
/// failure prints its own error line (naming the path and the reason: exists, no parent
/// directory, permission) and the exit status is 1.
#[derive(Debug, Args)]
#[command(after_long_help = MKFIFO_EXAMPLES)]
pub struct MkfifoArgs {
    /// The FIFOs to create
    #[arg(value_name = "PATH", required_unless_present = "temp")]
    pub paths: Vec<PathBuf>,

    /// Mode of the FIFOs (octal), exactly, whatever the umask
    #[arg(short, long, value_name = "OCTAL", value_parser = parse_mode, default_value = "0600")]
    pub mode: u32,

    /// Create missing parent directories (with the usual umask-derived mode, like mkdir -p)
    #[arg(short, long)]
    pub parents: bool,

    /// Replace an existing FIFO (never any other kind of file)
    #[arg(long)]
    pub force: bool,

    /// Create a FIFO inside a new private directory (0700) and print its path on stdout
    ///
    /// The directory is made under $TMPDIR (or /tmp); remove it with the FIFO when done:
    /// rm -r "${f%/*}". A path that cannot be printed (stdout closed, read-only or full)
    /// is an error, and then no FIFO or directory is left behind.
    #[arg(long, conflicts_with_all = ["paths", "parents", "force"])]
    pub temp: bool,
}

const MKFIFO_EXAMPLES: &str = "\
EXAMPLES:
  A FIFO only you can open:
    ipctool mkfifo /tmp/demo.fifo
  Shared with your group, parents created:
    ipctool mkfifo -p -m 0660 /tmp/ipctool-demo/in.fifo
  A private FIFO for a script, cleaned up at the end:
    f=$(ipctool mkfifo --temp) && ls -l \"$f\" && rm -r \"${f%/*}\"";

/// Copy stdin to stdout measuring it, or run CMDs as one measured pipeline
///
/// With no CMD, a pass-through meter (what pv is used for): stdin is copied to stdout and
/// a live line on stderr shows bytes, rate and elapsed time (with --size, or when stdin is
/// a file, a bar, percent and ETA).
///
/// With CMDs, they run as one pipeline, each as `sh -c CMD`, joined by pipes through
/// ipctool, which meters every hop. Stages are numbered from 1: hop 0 is stdin into stage
/// 1, hop i is stage i into stage i+1, the last hop is the last stage into stdout. A terminal on stdin or stdout
/// is given to the first or last stage directly (not metered). One live line per hop; at
/// the end, bytes and throughput per hop and the bottleneck: the stage the data waited
/// for (the hop into it waited to write, the hop out of it waited to read), or the writer
/// of stdin or the reader of stdout, or the rate limit when -L held a hop back half the
/// time or more (JSON: "bottleneck":"rate-limit"). The exit status follows `set -o pipefail`: the status
/// of the last stage that failed (128 + N for a stage killed by signal N), and the error
/// names that stage. A stop signal (Ctrl-C) is passed on to the stages; stages still
/// running 3 s later are killed; the status is then 130 (143 for SIGTERM).
///
/// Live lines are drawn when stderr is a terminal and stdout is not; then, at the end, the
/// same summary as --stats=human is printed in their place. When stdout is the terminal
/// too, nothing is drawn (as curl does): the output shares the screen, and redrawing the
/// lines would erase it. --progress draws them (and the summary) anyway, and anywhere; on
/// a terminal stdout shares, as one line for all hops, redrawn where the cursor is and
/// never above it (a copy of it stays above each burst of output; a line the output has
/// not ended yet can be overwritten). --no-progress (or -q) turns both off. When stdout's
/// reader goes away (`| head`), ipctool ends quietly with 0.
#[derive(Debug, Args)]
#[command(after_long_help = PIPE_EXAMPLES)]
pub struct PipeArgs {
    /// The stages, each run as `sh -c CMD`; put `--` before them if one starts with `-`
    #[arg(value_name = "CMD")]
    pub commands: Vec<String>,

    /// The bytes expected on stdin, for a bar, percent and ETA (e.g. 1G)
    ///
    /// When stdin is a regular file, its size is used without asking.
    #[arg(short, long, value_name = "BYTES", value_parser = units::parse_nonzero_size)]
    pub size: Option<u64>,

    /// Move at most RATE bytes per second through each hop (e.g. 20M, 512KiB/s)
    #[arg(short = 'L', long, value_name = "RATE", value_parser = units::parse_rate)]
    pub rate_limit: Option<u64>,

    /// Print a summary on stderr at exit: bytes and throughput per hop, the bottleneck
    ///
    /// `human` (the default) prints one line per hop and a total; `json` prints JSON Lines:
    /// one `hop` record per hop (`hop`, `from`, `to`, `bytes`, `duration_secs`,
    /// `bytes_per_sec`, `read_wait_secs`, `write_wait_secs`, `metered`), then a `total`
    /// (`stages`, `sent_bytes` from stdin, `received_bytes` to stdout, `duration_secs`,
    /// `bottleneck`, `bottleneck_stage`). SIGUSR1 prints the counters so far, in this format
    /// (as human lines when --stats is not given).
    #[arg(long, value_name = "FORMAT", value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "human")]
    pub stats: Option<StatsFormat>,

    /// Draw the live lines and the closing summary on stderr even when it is not a terminal
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,

    /// Never draw live lines or the closing summary (--stats still prints)
    #[arg(long, overrides_with = "progress")]
    pub no_progress: bool,
}

const PIPE_EXAMPLES: &str = "\
EXAMPLES:
  Watch bytes go by (the live line shows when stderr is a terminal and stdout is not):
    ipctool pipe < /dev/zero | head -c 1G > /dev/null
  A bar, percent and ETA for a known size:
    head -c 1G /dev/zero | ipctool pipe --size 1G > /dev/null
  Throttle to 20 MiB/s:
    head -c 100M /dev/urandom | ipctool pipe -L 20M > /dev/null
  Meter every hop of a pipeline and name its bottleneck:
    ipctool pipe --stats -- 'head -c 100000000 /dev/urandom' 'gzip -1' 'gunzip' 'wc -c'
  The same counts as JSON Lines on stderr:
    ipctool pipe --stats=json -- 'seq 1000000' 'sort -r' 'wc -l'";

/// Relay between two addresses, one connection to TO per client of FROM
///
/// Accepts clients on FROM (a socket path, @NAME, tcp:HOST:PORT or seqpacket:PATH; or reads
/// `-`, a FIFO or the datagrams of unix-dgram:PATH as one client) and for each opens its own
/// connection to TO (any address, exec:CMD included). Both directions are copied with half-close passed on, concurrently for every
/// client, until a signal or --count. A client whose TO cannot be reached is closed with
/// the reason logged; a client or backend that dies takes only its own pair down; a slow
/// side slows its pair (nothing is buffered beyond one chunk each way). When one side of a
/// pair fails (a reset, a read or write error), the other side sees a failure too, not a
/// clean end: a TCP peer is reset; a Unix peer still sending gets EPIPE, one whose bytes
/// were not read yet ECONNRESET. The limit: a Unix peer that has sent everything and waits
/// can only be given EOF (Unix sockets have no reset); the log and exit status say the
/// pair failed. Socket files,
/// signals and cleanup are as for `listen`. Between a message socket and a stream, each
/// line is one message (see --raw-messages); between two message sockets, each message
/// passes whole. Datagrams received on FROM are relayed to TO, and what TO answers goes to
/// the most recent sender.
///
/// --intercept PATH puts the relay in front of a running server: its socket is moved aside
/// to DIR/.NAME.ipctool-intercepted and the relay's socket takes its place in one atomic
/// swap, so clients never find the path missing; clients of PATH then go through the relay
/// (with --hex, you see their traffic). On exit (SIGINT and SIGTERM included) the swap is
/// undone. The risks: while intercepted, a server that removes its socket file when it
/// stops removes the relay's (ipctool then moves the original file back at exit); and if
/// the relay is killed with SIGKILL, PATH is left dead until the next `relay --intercept
/// PATH`, which repairs it first (or `mv DIR/.NAME.ipctool-intercepted PATH` by hand).
#[derive(Debug, Args)]
#[command(after_long_help = RELAY_EXAMPLES)]
pub struct RelayArgs {
    /// Where clients come from: a socket path, @NAME, tcp:HOST:PORT, seqpacket:PATH, -,
    /// fifo:PATH or unix-dgram:PATH
    #[arg(value_name = "FROM", value_parser = parse_address, required_unless_present = "intercept")]
    pub from: Option<Address>,

    /// Where each client is relayed to: any address
    #[arg(value_name = "TO", value_parser = parse_address, required_unless_present = "intercept")]
    pub to: Option<Address>,

    /// Put the relay in front of the live socket at PATH (see above for how and the risks)
    #[arg(long, value_name = "PATH", conflicts_with_all = ["from", "to"])]
    pub intercept: Option<std::path::PathBuf>,

    /// Show every chunk on stderr as a hex dump: connection, direction, time, length,
    /// offset, hex and text
    #[arg(short = 'x', long)]
    pub hex: bool,

    /// Write the hex dump to FILE instead (created 0600; never through a symlink)
    #[arg(long, value_name = "FILE")]
    pub dump: Option<std::path::PathBuf>,

    /// Retry reaching TO for each client for up to DURATION while nothing listens there
    #[arg(long, value_name = "DURATION", value_parser = units::parse_positive_duration)]
    pub wait: Option<Duration>,

    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(flatten)]
    pub transfer: TransferArgs,
}

const RELAY_EXAMPLES: &str = "\
EXAMPLES:
  Watch what a program says to its server: point it at /tmp/spy.sock instead
    ipctool relay -x /tmp/spy.sock /var/run/docker.sock
  Put a relay in front of a running server, in place, and dump its traffic to a file:
    ipctool relay --intercept /tmp/app.sock --dump /tmp/app.hex
  Bridge a local socket to TCP (and on across machines with ssh or any TCP tool):
    ipctool relay -v tcp:127.0.0.1:9000 /tmp/app.sock
  A command per client behind a socket, with per-connection stats:
    ipctool relay --stats /tmp/upper.sock exec:'tr a-z A-Z'
  Forward datagrams from one socket to another, each whole, shown in hex:
    ipctool relay -x unix-dgram:/tmp/in.sock unix-dgram:/tmp/log.sock";
/// Benchmark IPC transports on this machine, cross-process
///
/// Measures throughput (a one-way stream of messages: bytes/s and messages/s) and round-trip
/// latency (ping-pong; min, p50, p90, p99, p99.9, max and mean from a histogram of every
/// round trip) between ipctool and a second ipctool process, over each transport: a Unix
/// socket, the abstract namespace, FIFOs, unnamed pipes, and TCP loopback as the baseline;
/// and, when named with --transport, the message sockets unix-dgram and seqpacket (one
/// message per datagram or packet, so a message may not exceed what the socket allows).
/// Both processes use the same transport code as `listen` and `connect`.
///
/// With no arguments it runs every transport in both modes (64 KiB messages for
/// throughput, 64 B for latency), one second per case, and prints a table on stdout.
/// A progress bar is drawn on stderr when it is a terminal.
///
/// CPU placement decides the result on small machines: a round trip between two CPUs can
/// cost several times one on the same CPU. By default the scheduler places the processes
/// (`--pin none`); the table says so, and every result records its placement.
#[derive(Debug, Args)]
#[command(after_long_help = BENCH_EXAMPLES)]
pub struct BenchArgs {
    /// Transports to measure, comma-separated [default: all but unix-dgram and seqpacket]
    #[arg(
        short,
        long,
        value_name = "LIST",
        value_enum,
        value_delimiter = ',',
        conflicts_with = "connect"
    )]
    pub transport: Vec<Transport>,

    /// Message sizes, comma-separated (e.g. 64,4KiB,1MiB) [default: 64KiB for throughput,
    /// 64 for latency]
    #[arg(short, long, value_name = "LIST", value_delimiter = ',', value_parser = parse_message_size)]
    pub size: Vec<u64>,

    /// How long to measure each case (e.g. 500ms, 2s) [default: 1s]
    #[arg(short, long, value_name = "DURATION", value_parser = units::parse_positive_duration)]
    pub duration: Option<Duration>,

    /// Measure this many messages (throughput) or round trips (latency) per pair instead
    #[arg(short = 'n', long, value_name = "N", conflicts_with = "duration", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Let messages flow this long before each measurement starts [default: 200ms]
    #[arg(long, value_name = "DURATION", value_parser = units::parse_duration)]
    pub warmup: Option<Duration>,

    /// What to measure
    #[arg(short, long, value_name = "MODE", value_enum, default_value_t = ModeChoice::Both)]
    pub mode: ModeChoice,

    /// Pairs of processes measured in parallel (totals and per pair)
    #[arg(short, long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub clients: u16,

    /// CPU placement: both processes of a pair on one CPU, on two CPUs, or left to the
    /// scheduler
    ///
    /// `same` runs pair i on one CPU; `spread` runs its two processes on two CPUs; pairs go
    /// round the CPUs ipctool may use. With --connect only ipctool's clients are pinned.
    #[arg(long, value_name = "WHERE", value_enum, default_value_t = Pin::None)]
    pub pin: Pin,

    /// Measure an existing server at ADDR instead of ipctool's own peer
    ///
    /// A round trip sends a message and waits for as many bytes back, so the server must
    /// echo (e.g. `socat UNIX-LISTEN:/tmp/echo.sock,fork EXEC:cat`). Throughput counts the
    /// bytes the server accepts; what it sends back is read and dropped. Use --clients to
    /// load it with several connections.
    #[arg(long, value_name = "ADDR", value_parser = parse_address)]
    pub connect: Option<Address>,

    /// Print the results as one JSON document
    #[arg(long, group = "format")]
    pub json: bool,

    /// Print the results as CSV
    #[arg(long, group = "format")]
    pub csv: bool,

    /// Print the results as Markdown tables
    #[arg(long, group = "format")]
    pub markdown: bool,
}

const BENCH_EXAMPLES: &str = "\
EXAMPLES:
  Every transport, throughput and latency (about 12 s):
    ipctool bench
  Round trips of small and large messages, both processes on one CPU:
    ipctool bench --mode latency --size 64,4KiB,64KiB --pin same
  Unix socket against TCP, 4 pairs at once, as JSON:
    ipctool bench --transport unix,tcp --clients 4 --json
  Message sockets against a stream socket, small messages:
    ipctool bench --transport unix-dgram,seqpacket,unix --size 64,1KiB
  Load-test an echo server with 8 connections:
    socat UNIX-LISTEN:/tmp/echo.sock,fork EXEC:cat &
    ipctool bench --connect /tmp/echo.sock --clients 8
  A table for a README:
    ipctool bench --markdown > bench.md";

/// The peer process of `bench` (internal).
#[derive(Debug, Args)]
pub struct BenchPeerArgs {
    /// Throughput: write messages until the reader goes; latency: echo each message
    #[arg(long, value_enum)]
    pub mode: Mode,

    /// Message size in bytes
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub size: u64,

    /// Pid of the `bench` process: the peer ends when it does
    #[arg(long)]
    pub parent: u32,

    /// CPU to run on
    #[arg(long)]
    pub cpu: Option<usize>,

    /// A FIFO to read messages from (ADDR is then the FIFO to answer into)
    #[arg(long, value_parser = parse_address)]
    pub from: Option<Address>,

    /// Where to connect: a socket, a FIFO to write, or `-` (stdin and stdout)
    #[arg(value_parser = parse_address)]
    pub addr: Address,
}

/// Parses an address for clap: the message is the reason; clap quotes the input.
pub fn parse_address(s: &str) -> Result<Address, String> {
    s.parse::<Address>().map_err(|e| e.reason)
}

/// Largest bench message: a buffer this big is allocated per connection and direction.
pub const MAX_BENCH_SIZE: u64 = 256 << 20;

/// A bench message size: 1 byte to [`MAX_BENCH_SIZE`].
pub fn parse_message_size(s: &str) -> Result<u64, String> {
    match units::parse_nonzero_size(s)? {
        n if n > MAX_BENCH_SIZE => Err(format!(
            "invalid size '{s}': the largest message is 256 MiB"
        )),
        n => Ok(n),
    }
}

/// A command for `sh -c`: anything but blank (as `exec:CMD`).
pub fn parse_command(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("expected a command, run as `sh -c CMD`".into());
    }
    Ok(s.to_string())
}

/// Parses an octal file mode such as `0600`, `600` or `0o660`.
pub fn parse_mode(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o7777 && !digits.is_empty() => Ok(m),
        _ => Err(format!(
            "invalid mode '{s}': expected octal permission bits such as 0600 or 0660"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert_eq!(parse_mode("660"), Ok(0o660));
        assert_eq!(parse_mode("0o640"), Ok(0o640));
        assert!(parse_mode("0800").is_err());
        assert!(parse_mode("17777").is_err());
        assert!(parse_mode("").is_err());
        assert!(parse_mode("rw").expect_err("not octal").contains("'rw'"));
    }
}
