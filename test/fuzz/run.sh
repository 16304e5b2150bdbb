#!/usr/bin/env bash
# test/fuzz/run.sh — build the request-path fuzzer (test/fuzz/fuzz_request.c) with
# libFuzzer + ASan + UBSan into build/fuzz/ and run it for SECONDS (default 60) on a
# working copy of the checked-in seed corpus (test/fuzz/corpus/ stays untouched).
#
# Usage: test/fuzz/run.sh [SECONDS]        (make fuzz FUZZ_SECONDS=...)
# Prints "fuzz: N executions, M crashes"; exits non-zero on any crash, leak, timeout or
# out-of-memory, leaving the input that caused it as build/fuzz/{crash,leak,timeout,oom}-*.
# Reproduce one with:  build/fuzz/fuzz_request build/fuzz/crash-<sha1>
#
# Why a separate build: libFuzzer needs clang and its own instrumentation, and every
# library file is recompiled with it (coverage feedback only comes from instrumented code).
# UBSan is made fatal (-fno-sanitize-recover) so undefined behaviour counts as a crash
# instead of a line of output the fuzzer would ignore.
set -u

SECONDS_TO_RUN="${1:-60}"
case "$SECONDS_TO_RUN" in
    ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT" || exit 2
OUT="${FUZZ_BUILD:-build/fuzz}"
CC_FUZZ="${CC_FUZZ:-clang}"

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
    echo "fuzz: $CC_FUZZ not found; install it: apt-get install -y clang libclang-rt-14-dev" >&2
    exit 2
fi

mkdir -p "$OUT/corpus" || exit 2

# The library as the broker uses it on the request path: domain, application, the
# protocol adapters, logging and clock (no sockets, no disk: the store is in memory).
mapfile -t LIB_SRCS < <(find domain application infrastructure/protocol -name '*.c' | sort)
LIB_SRCS+=(infrastructure/logging.c infrastructure/clock.c)

echo "fuzz: building $OUT/fuzz_request"
if ! "$CC_FUZZ" -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -std=c11 -D_GNU_SOURCE -I. \
        "${LIB_SRCS[@]}" test/fuzz/mem_log_store.c test/fuzz/mem_offset_store.c \
        test/fuzz/fuzz_request.c \
        -lz -o "$OUT/fuzz_request"; then
    echo "fuzz: build failed" >&2
    exit 2
fi

# A fresh working copy of the seeds (the fuzzer adds what it finds to it).
cp -f test/fuzz/corpus/* "$OUT/corpus/" 2>/dev/null

before="$(ls "$OUT" | grep -cE '^(crash|leak|timeout|oom)-')"
LOGFILE="$OUT/fuzz.log"
echo "fuzz: running for ${SECONDS_TO_RUN}s (log: $LOGFILE)"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
"$OUT/fuzz_request" \
    -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$OUT/" \
    "$OUT/corpus" >"$LOGFILE" 2>&1
status=$?

after="$(ls "$OUT" | grep -cE '^(crash|leak|timeout|oom)-')"
crashes=$(( after - before ))
# A crash ends the run with an error report and no final stats: count that too.
if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1
fi
runs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$LOGFILE" | tail -1)"
if [ -z "$runs" ]; then
    # No final stats (the run stopped on a crash): the last progress line "#N ...".
    runs="$(grep -oE '^#[0-9]+' "$LOGFILE" | tail -1 | tr -d '#')"
fi

if [ "$crashes" -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|invariant broken|contract broken|runtime error|Test unit written' \
        "$LOGFILE" | head -20
    ls -1 "$OUT" | grep -E '^(crash|leak|timeout|oom)-' | sed "s|^|fuzz: artifact $OUT/|"
fi
echo "fuzz: ${runs:-0} executions, $crashes crashes"
[ "$crashes" -eq 0 ]
