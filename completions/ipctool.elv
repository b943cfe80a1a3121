
use builtin;
use str;

set edit:completion:arg-completer[ipctool] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'ipctool'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'ipctool'= {
            cand --color 'When to use colour on stderr and in tables'
            cand -v 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand --verbose 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand -q 'Print only errors and the reports you asked for'
            cand --quiet 'Print only errors and the reports you asked for'
            cand --no-splice 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand connect 'Connect to ADDR and bridge it to stdin/stdout'
            cand listen 'Serve ADDR and bridge clients to stdin/stdout or to a command'
            cand relay 'Relay between two addresses, one connection to TO per client of FROM'
            cand mkfifo 'Create FIFOs (named pipes), owner-only by default'
            cand pipe 'Copy stdin to stdout measuring it, or run CMDs as one measured pipeline'
            cand bench 'Benchmark IPC transports on this machine, cross-process'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ipctool;connect'= {
            cand --wait 'Retry while nothing listens (missing path, refused, full backlog, FIFO without a reader, a datagram receive queue that stays full), for up to DURATION; then exit 124'
            cand --stats 'Print a summary on stderr at exit: bytes each way, duration, throughput'
            cand --idle-timeout 'Close a connection after this long with no traffic either way (e.g. 30s)'
            cand --color 'When to use colour on stderr and in tables'
            cand --progress 'Show live bytes and rate on stderr'
            cand --send-only 'Only send stdin to the endpoint; shut the other direction at once'
            cand --recv-only 'Only receive from the endpoint; shut the other direction at once'
            cand --raw-messages 'Message sockets: each read is one message; messages are written as they are'
            cand -v 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand --verbose 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand -q 'Print only errors and the reports you asked for'
            cand --quiet 'Print only errors and the reports you asked for'
            cand --no-splice 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ipctool;listen'= {
            cand -e 'Run `sh -c CMD` for each client, joined to it'
            cand --exec 'Run `sh -c CMD` for each client, joined to it'
            cand --max-clients 'Serve at most N clients at once; later ones wait their turn'
            cand --count 'Exit after serving N clients (for listen, implies -k); on unix-dgram:, after N datagrams'
            cand --allow-uid 'Serve only peers with one of these user ids; others are refused and logged'
            cand --timeout 'Exit 124 if no client arrives within DURATION'
            cand --mode 'Mode of the socket file or FIFO created (octal), exactly, whatever the umask'
            cand --stats 'Print a summary on stderr at exit: bytes each way, duration, throughput'
            cand --idle-timeout 'Close a connection after this long with no traffic either way (e.g. 30s)'
            cand --color 'When to use colour on stderr and in tables'
            cand -k 'Keep accepting clients, concurrently, until a signal or --count'
            cand --keep-open 'Keep accepting clients, concurrently, until a signal or --count'
            cand --progress 'Show live bytes and rate on stderr'
            cand --send-only 'Only send stdin to the endpoint; shut the other direction at once'
            cand --recv-only 'Only receive from the endpoint; shut the other direction at once'
            cand --raw-messages 'Message sockets: each read is one message; messages are written as they are'
            cand -v 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand --verbose 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand -q 'Print only errors and the reports you asked for'
            cand --quiet 'Print only errors and the reports you asked for'
            cand --no-splice 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ipctool;relay'= {
            cand --intercept 'Put the relay in front of the live socket at PATH (see above for how and the risks)'
            cand --dump 'Write the hex dump to FILE instead (created 0600; never through a symlink)'
            cand --wait 'Retry reaching TO for each client for up to DURATION while nothing listens there'
            cand --max-clients 'Serve at most N clients at once; later ones wait their turn'
            cand --count 'Exit after serving N clients (for listen, implies -k); on unix-dgram:, after N datagrams'
            cand --allow-uid 'Serve only peers with one of these user ids; others are refused and logged'
            cand --timeout 'Exit 124 if no client arrives within DURATION'
            cand --mode 'Mode of the socket file or FIFO created (octal), exactly, whatever the umask'
            cand --stats 'Print a summary on stderr at exit: bytes each way, duration, throughput'
            cand --idle-timeout 'Close a connection after this long with no traffic either way (e.g. 30s)'
            cand --color 'When to use colour on stderr and in tables'
            cand -x 'Show every chunk on stderr as a hex dump: connection, direction, time, length, offset, hex and text'
            cand --hex 'Show every chunk on stderr as a hex dump: connection, direction, time, length, offset, hex and text'
            cand --progress 'Show live bytes and rate on stderr'
            cand --send-only 'Only send stdin to the endpoint; shut the other direction at once'
            cand --recv-only 'Only receive from the endpoint; shut the other direction at once'
            cand --raw-messages 'Message sockets: each read is one message; messages are written as they are'
            cand -v 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand --verbose 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand -q 'Print only errors and the reports you asked for'
            cand --quiet 'Print only errors and the reports you asked for'
            cand --no-splice 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ipctool;mkfifo'= {
            cand -m 'Mode of the FIFOs (octal), exactly, whatever the umask'
            cand --mode 'Mode of the FIFOs (octal), exactly, whatever the umask'
            cand --color 'When to use colour on stderr and in tables'
            cand -p 'Create missing parent directories (with the usual umask-derived mode, like mkdir -p)'
            cand --parents 'Create missing parent directories (with the usual umask-derived mode, like mkdir -p)'
            cand --force 'Replace an existing FIFO (never any other kind of file)'
            cand --temp 'Create a FIFO inside a new private directory (0700) and print its path on stdout'
            cand -v 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand --verbose 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand -q 'Print only errors and the reports you asked for'
            cand --quiet 'Print only errors and the reports you asked for'
            cand --no-splice 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ipctool;pipe'= {
            cand -s 'The bytes expected on stdin, for a bar, percent and ETA (e.g. 1G)'
            cand --size 'The bytes expected on stdin, for a bar, percent and ETA (e.g. 1G)'
            cand -L 'Move at most RATE bytes per second through each hop (e.g. 20M, 512KiB/s)'
            cand --rate-limit 'Move at most RATE bytes per second through each hop (e.g. 20M, 512KiB/s)'
            cand --stats 'Print a summary on stderr at exit: bytes and throughput per hop, the bottleneck'
            cand --color 'When to use colour on stderr and in tables'
            cand --progress 'Draw the live lines and the closing summary on stderr even when it is not a terminal'
            cand --no-progress 'Never draw live lines or the closing summary (--stats still prints)'
            cand -v 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand --verbose 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand -q 'Print only errors and the reports you asked for'
            cand --quiet 'Print only errors and the reports you asked for'
            cand --no-splice 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ipctool;bench'= {
            cand -t 'Transports to measure, comma-separated [default: all but unix-dgram and seqpacket]'
            cand --transport 'Transports to measure, comma-separated [default: all but unix-dgram and seqpacket]'
            cand -s 'Message sizes, comma-separated (e.g. 64,4KiB,1MiB) [default: 64KiB for throughput, 64 for latency]'
            cand --size 'Message sizes, comma-separated (e.g. 64,4KiB,1MiB) [default: 64KiB for throughput, 64 for latency]'
            cand -d 'How long to measure each case (e.g. 500ms, 2s) [default: 1s]'
            cand --duration 'How long to measure each case (e.g. 500ms, 2s) [default: 1s]'
            cand -n 'Measure this many messages (throughput) or round trips (latency) per pair instead'
            cand --count 'Measure this many messages (throughput) or round trips (latency) per pair instead'
            cand --warmup 'Let messages flow this long before each measurement starts [default: 200ms]'
            cand -m 'What to measure'
            cand --mode 'What to measure'
            cand -c 'Pairs of processes measured in parallel (totals and per pair)'
            cand --clients 'Pairs of processes measured in parallel (totals and per pair)'
            cand --pin 'CPU placement: both processes of a pair on one CPU, on two CPUs, or left to the scheduler'
            cand --connect 'Measure an existing server at ADDR instead of ipctool''s own peer'
            cand --color 'When to use colour on stderr and in tables'
            cand --json 'Print the results as one JSON document'
            cand --csv 'Print the results as CSV'
            cand --markdown 'Print the results as Markdown tables'
            cand -v 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand --verbose 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
            cand -q 'Print only errors and the reports you asked for'
            cand --quiet 'Print only errors and the reports you asked for'
            cand --no-splice 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ipctool;help'= {
            cand connect 'Connect to ADDR and bridge it to stdin/stdout'
            cand listen 'Serve ADDR and bridge clients to stdin/stdout or to a command'
            cand relay 'Relay between two addresses, one connection to TO per client of FROM'
            cand mkfifo 'Create FIFOs (named pipes), owner-only by default'
            cand pipe 'Copy stdin to stdout measuring it, or run CMDs as one measured pipeline'
            cand bench 'Benchmark IPC transports on this machine, cross-process'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ipctool;help;connect'= {
        }
        &'ipctool;help;listen'= {
        }
        &'ipctool;help;relay'= {
        }
        &'ipctool;help;mkfifo'= {
        }
        &'ipctool;help;pipe'= {
        }
        &'ipctool;help;bench'= {
        }
        &'ipctool;help;help'= {
        }
    ]
    $completions[$command]
}
