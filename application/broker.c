/*
 * application/broker.c — the topic registry: a uthash map name → topic whose partitions
 * carry the log_store handle and the three offsets Kafka reasons about.
 * Layer: application. May touch: domain/, application/ports.h, <stdlib.h>, <string.h>.
 *
 * The registry is the broker's in-memory view of what the store holds: a topic enters it
 * only after its metadata is durable (at startup from topic_load_all, or after
 * topic_create), so a crash can never lose a topic a client was told exists; it leaves
 * only after the store deleted that metadata (topic_delete), so a deleted topic cannot
 * come back at the next start.
 */
#include <stdlib.h>
#include <string.h>

/* uthash calls exit() on out-of-memory unless told otherwise; a broker must answer
 * UNKNOWN_SERVER_ERROR instead. With HASH_NONFATAL_OOM the failed add is rolled back and
 * uthash_nonfatal_oom runs in the adding function, where `hash_oom` is a local. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = 1)

#include "application/broker.h"

static kl_err_t broker_visit_topic(void *arg, const kl_topic_meta_t *meta)
{
    return broker_add_topic(arg, meta, NULL);
}

kl_err_t broker_init(kl_broker_t *b, const kl_broker_config_t *cfg,
                     kl_log_store_t store, kl_clock_t clock)
{
    memset(b, 0, sizeof(*b));
    b->config = *cfg;
    b->store = store;
    b->clock = clock;
    b->topics = NULL;
    kl_err_t err = store.topic_load_all(store.self, broker_visit_topic, b);
    if (err != KL_OK)
        broker_close(b);        /* topics loaded before the failure are closed again */
    return err;
}

static void broker_close_partitions(kl_broker_t *b, kl_partition_t *parts, int32_t count)
{
    for (int32_t i = 0; i < count; i++) {
        if (parts[i].log != NULL)
            b->store.partition_close(b->store.self, parts[i].log);
        parts[i].log = NULL;
    }
}

static void broker_free_topic(kl_broker_t *b, kl_topic_t *t)
{
    broker_close_partitions(b, t->partitions, t->meta.partition_count);
    free(t->partitions);
    free(t);
}

void broker_close(kl_broker_t *b)
{
    kl_topic_t *t, *tmp;
    HASH_ITER(hh, b->topics, t, tmp) {
        HASH_DEL(b->topics, t);
        broker_free_topic(b, t);
    }
    b->topics = NULL;
}

kl_topic_t *broker_find_topic(kl_broker_t *b, const char *name)
{
    kl_topic_t *t = NULL;
    HASH_FIND_STR(b->topics, name, t);
    return t;
}

kl_partition_t *broker_find_partition(kl_broker_t *b, const char *topic, int32_t partition)
{
    kl_topic_t *t = broker_find_topic(b, topic);
    if (t == NULL || partition < 0 || partition >= t->meta.partition_count)
        return NULL;
    return &t->partitions[partition];
}

/* Open every partition's log (the store recovers a torn tail here). All or nothing:
 * on the first failure the ones already opened are closed again. */
static kl_err_t broker_open_partitions(kl_broker_t *b, kl_topic_t *t)
{
    for (int32_t i = 0; i < t->meta.partition_count; i++) {
        kl_partition_t *p = &t->partitions[i];
        p->index = i;
        kl_err_t err = b->store.partition_open(b->store.self, t->meta.name, i,
                                               &p->log, &p->offsets);
        if (err != KL_OK) {
            p->log = NULL;
            broker_close_partitions(b, t->partitions, i);
            return err;
        }
    }
    return KL_OK;
}

kl_err_t broker_add_topic(kl_broker_t *b, const kl_topic_meta_t *meta, kl_topic_t **out)
{
    kl_err_t err = KL_ERR_UNKNOWN_SERVER_ERROR;
    int hash_oom = 0;
    kl_topic_t *t = NULL;

    if (out != NULL)
        *out = NULL;
    /* Persisted metadata is checked again: a hand-edited catalogue must not crash us. */
    if (topic_validate_name(meta->name, strnlen(meta->name, sizeof(meta->name))) != KL_OK)
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    if (meta->partition_count < 1 || meta->partition_count > KL_PARTITIONS_MAX)
        return KL_ERR_INVALID_PARTITIONS;
    if (broker_find_topic(b, meta->name) != NULL)
        return KL_ERR_TOPIC_ALREADY_EXISTS;

    t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto err;
    t->meta = *meta;
    t->partitions = calloc((size_t)meta->partition_count, sizeof(*t->partitions));
    if (t->partitions == NULL)
        goto err;
    err = broker_open_partitions(b, t);
    if (err != KL_OK)
        goto err;
    HASH_ADD_STR(b->topics, meta.name, t);
    if (hash_oom) {
        err = KL_ERR_UNKNOWN_SERVER_ERROR;
        broker_close_partitions(b, t->partitions, t->meta.partition_count);
        goto err;
    }
    if (out != NULL)
        *out = t;
    return KL_OK;
err:
    if (t != NULL)
        free(t->partitions);
    free(t);
    return err;
}

void broker_remove_topic(kl_broker_t *b, kl_topic_t *t)
{
    HASH_DEL(b->topics, t);
    for (int32_t i = 0; i < t->meta.partition_count; i++)
        t->partitions[i].log = NULL;        /* closed by the store: not ours to close */
    broker_free_topic(b, t);
}
