/*
 * application/fetch.c — the Fetch use case for one partition: check the offset, read
 * whole batches from the log into the caller's sink.
 * Layer: application. May touch: domain/, application/ (the log_store port).
 *
 * Kafka's rules:
 *   - an offset outside [log start, log end] is OFFSET_OUT_OF_RANGE; the response still
 *     carries the high watermark and log start offset, because that is how a consumer
 *     with auto.offset.reset learns where to jump;
 *   - a consumer reads only up to the high watermark (committed records). With a single
 *     replica the high watermark equals the log end, and asking for it means "nothing
 *     new yet": 0 bytes without touching the store, the case the server long-polls on;
 *   - the store returns whole batches, at least one even when larger than max_bytes
 *     (KIP-74), so a big batch can never stall a consumer.
 * No transactions here, so the last stable offset is the high watermark.
 */
#include "application/usecases.h"

static void fetch_fill_offsets(const kl_partition_t *p, kl_fetch_result_t *out)
{
    out->high_watermark = p->offsets.high_watermark;
    out->last_stable_offset = p->offsets.high_watermark;
    out->log_start_offset = p->offsets.log_start;
}

kl_err_t fetch_partition(kl_broker_t *b, const char *topic, int32_t partition,
                         int64_t offset, int32_t max_bytes, kl_buf_sink_t *sink,
                         kl_fetch_result_t *out)
{
    /* Kafka answers an unknown partition with -1 for every offset. */
    out->high_watermark = -1;
    out->last_stable_offset = -1;
    out->log_start_offset = -1;
    out->bytes = 0;

    kl_partition_t *p = broker_find_partition(b, topic, partition);
    if (p == NULL)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    fetch_fill_offsets(p, out);
    kl_err_t err = partition_check_fetch_offset(&p->offsets, offset);
    if (err != KL_OK)
        return err;
    if (offset >= p->offsets.high_watermark)
        return KL_OK;
    size_t n = 0;
    err = b->store.read(b->store.self, p->log, offset, max_bytes, sink, &n);
    if (err != KL_OK)
        return err;
    out->bytes = n;
    return KL_OK;
}
