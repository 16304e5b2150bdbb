/*
 * domain/group.h — one consumer group as a pure state machine: its members, the
 * generation, the chosen protocol, the leader, and the rules of Kafka's group protocol
 * (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, session expiry, rebalance deadline).
 * Layer: domain (pure). May touch: domain/error.h, uthash.h, <stdlib.h>, <string.h>.
 * No I/O, no clock, no randomness: time arrives as `now_ms` on every event and new
 * member ids are drawn from an injected group_id_source_t.
 *
 * The model is Kafka's GroupMetadata + GroupCoordinator (2.x). States, as DescribeGroups
 * names them: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. The diagram
 * and the numbered invariants are at the top of group.c.
 *
 * Ownership: a group_t owns every string and byte array inside it (copies of what the
 * caller passed). The pointers it hands out (member ids, metadata) are borrowed and
 * stay valid only until the next call that changes the group. Fields of group_t and
 * group_member_t are public for reading (describe, iteration in join order via
 * `for (m = g->members; m; m = m->hh.next)`); only group.c writes them.
 *
 * What is NOT here (the application's job, application/group_coordinator.c): the map of
 * groups, committed offsets, parked requests (tickets), and reading the clock.
 */
#ifndef KL_DOMAIN_GROUP_H
#define KL_DOMAIN_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "domain/error.h"

/* Generation of a group that never completed a round, and the generation a
 * "simple" (standalone, assign()-based) consumer puts in OffsetCommit. */
#define GROUP_NO_GENERATION (-1)

/* Kafka's defaults for group.min.session.timeout.ms / group.max.session.timeout.ms. */
#define GROUP_DEFAULT_MIN_SESSION_TIMEOUT_MS 6000
#define GROUP_DEFAULT_MAX_SESSION_TIMEOUT_MS 1800000

typedef enum group_state {
    GROUP_EMPTY = 0,                /* no members (maybe committed offsets) */
    GROUP_PREPARING_REBALANCE,      /* collecting JoinGroups for the next generation */
    GROUP_COMPLETING_REBALANCE,     /* generation chosen; waiting for the leader's SyncGroup */
    GROUP_STABLE,                   /* assignments handed out; heartbeats keep it alive */
    GROUP_DEAD,                     /* deleted (DeleteGroups); no further transitions */
} group_state_t;

/* Broker settings that shape every group (server.properties names). */
typedef struct group_config {
    int32_t min_session_timeout_ms;      /* group.min.session.timeout.ms (6000) */
    int32_t max_session_timeout_ms;      /* group.max.session.timeout.ms (1800000) */
    int32_t initial_rebalance_delay_ms;  /* group.initial.rebalance.delay.ms (Kafka: 3000;
                                            Klamm: 0, so a lone consumer starts at once) */
    int32_t max_size;                    /* group.max.size; 0 = unlimited */
} group_config_t;

/* Where new member ids come from (KIP-394 ids are "<client_id>-<uuid>"): the domain
 * has no randomness, so the caller injects 64-bit values (random in production, a
 * counter in tests). */
typedef struct group_id_source {
    void *self;
    uint64_t (*next64)(void *self);
} group_id_source_t;

/* One (protocol name, metadata) pair a member supports, e.g. ("range", <subscription>).
 * As an argument it is borrowed; inside a member it is an owned copy. */
typedef struct group_protocol {
    char *name;
    uint8_t *metadata;
    size_t metadata_len;
} group_protocol_t;

typedef struct group_member {
    char *member_id;                 /* hash key; unique in the group */
    char *group_instance_id;         /* KIP-345 static member; NULL when dynamic */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    group_protocol_t *protocols;     /* in the member's order of preference */
    int32_t protocol_count;
    uint8_t *assignment;             /* from the leader's SyncGroup; NULL when none */
    size_t assignment_len;
    int64_t last_heartbeat_ms;       /* any request from the member counts */
    bool awaiting_join;              /* has (re)joined the round in progress */
    bool awaiting_sync;              /* sent SyncGroup, waits for the leader's */
    UT_hash_handle hh;               /* in g->members, iteration = join order */
} group_member_t;

/* A member id handed out with MEMBER_ID_REQUIRED (KIP-394) that has not joined yet. */
typedef struct group_pending_member {
    char *member_id;
    int64_t expires_ms;              /* now + session timeout when it was handed out */
    UT_hash_handle hh;
} group_pending_member_t;

typedef struct group {
    char *group_id;
    group_config_t config;
    group_state_t state;
    int32_t generation_id;           /* +1 each time a round completes */
    char *protocol_type;             /* "consumer", "connect"…; set by the first member */
    char *protocol_name;             /* chosen for this generation; NULL when none */
    group_member_t *leader;          /* NULL iff there are no members */
    group_member_t *members;         /* uthash head by member_id */
    group_pending_member_t *pending; /* uthash head by member_id */
    int64_t rebalance_deadline_ms;   /* PreparingRebalance: the round ends by then */
    int64_t initial_delay_limit_ms;  /* initial-delay round: never later than this */
    bool initial_delay_round;        /* round started from Empty with a delay > 0 */
} group_t;

