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
#include <unistd.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "domain/record_batch.h"
#include "infrastructure/protocol/api.h"
#include "test/fixtures/client_frames.h"
#include "test/mocks/handler_fixture.h"

/* kcat's produced batch (3 records) inside KCAT_006_PRODUCE_V7_REQ: what the logs hold here. */
#define BATCH (KCAT_006_PRODUCE_V7_REQ + 48)
#define BATCH_LEN 122
#define MB 1048576

/* ---- expected response pieces ---- */

static void want_top(kl_reader_t *r, int16_t v)
{
    if (v >= 1) hf_want_i32(r, 0);                          /* throttle_time_ms */
    if (v >= 7) hf_want_i16(r, KL_OK);                      /* error_code */
    if (v >= 7) hf_want_i32(r, 0);                          /* session_id: no session */
}

/* One partition's fields up to the records, then the records' length. */
static void want_partition(kl_reader_t *r, int16_t v, int32_t index, kl_err_t err,
                           int64_t hw, int64_t log_start, int32_t records_len)
{
    hf_want_i32(r, index);
    hf_want_i16(r, (int16_t)err);
    hf_want_i64(r, hw);                                     /* high_watermark */
    if (v >= 4) hf_want_i64(r, hw);                         /* last_stable_offset */
    if (v >= 5) hf_want_i64(r, log_start);                  /* log_start_offset */
    if (v >= 4) hf_want_i32(r, 0);                          /* aborted_transactions: [] */
    if (v >= 11) hf_want_i32(r, -1);                        /* preferred_read_replica */
    hf_want_i32(r, records_len);
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
    hf_req_begin(w, KL_API_FETCH, v);
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
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 0, 3);
    mock_log_store_expect_read(hf_log(0), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                            sizeof KCAT_009_FETCH_V11_REQ),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* Give one partition the log [log_start, log_end). */
