/*
 * infrastructure/storage/partition_log.c — a partition's segments: open + recover, roll,
 * find the segment of an offset, flush policy (see partition_log.h for the Kafka rules).
 * Layer: infrastructure. May touch: storage/segment.h, storage/fs.h, infrastructure/clock.h,
 * logging, POSIX directories and files (a walk of the directory; stat, unlink and a
 * directory fsync for retention; removing the whole directory for DeleteTopics).
 *
 * Costs: open = 1 walk of the directory (fs_each_entry) + per older segment 1 pread of
 * each index file + a full CRC scan of the active one; append = a header walk of the
 * request + segment_append, whose one write(2) is the .log's (+ on a roll, the old
 * segment's index entries still in memory written, 1 ftruncate and 3 fsyncs); read =
 * binary search over segments + segment_read; by time = no I/O for segments whose largest
 * timestamp is below the target.
 */
#include "infrastructure/storage/partition_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infrastructure/clock.h"
#include "infrastructure/storage/fs.h"

#define PLOG_MOD "partition_log"
#define PLOG_PATH_MAX 4096           /* a segment file path (log_dir.h: KL_PATH_MAX) */

static kl_segment_t *plog_active(const kl_partition_log_t *pl)
{
    return pl->segments[pl->segment_count - 1];
}

/* The injected clock, else the real wall clock (segment.ms is wall time, as in Kafka). */
static int64_t plog_now_ms(const kl_partition_log_t *pl)
{
    const kl_clock_t *c = &pl->cfg.clock;
    return c->now_ms != NULL ? c->now_ms(c->self) : clock_wall_ms();
}

static kl_err_t plog_push(kl_partition_log_t *pl, kl_segment_t *seg)
{
    if (pl->segment_count == pl->segment_cap) {
        size_t cap = pl->segment_cap ? pl->segment_cap * 2 : 8;
        kl_segment_t **p = realloc(pl->segments, cap * sizeof *p);
        if (p == NULL)
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        pl->segments = p;
        pl->segment_cap = cap;
    }
    pl->segments[pl->segment_count++] = seg;
    return KL_OK;
}

static int plog_cmp_offsets(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The base offsets plog_list_bases collects, grown as they are found. */
typedef struct plog_bases {
    int64_t *v;
    size_t n;
    size_t cap;
} plog_bases_t;

/* Keep the base offset of a segment's "<20 digits>.log"; any other name (.index files,
 * temp files, an operator's notes) is not a segment. */
static kl_err_t plog_collect_base(void *arg, const char *name)
{
    plog_bases_t *b = arg;
    int64_t base;
    if (!segment_parse_name(name, &base))
        return KL_OK;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        int64_t *p = realloc(b->v, cap * sizeof *p);
        if (p == NULL)
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        b->v = p;
        b->cap = cap;
    }
    b->v[b->n++] = base;
    return KL_OK;
}

/* Base offsets of every segment in the directory, ascending (sorted here: the walk's
 * order is readdir's, which is none). */
static kl_err_t plog_list_bases(const kl_partition_log_t *pl, int64_t **bases_out, size_t *n_out)
{
    plog_bases_t b = { NULL, 0, 0 };
    kl_err_t err = fs_each_entry(pl->cfg.log, PLOG_MOD, pl->dir, plog_collect_base, &b);
    if (err != KL_OK) {
        free(b.v);
        return err;
    }
    if (b.n > 1)
        qsort(b.v, b.n, sizeof *b.v, plog_cmp_offsets);
    *bases_out = b.v;
    *n_out = b.n;
    return KL_OK;
}

/* log.preallocate for the active segment: reserve in steps of PLOG_PREALLOCATE_STEP, or
 * of segment.bytes when that is smaller (a small segment never needs more). */
