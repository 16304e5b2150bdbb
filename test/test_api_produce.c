/*
 * test/test_api_produce.c — unit tests of infrastructure/protocol/api_produce.c: the
 * Produce handler fed the clients' own v7 requests (kcat, kafka-python, KafkaJS fixture
 * frames) and hand-built v3/v5/v8 ones, over a real broker and use cases with the
 * cmocka log store mock (which checks each append's length and first base offset),
 * checking the response body field by field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "domain/record_batch.h"
#include "infrastructure/protocol/api.h"
#include "test/fixtures/client_frames.h"
#include "test/mocks/handler_fixture.h"

/* Where the fixtures' record sets sit in their frames (offset, length). */
#define KCAT_RECORDS_AT 48
#define KCAT_RECORDS_LEN 122          /* one batch, 3 records */
#define KCAT_BODY_AT 17

/* ---- expected response pieces ---- */

static void want_partition(kl_reader_t *r, int16_t v, int32_t index, kl_err_t err,
                           int64_t base_offset, int64_t log_start)
{
    hf_want_i32(r, index);
    hf_want_i16(r, (int16_t)err);
    hf_want_i64(r, base_offset);
    if (v >= 2) hf_want_i64(r, -1);                         /* log_append_time: CreateTime */
    if (v >= 5) hf_want_i64(r, log_start);
    if (v >= 8) hf_want_i32(r, 0);                          /* record_errors: [] */
    if (v >= 8) hf_want_null_str(r);                        /* error_message */
}

/* A one-partition Produce request of version `v` carrying `records` (NULL: null). */
static void produce_request(kl_writer_t *w, int16_t v, int16_t acks, const char *topic,
                            int32_t partition, const uint8_t *records, int32_t len)
{
    hf_req_begin(w, KL_API_PRODUCE, v);
    wr_nullable_string(w, NULL, -1);                        /* transactional_id */
    wr_i16(w, acks);
    wr_i32(w, 30000);
    wr_array_len(w, 1);
    wr_cstr(w, false, topic);
    wr_array_len(w, 1);
    wr_i32(w, partition);
    wr_nullable_bytes(w, records, len);
}

/* ---- the clients' own requests ---- */

/* kcat: v7, acks -1, one batch of 3 records for partition 1, whose log ends at 5: the
 * batch is appended with base offset 5, rewritten in the frame itself. */
static void test_kcat_v7_appends_at_log_end(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 2, 5);
    mock_log_store_expect_append(hf_log(1), KCAT_RECORDS_LEN, 5, KL_OK);
    assert_int_equal(hf_run(e, produce_handle, KCAT_006_PRODUCE_V7_REQ,
                            sizeof KCAT_006_PRODUCE_V7_REQ),
                     KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);                               /* responses */
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 7, 1, KL_OK, 5, 2);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_end(&e->resp);
    assert_int_equal(kl_be64_read(e->frame + KCAT_RECORDS_AT), 5);
    kl_partition_t *p = broker_find_partition(&e->broker, "topic", 1);
    assert_int_equal(p->offsets.log_end, 8);
    hf_free(e);
}

/* kcat -z gzip: a compressed batch is stored as sent (2 records at partition 2). */
static void test_kcat_v7_gzip_batch(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    mock_log_store_expect_append(hf_log(2), 144, 0, KL_OK);
    assert_int_equal(hf_run(e, produce_handle, KCAT_017_PRODUCE_V7_REQ,
                            sizeof KCAT_017_PRODUCE_V7_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 7, 2, KL_OK, 0, 0);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    assert_int_equal(broker_find_partition(&e->broker, "topic", 2)->offsets.log_end, 2);
    hf_free(e);
}

/* kafka-python: v7, partitions 0 (2 records) and 2 (3 records). */
static void test_kafka_python_v7_two_partitions(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 0, 10);
    mock_log_store_expect_append(hf_log(0), 197, 10, KL_OK);
    mock_log_store_expect_append(hf_log(2), 265, 10, KL_OK);
    assert_int_equal(hf_run(e, produce_handle, KPY_004_PRODUCE_V7_REQ,
                            sizeof KPY_004_PRODUCE_V7_REQ),
                     KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 2);
    want_partition(&e->resp, 7, 0, KL_OK, 10, 0);
    want_partition(&e->resp, 7, 2, KL_OK, 10, 0);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    assert_int_equal(broker_find_partition(&e->broker, "topic", 0)->offsets.log_end, 12);
    assert_int_equal(broker_find_partition(&e->broker, "topic", 2)->offsets.log_end, 13);
    hf_free(e);
}

