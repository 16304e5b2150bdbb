/*
 * domain/partition.h — the offsets of one partition's log and the rules over them.
 * Layer: domain (pure arithmetic). May touch: domain/error.h.
 *
 * Kafka's three offsets, single-broker edition:
 *   log_start_offset  first offset still in the log (moves up with retention)
 *   high_watermark    first offset not yet replicated to all in-sync replicas; with one
 *                     replica every appended record is committed, so it equals log_end
 *   log_end_offset    the offset the next appended record will get
 * Invariant: log_start <= high_watermark <= log_end.
 */
#ifndef KL_DOMAIN_PARTITION_H
#define KL_DOMAIN_PARTITION_H

#include <stdint.h>

#include "domain/error.h"

typedef struct kl_partition_offsets {
    int64_t log_start;
    int64_t high_watermark;
    int64_t log_end;
} kl_partition_offsets_t;

/* Fetch rule: an offset in [log_start, log_end] is readable (log_end = "nothing yet",
 * which long-polls); anything else is KL_ERR_OFFSET_OUT_OF_RANGE. */
kl_err_t partition_check_fetch_offset(const kl_partition_offsets_t *offs, int64_t offset);

/* Account for `record_count` records appended at log_end: log_end and the high watermark
 * move together (one replica). Returns the base offset the records were given. */
int64_t partition_advance(kl_partition_offsets_t *offs, int64_t record_count);

/* Retention deleted the segments below `new_start`: move the log start offset there.
 * Kafka's UnifiedLog.maybeIncrementLogStartOffset: it only ever moves up (a lower value
 * changes nothing, KL_OK), and never past the high watermark (KL_ERR_OFFSET_OUT_OF_RANGE,
 * offsets unchanged), so log_start <= high_watermark <= log_end still holds. */
kl_err_t partition_move_log_start(kl_partition_offsets_t *offs, int64_t new_start);

#endif
