/*
 * domain/retention.c — the retention decision (retention.ms, retention.bytes) over a
 * partition's segments; see retention.h for Kafka's rules and where they come from.
 * Layer: domain (pure arithmetic). May touch: domain/retention.h, domain/error.h.
 */
#include "domain/retention.h"

/* A list the rules can be applied to: ascending offsets, sizes >= 0, active last. */
static bool retention_list_ok(const kl_segment_info_t *segs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (segs[i].size_bytes < 0)
            return false;
        if (segs[i].active && i + 1 != n)
            return false;
        if (i > 0 && segs[i].base_offset <= segs[i - 1].base_offset)
            return false;
    }
    return true;
}

/* LAB 01 BEGIN: how many of the oldest segments retention.ms, then retention.bytes, delete */
/* Kafka's deleteRetentionMsBreachedSegments: the oldest segments whose largest timestamp
 * is more than retention_ms before now. Stops at the first young one and at the active
 * segment. now - ts > retention  is written  ts < now - retention  (no overflow: both
 * now and retention are >= 0 here). */
static size_t retention_by_time(const kl_segment_info_t *segs, size_t n,
                                int64_t retention_ms, int64_t now_ms)
{
    if (retention_ms < 0 || now_ms < 0)
        return 0;
    int64_t cutoff = now_ms - retention_ms;
    size_t k = 0;
    while (k < n && !segs[k].active && segs[k].largest_timestamp < cutoff)
        k++;
    return k;
}

/* Kafka's deleteRetentionSizeBreachedSegments over the segments still there: drop the
 * oldest while the bytes that would remain are still >= retention_bytes. */
static size_t retention_by_size(const kl_segment_info_t *segs, size_t n,
                                int64_t retention_bytes)
{
    if (retention_bytes < 0)
        return 0;
    int64_t size = 0;
    for (size_t i = 0; i < n; i++)
        size += segs[i].size_bytes;
    if (size < retention_bytes)
        return 0;
    int64_t diff = size - retention_bytes;
    size_t k = 0;
    while (k < n && !segs[k].active && diff - segs[k].size_bytes >= 0) {
        diff -= segs[k].size_bytes;
        k++;
    }
    return k;
}
/* LAB 01 END */

kl_err_t retention_plan(const kl_segment_info_t *segs, size_t n,
                        const kl_retention_config_t *cfg, int64_t now_ms,
                        kl_retention_plan_t *out)
{
    if (out == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    out->delete_count = 0;
    out->by_time = 0;
    out->bytes_deleted = 0;
    out->new_log_start = -1;
    if (cfg == NULL || (segs == NULL && n > 0) || !retention_list_ok(segs, n))
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    if (n == 0)
        return KL_OK;                    /* no segments: nothing to delete */

    /* Kafka runs the time rule first; the size rule then sees only what is left. */
    size_t by_time = retention_by_time(segs, n, cfg->retention_ms, now_ms);
    size_t by_size = retention_by_size(segs + by_time, n - by_time, cfg->retention_bytes);
    size_t count = by_time + by_size;
    if (count > n)                       /* a helper overran the list: delete nothing */
        return KL_ERR_UNKNOWN_SERVER_ERROR;

    out->delete_count = count;
    out->by_time = by_time;
    for (size_t i = 0; i < count; i++)
        out->bytes_deleted += segs[i].size_bytes;
    out->new_log_start = count < n ? segs[count].base_offset : -1;
    return KL_OK;
}
