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
#include "test/fixtures/client_frames.h"
#include "test/mocks/handler_fixture.h"

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
    hf_req_begin(w, KL_API_CREATE_TOPICS, v);
    wr_array_len(w, 1);
    ct_topic(w, name, partitions, replication, NULL, 0, NULL, NULL);
    ct_end(w, v, validate_only);
}

static void want_result(kl_reader_t *r, int16_t v, const char *name, kl_err_t err)
{
    hf_want_str(r, name);
    hf_want_i16(r, (int16_t)err);
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
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_created(e, "new-topic", 2);
    assert_int_equal(hf_run(e, create_topics_handle, KPY_018_CREATE_TOPICS_V3_REQ,
                            sizeof KPY_018_CREATE_TOPICS_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "new-topic", KL_OK);
    hf_want_end(&e->resp);
    kl_topic_t *t = broker_find_topic(&e->broker, "new-topic");
    assert_non_null(t);
    assert_int_equal(t->meta.partition_count, 2);
    assert_string_equal(topic_meta_config(&t->meta, "retention.ms"), "60000");
    hf_free(e);
}

/* KafkaJS admin: the same topic twice: created, then TOPIC_ALREADY_EXISTS. */
static void test_kafkajs_v3_then_already_exists(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_created(e, "new-topic", 2);
    assert_int_equal(hf_run(e, create_topics_handle, KJS_015_CREATE_TOPICS_V3_REQ,
                            sizeof KJS_015_CREATE_TOPICS_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "new-topic", KL_OK);
    hf_want_end(&e->resp);

    assert_int_equal(hf_run(e, create_topics_handle, KJS_015_CREATE_TOPICS_V3_REQ,
                            sizeof KJS_015_CREATE_TOPICS_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "new-topic", KL_ERR_TOPIC_ALREADY_EXISTS);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* ---- versions ---- */

/* v0: no throttle, no error_message. */
static void test_v0_layout(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_created(e, "t0", 1);
    kl_writer_t w;
    ct_request(&w, 0, "t0", 1, 1, false);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 0, "t0", KL_OK);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* v1 validate_only: every check, no store call, nothing registered. */
static void test_v1_validate_only(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    kl_writer_t w;
    ct_request(&w, 1, "t1", 4, 1, true);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 1, "t1", KL_OK);
    hf_want_end(&e->resp);
    assert_null(broker_find_topic(&e->broker, "t1"));
    wr_free(&w);

    ct_request(&w, 1, "t1", 0, 1, true);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 1, "t1", KL_ERR_INVALID_PARTITIONS);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* v4 (KIP-464): -1/-1 without an assignment = broker defaults (num.partitions 3). */
static void test_v4_defaults(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_created(e, "t4", 3);
    kl_writer_t w;
    ct_request(&w, 4, "t4", -1, -1, false);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 4, "t4", KL_OK);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* ---- the request-level rules ---- */

/* A name listed twice: INVALID_REQUEST for both entries, the other topic is created. */
static void test_duplicate_names(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_created(e, "solo", 1);
    kl_writer_t w;
    hf_req_begin(&w, KL_API_CREATE_TOPICS, 3);
    wr_array_len(&w, 3);
    ct_topic(&w, "twice", 1, 1, NULL, 0, NULL, NULL);
    ct_topic(&w, "solo", 1, 1, NULL, 0, NULL, NULL);
    ct_topic(&w, "twice", 2, 1, NULL, 0, NULL, NULL);
    ct_end(&w, 3, false);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 3);
    want_result(&e->resp, 3, "twice", KL_ERR_INVALID_REQUEST);
    want_result(&e->resp, 3, "solo", KL_OK);
    want_result(&e->resp, 3, "twice", KL_ERR_INVALID_REQUEST);
    hf_want_end(&e->resp);
    assert_null(broker_find_topic(&e->broker, "twice"));
    wr_free(&w);
    hf_free(e);
}

/* Manual assignment on this broker (any order): the count comes from it. */
static void test_assignment_on_this_broker(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_created(e, "manual", 2);
    ct_assign_t a[] = { { 1, HF_NODE_ID }, { 0, HF_NODE_ID } };
    kl_writer_t w;
    hf_req_begin(&w, KL_API_CREATE_TOPICS, 3);
    wr_array_len(&w, 1);
    ct_topic(&w, "manual", -1, -1, a, 2, NULL, NULL);
    ct_end(&w, 3, false);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    want_result(&e->resp, 3, "manual", KL_OK);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* Another broker, a gap in the indexes, or an assignment plus a count: refused. */
static void test_bad_assignments(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    ct_assign_t other[] = { { 0, HF_NODE_ID + 1 } };
    ct_assign_t gap[] = { { 0, HF_NODE_ID }, { 2, HF_NODE_ID } };
    ct_assign_t twice[] = { { 0, HF_NODE_ID }, { 0, HF_NODE_ID } };
    kl_writer_t w;
    hf_req_begin(&w, KL_API_CREATE_TOPICS, 2);
    wr_array_len(&w, 4);
    ct_topic(&w, "a", -1, -1, other, 1, NULL, NULL);
    ct_topic(&w, "b", -1, -1, gap, 2, NULL, NULL);
    ct_topic(&w, "c", -1, -1, twice, 2, NULL, NULL);
    ct_topic(&w, "d", 1, -1, gap, 1, NULL, NULL);
    ct_end(&w, 2, false);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 4);
    want_result(&e->resp, 2, "a", KL_ERR_INVALID_REPLICA_ASSIGNMENT);
    want_result(&e->resp, 2, "b", KL_ERR_INVALID_REPLICA_ASSIGNMENT);
    want_result(&e->resp, 2, "c", KL_ERR_INVALID_REPLICA_ASSIGNMENT);
    want_result(&e->resp, 2, "d", KL_ERR_INVALID_REQUEST);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* A null config value, an invalid value, a bad name, replication 3: each its error. */
static void test_invalid_topics(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    kl_writer_t w;
    hf_req_begin(&w, KL_API_CREATE_TOPICS, 3);
    wr_array_len(&w, 4);
    ct_topic(&w, "nullcfg", 1, 1, NULL, 0, "retention.ms", NULL);
    ct_topic(&w, "badcfg", 1, 1, NULL, 0, "retention.ms", "soon");
    ct_topic(&w, "bad name", 1, 1, NULL, 0, NULL, NULL);
    ct_topic(&w, "rf3", 1, 3, NULL, 0, NULL, NULL);
    ct_end(&w, 3, false);
    assert_int_equal(hf_run(e, create_topics_handle, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);
    hf_want_i32(&e->resp, 4);
    want_result(&e->resp, 3, "nullcfg", KL_ERR_INVALID_CONFIG);
    want_result(&e->resp, 3, "badcfg", KL_ERR_INVALID_CONFIG);
    want_result(&e->resp, 3, "bad name", KL_ERR_INVALID_TOPIC_EXCEPTION);
    want_result(&e->resp, 3, "rf3", KL_ERR_INVALID_REPLICATION_FACTOR);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* Every cut of a real request: close, write nothing, create nothing. */
static void test_truncated_request_closes_and_creates_nothing(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_close_on_every_cut(e, create_topics_handle, KPY_018_CREATE_TOPICS_V3_REQ,
                                 sizeof KPY_018_CREATE_TOPICS_V3_REQ, 10 + 8);
    hf_expect_close_on_every_cut(e, create_topics_handle, KJS_015_CREATE_TOPICS_V3_REQ,
                                 sizeof KJS_015_CREATE_TOPICS_V3_REQ, 10 + 3);
    assert_null(broker_find_topic(&e->broker, "new-topic"));
    hf_free(e);
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
