/*
 * infrastructure/protocol/api_fetch.c — the Fetch API (key 1), versions 4-11: read
 * record batches from partitions, long-polling until there is enough to send.
 * Layer: infrastructure (protocol adapter). May touch: application/usecases.h (the
 * fetch use case), application/broker.h (partition offsets, read only),
 * domain/partition.h, domain/record_batch.h (big-endian patching), wire.h, api.h.
 *
 * Rules this file implements, by name:
 *  - Zero copies: each partition's batches go into the response through a
 *    kl_buf_sink_t: as a file range spliced into the writer (sent by sendfile(2)
 *    from the page cache, as Kafka's FileRecords.writeTo does), or — for data the
 *    store must check first — read straight into the response (one copy). The
 *    records' int32 length is a placeholder patched after the read, and so are the
 *    partition's error code and offsets, which are only known once the read is done.
 *  - KIP-74 size limits: each partition reads at most its partition_max_bytes and the
 *    response at most max_bytes, except that the first partition that has data always
 *    returns at least one whole batch (so a batch larger than the limits cannot stall a
 *    consumer). A later partition whose first batch does not fit comes back empty; once
 *    the response is full, later partitions are not read at all.
 *  - KIP-227 fetch sessions are not implemented: the response's session_id is always 0,
 *    which tells the client no session was created, so it sends a full fetch every
 *    time (the KIP allows a broker to do so). forgotten_topics_data is read and ignored.
 *  - Long poll: with fewer than min_bytes to send, no error, and max_wait_ms not yet
 *    over, the handler answers KL_REPLY_PARK; the server calls it again when data may
 *    have arrived, and at the deadline with final_attempt set.
 *  - No transactions: last_stable_offset is the high watermark and aborted_transactions
 *    is always the empty array (valid for both isolation levels).
 * Versions 4-11 are all non-flexible (KIP-482 starts at v12): classic encodings only.
 */
#include <stdint.h>

#include "application/usecases.h"
#include "domain/partition.h"
#include "domain/record_batch.h"
#include "infrastructure/protocol/api.h"

/* The decoded request: scalars, plus a reader positioned on the topics array. */
typedef struct fe_request {
    int32_t replica_id;          /* -1 for consumers; followers do not exist here */
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;           /* v3+ */
    int8_t isolation_level;      /* v4+: 0 read_uncommitted, 1 read_committed */
    int32_t session_id;          /* v7+ (KIP-227), ignored */
    int32_t session_epoch;       /* v7+, ignored */
    kl_reader_t topics;
} fe_request_t;

typedef struct fe_partition_req {
    int32_t index;
    int32_t current_leader_epoch;   /* v9+ (KIP-320), not checked: one leader forever */
    int64_t fetch_offset;
    int64_t log_start_offset;       /* v5+, only meaningful from followers */
    int32_t max_bytes;
} fe_partition_req_t;

/* What the partitions read so far add up to. */
typedef struct fe_state {
    int64_t budget;              /* response max_bytes not used yet (may go negative) */
    bool have_data;              /* some partition returned records: KIP-74's first is past */
    int64_t total;               /* record bytes in the response */
    bool any_error;              /* a partition error answers at once (no parking) */
} fe_state_t;

static fe_partition_req_t fe_read_partition(kl_reader_t *r, int16_t v)
{
    fe_partition_req_t p;
    p.index = rd_i32(r);
    p.current_leader_epoch = -1;
    if (v >= 9) p.current_leader_epoch = rd_i32(r);
    p.fetch_offset = rd_i64(r);
    p.log_start_offset = -1;
    if (v >= 5) p.log_start_offset = rd_i64(r);
    p.max_bytes = rd_i32(r);
    return p;
}

static void fe_skip_topics(kl_reader_t *r, int16_t v)
{
    int32_t nt = rd_array_len_required(r);
    for (int32_t i = 0; i < nt; i++) {
        (void)rd_string(r);
        int32_t np = rd_array_len_required(r);
        for (int32_t j = 0; j < np; j++)
            (void)fe_read_partition(r, v);
    }
}

