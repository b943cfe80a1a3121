#!/usr/bin/env bash
# compare.sh - ipctool side by side with the tools people use for the same jobs, on this
# machine, in one run.
#
#   scripts/compare.sh                  # 1 GiB per case, 5 repetitions
#   N=256M REPS=9 PIN=0 scripts/compare.sh
#
# Groups (each case moves N bytes of zeros; the timed window runs from the sender's start
# until the receiver has exited):
#   unix socket   head -c N /dev/zero | X connect → X listen > /dev/null
#                 X = ipctool, socat (default and -b 65536), nc -U (OpenBSD)
#   relay hop     ipctool connect → X relay → ipctool listen   (the same ends for every X)
#                 X = ipctool relay, socat (default and -b 65536)
#   pipe meter    dd bs=1M | X | dd bs=1M, X = ipctool pipe, pv -q, cat
#
# Cases alternate (repetition 1 of every case, then repetition 2 ...) so that drift of a
# shared machine hits them alike. Reported: the median time and rate per case, and the
# median of per-repetition ratios against the group's first competitor (socat default,
# socat relay, pv). A missing tool is skipped with a note.
#
# env: N (bytes: 1G, 256M, ...), REPS, PIN (a CPU list for taskset: run every process
# there; PIN=0 measures CPU cost per byte, unpinned measures what a user sees),
# IPCTOOL (default: ipctool on PATH, else target/release/ipctool).
set -u
export LC_ALL=C

N=${N:-1G}
REPS=${REPS:-5}
PIN=${PIN:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IPCTOOL=${IPCTOOL:-$(command -v ipctool || echo "$here/target/release/ipctool")}
[[ -x $IPCTOOL ]] || { echo "compare.sh: no ipctool at $IPCTOOL (cargo build --release first)" >&2; exit 2; }

bytes() {
    local s=${1%[bB]}; s=${s%[iI]}
    case $s in
        *[kK]) echo $(( ${s%?} << 10 )) ;; *[mM]) echo $(( ${s%?} << 20 )) ;;
        *[gG]) echo $(( ${s%?} << 30 )) ;; *) echo "$s" ;;
    esac
}
N=$(bytes "$N")
(( N >= 1 << 20 && N % (1 << 20) == 0 )) || { echo "compare.sh: N must be a multiple of 1 MiB" >&2; exit 2; }
MB=$(( N >> 20 ))

PINCMD=()
[[ -n $PIN ]] && PINCMD=(taskset -c "$PIN")
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
export IPCTOOL N MB TMP

have() { command -v "$1" >/dev/null 2>&1; }

# until the unix socket at $1 is listening (5 s at most)
listening() {
    local i
    for (( i = 0; i < 1000; i++ )); do
        awk -v p="$1" '$4 == "00010000" && $8 == p { f = 1 } END { exit !f }' /proc/net/unix && return 0
        sleep 0.005
    done
    echo "compare.sh: nothing listens on $1" >&2
    return 1
}

# One case: a receiver started in the background (waited for), then the sender timed.
#   case NAME RECEIVER SENDER [EXTRA_BG]
declare -A RECV SEND BG TIMES
ORDER=()
add() { ORDER+=("$1"); RECV[$1]=$2; SEND[$1]=$3; BG[$1]=${4:-}; }

S=$TMP/a.sock S2=$TMP/b.sock
export S S2

add "ipctool"           "\$IPCTOOL listen unix:\$S </dev/null >/dev/null" \
                        "head -c \$N /dev/zero | \$IPCTOOL connect unix:\$S >/dev/null"
if have socat; then
    add "socat"         "socat -u UNIX-LISTEN:\$S OPEN:/dev/null" \
                        "head -c \$N /dev/zero | socat -u - UNIX-CONNECT:\$S"
    add "socat -b 65536" "socat -b 65536 -u UNIX-LISTEN:\$S OPEN:/dev/null" \
                        "head -c \$N /dev/zero | socat -b 65536 -u - UNIX-CONNECT:\$S"
else echo "note: socat is not installed: its cases are skipped" >&2; fi
if have nc && nc -h 2>&1 | grep -q -- '-U'; then
    add "nc -U"         "nc -lU \$S >/dev/null" \
                        "head -c \$N /dev/zero | nc -N -U \$S"
else echo "note: no nc with -U (OpenBSD netcat): its case is skipped" >&2; fi
GROUP_UNIX=("${ORDER[@]}")

