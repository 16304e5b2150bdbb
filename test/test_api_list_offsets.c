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
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kafka-python/010-ListOffsets-v1.req.bin (52 bytes) */
static const uint8_t KP_LIST_OFFSETS_V1[] = {
    0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0b, 0x6b, 0x70,
    0x2d, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xfe,
};
/* kcat/008-ListOffsets-v2.req.bin (49 bytes) */
static const uint8_t KCAT_LIST_OFFSETS_V2[] = {
    0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xfe,
};
/* kafkajs/008-ListOffsets-v3.req.bin (69 bytes) */
static const uint8_t KJS_LIST_OFFSETS_V3_EARLIEST[] = {
    0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05,
    0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00,
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00,
    0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
};
/* kafkajs/023-ListOffsets-v3.req.bin (69 bytes) */
static const uint8_t KJS_LIST_OFFSETS_V3_LATEST[] = {
    0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05,
    0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
/* ---- harness: a broker, a request as dispatch would hand it over, the response ---- */

#define NODE_ID 1
#define FAKE_HDR 0x4b4c4d4dU     /* bytes dispatch would have written before the body */

typedef struct env {
    kl_broker_t broker;
    kl_request_t req;
    kl_writer_t out;
    kl_reader_t resp;            /* the response body, after env_run */
    int32_t logs;                /* partition logs opened through the mock store */
    uint8_t frame[4096];         /* the request, copied: handlers may write to it */
} env_t;

static kl_broker_config_t env_config(void)
{
    kl_broker_config_t c;
    memset(&c, 0, sizeof c);
    c.node_id = NODE_ID;
    strcpy(c.advertised_host, "localhost");
    c.advertised_port = 9092;
    c.num_partitions = 3;
    c.default_replication_factor = 1;
    c.auto_create_topics = true;
    c.message_max_bytes = 1048588;
    strcpy(c.cluster_id, "klamm-cluster");
    return c;
}

static env_t *env_new(kl_log_store_t store)
{
    env_t *e = calloc(1, sizeof *e);
    assert_non_null(e);
    kl_broker_config_t cfg = env_config();
    if (store.topic_load_all == mock_log_store_topic_load_all)
        mock_log_store_expect_load_all(NULL, 0, KL_OK);
    assert_int_equal(broker_init(&e->broker, &cfg, store, mock_clock()), KL_OK);
    wr_init(&e->out);
    return e;
}

/* Mock-store log handles: distinct, non-NULL, in opening order. */
static void *env_log(int32_t i) { return (void *)(uintptr_t)(0x1000 + i); }

/* Create a topic through the use case, expecting exactly its store calls; every
 * partition's log holds [log_start, log_end). */
static void env_add_topic_at(env_t *e, const char *name, int32_t partitions,
                             int64_t log_start, int64_t log_end)
{
    mock_log_store_expect_topic_create(name, partitions, KL_OK);
    for (int32_t i = 0; i < partitions; i++)
        mock_log_store_expect_open(name, i, env_log(e->logs + i), log_start, log_end, KL_OK);
    kl_topic_t *t = NULL;
    assert_int_equal(create_topic(&e->broker, name, partitions, 1, NULL, 0, false, &t), KL_OK);
    e->logs += partitions;
}

static void env_add_topic(env_t *e, const char *name, int32_t partitions)
{
    env_add_topic_at(e, name, partitions, 0, 0);
}

static void env_free(env_t *e)
{
    for (int32_t i = 0; i < e->logs; i++)    /* broker_close: topics in creation order */
        mock_log_store_expect_close(env_log(i));
    broker_close(&e->broker);
    wr_free(&e->out);
    free(e);
}

/* Run `h` on a whole request frame (header v1 + body), as dispatch would: the header is
 * decoded here by hand (request_header.c owns that, and is tested there), `out` already
 * holds 8 bytes the handler must leave alone. Returns the handler's reply; e->resp
 * then reads the body the handler wrote. */
static kl_reply_t env_run_at(env_t *e, kl_api_handler_fn h, const uint8_t *frame, size_t len,
                             int64_t now_ms, int64_t first_ms, bool final_attempt)
{
    assert_true(len <= sizeof e->frame);
    memcpy(e->frame, frame, len);
    kl_reader_t r;
    rd_init(&r, e->frame, len);
    memset(&e->req, 0, sizeof e->req);
    e->req.broker = &e->broker;
    e->req.header.api_key = rd_i16(&r);
    e->req.header.api_version = rd_i16(&r);
    e->req.header.correlation_id = rd_i32(&r);
    e->req.header.client_id = rd_nullable_string(&r);
    assert_true(rd_ok(&r));
    e->req.now_ms = now_ms;
    e->req.first_attempt_ms = first_ms;
    e->req.final_attempt = final_attempt;
    e->req.park_until_ms = -1;
    kl_reader_t body;
    rd_init(&body, e->frame + r.pos, len - r.pos);

    wr_reset(&e->out);
    wr_u32(&e->out, FAKE_HDR);
    wr_i32(&e->out, e->req.header.correlation_id);
    kl_reply_t reply = h(&e->req, &body, &e->out);
    assert_true(wr_ok(&e->out));
    assert_true(e->out.len >= 8);
    kl_reader_t hdr;
    rd_init(&hdr, e->out.buf, 8);
    assert_int_equal(rd_u32(&hdr), FAKE_HDR);
    assert_int_equal(rd_i32(&hdr), e->req.header.correlation_id);
    rd_init(&e->resp, e->out.buf + 8, e->out.len - 8);
    return reply;
}

static kl_reply_t env_run(env_t *e, kl_api_handler_fn h, const uint8_t *frame, size_t len)
{
    return env_run_at(e, h, frame, len, 1000, 1000, false);
}

/* Every strict prefix of the body is a truncated request: the handler must close the
 * connection, write nothing, and (the mock store fails on any unexpected call) do nothing. */
static void env_expect_close_on_every_cut(env_t *e, kl_api_handler_fn h, const uint8_t *frame,
                                          size_t len, size_t body_at)
{
    for (size_t cut = body_at; cut < len; cut++) {
        assert_int_equal(env_run(e, h, frame, cut), KL_REPLY_CLOSE);
        assert_int_equal(rd_remaining(&e->resp), 0);
    }
}

/* Build a request frame: header v1 with client id "test", then the caller's body. */
static void req_begin(kl_writer_t *w, int16_t key, int16_t version)
{
    wr_init(w);
    wr_i16(w, key);
    wr_i16(w, version);
    wr_i32(w, 42);
    wr_string(w, "test", 4);
}

static void want_i16(kl_reader_t *r, int16_t v) { assert_int_equal(rd_i16(r), v); }
static void want_i32(kl_reader_t *r, int32_t v) { assert_int_equal(rd_i32(r), v); }
static void want_i64(kl_reader_t *r, int64_t v) { assert_int_equal(rd_i64(r), v); }
static void want_str(kl_reader_t *r, const char *s)
{
    kl_str_t got = rd_nullable_string(r);
    assert_true(rd_ok(r));
    assert_int_equal(got.len, (int32_t)strlen(s));
    assert_memory_equal(got.ptr, s, strlen(s));
}
static void want_end(kl_reader_t *r)
{
    assert_true(rd_ok(r));
    assert_int_equal(rd_remaining(r), 0);
}

/* ---- expected response pieces ---- */

static void want_partition(kl_reader_t *r, int16_t v, int32_t index, kl_err_t err,
                           int64_t timestamp, int64_t offset)
{
    want_i32(r, index);
    want_i16(r, (int16_t)err);
    if (v >= 1) want_i64(r, timestamp);
    if (v >= 1) want_i64(r, offset);
    if (v >= 4) want_i32(r, 0);                             /* leader_epoch */
}

static void want_topic(kl_reader_t *r, const char *name, int32_t partitions)
{
    want_str(r, name);
    want_i32(r, partitions);
}

/* A one-partition ListOffsets request of version `v`. */
static void lo_request(kl_writer_t *w, int16_t v, const char *topic, int32_t partition,
                       int64_t timestamp)
{
    req_begin(w, KL_API_LIST_OFFSETS, v);
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
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 2, 5);
    assert_int_equal(env_run(e, list_offsets_handle, KP_LIST_OFFSETS_V1,
                             sizeof KP_LIST_OFFSETS_V1), KL_REPLY_SEND);
    want_i32(&e->resp, 1);                                  /* topics (no throttle in v1) */
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, 1, 0, KL_OK, -1, 2);
    want_end(&e->resp);
    env_free(e);
}

