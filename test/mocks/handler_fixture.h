/*
 * test/mocks/handler_fixture.h — shared setup for the handler tests of the topic and
 * record APIs (test/test_api_metadata.c, _produce, _fetch, _list_offsets,
 * _create_topics, _describe_configs): a real broker over the cmocka log store mock, a
 * request as dispatch would hand it over, request builders and response readers.
 * Layer: test support. May touch: application/ (broker, use cases),
 * infrastructure/protocol/api.h, test/mocks/ (log store, clock), cmocka.
 * Static inline helpers only (no .c file): every test binary gets its own copy, and
 * the helpers a test does not use draw no warning.
 *
 * What is real and what is fake, and why:
 *  - the broker and the use cases are the real ones (application/), so a handler test
 *    checks the wire format and the Kafka rules behind it together;
 *  - the log store is the cmocka mock (test/mocks/mock_log_store.h): a test states
 *    exactly which store calls it expects (topic creations, partition opens, appends,
 *    reads), and any other call fails it;
 *  - partition log handles are fake pointers (hf_log(0), hf_log(1)…) in opening order,
 *    so the closes broker_close makes can be expected in the same order;
 *  - the request header is decoded here by hand (request_header.c owns that and is
 *    tested there), and the response starts after 8 bytes dispatch would have written.
 *
 * The consumer-group handler tests build on this one with a real group coordinator:
 * test/mocks/group_fixture.h.
 */
#ifndef KL_TEST_MOCKS_HANDLER_FIXTURE_H
#define KL_TEST_MOCKS_HANDLER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "application/broker.h"
#include "application/usecases.h"
#include "infrastructure/protocol/api.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

#define HF_NODE_ID 1
#define HF_FAKE_HDR 0x4b4c4d4dU     /* bytes dispatch would have written before the body */

typedef struct hf_env {
    kl_broker_t broker;
    kl_request_t req;
    kl_writer_t out;
    kl_reader_t resp;               /* the response body, after hf_run */
    int32_t logs;                   /* partition logs opened through the mock store */
    uint8_t frame[4096];            /* the request, copied: handlers may write to it */
} hf_env_t;

/* ---- life cycle ------------------------------------------------------------------- */

/* Broker 1 at localhost:9092, cluster "klamm-cluster", 3 partitions per new topic,
 * auto-creation on. */
static inline kl_broker_config_t hf_broker_config(void)
{
    kl_broker_config_t c;
    memset(&c, 0, sizeof c);
    c.node_id = HF_NODE_ID;
    strcpy(c.advertised_host, "localhost");
    c.advertised_port = 9092;
    c.num_partitions = 3;
    c.default_replication_factor = 1;
    c.auto_create_topics = true;
    c.message_max_bytes = 1048588;
    strcpy(c.cluster_id, "klamm-cluster");
    return c;
}

/* A broker with config `cfg` over `store`; the caller has already queued what the
 * store's topic_load_all returns at startup. */
static inline hf_env_t *hf_env_new_config(const kl_broker_config_t *cfg, kl_log_store_t store)
{
    hf_env_t *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(broker_init(&e->broker, cfg, store, mock_clock()), KL_OK);
    wr_init(&e->out);
    return e;
}

/* A broker with hf_broker_config() and no topics at startup. */
static inline hf_env_t *hf_env_new(kl_log_store_t store)
{
    kl_broker_config_t cfg = hf_broker_config();
    if (store.topic_load_all == mock_log_store_topic_load_all)
        mock_log_store_expect_load_all(NULL, 0, KL_OK);
    return hf_env_new_config(&cfg, store);
}

/* Mock-store log handles: distinct, non-NULL, in opening order. */
static inline void *hf_log(int32_t i) { return (void *)(uintptr_t)(0x1000 + i); }

/* Create a topic through the use case, expecting exactly its store calls; every
 * partition's log holds [log_start, log_end). */
static inline void hf_add_topic_at(hf_env_t *e, const char *name, int32_t partitions,
                                   int64_t log_start, int64_t log_end)
{
    mock_log_store_expect_topic_create(name, partitions, KL_OK);
    for (int32_t i = 0; i < partitions; i++)
        mock_log_store_expect_open(name, i, hf_log(e->logs + i), log_start, log_end, KL_OK);
    kl_topic_t *t = NULL;
    assert_int_equal(create_topic(&e->broker, name, partitions, 1, NULL, 0, false, &t), KL_OK);
    e->logs += partitions;
}

static inline void hf_add_topic(hf_env_t *e, const char *name, int32_t partitions)
{
    hf_add_topic_at(e, name, partitions, 0, 0);
}

/* Expect the opens a use case makes when it creates `name` on its own (auto-create). */
static inline void hf_expect_created(hf_env_t *e, const char *name, int32_t partitions)
{
    mock_log_store_expect_topic_create(name, partitions, KL_OK);
    for (int32_t i = 0; i < partitions; i++)
        mock_log_store_expect_open(name, i, hf_log(e->logs + i), 0, 0, KL_OK);
    e->logs += partitions;
}

static inline void hf_free(hf_env_t *e)
{
    for (int32_t i = 0; i < e->logs; i++)    /* broker_close: topics in creation order */
        mock_log_store_expect_close(hf_log(i));
    broker_close(&e->broker);
    wr_free(&e->out);
    free(e);
}

