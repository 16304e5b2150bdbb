/*
 * test/test_group.c — unit tests of domain/group.c: every transition of the group
 * state machine (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead) driven
 * by events with an injected now_ms and an injected id source (a counter).
 * Layer: test. May touch: domain/group.h, cmocka.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "domain/group.h"
#include "test/mocks/alloc_fail.h"

/* ---- fixtures ------------------------------------------------------------------ */

static uint64_t counter_next64(void *self)
{
    uint64_t *n = self;
    return ++*n;
}

typedef struct fixture {
    group_t g;
    uint64_t counter;
    group_id_source_t ids;
} fixture_t;

static int setup_with(void **state, int32_t initial_delay_ms)
{
    fixture_t *f = test_calloc(1, sizeof *f);
    group_config_t cfg = group_config_default();
    cfg.initial_rebalance_delay_ms = initial_delay_ms;
    assert_int_equal(group_init(&f->g, "g1", &cfg), KL_OK);
    f->ids.self = &f->counter;
    f->ids.next64 = counter_next64;
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_with(state, 0); }
static int setup_delay(void **state) { return setup_with(state, 3000); }

static int teardown(void **state)
{
    fixture_t *f = *state;
    group_free(&f->g);
    test_free(f);
    return 0;
}

static uint8_t META_A[] = { 1, 2, 3 };
static uint8_t META_B[] = { 4, 5 };

static group_protocol_t one_protocol(const char *name, uint8_t *meta, size_t len)
{
    group_protocol_t p = { .name = (char *)name, .metadata = meta, .metadata_len = len };
    return p;
}

static group_join_args_t join_args(const char *member_id, const char *client_id,
                                   const group_protocol_t *protos, int32_t n)
{
    group_join_args_t a = {
        .member_id = member_id, .group_instance_id = NULL, .client_id = client_id,
        .client_host = "/127.0.0.1", .session_timeout_ms = 10000,
        .rebalance_timeout_ms = 30000, .protocol_type = "consumer",
        .protocols = protos, .protocol_count = n, .require_known_member_id = false,
    };
    return a;
}

/* Join with the "range" protocol; returns the error and copies the member id. */
static kl_err_t join(fixture_t *f, const char *member_id, const char *client, int64_t now,
                     char *id_out, bool *waiting)
{
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t a = join_args(member_id, client, &p, 1);
    group_join_outcome_t o;
    kl_err_t err = group_join(&f->g, &a, now, f->ids, &o);
    if (id_out)
        strcpy(id_out, o.member_id ? o.member_id : "");
    if (waiting)
        *waiting = o.waiting;
    return err;
}

/* A settled two-member group: A (leader) and B, Stable in generation 2. */
static void make_stable_pair(fixture_t *f, char *a, char *b)
{
    bool w;
    assert_int_equal(join(f, "", "ca", 0, a, &w), KL_OK);      /* gen 1 with A alone */
    assert_false(w);
    assert_int_equal(join(f, "", "cb", 10, b, &w), KL_OK);     /* B: rebalance, waits */
    assert_true(w);
    assert_int_equal(join(f, a, "ca", 20, NULL, &w), KL_OK);   /* A rejoins: complete */
    assert_false(w);
    assert_int_equal(f->g.generation_id, 2);
    group_sync_outcome_t o;
    group_assignment_t as[2] = {
        { .member_id = a, .assignment = META_A, .assignment_len = sizeof META_A },
        { .member_id = b, .assignment = META_B, .assignment_len = sizeof META_B },
    };
    assert_int_equal(group_sync(&f->g, a, NULL, 2, NULL, NULL, as, 2, 30, &o), KL_OK);
    assert_int_equal(f->g.state, GROUP_STABLE);
}

/* ---- life cycle ------------------------------------------------------------------ */

static void test_new_group_is_empty_generation_0(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(f->g.state, GROUP_EMPTY);
    assert_int_equal(f->g.generation_id, 0);
    assert_null(f->g.leader);
    assert_string_equal(group_state_name(GROUP_EMPTY), "Empty");
    assert_string_equal(group_state_name(GROUP_PREPARING_REBALANCE), "PreparingRebalance");
    assert_string_equal(group_state_name(GROUP_COMPLETING_REBALANCE), "CompletingRebalance");
    assert_string_equal(group_state_name(GROUP_STABLE), "Stable");
    assert_string_equal(group_state_name(GROUP_DEAD), "Dead");
}

/* ---- JoinGroup ------------------------------------------------------------------- */

static void test_first_join_completes_round_at_once_without_delay(void **state)
{
    fixture_t *f = *state;
    char id[128];
    bool w;
    assert_int_equal(join(f, "", "client-a", 100, id, &w), KL_OK);
    assert_false(w);
    assert_string_equal(id, "client-a-00000000-0000-0001-0000-000000000002");
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    assert_int_equal(f->g.generation_id, 1);
    assert_string_equal(f->g.leader->member_id, id);
    assert_string_equal(f->g.protocol_type, "consumer");
    assert_string_equal(f->g.protocol_name, "range");
}

static void test_second_member_triggers_rebalance_until_all_rejoin(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    bool w;
    assert_int_equal(join(f, "", "ca", 0, a, &w), KL_OK);
    assert_int_equal(join(f, "", "cb", 10, b, &w), KL_OK);
    assert_true(w);
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
    assert_int_equal(f->g.rebalance_deadline_ms, 10 + 30000);
    assert_int_equal(f->g.generation_id, 1);
    assert_int_equal(join(f, a, "ca", 20, NULL, &w), KL_OK);
    assert_false(w);
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    assert_int_equal(f->g.generation_id, 2);
    assert_true(group_is_leader(&f->g, a));
    assert_int_equal(group_member_count(&f->g), 2);
}

static void test_initial_delay_waits_for_the_deadline(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    bool w;
    assert_int_equal(join(f, "", "ca", 0, a, &w), KL_OK);
    assert_true(w);
    assert_int_equal(f->g.rebalance_deadline_ms, 3000);
    assert_int_equal(join(f, "", "cb", 1000, b, &w), KL_OK);
    assert_true(w);
    assert_int_equal(f->g.rebalance_deadline_ms, 4000);      /* extended by the delay */
    assert_false(group_try_complete_join(&f->g, 3999, false));
    assert_true(group_try_complete_join(&f->g, 4000, false));
    assert_int_equal(f->g.generation_id, 1);
    assert_int_equal(group_member_count(&f->g), 2);
}