/* forgotten_topics_data (v7+): [topic, [partition int32]]. */
static void fe_skip_forgotten(kl_reader_t *r)
{
    int32_t nt = rd_array_len_required(r);
    for (int32_t i = 0; i < nt; i++) {
        (void)rd_string(r);
        int32_t np = rd_array_len_required(r);
        for (int32_t j = 0; j < np; j++)
            (void)rd_i32(r);
    }
}

static bool fe_decode(kl_reader_t *r, int16_t v, fe_request_t *q)
{
    q->replica_id = rd_i32(r);
    q->max_wait_ms = rd_i32(r);
    q->min_bytes = rd_i32(r);
    q->max_bytes = INT32_MAX;
    if (v >= 3) q->max_bytes = rd_i32(r);
    q->isolation_level = 0;
    if (v >= 4) q->isolation_level = rd_i8(r);
    q->session_id = 0;
    q->session_epoch = -1;
    if (v >= 7) q->session_id = rd_i32(r);
    if (v >= 7) q->session_epoch = rd_i32(r);
    q->topics = *r;
    fe_skip_topics(r, v);
    if (v >= 7) fe_skip_forgotten(r);
    if (v >= 11) (void)rd_string(r);                        /* rack_id (KIP-392), unused */
    return rd_ok(r);
}

/* ---- writing into already-written response bytes ------------------------------ */

static void fe_patch_i16(kl_writer_t *out, size_t at, int16_t val)
{
    if (!wr_ok(out) || at + 2 > out->len)
        return;
    kl_be16_write(out->buf + at, val);
}

static void fe_patch_i64(kl_writer_t *out, size_t at, int64_t val)
{
    if (!wr_ok(out) || at + 8 > out->len)
        return;
    kl_be64_write(out->buf + at, val);
}

/* The sink the store reads into: each reserve grows the response writer, and an
 * unreserve takes back what a read did not use; a splice appends a file range by
 * reference, sent later with sendfile(2) (see ports.h). */
static uint8_t *fe_sink_reserve(void *arg, size_t n)
{
    return wr_reserve((kl_writer_t *)arg, n);
}

static void fe_sink_unreserve(void *arg, size_t n)
{
    kl_writer_t *out = arg;
    wr_truncate(out, n <= out->len ? out->len - n : 0);
}

static bool fe_sink_splice(void *arg, int fd, int64_t offset, size_t n)
{
    return wr_splice((kl_writer_t *)arg, fd, offset, n);
}

/* ---- one partition -------------------------------------------------------------- */

/* The response is already full: report the partition's offsets without reading it,
 * as Kafka does (such partitions come back empty, with their high watermark). */
static kl_err_t fe_offsets_only(kl_broker_t *b, const char *topic,
                                const fe_partition_req_t *p, kl_fetch_result_t *res)
{
    kl_partition_t *part = broker_find_partition(b, topic, p->index);
    if (part == NULL)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    res->high_watermark = part->offsets.high_watermark;
    res->last_stable_offset = part->offsets.high_watermark;
    res->log_start_offset = part->offsets.log_start;
    return partition_check_fetch_offset(&part->offsets, p->fetch_offset);
}

