/*
 * application/group_coordinator.h — the group coordinator: the use cases behind
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups, ListGroups and DeleteGroups (and the offsets part of DeleteTopics), over the domain's group state machine
 * (domain/group.h) and two ports: the clock and the offset store.
 * Layer: application. May touch: domain/, application/ports.h, application/offset_store.h.
 * (FindCoordinator needs nothing from here: a single broker coordinates every group.)
 *
 * Parked requests — how a protocol handler uses coord_join / coord_sync:
 *   JoinGroup and SyncGroup often cannot be answered at once (the round waits for the
 *   other members; a follower waits for the leader). The first call then returns
 *   COORD_PENDING with a ticket (> 0) and wait_ms. The handler parks the request with
 *       req->park_cookie = res.ticket;  req->park_until_ms = req->now_ms + res.wait_ms;
 *   and on every retry passes req->park_cookie and req->final_attempt back in. A retry
 *   returns COORD_DONE once the answer exists, else COORD_PENDING again (same ticket).
 *   On the final attempt the answer is always COORD_DONE: a join round is ended then
 *   (members that did not rejoin are removed), a waiting SyncGroup gets
 *   REBALANCE_IN_PROGRESS. The ticket remembers the member id it was given, so a
 *   JoinGroup v0-3 whose request had an empty member_id learns its id on the retry.
 *
 *     handler:  outcome = coord_join(c, &args, req->park_cookie, req->final_attempt, &res);
 *               if (outcome == COORD_PENDING) { park as above; return KL_REPLY_PARK; }
 *               encode res (res.error is the Kafka error code); coord_join_result_free(&res);
 *
 * Times: wait_ms is relative, so the coordinator's clock (wall time) and the server's
 * monotonic timers never need to agree. Call coord_tick() from the server's timer
 * (every few hundred ms): it expires sessions and ends overdue rounds.
 *
 * Results own their memory (deep copies): free them with the matching _free function.
 * A coord_t must not be moved (copied) after coord_init: the built-in id source keeps
 * a pointer to it. Embed it where it will live, e.g. in the broker or in main().
 */
#ifndef KL_APPLICATION_GROUP_COORDINATOR_H
#define KL_APPLICATION_GROUP_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "application/offset_store.h"
#include "application/ports.h"
#include "domain/error.h"
#include "domain/group.h"

typedef struct coord_config {
    group_config_t group;            /* session timeout bounds, initial delay, max size */
    int32_t ticket_grace_ms;         /* an unclaimed ticket is dropped this long after its
                                        deadline (its connection went away); 60000 */
} coord_config_t;

typedef struct coord_group coord_group_t;      /* private (group_coordinator.c) */
typedef struct coord_ticket coord_ticket_t;    /* private */

typedef struct coord {
    coord_config_t config;
    kl_clock_t clock;
    kl_offset_store_t store;
    group_id_source_t ids;
    uint64_t id_state;               /* the built-in id source's state (see coord_init) */
    coord_group_t *groups;           /* uthash by group id */
    coord_ticket_t *tickets;         /* uthash by ticket */
    int64_t next_ticket;
} coord_t;

typedef enum coord_outcome {
    COORD_DONE = 0,                  /* the result is final: encode and send it */
    COORD_PENDING = 1,               /* park: result.ticket, result.wait_ms */
} coord_outcome_t;

/* A member as the leader's JoinGroup answer and DescribeGroups show it. */
typedef struct coord_member_info {
    char *member_id;
    char *group_instance_id;         /* NULL for a dynamic member */
    char *client_id;
    char *client_host;
    uint8_t *metadata;               /* for the chosen protocol (describe: Stable only) */
    size_t metadata_len;
    uint8_t *assignment;             /* describe only, Stable only; else NULL */
    size_t assignment_len;
} coord_member_info_t;

/* ---- life cycle ---- */
coord_config_t coord_config_default(void);
/* Replays the offset store (load_all) into memory; groups met there exist, Empty.
 * `ids.next64 == NULL` selects a built-in source (splitmix64 seeded from the clock at
 * init) — good enough for unique ids, not meant to be unguessable. */
