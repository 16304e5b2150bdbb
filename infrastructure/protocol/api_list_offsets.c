/*
 * infrastructure/protocol/api_list_offsets.c — the ListOffsets API (key 2), versions
 * 1-5: the offset for a timestamp, or the earliest (-2) / latest (-1) offset.
 * Layer: infrastructure (protocol adapter). May touch: application/usecases.h (the
 * list_offsets use case), wire.h, api.h.
 *
 * Version 1 replaced v0's list of offsets (max_num_offsets) with one offset and its
 * timestamp (KIP-79), so v0 is outside the supported range. Versions 1-5 are all
 * non-flexible (KIP-482 starts at v6): classic encodings only.
 *
 * The body is decoded completely (a walk over a copy of the reader) before the first
 * query, so a truncated request is answered by closing the connection.
 */
#include <stdint.h>

#include "application/usecases.h"
#include "infrastructure/protocol/api.h"

/* The decoded request: scalars, plus a reader positioned on the topics array. */
typedef struct lo_request {
    int32_t replica_id;          /* -1 for consumers */
    int8_t isolation_level;      /* v2+; no transactions, so both levels read the same */
    kl_reader_t topics;
} lo_request_t;

typedef struct lo_partition_req {
    int32_t index;
    int32_t current_leader_epoch;   /* v4+ (KIP-320), not checked: one leader forever */
    int64_t timestamp;              /* -1 latest, -2 earliest, else a time in ms */
} lo_partition_req_t;

static lo_partition_req_t lo_read_partition(kl_reader_t *r, int16_t v)
{
    lo_partition_req_t p;
    p.index = rd_i32(r);
    p.current_leader_epoch = -1;
    if (v >= 4) p.current_leader_epoch = rd_i32(r);
    p.timestamp = rd_i64(r);
    return p;
}

static bool lo_decode(kl_reader_t *r, int16_t v, lo_request_t *q)
{
    q->replica_id = rd_i32(r);
    q->isolation_level = 0;
    if (v >= 2) q->isolation_level = rd_i8(r);
    q->topics = *r;
    int32_t nt = rd_array_len_required(r);
    for (int32_t i = 0; i < nt; i++) {
        (void)rd_string(r);
        int32_t np = rd_array_len_required(r);
        for (int32_t j = 0; j < np; j++)
            (void)lo_read_partition(r, v);
    }
    return rd_ok(r);
}

static void lo_partition(kl_broker_t *b, kl_str_t topic, const lo_partition_req_t *p,
                         int16_t v, kl_writer_t *out)
{
    char name[KL_TOPIC_NAME_MAX + 1];
    kl_list_offsets_result_t res = { -1, -1 };
    kl_err_t err = KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;       /* a name too long for a topic */
    if (kl_str_copy(topic, name, sizeof name))
        err = list_offsets_query(b, name, p->index, p->timestamp, &res);
    bool ok = err == KL_OK;

    wr_i32(out, p->index);                                  /* partition_index */
    wr_i16(out, (int16_t)err);                              /* error_code */
    if (v >= 1) wr_i64(out, ok ? res.timestamp : -1);       /* timestamp */
    if (v >= 1) wr_i64(out, ok ? res.offset : -1);          /* offset */
    if (v >= 4) wr_i32(out, 0);                             /* leader_epoch: never changes */
}

kl_reply_t list_offsets_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    lo_request_t q;
    if (!lo_decode(body, v, &q))
        return KL_REPLY_CLOSE;

    if (v >= 2) wr_i32(out, 0);                             /* throttle_time_ms */
    kl_reader_t r = q.topics;
    int32_t nt = rd_array_len_required(&r);
    wr_array_len(out, nt);                                  /* topics */
    for (int32_t i = 0; i < nt; i++) {
        kl_str_t topic = rd_string(&r);
        int32_t np = rd_array_len_required(&r);
        wr_string(out, topic.ptr, topic.len);
        wr_array_len(out, np);
        for (int32_t j = 0; j < np; j++) {
            lo_partition_req_t p = lo_read_partition(&r, v);
            lo_partition(req->broker, topic, &p, v, out);
        }
    }
    return KL_REPLY_SEND;
}
