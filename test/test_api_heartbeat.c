/*
 * test/test_api_heartbeat.c — unit tests of infrastructure/protocol/api_heartbeat.c:
 * the Heartbeat handler fed the clients' own requests (kcat v3, KafkaJS v3 fixture
 * frames, for groups this coordinator never saw) and built ones for a real member of a
 * Stable group: NONE, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS (how a member learns
 * it must rejoin), version gates, truncated requests.
 */
#include "test/mocks/group_fixture.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kcat/013-Heartbeat-v3.req.bin (51 bytes) */
static const uint8_t KCAT_HB_V3[] = {
    0x00, 0x0c, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x0a, 0x6b, 0x63, 0x61, 0x74, 0x2d,
    0x67, 0x72, 0x6f, 0x75, 0x70, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0e, 0x30,
    0x78, 0x37, 0x66, 0x64, 0x33, 0x33, 0x34, 0x30, 0x30, 0x33, 0x36, 0x32,
    0x30, 0xff, 0xff,
};
/* kafkajs/011-Heartbeat-v3.req.bin (46 bytes) */
static const uint8_t KJS_HB_V3[] = {
    0x00, 0x0c, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x09, 0x6b, 0x6a, 0x73, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x30, 0x61,
    0x30, 0x34, 0x30, 0x30, 0x32, 0x65, 0x31, 0x30, 0xff, 0xff,
};

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
    if (v >= 1) gf_want_i32(r, 0);                          /* throttle_time_ms */
    gf_want_i16(r, err);                                    /* error_code */
    gf_want_end(r);
}

static void test_fixtures_unknown_member(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, heartbeat_handle, KCAT_HB_V3, sizeof KCAT_HB_V3),
                     KL_REPLY_SEND);
    want_hb(&e->resp, 3, KL_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(gf_run(e, heartbeat_handle, KJS_HB_V3, sizeof KJS_HB_V3),
                     KL_REPLY_SEND);
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
    gf_expect_close_on_every_cut(e, heartbeat_handle, KCAT_HB_V3, sizeof KCAT_HB_V3,
                                 gf_body_at(KCAT_HB_V3));
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
