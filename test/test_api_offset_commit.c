/*
 * test/test_api_offset_commit.c — unit tests of
 * infrastructure/protocol/api_offset_commit.c: the OffsetCommit handler fed the
 * clients' own requests (kcat v7, kafka-python v2, KafkaJS v5 fixture frames, whose
 * generation no longer exists here) and built ones: a simple commit (v0, generation
 * -1) with unknown topics and partitions left out, a member's commit (v7), a store
 * failure; every partition that reaches the offset store is checked by its mock.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define ID_MAX 128

/* The commit the offset store must receive: n partitions of one topic. */
static void expect_commit(const char *group, const char *topic, const int32_t *partitions,
                          const int64_t *offsets, size_t n, kl_err_t result)
{
    expect_string(mock_offset_store_commit, group_id, group);
    expect_value(mock_offset_store_commit, count, n);
    for (size_t i = 0; i < n; i++) {
        expect_string(mock_offset_store_commit, topic, topic);
        expect_value(mock_offset_store_commit, partition, partitions[i]);
        expect_value(mock_offset_store_commit, offset, offsets[i]);
    }
    will_return(mock_offset_store_commit, result);
}

/* One topic's answer: partitions[i] with errors[i]. */
static void want_topic(kl_reader_t *r, const char *topic, const int32_t *partitions,
                       const kl_err_t *errors, int32_t n)
{
    hf_want_str(r, topic);                                  /* name */
    hf_want_i32(r, n);                                      /* partitions */
    for (int32_t i = 0; i < n; i++) {
        hf_want_i32(r, partitions[i]);                      /* partition_index */
        hf_want_i16(r, errors[i]);                          /* error_code */
    }
}

/* The fixtures commit for generations that do not exist here (their groups were never
 * joined): ILLEGAL_GENERATION on every partition, and nothing reaches the store. */