/* kcat: v2 (throttle, isolation_level), partition 1, EARLIEST. */
static void test_kcat_v2_earliest(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 2, 5);
    assert_int_equal(env_run(e, list_offsets_handle, KCAT_LIST_OFFSETS_V2,
                             sizeof KCAT_LIST_OFFSETS_V2), KL_REPLY_SEND);
    want_i32(&e->resp, 0);                                  /* throttle_time_ms */
    want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, 2, 1, KL_OK, -1, 2);
    want_end(&e->resp);
    env_free(e);
}

/* KafkaJS consumer: v3, EARLIEST for partitions 0-2. */
static void test_kafkajs_v3_earliest_three_partitions(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 1, 4);
    assert_int_equal(env_run(e, list_offsets_handle, KJS_LIST_OFFSETS_V3_EARLIEST,
                             sizeof KJS_LIST_OFFSETS_V3_EARLIEST), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 3);
    for (int32_t i = 0; i < 3; i++)
        want_partition(&e->resp, 3, i, KL_OK, -1, 1);
    want_end(&e->resp);
    env_free(e);
}

/* KafkaJS admin: v3, LATEST (-1) for partitions 0-2: the high watermark. */
static void test_kafkajs_v3_latest(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 1, 4);
    broker_find_partition(&e->broker, "topic", 2)->offsets.high_watermark = 9;
    broker_find_partition(&e->broker, "topic", 2)->offsets.log_end = 9;
    assert_int_equal(env_run(e, list_offsets_handle, KJS_LIST_OFFSETS_V3_LATEST,
                             sizeof KJS_LIST_OFFSETS_V3_LATEST), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 3);
    want_partition(&e->resp, 3, 0, KL_OK, -1, 4);
    want_partition(&e->resp, 3, 1, KL_OK, -1, 4);
    want_partition(&e->resp, 3, 2, KL_OK, -1, 9);
    want_end(&e->resp);
    env_free(e);
}

