/*
 * test/test_api_delete_topics.c — unit tests of infrastructure/protocol/api_delete_topics.c:
 * the DeleteTopics handler fed the clients' own requests (kafka-python v3, KafkaJS v1
 * fixture frames) and built v0/v4/v5 ones, over a real broker, use case and group
 * coordinator with the cmocka store mocks (every topic_delete and offsets delete_topic
 * is an expectation, so refused names are seen to touch nothing): the layout of each
 * version (throttle v1+, compact encodings and tagged fields v4+, error_message v5+),
 * duplicates, a store failure, truncated and null requests, and what the deletion does
 * to the other APIs — Metadata no longer lists the topic, OffsetFetch no longer returns
 * its offsets, a Fetch parked on it answers UNKNOWN_TOPIC_OR_PARTITION on its retry.
 *
 * Flexible requests are built with a header v1 (no header tagged fields) and run with
 * req->flexible set: reading the header is dispatch's business (test_dispatch.c covers
 * DeleteTopics v4's header v2 and response header v1).
 */
#include <string.h>

#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define MSG_UNKNOWN "This server does not host this topic-partition."
#define MSG_DUPLICATE "Duplicate topic name."

/* ---- running, freeing ---- */

/* One attempt of the handler; `flexible` as dispatch computes it (v4+). */
static kl_reply_t dt_run(gf_env_t *e, const uint8_t *frame, size_t len, bool flexible)
{
    kl_request_t base;
    memset(&base, 0, sizeof base);
    base.broker = &e->broker;
    base.coord = &e->coord;
    base.now_ms = e->mono_ms;
    base.first_attempt_ms = e->mono_ms;
    base.flexible = flexible;
    return hf_run_request(delete_topics_handle, &base, frame, len, e->frame, sizeof e->frame,
                          &e->req, &e->out, &e->resp);
}

/* gf_free for a test that deleted topics: only the partitions still registered are
 * closed by broker_close (the store closed the deleted ones). */
static void dt_free(gf_env_t *e)
{
    coord_close(&e->coord);
    for (kl_topic_t *t = e->broker.topics; t != NULL; t = t->hh.next)
        for (int32_t i = 0; i < t->meta.partition_count; i++)
            mock_log_store_expect_close(t->partitions[i].log);
    broker_close(&e->broker);
    wr_free(&e->out);
    free(e);
}

/* Expect the store to delete `name`, registered with the logs hf_log(first..first+n). */
static void expect_delete(const char *name, int32_t first, int32_t n, kl_err_t result)
{
    void *logs[8];
    assert_true(n <= 8);
    for (int32_t i = 0; i < n; i++)
        logs[i] = hf_log(first + i);
    mock_log_store_expect_topic_delete(name, logs, n, result);
}

/* ---- requests ---- */

/* DeleteTopics `v` for `n` names, timeout 30000; compact from v4 (header v1: see the top). */
static void dt_request(kl_writer_t *w, int16_t v, const char *const *names, int32_t n)
{
    bool flex = v >= 4;
    hf_req_begin(w, KL_API_DELETE_TOPICS, v);
    wr_arr(w, flex, n);                                     /* topic_names */
    for (int32_t i = 0; i < n; i++)
        wr_cstr(w, flex, names[i]);
    wr_i32(w, 30000);                                       /* timeout_ms */
    wr_tags(w, flex);
}

/* ---- responses ---- */

static void want_result(kl_reader_t *r, int16_t v, const char *name, kl_err_t err,
                        const char *message)
{
    bool flex = v >= 4;
    kl_str_t got = rd_str(r, flex);                         /* name */
    assert_true(rd_ok(r));
    assert_int_equal(got.len, (int32_t)strlen(name));
    assert_memory_equal(got.ptr, name, strlen(name));
    hf_want_i16(r, (int16_t)err);                           /* error_code */
    if (v >= 5) {                                           /* error_message */
        kl_str_t msg = rd_nstr(r, flex);
        assert_true(rd_ok(r));
        if (message == NULL) {
            assert_int_equal(msg.len, -1);
        } else {
            assert_int_equal(msg.len, (int32_t)strlen(message));
            assert_memory_equal(msg.ptr, message, strlen(message));
        }
    }
    if (flex)
        hf_want_i8(r, 0);                                   /* no tagged fields */
}

static void want_header(kl_reader_t *r, int16_t v, int32_t count)
{
    if (v >= 1) hf_want_i32(r, 0);                          /* throttle_time_ms */
    assert_int_equal(rd_arr(r, v >= 4), count);             /* responses */
}

static void want_end(kl_reader_t *r, int16_t v)
{
    if (v >= 4) hf_want_i8(r, 0);                           /* no tagged fields */
    hf_want_end(r);
}