kl_err_t coord_init(coord_t *c, const coord_config_t *cfg, kl_clock_t clock,
                    kl_offset_store_t store, group_id_source_t ids);
/* Frees every group, offset and ticket (parked requests are no longer answered). */
void coord_close(coord_t *c);

/* ---- JoinGroup ---- */
typedef struct coord_join_args {
    const char *group_id;
    const char *member_id;           /* "" on a first join */
    const char *group_instance_id;   /* NULL or "": dynamic member (v5+ may set it) */
    const char *client_id;           /* request header client_id */
    const char *client_host;         /* peer address, as DescribeGroups shows it */
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;    /* v1+; pass -1 for v0 (= session timeout) */
    const char *protocol_type;
    const group_protocol_t *protocols;   /* borrowed (name, metadata) pairs */
    int32_t protocol_count;
    bool require_known_member_id;    /* api_version >= 4 (KIP-394) */
} coord_join_args_t;

typedef struct coord_join_result {
    kl_err_t error;
    int32_t generation_id;           /* -1 on error */
    char *member_id;                 /* the member's id; with MEMBER_ID_REQUIRED the id to
                                        rejoin with; on other errors the id as sent */
    char *protocol_type;             /* NULL on error (v7+ field) */
    char *protocol_name;             /* NULL on error */
    char *leader_id;                 /* "" on error */
    coord_member_info_t *members;    /* leader only: every member with its metadata */
    int32_t member_count;
    int64_t ticket;                  /* COORD_PENDING: park_cookie */
    int64_t wait_ms;                 /* COORD_PENDING: park for at most this long */
} coord_join_result_t;

/* Errors in result.error: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT,
 * INCONSISTENT_GROUP_PROTOCOL, MEMBER_ID_REQUIRED, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, COORDINATOR_NOT_AVAILABLE,
 * UNKNOWN_SERVER_ERROR. `ticket` is req->park_cookie (0 on the first attempt). */
coord_outcome_t coord_join(coord_t *c, const coord_join_args_t *a, int64_t ticket,
                           bool final_attempt, coord_join_result_t *out);
void coord_join_result_free(coord_join_result_t *r);

/* ---- SyncGroup ---- */
typedef struct coord_sync_args {
    const char *group_id;
    const char *member_id;
    const char *group_instance_id;   /* NULL or "" */
    int32_t generation_id;
    const char *protocol_type;       /* v5+ (KIP-559); NULL before */
    const char *protocol_name;       /* v5+; NULL before */
    const group_assignment_t *assignments;   /* the leader's; followers send none */
    int32_t assignment_count;
} coord_sync_args_t;

typedef struct coord_sync_result {
    kl_err_t error;
    char *protocol_type;             /* v5+ response fields; NULL on error */
    char *protocol_name;
    uint8_t *assignment;             /* this member's bytes; NULL = empty */
    size_t assignment_len;
    int64_t ticket;                  /* COORD_PENDING */
    int64_t wait_ms;
} coord_sync_result_t;

/* Errors: INVALID_GROUP_ID, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
 * REBALANCE_IN_PROGRESS, INCONSISTENT_GROUP_PROTOCOL, FENCED_INSTANCE_ID,
 * COORDINATOR_NOT_AVAILABLE. */
coord_outcome_t coord_sync(coord_t *c, const coord_sync_args_t *a, int64_t ticket,
                           bool final_attempt, coord_sync_result_t *out);
void coord_sync_result_free(coord_sync_result_t *r);

/* ---- Heartbeat, LeaveGroup ---- */
/* KL_OK, REBALANCE_IN_PROGRESS (the member must rejoin), UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, FENCED_INSTANCE_ID, INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE. */
kl_err_t coord_heartbeat(coord_t *c, const char *group_id, const char *member_id,
                         const char *group_instance_id, int32_t generation_id);
/* One member leaves (LeaveGroup v3+ lists several: call once each, report each).
 * UNKNOWN_MEMBER_ID (also for an unknown group), FENCED_INSTANCE_ID, INVALID_GROUP_ID. */
