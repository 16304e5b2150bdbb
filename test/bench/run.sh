#!/usr/bin/env bash
# run.sh — the driver behind `make bench`.
#
#   bash test/bench/run.sh BROKER_BINARY [KLAMM_BENCH_BINARY]
#
# Builds nothing (the Makefile does). Runs every scenario with test/bench/klamm_bench
# against Klamm (a fresh broker on a free loopback port with a fresh log.dirs for every
# run) and against librdkafka's in-process mock cluster, BENCH_REPS times (default 5),
# and prints the medians as a table and as JSON lines, then each target of issue 6 as
# met or NOT MET (report.py). One unmeasured warm-up run per broker comes first. Then
# the Klamm-only rows: partition and producer-connection scaling, startup time over ~1 GiB in ~100 segments,
# and the broker's peak RSS (VmHWM). For every Klamm run it also records the broker's
# own CPU time (utime + stime from /proc, the whole run: startup, produce and consume),
# the figure that varies least between runs (docs/performance.md, "Noise"); klamm_bench
# reports the mock's (its thread's) and the client's own the same way.
#
# Environment: BENCH_SCALE=0.1 scales every record count (quick run), BENCH_REPS=N,
# BENCH_KEEP=1 keeps the work directory (broker logs, raw results) for inspection.
set -u

BROKER=${1:?usage: run.sh BROKER_BINARY [KLAMM_BENCH_BINARY]}
TOOL=${2:-$(dirname "$BROKER")/klamm_bench}
SCALE=${BENCH_SCALE:-1}
REPS=${BENCH_REPS:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-300}   # seconds one klamm_bench run may take at most

for f in "$BROKER" "$TOOL"; do
    [ -x "$f" ] || { echo "bench: $f is not an executable (make build first)" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/klamm-bench.XXXXXX")
RESULTS=$WORK/results.jsonl
LOG=$WORK/bench.log
: >"$RESULTS"
KPID=""

cleanup() {
    stop_klamm
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: work directory kept: $WORK"
    else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s); print (v < 1 ? 1 : v) }'; }
# A scenario that must fit the mock's ~5 MiB per partition is never scaled up.
scaled_cap() { local v; v=$(scaled "$1"); [ "$v" -gt "$1" ] && v=$1; echo "$v"; }

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_klamm DATA_DIR [--override k=v]... : sets KPID and KPORT
start_klamm() {
    local dir=$1; shift
    KPORT=$(free_port)
    mkdir -p "$dir"
    "$BROKER" --override "listeners=PLAINTEXT://127.0.0.1:$KPORT" --override "log.dirs=$dir" \
        "$@" 2>>"$WORK/klamm.log" &
    KPID=$!
    local _
    for _ in $(seq 1 200); do
        port_open "$KPORT" && return 0
        kill -0 "$KPID" 2>/dev/null || { echo "bench: klamm exited at start (see below)" >&2
                                         tail -5 "$WORK/klamm.log" >&2; KPID=""; return 1; }
        sleep 0.05
    done
    echo "bench: klamm did not accept connections on port $KPORT within 10 s" >&2
    stop_klamm; return 1
}

stop_klamm() {
    [ -n "$KPID" ] || return 0
    kill -TERM "$KPID" 2>/dev/null
    local _
    for _ in $(seq 1 150); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$KPID" 2>/dev/null; then
        echo "bench: klamm (pid $KPID) ignored SIGTERM for 15 s; killing it" >&2
        kill -KILL "$KPID" 2>/dev/null
    fi
    wait "$KPID" 2>/dev/null
    KPID=""
}

CLK_TCK=$(getconf CLK_TCK)
cpu_ms() {   # user + system CPU time a process has used so far, ms; -1 once it is gone
    local f; f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
    f=${f##*) }                     # the fields after "pid (comm) ", from field 3 on
    set -- $f                       # so utime (field 14) is $12 and stime (15) is $13
    echo $(( (${12} + ${13}) * 1000 / CLK_TCK ))
}

vm_hwm() {   # peak resident set of a process, KiB; -1 once it is gone
    local v; v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null); echo "${v:--1}"
}

