/*
 * test/test_api_leave_group.c — unit tests of infrastructure/protocol/api_leave_group.c:
 * the LeaveGroup handler fed the clients' own requests (kcat, kafka-python and KafkaJS
 * v1 fixture frames, for groups this coordinator never saw) and built ones: a real
 * member leaving (v0), the v3 batch form with per-member error codes (KIP-345), the
 * group-level INVALID_GROUP_ID, truncated requests.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define ID_MAX 128

static void test_fixtures_unknown_member(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    const uint8_t *frames[] = { KCAT_016_LEAVE_GROUP_V1_REQ, KPY_014_LEAVE_GROUP_V1_REQ,
                                KJS_013_LEAVE_GROUP_V1_REQ };
    size_t lens[] = { sizeof KCAT_016_LEAVE_GROUP_V1_REQ, sizeof KPY_014_LEAVE_GROUP_V1_REQ,
                      sizeof KJS_013_LEAVE_GROUP_V1_REQ };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gf_run(e, leave_group_handle, frames[i], lens[i]), KL_REPLY_SEND);
        hf_want_i32(&e->resp, 0);                           /* throttle_time_ms */
        hf_want_i16(&e->resp, KL_ERR_UNKNOWN_MEMBER_ID);    /* error_code */
        hf_want_end(&e->resp);
    }
    gf_free(e);
}

static void test_v0_member_leaves(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    kl_writer_t w;
    gf_req_begin(&w, KL_API_LEAVE_GROUP, 0, "c");
    wr_cstr(&w, false, "g");                                /* group_id */
    wr_cstr(&w, false, id);                                 /* member_id */
    assert_int_equal(gf_run(e, leave_group_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i16(&e->resp, KL_OK);                           /* error_code (no throttle) */
    hf_want_end(&e->resp);
    /* Gone: leaving again is UNKNOWN_MEMBER_ID. */
    assert_int_equal(gf_run(e, leave_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i16(&e->resp, KL_ERR_UNKNOWN_MEMBER_ID);
    hf_want_end(&e->resp);
    gf_free(e);
}

static void test_v3_batch_per_member_errors(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    kl_writer_t w;
    gf_req_begin(&w, KL_API_LEAVE_GROUP, 3, "admin");
    wr_cstr(&w, false, "g");                                /* group_id */
    wr_array_len(&w, 2);                                    /* members */
    wr_cstr(&w, false, id);
    gf_wr_nullable(&w, NULL);
    wr_cstr(&w, false, "ghost");
    gf_wr_nullable(&w, "instance-1");
    assert_int_equal(gf_run(e, leave_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);                                      /* throttle_time_ms */
    hf_want_i16(r, KL_OK);                                  /* error_code */
    hf_want_i32(r, 2);                                      /* members */
    hf_want_str(r, id);                                     /*   member_id */
    hf_want_null_str(r);                                    /*   group_instance_id */
    hf_want_i16(r, KL_OK);                                  /*   error_code */
    hf_want_str(r, "ghost");
    hf_want_str(r, "instance-1");
    hf_want_i16(r, KL_ERR_UNKNOWN_MEMBER_ID);
    hf_want_end(r);
    gf_free(e);
}

static void test_v3_invalid_group_id(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    kl_writer_t w;
    gf_req_begin(&w, KL_API_LEAVE_GROUP, 3, "admin");
    wr_cstr(&w, false, "");                                 /* group_id */
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "m");
    gf_wr_nullable(&w, NULL);
    assert_int_equal(gf_run(e, leave_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i16(&e->resp, KL_ERR_INVALID_GROUP_ID);         /* error_code */
    hf_want_i32(&e->resp, 0);                               /* members */
    hf_want_end(&e->resp);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, leave_group_handle, KPY_014_LEAVE_GROUP_V1_REQ,
                                 sizeof KPY_014_LEAVE_GROUP_V1_REQ);
    kl_writer_t w;
    gf_req_begin(&w, KL_API_LEAVE_GROUP, 3, "admin");
    wr_cstr(&w, false, "g");
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "m");
    gf_wr_nullable(&w, "i");
    gf_expect_close_on_every_cut(e, leave_group_handle, w.buf, w.len);
    wr_free(&w);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_unknown_member),
        cmocka_unit_test(test_v0_member_leaves),
        cmocka_unit_test(test_v3_batch_per_member_errors),
        cmocka_unit_test(test_v3_invalid_group_id),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
