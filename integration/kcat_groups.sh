#!/usr/bin/env bash
# Consumer groups with kcat (librdkafka 2.0.2) against a real Klamm broker process.
#
#   bash integration/kcat_groups.sh build/klamm
#
# `kcat -G GROUP TOPIC` is librdkafka's balanced consumer: it joins the group (JoinGroup,
# SyncGroup, Heartbeat) and leaves it on a clean stop (LeaveGroup). kcat prints each
# rebalance to stderr ("% Group g rebalanced (memberid ...): assigned: t [0], t [2]"); the
# script reads the assignments from there and checks them against the records each
# consumer prints (-f '%p %s\n').
#
# Consumers run in the background under `timeout`, so none outlives its bound. The last
# line printed is `kcat groups: N passed, N failed`, which integration/run.sh adds up.
set -uo pipefail

BROKER_BIN=${1:?usage: kcat_groups.sh BROKER_BIN}
READY_TIMEOUT_S=10
STOP_TIMEOUT_S=10
KCAT_TIMEOUT_S=30      # one-shot kcat commands (produce, metadata)
CONSUMER_MAX_S=120     # a background consumer is killed after this, whatever happens
ASSIGNMENT_TIMEOUT_S=30
SESSION_TIMEOUT_MS=6000 # the broker's group.min.session.timeout.ms
REBALANCE_SLACK_S=10
RECORDS_TIMEOUT_S=15
TOPIC=grouped
GROUP=kcat-group

passed=0
failed=0
broker_pid=""
work_dir=$(mktemp -d "${TMPDIR:-/tmp}/klamm-it-XXXXXX")
log_dirs=$work_dir/data
broker_log=$work_dir/broker.log
mkdir "$log_dirs"
declare -A consumer_pid # consumer name -> pid of its `timeout` process

