/*
 * infrastructure/protocol/api_delete_topics.c — the DeleteTopics API (key 20), versions
 * 0-5: delete topics by name (admin clients: KafkaAdminClient.delete_topics,
 * admin.deleteTopics).
 * Layer: infrastructure (protocol adapter). May touch: application/usecases.h (the
 * delete_topic use case), logging, wire.h, api.h.
 *
 * Versions (DeleteTopicsRequest.json / DeleteTopicsResponse.json):
 *   v0      topic_names, timeout_ms → per topic name, error_code
 *   v1      + throttle_time_ms in the response (always 0 here)
 *   v2, v3  the same fields (v2: throttling after the response, KIP-219; v3: may answer
 *           TOPIC_DELETION_DISABLED, which Klamm never does: deletion is always enabled)
 *   v4      flexible (KIP-482): compact strings and arrays, tagged-field sections
 *   v5      + error_message per result (KIP-599)
 * v6 names topics by id as well (KIP-516); Klamm keeps no topic ids, so it stops at v5.
 *
 * Kafka's request rules implemented here, before the use case sees a name:
 *  - a name listed twice in one request is INVALID_REQUEST ("Duplicate topic name.", as
 *    Kafka's ControllerApis answers) for every entry of it, and that topic is kept;
 *  - a name longer than any topic name is UNKNOWN_TOPIC_OR_PARTITION (no such topic).
 * timeout_ms is read and ignored: on one broker deletion is synchronous, complete when
 * the answer leaves (as CreateTopics' timeout here).
 * Failing to forget the groups' offsets of a deleted topic does not change its answer
 * (the topic is gone); it is logged.
 */
#include <stdint.h>
#include <string.h>

#include "application/usecases.h"
#include "infrastructure/protocol/api.h"

#define DT_MOD "delete_topics"

/* The decoded request: a reader positioned on the names, and the scalar after them. */
typedef struct dt_request {
    kl_reader_t names;           /* the topic_names array, from its count on */
    int32_t timeout_ms;
} dt_request_t;

static bool dt_decode(kl_reader_t *r, bool flex, dt_request_t *q)
{
    q->names = *r;
    int32_t n = rd_arr(r, flex);                            /* topic_names */
    if (n < 0)
        rd_fail(r);                                         /* not nullable */
    for (int32_t i = 0; i < n; i++)
        (void)rd_str(r, flex);
    q->timeout_ms = rd_i32(r);                              /* timeout_ms */
    rd_tags(r, flex);
    return rd_ok(r);
}

static bool dt_str_eq(kl_str_t a, kl_str_t b)
{
    return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

/* How many entries of the request carry `name` (O(n) per call: admin requests name a
 * handful of topics, and it needs no allocation). */
static int32_t dt_name_count(const dt_request_t *q, bool flex, kl_str_t name)
{
    kl_reader_t r = q->names;
    int32_t n = rd_arr(&r, flex), count = 0;
    for (int32_t i = 0; i < n; i++)
        if (dt_str_eq(rd_str(&r, flex), name))
            count++;
    return count;
}

static kl_err_t dt_delete(kl_request_t *req, const dt_request_t *q, kl_str_t name)
{
    char topic[KL_TOPIC_NAME_MAX + 1];
    if (dt_name_count(q, req->flexible, name) > 1)
        return KL_ERR_INVALID_REQUEST;
    if (!kl_str_copy(name, topic, sizeof topic))
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;          /* longer than any topic */
    kl_err_t offsets_err = KL_OK;
    kl_err_t err = delete_topic(req->broker, req->coord, topic, &offsets_err);
    if (offsets_err != KL_OK)
        KL_LOG_WARNING(req->log, DT_MOD, "topic %s deleted, but the groups' committed "
                       "offsets of it were not durably removed (%s): they come back at "
                       "the next start", topic, kl_err_name(offsets_err));
    return err;
}

/* error_message (v5+): Kafka's own text for the errors DeleteTopics answers. */
static const char *dt_error_message(kl_err_t err)
{
    switch (err) {
    case KL_OK: return NULL;
    case KL_ERR_INVALID_REQUEST: return "Duplicate topic name.";
    case KL_ERR_UNKNOWN_TOPIC_OR_PARTITION:
        return "This server does not host this topic-partition.";
    case KL_ERR_KAFKA_STORAGE_ERROR:
        return "Disk error when trying to access log file on the disk.";
    default: return kl_err_name(err);
    }
}

static void dt_write_result(kl_writer_t *out, int16_t v, bool flex, kl_str_t name,
                            kl_err_t err)
{
    const char *msg = dt_error_message(err);
    wr_str(out, flex, name.ptr, name.len);                  /* name */
    wr_i16(out, (int16_t)err);                              /* error_code */
    if (v >= 5)                                             /* error_message */
        wr_nstr(out, flex, msg, msg != NULL ? (int32_t)strlen(msg) : -1);
    wr_tags(out, flex);
}

kl_reply_t delete_topics_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    bool flex = req->flexible;
    dt_request_t q;
    if (!dt_decode(body, flex, &q))
        return KL_REPLY_CLOSE;

    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    kl_reader_t r = q.names;
    int32_t n = rd_arr(&r, flex);
    wr_arr(out, flex, n);                                   /* responses */
    for (int32_t i = 0; i < n; i++) {
        kl_str_t name = rd_str(&r, flex);
        dt_write_result(out, v, flex, name, dt_delete(req, &q, name));
    }
    wr_tags(out, flex);
    return KL_REPLY_SEND;
}