/* ---- the clients' own requests ---- */

/* kafka-python admin: v3, ["old-topic"] (2 partitions here): deleted. */
static void test_kafka_python_v3_deletes_the_topic(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "old-topic", 2);
    gf_add_topic(e, "kept", 1);
    expect_delete("old-topic", 0, 2, KL_OK);
    assert_int_equal(dt_run(e, KPY_019_DELETE_TOPICS_V3_REQ,
                            sizeof KPY_019_DELETE_TOPICS_V3_REQ, false), KL_REPLY_SEND);
    want_header(&e->resp, 3, 1);
    want_result(&e->resp, 3, "old-topic", KL_OK, NULL);
    want_end(&e->resp, 3);
    assert_null(broker_find_topic(&e->broker, "old-topic"));
    assert_non_null(broker_find_topic(&e->broker, "kept"));
    dt_free(e);
}

/* KafkaJS admin: v1, ["old-topic"], which does not exist: no store call. */
static void test_kafkajs_v1_unknown_topic(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(dt_run(e, KJS_016_DELETE_TOPICS_V1_REQ,
                            sizeof KJS_016_DELETE_TOPICS_V1_REQ, false), KL_REPLY_SEND);
    want_header(&e->resp, 1, 1);
    want_result(&e->resp, 1, "old-topic", KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL);
    want_end(&e->resp, 1);
    dt_free(e);
}

/* ---- versions ---- */

/* v0: no throttle_time_ms. */
static void test_v0_layout(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "t0", 1);
    expect_delete("t0", 0, 1, KL_OK);
    const char *names[] = { "t0" };
    kl_writer_t w;
    dt_request(&w, 0, names, 1);
    assert_int_equal(dt_run(e, w.buf, w.len, false), KL_REPLY_SEND);
    want_header(&e->resp, 0, 1);
    want_result(&e->resp, 0, "t0", KL_OK, NULL);
    want_end(&e->resp, 0);
    wr_free(&w);
    dt_free(e);
}

/* v4 (KIP-482): compact array of compact strings in, compact out, tagged-field sections
 * per result and at the end; no error_message yet. */
static void test_v4_flexible_layout(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "t4", 1);
    expect_delete("t4", 0, 1, KL_OK);
    const char *names[] = { "t4", "nope" };
    kl_writer_t w;
    dt_request(&w, 4, names, 2);
    assert_int_equal(dt_run(e, w.buf, w.len, true), KL_REPLY_SEND);
    want_header(&e->resp, 4, 2);
    want_result(&e->resp, 4, "t4", KL_OK, NULL);
    want_result(&e->resp, 4, "nope", KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL);
    want_end(&e->resp, 4);
    wr_free(&w);
    dt_free(e);
}

/* v5 (KIP-599): error_message null on success, Kafka's text otherwise. */
static void test_v5_error_messages(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "t5", 2);
    expect_delete("t5", 0, 2, KL_OK);
    const char *names[] = { "t5", "nope" };
    kl_writer_t w;
    dt_request(&w, 5, names, 2);
    assert_int_equal(dt_run(e, w.buf, w.len, true), KL_REPLY_SEND);
    want_header(&e->resp, 5, 2);
    want_result(&e->resp, 5, "t5", KL_OK, NULL);
    want_result(&e->resp, 5, "nope", KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, MSG_UNKNOWN);
    want_end(&e->resp, 5);
    wr_free(&w);
    dt_free(e);
}

/* ---- the request-level rules ---- */

/* A name listed twice: INVALID_REQUEST for both entries and the topic kept; the other
 * name is deleted. */
static void test_duplicate_names(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "twice", 1);
    gf_add_topic(e, "solo", 1);
    expect_delete("solo", 1, 1, KL_OK);
    const char *names[] = { "twice", "solo", "twice" };
    kl_writer_t w;
    dt_request(&w, 5, names, 3);
    assert_int_equal(dt_run(e, w.buf, w.len, true), KL_REPLY_SEND);
    want_header(&e->resp, 5, 3);
    want_result(&e->resp, 5, "twice", KL_ERR_INVALID_REQUEST, MSG_DUPLICATE);
    want_result(&e->resp, 5, "solo", KL_OK, NULL);
    want_result(&e->resp, 5, "twice", KL_ERR_INVALID_REQUEST, MSG_DUPLICATE);
    want_end(&e->resp, 5);
    assert_non_null(broker_find_topic(&e->broker, "twice"));
    assert_null(broker_find_topic(&e->broker, "solo"));
    wr_free(&w);
    dt_free(e);
}

