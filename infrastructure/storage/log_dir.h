/*
 * infrastructure/storage/log_dir.h — the data directory (log.dirs): topic metadata and
 * one directory per topic-partition; implements the application's log_store port.
 * Layer: infrastructure. May touch: application/ports.h, domain/, POSIX files.
 *
 * log_dir_open also finishes any topic deletion a crash interrupted (log_dir.c explains
 * the order), before the broker loads a topic or serves a request.
 *
 * Layout (docs/storage.md):
 *   <log.dirs>/<topic>-<partition>/<20-digit base offset>.log    batches as produced
 *   <log.dirs>/<topic>-<partition>/<20-digit base offset>.index  8-byte sparse entries
 *   <log.dirs>/<topic>-<partition>/<20-digit base offset>.timeindex  12-byte time entries
 *   <log.dirs>/__klamm_topics/<topic>.properties                 partition count, configs
 *   <log.dirs>/__klamm_topics/<topic>.deleting                   a deletion not finished yet
 *   <log.dirs>/.lock                                             flock(LOCK_EX) while open
 */
#ifndef KL_INFRA_STORAGE_LOG_DIR_H
#define KL_INFRA_STORAGE_LOG_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "application/ports.h"
#include "domain/error.h"
#include "infrastructure/logging.h"

#define KL_PATH_MAX 4096

typedef struct kl_storage_config {
    char log_dir[KL_PATH_MAX];            /* log.dirs (one directory) */
    int64_t segment_bytes;                /* log.segment.bytes: roll past this size (1 GiB);
                                             a topic's segment.bytes overrides it */
    int64_t roll_ms;                      /* log.roll.ms / log.roll.hours: roll a segment
                                             this old (7 days); a topic's segment.ms
                                             overrides it; <= 0: never by time */
    int32_t index_interval_bytes;         /* log.index.interval.bytes: 4096 */
    int64_t flush_interval_messages;      /* log.flush.interval.messages: fsync after N (default: never) */
    int64_t flush_interval_ms;            /* log.flush.interval.ms: fsync after T ms (default: never) */
    bool preallocate;                     /* log.preallocate: reserve the active segment's
                                             blocks ahead of its end (partition_log.h);
                                             a topic's preallocate overrides it */
} kl_storage_config_t;

typedef struct kl_log_dir kl_log_dir_t;

/* Create the directory if missing and lock it (a second broker, or a second open in this
 * process, gets KAFKA_STORAGE_ERROR and a log line naming the .lock file).
 * Errors: KAFKA_STORAGE_ERROR (logged). */
kl_err_t log_dir_open(kl_log_dir_t **out, const kl_storage_config_t *cfg, const kl_log_t *log);
/* The log_store port over this directory. */
kl_log_store_t log_dir_store(kl_log_dir_t *d);
/* Time-driven work (log.flush.interval.ms), called from the poll loop. */
void log_dir_tick(kl_log_dir_t *d, int64_t now_ms);
/* Flush and close everything still open; frees `d`. */
void log_dir_close(kl_log_dir_t *d);

#endif
