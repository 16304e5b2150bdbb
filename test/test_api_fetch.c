/*
 * test/test_api_fetch.c — unit tests of infrastructure/protocol/api_fetch.c: the Fetch
 * handler fed the clients' own requests (kcat v11, kafka-python v4, KafkaJS v11 fixture
 * frames) and hand-built v5/v7/v9 ones, over a real broker and use cases with the cmocka
 * log store mock (whose read really writes into the handler's sink and checks the
 * max_bytes it is given: the KIP-74 limits). Long poll, errors, a Produce-then-Fetch
 * round trip, and truncated requests; responses checked field by field.
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

/* kcat/009-Fetch-v11.req.bin (91 bytes) */
static const uint8_t KCAT_FETCH_V11[] = {
    0x00, 0x01, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x08, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01,
    0xf4, 0x00, 0x00, 0x00, 0x01, 0x03, 0x20, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05,
    0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* kcat/014-Fetch-v11.req.bin (147 bytes) */
static const uint8_t KCAT_FETCH_V11_ALL[] = {
    0x00, 0x01, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01,
    0xf4, 0x00, 0x00, 0x00, 0x01, 0x03, 0x20, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05,
    0x74, 0x6f, 0x70, 0x69, 0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00,
};
/* kafka-python/012-Fetch-v4.req.bin (101 bytes) */
static const uint8_t KP_FETCH_V4[] = {
    0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0b, 0x6b, 0x70,
    0x2d, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x00, 0x01, 0x03, 0x20, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69,
    0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x00, 0x00,
};
/* kafkajs/009-Fetch-v11.req.bin (143 bytes) */
static const uint8_t KJS_FETCH_V11[] = {
    0x00, 0x01, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x00,
    0x01, 0x00, 0xa0, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69,
    0x63, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x10, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* kcat/006-Produce-v7.req.bin (170 bytes) */
static const uint8_t KCAT_PRODUCE_V7[] = {
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x04, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x75,
    0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x7a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6e,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x05, 0x75, 0x95, 0xb8, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0xa2, 0x07, 0x17, 0xcb, 0x05, 0x00,
    0x00, 0x01, 0xa2, 0x07, 0x17, 0xcb, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x03, 0x26, 0x00, 0x00, 0x00, 0x08, 0x6b, 0x65, 0x79, 0x31, 0x12, 0x76,
    0x61, 0x6c, 0x75, 0x65, 0x2d, 0x6f, 0x6e, 0x65, 0x00, 0x26, 0x00, 0x00,
    0x02, 0x08, 0x6b, 0x65, 0x79, 0x32, 0x12, 0x76, 0x61, 0x6c, 0x75, 0x65,
    0x2d, 0x74, 0x77, 0x6f, 0x00, 0x28, 0x00, 0x00, 0x04, 0x08, 0x6b, 0x65,
    0x79, 0x35, 0x14, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x2d, 0x66, 0x69, 0x76,
    0x65, 0x00,
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

/* kcat's produced batch (3 records) inside KCAT_PRODUCE_V7: what the logs hold here. */
#define BATCH (KCAT_PRODUCE_V7 + 48)
#define BATCH_LEN 122
#define MB 1048576

/* ---- expected response pieces ---- */

static void want_top(kl_reader_t *r, int16_t v)
{
    if (v >= 1) want_i32(r, 0);                             /* throttle_time_ms */
    if (v >= 7) want_i16(r, KL_OK);                         /* error_code */
    if (v >= 7) want_i32(r, 0);                             /* session_id: no session */
}

/* One partition's fields up to the records, then the records' length. */
static void want_partition(kl_reader_t *r, int16_t v, int32_t index, kl_err_t err,
                           int64_t hw, int64_t log_start, int32_t records_len)
{
    want_i32(r, index);
    want_i16(r, (int16_t)err);
    want_i64(r, hw);                                        /* high_watermark */
    if (v >= 4) want_i64(r, hw);                            /* last_stable_offset */
    if (v >= 5) want_i64(r, log_start);                     /* log_start_offset */
    if (v >= 4) want_i32(r, 0);                             /* aborted_transactions: [] */
    if (v >= 11) want_i32(r, -1);                           /* preferred_read_replica */
    want_i32(r, records_len);
}

static void want_batch(kl_reader_t *r, const uint8_t *batch, size_t len)
{
    const uint8_t *at = r->buf + r->pos;
    rd_skip(r, len);
    assert_true(rd_ok(r));
    assert_memory_equal(at, batch, len);
}

typedef struct fetch_part {
    int32_t index;
    int64_t offset;
    int32_t max_bytes;
} fetch_part_t;

/* A one-topic Fetch request of version `v`. */
static void fetch_request(kl_writer_t *w, int16_t v, int32_t max_wait, int32_t min_bytes,
                          int32_t max_bytes, const char *topic, const fetch_part_t *parts,
                          int32_t n)
{
    req_begin(w, KL_API_FETCH, v);
    wr_i32(w, -1);                                          /* replica_id */
    wr_i32(w, max_wait);
    wr_i32(w, min_bytes);
    if (v >= 3) wr_i32(w, max_bytes);
    if (v >= 4) wr_i8(w, 0);                                /* isolation_level */
    if (v >= 7) wr_i32(w, 0);                               /* session_id */
    if (v >= 7) wr_i32(w, -1);                              /* session_epoch */
    wr_array_len(w, 1);
    wr_cstr(w, false, topic);
    wr_array_len(w, n);
    for (int32_t i = 0; i < n; i++) {
        wr_i32(w, parts[i].index);
        if (v >= 9) wr_i32(w, -1);                          /* current_leader_epoch */
        wr_i64(w, parts[i].offset);
        if (v >= 5) wr_i64(w, -1);                          /* log_start_offset */
        wr_i32(w, parts[i].max_bytes);
    }
    if (v >= 7) wr_array_len(w, 0);                         /* forgotten_topics_data */
    if (v >= 11) wr_string(w, "", 0);                       /* rack_id */
}

/* ---- the clients' own requests ---- */

/* kcat: v11, partition 0 from offset 0, partition_max_bytes 1 MiB. */
static void test_kcat_v11_reads_partition(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 0, 3);
    mock_log_store_expect_read(env_log(0), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_end(&e->resp);
    env_free(e);
}

/* Give one partition the log [log_start, log_end). */
static void set_offsets(env_t *e, int32_t partition, int64_t log_start, int64_t log_end)
{
    kl_partition_t *p = broker_find_partition(&e->broker, "topic", partition);
    p->offsets.log_start = log_start;
    p->offsets.high_watermark = log_end;
    p->offsets.log_end = log_end;
}

/* kafka-python: v4, partitions 0-2 from offset 0; only partition 0 has data. A caught-up
 * partition (offset = high watermark) is answered without touching the store. */
static void test_kafka_python_v4_three_partitions(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    set_offsets(e, 0, 0, 3);
    mock_log_store_expect_read(env_log(0), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, KP_FETCH_V4, sizeof KP_FETCH_V4),
                     KL_REPLY_SEND);
    want_top(&e->resp, 4);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 3);
    want_partition(&e->resp, 4, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 4, 1, KL_OK, 0, 0, 0);
    want_partition(&e->resp, 4, 2, KL_OK, 0, 0, 0);
    want_end(&e->resp);
    env_free(e);
}

/* KafkaJS: v11, read_committed, partitions 2, 1, 0 in that order; 10 MiB response. */
static void test_kafkajs_v11_answers_in_request_order(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    set_offsets(e, 1, 0, 3);
    mock_log_store_expect_read(env_log(1), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, KJS_FETCH_V11, sizeof KJS_FETCH_V11),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 2, KL_OK, 0, 0, 0);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 0, KL_OK, 0, 0, 0);
    want_end(&e->resp);
    env_free(e);
}

