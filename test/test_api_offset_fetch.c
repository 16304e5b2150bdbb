/*
 * test/test_api_offset_fetch.c — unit tests of infrastructure/protocol/api_offset_fetch.c:
 * the OffsetFetch handler fed the clients' own requests (kafka-python v1 and v3 with
 * topics = null, KafkaJS v4 fixture frames) and built ones after real commits: -1 for
 * partitions without a commit, the committed offset and metadata, all committed
 * partitions grouped by topic (v2+ null topics), the version gates (top-level error
 * v2+, throttle v3+, leader epoch v5+), truncated and v1-null requests.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

static void want_partition(kl_reader_t *r, int16_t v, int32_t index, int64_t offset,
                           const char *metadata)
{
    hf_want_i32(r, index);                                  /* partition_index */
    hf_want_i64(r, offset);                                 /* committed_offset */
    if (v >= 5) hf_want_i32(r, -1);                         /* committed_leader_epoch */
    hf_want_str(r, metadata);                               /* metadata */
    hf_want_i16(r, KL_OK);                                  /* error_code */
}

/* Nothing committed: every partition asked for is -1 with "" and no error. */
static void test_fixtures_nothing_committed(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, offset_fetch_handle, KPY_009_OFFSET_FETCH_V1_REQ,
                            sizeof KPY_009_OFFSET_FETCH_V1_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);                               /* topics (v1: no throttle) */
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    for (int32_t p = 0; p < 3; p++)
        want_partition(&e->resp, 1, p, -1, "");
    hf_want_end(&e->resp);                                  /* v1: no top-level error */

    assert_int_equal(gf_run(e, offset_fetch_handle, KJS_007_OFFSET_FETCH_V4_REQ,
                            sizeof KJS_007_OFFSET_FETCH_V4_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);                               /* topics */
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    for (int32_t p = 0; p < 3; p++)
        want_partition(&e->resp, 4, p, -1, "");
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    hf_want_end(&e->resp);

    assert_int_equal(gf_run(e, offset_fetch_handle, KPY_017_OFFSET_FETCH_V3_REQ,
                            sizeof KPY_017_OFFSET_FETCH_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 0);                               /* topics: none committed */
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    hf_want_end(&e->resp);
    gf_free(e);
}

/* kafka-python's own v1 request after commits on partitions 0 and 2. */
static void test_committed_offsets(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_commit_offset(e, "kp-group", "topic", 0, 5, "m0");
    gf_commit_offset(e, "kp-group", "topic", 2, 9, "");
    assert_int_equal(gf_run(e, offset_fetch_handle, KPY_009_OFFSET_FETCH_V1_REQ,
                            sizeof KPY_009_OFFSET_FETCH_V1_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 1, 0, 5, "m0");
    want_partition(&e->resp, 1, 1, -1, "");
    want_partition(&e->resp, 1, 2, 9, "");
    hf_want_end(&e->resp);
    gf_free(e);
}

/* v5 with topics = null: every committed partition, grouped by topic. */
static void test_v5_all_grouped_by_topic(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_commit_offset(e, "g", "b", 1, 11, "x");
    gf_commit_offset(e, "g", "a", 0, 20, "y");
    gf_commit_offset(e, "g", "b", 0, 10, "z");
    gf_commit_offset(e, "other", "a", 0, 99, "");
    kl_writer_t w;
    gf_req_begin(&w, KL_API_OFFSET_FETCH, 5, "admin");
    wr_cstr(&w, false, "g");                                /* group_id */
    wr_array_len(&w, -1);                                   /* topics: all */
    assert_int_equal(gf_run(e, offset_fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);                                      /* throttle_time_ms */
    hf_want_i32(r, 2);                                      /* topics */
    hf_want_str(r, "a");
    hf_want_i32(r, 1);
    want_partition(r, 5, 0, 20, "y");
    hf_want_str(r, "b");
    hf_want_i32(r, 2);
    want_partition(r, 5, 0, 10, "z");
    want_partition(r, 5, 1, 11, "x");
    hf_want_i16(r, KL_OK);                                  /* error_code */
    hf_want_end(r);
    gf_free(e);
}

/* v2: top-level error_code but no throttle; a named topic that was never committed. */
static void test_v2_named_unknown_topic(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_commit_offset(e, "g", "a", 0, 1, "");
    kl_writer_t w;
    gf_req_begin(&w, KL_API_OFFSET_FETCH, 2, "c");
    wr_cstr(&w, false, "g");
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "never");
    wr_array_len(&w, 1);
    wr_i32(&w, 4);
    assert_int_equal(gf_run(e, offset_fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 1);                               /* topics */
    hf_want_str(&e->resp, "never");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 2, 4, -1, "");
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    hf_want_end(&e->resp);
    gf_free(e);
}

static void test_malformed_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, offset_fetch_handle, KPY_009_OFFSET_FETCH_V1_REQ,
                                 sizeof KPY_009_OFFSET_FETCH_V1_REQ);
    gf_expect_close_on_every_cut(e, offset_fetch_handle, KPY_017_OFFSET_FETCH_V3_REQ,
                                 sizeof KPY_017_OFFSET_FETCH_V3_REQ);
    /* topics = null is v2+ (KIP-88): in v1 the array is not nullable. */
    kl_writer_t w;
    gf_req_begin(&w, KL_API_OFFSET_FETCH, 1, "c");
    wr_cstr(&w, false, "g");
    wr_array_len(&w, -1);
    assert_int_equal(gf_run(e, offset_fetch_handle, w.buf, w.len), KL_REPLY_CLOSE);
    wr_free(&w);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_nothing_committed),
        cmocka_unit_test(test_committed_offsets),
        cmocka_unit_test(test_v5_all_grouped_by_topic),
        cmocka_unit_test(test_v2_named_unknown_topic),
        cmocka_unit_test(test_malformed_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
