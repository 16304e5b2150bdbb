#!/usr/bin/env bash
# kcat (librdkafka 2.0.2) against a real Klamm broker process.
#
#   bash integration/kcat.sh build/klamm
#
# Checks metadata (kcat -L), producing to an auto-created topic, consuming it back, and
# that the records survive a crash (SIGKILL) and restart at the same offsets; then, with a
# second broker on listeners=PLAINTEXT://[::1]:PORT, one record over IPv6 (skipped, with a
# "skipped - " line counted neither way, on a machine without an IPv6 loopback).
# The last line printed is `kcat: N passed, N failed`, which integration/run.sh adds up.
set -uo pipefail

BROKER_BIN=${1:?usage: kcat.sh BROKER_BIN}
READY_TIMEOUT_S=10
STOP_TIMEOUT_S=10
KCAT_TIMEOUT_S=30

passed=0
failed=0
BROKER_EXTRA=()              # more broker arguments (the --trace checks)
broker_pid=""
work_dir=$(mktemp -d "${TMPDIR:-/tmp}/klamm-it-XXXXXX")
log_dirs=$work_dir/data      # the broker's log.dirs
broker_log=$work_dir/broker.log
mkdir "$log_dirs"

cleanup() {
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -KILL "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
    fi
    rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
HOST=127.0.0.1               # what port_open connects to; BOOTSTRAP is what kcat is given
BOOTSTRAP=$HOST:$PORT

port_open() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

show_broker_log() {
    echo "----- broker log ($BOOTSTRAP, last 80 lines) -----"
    tail -n 80 "$broker_log" 2>/dev/null
    echo "----- end of broker log -----"
}

# Start the broker and wait until it accepts connections. Returns 1 (and shows its log) if not.
start_broker() {
    if [ ! -x "$BROKER_BIN" ]; then
        echo "broker binary $BROKER_BIN does not exist or is not executable (build it with \`make build\`)"
        return 1
    fi
    echo "----- starting $BROKER_BIN on $BOOTSTRAP" >>"$broker_log"
    "$BROKER_BIN" \
        --override "listeners=PLAINTEXT://$BOOTSTRAP" \
        --override "log.dirs=$log_dirs" \
        --override message.max.bytes=4194304 \
        --override socket.request.max.bytes=104857600 \
        "${BROKER_EXTRA[@]}" </dev/null >>"$broker_log" 2>&1 &
    broker_pid=$!
    local deadline=$((SECONDS + READY_TIMEOUT_S))
    until port_open; do
        if ! kill -0 "$broker_pid" 2>/dev/null; then
            wait "$broker_pid"
            echo "broker exited (status $?) before accepting connections"
            broker_pid=""
            show_broker_log
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "broker did not accept connections on port $PORT within ${READY_TIMEOUT_S} s"
            kill -KILL "$broker_pid" 2>/dev/null
            wait "$broker_pid" 2>/dev/null
            broker_pid=""
            show_broker_log
            return 1
        fi
        sleep 0.05
    done
}

# Stop the broker with the given signal and wait (bounded) for it to exit.
stop_broker() {
    local sig=$1
    [ -n "$broker_pid" ] || return 0
    kill "-$sig" "$broker_pid" 2>/dev/null
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while kill -0 "$broker_pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "broker did not exit within ${STOP_TIMEOUT_S} s of SIG$sig"
            kill -KILL "$broker_pid" 2>/dev/null
            wait "$broker_pid" 2>/dev/null
            broker_pid=""
            return 1
        fi
        sleep 0.05
    done
    wait "$broker_pid" 2>/dev/null
    local status=$?
    broker_pid=""
    [ "$sig" = KILL ] && return 0
    if [ "$status" -gt 128 ] && [ "$status" -ne $((128 + 15)) ] && [ "$status" -ne $((128 + 2)) ]; then
        echo "broker died of signal $((status - 128)) while stopping"
        return 1
    fi
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$broker_log"; then
        echo "sanitizer report in the broker's log"
        return 1
    fi
}

kcat_() { timeout "$KCAT_TIMEOUT_S" kcat -b "$BOOTSTRAP" "$@"; }

# check NAME COMMAND...: one test case; COMMAND's output is shown if it fails.
# COMMAND runs in this shell (not a subshell), so start_broker can set broker_pid.
check() {
    local name=$1
    shift
    if "$@" >"$work_dir/check.out" 2>&1; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "FAIL - $name"
        sed 's/^/    /' "$work_dir/check.out"
        failed=$((failed + 1))
        any_failed=1
    fi
}

# expect_equal WANT COMMAND...: COMMAND's stdout, sorted (partitions may interleave), is WANT.
expect_equal() {
    local want=$1 got
    shift
    [ -n "$want" ] || { echo "nothing to compare with (an earlier step failed)"; return 1; }
    got=$("$@" | sort) || { echo "command failed: $*"; return 1; }
    if [ "$got" != "$want" ]; then
        printf 'expected:\n%s\ngot:\n%s\n' "$want" "$got"
        return 1
    fi
}

# A free port on ::1; fails (prints nothing) when ::1 cannot be bound: no IPv6 loopback.
free_port_v6() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])' 2>/dev/null
}