static void plog_preallocate_active(const kl_partition_log_t *pl)
{
    int64_t step = 0;
    if (pl->cfg.preallocate)
        step = pl->cfg.segment_bytes < PLOG_PREALLOCATE_STEP ? pl->cfg.segment_bytes
                                                             : PLOG_PREALLOCATE_STEP;
    segment_set_preallocate(plog_active(pl), step);
}

/* Older segments are trusted (next offset = the next one's base); the last is recovered. */
static kl_err_t plog_open_segments(kl_partition_log_t *pl, const int64_t *bases, size_t n)
{
    const kl_plog_config_t *c = &pl->cfg;
    for (size_t i = 0; i < n; i++) {
        kl_segment_t *seg = NULL;
        kl_err_t err = i + 1 < n
            ? segment_open_sealed(&seg, pl->dir, bases[i], bases[i + 1], c->index_interval_bytes, c->log)
            : segment_open_active(&seg, pl->dir, bases[i], c->index_interval_bytes, c->log);
        if (err == KL_OK) {
            err = plog_push(pl, seg);
            if (err != KL_OK)
                segment_close(seg);
        }
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

kl_err_t plog_open(kl_partition_log_t **out, const char *dir, const kl_plog_config_t *cfg)
{
    int64_t *bases = NULL;
    size_t n = 0;
    kl_err_t err = KL_ERR_UNKNOWN_SERVER_ERROR;
    kl_partition_log_t *pl = calloc(1, sizeof *pl);
    if (pl == NULL)
        return err;
    pl->cfg = *cfg;
    pl->last_flush_ms = -1;
    pl->dir = strdup(dir);
    if (pl->dir == NULL)
        goto err;
    err = plog_list_bases(pl, &bases, &n);
    if (err != KL_OK)
        goto err;
    if (n > 0) {
        err = plog_open_segments(pl, bases, n);
    } else {
        kl_segment_t *seg = NULL;
        err = segment_create(&seg, dir, 0, cfg->index_interval_bytes, cfg->log);
        if (err == KL_OK && (err = plog_push(pl, seg)) != KL_OK)
            segment_close(seg);
    }
    if (err != KL_OK)
        goto err;
    free(bases);
    plog_preallocate_active(pl);
    pl->active_created_ms = plog_now_ms(pl);
    KL_LOG_DBG(cfg->log, PLOG_MOD, "opened %s: %zu segment(s), offsets [%" PRId64 ", %" PRId64 ")",
               dir, pl->segment_count, plog_log_start(pl), plog_log_end(pl));
    *out = pl;
    return KL_OK;
err:
    free(bases);
    plog_close(pl);
    return err;
}

void plog_close(kl_partition_log_t *pl)
{
    if (pl == NULL)
        return;
    if (pl->segment_count > 0)
        (void)plog_flush(pl);           /* logged by segment_flush on failure */
    for (size_t i = 0; i < pl->segment_count; i++)
        segment_close(pl->segments[i]);
    free(pl->segments);
    free(pl->dir);
    free(pl);
}

/* No plog_flush: the bytes are about to be unlinked, and fsyncing them first would cost
 * three fsyncs per partition for data nobody will read. */
kl_err_t plog_delete(kl_partition_log_t *pl)
{
    for (size_t i = 0; i < pl->segment_count; i++)
        segment_close(pl->segments[i]);
    pl->segment_count = 0;
    kl_err_t err = fs_remove_dir(pl->cfg.log, PLOG_MOD, pl->dir);
    if (err == KL_OK)
        KL_LOG_INF(pl->cfg.log, PLOG_MOD, "deleted %s", pl->dir);
    plog_close(pl);
    return err;
}

int64_t plog_log_start(const kl_partition_log_t *pl)
{
    return pl->segment_count > 0 ? pl->segments[0]->base_offset : 0;
}

int64_t plog_log_end(const kl_partition_log_t *pl)
{
    return pl->segment_count > 0 ? plog_active(pl)->next_offset : 0;
}

kl_err_t plog_flush(kl_partition_log_t *pl)
{
    kl_err_t err = segment_flush(plog_active(pl));
    if (err == KL_OK)
        pl->unflushed_messages = 0;
    return err;
}

/* ---- append ---------------------------------------------------------------------------- */

/* What the roll decision needs from the batches to append (headers only; segment_append
 * checks them again): the last batch's last offset and the largest max_timestamp
 * (Kafka's maxTimestampInMessages; -1 when no batch has one). */
static kl_err_t plog_scan_batches(const uint8_t *batches, size_t len, int64_t *last_out,
                                  int64_t *max_timestamp_out)
{
    *max_timestamp_out = KL_TIME_INDEX_NO_TIMESTAMP;
    for (size_t pos = 0; pos < len;) {
        kl_batch_header_t h;
        kl_err_t err = batch_header_parse(batches + pos, len - pos, &h);
        if (err != KL_OK)
            return err;
        *last_out = batch_last_offset(&h);
        if (h.max_timestamp > *max_timestamp_out)
            *max_timestamp_out = h.max_timestamp;
        pos += batch_total_size(&h);
    }
    return KL_OK;
}

/* Seal the active segment and start a new one at the log end. The old one gets its last
 * time index entry and writes the index entries its appends kept in memory
 * (segment_seal), gives back the blocks reserved past its end (log.preallocate; done
 * whatever the setting, so a segment reserved under an earlier setting is trimmed too)
 * and is fsynced here (Kafka also flushes a segment, indexes included, once it is rolled),
 * all before the next segment exists: that order is what lets plog_open trust the
 * complete indexes of every older segment instead of scanning it. Cost: 2 write(2) of
 * index entries + 1 ftruncate + 3 fsyncs + 1 directory fsync. */
static kl_err_t plog_roll(kl_partition_log_t *pl)
{
    kl_segment_t *old = plog_active(pl);
    kl_err_t err = segment_seal(old);
    if (err == KL_OK)
        err = segment_release_reserve(old);
    if (err == KL_OK)
        err = plog_flush(pl);
    if (err != KL_OK)
        return err;
    kl_segment_t *seg = NULL;
    err = segment_create(&seg, pl->dir, old->next_offset, pl->cfg.index_interval_bytes, pl->cfg.log);
    if (err != KL_OK)
        return err;
    err = plog_push(pl, seg);
    if (err != KL_OK) {
        segment_close(seg);
        return err;
    }
    plog_preallocate_active(pl);
    pl->active_created_ms = plog_now_ms(pl);
    KL_LOG_DBG(pl->cfg.log, PLOG_MOD, "rolled %s at offset %" PRId64 " (%" PRId64 " bytes in the old one)",
               seg->log_path, seg->base_offset, old->size);
    return KL_OK;
}

/* segment.ms, Kafka's LogSegment.timeWaitedForRoll (the rule is in partition_log.h). The
 * timestamp difference is taken only when positive, so no subtraction can overflow. */
static bool plog_waited_too_long(const kl_partition_log_t *pl, int64_t max_timestamp)
{
    const kl_segment_t *active = plog_active(pl);
    int64_t first = active->first_batch_timestamp;
    if (pl->cfg.segment_ms <= 0)
        return false;
    if (first >= 0)
        return max_timestamp > first && max_timestamp - first > pl->cfg.segment_ms;
    return plog_now_ms(pl) - pl->active_created_ms > pl->cfg.segment_ms;
}

/* Kafka's LogSegment.shouldRoll, without the jitter: never an empty segment (a batch
 * larger than segment.bytes still needs a home); else when the append would pass
 * segment.bytes or the index's int32 limits, or segment.ms has passed. */
static bool plog_should_roll(const kl_partition_log_t *pl, size_t len, int64_t last,
                             int64_t max_timestamp)
{
    const kl_segment_t *active = plog_active(pl);
    if (active->size == 0)
        return false;
    return active->size + (int64_t)len > pl->cfg.segment_bytes ||
           !segment_can_hold(active, len, last) || plog_waited_too_long(pl, max_timestamp);
}

kl_err_t plog_append(kl_partition_log_t *pl, const uint8_t *batches, size_t len)
{
    if (len == 0)
        return KL_OK;
    int64_t last = 0, max_timestamp = 0, end = plog_log_end(pl);
    kl_err_t err = plog_scan_batches(batches, len, &last, &max_timestamp);
    if (err != KL_OK)
        return err;
    if (plog_should_roll(pl, len, last, max_timestamp)) {
        err = plog_roll(pl);
        if (err != KL_OK)
            return err;
    }
    err = segment_append(plog_active(pl), batches, len);
    if (err != KL_OK)
        return err;
    pl->unflushed_messages += last + 1 - end;
    if (pl->cfg.flush_interval_messages > 0 && pl->unflushed_messages >= pl->cfg.flush_interval_messages)
        return plog_flush(pl);
    return KL_OK;
}

kl_err_t plog_tick(kl_partition_log_t *pl, int64_t now_ms)
{
    if (pl->cfg.flush_interval_ms < 0)
        return KL_OK;
    if (pl->last_flush_ms < 0) {        /* first tick: start the clock */
        pl->last_flush_ms = now_ms;
        return KL_OK;
    }
    if (pl->unflushed_messages == 0 || now_ms - pl->last_flush_ms < pl->cfg.flush_interval_ms)
        return KL_OK;
    pl->last_flush_ms = now_ms;
    return plog_flush(pl);
}

/* ---- reads ----------------------------------------------------------------------------- */

/* Index of the last segment whose base offset <= offset (0 when offset is below all). */
static size_t plog_segment_for(const kl_partition_log_t *pl, int64_t offset)
{
    size_t lo = 0, hi = pl->segment_count;       /* first segment with base > offset */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pl->segments[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}

kl_err_t plog_read(kl_partition_log_t *pl, int64_t offset, int32_t max_bytes,
                   kl_buf_sink_t *sink, size_t *len_out)
{
    *len_out = 0;
    if (offset < plog_log_start(pl) || offset > plog_log_end(pl))
        return KL_ERR_OFFSET_OUT_OF_RANGE;
    /* An offset at the end of a segment (or in a gap before the next one) continues in
     * the next segment, like Kafka's LocalLog.read walking to higher segments. */
    for (size_t i = plog_segment_for(pl, offset); i < pl->segment_count; i++) {
        kl_err_t err = segment_read(pl->segments[i], offset, max_bytes, sink, len_out);
        if (err != KL_OK || *len_out > 0)
            return err;
    }
    return KL_OK;
}

kl_err_t plog_offset_for_timestamp(kl_partition_log_t *pl, int64_t timestamp,
                                   int64_t *offset_out, int64_t *timestamp_out)
{
    *offset_out = -1;
    *timestamp_out = -1;
    for (size_t i = 0; i < pl->segment_count; i++) {
        bool found = false;
        kl_err_t err = segment_offset_for_timestamp(pl->segments[i], timestamp, &found,
                                                    offset_out, timestamp_out);
        if (err != KL_OK || found)
            return err;
    }
    return KL_OK;
}

/* ---- retention ------------------------------------------------------------------------- */

/* Kafka's LogSegment.largestTimestamp: the largest record timestamp, or, for a segment
 * without one, the .log's last-modified time in ms. */
static kl_err_t plog_largest_timestamp(const kl_partition_log_t *pl, const kl_segment_t *seg,
                                       int64_t *out)
{
    if (seg->max_timestamp >= 0) {
        *out = seg->max_timestamp;
        return KL_OK;
    }
    struct stat st;
    if (stat(seg->log_path, &st) != 0) {
        KL_LOG_ERR(pl->cfg.log, PLOG_MOD, "stat %s: %s", seg->log_path, strerror(errno));
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    *out = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return KL_OK;
}

kl_err_t plog_segments(const kl_partition_log_t *pl, kl_segment_info_t *segs, size_t cap,
                       size_t *count_out)
{
    size_t n = pl->segment_count < cap ? pl->segment_count : cap;
    *count_out = pl->segment_count;
    for (size_t i = 0; i < n; i++) {
        const kl_segment_t *seg = pl->segments[i];
        segs[i].base_offset = seg->base_offset;
        segs[i].size_bytes = seg->size;
        segs[i].active = i + 1 == pl->segment_count;
        kl_err_t err = plog_largest_timestamp(pl, seg, &segs[i].largest_timestamp);
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

/* An index file of a deleted segment: a failure only leaves a stray file behind, which
 * plog_open ignores (it lists .log names), so it is a warning, not an error. */
static void plog_unlink_index(const kl_partition_log_t *pl, const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        KL_LOG_WARNING(pl->cfg.log, PLOG_MOD, "unlink %s: %s (left behind)", path,
                       strerror(errno));
}

/* One old segment. Plain unlink, not Kafka's rename to ".deleted" and delete after
 * file.delete.delay.ms: Kafka delays because other threads may still be reading the
 * file; Klamm's single poll thread has finished every read before retention runs, and a
 * Fetch response still waiting to be sent holds its own duplicate of the descriptor
 * (net/connection.c), so the unlinked file stays readable until that range is sent.
 * The .log goes first: its name is what makes the segment exist at the next open, so
 * that one unlink is the deletion and a crash after it leaves only index files. */
static kl_err_t plog_delete_segment(kl_partition_log_t *pl, kl_segment_t *seg)
{
    char timeindex[PLOG_PATH_MAX];
    if (!segment_path(timeindex, sizeof timeindex, pl->dir, seg->base_offset, ".timeindex"))
        timeindex[0] = '\0';
    KL_LOG_INF(pl->cfg.log, PLOG_MOD, "Deleting segment %s (offsets [%" PRId64 ", %" PRId64
               "), %" PRId64 " bytes, largest timestamp %" PRId64 ")", seg->log_path,
               seg->base_offset, seg->next_offset, seg->size, seg->max_timestamp);
    if (unlink(seg->log_path) != 0 && errno != ENOENT) {
        KL_LOG_ERR(pl->cfg.log, PLOG_MOD, "unlink %s: %s", seg->log_path, strerror(errno));
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    plog_unlink_index(pl, seg->index_path);
    if (timeindex[0] != '\0')
        plog_unlink_index(pl, timeindex);
    segment_close(seg);
    return KL_OK;
}

/* Make the unlinks durable: without it a power cut could bring the names back. */
static kl_err_t plog_fsync_dir(const kl_partition_log_t *pl)
{
    int fd = open(pl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    kl_err_t err = KL_OK;
    if (fd < 0 || fsync(fd) != 0) {
        KL_LOG_ERR(pl->cfg.log, PLOG_MOD, "fsync directory %s: %s", pl->dir, strerror(errno));
        err = KL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (fd >= 0)
        close(fd);
    return err;
}

kl_err_t plog_delete_segments_before(kl_partition_log_t *pl, int64_t offset,
                                     int64_t *log_start_out)
{
    kl_err_t err = KL_OK;
    size_t k = 0;
    while (k + 1 < pl->segment_count && pl->segments[k + 1]->base_offset <= offset) {
        err = plog_delete_segment(pl, pl->segments[k]);
        if (err != KL_OK)
            break;
        k++;
    }
    if (k > 0) {
        memmove(pl->segments, pl->segments + k, (pl->segment_count - k) * sizeof *pl->segments);
        pl->segment_count -= k;
        kl_err_t synced = plog_fsync_dir(pl);
        if (err == KL_OK)
            err = synced;
    }
    *log_start_out = plog_log_start(pl);
    return err;
}
