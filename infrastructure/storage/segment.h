/*
 * infrastructure/storage/segment.h — one log segment: a `.log` file of v2 record batches,
 * its sparse `.index` and its `.timeindex`, named after the segment's base offset (Kafka's
 * layout).
 * Layer: infrastructure. May touch: domain/record_batch.h, application/ports.h (the sink),
 * infrastructure/logging.h, storage/time_index.h, POSIX files (open, pread, write,
 * ftruncate, fsync).
 *
 *   <dir>/00000000000000000000.log    batches exactly as produced (base offsets assigned)
 *   <dir>/00000000000000000000.index  8-byte entries, big-endian:
 *                                       int32 offset relative to the base, int32 file position
 *   <dir>/00000000000000000000.timeindex  12-byte entries, big-endian (storage/time_index.h):
 *                                       int64 timestamp, int32 offset relative to the base
 *
 * Kafka's OffsetIndex rule: an entry is added when more than log.index.interval.bytes were
 * appended since the previous entry (and, here, for the first batch), and the entry names the
 * batch's LAST offset and the batch's start position. A lookup takes the last entry whose
 * offset <= target and walks batch headers from there, so at most ~interval bytes of headers
 * are read. The in-memory index holds the entries as the file does, so writing them needs
 * no encode step; lookups use memory only. An append records its entries in memory and
 * writes only the .log; the entries reach the file (index_on_disk counts those that have)
 * when the segment is sealed, flushed or closed. That is Kafka's OffsetIndex: a
 * memory-mapped file whose pages are flushed at a roll or a log flush, not per append.
 *
 * The time index (KIP-33) gets an entry together with each .index entry, when the segment's
 * largest timestamp grew since its last one, and a last one when the segment is sealed
 * (segment_seal, at a roll), so a sealed segment's last entry is its largest timestamp.
 *
 * Positions are int32 (Kafka's index format), so a segment stays below 2 GiB, and relative
 * offsets are int32, so a segment spans fewer than 2^31 offsets: partition_log rolls first.
 *
 * Not thread-safe: Klamm's poll loop is single-threaded.
 */
#ifndef KL_INFRA_STORAGE_SEGMENT_H
#define KL_INFRA_STORAGE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "application/ports.h"
#include "domain/error.h"
#include "domain/record_batch.h"
#include "infrastructure/logging.h"
#include "infrastructure/storage/time_index.h"

#define KL_SEGMENT_INDEX_ENTRY_SIZE 8
#define KL_SEGMENT_NAME_DIGITS 20          /* "%020lld" like Kafka's file names */

/* A test seam: counters a test may attach (seg->stats = &s) to see what a lookup cost. The
 * broker leaves it NULL. Counted: preads of a 61-byte batch header (walks and checks). */
typedef struct kl_segment_stats {
    uint64_t header_reads;
} kl_segment_stats_t;

/* Fields are read-only outside segment.c (tests and partition_log read them). */
typedef struct kl_segment {
    char *log_path;                  /* <dir>/<base>.log */
    char *index_path;                /* <dir>/<base>.index */
    int log_fd;                      /* O_RDWR | O_APPEND */
    int index_fd;                    /* O_RDWR | O_APPEND */
    int64_t base_offset;             /* from the file name */
    int64_t next_offset;             /* offset after the last batch (= base when empty) */
    int64_t size;                    /* bytes in .log; always ends on a batch boundary */
    uint8_t *index;                  /* the .index entries, as the file holds them */
    size_t index_count;
    size_t index_on_disk;            /* entries [0, index_on_disk) are in the .index; the
                                        rest wait for a seal, flush or close */
    size_t index_cap;                /* entries allocated */
    int64_t bytes_since_index;       /* appended since the last index entry */
    int32_t index_interval_bytes;    /* log.index.interval.bytes */
    bool verify_reads;               /* rule 7: true only for sealed segments found on disk */
    kl_time_index_t *time_index;     /* <dir>/<base>.timeindex */
    int64_t max_timestamp;           /* largest batch max_timestamp; -1 (none) when empty */
    int64_t max_timestamp_offset;    /* last offset of the first batch that reached it */
    int64_t first_batch_timestamp;   /* the first batch's max_timestamp, -1 when empty or
                                        none (Kafka's rollingBasedTimestamp, for segment.ms);
                                        set by append and by a scan, so -1 in a segment
                                        opened sealed with trusted indexes (never active) */
    int64_t reserve_step;            /* log.preallocate: reserve blocks this far ahead
                                        of the end (segment_set_preallocate); 0 = off */
    int64_t reserved_end;            /* blocks are reserved (fallocate) up to here */
    kl_segment_stats_t *stats;       /* NULL, or a test's counters */
    const kl_log_t *log;             /* may be NULL: silence */
} kl_segment_t;

