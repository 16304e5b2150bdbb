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
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kafka-python/002-Metadata-v0.req.bin (37 bytes) */
static const uint8_t KP_METADATA_V0_EMPTY[] = {
    0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x17, 0x6b, 0x61,
    0x66, 0x6b, 0x61, 0x2d, 0x70, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x2d, 0x70,
    0x72, 0x6f, 0x64, 0x75, 0x63, 0x65, 0x72, 0x2d, 0x31, 0x00, 0x00, 0x00,
    0x00,
};
/* kafka-python/003-Metadata-v1.req.bin (37 bytes) */
static const uint8_t KP_METADATA_V1_NULL[] = {
    0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x17, 0x6b, 0x61,
    0x66, 0x6b, 0x61, 0x2d, 0x70, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x2d, 0x70,
    0x72, 0x6f, 0x64, 0x75, 0x63, 0x65, 0x72, 0x2d, 0x31, 0xff, 0xff, 0xff,
    0xff,
};
/* kcat/003-Metadata-v2.req.bin (21 bytes) */
static const uint8_t KCAT_METADATA_V2_EMPTY[] = {
    0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x00, 0x00, 0x00,
};
/* kcat/005-Metadata-v2.req.bin (28 bytes) */
static const uint8_t KCAT_METADATA_V2_TOPIC[] = {
    0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74,
    0x6f, 0x70, 0x69, 0x63,
};
/* kafkajs/002-Metadata-v2.req.bin (24 bytes) */
static const uint8_t KJS_METADATA_V2_TOPIC[] = {
    0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63,
};
/* kcat/018-Metadata-v4.req.bin (22 bytes) */
static const uint8_t KCAT_METADATA_V4_EMPTY[] = {
    0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* kafka-python/026-Metadata-v5.req.bin (23 bytes) */
static const uint8_t KP_METADATA_V5_NULL[] = {
    0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06, 0x00, 0x08, 0x6b, 0x70,
    0x2d, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0xff, 0xff, 0xff, 0xff, 0x00,
};
/* kafkajs/025-Metadata-v6.req.bin (25 bytes) */
static const uint8_t KJS_METADATA_V6_TOPIC[] = {
    0x00, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63,
    0x00,
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

/* Field-by-field checks on the response reader. */
static void want_i8(kl_reader_t *r, int8_t v) { assert_int_equal(rd_i8(r), v); }
static void want_i16(kl_reader_t *r, int16_t v) { assert_int_equal(rd_i16(r), v); }
static void want_i32(kl_reader_t *r, int32_t v) { assert_int_equal(rd_i32(r), v); }
static void want_str(kl_reader_t *r, const char *s)
{
    kl_str_t got = rd_nullable_string(r);
    assert_true(rd_ok(r));
    assert_int_equal(got.len, (int32_t)strlen(s));
    assert_memory_equal(got.ptr, s, strlen(s));
}
static void want_null_str(kl_reader_t *r) { assert_int_equal(rd_nullable_string(r).len, -1); }
static void want_end(kl_reader_t *r)
{
    assert_true(rd_ok(r));
    assert_int_equal(rd_remaining(r), 0);
}

/* ---- expected response pieces ---- */

static void want_brokers(kl_reader_t *r, int16_t v)
{
    want_i32(r, 1);                                         /* one broker */
    want_i32(r, NODE_ID);
    want_str(r, "localhost");
    want_i32(r, 9092);
    if (v >= 1) want_null_str(r);                           /* rack */
}

static void want_header(kl_reader_t *r, int16_t v)
{
    if (v >= 3) want_i32(r, 0);                             /* throttle_time_ms */
    want_brokers(r, v);
    if (v >= 2) want_str(r, "klamm-cluster");               /* cluster_id */
    if (v >= 1) want_i32(r, NODE_ID);                       /* controller_id */
}

/* A topic of `n` healthy partitions led by this broker. */
static void want_topic(kl_reader_t *r, int16_t v, const char *name, int32_t n)
{
    want_i16(r, KL_OK);
    want_str(r, name);
    if (v >= 1) want_i8(r, 0);                              /* is_internal */
    want_i32(r, n);
    for (int32_t i = 0; i < n; i++) {
        want_i16(r, KL_OK);
        want_i32(r, i);                                     /* partition_index */
        want_i32(r, NODE_ID);                               /* leader_id */
        if (v >= 7) want_i32(r, 0);                         /* leader_epoch */
        want_i32(r, 1);                                     /* replica_nodes */
        want_i32(r, NODE_ID);
        want_i32(r, 1);                                     /* isr_nodes */
        want_i32(r, NODE_ID);
        if (v >= 5) want_i32(r, 0);                         /* offline_replicas */
    }
    if (v >= 8) want_i32(r, INT32_MIN);                     /* not requested */
}

static void want_topic_error(kl_reader_t *r, int16_t v, kl_err_t err, const char *name)
{
    want_i16(r, (int16_t)err);
    want_str(r, name);
    if (v >= 1) want_i8(r, 0);
    want_i32(r, 0);                                         /* no partitions */
    if (v >= 8) want_i32(r, INT32_MIN);
}

/* ---- the clients' own requests ---- */

/* kafka-python's first Metadata: v0, topics [] which in v0 means "all topics". */
static void test_v0_empty_array_lists_all_topics(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    env_add_topic(e, "other", 1);
    assert_int_equal(env_run(e, metadata_handle, KP_METADATA_V0_EMPTY,
                             sizeof KP_METADATA_V0_EMPTY), KL_REPLY_SEND);
    want_header(&e->resp, 0);
    want_i32(&e->resp, 2);
    want_topic(&e->resp, 0, "topic", 3);
    want_topic(&e->resp, 0, "other", 1);
    want_end(&e->resp);
    env_free(e);
}

/* kafka-python v1: topics null = all. */
static void test_v1_null_lists_all_topics(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    assert_int_equal(env_run(e, metadata_handle, KP_METADATA_V1_NULL,
                             sizeof KP_METADATA_V1_NULL), KL_REPLY_SEND);
    want_header(&e->resp, 1);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, 1, "topic", 3);
    want_end(&e->resp);
    env_free(e);
}

/* kcat -L first asks v2 with topics [] = no topics (brokers only). */
static void test_v2_empty_array_lists_no_topics(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    assert_int_equal(env_run(e, metadata_handle, KCAT_METADATA_V2_EMPTY,
                             sizeof KCAT_METADATA_V2_EMPTY), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    want_i32(&e->resp, 0);
    want_end(&e->resp);
    env_free(e);
}

/* kcat -P: v2 naming an existing topic. */
static void test_v2_named_existing_topic(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "other", 2);
    env_add_topic(e, "topic", 3);
    assert_int_equal(env_run(e, metadata_handle, KCAT_METADATA_V2_TOPIC,
                             sizeof KCAT_METADATA_V2_TOPIC), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, 2, "topic", 3);
    want_end(&e->resp);
    env_free(e);
}

/* KafkaJS producer: v2 naming a missing topic; before v4 auto-create is allowed, so the
 * topic is created with num.partitions (3) and listed at once. */
static void test_v2_missing_topic_is_auto_created(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_expect_created(e, "topic", 3);
    assert_int_equal(env_run(e, metadata_handle, KJS_METADATA_V2_TOPIC,
                             sizeof KJS_METADATA_V2_TOPIC), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, 2, "topic", 3);
    want_end(&e->resp);
    assert_non_null(broker_find_topic(&e->broker, "topic"));
    env_free(e);
}

/* kcat -L against a Kafka-2.8-like broker: v4, topics [], allow_auto_topic_creation false. */
static void test_v4_empty_array(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    assert_int_equal(env_run(e, metadata_handle, KCAT_METADATA_V4_EMPTY,
                             sizeof KCAT_METADATA_V4_EMPTY), KL_REPLY_SEND);
    want_header(&e->resp, 4);
    want_i32(&e->resp, 0);
    want_end(&e->resp);
    env_free(e);
}

/* kafka-python admin: v5, topics null = all; offline_replicas appear. */
static void test_v5_null_lists_all_topics(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 2);
    assert_int_equal(env_run(e, metadata_handle, KP_METADATA_V5_NULL,
                             sizeof KP_METADATA_V5_NULL), KL_REPLY_SEND);
    want_header(&e->resp, 5);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, 5, "topic", 2);
    want_end(&e->resp);
    env_free(e);
}