static void test_member_id_required_two_step_join(void **state)
{
    fixture_t *f = *state;
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t a = join_args("", "kp", &p, 1);
    a.require_known_member_id = true;
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &a, 0, f->ids, &o), KL_ERR_MEMBER_ID_REQUIRED);
    char id[128];
    strcpy(id, o.member_id);
    assert_memory_equal(id, "kp-", 3);
    assert_int_equal(strlen(id), 3 + 36);
    assert_int_equal(f->g.state, GROUP_EMPTY);              /* nothing joined yet */
    assert_int_equal(group_member_count(&f->g), 0);
    a.member_id = id;
    assert_int_equal(group_join(&f->g, &a, 5, f->ids, &o), KL_OK);
    assert_string_equal(o.member_id, id);
    assert_int_equal(f->g.generation_id, 1);
    assert_null(f->g.pending);
}

static void test_unknown_member_id_is_refused(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(join(f, "nobody", "c", 0, NULL, NULL), KL_ERR_UNKNOWN_MEMBER_ID);
}

static void test_pending_member_id_expires_after_session_timeout(void **state)
{
    fixture_t *f = *state;
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t a = join_args("", "kp", &p, 1);
    a.require_known_member_id = true;
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &a, 0, f->ids, &o), KL_ERR_MEMBER_ID_REQUIRED);
    char id[128];
    strcpy(id, o.member_id);
    group_expire(&f->g, 10000);
    a.member_id = id;
    assert_int_equal(group_join(&f->g, &a, 10001, f->ids, &o), KL_ERR_UNKNOWN_MEMBER_ID);
}

static void test_session_timeout_bounds(void **state)
{
    fixture_t *f = *state;
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t a = join_args("", "c", &p, 1);
    group_join_outcome_t o;
    a.session_timeout_ms = 5999;
    assert_int_equal(group_join(&f->g, &a, 0, f->ids, &o), KL_ERR_INVALID_SESSION_TIMEOUT);
    a.session_timeout_ms = 1800001;
    assert_int_equal(group_join(&f->g, &a, 0, f->ids, &o), KL_ERR_INVALID_SESSION_TIMEOUT);
    f->g.config.min_session_timeout_ms = 100;                /* a parameter, not a constant */
    a.session_timeout_ms = 100;
    assert_int_equal(group_join(&f->g, &a, 0, f->ids, &o), KL_OK);
}