/* KafkaJS: v7, all three partitions. */
static void test_kafkajs_v7_three_partitions(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    mock_log_store_expect_append(hf_log(0), 235, 0, KL_OK);
    mock_log_store_expect_append(hf_log(1), 119, 0, KL_OK);
    mock_log_store_expect_append(hf_log(2), 119, 0, KL_OK);
    assert_int_equal(hf_run(e, produce_handle, KJS_003_PRODUCE_V7_REQ,
                            sizeof KJS_003_PRODUCE_V7_REQ),
                     KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 7, 0, KL_OK, 0, 0);
    want_partition(&e->resp, 7, 1, KL_OK, 0, 0);
    want_partition(&e->resp, 7, 2, KL_OK, 0, 0);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* ---- every version's response layout, with kcat's batch ---- */

static void check_version(int16_t v)
{
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 1, 1, 4);
    kl_writer_t w;
    produce_request(&w, v, 1, "topic", 0, KCAT_006_PRODUCE_V7_REQ + KCAT_RECORDS_AT,
                    KCAT_RECORDS_LEN);
    mock_log_store_expect_append(hf_log(0), KCAT_RECORDS_LEN, 4, KL_OK);
    assert_int_equal(hf_run(e, produce_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, v, 0, KL_OK, 4, 1);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

static void test_v3_response(void **state) { (void)state; check_version(3); }
static void test_v5_response(void **state) { (void)state; check_version(5); }
static void test_v8_response(void **state) { (void)state; check_version(8); }

/* ---- errors ---- */

/* acks must be -1, 0 or 1: anything else fails every partition, appends nothing. */
static void test_bad_acks(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    kl_writer_t w;
    produce_request(&w, 7, 2, "topic", 0, KCAT_006_PRODUCE_V7_REQ + KCAT_RECORDS_AT,
                    KCAT_RECORDS_LEN);
    assert_int_equal(hf_run(e, produce_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 7, 0, KL_ERR_INVALID_REQUIRED_ACKS, -1, -1);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    assert_int_equal(broker_find_partition(&e->broker, "topic", 0)->offsets.log_end, 0);
    wr_free(&w);
    hf_free(e);
}

/* acks=0: appended, but the producer reads no response. */
static void test_acks_zero_appends_without_response(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    kl_writer_t w;
    produce_request(&w, 7, 0, "topic", 0, KCAT_006_PRODUCE_V7_REQ + KCAT_RECORDS_AT,
                    KCAT_RECORDS_LEN);
    mock_log_store_expect_append(hf_log(0), KCAT_RECORDS_LEN, 0, KL_OK);
    assert_int_equal(hf_run(e, produce_handle, w.buf, w.len), KL_REPLY_NONE);
    hf_want_end(&e->resp);                                  /* nothing after the header */
    assert_int_equal(broker_find_partition(&e->broker, "topic", 0)->offsets.log_end, 3);
    wr_free(&w);
    hf_free(e);
}

static void test_unknown_topic_and_partition(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    kl_writer_t w;
    produce_request(&w, 8, -1, "nope", 0, KCAT_006_PRODUCE_V7_REQ + KCAT_RECORDS_AT,
                    KCAT_RECORDS_LEN);
    assert_int_equal(hf_run(e, produce_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "nope");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 8, 0, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    wr_free(&w);

    produce_request(&w, 8, -1, "topic", 7, KCAT_006_PRODUCE_V7_REQ + KCAT_RECORDS_AT,
                    KCAT_RECORDS_LEN);
    assert_int_equal(hf_run(e, produce_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 8, 7, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* A null record set has no batch: INVALID_RECORD (the use case's v3+ rule). */
static void test_null_records(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    kl_writer_t w;
    produce_request(&w, 7, -1, "topic", 0, NULL, -1);
    assert_int_equal(hf_run(e, produce_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 7, 0, KL_ERR_INVALID_RECORD, -1, -1);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* A flipped byte under the CRC: CORRUPT_MESSAGE, nothing appended. */
static void test_corrupt_batch(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    uint8_t records[KCAT_RECORDS_LEN];
    memcpy(records, KCAT_006_PRODUCE_V7_REQ + KCAT_RECORDS_AT, sizeof records);
    records[KCAT_RECORDS_LEN - 3] ^= 0x20;
    kl_writer_t w;
    produce_request(&w, 7, -1, "topic", 0, records, KCAT_RECORDS_LEN);
    assert_int_equal(hf_run(e, produce_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 7, 0, KL_ERR_CORRUPT_MESSAGE, -1, -1);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* The store's failure reaches the client as its error code. */
static void test_storage_error(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    mock_log_store_expect_append(hf_log(1), KCAT_RECORDS_LEN, 0, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(hf_run(e, produce_handle, KCAT_006_PRODUCE_V7_REQ,
                            sizeof KCAT_006_PRODUCE_V7_REQ),
                     KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 7, 1, KL_ERR_KAFKA_STORAGE_ERROR, -1, -1);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    assert_int_equal(broker_find_partition(&e->broker, "topic", 1)->offsets.log_end, 0);
    hf_free(e);
}

/* Every cut of a real request: close, write nothing, append nothing (the mock fails on
 * an unexpected append). */
static void test_truncated_request_closes_and_appends_nothing(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    hf_expect_close_on_every_cut(e, produce_handle, KJS_003_PRODUCE_V7_REQ,
                                 sizeof KJS_003_PRODUCE_V7_REQ, 10 + 3);
    hf_expect_close_on_every_cut(e, produce_handle, KCAT_006_PRODUCE_V7_REQ,
                                 sizeof KCAT_006_PRODUCE_V7_REQ, KCAT_BODY_AT);
    for (int32_t i = 0; i < 3; i++)
        assert_int_equal(broker_find_partition(&e->broker, "topic", i)->offsets.log_end, 0);
    hf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kcat_v7_appends_at_log_end),
        cmocka_unit_test(test_kcat_v7_gzip_batch),
        cmocka_unit_test(test_kafka_python_v7_two_partitions),
        cmocka_unit_test(test_kafkajs_v7_three_partitions),
        cmocka_unit_test(test_v3_response),
        cmocka_unit_test(test_v5_response),
        cmocka_unit_test(test_v8_response),
        cmocka_unit_test(test_bad_acks),
        cmocka_unit_test(test_acks_zero_appends_without_response),
        cmocka_unit_test(test_unknown_topic_and_partition),
        cmocka_unit_test(test_null_records),
        cmocka_unit_test(test_corrupt_batch),
        cmocka_unit_test(test_storage_error),
        cmocka_unit_test(test_truncated_request_closes_and_appends_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
