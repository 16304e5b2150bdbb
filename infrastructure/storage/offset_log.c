/*
 * infrastructure/storage/offset_log.c — committed consumer offsets as an append-only log;
 * implements the offset store port (application/offset_store.h).
 * Layer: infrastructure. May touch: application/offset_store.h, domain/crc32c.h,
 * domain/error.h, storage/fs.h, logging, uthash, POSIX files and directories.
 *
 * File: <log.dirs>/__klamm_offsets/offsets.log, a sequence of records, big-endian:
 *
 *   int32  length      bytes that follow this field (CRC + body)
 *   uint32 crc         CRC-32C (domain/crc32c.h) of the body
 *   body:
 *   int8   type        1 = commit, 2 = group tombstone, 3 = topic tombstone; bit 0x80 =
 *                      "more records of the same append follow" (see all-or-nothing below)
 *   int64  timestamp   commit time in ms (a tombstone has -1: the port gives it no time)
 *   int16 + bytes      group id ("" in a topic tombstone)
 *   commit and topic tombstone:
 *   int16 + bytes      topic
 *   commit only:
 *   int32  partition
 *   int64  offset      the next offset the group will consume
 *   int16 + bytes      metadata ("" when the client sent none)
 *
 * A topic tombstone (DeleteTopics) cancels every group's earlier commits of that topic;
 * a commit of it after the tombstone (the topic created again) counts as usual.
 *
 * Strings are at most 32767 bytes (an int16 length, like a Kafka wire STRING).
 *
 * All or nothing: the records of one commit call are encoded into one buffer and written
 * with one pwrite(2) at the end of the file; every record but the last carries the 0x80 bit.
 * A crash can still cut that write short (power loss, or kill -9 in the middle of a large
 * write), even exactly between two records; at replay an append whose last record still has
 * the bit set is incomplete and is cut away with the torn tail. If the write or the fsync
 * fails, the file is truncated back to its previous size, so "nothing is appended on error".
 *
 * Durability (offset_log_options_t.sync_commits): true → fdatasync(2) before commit and
 * delete_group return (survives power loss; one disk flush per OffsetCommit; fdatasync and
 * not fsync because only the data and the size, not the timestamps, are needed to read the
 * records back). false → write(2) only: the bytes are in the kernel's page cache when the
 * call returns, so they survive a crash or kill -9 of the broker but not of the machine;
 * that is Kafka's default flush policy (log.flush.interval.* unset) for __consumer_offsets.
 *
 * Open: a leftover offsets.log.tmp (a compaction that crashed before its rename) is deleted;
 * the file is replayed from the start checking each record's length, CRC, framing and the
 * append rule above; at the first bad record the rest of the file is cut (ftruncate) with a
 * WARN line saying how many bytes. Like Kafka's recovery of an active segment, a bad record
 * in the middle also cuts the valid records after it: the length of a corrupt record cannot
 * be trusted to find the next one. Cost: one sequential read of the file (64 KiB preads).
 *
 * load_all: the file is read again from the start (it is the truth, and compaction keeps it
 * small), every record handed to the visitor in file order, tombstones included.
 *
 * Compaction: an in-memory map group → (topic, partition) → latest commit (uthash, two
 * levels so a tombstone drops a group in O(its partitions)) counts live entries against the
 * records in the file. When the file has more than compact_min_records records (10,000) and
 * more than compact_ratio (4) times as many records as live entries, the live entries are
 * written to offsets.log.tmp, which is fsynced, renamed over offsets.log, and the directory
 * fsynced. Crash-safe at every step: before the rename the old file is intact (and the .tmp
 * is deleted at the next open); after it the new file holds the same final state. Tombstones
 * are not written (group or topic ones): the commits they cancelled are not either, so
 * nothing older remains for them to cancel. Cost: O(live) bytes written + 2 fsyncs, paid by the commit that crosses
 * the threshold — amortised O(1) per record since at least 3/4 of the file was garbage.
 * Memory: every live entry (its strings included) is held; about what the coordinator holds.
 *
 * A compaction that fails is logged and retried compact_min_records records later; the
 * commit that triggered it has already succeeded. If the rename worked but the directory
 * fsync did not, the next append retries that fsync first and fails (appending nothing) if it
 * fails again — otherwise a later commit could be acknowledged into a file a power loss
 * would unlink. If rolling back a failed append fails too, file and memory may disagree and
 * every later call answers KAFKA_STORAGE_ERROR (Kafka takes such a log dir offline).
 */
#include "infrastructure/storage/offset_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infrastructure/storage/fs.h"

