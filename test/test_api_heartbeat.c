/*
 * test/test_api_heartbeat.c — unit tests of infrastructure/protocol/api_heartbeat.c:
 * the Heartbeat handler fed the clients' own requests (kcat v3, KafkaJS v3 fixture
 * frames, for groups this coordinator never saw) and built ones for a real member of a
 * Stable group: NONE, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS (how a member learns
 * it must rejoin), version gates, truncated requests.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define ID_MAX 128

static kl_reply_t heartbeat(gf_env_t *e, int16_t v, const char *group, int32_t generation,
                            const char *member)
{
    kl_writer_t w;
    gf_req_begin(&w, KL_API_HEARTBEAT, v, "c");
    wr_cstr(&w, false, group);                              /* group_id */
    wr_i32(&w, generation);                                 /* generation_id */
    wr_cstr(&w, false, member);                             /* member_id */
    if (v >= 3) gf_wr_nullable(&w, NULL);                   /* group_instance_id */
    kl_reply_t reply = gf_run(e, heartbeat_handle, w.buf, w.len);
    wr_free(&w);
    return reply;
}

static void want_hb(kl_reader_t *r, int16_t v, kl_err_t err)
{
    if (v >= 1) hf_want_i32(r, 0);                          /* throttle_time_ms */
    hf_want_i16(r, err);                                    /* error_code */
    hf_want_end(r);
}

static void test_fixtures_unknown_member(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, heartbeat_handle, KCAT_013_HEARTBEAT_V3_REQ,
                            sizeof KCAT_013_HEARTBEAT_V3_REQ), KL_REPLY_SEND);
    want_hb(&e->resp, 3, KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(gf_run(e, heartbeat_handle, KJS_011_HEARTBEAT_V3_REQ,
                            sizeof KJS_011_HEARTBEAT_V3_REQ), KL_REPLY_SEND);
    want_hb(&e->resp, 3, KL_ERR_UNKNOWN_MEMBER_ID);
    gf_free(e);
}

static void test_member_of_stable_group(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    for (int16_t v = 0; v <= 3; v++) {
        assert_int_equal(heartbeat(e, v, "g", 1, id), KL_REPLY_SEND);
        want_hb(&e->resp, v, KL_OK);
    }
    assert_int_equal(heartbeat(e, 3, "g", 0, id), KL_REPLY_SEND);
    want_hb(&e->resp, 3, KL_ERR_ILLEGAL_GENERATION);
    assert_int_equal(heartbeat(e, 2, "g", 1, "ghost"), KL_REPLY_SEND);
    want_hb(&e->resp, 2, KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(heartbeat(e, 1, "", 1, id), KL_REPLY_SEND);
    want_hb(&e->resp, 1, KL_ERR_INVALID_GROUP_ID);
    gf_free(e);
}

/* A new member's JoinGroup starts a round: the old member hears it in its heartbeat. */
static void test_rebalance_in_progress(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    kl_writer_t w;
    gf_join_frame(&w, 2, "other", "g", "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_PARK);
    wr_free(&w);
    assert_int_equal(heartbeat(e, 3, "g", 1, id), KL_REPLY_SEND);
    want_hb(&e->resp, 3, KL_ERR_REBALANCE_IN_PROGRESS);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, heartbeat_handle, KCAT_013_HEARTBEAT_V3_REQ,
                                 sizeof KCAT_013_HEARTBEAT_V3_REQ);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_unknown_member),
        cmocka_unit_test(test_member_of_stable_group),
        cmocka_unit_test(test_rebalance_in_progress),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
