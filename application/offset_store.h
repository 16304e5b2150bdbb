/*
 * application/offset_store.h — the offset store port: where committed consumer offsets
 * are made durable (Kafka keeps them in the __consumer_offsets topic; Klamm in an
 * append-only log written by an infrastructure adapter).
 * Layer: application. May touch: domain/error.h.
 *
 * The coordinator (group_coordinator.c) keeps every committed offset in memory for
 * OffsetFetch; this port is only the durable copy: it is appended to on each commit
 * and read once, in order, at startup. So the adapter can be a plain log of records:
 *
 *   commit        one record per partition, all of one OffsetCommit in one durable
 *                 append (all or nothing, like Kafka's single batch to __consumer_offsets)
 *   delete_group  a tombstone: on replay, forget that group's earlier commits
 *   delete_topic  a topic tombstone: on replay, forget every group's earlier commits of
 *                 that topic (it was deleted: Kafka's GroupMetadataManager writes a
 *                 tombstone per offset of a deleted partition; one record says the same)
 *   load_all      replay every record, oldest first; later commits override earlier
 *                 ones, a tombstone clears the group (the adapter may also compact)
 */
#ifndef KL_APPLICATION_OFFSET_STORE_H
#define KL_APPLICATION_OFFSET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

/* One partition's committed position (strings borrowed for the call). */
typedef struct kl_offset_commit {
    const char *topic;
    int32_t partition;
    int64_t offset;               /* the next offset the group will consume */
    const char *metadata;         /* the client's free-form string; "" when none */
} kl_offset_commit_t;

/* One record met by load_all. When group_deleted is true only group_id is set:
 * the group was deleted (DeleteGroups) and its earlier commits no longer count. When
 * topic_deleted is true only commit.topic is set (group_id is ""): the topic was
 * deleted (DeleteTopics) and no group's earlier commits of it count any more. */
typedef struct kl_offset_record {
    const char *group_id;
    bool group_deleted;
    bool topic_deleted;
    kl_offset_commit_t commit;
    int64_t commit_timestamp_ms;
} kl_offset_record_t;

typedef kl_err_t (*kl_offset_visit_fn)(void *arg, const kl_offset_record_t *rec);

typedef struct kl_offset_store {
    void *self;
    /* Durably append `count` commits of `group_id`, all stamped `commit_timestamp_ms`;
     * durable before it returns — at least against a process crash (written to the
     * kernel), fsync'd too when the flush policy asks for it (the adapter decides, as
     * Kafka's log.flush.* settings govern __consumer_offsets). Nothing is appended on error. */
    kl_err_t (*commit)(void *self, const char *group_id, const kl_offset_commit_t *commits,
                       size_t count, int64_t commit_timestamp_ms);
    /* Call `visit` for every record, oldest first. Stops at the first visit error and
     * returns it. */
    kl_err_t (*load_all)(void *self, kl_offset_visit_fn visit, void *arg);
    /* Durably record that `group_id` was deleted (its offsets are gone). */
    kl_err_t (*delete_group)(void *self, const char *group_id);
    /* Durably record that `topic` was deleted: every group's commits of it are gone. */
    kl_err_t (*delete_topic)(void *self, const char *topic);
} kl_offset_store_t;

#endif
