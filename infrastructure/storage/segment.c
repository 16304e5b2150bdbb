/*
 * infrastructure/storage/segment.c — one `.log` with its `.index` and `.timeindex` (see
 * segment.h for the formats).
 * Layer: infrastructure. May touch: domain/record_batch.h, the sink port, logging,
 * storage/time_index.h, storage/fs.h, POSIX files.
 *
 * Recovery rules: what a reader may rely on after any crash or damage. Each is checked
 * through real files by test/test_segment.c, test_partition_log.c and test_log_dir.c.
 *
 *  1. Contiguity. A segment only grows by appending whole batches whose offsets continue
 *     exactly: the first batch's base offset is the segment's base (its file name), each
 *     next one starts at the previous batch's last offset + 1. Partition logs are never
 *     compacted, so a gap INSIDE a segment can only be damage; it is what catches a flipped
 *     base_offset, which the CRC does not cover. (Gaps BETWEEN segments are legal.)
 *  2. Only the active (last) segment can be torn by a crash. On open it is read from byte 0
 *     and every batch is checked: framing, CRC-32C, record count, rule 1. The first batch
 *     that fails and everything after it are cut (ftruncate), with one log line naming the
 *     file, the position and the bytes dropped. Valid-looking batches after a bad one go
 *     too: once the chain is broken their offsets cannot be trusted.
 *  3. So after open the active segment is a valid prefix: `size` and `next_offset` describe
 *     exactly the batches kept and the next append continues at `next_offset`. A zero-length
 *     file, a file holding only part of a header, or garbage, is the empty prefix:
 *     next_offset = the segment's base offset.
 *  4. The .index is derived data, never the source of truth. The active segment's index is
 *     rebuilt from that scan and rewritten, whatever the file held (missing, a size that is
 *     not a multiple of 8, garbage, entries past the end, or — the normal case after a
 *     crash — only the entries of the last flush: appends do not write index entries, see
 *     "Costs"). A stale .index is truncated by segment_create, so a leftover index without
 *     its .log is harmless.
 *  5. Older (sealed) segments were fsynced when they were rolled, so they are NOT scanned at
 *     startup (fast start). segment_seal wrote the index entries still in memory before
 *     that fsync, so both index files are complete. The .index is trusted after a sanity
 *     check: size a multiple of 8, non-empty when the log is, first entry at position 0,
 *     entries strictly increasing and inside the segment's positions and offsets, and the
 *     last entry naming a real batch header with that last offset (one 61-byte pread).
 *     Otherwise it is rebuilt by walking the batch headers (no CRC), with a log line.
 *  6. Older segments are never truncated or rewritten: damage in them is reported, not
 *     repaired (an operator decides). A rebuild that meets a bad header indexes the batches
 *     before it and stops there.
 *  7. Because of rule 5, reads of a sealed segment found on disk at startup validate what
 *     they return: every batch served is checked for framing, CRC-32C, record count and
 *     rule 1 before the read returns (verify_reads). Every other segment holds only bytes
 *     this process has checked already: the active segment was CRC-scanned at open (rule
 *     2), and every append was validated by the application (produce: batch_next checks
 *     the CRC) — so reads of those are not checked again. Cost of the rule: one CRC pass
 *     over data that came from disk, none over data this broker wrote or scanned. What
 *     it does not catch: a byte changed on disk behind a running broker's back (Kafka,
 *     which sends log bytes unchecked with sendfile, catches neither). A read stops
 *     before the first bad batch and serves the ones before it (KL_OK). A read whose FIRST
 *     batch is bad, or whose lookup walk meets a bad header, serves nothing and returns
 *     KL_ERR_CORRUPT_MESSAGE, with one log line naming the file and the position.
 *     Kafka's choice: a bad batch met while reading a log (FileLogInputStream throws
 *     CorruptRecordException) reaches the fetcher as CORRUPT_MESSAGE, and the Java consumer
 *     then raises "Encountered corrupt message when fetching offset N" to the application
 *     (Kafka's PlaintextAdminIntegrationTest corrupts an inactive segment and expects exactly
 *     that). KAFKA_STORAGE_ERROR is retriable: a consumer would retry it forever. It stays
 *     the answer for the disk saying no (I/O errors). Unlike Kafka's broker, which sends
 *     log bytes unchecked with sendfile, Klamm checks the CRC of data it did not check
 *     itself before serving it.
 *  8. Not detectable: bytes 12..15 (partition_leader_epoch) are outside the CRC by Kafka's
 *     design (so a broker may rewrite them) and Klamm keeps the producer's value, so a
 *     flipped bit there goes unnoticed, as it would in Kafka.
 *  9. The .timeindex is derived data too, and follows the .index: the active segment's is
 *     rebuilt from the same scan (rule 4); a sealed segment's is trusted after
 *     time_index_load's check (size a multiple of 12, timestamps and offsets strictly
 *     increasing, offsets inside the segment, non-empty when the log is) and otherwise
 *     rebuilt, with the .index, by the same header walk (rules 5-6). Trusting it means
 *     trusting that its last entry is the segment's largest timestamp (segment_seal wrote
 *     it before the roll's fsync), as Kafka does: a hand-shortened but sane file makes
 *     ListOffsets skip the segment for later targets. A segment written before Klamm had
 *     time indexes, or whose batches all lack timestamps (-1), has an empty .timeindex and
 *     is rebuilt by a header walk at every start.
 *
 * Costs, so a reader can reason about them:
 *   append       header parse per batch (no CRC: the application validated), 1 write(2) of
 *                the batches and nothing else: new .index and .timeindex entries are only
 *                recorded in memory (index_on_disk and the time index's `written` count
 *                what the files hold). Kafka keeps the active segment's indexes in
 *                memory-mapped files flushed at a roll or a flush; here rule 4 rebuilds
 *                them at every open anyway, so writing them per append bought nothing
 *                (those writes were 2 of every 3 write(2) calls with 64 partitions,
 *                docs/performance.md round 4). With log.preallocate 1 fallocate per
 *                reserve_step bytes (64 MiB), which makes each write(2) ~15-30 % cheaper
 *                (round 3)
 *   seal, flush, close   1 write(2) per index file of the entries not in it yet, so each
 *                entry is written once (+ the fsyncs of a flush)
 *   find         binary search in the in-memory index + one 61-byte pread per batch walked
 *                (at most ~log.index.interval.bytes of batches)
 *   read         find + a header walk for the end, then no copy: the range is spliced into
 *                the sink by reference (the server sendfile(2)s it from the page cache);
 *                for a sealed segment found on disk, or a sink without splice, 1 pread
 *                straight into the sink (the Fetch response) + CRC-32C over every byte
 *                served (rule 7). With the SSE 4.2 instruction (domain/crc32c.c) that
 *                runs at ~25 GB/s, ~0.04 ms per MiB; the portable tables at ~2.4 GB/s.
 *                A batch that fails the check is given back to the sink (unreserve).
 *   by time      0 I/O when the target is past the segment's max timestamp; else binary
 *                search in the time index + one pread per header walked from its entry
 *                (about log.index.interval.bytes of batches, not the whole segment)
 *   open active  whole file read and CRC-checked (2 preads per batch)
 *   open sealed  1 pread of each index file + 1 pread of the header the .index's last
 *                entry names
 * Disk failures become KL_ERR_KAFKA_STORAGE_ERROR with one log line naming the file.
 */