/* uthash calls exit() on out-of-memory unless told otherwise; with HASH_NONFATAL_OOM a
 * failed add is rolled back and `hash_oom`, a local of the adding function, is set. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = 1)
#include <uthash.h>

#include "domain/crc32c.h"

#define OL_MOD "offset_log"

#define OL_TYPE_COMMIT 1
#define OL_TYPE_TOMBSTONE 2
#define OL_TYPE_TOPIC_TOMBSTONE 3
#define OL_TYPE_MORE 0x80

#define OL_STR_MAX KL_OFFSET_LOG_STRING_MAX
#define OL_HEADER 8                                   /* length + crc */
#define OL_BODY_FIXED (1 + 8 + 2)                     /* type, timestamp, group length */
#define OL_COMMIT_FIXED (2 + 4 + 8 + 2)               /* topic len, partition, offset, md len */
#define OL_LENGTH_MIN (4 + OL_BODY_FIXED)
#define OL_LENGTH_MAX (4 + OL_BODY_FIXED + OL_COMMIT_FIXED + 3 * OL_STR_MAX)
#define OL_RECORD_MAX (4 + OL_LENGTH_MAX)
#define OL_CHUNK 65536                                /* read / compaction write unit */

/* ---- the in-memory map: latest commit per (group, topic, partition) ---------------------- */

typedef struct ol_entry {
    UT_hash_handle hh;
    int64_t offset;
    int64_t timestamp_ms;
    char *metadata;
    size_t metadata_len;
    size_t topic_len;
    int32_t partition;
    size_t key_len;
    char key[];          /* topic bytes, '\0', partition as 4 big-endian bytes */
} ol_entry_t;

typedef struct ol_group {
    UT_hash_handle hh;
    ol_entry_t *entries;
    size_t id_len;
    char id[];           /* group id bytes, '\0' */
} ol_group_t;

struct offset_log {
    const kl_log_t *log;
    offset_log_options_t opts;
    char *dir;                 /* <log.dirs>/__klamm_offsets */
    char *path;                /* .../offsets.log */
    char *tmp_path;            /* .../offsets.log.tmp */
    int fd;
    int64_t size;              /* bytes of complete appends */
    int64_t records;           /* records in those bytes */
    int64_t live;              /* entries in the map */
    int64_t compactions;
    int64_t compact_retry_at;  /* after a failed compaction: records count to try again at */
    bool map_incomplete;       /* an allocation failed after an append: never compact */
    bool dir_unsynced;         /* a compaction's rename may not be durable yet */
    bool failed;               /* file and memory may disagree: refuse everything */
    ol_group_t *groups;
    uint8_t keybuf[OL_STR_MAX + 1 + 4];
};

/* One record, decoded: pointers into a buffer, strings not NUL-terminated. */
typedef struct ol_view {
    uint8_t type;              /* OL_TYPE_COMMIT, _TOMBSTONE or _TOPIC_TOMBSTONE */
    bool more;
    int64_t timestamp_ms;
    const uint8_t *group;
    size_t group_len;
    const uint8_t *topic;
    size_t topic_len;
    int32_t partition;
    int64_t offset;
    const uint8_t *metadata;
    size_t metadata_len;
} ol_view_t;

typedef kl_err_t (*ol_apply_fn)(void *arg, const ol_view_t *v);

/* ---- big-endian fields ------------------------------------------------------------------- */

static uint8_t *ol_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *ol_put32(uint8_t *p, uint32_t v)
{
    return ol_put16(ol_put16(p, (uint16_t)(v >> 16)), (uint16_t)v);
}

