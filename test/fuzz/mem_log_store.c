/*
 * test/fuzz/mem_log_store.c — the in-memory log store behind the request-path fuzzer
 * (see mem_log_store.h for what it promises and which contract breaks it abort()s on).
 * Layer: test support. May touch: application/ports.h, domain/record_batch.h, libc.
 *
 * Data layout: a uthash map of topics (what topic_create made "durable"), each with an
 * array of partitions; a partition is one growable byte buffer holding its batches back
 * to back, exactly as a segment file would. Every partition starts at offset 0 (log
 * start 0). Lookups are O(1) so that a request creating thousands of partitions costs
 * the store no more than it costs the broker (the fuzzer's timeouts stay meaningful).
 */
#include "test/fuzz/mem_log_store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "domain/record_batch.h"

typedef struct mem_partition {
    bool open;
    uint8_t *data;
    size_t len;
    size_t cap;
    int64_t log_end;            /* offset the next appended record gets */
} mem_partition_t;

typedef struct mem_topic {
    kl_topic_meta_t meta;
    mem_partition_t *partitions;        /* meta.partition_count entries */
    UT_hash_handle hh;                  /* keyed by meta.name */
} mem_topic_t;

struct mem_log_store {
    mem_topic_t *topics;                /* uthash head */
};

/* A broken port contract is a bug in the code under test: stop loudly. */
static void mem_contract(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "mem_log_store: port contract broken: %s\n", what);
        abort();
    }
}

static mem_topic_t *mem_find_topic(const mem_log_store_t *s, const char *name)
{
    mem_topic_t *t = NULL;
    HASH_FIND_STR(s->topics, name, t);
    return t;
}

static mem_partition_t *mem_find_partition(const mem_log_store_t *s, const char *topic,
                                           int32_t index)
{
    mem_topic_t *t = mem_find_topic(s, topic);
    if (t == NULL || index < 0 || index >= t->meta.partition_count)
        return NULL;
    return &t->partitions[index];
}

/* ---- the port ------------------------------------------------------------------ */

