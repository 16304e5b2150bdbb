/*
 * infrastructure/storage/log_dir.c — the data directory (log.dirs): the lock that keeps a
 * second broker out, the topic catalogue (topic_store) and the open partition logs
 * (partition_log); implements the application's log_store port.
 * Layer: infrastructure. May touch: application/ports.h, storage/partition_log.h,
 * storage/topic_store.h, storage/fs.h, logging, POSIX files (mkdir, flock, lstat).
 *
 * Kafka's rule for a shared directory: the broker takes an exclusive lock on
 * <log.dirs>/.lock at startup and refuses to start when another process holds it. flock(2)
 * is released by the kernel when the process dies, so a kill -9 leaves no stale lock.
 *
 * Kafka's LogConfig rule for a partition's settings: a topic's override (segment.bytes,
 * segment.ms, preallocate) wins over the broker's default (log.segment.bytes,
 * log.roll.ms, log.preallocate). The overrides live in the topic's .properties file, so
 * partition_open reads that file (topic_store_load) rather than keeping a second copy in
 * memory that could disagree: partitions are opened only at startup and by
 * CreateTopics, and the read is one small file. A partition of a topic without a file
 * (a test's, or one opened by hand) gets the broker's defaults.
 *
 * DeleteTopics, and what a crash in the middle leaves (log_dir_topic_delete):
 *   1. the topic's file is renamed to __klamm_topics/<topic>.deleting, and that directory
 *      fsynced: from here on the topic does not exist at startup — a crash can no longer
 *      bring back a half-deleted topic;
 *   2. each open partition log is closed without a flush and its directory removed;
 *   3. every "<topic>-<n>" directory still there is removed, log.dirs fsynced;
 *   4. the marker is unlinked.
 * A marker found at startup (a crash or an I/O error between 1 and 4) is finished
 * there — steps 3 and 4 — before the broker serves anything, and a create of the same
 * name finishes it first, so the new topic starts empty at offset 0. A failure to
 * finish is logged and does not stop the start (the marker stays for the next one).
 * A "<topic>-<n>" directory with neither a topic file nor a marker (a create that
 * crashed before its file was written, or a directory that is not Klamm's) is logged at
 * startup and left alone.
 */
#include "infrastructure/storage/log_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infrastructure/storage/fs.h"
#include "infrastructure/storage/partition_log.h"
#include "infrastructure/storage/topic_store.h"

#define LD_MOD "log_dir"
#define LD_LOCK_FILE ".lock"

struct kl_log_dir {
    kl_storage_config_t cfg;
    const kl_log_t *log;
    int lock_fd;
    kl_topic_store_t *topics;
    kl_partition_log_t **open;        /* every partition_open not yet closed (for tick/close) */
    size_t open_count;
    size_t open_cap;
};

static kl_err_t log_dir_io_error(const kl_log_dir_t *d, const char *what, const char *path)
{
    return fs_io_error(d->log, LD_MOD, what, path);
}

/* mkdir -p: every missing component of `path` (at most KL_PATH_MAX bytes). */
static kl_err_t log_dir_mkdirs(const kl_log_dir_t *d, const char *path)
{
    char buf[KL_PATH_MAX];
    int n = snprintf(buf, sizeof buf, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof buf) {
        KL_LOG_ERR(d->log, LD_MOD, "log.dirs path empty or too long: \"%s\"", path);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    for (char *p = buf + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return log_dir_io_error(d, "mkdir", buf);
        *p = c;
        if (c == '\0')
            return KL_OK;
    }
}

/* Kafka's .lock rule; a clear message when another broker (or a second open) holds it. */
static kl_err_t log_dir_lock(kl_log_dir_t *d)
{
    char path[KL_PATH_MAX];
    if (!fs_path_format(path, sizeof path, "%s/" LD_LOCK_FILE, d->cfg.log_dir)) {
        KL_LOG_ERR(d->log, LD_MOD, "log.dirs path too long: %s", d->cfg.log_dir);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->lock_fd < 0)
        return log_dir_io_error(d, "open", path);
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            KL_LOG_ERR(d->log, LD_MOD, "log.dirs %s is in use by another broker: %s is locked",
                       d->cfg.log_dir, path);
            return KL_ERR_KAFKA_STORAGE_ERROR;
        }
        return log_dir_io_error(d, "flock", path);
    }
    return KL_OK;
}

static void log_dir_resume_deletions(kl_log_dir_t *d);
static void log_dir_report_orphans(kl_log_dir_t *d);