static void test_inconsistent_protocols_are_refused(void **state)
{
    fixture_t *f = *state;
    char a_id[128];
    assert_int_equal(join(f, "", "ca", 0, a_id, NULL), KL_OK);
    group_protocol_t rr = one_protocol("roundrobin", META_B, sizeof META_B);
    group_join_args_t a = join_args("", "cb", &rr, 1);
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &a, 1, f->ids, &o), KL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    group_protocol_t range = one_protocol("range", META_B, sizeof META_B);
    a = join_args("", "cb", &range, 1);
    a.protocol_type = "connect";
    assert_int_equal(group_join(&f->g, &a, 1, f->ids, &o), KL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    a = join_args("", "cb", &range, 0);                        /* no protocol at all */
    assert_int_equal(group_join(&f->g, &a, 1, f->ids, &o), KL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    assert_int_equal(group_member_count(&f->g), 1);
}

static void test_protocol_chosen_by_votes(void **state)
{
    fixture_t *f = *state;
    /* A prefers range, B and C prefer roundrobin: roundrobin wins 2 to 1. */
    group_protocol_t pa[2] = { one_protocol("range", META_A, 3), one_protocol("roundrobin", META_B, 2) };
    group_protocol_t pb[2] = { one_protocol("roundrobin", META_B, 2), one_protocol("range", META_A, 3) };
    group_join_args_t a = join_args("", "ca", pa, 2);
    group_join_outcome_t o;
    char ida[128];
    assert_int_equal(group_join(&f->g, &a, 0, f->ids, &o), KL_OK);
    strcpy(ida, o.member_id);
    group_join_args_t b = join_args("", "cb", pb, 2);
    assert_int_equal(group_join(&f->g, &b, 1, f->ids, &o), KL_OK);
    group_join_args_t c = join_args("", "cc", pb, 2);
    assert_int_equal(group_join(&f->g, &c, 2, f->ids, &o), KL_OK);
    a.member_id = ida;
    assert_int_equal(group_join(&f->g, &a, 3, f->ids, &o), KL_OK);
    assert_false(o.waiting);
    assert_string_equal(f->g.protocol_name, "roundrobin");
    size_t len;
    const uint8_t *md = group_member_metadata(f->g.leader, "roundrobin", &len);
    assert_int_equal(len, 2);
    assert_memory_equal(md, META_B, 2);
}

static void test_group_max_size(void **state)
{
    fixture_t *f = *state;
    f->g.config.max_size = 1;
    assert_int_equal(join(f, "", "ca", 0, NULL, NULL), KL_OK);
    assert_int_equal(join(f, "", "cb", 0, NULL, NULL), KL_ERR_GROUP_MAX_SIZE_REACHED);
}

static void test_rejoin_with_same_protocols_when_settled_answers_at_once(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    bool w;
    make_stable_pair(f, a, b);
    assert_int_equal(join(f, b, "cb", 40, NULL, &w), KL_OK);   /* follower: no rebalance */
    assert_false(w);
    assert_int_equal(f->g.state, GROUP_STABLE);
    assert_int_equal(join(f, a, "ca", 50, NULL, &w), KL_OK);   /* leader: rebalance */
    assert_true(w);
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
}

static void test_rejoin_in_completing_rebalance_resends_answer(void **state)
{
    fixture_t *f = *state;
    char a[128];
    bool w;
    assert_int_equal(join(f, "", "ca", 0, a, &w), KL_OK);
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    assert_int_equal(join(f, a, "ca", 5, NULL, &w), KL_OK);
    assert_false(w);
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    assert_int_equal(f->g.generation_id, 1);
}

/* ---- SyncGroup -------------------------------------------------------------------- */

static void test_sync_follower_waits_for_leader(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    bool w;
    join(f, "", "ca", 0, a, &w);
    join(f, "", "cb", 10, b, &w);
    join(f, a, "ca", 20, NULL, &w);
    group_sync_outcome_t o;
    assert_int_equal(group_sync(&f->g, b, NULL, 2, NULL, NULL, NULL, 0, 30, &o), KL_OK);
    assert_true(o.waiting);
    assert_true(group_find_member(&f->g, b)->awaiting_sync);
    group_assignment_t as[1] = { { .member_id = b, .assignment = META_B, .assignment_len = 2 } };
    assert_int_equal(group_sync(&f->g, a, NULL, 2, "consumer", "range", as, 1, 40, &o), KL_OK);
    assert_false(o.waiting);
    assert_int_equal(o.assignment_len, 0);                    /* leader left itself out */
    assert_int_equal(f->g.state, GROUP_STABLE);
    group_member_t *mb = group_find_member(&f->g, b);
    assert_false(mb->awaiting_sync);
    assert_int_equal(mb->assignment_len, 2);
    assert_memory_equal(mb->assignment, META_B, 2);
    /* a late follower sync in Stable gets its assignment at once */
    assert_int_equal(group_sync(&f->g, b, NULL, 2, NULL, NULL, NULL, 0, 50, &o), KL_OK);
    assert_false(o.waiting);
    assert_memory_equal(o.assignment, META_B, 2);
}

static void test_sync_errors(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    group_sync_outcome_t o;
    make_stable_pair(f, a, b);
    assert_int_equal(group_sync(&f->g, "x", NULL, 2, NULL, NULL, NULL, 0, 40, &o), KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(group_sync(&f->g, b, NULL, 1, NULL, NULL, NULL, 0, 40, &o), KL_ERR_ILLEGAL_GENERATION);
    assert_int_equal(group_sync(&f->g, b, NULL, 2, "consumer", "roundrobin", NULL, 0, 40, &o),
                     KL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    assert_int_equal(group_leave(&f->g, a, NULL, 50), KL_OK);
    assert_int_equal(group_sync(&f->g, b, NULL, 2, NULL, NULL, NULL, 0, 60, &o), KL_ERR_REBALANCE_IN_PROGRESS);
}

static void test_rebalance_during_completing_drops_waiting_syncs(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128], c[128];
    bool w;
    join(f, "", "ca", 0, a, &w);
    join(f, "", "cb", 10, b, &w);
    join(f, a, "ca", 20, NULL, &w);
    group_sync_outcome_t o;
    group_sync(&f->g, b, NULL, 2, NULL, NULL, NULL, 0, 30, &o);
    assert_true(o.waiting);
    assert_int_equal(join(f, "", "cc", 40, c, &w), KL_OK);   /* a third member arrives */
    assert_true(w);
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
    assert_false(group_find_member(&f->g, b)->awaiting_sync);
}

/* ---- Heartbeat -------------------------------------------------------------------- */

static void test_heartbeat_by_state(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    assert_int_equal(group_heartbeat(&f->g, "x", NULL, 0, 0), KL_ERR_UNKNOWN_MEMBER_ID);   /* Empty */
    make_stable_pair(f, a, b);
    assert_int_equal(group_heartbeat(&f->g, b, NULL, 2, 100), KL_OK);
    assert_int_equal(group_find_member(&f->g, b)->last_heartbeat_ms, 100);
    assert_int_equal(group_heartbeat(&f->g, b, NULL, 1, 100), KL_ERR_ILLEGAL_GENERATION);
    assert_int_equal(group_heartbeat(&f->g, "x", NULL, 2, 100), KL_ERR_UNKNOWN_MEMBER_ID);
    join(f, a, "ca", 200, NULL, NULL);                        /* leader rejoins: rebalance */
    assert_int_equal(group_heartbeat(&f->g, b, NULL, 2, 210), KL_ERR_REBALANCE_IN_PROGRESS);
}

/* ---- LeaveGroup -------------------------------------------------------------------- */

static void test_leader_leaves_follower_takes_over(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    bool w;
    make_stable_pair(f, a, b);
    assert_int_equal(group_leave(&f->g, a, NULL, 100), KL_OK);
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
    assert_true(group_is_leader(&f->g, b));
    assert_int_equal(group_leave(&f->g, a, NULL, 100), KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(join(f, b, "cb", 110, NULL, &w), KL_OK);
    assert_false(w);
    assert_int_equal(f->g.generation_id, 3);
    assert_int_equal(group_member_count(&f->g), 1);
}

static void test_last_member_leaves_group_becomes_empty(void **state)
{
    fixture_t *f = *state;
    char a[128];
    join(f, "", "ca", 0, a, NULL);
    assert_int_equal(group_leave(&f->g, a, NULL, 10), KL_OK);
    assert_int_equal(f->g.state, GROUP_EMPTY);
    assert_int_equal(f->g.generation_id, 2);        /* the round ended with nobody */
    assert_null(f->g.leader);
    assert_null(f->g.protocol_name);
}

/* ---- time ----------------------------------------------------------------------------- */

static void test_session_expiry_removes_silent_member(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);                       /* heartbeats reset at 20 */
    assert_int_equal(group_heartbeat(&f->g, a, NULL, 2, 9000), KL_OK);
    assert_int_equal(group_expire(&f->g, 10019), 0);   /* b: last heard at 20 (round end) */
    assert_int_equal(group_expire(&f->g, 10020), 1);
    assert_null(group_find_member(&f->g, b));
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
    assert_int_equal(group_heartbeat(&f->g, a, NULL, 2, 10040), KL_ERR_REBALANCE_IN_PROGRESS);
}

static void test_waiting_members_are_not_expired(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    bool w;
    join(f, "", "ca", 0, a, &w);
    join(f, "", "cb", 10, b, &w);                  /* b waits in the join phase */
    assert_int_equal(group_expire(&f->g, 20000), 1); /* a (not rejoined) expires; b stays */
    assert_null(group_find_member(&f->g, a));
    assert_non_null(group_find_member(&f->g, b));
    /* a's removal completed the round: b is alone, in generation 2 */
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    assert_int_equal(f->g.generation_id, 2);
    assert_true(group_is_leader(&f->g, b));
}

static void test_member_waiting_in_join_outlives_its_session(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    join(f, a, "ca", 100, NULL, NULL);             /* A parked in JoinGroup from 100 */
    assert_int_equal(group_heartbeat(&f->g, b, NULL, 2, 9000), KL_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(group_expire(&f->g, 10200), 0);  /* A silent 10.1 s, but waiting */
    assert_non_null(group_find_member(&f->g, a));
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
}

static void test_rebalance_timeout_removes_members_that_did_not_rejoin(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    join(f, a, "ca", 100, NULL, NULL);             /* leader rejoins: round until 30100 */
    assert_int_equal(f->g.rebalance_deadline_ms, 30100);
    group_heartbeat(&f->g, b, NULL, 2, 25000);     /* b heartbeats but never rejoins */
    assert_false(group_try_complete_join(&f->g, 30099, false));
    assert_true(group_try_complete_join(&f->g, 30100, false));
    assert_null(group_find_member(&f->g, b));
    assert_int_equal(group_member_count(&f->g), 1);
    assert_int_equal(f->g.generation_id, 3);
}

static void test_forced_completion(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    join(f, a, "ca", 100, NULL, NULL);
    assert_true(group_try_complete_join(&f->g, 200, true));
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    assert_false(group_try_complete_join(&f->g, 300, true));   /* only from Preparing */
}

/* ---- static membership (KIP-345) ----------------------------------------------------- */

static kl_err_t join_static(fixture_t *f, const char *member_id, const char *instance,
                            int64_t now, char *id_out, bool *waiting)
{
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t a = join_args(member_id, "cs", &p, 1);
    a.group_instance_id = instance;
    a.require_known_member_id = true;              /* static members skip KIP-394 */
    group_join_outcome_t o;
    kl_err_t err = group_join(&f->g, &a, now, f->ids, &o);
    if (id_out)
        strcpy(id_out, o.member_id ? o.member_id : "");
    if (waiting)
        *waiting = o.waiting;
    return err;
}

static void test_static_member_rejoin_with_its_id_keeps_it(void **state)
{
    fixture_t *f = *state;
    char s[128], again[128];
    assert_int_equal(join_static(f, "", "inst-1", 0, s, NULL), KL_OK);
    assert_memory_equal(s, "inst-1-", 7);
    group_sync_outcome_t o;
    group_assignment_t as[1] = { { .member_id = s, .assignment = META_B, .assignment_len = 2 } };
    assert_int_equal(group_sync(&f->g, s, "inst-1", 1, NULL, NULL, as, 1, 5, &o), KL_OK);
    assert_int_equal(join_static(f, s, "inst-1", 10, again, NULL), KL_OK);
    assert_string_equal(again, s);
}

static void test_static_member_restart_replaces_old_id_without_rebalance(void **state)
{
    fixture_t *f = *state;
    char s[128], s2[128];
    bool w;
    join_static(f, "", "inst-1", 0, s, NULL);
    group_sync_outcome_t o;
    group_assignment_t as[1] = { { .member_id = s, .assignment = META_B, .assignment_len = 2 } };
    group_sync(&f->g, s, "inst-1", 1, NULL, NULL, as, 1, 5, &o);
    assert_int_equal(f->g.state, GROUP_STABLE);
    /* the process restarts: no member id, same instance id */
    assert_int_equal(join_static(f, "", "inst-1", 100, s2, &w), KL_OK);
    assert_false(w);
    assert_string_not_equal(s2, s);
    assert_int_equal(f->g.state, GROUP_STABLE);
    assert_int_equal(f->g.generation_id, 1);
    assert_int_equal(group_member_count(&f->g), 1);
    assert_int_equal(group_sync(&f->g, s2, "inst-1", 1, NULL, NULL, NULL, 0, 110, &o), KL_OK);
    assert_memory_equal(o.assignment, META_B, 2);             /* the old assignment */
    /* the old process is a zombie now */
    assert_int_equal(group_heartbeat(&f->g, s, "inst-1", 1, 120), KL_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(join_static(f, s, "inst-1", 130, NULL, NULL), KL_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(group_leave(&f->g, s, "inst-1", 140), KL_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(group_leave(&f->g, "", "inst-1", 150), KL_OK);   /* by instance id */
    assert_int_equal(f->g.state, GROUP_EMPTY);
}

static void test_static_member_not_removed_at_round_end(void **state)
{
    fixture_t *f = *state;
    char s[128], d[128];
    bool w;
    join_static(f, "", "inst-1", 0, s, NULL);
    assert_int_equal(join(f, "", "cd", 10, d, &w), KL_OK);   /* dynamic member: rebalance */
    assert_true(w);
    assert_true(group_try_complete_join(&f->g, 10 + 30000, false));
    assert_non_null(group_find_member(&f->g, s));             /* kept, though it did not rejoin */
    assert_true(group_is_leader(&f->g, d));                   /* leader must have rejoined */
}

/* ---- OffsetCommit checks and DeleteGroups ---------------------------------------------- */

static void test_commit_checks(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    assert_int_equal(group_check_commit(&f->g, -1, "", NULL, 0), KL_OK);   /* simple */
    assert_int_equal(group_check_commit(&f->g, 1, "x", NULL, 0), KL_ERR_UNKNOWN_MEMBER_ID);
    bool w;
    join(f, "", "ca", 0, a, &w);
    assert_int_equal(group_check_commit(&f->g, 1, a, NULL, 1), KL_ERR_REBALANCE_IN_PROGRESS);
    join(f, "", "cb", 10, b, &w);
    join(f, a, "ca", 20, NULL, &w);
    group_sync_outcome_t o;
    group_sync(&f->g, a, NULL, 2, NULL, NULL, NULL, 0, 30, &o);
    assert_int_equal(group_check_commit(&f->g, 2, a, NULL, 40), KL_OK);
    assert_int_equal(group_check_commit(&f->g, 1, a, NULL, 40), KL_ERR_ILLEGAL_GENERATION);
    assert_int_equal(group_check_commit(&f->g, -1, "", NULL, 40), KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(group_check_commit(&f->g, 2, "x", NULL, 40), KL_ERR_UNKNOWN_MEMBER_ID);
    join(f, a, "ca", 50, NULL, &w);                /* PreparingRebalance: still allowed */
    assert_int_equal(group_check_commit(&f->g, 2, b, NULL, 60), KL_OK);
}

static void test_delete_rules(void **state)
{
    fixture_t *f = *state;
    char a[128];
    join(f, "", "ca", 0, a, NULL);
    assert_int_equal(group_delete(&f->g), KL_ERR_NON_EMPTY_GROUP);
    group_leave(&f->g, a, NULL, 10);
    assert_int_equal(group_delete(&f->g), KL_OK);
    assert_int_equal(f->g.state, GROUP_DEAD);
    assert_int_equal(group_delete(&f->g), KL_ERR_GROUP_ID_NOT_FOUND);
    assert_int_equal(join(f, "", "ca", 20, NULL, NULL), KL_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_int_equal(group_heartbeat(&f->g, a, NULL, 1, 20), KL_ERR_COORDINATOR_NOT_AVAILABLE);
}

/* ---- more rules: protocol changes, KIP-394 and KIP-345 corners, Dead ------------------ */

static void test_unknown_state_value_is_named_dead(void **state)
{
    (void)state;
    /* DescribeGroups must always print a valid Kafka state name, even for garbage. */
    assert_string_equal(group_state_name((group_state_t)42), "Dead");
}

/* Kafka's MemberMetadata.matches: a different number of protocols is a change, so a
 * settled follower that rejoins with it starts a rebalance. */
static void test_follower_rejoin_with_more_protocols_rebalances(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    group_protocol_t two[2] = { one_protocol("range", META_A, sizeof META_A),
                                one_protocol("roundrobin", META_B, sizeof META_B) };
    group_join_args_t args = join_args(b, "cb", two, 2);
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &args, 40, f->ids, &o), KL_OK);
    assert_true(o.waiting);
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
    assert_int_equal(group_find_member(&f->g, b)->protocol_count, 2);
    assert_int_equal(f->g.generation_id, 2);
}

/* Same protocol name and length but other bytes (a new subscription) is a change too:
 * in CompletingRebalance it sends the group back to PreparingRebalance. */
static void test_rejoin_in_completing_rebalance_with_new_metadata_rebalances(void **state)
{
    fixture_t *f = *state;
    char a[128];
    assert_int_equal(join(f, "", "ca", 0, a, NULL), KL_OK);
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    uint8_t other[sizeof META_A] = { 9, 9, 9 };
    group_protocol_t p = one_protocol("range", other, sizeof other);
    group_join_args_t args = join_args(a, "ca", &p, 1);
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &args, 5, f->ids, &o), KL_OK);
    /* alone, the new round completes at once: a new generation with the new bytes */
    assert_false(o.waiting);
    assert_int_equal(f->g.generation_id, 2);
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    size_t len;
    const uint8_t *md = group_member_metadata(f->g.leader, "range", &len);
    assert_int_equal(len, sizeof other);
    assert_memory_equal(md, other, sizeof other);
}

/* group.initial.rebalance.delay.ms never holds a round open longer than the members'
 * rebalance timeout. */
static void test_initial_delay_is_capped_by_rebalance_timeout(void **state)
{
    fixture_t *f = *state;                              /* delay 3000 */
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t args = join_args("", "ca", &p, 1);
    args.rebalance_timeout_ms = 1000;
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &args, 0, f->ids, &o), KL_OK);
    assert_true(o.waiting);
    assert_int_equal(f->g.rebalance_deadline_ms, 1000);
    assert_false(group_try_complete_join(&f->g, 999, false));
    assert_true(group_try_complete_join(&f->g, 1000, false));
    assert_int_equal(f->g.generation_id, 1);
}

/* JoinGroup v0 has no rebalance timeout: the session timeout stands in for it. */
static void test_v0_join_uses_session_timeout_as_rebalance_timeout(void **state)
{
    fixture_t *f = *state;
    char a[128];
    assert_int_equal(join(f, "", "ca", 0, a, NULL), KL_OK);
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t args = join_args("", "cb", &p, 1);
    args.rebalance_timeout_ms = -1;
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &args, 10, f->ids, &o), KL_OK);
    assert_int_equal(group_find_member(&f->g, o.member_id)->rebalance_timeout_ms, 10000);
}