/* Read one partition's batches into `out` under the KIP-74 limits (see the top). */
static kl_err_t fe_read_records(kl_broker_t *b, const char *topic, const fe_partition_req_t *p,
                                fe_state_t *st, kl_writer_t *out, kl_fetch_result_t *res)
{
    int64_t limit = p->max_bytes < st->budget ? p->max_bytes : st->budget;
    if (limit < 0)
        limit = 0;
    if (st->have_data && limit == 0)
        return fe_offsets_only(b, topic, p, res);

    size_t start = out->len;
    kl_buf_sink_t sink = { out, fe_sink_reserve, fe_sink_unreserve, fe_sink_splice };
    kl_err_t err = fetch_partition(b, topic, p->index, p->fetch_offset, (int32_t)limit,
                                   &sink, res);
    if (err != KL_OK || !wr_ok(out)) {
        wr_truncate(out, start);
        res->bytes = 0;
        return err != KL_OK ? err : KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    /* Only the first partition with data may exceed the limit (one whole batch). */
    if (st->have_data && res->bytes > (size_t)limit) {
        wr_truncate(out, start);
        res->bytes = 0;
    }
    return KL_OK;
}

static void fe_partition(kl_broker_t *b, kl_str_t topic, const fe_partition_req_t *p,
                         int16_t v, fe_state_t *st, kl_writer_t *out)
{
    wr_i32(out, p->index);                                  /* partition_index */
    size_t at = out->len;                 /* error_code and offsets: patched below */
    wr_i16(out, KL_OK);                                     /* error_code */
    wr_i64(out, -1);                                        /* high_watermark */
    if (v >= 4) wr_i64(out, -1);                            /* last_stable_offset */
    if (v >= 5) wr_i64(out, -1);                            /* log_start_offset */
    if (v >= 4) wr_array_len(out, 0);                       /* aborted_transactions */
    if (v >= 11) wr_i32(out, -1);                           /* preferred_read_replica (KIP-392) */
    size_t records_at = wr_placeholder_i32(out);            /* records: int32 length */

    kl_fetch_result_t res = { -1, -1, -1, 0 };
    char name[KL_TOPIC_NAME_MAX + 1];
    kl_err_t err = KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;       /* a name too long for a topic */
    if (kl_str_copy(topic, name, sizeof name))
        err = fe_read_records(b, name, p, st, out, &res);

    fe_patch_i16(out, at, (int16_t)err);
    fe_patch_i64(out, at + 2, res.high_watermark);
    if (v >= 4) fe_patch_i64(out, at + 10, res.last_stable_offset);
    if (v >= 5) fe_patch_i64(out, at + 18, res.log_start_offset);
    wr_patch_i32(out, records_at, (int32_t)res.bytes);

    if (err != KL_OK)
        st->any_error = true;
    if (res.bytes > 0) {
        st->have_data = true;
        st->budget -= (int64_t)res.bytes;
        st->total += (int64_t)res.bytes;
    }
}

static void fe_process(kl_broker_t *b, const fe_request_t *q, int16_t v, fe_state_t *st,
                       kl_writer_t *out)
{
    kl_reader_t r = q->topics;
    int32_t nt = rd_array_len_required(&r);
    wr_array_len(out, nt);                                  /* responses */
    for (int32_t i = 0; i < nt; i++) {
        kl_str_t topic = rd_string(&r);
        int32_t np = rd_array_len_required(&r);
        wr_string(out, topic.ptr, topic.len);
        wr_array_len(out, np);
        for (int32_t j = 0; j < np; j++) {
            fe_partition_req_t p = fe_read_partition(&r, v);
            fe_partition(b, topic, &p, v, st, out);
        }
    }
}

/* Wait for more data? Only while the deadline (first attempt + max_wait_ms) is ahead. */
static bool fe_should_park(const kl_request_t *req, const fe_request_t *q, const fe_state_t *st)
{
    if (st->any_error || st->total >= q->min_bytes || q->max_wait_ms <= 0)
        return false;
    if (req->final_attempt)
        return false;
    return req->now_ms < req->first_attempt_ms + q->max_wait_ms;
}

kl_reply_t fetch_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    fe_request_t q;
    if (!fe_decode(body, v, &q))
        return KL_REPLY_CLOSE;
    size_t entry_len = out->len;          /* dispatch's response header precedes us */

    fe_state_t st = { q.max_bytes, false, 0, false };
    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    if (v >= 7) wr_i16(out, KL_OK);                         /* error_code */
    if (v >= 7) wr_i32(out, 0);                             /* session_id: none (KIP-227) */
    fe_process(req->broker, &q, v, &st, out);

    if (fe_should_park(req, &q, &st)) {
        wr_truncate(out, entry_len);
        req->park_until_ms = req->first_attempt_ms + q.max_wait_ms;
        return KL_REPLY_PARK;
    }
    return KL_REPLY_SEND;
}