/* JoinGroup, as the domain needs it (names borrowed from the request). */
typedef struct group_join_args {
    const char *member_id;           /* "" for a member joining for the first time */
    const char *group_instance_id;   /* NULL or "" = dynamic member */
    const char *client_id;
    const char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;    /* <= 0: use session_timeout_ms (JoinGroup v0) */
    const char *protocol_type;
    const group_protocol_t *protocols;
    int32_t protocol_count;
    bool require_known_member_id;    /* JoinGroup v4+: KIP-394 two-step join */
} group_join_args_t;

typedef struct group_join_outcome {
    const char *member_id;           /* the member's id (generated when it had none);
                                        also set with MEMBER_ID_REQUIRED. Borrowed. */
    bool waiting;                    /* the round is still collecting joins: answer later */
} group_join_outcome_t;

/* One entry of the leader's SyncGroup assignments (borrowed). */
typedef struct group_assignment {
    const char *member_id;
    const uint8_t *assignment;
    size_t assignment_len;
} group_assignment_t;

typedef struct group_sync_outcome {
    bool waiting;                    /* follower before the leader: answer later */
    const uint8_t *assignment;       /* when !waiting: this member's bytes (may be NULL) */
    size_t assignment_len;
} group_sync_outcome_t;

/* ---- life cycle ------------------------------------------------------------- */
group_config_t group_config_default(void);
/* An Empty group at generation 0 (Kafka's first completed round is generation 1).
 * KL_ERR_UNKNOWN_SERVER_ERROR when out of memory. */
kl_err_t group_init(group_t *g, const char *group_id, const group_config_t *cfg);
void group_free(group_t *g);
/* "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead". */
const char *group_state_name(group_state_t s);

/* ---- lookups ---------------------------------------------------------------- */
group_member_t *group_find_member(const group_t *g, const char *member_id);
group_member_t *group_find_static_member(const group_t *g, const char *group_instance_id);
int32_t group_member_count(const group_t *g);
bool group_is_leader(const group_t *g, const char *member_id);
/* The member's metadata for `protocol`; NULL (len 0) when it does not support it. */
const uint8_t *group_member_metadata(const group_member_t *m, const char *protocol,
                                     size_t *len_out);

/* ---- events ----------------------------------------------------------------- */
/* JoinGroup. Errors: INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL,
 * MEMBER_ID_REQUIRED (out->member_id is the id to rejoin with), UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, COORDINATOR_NOT_AVAILABLE (Dead),
 * UNKNOWN_SERVER_ERROR (out of memory). On KL_OK, out->waiting tells whether the
 * answer must wait for the round to complete (group_try_complete_join). */
kl_err_t group_join(group_t *g, const group_join_args_t *a, int64_t now_ms,
                    group_id_source_t ids, group_join_outcome_t *out);

/* SyncGroup. protocol_type/name: NULL when the request version has none (v0-4).
 * Errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL,
 * REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE. */
kl_err_t group_sync(group_t *g, const char *member_id, const char *group_instance_id,
                    int32_t generation_id, const char *protocol_type,
                    const char *protocol_name, const group_assignment_t *assignments,
                    int32_t assignment_count, int64_t now_ms, group_sync_outcome_t *out);

/* A parked SyncGroup gave up (its deadline passed): the member no longer waits. */
void group_cancel_sync(group_t *g, const char *member_id);

/* Heartbeat. KL_OK, or REBALANCE_IN_PROGRESS (rejoin!), UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE. */
kl_err_t group_heartbeat(group_t *g, const char *member_id, const char *group_instance_id,
                         int32_t generation_id, int64_t now_ms);

/* LeaveGroup for one member (v3+ sends a batch: call once per member). With an
 * instance id the member is found by it (KIP-345). Errors: UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE. */
kl_err_t group_leave(group_t *g, const char *member_id, const char *group_instance_id,
                     int64_t now_ms);

/* The passage of time: drop members whose session expired and unused KIP-394 ids,
 * then end the round if its deadline passed. Returns the number of members removed. */
int32_t group_expire(group_t *g, int64_t now_ms);

/* End the join phase if every member rejoined or the deadline passed (or `force`):
 * members that did not rejoin are removed, the generation advances, the protocol
 * and leader are chosen. Returns true when the round completed now. */
bool group_try_complete_join(group_t *g, int64_t now_ms, bool force);

/* OffsetCommit's group checks (Kafka's doCommitOffsets). generation < 0 on an Empty
 * group is a simple consumer's commit and is allowed. On success a member's heartbeat
 * is refreshed. Errors: COORDINATOR_NOT_AVAILABLE, FENCED_INSTANCE_ID,
 * REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION. */
kl_err_t group_check_commit(group_t *g, int32_t generation_id, const char *member_id,
                            const char *group_instance_id, int64_t now_ms);

/* DeleteGroups: GROUP_ID_NOT_FOUND (Dead), NON_EMPTY_GROUP (members), else KL_OK
 * and the group is now Dead. */
kl_err_t group_delete(group_t *g);

#endif