/* Multi-step: kcat's Produce, then kcat's group-consume Fetch of all partitions reads
 * back exactly the bytes appended (base offset assigned), from the store. */
static void test_produce_then_fetch_returns_the_batch(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    mock_log_store_expect_append(env_log(1), BATCH_LEN, 0, KL_OK);
    assert_int_equal(env_run(e, produce_handle, KCAT_PRODUCE_V7, sizeof KCAT_PRODUCE_V7),
                     KL_REPLY_SEND);
    uint8_t stored[BATCH_LEN];
    memcpy(stored, e->frame + 48, BATCH_LEN);               /* what the store was handed */

    mock_log_store_expect_read(env_log(1), 0, MB, stored, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, KCAT_FETCH_V11_ALL, sizeof KCAT_FETCH_V11_ALL),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 2, KL_OK, 0, 0, 0);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, stored, BATCH_LEN);
    want_partition(&e->resp, 11, 0, KL_OK, 0, 0, 0);
    want_end(&e->resp);
    env_free(e);
}

/* ---- versions ---- */

static void check_version(int16_t v)
{
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 1, 1, 4);
    fetch_part_t parts[] = { { 0, 1, MB } };
    kl_writer_t w;
    fetch_request(&w, v, 500, 1, 50 * MB, "topic", parts, 1);
    mock_log_store_expect_read(env_log(0), 1, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, v);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 1);
    want_partition(&e->resp, v, 0, KL_OK, 4, 1, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

static void test_v5_response(void **state) { (void)state; check_version(5); }
static void test_v7_response(void **state) { (void)state; check_version(7); }
static void test_v9_response(void **state) { (void)state; check_version(9); }

/* ---- long poll ---- */

/* Nothing to read, min_bytes 1, max_wait 500: park until first attempt + 500, leaving
 * the header dispatch wrote; at the deadline (final attempt) answer empty. */
static void test_long_poll_parks_then_answers_at_deadline(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    assert_int_equal(env_run_at(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11,
                                1000, 1000, false), KL_REPLY_PARK);
    assert_int_equal(e->req.park_until_ms, 1500);
    want_end(&e->resp);                                     /* only dispatch's 8 bytes */

    assert_int_equal(env_run_at(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11,
                                1200, 1000, false), KL_REPLY_PARK);
    assert_int_equal(e->req.park_until_ms, 1500);

    assert_int_equal(env_run_at(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11,
                                1500, 1000, true), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 0, 0, 0);
    want_end(&e->resp);
    env_free(e);
}

/* A retry after the deadline answers even without final_attempt. */
static void test_long_poll_deadline_passed(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    assert_int_equal(env_run_at(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11,
                                1500, 1000, false), KL_REPLY_SEND);
    env_free(e);
}

/* Data arrived while parked: the retry answers with it. */
static void test_long_poll_retry_finds_data(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 3);
    assert_int_equal(env_run_at(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11,
                                1000, 1000, false), KL_REPLY_PARK);
    set_offsets(e, 0, 0, 3);
    mock_log_store_expect_read(env_log(0), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run_at(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11,
                                1100, 1000, false), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_end(&e->resp);
    env_free(e);
}

/* max_wait_ms 0 never parks. */
static void test_no_wait_answers_empty(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic(e, "topic", 1);
    fetch_part_t parts[] = { { 0, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 0, 1, 50 * MB, "topic", parts, 1);
    assert_int_equal(env_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    env_free(e);
}

/* ---- errors: answered at once, never parked ---- */

/* Offset before the log start: OFFSET_OUT_OF_RANGE with the offsets the consumer needs
 * to reset (high watermark, log start), no records, no parking despite no data. */
static void test_offset_out_of_range(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 5, 8);
    assert_int_equal(env_run(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_ERR_OFFSET_OUT_OF_RANGE, 8, 5, 0);
    want_end(&e->resp);
    env_free(e);
}

static void test_unknown_topic(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    assert_int_equal(env_run(e, fetch_handle, KP_FETCH_V4, sizeof KP_FETCH_V4),
                     KL_REPLY_SEND);
    want_top(&e->resp, 4);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 3);
    for (int32_t i = 0; i < 3; i++)
        want_partition(&e->resp, 4, i, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1, 0);
    want_end(&e->resp);
    env_free(e);
}

/* The store failing mid-read: its error, no records (nothing half-written). */
static void test_store_error(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 0, 3);
    mock_log_store_expect_read(env_log(0), 0, MB, BATCH, BATCH_LEN, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(env_run(e, fetch_handle, KCAT_FETCH_V11, sizeof KCAT_FETCH_V11),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_ERR_KAFKA_STORAGE_ERROR, 3, 0, 0);
    want_end(&e->resp);
    env_free(e);
}

/* ---- KIP-74 size limits ---- */

/* The partition limit is passed to the store; the response limit caps it. */
static void test_partition_and_response_limits_reach_the_store(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 2, 0, 3);
    fetch_part_t parts[] = { { 0, 0, 50 }, { 1, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 500, 1, 300, "topic", parts, 2);
    /* partition 0: its own 50 bytes; one whole batch still comes back (first with data) */
    mock_log_store_expect_read(env_log(0), 0, 50, BATCH, BATCH_LEN, KL_OK);
    /* partition 1: what the response has left, 300 - 122 */
    mock_log_store_expect_read(env_log(1), 0, 300 - BATCH_LEN, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 2);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* After the first partition with data, a batch larger than what is left is not sent
 * (the partition comes back empty, with its offsets); once the response is full, later
 * partitions are not read at all. */
static void test_only_the_first_partition_may_exceed(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 0, 3);
    fetch_part_t parts[] = { { 0, 0, MB }, { 1, 0, MB }, { 2, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 500, 1, 200, "topic", parts, 3);
    mock_log_store_expect_read(env_log(0), 0, 200, BATCH, BATCH_LEN, KL_OK);
    mock_log_store_expect_read(env_log(1), 0, 200 - BATCH_LEN, BATCH, BATCH_LEN, KL_OK);
    mock_log_store_expect_read(env_log(2), 0, 200 - BATCH_LEN, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, 0);
    want_partition(&e->resp, 11, 2, KL_OK, 3, 0, 0);
    want_end(&e->resp);
    wr_free(&w);

    /* max_bytes 100: the first batch (122) already fills it, so 1 and 2 are not read. */
    fetch_request(&w, 11, 500, 1, 100, "topic", parts, 3);
    mock_log_store_expect_read(env_log(0), 0, 100, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(env_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    want_i32(&e->resp, 1);
    want_str(&e->resp, "topic");
    want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, 0);
    want_partition(&e->resp, 11, 2, KL_OK, 3, 0, 0);
    want_end(&e->resp);
    wr_free(&w);
    env_free(e);
}

/* ---- malformed ---- */

static void test_truncated_request_closes(void **state)
{
    (void)state;
    env_t *e = env_new(mock_log_store());
    env_add_topic_at(e, "topic", 3, 0, 3);
    env_expect_close_on_every_cut(e, fetch_handle, KJS_FETCH_V11, sizeof KJS_FETCH_V11, 13);
    env_expect_close_on_every_cut(e, fetch_handle, KP_FETCH_V4, sizeof KP_FETCH_V4, 10 + 11);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kcat_v11_reads_partition),
        cmocka_unit_test(test_kafka_python_v4_three_partitions),
        cmocka_unit_test(test_kafkajs_v11_answers_in_request_order),
        cmocka_unit_test(test_produce_then_fetch_returns_the_batch),
        cmocka_unit_test(test_v5_response),
        cmocka_unit_test(test_v7_response),
        cmocka_unit_test(test_v9_response),
        cmocka_unit_test(test_long_poll_parks_then_answers_at_deadline),
        cmocka_unit_test(test_long_poll_deadline_passed),
        cmocka_unit_test(test_long_poll_retry_finds_data),
        cmocka_unit_test(test_no_wait_answers_empty),
        cmocka_unit_test(test_offset_out_of_range),
        cmocka_unit_test(test_unknown_topic),
        cmocka_unit_test(test_store_error),
        cmocka_unit_test(test_partition_and_response_limits_reach_the_store),
        cmocka_unit_test(test_only_the_first_partition_may_exceed),
        cmocka_unit_test(test_truncated_request_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
