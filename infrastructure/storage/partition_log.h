/*
 * infrastructure/storage/partition_log.h — one partition's log: its ordered segments in
 * <log.dirs>/<topic>-<partition>/, rolling, offset lookup, recovery and the flush policy.
 * Layer: infrastructure. May touch: storage/segment.h, storage/fs.h, the sink and clock
 * ports, infrastructure/clock.h, logging, POSIX dirs (and stat/unlink of segment files for
 * retention; the whole directory for DeleteTopics).
 *
 * Kafka's rules kept here:
 *   - log.segment.bytes (a topic's segment.bytes): a new segment is rolled when the active
 *     one is non-empty and the append would make it larger; its base offset is the log end
 *     offset.
 *   - segment.ms (broker default log.roll.ms / log.roll.hours), Kafka's
 *     LogSegment.shouldRoll: also roll when the active segment is non-empty and the time it
 *     has waited is MORE than segment.ms. Kafka's timeWaitedForRoll: when the segment's
 *     first batch has a timestamp, the appended batches' largest timestamp minus that one
 *     (record time, not the broker's clock); otherwise the clock now minus the time the
 *     segment was created, or opened after a restart (Kafka keeps that time in memory
 *     only). Checked on append, so a quiet partition's old segment is closed by its next
 *     append and becomes deletable by retention. Kafka subtracts a random
 *     segment.jitter.ms (default 0) to spread the rolls of many partitions; Klamm has no
 *     jitter.
 *   - recovery: only the active (last) segment is scanned and CRC-checked; older segments
 *     were fsynced when they were rolled, so their index is trusted after a sanity check
 *     (fast startup), and their batches are checked when they are read instead. The
 *     numbered recovery rules are at the top of storage/segment.c.
 *   - log.preallocate: the active segment's blocks are reserved PLOG_PREALLOCATE_STEP
 *     (or segment.bytes, if smaller) ahead of its end with fallocate(KEEP_SIZE), and a
 *     rolled segment gives back what it did not use (segment_release_reserve). Kafka
 *     reserves the whole segment by setting the file's length; see docs/performance.md
 *     (round 3) for why Klamm keeps the size and reserves in steps.
 *   - log.flush.interval.messages / log.flush.interval.ms: fsync after N records or T ms;
 *     by default never, leaving durability to the page cache (which survives kill -9).
 *     A flush also writes the active segment's index entries, which appends keep in
 *     memory (Kafka flushes its memory-mapped indexes at the same moments).
 *
 * Not thread-safe: Klamm's poll loop is single-threaded.
 */
#ifndef KL_INFRA_STORAGE_PARTITION_LOG_H
#define KL_INFRA_STORAGE_PARTITION_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "application/ports.h"
#include "domain/error.h"
#include "infrastructure/logging.h"
#include "infrastructure/storage/segment.h"

/* log.preallocate's step: at most 64 MiB past the end of the active segment is reserved
 * and unused at any time, so 64 idle partitions hold 4 GiB, not 64 × segment.bytes. */
#define PLOG_PREALLOCATE_STEP (64 * 1024 * 1024)

typedef struct kl_plog_config {
    int64_t segment_bytes;              /* segment.bytes (or log.segment.bytes) */
    int64_t segment_ms;                 /* segment.ms (or log.roll.ms); <= 0: never by time */
    int32_t index_interval_bytes;       /* log.index.interval.bytes */
    int64_t flush_interval_messages;    /* fsync after this many records; <= 0: never */
    int64_t flush_interval_ms;          /* fsync when the last flush is older; < 0: never */
    bool preallocate;                   /* log.preallocate: reserve the active segment's
                                           blocks ahead (segment_set_preallocate) */
    const kl_log_t *log;                /* may be NULL */
    kl_clock_t clock;                   /* segment.ms without timestamps; now_ms NULL:
                                           clock_wall_ms (a test injects its own) */
} kl_plog_config_t;

/* Fields are read-only outside partition_log.c. */
typedef struct kl_partition_log {
    char *dir;
    kl_plog_config_t cfg;
    kl_segment_t **segments;            /* ascending base offsets; the last one is active */
    size_t segment_count;
    size_t segment_cap;
    int64_t unflushed_messages;         /* records appended since the last fsync */
    int64_t last_flush_ms;              /* tick time of the last fsync; -1 before the first tick */
    int64_t active_created_ms;          /* clock time the active segment was created or
                                           opened (Kafka's LogSegment.created) */
} kl_partition_log_t;

