/*
 * infrastructure/protocol/api_produce.c — the Produce API (key 0), versions 3-8:
 * append the record batches a producer sends, answer with their base offsets.
 * Layer: infrastructure (protocol adapter). May touch: application/usecases.h (the
 * produce use case), wire.h, api.h.
 *
 * Version 3 is the first that carries message format v2 (KIP-98), the only one Klamm
 * stores; v3-8 are all non-flexible, so every field uses the classic encodings.
 *
 * The records are appended from the request frame itself: produce_append rewrites each
 * batch's base_offset in place (the CRC does not cover it, KIP-98), so no copy is made.
 * The frame is the connection's own mutable buffer (protocol_dispatch receives it as
 * `uint8_t *`); the reader only hands out const views of it, hence one documented cast.
 *
 * The body is decoded completely (a walk over a copy of the reader) before the first
 * append, so a truncated request appends nothing and closes the connection.
 */
#include <stdint.h>

#include "application/usecases.h"
#include "infrastructure/protocol/api.h"

/* The decoded request: scalars, plus a reader positioned on the topics array. */
typedef struct pr_request {
    kl_str_t transactional_id;   /* unused: Klamm has no transactions */
    int16_t acks;
    int32_t timeout_ms;          /* unused: one replica, the append is synchronous */
    kl_reader_t topics;
} pr_request_t;

static bool pr_decode(kl_reader_t *r, pr_request_t *q)
{
    q->transactional_id = rd_nullable_string(r);            /* v3+ */
    q->acks = rd_i16(r);
    q->timeout_ms = rd_i32(r);
    q->topics = *r;
    int32_t nt = rd_array_len_required(r);
    for (int32_t i = 0; i < nt; i++) {
        (void)rd_string(r);
        int32_t np = rd_array_len_required(r);
        for (int32_t j = 0; j < np; j++) {
            (void)rd_i32(r);
            (void)rd_nullable_bytes(r);
        }
    }
    return rd_ok(r);
}

/* Kafka accepts acks -1 (all in-sync replicas), 0 (no response) and 1 (leader only);
 * with one replica -1 and 1 mean the same. Anything else is INVALID_REQUIRED_ACKS. */
static bool pr_acks_valid(int16_t acks)
{
    return acks == -1 || acks == 0 || acks == 1;
}

/* Append one partition's records. A null record set is passed on as "no records",
 * which the use case answers with Kafka's rule for a v3+ partition without a batch
 * (INVALID_RECORD), after the unknown-topic check, in Kafka's order. */
static kl_err_t pr_append(kl_broker_t *b, kl_str_t topic, int32_t partition,
                          kl_bytes_t records, kl_produce_result_t *res)
{
    char name[KL_TOPIC_NAME_MAX + 1];
    if (!kl_str_copy(topic, name, sizeof name))
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;   /* longer than any topic can be */
    /* Cast away const: the bytes are the connection's mutable frame buffer (see top). */
    uint8_t *bytes = records.len > 0 ? (uint8_t *)records.ptr : NULL;
    size_t len = records.len > 0 ? (size_t)records.len : 0;
    return produce_append(b, name, partition, bytes, len, res);
}

static void pr_write_partition(int32_t index, kl_err_t err, const kl_produce_result_t *res,
                               int16_t v, kl_writer_t *out)
{
    bool ok = err == KL_OK;
    wr_i32(out, index);
    wr_i16(out, (int16_t)err);
    wr_i64(out, ok ? res->base_offset : -1);
    if (v >= 2) wr_i64(out, ok ? res->log_append_time : -1);
    if (v >= 5) wr_i64(out, ok ? res->log_start_offset : -1);
    if (v >= 8) wr_array_len(out, 0);                       /* record_errors (KIP-467) */
    if (v >= 8) wr_nullable_string(out, NULL, -1);          /* error_message */
}

/* Second pass over the decoded topics: append each partition, write its result. */
static void pr_process(kl_broker_t *b, const pr_request_t *q, int16_t v, kl_writer_t *out)
{
    kl_reader_t r = q->topics;
    bool acks_ok = pr_acks_valid(q->acks);
    int32_t nt = rd_array_len_required(&r);
    wr_array_len(out, nt);
    for (int32_t i = 0; i < nt; i++) {
        kl_str_t topic = rd_string(&r);
        int32_t np = rd_array_len_required(&r);
        wr_string(out, topic.ptr, topic.len);
        wr_array_len(out, np);
        for (int32_t j = 0; j < np; j++) {
            int32_t index = rd_i32(&r);
            kl_bytes_t records = rd_nullable_bytes(&r);
            kl_produce_result_t res = { -1, -1, -1 };
            kl_err_t err = acks_ok ? pr_append(b, topic, index, records, &res)
                                   : KL_ERR_INVALID_REQUIRED_ACKS;
            pr_write_partition(index, err, &res, v, out);
        }
    }
}

kl_reply_t produce_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    pr_request_t q;
    if (!pr_decode(body, &q))
        return KL_REPLY_CLOSE;
    size_t entry_len = out->len;

    pr_process(req->broker, &q, v, out);                    /* responses */
    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */

    if (q.acks == 0) {
        /* acks=0: the producer reads no response; drop what was encoded. */
        out->len = entry_len;
        return KL_REPLY_NONE;
    }
    return KL_REPLY_SEND;
}
