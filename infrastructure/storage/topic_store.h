/*
 * infrastructure/storage/topic_store.h — the topic catalogue on disk: one Java-properties
 * style file per topic in <log.dirs>/__klamm_topics/<topic>.properties:
 *
 *     # Klamm topic metadata
 *     partitions=3
 *     replication.factor=1
 *     config.retention.ms=86400000
 *
 * Layer: infrastructure. May touch: domain/topic.h, application/ports.h (the visitor type),
 * logging, POSIX files.
 *
 * Durability: a file is written to "<topic>.tmp", fsynced, renamed over the final
 * name, and the directory is fsynced; rename is atomic, so after a crash a topic is either
 * fully there or absent, and a half-written .tmp file is ignored by topic_store_load_all.
 * Cost per save: 2 fsyncs. The format is a subset of Java properties: no escapes, so keys may
 * not contain '=' and values may not contain line breaks (refused with INVALID_CONFIG).
 * Topic names are safe file names by Kafka's naming rule ([a-zA-Z0-9._-]).
 */
#ifndef KL_INFRA_STORAGE_TOPIC_STORE_H
#define KL_INFRA_STORAGE_TOPIC_STORE_H

#include <stdbool.h>

#include "application/ports.h"
#include "domain/error.h"
#include "domain/topic.h"
#include "infrastructure/logging.h"

#define KL_TOPIC_STORE_DIR "__klamm_topics"
/* NAME_MAX (255) - strlen(".properties"): Kafka allows 249-char topic names, but the
 * longest 5 cannot be stored under this layout and are refused (INVALID_TOPIC_EXCEPTION). */
#define KL_TOPIC_STORE_NAME_MAX 244

typedef struct kl_topic_store {
    char *dir;                  /* <log.dirs>/__klamm_topics */
    const kl_log_t *log;        /* may be NULL */
} kl_topic_store_t;

/* Use (creating if missing, durably) <log_dir>/__klamm_topics. `log_dir` must exist.
 * Errors: KAFKA_STORAGE_ERROR (logged), UNKNOWN_SERVER_ERROR (memory). */
kl_err_t topic_store_open(kl_topic_store_t **out, const char *log_dir, const kl_log_t *log);
void topic_store_close(kl_topic_store_t *ts);

/* Is there a committed (renamed) file for this topic? */
bool topic_store_exists(const kl_topic_store_t *ts, const char *name);

/* What topic_store_save would refuse without touching the disk (so log_dir can check
 * before creating partition directories): INVALID_TOPIC_EXCEPTION or INVALID_CONFIG. */
kl_err_t topic_store_check(const kl_topic_meta_t *meta);

/* Write the topic's file durably (temp, fsync, rename, fsync dir); replaces an old one.
 * Errors: INVALID_CONFIG (a key or value the format cannot hold), INVALID_TOPIC_EXCEPTION
 * (a name that is not a safe file name), KAFKA_STORAGE_ERROR (logged). */
kl_err_t topic_store_save(kl_topic_store_t *ts, const kl_topic_meta_t *meta);

/* Call `visit` for every "<topic>.properties" (other names, temp files included, are
 * ignored), in no particular order (the directory's). A file that does not parse fails
 * the load with KAFKA_STORAGE_ERROR and a log line naming it: better to stop than to
 * forget a topic and later re-create it empty. A visitor's error stops the walk and is
 * returned. */
kl_err_t topic_store_load_all(kl_topic_store_t *ts, kl_topic_visit_fn visit, void *arg);

/* One topic's metadata by name, parsed as topic_store_load_all does: *found = false (and
 * KL_OK) when it has no committed file. Errors as topic_store_load_all's (a file that does
 * not parse: KAFKA_STORAGE_ERROR, logged). Cost: 1 access + 1 fopen and a line read. */
kl_err_t topic_store_load(const kl_topic_store_t *ts, const char *name, kl_topic_meta_t *meta,
                          bool *found);

/* ---- deletion (DeleteTopics) ----
 * A topic is deleted in two steps, so that a crash between them neither brings it back
 * nor forgets its files: its file is renamed to "<topic>.deleting" (atomic; from then on
 * topic_store_load_all does not see the topic), then, once the caller removed the
 * partition directories, the marker is unlinked. A marker found later means "the files
 * of <topic> may still be there": log_dir removes them at startup, or before a topic of
 * that name is created again. */

#define KL_TOPIC_STORE_DELETING_SUFFIX ".deleting"

/* Rename "<name>.properties" to "<name>.deleting" and fsync the directory.
 * Errors: UNKNOWN_TOPIC_OR_PARTITION (no such file), KAFKA_STORAGE_ERROR (logged). */
kl_err_t topic_store_mark_deleted(kl_topic_store_t *ts, const char *name);

/* Unlink "<name>.deleting" (a missing one is fine) and fsync the directory.
 * Errors: KAFKA_STORAGE_ERROR (logged). */
kl_err_t topic_store_unmark_deleted(kl_topic_store_t *ts, const char *name);

/* Is there a "<name>.deleting" marker? */
bool topic_store_deleting(const kl_topic_store_t *ts, const char *name);

/* Call `visit(arg, name)` for every "<name>.deleting" marker whose name is a valid topic
 * name. A visitor's error stops the walk and is returned. */
typedef kl_err_t (*kl_topic_name_visit_fn)(void *arg, const char *name);
kl_err_t topic_store_each_deleting(kl_topic_store_t *ts, kl_topic_name_visit_fn visit,
                                   void *arg);

#endif
