/*
 * test/test_api_offset_fetch.c — unit tests of infrastructure/protocol/api_offset_fetch.c:
 * the OffsetFetch handler fed the clients' own requests (kafka-python v1 and v3 with
 * topics = null, KafkaJS v4 fixture frames) and built ones after real commits: -1 for
 * partitions without a commit, the committed offset and metadata, all committed
 * partitions grouped by topic (v2+ null topics), the version gates (top-level error
 * v2+, throttle v3+, leader epoch v5+), truncated and v1-null requests.
 */
#include "test/mocks/group_fixture.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kafka-python/009-OffsetFetch-v1.req.bin (58 bytes) */
static const uint8_t KP_OF_V1[] = {
    0x00, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x0b, 0x6b, 0x70,
    0x2d, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72, 0x00, 0x08, 0x6b,
    0x70, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x05, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
};
/* kafka-python/017-OffsetFetch-v3.req.bin (32 bytes) */
static const uint8_t KP_OF_V3_ALL[] = {
    0x00, 0x09, 0x00, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00, 0x08, 0x6b, 0x70,
    0x2d, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0x00, 0x08, 0x6b, 0x70, 0x2d, 0x67,
    0x72, 0x6f, 0x75, 0x70, 0xff, 0xff, 0xff, 0xff,
};
/* kafkajs/007-OffsetFetch-v4.req.bin (51 bytes) */
static const uint8_t KJS_OF_V4[] = {
    0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x09, 0x6b, 0x6a, 0x73, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00,
    0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x02,
};

static void want_partition(kl_reader_t *r, int16_t v, int32_t index, int64_t offset,
                           const char *metadata)
{
    gf_want_i32(r, index);                                  /* partition_index */
    gf_want_i64(r, offset);                                 /* committed_offset */
    if (v >= 5) gf_want_i32(r, -1);                         /* committed_leader_epoch */
    gf_want_str(r, metadata);                               /* metadata */
    gf_want_i16(r, KL_OK);                                  /* error_code */
}

/* Commit through the coordinator (as OffsetCommit would): simple commits, generation -1. */
static void commit(gf_env_t *e, const char *group, const char *topic, int32_t partition,
                   int64_t offset, const char *metadata)
{
    expect_string(mock_offset_store_commit, group_id, group);
    expect_value(mock_offset_store_commit, count, 1);
    expect_string(mock_offset_store_commit, topic, topic);
    expect_value(mock_offset_store_commit, partition, partition);
    expect_value(mock_offset_store_commit, offset, offset);
    will_return(mock_offset_store_commit, KL_OK);
    kl_offset_commit_t c = { topic, partition, offset, metadata };
    assert_int_equal(coord_commit_offsets(&e->coord, group, -1, "", NULL, &c, 1), KL_OK);
}

/* Nothing committed: every partition asked for is -1 with "" and no error. */
static void test_fixtures_nothing_committed(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, offset_fetch_handle, KP_OF_V1, sizeof KP_OF_V1), KL_REPLY_SEND);
    gf_want_i32(&e->resp, 1);                               /* topics (v1: no throttle) */
    gf_want_str(&e->resp, "topic");
    gf_want_i32(&e->resp, 3);
    for (int32_t p = 0; p < 3; p++)
        want_partition(&e->resp, 1, p, -1, "");
    gf_want_end(&e->resp);                                  /* v1: no top-level error */

    assert_int_equal(gf_run(e, offset_fetch_handle, KJS_OF_V4, sizeof KJS_OF_V4),
                     KL_REPLY_SEND);
    gf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    gf_want_i32(&e->resp, 1);                               /* topics */
    gf_want_str(&e->resp, "topic");
    gf_want_i32(&e->resp, 3);
    for (int32_t p = 0; p < 3; p++)
        want_partition(&e->resp, 4, p, -1, "");
    gf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_end(&e->resp);

    assert_int_equal(gf_run(e, offset_fetch_handle, KP_OF_V3_ALL, sizeof KP_OF_V3_ALL),
                     KL_REPLY_SEND);
    gf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    gf_want_i32(&e->resp, 0);                               /* topics: none committed */
    gf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_end(&e->resp);
    gf_free(e);
}

/* kafka-python's own v1 request after commits on partitions 0 and 2. */
static void test_committed_offsets(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    commit(e, "kp-group", "topic", 0, 5, "m0");
    commit(e, "kp-group", "topic", 2, 9, "");
    assert_int_equal(gf_run(e, offset_fetch_handle, KP_OF_V1, sizeof KP_OF_V1), KL_REPLY_SEND);
    gf_want_i32(&e->resp, 1);
    gf_want_str(&e->resp, "topic");
    gf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 1, 0, 5, "m0");
    want_partition(&e->resp, 1, 1, -1, "");
    want_partition(&e->resp, 1, 2, 9, "");
    gf_want_end(&e->resp);
    gf_free(e);
}

/* v5 with topics = null: every committed partition, grouped by topic. */
static void test_v5_all_grouped_by_topic(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    commit(e, "g", "b", 1, 11, "x");
    commit(e, "g", "a", 0, 20, "y");
    commit(e, "g", "b", 0, 10, "z");
    commit(e, "other", "a", 0, 99, "");
    kl_writer_t w;
    gf_req_begin(&w, KL_API_OFFSET_FETCH, 5, "admin");
    wr_cstr(&w, false, "g");                                /* group_id */
    wr_array_len(&w, -1);                                   /* topics: all */
    assert_int_equal(gf_run(e, offset_fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    kl_reader_t *r = &e->resp;
    gf_want_i32(r, 0);                                      /* throttle_time_ms */
    gf_want_i32(r, 2);                                      /* topics */
    gf_want_str(r, "a");
    gf_want_i32(r, 1);
    want_partition(r, 5, 0, 20, "y");
    gf_want_str(r, "b");
    gf_want_i32(r, 2);
    want_partition(r, 5, 0, 10, "z");
    want_partition(r, 5, 1, 11, "x");
    gf_want_i16(r, KL_OK);                                  /* error_code */
    gf_want_end(r);
    gf_free(e);
}

/* v2: top-level error_code but no throttle; a named topic that was never committed. */
static void test_v2_named_unknown_topic(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    commit(e, "g", "a", 0, 1, "");
    kl_writer_t w;
    gf_req_begin(&w, KL_API_OFFSET_FETCH, 2, "c");
    wr_cstr(&w, false, "g");
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "never");
    wr_array_len(&w, 1);
    wr_i32(&w, 4);
    assert_int_equal(gf_run(e, offset_fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    gf_want_i32(&e->resp, 1);                               /* topics */
    gf_want_str(&e->resp, "never");
    gf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 2, 4, -1, "");
    gf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_end(&e->resp);
    gf_free(e);
}

static void test_malformed_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, offset_fetch_handle, KP_OF_V1, sizeof KP_OF_V1,
                                 gf_body_at(KP_OF_V1));
    gf_expect_close_on_every_cut(e, offset_fetch_handle, KP_OF_V3_ALL, sizeof KP_OF_V3_ALL,
                                 gf_body_at(KP_OF_V3_ALL));
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