# bench SCENARIO BROKER_KIND(mock|klamm) ARGS... : one klamm_bench run, one JSON line.
bench() {
    local scen=$1 kind=$2 out rc; shift 2
    if [ "$kind" = mock ]; then
        out=$(timeout "$RUN_TIMEOUT" "$TOOL" --mock --json --scenario "$scen" "$@" 2>>"$LOG"); rc=$?
    else
        out=$(timeout "$RUN_TIMEOUT" "$TOOL" --brokers "127.0.0.1:$KPORT" --json \
              --scenario "$scen" "$@" 2>>"$LOG"); rc=$?
    fi
    out=$(printf '%s\n' "$out" | grep '^{' | tail -1)
    if [ -z "$out" ]; then
        out="{\"scenario\":\"$scen\",\"broker\":\"$kind\",\"ok\":false,\"crashed\":true,\"exit\":$rc}"
    fi
    if [ "$kind" = klamm ] && [ -n "$KPID" ]; then
        out="${out%\}},\"vm_hwm_kib\":$(vm_hwm "$KPID"),\"broker_cpu_ms\":$(cpu_ms "$KPID")}"
    fi
    printf '%s\n' "$out" >>"$RESULTS"
    printf '  %-34s %-5s %s\n' "$scen" "$kind" \
        "$(printf '%s' "$out" | "$PY" "$HERE/report.py" --brief)"
}

# run_klamm SCENARIO ARGS... : a fresh broker with an empty log.dirs, one run, stop.
run_klamm() {
    local scen=$1; shift
    local dir=$WORK/data-$RANDOM$RANDOM
    if start_klamm "$dir"; then
        bench "$scen" klamm "$@"
        stop_klamm
    else
        printf '{"scenario":"%s","broker":"klamm","ok":false,"crashed":true,"exit":-1}\n' \
            "$scen" >>"$RESULTS"
    fi
    rm -rf "$dir"
}

# compare SCENARIO ARGS... : Klamm and the mock, REPS times, interleaved.
compare() {
    local scen=$1 _; shift
    for _ in $(seq 1 "$REPS"); do
        bench "$scen" mock "$@"
        run_klamm "$scen" "$@"
    done
}

START=$(date +%s)
CORES=$(nproc)
echo "bench: $CORES cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))," \
     "BENCH_SCALE=$SCALE, $REPS repetitions, median reported"
echo "bench: broker $BROKER, tool $TOOL, work directory $WORK"
printf '{"machine":true,"nproc":%s,"scale":%s,"reps":%s}\n' "$CORES" "$SCALE" "$REPS" >>"$RESULTS"

N2M=$(scaled 2000000); N500K=$(scaled 500000); N1M=$(scaled 1000000)
FIT1=$(scaled_cap 40000); FITK=$(scaled_cap 4000); FIT4=$(scaled_cap 160000)

# Warm-up, not counted: the first run after a machine boots pays for what later runs find
# ready — the binaries and librdkafka in the page cache, and on a VM whose balloon hands
# freed memory back to the host, the first touch of every page (docs/performance.md,
# "What memory costs on this machine": 1800 ms of broker CPU for the first 500 MB after
# a boot, 210-280 ms after). Both brokers get one run of the largest scenario.
echo "bench: warm-up, not counted: one mock and one Klamm run of ${N500K}x1KiB"
timeout "$RUN_TIMEOUT" "$TOOL" --mock --records "$N500K" --size 1024 --no-consume \
    >/dev/null 2>>"$LOG"
