/*
 * infrastructure/storage/offset_log.h — committed consumer offsets on disk: an append-only,
 * CRC-checked, self-compacting log in <log.dirs>/__klamm_offsets/offsets.log that
 * implements the application's offset store port (application/offset_store.h).
 * Layer: infrastructure. May touch: application/offset_store.h, domain/, logging,
 * POSIX files. The record format, crash rules and costs are at the top of offset_log.c.
 */
#ifndef KL_INFRA_STORAGE_OFFSET_LOG_H
#define KL_INFRA_STORAGE_OFFSET_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "application/offset_store.h"
#include "domain/error.h"
#include "infrastructure/logging.h"

#define KL_OFFSET_LOG_DIR "__klamm_offsets"
#define KL_OFFSET_LOG_FILE "offsets.log"
#define KL_OFFSET_LOG_TMP_FILE "offsets.log.tmp"

/* Longest group id, topic or metadata string the format holds (an int16 length prefix,
 * like a Kafka wire STRING). Longer ones are refused (INVALID_GROUP_ID / INVALID_REQUEST). */
#define KL_OFFSET_LOG_STRING_MAX 32767

#define KL_OFFSET_LOG_COMPACT_MIN_RECORDS_DEFAULT 10000
#define KL_OFFSET_LOG_COMPACT_RATIO_DEFAULT 4

typedef struct offset_log_options {
    /* true: fdatasync after every commit / delete_group / delete_topic, before it returns
     * (survives power loss; costs one disk flush per OffsetCommit). false: write(2) only,
     * which survives a process crash or kill -9 (the page cache belongs to the kernel) but
     * not power loss — Kafka's default flush policy for __consumer_offsets. */
    bool sync_commits;
    /* Compact when the file holds more than compact_min_records records AND more than
     * compact_ratio times as many records as live (group, topic, partition) entries.
     * 0 means the default (10,000 and 4). */
    int64_t compact_min_records;
    int64_t compact_ratio;
} offset_log_options_t;

/* What tests (and a curious operator) can see. */
typedef struct offset_log_stats {
    int64_t records;            /* records in the file (commits and tombstones) */
    int64_t live_records;       /* latest commit per (group, topic, partition) still standing */
    int64_t compactions;        /* rewrites done since open */
    int64_t bytes;              /* file size */
} offset_log_stats_t;

typedef struct offset_log offset_log_t;

/* sync_commits false, compaction defaults. */
offset_log_options_t offset_log_options_default(void);

/* Create <log_dir>/__klamm_offsets (log_dir must exist) and offsets.log if missing, delete
 * a leftover offsets.log.tmp, replay the file checking every CRC, truncate a torn or corrupt
 * tail (logged with the number of bytes cut), and compact if due. `opts` may be NULL
 * (defaults), `log` may be NULL (silence). Errors: KAFKA_STORAGE_ERROR (logged),
 * UNKNOWN_SERVER_ERROR (out of memory). */
kl_err_t offset_log_open(offset_log_t **out, const char *log_dir, const offset_log_options_t *opts,
                         const kl_log_t *log);
/* The offset store port over `l` (valid until offset_log_close). */
kl_offset_store_t offset_log_store(offset_log_t *l);
offset_log_stats_t offset_log_get_stats(const offset_log_t *l);
/* Close the file and free everything; `l` may be NULL. No flush needed: every append
 * already reached the kernel (and the disk, with sync_commits). */
void offset_log_close(offset_log_t *l);

#endif