RELAY_RECV="\$IPCTOOL listen unix:\$S2 </dev/null >/dev/null"
RELAY_SEND="head -c \$N /dev/zero | \$IPCTOOL connect --wait 5s unix:\$S >/dev/null"
add "ipctool relay"     "$RELAY_RECV" "$RELAY_SEND" "\$IPCTOOL relay unix:\$S unix:\$S2"
if have socat; then
    add "socat relay"   "$RELAY_RECV" "$RELAY_SEND" "socat UNIX-LISTEN:\$S,fork UNIX-CONNECT:\$S2"
    add "socat -b 65536 relay" "$RELAY_RECV" "$RELAY_SEND" "socat -b 65536 UNIX-LISTEN:\$S,fork UNIX-CONNECT:\$S2"
fi
GROUP_RELAY=("${ORDER[@]:${#GROUP_UNIX[@]}}")

PIPE_FROM="dd if=/dev/zero bs=1M count=\$MB status=none"
PIPE_TO="dd of=/dev/null bs=1M status=none"
add "ipctool pipe"      "" "$PIPE_FROM | \$IPCTOOL pipe | $PIPE_TO"
if have pv; then add "pv" "" "$PIPE_FROM | pv -q | $PIPE_TO"
else echo "note: pv is not installed: its case is skipped" >&2; fi
add "cat"               "" "$PIPE_FROM | cat | $PIPE_TO"
GROUP_PIPE=("${ORDER[@]:$(( ${#GROUP_UNIX[@]} + ${#GROUP_RELAY[@]} ))}")

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# runs one repetition of a case; prints its wall time in microseconds
run_case() {
    local name=$1 recv_pid="" bg_pid="" t0 t1
    rm -f "$S" "$S2"
    if [[ -n ${RECV[$name]} ]]; then
        "${PINCMD[@]}" bash -c "exec ${RECV[$name]}" & recv_pid=$!
        listening "$( [[ -n ${BG[$name]} ]] && echo "$S2" || echo "$S")" || return 1
    fi
    if [[ -n ${BG[$name]} ]]; then
        "${PINCMD[@]}" bash -c "exec ${BG[$name]}" & bg_pid=$!
        listening "$S" || return 1
    fi
    t0=$(now_us)
    "${PINCMD[@]}" bash -c "${SEND[$name]}" || echo "compare.sh: $name: the sender failed" >&2
    [[ -n $recv_pid ]] && wait "$recv_pid"
    t1=$(now_us)
    [[ -n $bg_pid ]] && { kill "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; }
    echo $(( t1 - t0 ))
}

echo "compare.sh: $MB MiB per case, $REPS repetitions, ${PIN:+pinned to CPU $PIN}${PIN:-unpinned}, $(nproc) CPUs, $(uname -sr)" >&2
for (( r = 1; r <= REPS; r++ )); do
    for name in "${ORDER[@]}"; do
        t=$(run_case "$name") || { echo "compare.sh: $name failed" >&2; t=0; }
        TIMES[$name]+="$t "
    done
    echo "  repetition $r/$REPS done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# per-repetition ratio of rates (= inverse ratio of times) of A against B, medianed
paired() {
    local -a a=(${TIMES[$1]}) b=(${TIMES[$2]})
    local i out=""
    for (( i = 0; i < ${#a[@]}; i++ )); do
        (( a[i] > 0 )) && out+=$(awk -v x="${a[i]}" -v y="${b[i]}" 'BEGIN { printf "%.4f ", y / x }')
    done
    echo "$out" | median
}

table() {  # table TITLE BASELINE CASES...
    local title=$1 base=$2
    shift 2
    echo
    echo "| $title | median s | GiB/s | vs $base |"
    echo "|---|---|---|---|"
    for name in "$@"; do
        local med=$(echo "${TIMES[$name]}" | median)
        local rate=$(awk -v n="$N" -v us="$med" 'BEGIN { r = (us > 0) ? n / (us / 1e6) / 1073741824 : 0; printf "%.2f", r }')
        local ratio="—"
        [[ -n ${TIMES[$base]:-} && $name != "$base" ]] && ratio=$(printf '%.2fx' "$(paired "$name" "$base")")
        [[ $name == "$base" ]] && ratio="1"
        printf '| %s | %.3f | %s | %s |\n' "$name" "$(awk -v us="$med" 'BEGIN { print us / 1e6 }')" "$rate" "$ratio"
    done
}

table "unix socket, connect → listen" "$( [[ -n ${TIMES[socat]:-} ]] && echo socat || echo ipctool)" "${GROUP_UNIX[@]}"
table "relay hop" "$( [[ -n ${TIMES[socat relay]:-} ]] && echo "socat relay" || echo "ipctool relay")" "${GROUP_RELAY[@]}"
table "pipe meter" "$( [[ -n ${TIMES[pv]:-} ]] && echo pv || echo cat)" "${GROUP_PIPE[@]}"
