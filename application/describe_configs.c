/*
 * application/describe_configs.c — the DescribeConfigs use case: a topic's effective
 * configuration (override, else broker default) or this broker's, one resource at a
 * time (see describe_configs.h for what is reported and why).
 * Layer: application. May touch: domain/, application/broker.h, <stdio.h> (snprintf
 * into the result), <string.h>.
 *
 * Kafka's rules (ConfigHelper.describeConfigs / createTopicConfigEntry):
 *   - a topic config's synonyms are, most specific first, the topic override
 *     (TOPIC_CONFIG) and the broker property it falls back to (its name in
 *     ServerTopicConfigSynonyms, e.g. retention.ms → log.retention.ms); the config's
 *     value and source are those of the first synonym;
 *   - topic configs are never read-only (AlterConfigs may change any of them); a broker
 *     config is read-only unless Kafka can change it at run time (DynamicBrokerConfig);
 *   - is_default (DescribeConfigs v0) is source == DEFAULT_CONFIG;
 *   - an empty or null key list asks for every config.
 */
#include <stdio.h>
#include <string.h>

#include "application/describe_configs.h"

#define DC_KAFKA_MESSAGE_MAX_BYTES 1048588   /* Kafka's message.max.bytes default */
#define DC_KAFKA_PREALLOCATE false           /* Kafka's log.preallocate default */

/* Where a topic config's default comes from. */
enum dc_default {
    DC_DEFAULT_FIXED,          /* Kafka's default; Klamm's broker has no such property */
    DC_DEFAULT_MESSAGE_MAX,    /* kl_broker_config_t.message_max_bytes */
    DC_DEFAULT_PREALLOCATE,    /* kl_broker_config_t.preallocate (log.preallocate) */
    DC_DEFAULT_UNSEEN,         /* a broker property outside kl_broker_config_t: the
                                  topic reports the config only when it overrides it */
};

typedef struct dc_topic_config {
    const char *name;
    int8_t type;
    enum dc_default from;
    const char *value;         /* DC_DEFAULT_FIXED: Kafka's default */
    const char *broker_name;   /* the broker property it falls back to */
    const char *broker_value;  /* that property's default, when it is in other units */
    const char *doc;
} dc_topic_config_t;

#define DC_LONG_MAX "9223372036854775807"

static const dc_topic_config_t dc_topic_configs[] = {
    { "cleanup.policy", KL_CONFIG_TYPE_LIST, DC_DEFAULT_FIXED, "delete",
      "log.cleanup.policy", NULL, "delete old segments, compact by key, or both" },
    { "compression.type", KL_CONFIG_TYPE_STRING, DC_DEFAULT_FIXED, "producer",
      "compression.type", NULL, "codec of stored batches; producer keeps theirs" },
    { "delete.retention.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED, "86400000",
      "log.cleaner.delete.retention.ms", NULL, "how long tombstones survive compaction" },
    { "file.delete.delay.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED, "60000",
      "log.segment.delete.delay.ms", NULL, "wait before a deleted segment's file goes" },
    { "flush.messages", KL_CONFIG_TYPE_LONG, DC_DEFAULT_UNSEEN, NULL,
      "log.flush.interval.messages", NULL, "fsync after this many messages" },
    { "flush.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_UNSEEN, NULL,
      "log.flush.interval.ms", NULL, "fsync after this many milliseconds" },
    { "index.interval.bytes", KL_CONFIG_TYPE_INT, DC_DEFAULT_UNSEEN, NULL,
      "log.index.interval.bytes", NULL, "bytes between two offset index entries" },
    { "max.compaction.lag.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED, DC_LONG_MAX,
      "log.cleaner.max.compaction.lag.ms", NULL, "longest a record stays uncompacted" },
    { "max.message.bytes", KL_CONFIG_TYPE_INT, DC_DEFAULT_MESSAGE_MAX, NULL,
      "message.max.bytes", NULL, "largest record batch the topic accepts" },
    { "message.downconversion.enable", KL_CONFIG_TYPE_BOOLEAN, DC_DEFAULT_FIXED, "true",
      "log.message.downconversion.enable", NULL, "convert batches for old consumers" },
    { "message.format.version", KL_CONFIG_TYPE_STRING, DC_DEFAULT_UNSEEN, NULL,
      "log.message.format.version", NULL, "record format version (Klamm stores v2)" },
    { "message.timestamp.difference.max.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED,
      DC_LONG_MAX, "log.message.timestamp.difference.max.ms", NULL,
      "largest gap allowed between a record's timestamp and the broker's clock" },
    { "message.timestamp.type", KL_CONFIG_TYPE_STRING, DC_DEFAULT_FIXED, "CreateTime",
      "log.message.timestamp.type", NULL, "CreateTime (producer's) or LogAppendTime" },
    { "min.cleanable.dirty.ratio", KL_CONFIG_TYPE_DOUBLE, DC_DEFAULT_FIXED, "0.5",
      "log.cleaner.min.cleanable.ratio", NULL, "dirty share that triggers compaction" },
    { "min.compaction.lag.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED, "0",
      "log.cleaner.min.compaction.lag.ms", NULL, "shortest a record stays uncompacted" },
    { "min.insync.replicas", KL_CONFIG_TYPE_INT, DC_DEFAULT_FIXED, "1",
      "min.insync.replicas", NULL, "replicas that must have an acks=all write" },
    /* Klamm's log.preallocate defaults to true, unlike Kafka's false (docs/performance.md,
     * round 3): the broker's value is reported, never Kafka's "false". */
    { "preallocate", KL_CONFIG_TYPE_BOOLEAN, DC_DEFAULT_PREALLOCATE, NULL,
      "log.preallocate", NULL, "reserve segment blocks on disk ahead of the writes" },
    { "retention.bytes", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED, "-1",
      "log.retention.bytes", NULL, "bytes a partition keeps before deleting old segments" },
    { "retention.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED, "604800000",
      "log.retention.hours", "168", "how long a segment is kept after its last record" },
    { "segment.bytes", KL_CONFIG_TYPE_INT, DC_DEFAULT_UNSEEN, NULL,
      "log.segment.bytes", NULL, "size at which a new segment is rolled" },
    { "segment.index.bytes", KL_CONFIG_TYPE_INT, DC_DEFAULT_FIXED, "10485760",
      "log.index.size.max.bytes", NULL, "size of a segment's offset index file" },
    { "segment.jitter.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_FIXED, "0",
      "log.roll.jitter.hours", "0", "random delay subtracted from segment.ms" },
    { "segment.ms", KL_CONFIG_TYPE_LONG, DC_DEFAULT_UNSEEN, NULL,
      "log.roll.ms", NULL, "age at which a new segment is rolled" },
    { "unclean.leader.election.enable", KL_CONFIG_TYPE_BOOLEAN, DC_DEFAULT_FIXED, "false",
      "unclean.leader.election.enable", NULL, "let an out-of-sync replica lead" },
};

