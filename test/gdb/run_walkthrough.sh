#!/usr/bin/env bash
# Run the gdb walk-through (test/gdb/walkthrough.gdb) against a debug broker and check it.
#
#   bash test/gdb/run_walkthrough.sh build-debug/klamm        (make gdb-test does this)
#
# Starts the broker under `gdb -batch -x test/gdb/walkthrough.gdb` on a free loopback port
# with a temporary log.dirs, waits until the port accepts, produces two records with kcat
# (two separate producers, so the second batch is given base offset 1), stops the broker
# with SIGTERM (gdb passes it on; the broker shuts down cleanly and gdb exits after `run`),
# then checks gdb's output: every labelled breakpoint was hit, in the order of a request's
# life — poll loop → decoder → produce use case → segment append — with the values the
# walk-through in docs/debugging.md shows.
#
# Last line: `gdb-walkthrough: N passed, N failed`; exit status 1 if any failed.
# Bounded: gdb itself runs under `timeout 60`, and every wait below has a deadline.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT=$HERE/walkthrough.gdb
GDB_TIMEOUT_S=60
READY_TIMEOUT_S=20
KCAT_TIMEOUT_S=10
STOP_TIMEOUT_S=15
TOPIC=walk

passed=0
failed=0
runner_pid=""
work_dir=$(mktemp -d "${TMPDIR:-/tmp}/klamm-gdb-XXXXXX")
gdb_out=$work_dir/gdb.out       # gdb's stdout: the trace the breakpoints print
gdb_err=$work_dir/gdb.err       # gdb's stderr, and the broker's log (it inherits it)

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