/* The store refuses: KAFKA_STORAGE_ERROR, and the topic is still there. */
static void test_store_failure_is_storage_error(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "stuck", 1);
    expect_delete("stuck", 0, 1, KL_ERR_KAFKA_STORAGE_ERROR);
    const char *names[] = { "stuck" };
    kl_writer_t w;
    dt_request(&w, 5, names, 1);
    assert_int_equal(dt_run(e, w.buf, w.len, true), KL_REPLY_SEND);
    want_header(&e->resp, 5, 1);
    want_result(&e->resp, 5, "stuck", KL_ERR_KAFKA_STORAGE_ERROR,
                "Disk error when trying to access log file on the disk.");
    want_end(&e->resp, 5);
    assert_non_null(broker_find_partition(&e->broker, "stuck", 0));
    wr_free(&w);
    dt_free(e);
}

/* Longer than any topic name, empty, or breaking the naming rule: no such topic. */
static void test_impossible_names_are_unknown(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *names[] = { long_name, "", "a/b" };
    kl_writer_t w;
    dt_request(&w, 3, names, 3);
    assert_int_equal(dt_run(e, w.buf, w.len, false), KL_REPLY_SEND);
    want_header(&e->resp, 3, 3);
    want_result(&e->resp, 3, long_name, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL);
    want_result(&e->resp, 3, "", KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL);
    want_result(&e->resp, 3, "a/b", KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL);
    want_end(&e->resp, 3);
    wr_free(&w);
    dt_free(e);
}

/* Every strict prefix is a truncated request (classic and compact): closed, nothing
 * deleted (the mock store fails on any call). A null names array is malformed too. */
static void test_truncated_and_null_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "old-topic", 1);
    for (size_t cut = gf_body_at(KPY_019_DELETE_TOPICS_V3_REQ);
         cut < sizeof KPY_019_DELETE_TOPICS_V3_REQ; cut++)
        assert_int_equal(dt_run(e, KPY_019_DELETE_TOPICS_V3_REQ, cut, false), KL_REPLY_CLOSE);
    const char *names[] = { "old-topic" };
    kl_writer_t w;
    dt_request(&w, 5, names, 1);
    for (size_t cut = gf_body_at(w.buf); cut < w.len; cut++)
        assert_int_equal(dt_run(e, w.buf, cut, true), KL_REPLY_CLOSE);
    wr_free(&w);

    hf_req_begin(&w, KL_API_DELETE_TOPICS, 3);
    wr_array_len(&w, -1);                                   /* topic_names: null */
    wr_i32(&w, 30000);
    assert_int_equal(dt_run(e, w.buf, w.len, false), KL_REPLY_CLOSE);
    wr_free(&w);
    hf_req_begin(&w, KL_API_DELETE_TOPICS, 4);
    wr_compact_array_len(&w, -1);                           /* compact null */
    wr_i32(&w, 30000);
    wr_empty_tagged_fields(&w);
    assert_int_equal(dt_run(e, w.buf, w.len, true), KL_REPLY_CLOSE);
    wr_free(&w);
    assert_non_null(broker_find_topic(&e->broker, "old-topic"));
    dt_free(e);
}

/* ---- what the deletion does to the other APIs ---- */

