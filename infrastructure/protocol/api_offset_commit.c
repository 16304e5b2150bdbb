/*
 * infrastructure/protocol/api_offset_commit.c — the OffsetCommit API (key 8), versions
 * 0-7: a group stores the positions its consumers reached.
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_commit_offsets), application/broker.h (topic existence, read only), wire.h,
 * api.h.
 *
 * Rules this file implements, by name:
 *  - Partitions of topics this broker does not have, or beyond a topic's partition
 *    count, get UNKNOWN_TOPIC_OR_PARTITION and are not committed; the others are
 *    committed together in one coordinator call (one durable append, all or nothing),
 *    and all get its error code (group errors such as ILLEGAL_GENERATION or
 *    REBALANCE_IN_PROGRESS apply to every partition, as in Kafka).
 *  - v0 has no generation or member: a "simple" commit (generation -1, member "").
 *    v1+ carry generation_id and member_id; v7 adds group_instance_id (KIP-345).
 *  - retention_time_ms (v2-4) is read and ignored: retention is the broker's business
 *    since KIP-211 (v5 removed the field). commit_timestamp (v1 only) is ignored too:
 *    the coordinator stamps commits with its own clock.
 *  - committed_leader_epoch (v6+, KIP-320) is read and not stored: one broker, one
 *    leader epoch; OffsetFetch answers -1.
 *  - A null metadata string is stored as "" (Kafka's NO_METADATA).
 *  - v3+ add throttle_time_ms (always 0).
 * Versions 0-7 are all non-flexible (KIP-482 starts at v8): classic encodings only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct oc_request {
    kl_str_t group_id;
    int32_t generation_id;           /* v1+; -1 (simple commit) before */
    kl_str_t member_id;              /* v1+; "" before */
    kl_str_t group_instance_id;      /* v7+ (KIP-345); null before */
    int64_t retention_time_ms;       /* v2-4; ignored */
    int32_t topic_count;
    kl_reader_t topics;
    size_t partition_count;          /* over all topics */
    size_t string_bytes;             /* topic names and metadata, each + NUL */
} oc_request_t;

typedef struct oc_partition {
    int32_t index;
    int64_t offset;
    int32_t leader_epoch;            /* v6+ (KIP-320); -1 before */
    int64_t commit_timestamp;        /* v1 only; ignored */
    kl_str_t metadata;               /* nullable */
} oc_partition_t;

/* What goes to the coordinator, and each request partition's answer. */
typedef struct oc_batch {
    kl_offset_commit_t *commits;     /* the partitions that exist */
    size_t count;
    kl_err_t *errors;                /* one per request partition, in request order */
    char *strings;                   /* NUL-terminated copies the commits point at */
    size_t used;
} oc_batch_t;

static oc_partition_t oc_read_partition(kl_reader_t *r, int16_t v)
{
    oc_partition_t p;
    p.index = rd_i32(r);
    p.offset = rd_i64(r);
    p.leader_epoch = -1;
    if (v >= 6) p.leader_epoch = rd_i32(r);
    p.commit_timestamp = -1;
    if (v == 1) p.commit_timestamp = rd_i64(r);
    p.metadata = rd_nullable_string(r);
    return p;
}

/* Step over the topics, counting partitions and the bytes their strings need. */
static void oc_scan_topics(kl_reader_t *r, int16_t v, oc_request_t *q)
{
    q->partition_count = 0;
    q->string_bytes = 0;
    for (int32_t i = 0; i < q->topic_count && rd_ok(r); i++) {
        kl_str_t name = rd_string(r);
        int32_t np = rd_array_len(r);
        if (np < 0)
            rd_fail(r);                                     /* not a nullable array */
        q->string_bytes += (size_t)name.len + 1;
        for (int32_t j = 0; j < np && rd_ok(r); j++) {
            oc_partition_t p = oc_read_partition(r, v);
            q->string_bytes += (p.metadata.len > 0 ? (size_t)p.metadata.len : 0) + 1;
        }
        q->partition_count += np > 0 ? (size_t)np : 0;
    }
}

static bool oc_decode(kl_reader_t *r, int16_t v, oc_request_t *q)
{
    q->group_id = rd_string(r);
    q->generation_id = -1;
    if (v >= 1) q->generation_id = rd_i32(r);
    q->member_id = (kl_str_t){ "", 0 };
    if (v >= 1) q->member_id = rd_string(r);
    q->group_instance_id = (kl_str_t){ NULL, -1 };
    if (v >= 7) q->group_instance_id = rd_nullable_string(r);
    q->retention_time_ms = -1;
    if (v >= 2 && v <= 4) q->retention_time_ms = rd_i64(r);
    q->topic_count = rd_array_len(r);
    if (q->topic_count < 0)
        rd_fail(r);
    q->topics = *r;
    oc_scan_topics(r, v, q);
    return rd_ok(r);
}