finish() {
    if [ "$failed" -ne 0 ]; then
        echo "----- gdb output -----";             cat "$gdb_out" 2>/dev/null
        echo "----- gdb stderr / broker log -----"; tail -n 40 "$gdb_err" 2>/dev/null
        echo "----- end -----"
    fi
    echo "gdb-walkthrough: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# The first child process of PID, or nothing. Reads /proc/*/stat ("pid (comm) state
# ppid ..."; comm may hold spaces, so the fields are taken after the last ") ").
child_of() {
    local parent=$1 f line ppid
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        read -r _ ppid _ <<<"${line##*) }"
        if [ "$ppid" = "$parent" ]; then
            f=${f#/proc/}
            echo "${f%/stat}"
            return
        fi
    done
}

# Every process this script started: timeout → gdb → broker. Killed by pid, leaves first.
cleanup() {
    if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
        local g b
        g=$(child_of "$runner_pid")
        b=${g:+$(child_of "$g")}
        [ -n "$b" ] && kill -KILL "$b" 2>/dev/null
        [ -n "$g" ] && kill -KILL "$g" 2>/dev/null
        kill -KILL "$runner_pid" 2>/dev/null
        wait "$runner_pid" 2>/dev/null
    fi
    rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

if [ $# -ne 1 ]; then
    echo "usage: $0 BROKER_DEBUG_BIN" >&2
    exit 2
fi
BROKER_BIN=$(realpath -m "$1")
for tool in gdb kcat timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        fail "$tool is not installed"
        finish
    fi
done
if [ ! -x "$BROKER_BIN" ] || [ -d "$BROKER_BIN" ]; then
    fail "broker binary $BROKER_BIN does not exist or is not executable (build it with \`make debug\`)"
    finish
fi

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BOOTSTRAP=127.0.0.1:$PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# ---- start the broker under gdb --------------------------------------------------------
# -nx: no ~/.gdbinit, so the run does not depend on who runs it.
timeout -k 5 "$GDB_TIMEOUT_S" gdb -q -nx -batch -x "$SCRIPT" \
    --args "$BROKER_BIN" --override "listeners=PLAINTEXT://$BOOTSTRAP" \
                         --override "log.dirs=$work_dir/data" \
    </dev/null >"$gdb_out" 2>"$gdb_err" &
runner_pid=$!

deadline=$((SECONDS + READY_TIMEOUT_S))
until port_open; do
    if ! kill -0 "$runner_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
        fail "broker under gdb did not accept connections on $BOOTSTRAP within ${READY_TIMEOUT_S} s"
        finish
    fi
    sleep 0.1
done
pass "broker under gdb accepts connections on $BOOTSTRAP"

# ---- two producers ----------------------------------------------------------------------
n=0
for record in 'k:v' 'k2:v2'; do
    n=$((n + 1))
    if printf '%s\n' "$record" | timeout "$KCAT_TIMEOUT_S" kcat -b "$BOOTSTRAP" -t "$TOPIC" -P -K: \
           >"$work_dir/kcat$n.out" 2>&1; then
        pass "kcat produce $n ($record) to $TOPIC"
    else
        fail "kcat produce $n ($record) to $TOPIC: $(tail -n 3 "$work_dir/kcat$n.out")"
    fi
done

# ---- stop: SIGTERM to the broker (gdb's inferior); gdb must exit on its own -------------
gdb_pid=$(child_of "$runner_pid")
broker_pid=${gdb_pid:+$(child_of "$gdb_pid")}
if [ -z "$broker_pid" ]; then
    fail "cannot find the broker process under gdb"
    finish
fi
kill -TERM "$broker_pid" 2>/dev/null
deadline=$((SECONDS + STOP_TIMEOUT_S))
while kill -0 "$runner_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.1
done
if kill -0 "$runner_pid" 2>/dev/null; then
    fail "gdb did not exit within ${STOP_TIMEOUT_S} s of SIGTERM to the broker"
    finish                                    # cleanup kills it
fi
wait "$runner_pid"
status=$?
runner_pid=""
if [ "$status" -eq 0 ] && grep -q 'exited normally' "$gdb_out"; then
    pass "broker shut down cleanly on SIGTERM and gdb exited"
elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    fail "gdb hit its ${GDB_TIMEOUT_S} s timeout"
else
    fail "gdb exited with status $status; inferior: $(grep -m1 'Inferior 1' "$gdb_out")"
fi

# ---- the trace ----------------------------------------------------------------------------
labels=("[1] poll loop" "[2] decoder" "[3] produce use case" "[4] segment append")
for label in "${labels[@]}"; do
    if grep -qF "== $label:" "$gdb_out"; then
        pass "breakpoint $label was hit"
    else
        fail "breakpoint $label was never hit"
    fi
done

# The labelled lines in order, one letter each: P poll loop, D decoder (any API),
# R decoder for a Produce request, U produce use case, S segment append.
trace=$(awk '
    /^== \[1\] poll loop:/ { printf "P" }
    /^== \[2\] decoder:/   { printf (/KL_API_PRODUCE/ ? "R" : "D") }
    /^== \[3\] produce use case:/ { printf "U" }
    /^== \[4\] segment append:/   { printf "S" }' "$gdb_out")
# Poll loop first; every Produce goes decoder → use case → segment append with no other
# request in between; nothing else reaches the use case or the segment.
body=${trace//P/}
if [[ $trace == P* ]] && [ "$(grep -o 'RUS' <<<"$body" | wc -l)" -eq 2 ] \
   && [ -z "$(tr -d 'D' <<<"${body//RUS/}")" ]; then
    pass "order: poll loop → decoder → produce use case → segment append, twice ($trace)"
else
    fail "order of the stops is wrong: $trace (expected P first, then RUS for each of the 2 produces)"
fi

# The values the stops print (docs/debugging.md shows the same run).
if grep -qE "^== \[2\] decoder: .* api_key=0 api_version=[3-8] .*KL_API_PRODUCE$" "$gdb_out"; then
    pass "decoder shows Produce (api_key 0, v3..v8) from the raw frame"
else
    fail "decoder line for the Produce request is missing or garbled"
fi
u1=$(grep -m1 '^== \[3\]' "$gdb_out")
u2=$(grep '^== \[3\]' "$gdb_out" | sed -n 2p)
if [[ $u1 == *"topic=$TOPIC partition=0,"*"as sent=0, partition log_end=0 -> base offset to assign=0" ]] \
   && [[ $u2 == *"topic=$TOPIC partition=0,"*"as sent=0, partition log_end=1 -> base offset to assign=1" ]]; then
    pass "produce use case: topic $TOPIC partition 0, base offsets 0 then 1 to assign"
else
    fail "produce use case lines: '$u1' / '$u2'"
fi
s1=$(grep -m1 '^== \[4\]' "$gdb_out")
s2=$(grep '^== \[4\]' "$gdb_out" | sed -n 2p)
len1=$(sed -nE 's/.*, ([0-9]+) bytes at file position.*/\1/p' <<<"$s1")
if [[ $s1 == *"/$TOPIC-0/00000000000000000000.log, "*" at file position 0, batch base_offset=0 (segment next_offset=0)" ]] \
   && [ -n "$len1" ] \
   && [[ $s2 == *" at file position $len1, batch base_offset=1 (segment next_offset=1)" ]]; then
    pass "segment append: offsets 0 and 1 rewritten into the batches, at file positions 0 and $len1"
else
    fail "segment append lines: '$s1' / '$s2'"
fi

finish