metadata_lists_broker() {
    local out
    out=$(kcat_ -L) || return 1
    grep -q "broker [0-9]* at $BOOTSTRAP" <<<"$out" || { echo "$out"; return 1; }
}
metadata_lists_orders() {
    local out
    out=$(kcat_ -L) || return 1
    grep -q 'topic "orders" with [0-9]* partitions' <<<"$out" || { echo "$out"; return 1; }
}
# Kafka advertises an IPv6 host without brackets (Metadata's host is a plain string);
# librdkafka puts them back to connect, and prints the broker as ::1:PORT.
metadata_lists_broker_v6() {
    local out
    out=$(kcat_ -L) || return 1
    grep -q "broker [0-9]* at ::1:$PORT" <<<"$out" || { echo "$out"; return 1; }
}
produce_v6() { printf 'k6:over IPv6\n' | kcat_ -t v6 -P -K:; }
consume_v6() { kcat_ -t v6 -C -e -o beginning -K: -f '%k:%s\n'; }

produce_orders() { printf 'a:1\nb:2\n' | kcat_ -t orders -P -K:; }
consume_orders() { kcat_ -t orders -C -e -o beginning -K: -f '%k:%s\n'; }
consume_orders_with_offsets() { kcat_ -t orders -C -e -o beginning -K: -f '%p:%o:%k:%s\n'; }

# Lines P:O:K:V of a:1 and b:2: in each partition the offsets are 0, 1, ... and a comes before b.
offsets_look_right() {
    if [ "$(cut -d: -f3- <<<"$1" | sort)" != $'a:1\nb:2' ] ||
        ! sort -t: -k1,1n -k2,2n <<<"$1" | awk -F: '$2 != seen[$1]++ || $3 < last[$1] { exit 1 } { last[$1] = $3 }'; then
        printf 'got:\n%s\n' "$1"
        return 1
    fi
}

any_failed=0
if start_broker; then
    check "kcat -L lists the broker" metadata_lists_broker
    check "kcat -P to an auto-created topic" produce_orders
    check "kcat -C reads back exactly a:1 and b:2" expect_equal $'a:1\nb:2' consume_orders
    check "kcat -L lists topic orders" metadata_lists_orders
    before_kill=$(consume_orders_with_offsets | sort)
    check "kcat -C -f %p:%o:%k:%s shows a:1 and b:2 at their offsets" offsets_look_right "$before_kill"
    stop_broker KILL
    check "broker restarts after SIGKILL" start_broker
    check "after the restart: same records at the same offsets" \
        expect_equal "$before_kill" consume_orders_with_offsets
    check "after the restart: kcat -L lists topic orders" metadata_lists_orders
    check "broker stops on SIGTERM within ${STOP_TIMEOUT_S} s" stop_broker TERM
else
    failed=$((failed + 1))
fi

# IPv6: a fresh broker (its own log.dirs) listening on [::1] only.
if PORT=$(free_port_v6) && [ -n "$PORT" ]; then
    HOST=::1
    BOOTSTRAP="[::1]:$PORT"
    log_dirs=$work_dir/data-v6
    mkdir "$log_dirs"
    if start_broker; then
        check "IPv6: kcat -b [::1]:PORT -L lists the broker at ::1" metadata_lists_broker_v6
        check "IPv6: kcat -P over [::1]" produce_v6
        check "IPv6: kcat -C over [::1] reads the record back" \
            expect_equal 'k6:over IPv6' consume_v6
        check "IPv6: broker stops on SIGTERM within ${STOP_TIMEOUT_S} s" stop_broker TERM
    else
        failed=$((failed + 1))
    fi
else
    echo "skipped - IPv6 checks: this machine cannot bind ::1 (no IPv6 loopback)"
fi

# The protocol x-ray (--trace) on a fresh IPv4 broker with its own log: the Fetch
# response's records leave by sendfile(2) from the segment file, so the trace must read
# them back (conn_inline_files) to show the batch — a check that the traced path and the
# zero-copy path agree.
produce_traced() { printf 'x:1\ny:2\n' | kcat_ -t traced -P -K:; }
consume_traced() { kcat_ -t traced -C -e -o beginning -K: -f '%k:%s\n'; }
trace_shows_fetched_batch() {
    grep -A40 'response Fetch' "$broker_log" | grep -q 'batch base_offset=0' ||
        { echo "no Fetch response with the batch at offset 0 in the trace"; return 1; }
}
PORT=$(free_port)
HOST=127.0.0.1
BOOTSTRAP=$HOST:$PORT
log_dirs=$work_dir/data-trace
broker_log=$work_dir/broker-trace.log
BROKER_EXTRA=(--trace)
mkdir "$log_dirs"
if start_broker; then
    check "--trace: kcat -P to topic traced" produce_traced
    check "--trace: kcat -C reads x:1 and y:2 back" expect_equal $'x:1\ny:2' consume_traced
    check "--trace: the x-ray shows the Fetch response's batch" trace_shows_fetched_batch
    check "--trace: broker stops on SIGTERM within ${STOP_TIMEOUT_S} s" stop_broker TERM
else
    failed=$((failed + 1))
fi
BROKER_EXTRA=()

[ "$any_failed" = 1 ] && show_broker_log
echo "kcat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
