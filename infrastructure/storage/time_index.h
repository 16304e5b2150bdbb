/*
 * infrastructure/storage/time_index.h — one segment's time index, the `<base>.timeindex`
 * file next to its `.log` (Kafka's TimeIndex, KIP-33): which offset to start from when a
 * ListOffsets request asks for the first batch at or after a timestamp.
 * Layer: infrastructure. May touch: domain/record_batch.h (big-endian helpers),
 * infrastructure/logging.h, POSIX files (open, pread, write, ftruncate, fsync).
 *
 *   <dir>/00000000000000000000.timeindex  12-byte entries, big-endian:
 *                                           int64 timestamp, int32 offset relative to the base
 *
 * An entry (T, O) says: "the segment's largest timestamp first reached T in the batch whose
 * last offset is O". So every batch before that one has max_timestamp < T, which is what
 * makes the index usable: to find the first batch with max_timestamp >= target, start at
 * the entry with the largest T <= target and walk batch headers forward from there.
 *
 * Entries are appended only when the timestamp is larger than the last entry's (Kafka's
 * TimeIndex.maybeAppend), so timestamps and offsets strictly increase and a lookup is a
 * binary search. The segment decides WHEN to offer one (every log.index.interval.bytes,
 * together with its .index entry, and once more when it is sealed; see segment.c).
 *
 * The in-memory entries are a byte-for-byte copy of the file, as for the .index, but the
 * file may lag behind: a note only adds to memory, and time_index_write_pending appends
 * the entries noted since the last write (`written` counts those in the file), each once,
 * with one write(2) of the same bytes. The segment calls it when it is sealed, flushed or
 * closed, not on every append: Kafka's TimeIndex is a memory-mapped file flushed at a roll
 * or a flush, and the active segment's file is rebuilt from the log at every open anyway
 * (segment.c, rule 4). The file is derived data: when it fails the sanity check of
 * time_index_load the segment rebuilds it from the log.
 *
 * Not thread-safe: Klamm's poll loop is single-threaded.
 */
#ifndef KL_INFRA_STORAGE_TIME_INDEX_H
#define KL_INFRA_STORAGE_TIME_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "infrastructure/logging.h"

#define KL_TIME_INDEX_ENTRY_SIZE 12
#define KL_TIME_INDEX_NO_TIMESTAMP (-1)    /* Kafka's RecordBatch.NO_TIMESTAMP */

/* One entry, decoded: `offset` is absolute (base + the stored relative offset). */
typedef struct kl_time_entry {
    int64_t timestamp;
    int64_t offset;
} kl_time_entry_t;

/* Fields are read-only outside time_index.c (segment.c and tests read them). */
typedef struct kl_time_index {
    char *path;                      /* <dir>/<base>.timeindex */
    int fd;                          /* O_RDWR | O_APPEND */
    int64_t base_offset;             /* the segment's */
    uint8_t *bytes;                  /* the entries, as the file holds them */
    size_t count;
    size_t written;                  /* entries [0, written) are in the file, which holds
                                        nothing else once loaded, rewritten or truncated
                                        at open; [written, count) wait for write_pending */
    size_t cap;                      /* entries allocated */
    const kl_log_t *log;             /* may be NULL: silence */
} kl_time_index_t;

/* Open (creating it when missing) `path`; `truncate` empties it (a new segment: a stale
 * file is derived data). Nothing is read: time_index_load does that.
 * Errors: KAFKA_STORAGE_ERROR (logged), UNKNOWN_SERVER_ERROR (memory). */
kl_err_t time_index_open(kl_time_index_t **out, const char *path, int64_t base_offset,
                         bool truncate, const kl_log_t *log);

/* Close the file and free. Writes nothing (the entries not yet written are lost: the
 * segment writes them first, segment_close) and does not fsync. NULL is fine. */
void time_index_close(kl_time_index_t *idx);

/* Read the file into memory and sanity-check it: size a multiple of 12, timestamps above
 * NO_TIMESTAMP and strictly increasing, offsets strictly increasing and inside
 * [base_offset, next_offset). KL_ERR_CORRUPT_MESSAGE (after one log line naming the reason,
 * entries dropped) when it must be rebuilt from the log. Cost: 1 fstat + 1 pread. */
kl_err_t time_index_load(kl_time_index_t *idx, int64_t next_offset);

/* Kafka's maybeAppend, in memory only: add (timestamp, offset) when timestamp is larger than
 * the last entry's (than NO_TIMESTAMP when empty), else nothing. time_index_write_pending
 * puts the new entries in the file. Errors: UNKNOWN_SERVER_ERROR (memory). */
kl_err_t time_index_note(kl_time_index_t *idx, int64_t timestamp, int64_t offset);

/* Append entries [written, count) to the file: one write(2), none when there are none.
 * A failed write is cut back (ftruncate) to the `written` entries, so a later call appends
 * at an entry boundary. Errors: KAFKA_STORAGE_ERROR (logged). */
kl_err_t time_index_write_pending(kl_time_index_t *idx);

/* Keep the first `count` entries in memory; the file too when it held more (the undo of a
 * failed append or seal, and the start of a rebuild). */
kl_err_t time_index_truncate(kl_time_index_t *idx, size_t count);

/* Replace the file with the in-memory entries (after a rebuild). */
kl_err_t time_index_rewrite(kl_time_index_t *idx);

/* Make the file complete and durable: write what is pending, then fsync. */
kl_err_t time_index_flush(kl_time_index_t *idx);

/* Entry i, decoded (i < count). */
kl_time_entry_t time_index_entry(const kl_time_index_t *idx, size_t i);

/* The last entry's timestamp; NO_TIMESTAMP when empty. */
int64_t time_index_last_timestamp(const kl_time_index_t *idx);

/* Kafka's TimeIndex.lookup: the entry with the largest timestamp <= `timestamp`, in *out.
 * false when there is none (empty, or every entry is later): then the walk starts at the
 * segment's first batch. Binary search over the in-memory entries: O(log count), no I/O. */
bool time_index_lookup(const kl_time_index_t *idx, int64_t timestamp, kl_time_entry_t *out);

#endif
