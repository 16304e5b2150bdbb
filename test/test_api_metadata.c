/*
 * test/test_api_metadata.c — unit tests of infrastructure/protocol/api_metadata.c: the
 * Metadata handler fed the clients' own requests (kcat, kafka-python, KafkaJS fixture
 * frames) and hand-built v7/v8 ones, over a real broker and use cases with the cmocka
 * log store mock, checking the response body field by field.
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

static void want_brokers(kl_reader_t *r, int16_t v)
{
    hf_want_i32(r, 1);                                      /* one broker */
    hf_want_i32(r, HF_NODE_ID);
    hf_want_str(r, "localhost");
    hf_want_i32(r, 9092);
    if (v >= 1) hf_want_null_str(r);                        /* rack */
}

static void want_header(kl_reader_t *r, int16_t v)
{
    if (v >= 3) hf_want_i32(r, 0);                          /* throttle_time_ms */
    want_brokers(r, v);
    if (v >= 2) hf_want_str(r, "klamm-cluster");            /* cluster_id */
    if (v >= 1) hf_want_i32(r, HF_NODE_ID);                 /* controller_id */
}

/* A topic of `n` healthy partitions led by this broker. */
static void want_topic(kl_reader_t *r, int16_t v, const char *name, int32_t n)
{
    hf_want_i16(r, KL_OK);
    hf_want_str(r, name);
    if (v >= 1) hf_want_i8(r, 0);                           /* is_internal */
    hf_want_i32(r, n);
    for (int32_t i = 0; i < n; i++) {
        hf_want_i16(r, KL_OK);
        hf_want_i32(r, i);                                  /* partition_index */
        hf_want_i32(r, HF_NODE_ID);                         /* leader_id */
        if (v >= 7) hf_want_i32(r, 0);                      /* leader_epoch */
        hf_want_i32(r, 1);                                  /* replica_nodes */
        hf_want_i32(r, HF_NODE_ID);
        hf_want_i32(r, 1);                                  /* isr_nodes */
        hf_want_i32(r, HF_NODE_ID);
        if (v >= 5) hf_want_i32(r, 0);                      /* offline_replicas */
    }
    if (v >= 8) hf_want_i32(r, INT32_MIN);                  /* not requested */
}

static void want_topic_error(kl_reader_t *r, int16_t v, kl_err_t err, const char *name)
{
    hf_want_i16(r, (int16_t)err);
    hf_want_str(r, name);
    if (v >= 1) hf_want_i8(r, 0);
    hf_want_i32(r, 0);                                      /* no partitions */
    if (v >= 8) hf_want_i32(r, INT32_MIN);
}

/* ---- the clients' own requests ---- */

