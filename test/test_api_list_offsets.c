/*
 * test/test_api_list_offsets.c — unit tests of infrastructure/protocol/api_list_offsets.c:
 * the ListOffsets handler fed the clients' own requests (kafka-python v1, kcat v2,
 * KafkaJS v3 fixture frames) and hand-built v1/v4/v5 ones, over a real broker and use
 * cases with the cmocka log store mock, checking the response body field by field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "infrastructure/protocol/api.h"
#include "test/fixtures/client_frames.h"
#include "test/mocks/handler_fixture.h"

/* ---- expected response pieces ---- */

static void want_partition(kl_reader_t *r, int16_t v, int32_t index, kl_err_t err,
                           int64_t timestamp, int64_t offset)
{
    hf_want_i32(r, index);
    hf_want_i16(r, (int16_t)err);
    if (v >= 1) hf_want_i64(r, timestamp);
    if (v >= 1) hf_want_i64(r, offset);
    if (v >= 4) hf_want_i32(r, 0);                          /* leader_epoch */
}

static void want_topic(kl_reader_t *r, const char *name, int32_t partitions)
{
    hf_want_str(r, name);
    hf_want_i32(r, partitions);
}

/* A one-partition ListOffsets request of version `v`. */
static void lo_request(kl_writer_t *w, int16_t v, const char *topic, int32_t partition,
                       int64_t timestamp)
{
    hf_req_begin(w, KL_API_LIST_OFFSETS, v);
    wr_i32(w, -1);                                          /* replica_id */
    if (v >= 2) wr_i8(w, 0);                                /* isolation_level */
    wr_array_len(w, 1);
    wr_cstr(w, false, topic);
    wr_array_len(w, 1);
    wr_i32(w, partition);
    if (v >= 4) wr_i32(w, -1);                              /* current_leader_epoch */
    wr_i64(w, timestamp);
}

/* ---- the clients' own requests ---- */

/* kafka-python: v1, partition 0, EARLIEST (-2): the log start offset, timestamp -1. */
static void test_kafka_python_v1_earliest(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 2, 5);
    assert_int_equal(hf_run(e, list_offsets_handle, KPY_010_LIST_OFFSETS_V1_REQ,
                            sizeof KPY_010_LIST_OFFSETS_V1_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);                               /* topics (no throttle in v1) */
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, 1, 0, KL_OK, -1, 2);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* kcat: v2 (throttle, isolation_level), partition 1, EARLIEST. */
static void test_kcat_v2_earliest(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 2, 5);
    assert_int_equal(hf_run(e, list_offsets_handle, KCAT_008_LIST_OFFSETS_V2_REQ,
                            sizeof KCAT_008_LIST_OFFSETS_V2_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, 2, 1, KL_OK, -1, 2);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* KafkaJS consumer: v3, EARLIEST for partitions 0-2. */
static void test_kafkajs_v3_earliest_three_partitions(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 1, 4);
    assert_int_equal(hf_run(e, list_offsets_handle, KJS_008_LIST_OFFSETS_V3_REQ,
                            sizeof KJS_008_LIST_OFFSETS_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 3);
    for (int32_t i = 0; i < 3; i++)
        want_partition(&e->resp, 3, i, KL_OK, -1, 1);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* KafkaJS admin: v3, LATEST (-1) for partitions 0-2: the high watermark. */
static void test_kafkajs_v3_latest(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 1, 4);
    broker_find_partition(&e->broker, "topic", 2)->offsets.high_watermark = 9;
    broker_find_partition(&e->broker, "topic", 2)->offsets.log_end = 9;
    assert_int_equal(hf_run(e, list_offsets_handle, KJS_023_LIST_OFFSETS_V3_REQ,
                            sizeof KJS_023_LIST_OFFSETS_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 3);
    want_partition(&e->resp, 3, 0, KL_OK, -1, 4);
    want_partition(&e->resp, 3, 1, KL_OK, -1, 4);
    want_partition(&e->resp, 3, 2, KL_OK, -1, 9);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* ---- by timestamp, every version ---- */

static void check_by_timestamp(int16_t v)
{
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 1, 0, 10);
    kl_writer_t w;
    lo_request(&w, v, "topic", 0, 1700000000000LL);
    mock_log_store_expect_offset_for_timestamp(hf_log(0), 1700000000000LL, 6,
                                               1700000000123LL, KL_OK);
    assert_int_equal(hf_run(e, list_offsets_handle, w.buf, w.len), KL_REPLY_SEND);
    if (v >= 2) hf_want_i32(&e->resp, 0);                   /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, v, 0, KL_OK, 1700000000123LL, 6);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

static void test_v1_by_timestamp(void **state) { (void)state; check_by_timestamp(1); }
static void test_v4_by_timestamp(void **state) { (void)state; check_by_timestamp(4); }
static void test_v5_by_timestamp(void **state) { (void)state; check_by_timestamp(5); }

/* No record that recent: offset -1, timestamp -1, no error. */
static void test_timestamp_after_last_record(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 1, 0, 10);
    kl_writer_t w;
    lo_request(&w, 5, "topic", 0, 1800000000000LL);
    mock_log_store_expect_offset_for_timestamp(hf_log(0), 1800000000000LL, -1, -1, KL_OK);
    assert_int_equal(hf_run(e, list_offsets_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, 5, 0, KL_OK, -1, -1);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* ---- errors ---- */

static void test_unknown_topic_and_partition(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "other", 1);
    assert_int_equal(hf_run(e, list_offsets_handle, KJS_023_LIST_OFFSETS_V3_REQ,
                            sizeof KJS_023_LIST_OFFSETS_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 3);
    for (int32_t i = 0; i < 3; i++)
        want_partition(&e->resp, 3, i, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
    hf_want_end(&e->resp);

    kl_writer_t w;
    lo_request(&w, 4, "other", 1, -1);
    assert_int_equal(hf_run(e, list_offsets_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, "other", 1);
    want_partition(&e->resp, 4, 1, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

static void test_truncated_request_closes(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    hf_expect_close_on_every_cut(e, list_offsets_handle, KJS_023_LIST_OFFSETS_V3_REQ,
                                 sizeof KJS_023_LIST_OFFSETS_V3_REQ, 13);
    hf_expect_close_on_every_cut(e, list_offsets_handle, KPY_010_LIST_OFFSETS_V1_REQ,
                                 sizeof KPY_010_LIST_OFFSETS_V1_REQ, 10 + 11);
    hf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_python_v1_earliest),
        cmocka_unit_test(test_kcat_v2_earliest),
        cmocka_unit_test(test_kafkajs_v3_earliest_three_partitions),
        cmocka_unit_test(test_kafkajs_v3_latest),
        cmocka_unit_test(test_v1_by_timestamp),
        cmocka_unit_test(test_v4_by_timestamp),
        cmocka_unit_test(test_v5_by_timestamp),
        cmocka_unit_test(test_timestamp_after_last_record),
        cmocka_unit_test(test_unknown_topic_and_partition),
        cmocka_unit_test(test_truncated_request_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
