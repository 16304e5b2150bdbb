/*
 * application/broker.h — the broker's shared state: configuration, the topic registry
 * (a uthash map of name → topic) and the ports every use case talks through.
 * Layer: application. May touch: domain/, application/ports.h.
 */
#ifndef KL_APPLICATION_BROKER_H
#define KL_APPLICATION_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "application/ports.h"
#include "domain/error.h"
#include "domain/topic.h"

#define KL_HOST_MAX 255

typedef struct kl_broker_config {
    int32_t node_id;                     /* node.id */
    char advertised_host[KL_HOST_MAX + 1];/* advertised.listeners host */
    int32_t advertised_port;             /* advertised.listeners port */
    int32_t num_partitions;              /* num.partitions: default for new topics */
    int16_t default_replication_factor;  /* default.replication.factor: 1 */
    bool auto_create_topics;             /* auto.create.topics.enable */
    int32_t message_max_bytes;           /* message.max.bytes: largest batch accepted */
    int64_t retention_ms;                /* log.retention.ms (or .minutes, .hours): a topic's
                                            retention.ms default; -1 = keep forever */
    int64_t retention_bytes;             /* log.retention.bytes: retention.bytes default;
                                            -1 = no size limit */
    bool preallocate;                    /* log.preallocate: a topic's preallocate default,
                                            as DescribeConfigs reports it (the storage acts
                                            on its own copy, kl_storage_config_t; config.c
                                            sets both) */
    char cluster_id[64];                 /* Metadata v2+ cluster_id */
} kl_broker_config_t;

typedef struct kl_broker {
    kl_broker_config_t config;
    kl_log_store_t store;
    kl_clock_t clock;
    kl_topic_t *topics;                  /* uthash head, keyed by meta.name */
    uint64_t data_version;               /* bumped by every append: parked fetches re-check */
} kl_broker_t;

/* Fill `b` and load every persisted topic through the store (opening each partition,
 * which recovers its log). On error `b` is left closed (nothing to free). */
kl_err_t broker_init(kl_broker_t *b, const kl_broker_config_t *cfg,
                     kl_log_store_t store, kl_clock_t clock);
/* Close every partition log and free the registry. */
void broker_close(kl_broker_t *b);

/* NULL when there is no such topic. O(1) average (uthash). */
kl_topic_t *broker_find_topic(kl_broker_t *b, const char *name);
/* NULL when there is no such topic or the index is out of range. */
kl_partition_t *broker_find_partition(kl_broker_t *b, const char *topic, int32_t partition);

/* Register a topic whose metadata is already durable: open its partitions' logs.
 * Used by broker_init and create_topic. */
kl_err_t broker_add_topic(kl_broker_t *b, const kl_topic_meta_t *meta, kl_topic_t **out);

/* Unregister `t` after the store deleted it (DeleteTopics): the store has closed its
 * partitions' logs, so nothing is closed here; `t` is freed and must not be used again.
 * Used by delete_topic. */
void broker_remove_topic(kl_broker_t *b, kl_topic_t *t);

#endif
