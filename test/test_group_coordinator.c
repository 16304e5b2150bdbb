/*
 * test/test_group_coordinator.c — unit tests of application/group_coordinator.c: whole
 * rebalances through the use cases as a protocol handler drives them (first call,
 * PENDING with a ticket, retries with that ticket, the final attempt), committed
 * offsets through a cmocka-mocked offset store, describe/list/delete, and the offsets
 * of a deleted topic (live and on replay).
 * Layer: test. May touch: application/group_coordinator.h, test/mocks, cmocka.
 *
 * The clock is injected: a fake whose `self` is the test's own int64_t, so a test moves
 * time by assignment and every expiry happens exactly when the test says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "application/group_coordinator.h"
#include "domain/topic.h"
#include "test/mocks/alloc_fail.h"
#include "test/mocks/mock_offset_store.h"

/* ---- fixtures ------------------------------------------------------------------ */

typedef struct fixture {
    coord_t c;
    int64_t now;
    uint64_t counter;
    mock_offset_store_t store;
} fixture_t;

static int64_t fake_now_ms(void *self) { return *(int64_t *)self; }

static uint64_t counter_next64(void *self)
{
    uint64_t *n = self;
    return ++*n;
}

static fixture_t *fixture_new(int32_t initial_delay_ms, const kl_offset_record_t *recs,
                              size_t nrecs)
{
    fixture_t *f = test_calloc(1, sizeof *f);
    f->now = 1000000;
    f->store.records = recs;
    f->store.count = nrecs;
    coord_config_t cfg = coord_config_default();
    cfg.group.initial_rebalance_delay_ms = initial_delay_ms;
    kl_clock_t clock = { .self = &f->now, .now_ms = fake_now_ms };
    group_id_source_t ids = { .self = &f->counter, .next64 = counter_next64 };
    will_return(mock_offset_store_load_all, KL_OK);
    assert_int_equal(coord_init(&f->c, &cfg, clock, mock_offset_store(&f->store), ids), KL_OK);
    return f;
}

static int setup(void **state)
{
    *state = fixture_new(0, NULL, 0);
    return 0;
}

static int setup_delay(void **state)
{
    *state = fixture_new(3000, NULL, 0);
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    coord_close(&f->c);
    test_free(f);
    return 0;
}

/* Each client's subscription metadata is its own name, so the leader's list shows
 * whose metadata is whose. */
static coord_join_args_t join_args(const char *member_id, const char *client,
                                   group_protocol_t *proto)
{
    proto->name = "range";
    proto->metadata = (uint8_t *)client;
    proto->metadata_len = strlen(client);
    coord_join_args_t a = {
        .group_id = "g1", .member_id = member_id, .group_instance_id = NULL,
        .client_id = client, .client_host = "/127.0.0.1", .session_timeout_ms = 10000,
        .rebalance_timeout_ms = 30000, .protocol_type = "consumer", .protocols = proto,
        .protocol_count = 1, .require_known_member_id = false,
    };
    return a;
}

static coord_outcome_t cjoin(fixture_t *f, const char *member_id, const char *client,
                             int64_t ticket, bool final_attempt, coord_join_result_t *r)
{
    group_protocol_t p;
    coord_join_args_t a = join_args(member_id, client, &p);
    return coord_join(&f->c, &a, ticket, final_attempt, r);
}

static coord_outcome_t csync(fixture_t *f, const char *member_id, int32_t generation,
                             const group_assignment_t *as, int32_t n, int64_t ticket,
                             bool final_attempt, coord_sync_result_t *r)
{
    coord_sync_args_t a = {
        .group_id = "g1", .member_id = member_id, .generation_id = generation,
        .assignments = as, .assignment_count = n,
    };
    return coord_sync(&f->c, &a, ticket, final_attempt, r);
}

/* A and B in CompletingRebalance (generation 2), nobody synced yet. */
static void make_completing_pair(fixture_t *f, char *a, char *b)
{
    coord_join_result_t ra, rb;
    assert_int_equal(cjoin(f, "", "ca", 0, false, &ra), COORD_DONE);
    strcpy(a, ra.member_id);
    coord_join_result_free(&ra);
    assert_int_equal(cjoin(f, "", "cb", 0, false, &rb), COORD_PENDING);
    int64_t tb = rb.ticket;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &ra), COORD_DONE);
    coord_join_result_free(&ra);
    assert_int_equal(cjoin(f, "", "cb", tb, false, &rb), COORD_DONE);
    strcpy(b, rb.member_id);
    coord_join_result_free(&rb);
}

