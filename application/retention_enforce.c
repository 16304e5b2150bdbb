/*
 * application/retention_enforce.c — the retention use case: effective settings per
 * topic, the segments from the store, the pure plan, the deletion, the new log start
 * (see retention_enforce.h for Kafka's rules).
 * Layer: application. May touch: domain/, application/broker.h, <stdlib.h> (strtoll,
 * malloc for a partition with many segments), <string.h>, <errno.h>.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "application/retention_enforce.h"
#include "domain/partition.h"

/* Segments listed on the stack; a partition with more gets a heap array. */
#define RE_STACK_SEGMENTS 64

/* A LONG config value: a whole decimal integer and nothing else. */
static bool retention_parse_long(const char *v, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || errno == ERANGE)
        return false;
    *out = n;
    return true;
}

/* The override `key` when the topic has one, else `dflt`. */
static kl_err_t retention_setting(const kl_topic_meta_t *meta, const char *key,
                                  int64_t dflt, int64_t *out)
{
    const char *v = topic_meta_config(meta, key);
    if (v == NULL) {
        *out = dflt;
        return KL_OK;
    }
    return retention_parse_long(v, out) ? KL_OK : KL_ERR_INVALID_CONFIG;
}

kl_err_t retention_effective_config(const kl_broker_config_t *cfg, const kl_topic_meta_t *meta,
                                    kl_retention_config_t *out)
{
    kl_err_t err = retention_setting(meta, "retention.ms", cfg->retention_ms,
                                     &out->retention_ms);
    if (err == KL_OK)
        err = retention_setting(meta, "retention.bytes", cfg->retention_bytes,
                                &out->retention_bytes);
    return err;
}

bool retention_policy_deletes(const kl_topic_meta_t *meta)
{
    const char *v = topic_meta_config(meta, "cleanup.policy");
    if (v == NULL)
        return true;                       /* Kafka's default: "delete" */
    /* A list such as "compact,delete" (blanks around items allowed, as Kafka's LIST). */
    for (const char *p = v; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 6 && strncmp(p, "delete", 6) == 0)
            return true;
        p += n;
    }
    return false;
}

/* The partition's segments into *segs (the caller's stack array, or a heap one this
 * function allocates and the caller frees when *segs != stack). */
static kl_err_t retention_list_segments(kl_broker_t *b, kl_partition_t *p,
                                        kl_segment_info_t *stack, kl_segment_info_t **segs,
                                        size_t *n)
{
    size_t total = 0;
    *segs = stack;
    kl_err_t err = b->store.segments(b->store.self, p->log, stack, RE_STACK_SEGMENTS, &total);
    if (err != KL_OK || total <= RE_STACK_SEGMENTS) {
        *n = total;
        return err;
    }
    kl_segment_info_t *heap = malloc(total * sizeof *heap);
    if (heap == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    *segs = heap;
    size_t again = 0;
    err = b->store.segments(b->store.self, p->log, heap, total, &again);
    if (err == KL_OK && again > total)     /* grew in between: not in a single thread */
        err = KL_ERR_UNKNOWN_SERVER_ERROR;
    *n = again;
    return err;
}

/* Count what the store really deleted: planned segments now wholly below the log start. */
static void retention_account(const kl_segment_info_t *segs, const kl_retention_plan_t *plan,
                              int64_t log_start, kl_retention_report_t *report)
{
    for (size_t i = 0; i < plan->delete_count; i++) {
        if (segs[i + 1].base_offset > log_start)
            break;                         /* the store stopped before this one */
        report->segments_deleted++;
        report->bytes_deleted += segs[i].size_bytes;
        if (i < plan->by_time)
            report->by_time++;
    }
}

/* Plan over the listed segments and delete what the plan says. */
static kl_err_t retention_apply(kl_broker_t *b, kl_partition_t *p,
                                const kl_segment_info_t *segs, size_t n,
                                const kl_retention_config_t *cfg, int64_t now_ms,
                                kl_retention_report_t *report)
{
    kl_retention_plan_t plan;
    kl_err_t err = retention_plan(segs, n, cfg, now_ms, &plan);
    if (err != KL_OK || plan.delete_count == 0)
        return err;
    if (plan.delete_count >= n)            /* the plan keeps the active one: cannot be */
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    int64_t log_start = p->offsets.log_start;
    err = b->store.delete_segments_before(b->store.self, p->log, plan.new_log_start,
                                          &log_start);
    /* Even after a failure, what was deleted is gone: follow the store's log start. */
    kl_err_t moved = partition_move_log_start(&p->offsets, log_start);
    retention_account(segs, &plan, log_start, report);
    return err != KL_OK ? err : moved;
}

kl_err_t retention_enforce_partition(kl_broker_t *b, kl_topic_t *t, kl_partition_t *p,
                                     int64_t now_ms, kl_retention_report_t *report)
{
    kl_retention_config_t cfg;
    kl_err_t err = retention_effective_config(&b->config, &t->meta, &cfg);
    if (err != KL_OK)
        return err;
    if (!retention_policy_deletes(&t->meta))
        return KL_OK;
    kl_segment_info_t stack[RE_STACK_SEGMENTS];
    kl_segment_info_t *segs = NULL;
    size_t n = 0;
    err = retention_list_segments(b, p, stack, &segs, &n);
    if (err == KL_OK) {
        report->partitions_checked++;
        err = retention_apply(b, p, segs, n, &cfg, now_ms, report);
    }
    if (segs != stack)
        free(segs);
    return err;
}

kl_err_t retention_enforce(kl_broker_t *b, kl_retention_report_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t now_ms = b->clock.now_ms(b->clock.self);
    kl_err_t first = KL_OK;
    for (kl_topic_t *t = b->topics; t != NULL; t = t->hh.next) {
        for (int32_t i = 0; i < t->meta.partition_count; i++) {
            kl_err_t err = retention_enforce_partition(b, t, &t->partitions[i], now_ms, out);
            if (err == KL_OK)
                continue;
            out->partitions_failed++;
            if (first == KL_OK)
                first = err;
        }
    }
    return first;
}
