/*
 * application/create_topics.c — the CreateTopics use case for one topic: validate,
 * persist through the store, register in the broker.
 * Layer: application. May touch: domain/, application/ (the log_store port), <stdlib.h>,
 * <string.h>.
 *
 * Kafka's checks, in its order (name first, then existence, then the numbers):
 *   name breaks the naming rule        → INVALID_TOPIC_EXCEPTION
 *   a topic of that name exists        → TOPIC_ALREADY_EXISTS
 *   partitions not >= 1 (or -1)        → INVALID_PARTITIONS     (-1: num.partitions)
 *   replication factor not 1 (or -1)   → INVALID_REPLICATION_FACTOR (-1: default; one
 *                                        broker cannot hold more than one replica)
 *   unknown config name or bad value   → INVALID_CONFIG (Kafka's LogConfig.validate)
 * validate_only (CreateTopics v1+) runs every check and stops before the store.
 * Durability first: the store persists the topic before the broker registers it, so a
 * topic a client saw created survives a restart. If opening its logs then fails, the
 * client gets the error and the topic appears at the next start (it is durable).
 */
#include <stdlib.h>
#include <string.h>

#include "application/usecases.h"

enum create_topics_cfg_kind {
    CT_CFG_LONG,        /* decimal integer within [min, max] */
    CT_CFG_BOOL,        /* true | false, any case (domain/topic.c:topic_config_bool) */
    CT_CFG_RATIO,       /* a decimal number within [0, 1] */
    CT_CFG_ONE_OF,      /* one of `choices` */
    CT_CFG_LIST_OF,     /* comma-separated, each one of `choices` (cleanup.policy) */
    CT_CFG_ANY,         /* a string Klamm keeps but does not interpret */
};

typedef struct create_topics_cfg_rule {
    const char *name;
    enum create_topics_cfg_kind kind;
    int64_t min;
    int64_t max;
    const char *const *choices;   /* NULL-terminated, for ONE_OF and LIST_OF */
} create_topics_cfg_rule_t;