/* Kafka's selectProtocol only considers protocols every member supports: the first
 * member's favourite is skipped when another member lacks it. */
static void test_protocol_not_supported_by_all_is_never_chosen(void **state)
{
    fixture_t *f = *state;
    group_protocol_t pa[2] = { one_protocol("range", META_A, 3), one_protocol("roundrobin", META_B, 2) };
    group_protocol_t pb[1] = { one_protocol("roundrobin", META_B, 2) };
    group_join_args_t a = join_args("", "ca", pa, 2);
    group_join_outcome_t o;
    char ida[128];
    assert_int_equal(group_join(&f->g, &a, 0, f->ids, &o), KL_OK);
    strcpy(ida, o.member_id);
    assert_string_equal(f->g.protocol_name, "range");    /* alone: its favourite */
    group_join_args_t b = join_args("", "cb", pb, 1);
    assert_int_equal(group_join(&f->g, &b, 1, f->ids, &o), KL_OK);
    a.member_id = ida;
    assert_int_equal(group_join(&f->g, &a, 2, f->ids, &o), KL_OK);
    assert_false(o.waiting);
    assert_int_equal(f->g.generation_id, 2);
    assert_string_equal(f->g.protocol_name, "roundrobin");
}

/* KIP-394: group.max.size is checked again when the member comes back with its id;
 * a group that filled up in between refuses it. */
