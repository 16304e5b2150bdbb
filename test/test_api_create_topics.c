/*
 * test/test_api_create_topics.c — unit tests of infrastructure/protocol/api_create_topics.c:
 * the CreateTopics handler fed the clients' own v3 requests (kafka-python, KafkaJS
 * fixture frames) and hand-built v0/v1/v2/v4 ones, over a real broker and use cases with
 * the cmocka log store mock (every topic_create and partition_open is an expectation, so
 * validate_only and refused topics are seen to touch nothing), checking the response
 * body field by field.
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

/* kafka-python/018-CreateTopics-v3.req.bin (73 bytes) */
static const uint8_t KP_CREATE_TOPICS_V3[] = {
    0x00, 0x13, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x08, 0x6b, 0x70,
    0x2d, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0x00, 0x00, 0x00, 0x01, 0x00, 0x09,
    0x6e, 0x65, 0x77, 0x2d, 0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x0c, 0x72, 0x65, 0x74, 0x65, 0x6e, 0x74, 0x69, 0x6f, 0x6e, 0x2e, 0x6d,
    0x73, 0x00, 0x05, 0x36, 0x30, 0x30, 0x30, 0x30, 0x00, 0x00, 0x0b, 0xb8,
    0x00,
};
/* kafkajs/015-CreateTopics-v3.req.bin (68 bytes) */
static const uint8_t KJS_CREATE_TOPICS_V3[] = {
    0x00, 0x13, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0x6e, 0x65, 0x77, 0x2d, 0x74,
    0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0c, 0x72, 0x65, 0x74, 0x65,
    0x6e, 0x74, 0x69, 0x6f, 0x6e, 0x2e, 0x6d, 0x73, 0x00, 0x05, 0x36, 0x30,
    0x30, 0x30, 0x30, 0x00, 0x00, 0x13, 0x88, 0x00,
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

/* Expect the opens a use case makes when it creates `name` on its own (auto-create). */
static void env_expect_created(env_t *e, const char *name, int32_t partitions)
{
    mock_log_store_expect_topic_create(name, partitions, KL_OK);
    for (int32_t i = 0; i < partitions; i++)
        mock_log_store_expect_open(name, i, env_log(e->logs + i), 0, 0, KL_OK);
    e->logs += partitions;
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

/* ---- requests and expected responses ---- */

typedef struct ct_assign {
    int32_t index;
    int32_t broker;
} ct_assign_t;

/* One CreatableTopic entry (no configs unless `config_key`; value NULL = null). */
static void ct_topic(kl_writer_t *w, const char *name, int32_t partitions, int16_t replication,
                     const ct_assign_t *assign, int32_t n_assign, const char *config_key,
                     const char *config_value)
{
    wr_cstr(w, false, name);
    wr_i32(w, partitions);
    wr_i16(w, replication);
    wr_array_len(w, n_assign);
    for (int32_t i = 0; i < n_assign; i++) {
        wr_i32(w, assign[i].index);
        wr_array_len(w, 1);
        wr_i32(w, assign[i].broker);
    }
    wr_array_len(w, config_key != NULL ? 1 : 0);
    if (config_key != NULL) {
        wr_cstr(w, false, config_key);
        wr_nullable_string(w, config_value, config_value != NULL ? (int32_t)strlen(config_value) : -1);
    }
}

static void ct_end(kl_writer_t *w, int16_t v, bool validate_only)
{
    wr_i32(w, 60000);                                       /* timeout_ms */
    if (v >= 1) wr_i8(w, validate_only);
}

/* A request for one plain topic. */
static void ct_request(kl_writer_t *w, int16_t v, const char *name, int32_t partitions,
                       int16_t replication, bool validate_only)
{
    req_begin(w, KL_API_CREATE_TOPICS, v);
    wr_array_len(w, 1);
    ct_topic(w, name, partitions, replication, NULL, 0, NULL, NULL);
    ct_end(w, v, validate_only);
}

static void want_result(kl_reader_t *r, int16_t v, const char *name, kl_err_t err)
{
    want_str(r, name);
    want_i16(r, (int16_t)err);
    if (v >= 1) {
        kl_str_t msg = rd_nullable_string(r);
        if (err == KL_OK)
            assert_int_equal(msg.len, -1);                  /* null: no error */
        else
            assert_true(msg.len > 0);                       /* a message for the user */
    }
}

/* ---- the clients' own requests ---- */

/* kafka-python admin: v3, new-topic, 2 partitions, replication 1, retention.ms=60000. */
static void test_kafka_python_v3_creates_topic_with_config(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_created(e, "new-topic", 2);
    assert_int_equal(env_run(e, create_topics_handle, KP_CREATE_TOPICS_V3,
                             sizeof KP_CREATE_TOPICS_V3), KL_REPLY_SEND);
    want_i32(&e->resp, 0);                                  /* throttle_time_ms */
    want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "new-topic", KL_OK);
    want_end(&e->resp);
    kl_topic_t *t = broker_find_topic(&e->broker, "new-topic");
    assert_non_null(t);
    assert_int_equal(t->meta.partition_count, 2);
    assert_string_equal(topic_meta_config(&t->meta, "retention.ms"), "60000");
    env_free(e);
}

/* KafkaJS admin: the same topic twice: created, then TOPIC_ALREADY_EXISTS. */
static void test_kafkajs_v3_then_already_exists(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_created(e, "new-topic", 2);
    assert_int_equal(env_run(e, create_topics_handle, KJS_CREATE_TOPICS_V3,
                             sizeof KJS_CREATE_TOPICS_V3), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "new-topic", KL_OK);
    want_end(&e->resp);

    assert_int_equal(env_run(e, create_topics_handle, KJS_CREATE_TOPICS_V3,
                             sizeof KJS_CREATE_TOPICS_V3), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "new-topic", KL_ERR_TOPIC_ALREADY_EXISTS);
    want_end(&e->resp);
    env_free(e);
}

/* ---- versions ---- */

/* v0: no throttle, no error_message. */
static void test_v0_layout(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_created(e, "t0", 1);
    kl_writer_t w;
    ct_request(&w, 0, "t0", 1, 1, false);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 1);
    want_result(&e->resp, 0, "t0", KL_OK);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* v1 validate_only: every check, no store call, nothing registered. */
static void test_v1_validate_only(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    kl_writer_t w;
    ct_request(&w, 1, "t1", 4, 1, true);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 1);
    want_result(&e->resp, 1, "t1", KL_OK);
    want_end(&e->resp);
    assert_null(broker_find_topic(&e->broker, "t1"));
    wr_free(&w);

    ct_request(&w, 1, "t1", 0, 1, true);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 1);
    want_result(&e->resp, 1, "t1", KL_ERR_INVALID_PARTITIONS);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* v4 (KIP-464): -1/-1 without an assignment = broker defaults (num.partitions 3). */
