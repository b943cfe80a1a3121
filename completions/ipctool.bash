_ipctool() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="ipctool"
                ;;
            ipctool,bench)
                cmd="ipctool__subcmd__bench"
                ;;
            ipctool,connect)
                cmd="ipctool__subcmd__connect"
                ;;
            ipctool,help)
                cmd="ipctool__subcmd__help"
                ;;
            ipctool,listen)
                cmd="ipctool__subcmd__listen"
                ;;
            ipctool,mkfifo)
                cmd="ipctool__subcmd__mkfifo"
                ;;
            ipctool,pipe)
                cmd="ipctool__subcmd__pipe"
                ;;
            ipctool,relay)
                cmd="ipctool__subcmd__relay"
                ;;
            ipctool__subcmd__help,bench)
                cmd="ipctool__subcmd__help__subcmd__bench"
                ;;
            ipctool__subcmd__help,connect)
                cmd="ipctool__subcmd__help__subcmd__connect"
                ;;
            ipctool__subcmd__help,help)
                cmd="ipctool__subcmd__help__subcmd__help"
                ;;
            ipctool__subcmd__help,listen)
                cmd="ipctool__subcmd__help__subcmd__listen"
                ;;
            ipctool__subcmd__help,mkfifo)
                cmd="ipctool__subcmd__help__subcmd__mkfifo"
                ;;
            ipctool__subcmd__help,pipe)
                cmd="ipctool__subcmd__help__subcmd__pipe"
                ;;
            ipctool__subcmd__help,relay)
                cmd="ipctool__subcmd__help__subcmd__relay"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        ipctool)
            opts="-v -q -h -V --verbose --quiet --color --no-splice --help --version connect listen relay mkfifo pipe bench help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__bench)
            opts="-t -s -d -n -m -c -v -q -h -V --transport --size --duration --count --warmup --mode --clients --pin --connect --json --csv --markdown --verbose --quiet --color --no-splice --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --transport)
                    COMPREPLY=($(compgen -W "unix abstract fifo pipe tcp unix-dgram seqpacket" -- "${cur}"))
                    return 0
                    ;;
                -t)
                    COMPREPLY=($(compgen -W "unix abstract fifo pipe tcp unix-dgram seqpacket" -- "${cur}"))
                    return 0
                    ;;
                --size)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -s)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -d)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --warmup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mode)
                    COMPREPLY=($(compgen -W "throughput latency both" -- "${cur}"))
                    return 0
                    ;;
                -m)
                    COMPREPLY=($(compgen -W "throughput latency both" -- "${cur}"))
                    return 0
                    ;;
                --clients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -c)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pin)
                    COMPREPLY=($(compgen -W "none same spread" -- "${cur}"))
                    return 0
                    ;;
                --connect)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__connect)
            opts="-v -q -h -V --wait --stats --progress --send-only --recv-only --idle-timeout --raw-messages --verbose --quiet --color --no-splice --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --idle-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help)
            opts="connect listen relay mkfifo pipe bench help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help__subcmd__bench)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help__subcmd__connect)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help__subcmd__listen)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help__subcmd__mkfifo)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help__subcmd__pipe)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__help__subcmd__relay)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__listen)
            opts="-k -e -v -q -h -V --keep-open --exec --max-clients --count --allow-uid --timeout --mode --stats --progress --send-only --recv-only --idle-timeout --raw-messages --verbose --quiet --color --no-splice --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --exec)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -e)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-clients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --allow-uid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --idle-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__mkfifo)
            opts="-m -p -v -q -h -V --mode --parents --force --temp --verbose --quiet --color --no-splice --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -m)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__pipe)
            opts="-s -L -v -q -h -V --size --rate-limit --stats --progress --no-progress --verbose --quiet --color --no-splice --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --size)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -s)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rate-limit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -L)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        ipctool__subcmd__relay)
            opts="-x -v -q -h -V --intercept --hex --dump --wait --max-clients --count --allow-uid --timeout --mode --stats --progress --send-only --recv-only --idle-timeout --raw-messages --verbose --quiet --color --no-splice --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --intercept)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-clients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --allow-uid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --idle-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

# Addresses (added to clap's completion): where clap offers nothing for a word that is not
# a flag, offer the address prefixes and paths; after unix:, fifo:, unix-dgram: or
# seqpacket:, complete the path. COMP_WORDBREAKS usually splits words at ':', so the
# replacements drop what bash already considers typed. Options that take their value only
# as --NAME=VALUE complete it in that form.
_ipctool_with_addresses() {
    local line="${COMP_LINE:0:COMP_POINT}" word sub w
    word="${line##*[[:space:]]}"
    case "$word" in
        --stats=*) _ipctool_equals_value "$word" human json; return 0 ;;
    esac
    _ipctool "$@"
    [[ ${#COMPREPLY[@]} -eq 0 ]] || return 0
    [[ $word == -* ]] && return 0
    for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        case "$w" in connect|listen|relay) sub=$w; break ;; esac
    done
    [[ -n $sub ]] || return 0
    local prefix="" path="$word"
    case "$word" in
        unix:*|fifo:*|unix-dgram:*|seqpacket:*) prefix="${word%%:*}:"; path="${word#*:}" ;;
    esac
    local -a out=()
    if [[ -z $prefix ]]; then
        out+=( $(compgen -W "unix: @ abstract: fifo: exec: tcp: unix-dgram: seqpacket: -" -- "$word") )
    fi
    local f
    while IFS= read -r f; do
        [[ -d $f ]] && f="$f/"
        out+=( "$prefix$f" )
    done < <(compgen -f -- "$path")
    if [[ $COMP_WORDBREAKS == *:* && $word == *:* ]]; then
        local typed="${word%"${word##*:}"}"
        out=( "${out[@]#"$typed"}" )
    fi
    COMPREPLY=( "${out[@]}" )
    compopt -o nospace 2>/dev/null
    return 0
}

# The value of --NAME=VALUE ($1 is the word typed so far, the rest the values); without
# '=' in COMP_WORDBREAKS, bash replaces the whole word.
_ipctool_equals_value() {
    local word=$1
    shift
    COMPREPLY=( $(compgen -W "$*" -- "${word#*=}") )
    [[ $COMP_WORDBREAKS == *=* ]] || COMPREPLY=( "${COMPREPLY[@]/#/${word%%=*}=}" )
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _ipctool_with_addresses -o nosort -o bashdefault -o default ipctool
else
    complete -F _ipctool_with_addresses -o bashdefault -o default ipctool
fi