static void test_max_size_checked_again_on_second_join_step(void **state)
{
    fixture_t *f = *state;
    f->g.config.max_size = 1;
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t args = join_args("", "kp", &p, 1);
    args.require_known_member_id = true;
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &args, 0, f->ids, &o), KL_ERR_MEMBER_ID_REQUIRED);
    char id[128];
    strcpy(id, o.member_id);
    assert_int_equal(join(f, "", "other", 1, NULL, NULL), KL_OK);   /* takes the only seat */
    args.member_id = id;
    assert_int_equal(group_join(&f->g, &args, 2, f->ids, &o), KL_ERR_GROUP_MAX_SIZE_REACHED);
    assert_int_equal(group_member_count(&f->g), 1);
    assert_null(group_find_member(&f->g, id));
}

/* KIP-394: a LeaveGroup for an id that was handed out but never joined forgets it. */
static void test_leave_of_pending_member_id_forgets_it(void **state)
{
    fixture_t *f = *state;
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    group_join_args_t args = join_args("", "kp", &p, 1);
    args.require_known_member_id = true;
    group_join_outcome_t o;
    assert_int_equal(group_join(&f->g, &args, 0, f->ids, &o), KL_ERR_MEMBER_ID_REQUIRED);
    char id[128];
    strcpy(id, o.member_id);
    assert_int_equal(group_leave(&f->g, id, NULL, 5), KL_OK);
    assert_null(f->g.pending);
    assert_int_equal(f->g.state, GROUP_EMPTY);
    assert_int_equal(f->g.generation_id, 0);             /* no round was started */
    args.member_id = id;
    assert_int_equal(group_join(&f->g, &args, 6, f->ids, &o), KL_ERR_UNKNOWN_MEMBER_ID);
}

