# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ipctool_global_optspecs
    string join \n v/verbose q/quiet color= no-splice h/help V/version
end

function __fish_ipctool_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ipctool_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ipctool_using_subcommand
    set -l cmd (__fish_ipctool_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ipctool -n "__fish_ipctool_needs_command" -l color -d 'When to use colour on stderr and in tables' -r -f -a "auto\t'Colour where the stream is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c ipctool -n "__fish_ipctool_needs_command" -s v -l verbose -d 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
complete -c ipctool -n "__fish_ipctool_needs_command" -s q -l quiet -d 'Print only errors and the reports you asked for'
complete -c ipctool -n "__fish_ipctool_needs_command" -l no-splice -d 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
complete -c ipctool -n "__fish_ipctool_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipctool -n "__fish_ipctool_needs_command" -s V -l version -d 'Print version'
complete -c ipctool -n "__fish_ipctool_needs_command" -f -a "connect" -d 'Connect to ADDR and bridge it to stdin/stdout'
complete -c ipctool -n "__fish_ipctool_needs_command" -f -a "listen" -d 'Serve ADDR and bridge clients to stdin/stdout or to a command'
complete -c ipctool -n "__fish_ipctool_needs_command" -f -a "relay" -d 'Relay between two addresses, one connection to TO per client of FROM'
complete -c ipctool -n "__fish_ipctool_needs_command" -f -a "mkfifo" -d 'Create FIFOs (named pipes), owner-only by default'
complete -c ipctool -n "__fish_ipctool_needs_command" -f -a "pipe" -d 'Copy stdin to stdout measuring it, or run CMDs as one measured pipeline'
complete -c ipctool -n "__fish_ipctool_needs_command" -f -a "bench" -d 'Benchmark IPC transports on this machine, cross-process'
complete -c ipctool -n "__fish_ipctool_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l wait -d 'Retry while nothing listens (missing path, refused, full backlog, FIFO without a reader, a datagram receive queue that stays full), for up to DURATION; then exit 124' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l stats -d 'Print a summary on stderr at exit: bytes each way, duration, throughput' -f -a "human\t'One line per record, for people'
json\t'One JSON object per line (JSON Lines), for programs'"
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l idle-timeout -d 'Close a connection after this long with no traffic either way (e.g. 30s)' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l color -d 'When to use colour on stderr and in tables' -r -f -a "auto\t'Colour where the stream is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l progress -d 'Show live bytes and rate on stderr'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l send-only -d 'Only send stdin to the endpoint; shut the other direction at once'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l recv-only -d 'Only receive from the endpoint; shut the other direction at once'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l raw-messages -d 'Message sockets: each read is one message; messages are written as they are'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -s v -l verbose -d 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -s q -l quiet -d 'Print only errors and the reports you asked for'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -l no-splice -d 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -s V -l version -d 'Print version'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -s e -l exec -d 'Run `sh -c CMD` for each client, joined to it' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l max-clients -d 'Serve at most N clients at once; later ones wait their turn' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l count -d 'Exit after serving N clients (for listen, implies -k); on unix-dgram:, after N datagrams' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l allow-uid -d 'Serve only peers with one of these user ids; others are refused and logged' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l timeout -d 'Exit 124 if no client arrives within DURATION' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l mode -d 'Mode of the socket file or FIFO created (octal), exactly, whatever the umask' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l stats -d 'Print a summary on stderr at exit: bytes each way, duration, throughput' -f -a "human\t'One line per record, for people'
json\t'One JSON object per line (JSON Lines), for programs'"
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l idle-timeout -d 'Close a connection after this long with no traffic either way (e.g. 30s)' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l color -d 'When to use colour on stderr and in tables' -r -f -a "auto\t'Colour where the stream is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -s k -l keep-open -d 'Keep accepting clients, concurrently, until a signal or --count'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l progress -d 'Show live bytes and rate on stderr'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l send-only -d 'Only send stdin to the endpoint; shut the other direction at once'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l recv-only -d 'Only receive from the endpoint; shut the other direction at once'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l raw-messages -d 'Message sockets: each read is one message; messages are written as they are'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -s v -l verbose -d 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -s q -l quiet -d 'Print only errors and the reports you asked for'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -l no-splice -d 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -s V -l version -d 'Print version'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l intercept -d 'Put the relay in front of the live socket at PATH (see above for how and the risks)' -r -F
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l dump -d 'Write the hex dump to FILE instead (created 0600; never through a symlink)' -r -F
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l wait -d 'Retry reaching TO for each client for up to DURATION while nothing listens there' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l max-clients -d 'Serve at most N clients at once; later ones wait their turn' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l count -d 'Exit after serving N clients (for listen, implies -k); on unix-dgram:, after N datagrams' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l allow-uid -d 'Serve only peers with one of these user ids; others are refused and logged' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l timeout -d 'Exit 124 if no client arrives within DURATION' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l mode -d 'Mode of the socket file or FIFO created (octal), exactly, whatever the umask' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l stats -d 'Print a summary on stderr at exit: bytes each way, duration, throughput' -f -a "human\t'One line per record, for people'
json\t'One JSON object per line (JSON Lines), for programs'"
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l idle-timeout -d 'Close a connection after this long with no traffic either way (e.g. 30s)' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l color -d 'When to use colour on stderr and in tables' -r -f -a "auto\t'Colour where the stream is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -s x -l hex -d 'Show every chunk on stderr as a hex dump: connection, direction, time, length, offset, hex and text'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l progress -d 'Show live bytes and rate on stderr'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l send-only -d 'Only send stdin to the endpoint; shut the other direction at once'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l recv-only -d 'Only receive from the endpoint; shut the other direction at once'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l raw-messages -d 'Message sockets: each read is one message; messages are written as they are'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -s v -l verbose -d 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -s q -l quiet -d 'Print only errors and the reports you asked for'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -l no-splice -d 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -s V -l version -d 'Print version'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -s m -l mode -d 'Mode of the FIFOs (octal), exactly, whatever the umask' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -l color -d 'When to use colour on stderr and in tables' -r -f -a "auto\t'Colour where the stream is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -s p -l parents -d 'Create missing parent directories (with the usual umask-derived mode, like mkdir -p)'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -l force -d 'Replace an existing FIFO (never any other kind of file)'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -l temp -d 'Create a FIFO inside a new private directory (0700) and print its path on stdout'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -s v -l verbose -d 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -s q -l quiet -d 'Print only errors and the reports you asked for'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -l no-splice -d 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipctool -n "__fish_ipctool_using_subcommand mkfifo" -s V -l version -d 'Print version'
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -s s -l size -d 'The bytes expected on stdin, for a bar, percent and ETA (e.g. 1G)' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -s L -l rate-limit -d 'Move at most RATE bytes per second through each hop (e.g. 20M, 512KiB/s)' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -l stats -d 'Print a summary on stderr at exit: bytes and throughput per hop, the bottleneck' -f -a "human\t'One line per record, for people'
json\t'One JSON object per line (JSON Lines), for programs'"
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -l color -d 'When to use colour on stderr and in tables' -r -f -a "auto\t'Colour where the stream is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -l progress -d 'Draw the live lines and the closing summary on stderr even when it is not a terminal'
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -l no-progress -d 'Never draw live lines or the closing summary (--stats still prints)'
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -s v -l verbose -d 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -s q -l quiet -d 'Print only errors and the reports you asked for'
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -l no-splice -d 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipctool -n "__fish_ipctool_using_subcommand pipe" -s V -l version -d 'Print version'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s t -l transport -d 'Transports to measure, comma-separated [default: all but unix-dgram and seqpacket]' -r -f -a "unix\t'A Unix domain stream socket on a path in a private temporary directory'
abstract\t'A Unix stream socket in the Linux abstract namespace'
fifo\t'FIFOs (named pipes) in a private temporary directory: one each way'
pipe\t'Unnamed pipes: the peer\'s stdin and stdout'
tcp\t'TCP over loopback, the baseline'
unix-dgram\t'A Unix datagram socket on a path in a private temporary directory (only when named: not in the default suite)'
seqpacket\t'A Unix sequenced-packet socket on a path in a private temporary directory (only when named: not in the default suite)'"
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s s -l size -d 'Message sizes, comma-separated (e.g. 64,4KiB,1MiB) [default: 64KiB for throughput, 64 for latency]' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s d -l duration -d 'How long to measure each case (e.g. 500ms, 2s) [default: 1s]' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s n -l count -d 'Measure this many messages (throughput) or round trips (latency) per pair instead' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l warmup -d 'Let messages flow this long before each measurement starts [default: 200ms]' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s m -l mode -d 'What to measure' -r -f -a "throughput\t'Throughput only'
latency\t'Round-trip latency only'
both\t'Throughput, then latency'"
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s c -l clients -d 'Pairs of processes measured in parallel (totals and per pair)' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l pin -d 'CPU placement: both processes of a pair on one CPU, on two CPUs, or left to the scheduler' -r -f -a "none\t'Leave placement to the scheduler'
same\t'Both processes of a pair on one CPU'
spread\t'The two processes of a pair on different CPUs'"
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l connect -d 'Measure an existing server at ADDR instead of ipctool\'s own peer' -r
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l color -d 'When to use colour on stderr and in tables' -r -f -a "auto\t'Colour where the stream is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l json -d 'Print the results as one JSON document'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l csv -d 'Print the results as CSV'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l markdown -d 'Print the results as Markdown tables'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s v -l verbose -d 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s q -l quiet -d 'Print only errors and the reports you asked for'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -l no-splice -d 'Copy through a buffer with read(2)/write(2) instead of splice(2)'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipctool -n "__fish_ipctool_using_subcommand bench" -s V -l version -d 'Print version'
complete -c ipctool -n "__fish_ipctool_using_subcommand help; and not __fish_seen_subcommand_from connect listen relay mkfifo pipe bench help" -f -a "connect" -d 'Connect to ADDR and bridge it to stdin/stdout'
complete -c ipctool -n "__fish_ipctool_using_subcommand help; and not __fish_seen_subcommand_from connect listen relay mkfifo pipe bench help" -f -a "listen" -d 'Serve ADDR and bridge clients to stdin/stdout or to a command'
complete -c ipctool -n "__fish_ipctool_using_subcommand help; and not __fish_seen_subcommand_from connect listen relay mkfifo pipe bench help" -f -a "relay" -d 'Relay between two addresses, one connection to TO per client of FROM'
complete -c ipctool -n "__fish_ipctool_using_subcommand help; and not __fish_seen_subcommand_from connect listen relay mkfifo pipe bench help" -f -a "mkfifo" -d 'Create FIFOs (named pipes), owner-only by default'
complete -c ipctool -n "__fish_ipctool_using_subcommand help; and not __fish_seen_subcommand_from connect listen relay mkfifo pipe bench help" -f -a "pipe" -d 'Copy stdin to stdout measuring it, or run CMDs as one measured pipeline'
complete -c ipctool -n "__fish_ipctool_using_subcommand help; and not __fish_seen_subcommand_from connect listen relay mkfifo pipe bench help" -f -a "bench" -d 'Benchmark IPC transports on this machine, cross-process'
complete -c ipctool -n "__fish_ipctool_using_subcommand help; and not __fish_seen_subcommand_from connect listen relay mkfifo pipe bench help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

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
complete -c ipctool -n "__fish_ipctool_using_subcommand connect" -a "(__fish_ipctool_address)"
complete -c ipctool -n "__fish_ipctool_using_subcommand listen" -a "(__fish_ipctool_address)"
complete -c ipctool -n "__fish_ipctool_using_subcommand relay" -a "(__fish_ipctool_address)"
