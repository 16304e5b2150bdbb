/*
 * test/test_api_leave_group.c — unit tests of infrastructure/protocol/api_leave_group.c:
 * the LeaveGroup handler fed the clients' own requests (kcat, kafka-python and KafkaJS
 * v1 fixture frames, for groups this coordinator never saw) and built ones: a real
 * member leaving (v0), the v3 batch form with per-member error codes (KIP-345), the
 * group-level INVALID_GROUP_ID, truncated requests.
 */
#include "test/mocks/group_fixture.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kcat/016-LeaveGroup-v1.req.bin (45 bytes) */
static const uint8_t KCAT_LEAVE_V1[] = {
    0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x0a, 0x6b, 0x63, 0x61, 0x74, 0x2d,
    0x67, 0x72, 0x6f, 0x75, 0x70, 0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x64,
    0x33, 0x33, 0x34, 0x30, 0x30, 0x33, 0x36, 0x32, 0x30,
};
/* kafka-python/014-LeaveGroup-v1.req.bin (47 bytes) */
static const uint8_t KP_LEAVE_V1[] = {
    0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0b, 0x6b, 0x70,
    0x2d, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72, 0x00, 0x08, 0x6b,
    0x70, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x00, 0x0e, 0x30, 0x78, 0x37,
    0x66, 0x34, 0x34, 0x64, 0x63, 0x30, 0x30, 0x33, 0x32, 0x33, 0x30,
};
/* kafkajs/013-LeaveGroup-v1.req.bin (40 bytes) */
static const uint8_t KJS_LEAVE_V1[] = {
    0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x09, 0x6b, 0x6a, 0x73, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70,
    0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x30, 0x61, 0x30, 0x34, 0x30, 0x30,
    0x32, 0x65, 0x31, 0x30,
};

#define ID_MAX 128

static void test_fixtures_unknown_member(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    const uint8_t *frames[] = { KCAT_LEAVE_V1, KP_LEAVE_V1, KJS_LEAVE_V1 };
    size_t lens[] = { sizeof KCAT_LEAVE_V1, sizeof KP_LEAVE_V1, sizeof KJS_LEAVE_V1 };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gf_run(e, leave_group_handle, frames[i], lens[i]), KL_REPLY_SEND);
        gf_want_i32(&e->resp, 0);                           /* throttle_time_ms */
        gf_want_i16(&e->resp, KL_ERR_UNKNOWN_MEMBER_ID);    /* error_code */
        gf_want_end(&e->resp);
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
    gf_want_i16(&e->resp, KL_OK);                           /* error_code (no throttle) */
    gf_want_end(&e->resp);
    /* Gone: leaving again is UNKNOWN_MEMBER_ID. */
    assert_int_equal(gf_run(e, leave_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    gf_want_i16(&e->resp, KL_ERR_UNKNOWN_MEMBER_ID);
    gf_want_end(&e->resp);
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
    gf_want_i32(r, 0);                                      /* throttle_time_ms */
    gf_want_i16(r, KL_OK);                                  /* error_code */
    gf_want_i32(r, 2);                                      /* members */
    gf_want_str(r, id);                                     /*   member_id */
    gf_want_null_str(r);                                    /*   group_instance_id */
    gf_want_i16(r, KL_OK);                                  /*   error_code */
    gf_want_str(r, "ghost");
    gf_want_str(r, "instance-1");
    gf_want_i16(r, KL_ERR_UNKNOWN_MEMBER_ID);
    gf_want_end(r);
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
    gf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    gf_want_i16(&e->resp, KL_ERR_INVALID_GROUP_ID);         /* error_code */
    gf_want_i32(&e->resp, 0);                               /* members */
    gf_want_end(&e->resp);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, leave_group_handle, KP_LEAVE_V1, sizeof KP_LEAVE_V1,
                                 gf_body_at(KP_LEAVE_V1));
    kl_writer_t w;
    gf_req_begin(&w, KL_API_LEAVE_GROUP, 3, "admin");
    wr_cstr(&w, false, "g");
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "m");
    gf_wr_nullable(&w, "i");
    gf_expect_close_on_every_cut(e, leave_group_handle, w.buf, w.len, gf_body_at(w.buf));
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