/* KIP-345: a static member that restarts while a round is open takes part in that round
 * under its new id; the old id is gone. */
static void test_static_member_restart_during_rebalance_joins_the_round(void **state)
{
    fixture_t *f = *state;
    char s[128], d[128], s2[128];
    bool w;
    assert_int_equal(join_static(f, "", "inst-1", 0, s, NULL), KL_OK);     /* gen 1 */
    assert_int_equal(join(f, "", "cd", 10, d, &w), KL_OK);                 /* round opens */
    assert_true(w);
    assert_int_equal(f->g.state, GROUP_PREPARING_REBALANCE);
    assert_int_equal(join_static(f, "", "inst-1", 20, s2, &w), KL_OK);     /* restart */
    assert_string_not_equal(s2, s);
    assert_false(w);                            /* everyone has joined: round complete */
    assert_int_equal(f->g.generation_id, 2);
    assert_int_equal(f->g.state, GROUP_COMPLETING_REBALANCE);
    assert_null(group_find_member(&f->g, s));
    assert_non_null(group_find_member(&f->g, s2));
    assert_int_equal(group_member_count(&f->g), 2);
}

/* KIP-345: the zombie of a replaced static member is fenced from SyncGroup and
 * OffsetCommit as well, not only from Heartbeat and JoinGroup. */
