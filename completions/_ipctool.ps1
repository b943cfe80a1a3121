
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'ipctool' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'ipctool'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'ipctool' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and in tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--no-splice', '--no-splice', [CompletionResultType]::ParameterName, 'Copy through a buffer with read(2)/write(2) instead of splice(2)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to ADDR and bridge it to stdin/stdout')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Serve ADDR and bridge clients to stdin/stdout or to a command')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Relay between two addresses, one connection to TO per client of FROM')
            [CompletionResult]::new('mkfifo', 'mkfifo', [CompletionResultType]::ParameterValue, 'Create FIFOs (named pipes), owner-only by default')
            [CompletionResult]::new('pipe', 'pipe', [CompletionResultType]::ParameterValue, 'Copy stdin to stdout measuring it, or run CMDs as one measured pipeline')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Benchmark IPC transports on this machine, cross-process')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ipctool;connect' {
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Retry while nothing listens (missing path, refused, full backlog, FIFO without a reader, a datagram receive queue that stays full), for up to DURATION; then exit 124')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print a summary on stderr at exit: bytes each way, duration, throughput')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after this long with no traffic either way (e.g. 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and in tables')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show live bytes and rate on stderr')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'Only send stdin to the endpoint; shut the other direction at once')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Only receive from the endpoint; shut the other direction at once')
            [CompletionResult]::new('--raw-messages', '--raw-messages', [CompletionResultType]::ParameterName, 'Message sockets: each read is one message; messages are written as they are')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--no-splice', '--no-splice', [CompletionResultType]::ParameterName, 'Copy through a buffer with read(2)/write(2) instead of splice(2)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ipctool;listen' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Run `sh -c CMD` for each client, joined to it')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run `sh -c CMD` for each client, joined to it')
            [CompletionResult]::new('--max-clients', '--max-clients', [CompletionResultType]::ParameterName, 'Serve at most N clients at once; later ones wait their turn')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after serving N clients (for listen, implies -k); on unix-dgram:, after N datagrams')
            [CompletionResult]::new('--allow-uid', '--allow-uid', [CompletionResultType]::ParameterName, 'Serve only peers with one of these user ids; others are refused and logged')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Exit 124 if no client arrives within DURATION')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Mode of the socket file or FIFO created (octal), exactly, whatever the umask')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print a summary on stderr at exit: bytes each way, duration, throughput')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after this long with no traffic either way (e.g. 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and in tables')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep accepting clients, concurrently, until a signal or --count')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep accepting clients, concurrently, until a signal or --count')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show live bytes and rate on stderr')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'Only send stdin to the endpoint; shut the other direction at once')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Only receive from the endpoint; shut the other direction at once')
            [CompletionResult]::new('--raw-messages', '--raw-messages', [CompletionResultType]::ParameterName, 'Message sockets: each read is one message; messages are written as they are')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--no-splice', '--no-splice', [CompletionResultType]::ParameterName, 'Copy through a buffer with read(2)/write(2) instead of splice(2)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ipctool;relay' {
            [CompletionResult]::new('--intercept', '--intercept', [CompletionResultType]::ParameterName, 'Put the relay in front of the live socket at PATH (see above for how and the risks)')
            [CompletionResult]::new('--dump', '--dump', [CompletionResultType]::ParameterName, 'Write the hex dump to FILE instead (created 0600; never through a symlink)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Retry reaching TO for each client for up to DURATION while nothing listens there')
            [CompletionResult]::new('--max-clients', '--max-clients', [CompletionResultType]::ParameterName, 'Serve at most N clients at once; later ones wait their turn')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after serving N clients (for listen, implies -k); on unix-dgram:, after N datagrams')
            [CompletionResult]::new('--allow-uid', '--allow-uid', [CompletionResultType]::ParameterName, 'Serve only peers with one of these user ids; others are refused and logged')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Exit 124 if no client arrives within DURATION')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Mode of the socket file or FIFO created (octal), exactly, whatever the umask')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print a summary on stderr at exit: bytes each way, duration, throughput')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after this long with no traffic either way (e.g. 30s)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and in tables')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Show every chunk on stderr as a hex dump: connection, direction, time, length, offset, hex and text')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Show every chunk on stderr as a hex dump: connection, direction, time, length, offset, hex and text')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show live bytes and rate on stderr')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'Only send stdin to the endpoint; shut the other direction at once')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Only receive from the endpoint; shut the other direction at once')
            [CompletionResult]::new('--raw-messages', '--raw-messages', [CompletionResultType]::ParameterName, 'Message sockets: each read is one message; messages are written as they are')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--no-splice', '--no-splice', [CompletionResultType]::ParameterName, 'Copy through a buffer with read(2)/write(2) instead of splice(2)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ipctool;mkfifo' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Mode of the FIFOs (octal), exactly, whatever the umask')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Mode of the FIFOs (octal), exactly, whatever the umask')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and in tables')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Create missing parent directories (with the usual umask-derived mode, like mkdir -p)')
            [CompletionResult]::new('--parents', '--parents', [CompletionResultType]::ParameterName, 'Create missing parent directories (with the usual umask-derived mode, like mkdir -p)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing FIFO (never any other kind of file)')
            [CompletionResult]::new('--temp', '--temp', [CompletionResultType]::ParameterName, 'Create a FIFO inside a new private directory (0700) and print its path on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--no-splice', '--no-splice', [CompletionResultType]::ParameterName, 'Copy through a buffer with read(2)/write(2) instead of splice(2)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ipctool;pipe' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The bytes expected on stdin, for a bar, percent and ETA (e.g. 1G)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'The bytes expected on stdin, for a bar, percent and ETA (e.g. 1G)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Move at most RATE bytes per second through each hop (e.g. 20M, 512KiB/s)')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'Move at most RATE bytes per second through each hop (e.g. 20M, 512KiB/s)')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print a summary on stderr at exit: bytes and throughput per hop, the bottleneck')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and in tables')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Draw the live lines and the closing summary on stderr even when it is not a terminal')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw live lines or the closing summary (--stats still prints)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--no-splice', '--no-splice', [CompletionResultType]::ParameterName, 'Copy through a buffer with read(2)/write(2) instead of splice(2)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ipctool;bench' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Transports to measure, comma-separated [default: all but unix-dgram and seqpacket]')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Transports to measure, comma-separated [default: all but unix-dgram and seqpacket]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Message sizes, comma-separated (e.g. 64,4KiB,1MiB) [default: 64KiB for throughput, 64 for latency]')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Message sizes, comma-separated (e.g. 64,4KiB,1MiB) [default: 64KiB for throughput, 64 for latency]')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long to measure each case (e.g. 500ms, 2s) [default: 1s]')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long to measure each case (e.g. 500ms, 2s) [default: 1s]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Measure this many messages (throughput) or round trips (latency) per pair instead')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Measure this many messages (throughput) or round trips (latency) per pair instead')
            [CompletionResult]::new('--warmup', '--warmup', [CompletionResultType]::ParameterName, 'Let messages flow this long before each measurement starts [default: 200ms]')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'What to measure')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'What to measure')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Pairs of processes measured in parallel (totals and per pair)')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Pairs of processes measured in parallel (totals and per pair)')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'CPU placement: both processes of a pair on one CPU, on two CPUs, or left to the scheduler')
            [CompletionResult]::new('--connect', '--connect', [CompletionResultType]::ParameterName, 'Measure an existing server at ADDR instead of ipctool''s own peer')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and in tables')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the results as one JSON document')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Print the results as CSV')
            [CompletionResult]::new('--markdown', '--markdown', [CompletionResultType]::ParameterName, 'Print the results as Markdown tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report events on stderr (listening, accepted with peer pid/uid, closed, reclaimed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and the reports you asked for')
            [CompletionResult]::new('--no-splice', '--no-splice', [CompletionResultType]::ParameterName, 'Copy through a buffer with read(2)/write(2) instead of splice(2)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ipctool;help' {
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to ADDR and bridge it to stdin/stdout')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Serve ADDR and bridge clients to stdin/stdout or to a command')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Relay between two addresses, one connection to TO per client of FROM')
            [CompletionResult]::new('mkfifo', 'mkfifo', [CompletionResultType]::ParameterValue, 'Create FIFOs (named pipes), owner-only by default')
            [CompletionResult]::new('pipe', 'pipe', [CompletionResultType]::ParameterValue, 'Copy stdin to stdout measuring it, or run CMDs as one measured pipeline')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Benchmark IPC transports on this machine, cross-process')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ipctool;help;connect' {
            break
        }
        'ipctool;help;listen' {
            break
        }
        'ipctool;help;relay' {
            break
        }
        'ipctool;help;mkfifo' {
            break
        }
        'ipctool;help;pipe' {
            break
        }
        'ipctool;help;bench' {
            break
        }
        'ipctool;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
