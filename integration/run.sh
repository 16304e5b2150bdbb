#!/usr/bin/env bash
# Run every integration suite against a broker binary:
#
#   bash integration/run.sh build/klamm          (make integration does this)
#
# Each suite starts its own broker(s) on a free port with a temporary log.dirs:
#   python/test_kafka_python.py          kafka-python 2.0.2 (Debian python3-kafka), unittest
#   python/test_groups_kafka_python.py   the same client: consumer groups
#   python/test_retention_kafka_python.py  the same client: log retention deletes old segments
#   node/klamm.test.js                   KafkaJS 2.2.4, node:test
#   node/groups.test.js                  the same client: consumer groups
#   kcat.sh                              kcat / librdkafka 2.0.2
#   kcat_groups.sh                       the same client: consumer groups (kcat -G)
# Each suite is bounded in time. The last line is `integration: N passed, N failed`
# (N = test cases over all suites); the exit status is 1 if any failed.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=/usr/bin/python3 # Debian's, which has the kafka module
PYTHON_TIMEOUT_S=600
NODE_TIMEOUT_S=600
KCAT_TIMEOUT_S=300

total_passed=0
total_failed=0
out_dir=$(mktemp -d "${TMPDIR:-/tmp}/klamm-integration-XXXXXX")
trap 'rm -rf "$out_dir"' EXIT

finish() {
    echo "integration: $total_passed passed, $total_failed failed"
    [ "$total_failed" -eq 0 ]
    exit
}

if [ $# -ne 1 ]; then
    echo "usage: $0 BROKER_BIN" >&2
    exit 2
fi
BROKER_BIN=$(realpath -m "$1")
if [ ! -x "$BROKER_BIN" ] || [ -d "$BROKER_BIN" ]; then
    echo "integration: broker binary $BROKER_BIN does not exist or is not executable (build it with \`make build\`)"
    total_failed=1
    finish
fi
export KLAMM_BROKER=$BROKER_BIN

# record SUITE STATUS PASSED FAILED: add a suite's counts. A suite that printed no counts
# (it crashed or timed out) counts as one failure, and so does one that exited non-zero
# while reporting no failure.
record() {
    local suite=$1 status=$2 passed=$3 failed=$4
    if [ -z "$passed" ] || [ -z "$failed" ]; then
        if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
            echo "== $suite: timed out, no result"
        else
            echo "== $suite: exited with status $status without a result"
        fi
        passed=0 failed=1
    elif [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        echo "== $suite: exited with status $status although no test failed"
        failed=1
    fi
    echo "== $suite: $passed passed, $failed failed"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

# count PREFIX FILE WHICH: N of the last "PREFIX: N passed, N failed" line (WHICH = 1 or 2).
count() {
    grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -n 1 | grep -oE '[0-9]+' | sed -n "$3p"
}

# ---- kafka-python ---------------------------------------------------------------------------
# python_suite NAME FILE: run one kafka-python unittest file; it ends with "NAME: N passed, N failed".
python_suite() {
    local name=$1 file=$2 log=$out_dir/$(basename "$2").out status
    echo "== $name (integration/python/$file)"
    timeout -k 10 "$PYTHON_TIMEOUT_S" "$PYTHON" -u "$HERE/python/$file" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    record "$name" "$status" "$(count "$name" "$log" 1)" "$(count "$name" "$log" 2)"
}
python_suite kafka-python test_kafka_python.py
python_suite "kafka-python groups" test_groups_kafka_python.py
python_suite "kafka-python retention" test_retention_kafka_python.py

# ---- KafkaJS --------------------------------------------------------------------------------
# node_suite NAME FILE: run one node:test file of integration/node.
node_suite() {
    local name=$1 file=$2 log=$out_dir/$2.out status passed failed cancelled
    echo "== $name (integration/node/$file)"
    if [ ! -d "$HERE/node/node_modules/kafkajs" ]; then
        echo "kafkajs is not installed: run \`make deps\` (npm ci in integration/node)"
        record "$name" 1 "" ""
        return
    fi
    # The spec reporter ends with "ℹ pass N", "ℹ fail N", "ℹ cancelled N" lines. (A file
    # reporter destination would be cut short by --test-force-exit; stdout is not.)
    (cd "$HERE/node" && timeout -k 10 "$NODE_TIMEOUT_S" node --test --test-force-exit \
        --test-reporter=spec --test-reporter-destination=stdout "$file") 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    spec_count() { grep -aE "^ℹ $1 [0-9]+$" "$log" | tail -n 1 | grep -oE '[0-9]+'; }
    passed=$(spec_count pass)
    failed=$(spec_count fail)
    cancelled=$(spec_count cancelled)
    [ -n "$failed" ] && failed=$((failed + ${cancelled:-0})) # cancelled = timed out or hook failed
    record "$name" "$status" "$passed" "$failed"
}
node_suite KafkaJS klamm.test.js
node_suite "KafkaJS groups" groups.test.js

# ---- kcat -----------------------------------------------------------------------------------
# kcat_suite NAME FILE: run one kcat script; it ends with "NAME: N passed, N failed".
kcat_suite() {
    local name=$1 file=$2 log=$out_dir/$2.out status
    echo "== $name (integration/$file)"
    timeout -k 10 "$KCAT_TIMEOUT_S" bash "$HERE/$file" "$BROKER_BIN" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    record "$name" "$status" "$(count "$name" "$log" 1)" "$(count "$name" "$log" 2)"
}
kcat_suite kcat kcat.sh
kcat_suite "kcat groups" kcat_groups.sh

finish