static void test_fixtures_illegal_generation(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "topic", 3);
    const kl_err_t ig[] = { KL_ERR_ILLEGAL_GENERATION, KL_ERR_ILLEGAL_GENERATION,
                            KL_ERR_ILLEGAL_GENERATION };

    assert_int_equal(gf_run(e, offset_commit_handle, KCAT_015_OFFSET_COMMIT_V7_REQ,
                            sizeof KCAT_015_OFFSET_COMMIT_V7_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms (v3+) */
    hf_want_i32(&e->resp, 1);                               /* topics */
    want_topic(&e->resp, "topic", (const int32_t[]){ 0, 1 }, ig, 2);
    hf_want_end(&e->resp);

    assert_int_equal(gf_run(e, offset_commit_handle, KPY_013_OFFSET_COMMIT_V2_REQ,
                            sizeof KPY_013_OFFSET_COMMIT_V2_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);                               /* topics (no throttle in v2) */
    want_topic(&e->resp, "topic", (const int32_t[]){ 0, 1, 2 }, ig, 3);
    hf_want_end(&e->resp);

    assert_int_equal(gf_run(e, offset_commit_handle, KJS_010_OFFSET_COMMIT_V5_REQ,
                            sizeof KJS_010_OFFSET_COMMIT_V5_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);                               /* topics */
    want_topic(&e->resp, "topic", (const int32_t[]){ 2 }, ig, 1);
    hf_want_end(&e->resp);
    gf_free(e);
}

/* v0: no generation, a "simple" commit. Partition 7 of a 3-partition topic and a topic
 * that does not exist are UNKNOWN_TOPIC_OR_PARTITION and never reach the store. */
static void test_v0_simple_commit_with_unknown_partitions(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "topic", 3);
    kl_writer_t w;
    gf_req_begin(&w, KL_API_OFFSET_COMMIT, 0, "c");
    wr_cstr(&w, false, "simple");                           /* group_id */
    wr_array_len(&w, 2);                                    /* topics */
    wr_cstr(&w, false, "topic");
    wr_array_len(&w, 2);
    wr_i32(&w, 0);                                          /* partition_index */
    wr_i64(&w, 42);                                         /* committed_offset */
    gf_wr_nullable(&w, NULL);                               /* committed_metadata */
    wr_i32(&w, 7);
    wr_i64(&w, 1);
    gf_wr_nullable(&w, "x");
    wr_cstr(&w, false, "nope");
    wr_array_len(&w, 1);
    wr_i32(&w, 0);
    wr_i64(&w, 5);
    gf_wr_nullable(&w, "");
    expect_commit("simple", "topic", (const int32_t[]){ 0 }, (const int64_t[]){ 42 }, 1,
                  KL_OK);
    assert_int_equal(gf_run(e, offset_commit_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 2);                               /* topics */
    want_topic(&e->resp, "topic", (const int32_t[]){ 0, 7 },
               (const kl_err_t[]){ KL_OK, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION }, 2);
    want_topic(&e->resp, "nope", (const int32_t[]){ 0 },
               (const kl_err_t[]){ KL_ERR_UNKNOWN_TOPIC_OR_PARTITION }, 1);
    hf_want_end(&e->resp);

    coord_offset_t off;
    assert_int_equal(coord_fetch_offset(&e->coord, "simple", "topic", 0, &off), KL_OK);
    assert_int_equal(off.offset, 42);
    assert_string_equal(off.metadata, "");                  /* null metadata: "" */
    gf_free(e);
}

static void member_commit_frame(kl_writer_t *w, int16_t v, const char *member)
{
    gf_req_begin(w, KL_API_OFFSET_COMMIT, v, "c");
    wr_cstr(w, false, "g");                                 /* group_id */
    wr_i32(w, 1);                                           /* generation_id */
    wr_cstr(w, false, member);                              /* member_id */
    if (v >= 7) gf_wr_nullable(w, NULL);                    /* group_instance_id */
    if (v >= 2 && v <= 4) wr_i64(w, -1);                    /* retention_time_ms */
    wr_array_len(w, 1);                                     /* topics */
    wr_cstr(w, false, "topic");
    wr_array_len(w, 2);
    for (int32_t p = 0; p < 2; p++) {
        wr_i32(w, p);                                       /* partition_index */
        wr_i64(w, 10 + p);                                  /* committed_offset */
        if (v >= 6) wr_i32(w, 4);                           /* committed_leader_epoch */
        if (v == 1) wr_i64(w, 1234);                        /* commit_timestamp */
        gf_wr_nullable(w, "meta");                          /* committed_metadata */
    }
}

/* A member of the Stable group commits, in every version with a generation. */
static void test_member_commit_every_version(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "topic", 3);
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    const kl_err_t ok[] = { KL_OK, KL_OK };
    for (int16_t v = 1; v <= 7; v++) {
        kl_writer_t w;
        member_commit_frame(&w, v, id);
        expect_commit("g", "topic", (const int32_t[]){ 0, 1 }, (const int64_t[]){ 10, 11 }, 2,
                      KL_OK);
        assert_int_equal(gf_run(e, offset_commit_handle, w.buf, w.len), KL_REPLY_SEND);
        wr_free(&w);
        if (v >= 3) hf_want_i32(&e->resp, 0);               /* throttle_time_ms */
        hf_want_i32(&e->resp, 1);                           /* topics */
        want_topic(&e->resp, "topic", (const int32_t[]){ 0, 1 }, ok, 2);
        hf_want_end(&e->resp);
    }
    gf_free(e);
}

/* The disk said no: every partition of the commit carries the store's error. */
static void test_store_error_on_every_partition(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "topic", 3);
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    kl_writer_t w;
    member_commit_frame(&w, 7, id);
    expect_commit("g", "topic", (const int32_t[]){ 0, 1 }, (const int64_t[]){ 10, 11 }, 2,
                  KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(gf_run(e, offset_commit_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", (const int32_t[]){ 0, 1 },
               (const kl_err_t[]){ KL_ERR_KAFKA_STORAGE_ERROR, KL_ERR_KAFKA_STORAGE_ERROR }, 2);
    hf_want_end(&e->resp);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "topic", 3);
    gf_expect_close_on_every_cut(e, offset_commit_handle, KCAT_015_OFFSET_COMMIT_V7_REQ,
                                 sizeof KCAT_015_OFFSET_COMMIT_V7_REQ);
    gf_expect_close_on_every_cut(e, offset_commit_handle, KPY_013_OFFSET_COMMIT_V2_REQ,
                                 sizeof KPY_013_OFFSET_COMMIT_V2_REQ);
    kl_writer_t w;
    member_commit_frame(&w, 1, "m");                        /* v1: commit_timestamp */
    gf_expect_close_on_every_cut(e, offset_commit_handle, w.buf, w.len);
    wr_free(&w);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_illegal_generation),
        cmocka_unit_test(test_v0_simple_commit_with_unknown_partitions),
        cmocka_unit_test(test_member_commit_every_version),
        cmocka_unit_test(test_store_error_on_every_partition),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