static void set_offsets(hf_env_t *e, int32_t partition, int64_t log_start, int64_t log_end)
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
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    set_offsets(e, 0, 0, 3);
    mock_log_store_expect_read(hf_log(0), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, KPY_012_FETCH_V4_REQ, sizeof KPY_012_FETCH_V4_REQ),
                     KL_REPLY_SEND);
    want_top(&e->resp, 4);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 4, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 4, 1, KL_OK, 0, 0, 0);
    want_partition(&e->resp, 4, 2, KL_OK, 0, 0, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* KafkaJS: v11, read_committed, partitions 2, 1, 0 in that order; 10 MiB response. */
static void test_kafkajs_v11_answers_in_request_order(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    set_offsets(e, 1, 0, 3);
    mock_log_store_expect_read(hf_log(1), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, KJS_009_FETCH_V11_REQ,
                            sizeof KJS_009_FETCH_V11_REQ),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 2, KL_OK, 0, 0, 0);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 0, KL_OK, 0, 0, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* Multi-step: kcat's Produce, then kcat's group-consume Fetch of all partitions reads
 * back exactly the bytes appended (base offset assigned), from the store. */
static void test_produce_then_fetch_returns_the_batch(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    mock_log_store_expect_append(hf_log(1), BATCH_LEN, 0, KL_OK);
    assert_int_equal(hf_run(e, produce_handle, KCAT_006_PRODUCE_V7_REQ,
                            sizeof KCAT_006_PRODUCE_V7_REQ),
                     KL_REPLY_SEND);
    uint8_t stored[BATCH_LEN];
    memcpy(stored, e->frame + 48, BATCH_LEN);               /* what the store was handed */

    mock_log_store_expect_read(hf_log(1), 0, MB, stored, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, KCAT_014_FETCH_V11_REQ,
                            sizeof KCAT_014_FETCH_V11_REQ),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 2, KL_OK, 0, 0, 0);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, stored, BATCH_LEN);
    want_partition(&e->resp, 11, 0, KL_OK, 0, 0, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* ---- versions ---- */

static void check_version(int16_t v)
{
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 1, 1, 4);
    fetch_part_t parts[] = { { 0, 1, MB } };
    kl_writer_t w;
    fetch_request(&w, v, 500, 1, 50 * MB, "topic", parts, 1);
    mock_log_store_expect_read(hf_log(0), 1, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, v);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, v, 0, KL_OK, 4, 1, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
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
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    assert_int_equal(hf_run_at(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                               sizeof KCAT_009_FETCH_V11_REQ, 1000, 1000, false),
                     KL_REPLY_PARK);
    assert_int_equal(e->req.park_until_ms, 1500);
    hf_want_end(&e->resp);                                  /* only dispatch's 8 bytes */

    assert_int_equal(hf_run_at(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                               sizeof KCAT_009_FETCH_V11_REQ, 1200, 1000, false),
                     KL_REPLY_PARK);
    assert_int_equal(e->req.park_until_ms, 1500);

    assert_int_equal(hf_run_at(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                               sizeof KCAT_009_FETCH_V11_REQ, 1500, 1000, true),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 0, 0, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* A retry after the deadline answers even without final_attempt. */
static void test_long_poll_deadline_passed(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    assert_int_equal(hf_run_at(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                               sizeof KCAT_009_FETCH_V11_REQ, 1500, 1000, false),
                     KL_REPLY_SEND);
    hf_free(e);
}

/* Data arrived while parked: the retry answers with it. */
static void test_long_poll_retry_finds_data(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 3);
    assert_int_equal(hf_run_at(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                               sizeof KCAT_009_FETCH_V11_REQ, 1000, 1000, false),
                     KL_REPLY_PARK);
    set_offsets(e, 0, 0, 3);
    mock_log_store_expect_read(hf_log(0), 0, MB, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run_at(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                               sizeof KCAT_009_FETCH_V11_REQ, 1100, 1000, false),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* max_wait_ms 0 never parks. */
static void test_no_wait_answers_empty(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic(e, "topic", 1);
    fetch_part_t parts[] = { { 0, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 0, 1, 50 * MB, "topic", parts, 1);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_free(e);
}

/* ---- errors: answered at once, never parked ---- */

/* Offset before the log start: OFFSET_OUT_OF_RANGE with the offsets the consumer needs
 * to reset (high watermark, log start), no records, no parking despite no data. */
static void test_offset_out_of_range(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 5, 8);
    assert_int_equal(hf_run(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                            sizeof KCAT_009_FETCH_V11_REQ),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_ERR_OFFSET_OUT_OF_RANGE, 8, 5, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

static void test_unknown_topic(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    assert_int_equal(hf_run(e, fetch_handle, KPY_012_FETCH_V4_REQ, sizeof KPY_012_FETCH_V4_REQ),
                     KL_REPLY_SEND);
    want_top(&e->resp, 4);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    for (int32_t i = 0; i < 3; i++)
        want_partition(&e->resp, 4, i, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* The store failing mid-read: its error, no records (nothing half-written). */
static void test_store_error(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 0, 3);
    mock_log_store_expect_read(hf_log(0), 0, MB, BATCH, BATCH_LEN, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(hf_run(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                            sizeof KCAT_009_FETCH_V11_REQ),
                     KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_ERR_KAFKA_STORAGE_ERROR, 3, 0, 0);
    hf_want_end(&e->resp);
    hf_free(e);
}

/* ---- KIP-74 size limits ---- */

/* The partition limit is passed to the store; the response limit caps it. */
static void test_partition_and_response_limits_reach_the_store(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 2, 0, 3);
    fetch_part_t parts[] = { { 0, 0, 50 }, { 1, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 500, 1, 300, "topic", parts, 2);
    /* partition 0: its own 50 bytes; one whole batch still comes back (first with data) */
    mock_log_store_expect_read(hf_log(0), 0, 50, BATCH, BATCH_LEN, KL_OK);
    /* partition 1: what the response has left, 300 - 122 */
    mock_log_store_expect_read(hf_log(1), 0, 300 - BATCH_LEN, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 2);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* After the first partition with data, a batch larger than what is left is not sent
 * (the partition comes back empty, with its offsets); once the response is full, later
 * partitions are not read at all. */
static void test_only_the_first_partition_may_exceed(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 0, 3);
    fetch_part_t parts[] = { { 0, 0, MB }, { 1, 0, MB }, { 2, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 500, 1, 200, "topic", parts, 3);
    mock_log_store_expect_read(hf_log(0), 0, 200, BATCH, BATCH_LEN, KL_OK);
    mock_log_store_expect_read(hf_log(1), 0, 200 - BATCH_LEN, BATCH, BATCH_LEN, KL_OK);
    mock_log_store_expect_read(hf_log(2), 0, 200 - BATCH_LEN, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, 0);
    want_partition(&e->resp, 11, 2, KL_OK, 3, 0, 0);
    hf_want_end(&e->resp);
    wr_free(&w);

    /* max_bytes 100: the first batch (122) already fills it, so 1 and 2 are not read. */
    fetch_request(&w, 11, 500, 1, 100, "topic", parts, 3);
    mock_log_store_expect_read(hf_log(0), 0, 100, BATCH, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 3);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 1, KL_OK, 3, 0, 0);
    want_partition(&e->resp, 11, 2, KL_OK, 3, 0, 0);
    hf_want_end(&e->resp);
    wr_free(&w);
    hf_free(e);
}

/* ---- zero copy: a store that splices file ranges into the response ---- */

/* The log file the fake store splices from: 100 bytes of padding, then BATCH, then more
 * padding; unlinked at once, so only the descriptor names it. */
#define SPLICE_AT 100

static int splice_fd = -1;

static int splice_file_open(void)
{
    char path[] = "/tmp/klamm_test_api_fetch_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    uint8_t pad[SPLICE_AT];
    memset(pad, 'x', sizeof pad);
    assert_int_equal(write(fd, pad, sizeof pad), (ssize_t)sizeof pad);
    assert_int_equal(write(fd, BATCH, BATCH_LEN), BATCH_LEN);
    assert_int_equal(write(fd, pad, sizeof pad), (ssize_t)sizeof pad);
    splice_fd = fd;
    return fd;
}

/* The store's read, as segment.c does it for data it wrote itself: checks log, offset,
 * max_bytes like the mock; then takes (in will_return order) `copy` bytes to reserve and
 * fill from the file first (0: none), the file offset and length to splice, and the
 * result. The bytes count only when the result is KL_OK. */
static kl_err_t splice_store_read(void *self, void *log, int64_t offset, int32_t max_bytes,
                                  kl_buf_sink_t *sink, size_t *len_out)
{
    (void)self;
    check_expected_ptr(log);
    check_expected(offset);
    check_expected(max_bytes);
    size_t copy = mock_type(size_t);
    int64_t at = mock_type(int64_t);
    size_t n = mock_type(size_t);
    kl_err_t result = mock_type(kl_err_t);
    *len_out = 0;
    if (copy > 0) {
        uint8_t *dst = sink->reserve(sink->arg, copy);
        assert_non_null(dst);
        assert_int_equal(pread(splice_fd, dst, copy, at), (ssize_t)copy);
        at += (int64_t)copy;
    }
    assert_non_null(sink->splice);
    assert_true(sink->splice(sink->arg, splice_fd, at, n));
    if (result == KL_OK)
        *len_out = copy + n;
    return result;
}

static void expect_splice_read(void *log, int64_t offset, int32_t max_bytes, size_t copy,
                               int64_t at, size_t n, kl_err_t result)
{
    expect_value(splice_store_read, log, log);
    expect_value(splice_store_read, offset, offset);
    expect_value(splice_store_read, max_bytes, max_bytes);
    will_return(splice_store_read, copy);
    will_return(splice_store_read, at);
    will_return(splice_store_read, n);
    will_return(splice_store_read, result);
}

static kl_log_store_t splice_store(void)
{
    kl_log_store_t s = mock_log_store();
    s.read = splice_store_read;
    return s;
}

/* The response as the socket gets it: memory bytes with the spliced file ranges read in
 * their places. Points e->resp at its body (after dispatch's 8 bytes); free the result. */
static uint8_t *flatten(hf_env_t *e)
{
    const kl_writer_t *w = &e->out;
    uint8_t *flat = malloc(wr_total(w) + 1);
    assert_non_null(flat);
    size_t prev = 0, at = 0;
    for (size_t i = 0; i < w->nsplices; i++) {
        const kl_wr_splice_t *s = &w->splices[i];
        assert_true(s->at >= prev && s->at <= w->len);
        memcpy(flat + at, w->buf + prev, s->at - prev);
        at += s->at - prev;
        prev = s->at;
        assert_int_equal(pread(s->fd, flat + at, s->len, s->offset), (ssize_t)s->len);
        at += s->len;
    }
    memcpy(flat + at, w->buf + prev, w->len - prev);
    at += w->len - prev;
    assert_int_equal(at, wr_total(w));
    rd_init(&e->resp, flat + 8, at - 8);
    return flat;
}

/* The splice `i` of the response: this file range, right after its records length field,
 * which says `len`. */
static void want_splice(hf_env_t *e, size_t i, int64_t offset, size_t len)
{
    assert_true(i < e->out.nsplices);
    const kl_wr_splice_t *s = &e->out.splices[i];
    assert_int_equal(s->fd, splice_fd);
    assert_int_equal(s->offset, offset);
    assert_int_equal(s->len, len);
    assert_true(s->at >= 12);
    assert_int_equal(kl_be32_read(e->out.buf + s->at - 4), (int32_t)len);
}

/* kcat's v11 fetch over a store that splices: the response holds the range by reference
 * (one splice of exactly the batch, no copy in memory), its records length is the
 * spliced length, and the bytes as sent are the usual response. */
static void test_spliced_records_are_held_by_reference(void **state)
{
    (void)state;
    int fd = splice_file_open();
    hf_env_t *e = hf_env_new(splice_store());
    hf_add_topic_at(e, "topic", 3, 0, 3);
    expect_splice_read(hf_log(0), 0, MB, 0, SPLICE_AT, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, KCAT_009_FETCH_V11_REQ,
                            sizeof KCAT_009_FETCH_V11_REQ),
                     KL_REPLY_SEND);
    assert_int_equal(e->out.nsplices, 1);
    assert_int_equal(e->out.spliced, BATCH_LEN);
    want_splice(e, 0, SPLICE_AT, BATCH_LEN);
    assert_int_equal(e->out.splices[0].at, e->out.len);     /* the last thing in it */
    uint8_t *flat = flatten(e);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    hf_want_end(&e->resp);
    free(flat);
    hf_free(e);
    close(fd);
}

/* min_bytes not reached: the request parks and the response keeps neither the bytes nor
 * the file ranges read (only dispatch's 8 bytes); at the deadline it answers with them. */
static void test_parked_fetch_leaves_no_splices(void **state)
{
    (void)state;
    int fd = splice_file_open();
    hf_env_t *e = hf_env_new(splice_store());
    hf_add_topic_at(e, "topic", 1, 0, 3);
    fetch_part_t parts[] = { { 0, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 500, BATCH_LEN + 1, 50 * MB, "topic", parts, 1);
    expect_splice_read(hf_log(0), 0, MB, 0, SPLICE_AT, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_PARK);
    assert_int_equal(e->req.park_until_ms, 1500);
    assert_int_equal(e->out.len, 8);
    assert_int_equal(e->out.nsplices, 0);
    assert_int_equal(e->out.spliced, 0);
    assert_int_equal(wr_total(&e->out), 8);

    expect_splice_read(hf_log(0), 0, MB, 0, SPLICE_AT, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run_at(e, fetch_handle, w.buf, w.len, 1500, 1000, true), KL_REPLY_SEND);
    assert_int_equal(e->out.nsplices, 1);
    want_splice(e, 0, SPLICE_AT, BATCH_LEN);
    uint8_t *flat = flatten(e);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 1);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    hf_want_end(&e->resp);
    free(flat);
    wr_free(&w);
    hf_free(e);
    close(fd);
}

/* A v11 response to two partitions of "topic" in which only partition 0's batch is left,
 * as one range; partition 1 comes back without records and with `second_err`. */
static void want_only_the_first_range(hf_env_t *e, kl_err_t second_err)
{
    assert_int_equal(e->out.nsplices, 1);
    assert_int_equal(e->out.spliced, BATCH_LEN);
    want_splice(e, 0, SPLICE_AT, BATCH_LEN);
    uint8_t *flat = flatten(e);
    want_top(&e->resp, 11);
    hf_want_i32(&e->resp, 1);
    hf_want_str(&e->resp, "topic");
    hf_want_i32(&e->resp, 2);
    want_partition(&e->resp, 11, 0, KL_OK, 3, 0, BATCH_LEN);
    want_batch(&e->resp, BATCH, BATCH_LEN);
    want_partition(&e->resp, 11, 1, second_err, 3, 0, 0);
    hf_want_end(&e->resp);
    free(flat);
}

/* The second partition's read fails after it copied `copy` bytes and spliced a range: its
 * bytes and its range go, the first partition's range stays where it was. */
static void check_failed_second_partition(size_t copy)
{
    int fd = splice_file_open();
    hf_env_t *e = hf_env_new(splice_store());
    hf_add_topic_at(e, "topic", 2, 0, 3);
    fetch_part_t parts[] = { { 0, 0, MB }, { 1, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 500, 1, 50 * MB, "topic", parts, 2);
    expect_splice_read(hf_log(0), 0, MB, 0, SPLICE_AT, BATCH_LEN, KL_OK);
    expect_splice_read(hf_log(1), 0, MB, copy, SPLICE_AT, BATCH_LEN - copy,
                       KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_only_the_first_range(e, KL_ERR_KAFKA_STORAGE_ERROR);
    wr_free(&w);
    hf_free(e);
    close(fd);
}

static void test_failed_second_partition_keeps_the_first_range(void **state)
{
    (void)state;
    check_failed_second_partition(0);       /* its range starts where its records do */
    check_failed_second_partition(10);      /* after bytes it copied */
}

/* KIP-74 with splices: the second partition's batch is over what the response has left,
 * so its range is dropped (records length 0) and the first one's kept. */
static void test_later_partition_over_the_limit_drops_its_range(void **state)
{
    (void)state;
    int fd = splice_file_open();
    hf_env_t *e = hf_env_new(splice_store());
    hf_add_topic_at(e, "topic", 2, 0, 3);
    fetch_part_t parts[] = { { 0, 0, MB }, { 1, 0, MB } };
    kl_writer_t w;
    fetch_request(&w, 11, 500, 1, 200, "topic", parts, 2);
    expect_splice_read(hf_log(0), 0, 200, 0, SPLICE_AT, BATCH_LEN, KL_OK);
    expect_splice_read(hf_log(1), 0, 200 - BATCH_LEN, 0, SPLICE_AT, BATCH_LEN, KL_OK);
    assert_int_equal(hf_run(e, fetch_handle, w.buf, w.len), KL_REPLY_SEND);
    want_only_the_first_range(e, KL_OK);
    wr_free(&w);
    hf_free(e);
    close(fd);
}

/* ---- malformed ---- */

static void test_truncated_request_closes(void **state)
{
    (void)state;
    hf_env_t *e = hf_env_new(mock_log_store());
    hf_add_topic_at(e, "topic", 3, 0, 3);
    hf_expect_close_on_every_cut(e, fetch_handle, KJS_009_FETCH_V11_REQ,
                                 sizeof KJS_009_FETCH_V11_REQ, 13);
    hf_expect_close_on_every_cut(e, fetch_handle, KPY_012_FETCH_V4_REQ,
                                 sizeof KPY_012_FETCH_V4_REQ, 10 + 11);
    hf_free(e);
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
        cmocka_unit_test(test_spliced_records_are_held_by_reference),
        cmocka_unit_test(test_parked_fetch_leaves_no_splices),
        cmocka_unit_test(test_failed_second_partition_keeps_the_first_range),
        cmocka_unit_test(test_later_partition_over_the_limit_drops_its_range),
        cmocka_unit_test(test_truncated_request_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