/* Write "<dir>/<20-digit base><ext>" into buf. false when it does not fit. */
bool segment_path(char *buf, size_t cap, const char *dir, int64_t base_offset, const char *ext);

/* Parse a segment file name "<20 digits>.log" into its base offset; false for anything
 * else (foreign files, ".index", temp files), which partition_log ignores. */
bool segment_parse_name(const char *name, int64_t *base_out);

/* A new, empty segment: creates <base>.log (must not exist), <base>.index and
 * <base>.timeindex (stale ones are emptied), then fsyncs
 * `dir` so the new names survive a crash. Cost: 1 directory fsync. */
kl_err_t segment_create(kl_segment_t **out, const char *dir, int64_t base_offset,
                        int32_t index_interval_bytes, const kl_log_t *log);

/* Open the ACTIVE (last) segment after a possible crash: read every batch, validate
 * framing, CRC-32C (batch_validate) and offset contiguity; a torn or corrupt tail is cut
 * with ftruncate at the end of the last valid batch (one log line). Both indexes are
 * rebuilt from the scan and rewritten. Recovery rules 1-4 at the top of segment.c.
 * Cost: reads the whole file, 2 preads per batch + the CRC. */
kl_err_t segment_open_active(kl_segment_t **out, const char *dir, int64_t base_offset,
                             int32_t index_interval_bytes, const kl_log_t *log);

/* Open an older (sealed) segment: trusts its .index after a sanity check (size a multiple
 * of 8, first entry at position 0, offsets and positions increasing and inside the
 * segment, non-empty when the log is, last entry naming a real batch) and its .timeindex
 * after time_index_load's check (and non-empty when the log is); its last entry gives
 * max_timestamp. When either fails both are rebuilt by walking batch headers (no CRC),
 * stopping at a bad one, and sealed again. The .log is never changed (rules 5-6 in
 * segment.c). `next_offset` is the next segment's base offset.
 * Cost: 2 fstats + 1 pread per index file + 1 pread of a header. */
kl_err_t segment_open_sealed(kl_segment_t **out, const char *dir, int64_t base_offset,
                             int64_t next_offset, int32_t index_interval_bytes,
                             const kl_log_t *log);

/* Write the index entries appends kept in memory (errors logged), close the files, free.
 * Does not fsync (segment_flush does). NULL is fine. */
void segment_close(kl_segment_t *seg);

/* Append `len` bytes of whole batches, already validated by the application, whose base
 * offsets continue at next_offset. Headers are parsed (batch_header_parse, no CRC) for the
 * offsets and index entries. Exactly one write(2): the batches, to the .log; the new
 * index and time index entries are recorded in memory only (written by segment_seal,
 * segment_flush, segment_close). Nothing is appended on error (a failed write is
 * truncated back, the in-memory entries rolled back).
 * Errors: CORRUPT_MESSAGE (framing), UNKNOWN_SERVER_ERROR (offsets not contiguous, or the
 * segment would pass 2 GiB / 2^31 offsets), KAFKA_STORAGE_ERROR (disk; logged). */
kl_err_t segment_append(kl_segment_t *seg, const uint8_t *batches, size_t len);

/* Seal the segment before a roll: add its largest timestamp to the .timeindex when the last
 * entry is not it yet (Kafka's onBecomeInactiveSegment), so that when the segment is opened
 * sealed later, its last entry is its max_timestamp, and write every entry not in the
 * files yet, so both are complete for the roll's fsync (rule 5 trusts them at the next
 * start). Cost: at most 1 write(2) per index file. */
kl_err_t segment_seal(kl_segment_t *seg);