static void test_v4_defaults(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_created(e, "t4", 3);
    kl_writer_t w;
    ct_request(&w, 4, "t4", -1, -1, false);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_result(&e->resp, 4, "t4", KL_OK);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* ---- the request-level rules ---- */

/* A name listed twice: INVALID_REQUEST for both entries, the other topic is created. */
static void test_duplicate_names(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_created(e, "solo", 1);
    kl_writer_t w;
    req_begin(&w, KL_API_CREATE_TOPICS, 3);
    wr_array_len(&w, 3);
    ct_topic(&w, "twice", 1, 1, NULL, 0, NULL, NULL);
    ct_topic(&w, "solo", 1, 1, NULL, 0, NULL, NULL);
    ct_topic(&w, "twice", 2, 1, NULL, 0, NULL, NULL);
    ct_end(&w, 3, false);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 3);
    want_result(&e->resp, 3, "twice", KL_ERR_INVALID_REQUEST);
    want_result(&e->resp, 3, "solo", KL_OK);
    want_result(&e->resp, 3, "twice", KL_ERR_INVALID_REQUEST);
    want_end(&e->resp);
    assert_null(broker_find_topic(&e->broker, "twice"));
    wr_free(&w);
    env_free(e);
}

/* Manual assignment on this broker (any order): the count comes from it. */
static void test_assignment_on_this_broker(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_created(e, "manual", 2);
    ct_assign_t a[] = { { 1, NODE_ID }, { 0, NODE_ID } };
    kl_writer_t w;
    req_begin(&w, KL_API_CREATE_TOPICS, 3);
    wr_array_len(&w, 1);
    ct_topic(&w, "manual", -1, -1, a, 2, NULL, NULL);
    ct_end(&w, 3, false);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "manual", KL_OK);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* Another broker, a gap in the indexes, or an assignment plus a count: refused. */