#define DC_TOPIC_CONFIG_COUNT (sizeof dc_topic_configs / sizeof dc_topic_configs[0])

/* The broker properties kl_broker_config_t holds. */
enum dc_broker_field {
    DC_B_ADVERTISED, DC_B_AUTO_CREATE, DC_B_REPLICATION, DC_B_MESSAGE_MAX, DC_B_NODE_ID,
    DC_B_PARTITIONS,
};

typedef struct dc_broker_config {
    const char *name;
    int8_t type;
    bool read_only;            /* not in Kafka's DynamicBrokerConfig.AllDynamicConfigs */
    const char *kafka_default; /* NULL: Kafka has none */
    enum dc_broker_field field;
    const char *doc;
} dc_broker_config_t;

static const dc_broker_config_t dc_broker_configs[] = {
    { "advertised.listeners", KL_CONFIG_TYPE_STRING, false, NULL, DC_B_ADVERTISED,
      "the address clients are told to connect to" },
    { "auto.create.topics.enable", KL_CONFIG_TYPE_BOOLEAN, true, "true", DC_B_AUTO_CREATE,
      "create a topic when Metadata asks for a missing one" },
    { "default.replication.factor", KL_CONFIG_TYPE_INT, true, "1", DC_B_REPLICATION,
      "replication factor of auto-created topics" },
    { "message.max.bytes", KL_CONFIG_TYPE_INT, false, "1048588", DC_B_MESSAGE_MAX,
      "largest record batch the broker accepts" },
    { "node.id", KL_CONFIG_TYPE_INT, true, "-1", DC_B_NODE_ID,
      "this broker's id" },
    { "num.partitions", KL_CONFIG_TYPE_INT, true, "1", DC_B_PARTITIONS,
      "partition count of topics created without one" },
};

#define DC_BROKER_CONFIG_COUNT (sizeof dc_broker_configs / sizeof dc_broker_configs[0])

static bool dc_wanted(const kl_config_key_filter_t *filter, const char *name)
{
    return filter == NULL || filter->wanted == NULL || filter->wanted(filter->arg, name);
}

/* Bounded copy (a value longer than KL_CONFIG_VALUE_MAX - 1 is cut; topic overrides
 * never are, topic_meta_set_config enforces the bound). */
static void dc_copy(char dst[KL_CONFIG_VALUE_MAX], const char *src)
{
    size_t n = strnlen(src, KL_CONFIG_VALUE_MAX - 1);
    memmove(dst, src, n);
    dst[n] = '\0';
}