/* A and B settled: Stable in generation 2, A the leader; ids copied out. */
static void make_stable_pair(fixture_t *f, char *a, char *b)
{
    make_completing_pair(f, a, b);
    coord_sync_result_t s;
    group_assignment_t as[2] = {
        { .member_id = a, .assignment = (const uint8_t *)"P0", .assignment_len = 2 },
        { .member_id = b, .assignment = (const uint8_t *)"P1", .assignment_len = 2 },
    };
    assert_int_equal(csync(f, a, 2, as, 2, 0, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_OK);
    coord_sync_result_free(&s);
    assert_int_equal(csync(f, b, 2, NULL, 0, 0, false, &s), COORD_DONE);
    assert_memory_equal(s.assignment, "P1", 2);
    coord_sync_result_free(&s);
}

static const char *describe_state(fixture_t *f)
{
    coord_describe_result_t d;
    coord_describe(&f->c, "g1", &d);
    const char *state = d.state;               /* a static string: outlives d */
    coord_describe_result_free(&d);
    return state;
}

/* ---- rebalances --------------------------------------------------------------------- */

static void test_two_member_rebalance_with_initial_delay(void **state)
{
    fixture_t *f = *state;
    coord_join_result_t ra, rb;
    /* A joins: the initial delay keeps the round open for 3 s */
    assert_int_equal(cjoin(f, "", "ca", 0, false, &ra), COORD_PENDING);
    assert_true(ra.ticket > 0);
    assert_int_equal(ra.wait_ms, 3000);
    int64_t ta = ra.ticket;
    f->now += 1000;
    assert_int_equal(cjoin(f, "", "cb", 0, false, &rb), COORD_PENDING);
    int64_t tb = rb.ticket;
    assert_true(tb != ta);
    assert_int_equal(rb.wait_ms, 3000);                  /* B extended the round */
    /* a retry before the deadline: still pending, the same ticket */
    assert_int_equal(cjoin(f, "", "ca", ta, false, &ra), COORD_PENDING);
    assert_int_equal(ra.ticket, ta);
    assert_int_equal(ra.wait_ms, 3000);
    f->now += 3000;
    /* the retry at the deadline: the round ends with both */
    assert_int_equal(cjoin(f, "", "ca", ta, false, &ra), COORD_DONE);
    assert_int_equal(ra.error, KL_OK);
    assert_int_equal(ra.generation_id, 1);
    assert_string_equal(ra.protocol_type, "consumer");
    assert_string_equal(ra.protocol_name, "range");
    assert_string_equal(ra.leader_id, ra.member_id);     /* A joined first: leader */
    assert_memory_equal(ra.member_id, "ca-", 3);         /* v0-3: id learnt on retry */
    assert_int_equal(ra.member_count, 2);
    assert_memory_equal(ra.members[0].metadata, "ca", 2);
    assert_memory_equal(ra.members[1].metadata, "cb", 2);
    assert_int_equal(cjoin(f, "", "cb", tb, false, &rb), COORD_DONE);
    assert_int_equal(rb.generation_id, 1);
    assert_string_equal(rb.leader_id, ra.member_id);
    assert_string_equal(rb.members == NULL ? "none" : "some", "none");  /* follower */
    assert_string_equal(rb.member_id, ra.members[1].member_id);
    /* SyncGroup: B first (waits), then the leader's assignment frees it */
    coord_sync_result_t sa, sb;
    assert_int_equal(csync(f, rb.member_id, 1, NULL, 0, 0, false, &sb), COORD_PENDING);
    int64_t tsb = sb.ticket;
    assert_int_equal(sb.wait_ms, 30000);
    assert_string_equal(describe_state(f), "CompletingRebalance");
    group_assignment_t as[2] = {
        { .member_id = ra.member_id, .assignment = (const uint8_t *)"A-parts", .assignment_len = 7 },
        { .member_id = rb.member_id, .assignment = (const uint8_t *)"B-parts", .assignment_len = 7 },
    };
    assert_int_equal(csync(f, ra.member_id, 1, as, 2, 0, false, &sa), COORD_DONE);
    assert_int_equal(sa.error, KL_OK);
    assert_int_equal(sa.assignment_len, 7);
    assert_memory_equal(sa.assignment, "A-parts", 7);
    assert_int_equal(csync(f, rb.member_id, 1, NULL, 0, tsb, false, &sb), COORD_DONE);
    assert_int_equal(sb.error, KL_OK);
    assert_memory_equal(sb.assignment, "B-parts", 7);
    assert_string_equal(sb.protocol_name, "range");
    assert_string_equal(describe_state(f), "Stable");
    assert_int_equal(coord_heartbeat(&f->c, "g1", rb.member_id, NULL, 1), KL_OK);
    coord_sync_result_free(&sa);
    coord_sync_result_free(&sb);
    coord_join_result_free(&ra);
    coord_join_result_free(&rb);
}

static void test_second_member_joins_stable_group(void **state)
{
    fixture_t *f = *state;
    coord_join_result_t ra, rb;
    assert_int_equal(cjoin(f, "", "ca", 0, false, &ra), COORD_DONE);   /* alone: at once */
    assert_int_equal(ra.generation_id, 1);
    assert_int_equal(ra.member_count, 1);
    char a[128];
    strcpy(a, ra.member_id);
    coord_join_result_free(&ra);
    coord_sync_result_t s;
    assert_int_equal(csync(f, a, 1, NULL, 0, 0, false, &s), COORD_DONE);
    coord_sync_result_free(&s);
    assert_int_equal(cjoin(f, "", "cb", 0, false, &rb), COORD_PENDING);
    assert_int_equal(rb.wait_ms, 30000);                   /* the rebalance timeout */
    /* A learns of the rebalance from its heartbeat, and rejoins: both complete */
    assert_int_equal(coord_heartbeat(&f->c, "g1", a, NULL, 1), KL_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(cjoin(f, a, "ca", 0, false, &ra), COORD_DONE);
    assert_int_equal(ra.generation_id, 2);
    assert_int_equal(ra.member_count, 2);
    assert_int_equal(cjoin(f, "", "cb", rb.ticket, false, &rb), COORD_DONE);
    assert_int_equal(rb.error, KL_OK);
    assert_int_equal(rb.generation_id, 2);
    assert_string_equal(rb.leader_id, a);
    coord_join_result_free(&ra);
    coord_join_result_free(&rb);
}

static void test_member_leaves_survivor_rebalances(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    assert_int_equal(coord_leave(&f->c, "g1", b, NULL), KL_OK);
    assert_string_equal(describe_state(f), "PreparingRebalance");
    assert_int_equal(coord_heartbeat(&f->c, "g1", a, NULL, 2), KL_ERR_REBALANCE_IN_PROGRESS);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_DONE);
    assert_int_equal(r.generation_id, 3);
    assert_int_equal(r.member_count, 1);
    coord_join_result_free(&r);
    assert_int_equal(coord_leave(&f->c, "g1", b, NULL), KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(coord_leave(&f->c, "nope", b, NULL), KL_ERR_UNKNOWN_MEMBER_ID);
}

static void test_killed_member_expires_survivor_gets_everything(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    /* B dies; A keeps heartbeating */
    for (int i = 0; i < 3; i++) {
        f->now += 3000;
        assert_int_equal(coord_heartbeat(&f->c, "g1", a, NULL, 2), KL_OK);
        assert_int_equal(coord_tick(&f->c), 0);
    }
    f->now += 1000;                                        /* 10 s since B's last word */
    assert_int_equal(coord_tick(&f->c), 1);
    assert_int_equal(coord_heartbeat(&f->c, "g1", b, NULL, 2), KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(coord_heartbeat(&f->c, "g1", a, NULL, 2), KL_ERR_REBALANCE_IN_PROGRESS);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_DONE);
    assert_int_equal(r.generation_id, 3);
    assert_int_equal(r.member_count, 1);
    assert_string_equal(r.members[0].member_id, a);
    coord_join_result_free(&r);
    coord_sync_result_t s;
    group_assignment_t as[1] = { { .member_id = a, .assignment = (const uint8_t *)"ALL", .assignment_len = 3 } };
    assert_int_equal(csync(f, a, 3, as, 1, 0, false, &s), COORD_DONE);
    assert_memory_equal(s.assignment, "ALL", 3);
    coord_sync_result_free(&s);
}

static void test_final_attempt_ends_round_without_laggard(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_PENDING);   /* leader rejoins */
    int64_t t = r.ticket;
    assert_int_equal(r.wait_ms, 30000);
    f->now += 29990;              /* the server's monotonic deadline came a bit early */
    assert_int_equal(cjoin(f, a, "ca", t, true, &r), COORD_DONE);
    assert_int_equal(r.error, KL_OK);
    assert_int_equal(r.generation_id, 3);
    assert_int_equal(r.member_count, 1);                  /* B did not rejoin: removed */
    coord_join_result_free(&r);
    assert_int_equal(coord_heartbeat(&f->c, "g1", b, NULL, 2), KL_ERR_UNKNOWN_MEMBER_ID);
}

static void test_retry_after_deadline_ends_round(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_PENDING);
    int64_t t = r.ticket;
    f->now += 30000;
    assert_int_equal(cjoin(f, a, "ca", t, false, &r), COORD_DONE);
    assert_int_equal(r.generation_id, 3);
    coord_join_result_free(&r);
}

static void test_tick_answers_parked_join_at_deadline(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_PENDING);
    int64_t t = r.ticket;
    f->now += 30000;
    coord_tick(&f->c);            /* the timer ends the round; B was removed */
    f->now += 5;
    assert_int_equal(cjoin(f, a, "ca", t, false, &r), COORD_DONE);
    assert_int_equal(r.generation_id, 3);
    assert_int_equal(r.member_count, 1);
    coord_join_result_free(&r);
}