static void test_zombie_static_member_is_fenced_from_sync_and_commit(void **state)
{
    fixture_t *f = *state;
    char s[128], s2[128];
    assert_int_equal(join_static(f, "", "inst-1", 0, s, NULL), KL_OK);
    group_sync_outcome_t o;
    assert_int_equal(group_sync(&f->g, s, "inst-1", 1, NULL, NULL, NULL, 0, 5, &o), KL_OK);
    assert_int_equal(join_static(f, "", "inst-1", 10, s2, NULL), KL_OK);
    assert_int_equal(group_sync(&f->g, s, "inst-1", 1, NULL, NULL, NULL, 0, 20, &o),
                     KL_ERR_FENCED_INSTANCE_ID);
    assert_null(o.assignment);
    assert_int_equal(group_check_commit(&f->g, 1, s, "inst-1", 30), KL_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(group_check_commit(&f->g, 1, s2, "inst-1", 30), KL_OK);
}

/* A deleted group answers COORDINATOR_NOT_AVAILABLE to everything (the client looks
 * for the coordinator again) and time does nothing to it. */
static void test_dead_group_refuses_every_request(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(group_delete(&f->g), KL_OK);
    group_sync_outcome_t o;
    assert_int_equal(group_sync(&f->g, "m", NULL, 0, NULL, NULL, NULL, 0, 1, &o),
                     KL_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_false(o.waiting);
    assert_int_equal(group_leave(&f->g, "m", NULL, 1), KL_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_int_equal(group_check_commit(&f->g, -1, "", NULL, 1), KL_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_int_equal(group_expire(&f->g, 1000000), 0);
    assert_false(group_try_complete_join(&f->g, 1000000, true));
    assert_int_equal(f->g.state, GROUP_DEAD);
}

/* ---- out of memory ----------------------------------------------------------------------
 * Each test sweeps n = 0, 1, 2…: a fresh group is brought to the state under test, then
 * the n-th allocation of the call under test fails (test/mocks/alloc_fail.h), until a
 * run needs no more. A refused call answers UNKNOWN_SERVER_ERROR and leaves the group as
 * it was; the design invariants hold after every run. Leaks show under ASan (LeakSanitizer)
 * or valgrind --soname-synonyms=somalloc=nouserintercepts (plain valgrind skips these). */

/* Design invariants 1 and 2 of domain/group.c, checked from outside. */
static void assert_group_invariants(const group_t *g)
{
    if (g->state != GROUP_DEAD)
        assert_int_equal(g->state == GROUP_EMPTY, g->members == NULL);
    assert_int_equal(g->leader == NULL, g->members == NULL);
    if (g->leader)
        assert_ptr_equal(group_find_member(g, g->leader->member_id), g->leader);
}

static void fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    group_config_t cfg = group_config_default();
    assert_int_equal(group_init(&f->g, "g1", &cfg), KL_OK);
    f->ids.self = &f->counter;
    f->ids.next64 = counter_next64;
}

static void test_init_out_of_memory_is_unknown_server_error(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    group_t g;
    group_config_t cfg = group_config_default();
    alloc_fail_arm(0);
    kl_err_t err = group_init(&g, "g1", &cfg);
    alloc_fail_disarm();
    assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_null(g.group_id);
    assert_null(g.members);
    group_free(&g);                                   /* still safe to free */
    assert_int_equal(g.state, GROUP_DEAD);
}

/* The first member, dynamic or static: every allocation of the join and of the round it
 * completes. A failure in the join leaves the group Empty in generation 0; the one
 * allocation after the join proper, the chosen protocol's name in complete_join, cannot
 * be refused to anyone: the round ends without a name, which the coordinator must not
 * announce (test_group_coordinator.c checks that it answers UNKNOWN_SERVER_ERROR). */
static void first_join_out_of_memory(const char *instance)
{
    if (!alloc_fail_supported())
        skip();
    group_protocol_t p[2] = { one_protocol("range", META_A, sizeof META_A),
                              one_protocol("rr", META_B, sizeof META_B) };
    int failures = 0, unnamed = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        fixture_init(&f);
        group_join_args_t a = join_args("", "ca", p, 2);
        a.group_instance_id = instance;
        group_join_outcome_t o;
        alloc_fail_arm(n);
        kl_err_t err = group_join(&f.g, &a, 100, f.ids, &o);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_group_invariants(&f.g);
        if (!failed) {
            assert_int_equal(err, KL_OK);
            assert_int_equal(f.g.state, GROUP_COMPLETING_REBALANCE);
            assert_string_equal(f.g.protocol_name, "range");
            assert_string_equal(f.g.protocol_type, "consumer");
            group_free(&f.g);
            break;
        }
        failures++;
        if (err == KL_OK) {                           /* the protocol name, see above */
            unnamed++;
            assert_int_equal(f.g.state, GROUP_COMPLETING_REBALANCE);
            assert_int_equal(f.g.generation_id, 1);
            assert_null(f.g.protocol_name);
            assert_int_equal(group_member_count(&f.g), 1);
        } else {
            assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
            assert_null(o.member_id);
            assert_int_equal(f.g.state, GROUP_EMPTY);
            assert_int_equal(f.g.generation_id, 0);
            assert_null(f.g.members);
            assert_null(f.g.pending);
        }
        group_free(&f.g);
    }
    assert_int_equal(unnamed, 1);
    /* id, member, 3 or 4 strings, protocol array + 2 names + 2 metadata, protocol type,
     * hash table and buckets, protocol name */
    assert_true(failures >= (instance ? 15 : 14));
}

static void test_first_join_out_of_memory_dynamic(void **state)
{
    (void)state;
    first_join_out_of_memory(NULL);
}

static void test_first_join_out_of_memory_static(void **state)
{
    (void)state;
    first_join_out_of_memory("inst-1");
}

/* KIP-394: both steps. Step one refused: no id is remembered. Step two refused: the id
 * is still pending, so the client's retry with it succeeds. */
static void test_two_step_join_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    group_protocol_t p = one_protocol("range", META_A, sizeof META_A);
    int failures1 = 0, failures2 = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        fixture_init(&f);
        group_join_args_t a = join_args("", "kp", &p, 1);
        a.require_known_member_id = true;
        group_join_outcome_t o;
        alloc_fail_arm(n);
        kl_err_t err = group_join(&f.g, &a, 0, f.ids, &o);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        if (!failed) {
            assert_int_equal(err, KL_ERR_MEMBER_ID_REQUIRED);
            assert_non_null(f.g.pending);
            group_free(&f.g);
            break;
        }
        failures1++;
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_null(o.member_id);
        assert_null(f.g.pending);
        assert_int_equal(f.g.state, GROUP_EMPTY);
        group_free(&f.g);
    }
    assert_true(failures1 >= 4);                      /* id, entry, table, buckets */
    for (long n = 0;; n++) {
        fixture_t f;
        fixture_init(&f);
        group_join_args_t a = join_args("", "kp", &p, 1);
        a.require_known_member_id = true;
        group_join_outcome_t o;
        assert_int_equal(group_join(&f.g, &a, 0, f.ids, &o), KL_ERR_MEMBER_ID_REQUIRED);
        char id[128];
        strcpy(id, o.member_id);
        a.member_id = id;
        alloc_fail_arm(n);
        kl_err_t err = group_join(&f.g, &a, 5, f.ids, &o);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_group_invariants(&f.g);
        if (!failed || err == KL_OK) {                /* KL_OK: the protocol name */
            assert_int_equal(err, KL_OK);
            assert_string_equal(o.member_id, id);
            assert_null(f.g.pending);
            assert_int_equal(f.g.generation_id, 1);
            group_free(&f.g);
            if (!failed)
                break;
            continue;
        }
        failures2++;
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_null(f.g.members);
        assert_int_equal(f.g.state, GROUP_EMPTY);
        /* the id is still pending: the retry joins */
        assert_int_equal(group_join(&f.g, &a, 6, f.ids, &o), KL_OK);
        assert_string_equal(o.member_id, id);
        assert_null(f.g.pending);
        group_free(&f.g);
    }
    assert_true(failures2 >= 8);
}

/* A settled member rejoins with new metadata: refused, it keeps its old protocols and
 * the group stays Stable. */
static void test_rejoin_with_new_metadata_out_of_memory_keeps_member(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    int failures = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        fixture_init(&f);
        char a[128], b[128];
        make_stable_pair(&f, a, b);
        group_protocol_t p = one_protocol("range", META_B, sizeof META_B);
        group_join_args_t args = join_args(b, "cb2", &p, 1);
        group_join_outcome_t o;
        alloc_fail_arm(n);
        kl_err_t err = group_join(&f.g, &args, 40, f.ids, &o);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_group_invariants(&f.g);
        group_member_t *m = group_find_member(&f.g, b);
        assert_non_null(m);
        size_t len;
        const uint8_t *md = group_member_metadata(m, "range", &len);
        if (!failed) {
            assert_int_equal(err, KL_OK);
            assert_true(o.waiting);
            assert_int_equal(f.g.state, GROUP_PREPARING_REBALANCE);
            assert_int_equal(len, sizeof META_B);
            assert_memory_equal(md, META_B, len);
            assert_string_equal(m->client_id, "cb2");
            group_free(&f.g);
            break;
        }
        failures++;
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_int_equal(f.g.state, GROUP_STABLE);
        assert_int_equal(f.g.generation_id, 2);
        assert_int_equal(len, sizeof META_A);
        assert_memory_equal(md, META_A, len);
        assert_string_equal(m->client_id, "cb");
        assert_false(m->awaiting_join);
        group_free(&f.g);
    }
    assert_true(failures >= 5);                 /* protocol array, name, metadata, 2 strings */
}

/* KIP-345 restart of the only member, a static one, in a Stable group. Refused before
 * the member changed: the old id stays valid. Refused re-keying it (its old id already
 * gone): the member is dropped as if its session expired, and the group, now without
 * members, ends up Empty (invariant 1), not Stable with nobody in it. */