/* Append a synonym to `d` (at most KL_CONFIG_SYNONYMS_MAX). */
static void dc_add_synonym(kl_config_description_t *d, const char *name, const char *value,
                           int8_t source)
{
    if (d->synonym_count >= KL_CONFIG_SYNONYMS_MAX)
        return;
    kl_config_synonym_t *s = &d->synonyms[d->synonym_count++];
    s->name = name;
    dc_copy(s->value, value);
    s->source = source;
}

/* The broker-level default a topic config falls back to, and its source. False when
 * the use cases cannot know it (DC_DEFAULT_UNSEEN). */
static bool dc_topic_default(const kl_broker_t *b, const dc_topic_config_t *c,
                             char value[KL_CONFIG_VALUE_MAX], int8_t *source)
{
    switch (c->from) {
    case DC_DEFAULT_FIXED:
        dc_copy(value, c->value);
        *source = KL_CONFIG_SOURCE_DEFAULT;
        return true;
    case DC_DEFAULT_MESSAGE_MAX:
        snprintf(value, KL_CONFIG_VALUE_MAX, "%ld", (long)b->config.message_max_bytes);
        *source = b->config.message_max_bytes == DC_KAFKA_MESSAGE_MAX_BYTES
                      ? KL_CONFIG_SOURCE_DEFAULT : KL_CONFIG_SOURCE_STATIC_BROKER;
        return true;
    case DC_DEFAULT_PREALLOCATE:
        /* the rule of message.max.bytes: STATIC_BROKER_CONFIG unless it is Kafka's
         * default, so Klamm's own default (true) is STATIC_BROKER_CONFIG too */
        dc_copy(value, b->config.preallocate ? "true" : "false");
        *source = b->config.preallocate == DC_KAFKA_PREALLOCATE
                      ? KL_CONFIG_SOURCE_DEFAULT : KL_CONFIG_SOURCE_STATIC_BROKER;
        return true;
    case DC_DEFAULT_UNSEEN:
        break;
    }
    return false;
}

/* LAB 02 BEGIN: one topic config's effective value, source and synonyms */
/* Fill `d` for topic config `c` of topic `t`: the override wins (TOPIC_CONFIG), else
 * the broker default. Synonyms list both, override first. False: nothing to report
 * (no override, and a default the use cases cannot see). */
static bool dc_topic_entry(const kl_broker_t *b, const kl_topic_t *t,
                           const dc_topic_config_t *c, kl_config_description_t *d)
{
    char def[KL_CONFIG_VALUE_MAX];
    int8_t def_source = KL_CONFIG_SOURCE_DEFAULT;
    const char *override = topic_meta_config(&t->meta, c->name);
    bool has_default = dc_topic_default(b, c, def, &def_source);
    if (override == NULL && !has_default)
        return false;

    memset(d, 0, sizeof *d);
    d->name = c->name;
    d->type = c->type;
    d->documentation = c->doc;
    d->read_only = false;                /* every topic config is alterable in Kafka */
    d->sensitive = false;
    if (override != NULL)
        dc_add_synonym(d, c->name, override, KL_CONFIG_SOURCE_TOPIC);
    if (has_default)
        dc_add_synonym(d, c->broker_name,
                       c->broker_value != NULL && def_source == KL_CONFIG_SOURCE_DEFAULT
                           ? c->broker_value : def,
                       def_source);
    dc_copy(d->value, override != NULL ? override : def);
    d->source = d->synonyms[0].source;
    d->is_default = d->source == KL_CONFIG_SOURCE_DEFAULT;
    return true;
}
/* LAB 02 END */

static kl_err_t dc_describe_topic(kl_broker_t *b, const char *name, size_t len,
                                  const kl_config_key_filter_t *filter,
                                  kl_describe_configs_result_t *out)
{
    char topic[KL_TOPIC_NAME_MAX + 1];
    if (topic_validate_name(name, len) != KL_OK || len > KL_TOPIC_NAME_MAX) {
        snprintf(out->error_message, sizeof out->error_message,
                 "Topic name is illegal: \"%.*s\"", (int)(len > 64 ? 64 : len), name);
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    }
    memcpy(topic, name, len);
    topic[len] = '\0';
    const kl_topic_t *t = broker_find_topic(b, topic);
    if (t == NULL)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    for (size_t i = 0; i < DC_TOPIC_CONFIG_COUNT; i++) {
        const dc_topic_config_t *c = &dc_topic_configs[i];
        if (dc_wanted(filter, c->name) && dc_topic_entry(b, t, c, &out->configs[out->count]))
            out->count++;
    }
    return KL_OK;
}