static void test_parked_join_of_member_that_left(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_PENDING);   /* leader rejoins */
    int64_t t = r.ticket;
    assert_int_equal(coord_leave(&f->c, "g1", a, NULL), KL_OK);        /* ...and leaves */
    assert_int_equal(cjoin(f, a, "ca", t, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(r.generation_id, -1);
    assert_string_equal(r.member_id, a);
    coord_join_result_free(&r);
}

static void test_unknown_tickets(void **state)
{
    fixture_t *f = *state;
    coord_join_result_t r;
    assert_int_equal(cjoin(f, "", "ca", 4242, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_UNKNOWN_MEMBER_ID);
    coord_join_result_free(&r);
    coord_sync_result_t s;
    assert_int_equal(csync(f, "x", 1, NULL, 0, 4242, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_ERR_REBALANCE_IN_PROGRESS);
    coord_sync_result_free(&s);
}

static void test_member_id_required(void **state)
{
    fixture_t *f = *state;
    group_protocol_t p;
    coord_join_args_t a = join_args("", "kafkajs", &p);
    a.require_known_member_id = true;
    coord_join_result_t r;
    assert_int_equal(coord_join(&f->c, &a, 0, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_MEMBER_ID_REQUIRED);
    assert_int_equal(r.generation_id, -1);
    assert_memory_equal(r.member_id, "kafkajs-", 8);
    char id[128];
    strcpy(id, r.member_id);
    coord_join_result_free(&r);
    assert_string_equal(describe_state(f), "Empty");
    a.member_id = id;
    assert_int_equal(coord_join(&f->c, &a, 0, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_OK);
    assert_string_equal(r.member_id, id);
    assert_int_equal(r.generation_id, 1);
    coord_join_result_free(&r);
}

static void test_join_errors(void **state)
{
    fixture_t *f = *state;
    group_protocol_t p;
    coord_join_args_t a = join_args("", "c", &p);
    coord_join_result_t r;
    a.session_timeout_ms = 1000;
    assert_int_equal(coord_join(&f->c, &a, 0, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_INVALID_SESSION_TIMEOUT);
    coord_join_result_free(&r);
    a = join_args("", "c", &p);
    a.group_id = "";
    coord_join(&f->c, &a, 0, false, &r);
    assert_int_equal(r.error, KL_ERR_INVALID_GROUP_ID);
    coord_join_result_free(&r);
    a = join_args("ghost", "c", &p);                     /* a member of no group */
    coord_join(&f->c, &a, 0, false, &r);
    assert_int_equal(r.error, KL_ERR_UNKNOWN_MEMBER_ID);
    coord_join_result_free(&r);
    /* refused joins leave no group behind */
    coord_describe_result_t d;
    assert_int_equal(coord_describe(&f->c, "g1", &d), KL_OK);
    assert_string_equal(d.state, "Dead");
    coord_describe_result_free(&d);
}

static void test_static_member(void **state)
{
    fixture_t *f = *state;
    group_protocol_t p;
    coord_join_args_t a = join_args("", "cs", &p);
    a.group_instance_id = "host-1";
    a.require_known_member_id = true;
    coord_join_result_t r;
    assert_int_equal(coord_join(&f->c, &a, 0, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_OK);                   /* no MEMBER_ID_REQUIRED for static */
    char id[128];
    strcpy(id, r.member_id);
    coord_join_result_free(&r);
    coord_sync_result_t s;
    group_assignment_t as[1] = { { .member_id = id, .assignment = (const uint8_t *)"P", .assignment_len = 1 } };
    coord_sync_args_t sa = { .group_id = "g1", .member_id = id, .group_instance_id = "host-1",
                             .generation_id = 1, .assignments = as, .assignment_count = 1 };
    assert_int_equal(coord_sync(&f->c, &sa, 0, false, &s), COORD_DONE);
    coord_sync_result_free(&s);
    /* rejoin with its member id: keeps it, same generation (a follower-like rejoin of
     * the leader rebalances, but alone it completes at once) */
    a.member_id = id;
    assert_int_equal(coord_join(&f->c, &a, 0, false, &r), COORD_DONE);
    assert_string_equal(r.member_id, id);
    coord_join_result_free(&r);
    /* restart without the id: a new id, the old one is fenced */
    a.member_id = "";
    assert_int_equal(coord_join(&f->c, &a, 0, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_OK);
    assert_string_not_equal(r.member_id, id);
    assert_int_equal(coord_heartbeat(&f->c, "g1", id, "host-1", r.generation_id),
                     KL_ERR_FENCED_INSTANCE_ID);
    coord_join_result_free(&r);
}

static void test_sync_final_attempt_gives_up(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_completing_pair(f, a, b);
    coord_sync_result_t s;
    assert_int_equal(csync(f, b, 2, NULL, 0, 0, false, &s), COORD_PENDING);
    int64_t ts = s.ticket;
    f->now += 30000;                                      /* the leader never syncs */
    assert_int_equal(csync(f, b, 2, NULL, 0, ts, true, &s), COORD_DONE);
    assert_int_equal(s.error, KL_ERR_REBALANCE_IN_PROGRESS);
    coord_sync_result_free(&s);
}

static void test_parked_sync_answered_by_new_rebalance(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_completing_pair(f, a, b);
    coord_sync_result_t s;
    assert_int_equal(csync(f, b, 2, NULL, 0, 0, false, &s), COORD_PENDING);
    int64_t ts = s.ticket;
    coord_join_result_t rc;
    assert_int_equal(cjoin(f, "", "cc", 0, false, &rc), COORD_PENDING);   /* C arrives */
    assert_int_equal(csync(f, b, 2, NULL, 0, ts, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_ERR_REBALANCE_IN_PROGRESS);
    coord_sync_result_free(&s);
}

/* The answer is fixed when the leader syncs: a round that starts before the follower's
 * retry must not turn its assignment into REBALANCE_IN_PROGRESS. */
static void test_parked_sync_keeps_answer_given_at_leader_sync(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_completing_pair(f, a, b);
    coord_sync_result_t s;
    assert_int_equal(csync(f, b, 2, NULL, 0, 0, false, &s), COORD_PENDING);
    int64_t ts = s.ticket;
    group_assignment_t as[1] = { { .member_id = b, .assignment = (const uint8_t *)"PB", .assignment_len = 2 } };
    assert_int_equal(csync(f, a, 2, as, 1, 0, false, &s), COORD_DONE);
    coord_sync_result_free(&s);
    coord_join_result_t rc;
    assert_int_equal(cjoin(f, "", "cc", 0, false, &rc), COORD_PENDING);   /* C arrives */
    assert_int_equal(csync(f, b, 2, NULL, 0, ts, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_OK);
    assert_memory_equal(s.assignment, "PB", 2);
    coord_sync_result_free(&s);
}

static void test_abandoned_ticket_is_dropped_after_grace(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_PENDING);
    int64_t t = r.ticket;
    f->now += 30000 + 60001;          /* deadline + grace: the connection is long gone */
    coord_tick(&f->c);
    assert_int_equal(cjoin(f, a, "ca", t, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_UNKNOWN_MEMBER_ID);
    coord_join_result_free(&r);
}

/* ---- offsets ----------------------------------------------------------------------- */

static void expect_commit(const char *group, const char *topic, int32_t partition,
                          int64_t offset, kl_err_t result)
{
    expect_string(mock_offset_store_commit, group_id, group);
    expect_value(mock_offset_store_commit, count, 1);
    expect_string(mock_offset_store_commit, topic, topic);
    expect_value(mock_offset_store_commit, partition, partition);
    expect_value(mock_offset_store_commit, offset, offset);
    will_return(mock_offset_store_commit, result);
}

static void test_simple_commit_and_fetch(void **state)
{
    fixture_t *f = *state;
    kl_offset_commit_t oc = { .topic = "t", .partition = 0, .offset = 42, .metadata = "m" };
    expect_commit("solo", "t", 0, 42, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "solo", -1, "", NULL, &oc, 1), KL_OK);
    coord_offset_t o;
    assert_int_equal(coord_fetch_offset(&f->c, "solo", "t", 0, &o), KL_OK);
    assert_int_equal(o.offset, 42);
    assert_string_equal(o.metadata, "m");
    assert_int_equal(o.commit_timestamp_ms, f->now);
    assert_int_equal(coord_fetch_offset(&f->c, "solo", "t", 1, &o), KL_OK);
    assert_int_equal(o.offset, -1);                       /* never committed */
    assert_int_equal(coord_fetch_offset(&f->c, "other", "t", 0, &o), KL_OK);
    assert_int_equal(o.offset, -1);                       /* no such group */
    oc.offset = 50;
    expect_commit("solo", "t", 0, 50, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "solo", -1, "", NULL, &oc, 1), KL_OK);
    coord_fetch_offset(&f->c, "solo", "t", 0, &o);
    assert_int_equal(o.offset, 50);
}

static void test_commit_store_failure_is_not_remembered(void **state)
{
    fixture_t *f = *state;
    kl_offset_commit_t oc = { .topic = "t", .partition = 0, .offset = 7, .metadata = "" };
    expect_commit("solo", "t", 0, 7, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(coord_commit_offsets(&f->c, "solo", -1, "", NULL, &oc, 1),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    coord_offset_t o;
    coord_fetch_offset(&f->c, "solo", "t", 0, &o);
    assert_int_equal(o.offset, -1);
}

static void test_member_commit_rules(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    kl_offset_commit_t oc = { .topic = "t", .partition = 1, .offset = 9, .metadata = NULL };
    /* no group, a generation: from an old generation — refused, nothing stored */
    assert_int_equal(coord_commit_offsets(&f->c, "g1", 3, "m", NULL, &oc, 1),
                     KL_ERR_ILLEGAL_GENERATION);
    make_stable_pair(f, a, b);
    expect_commit("g1", "t", 1, 9, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "g1", 2, b, NULL, &oc, 1), KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "g1", 1, b, NULL, &oc, 1),
                     KL_ERR_ILLEGAL_GENERATION);
    assert_int_equal(coord_commit_offsets(&f->c, "g1", 2, "who", NULL, &oc, 1),
                     KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(coord_commit_offsets(&f->c, "g1", -1, "", NULL, &oc, 1),
                     KL_ERR_UNKNOWN_MEMBER_ID);          /* simple commit, active group */
    /* A (leader) rejoins, then B: CompletingRebalance refuses commits */
    coord_join_result_t r;
    cjoin(f, a, "ca", 0, false, &r);
    int64_t ta = r.ticket;
    expect_commit("g1", "t", 1, 9, KL_OK);              /* PreparingRebalance: allowed */
    assert_int_equal(coord_commit_offsets(&f->c, "g1", 2, b, NULL, &oc, 1), KL_OK);
    cjoin(f, b, "cb", 0, false, &r);
    coord_join_result_free(&r);
    cjoin(f, a, "ca", ta, false, &r);
    coord_join_result_free(&r);
    assert_string_equal(describe_state(f), "CompletingRebalance");
    assert_int_equal(coord_commit_offsets(&f->c, "g1", 3, b, NULL, &oc, 1),
                     KL_ERR_REBALANCE_IN_PROGRESS);
}

static kl_err_t collect(void *arg, const char *topic, int32_t partition,
                        const coord_offset_t *off)
{
    char *buf = arg;
    char line[64];
    int n = 0;
    line[n++] = topic[0];
    line[n++] = (char)('0' + partition);
    line[n++] = '=';
    line[n++] = (char)('0' + off->offset);
    line[n++] = ';';
    line[n] = '\0';
    strcat(buf, line);
    return KL_OK;
}

static void test_load_all_replays_commits_and_tombstones(void **state)
{
    (void)state;
    kl_offset_record_t recs[] = {
        { .group_id = "ga", .commit = { "t", 0, 1, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "ga", .commit = { "t", 1, 2, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "gone", .commit = { "t", 0, 3, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "ga", .commit = { "t", 0, 4, "x" }, .commit_timestamp_ms = 6 },
        { .group_id = "gone", .group_deleted = true },
    };
    fixture_t *f = fixture_new(0, recs, 5);
    coord_offset_t o;
    coord_fetch_offset(&f->c, "ga", "t", 0, &o);
    assert_int_equal(o.offset, 4);                        /* the later commit wins */
    assert_string_equal(o.metadata, "x");
    assert_int_equal(o.commit_timestamp_ms, 6);
    coord_fetch_offset(&f->c, "gone", "t", 0, &o);
    assert_int_equal(o.offset, -1);
    char buf[128] = "";
    assert_int_equal(coord_fetch_all_offsets(&f->c, "ga", collect, buf), KL_OK);
    assert_string_equal(buf, "t0=4;t1=2;");
    coord_describe_result_t d;
    coord_describe(&f->c, "ga", &d);
    assert_string_equal(d.state, "Empty");                /* a group known by its offsets */
    coord_describe_result_free(&d);
    coord_close(&f->c);
    test_free(f);
}

static void test_load_all_failure_fails_init(void **state)
{
    (void)state;
    coord_t c;
    int64_t now = 0;
    kl_clock_t clock = { .self = &now, .now_ms = fake_now_ms };
    group_id_source_t ids = { 0 };                        /* built-in id source */
    coord_config_t cfg = coord_config_default();
    will_return(mock_offset_store_load_all, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(coord_init(&c, &cfg, clock, mock_offset_store(NULL), ids),
                     KL_ERR_KAFKA_STORAGE_ERROR);
}

/* ---- describe, list, delete ------------------------------------------------------------ */

static void test_describe_by_state(void **state)
{
    fixture_t *f = *state;
    coord_describe_result_t d;
    assert_int_equal(coord_describe(&f->c, "g1", &d), KL_OK);
    assert_string_equal(d.state, "Dead");
    assert_string_equal(d.protocol_type, "");
    assert_int_equal(d.member_count, 0);
    coord_describe_result_free(&d);
    char a[128], b[128];
    make_stable_pair(f, a, b);
    coord_describe(&f->c, "g1", &d);
    assert_string_equal(d.state, "Stable");
    assert_string_equal(d.protocol_type, "consumer");
    assert_string_equal(d.protocol_name, "range");
    assert_int_equal(d.member_count, 2);
    assert_string_equal(d.members[1].member_id, b);
    assert_string_equal(d.members[1].client_id, "cb");
    assert_string_equal(d.members[1].client_host, "/127.0.0.1");
    assert_memory_equal(d.members[1].metadata, "cb", 2);
    assert_memory_equal(d.members[1].assignment, "P1", 2);
    coord_describe_result_free(&d);
    coord_leave(&f->c, "g1", b, NULL);
    coord_describe(&f->c, "g1", &d);
    assert_string_equal(d.state, "PreparingRebalance");
    assert_string_equal(d.protocol_name, "");             /* shown only when Stable */
    assert_int_equal(d.member_count, 1);
    assert_null(d.members[0].metadata);
    coord_describe_result_free(&d);
}

static void list_visit(void *arg, const char *group_id, const char *protocol_type,
                       const char *state)
{
    char *buf = arg;
    strcat(buf, group_id);
    strcat(buf, ":");
    strcat(buf, protocol_type);
    strcat(buf, ":");
    strcat(buf, state);
    strcat(buf, ";");
}

static void test_list_groups(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    kl_offset_commit_t oc = { .topic = "t", .partition = 0, .offset = 1, .metadata = "" };
    expect_commit("solo", "t", 0, 1, KL_OK);
    coord_commit_offsets(&f->c, "solo", -1, "", NULL, &oc, 1);
    char buf[256] = "";
    coord_list(&f->c, list_visit, buf);
    assert_string_equal(buf, "g1:consumer:Stable;solo::Empty;");
}

static void test_delete_groups(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(coord_delete(&f->c, "g1"), KL_ERR_GROUP_ID_NOT_FOUND);
    char a[128], b[128];
    make_stable_pair(f, a, b);
    assert_int_equal(coord_delete(&f->c, "g1"), KL_ERR_NON_EMPTY_GROUP);
    kl_offset_commit_t oc = { .topic = "t", .partition = 0, .offset = 1, .metadata = "" };
    expect_commit("g1", "t", 0, 1, KL_OK);
    coord_commit_offsets(&f->c, "g1", 2, a, NULL, &oc, 1);
    coord_leave(&f->c, "g1", a, NULL);
    coord_leave(&f->c, "g1", b, NULL);
    assert_string_equal(describe_state(f), "Empty");
    /* the store refuses: the group and its offsets stay */
    expect_string(mock_offset_store_delete_group, group_id, "g1");
    will_return(mock_offset_store_delete_group, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(coord_delete(&f->c, "g1"), KL_ERR_KAFKA_STORAGE_ERROR);
    coord_offset_t o;
    coord_fetch_offset(&f->c, "g1", "t", 0, &o);
    assert_int_equal(o.offset, 1);
    expect_string(mock_offset_store_delete_group, group_id, "g1");
    will_return(mock_offset_store_delete_group, KL_OK);
    assert_int_equal(coord_delete(&f->c, "g1"), KL_OK);
    assert_string_equal(describe_state(f), "Dead");
    coord_fetch_offset(&f->c, "g1", "t", 0, &o);
    assert_int_equal(o.offset, -1);
    assert_int_equal(coord_delete(&f->c, "g1"), KL_ERR_GROUP_ID_NOT_FOUND);
}

/* ---- DeleteTopics: the offsets of a deleted topic ------------------------------------------ */

static int64_t offset_of(fixture_t *f, const char *group, const char *topic, int32_t p)
{
    coord_offset_t o;
    assert_int_equal(coord_fetch_offset(&f->c, group, topic, p, &o), KL_OK);
    return o.offset;
}

/* One durable record, then every group forgets the topic; other topics stay; a group
 * left Empty without offsets goes (Kafka: Dead), one with members stays. */
static void test_delete_topic_offsets(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);                          /* g1: Stable, two members */
    kl_offset_commit_t t0 = { .topic = "t", .partition = 0, .offset = 4, .metadata = "" };
    kl_offset_commit_t u0 = { .topic = "u", .partition = 0, .offset = 7, .metadata = "" };
    expect_commit("g1", "t", 0, 4, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "g1", 2, a, NULL, &t0, 1), KL_OK);
    expect_commit("only-t", "t", 0, 4, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "only-t", -1, "", NULL, &t0, 1), KL_OK);
    expect_commit("mixed", "t", 0, 4, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "mixed", -1, "", NULL, &t0, 1), KL_OK);
    expect_commit("mixed", "u", 0, 7, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "mixed", -1, "", NULL, &u0, 1), KL_OK);

    expect_string(mock_offset_store_delete_topic, topic, "t");
    will_return(mock_offset_store_delete_topic, KL_OK);
    assert_int_equal(coord_delete_topic_offsets(&f->c, "t"), KL_OK);
    assert_int_equal(offset_of(f, "g1", "t", 0), -1);
    assert_int_equal(offset_of(f, "mixed", "t", 0), -1);
    assert_int_equal(offset_of(f, "mixed", "u", 0), 7);
    char buf[256] = "";
    coord_list(&f->c, list_visit, buf);                 /* only-t is gone */
    assert_string_equal(buf, "g1:consumer:Stable;mixed::Empty;");

    /* nothing of "t" left: no store call at all (the mock would fail on one) */
    assert_int_equal(coord_delete_topic_offsets(&f->c, "t"), KL_OK);
    assert_int_equal(coord_delete_topic_offsets(&f->c, "never"), KL_OK);
}

/* The store fails: its error is returned, and the offsets are not served any more. */
static void test_delete_topic_offsets_store_failure(void **state)
{
    fixture_t *f = *state;
    kl_offset_commit_t t0 = { .topic = "t", .partition = 0, .offset = 4, .metadata = "" };
    expect_commit("g", "t", 0, 4, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "g", -1, "", NULL, &t0, 1), KL_OK);
    expect_string(mock_offset_store_delete_topic, topic, "t");
    will_return(mock_offset_store_delete_topic, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(coord_delete_topic_offsets(&f->c, "t"), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(offset_of(f, "g", "t", 0), -1);
}

/* Replay: a topic tombstone cancels the commits of that topic before it, in every group
 * (a group left with none is not there), not those after it. */
static void test_load_all_replays_topic_tombstones(void **state)
{
    (void)state;
    kl_offset_record_t recs[] = {
        { .group_id = "ga", .commit = { "t", 0, 1, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "ga", .commit = { "u", 0, 2, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "gt", .commit = { "t", 1, 3, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "", .topic_deleted = true, .commit = { "t", 0, 0, NULL } },
        { .group_id = "gb", .commit = { "t", 0, 8, "" }, .commit_timestamp_ms = 6 },
    };
    fixture_t *f = fixture_new(0, recs, 5);
    assert_int_equal(offset_of(f, "ga", "t", 0), -1);
    assert_int_equal(offset_of(f, "ga", "u", 0), 2);
    assert_int_equal(offset_of(f, "gt", "t", 1), -1);
    assert_int_equal(offset_of(f, "gb", "t", 0), 8);    /* committed after: counts */
    char buf[256] = "";
    coord_list(&f->c, list_visit, buf);
    assert_string_equal(buf, "ga::Empty;gb::Empty;");
    coord_close(&f->c);
    test_free(f);
}

static void test_invalid_group_ids(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(coord_heartbeat(&f->c, "", "m", NULL, 1), KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(coord_leave(&f->c, "", "m", NULL), KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(coord_heartbeat(&f->c, "g1", "m", NULL, 1), KL_ERR_UNKNOWN_MEMBER_ID);
    coord_offset_t o;
    assert_int_equal(coord_fetch_offset(&f->c, NULL, "t", 0, &o), KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(coord_delete(&f->c, NULL), KL_ERR_INVALID_GROUP_ID);
}

/* ---- more rules: id source, cookies, abandoned syncs, bad names ----------------------- */

/* Without an injected source the coordinator draws KIP-394 ids itself:
 * "<client_id>-" + a UUID-shaped 36 characters, a new one every time. */
static void test_builtin_id_source_gives_distinct_uuid_shaped_ids(void **state)
{
    (void)state;
    coord_t c;
    int64_t now = 1234;
    kl_clock_t clock = { .self = &now, .now_ms = fake_now_ms };
    group_id_source_t none = { 0 };
    coord_config_t cfg = coord_config_default();
    will_return(mock_offset_store_load_all, KL_OK);
    assert_int_equal(coord_init(&c, &cfg, clock, mock_offset_store(NULL), none), KL_OK);
    group_protocol_t p;
    coord_join_args_t a = join_args("", "kafkajs", &p);
    a.require_known_member_id = true;
    char first[128];
    coord_join_result_t r;
    assert_int_equal(coord_join(&c, &a, 0, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_MEMBER_ID_REQUIRED);
    assert_int_equal(strlen(r.member_id), strlen("kafkajs-") + 36);
    assert_memory_equal(r.member_id, "kafkajs-", 8);
    const char *u = r.member_id + 8;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", u[i]));
    }
    strcpy(first, r.member_id);
    coord_join_result_free(&r);
    assert_int_equal(coord_join(&c, &a, 0, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_MEMBER_ID_REQUIRED);
    assert_string_not_equal(r.member_id, first);
    coord_join_result_free(&r);
    coord_close(&c);
}

/* A park cookie is only trusted for the request kind and group it was made for: a
 * JoinGroup ticket replayed as a SyncGroup, or for another group, is refused, and the
 * real request can still use it afterwards. */
static void test_ticket_of_other_kind_or_group_is_not_trusted(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_stable_pair(f, a, b);
    coord_join_result_t r;
    assert_int_equal(cjoin(f, a, "ca", 0, false, &r), COORD_PENDING);   /* leader rejoins */
    int64_t t = r.ticket;
    coord_sync_result_t s;
    assert_int_equal(csync(f, a, 2, NULL, 0, t, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_ERR_REBALANCE_IN_PROGRESS);
    coord_sync_result_free(&s);
    group_protocol_t p;
    coord_join_args_t other = join_args(a, "ca", &p);
    other.group_id = "g2";
    assert_int_equal(coord_join(&f->c, &other, t, false, &r), COORD_DONE);
    assert_int_equal(r.error, KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(r.generation_id, -1);
    coord_join_result_free(&r);
    /* the ticket still belongs to g1's JoinGroup */
    assert_int_equal(cjoin(f, a, "ca", t, true, &r), COORD_DONE);
    assert_int_equal(r.error, KL_OK);
    assert_int_equal(r.generation_id, 3);
    coord_join_result_free(&r);
}

/* A follower parked in SyncGroup whose member leaves (e.g. the client closes) is
 * answered UNKNOWN_MEMBER_ID on its retry. */
static void test_parked_sync_of_member_that_left(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_completing_pair(f, a, b);
    coord_sync_result_t s;
    assert_int_equal(csync(f, b, 2, NULL, 0, 0, false, &s), COORD_PENDING);
    int64_t ts = s.ticket;
    assert_int_equal(coord_leave(&f->c, "g1", b, NULL), KL_OK);
    assert_int_equal(csync(f, b, 2, NULL, 0, ts, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_ERR_UNKNOWN_MEMBER_ID);
    assert_null(s.assignment);
    coord_sync_result_free(&s);
}

/* A parked SyncGroup keeps its member alive (Kafka's shouldKeepAlive), but only while
 * someone waits for the answer: once the ticket is dropped after its grace period, the
 * member's session timeout applies again. */
static void test_abandoned_sync_ticket_stops_keeping_member_alive(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    make_completing_pair(f, a, b);
    coord_sync_result_t s;
    assert_int_equal(csync(f, b, 2, NULL, 0, 0, false, &s), COORD_PENDING);
    int64_t ts = s.ticket;
    assert_int_equal(s.wait_ms, 30000);
    /* the leader keeps heartbeating but never syncs; B's connection is gone */
    int64_t start = f->now;
    while (f->now - start <= 30000 + 60000) {
        f->now += 5000;
        assert_int_equal(coord_heartbeat(&f->c, "g1", a, NULL, 2), KL_OK);
        assert_int_equal(coord_tick(&f->c), 0);          /* B waits: never expired */
    }
    /* that last tick dropped the ticket; now B's silence counts */
    f->now += 1;
    assert_int_equal(coord_heartbeat(&f->c, "g1", a, NULL, 2), KL_OK);
    assert_int_equal(coord_tick(&f->c), 1);
    assert_int_equal(coord_heartbeat(&f->c, "g1", b, NULL, 2), KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(csync(f, b, 2, NULL, 0, ts, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_ERR_REBALANCE_IN_PROGRESS);     /* the cookie is unknown */
    coord_sync_result_free(&s);
}

static char long_topic[KL_TOPIC_NAME_MAX + 2];

static const char *too_long_topic_name(void)
{
    memset(long_topic, 'x', sizeof long_topic - 1);
    long_topic[sizeof long_topic - 1] = '\0';              /* one longer than allowed */
    return long_topic;
}

/* No topic name is longer than 249 characters: such a commit cannot be for an existing
 * partition (UNKNOWN_TOPIC_OR_PARTITION) and nothing reaches the store. */
static void test_commit_for_impossible_topic_name_is_refused_before_the_store(void **state)
{
    fixture_t *f = *state;
    kl_offset_commit_t oc[2] = {
        { .topic = "t", .partition = 0, .offset = 1, .metadata = "" },
        { .topic = too_long_topic_name(), .partition = 0, .offset = 2, .metadata = "" },
    };
    assert_int_equal(coord_commit_offsets(&f->c, "solo", -1, "", NULL, oc, 2),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    coord_offset_t o;
    assert_int_equal(coord_fetch_offset(&f->c, "solo", "t", 0, &o), KL_OK);
    assert_int_equal(o.offset, -1);                      /* all or nothing */
    assert_int_equal(coord_fetch_offset(&f->c, "solo", long_topic, 0, &o), KL_OK);
    assert_int_equal(o.offset, -1);
    assert_string_equal(describe_state(f), "Dead");      /* no group was created */
}

/* An offset log holding a record no commit could have written is corrupt: the
 * coordinator refuses to start from it rather than guess. */
static void test_load_of_impossible_topic_name_fails_init(void **state)
{
    (void)state;
    kl_offset_record_t recs[] = {
        { .group_id = "ga", .commit = { "t", 0, 1, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "ga", .commit = { too_long_topic_name(), 0, 2, "" },
          .commit_timestamp_ms = 5 },
    };
    mock_offset_store_t store = { .records = recs, .count = 2 };
    coord_t c;
    int64_t now = 0;
    kl_clock_t clock = { .self = &now, .now_ms = fake_now_ms };
    uint64_t counter = 0;
    group_id_source_t ids = { .self = &counter, .next64 = counter_next64 };
    coord_config_t cfg = coord_config_default();
    will_return(mock_offset_store_load_all, KL_OK);
    assert_int_equal(coord_init(&c, &cfg, clock, mock_offset_store(&store), ids),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_null(c.groups);                               /* what was loaded is freed */
}

static kl_err_t count_then_fail(void *arg, const char *topic, int32_t partition,
                                const coord_offset_t *off)
{
    (void)topic;
    (void)partition;
    (void)off;
    int *visits = arg;
    ++*visits;
    return KL_ERR_UNKNOWN_SERVER_ERROR;
}

/* OffsetFetch of all partitions stops at the first error of its visitor (e.g. the
 * response writer ran out of memory) and reports it. */
static void test_fetch_all_offsets_stops_at_visitor_error(void **state)
{
    fixture_t *f = *state;
    kl_offset_commit_t oc = { .topic = "t", .partition = 0, .offset = 1, .metadata = "" };
    expect_commit("solo", "t", 0, 1, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "solo", -1, "", NULL, &oc, 1), KL_OK);
    oc.partition = 1;
    expect_commit("solo", "t", 1, 1, KL_OK);
    assert_int_equal(coord_commit_offsets(&f->c, "solo", -1, "", NULL, &oc, 1), KL_OK);
    int visits = 0;
    assert_int_equal(coord_fetch_all_offsets(&f->c, "solo", count_then_fail, &visits),
                     KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(visits, 1);
    visits = 0;
    assert_int_equal(coord_fetch_all_offsets(&f->c, "nobody", count_then_fail, &visits),
                     KL_OK);                             /* unknown group: nothing to list */
    assert_int_equal(visits, 0);
}

/* A null group id (a nullable string sent as null) is INVALID_GROUP_ID everywhere. */
static void test_null_group_id_is_invalid(void **state)
{
    fixture_t *f = *state;
    kl_offset_commit_t oc = { .topic = "t", .partition = 0, .offset = 1, .metadata = "" };
    assert_int_equal(coord_commit_offsets(&f->c, NULL, -1, "", NULL, &oc, 1),
                     KL_ERR_INVALID_GROUP_ID);
    int visits = 0;
    assert_int_equal(coord_fetch_all_offsets(&f->c, NULL, count_then_fail, &visits),
                     KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(visits, 0);
    coord_describe_result_t d;
    assert_int_equal(coord_describe(&f->c, NULL, &d), KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(d.error, KL_ERR_INVALID_GROUP_ID);
    assert_string_equal(d.state, "Dead");
    assert_int_equal(d.member_count, 0);
    coord_describe_result_free(&d);
    coord_sync_result_t s;
    coord_sync_args_t sa = { .group_id = NULL, .member_id = "m", .generation_id = 1 };
    assert_int_equal(coord_sync(&f->c, &sa, 0, false, &s), COORD_DONE);
    assert_int_equal(s.error, KL_ERR_INVALID_GROUP_ID);
    coord_sync_result_free(&s);
}

/* ---- out of memory ----------------------------------------------------------------------
 * Each test sweeps n = 0, 1, 2…: a fresh coordinator is brought to the state under test,
 * then the n-th allocation of the call under test fails (test/mocks/alloc_fail.h), until
 * a run needs no more. A refused call answers UNKNOWN_SERVER_ERROR, never a made-up
 * answer; what it leaves behind is usable and freed by coord_close. Leaks show under ASan
 * (LeakSanitizer) or valgrind --soname-synonyms=somalloc=nouserintercepts (plain valgrind
 * skips these). The offset store is a plain fake here: a cmocka expectation queued for a
 * commit that an earlier failure never reaches would fail the test on its own. */

typedef struct fake_store {
    const kl_offset_record_t *records;
    size_t count;
    int commits;
} fake_store_t;

static fake_store_t fake;

static kl_err_t fake_commit(void *self, const char *group_id, const kl_offset_commit_t *cs,
                            size_t count, int64_t ts)
{
    (void)group_id;
    (void)cs;
    (void)count;
    (void)ts;
    ((fake_store_t *)self)->commits++;
    return KL_OK;
}

static kl_err_t fake_load_all(void *self, kl_offset_visit_fn visit, void *arg)
{
    fake_store_t *s = self;
    for (size_t i = 0; i < s->count; i++) {
        kl_err_t err = visit(arg, &s->records[i]);
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

static kl_err_t fake_delete_group(void *self, const char *group_id)
{
    (void)self;
    (void)group_id;
    return KL_OK;
}

static kl_err_t oom_coord_init(fixture_t *f, int32_t initial_delay_ms,
                               const kl_offset_record_t *recs, size_t nrecs)
{
    memset(f, 0, sizeof *f);
    f->now = 1000000;
    fake.records = recs;
    fake.count = nrecs;
    fake.commits = 0;
    coord_config_t cfg = coord_config_default();
    cfg.group.initial_rebalance_delay_ms = initial_delay_ms;
    kl_clock_t clock = { .self = &f->now, .now_ms = fake_now_ms };
    group_id_source_t ids = { .self = &f->counter, .next64 = counter_next64 };
    kl_offset_store_t store = { .self = &fake, .commit = fake_commit,
                                .load_all = fake_load_all,
                                .delete_group = fake_delete_group };
    return coord_init(&f->c, &cfg, clock, store, ids);
}

static void oom_fixture(fixture_t *f, int32_t initial_delay_ms)
{
    assert_int_equal(oom_coord_init(f, initial_delay_ms, NULL, 0), KL_OK);
}

/* The first JoinGroup of a new group, answered at once: every allocation of creating the
 * group, joining, ending the round (its protocol name) and building the leader's answer.
 * Refused, it is UNKNOWN_SERVER_ERROR — also when only the protocol name of the round
 * could not be kept (the answer must not name protocol "" to a leader with no metadata);
 * a refused join leaves no group, or a round the member's retry is answered from. */
static void test_first_join_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    int failures = 0, no_group = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        oom_fixture(&f, 0);
        coord_join_result_t r;
        alloc_fail_arm(n);
        coord_outcome_t oc = cjoin(&f, "", "ca", 0, false, &r);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_int_equal(oc, COORD_DONE);
        if (!failed) {
            assert_int_equal(r.error, KL_OK);
            assert_string_equal(r.protocol_name, "range");
            assert_int_equal(r.member_count, 1);
            coord_join_result_free(&r);
            coord_close(&f.c);
            break;
        }
        failures++;
        assert_int_equal(r.error, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_int_equal(r.generation_id, GROUP_NO_GENERATION);
        assert_null(r.members);
        assert_null(r.protocol_name);
        coord_join_result_free(&r);
        const char *st = describe_state(&f);
        if (strcmp(st, "Dead") == 0) {
            no_group++;                               /* no trace of the refused join */
        } else {
            assert_string_equal(st, "CompletingRebalance");
            coord_describe_result_t d;
            assert_int_equal(coord_describe(&f.c, "g1", &d), KL_OK);
            assert_int_equal(d.member_count, 1);
            coord_describe_result_free(&d);
        }
        coord_close(&f.c);
    }
    assert_true(no_group >= 10);            /* group, its id, its table, the member… */
    assert_true(failures >= no_group + 6);  /* protocol name, the answer's strings, infos */
}

/* With an initial delay the JoinGroup is parked: its ticket cannot be made. Static or
 * not, the member is answered UNKNOWN_SERVER_ERROR at once instead of waiting. */
static void parked_join_out_of_memory(const char *instance)
{
    if (!alloc_fail_supported())
        skip();
    int failures = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        oom_fixture(&f, 3000);
        group_protocol_t p;
        coord_join_args_t a = join_args("", "ca", &p);
        a.group_instance_id = instance;
        coord_join_result_t r;
        alloc_fail_arm(n);
        coord_outcome_t oc = coord_join(&f.c, &a, 0, false, &r);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        if (!failed) {
            assert_int_equal(oc, COORD_PENDING);
            assert_true(r.ticket > 0);
            coord_join_result_free(&r);
            coord_close(&f.c);
            break;
        }
        failures++;
        assert_int_equal(oc, COORD_DONE);
        assert_int_equal(r.error, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_int_equal(r.ticket, 0);
        coord_join_result_free(&r);
        coord_close(&f.c);                            /* what remains is freed */
    }
    assert_true(failures >= (instance ? 18 : 16));
}

static void test_parked_join_out_of_memory_dynamic(void **state)
{
    (void)state;
    parked_join_out_of_memory(NULL);
}

static void test_parked_join_out_of_memory_static(void **state)
{
    (void)state;
    parked_join_out_of_memory("inst-1");
}

/* The retry of a parked JoinGroup at the round's deadline: building the answer fails,
 * the member is answered UNKNOWN_SERVER_ERROR and its ticket is gone (a second retry
 * with it is UNKNOWN_MEMBER_ID, not a hang). */
static void test_parked_join_answer_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    int failures = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        oom_fixture(&f, 3000);
        coord_join_result_t r;
        assert_int_equal(cjoin(&f, "", "ca", 0, false, &r), COORD_PENDING);
        int64_t t = r.ticket;
        f.now += 3000;
        alloc_fail_arm(n);
        coord_outcome_t oc = cjoin(&f, "", "ca", t, false, &r);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_int_equal(oc, COORD_DONE);
        if (!failed) {
            assert_int_equal(r.error, KL_OK);
            assert_int_equal(r.generation_id, 1);
            coord_join_result_free(&r);
            coord_close(&f.c);
            break;
        }
        failures++;
        assert_int_equal(r.error, KL_ERR_UNKNOWN_SERVER_ERROR);
        coord_join_result_free(&r);
        assert_int_equal(cjoin(&f, "", "ca", t, false, &r), COORD_DONE);
        assert_int_equal(r.error, KL_ERR_UNKNOWN_MEMBER_ID);
        coord_join_result_free(&r);
        coord_close(&f.c);
    }
    assert_true(failures >= 7);
}

/* A follower's SyncGroup before the leader's: its ticket cannot be made. It is answered
 * UNKNOWN_SERVER_ERROR and not left waiting: the leader's SyncGroup still completes the
 * round, and the follower's next SyncGroup gets its assignment. */
static void test_follower_sync_ticket_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    int failures = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        oom_fixture(&f, 0);
        char a[128], b[128];
        make_completing_pair(&f, a, b);
        coord_sync_result_t s;
        alloc_fail_arm(n);
        coord_outcome_t oc = csync(&f, b, 2, NULL, 0, 0, false, &s);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        if (!failed) {
            assert_int_equal(oc, COORD_PENDING);
            coord_sync_result_free(&s);
            coord_close(&f.c);
            break;
        }
        failures++;
        assert_int_equal(oc, COORD_DONE);
        assert_int_equal(s.error, KL_ERR_UNKNOWN_SERVER_ERROR);
        coord_sync_result_free(&s);
        group_assignment_t as[2] = {
            { .member_id = a, .assignment = (const uint8_t *)"P0", .assignment_len = 2 },
            { .member_id = b, .assignment = (const uint8_t *)"P1", .assignment_len = 2 },
        };
        assert_int_equal(csync(&f, a, 2, as, 2, 0, false, &s), COORD_DONE);
        assert_int_equal(s.error, KL_OK);
        coord_sync_result_free(&s);
        assert_string_equal(describe_state(&f), "Stable");
        assert_int_equal(csync(&f, b, 2, NULL, 0, 0, false, &s), COORD_DONE);
        assert_int_equal(s.error, KL_OK);
        assert_memory_equal(s.assignment, "P1", 2);
        coord_sync_result_free(&s);
        coord_close(&f.c);
    }
    assert_true(failures >= 5);                 /* ticket, 2 strings, table, buckets */
}

/* The leader's SyncGroup: refused while the domain copies the assignments (the round
 * stays open), or while building the leader's own answer (the round is done). Either
 * way UNKNOWN_SERVER_ERROR, and the leader's retry gets its assignment. */
static void test_leader_sync_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    int failures = 0, still_open = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        oom_fixture(&f, 0);
        char a[128], b[128];
        make_completing_pair(&f, a, b);
        group_assignment_t as[2] = {
            { .member_id = a, .assignment = (const uint8_t *)"P0", .assignment_len = 2 },
            { .member_id = b, .assignment = (const uint8_t *)"P1", .assignment_len = 2 },
        };
        coord_sync_result_t s;
        alloc_fail_arm(n);
        coord_outcome_t oc = csync(&f, a, 2, as, 2, 0, false, &s);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        assert_int_equal(oc, COORD_DONE);
        if (failed) {
            failures++;
            assert_int_equal(s.error, KL_ERR_UNKNOWN_SERVER_ERROR);
            assert_null(s.assignment);
            coord_sync_result_free(&s);
            if (strcmp(describe_state(&f), "CompletingRebalance") == 0)
                still_open++;
            else
                assert_string_equal(describe_state(&f), "Stable");
            assert_int_equal(csync(&f, a, 2, as, 2, 0, false, &s), COORD_DONE);
        }
        assert_int_equal(s.error, KL_OK);
        assert_string_equal(s.protocol_name, "range");
        assert_memory_equal(s.assignment, "P0", 2);
        coord_sync_result_free(&s);
        assert_string_equal(describe_state(&f), "Stable");
        coord_close(&f.c);
        if (!failed)
            break;
    }
    assert_int_equal(still_open, 2);            /* one assignment copy per member */
    assert_int_equal(failures, still_open + 3); /* protocol type, name, assignment */
}

/* DescribeGroups of a Stable group: refused as a whole — no half-filled member list —
 * and the group is untouched. */
static void test_describe_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    fixture_t f;
    oom_fixture(&f, 0);
    char a[128], b[128];
    make_stable_pair(&f, a, b);
    int failures = 0;
    for (long n = 0;; n++) {
        coord_describe_result_t d;
        alloc_fail_arm(n);
        kl_err_t err = coord_describe(&f.c, "g1", &d);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        if (!failed) {
            assert_int_equal(err, KL_OK);
            assert_string_equal(d.state, "Stable");
            assert_int_equal(d.member_count, 2);
            assert_string_equal(d.protocol_name, "range");
            coord_describe_result_free(&d);
            break;
        }
        failures++;
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_int_equal(d.error, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_string_equal(d.state, "Dead");
        assert_null(d.members);
        assert_int_equal(d.member_count, 0);
        assert_null(d.protocol_type);
        coord_describe_result_free(&d);
    }
    /* the array, 3 strings + metadata + assignment per member, 2 protocol strings */
    assert_int_equal(failures, 1 + 2 * 5 + 2);
    assert_int_equal(coord_heartbeat(&f.c, "g1", a, NULL, 2), KL_OK);
    coord_close(&f.c);
}

/* OffsetCommit of a consumer that only stores offsets (no group yet): refused after the
 * store made the commits durable, it answers UNKNOWN_SERVER_ERROR; in memory either no
 * group is left or the offsets that were recorded are the committed ones. */
static void test_commit_out_of_memory(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    kl_offset_commit_t oc[2] = { { .topic = "t", .partition = 0, .offset = 42, .metadata = "m" },
                                 { .topic = "t", .partition = 1, .offset = 43, .metadata = "" } };
    int failures = 0, before_store = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        oom_fixture(&f, 0);
        alloc_fail_arm(n);
        kl_err_t err = coord_commit_offsets(&f.c, "solo", -1, "", NULL, oc, 2);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        coord_offset_t o0, o1;
        assert_int_equal(coord_fetch_offset(&f.c, "solo", "t", 0, &o0), KL_OK);
        assert_int_equal(coord_fetch_offset(&f.c, "solo", "t", 1, &o1), KL_OK);
        if (!failed) {
            assert_int_equal(err, KL_OK);
            assert_int_equal(fake.commits, 1);
            assert_int_equal(o0.offset, 42);
            assert_string_equal(o0.metadata, "m");
            assert_int_equal(o1.offset, 43);
            coord_close(&f.c);
            break;
        }
        failures++;
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        before_store += fake.commits == 0;
        assert_true(o0.offset == -1 || o0.offset == 42);
        assert_int_equal(o1.offset, -1);
        if (o0.offset == -1)                           /* nothing kept: no empty group */
            assert_string_equal(describe_state(&f), "Dead");
        coord_close(&f.c);
    }
    assert_true(before_store >= 4);             /* the group, its id, table, buckets */
    assert_true(failures >= before_store + 6);  /* per offset: metadata, entry (+ table) */
}

/* coord_init replaying the offset log: out of memory fails the init, and what was
 * loaded so far is freed. */
static void test_load_out_of_memory_fails_init(void **state)
{
    (void)state;
    if (!alloc_fail_supported())
        skip();
    kl_offset_record_t recs[] = {
        { .group_id = "ga", .commit = { "t", 0, 1, "" }, .commit_timestamp_ms = 5 },
        { .group_id = "gb", .commit = { "t", 0, 2, "x" }, .commit_timestamp_ms = 5 },
    };
    int failures = 0;
    for (long n = 0;; n++) {
        fixture_t f;
        alloc_fail_arm(n);
        kl_err_t err = oom_coord_init(&f, 0, recs, 2);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        if (!failed) {
            assert_int_equal(err, KL_OK);
            coord_offset_t o;
            coord_fetch_offset(&f.c, "gb", "t", 0, &o);
            assert_int_equal(o.offset, 2);
            coord_close(&f.c);
            break;
        }
        failures++;
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_null(f.c.groups);                      /* coord_init closed it */
        assert_null(f.c.tickets);
    }
    assert_true(failures >= 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_member_rebalance_with_initial_delay, setup_delay, teardown),
        cmocka_unit_test_setup_teardown(test_second_member_joins_stable_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_leaves_survivor_rebalances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_member_expires_survivor_gets_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_attempt_ends_round_without_laggard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_deadline_ends_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_answers_parked_join_at_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_join_of_member_that_left, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_tickets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_id_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_final_attempt_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_sync_answered_by_new_rebalance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_sync_keeps_answer_given_at_leader_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_ticket_is_dropped_after_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simple_commit_and_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_store_failure_is_not_remembered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_commit_rules, setup, teardown),
        cmocka_unit_test(test_load_all_replays_commits_and_tombstones),
        cmocka_unit_test(test_load_all_failure_fails_init),
        cmocka_unit_test_setup_teardown(test_describe_by_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_topic_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_topic_offsets_store_failure, setup, teardown),
        cmocka_unit_test(test_load_all_replays_topic_tombstones),
        cmocka_unit_test_setup_teardown(test_invalid_group_ids, setup, teardown),
        cmocka_unit_test(test_builtin_id_source_gives_distinct_uuid_shaped_ids),
        cmocka_unit_test_setup_teardown(test_ticket_of_other_kind_or_group_is_not_trusted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parked_sync_of_member_that_left, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_sync_ticket_stops_keeping_member_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_for_impossible_topic_name_is_refused_before_the_store, setup, teardown),
        cmocka_unit_test(test_load_of_impossible_topic_name_fails_init),
        cmocka_unit_test_setup_teardown(test_fetch_all_offsets_stops_at_visitor_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_group_id_is_invalid, setup, teardown),
        cmocka_unit_test(test_first_join_out_of_memory),
        cmocka_unit_test(test_parked_join_out_of_memory_dynamic),
        cmocka_unit_test(test_parked_join_out_of_memory_static),
        cmocka_unit_test(test_parked_join_answer_out_of_memory),
        cmocka_unit_test(test_follower_sync_ticket_out_of_memory),
        cmocka_unit_test(test_leader_sync_out_of_memory),
        cmocka_unit_test(test_describe_out_of_memory),
        cmocka_unit_test(test_commit_out_of_memory),
        cmocka_unit_test(test_load_out_of_memory_fails_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
