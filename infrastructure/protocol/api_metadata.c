/*
 * infrastructure/protocol/api_metadata.c — the Metadata API (key 3), versions 0-8:
 * which brokers exist, and which topics and partitions they lead.
 * Layer: infrastructure (protocol adapter). May touch: application/usecases.h (the
 * metadata use case), application/broker.h (the topic registry, read only), wire.h, api.h.
 *
 * A single-broker cluster answers with itself everywhere: one broker in `brokers`,
 * itself as controller, and for every partition itself as leader, only replica and
 * only in-sync replica. Versions 0-8 are all non-flexible (KIP-482 starts at v9), so
 * every field uses the classic encodings.
 *
 * Decoding is a separate pass over the whole body before anything happens, so a
 * truncated request never auto-creates a topic (the reader is a plain view: copying it
 * and walking the copy twice costs nothing and allocates nothing).
 */
#include <stdint.h>
#include <string.h>

#include "application/usecases.h"
#include "infrastructure/protocol/api.h"

/* Kafka's AclOperation codes (org.apache.kafka.common.acl.AclOperation). */
enum {
    MD_OP_READ = 3, MD_OP_WRITE = 4, MD_OP_CREATE = 5, MD_OP_DELETE = 6, MD_OP_ALTER = 7,
    MD_OP_DESCRIBE = 8, MD_OP_CLUSTER_ACTION = 9, MD_OP_DESCRIBE_CONFIGS = 10,
    MD_OP_ALTER_CONFIGS = 11, MD_OP_IDEMPOTENT_WRITE = 12,
};

/* KIP-430: "authorized operations" is a bitfield of AclOperation codes; INT32_MIN
 * means "not requested". Klamm has no authorizer, so every operation Kafka supports
 * on the resource is allowed, which is what Kafka answers without an authorizer. */
#define MD_OPS_NOT_REQUESTED INT32_MIN
#define MD_BIT(op) ((int32_t)1 << (op))
#define MD_TOPIC_OPS (MD_BIT(MD_OP_READ) | MD_BIT(MD_OP_WRITE) | MD_BIT(MD_OP_CREATE) |      \
                      MD_BIT(MD_OP_DELETE) | MD_BIT(MD_OP_ALTER) | MD_BIT(MD_OP_DESCRIBE) |  \
                      MD_BIT(MD_OP_DESCRIBE_CONFIGS) | MD_BIT(MD_OP_ALTER_CONFIGS))
#define MD_CLUSTER_OPS (MD_BIT(MD_OP_CREATE) | MD_BIT(MD_OP_ALTER) | MD_BIT(MD_OP_DESCRIBE) | \
                        MD_BIT(MD_OP_CLUSTER_ACTION) | MD_BIT(MD_OP_DESCRIBE_CONFIGS) |      \
                        MD_BIT(MD_OP_ALTER_CONFIGS) | MD_BIT(MD_OP_IDEMPOTENT_WRITE))

/* The decoded request: scalars, plus a reader positioned on the topic names. */
typedef struct md_request {
    bool all_topics;             /* v0: empty array; v1+: null array */
    int32_t topic_count;         /* when !all_topics */
    kl_reader_t names;           /* the topic names, `topic_count` strings */
    bool allow_auto_create;      /* v4+; before v4 the broker may auto-create */
    bool include_cluster_ops;    /* v8 */
    bool include_topic_ops;      /* v8 */
} md_request_t;

static bool md_decode(kl_reader_t *r, int16_t v, md_request_t *q)
{
    int32_t n = rd_array_len(r);
    if (v == 0 && n < 0)
        rd_fail(r);              /* v0 topics is not nullable: "all" is the empty array */
    q->all_topics = (v == 0) ? n == 0 : n < 0;
    q->topic_count = n < 0 ? 0 : n;
    q->names = *r;
    for (int32_t i = 0; i < q->topic_count; i++)
        (void)rd_string(r);
    q->allow_auto_create = true;
    if (v >= 4) q->allow_auto_create = rd_i8(r) != 0;
    q->include_cluster_ops = false;
    q->include_topic_ops = false;
    if (v >= 8) q->include_cluster_ops = rd_i8(r) != 0;
    if (v >= 8) q->include_topic_ops = rd_i8(r) != 0;
    return rd_ok(r);
}

static void md_write_brokers(const kl_broker_config_t *cfg, int16_t v, kl_writer_t *out)
{
    wr_array_len(out, 1);
    wr_i32(out, cfg->node_id);
    wr_cstr(out, false, cfg->advertised_host);
    wr_i32(out, cfg->advertised_port);
    if (v >= 1) wr_nullable_string(out, NULL, -1);          /* rack: none */
}