/* ---- running a handler ------------------------------------------------------------- */

/* The work of hf_run_at, for a fixture with an environment of its own
 * (test/mocks/group_fixture.h): copy `frame` into `copy`, make `*req` = `*base` plus the
 * header decoded from the frame and park_until_ms -1, run `h` with `out` already holding
 * the 8 bytes it must leave alone, and point `resp` at the body it wrote. `base` brings
 * what a header does not say: broker, coordinator, attempt times, park cookie. */
static inline kl_reply_t hf_run_request(kl_api_handler_fn h, const kl_request_t *base,
                                        const uint8_t *frame, size_t len, uint8_t *copy,
                                        size_t copy_cap, kl_request_t *req,
                                        kl_writer_t *out, kl_reader_t *resp)
{
    assert_true(len <= copy_cap);
    memcpy(copy, frame, len);
    kl_reader_t r;
    rd_init(&r, copy, len);
    *req = *base;
    req->header.api_key = rd_i16(&r);
    req->header.api_version = rd_i16(&r);
    req->header.correlation_id = rd_i32(&r);
    req->header.client_id = rd_nullable_string(&r);
    assert_true(rd_ok(&r));
    req->park_until_ms = -1;
    kl_reader_t body;
    rd_init(&body, copy + r.pos, len - r.pos);

    wr_reset(out);
    wr_u32(out, HF_FAKE_HDR);
    wr_i32(out, req->header.correlation_id);
    kl_reply_t reply = h(req, &body, out);
    assert_true(wr_ok(out));
    assert_true(out->len >= 8);
    kl_reader_t hdr;
    rd_init(&hdr, out->buf, 8);
    assert_int_equal(rd_u32(&hdr), HF_FAKE_HDR);
    assert_int_equal(rd_i32(&hdr), req->header.correlation_id);
    rd_init(resp, out->buf + 8, out->len - 8);
    return reply;
}

/* Run `h` on a whole request frame (header v1 + body), as dispatch would: `out` already
 * holds 8 bytes the handler must leave alone. Returns the handler's reply; e->resp
 * then reads the body the handler wrote. */
static inline kl_reply_t hf_run_at(hf_env_t *e, kl_api_handler_fn h, const uint8_t *frame,
                                   size_t len, int64_t now_ms, int64_t first_ms,
                                   bool final_attempt)
{
    kl_request_t base;
    memset(&base, 0, sizeof base);
    base.broker = &e->broker;
    base.now_ms = now_ms;
    base.first_attempt_ms = first_ms;
    base.final_attempt = final_attempt;
    return hf_run_request(h, &base, frame, len, e->frame, sizeof e->frame, &e->req,
                          &e->out, &e->resp);
}

/* The first attempt, at time 1000 ms. */
static inline kl_reply_t hf_run(hf_env_t *e, kl_api_handler_fn h, const uint8_t *frame,
                                size_t len)
{
    return hf_run_at(e, h, frame, len, 1000, 1000, false);
}

/* Every strict prefix of the body is a truncated request: the handler must close the
 * connection, write nothing, and (the mock store fails on any unexpected call) do nothing. */
static inline void hf_expect_close_on_every_cut(hf_env_t *e, kl_api_handler_fn h,
                                                const uint8_t *frame, size_t len,
                                                size_t body_at)
{
    for (size_t cut = body_at; cut < len; cut++) {
        assert_int_equal(hf_run(e, h, frame, cut), KL_REPLY_CLOSE);
        assert_int_equal(rd_remaining(&e->resp), 0);
    }
}

/* ---- building requests ------------------------------------------------------------- */

/* Start a request frame: header v1 with correlation id 42 and client id "test"; the
 * caller writes the body. */
static inline void hf_req_begin(kl_writer_t *w, int16_t key, int16_t version)
{
    wr_init(w);
    wr_i16(w, key);
    wr_i16(w, version);
    wr_i32(w, 42);
    wr_string(w, "test", 4);
}

/* ---- reading the response, field by field ------------------------------------------ */

static inline void hf_want_i8(kl_reader_t *r, int8_t v) { assert_int_equal(rd_i8(r), v); }
static inline void hf_want_i16(kl_reader_t *r, int16_t v) { assert_int_equal(rd_i16(r), v); }
static inline void hf_want_i32(kl_reader_t *r, int32_t v) { assert_int_equal(rd_i32(r), v); }
static inline void hf_want_i64(kl_reader_t *r, int64_t v) { assert_int_equal(rd_i64(r), v); }

/* A nullable string equal to `s`; s == NULL wants null. */
static inline void hf_want_str(kl_reader_t *r, const char *s)
{
    kl_str_t got = rd_nullable_string(r);
    assert_true(rd_ok(r));
    if (s == NULL) {
        assert_int_equal(got.len, -1);
        return;
    }
    assert_int_equal(got.len, (int32_t)strlen(s));
    assert_memory_equal(got.ptr, s, strlen(s));
}

static inline void hf_want_null_str(kl_reader_t *r)
{
    assert_int_equal(rd_nullable_string(r).len, -1);
}

/* Nothing left, and nothing was read past the end. */
static inline void hf_want_end(kl_reader_t *r)
{
    assert_true(rd_ok(r));
    assert_int_equal(rd_remaining(r), 0);
}

#endif
