/*
 * test/test_api_sync_group.c — unit tests of infrastructure/protocol/api_sync_group.c:
 * the SyncGroup handler fed the clients' own requests (kcat v3, KafkaJS v3,
 * kafka-python v1 fixture frames, whose member ids the coordinator never gave) and
 * built ones over the real group coordinator: the leader's assignment, a follower
 * parked until it arrives or given REBALANCE_IN_PROGRESS on the final attempt, errors,
 * truncated requests. (The two-member join + sync across parks is in
 * test_api_join_group.c.)
 */
#include "test/mocks/group_fixture.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kcat/012-SyncGroup-v3.req.bin (108 bytes) */
static const uint8_t KCAT_SYNC_V3[] = {
    0x00, 0x0e, 0x00, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x0a, 0x6b, 0x63, 0x61, 0x74, 0x2d,
    0x67, 0x72, 0x6f, 0x75, 0x70, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0e, 0x30,
    0x78, 0x37, 0x66, 0x64, 0x33, 0x33, 0x34, 0x30, 0x30, 0x33, 0x36, 0x32,
    0x30, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0e, 0x30, 0x78, 0x37,
    0x66, 0x64, 0x33, 0x33, 0x34, 0x30, 0x30, 0x33, 0x36, 0x32, 0x30, 0x00,
    0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74,
    0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};
/* kafkajs/006-SyncGroup-v3.req.bin (103 bytes) */
static const uint8_t KJS_SYNC_V3[] = {
    0x00, 0x0e, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x09, 0x6b, 0x6a, 0x73, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x30, 0x61,
    0x30, 0x34, 0x30, 0x30, 0x32, 0x65, 0x31, 0x30, 0xff, 0xff, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x30, 0x61, 0x30, 0x34,
    0x30, 0x30, 0x32, 0x65, 0x31, 0x30, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00,
    0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};
/* kafka-python/008-SyncGroup-v1.req.bin (108 bytes) */
static const uint8_t KP_SYNC_V1[] = {
    0x00, 0x0e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0b, 0x6b, 0x70,
    0x2d, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72, 0x00, 0x08, 0x6b,
    0x70, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x0e, 0x30, 0x78, 0x37, 0x66, 0x34, 0x34, 0x64, 0x63, 0x30, 0x30, 0x33,
    0x32, 0x33, 0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0e, 0x30, 0x78, 0x37,
    0x66, 0x34, 0x34, 0x64, 0x63, 0x30, 0x30, 0x33, 0x32, 0x33, 0x30, 0x00,
    0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74,
    0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};

#define ID_MAX 128

static void want_sync(kl_reader_t *r, int16_t v, kl_err_t err, const char *assignment)
{
    if (v >= 1) gf_want_i32(r, 0);                          /* throttle_time_ms */
    gf_want_i16(r, err);                                    /* error_code */
    gf_want_bytes(r, assignment, strlen(assignment));       /* assignment */
    gf_want_end(r);
}

/* The fixtures' groups do not exist here: their members are unknown. */
static void test_fixtures_unknown_member(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, sync_group_handle, KCAT_SYNC_V3, sizeof KCAT_SYNC_V3),
                     KL_REPLY_SEND);
    want_sync(&e->resp, 3, KL_ERR_UNKNOWN_MEMBER_ID, "");
    assert_int_equal(gf_run(e, sync_group_handle, KJS_SYNC_V3, sizeof KJS_SYNC_V3),
                     KL_REPLY_SEND);
    want_sync(&e->resp, 3, KL_ERR_UNKNOWN_MEMBER_ID, "");
    assert_int_equal(gf_run(e, sync_group_handle, KP_SYNC_V1, sizeof KP_SYNC_V1),
                     KL_REPLY_SEND);
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
    gf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    gf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_i32(&e->resp, 2);                               /* generation_id */
    (void)rd_string(&e->resp);                              /* protocol_name */
    gf_want_str(&e->resp, a);                               /* leader */
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
    gf_expect_close_on_every_cut(e, sync_group_handle, KCAT_SYNC_V3, sizeof KCAT_SYNC_V3,
                                 gf_body_at(KCAT_SYNC_V3));
    gf_expect_close_on_every_cut(e, sync_group_handle, KP_SYNC_V1, sizeof KP_SYNC_V1,
                                 gf_body_at(KP_SYNC_V1));
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
