/*
 * infrastructure/storage/topic_store.c — one durable .properties file per topic (format and
 * crash rule in topic_store.h).
 * Layer: infrastructure. May touch: domain/topic.h, the visitor type of application/ports.h,
 * storage/fs.h, logging, POSIX files and directories.
 *
 * A save is: format into a stack buffer, then fs_replace_file (1 write of a temp file, fsync,
 * rename, fsync of the directory). A load is: 1 walk of the directory (fs_each_entry) + one
 * fopen/line read per topic file.
 */
#include "infrastructure/storage/topic_store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infrastructure/storage/fs.h"

#define TS_MOD "topic_store"
#define TS_SUFFIX ".properties"
#define TS_TMP_SUFFIX ".tmp"             /* short: "<name>.properties.tmp" could pass NAME_MAX */
#define TS_CONFIG_PREFIX "config."
/* Header + 2 fixed lines + every config at its longest: fits with room to spare. */
#define TS_FILE_MAX 8192
#define TS_LINE_MAX 512

static kl_err_t topic_store_io_error(const kl_topic_store_t *ts, const char *what, const char *path)
{
    return fs_io_error(ts->log, TS_MOD, what, path);
}

kl_err_t topic_store_open(kl_topic_store_t **out, const char *log_dir, const kl_log_t *log)
{
    kl_topic_store_t *ts = calloc(1, sizeof *ts);
    if (ts == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    ts->log = log;
    kl_err_t err = KL_ERR_UNKNOWN_SERVER_ERROR;
    ts->dir = fs_join(log_dir, KL_TOPIC_STORE_DIR);
    if (ts->dir == NULL)
        goto err;
    /* a new directory entry in log.dirs: made durable before a topic lands in it */
    err = fs_mkdir_durable(log, TS_MOD, ts->dir, log_dir);
    if (err != KL_OK)
        goto err;
    *out = ts;
    return KL_OK;
err:
    topic_store_close(ts);
    return err;
}

void topic_store_close(kl_topic_store_t *ts)
{
    if (ts == NULL)
        return;
    free(ts->dir);
    free(ts);
}

/* "<dir>/<name><suffix>" into buf; false when it does not fit. */
static bool topic_store_path(const kl_topic_store_t *ts, char *buf, size_t cap,
                             const char *name, const char *suffix)
{
    return fs_path_format(buf, cap, "%s/%s%s", ts->dir, name, suffix);
}

bool topic_store_exists(const kl_topic_store_t *ts, const char *name)
{
    char path[4096];
    return topic_store_path(ts, path, sizeof path, name, TS_SUFFIX) && access(path, F_OK) == 0;
}

/* ---- save ------------------------------------------------------------------------------ */

/* Render the file; INVALID_CONFIG for what the escape-free format cannot hold. */
static kl_err_t topic_store_format(const kl_topic_meta_t *meta, char *buf, size_t cap, size_t *len_out)
{
    int n = snprintf(buf, cap, "# Klamm topic metadata (docs/storage.md)\npartitions=%" PRId32
                     "\nreplication.factor=%d\n", meta->partition_count, (int)meta->replication_factor);
    size_t len = (size_t)n;
    for (int32_t i = 0; i < meta->config_count && i < KL_TOPIC_CONFIGS_MAX; i++) {
        const kl_config_entry_t *c = &meta->configs[i];
        if (c->key[0] == '\0' || strpbrk(c->key, "=\r\n") != NULL || strpbrk(c->value, "\r\n") != NULL)
            return KL_ERR_INVALID_CONFIG;
        n = snprintf(buf + len, cap - len, TS_CONFIG_PREFIX "%s=%s\n", c->key, c->value);
        if (n < 0 || (size_t)n >= cap - len)
            return KL_ERR_INVALID_CONFIG;
        len += (size_t)n;
    }
    *len_out = len;
    return KL_OK;
}

kl_err_t topic_store_check(const kl_topic_meta_t *meta)
{
    char buf[TS_FILE_MAX];
    size_t len = 0, nlen = strnlen(meta->name, sizeof meta->name);
    if (topic_validate_name(meta->name, nlen) != KL_OK || nlen > KL_TOPIC_STORE_NAME_MAX)
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    return topic_store_format(meta, buf, sizeof buf, &len);
}

kl_err_t topic_store_save(kl_topic_store_t *ts, const kl_topic_meta_t *meta)
{
    char buf[TS_FILE_MAX], tmp[4096], final[4096];
    size_t len = 0, nlen = strnlen(meta->name, sizeof meta->name);
    if (topic_validate_name(meta->name, nlen) != KL_OK || nlen > KL_TOPIC_STORE_NAME_MAX) {
        KL_LOG_WARNING(ts->log, TS_MOD, "topic name of %zu chars: the file name would pass NAME_MAX", nlen);
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    }
    kl_err_t err = topic_store_format(meta, buf, sizeof buf, &len);
    if (err != KL_OK)
        return err;
    if (!topic_store_path(ts, tmp, sizeof tmp, meta->name, TS_TMP_SUFFIX) ||
        !topic_store_path(ts, final, sizeof final, meta->name, TS_SUFFIX)) {
        KL_LOG_ERR(ts->log, TS_MOD, "path too long under %s", ts->dir);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    return fs_replace_file(ts->log, TS_MOD, tmp, final, ts->dir, buf, len);
}

/* ---- load ------------------------------------------------------------------------------ */

/* One "key=value" line into meta; false when it makes no sense. Unknown plain keys are
 * skipped (a newer Klamm may add some). */
static bool topic_store_parse_line(char *line, kl_topic_meta_t *meta, bool *has_partitions)
{
    char *eq = strchr(line, '=');
    if (eq == NULL)
        return false;
    *eq = '\0';
    const char *key = line, *value = eq + 1;
    char *end = NULL;
    if (strcmp(key, "partitions") == 0) {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || v < 1 || v > KL_PARTITIONS_MAX)
            return false;
        meta->partition_count = (int32_t)v;
        *has_partitions = true;
    } else if (strcmp(key, "replication.factor") == 0) {
        long v = strtol(value, &end, 10);
        if (end == value || *end != '\0' || v < 1 || v > INT16_MAX)
            return false;
        meta->replication_factor = (int16_t)v;
    } else if (strncmp(key, TS_CONFIG_PREFIX, strlen(TS_CONFIG_PREFIX)) == 0) {
        if (topic_meta_set_config(meta, key + strlen(TS_CONFIG_PREFIX), value) != KL_OK)
            return false;
    }
    return true;
}

/* Parse one topic file into meta (name already set). */
static kl_err_t topic_store_parse_file(const kl_topic_store_t *ts, const char *path, kl_topic_meta_t *meta)
{
    FILE *fp = fopen(path, "re");
    if (fp == NULL)
        return topic_store_io_error(ts, "open", path);
    char line[TS_LINE_MAX];
    int lineno = 0;
    bool has_partitions = false, ok = true;
    while (ok && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] != '\n' && !feof(fp))
            ok = false;                              /* longer than any line we write */
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (ok && n > 0 && line[0] != '#' && line[0] != '!')
            ok = topic_store_parse_line(line, meta, &has_partitions);
    }
    bool read_error = ferror(fp) != 0;
    fclose(fp);
    if (read_error)
        return topic_store_io_error(ts, "read", path);
    if (!ok || !has_partitions) {
        KL_LOG_ERR(ts->log, TS_MOD, "%s: unreadable topic metadata (line %d%s)", path, lineno,
                   has_partitions ? "" : ", no partitions=");
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    return KL_OK;
}

