# test/gdb/walkthrough.gdb — follow one Produce request through Klamm in gdb.
#
#   make debug
#   gdb -x test/gdb/walkthrough.gdb --args build-debug/klamm \
#       --override listeners=PLAINTEXT://127.0.0.1:19092 --override log.dirs=/tmp/klamm-gdb
#
# then, in another terminal:  printf 'k:v\n' | kcat -b 127.0.0.1:19092 -t walk -P -K:
#
# Four breakpoints, in the order a request meets them (docs/debugging.md, "gdb
# walk-through"). Each prints one labelled line and continues, so the output is a trace:
#
#   == [1] poll loop        server_poll_once       infrastructure/net/server.c
#   == [2] decoder          protocol_dispatch      infrastructure/protocol/dispatch.c
#   == [3] produce use case produce_append         application/produce.c
#   == [4] segment append   segment_append         infrastructure/storage/segment.c
#
# test/gdb/run_walkthrough.sh (make gdb-test) checks those labels and their order: keep
# the "== [N] name" prefixes if you change what a stop prints. To stop for real at one of
# them instead of tracing, press Ctrl-C and give it an empty command list:
#   (gdb) commands 4        <- breakpoint number, see `info breakpoints`
#   > end
#   (gdb) continue          <- the next Produce stops in segment_append; try `bt`
#
# Every name used here is a real function or field of the tree. If one is renamed, its
# breakpoint stays "pending" (never hit) instead of aborting the script, and the check
# names the stop that went missing; `info functions server_poll` finds the new name.

set pagination off
set confirm off
set print pretty off
# A breakpoint on a name that no longer exists is left pending instead of being an
# error: an error would end this script before `run`.
set breakpoint pending on

# The broker stops cleanly on SIGTERM/SIGINT (src/main.c:main_install_signals): let gdb
# pass SIGTERM straight to it instead of stopping, so `kill -TERM <pid>` ends the run.
# SIGPIPE is ignored by the broker; gdb would stop on it by default.
handle SIGTERM nostop noprint pass
handle SIGPIPE nostop noprint pass

# ---- helpers: Kafka's integers are big-endian on the wire and on disk ---------------
# klamm_be16 PTR / klamm_be32 PTR / klamm_be64 PTR: set $be to the integer at PTR
# (PTR: a uint8_t pointer expression without spaces, e.g. `frame` or `frame+4`).
define klamm_be16
  set $be = (short)(((unsigned)($arg0)[0] << 8) | ($arg0)[1])
end
define klamm_be32
  set $be = (int)(((unsigned)($arg0)[0] << 24) | ((unsigned)($arg0)[1] << 16) | ((unsigned)($arg0)[2] << 8) | ($arg0)[3])
end
define klamm_be64
  klamm_be32 ($arg0)
  set $be_hi = (long long)$be
  klamm_be32 ($arg0)+4
  set $be = ($be_hi << 32) | (unsigned)$be
end

# ---- [1] the poll loop ---------------------------------------------------------------
# server_poll_once is ONE iteration of the loop: build the poll set, poll(2), serve the
# ready sockets, retry parked requests, run the timer. An idle broker still wakes up
# every 100 ms (the tick), so this breakpoint fires ~10 times a second. To keep the log
# readable it counts every hit but prints only the first one and those where the number
# of open connections changed since the previous iteration (an accept or a close).
set $klamm_polls = 0
set $klamm_conns = -1
break server_poll_once
commands
  silent
  set $klamm_polls = $klamm_polls + 1
  if s->nconns != $klamm_conns
    printf "== [1] poll loop: server_poll_once, iteration %d, %d open connection(s), poll timeout <= %d ms\n", $klamm_polls, (int)s->nconns, timeout_ms
    set $klamm_conns = s->nconns
  end
  continue
end

# ---- [2] the frame decoder -----------------------------------------------------------
# A whole frame (int32 size already stripped) arrived; protocol_dispatch is about to run
# request_header_decode on it. The header is still raw bytes here, so they are decoded by
# hand: int16 api_key, int16 api_version, int32 correlation_id — all big-endian.
# kcat's produce sends ApiVersions (18), Metadata (3), then Produce (0).
break protocol_dispatch
commands
  silent
  klamm_be16 frame
  set $klamm_key = $be
  klamm_be16 frame+2
  set $klamm_ver = $be
  klamm_be32 frame+4
  printf "== [2] decoder: protocol_dispatch, conn %d, frame of %d bytes, api_key=%d api_version=%d correlation_id=%d (after %d poll iterations) ", (int)req->conn_id, (int)len, $klamm_key, $klamm_ver, $be, $klamm_polls
  output (enum kl_api_key)$klamm_key
  echo \n
  continue
end

# ---- [3] the Produce use case --------------------------------------------------------
# The protocol adapter (api_produce.c) decoded the body; this is the application layer,
# one call per partition. `records` points INTO the request frame: the v2 batch as the
# client sent it, base_offset (bytes 0-7) still what the producer wrote (0).
# The partition's log_end (looked up with broker_find_partition, a call into the
# program) is the base offset produce_append is about to give the batch.
break produce_append
commands
  silent
  klamm_be64 records
  set $klamm_sent = $be
  set $klamm_part = broker_find_partition(b, topic, partition)
  if $klamm_part != 0
    set $klamm_end = $klamm_part->offsets.log_end
  else
    set $klamm_end = -1
  end
  printf "== [3] produce use case: produce_append, topic=%s partition=%d, %d bytes of records, batch base_offset as sent=%lld, partition log_end=%lld -> base offset to assign=%lld\n", topic, partition, (int)len, $klamm_sent, $klamm_end, $klamm_end
  continue
end

# ---- [4] the segment append ----------------------------------------------------------
# The storage adapter: the same bytes, now with their offsets assigned, about to be
# write(2)n to the end of the active segment's .log file. seg->size is the file position
# they will start at; seg->next_offset must equal the batch's base_offset.
break segment_append
commands
  silent
  klamm_be64 batches
  printf "== [4] segment append: segment_append, %s, %d bytes at file position %lld, batch base_offset=%lld (segment next_offset=%lld)\n", seg->log_path, (int)len, (long long)seg->size, $be, (long long)seg->next_offset
  continue
end

run
