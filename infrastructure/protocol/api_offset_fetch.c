/*
 * infrastructure/protocol/api_offset_fetch.c — the OffsetFetch API (key 9), versions
 * 1-5: the positions a group committed, where its consumers resume.
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_fetch_offset, coord_fetch_all_offsets), wire.h, api.h.
 *
 * Rules this file implements, by name:
 *  - A partition without a commit (or of an unknown group or topic) answers offset -1,
 *    metadata "" and no error, as Kafka does (the consumer then applies its
 *    auto.offset.reset).
 *  - v2+ (KIP-88): topics = null asks for every partition the group committed; they
 *    are answered grouped by topic (sorted by topic, then partition). In v1 the array
 *    is not nullable: a null one is a malformed request.
 *  - v2+ add a top-level error_code; v3+ throttle_time_ms (always 0); v5+ (KIP-320)
 *    committed_leader_epoch, always -1 (Klamm does not keep leader epochs).
 *  - v0 is not offered: in Apache Kafka it reads offsets kept in ZooKeeper.
 * Versions 1-5 are all non-flexible (KIP-482 starts at v6): classic encodings only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct of_request {
    kl_str_t group_id;
    int32_t topic_count;             /* -1: all committed partitions (v2+) */
    kl_reader_t topics;              /* [name string, partition_indexes [int32]] */
} of_request_t;

/* One committed partition met by coord_fetch_all_offsets (views valid until the next
 * coordinator call; none is made while they are in use). */
typedef struct of_entry {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *metadata;
} of_entry_t;

typedef struct of_list {
    of_entry_t *items;
    size_t count;
    size_t cap;
} of_list_t;

static bool of_decode(kl_reader_t *r, int16_t v, of_request_t *q)
{
    q->group_id = rd_string(r);
    q->topic_count = rd_array_len(r);
    if (q->topic_count < 0 && v < 2)
        rd_fail(r);                                         /* null only from v2 (KIP-88) */
    q->topics = *r;
    for (int32_t i = 0; i < q->topic_count; i++) {
        (void)rd_string(r);                                 /* name */
        int32_t np = rd_array_len(r);                       /* partition_indexes */
        if (np < 0)
            rd_fail(r);
        for (int32_t j = 0; j < np; j++)
            (void)rd_i32(r);
    }
    return rd_ok(r);
}

static void of_write_partition(kl_writer_t *out, int16_t v, int32_t index, int64_t offset,
                               const char *metadata, kl_err_t err)
{
    wr_i32(out, index);                                     /* partition_index */
    wr_i64(out, offset);                                    /* committed_offset */
    if (v >= 5) wr_i32(out, -1);                            /* committed_leader_epoch */
    wr_cstr(out, false, metadata);                          /* metadata */
    wr_i16(out, (int16_t)err);                              /* error_code */
}

/* ---- the partitions the request names ------------------------------------------- */

static void of_write_named(coord_t *c, const char *group_id, const of_request_t *q,
                           int16_t v, kl_writer_t *out)
{
    kl_reader_t r = q->topics;
    char topic[KL_TOPIC_NAME_MAX + 1];
    wr_array_len(out, q->topic_count);                      /* topics */
    for (int32_t i = 0; i < q->topic_count; i++) {
        kl_str_t name = rd_string(&r);
        int32_t np = rd_array_len(&r);
        bool valid = kl_str_copy(name, topic, sizeof topic);    /* too long: no commits */
        wr_string(out, name.ptr, name.len);                 /* name */
        wr_array_len(out, np);                              /* partitions */
        for (int32_t j = 0; j < np; j++) {
            int32_t index = rd_i32(&r);
            coord_offset_t off = { -1, "", -1 };
            kl_err_t err = valid ? coord_fetch_offset(c, group_id, topic, index, &off) : KL_OK;
            of_write_partition(out, v, index, off.offset, off.metadata, err);
        }
    }
}

/* ---- every committed partition (topics = null) ------------------------------------ */

static kl_err_t of_collect(void *arg, const char *topic, int32_t partition,
                           const coord_offset_t *off)
{
    of_list_t *l = arg;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        of_entry_t *items = realloc(l->items, cap * sizeof *items);
        if (items == NULL)
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        l->items = items;
        l->cap = cap;
    }
    of_entry_t e = { topic, partition, off->offset, off->metadata };
    l->items[l->count++] = e;
    return KL_OK;
}

static int of_entry_cmp(const void *a, const void *b)
{
    const of_entry_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c != 0)
        return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

static int32_t of_topic_count(const of_list_t *l)
{
    int32_t n = 0;
    for (size_t i = 0; i < l->count; i++)
        if (i == 0 || strcmp(l->items[i].topic, l->items[i - 1].topic) != 0)
            n++;
    return n;
}

/* The entries are sorted: each topic's partitions are one run. */
static void of_write_all(const of_list_t *l, int16_t v, kl_writer_t *out)
{
    wr_array_len(out, of_topic_count(l));                   /* topics */
    for (size_t i = 0; i < l->count;) {
        size_t end = i + 1;
        while (end < l->count && strcmp(l->items[end].topic, l->items[i].topic) == 0)
            end++;
        wr_cstr(out, false, l->items[i].topic);             /* name */
        wr_array_len(out, (int32_t)(end - i));              /* partitions */
        for (; i < end; i++)
            of_write_partition(out, v, l->items[i].partition, l->items[i].offset,
                               l->items[i].metadata, KL_OK);
    }
}

/* Returns the top-level error (v2+): the partitions could not be listed. */
static kl_err_t of_write_every(coord_t *c, const char *group_id, int16_t v, kl_writer_t *out)
{
    of_list_t l = { NULL, 0, 0 };
    kl_err_t err = coord_fetch_all_offsets(c, group_id, of_collect, &l);
    if (err != KL_OK)
        l.count = 0;
    if (l.count > 1)
        qsort(l.items, l.count, sizeof *l.items, of_entry_cmp);
    of_write_all(&l, v, out);
    free(l.items);
    return err;
}

kl_reply_t offset_fetch_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    of_request_t q;
    if (!of_decode(body, v, &q))
        return KL_REPLY_CLOSE;
    char *group_id = kl_str_dup(q.group_id);
    if (group_id == NULL)
        return KL_REPLY_CLOSE;              /* out of memory: as dispatch does */

    kl_err_t err = KL_OK;
    if (v >= 3) wr_i32(out, 0);                             /* throttle_time_ms */
    if (q.topic_count >= 0)
        of_write_named(req->coord, group_id, &q, v, out);   /* topics */
    else
        err = of_write_every(req->coord, group_id, v, out); /* topics (all) */
    if (v >= 2) wr_i16(out, (int16_t)err);                  /* error_code */
    free(group_id);
    return KL_REPLY_SEND;
}