/* KIP-78's cluster id; an unset one (empty) is sent as null, which the field allows. */
static void md_write_cluster_id(const kl_broker_config_t *cfg, kl_writer_t *out)
{
    size_t n = strnlen(cfg->cluster_id, sizeof cfg->cluster_id);
    wr_nullable_string(out, cfg->cluster_id, n > 0 ? (int32_t)n : -1);
}

/* One broker is leader, replica set and ISR of every partition. */
static void md_write_partition(const kl_partition_t *p, int32_t node, int16_t v,
                               kl_writer_t *out)
{
    wr_i16(out, KL_OK);
    wr_i32(out, p->index);
    wr_i32(out, node);                                      /* leader_id */
    if (v >= 7) wr_i32(out, 0);                             /* leader_epoch (KIP-320) */
    wr_array_len(out, 1);                                   /* replica_nodes */
    wr_i32(out, node);
    wr_array_len(out, 1);                                   /* isr_nodes */
    wr_i32(out, node);
    if (v >= 5) wr_array_len(out, 0);                       /* offline_replicas */
}

/* A topic entry. `t` NULL (with an error) writes the name as asked and no partitions. */
static void md_write_topic(const md_request_t *q, kl_err_t err, kl_str_t name,
                           const kl_topic_t *t, int32_t node, int16_t v, kl_writer_t *out)
{
    wr_i16(out, (int16_t)err);
    wr_string(out, name.ptr, name.len);
    if (v >= 1) wr_i8(out, 0);                              /* is_internal: none are */
    int32_t np = t != NULL ? t->meta.partition_count : 0;
    wr_array_len(out, np);
    for (int32_t i = 0; i < np; i++)
        md_write_partition(&t->partitions[i], node, v, out);
    if (v >= 8) wr_i32(out, q->include_topic_ops ? MD_TOPIC_OPS : MD_OPS_NOT_REQUESTED);
}

static kl_str_t md_topic_name(const kl_topic_t *t)
{
    kl_str_t s = { t->meta.name, (int32_t)strnlen(t->meta.name, sizeof t->meta.name) };
    return s;
}

static void md_write_all_topics(kl_broker_t *b, const md_request_t *q, int16_t v,
                                kl_writer_t *out)
{
    wr_array_len(out, (int32_t)HASH_COUNT(b->topics));
    for (kl_topic_t *t = b->topics; t != NULL; t = t->hh.next)
        md_write_topic(q, KL_OK, md_topic_name(t), t, b->config.node_id, v, out);
}

/* Requested topics: look each up (auto-creating when allowed). A name that does not
 * fit Kafka's 249-character limit cannot exist: INVALID_TOPIC_EXCEPTION. */
static void md_write_requested_topics(kl_broker_t *b, const md_request_t *q, int16_t v,
                                      kl_writer_t *out)
{
    kl_reader_t names = q->names;
    wr_array_len(out, q->topic_count);
    for (int32_t i = 0; i < q->topic_count; i++) {
        kl_str_t name = rd_string(&names);
        char cname[KL_TOPIC_NAME_MAX + 1];
        kl_topic_t *t = NULL;
        kl_err_t err = KL_ERR_INVALID_TOPIC_EXCEPTION;
        if (kl_str_copy(name, cname, sizeof cname))
            err = metadata_find_topic(b, cname, q->allow_auto_create, &t);
        md_write_topic(q, err, name, err == KL_OK ? t : NULL, b->config.node_id, v, out);
    }
}

kl_reply_t metadata_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    kl_broker_t *b = req->broker;
    const kl_broker_config_t *cfg = &b->config;
    int16_t v = req->header.api_version;
    md_request_t q;
    if (!md_decode(body, v, &q))
        return KL_REPLY_CLOSE;

    if (v >= 3) wr_i32(out, 0);                             /* throttle_time_ms */
    md_write_brokers(cfg, v, out);
    if (v >= 2) md_write_cluster_id(cfg, out);
    if (v >= 1) wr_i32(out, cfg->node_id);                  /* controller_id: ourselves */
    if (q.all_topics)
        md_write_all_topics(b, &q, v, out);
    else
        md_write_requested_topics(b, &q, v, out);
    if (v >= 8) wr_i32(out, q.include_cluster_ops ? MD_CLUSTER_OPS : MD_OPS_NOT_REQUESTED);
    return KL_REPLY_SEND;
}
