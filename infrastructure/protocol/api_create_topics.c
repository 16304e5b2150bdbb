/*
 * infrastructure/protocol/api_create_topics.c — the CreateTopics API (key 19), versions
 * 0-4: create topics with a partition count (or a manual assignment) and configs.
 * Layer: infrastructure (protocol adapter). May touch: application/usecases.h (the
 * create_topic use case), wire.h, api.h.
 *
 * Kafka's request rules implemented here, before the use case sees a topic:
 *  - A name listed twice in one request is INVALID_REQUEST for every entry of it.
 *  - A manual assignment (a non-empty `assignments`) excludes num_partitions and
 *    replication_factor, which must both be -1 (else INVALID_REQUEST). On one broker
 *    it is valid only when its partition indexes are 0..n-1 (any order, each once) and
 *    each lists exactly this broker; the count is then n (else INVALID_REPLICA_ASSIGNMENT).
 *  - A config with a null value is INVALID_CONFIG.
 * num_partitions / replication_factor -1 mean "broker default" in every version (KIP-464
 * made v4 clients send it without an assignment; older clients never do).
 * timeout_ms is ignored: creation is synchronous on one broker.
 * Versions 0-4 are all non-flexible (KIP-482 starts at v5): classic encodings only.
 */
#include <stdint.h>
#include <string.h>

#include "application/usecases.h"
#include "infrastructure/protocol/api.h"

/* The decoded request: a reader positioned on the topics array, and the scalars after it. */
typedef struct ct_request {
    kl_reader_t topics;
    int32_t topic_count;
    int32_t timeout_ms;
    bool validate_only;          /* v1+ */
} ct_request_t;

/* One topic entry; `assignments` and `configs` are readers on those arrays. */
typedef struct ct_topic {
    kl_str_t name;
    int32_t num_partitions;
    int16_t replication_factor;
    int32_t assignment_count;
    kl_reader_t assignments;
    int32_t config_count;
    kl_reader_t configs;
} ct_topic_t;

/* Read one topic entry, stepping over its arrays (kept as readers for later). */
static ct_topic_t ct_read_topic(kl_reader_t *r)
{
    ct_topic_t t;
    t.name = rd_string(r);
    t.num_partitions = rd_i32(r);
    t.replication_factor = rd_i16(r);
    t.assignment_count = rd_array_len_required(r);
    t.assignments = *r;
    for (int32_t i = 0; i < t.assignment_count; i++) {
        (void)rd_i32(r);                                    /* partition_index */
        int32_t nb = rd_array_len_required(r);
        for (int32_t j = 0; j < nb; j++)
            (void)rd_i32(r);                                /* broker_ids */
    }
    t.config_count = rd_array_len_required(r);
    t.configs = *r;
    for (int32_t i = 0; i < t.config_count; i++) {
        (void)rd_string(r);                                 /* name */
        (void)rd_nullable_string(r);                        /* value */
    }
    return t;
}

static bool ct_decode(kl_reader_t *r, int16_t v, ct_request_t *q)
{
    q->topics = *r;
    q->topic_count = rd_array_len_required(r);
    for (int32_t i = 0; i < q->topic_count; i++)
        (void)ct_read_topic(r);
    q->timeout_ms = rd_i32(r);
    q->validate_only = false;
    if (v >= 1) q->validate_only = rd_i8(r) != 0;
    return rd_ok(r);
}

/* ---- the per-topic rules ------------------------------------------------------- */