static uint8_t *ol_put64(uint8_t *p, uint64_t v)
{
    return ol_put32(ol_put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

static uint8_t *ol_put_str(uint8_t *p, const uint8_t *s, size_t len)
{
    p = ol_put16(p, (uint16_t)len);
    if (len > 0)
        memcpy(p, s, len);
    return p + len;
}

static uint16_t ol_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t ol_get32(const uint8_t *p)
{
    return (uint32_t)ol_get16(p) << 16 | ol_get16(p + 2);
}

static uint64_t ol_get64(const uint8_t *p)
{
    return (uint64_t)ol_get32(p) << 32 | ol_get32(p + 4);
}

/* ---- encode / decode --------------------------------------------------------------------- */

static size_t ol_view_size(const ol_view_t *v)
{
    size_t n = OL_HEADER + OL_BODY_FIXED + v->group_len;
    if (v->type == OL_TYPE_COMMIT)
        n += OL_COMMIT_FIXED + v->topic_len + v->metadata_len;
    if (v->type == OL_TYPE_TOPIC_TOMBSTONE)
        n += 2 + v->topic_len;
    return n;
}

/* Write the record of `v` at `p` (ol_view_size(v) bytes); returns the end. */
static uint8_t *ol_encode(uint8_t *p, const ol_view_t *v)
{
    size_t n = ol_view_size(v);
    uint8_t *body = p + OL_HEADER, *q = body;
    *q++ = (uint8_t)(v->type | (v->more ? OL_TYPE_MORE : 0));
    q = ol_put64(q, (uint64_t)v->timestamp_ms);
    q = ol_put_str(q, v->group, v->group_len);
    if (v->type == OL_TYPE_COMMIT) {
        q = ol_put_str(q, v->topic, v->topic_len);
        q = ol_put32(q, (uint32_t)v->partition);
        q = ol_put64(q, (uint64_t)v->offset);
        q = ol_put_str(q, v->metadata, v->metadata_len);
    }
    if (v->type == OL_TYPE_TOPIC_TOMBSTONE)
        q = ol_put_str(q, v->topic, v->topic_len);
    ol_put32(p, (uint32_t)(n - 4));
    ol_put32(p + 4, kl_crc32c(0, body, (size_t)(q - body)));
    return q;
}

typedef struct ol_cursor {
    const uint8_t *p;
    size_t left;
} ol_cursor_t;

static const uint8_t *ol_take(ol_cursor_t *c, size_t n)
{
    if (n > c->left)
        return NULL;
    const uint8_t *q = c->p;
    c->p += n;
    c->left -= n;
    return q;
}

static bool ol_take_str(ol_cursor_t *c, const uint8_t **s, size_t *len)
{
    const uint8_t *h = ol_take(c, 2);
    if (h == NULL || (int16_t)ol_get16(h) < 0)
        return false;
    *len = ol_get16(h);
    *s = ol_take(c, *len);
    return *s != NULL;
}

/* Parse a body (CRC already checked); false unless it is exactly one well-formed record. */
static bool ol_decode_body(const uint8_t *b, size_t n, ol_view_t *v)
{
    ol_cursor_t c = { b, n };
    memset(v, 0, sizeof *v);
    const uint8_t *h = ol_take(&c, 9);
    if (h == NULL)
        return false;
    v->type = h[0] & (uint8_t)~OL_TYPE_MORE;
    v->more = (h[0] & OL_TYPE_MORE) != 0;
    v->timestamp_ms = (int64_t)ol_get64(h + 1);
    if (v->type != OL_TYPE_COMMIT && v->type != OL_TYPE_TOMBSTONE &&
        v->type != OL_TYPE_TOPIC_TOMBSTONE)
        return false;
    if (!ol_take_str(&c, &v->group, &v->group_len))
        return false;
    if (v->type == OL_TYPE_COMMIT) {
        if (!ol_take_str(&c, &v->topic, &v->topic_len) || (h = ol_take(&c, 12)) == NULL)
            return false;
        v->partition = (int32_t)ol_get32(h);
        v->offset = (int64_t)ol_get64(h + 4);
        if (!ol_take_str(&c, &v->metadata, &v->metadata_len))
            return false;
    }
    if (v->type == OL_TYPE_TOPIC_TOMBSTONE && !ol_take_str(&c, &v->topic, &v->topic_len))
        return false;
    return c.left == 0;
}

/* ---- small I/O helpers ------------------------------------------------------------------- */

static kl_err_t ol_io_error(const offset_log_t *l, const char *what, const char *path)
{
    return fs_io_error(l->log, OL_MOD, what, path);
}

/* One pwrite(2) in the normal case; the loop only resumes a short write. */
static kl_err_t ol_pwrite_full(const offset_log_t *l, int fd, const char *path,
                               const uint8_t *buf, size_t n, int64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, buf + done, n - done, (off_t)(pos + (int64_t)done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ol_io_error(l, "write", path);
        done += (size_t)w;
    }
    return KL_OK;
}

static kl_err_t ol_pread_full(const offset_log_t *l, uint8_t *buf, size_t n, int64_t pos)
{
    return fs_pread_full(l->log, OL_MOD, l->fd, l->path, buf, n, pos);
}

/* ---- the map ----------------------------------------------------------------------------- */

static void ol_group_free(offset_log_t *l, ol_group_t *g)
{
    ol_entry_t *e, *tmp;
    HASH_ITER(hh, g->entries, e, tmp) {
        HASH_DEL(g->entries, e);
        free(e->metadata);
        free(e);
        l->live--;
    }
    HASH_DEL(l->groups, g);
    free(g);
}

static ol_group_t *ol_group_find_or_add(offset_log_t *l, const uint8_t *id, size_t len)
{
    ol_group_t *g = NULL;
    HASH_FIND(hh, l->groups, id, len, g);
    if (g != NULL)
        return g;
    g = calloc(1, sizeof *g + len + 1);
    if (g == NULL)
        return NULL;
    memcpy(g->id, id, len);
    g->id_len = len;
    int hash_oom = 0;
    HASH_ADD_KEYPTR(hh, l->groups, g->id, g->id_len, g);
    if (hash_oom) {
        free(g);
        return NULL;
    }
    return g;
}

/* The entry key of (topic, partition) into l->keybuf; its length. */
static size_t ol_key(offset_log_t *l, const uint8_t *topic, size_t topic_len, int32_t partition)
{
    memcpy(l->keybuf, topic, topic_len);
    l->keybuf[topic_len] = '\0';
    ol_put32(l->keybuf + topic_len + 1, (uint32_t)partition);
    return topic_len + 1 + 4;
}

static char *ol_strndup(const uint8_t *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static kl_err_t ol_map_put(offset_log_t *l, const ol_view_t *v)
{
    ol_group_t *g = ol_group_find_or_add(l, v->group, v->group_len);
    char *md = ol_strndup(v->metadata, v->metadata_len);
    if (g == NULL || md == NULL)
        goto oom;
    size_t klen = ol_key(l, v->topic, v->topic_len, v->partition);
    ol_entry_t *e = NULL;
    HASH_FIND(hh, g->entries, l->keybuf, klen, e);
    if (e == NULL) {
        if ((e = malloc(sizeof *e + klen)) == NULL)
            goto oom;
        memcpy(e->key, l->keybuf, klen);
        e->key_len = klen;
        e->topic_len = v->topic_len;
        e->partition = v->partition;
        e->metadata = NULL;
        int hash_oom = 0;
        HASH_ADD_KEYPTR(hh, g->entries, e->key, e->key_len, e);
        if (hash_oom) {
            free(e);
            goto oom;
        }
        l->live++;
    }
    free(e->metadata);
    e->metadata = md;
    e->metadata_len = v->metadata_len;
    e->offset = v->offset;
    e->timestamp_ms = v->timestamp_ms;
    return KL_OK;
oom:
    free(md);
    return KL_ERR_UNKNOWN_SERVER_ERROR;
}

/* A topic tombstone: that topic's entries leave every group (and a group left with none
 * leaves the map: compaction would write nothing for it anyway). */
static void ol_map_drop_topic(offset_log_t *l, const ol_view_t *v)
{
    ol_group_t *g, *gtmp;
    HASH_ITER(hh, l->groups, g, gtmp) {
        ol_entry_t *e, *tmp;
        HASH_ITER(hh, g->entries, e, tmp) {
            if (e->topic_len != v->topic_len || memcmp(e->key, v->topic, v->topic_len) != 0)
                continue;
            HASH_DEL(g->entries, e);
            free(e->metadata);
            free(e);
            l->live--;
        }
        if (g->entries == NULL)
            ol_group_free(l, g);
    }
}

/* Apply one record (commit or tombstone) to the map. */
static kl_err_t ol_map_apply(void *arg, const ol_view_t *v)
{
    offset_log_t *l = arg;
    if (v->type == OL_TYPE_COMMIT)
        return ol_map_put(l, v);
    if (v->type == OL_TYPE_TOPIC_TOMBSTONE) {
        ol_map_drop_topic(l, v);
        return KL_OK;
    }
    ol_group_t *g = NULL;
    HASH_FIND(hh, l->groups, v->group, v->group_len, g);
    if (g != NULL)
        ol_group_free(l, g);
    return KL_OK;
}

/* The view of a live entry, as compaction writes it. */
static ol_view_t ol_entry_view(const ol_group_t *g, const ol_entry_t *e)
{
    ol_view_t v = {
        .type = OL_TYPE_COMMIT, .timestamp_ms = e->timestamp_ms,
        .group = (const uint8_t *)g->id, .group_len = g->id_len,
        .topic = (const uint8_t *)e->key, .topic_len = e->topic_len,
        .partition = e->partition, .offset = e->offset,
        .metadata = (const uint8_t *)e->metadata, .metadata_len = e->metadata_len,
    };
    return v;
}

/* ---- reading the file -------------------------------------------------------------------- */

/* A window over [start, start + len) of the file, refilled by pread as the walk moves on. */
typedef struct ol_reader {
    int64_t size;              /* where the walk must stop: reads past it are torn */
    uint8_t *buf;
    int64_t start;
    size_t len;
} ol_reader_t;

/* Point *out at bytes [pos, pos + n) (n <= OL_RECORD_MAX); *out = NULL when they pass the
 * end. The pointer is valid until the next call. */
static kl_err_t ol_reader_get(const offset_log_t *l, ol_reader_t *r, int64_t pos, size_t n,
                              const uint8_t **out)
{
    *out = NULL;
    if ((int64_t)n > r->size - pos)
        return KL_OK;
    if (pos >= r->start && pos + (int64_t)n <= r->start + (int64_t)r->len) {
        *out = r->buf + (pos - r->start);
        return KL_OK;
    }
    int64_t want = r->size - pos;
    if (want > OL_RECORD_MAX + OL_CHUNK)
        want = OL_RECORD_MAX + OL_CHUNK;
    r->len = 0;
    kl_err_t err = ol_pread_full(l, r->buf, (size_t)want, pos);
    if (err != KL_OK)
        return err;
    r->start = pos;
    r->len = (size_t)want;
    *out = r->buf;
    return KL_OK;
}

/* Decode the record at `pos` into *v and *next. A bad record is not an error: *why says
 * what is wrong with it (torn or corrupt); I/O failures are. */
static kl_err_t ol_read_record(const offset_log_t *l, ol_reader_t *r, int64_t pos, ol_view_t *v,
                               int64_t *next, const char **why)
{
    const uint8_t *p = NULL;
    *why = NULL;
    kl_err_t err = ol_reader_get(l, r, pos, 4, &p);
    if (err != KL_OK || p == NULL) {
        *why = "torn (length cut short)";
        return err;
    }
    int32_t len = (int32_t)ol_get32(p);
    if (len < OL_LENGTH_MIN || len > OL_LENGTH_MAX) {
        *why = "corrupt (impossible length)";
        return KL_OK;
    }
    err = ol_reader_get(l, r, pos, 4 + (size_t)len, &p);
    if (err != KL_OK || p == NULL)
        *why = "torn (record cut short)";
    else if (kl_crc32c(0, p + OL_HEADER, (size_t)len - 4) != ol_get32(p + 4))
        *why = "corrupt (CRC mismatch)";
    else if (!ol_decode_body(p + OL_HEADER, (size_t)len - 4, v))
        *why = "corrupt (bad framing)";
    *next = pos + 4 + len;
    return err;
}

/* Check the append starting at `pos`: its records up to the first without the "more" bit.
 * *end is where it ends, *count its records; *why is set when it is torn or corrupt. */
static kl_err_t ol_check_append(const offset_log_t *l, ol_reader_t *r, int64_t pos,
                                int64_t *end, int64_t *count, const char **why)
{
    ol_view_t v;
    *count = 0;
    do {
        kl_err_t err = ol_read_record(l, r, pos, &v, &pos, why);
        if (err != KL_OK || *why != NULL)
            return err;
        ++*count;
    } while (v.more);            /* at the end of the file, the next read reports it torn */
    *end = pos;
    return KL_OK;
}

/* Walk the complete appends of [0, r->size): each is checked whole, then its records are
 * handed to `apply`, oldest first. *valid_end is the end of the last good append and *why
 * why the walk stopped before r->size (NULL when it did not). Costs one decode + CRC of
 * every record twice; the second pass reads from the window, rarely from the disk. */
static kl_err_t ol_scan(const offset_log_t *l, ol_reader_t *r, ol_apply_fn apply, void *arg,
                        int64_t *valid_end, int64_t *records, const char **why)
{
    int64_t pos = 0, end = 0, count = 0;
    *records = 0;
    *why = NULL;
    while (pos < r->size) {
        kl_err_t err = ol_check_append(l, r, pos, &end, &count, why);
        if (err != KL_OK)
            return err;
        if (*why != NULL)
            break;
        ol_view_t v;
        const char *again = NULL;
        while (err == KL_OK && pos < end) {
            err = ol_read_record(l, r, pos, &v, &pos, &again);
            if (err == KL_OK && again != NULL)
                err = KL_ERR_KAFKA_STORAGE_ERROR;     /* it was fine a moment ago */
            if (err == KL_OK)
                err = apply(arg, &v);
        }
        if (err != KL_OK)
            return err;
        *records += count;
    }
    *valid_end = pos;
    return KL_OK;
}

static kl_err_t ol_reader_init(ol_reader_t *r, int64_t size)
{
    memset(r, 0, sizeof *r);
    r->size = size;
    r->buf = malloc(OL_RECORD_MAX + OL_CHUNK);
    return r->buf ? KL_OK : KL_ERR_UNKNOWN_SERVER_ERROR;
}

/* ---- compaction -------------------------------------------------------------------------- */

/* Write every live entry to `fd`, OL_CHUNK bytes at a time; *size is what was written. */
static kl_err_t ol_write_live(const offset_log_t *l, int fd, int64_t *size)
{
    uint8_t *buf = malloc(OL_CHUNK + OL_RECORD_MAX);
    if (buf == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    kl_err_t err = KL_OK;
    size_t used = 0;
    *size = 0;
    for (const ol_group_t *g = l->groups; g != NULL && err == KL_OK; g = g->hh.next) {
        for (const ol_entry_t *e = g->entries; e != NULL && err == KL_OK; e = e->hh.next) {
            ol_view_t v = ol_entry_view(g, e);
            used = (size_t)(ol_encode(buf + used, &v) - buf);
            if (used >= OL_CHUNK) {
                err = ol_pwrite_full(l, fd, l->tmp_path, buf, used, *size);
                *size += (int64_t)used;
                used = 0;
            }
        }
    }
    if (err == KL_OK && used > 0) {
        err = ol_pwrite_full(l, fd, l->tmp_path, buf, used, *size);
        *size += (int64_t)used;
    }
    free(buf);
    return err;
}

static kl_err_t ol_compact(offset_log_t *l)
{
    int64_t size = 0, before = l->size, records = l->records;
    int fd = open(l->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ol_io_error(l, "open", l->tmp_path);
    kl_err_t err = ol_write_live(l, fd, &size);
    if (err == KL_OK && fsync(fd) != 0)
        err = ol_io_error(l, "fsync", l->tmp_path);
    if (err == KL_OK && rename(l->tmp_path, l->path) != 0)
        err = ol_io_error(l, "rename", l->tmp_path);
    if (err != KL_OK)
        goto err;
    /* Past the rename: the new file is offsets.log, and our fd is the new file. */
    close(l->fd);
    l->fd = fd;
    l->size = size;
    l->records = l->live;
    l->compactions++;
    l->dir_unsynced = fs_fsync_dir(l->log, OL_MOD, l->dir) != KL_OK;
    KL_LOG_INF(l->log, OL_MOD, "compacted %s: %" PRId64 " records (%" PRId64 " bytes) -> %"
               PRId64 " (%" PRId64 " bytes)", l->path, records, before, l->records, size);
    return KL_OK;
err:
    close(fd);
    unlink(l->tmp_path);
    return err;
}

static void ol_maybe_compact(offset_log_t *l)
{
    if (l->map_incomplete || l->failed || l->records <= l->opts.compact_min_records ||
        l->records <= l->opts.compact_ratio * l->live || l->records < l->compact_retry_at)
        return;
    if (ol_compact(l) != KL_OK) {
        l->compact_retry_at = l->records + l->opts.compact_min_records;
        KL_LOG_WARNING(l->log, OL_MOD, "compaction of %s failed; retrying after %" PRId64
                       " records", l->path, l->compact_retry_at);
    }
}

/* ---- appending --------------------------------------------------------------------------- */

/* Undo a failed append; if even that fails, stop trusting the file. */
static void ol_rollback(offset_log_t *l)
{
    if (ftruncate(l->fd, (off_t)l->size) == 0)
        return;
    ol_io_error(l, "ftruncate (rolling back a failed append)", l->path);
    KL_LOG_ERR(l->log, OL_MOD, "%s may hold a partial append; refusing further offset commits",
               l->path);
    l->failed = true;
}

/* Append `n` bytes holding `records` complete records (one append), durably per the options. */
static kl_err_t ol_append(offset_log_t *l, const uint8_t *buf, size_t n, int64_t records)
{
    if (l->failed)
        return KL_ERR_KAFKA_STORAGE_ERROR;
    if (l->dir_unsynced) {
        if (fs_fsync_dir(l->log, OL_MOD, l->dir) != KL_OK)
            return KL_ERR_KAFKA_STORAGE_ERROR;
        l->dir_unsynced = false;
    }
    kl_err_t err = ol_pwrite_full(l, l->fd, l->path, buf, n, l->size);
    if (err == KL_OK && l->opts.sync_commits && fdatasync(l->fd) != 0)
        err = ol_io_error(l, "fdatasync", l->path);
    if (err != KL_OK) {
        ol_rollback(l);
        return err;
    }
    l->size += (int64_t)n;
    l->records += records;
    return KL_OK;
}

/* After a durable append, bring the map up to date; an allocation failure there cannot undo
 * the append, so it only stops compaction (which would lose what the map misses). */
static void ol_remember(offset_log_t *l, const ol_view_t *views, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (ol_map_apply(l, &views[i]) != KL_OK && !l->map_incomplete) {
            KL_LOG_ERR(l->log, OL_MOD, "out of memory indexing %s; compaction disabled", l->path);
            l->map_incomplete = true;
        }
    }
    ol_maybe_compact(l);
}

/* Encode `count` views as one append (the "more" bit on all but the last) and write it. */
static kl_err_t ol_append_views(offset_log_t *l, ol_view_t *views, size_t count)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        views[i].more = i + 1 < count;
        total += ol_view_size(&views[i]);
    }
    uint8_t *buf = malloc(total), *p = buf;
    if (buf == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    for (size_t i = 0; i < count; i++)
        p = ol_encode(p, &views[i]);
    kl_err_t err = ol_append(l, buf, total, (int64_t)count);
    free(buf);
    if (err == KL_OK)
        ol_remember(l, views, count);
    return err;
}

/* ---- the port ---------------------------------------------------------------------------- */

static bool ol_group_ok(const char *group_id)
{
    return group_id != NULL && strlen(group_id) <= OL_STR_MAX;
}

/* The view of one commit; false when a string does not fit the format. */
static bool ol_commit_view(const char *group_id, const kl_offset_commit_t *c, int64_t ts,
                           ol_view_t *v)
{
    const char *md = c->metadata ? c->metadata : "";
    if (c->topic == NULL || strlen(c->topic) > OL_STR_MAX || strlen(md) > OL_STR_MAX)
        return false;
    ol_view_t x = {
        .type = OL_TYPE_COMMIT, .timestamp_ms = ts,
        .group = (const uint8_t *)group_id, .group_len = strlen(group_id),
        .topic = (const uint8_t *)c->topic, .topic_len = strlen(c->topic),
        .partition = c->partition, .offset = c->offset,
        .metadata = (const uint8_t *)md, .metadata_len = strlen(md),
    };
    *v = x;
    return true;
}

static kl_err_t offset_log_commit(void *self, const char *group_id,
                                  const kl_offset_commit_t *commits, size_t count,
                                  int64_t commit_timestamp_ms)
{
    offset_log_t *l = self;
    if (!ol_group_ok(group_id))
        return KL_ERR_INVALID_GROUP_ID;
    if (count == 0)
        return KL_OK;
    if (count > SIZE_MAX / OL_RECORD_MAX)
        return KL_ERR_INVALID_REQUEST;
    ol_view_t *views = malloc(count * sizeof *views);
    if (views == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    kl_err_t err = KL_OK;
    for (size_t i = 0; i < count && err == KL_OK; i++)
        if (!ol_commit_view(group_id, &commits[i], commit_timestamp_ms, &views[i]))
            err = KL_ERR_INVALID_REQUEST;   /* Kafka: OFFSET_METADATA_TOO_LARGE for metadata */
    if (err == KL_OK)
        err = ol_append_views(l, views, count);
    free(views);
    return err;
}

static kl_err_t offset_log_delete_group(void *self, const char *group_id)
{
    offset_log_t *l = self;
    if (!ol_group_ok(group_id))
        return KL_ERR_INVALID_GROUP_ID;
    ol_view_t v = {
        .type = OL_TYPE_TOMBSTONE, .timestamp_ms = -1,
        .group = (const uint8_t *)group_id, .group_len = strlen(group_id),
    };
    return ol_append_views(l, &v, 1);
}

static kl_err_t offset_log_delete_topic(void *self, const char *topic)
{
    offset_log_t *l = self;
    if (topic == NULL || strlen(topic) > OL_STR_MAX)
        return KL_ERR_INVALID_REQUEST;
    ol_view_t v = {
        .type = OL_TYPE_TOPIC_TOMBSTONE, .timestamp_ms = -1,
        .group = (const uint8_t *)"", .group_len = 0,
        .topic = (const uint8_t *)topic, .topic_len = strlen(topic),
    };
    return ol_append_views(l, &v, 1);
}

/* load_all's visitor adapter: NUL-terminated copies of the strings, then the port's record. */
typedef struct ol_visit_ctx {
    kl_offset_visit_fn visit;
    void *arg;
    char *scratch;             /* 3 * (OL_STR_MAX + 1) bytes */
} ol_visit_ctx_t;

static kl_err_t ol_visit_view(void *arg, const ol_view_t *v)
{
    ol_visit_ctx_t *ctx = arg;
    char *group = ctx->scratch, *topic = group + OL_STR_MAX + 1, *md = topic + OL_STR_MAX + 1;
    memcpy(group, v->group, v->group_len);
    group[v->group_len] = '\0';
    kl_offset_record_t rec = { .group_id = group, .commit_timestamp_ms = v->timestamp_ms };
    if (v->type == OL_TYPE_TOMBSTONE) {
        rec.group_deleted = true;
        return ctx->visit(ctx->arg, &rec);
    }
    memcpy(topic, v->topic, v->topic_len);
    topic[v->topic_len] = '\0';
    rec.commit.topic = topic;
    if (v->type == OL_TYPE_TOPIC_TOMBSTONE) {
        rec.topic_deleted = true;
        return ctx->visit(ctx->arg, &rec);
    }
    memcpy(md, v->metadata, v->metadata_len);
    md[v->metadata_len] = '\0';
    rec.commit.topic = topic;
    rec.commit.partition = v->partition;
    rec.commit.offset = v->offset;
    rec.commit.metadata = md;
    return ctx->visit(ctx->arg, &rec);
}

static kl_err_t offset_log_load_all(void *self, kl_offset_visit_fn visit, void *arg)
{
    offset_log_t *l = self;
    if (l->failed)
        return KL_ERR_KAFKA_STORAGE_ERROR;
    ol_reader_t r;
    ol_visit_ctx_t ctx = { visit, arg, malloc(3 * (OL_STR_MAX + 1)) };
    kl_err_t err = ol_reader_init(&r, l->size);
    if (err != KL_OK || ctx.scratch == NULL) {
        err = KL_ERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    int64_t end = 0, records = 0;
    const char *why = NULL;
    err = ol_scan(l, &r, ol_visit_view, &ctx, &end, &records, &why);
    if (err == KL_OK && why != NULL) {
        /* Checked at open and only appended to since: the disk changed under us. */
        KL_LOG_ERR(l->log, OL_MOD, "%s: %s record at position %" PRId64 " after open",
                   l->path, why, end);
        err = KL_ERR_KAFKA_STORAGE_ERROR;
    }
out:
    free(r.buf);
    free(ctx.scratch);
    return err;
}

kl_offset_store_t offset_log_store(offset_log_t *l)
{
    kl_offset_store_t s = {
        .self = l,
        .commit = offset_log_commit,
        .load_all = offset_log_load_all,
        .delete_group = offset_log_delete_group,
        .delete_topic = offset_log_delete_topic,
    };
    return s;
}

offset_log_stats_t offset_log_get_stats(const offset_log_t *l)
{
    offset_log_stats_t s = {
        .records = l->records, .live_records = l->live,
        .compactions = l->compactions, .bytes = l->size,
    };
    return s;
}

/* ---- open / close ------------------------------------------------------------------------ */

offset_log_options_t offset_log_options_default(void)
{
    offset_log_options_t o = {
        .sync_commits = false,
        .compact_min_records = KL_OFFSET_LOG_COMPACT_MIN_RECORDS_DEFAULT,
        .compact_ratio = KL_OFFSET_LOG_COMPACT_RATIO_DEFAULT,
    };
    return o;
}

/* mkdir <log_dir>/__klamm_offsets if missing (durably), delete a leftover .tmp. */
static kl_err_t ol_prepare_dir(offset_log_t *l, const char *log_dir)
{
    kl_err_t err = fs_mkdir_durable(l->log, OL_MOD, l->dir, log_dir);
    if (err != KL_OK)
        return err;
    if (unlink(l->tmp_path) == 0)
        KL_LOG_INF(l->log, OL_MOD, "deleted %s left by an interrupted compaction", l->tmp_path);
    else if (errno != ENOENT)
        return ol_io_error(l, "unlink", l->tmp_path);
    return KL_OK;
}

/* Open offsets.log, creating it (and making its directory entry durable) if missing. */
static kl_err_t ol_open_file(offset_log_t *l)
{
    l->fd = open(l->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (l->fd >= 0)
        return fs_fsync_dir(l->log, OL_MOD, l->dir);
    if (errno != EEXIST)
        return ol_io_error(l, "create", l->path);
    l->fd = open(l->path, O_RDWR | O_CLOEXEC);
    if (l->fd < 0)
        return ol_io_error(l, "open", l->path);
    return KL_OK;
}

/* Replay the file into the map and cut a torn or corrupt tail. */
static kl_err_t ol_recover(offset_log_t *l)
{
    struct stat st;
    if (fstat(l->fd, &st) != 0)
        return ol_io_error(l, "fstat", l->path);
    ol_reader_t r;
    kl_err_t err = ol_reader_init(&r, (int64_t)st.st_size);
    if (err != KL_OK)
        return err;
    int64_t end = 0;
    const char *why = NULL;
    err = ol_scan(l, &r, ol_map_apply, l, &end, &l->records, &why);
    free(r.buf);
    if (err != KL_OK)
        return err;
    if (why != NULL) {
        KL_LOG_WARNING(l->log, OL_MOD, "recovery: %s has a %s record at position %" PRId64
                       "; truncating %" PRId64 " bytes, keeping %" PRId64 " records",
                       l->path, why, end, (int64_t)st.st_size - end, l->records);
        if (ftruncate(l->fd, (off_t)end) != 0)
            return ol_io_error(l, "ftruncate", l->path);
    }
    l->size = end;
    return KL_OK;
}

kl_err_t offset_log_open(offset_log_t **out, const char *log_dir, const offset_log_options_t *opts,
                         const kl_log_t *log)
{
    offset_log_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    kl_err_t err = KL_ERR_UNKNOWN_SERVER_ERROR;
    l->fd = -1;
    l->log = log;
    l->opts = opts ? *opts : offset_log_options_default();
    if (l->opts.compact_min_records <= 0)
        l->opts.compact_min_records = KL_OFFSET_LOG_COMPACT_MIN_RECORDS_DEFAULT;
    if (l->opts.compact_ratio <= 0)
        l->opts.compact_ratio = KL_OFFSET_LOG_COMPACT_RATIO_DEFAULT;
    l->dir = fs_join(log_dir, KL_OFFSET_LOG_DIR);
    l->path = l->dir ? fs_join(l->dir, KL_OFFSET_LOG_FILE) : NULL;
    l->tmp_path = l->dir ? fs_join(l->dir, KL_OFFSET_LOG_TMP_FILE) : NULL;
    if (l->path == NULL || l->tmp_path == NULL)
        goto err;
    if ((err = ol_prepare_dir(l, log_dir)) != KL_OK || (err = ol_open_file(l)) != KL_OK ||
        (err = ol_recover(l)) != KL_OK)
        goto err;
    ol_maybe_compact(l);
    *out = l;
    return KL_OK;
err:
    offset_log_close(l);
    return err;
}

void offset_log_close(offset_log_t *l)
{
    if (l == NULL)
        return;
    ol_group_t *g, *tmp;
    HASH_ITER(hh, l->groups, g, tmp)
        ol_group_free(l, g);
    if (l->fd >= 0)
        close(l->fd);
    free(l->dir);
    free(l->path);
    free(l->tmp_path);
    free(l);
}