/* kafka-python's first Metadata: v0, topics [] which in v0 means "all topics". */
static void test_v0_empty_array_lists_all_topics(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    hf_add_topic(e, "other", 1);
    assert_int_equal(hf_run(e, metadata_handle, KPY_002_METADATA_V0_REQ,
                            sizeof KPY_002_METADATA_V0_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 0);
    hf_want_i32(&e->resp, 2);
    want_topic(&e->resp, 0, "topic", 3);
    want_topic(&e->resp, 0, "other", 1);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* kafka-python v1: topics null = all. */
static void test_v1_null_lists_all_topics(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    assert_int_equal(hf_run(e, metadata_handle, KPY_003_METADATA_V1_REQ,
                            sizeof KPY_003_METADATA_V1_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 1);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, 1, "topic", 3);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* kcat -L first asks v2 with topics [] = no topics (brokers only). */
static void test_v2_empty_array_lists_no_topics(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    assert_int_equal(hf_run(e, metadata_handle, KCAT_003_METADATA_V2_REQ,
                            sizeof KCAT_003_METADATA_V2_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* kcat -P: v2 naming an existing topic. */
static void test_v2_named_existing_topic(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "other", 2);
    hf_add_topic(e, "topic", 3);
    assert_int_equal(hf_run(e, metadata_handle, KCAT_005_METADATA_V2_REQ,
                            sizeof KCAT_005_METADATA_V2_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, 2, "topic", 3);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* KafkaJS producer: v2 naming a missing topic; before v4 auto-create is allowed, so the
 * topic is created with num.partitions (3) and listed at once. */
static void test_v2_missing_topic_is_auto_created(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_expect_created(e, "topic", 3);
    assert_int_equal(hf_run(e, metadata_handle, KJS_002_METADATA_V2_REQ,
                            sizeof KJS_002_METADATA_V2_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, 2, "topic", 3);
    hf_want_end(&e->resp);
    assert_non_null(broker_find_topic(&e->broker, "topic"));
    hf_free(e);
}

/* kcat -L against a Kafka-2.8-like broker: v4, topics [], allow_auto_topic_creation false. */
static void test_v4_empty_array(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    assert_int_equal(hf_run(e, metadata_handle, KCAT_018_METADATA_V4_REQ,
                            sizeof KCAT_018_METADATA_V4_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 4);
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* kafka-python admin: v5, topics null = all; offline_replicas appear. */
static void test_v5_null_lists_all_topics(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 2);
    assert_int_equal(hf_run(e, metadata_handle, KPY_026_METADATA_V5_REQ,
                            sizeof KPY_026_METADATA_V5_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 5);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, 5, "topic", 2);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* KafkaJS admin: v6, [topic], allow_auto_topic_creation false: a missing topic stays
 * missing (no store call) and is reported UNKNOWN_TOPIC_OR_PARTITION, no partitions. */
static void test_v6_missing_topic_without_auto_create(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    assert_int_equal(hf_run(e, metadata_handle, KJS_025_METADATA_V6_REQ,
                            sizeof KJS_025_METADATA_V6_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 6);
    hf_want_i32(&e->resp, 1);
    want_topic_error(&e->resp, 6, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, "topic");
    hf_want_end(&e->resp);
    assert_null(broker_find_topic(&e->broker, "topic"));
    hf_free(e);
}

static void test_v6_existing_topic(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    assert_int_equal(hf_run(e, metadata_handle, KJS_025_METADATA_V6_REQ,
                            sizeof KJS_025_METADATA_V6_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 6);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, 6, "topic", 3);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* ---- hand-built requests: v7/v8 fields, bad names ---- */

static void md_request(kl_writer_t *w, int16_t v, const char *const *names, int32_t n,
                       bool allow_auto, bool cluster_ops, bool topic_ops)
{
    hf_req_begin(w, KL_API_METADATA, v);
    wr_array_len(w, n);
    for (int32_t i = 0; i < n; i++)
        wr_cstr(w, false, names[i]);
    if (v >= 4) wr_i8(w, allow_auto);
    if (v >= 8) wr_i8(w, cluster_ops);
    if (v >= 8) wr_i8(w, topic_ops);
}

static void test_v7_has_leader_epoch(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 2);
    kl_writer_t w;
    const char *names[] = { "topic" };
    md_request(&w, 7, names, 1, false, false, false);
    assert_int_equal(hf_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 7);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, 7, "topic", 2);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* v8 without authorized operations: both fields INT32_MIN ("not requested", KIP-430). */
static void test_v8_operations_not_requested(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    kl_writer_t w;
    hf_req_begin(&w, KL_API_METADATA, 8);
    wr_array_len(&w, -1);                                   /* all topics */
    wr_i8(&w, 1);
    wr_i8(&w, 0);
    wr_i8(&w, 0);
    assert_int_equal(hf_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 8);
    hf_want_i32(&e->resp, 1);
    want_topic(&e->resp, 8, "topic", 1);                    /* ends with INT32_MIN */
    hf_want_i32(&e->resp, INT32_MIN);                       /* cluster_authorized_operations */
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* v8 asking for them: no authorizer, so every operation Kafka defines on the resource.
 * Topic: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10,
 * ALTER_CONFIGS 11. Cluster: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12. */
static void test_v8_operations_requested(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    kl_writer_t w;
    const char *names[] = { "topic" };
    md_request(&w, 8, names, 1, true, true, true);
    assert_int_equal(hf_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 8);
    hf_want_i32(&e->resp, 1);
    hf_want_i16(&e->resp, KL_OK);
    hf_want_str(&e->resp, "topic");
    hf_want_i8(&e->resp, 0);
    hf_want_i32(&e->resp, 1);
    rd_skip(&e->resp, 2 + 8 * 4);                          /* its partition: as above */
    hf_want_i32(&e->resp, 0x0df8);                          /* bits 3-8, 10, 11 */
    hf_want_i32(&e->resp, 0x1fa0);                          /* bits 5, 7-12 */
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* Names breaking Kafka's rule are INVALID_TOPIC_EXCEPTION and never reach the store;
 * a name longer than any topic (300 chars) is echoed back as sent. */
static void test_invalid_names(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    char longname[301];
    memset(longname, 'a', 300);
    longname[300] = '\0';
    const char *names[] = { "bad name!", longname };
    kl_writer_t w;
    md_request(&w, 4, names, 2, true, false, false);
    assert_int_equal(hf_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 4);
    hf_want_i32(&e->resp, 2);
    want_topic_error(&e->resp, 4, KL_ERR_INVALID_TOPIC_EXCEPTION, "bad name!");
    want_topic_error(&e->resp, 4, KL_ERR_INVALID_TOPIC_EXCEPTION, longname);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* auto.create.topics.enable=false wins over a request that allows it. */
static void test_auto_create_disabled_by_config(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    e->broker.config.auto_create_topics = false;
    assert_int_equal(hf_run(e, metadata_handle, KJS_002_METADATA_V2_REQ,
                            sizeof KJS_002_METADATA_V2_REQ), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    hf_want_i32(&e->resp, 1);
    want_topic_error(&e->resp, 2, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, "topic");
    hf_want_end(&e->resp);
    hf_free(e);
}

/* ---- malformed requests ---- */

/* Every cut of a request that would auto-create: close, write nothing, create nothing. */
static void test_truncated_request_closes_and_creates_nothing(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    size_t body_at = 10 + 3;                                /* header with client id "kjs" */
    hf_expect_close_on_every_cut(e, metadata_handle, KJS_002_METADATA_V2_REQ,
                                 sizeof KJS_002_METADATA_V2_REQ, body_at);
    hf_expect_close_on_every_cut(e, metadata_handle, KJS_025_METADATA_V6_REQ,
                                 sizeof KJS_025_METADATA_V6_REQ, body_at);
    assert_null(broker_find_topic(&e->broker, "topic"));
    hf_free(e);
}

/* v0's topics array is not nullable: null is a malformed request. */
static void test_v0_null_array_closes(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    kl_writer_t w;
    hf_req_begin(&w, KL_API_METADATA, 0);
    wr_array_len(&w, -1);
    assert_int_equal(hf_run(e, metadata_handle, w.buf, w.len), KL_REPLY_CLOSE);
    wr_free(&w);
    hf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v0_empty_array_lists_all_topics),
        cmocka_unit_test(test_v1_null_lists_all_topics),
        cmocka_unit_test(test_v2_empty_array_lists_no_topics),
        cmocka_unit_test(test_v2_named_existing_topic),
        cmocka_unit_test(test_v2_missing_topic_is_auto_created),
        cmocka_unit_test(test_v4_empty_array),
        cmocka_unit_test(test_v5_null_lists_all_topics),
        cmocka_unit_test(test_v6_missing_topic_without_auto_create),
        cmocka_unit_test(test_v6_existing_topic),
        cmocka_unit_test(test_v7_has_leader_epoch),
        cmocka_unit_test(test_v8_operations_not_requested),
        cmocka_unit_test(test_v8_operations_requested),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_auto_create_disabled_by_config),
        cmocka_unit_test(test_truncated_request_closes_and_creates_nothing),
        cmocka_unit_test(test_v0_null_array_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
