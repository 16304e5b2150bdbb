/*
 * application/list_offsets.c — the ListOffsets use case for one partition: turn a
 * timestamp query into an offset.
 * Layer: application. May touch: domain/, application/ (the log_store port).
 *
 * Kafka's special timestamps (ListOffsetsRequest):
 *   EARLIEST_TIMESTAMP (-2) → the log start offset, timestamp -1;
 *   LATEST_TIMESTAMP   (-1) → the high watermark (the next offset a read_uncommitted
 *                             consumer will see; equals the log end with one replica);
 *   t >= 0                  → the first offset whose batch max_timestamp >= t, or offset
 *                             -1 and timestamp -1 when no record is that recent.
 * Any other negative value is INVALID_REQUEST. Kafka itself would fall through to the
 * time search for unknown negatives (MAX_TIMESTAMP -3, KIP-734, only exists from
 * ListOffsets v7, which Klamm does not advertise), so a client can only send one by
 * breaking the protocol: answering INVALID_REQUEST says exactly that.
 */
#include "application/usecases.h"

static kl_err_t list_offsets_by_time(kl_broker_t *b, kl_partition_t *p, int64_t timestamp,
                                     kl_list_offsets_result_t *out)
{
    int64_t offset = -1;
    int64_t found_ts = -1;
    kl_err_t err = b->store.offset_for_timestamp(b->store.self, p->log, timestamp,
                                                 &offset, &found_ts);
    if (err != KL_OK)
        return err;
    out->offset = offset;
    out->timestamp = offset < 0 ? -1 : found_ts;
    return KL_OK;
}

kl_err_t list_offsets_query(kl_broker_t *b, const char *topic, int32_t partition,
                            int64_t timestamp, kl_list_offsets_result_t *out)
{
    out->offset = -1;
    out->timestamp = -1;

    kl_partition_t *p = broker_find_partition(b, topic, partition);
    if (p == NULL)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (timestamp == KL_LIST_OFFSETS_EARLIEST) {
        out->offset = p->offsets.log_start;
        return KL_OK;
    }
    if (timestamp == KL_LIST_OFFSETS_LATEST) {
        out->offset = p->offsets.high_watermark;
        return KL_OK;
    }
    if (timestamp < 0)
        return KL_ERR_INVALID_REQUEST;
    return list_offsets_by_time(b, p, timestamp, out);
}