WDIR=$WORK/warm-up
if start_klamm "$WDIR"; then
    timeout "$RUN_TIMEOUT" "$TOOL" --brokers "127.0.0.1:$KPORT" --records "$N500K" --size 1024 \
        --no-consume >/dev/null 2>>"$LOG"
    stop_klamm
fi
rm -rf "$WDIR"

echo "bench: produce + consume, Klamm vs mock (acks=all, linger.ms=5, batch.num.messages=10000)"
compare "${N2M}x100B 1p"   --records "$N2M"   --size 100  --partitions 1
compare "${N500K}x1KiB 1p" --records "$N500K" --size 1024 --partitions 1
compare "${N2M}x100B 4p"   --records "$N2M"   --size 100  --partitions 4
echo "bench: sizes that fit the mock's ~5 MiB per partition (consume comparable)"
compare "${FIT1}x100B 1p fit"       --records "$FIT1" --size 100  --partitions 1
compare "${FITK}x1KiB 1p fit"       --records "$FITK" --size 1024 --partitions 1
compare "${FIT4}x100B 4p fit"       --records "$FIT4" --size 100  --partitions 4
compare "${FIT4}x100B 4p fit group" --records "$FIT4" --size 100  --partitions 4 \
        --group klamm-bench --timeout 10

# The scaling rows are compared with each other (64 partitions against 1), so their runs
# are interleaved rep by rep, like Klamm's and the mock's above: whatever drifts during
# the benchmark (the page cache growing onto untouched memory, another process) then
# falls on every row alike instead of on the last one.
echo "bench: Klamm only: partitions 1, 8, 64 and producer connections 1, 8, 32 (4 partitions), interleaved"
for _ in $(seq 1 "$REPS"); do
    for p in 1 8 64; do
        run_klamm "scale ${N1M}x100B ${p}p" --records "$N1M" --size 100 --partitions "$p"
    done
    for c in 1 8 32; do
        run_klamm "scale ${N1M}x100B 4p ${c}prod" --records "$N1M" --size 100 --partitions 4 \
            --producers "$c"
    done
done

echo "bench: Klamm only: startup over ~1 GiB in ~100 segments (log.segment.bytes=10485760)"
NSTART=$(scaled 1000000)
SDIR=$WORK/startup-data
SEG=(--override log.segment.bytes=10485760)
if start_klamm "$SDIR" "${SEG[@]}"; then
    bench "fill ${NSTART}x1KiB" klamm --records "$NSTART" --size 1024 --partitions 1 \
        --topic startup --no-consume
    stop_klamm
    SEGS=$(find "$SDIR" -name '*.log' | wc -l)
    BYTES=$(du -sb "$SDIR" | cut -f1)
    echo "  data: $BYTES bytes in $SEGS .log files"
    for _ in $(seq 1 "$REPS"); do
        port=$(free_port)
        out=$(timeout 120 "$TOOL" --json --scenario "startup ${BYTES}B ${SEGS}seg" \
              --startup-port "$port" --timeout 60 -- "$BROKER" \
              --override "listeners=PLAINTEXT://127.0.0.1:$port" --override "log.dirs=$SDIR" \
              "${SEG[@]}" 2>>"$WORK/klamm.log" | grep '^{' | tail -1)
        [ -n "$out" ] || out="{\"scenario\":\"startup ${BYTES}B ${SEGS}seg\",\"mode\":\"startup\",\"ok\":false}"
        printf '%s\n' "$out" >>"$RESULTS"
        printf '  %s\n' "$out"
    done
    echo "bench: after restart, every record of the startup data read back and verified"
    if start_klamm "$SDIR" "${SEG[@]}"; then
        bench "restart-verify ${NSTART}x1KiB" klamm --records "$NSTART" --size 1024 \
            --partitions 1 --topic startup --no-produce
        stop_klamm
    fi
fi
rm -rf "$SDIR"

echo
"$PY" "$HERE/report.py" "$RESULTS"
echo "bench: finished in $(( $(date +%s) - START )) s"