/* log.preallocate. From now on, whenever an append would pass the reserved end, reserve
 * the blocks of the next `step` bytes first with fallocate(FALLOC_FL_KEEP_SIZE): the
 * file system allocates them once, as one extent, instead of a little at every write(2),
 * and the file's SIZE still covers only the bytes written, so recovery (which scans to
 * the size) and readers see nothing new. Blocks past the end show in st_blocks / du
 * until segment_release_reserve. A file system without fallocate (EOPNOTSUPP) turns it
 * off for this segment with a DEBUG line; any other failure (ENOSPC) with a WARNING —
 * never an append error: the reservation is an optimisation. step <= 0: off.
 * Cost: 1 fallocate per `step` bytes appended. */
void segment_set_preallocate(kl_segment_t *seg, int64_t step);
/* Give back the blocks reserved past the end: ftruncate to the current size (ext4 and
 * xfs free KEEP_SIZE blocks past EOF even when the size does not change). Called when
 * the segment is sealed at a roll, before its fsync. Cost: 1 ftruncate.
 * Errors: KAFKA_STORAGE_ERROR (logged). */
kl_err_t segment_release_reserve(kl_segment_t *seg);
/* Would `len` more bytes whose last offset is `last_offset` still fit the index format's
 * limits (int32 positions and relative offsets)? log.segment.bytes is partition_log's rule. */
bool segment_can_hold(const kl_segment_t *seg, size_t len, int64_t last_offset);

/* Position of the first batch whose last offset >= `offset` (the batch containing it);
 * seg->size when there is none (offset >= next_offset). Binary search in the index, then
 * one pread of a 61-byte header per batch walked. A bad header on the walk:
 * CORRUPT_MESSAGE (logged with the file and position). */
kl_err_t segment_find(const kl_segment_t *seg, int64_t offset, int64_t *pos_out);

/* Whole batches from the one containing `offset`, at most `max_bytes` but always at least
 * one batch (KIP-74), read straight into `sink`, which keeps exactly *len_out bytes.
 * In a segment opened sealed (verify_reads) every batch is checked (framing, CRC-32C,
 * offsets) first; other segments hold only bytes this process checked already (rule 7).
 * A read stops before the first bad batch and serves the ones before it (KL_OK); when
 * the first batch is bad, nothing is served and the answer is CORRUPT_MESSAGE with a log
 * line naming the file and the position (rule 7 in segment.c, with Kafka's reason).
 * *len_out = 0 when offset >= next_offset. Cost: the find above + a header walk from the
 * last index entry below the end limit + one pread straight into the sink (+ CRC-32C over
 * the bytes read when verify_reads); what fails the check is given back (unreserve). */
kl_err_t segment_read(const kl_segment_t *seg, int64_t offset, int32_t max_bytes,
                      kl_buf_sink_t *sink, size_t *len_out);

/* ListOffsets by time: the first batch whose max_timestamp >= `timestamp`. Kafka answers the
 * first RECORD with timestamp >= target; we answer that batch's base offset and its
 * max_timestamp (record-level precision would need decoding the records). *found = false
 * when no batch qualifies; CORRUPT_MESSAGE (logged) when the walk meets a bad header.
 * Kafka's LogSegment.findOffsetByTimestamp: no I/O when `timestamp` > max_timestamp;
 * else the time index's entry with the largest timestamp <= target (time_index_lookup),
 * the .index's position for its offset, and a header walk from there: about
 * log.index.interval.bytes of headers rather than the whole segment. */
kl_err_t segment_offset_for_timestamp(const kl_segment_t *seg, int64_t timestamp,
                                      bool *found, int64_t *offset_out, int64_t *timestamp_out);

/* Write the index entries not in the files yet, then fsync the .log, the .index and the
 * .timeindex (log.flush.interval.*, a roll, a clean shutdown). Cost: at most 2 write(2)
 * + 3 fsyncs. */
kl_err_t segment_flush(kl_segment_t *seg);

/* Index entry i, decoded (tests and gdb). */
int32_t segment_index_offset(const kl_segment_t *seg, size_t i);
int32_t segment_index_position(const kl_segment_t *seg, size_t i);

#endif