static void test_static_restart_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    int kept = 0, dropped = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        fixture_init(&f);
        char s[128], s2[128];
        assert_int_equal(join_static(&f, "", "inst-1", 0, s, NULL), KL_OK);
        group_sync_outcome_t so;
        group_assignment_t as[1] = { { .member_id = s, .assignment = META_B,
                                       .assignment_len = 2 } };
        assert_int_equal(group_sync(&f.g, s, "inst-1", 1, NULL, NULL, as, 1, 5, &so), KL_OK);
        assert_int_equal(f.g.state, GROUP_STABLE);
        alloc_fail_arm(n);
        kl_err_t err = join_static(&f, "", "inst-1", 100, s2, NULL);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_group_invariants(&f.g);
        if (!failed) {
            assert_int_equal(err, KL_OK);
            assert_int_equal(f.g.state, GROUP_STABLE);
            assert_non_null(group_find_member(&f.g, s2));
            group_free(&f.g);
            break;
        }
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        if (f.g.members != NULL) {
            kept++;
            assert_int_equal(f.g.state, GROUP_STABLE);
            assert_int_equal(group_heartbeat(&f.g, s, "inst-1", 1, 110), KL_OK);
        } else {
            dropped++;
            assert_int_equal(f.g.state, GROUP_EMPTY);
            assert_int_equal(f.g.generation_id, 2);            /* the round it ended */
            assert_null(group_find_static_member(&f.g, "inst-1"));
            assert_int_equal(group_heartbeat(&f.g, s, "inst-1", 2, 110),
                             KL_ERR_UNKNOWN_MEMBER_ID);
            /* and the instance can join again from scratch */
            assert_int_equal(join_static(&f, "", "inst-1", 120, s2, NULL), KL_OK);
            assert_int_equal(f.g.state, GROUP_COMPLETING_REBALANCE);
        }
        group_free(&f.g);
    }
    assert_int_equal(kept, 1);                        /* the new id */
    assert_int_equal(dropped, 2);                     /* the new table and its buckets */
}

/* The leader's SyncGroup: refused while copying the assignments, the round stays in
 * CompletingRebalance and the leader's retry completes it. */
static void test_leader_sync_out_of_memory_keeps_round(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    int failures = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        fixture_init(&f);
        char a[128], b[128];
        bool w;
        assert_int_equal(join(&f, "", "ca", 0, a, &w), KL_OK);
        assert_int_equal(join(&f, "", "cb", 10, b, &w), KL_OK);
        assert_int_equal(join(&f, a, "ca", 20, NULL, &w), KL_OK);
        assert_int_equal(f.g.state, GROUP_COMPLETING_REBALANCE);
        group_sync_outcome_t o;
        group_assignment_t as[2] = {
            { .member_id = a, .assignment = META_A, .assignment_len = sizeof META_A },
            { .member_id = b, .assignment = META_B, .assignment_len = sizeof META_B },
        };
        alloc_fail_arm(n);
        kl_err_t err = group_sync(&f.g, a, NULL, 2, NULL, NULL, as, 2, 30, &o);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_group_invariants(&f.g);
        if (failed) {
            failures++;
            assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
            assert_null(o.assignment);
            assert_int_equal(f.g.state, GROUP_COMPLETING_REBALANCE);
            assert_int_equal(f.g.generation_id, 2);
            err = group_sync(&f.g, a, NULL, 2, NULL, NULL, as, 2, 31, &o);   /* retry */
        }
        assert_int_equal(err, KL_OK);
        assert_int_equal(f.g.state, GROUP_STABLE);
        assert_memory_equal(o.assignment, META_A, sizeof META_A);
        assert_int_equal(group_sync(&f.g, b, NULL, 2, NULL, NULL, NULL, 0, 32, &o), KL_OK);
        assert_memory_equal(o.assignment, META_B, sizeof META_B);
        group_free(&f.g);
        if (!failed)
            break;
    }
    assert_int_equal(failures, 2);                    /* one copy per member */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_group_is_empty_generation_0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_join_completes_round_at_once_without_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_member_triggers_rebalance_until_all_rejoin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_delay_waits_for_the_deadline, setup_delay, teardown),
        cmocka_unit_test_setup_teardown(test_member_id_required_two_step_join, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_member_id_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_member_id_expires_after_session_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_timeout_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inconsistent_protocols_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_chosen_by_votes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_max_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejoin_with_same_protocols_when_settled_answers_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejoin_in_completing_rebalance_resends_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_follower_waits_for_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebalance_during_completing_drops_waiting_syncs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_by_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leader_leaves_follower_takes_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_member_leaves_group_becomes_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expiry_removes_silent_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_members_are_not_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_waiting_in_join_outlives_its_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebalance_timeout_removes_members_that_did_not_rejoin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forced_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_member_rejoin_with_its_id_keeps_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_member_restart_replaces_old_id_without_rebalance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_member_not_removed_at_round_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_rules, setup, teardown),
        cmocka_unit_test(test_unknown_state_value_is_named_dead),
        cmocka_unit_test_setup_teardown(test_follower_rejoin_with_more_protocols_rebalances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejoin_in_completing_rebalance_with_new_metadata_rebalances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_delay_is_capped_by_rebalance_timeout, setup_delay, teardown),
        cmocka_unit_test_setup_teardown(test_v0_join_uses_session_timeout_as_rebalance_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_not_supported_by_all_is_never_chosen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_size_checked_again_on_second_join_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_of_pending_member_id_forgets_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_member_restart_during_rebalance_joins_the_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zombie_static_member_is_fenced_from_sync_and_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_group_refuses_every_request, setup, teardown),
        cmocka_unit_test(test_init_out_of_memory_is_unknown_server_error),
        cmocka_unit_test(test_first_join_out_of_memory_dynamic),
        cmocka_unit_test(test_first_join_out_of_memory_static),
        cmocka_unit_test(test_two_step_join_out_of_memory),
        cmocka_unit_test(test_rejoin_with_new_metadata_out_of_memory_keeps_member),
        cmocka_unit_test(test_static_restart_out_of_memory),
        cmocka_unit_test(test_leader_sync_out_of_memory_keeps_round),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