static kl_err_t mem_topic_create(void *self, const kl_topic_meta_t *meta)
{
    mem_log_store_t *s = self;
    mem_contract(memchr(meta->name, '\0', sizeof meta->name) != NULL,
                 "topic_create: name not NUL-terminated");
    mem_contract(meta->partition_count >= 1 && meta->partition_count <= KL_PARTITIONS_MAX,
                 "topic_create: partition count out of range");
    if (mem_find_topic(s, meta->name) != NULL)
        return KL_ERR_TOPIC_ALREADY_EXISTS;
    mem_topic_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return KL_ERR_KAFKA_STORAGE_ERROR;
    t->meta = *meta;
    t->partitions = calloc((size_t)meta->partition_count, sizeof *t->partitions);
    if (t->partitions == NULL) {
        free(t);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    HASH_ADD_STR(s->topics, meta.name, t);
    return KL_OK;
}

static kl_err_t mem_topic_load_all(void *self, kl_topic_visit_fn visit, void *arg)
{
    mem_log_store_t *s = self;
    for (mem_topic_t *t = s->topics; t != NULL; t = t->hh.next) {
        kl_err_t err = visit(arg, &t->meta);
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

static kl_err_t mem_partition_open(void *self, const char *topic, int32_t partition,
                                   void **log_out, kl_partition_offsets_t *offsets_out)
{
    mem_log_store_t *s = self;
    const mem_topic_t *t = mem_find_topic(s, topic);
    mem_contract(t != NULL, "partition_open: topic was never created through the port");
    mem_contract(partition >= 0 && partition < t->meta.partition_count,
                 "partition_open: partition index outside the topic");
    mem_partition_t *p = &t->partitions[partition];
    mem_contract(!p->open, "partition_open: log opened twice");
    p->open = true;
    *log_out = p;
    offsets_out->log_start = 0;
    offsets_out->high_watermark = p->log_end;
    offsets_out->log_end = p->log_end;
    return KL_OK;
}

static void mem_partition_close(void *self, void *log)
{
    (void)self;
    mem_partition_t *p = log;
    mem_contract(p != NULL && p->open, "partition_close: log not open");
    p->open = false;
}

/* The port says: validated batches, base offsets contiguous from the log end. Check it
 * (it is what every reader of the log relies on), then keep the bytes. */
static kl_err_t mem_append(void *self, void *log, const uint8_t *batches, size_t len)
{
    (void)self;
    mem_partition_t *p = log;
    mem_contract(p != NULL && p->open, "append: log not open");
    mem_contract(len > 0 && batches != NULL, "append: nothing to append");
    int64_t next = p->log_end;
    size_t pos = 0;
    while (pos < len) {
        kl_batch_header_t h;
        size_t at = pos;
        mem_contract(batch_next(batches, len, &pos, &h) == KL_OK,
                     "append: bytes are not valid v2 record batches");
        mem_contract(pos > at, "append: batch walk made no progress");
        mem_contract(h.base_offset == next, "append: base offset does not continue the log");
        next = batch_last_offset(&h) + 1;
    }
    if (p->len + len > p->cap) {
        size_t cap = p->cap != 0 ? p->cap : 1024;
        while (cap < p->len + len)
            cap *= 2;
        uint8_t *d = realloc(p->data, cap);
        if (d == NULL)
            return KL_ERR_KAFKA_STORAGE_ERROR;
        p->data = d;
        p->cap = cap;
    }
    memcpy(p->data + p->len, batches, len);
    p->len += len;
    p->log_end = next;
    return KL_OK;
}

/* Stored batches were validated on append, so their framing can be trusted here. */
static size_t mem_batch_size(const uint8_t *b)
{
    return (size_t)KL_BATCH_LOG_OVERHEAD + (size_t)(uint32_t)kl_be32_read(b + 8);
}

static int64_t mem_batch_last(const uint8_t *b)
{
    return kl_be64_read(b) + kl_be32_read(b + 23);
}

static kl_err_t mem_read(void *self, void *log, int64_t offset, int32_t max_bytes,
                         kl_buf_sink_t *sink, size_t *len_out)
{
    (void)self;
    mem_partition_t *p = log;
    mem_contract(p != NULL && p->open, "read: log not open");
    *len_out = 0;
    size_t pos = 0;
    while (pos < p->len && mem_batch_last(p->data + pos) < offset)
        pos += mem_batch_size(p->data + pos);
    size_t end = pos;
    while (end < p->len) {
        size_t n = mem_batch_size(p->data + end);
        /* At least one whole batch (KIP-74), then only whole batches within max_bytes. */
        if (end > pos && (max_bytes < 0 || end - pos + n > (size_t)max_bytes))
            break;
        end += n;
    }
    if (end == pos)
        return KL_OK;
    uint8_t *dst = sink->reserve(sink->arg, end - pos);
    if (dst == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    memcpy(dst, p->data + pos, end - pos);
    *len_out = end - pos;
    return KL_OK;
}

static kl_err_t mem_offset_for_timestamp(void *self, void *log, int64_t timestamp,
                                         int64_t *offset_out, int64_t *timestamp_out)
{
    (void)self;
    mem_partition_t *p = log;
    mem_contract(p != NULL && p->open, "offset_for_timestamp: log not open");
    *offset_out = -1;
    *timestamp_out = -1;
    for (size_t pos = 0; pos < p->len; pos += mem_batch_size(p->data + pos)) {
        int64_t max_ts = kl_be64_read(p->data + pos + 35);
        if (max_ts >= timestamp) {
            *offset_out = kl_be64_read(p->data + pos);
            *timestamp_out = max_ts;
            break;
        }
    }
    return KL_OK;
}

/* The port says: only a topic the broker holds (so one created through the port), with
 * its partitions' own open logs, in order. Every log is closed and the data goes, so a
 * topic created again under the name starts empty. */
static kl_err_t mem_topic_delete(void *self, const char *topic,
                                 const kl_partition_t *partitions, int32_t count)
{
    mem_log_store_t *s = self;
    mem_topic_t *t = mem_find_topic(s, topic);
    mem_contract(t != NULL, "topic_delete: topic was never created through the port");
    mem_contract(count == t->meta.partition_count, "topic_delete: wrong partition count");
    for (int32_t i = 0; i < count; i++) {
        mem_contract(partitions[i].log == &t->partitions[i] && t->partitions[i].open,
                     "topic_delete: a log that is not this partition's open log");
        t->partitions[i].open = false;
        free(t->partitions[i].data);
    }
    HASH_DEL(s->topics, t);
    free(t->partitions);
    free(t);
    return KL_OK;
}

/* ---- lifecycle ----------------------------------------------------------------- */

mem_log_store_t *mem_log_store_new(void)
{
    return calloc(1, sizeof(mem_log_store_t));
}

void mem_log_store_free(mem_log_store_t *s)
{
    if (s == NULL)
        return;
    mem_topic_t *t, *tmp;
    HASH_ITER(hh, s->topics, t, tmp) {
        HASH_DEL(s->topics, t);
        for (int32_t i = 0; i < t->meta.partition_count; i++) {
            mem_contract(!t->partitions[i].open,
                         "a partition log is still open when the store is freed");
            free(t->partitions[i].data);
        }
        free(t->partitions);
        free(t);
    }
    free(s);
}

kl_log_store_t mem_log_store_port(mem_log_store_t *s)
{
    kl_log_store_t port = {
        .self = s,
        .topic_create = mem_topic_create,
        .topic_load_all = mem_topic_load_all,
        .partition_open = mem_partition_open,
        .partition_close = mem_partition_close,
        .append = mem_append,
        .read = mem_read,
        .offset_for_timestamp = mem_offset_for_timestamp,
        .topic_delete = mem_topic_delete,
    };
    return port;
}

const uint8_t *mem_log_store_data(const mem_log_store_t *s, const char *topic,
                                  int32_t partition, size_t *len_out, int64_t *log_end_out)
{
    const mem_partition_t *p = mem_find_partition(s, topic, partition);
    *len_out = p != NULL ? p->len : 0;
    *log_end_out = p != NULL ? p->log_end : 0;
    return p != NULL && p->len > 0 ? p->data : NULL;
}

bool mem_log_store_has_topic(const mem_log_store_t *s, const char *topic)
{
    return mem_find_topic(s, topic) != NULL;
}