/* The topic name of a committed file "<topic>.properties", or false. */
static bool topic_store_name_of(const char *file, char *name, size_t cap)
{
    size_t len = strlen(file), slen = strlen(TS_SUFFIX);
    if (len <= slen || strcmp(file + len - slen, TS_SUFFIX) != 0 || len - slen >= cap)
        return false;
    memcpy(name, file, len - slen);
    name[len - slen] = '\0';
    return topic_validate_name(name, len - slen) == KL_OK;
}

/* One walk of topic_store_load_all: the store, and the caller's visitor. */
typedef struct topic_store_load_walk {
    const kl_topic_store_t *ts;
    kl_topic_visit_fn visit;
    void *arg;
} topic_store_load_walk_t;

/* One entry of the directory: a committed topic file is parsed and handed to the caller's
 * visitor; anything else (.tmp leftovers, markers, foreign files) is skipped. */
static kl_err_t topic_store_load_entry(void *arg, const char *file)
{
    const topic_store_load_walk_t *w = arg;
    kl_topic_meta_t meta;
    memset(&meta, 0, sizeof meta);
    if (!topic_store_name_of(file, meta.name, sizeof meta.name))
        return KL_OK;
    meta.replication_factor = 1;
    char path[4096];
    if (!topic_store_path(w->ts, path, sizeof path, meta.name, TS_SUFFIX)) {
        KL_LOG_ERR(w->ts->log, TS_MOD, "path too long under %s", w->ts->dir);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    kl_err_t err = topic_store_parse_file(w->ts, path, &meta);
    if (err == KL_OK)
        err = w->visit(w->arg, &meta);
    return err;
}

kl_err_t topic_store_load_all(kl_topic_store_t *ts, kl_topic_visit_fn visit, void *arg)
{
    topic_store_load_walk_t w = { ts, visit, arg };
    return fs_each_entry(ts->log, TS_MOD, ts->dir, topic_store_load_entry, &w);
}

kl_err_t topic_store_load(const kl_topic_store_t *ts, const char *name, kl_topic_meta_t *meta,
                          bool *found)
{
    char path[4096];
    *found = false;
    memset(meta, 0, sizeof *meta);
    size_t nlen = strnlen(name, sizeof meta->name);
    if (topic_validate_name(name, nlen) != KL_OK || !topic_store_exists(ts, name))
        return KL_OK;                                /* no such file can exist */
    memcpy(meta->name, name, nlen);
    meta->replication_factor = 1;
    if (!topic_store_path(ts, path, sizeof path, name, TS_SUFFIX)) {
        KL_LOG_ERR(ts->log, TS_MOD, "path too long under %s", ts->dir);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    kl_err_t err = topic_store_parse_file(ts, path, meta);
    *found = err == KL_OK;
    return err;
}

/* ---- deletion ---------------------------------------------------------------------------- */

kl_err_t topic_store_mark_deleted(kl_topic_store_t *ts, const char *name)
{
    char from[4096], to[4096];
    if (topic_validate_name(name, strnlen(name, KL_TOPIC_NAME_MAX + 1)) != KL_OK)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;   /* no such file can exist */
    if (!topic_store_path(ts, from, sizeof from, name, TS_SUFFIX) ||
        !topic_store_path(ts, to, sizeof to, name, KL_TOPIC_STORE_DELETING_SUFFIX)) {
        KL_LOG_ERR(ts->log, TS_MOD, "path too long under %s", ts->dir);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (rename(from, to) != 0)
        return errno == ENOENT ? KL_ERR_UNKNOWN_TOPIC_OR_PARTITION
                               : topic_store_io_error(ts, "rename", from);
    return fs_fsync_dir(ts->log, TS_MOD, ts->dir);
}

kl_err_t topic_store_unmark_deleted(kl_topic_store_t *ts, const char *name)
{
    char path[4096];
    if (!topic_store_path(ts, path, sizeof path, name, KL_TOPIC_STORE_DELETING_SUFFIX)) {
        KL_LOG_ERR(ts->log, TS_MOD, "path too long under %s", ts->dir);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        return topic_store_io_error(ts, "unlink", path);
    return fs_fsync_dir(ts->log, TS_MOD, ts->dir);
}

bool topic_store_deleting(const kl_topic_store_t *ts, const char *name)
{
    char path[4096];
    return topic_store_path(ts, path, sizeof path, name, KL_TOPIC_STORE_DELETING_SUFFIX) &&
           access(path, F_OK) == 0;
}

/* The topic name of a marker "<topic>.deleting", or false. */
static bool topic_store_marker_name(const char *file, char *name, size_t cap)
{
    size_t len = strlen(file), slen = strlen(KL_TOPIC_STORE_DELETING_SUFFIX);
    if (len <= slen || strcmp(file + len - slen, KL_TOPIC_STORE_DELETING_SUFFIX) != 0 ||
        len - slen >= cap)
        return false;
    memcpy(name, file, len - slen);
    name[len - slen] = '\0';
    return topic_validate_name(name, len - slen) == KL_OK;
}

/* One walk of topic_store_each_deleting: the caller's visitor. */
typedef struct topic_store_marker_walk {
    kl_topic_name_visit_fn visit;
    void *arg;
} topic_store_marker_walk_t;

/* One entry of the directory: a marker's topic name goes to the caller's visitor. */
static kl_err_t topic_store_marker_entry(void *arg, const char *file)
{
    const topic_store_marker_walk_t *w = arg;
    char name[KL_TOPIC_NAME_MAX + 1];
    if (!topic_store_marker_name(file, name, sizeof name))
        return KL_OK;
    return w->visit(w->arg, name);
}

kl_err_t topic_store_each_deleting(kl_topic_store_t *ts, kl_topic_name_visit_fn visit,
                                   void *arg)
{
    topic_store_marker_walk_t w = { visit, arg };
    return fs_each_entry(ts->log, TS_MOD, ts->dir, topic_store_marker_entry, &w);
}
