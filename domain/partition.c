/*
 * domain/partition.c — offset arithmetic of one partition log (see partition.h for the
 * three offsets and their invariant log_start <= high_watermark <= log_end).
 * Layer: domain (pure arithmetic). May touch: domain/partition.h.
 */
#include "domain/partition.h"

kl_err_t partition_check_fetch_offset(const kl_partition_offsets_t *offs, int64_t offset)
{
    /* Fetching exactly at log_end is legal: the consumer is caught up and the request
     * waits (max_wait_ms) for new data. Below log_start the data was deleted by
     * retention; above log_end it never existed. Both are OFFSET_OUT_OF_RANGE, which
     * makes the client apply auto.offset.reset. */
    if (offset < offs->log_start || offset > offs->log_end)
        return KL_ERR_OFFSET_OUT_OF_RANGE;
    return KL_OK;
}

int64_t partition_advance(kl_partition_offsets_t *offs, int64_t record_count)
{
    int64_t base = offs->log_end;
    if (record_count <= 0)
        return base;                    /* nothing appended: offsets stay put */
    offs->log_end += record_count;
    /* acks=all with a single in-sync replica: the append is committed at once, so the
     * high watermark follows the log end (consumers may read what was just written). */
    offs->high_watermark = offs->log_end;
    return base;
}

kl_err_t partition_move_log_start(kl_partition_offsets_t *offs, int64_t new_start)
{
    /* Kafka refuses to increment the log start offset beyond the high watermark: the
     * records up to it are the ones a consumer may already have been told exist. */
    if (new_start > offs->high_watermark)
        return KL_ERR_OFFSET_OUT_OF_RANGE;
    if (new_start > offs->log_start)
        offs->log_start = new_start;
    return KL_OK;
}
