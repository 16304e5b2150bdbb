/*
 * test/test_api_sync_group.c — unit tests of infrastructure/protocol/api_sync_group.c:
 * the SyncGroup handler fed the clients' own requests (kcat v3, KafkaJS v3,
 * kafka-python v1 fixture frames, whose member ids the coordinator never gave) and
 * built ones over the real group coordinator: the leader's assignment, a follower
 * parked until it arrives or given REBALANCE_IN_PROGRESS on the final attempt, errors,
 * truncated requests. (The two-member join + sync across parks is in
 * test_api_join_group.c.)
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define ID_MAX 128

static void want_sync(kl_reader_t *r, int16_t v, kl_err_t err, const char *assignment)
{
    if (v >= 1) hf_want_i32(r, 0);                          /* throttle_time_ms */
    hf_want_i16(r, err);                                    /* error_code */
    gf_want_bytes(r, assignment, strlen(assignment));       /* assignment */
    hf_want_end(r);
}

/* The fixtures' groups do not exist here: their members are unknown. */
static void test_fixtures_unknown_member(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, sync_group_handle, KCAT_012_SYNC_GROUP_V3_REQ,
                            sizeof KCAT_012_SYNC_GROUP_V3_REQ), KL_REPLY_SEND);
    want_sync(&e->resp, 3, KL_ERR_UNKNOWN_MEMBER_ID, "");
    assert_int_equal(gf_run(e, sync_group_handle, KJS_006_SYNC_GROUP_V3_REQ,
                            sizeof KJS_006_SYNC_GROUP_V3_REQ), KL_REPLY_SEND);
    want_sync(&e->resp, 3, KL_ERR_UNKNOWN_MEMBER_ID, "");
    assert_int_equal(gf_run(e, sync_group_handle, KPY_008_SYNC_GROUP_V1_REQ,
                            sizeof KPY_008_SYNC_GROUP_V1_REQ), KL_REPLY_SEND);
    want_sync(&e->resp, 1, KL_ERR_UNKNOWN_MEMBER_ID, "");
    gf_free(e);
}

/* The leader's SyncGroup answers at once with its own part (v1), and a later v0
 * SyncGroup in Stable gets the same assignment again (no throttle field in v0). */
static void test_leader_gets_its_assignment(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);           /* checks the v1 answer */
    kl_writer_t w;
    gf_sync_frame(&w, 0, "g", 1, id, NULL, NULL, 0);
    assert_int_equal(gf_run(e, sync_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_sync(&e->resp, 0, KL_OK, "A");
    gf_free(e);
}

/* Two members in generation 2 (the second joined a Stable group); returns their ids. */
static void two_members(gf_env_t *e, char *a, char *b)
{
    kl_writer_t w;
    gf_stable_member(e, "g", "a", a, ID_MAX);
    gf_join_frame(&w, 2, "b", "g", "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_PARK);
    int64_t cb = e->req.park_cookie;
    kl_writer_t wa;
    gf_join_frame(&wa, 2, "a", "g", a, NULL);               /* the leader rejoins */
    assert_int_equal(gf_run(e, join_group_handle, wa.buf, wa.len), KL_REPLY_SEND);
    wr_free(&wa);
    assert_int_equal(gf_attempt(e, join_group_handle, w.buf, w.len, cb, false),
                     KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    hf_want_i32(&e->resp, 2);                               /* generation_id */
    (void)rd_string(&e->resp);                              /* protocol_name */
    hf_want_str(&e->resp, a);                               /* leader */
    gf_read_str(&e->resp, b, ID_MAX);                       /* member_id */
}

/* The leader never syncs: the follower's final attempt is REBALANCE_IN_PROGRESS. */
static void test_follower_final_attempt_rebalance(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char a[ID_MAX], b[ID_MAX];
    two_members(e, a, b);
    kl_writer_t w;
    gf_sync_frame(&w, 3, "g", 2, b, NULL, NULL, 0);
    assert_int_equal(gf_run(e, sync_group_handle, w.buf, w.len), KL_REPLY_PARK);
    int64_t cookie = e->req.park_cookie;
    assert_true(cookie > 0);
    assert_int_equal(e->req.park_until_ms, e->mono_ms + 300000);   /* rebalance timeout */
    assert_int_equal(gf_attempt(e, sync_group_handle, w.buf, w.len, cookie, false),
                     KL_REPLY_PARK);
    assert_int_equal(e->req.park_cookie, cookie);
    assert_int_equal(gf_attempt(e, sync_group_handle, w.buf, w.len, cookie, true),
                     KL_REPLY_SEND);
    wr_free(&w);
    want_sync(&e->resp, 3, KL_ERR_REBALANCE_IN_PROGRESS, "");
    gf_free(e);
}

static void test_errors(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    kl_writer_t w;
    gf_sync_frame(&w, 2, "g", 7, id, NULL, NULL, 0);        /* not generation 1 */
    assert_int_equal(gf_run(e, sync_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_sync(&e->resp, 2, KL_ERR_ILLEGAL_GENERATION, "");
    gf_sync_frame(&w, 3, "", 1, id, NULL, NULL, 0);
    assert_int_equal(gf_run(e, sync_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_sync(&e->resp, 3, KL_ERR_INVALID_GROUP_ID, "");
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, sync_group_handle, KCAT_012_SYNC_GROUP_V3_REQ,
                                 sizeof KCAT_012_SYNC_GROUP_V3_REQ);
    gf_expect_close_on_every_cut(e, sync_group_handle, KPY_008_SYNC_GROUP_V1_REQ,
                                 sizeof KPY_008_SYNC_GROUP_V1_REQ);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_unknown_member),
        cmocka_unit_test(test_leader_gets_its_assignment),
        cmocka_unit_test(test_follower_final_attempt_rebalance),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
