/*
 * domain/retention.h — the retention decision: which of a partition's oldest segments
 * retention.ms and retention.bytes delete. Pure: the caller (the storage layer) lists
 * the segments and does the deleting; this module only decides.
 * Layer: domain (pure arithmetic). May touch: domain/error.h. No I/O, no clock: the
 * caller passes `now_ms`.
 *
 * Kafka's rules (UnifiedLog.deleteOldSegments, formerly Log.deleteOldSegments, run when
 * cleanup.policy contains "delete"):
 *   1. deleteRetentionMsBreachedSegments — with retention.ms >= 0, a segment breaches
 *      when  now - segment.largestTimestamp > retention.ms  (strictly greater);
 *   2. deleteRetentionSizeBreachedSegments — with retention.bytes >= 0 and a log of
 *      `size` bytes (all segments left after step 1, the active one included) that is
 *      not below retention.bytes: diff = size - retention.bytes, and a segment goes
 *      while  diff - segment.size >= 0  (then diff -= segment.size). In words: delete
 *      the oldest segment while what remains is still >= retention.bytes;
 *   3. both walk from the oldest segment and stop at the first one that does not
 *      breach (Kafka's deletableSegments): only a prefix of the log is ever deleted.
 * Klamm's one difference: the active segment is never deleted (Kafka rolls a new one
 * first when every segment is deletable); the walk stops there.
 */
#ifndef KL_DOMAIN_RETENTION_H
#define KL_DOMAIN_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

/* What the decision needs to know about one segment, oldest first. */
typedef struct kl_segment_info {
    int64_t base_offset;         /* first offset the segment holds */
    int64_t size_bytes;          /* its .log file's size */
    int64_t largest_timestamp;   /* largest record timestamp (ms); when the segment has
                                    none, the file's last-modified time, as Kafka's
                                    LogSegment.largestTimestamp does */
    bool active;                 /* the segment appends go to: the last one, if any */
} kl_segment_info_t;

/* A topic's retention settings (topic override, else the broker default). */
typedef struct kl_retention_config {
    int64_t retention_ms;        /* retention.ms; negative (-1) = keep forever */
    int64_t retention_bytes;     /* retention.bytes; negative (-1) = no size limit */
} kl_retention_config_t;

/* The decision: delete segments[0 .. delete_count). */
typedef struct kl_retention_plan {
    size_t delete_count;         /* how many of the oldest segments to delete */
    size_t by_time;              /* the first by_time of them breached retention.ms,
                                    the rest retention.bytes */
    int64_t bytes_deleted;       /* their total size */
    int64_t new_log_start;       /* base offset of the first segment kept: the
                                    partition's log start offset after the deletion
                                    (-1 when the list is empty or nothing is kept) */
} kl_retention_plan_t;

/* Decide which segments retention deletes, by the rules above. `segs` lists the
 * partition's segments oldest first (ascending base offsets); at most one is active and
 * it must be the last. Errors: KL_ERR_UNKNOWN_SERVER_ERROR for a malformed list (NULL
 * pointers, offsets not ascending, a negative size, an active segment that is not the
 * last); `out` then holds an empty plan. */
kl_err_t retention_plan(const kl_segment_info_t *segs, size_t n,
                        const kl_retention_config_t *cfg, int64_t now_ms,
                        kl_retention_plan_t *out);

#endif