/* KafkaJS admin: v6, [topic], allow_auto_topic_creation false: a missing topic stays
 * missing (no store call) and is reported UNKNOWN_TOPIC_OR_PARTITION, no partitions. */
static void test_v6_missing_topic_without_auto_create(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    assert_int_equal(env_run(e, metadata_handle, KJS_METADATA_V6_TOPIC,
                             sizeof KJS_METADATA_V6_TOPIC), KL_REPLY_SEND);
    want_header(&e->resp, 6);
    want_i32(&e->resp, 1);
    want_topic_error(&e->resp, 6, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, "topic");
    want_end(&e->resp);
    assert_null(broker_find_topic(&e->broker, "topic"));
    env_free(e);
}

static void test_v6_existing_topic(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    assert_int_equal(env_run(e, metadata_handle, KJS_METADATA_V6_TOPIC,
                             sizeof KJS_METADATA_V6_TOPIC), KL_REPLY_SEND);
    want_header(&e->resp, 6);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, 6, "topic", 3);
    want_end(&e->resp);
    env_free(e);
}

/* ---- hand-built requests: v7/v8 fields, bad names ---- */

static void md_request(kl_writer_t *w, int16_t v, const char *const *names, int32_t n,
                       bool allow_auto, bool cluster_ops, bool topic_ops)
{
    req_begin(w, KL_API_METADATA, v);
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
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 2);
    kl_writer_t w;
    const char *names[] = { "topic" };
    md_request(&w, 7, names, 1, false, false, false);
    assert_int_equal(env_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 7);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, 7, "topic", 2);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* v8 without authorized operations: both fields INT32_MIN ("not requested", KIP-430). */