static void test_bad_assignments(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    ct_assign_t other[] = { { 0, NODE_ID + 1 } };
    ct_assign_t gap[] = { { 0, NODE_ID }, { 2, NODE_ID } };
    ct_assign_t twice[] = { { 0, NODE_ID }, { 0, NODE_ID } };
    kl_writer_t w;
    req_begin(&w, KL_API_CREATE_TOPICS, 2);
    wr_array_len(&w, 4);
    ct_topic(&w, "a", -1, -1, other, 1, NULL, NULL);
    ct_topic(&w, "b", -1, -1, gap, 2, NULL, NULL);
    ct_topic(&w, "c", -1, -1, twice, 2, NULL, NULL);
    ct_topic(&w, "d", 1, -1, gap, 1, NULL, NULL);
    ct_end(&w, 2, false);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 4);
    want_result(&e->resp, 2, "a", KL_ERR_INVALID_REPLICA_ASSIGNMENT);
    want_result(&e->resp, 2, "b", KL_ERR_INVALID_REPLICA_ASSIGNMENT);
    want_result(&e->resp, 2, "c", KL_ERR_INVALID_REPLICA_ASSIGNMENT);
    want_result(&e->resp, 2, "d", KL_ERR_INVALID_REQUEST);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* A null config value, an invalid value, a bad name, replication 3: each its error. */
static void test_invalid_topics(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    kl_writer_t w;
    req_begin(&w, KL_API_CREATE_TOPICS, 3);
    wr_array_len(&w, 4);
    ct_topic(&w, "nullcfg", 1, 1, NULL, 0, "retention.ms", NULL);
    ct_topic(&w, "badcfg", 1, 1, NULL, 0, "retention.ms", "soon");
    ct_topic(&w, "bad name", 1, 1, NULL, 0, NULL, NULL);
    ct_topic(&w, "rf3", 1, 3, NULL, 0, NULL, NULL);
    ct_end(&w, 3, false);
    assert_int_equal(env_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    want_i32(&e->resp, 0);
    want_i32(&e->resp, 4);
    want_result(&e->resp, 3, "nullcfg", KL_ERR_INVALID_CONFIG);
    want_result(&e->resp, 3, "badcfg", KL_ERR_INVALID_CONFIG);
    want_result(&e->resp, 3, "bad name", KL_ERR_INVALID_TOPIC_EXCEPTION);
    want_result(&e->resp, 3, "rf3", KL_ERR_INVALID_REPLICATION_FACTOR);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* Every cut of a real request: close, write nothing, create nothing. */
static void test_truncated_request_closes_and_creates_nothing(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_close_on_every_cut(e, create_topics_handle, KP_CREATE_TOPICS_V3,
                                  sizeof KP_CREATE_TOPICS_V3, 10 + 8);
    env_expect_close_on_every_cut(e, create_topics_handle, KJS_CREATE_TOPICS_V3,
                                  sizeof KJS_CREATE_TOPICS_V3, 10 + 3);
    assert_null(broker_find_topic(&e->broker, "new-topic"));
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_python_v3_creates_topic_with_config),
        cmocka_unit_test(test_kafkajs_v3_then_already_exists),
        cmocka_unit_test(test_v0_layout),
        cmocka_unit_test(test_v1_validate_only),
        cmocka_unit_test(test_v4_defaults),
        cmocka_unit_test(test_duplicate_names),
        cmocka_unit_test(test_assignment_on_this_broker),
        cmocka_unit_test(test_bad_assignments),
        cmocka_unit_test(test_invalid_topics),
        cmocka_unit_test(test_truncated_request_closes_and_creates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
