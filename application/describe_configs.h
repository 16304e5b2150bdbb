/*
 * application/describe_configs.h — the DescribeConfigs use case: the effective
 * configuration of a topic (its overrides over the broker defaults) or of this broker,
 * as Kafka's ConfigHelper.describeConfigs reports it.
 * Layer: application. May touch: domain/, application/broker.h.
 *
 * What a topic reports: every topic-level config Kafka knows and Klamm accepts at
 * CreateTopics (create_topics.c), with the topic's override (source TOPIC_CONFIG) or
 * else the broker-wide default (DEFAULT_CONFIG when the broker property holds Kafka's
 * default, else STATIC_BROKER_CONFIG: a message.max.bytes set to another value, or
 * log.preallocate at Klamm's default, true; docs/performance.md round 3). Configs whose
 * default is a broker property the use cases cannot see (segment.bytes ←
 * log.segment.bytes, segment.ms ← log.roll.ms / log.roll.hours, index.interval.bytes,
 * flush.messages, flush.ms: kl_storage_config_t, in infrastructure) and
 * message.format.version (its default depends on a Kafka release) are reported only
 * when the topic overrides them, rather than with a guessed value.
 * What the broker reports: the properties held in kl_broker_config_t.
 */
#ifndef KL_APPLICATION_DESCRIBE_CONFIGS_H
#define KL_APPLICATION_DESCRIBE_CONFIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "application/broker.h"

/* Kafka's ConfigResource.Type ids (the two Klamm serves). */
#define KL_RESOURCE_TOPIC 2
#define KL_RESOURCE_BROKER 4

/* Kafka's DescribeConfigsResponse.ConfigSource ids (the ones Klamm can report). */
#define KL_CONFIG_SOURCE_TOPIC 1             /* TOPIC_CONFIG: a per-topic override */
#define KL_CONFIG_SOURCE_STATIC_BROKER 4     /* STATIC_BROKER_CONFIG: server.properties */
#define KL_CONFIG_SOURCE_DEFAULT 5           /* DEFAULT_CONFIG: Kafka's default */

/* Kafka's DescribeConfigsResponse.ConfigType ids (DescribeConfigs v3+). */
#define KL_CONFIG_TYPE_BOOLEAN 1
#define KL_CONFIG_TYPE_STRING 2
#define KL_CONFIG_TYPE_INT 3
#define KL_CONFIG_TYPE_LONG 5
#define KL_CONFIG_TYPE_DOUBLE 6
#define KL_CONFIG_TYPE_LIST 7

#define KL_DESCRIBE_CONFIGS_MAX 32           /* entries one resource can report */
#define KL_CONFIG_SYNONYMS_MAX 2             /* the override, then the broker default */
#define KL_DESCRIBE_CONFIGS_MESSAGE_MAX 160

/* One synonym: where a value could come from, most specific first (Kafka's order). */
typedef struct kl_config_synonym {
    const char *name;                        /* static string */
    char value[KL_CONFIG_VALUE_MAX];
    int8_t source;                           /* KL_CONFIG_SOURCE_* */
} kl_config_synonym_t;

/* One reported config. */
typedef struct kl_config_description {
    const char *name;                        /* static string */
    char value[KL_CONFIG_VALUE_MAX];
    int8_t source;                           /* KL_CONFIG_SOURCE_* of `value` */
    bool is_default;                         /* source == KL_CONFIG_SOURCE_DEFAULT */
    bool read_only;                          /* Kafka: not dynamically alterable */
    bool sensitive;                          /* never, for the configs Klamm has */
    int8_t type;                             /* KL_CONFIG_TYPE_* */
    const char *documentation;               /* one line, static */
    int32_t synonym_count;
    kl_config_synonym_t synonyms[KL_CONFIG_SYNONYMS_MAX];
} kl_config_description_t;

/* Everything reported for one resource. */
typedef struct kl_describe_configs_result {
    int32_t count;
    kl_config_description_t configs[KL_DESCRIBE_CONFIGS_MAX];
    char error_message[KL_DESCRIBE_CONFIGS_MESSAGE_MAX];   /* "" = none (null) */
} kl_describe_configs_result_t;

/* Which config names the request asked for: `wanted` NULL = all of them. */
typedef struct kl_config_key_filter {
    bool (*wanted)(void *arg, const char *name);
    void *arg;
} kl_config_key_filter_t;

/* Describe one resource: `name` is `name_len` bytes, not necessarily NUL-terminated
 * (the protocol layer passes a view of the frame). `filter` may be NULL (all configs).
 * On error out->count is 0 and out->error_message may say why (Kafka's wording).
 * Errors (Kafka's, per resource):
 *   INVALID_TOPIC_EXCEPTION      topic name breaks the naming rule
 *   UNKNOWN_TOPIC_OR_PARTITION   no such topic (no message, as Kafka)
 *   INVALID_REQUEST              broker name not an integer, or not our node.id;
 *                                a resource type other than TOPIC and BROKER
 * A BROKER resource with an empty name asks for the cluster-wide dynamic defaults:
 * Klamm has none, so the answer is OK with no entries. */
kl_err_t describe_configs(kl_broker_t *b, int8_t resource_type, const char *name,
                          size_t name_len, const kl_config_key_filter_t *filter,
                          kl_describe_configs_result_t *out);

#endif
