/*
 * domain/topic.h — topics and partitions as data: names, counts, per-partition offsets.
 * Layer: domain (pure). May touch: domain/, uthash.h. No I/O.
 *
 * A topic is a name and an ordered list of partitions. Each partition carries the three
 * offsets Kafka reasons about (see partition.h) and an opaque handle that the
 * application attaches so it can reach the partition's log through the log_store port.
 */
#ifndef KL_DOMAIN_TOPIC_H
#define KL_DOMAIN_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "domain/error.h"
#include "domain/partition.h"

#define KL_TOPIC_NAME_MAX 249      /* Kafka: "topic name is illegal, it can't be longer than 249" */
#define KL_TOPIC_CONFIGS_MAX 16    /* per-topic overrides we keep (retention.ms, segment.bytes…) */
#define KL_CONFIG_KEY_MAX 64
#define KL_CONFIG_VALUE_MAX 128
#define KL_PARTITIONS_MAX 10000    /* a sanity bound: more is INVALID_PARTITIONS, not an OOM */

typedef struct kl_config_entry {
    char key[KL_CONFIG_KEY_MAX];
    char value[KL_CONFIG_VALUE_MAX];
} kl_config_entry_t;

/* What is persisted about a topic: enough to rebuild it at startup. */
typedef struct kl_topic_meta {
    char name[KL_TOPIC_NAME_MAX + 1];
    int32_t partition_count;
    int16_t replication_factor;                 /* always 1 on a single broker */
    int32_t config_count;
    kl_config_entry_t configs[KL_TOPIC_CONFIGS_MAX];
} kl_topic_meta_t;

typedef struct kl_partition {
    int32_t index;
    kl_partition_offsets_t offsets;
    void *log;                                  /* opaque: the log_store's handle */
} kl_partition_t;

typedef struct kl_topic {
    kl_topic_meta_t meta;
    kl_partition_t *partitions;                 /* meta.partition_count entries */
    UT_hash_handle hh;                          /* keyed by meta.name */
} kl_topic_t;

/* Kafka's naming rule: 1..249 chars of [a-zA-Z0-9._-], and not "." or "..".
 * Returns KL_OK or KL_ERR_INVALID_TOPIC_EXCEPTION. `len` is the name's length. */
kl_err_t topic_validate_name(const char *name, size_t len);

/* Partition count rule for CreateTopics: 1..KL_PARTITIONS_MAX, or -1 meaning "broker default".
 * Returns KL_OK or KL_ERR_INVALID_PARTITIONS. */
kl_err_t topic_validate_partition_count(int32_t count);

/* Replication on one broker: 1, or -1 meaning "broker default". Else INVALID_REPLICATION_FACTOR. */
kl_err_t topic_validate_replication_factor(int16_t factor);

/* Look up a config override by key; NULL when the topic has none. */
const char *topic_meta_config(const kl_topic_meta_t *meta, const char *key);

/* Add or replace a config override. KL_ERR_INVALID_CONFIG when full or key/value too long. */
kl_err_t topic_meta_set_config(kl_topic_meta_t *meta, const char *key, const char *value);

/* A boolean topic config's value (preallocate, unclean.leader.election.enable…), Kafka's
 * ConfigDef BOOLEAN rule: "true" or "false" in any case. One rule for CreateTopics, which
 * checks a value, and for the storage, which acts on the stored one.
 * Returns KL_OK with *out set, or KL_ERR_INVALID_CONFIG (then *out is left alone). */
kl_err_t topic_config_bool(const char *value, bool *out);

#endif