#include "infrastructure/storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infrastructure/storage/fs.h"

#define SEG_MOD "segment"

/* Smallest legal batch_length: a header without records (61 - 12). */
#define SEG_MIN_BATCH_LENGTH (KL_BATCH_HEADER_SIZE - KL_BATCH_LOG_OVERHEAD)

static kl_err_t segment_io_error(const kl_segment_t *seg, const char *what, const char *path)
{
    return fs_io_error(seg->log, SEG_MOD, what, path);
}

bool segment_path(char *buf, size_t cap, const char *dir, int64_t base_offset, const char *ext)
{
    return fs_path_format(buf, cap, "%s/%020" PRId64 "%s", dir, base_offset, ext);
}

bool segment_parse_name(const char *name, int64_t *base_out)
{
    if (strlen(name) != KL_SEGMENT_NAME_DIGITS + 4 || strcmp(name + KL_SEGMENT_NAME_DIGITS, ".log") != 0)
        return false;
    int64_t v = 0;
    for (int i = 0; i < KL_SEGMENT_NAME_DIGITS; i++) {
        int d = name[i] - '0';
        if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *base_out = v;
    return true;
}

/* ---- small I/O helpers: retry EINTR and short transfers ------------------------------ */

static kl_err_t segment_pread_full(const kl_segment_t *seg, int fd, const char *path,
                                   void *buf, size_t n, int64_t pos)
{
    return fs_pread_full(seg->log, SEG_MOD, fd, path, buf, n, pos);
}

/* ---- the in-memory index: the .index file's bytes -------------------------------------- */

int32_t segment_index_offset(const kl_segment_t *seg, size_t i)
{
    return kl_be32_read(seg->index + i * KL_SEGMENT_INDEX_ENTRY_SIZE);
}

int32_t segment_index_position(const kl_segment_t *seg, size_t i)
{
    return kl_be32_read(seg->index + i * KL_SEGMENT_INDEX_ENTRY_SIZE + 4);
}

static kl_err_t segment_index_reserve(kl_segment_t *seg, size_t count)
{
    if (count <= seg->index_cap)
        return KL_OK;
    size_t cap = seg->index_cap ? seg->index_cap * 2 : 64;
    while (cap < count)
        cap *= 2;
    uint8_t *p = realloc(seg->index, cap * KL_SEGMENT_INDEX_ENTRY_SIZE);
    if (p == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    seg->index = p;
    seg->index_cap = cap;
    return KL_OK;
}

/* Kafka's sparse-index rule (LogSegment.append): add an entry for a batch when more than
 * log.index.interval.bytes were appended since the last entry; we also index the first
 * batch, so every non-empty segment has an entry (the sealed sanity check relies on it).
 * The time index is offered an entry at the same moments: the segment's largest timestamp
 * so far and the first batch that reached it (kept only when it grew, time_index_note).
 * The maximum is updated first, so the batch being indexed counts, as in Kafka. */
static kl_err_t segment_index_note(kl_segment_t *seg, const kl_batch_header_t *h, int64_t position)
{
    if (position == 0)                      /* segment.ms measures from this batch */
        seg->first_batch_timestamp = h->max_timestamp;
    if (h->max_timestamp > seg->max_timestamp) {
        seg->max_timestamp = h->max_timestamp;
        seg->max_timestamp_offset = batch_last_offset(h);
    }
    if (seg->index_count == 0 || seg->bytes_since_index > seg->index_interval_bytes) {
        kl_err_t err = segment_index_reserve(seg, seg->index_count + 1);
        if (err == KL_OK)
            err = time_index_note(seg->time_index, seg->max_timestamp, seg->max_timestamp_offset);
        if (err != KL_OK)
            return err;
        uint8_t *e = seg->index + seg->index_count * KL_SEGMENT_INDEX_ENTRY_SIZE;
        kl_be32_write(e, (int32_t)(batch_last_offset(h) - seg->base_offset));
        kl_be32_write(e + 4, (int32_t)position);
        seg->index_count++;
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += (int64_t)batch_total_size(h);
    return KL_OK;
}

/* Append the .index entries not in the file yet, [index_on_disk, index_count): one
 * write(2). A failed write is cut back to the entries written before it (logged), so the
 * file keeps ending on an entry boundary and a later call appends in the right place. */
static kl_err_t segment_index_write_pending(kl_segment_t *seg)
{
    size_t from = seg->index_on_disk;
    if (from >= seg->index_count)
        return KL_OK;
    kl_err_t err = fs_write_full(seg->log, SEG_MOD, seg->index_fd, seg->index_path,
                                 seg->index + from * KL_SEGMENT_INDEX_ENTRY_SIZE,
                                 (seg->index_count - from) * KL_SEGMENT_INDEX_ENTRY_SIZE);
    if (err != KL_OK) {
        if (ftruncate(seg->index_fd, (off_t)(from * KL_SEGMENT_INDEX_ENTRY_SIZE)) != 0)
            segment_io_error(seg, "ftruncate", seg->index_path);
        return err;
    }
    seg->index_on_disk = seg->index_count;
    return KL_OK;
}

/* Both index files complete: the entries appends only recorded in memory, written once
 * each. Called by segment_seal, segment_flush and segment_close (see "Costs" above). */
static kl_err_t segment_write_pending(kl_segment_t *seg)
{
    kl_err_t err = segment_index_write_pending(seg);
    if (err != KL_OK)
        return err;
    return time_index_write_pending(seg->time_index);
}

/* Replace the .index and .timeindex files with the in-memory entries (after a rebuild). */
static kl_err_t segment_index_rewrite(kl_segment_t *seg)
{
    seg->index_on_disk = 0;
    if (ftruncate(seg->index_fd, 0) != 0)
        return segment_io_error(seg, "ftruncate", seg->index_path);
    kl_err_t err = segment_index_write_pending(seg);
    if (err != KL_OK)
        return err;
    return time_index_rewrite(seg->time_index);
}

/* Start both indexes over (before a rebuild walk; the rewrite after it fills the files). */
static kl_err_t segment_index_reset(kl_segment_t *seg)
{
    seg->index_count = 0;
    seg->bytes_since_index = 0;
    seg->max_timestamp = KL_TIME_INDEX_NO_TIMESTAMP;
    seg->max_timestamp_offset = seg->base_offset;
    seg->first_batch_timestamp = KL_TIME_INDEX_NO_TIMESTAMP;
    return time_index_truncate(seg->time_index, 0);
}

/* Kafka's OffsetIndex.lookup: the position of the last entry whose offset <= target, or 0. */
static int64_t segment_index_floor_offset(const kl_segment_t *seg, int64_t offset)
{
    int64_t rel = offset - seg->base_offset;
    size_t lo = 0, hi = seg->index_count;          /* first entry with offset > rel */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (segment_index_offset(seg, mid) <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : segment_index_position(seg, lo - 1);
}

/* The last indexed batch start at or below `limit` (a byte position), or 0. */
static int64_t segment_index_floor_position(const kl_segment_t *seg, int64_t limit)
{
    size_t lo = 0, hi = seg->index_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (segment_index_position(seg, mid) <= limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : segment_index_position(seg, lo - 1);
}

/* ---- batch headers on disk ------------------------------------------------------------ */

/* Rule 1's range half: the batch's offsets lie inside [base_offset, next_offset) of the
 * segment (for a sealed one next_offset is the next segment's base). Written so that no
 * sum can overflow, whatever a damaged header holds. */
static bool segment_offsets_inside(const kl_segment_t *seg, const kl_batch_header_t *h)
{
    return h->base_offset >= seg->base_offset && h->base_offset < seg->next_offset &&
           h->last_offset_delta >= 0 && h->last_offset_delta < seg->next_offset - h->base_offset;
}

/* batch_header_parse needs the whole batch in memory; a walk on disk reads only the 61-byte
 * header, so it is decoded with batch_header_decode (layout in record_batch.h) and checked
 * here. The checks: magic 2, batch_length large enough, batch inside the
 * segment, offsets inside the segment. *why = NULL when the header passes, else the
 * reason; the return value is only for I/O errors. Cost: one pread of 61 bytes. */
static kl_err_t segment_header_check(const kl_segment_t *seg, int64_t pos, kl_batch_header_t *h,
                                     const char **why)
{
    uint8_t b[KL_BATCH_HEADER_SIZE];
    *why = "shorter than a batch header";
    if (pos < 0 || seg->size - pos < KL_BATCH_HEADER_SIZE)
        return KL_OK;
    if (seg->stats != NULL)
        seg->stats->header_reads++;
    kl_err_t err = segment_pread_full(seg, seg->log_fd, seg->log_path, b, sizeof b, pos);
    if (err != KL_OK)
        return err;
    batch_header_decode(b, h);
    if (h->magic != KL_BATCH_MAGIC_V2)
        *why = "magic is not 2";
    else if (h->batch_length < SEG_MIN_BATCH_LENGTH || (int64_t)batch_total_size(h) > seg->size - pos)
        *why = "batch length outside the segment";
    else if (!segment_offsets_inside(seg, h))
        *why = "offsets outside the segment";
    else
        *why = NULL;
    return KL_OK;
}

/* segment_header_check for a walk: a bad header is KL_ERR_CORRUPT_MESSAGE (rule 7) with
 * one log line naming the file, the position and the reason. */
static kl_err_t segment_header_read(const kl_segment_t *seg, int64_t pos, kl_batch_header_t *h)
{
    const char *why = NULL;
    kl_err_t err = segment_header_check(seg, pos, h, &why);
    if (err != KL_OK || why == NULL)
        return err;
    KL_LOG_ERR(seg->log, SEG_MOD, "%s: corrupt batch at position %" PRId64 " (%s)",
               seg->log_path, pos, why);
    return KL_ERR_CORRUPT_MESSAGE;
}

/* ---- create / open / close ------------------------------------------------------------ */

static void segment_free(kl_segment_t *seg);

static kl_err_t segment_alloc(kl_segment_t **out, const char *dir, int64_t base_offset,
                              int32_t index_interval_bytes, const kl_log_t *log)
{
    kl_segment_t *seg = calloc(1, sizeof *seg);
    if (seg == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    seg->log_fd = -1;
    seg->index_fd = -1;
    seg->base_offset = base_offset;
    seg->next_offset = base_offset;
    seg->max_timestamp = KL_TIME_INDEX_NO_TIMESTAMP;
    seg->max_timestamp_offset = base_offset;
    seg->first_batch_timestamp = KL_TIME_INDEX_NO_TIMESTAMP;
    seg->index_interval_bytes = index_interval_bytes;
    seg->log = log;
    size_t cap = strlen(dir) + 1 + KL_SEGMENT_NAME_DIGITS + sizeof ".index";
    seg->log_path = malloc(cap);
    seg->index_path = malloc(cap);
    if (seg->log_path == NULL || seg->index_path == NULL)
        goto err;
    segment_path(seg->log_path, cap, dir, base_offset, ".log");
    segment_path(seg->index_path, cap, dir, base_offset, ".index");
    *out = seg;
    return KL_OK;
err:
    segment_free(seg);
    return KL_ERR_UNKNOWN_SERVER_ERROR;
}

/* "<dir>/<base>.timeindex" from the .log's path: same stem, another extension. */
static kl_err_t segment_open_time_index(kl_segment_t *seg, bool truncate)
{
    size_t stem = strlen(seg->log_path) - strlen(".log");
    char *path = malloc(stem + sizeof ".timeindex");
    if (path == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    memcpy(path, seg->log_path, stem);
    memcpy(path + stem, ".timeindex", sizeof ".timeindex");
    kl_err_t err = time_index_open(&seg->time_index, path, seg->base_offset, truncate, seg->log);
    free(path);
    return err;
}

static kl_err_t segment_open_files(kl_segment_t *seg, int log_flags, int index_flags)
{
    seg->log_fd = open(seg->log_path, O_RDWR | O_APPEND | O_CLOEXEC | log_flags, 0644);
    if (seg->log_fd < 0)
        return segment_io_error(seg, "open", seg->log_path);
    seg->index_fd = open(seg->index_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | index_flags, 0644);
    if (seg->index_fd < 0)
        return segment_io_error(seg, "open", seg->index_path);
    return segment_open_time_index(seg, (index_flags & O_TRUNC) != 0);
}

static kl_err_t segment_file_size(const kl_segment_t *seg, int fd, const char *path, int64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return segment_io_error(seg, "fstat", path);
    *size = (int64_t)st.st_size;
    return KL_OK;
}

kl_err_t segment_create(kl_segment_t **out, const char *dir, int64_t base_offset,
                        int32_t index_interval_bytes, const kl_log_t *log)
{
    kl_segment_t *seg = NULL;
    kl_err_t err = segment_alloc(&seg, dir, base_offset, index_interval_bytes, log);
    if (err != KL_OK)
        return err;
    /* O_EXCL on the .log: creating over an existing segment would destroy data. A stale
     * .index or .timeindex is derived data and is simply truncated. */
    err = segment_open_files(seg, O_CREAT | O_EXCL, O_TRUNC);
    if (err != KL_OK)
        goto err;
    err = fs_fsync_dir(seg->log, SEG_MOD, dir);
    if (err != KL_OK)
        goto err;
    *out = seg;
    return KL_OK;
err:
    segment_free(seg);
    return err;
}

/* Close the files and free, writing nothing: for a segment whose create or open failed
 * (its in-memory entries may be a half-done rebuild, not for the files). */
static void segment_free(kl_segment_t *seg)
{
    if (seg == NULL)
        return;
    if (seg->log_fd >= 0)
        close(seg->log_fd);
    if (seg->index_fd >= 0)
        close(seg->index_fd);
    time_index_close(seg->time_index);
    free(seg->log_path);
    free(seg->index_path);
    free(seg->index);
    free(seg);
}

/* A clean close writes what appends left in memory, so the next open of a sealed segment
 * finds complete files (rule 5) and an active one a current prefix (rule 4 rebuilds it
 * anyway). A failure is logged (fs_write_full) and the close goes on: there is no caller
 * to tell, and the files are derived data. */
void segment_close(kl_segment_t *seg)
{
    if (seg == NULL)
        return;
    (void)segment_write_pending(seg);
    segment_free(seg);
}

/* ---- recovery of the active segment ---------------------------------------------------- */

/* Read and fully validate the batch at `pos` (framing + CRC-32C via batch_validate) into
 * *buf. KL_ERR_CORRUPT_MESSAGE means "torn or corrupt: cut here"; a storage error or
 * UNKNOWN_SERVER_ERROR (out of memory) fails the open instead. */
static kl_err_t segment_recover_batch(kl_segment_t *seg, int64_t pos, int64_t file_size,
                                      uint8_t **buf, size_t *cap, kl_batch_header_t *h)
{
    uint8_t pre[KL_BATCH_LOG_OVERHEAD];
    int64_t avail = file_size - pos;
    if (avail < KL_BATCH_HEADER_SIZE)
        return KL_ERR_CORRUPT_MESSAGE;
    kl_err_t err = segment_pread_full(seg, seg->log_fd, seg->log_path, pre, sizeof pre, pos);
    if (err != KL_OK)
        return err;
    int32_t batch_length = kl_be32_read(pre + 8);
    int64_t total = KL_BATCH_LOG_OVERHEAD + (int64_t)batch_length;
    if (batch_length < SEG_MIN_BATCH_LENGTH || total > avail || pos + total > INT32_MAX)
        return KL_ERR_CORRUPT_MESSAGE;
    if ((size_t)total > *cap) {
        uint8_t *p = realloc(*buf, (size_t)total);
        if (p == NULL)
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        *buf = p;
        *cap = (size_t)total;
    }
    err = segment_pread_full(seg, seg->log_fd, seg->log_path, *buf, (size_t)total, pos);
    if (err != KL_OK)
        return err;
    if (batch_validate(*buf, (size_t)total, h) != KL_OK)
        return KL_ERR_CORRUPT_MESSAGE;
    /* Rule 1: the batch continues exactly where the previous one ended (the first one at
     * the segment's base), and its last offset fits the index's int32 relative offset. */
    if (h->base_offset != seg->next_offset || h->last_offset_delta < 0 ||
        h->last_offset_delta > INT32_MAX - (h->base_offset - seg->base_offset))
        return KL_ERR_CORRUPT_MESSAGE;
    return KL_OK;
}

/* Scan the whole file; cut the tail after the last valid batch; rebuild the index. */
static kl_err_t segment_recover(kl_segment_t *seg)
{
    int64_t file_size = 0;
    kl_err_t err = segment_file_size(seg, seg->log_fd, seg->log_path, &file_size);
    if (err != KL_OK)
        return err;
    uint8_t *buf = NULL;
    size_t cap = 0;
    int64_t pos = 0;
    while (pos < file_size) {
        kl_batch_header_t h;
        err = segment_recover_batch(seg, pos, file_size, &buf, &cap, &h);
        if (err == KL_ERR_CORRUPT_MESSAGE)
            break;
        if (err == KL_OK)
            err = segment_index_note(seg, &h, pos);
        if (err != KL_OK)
            goto out;
        seg->next_offset = batch_last_offset(&h) + 1;
        pos += (int64_t)batch_total_size(&h);
    }
    err = KL_OK;
    if (pos < file_size) {
        KL_LOG_WARNING(seg->log, SEG_MOD,
                       "recovery: %s has a torn or corrupt batch at position %" PRId64
                       "; truncating %" PRId64 " bytes, next offset %" PRId64,
                       seg->log_path, pos, file_size - pos, seg->next_offset);
        if (ftruncate(seg->log_fd, (off_t)pos) != 0) {
            err = segment_io_error(seg, "ftruncate", seg->log_path);
            goto out;
        }
    }
    seg->size = pos;
    err = segment_index_rewrite(seg);
out:
    free(buf);
    return err;
}

kl_err_t segment_open_active(kl_segment_t **out, const char *dir, int64_t base_offset,
                             int32_t index_interval_bytes, const kl_log_t *log)
{
    kl_segment_t *seg = NULL;
    kl_err_t err = segment_alloc(&seg, dir, base_offset, index_interval_bytes, log);
    if (err != KL_OK)
        return err;
    err = segment_open_files(seg, 0, 0);
    if (err != KL_OK)
        goto err;
    err = segment_recover(seg);
    if (err != KL_OK)
        goto err;
    *out = seg;
    return KL_OK;
err:
    segment_free(seg);
    return err;
}

/* ---- sealed segments: trust the index after a sanity check ----------------------------- */

/* NULL when the loaded index is plausible, else the reason it is not. */
static const char *segment_index_insane(const kl_segment_t *seg)
{
    if (seg->index_count == 0)
        return seg->size > 0 ? "empty index for a non-empty log" : NULL;
    if (segment_index_position(seg, 0) != 0)
        return "first entry not at position 0";
    int64_t max_rel = seg->next_offset - 1 - seg->base_offset;
    for (size_t i = 0; i < seg->index_count; i++) {
        int32_t off = segment_index_offset(seg, i);
        int32_t pos = segment_index_position(seg, i);
        if (off < 0 || off > max_rel || pos < 0 || pos >= seg->size)
            return "entry outside the segment";
        if (i > 0 && (off <= segment_index_offset(seg, i - 1) || pos <= segment_index_position(seg, i - 1)))
            return "entries not increasing";
    }
    return NULL;
}

/* Rule 5's one look at the disk: the last entry must name a real batch header whose last
 * offset is the entry's. Sets *why when it does not; returns only I/O errors. */
static kl_err_t segment_index_check_last(const kl_segment_t *seg, const char **why)
{
    if (seg->index_count == 0)
        return KL_OK;
    size_t i = seg->index_count - 1;
    kl_batch_header_t h;
    const char *bad = NULL;
    kl_err_t err = segment_header_check(seg, segment_index_position(seg, i), &h, &bad);
    if (err != KL_OK)
        return err;
    if (bad != NULL)
        *why = "last entry does not point at a batch";
    else if (batch_last_offset(&h) - seg->base_offset != segment_index_offset(seg, i))
        *why = "last entry names another offset than its batch";
    return KL_OK;
}

/* Load the .index; KL_ERR_CORRUPT_MESSAGE (after a log line) when it must be rebuilt. */
static kl_err_t segment_index_load(kl_segment_t *seg)
{
    int64_t isize = 0;
    const char *why = "size not a multiple of 8";
    kl_err_t err = segment_file_size(seg, seg->index_fd, seg->index_path, &isize);
    if (err != KL_OK)
        return err;
    if (isize % KL_SEGMENT_INDEX_ENTRY_SIZE != 0)
        goto insane;
    size_t count = (size_t)(isize / KL_SEGMENT_INDEX_ENTRY_SIZE);
    err = segment_index_reserve(seg, count);
    if (err != KL_OK)
        return err;
    err = segment_pread_full(seg, seg->index_fd, seg->index_path, seg->index, (size_t)isize, 0);
    if (err != KL_OK)
        return err;
    seg->index_count = count;
    why = segment_index_insane(seg);
    if (why == NULL && (err = segment_index_check_last(seg, &why)) != KL_OK)
        return err;
    if (why == NULL) {
        seg->index_on_disk = count;
        return KL_OK;
    }
insane:
    KL_LOG_WARNING(seg->log, SEG_MOD, "%s: %s; rebuilding it from %s",
                   seg->index_path, why, seg->log_path);
    seg->index_count = 0;
    return KL_ERR_CORRUPT_MESSAGE;
}

/* Walk every batch header (no CRC: a sealed segment was fsynced when it was rolled).
 * A bad header ends the walk (rule 6): the batches before it are indexed, the file is
 * left as it is, and reads that reach the bad batch report it (rule 7). */
static kl_err_t segment_index_rebuild(kl_segment_t *seg)
{
    kl_err_t err = segment_index_reset(seg);
    if (err != KL_OK)
        return err;
    for (int64_t pos = 0; pos < seg->size;) {
        kl_batch_header_t h;
        err = segment_header_read(seg, pos, &h);
        if (err == KL_ERR_CORRUPT_MESSAGE)
            break;
        if (err == KL_OK)
            err = segment_index_note(seg, &h, pos);
        if (err != KL_OK)
            return err;
        pos += (int64_t)batch_total_size(&h);
    }
    /* sealed: the last time entry must be the largest timestamp (as segment_seal does) */
    err = time_index_note(seg->time_index, seg->max_timestamp, seg->max_timestamp_offset);
    if (err != KL_OK)
        return err;
    return segment_index_rewrite(seg);
}

/* Load the sealed segment's .timeindex; its last entry is the segment's largest timestamp
 * (rule 9). KL_ERR_CORRUPT_MESSAGE (logged) when both indexes must be rebuilt. */
static kl_err_t segment_time_index_load(kl_segment_t *seg)
{
    kl_time_index_t *ti = seg->time_index;
    kl_err_t err = time_index_load(ti, seg->next_offset);
    if (err != KL_OK)
        return err;
    if (ti->count == 0 && seg->size > 0) {
        KL_LOG_WARNING(seg->log, SEG_MOD, "%s: empty for a non-empty log; rebuilding it from %s",
                       ti->path, seg->log_path);
        return KL_ERR_CORRUPT_MESSAGE;
    }
    if (ti->count > 0) {
        kl_time_entry_t last = time_index_entry(ti, ti->count - 1);
        seg->max_timestamp = last.timestamp;
        seg->max_timestamp_offset = last.offset;
    }
    return KL_OK;
}

kl_err_t segment_open_sealed(kl_segment_t **out, const char *dir, int64_t base_offset,
                             int64_t next_offset, int32_t index_interval_bytes,
                             const kl_log_t *log)
{
    kl_segment_t *seg = NULL;
    kl_err_t err = segment_alloc(&seg, dir, base_offset, index_interval_bytes, log);
    if (err != KL_OK)
        return err;
    seg->next_offset = next_offset;
    seg->verify_reads = true;           /* rule 7: not scanned, so checked when read */
    err = segment_open_files(seg, 0, 0);
    if (err == KL_OK)
        err = segment_file_size(seg, seg->log_fd, seg->log_path, &seg->size);
    if (err == KL_OK)
        err = segment_index_load(seg);
    if (err == KL_OK)
        err = segment_time_index_load(seg);
    if (err == KL_ERR_CORRUPT_MESSAGE)
        err = segment_index_rebuild(seg);
    if (err != KL_OK)
        goto err;
    *out = seg;
    return KL_OK;
err:
    segment_free(seg);
    return err;
}

/* ---- append ---------------------------------------------------------------------------- */

bool segment_can_hold(const kl_segment_t *seg, size_t len, int64_t last_offset)
{
    return seg->size + (int64_t)len <= INT32_MAX && last_offset - seg->base_offset <= INT32_MAX;
}

/* Parse the headers of the batches to append; stage their index entries in memory (the
 * caller rolls them back on error). *next_out = the offset after the last batch. */
static kl_err_t segment_stage(kl_segment_t *seg, const uint8_t *batches, size_t len, int64_t *next_out)
{
    int64_t next = seg->next_offset;
    for (size_t pos = 0; pos < len;) {
        kl_batch_header_t h;
        kl_err_t err = batch_header_parse(batches + pos, len - pos, &h);
        if (err != KL_OK)
            return err;
        if (h.base_offset != next || h.last_offset_delta < 0) {
            KL_LOG_ERR(seg->log, SEG_MOD, "append to %s: batch base offset %" PRId64
                       ", expected %" PRId64, seg->log_path, h.base_offset, next);
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        }
        size_t total = batch_total_size(&h);
        if (!segment_can_hold(seg, pos + total, batch_last_offset(&h))) {
            KL_LOG_ERR(seg->log, SEG_MOD, "append to %s: past the segment's int32 limits", seg->log_path);
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        }
        err = segment_index_note(seg, &h, seg->size + (int64_t)pos);
        if (err != KL_OK)
            return err;
        next = batch_last_offset(&h) + 1;
        pos += total;
    }
    *next_out = next;
    return KL_OK;
}

/* ---- log.preallocate: blocks reserved ahead of the end ------------------------------- */

void segment_set_preallocate(kl_segment_t *seg, int64_t step)
{
    seg->reserve_step = step > 0 ? step : 0;
    if (seg->reserved_end < seg->size)
        seg->reserved_end = seg->size;
}

/* Before `len` bytes are appended: when they would pass the reserved end, reserve up to
 * the next multiple of reserve_step past them. KEEP_SIZE leaves st_size alone, so a crash
 * leaves a file whose size is what was written (recovery rule 2 unchanged) plus unused
 * blocks past it, which the next roll's segment_release_reserve (or retention's unlink)
 * gives back. A refusal only switches the reservation off for this segment. */
static void segment_reserve_ahead(kl_segment_t *seg, size_t len)
{
    int64_t need = seg->size + (int64_t)len;
    if (seg->reserve_step == 0 || need <= seg->reserved_end)
        return;
    int64_t end = (need / seg->reserve_step + 1) * seg->reserve_step;
    if (fallocate(seg->log_fd, FALLOC_FL_KEEP_SIZE, (off_t)seg->reserved_end,
                  (off_t)(end - seg->reserved_end)) == 0) {
        seg->reserved_end = end;
        return;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS)
        KL_LOG_DBG(seg->log, SEG_MOD, "%s: fallocate not supported here; log.preallocate off "
                   "for this segment", seg->log_path);
    else
        KL_LOG_WARNING(seg->log, SEG_MOD, "fallocate %s: %s; log.preallocate off for this "
                       "segment", seg->log_path, strerror(errno));
    seg->reserve_step = 0;
}

kl_err_t segment_release_reserve(kl_segment_t *seg)
{
    if (ftruncate(seg->log_fd, (off_t)seg->size) != 0)
        return segment_io_error(seg, "ftruncate", seg->log_path);
    seg->reserved_end = seg->size;
    return KL_OK;
}

kl_err_t segment_append(kl_segment_t *seg, const uint8_t *batches, size_t len)
{
    if (len == 0)
        return KL_OK;
    size_t old_count = seg->index_count;
    size_t old_time_count = seg->time_index->count;
    int64_t old_since = seg->bytes_since_index;
    int64_t old_max = seg->max_timestamp, old_max_offset = seg->max_timestamp_offset;
    int64_t old_first = seg->first_batch_timestamp;
    int64_t next = seg->next_offset;
    kl_err_t err = segment_stage(seg, batches, len, &next);
    if (err != KL_OK)
        goto err;
    segment_reserve_ahead(seg, len);
    /* The only write(2): the new index entries stay in memory (segment_write_pending). */
    err = fs_write_full(seg->log, SEG_MOD, seg->log_fd, seg->log_path, batches, len);
    if (err != KL_OK)
        goto err_truncate;
    seg->size += (int64_t)len;
    seg->next_offset = next;
    return KL_OK;
err_truncate:
    /* Take back a partial append so the .log ends on a batch boundary again. The index
     * files need nothing: the entries being rolled back were never written. */
    if (ftruncate(seg->log_fd, (off_t)seg->size) != 0)
        segment_io_error(seg, "ftruncate", seg->log_path);
    seg->reserved_end = seg->size;      /* the ftruncate freed what was reserved past it */
err:
    seg->index_count = old_count;       /* >= index_on_disk: appends write no entry */
    seg->bytes_since_index = old_since;
    seg->max_timestamp = old_max;
    seg->max_timestamp_offset = old_max_offset;
    seg->first_batch_timestamp = old_first;
    (void)time_index_truncate(seg->time_index, old_time_count);   /* memory only: no I/O */
    return err;
}

kl_err_t segment_seal(kl_segment_t *seg)
{
    size_t old = seg->time_index->count;
    kl_err_t err = time_index_note(seg->time_index, seg->max_timestamp, seg->max_timestamp_offset);
    if (err == KL_OK)
        err = segment_write_pending(seg);
    if (err != KL_OK)   /* the segment stays active; a later seal adds the entry again */
        (void)time_index_truncate(seg->time_index, old);   /* memory only: it was not written */
    return err;
}

/* ---- lookups --------------------------------------------------------------------------- */

kl_err_t segment_find(const kl_segment_t *seg, int64_t offset, int64_t *pos_out)
{
    if (offset >= seg->next_offset) {
        *pos_out = seg->size;
        return KL_OK;
    }
    int64_t pos = offset < seg->base_offset ? 0 : segment_index_floor_offset(seg, offset);
    while (pos < seg->size) {
        kl_batch_header_t h;
        kl_err_t err = segment_header_read(seg, pos, &h);
        if (err != KL_OK)
            return err;
        if (batch_last_offset(&h) >= offset)
            break;
        pos += (int64_t)batch_total_size(&h);
    }
    *pos_out = pos;
    return KL_OK;
}

/* End of the last whole batch within [start, start + max_bytes], but at least the end of
 * the first batch (KIP-74: a batch larger than the limit is still returned whole, so a
 * consumer can always make progress). The walk starts at the last index entry at or below
 * the limit, so it reads ~log.index.interval.bytes worth of headers at most. */
static kl_err_t segment_read_end(const kl_segment_t *seg, int64_t start, int32_t max_bytes, int64_t *end_out)
{
    int64_t limit = start + (max_bytes > 0 ? max_bytes : 0);
    if (limit >= seg->size) {
        *end_out = seg->size;
        return KL_OK;
    }
    int64_t pos = segment_index_floor_position(seg, limit);
    if (pos < start)
        pos = start;
    kl_batch_header_t h;
    for (;;) {
        kl_err_t err = segment_header_read(seg, pos, &h);
        if (err == KL_ERR_CORRUPT_MESSAGE && pos > start)
            break;                  /* rule 7: serve what precedes it */
        if (err != KL_OK)
            return err;
        int64_t next = pos + (int64_t)batch_total_size(&h);
        if (next > limit)
            break;
        pos = next;
    }
    if (pos == start)
        pos += (int64_t)batch_total_size(&h);
    *end_out = pos;
    return KL_OK;
}

/* Rule 7: the length of the longest prefix of buf[0..n), read from position `start`, made
 * of whole valid batches (framing, CRC-32C, record count) whose offsets lie inside the
 * segment and continue one another (rule 1). The first bad batch gets one log line.
 * Cost: CRC-32C over the n bytes. */
static size_t segment_verify(const kl_segment_t *seg, const uint8_t *buf, size_t n, int64_t start)
{
    int64_t expect = start == 0 ? seg->base_offset : -1;   /* -1: any base inside the segment */
    size_t at = 0;
    while (at < n) {
        kl_batch_header_t h;
        if (batch_validate(buf + at, n - at, &h) != KL_OK || !segment_offsets_inside(seg, &h) ||
            (expect >= 0 && h.base_offset != expect)) {
            KL_LOG_ERR(seg->log, SEG_MOD, "%s: corrupt batch at position %" PRId64
                       " (framing, CRC-32C or offsets); not served", seg->log_path, start + (int64_t)at);
            break;
        }
        expect = batch_last_offset(&h) + 1;
        at += batch_total_size(&h);
    }
    return at;
}

kl_err_t segment_read(const kl_segment_t *seg, int64_t offset, int32_t max_bytes,
                      kl_buf_sink_t *sink, size_t *len_out)
{
    *len_out = 0;
    int64_t start = 0, end = 0;
    kl_err_t err = segment_find(seg, offset, &start);
    if (err != KL_OK || start >= seg->size)
        return err;
    err = segment_read_end(seg, start, max_bytes, &end);
    if (err != KL_OK)
        return err;
    size_t n = (size_t)(end - start);
    /* Zero copies: bytes this process wrote or scanned (rule 7) go by reference, and the
     * server sends them from the page cache with sendfile(2). */
    if (!seg->verify_reads && sink->splice != NULL &&
        sink->splice(sink->arg, seg->log_fd, start, n)) {
        *len_out = n;
        return KL_OK;
    }
    /* One copy: the pread lands in the response itself; what fails the check (rule 7)
     * is given back to the sink, so nothing unchecked is ever left in it. */
    uint8_t *dst = sink->reserve(sink->arg, n);
    if (dst == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    err = segment_pread_full(seg, seg->log_fd, seg->log_path, dst, n, start);
    size_t ok = err != KL_OK ? 0 : seg->verify_reads ? segment_verify(seg, dst, n, start) : n;
    sink->unreserve(sink->arg, n - ok);
    if (err == KL_OK && ok == 0)
        err = KL_ERR_CORRUPT_MESSAGE;
    *len_out = ok;
    return err;
}

/* Kafka's LogSegment.findOffsetByTimestamp. Every batch before a time index entry's batch
 * has max_timestamp < the entry's timestamp <= target (time_index.h), so the walk may start
 * at that batch: the .index gives the position of the last indexed batch at or before it. */
kl_err_t segment_offset_for_timestamp(const kl_segment_t *seg, int64_t timestamp,
                                      bool *found, int64_t *offset_out, int64_t *timestamp_out)
{
    *found = false;
    if (timestamp > seg->max_timestamp)
        return KL_OK;                   /* no batch reaches it: no I/O at all */
    kl_time_entry_t e;
    int64_t start = 0;
    if (time_index_lookup(seg->time_index, timestamp, &e))
        start = segment_index_floor_offset(seg, e.offset);
    for (int64_t pos = start; pos < seg->size;) {
        kl_batch_header_t h;
        kl_err_t err = segment_header_read(seg, pos, &h);
        if (err != KL_OK)
            return err;
        if (h.max_timestamp >= timestamp) {
            *found = true;
            *offset_out = h.base_offset;
            *timestamp_out = h.max_timestamp;
            return KL_OK;
        }
        pos += (int64_t)batch_total_size(&h);
    }
    return KL_OK;
}

kl_err_t segment_flush(kl_segment_t *seg)
{
    kl_err_t err = segment_index_write_pending(seg);
    if (err != KL_OK)
        return err;
    if (fsync(seg->log_fd) != 0)
        return segment_io_error(seg, "fsync", seg->log_path);
    if (fsync(seg->index_fd) != 0)
        return segment_io_error(seg, "fsync", seg->index_path);
    return time_index_flush(seg->time_index);
}
