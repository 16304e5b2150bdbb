/*
 * test/fuzz/mem_offset_store.c — the in-memory offset store behind the request-path
 * fuzzer (see mem_offset_store.h).
 * Layer: test support. May touch: application/offset_store.h, libc.
 *
 * A growable array of records, each owning copies of its strings; load_all hands them
 * back oldest first, borrowed for the duration of the visit.
 */
#include "test/fuzz/mem_offset_store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem_offset_rec {
    char *group_id;
    bool group_deleted;
    bool topic_deleted;
    char *topic;
    int32_t partition;
    int64_t offset;
    char *metadata;
    int64_t timestamp_ms;
} mem_offset_rec_t;

struct mem_offset_store {
    mem_offset_rec_t *recs;
    size_t count;
    size_t cap;
};

static void mem_rec_free(mem_offset_rec_t *r)
{
    free(r->group_id);
    free(r->topic);
    free(r->metadata);
}

/* strdup that tolerates NULL (a NULL stays NULL). */
static bool mem_dup(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return true;
    *out = strdup(s);
    return *out != NULL;
}

static bool mem_grow(mem_offset_store_t *s, size_t more)
{
    if (s->count + more <= s->cap)
        return true;
    size_t cap = s->cap != 0 ? s->cap : 16;
    while (cap < s->count + more)
        cap *= 2;
    mem_offset_rec_t *r = realloc(s->recs, cap * sizeof *r);
    if (r == NULL)
        return false;
    s->recs = r;
    s->cap = cap;
    return true;
}

static kl_err_t mem_commit(void *self, const char *group_id, const kl_offset_commit_t *commits,
                           size_t count, int64_t commit_timestamp_ms)
{
    mem_offset_store_t *s = self;
    if (!mem_grow(s, count))
        return KL_ERR_KAFKA_STORAGE_ERROR;
    size_t first = s->count;
    for (size_t i = 0; i < count; i++) {
        mem_offset_rec_t r = { 0 };
        r.partition = commits[i].partition;
        r.offset = commits[i].offset;
        r.timestamp_ms = commit_timestamp_ms;
        if (!mem_dup(group_id, &r.group_id) || !mem_dup(commits[i].topic, &r.topic) ||
            !mem_dup(commits[i].metadata, &r.metadata)) {
            mem_rec_free(&r);
            while (s->count > first)            /* nothing is appended on error */
                mem_rec_free(&s->recs[--s->count]);
            return KL_ERR_KAFKA_STORAGE_ERROR;
        }
        s->recs[s->count++] = r;
    }
    return KL_OK;
}

static kl_err_t mem_delete_group(void *self, const char *group_id)
{
    mem_offset_store_t *s = self;
    mem_offset_rec_t r = { 0 };
    r.group_deleted = true;
    if (!mem_grow(s, 1) || !mem_dup(group_id, &r.group_id))
        return KL_ERR_KAFKA_STORAGE_ERROR;
    s->recs[s->count++] = r;
    return KL_OK;
}

static kl_err_t mem_delete_topic(void *self, const char *topic)
{
    mem_offset_store_t *s = self;
    mem_offset_rec_t r = { 0 };
    r.topic_deleted = true;
    if (!mem_grow(s, 1) || !mem_dup("", &r.group_id) || !mem_dup(topic, &r.topic)) {
        mem_rec_free(&r);
        return KL_ERR_KAFKA_STORAGE_ERROR;
    }
    s->recs[s->count++] = r;
    return KL_OK;
}

static kl_err_t mem_load_all(void *self, kl_offset_visit_fn visit, void *arg)
{
    mem_offset_store_t *s = self;
    for (size_t i = 0; i < s->count; i++) {
        const mem_offset_rec_t *r = &s->recs[i];
        kl_offset_record_t rec;
        memset(&rec, 0, sizeof rec);
        rec.group_id = r->group_id;
        rec.group_deleted = r->group_deleted;
        rec.topic_deleted = r->topic_deleted;
        rec.commit.topic = r->topic;
        rec.commit.partition = r->partition;
        rec.commit.offset = r->offset;
        rec.commit.metadata = r->metadata;
        rec.commit_timestamp_ms = r->timestamp_ms;
        kl_err_t err = visit(arg, &rec);
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

mem_offset_store_t *mem_offset_store_new(void)
{
    return calloc(1, sizeof(mem_offset_store_t));
}

void mem_offset_store_free(mem_offset_store_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        mem_rec_free(&s->recs[i]);
    free(s->recs);
    free(s);
}

kl_offset_store_t mem_offset_store_port(mem_offset_store_t *s)
{
    kl_offset_store_t port = {
        .self = s,
        .commit = mem_commit,
        .load_all = mem_load_all,
        .delete_group = mem_delete_group,
        .delete_topic = mem_delete_topic,
    };
    return port;
}