/* Open the partition directory `dir` (must exist): every "<20 digits>.log" file, in
 * base-offset order (other names are ignored), recovering the last one. An empty
 * directory gets segment 0. Errors: KAFKA_STORAGE_ERROR (logged), UNKNOWN_SERVER_ERROR. */
kl_err_t plog_open(kl_partition_log_t **out, const char *dir, const kl_plog_config_t *cfg);

/* Flush the active segment (its index entries written, everything fsynced: a clean
 * shutdown loses nothing), close, free. NULL is fine. */
void plog_close(kl_partition_log_t *pl);

/* Append whole batches with assigned base offsets starting at the log end; rolls first when
 * segment.bytes (or the index's int32 limits) would be passed or segment.ms has passed.
 * Nothing is appended on error. May fsync (flush_interval_messages). Cost: a clock read
 * only when segment.ms applies and the active segment's first batch has no timestamp. */
kl_err_t plog_append(kl_partition_log_t *pl, const uint8_t *batches, size_t len);

/* Whole batches from the one containing `offset` (KIP-74, see segment_read), from one
 * segment, each checked before it is served. OFFSET_OUT_OF_RANGE outside [log start,
 * log end]; 0 bytes at log end; CORRUPT_MESSAGE (logged) when the first batch is damaged. */
kl_err_t plog_read(kl_partition_log_t *pl, int64_t offset, int32_t max_bytes,
                   kl_buf_sink_t *sink, size_t *len_out);

/* First batch (oldest segment first) with max_timestamp >= `timestamp`: its base offset and
 * max_timestamp; -1 / -1 when none. Cost: no I/O for the segments whose max_timestamp is
 * below the target, then segment_offset_for_timestamp's time index lookup and short walk. */
kl_err_t plog_offset_for_timestamp(kl_partition_log_t *pl, int64_t timestamp,
                                   int64_t *offset_out, int64_t *timestamp_out);

/* DeleteTopics: close the log without flushing it, remove its directory and every file
 * in it (fs_remove_dir), free `pl` (also on error: `pl` is gone either way). Readers
 * holding a duplicate of a segment's descriptor (a queued Fetch response) still read the
 * unlinked bytes. Not durable by itself: the caller fsyncs the parent directory.
 * Errors: KAFKA_STORAGE_ERROR (a file or the directory could not be removed; logged). */
kl_err_t plog_delete(kl_partition_log_t *pl);

int64_t plog_log_start(const kl_partition_log_t *pl);   /* first segment's base (0 when empty) */
int64_t plog_log_end(const kl_partition_log_t *pl);     /* the next offset to be appended */

/* The active segment's index entries written (segment_flush), then all three files
 * fsynced, now. */
kl_err_t plog_flush(kl_partition_log_t *pl);

/* log.flush.interval.ms: fsync when records are unflushed and the last flush (or the first
 * tick) is at least that old. `now_ms` from any steady clock. */
kl_err_t plog_tick(kl_partition_log_t *pl, int64_t now_ms);

/* ---- retention (the decision is domain/retention.c; these list and delete) ---- */

/* The segments as retention sees them, oldest first, the last one active, into
 * segs[0 .. min(cap, count)); *count_out = segment_count. A segment without records
 * reports its .log's last-modified time as largest_timestamp (Kafka's
 * LogSegment.largestTimestamp). Cost: no I/O, but 1 stat per empty segment.
 * Errors: KAFKA_STORAGE_ERROR (the stat failed; logged). */
kl_err_t plog_segments(const kl_partition_log_t *pl, kl_segment_info_t *segs, size_t cap,
                       size_t *count_out);

/* Delete, oldest first, every segment whose offsets all lie below `offset` (the next
 * segment's base <= offset; Kafka's deleteLogStartOffsetBreachedSegments test), never
 * the active one: unlink its .log (from then on the segment does not exist for
 * plog_open), close it, unlink its .index and .timeindex; one INFO line each
 * ("Deleting segment …", as Kafka logs); one directory fsync at the end.
 * *log_start_out = the log start afterwards, also on error (what went, went).
 * Cost: 3 unlinks per segment + 1 directory fsync.
 * Errors: KAFKA_STORAGE_ERROR (an unlink of a .log or the fsync failed; logged). */
kl_err_t plog_delete_segments_before(kl_partition_log_t *pl, int64_t offset,
                                     int64_t *log_start_out);

#endif
