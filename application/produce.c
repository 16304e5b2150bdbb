/*
 * application/produce.c — the Produce use case for one partition: validate the batches,
 * give them offsets, append them, advance the partition.
 * Layer: application. May touch: domain/, application/ (the log_store port), <stdlib.h>.
 *
 * Kafka's rules, in the order its log applies them (UnifiedLog.analyzeAndValidateRecords):
 *   - each batch is size-checked against max.message.bytes (the topic's override, else the
 *     broker's message.max.bytes) BEFORE its CRC is computed: a too-large batch is
 *     MESSAGE_TOO_LARGE and costs no checksum pass;
 *   - then framing, magic and CRC-32C (batch_next): CORRUPT_MESSAGE, or
 *     UNSUPPORTED_FOR_MESSAGE_FORMAT for magic 0/1 message sets (we store v2 only);
 *   - the leader assigns offsets: the first batch starts at the log end, each next batch
 *     right after the previous one's last offset (base + last_offset_delta + 1).
 * An empty record set is INVALID_RECORD: Kafka's ProduceRequest.validateRecords rejects
 * "Produce requests with version >= 3 must have at least one record batch per partition"
 * with InvalidRecordException, which the protocol maps to INVALID_RECORD (87).
 * All or nothing: one store append for the whole buffer, and the partition's offsets
 * move only after the store said yes.
 */
#include <stdlib.h>

#include "application/usecases.h"
#include "domain/record_batch.h"

/* The batch size limit: topic max.message.bytes overrides broker message.max.bytes. */
static int64_t produce_max_batch_bytes(const kl_broker_t *b, const kl_topic_t *t)
{
    const char *override = topic_meta_config(&t->meta, "max.message.bytes");
    if (override != NULL) {
        char *end = NULL;
        long long v = strtoll(override, &end, 10);
        if (end != override && *end == '\0' && v >= 0)
            return v;
    }
    return b->config.message_max_bytes;
}

/* Validate one batch at records[*pos..len) and give it `base` as its base offset.
 * Rewriting base_offset in place keeps the CRC valid: CRC-32C covers attributes onward
 * (byte 21 to the end), never base_offset, precisely so the broker can assign offsets
 * without recomputing it (KIP-98, message format v2). */
static kl_err_t produce_take_batch(uint8_t *records, size_t len, size_t *pos,
                                   int64_t max_bytes, int64_t base, int64_t *span_out)
{
    kl_batch_header_t h;
    size_t start = *pos;
    kl_err_t err = batch_header_parse(records + start, len - start, &h);
    if (err != KL_OK)
        return err;
    if ((int64_t)batch_total_size(&h) > max_bytes)
        return KL_ERR_MESSAGE_TOO_LARGE;
    err = batch_next(records, len, pos, &h);
    if (err != KL_OK)
        return err;
    batch_set_base_offset(records + start, base);
    *span_out = batch_record_span(&h);
    return KL_OK;
}

/* Walk every batch, assigning contiguous offsets from `base`. On success *total_out is
 * the number of offsets the whole buffer spans. */
static kl_err_t produce_assign_offsets(uint8_t *records, size_t len, int64_t max_bytes,
                                       int64_t base, int64_t *total_out)
{
    size_t pos = 0;
    int64_t next = base;
    while (pos < len) {
        int64_t span = 0;
        kl_err_t err = produce_take_batch(records, len, &pos, max_bytes, next, &span);
        if (err != KL_OK)
            return err;
        next += span;
    }
    *total_out = next - base;
    return KL_OK;
}

kl_err_t produce_append(kl_broker_t *b, const char *topic, int32_t partition,
                        uint8_t *records, size_t len, kl_produce_result_t *out)
{
    /* Kafka's error answer: base_offset -1, log_append_time -1, log_start_offset -1. */
    out->base_offset = -1;
    out->log_append_time = -1;
    out->log_start_offset = -1;

    kl_topic_t *t = broker_find_topic(b, topic);
    kl_partition_t *p = broker_find_partition(b, topic, partition);
    if (t == NULL || p == NULL)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (records == NULL || len == 0)
        return KL_ERR_INVALID_RECORD;

    int64_t base = p->offsets.log_end;
    int64_t total = 0;
    kl_err_t err = produce_assign_offsets(records, len, produce_max_batch_bytes(b, t),
                                          base, &total);
    if (err != KL_OK)
        return err;
    err = b->store.append(b->store.self, p->log, records, len);
    if (err != KL_OK)
        return err;
    partition_advance(&p->offsets, total);
    b->data_version++;      /* wakes parked fetches: there is something new to read */
    out->base_offset = base;
    out->log_start_offset = p->offsets.log_start;
    return KL_OK;
}