static const char *const ct_cleanup_policies[] = { "delete", "compact", NULL };
static const char *const ct_compression_types[] = {
    "uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL };
static const char *const ct_timestamp_types[] = { "CreateTime", "LogAppendTime", NULL };

#define CT_INT_MAX 2147483647LL
#define CT_LONG_MAX 9223372036854775807LL
#define CT_LONG_MIN (-CT_LONG_MAX - 1)

/* Kafka's topic-level configs (TopicConfig / LogConfig) with its validators' bounds. */
static const create_topics_cfg_rule_t ct_cfg_rules[] = {
    { "cleanup.policy", CT_CFG_LIST_OF, 0, 0, ct_cleanup_policies },
    { "compression.type", CT_CFG_ONE_OF, 0, 0, ct_compression_types },
    { "delete.retention.ms", CT_CFG_LONG, 0, CT_LONG_MAX, NULL },
    { "file.delete.delay.ms", CT_CFG_LONG, 0, CT_LONG_MAX, NULL },
    { "flush.messages", CT_CFG_LONG, 1, CT_LONG_MAX, NULL },
    { "flush.ms", CT_CFG_LONG, 0, CT_LONG_MAX, NULL },
    { "index.interval.bytes", CT_CFG_LONG, 0, CT_INT_MAX, NULL },
    { "max.compaction.lag.ms", CT_CFG_LONG, 1, CT_LONG_MAX, NULL },
    { "max.message.bytes", CT_CFG_LONG, 0, CT_INT_MAX, NULL },
    { "message.downconversion.enable", CT_CFG_BOOL, 0, 0, NULL },
    { "message.format.version", CT_CFG_ANY, 0, 0, NULL },
    { "message.timestamp.difference.max.ms", CT_CFG_LONG, 0, CT_LONG_MAX, NULL },
    { "message.timestamp.type", CT_CFG_ONE_OF, 0, 0, ct_timestamp_types },
    { "min.cleanable.dirty.ratio", CT_CFG_RATIO, 0, 0, NULL },
    { "min.compaction.lag.ms", CT_CFG_LONG, 0, CT_LONG_MAX, NULL },
    { "min.insync.replicas", CT_CFG_LONG, 1, CT_INT_MAX, NULL },
    { "preallocate", CT_CFG_BOOL, 0, 0, NULL },
    { "retention.bytes", CT_CFG_LONG, CT_LONG_MIN, CT_LONG_MAX, NULL },  /* -1: no limit */
    { "retention.ms", CT_CFG_LONG, -1, CT_LONG_MAX, NULL },             /* -1: forever */
    { "segment.bytes", CT_CFG_LONG, 14, CT_INT_MAX, NULL },  /* >= a v0 record's overhead */
    { "segment.index.bytes", CT_CFG_LONG, 4, CT_INT_MAX, NULL },
    { "segment.jitter.ms", CT_CFG_LONG, 0, CT_LONG_MAX, NULL },
    { "segment.ms", CT_CFG_LONG, 1, CT_LONG_MAX, NULL },
    { "unclean.leader.election.enable", CT_CFG_BOOL, 0, 0, NULL },
};

static const create_topics_cfg_rule_t *create_topics_find_rule(const char *key)
{
    for (size_t i = 0; i < sizeof(ct_cfg_rules) / sizeof(ct_cfg_rules[0]); i++)
        if (strcmp(ct_cfg_rules[i].name, key) == 0)
            return &ct_cfg_rules[i];
    return NULL;
}

/* A whole-string decimal integer (optional '-'), without overflow. */
static bool create_topics_parse_long(const char *s, int64_t *out)
{
    bool neg = (*s == '-');
    const char *d = neg ? s + 1 : s;
    uint64_t limit = neg ? (uint64_t)CT_LONG_MAX + 1 : (uint64_t)CT_LONG_MAX;
    uint64_t v = 0;
    if (*d == '\0')
        return false;
    for (; *d != '\0'; d++) {
        if (*d < '0' || *d > '9')
            return false;
        uint64_t digit = (uint64_t)(*d - '0');
        if (v > (limit - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool create_topics_one_of(const char *s, size_t len, const char *const *choices)
{
    for (; *choices != NULL; choices++)
        if (strlen(*choices) == len && strncmp(*choices, s, len) == 0)
            return true;
    return false;
}

/* cleanup.policy is a list: "compact,delete" is legal, "" and "compact,," are not. */
static bool create_topics_list_of(const char *s, const char *const *choices)
{
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
        if (!create_topics_one_of(s, len, choices))
            return false;
        if (comma == NULL)
            return true;
        s = comma + 1;
    }
}

static bool create_topics_ratio(const char *s)
{
    char *end = NULL;
    double v = strtod(s, &end);
    return end != s && *end == '\0' && v >= 0.0 && v <= 1.0;
}

static bool create_topics_value_ok(const create_topics_cfg_rule_t *rule, const char *value)
{
    int64_t n = 0;
    bool b = false;
    switch (rule->kind) {
    case CT_CFG_LONG:
        return create_topics_parse_long(value, &n) && n >= rule->min && n <= rule->max;
    case CT_CFG_BOOL:
        return topic_config_bool(value, &b) == KL_OK;
    case CT_CFG_RATIO:
        return create_topics_ratio(value);
    case CT_CFG_ONE_OF:
        return create_topics_one_of(value, strlen(value), rule->choices);
    case CT_CFG_LIST_OF:
        return create_topics_list_of(value, rule->choices);
    case CT_CFG_ANY:
        return true;
    }
    return false;
}

/* Check every override and copy it into `meta`. A repeated key keeps the last value,
 * as Kafka's Properties-based parsing does. */
static kl_err_t create_topics_apply_configs(kl_topic_meta_t *meta,
                                            const kl_config_entry_t *configs, int32_t count)
{
    if (count > 0 && configs == NULL)
        return KL_ERR_INVALID_CONFIG;
    for (int32_t i = 0; i < count; i++) {
        const kl_config_entry_t *c = &configs[i];
        const create_topics_cfg_rule_t *rule = create_topics_find_rule(c->key);
        if (rule == NULL || !create_topics_value_ok(rule, c->value))
            return KL_ERR_INVALID_CONFIG;
        kl_err_t err = topic_meta_set_config(meta, c->key, c->value);
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

/* -1 means num.partitions; the resolved count must itself be legal (a broker configured
 * with num.partitions=0 cannot create topics by default). */
static kl_err_t create_topics_resolve(const kl_broker_t *b, int32_t *partitions,
                                      int16_t *replication)
{
    if (topic_validate_partition_count(*partitions) != KL_OK)
        return KL_ERR_INVALID_PARTITIONS;
    if (*partitions == -1)
        *partitions = b->config.num_partitions;
    if (*partitions < 1 || topic_validate_partition_count(*partitions) != KL_OK)
        return KL_ERR_INVALID_PARTITIONS;
    if (topic_validate_replication_factor(*replication) != KL_OK)
        return KL_ERR_INVALID_REPLICATION_FACTOR;
    if (*replication == -1)
        *replication = b->config.default_replication_factor;
    if (*replication != 1)
        return KL_ERR_INVALID_REPLICATION_FACTOR;
    return KL_OK;
}

kl_err_t create_topic(kl_broker_t *b, const char *name, int32_t partitions,
                      int16_t replication_factor, const kl_config_entry_t *configs,
                      int32_t config_count, bool validate_only, kl_topic_t **out)
{
    kl_topic_meta_t meta;
    size_t name_len = strlen(name);

    if (out != NULL)
        *out = NULL;
    /* the length test is implied by the naming rule; it is repeated to guard the memcpy */
    if (topic_validate_name(name, name_len) != KL_OK || name_len > KL_TOPIC_NAME_MAX)
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    if (broker_find_topic(b, name) != NULL)
        return KL_ERR_TOPIC_ALREADY_EXISTS;
    kl_err_t err = create_topics_resolve(b, &partitions, &replication_factor);
    if (err != KL_OK)
        return err;

    memset(&meta, 0, sizeof(meta));
    memcpy(meta.name, name, name_len + 1);
    meta.partition_count = partitions;
    meta.replication_factor = replication_factor;
    err = create_topics_apply_configs(&meta, configs, config_count);
    if (err != KL_OK || validate_only)
        return err;

    err = b->store.topic_create(b->store.self, &meta);
    if (err != KL_OK)
        return err;
    return broker_add_topic(b, &meta, out);
}