cleanup() {
    local name
    for name in "${!consumer_pid[@]}"; do
        kill -KILL "$(pgrep -P "${consumer_pid[$name]}")" 2>/dev/null
        kill -KILL "${consumer_pid[$name]}" 2>/dev/null
        wait "${consumer_pid[$name]}" 2>/dev/null
    done
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -KILL "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
    fi
    rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BOOTSTRAP=127.0.0.1:$PORT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

show_broker_log() {
    echo "----- broker log ($BOOTSTRAP, last 80 lines) -----"
    tail -n 80 "$broker_log" 2>/dev/null
    echo "----- end of broker log -----"
}

# Start the broker (auto-created topics get 3 partitions) and wait until it accepts connections.
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
        --override num.partitions=3 \
        </dev/null >>"$broker_log" 2>&1 &
    broker_pid=$!
    local deadline=$((SECONDS + READY_TIMEOUT_S))
    until port_open; do
        if ! kill -0 "$broker_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
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

# SIGTERM, and the broker must exit cleanly within STOP_TIMEOUT_S.
stop_broker_gracefully() {
    [ -n "$broker_pid" ] || { echo "broker is not running"; return 1; }
    kill -TERM "$broker_pid"
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while kill -0 "$broker_pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "broker did not exit within ${STOP_TIMEOUT_S} s of SIGTERM"
            return 1
        fi
        sleep 0.05
    done
    wait "$broker_pid" 2>/dev/null
    local status=$?
    broker_pid=""
    if [ "$status" -gt 128 ] && [ "$status" -ne $((128 + 15)) ]; then
        echo "broker died of signal $((status - 128)) while stopping"
        return 1
    fi
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$broker_log"; then
        echo "sanitizer report in the broker's log"
        return 1
    fi
}

kcat_() { timeout "$KCAT_TIMEOUT_S" kcat -b "$BOOTSTRAP" "$@"; }

# ---- group consumers -----------------------------------------------------------------------

# start_consumer NAME: a `kcat -G` member of GROUP in the background. Its records go to
# NAME.out as "PARTITION VALUE" lines, its rebalances to NAME.err.
start_consumer() {
    local name=$1
    timeout -s KILL "$CONSUMER_MAX_S" kcat -b "$BOOTSTRAP" -G "$GROUP" -u \
        -X auto.offset.reset=earliest \
        -X session.timeout.ms=$SESSION_TIMEOUT_MS -X heartbeat.interval.ms=1000 \
        -f '%p %s\n' "$TOPIC" >"$work_dir/$name.out" 2>"$work_dir/$name.err" &
    consumer_pid[$name]=$!
}

# kill_consumer NAME SIGNAL: send SIGNAL to the kcat process itself (not its `timeout`) and
# wait for it to end. SIGKILL: it vanishes without LeaveGroup; SIGTERM: it closes cleanly.
kill_consumer() {
    local name=$1 sig=$2 tpid=${consumer_pid[$1]} kpid
    kpid=$(pgrep -P "$tpid")
    [ -n "$kpid" ] || { echo "consumer $name is not running"; return 1; }
    kill "-$sig" "$kpid"
    local deadline=$((SECONDS + 15))
    while kill -0 "$tpid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "consumer $name did not exit within 15 s of SIG$sig"
            return 1
        fi
        sleep 0.05
    done
    wait "$tpid" 2>/dev/null
    unset "consumer_pid[$name]"
}

# assignment NAME: the partitions of NAME's latest rebalance, e.g. "0 2"; empty if it has
# none (it was never assigned any, or the last event was a revoke).
assignment() {
    grep -a ' rebalanced ' "$work_dir/$1.err" 2>/dev/null | tail -n 1 |
        grep -a 'assigned:' | sed 's/.*assigned://' | grep -oE '\[[0-9]+\]' | tr -d '[]' |
        sort -n | paste -sd' ' -
}

show_consumers() {
    local name
    for name in "$@"; do
        echo "$name: assignment '$(assignment "$name")'; stderr:"
        sed 's/^/    /' "$work_dir/$name.err" 2>/dev/null | tail -n 20
    done
}

# wait_for TIMEOUT_S COMMAND...: until COMMAND succeeds, at most TIMEOUT_S seconds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# split_between A B: both own partitions, none twice, all 3 together.
split_between() {
    local a b
    a=$(assignment "$1")
    b=$(assignment "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$(printf '%s %s' "$a" "$b" | tr ' ' '\n' | sort -n | paste -sd' ' -)" = "0 1 2" ]
}
owns_all() { [ "$(assignment "$1")" = "0 1 2" ]; }
split_records_arrived() { [ "$(cat "$work_dir/a.out" "$work_dir/b.out" | grep -ac ' split-p')" -ge 3 ]; }

# produce_tagged TAG: one record "TAG-pN" into each partition N.
produce_tagged() {
    local p
    for p in 0 1 2; do
        printf '%s-p%d\n' "$1" "$p" | kcat_ -P -t "$TOPIC" -p "$p" || return 1
    done
}

# received_tagged NAME TAG: NAME printed "N TAG-pN" for every partition N.
received_tagged() {
    local p
    for p in 0 1 2; do
        grep -qx "$p $2-p$p" "$work_dir/$1.out" || return 1
    done
}

# ---- the tests -------------------------------------------------------------------------------

# Every partition goes to exactly one of two consumers in the group, and each gets some;
# records produced to each partition then arrive at the consumer that owns that partition,
# and only there.
test_two_consumers_split_partitions() {
    start_consumer a
    wait_for "$ASSIGNMENT_TIMEOUT_S" owns_all a || { echo "consumer a alone did not get all partitions"; show_consumers a; return 1; }
    start_consumer b
    if ! wait_for "$ASSIGNMENT_TIMEOUT_S" split_between a b; then
        echo "no disjoint split within ${ASSIGNMENT_TIMEOUT_S} s"
        show_consumers a b
        return 1
    fi
    produce_tagged split || return 1
    local p owner
    if ! wait_for "$RECORDS_TIMEOUT_S" split_records_arrived; then
        echo "the 3 records did not arrive"; show_consumers a b; return 1
    fi
    sleep 1 # a record delivered twice would show up by now
    for p in 0 1 2; do
        owner=$(grep -alx "$p split-p$p" "$work_dir/a.out" "$work_dir/b.out" | xargs -r -n1 basename | sed 's/\.out$//' | paste -sd' ' -)
        if [ "$owner" != a ] && [ "$owner" != b ]; then
            echo "record of partition $p arrived at: '$owner' (want exactly one consumer)"; return 1
        fi
        if ! grep -qw "$p" <<<"$(assignment "$owner")"; then
            echo "record of partition $p arrived at $owner, which owns '$(assignment "$owner")'"; return 1
        fi
    done
}

# A consumer that is killed (SIGKILL) sends no LeaveGroup; the coordinator notices when its
# session timeout expires, rebalances, and the survivor owns all 3 partitions and reads
# records produced to each of them afterwards.
test_killed_consumer_partitions_move_to_survivor() {
    kill_consumer a KILL || return 1
    local bound=$((SESSION_TIMEOUT_MS / 1000 + REBALANCE_SLACK_S)) started=$SECONDS
    if ! wait_for "$bound" owns_all b; then
        echo "consumer b did not own all partitions within ${bound} s of the kill"
        show_consumers b
        return 1
    fi
    echo "(survivor owned all partitions after ~$((SECONDS - started)) s)"
    produce_tagged after-kill || return 1
    wait_for "$RECORDS_TIMEOUT_S" received_tagged b after-kill ||
        { echo "b did not receive after-kill-p0..2:"; cat "$work_dir/b.out"; return 1; }
}

# A consumer that stops cleanly (SIGTERM: kcat closes the consumer, which sends LeaveGroup)
# hands its partitions over at once, sooner than a session timeout.
test_leaving_consumer_partitions_move_at_once() {
    start_consumer c
    if ! wait_for "$ASSIGNMENT_TIMEOUT_S" split_between b c; then
        echo "b and c did not split the partitions within ${ASSIGNMENT_TIMEOUT_S} s"
        show_consumers b c
        return 1
    fi
    kill_consumer b TERM || return 1
    local started=$SECONDS
    if ! wait_for $((SESSION_TIMEOUT_MS / 1000 - 1)) owns_all c; then
        echo "consumer c did not own all partitions within $((SESSION_TIMEOUT_MS / 1000 - 1)) s of b leaving"
        show_consumers b c
        return 1
    fi
    echo "(remaining consumer owned all partitions after ~$((SECONDS - started)) s)"
    produce_tagged after-leave || return 1
    wait_for "$RECORDS_TIMEOUT_S" received_tagged c after-leave ||
        { echo "c did not receive after-leave-p0..2:"; cat "$work_dir/c.out"; return 1; }
}

# check NAME COMMAND...: one test case; COMMAND's output is shown if it fails.
any_failed=0
check() {
    local name=$1
    shift
    if "$@" >"$work_dir/check.out" 2>&1; then
        echo "ok - $name"
        sed -n 's/^(\(.*\))$/    \1/p' "$work_dir/check.out"
        passed=$((passed + 1))
    else
        echo "FAIL - $name"
        sed 's/^/    /' "$work_dir/check.out"
        failed=$((failed + 1))
        any_failed=1
    fi
}

topic_has_three_partitions() {
    produce_tagged first || return 1
    kcat_ -L -t "$TOPIC" | grep -q "topic \"$TOPIC\" with 3 partitions"
}

if start_broker; then
    check "auto-created topic $TOPIC has 3 partitions, one record each" topic_has_three_partitions
    check "two kcat -G consumers split the 3 partitions disjointly" test_two_consumers_split_partitions
    check "after SIGKILL of one, the other owns all 3 and reads from each" test_killed_consumer_partitions_move_to_survivor
    check "after SIGTERM (LeaveGroup) of one, the other owns all 3 at once" test_leaving_consumer_partitions_move_at_once
    for name in "${!consumer_pid[@]}"; do kill_consumer "$name" TERM >/dev/null; done
    check "broker stops on SIGTERM within ${STOP_TIMEOUT_S} s" stop_broker_gracefully
else
    failed=$((failed + 1))
fi

[ "$any_failed" = 1 ] && show_broker_log
echo "kcat groups: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