static bool ct_str_eq(kl_str_t a, kl_str_t b)
{
    return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

/* How many entries of the request carry `name`. O(topics) per call, so O(n^2) per
 * request: admin requests name a handful of topics, and it needs no allocation. */
static int32_t ct_name_count(const ct_request_t *q, kl_str_t name)
{
    kl_reader_t r = q->topics;
    int32_t n = rd_array_len_required(&r), count = 0;
    for (int32_t i = 0; i < n; i++) {
        ct_topic_t t = ct_read_topic(&r);
        if (ct_str_eq(t.name, name))
            count++;
    }
    return count;
}

/* The manual assignment rule (see the top); on success *partitions = the count.
 * Partitions may be listed in any order (Kafka keys them by index), so the indexes seen
 * are marked in a bitmap on the stack: KL_PARTITIONS_MAX bits, no allocation. */
static kl_err_t ct_check_assignment(const ct_topic_t *t, int32_t node, int32_t *partitions)
{
    uint8_t seen[KL_PARTITIONS_MAX / 8 + 1] = { 0 };
    int32_t n = t->assignment_count;
    if (t->num_partitions != -1 || t->replication_factor != -1)
        return KL_ERR_INVALID_REQUEST;
    if (n > KL_PARTITIONS_MAX)
        return KL_ERR_INVALID_PARTITIONS;
    kl_reader_t r = t->assignments;
    for (int32_t i = 0; i < n; i++) {
        int32_t index = rd_i32(&r);
        int32_t nb = rd_array_len_required(&r);
        bool only_us = nb == 1;
        for (int32_t j = 0; j < nb; j++)
            if (rd_i32(&r) != node)
                only_us = false;
        if (index < 0 || index >= n || (seen[index / 8] & (1u << (index % 8))) || !only_us)
            return KL_ERR_INVALID_REPLICA_ASSIGNMENT;
        seen[index / 8] |= (uint8_t)(1u << (index % 8));
    }
    *partitions = n;
    return KL_OK;
}

/* Copy the configs into `out` (NUL-terminated, as the use case wants them). */
static kl_err_t ct_copy_configs(const ct_topic_t *t, kl_config_entry_t *out)
{
    if (t->config_count > KL_TOPIC_CONFIGS_MAX)
        return KL_ERR_INVALID_CONFIG;
    kl_reader_t r = t->configs;
    for (int32_t i = 0; i < t->config_count; i++) {
        kl_str_t key = rd_string(&r);
        kl_str_t value = rd_nullable_string(&r);
        if (value.len < 0)
            return KL_ERR_INVALID_CONFIG;                   /* null values are refused */
        if (!kl_str_copy(key, out[i].key, sizeof out[i].key) ||
            !kl_str_copy(value, out[i].value, sizeof out[i].value))
            return KL_ERR_INVALID_CONFIG;
    }
    return KL_OK;
}

static kl_err_t ct_create(kl_broker_t *b, const ct_request_t *q, const ct_topic_t *t)
{
    char name[KL_TOPIC_NAME_MAX + 1];
    kl_config_entry_t configs[KL_TOPIC_CONFIGS_MAX];
    int32_t partitions = t->num_partitions;
    int16_t replication = t->replication_factor;
    if (ct_name_count(q, t->name) > 1)
        return KL_ERR_INVALID_REQUEST;
    if (!kl_str_copy(t->name, name, sizeof name))
        return KL_ERR_INVALID_TOPIC_EXCEPTION;              /* longer than 249 */
    if (t->assignment_count > 0) {
        kl_err_t err = ct_check_assignment(t, b->config.node_id, &partitions);
        if (err != KL_OK)
            return err;
        replication = 1;
    }
    kl_err_t err = ct_copy_configs(t, configs);
    if (err != KL_OK)
        return err;
    kl_topic_t *created = NULL;
    return create_topic(b, name, partitions, replication, configs, t->config_count,
                        q->validate_only, &created);
}

/* A sentence for error_message (v1+): what the client prints. */
static const char *ct_error_message(kl_err_t err)
{
    switch (err) {
    case KL_OK: return NULL;
    case KL_ERR_INVALID_REQUEST:
        return "Invalid request: the topic is listed more than once, or has both an "
               "assignment and a partition count or replication factor";
    case KL_ERR_INVALID_REPLICA_ASSIGNMENT:
        return "Replica assignment must number partitions 0..n-1 and place each on this "
               "broker alone";
    case KL_ERR_INVALID_CONFIG:
        return "Invalid config: too many, too long, or a null value";
    default:
        return kl_err_name(err);
    }
}

static void ct_write_result(kl_str_t name, kl_err_t err, int16_t v, kl_writer_t *out)
{
    const char *msg = ct_error_message(err);
    wr_string(out, name.ptr, name.len);                     /* name */
    wr_i16(out, (int16_t)err);                              /* error_code */
    if (v >= 1) wr_nullable_string(out, msg, msg != NULL ? (int32_t)strlen(msg) : -1);
}

kl_reply_t create_topics_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    ct_request_t q;
    if (!ct_decode(body, v, &q))
        return KL_REPLY_CLOSE;

    if (v >= 2) wr_i32(out, 0);                             /* throttle_time_ms */
    kl_reader_t r = q.topics;
    int32_t nt = rd_array_len_required(&r);
    wr_array_len(out, nt);                                  /* topics */
    for (int32_t i = 0; i < nt; i++) {
        ct_topic_t t = ct_read_topic(&r);
        kl_err_t err = ct_create(req->broker, &q, &t);
        ct_write_result(t.name, err, v, out);
    }
    return KL_REPLY_SEND;
}
