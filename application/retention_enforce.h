/*
 * application/retention_enforce.h — the retention use case: for every partition, delete
 * the old segments retention.ms and retention.bytes no longer keep, and move the
 * partition's log start offset past them.
 * Layer: application. May touch: domain/ (retention.h decides, partition.h keeps the
 * offsets' invariant), application/broker.h (the registry, the log_store port, the clock).
 *
 * Kafka's division of labour, kept here: LogManager's "kafka-log-retention" task runs
 * every log.retention.check.interval.ms (the caller's timer, src/main.c) and calls
 * UnifiedLog.deleteOldSegments on each log; the decision is pure
 * (domain/retention.c:retention_plan), the deleting is the store's
 * (log_store.delete_segments_before), and this use case joins them:
 *   1. the effective settings: the topic's retention.ms / retention.bytes override,
 *      else the broker default (log.retention.{ms,minutes,hours}, log.retention.bytes);
 *   2. only a topic whose cleanup.policy contains "delete" (the default) loses segments
 *      by age or size (Kafka's `if (config.delete)`); a compact-only topic keeps them;
 *   3. one clock reading per run, so every partition is judged against the same "now";
 *   4. the new log start offset is the first kept segment's base; it only moves up and
 *      never past the high watermark (domain/partition.c:partition_move_log_start), and
 *      a fetch below it is then OFFSET_OUT_OF_RANGE (domain/partition.c).
 */
#ifndef KL_APPLICATION_RETENTION_ENFORCE_H
#define KL_APPLICATION_RETENTION_ENFORCE_H

#include <stdbool.h>
#include <stdint.h>

#include "application/broker.h"
#include "domain/retention.h"

/* What one run did, for the caller's log line. */
typedef struct kl_retention_report {
    int32_t partitions_checked;   /* partitions whose segments were examined */
    int32_t partitions_failed;    /* partitions a store call or a bad config stopped */
    int32_t segments_deleted;     /* segments actually deleted, all partitions */
    int64_t bytes_deleted;        /* their total .log size */
    int32_t by_time;              /* of segments_deleted: how many retention.ms deleted */
} kl_retention_report_t;

/* The topic's retention.ms / retention.bytes: its override when it has one, else the
 * broker's default. KL_ERR_INVALID_CONFIG when an override is not an integer (a
 * hand-edited catalogue): retention then deletes nothing rather than guess. */
kl_err_t retention_effective_config(const kl_broker_config_t *cfg, const kl_topic_meta_t *meta,
                                    kl_retention_config_t *out);

/* Kafka's LogConfig.delete: cleanup.policy (a comma-separated list, default "delete")
 * contains "delete". */
bool retention_policy_deletes(const kl_topic_meta_t *meta);

/* One partition of topic `t`: list its segments, plan at `now_ms`, delete, move the log
 * start offset. Adds to `report`. Errors: the store's (KAFKA_STORAGE_ERROR, …), or
 * UNKNOWN_SERVER_ERROR for a segment list the plan refuses or out of memory; the log
 * start still follows whatever the store did delete. */
kl_err_t retention_enforce_partition(kl_broker_t *b, kl_topic_t *t, kl_partition_t *p,
                                     int64_t now_ms, kl_retention_report_t *report);

/* Every partition of every topic, judged at the clock's now. A failing partition does
 * not stop the others; the first error is returned, `out` counts everything. */
kl_err_t retention_enforce(kl_broker_t *b, kl_retention_report_t *out);

#endif