kl_err_t log_dir_open(kl_log_dir_t **out, const kl_storage_config_t *cfg, const kl_log_t *log)
{
    kl_log_dir_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    d->cfg = *cfg;
    d->log = log;
    d->lock_fd = -1;
    kl_err_t err = log_dir_mkdirs(d, cfg->log_dir);
    if (err == KL_OK)
        err = log_dir_lock(d);
    if (err == KL_OK)
        err = topic_store_open(&d->topics, cfg->log_dir, log);
    if (err != KL_OK)
        goto err;
    KL_LOG_INF(log, LD_MOD, "using log.dirs %s", cfg->log_dir);
    log_dir_resume_deletions(d);
    log_dir_report_orphans(d);
    *out = d;
    return KL_OK;
err:
    log_dir_close(d);
    return err;
}

void log_dir_close(kl_log_dir_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->open_count; i++)
        plog_close(d->open[i]);              /* fsyncs: a clean shutdown loses nothing */
    free(d->open);
    topic_store_close(d->topics);
    if (d->lock_fd >= 0)
        close(d->lock_fd);                   /* releases the flock */
    free(d);
}

void log_dir_tick(kl_log_dir_t *d, int64_t now_ms)
{
    for (size_t i = 0; i < d->open_count; i++)
        (void)plog_tick(d->open[i], now_ms); /* a failed fsync is logged by segment */
}

/* ---- deleted topics: finishing their removal ---------------------------------------- */

/* A partition directory's name "<topic>-<n>" (n in canonical decimal, as Klamm writes
 * it): the topic and n; false for any other name. The last '-' splits it, since a topic
 * name may contain '-' but a partition number cannot. */
static bool log_dir_parse_partition_dir(const char *entry, char *topic, size_t cap,
                                        int32_t *partition)
{
    const char *dash = strrchr(entry, '-');
    if (dash == NULL || dash == entry || dash[1] == '\0' || (dash[1] == '0' && dash[2] != '\0'))
        return false;
    int64_t n = 0;
    for (const char *c = dash + 1; *c != '\0'; c++) {
        if (*c < '0' || *c > '9' || (n = n * 10 + (*c - '0')) > INT32_MAX)
            return false;
    }
    size_t len = (size_t)(dash - entry);
    if (len >= cap)
        return false;
    memcpy(topic, entry, len);
    topic[len] = '\0';
    *partition = (int32_t)n;
    return topic_validate_name(topic, len) == KL_OK;
}

/* lstat, not stat: a symlink named like a partition directory is not Klamm's to delete. */
static bool log_dir_is_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

typedef void (*log_dir_partition_dir_fn)(kl_log_dir_t *d, const char *entry,
                                         const char *topic, void *arg);

/* One walk of log.dirs by log_dir_each_partition_dir: whom to call, with what. */
typedef struct log_dir_walk {
    kl_log_dir_t *d;
    log_dir_partition_dir_fn fn;
    void *arg;
} log_dir_walk_t;

/* One entry of log.dirs: `fn` when it is a directory named like a partition directory
 * (the name is checked first: that costs no system call). */
