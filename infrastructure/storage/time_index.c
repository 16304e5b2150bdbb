/*
 * infrastructure/storage/time_index.c — a segment's `.timeindex`: 12-byte (timestamp,
 * relative offset) entries in memory and in the file (format and rules in time_index.h).
 * Layer: infrastructure. May touch: domain/record_batch.h (big-endian helpers), storage/fs.h,
 * logging, POSIX files.
 *
 * Costs: note = a memcpy of 12 bytes (amortised realloc), no I/O; write_pending = 1
 * write(2) of every entry noted since the last one (the segment calls it at seal, flush
 * and close); load = 1 fstat + 1 pread of the whole file + a pass over the entries;
 * lookup = a binary search in memory. The memory is the file's size: 12 bytes per
 * log.index.interval.bytes of log at most (~3 KiB per MiB of log at the default 4096).
 * Disk failures become KL_ERR_KAFKA_STORAGE_ERROR with one log line naming the file.
 */
#include "infrastructure/storage/time_index.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/record_batch.h"
#include "infrastructure/storage/fs.h"

#define TIX_MOD "time_index"

static kl_err_t time_index_io_error(const kl_time_index_t *idx, const char *what)
{
    return fs_io_error(idx->log, TIX_MOD, what, idx->path);
}

kl_err_t time_index_open(kl_time_index_t **out, const char *path, int64_t base_offset,
                         bool truncate, const kl_log_t *log)
{
    kl_time_index_t *idx = calloc(1, sizeof *idx);
    if (idx == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    idx->fd = -1;
    idx->base_offset = base_offset;
    idx->log = log;
    idx->path = strdup(path);
    kl_err_t err = KL_ERR_UNKNOWN_SERVER_ERROR;
    if (idx->path == NULL)
        goto err;
    idx->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
    if (idx->fd < 0) {
        err = time_index_io_error(idx, "open");
        goto err;
    }
    *out = idx;
    return KL_OK;
err:
    time_index_close(idx);
    return err;
}

void time_index_close(kl_time_index_t *idx)
{
    if (idx == NULL)
        return;
    if (idx->fd >= 0)
        close(idx->fd);
    free(idx->path);
    free(idx->bytes);
    free(idx);
}

/* ---- entries ---------------------------------------------------------------------------- */

kl_time_entry_t time_index_entry(const kl_time_index_t *idx, size_t i)
{
    const uint8_t *e = idx->bytes + i * KL_TIME_INDEX_ENTRY_SIZE;
    kl_time_entry_t out = { kl_be64_read(e), idx->base_offset + kl_be32_read(e + 8) };
    return out;
}

int64_t time_index_last_timestamp(const kl_time_index_t *idx)
{
    return idx->count == 0 ? KL_TIME_INDEX_NO_TIMESTAMP
                           : time_index_entry(idx, idx->count - 1).timestamp;
}

static kl_err_t time_index_reserve(kl_time_index_t *idx, size_t count)
{
    if (count <= idx->cap)
        return KL_OK;
    size_t cap = idx->cap ? idx->cap * 2 : 32;
    while (cap < count)
        cap *= 2;
    uint8_t *p = realloc(idx->bytes, cap * KL_TIME_INDEX_ENTRY_SIZE);
    if (p == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    idx->bytes = p;
    idx->cap = cap;
    return KL_OK;
}

/* The caller (segment.c) only offers offsets inside its segment, whose relative offsets
 * fit int32 (segment_can_hold), so the narrowing below cannot lose bits. */
kl_err_t time_index_note(kl_time_index_t *idx, int64_t timestamp, int64_t offset)
{
    if (timestamp <= time_index_last_timestamp(idx))
        return KL_OK;           /* not a new maximum: the earlier entry already covers it */
    kl_err_t err = time_index_reserve(idx, idx->count + 1);
    if (err != KL_OK)
        return err;
    uint8_t *e = idx->bytes + idx->count * KL_TIME_INDEX_ENTRY_SIZE;
    kl_be64_write(e, timestamp);
    kl_be32_write(e + 8, (int32_t)(offset - idx->base_offset));
    idx->count++;
    return KL_OK;
}

/* ---- the file ----------------------------------------------------------------------------- */

/* All n bytes at the end of the file (it is opened O_APPEND). */
static kl_err_t time_index_write_full(kl_time_index_t *idx, const uint8_t *buf, size_t n)
{
    return fs_write_full(idx->log, TIX_MOD, idx->fd, idx->path, buf, n);
}

/* The file back to its `written` entries (nothing after them). */
static kl_err_t time_index_cut_file(kl_time_index_t *idx)
{
    if (ftruncate(idx->fd, (off_t)(idx->written * KL_TIME_INDEX_ENTRY_SIZE)) != 0)
        return time_index_io_error(idx, "ftruncate");
    return KL_OK;
}

kl_err_t time_index_write_pending(kl_time_index_t *idx)
{
    if (idx->written >= idx->count)
        return KL_OK;
    kl_err_t err = time_index_write_full(idx, idx->bytes + idx->written * KL_TIME_INDEX_ENTRY_SIZE,
                                         (idx->count - idx->written) * KL_TIME_INDEX_ENTRY_SIZE);
    if (err != KL_OK) {
        (void)time_index_cut_file(idx);    /* a short write left part of an entry; logged */
        return err;
    }
    idx->written = idx->count;
    return KL_OK;
}

kl_err_t time_index_truncate(kl_time_index_t *idx, size_t count)
{
    if (count < idx->count)
        idx->count = count;
    if (idx->written <= idx->count)
        return KL_OK;                      /* only unwritten entries went: no I/O */
    idx->written = idx->count;
    return time_index_cut_file(idx);
}

kl_err_t time_index_rewrite(kl_time_index_t *idx)
{
    idx->written = 0;
    kl_err_t err = time_index_cut_file(idx);
    if (err != KL_OK)
        return err;
    return time_index_write_pending(idx);
}

kl_err_t time_index_flush(kl_time_index_t *idx)
{
    kl_err_t err = time_index_write_pending(idx);
    if (err != KL_OK)
        return err;
    if (fsync(idx->fd) != 0)
        return time_index_io_error(idx, "fsync");
    return KL_OK;
}

/* NULL when the loaded entries are plausible, else the reason they are not. Strictly
 * increasing is what time_index_note writes; the lookup's binary search needs the order,
 * and the walk after it needs each offset inside the segment. */
static const char *time_index_insane(const kl_time_index_t *idx, int64_t next_offset)
{
    for (size_t i = 0; i < idx->count; i++) {
        kl_time_entry_t e = time_index_entry(idx, i);
        if (e.offset < idx->base_offset || e.offset >= next_offset)
            return "entry outside the segment";
        if (e.timestamp <= KL_TIME_INDEX_NO_TIMESTAMP)
            return "entry without a timestamp";
        if (i == 0)
            continue;
        kl_time_entry_t p = time_index_entry(idx, i - 1);
        if (e.timestamp <= p.timestamp || e.offset <= p.offset)
            return "entries not increasing";
    }
    return NULL;
}

static kl_err_t time_index_pread_full(kl_time_index_t *idx, size_t n)
{
    return fs_pread_full(idx->log, TIX_MOD, idx->fd, idx->path, idx->bytes, n, 0);
}

kl_err_t time_index_load(kl_time_index_t *idx, int64_t next_offset)
{
    struct stat st;
    const char *why = "size not a multiple of 12";
    idx->count = 0;
    idx->written = 0;           /* until the check passes; a rebuild rewrites the file */
    if (fstat(idx->fd, &st) != 0)
        return time_index_io_error(idx, "fstat");
    if (st.st_size % KL_TIME_INDEX_ENTRY_SIZE != 0)
        goto insane;
    size_t count = (size_t)st.st_size / KL_TIME_INDEX_ENTRY_SIZE;
    kl_err_t err = time_index_reserve(idx, count);
    if (err == KL_OK)
        err = time_index_pread_full(idx, (size_t)st.st_size);
    if (err != KL_OK)
        return err;
    idx->count = count;
    why = time_index_insane(idx, next_offset);
    if (why == NULL) {
        idx->written = count;
        return KL_OK;
    }
insane:
    KL_LOG_WARNING(idx->log, TIX_MOD, "%s: %s; rebuilding it from the log", idx->path, why);
    idx->count = 0;
    return KL_ERR_CORRUPT_MESSAGE;
}

/* ---- lookup ------------------------------------------------------------------------------- */

bool time_index_lookup(const kl_time_index_t *idx, int64_t timestamp, kl_time_entry_t *out)
{
    /* LAB 04 BEGIN: binary search for the entry with the largest timestamp <= target */
    size_t lo = 0, hi = idx->count;        /* invariant: the answer is lo - 1 */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (time_index_entry(idx, mid).timestamp <= timestamp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    *out = time_index_entry(idx, lo - 1);
    return true;
    /* LAB 04 END */
}