kl_err_t coord_leave(coord_t *c, const char *group_id, const char *member_id,
                     const char *group_instance_id);

/* ---- OffsetCommit, OffsetFetch ---- */
/* Commit `count` partitions for `group_id`. Allowed for a member of the group's
 * current generation (Stable or PreparingRebalance), or a "simple" commit
 * (generation_id < 0, any member id) while the group has no members; a missing group is
 * then created Empty. Group errors (COORDINATOR_NOT_AVAILABLE, FENCED_INSTANCE_ID,
 * REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INVALID_GROUP_ID) or
 * a store error (KAFKA_STORAGE_ERROR…) apply to every partition: the return value is
 * the error for each partition of the request. The handler checks topic existence
 * (UNKNOWN_TOPIC_OR_PARTITION) before, and leaves those partitions out. */
kl_err_t coord_commit_offsets(coord_t *c, const char *group_id, int32_t generation_id,
                              const char *member_id, const char *group_instance_id,
                              const kl_offset_commit_t *commits, size_t count);

typedef struct coord_offset {
    int64_t offset;                  /* -1: no commit for this partition */
    const char *metadata;            /* borrowed until the next coord_ call; "" when none */
    int64_t commit_timestamp_ms;     /* -1 when none */
} coord_offset_t;

/* One partition's committed offset (-1 when none, also for an unknown group). */
kl_err_t coord_fetch_offset(coord_t *c, const char *group_id, const char *topic,
                            int32_t partition, coord_offset_t *out);

/* OffsetFetch v2+ with topics = null: every committed partition of the group, in
 * first-commit order. `visit` may not call back into the coordinator. */
typedef kl_err_t (*coord_offset_visit_fn)(void *arg, const char *topic, int32_t partition,
                                          const coord_offset_t *off);
kl_err_t coord_fetch_all_offsets(coord_t *c, const char *group_id,
                                 coord_offset_visit_fn visit, void *arg);

/* ---- DescribeGroups, ListGroups, DeleteGroups ---- */
typedef struct coord_describe_result {
    kl_err_t error;
    const char *state;               /* group_state_name(); "Dead" for an unknown group */
    char *protocol_type;             /* "" when none */
    char *protocol_name;             /* "" unless Stable (Kafka shows it then only) */
    coord_member_info_t *members;    /* metadata/assignment only when Stable */
    int32_t member_count;
} coord_describe_result_t;

/* An unknown group is described as Dead with no error (Kafka 2.x). */
kl_err_t coord_describe(coord_t *c, const char *group_id, coord_describe_result_t *out);
void coord_describe_result_free(coord_describe_result_t *r);

typedef void (*coord_list_visit_fn)(void *arg, const char *group_id,
                                    const char *protocol_type, const char *state);
/* Every live group, with protocol type ("" when none) and state name (ListGroups v4
 * filters by state: the handler compares the name). */
void coord_list(coord_t *c, coord_list_visit_fn visit, void *arg);

/* Delete an Empty group and its offsets (durably first). GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP, INVALID_GROUP_ID, or the store's error. */
kl_err_t coord_delete(coord_t *c, const char *group_id);

/* ---- DeleteTopics ---- */
/* Forget every group's committed offsets of the deleted `topic`, as Kafka's
 * GroupMetadataManager does for the partitions of a deleted topic: durably first, with
 * one delete_topic record in the offset store (only when some group has an offset of
 * it: otherwise no store call and KL_OK), then in memory. In memory also when the store
 * fails, whose error is returned: the topic is gone either way and OffsetFetch must not
 * answer with its offsets (after a restart they would be back until the topic is
 * deleted again). A group left Empty and without offsets is removed (Kafka turns it
 * Dead), so ListGroups no longer shows a group that only held offsets of the topic. */
kl_err_t coord_delete_topic_offsets(coord_t *c, const char *topic);

/* ---- time ---- */
/* Expire sessions and KIP-394 ids, end rounds whose deadline passed, answer the tickets
 * that this decides, drop abandoned tickets. Returns the number of members removed. */
int32_t coord_tick(coord_t *c);

#endif