/* ---- the batch ------------------------------------------------------------------ */

static void oc_batch_free(oc_batch_t *b)
{
    free(b->commits);
    free(b->errors);
    free(b->strings);
    memset(b, 0, sizeof *b);
}

static bool oc_batch_alloc(oc_batch_t *b, const oc_request_t *q)
{
    memset(b, 0, sizeof *b);
    b->commits = calloc(q->partition_count + 1, sizeof *b->commits);
    b->errors = calloc(q->partition_count + 1, sizeof *b->errors);
    b->strings = malloc(q->string_bytes + 1);
    if (b->commits == NULL || b->errors == NULL || b->strings == NULL) {
        oc_batch_free(b);
        return false;
    }
    return true;
}

/* Copy `s` (null reads as "") into the batch's strings; the scan sized them. */
static const char *oc_batch_str(oc_batch_t *b, kl_str_t s)
{
    char *dst = b->strings + b->used;
    size_t n = s.ptr != NULL && s.len > 0 ? (size_t)s.len : 0;
    if (n > 0)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
    b->used += n + 1;
    return dst;
}

/* Sort the request's partitions into commits (they exist) and errors (they do not). */
static void oc_collect(kl_broker_t *broker, const oc_request_t *q, int16_t v, oc_batch_t *b)
{
    kl_reader_t r = q->topics;
    size_t k = 0;
    for (int32_t i = 0; i < q->topic_count; i++) {
        const char *topic = oc_batch_str(b, rd_string(&r));
        int32_t np = rd_array_len(&r);
        for (int32_t j = 0; j < np; j++, k++) {
            oc_partition_t p = oc_read_partition(&r, v);
            const char *metadata = oc_batch_str(b, p.metadata);
            if (broker_find_partition(broker, topic, p.index) == NULL) {
                b->errors[k] = KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            kl_offset_commit_t c = { topic, p.index, p.offset, metadata };
            b->commits[b->count++] = c;
            b->errors[k] = KL_OK;           /* replaced by the commit's result */
        }
    }
}

static void oc_apply_result(oc_batch_t *b, size_t partitions, kl_err_t err)
{
    for (size_t k = 0; k < partitions; k++)
        if (b->errors[k] == KL_OK)
            b->errors[k] = err;
}

static void oc_write(kl_writer_t *out, const oc_request_t *q, int16_t v, const oc_batch_t *b)
{
    kl_reader_t r = q->topics;
    size_t k = 0;
    if (v >= 3) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_array_len(out, q->topic_count);                      /* topics */
    for (int32_t i = 0; i < q->topic_count; i++) {
        kl_str_t name = rd_string(&r);
        int32_t np = rd_array_len(&r);
        wr_string(out, name.ptr, name.len);                 /* name */
        wr_array_len(out, np);                              /* partitions */
        for (int32_t j = 0; j < np; j++, k++) {
            oc_partition_t p = oc_read_partition(&r, v);
            wr_i32(out, p.index);                           /* partition_index */
            wr_i16(out, (int16_t)b->errors[k]);             /* error_code */
        }
    }
}

kl_reply_t offset_commit_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    oc_request_t q;
    oc_batch_t b;
    if (!oc_decode(body, v, &q))
        return KL_REPLY_CLOSE;
    char *ids = malloc((size_t)q.group_id.len + (size_t)q.member_id.len +
                       (q.group_instance_id.ptr ? (size_t)q.group_instance_id.len : 0) + 3);
    if (ids == NULL || !oc_batch_alloc(&b, &q)) {
        free(ids);
        return KL_REPLY_CLOSE;              /* out of memory: as dispatch does */
    }
    /* The group's strings share one buffer, laid out like the batch's. */
    oc_batch_t idbuf = { NULL, 0, NULL, ids, 0 };
    const char *group_id = oc_batch_str(&idbuf, q.group_id);
    const char *member_id = oc_batch_str(&idbuf, q.member_id);
    const char *instance_id = q.group_instance_id.ptr != NULL
                                  ? oc_batch_str(&idbuf, q.group_instance_id) : NULL;

    oc_collect(req->broker, &q, v, &b);
    kl_err_t err = KL_OK;
    if (b.count > 0)
        err = coord_commit_offsets(req->coord, group_id, q.generation_id, member_id,
                                   instance_id, b.commits, b.count);
    oc_apply_result(&b, q.partition_count, err);
    oc_write(out, &q, v, &b);
    oc_batch_free(&b);
    free(ids);
    return KL_REPLY_SEND;
}