static void test_v8_operations_not_requested(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 1);
    kl_writer_t w;
    req_begin(&w, KL_API_METADATA, 8);
    wr_array_len(&w, -1);                                   /* all topics */
    wr_i8(&w, 1);
    wr_i8(&w, 0);
    wr_i8(&w, 0);
    assert_int_equal(env_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 8);
    want_i32(&e->resp, 1);
    want_topic(&e->resp, 8, "topic", 1);                    /* ends with INT32_MIN */
    want_i32(&e->resp, INT32_MIN);                          /* cluster_authorized_operations */
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* v8 asking for them: no authorizer, so every operation Kafka defines on the resource.
 * Topic: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10,
 * ALTER_CONFIGS 11. Cluster: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12. */
static void test_v8_operations_requested(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 1);
    kl_writer_t w;
    const char *names[] = { "topic" };
    md_request(&w, 8, names, 1, true, true, true);
    assert_int_equal(env_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 8);
    want_i32(&e->resp, 1);
    want_i16(&e->resp, KL_OK);
    want_str(&e->resp, "topic");
    want_i8(&e->resp, 0);
    want_i32(&e->resp, 1);
    rd_skip(&e->resp, 2 + 8 * 4);                          /* its partition: as above */
    want_i32(&e->resp, 0x0df8);                             /* bits 3-8, 10, 11 */
    want_i32(&e->resp, 0x1fa0);                             /* bits 5, 7-12 */
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* Names breaking Kafka's rule are INVALID_TOPIC_EXCEPTION and never reach the store;
 * a name longer than any topic (300 chars) is echoed back as sent. */
static void test_invalid_names(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    char longname[301];
    memset(longname, 'a', 300);
    longname[300] = '\0';
    const char *names[] = { "bad name!", longname };
    kl_writer_t w;
    md_request(&w, 4, names, 2, true, false, false);
    assert_int_equal(env_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    want_header(&e->resp, 4);
    want_i32(&e->resp, 2);
    want_topic_error(&e->resp, 4, KL_ERR_INVALID_TOPIC_EXCEPTION, "bad name!");
    want_topic_error(&e->resp, 4, KL_ERR_INVALID_TOPIC_EXCEPTION, longname);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* auto.create.topics.enable=false wins over a request that allows it. */
static void test_auto_create_disabled_by_config(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    e->broker.config.auto_create_topics = false;
    assert_int_equal(env_run(e, metadata_handle, KJS_METADATA_V2_TOPIC,
                             sizeof KJS_METADATA_V2_TOPIC), KL_REPLY_SEND);
    want_header(&e->resp, 2);
    want_i32(&e->resp, 1);
    want_topic_error(&e->resp, 2, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, "topic");
    want_end(&e->resp);
    env_free(e);
}

/* ---- malformed requests ---- */

/* Every cut of a request that would auto-create: close, write nothing, create nothing. */
static void test_truncated_request_closes_and_creates_nothing(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    size_t body_at = 10 + 3;                                /* header with client id "kjs" */
    env_expect_close_on_every_cut(e, metadata_handle, KJS_METADATA_V2_TOPIC,
                                  sizeof KJS_METADATA_V2_TOPIC, body_at);
    env_expect_close_on_every_cut(e, metadata_handle, KJS_METADATA_V6_TOPIC,
                                  sizeof KJS_METADATA_V6_TOPIC, body_at);
    assert_null(broker_find_topic(&e->broker, "topic"));
    env_free(e);
}

/* v0's topics array is not nullable: null is a malformed request. */
static void test_v0_null_array_closes(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    kl_writer_t w;
    req_begin(&w, KL_API_METADATA, 0);
    wr_array_len(&w, -1);
    assert_int_equal(env_run(e, metadata_handle, w.buf, w.len), KL_REPLY_CLOSE);
    wr_free(&w);
    env_free(e);
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