/* Metadata v1 no longer lists it (auto-creation is off in this fixture). */
static void test_metadata_no_longer_has_it(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "gone", 1);
    expect_delete("gone", 0, 1, KL_OK);
    const char *names[] = { "gone" };
    kl_writer_t w;
    dt_request(&w, 1, names, 1);
    assert_int_equal(dt_run(e, w.buf, w.len, false), KL_REPLY_SEND);
    wr_free(&w);

    hf_req_begin(&w, KL_API_METADATA, 1);
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "gone");
    assert_int_equal(gf_run(e, metadata_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 1);                               /* brokers */
    hf_want_i32(&e->resp, HF_NODE_ID);
    hf_want_str(&e->resp, GF_HOST);
    hf_want_i32(&e->resp, GF_PORT);
    hf_want_null_str(&e->resp);                             /* rack */
    hf_want_i32(&e->resp, HF_NODE_ID);                      /* controller_id */
    hf_want_i32(&e->resp, 1);                               /* topics */
    hf_want_i16(&e->resp, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    hf_want_str(&e->resp, "gone");
    hf_want_i8(&e->resp, 0);                                /* is_internal */
    hf_want_i32(&e->resp, 0);                               /* partitions */
    hf_want_end(&e->resp);
    dt_free(e);
}

/* The groups' committed offsets of it are deleted durably (one offset store call) and
 * OffsetFetch no longer returns them; another topic's stay. */
static void test_committed_offsets_are_gone(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "topic", 1);
    gf_add_topic(e, "other", 1);
    gf_commit_offset(e, "kp-group", "topic", 0, 5, "m");
    gf_commit_offset(e, "kp-group", "other", 0, 8, "");
    expect_delete("topic", 0, 1, KL_OK);
    expect_string(mock_offset_store_delete_topic, topic, "topic");
    will_return(mock_offset_store_delete_topic, KL_OK);
    const char *names[] = { "topic" };
    kl_writer_t w;
    dt_request(&w, 3, names, 1);
    assert_int_equal(dt_run(e, w.buf, w.len, false), KL_REPLY_SEND);
    wr_free(&w);

    coord_offset_t off;
    assert_int_equal(coord_fetch_offset(&e->coord, "kp-group", "other", 0, &off), KL_OK);
    assert_int_equal(off.offset, 8);
    /* kafka-python's own OffsetFetch v1 of kp-group, topic, partitions 0-2 */
    assert_int_equal(gf_run(e, offset_fetch_handle, KPY_009_OFFSET_FETCH_V1_REQ,
                            sizeof KPY_009_OFFSET_FETCH_V1_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 1);                               /* topics */
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    for (int32_t p = 0; p < 3; p++) {
        hf_want_i32(&e->resp, p);                           /* partition_index */
        hf_want_i64(&e->resp, -1);                          /* committed_offset: none */
        hf_want_str(&e->resp, "");                          /* metadata */
        hf_want_i16(&e->resp, KL_OK);                       /* error_code */
    }
    hf_want_end(&e->resp);
    dt_free(e);
}

/* Fetch v4 of "topic" partition 0 from `offset`, waiting up to 500 ms for 1 byte. */
static void fetch_frame(kl_writer_t *w, int64_t offset)
{
    hf_req_begin(w, KL_API_FETCH, 4);
    wr_i32(w, -1);                                          /* replica_id */
    wr_i32(w, 500);                                         /* max_wait_ms */
    wr_i32(w, 1);                                           /* min_bytes */
    wr_i32(w, 1 << 20);                                     /* max_bytes */
    wr_i8(w, 0);                                            /* isolation_level */
    wr_array_len(w, 1);
    wr_cstr(w, false, "topic");
    wr_array_len(w, 1);
    wr_i32(w, 0);                                           /* partition */
    wr_i64(w, offset);                                      /* fetch_offset */
    wr_i32(w, 1 << 20);                                     /* partition_max_bytes */
}

/* A Fetch parked at the log end of the topic, which is then deleted: its retry (not
 * the final one) answers at once with UNKNOWN_TOPIC_OR_PARTITION and no records. */
static void test_parked_fetch_answers_unknown_after_deletion(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_add_topic(e, "topic", 1);
    kl_writer_t fetch;
    fetch_frame(&fetch, 0);
    assert_int_equal(gf_run(e, fetch_handle, fetch.buf, fetch.len), KL_REPLY_PARK);

    expect_delete("topic", 0, 1, KL_OK);
    const char *names[] = { "topic" };
    kl_writer_t w;
    dt_request(&w, 3, names, 1);
    assert_int_equal(dt_run(e, w.buf, w.len, false), KL_REPLY_SEND);
    wr_free(&w);

    e->mono_ms += 100;                                      /* the retry, before its deadline */
    assert_int_equal(gf_run(e, fetch_handle, fetch.buf, fetch.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);                               /* responses */
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);                               /* partitions */
    hf_want_i32(&e->resp, 0);                               /* partition_index */
    hf_want_i16(&e->resp, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    hf_want_i64(&e->resp, -1);                              /* high_watermark */
    hf_want_i64(&e->resp, -1);                              /* last_stable_offset */
    hf_want_i32(&e->resp, 0);                               /* aborted_transactions */
    assert_true(rd_nullable_bytes(&e->resp).len <= 0);      /* records: none */
    hf_want_end(&e->resp);
    wr_free(&fetch);
    dt_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_python_v3_deletes_the_topic),
        cmocka_unit_test(test_kafkajs_v1_unknown_topic),
        cmocka_unit_test(test_v0_layout),
        cmocka_unit_test(test_v4_flexible_layout),
        cmocka_unit_test(test_v5_error_messages),
        cmocka_unit_test(test_duplicate_names),
        cmocka_unit_test(test_store_failure_is_storage_error),
        cmocka_unit_test(test_impossible_names_are_unknown),
        cmocka_unit_test(test_truncated_and_null_requests_close),
        cmocka_unit_test(test_metadata_no_longer_has_it),
        cmocka_unit_test(test_committed_offsets_are_gone),
        cmocka_unit_test(test_parked_fetch_answers_unknown_after_deletion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