static kl_err_t log_dir_visit_entry(void *arg, const char *entry)
{
    const log_dir_walk_t *w = arg;
    char topic[KL_TOPIC_NAME_MAX + 1], path[KL_PATH_MAX];
    int32_t partition = 0;
    if (!log_dir_parse_partition_dir(entry, topic, sizeof topic, &partition))
        return KL_OK;
    if (!fs_path_format(path, sizeof path, "%s/%s", w->d->cfg.log_dir, entry)) {
        KL_LOG_ERR(w->d->log, LD_MOD, "path too long: %s/%s", w->d->cfg.log_dir, entry);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (log_dir_is_dir(path))
        w->fn(w->d, entry, topic, w->arg);
    return KL_OK;
}

/* Call `fn` for every directory of log.dirs named like a partition directory. Cost: 1
 * fs_each_entry walk of log.dirs + 1 lstat per entry so named. */
static kl_err_t log_dir_each_partition_dir(kl_log_dir_t *d, log_dir_partition_dir_fn fn,
                                           void *arg)
{
    log_dir_walk_t w = { d, fn, arg };
    return fs_each_entry(d->log, LD_MOD, d->cfg.log_dir, log_dir_visit_entry, &w);
}

typedef struct log_dir_purge {
    const char *topic;
    bool failed;
} log_dir_purge_t;

static void log_dir_purge_one(kl_log_dir_t *d, const char *entry, const char *topic,
                              void *arg)
{
    log_dir_purge_t *pg = arg;
    char path[KL_PATH_MAX];
    if (strcmp(topic, pg->topic) != 0)
        return;
    if (!fs_path_format(path, sizeof path, "%s/%s", d->cfg.log_dir, entry) ||
        fs_remove_dir(d->log, LD_MOD, path) != KL_OK)
        pg->failed = true;
}

/* Steps 3 and 4 of a deletion (see the top): every "<name>-<n>" directory removed,
 * log.dirs fsynced, then the marker unlinked. Cost: 1 walk of log.dirs + the removals
 * + 2 fsyncs. Errors: KAFKA_STORAGE_ERROR (logged; the marker stays). */
static kl_err_t log_dir_finish_delete(kl_log_dir_t *d, const char *name)
{
    log_dir_purge_t pg = { name, false };
    kl_err_t err = log_dir_each_partition_dir(d, log_dir_purge_one, &pg);
    if (err == KL_OK && pg.failed)
        err = KL_ERR_KAFKA_STORAGE_ERROR;
    if (err == KL_OK)
        err = fs_fsync_dir(d->log, LD_MOD, d->cfg.log_dir);
    if (err == KL_OK)
        err = topic_store_unmark_deleted(d->topics, name);
    return err;
}

/* A marker found at startup: finish that deletion. Never fails the start. */
static kl_err_t log_dir_resume_one(void *arg, const char *name)
{
    kl_log_dir_t *d = arg;
    if (topic_store_exists(d->topics, name)) {       /* only by hand: keep the live topic */
        KL_LOG_WARNING(d->log, LD_MOD, "topic %s has both a file and a deletion marker in "
                       KL_TOPIC_STORE_DIR "; keeping the topic, removing the marker", name);
        (void)topic_store_unmark_deleted(d->topics, name);
        return KL_OK;
    }
    if (log_dir_finish_delete(d, name) == KL_OK)
        KL_LOG_INF(d->log, LD_MOD, "finished deleting topic %s (interrupted before)", name);
    else
        KL_LOG_WARNING(d->log, LD_MOD, "could not finish deleting topic %s; its files stay "
                       "until the next start", name);
    return KL_OK;
}

static void log_dir_resume_deletions(kl_log_dir_t *d)
{
    if (topic_store_each_deleting(d->topics, log_dir_resume_one, d) != KL_OK)
        KL_LOG_WARNING(d->log, LD_MOD, "could not look for interrupted topic deletions");
}

static void log_dir_report_one(kl_log_dir_t *d, const char *entry, const char *topic,
                               void *arg)
{
    (void)arg;
    if (!topic_store_exists(d->topics, topic))
        KL_LOG_WARNING(d->log, LD_MOD, "ignoring %s/%s: no topic %s in " KL_TOPIC_STORE_DIR
                       " (a create that did not finish, or not Klamm's)", d->cfg.log_dir,
                       entry, topic);
}

/* Startup: say which partition directories belong to no topic (they are never opened). */
static void log_dir_report_orphans(kl_log_dir_t *d)
{
    (void)log_dir_each_partition_dir(d, log_dir_report_one, NULL);
}

/* ---- the log_store port -------------------------------------------------------------- */

/* "<log.dirs>/<topic>-<partition>" into buf. */
static kl_err_t log_dir_partition_path(const kl_log_dir_t *d, char *buf, size_t cap,
                                       const char *topic, int32_t partition)
{
    if (!fs_path_format(buf, cap, "%s/%s-%" PRId32, d->cfg.log_dir, topic, partition)) {
        KL_LOG_ERR(d->log, LD_MOD, "partition path too long: %s/%s-%" PRId32,
                   d->cfg.log_dir, topic, partition);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    return KL_OK;
}

/* Partition directories first, metadata last: the rename inside topic_store_save is the
 * moment the topic exists. A crash before it leaves empty directories that a later
 * create of the same name reuses. What a deleted topic of the same name left (its
 * marker says so) is removed first, so the new topic starts empty.
 * Cost: 1 mkdir per partition + 1 + 2 fsyncs. */
static kl_err_t log_dir_topic_create(void *self, const kl_topic_meta_t *meta)
{
    kl_log_dir_t *d = self;
    kl_err_t err = topic_store_check(meta);
    if (err != KL_OK)
        return err;
    if (topic_store_exists(d->topics, meta->name))
        return KL_ERR_TOPIC_ALREADY_EXISTS;
    if (topic_store_deleting(d->topics, meta->name) &&
        (err = log_dir_finish_delete(d, meta->name)) != KL_OK)
        return err;
    for (int32_t p = 0; p < meta->partition_count; p++) {
        char path[KL_PATH_MAX];
        err = log_dir_partition_path(d, path, sizeof path, meta->name, p);
        if (err != KL_OK)
            return err;
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return log_dir_io_error(d, "mkdir", path);
    }
    err = fs_fsync_dir(d->log, LD_MOD, d->cfg.log_dir);
    if (err != KL_OK)
        return err;
    err = topic_store_save(d->topics, meta);
    if (err == KL_OK)
        KL_LOG_INF(d->log, LD_MOD, "created topic %s with %" PRId32 " partition(s)",
                   meta->name, meta->partition_count);
    return err;
}

static kl_err_t log_dir_topic_load_all(void *self, kl_topic_visit_fn visit, void *arg)
{
    kl_log_dir_t *d = self;
    return topic_store_load_all(d->topics, visit, arg);
}

static kl_err_t log_dir_track(kl_log_dir_t *d, kl_partition_log_t *pl)
{
    if (d->open_count == d->open_cap) {
        size_t cap = d->open_cap ? d->open_cap * 2 : 16;
        kl_partition_log_t **p = realloc(d->open, cap * sizeof *p);
        if (p == NULL)
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        d->open = p;
        d->open_cap = cap;
    }
    d->open[d->open_count++] = pl;
    return KL_OK;
}

/* One persisted override within [min, max] into *out; left alone when the topic has
 * none. CreateTopics checked it, so a bad one was edited by hand: refused, and named. */
static kl_err_t log_dir_override(const kl_log_dir_t *d, const kl_topic_meta_t *meta,
                                 const char *key, int64_t min, int64_t max, int64_t *out)
{
    const char *v = topic_meta_config(meta, key);
    if (v == NULL)
        return KL_OK;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE || n < min || n > max) {
        KL_LOG_ERR(d->log, LD_MOD, "topic %s: config %s=%s in " KL_TOPIC_STORE_DIR
                   "/%s.properties is not an integer in [%" PRId64 ", %" PRId64 "]",
                   meta->name, key, v, meta->name, min, max);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    *out = n;
    return KL_OK;
}

/* A persisted boolean override into *out (Kafka's BOOLEAN: true/false in any case, the
 * rule CreateTopics checked it with); left alone when the topic has none. A bad one was
 * edited by hand: refused, and named. */
static kl_err_t log_dir_override_bool(const kl_log_dir_t *d, const kl_topic_meta_t *meta,
                                      const char *key, bool *out)
{
    const char *v = topic_meta_config(meta, key);
    if (v == NULL || topic_config_bool(v, out) == KL_OK)
        return KL_OK;
    KL_LOG_ERR(d->log, LD_MOD, "topic %s: config %s=%s in " KL_TOPIC_STORE_DIR
               "/%s.properties is not true or false", meta->name, key, v, meta->name);
    return KL_ERR_KAFKA_STORAGE_ERROR;
}

/* The partition log's settings: the broker's defaults, then the topic's overrides (bounds
 * as CreateTopics checks them: segment.bytes an INT atLeast(14), segment.ms atLeast(1),
 * preallocate a BOOLEAN). */
static kl_err_t log_dir_plog_config(const kl_log_dir_t *d, const char *topic,
                                    kl_plog_config_t *pc)
{
    *pc = (kl_plog_config_t){
        .segment_bytes = d->cfg.segment_bytes,
        .segment_ms = d->cfg.roll_ms,
        .index_interval_bytes = d->cfg.index_interval_bytes,
        .flush_interval_messages = d->cfg.flush_interval_messages,
        .flush_interval_ms = d->cfg.flush_interval_ms,
        .preallocate = d->cfg.preallocate,
        .log = d->log,
    };
    kl_topic_meta_t meta;
    bool found = false;
    kl_err_t err = topic_store_load(d->topics, topic, &meta, &found);
    if (err != KL_OK || !found)
        return err;
    err = log_dir_override(d, &meta, "segment.bytes", 14, INT32_MAX, &pc->segment_bytes);
    if (err == KL_OK)
        err = log_dir_override(d, &meta, "segment.ms", 1, INT64_MAX, &pc->segment_ms);
    if (err == KL_OK)
        err = log_dir_override_bool(d, &meta, "preallocate", &pc->preallocate);
    return err;
}

static kl_err_t log_dir_partition_open(void *self, const char *topic, int32_t partition,
                                       void **log_out, kl_partition_offsets_t *offsets_out)
{
    kl_log_dir_t *d = self;
    char path[KL_PATH_MAX];
    kl_plog_config_t pc;
    kl_err_t err = log_dir_partition_path(d, path, sizeof path, topic, partition);
    if (err == KL_OK)
        err = log_dir_plog_config(d, topic, &pc);
    if (err == KL_OK)                                      /* a new name must survive */
        err = fs_mkdir_durable(d->log, LD_MOD, path, d->cfg.log_dir);
    if (err != KL_OK)
        return err;
    kl_partition_log_t *pl = NULL;
    err = plog_open(&pl, path, &pc);
    if (err != KL_OK)
        return err;
    err = log_dir_track(d, pl);
    if (err != KL_OK) {
        plog_close(pl);
        return err;
    }
    offsets_out->log_start = plog_log_start(pl);
    offsets_out->log_end = plog_log_end(pl);
    offsets_out->high_watermark = offsets_out->log_end;   /* one replica: all committed */
    *log_out = pl;
    return KL_OK;
}

static void log_dir_untrack(kl_log_dir_t *d, const void *log)
{
    for (size_t i = 0; i < d->open_count; i++) {
        if (d->open[i] == log) {
            d->open[i] = d->open[--d->open_count];
            break;
        }
    }
}

static void log_dir_partition_close(void *self, void *log)
{
    log_dir_untrack(self, log);
    plog_close(log);
}

/* The order and the crash rules are at the top. Cost: 1 rename + 1 fsync, the unlinks
 * and rmdirs, 1 walk of log.dirs, 1 unlink + 2 fsyncs. */
static kl_err_t log_dir_topic_delete(void *self, const char *topic,
                                     const kl_partition_t *partitions, int32_t count)
{
    kl_log_dir_t *d = self;
    kl_err_t err = topic_store_mark_deleted(d->topics, topic);
    if (err != KL_OK)
        return err;
    for (int32_t i = 0; i < count; i++) {
        if (partitions[i].log == NULL)
            continue;
        log_dir_untrack(d, partitions[i].log);
        (void)plog_delete(partitions[i].log);   /* what it left, finish_delete retries */
    }
    if (log_dir_finish_delete(d, topic) == KL_OK)
        KL_LOG_INF(d->log, LD_MOD, "deleted topic %s with %" PRId32 " partition(s)", topic,
                   count);
    else
        KL_LOG_WARNING(d->log, LD_MOD, "topic %s is deleted, but some of its files remain; "
                       "they are removed at the next start or before %s is created again",
                       topic, topic);
    return KL_OK;
}

static kl_err_t log_dir_append(void *self, void *log, const uint8_t *batches, size_t len)
{
    (void)self;
    return plog_append(log, batches, len);
}

static kl_err_t log_dir_read(void *self, void *log, int64_t offset, int32_t max_bytes,
                             kl_buf_sink_t *sink, size_t *len_out)
{
    (void)self;
    return plog_read(log, offset, max_bytes, sink, len_out);
}

static kl_err_t log_dir_offset_for_timestamp(void *self, void *log, int64_t timestamp,
                                             int64_t *offset_out, int64_t *timestamp_out)
{
    (void)self;
    return plog_offset_for_timestamp(log, timestamp, offset_out, timestamp_out);
}

static kl_err_t log_dir_segments(void *self, void *log, kl_segment_info_t *segs, size_t cap,
                                 size_t *count_out)
{
    (void)self;
    return plog_segments(log, segs, cap, count_out);
}

static kl_err_t log_dir_delete_segments_before(void *self, void *log, int64_t offset,
                                               int64_t *log_start_out)
{
    (void)self;
    return plog_delete_segments_before(log, offset, log_start_out);
}

kl_log_store_t log_dir_store(kl_log_dir_t *d)
{
    return (kl_log_store_t){
        .self = d,
        .topic_create = log_dir_topic_create,
        .topic_load_all = log_dir_topic_load_all,
        .partition_open = log_dir_partition_open,
        .partition_close = log_dir_partition_close,
        .append = log_dir_append,
        .read = log_dir_read,
        .offset_for_timestamp = log_dir_offset_for_timestamp,
        .segments = log_dir_segments,
        .delete_segments_before = log_dir_delete_segments_before,
        .topic_delete = log_dir_topic_delete,
    };
}
