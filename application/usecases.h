/*
 * application/usecases.h — the broker's use cases for topics and records, one function
 * each, called by the protocol handlers. Each is implemented in its own file
 * (produce.c, fetch.c, list_offsets.c, metadata.c, create_topics.c, delete_topics.c).
 * Layer: application. May touch: domain/, application/.
 *
 * Names arrive NUL-terminated; the protocol layer copies them out of the frame.
 */
#ifndef KL_APPLICATION_USECASES_H
#define KL_APPLICATION_USECASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "application/broker.h"

/* ---- create topics (create_topics.c) ---- */
/* Validate (name, partitions, replication, configs), persist, register.
 * partitions/replication -1 = broker defaults. validate_only checks without creating.
 * Errors: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
 * INVALID_REPLICATION_FACTOR, INVALID_CONFIG, KAFKA_STORAGE_ERROR. */
kl_err_t create_topic(kl_broker_t *b, const char *name, int32_t partitions,
                      int16_t replication_factor, const kl_config_entry_t *configs,
                      int32_t config_count, bool validate_only, kl_topic_t **out);

/* ---- delete topics (delete_topics.c) ---- */
struct coord;       /* the group coordinator (application/group_coordinator.h) */

/* Delete topic `name`: its partitions' logs, files and metadata (through the store),
 * its registry entry, and, when `coord` is not NULL, every group's committed offsets of
 * it. The offsets step cannot undo the deletion: its error goes to *offsets_err (may be
 * NULL; KL_OK when it went well) and the topic is reported deleted.
 * Errors: UNKNOWN_TOPIC_OR_PARTITION (no such topic; also a name that breaks the naming
 * rule, as Kafka answers), KAFKA_STORAGE_ERROR (the store deleted nothing). */
kl_err_t delete_topic(kl_broker_t *b, struct coord *coord, const char *name,
                      kl_err_t *offsets_err);

/* ---- metadata (metadata.c) ---- */
/* Find a topic for a Metadata request; create it with broker defaults when missing
 * and both `allow_auto_create` (request) and auto.create.topics.enable (config) say so.
 * Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, KAFKA_STORAGE_ERROR. */
kl_err_t metadata_find_topic(kl_broker_t *b, const char *name, bool allow_auto_create,
                             kl_topic_t **out);

/* ---- produce (produce.c) ---- */
typedef struct kl_produce_result {
    int64_t base_offset;        /* offset given to the first record */
    int64_t log_append_time;    /* -1: CreateTime topics (the default) */
    int64_t log_start_offset;
} kl_produce_result_t;

/* Validate every batch in records[0..len) (magic 2, CRC-32C, size <= message.max.bytes),
 * assign offsets from the log end by rewriting each base_offset in place, append
 * through the store, advance the partition. All or nothing.
 * Errors: UNKNOWN_TOPIC_OR_PARTITION, CORRUPT_MESSAGE, UNSUPPORTED_FOR_MESSAGE_FORMAT,
 * MESSAGE_TOO_LARGE, INVALID_RECORD, KAFKA_STORAGE_ERROR. */
kl_err_t produce_append(kl_broker_t *b, const char *topic, int32_t partition,
                        uint8_t *records, size_t len, kl_produce_result_t *out);

/* ---- fetch (fetch.c) ---- */
typedef struct kl_fetch_result {
    int64_t high_watermark;
    int64_t last_stable_offset; /* no transactions: equals the high watermark */
    int64_t log_start_offset;
    size_t bytes;               /* bytes written into the sink */
} kl_fetch_result_t;

/* Read whole batches from `offset`, at most max_bytes (but at least one batch), into
 * `sink`. Offsets (hw, log start) are filled even on OFFSET_OUT_OF_RANGE.
 * Errors: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE, KAFKA_STORAGE_ERROR. */
kl_err_t fetch_partition(kl_broker_t *b, const char *topic, int32_t partition,
                         int64_t offset, int32_t max_bytes, kl_buf_sink_t *sink,
                         kl_fetch_result_t *out);

/* ---- list offsets (list_offsets.c) ---- */
#define KL_LIST_OFFSETS_LATEST (-1)     /* Kafka's ListOffsetsRequest.LATEST_TIMESTAMP */
#define KL_LIST_OFFSETS_EARLIEST (-2)   /* EARLIEST_TIMESTAMP */

typedef struct kl_list_offsets_result {
    int64_t offset;             /* -1 when no record has a timestamp >= the one asked */
    int64_t timestamp;          /* -1 for EARLIEST/LATEST */
} kl_list_offsets_result_t;

kl_err_t list_offsets_query(kl_broker_t *b, const char *topic, int32_t partition,
                            int64_t timestamp, kl_list_offsets_result_t *out);

#endif