static void dc_broker_value(const kl_broker_config_t *cfg, enum dc_broker_field f,
                            char value[KL_CONFIG_VALUE_MAX])
{
    switch (f) {
    case DC_B_ADVERTISED:
        snprintf(value, KL_CONFIG_VALUE_MAX, "PLAINTEXT://%.100s:%ld",
                 cfg->advertised_host, (long)cfg->advertised_port);
        return;
    case DC_B_AUTO_CREATE:
        dc_copy(value, cfg->auto_create_topics ? "true" : "false");
        return;
    case DC_B_REPLICATION:
        snprintf(value, KL_CONFIG_VALUE_MAX, "%d", (int)cfg->default_replication_factor);
        return;
    case DC_B_MESSAGE_MAX:
        snprintf(value, KL_CONFIG_VALUE_MAX, "%ld", (long)cfg->message_max_bytes);
        return;
    case DC_B_NODE_ID:
        snprintf(value, KL_CONFIG_VALUE_MAX, "%ld", (long)cfg->node_id);
        return;
    case DC_B_PARTITIONS:
        snprintf(value, KL_CONFIG_VALUE_MAX, "%ld", (long)cfg->num_partitions);
        return;
    }
    value[0] = '\0';
}

/* A broker property: STATIC_BROKER_CONFIG unless it holds Kafka's default (the
 * broker config does not record whether server.properties named it). */
static void dc_broker_entry(const kl_broker_config_t *cfg, const dc_broker_config_t *c,
                            kl_config_description_t *d)
{
    memset(d, 0, sizeof *d);
    d->name = c->name;
    d->type = c->type;
    d->documentation = c->doc;
    d->read_only = c->read_only;
    dc_broker_value(cfg, c->field, d->value);
    bool is_default = c->kafka_default != NULL && strcmp(d->value, c->kafka_default) == 0;
    d->source = is_default ? KL_CONFIG_SOURCE_DEFAULT : KL_CONFIG_SOURCE_STATIC_BROKER;
    d->is_default = is_default;
    dc_add_synonym(d, c->name, d->value, d->source);
    if (!is_default && c->kafka_default != NULL)
        dc_add_synonym(d, c->name, c->kafka_default, KL_CONFIG_SOURCE_DEFAULT);
}

/* Java's Integer.parseInt: optional sign, then 1+ digits, within int32. */
static bool dc_parse_int32(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    if (len > 0 && (s[0] == '-' || s[0] == '+'))
        i = 1;
    if (i == len)
        return false;
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
        if (v > 2147483648LL)
            return false;
    }
    *out = neg ? -v : v;
    return *out <= 2147483647LL;
}

static kl_err_t dc_describe_broker(kl_broker_t *b, const char *name, size_t len,
                                   const kl_config_key_filter_t *filter,
                                   kl_describe_configs_result_t *out)
{
    int64_t id = 0;
    int shown = (int)(len > 64 ? 64 : len);
    if (len == 0)
        return KL_OK;                    /* cluster-wide dynamic defaults: none here */
    if (!dc_parse_int32(name, len, &id)) {
        snprintf(out->error_message, sizeof out->error_message,
                 "Broker id must be an integer, but it is: %.*s", shown, name);
        return KL_ERR_INVALID_REQUEST;
    }
    if (id != b->config.node_id) {
        snprintf(out->error_message, sizeof out->error_message,
                 "Unexpected broker id, expected %ld or empty string, but received %.*s",
                 (long)b->config.node_id, shown, name);
        return KL_ERR_INVALID_REQUEST;
    }
    for (size_t i = 0; i < DC_BROKER_CONFIG_COUNT; i++)
        if (dc_wanted(filter, dc_broker_configs[i].name))
            dc_broker_entry(&b->config, &dc_broker_configs[i], &out->configs[out->count++]);
    return KL_OK;
}

kl_err_t describe_configs(kl_broker_t *b, int8_t resource_type, const char *name,
                          size_t name_len, const kl_config_key_filter_t *filter,
                          kl_describe_configs_result_t *out)
{
    kl_err_t err;
    out->count = 0;
    out->error_message[0] = '\0';
    if (name == NULL && name_len > 0)
        return KL_ERR_INVALID_REQUEST;
    if (name == NULL)
        name = "";
    if (resource_type == KL_RESOURCE_TOPIC)
        err = dc_describe_topic(b, name, name_len, filter, out);
    else if (resource_type == KL_RESOURCE_BROKER)
        err = dc_describe_broker(b, name, name_len, filter, out);
    else {
        snprintf(out->error_message, sizeof out->error_message,
                 "Unsupported resource type: %d", (int)resource_type);
        err = KL_ERR_INVALID_REQUEST;
    }
    if (err != KL_OK)
        out->count = 0;
    return err;
}