/* ---- by timestamp, every version ---- */

static void check_by_timestamp(int16_t v)
{
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 1, 0, 10);
    kl_writer_t w;
    lo_request(&w, v, "topic", 0, 1700000000000LL);
    mock_log_store_expect_offset_for_timestamp(env_log(0), 1700000000000LL, 6,
                                               1700000000123LL, KL_OK);
    assert_int_equal(env_run(e, list_offsets_handle, w.buf, w.len), KL_REPLY_SEND);
    if (v >= 2) want_i32(&e->resp, 0);                      /* throttle_time_ms */
    want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, v, 0, KL_OK, 1700000000123LL, 6);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

static void test_v1_by_timestamp(void **state) { (void)state; check_by_timestamp(1); }
static void test_v4_by_timestamp(void **state) { (void)state; check_by_timestamp(4); }
static void test_v5_by_timestamp(void **state) { (void)state; check_by_timestamp(5); }

/* No record that recent: offset -1, timestamp -1, no error. */
static void test_timestamp_after_last_record(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 1, 0, 10);
    kl_writer_t w;
    lo_request(&w, 5, "topic", 0, 1800000000000LL);
    mock_log_store_expect_offset_for_timestamp(env_log(0), 1800000000000LL, -1, -1, KL_OK);
    assert_int_equal(env_run(e, list_offsets_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 1);
    want_partition(&e->resp, 5, 0, KL_OK, -1, -1);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* ---- errors ---- */

static void test_unknown_topic_and_partition(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "other", 1);
    assert_int_equal(env_run(e, list_offsets_handle, KJS_LIST_OFFSETS_V3_LATEST,
                             sizeof KJS_LIST_OFFSETS_V3_LATEST), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, "topic", 3);
    for (int32_t i = 0; i < 3; i++)
        want_partition(&e->resp, 3, i, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
    want_end(&e->resp);

    kl_writer_t w;
    lo_request(&w, 4, "other", 1, -1);
    assert_int_equal(env_run(e, list_offsets_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, "other", 1);
    want_partition(&e->resp, 4, 1, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

static void test_truncated_request_closes(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    env_expect_close_on_every_cut(e, list_offsets_handle, KJS_LIST_OFFSETS_V3_LATEST,
                                  sizeof KJS_LIST_OFFSETS_V3_LATEST, 13);
    env_expect_close_on_every_cut(e, list_offsets_handle, KP_LIST_OFFSETS_V1,
                                  sizeof KP_LIST_OFFSETS_V1, 10 + 11);
    env_free(e);
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
