/*
 * test/test_hostile_input.c — hostile requests through the whole request path
 * (protocol_dispatch → header → API table → handler → use cases → a fake store).
 * Layer: test. May touch: everything, cmocka.
 *
 * Why: every byte of a request comes from the network, so every length and count in it
 * may lie. These are the explicit cases the fuzzer (test/fuzz/) finds only by luck or
 * too late to be readable: truncated headers, unknown API keys, versions never
 * advertised, array counts of 2^31-1, strings longer than the frame, negative lengths,
 * Produce record bytes that are garbage, and every truncation of a real Produce v7.
 * The rules asserted: a malformed or refused request closes the connection (nothing in
 * `out`, nothing appended); ApiVersions at an unknown version gets the KIP-511 v0
 * UNSUPPORTED_VERSION answer; bad records get a partition error, never a crash; and
 * every answer is a well-formed frame (size prefix = length - 4, the request's
 * correlation id). Each frame is dispatched from a heap copy of exactly its size, so a
 * one-byte over-read shows up under `make asan`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "application/broker.h"
#include "application/usecases.h"
#include "domain/crc32c.h"
#include "domain/record_batch.h"
#include "infrastructure/protocol/api.h"
#include "infrastructure/protocol/wire.h"
#include "test/fixtures/client_frames.h"

#define HOSTILE_TOPIC "topic"
#define HOSTILE_PARTITIONS 3
#define HOSTILE_BIG_COUNT INT32_MAX          /* 2^31 - 1 */
#define HOSTILE_MAX_OUT_CAP 65536            /* no hostile request may grow `out` beyond */
#define HOSTILE_MAX_SECONDS 0.5              /* ...or take longer than this */

/* kcat's Produce v7 (KCAT_006_PRODUCE_V7_REQ, test/fixtures/client_frames.h): correlation
 * id 4, client "rdkafka", acks -1, timeout 30000, topic "topic", partition 1, one
 * uncompressed v2 batch of 3 records (122 bytes, starting at byte 48). */
#define KCAT_BATCH_AT 48
#define KCAT_BATCH_LEN 122

/* ---- a small fake store: appends are counted, nothing is read back ---------------- */

typedef struct hostile_store {
    int appends;
    size_t appended_bytes;
    int open_logs;
    int handle;                  /* its address is every partition's log handle */
} hostile_store_t;

static kl_err_t hs_topic_create(void *self, const kl_topic_meta_t *meta)
{
    (void)self;
    (void)meta;
    return KL_OK;
}

static kl_err_t hs_topic_load_all(void *self, kl_topic_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return KL_OK;
}

static kl_err_t hs_partition_open(void *self, const char *topic, int32_t partition,
                                  void **log_out, kl_partition_offsets_t *offsets_out)
{
    hostile_store_t *s = self;
    (void)topic;
    (void)partition;
    s->open_logs++;
    *log_out = &s->handle;
    offsets_out->log_start = 0;
    offsets_out->high_watermark = 0;
    offsets_out->log_end = 0;
    return KL_OK;
}

static void hs_partition_close(void *self, void *log)
{
    hostile_store_t *s = self;
    assert_ptr_equal(log, &s->handle);
    s->open_logs--;
}

static kl_err_t hs_append(void *self, void *log, const uint8_t *batches, size_t len)
{
    hostile_store_t *s = self;
    assert_ptr_equal(log, &s->handle);
    assert_non_null(batches);
    s->appends++;
    s->appended_bytes += len;
    return KL_OK;
}

static kl_err_t hs_read(void *self, void *log, int64_t offset, int32_t max_bytes,
                        kl_buf_sink_t *sink, size_t *len_out)
{
    (void)self; (void)log; (void)offset; (void)max_bytes; (void)sink;
    *len_out = 0;
    return KL_OK;
}

static kl_err_t hs_offset_for_timestamp(void *self, void *log, int64_t timestamp,
                                        int64_t *offset_out, int64_t *timestamp_out)
{
    (void)self; (void)log; (void)timestamp;
    *offset_out = -1;
    *timestamp_out = -1;
    return KL_OK;
}

static int64_t hs_now_ms(void *self)
{
    (void)self;
    return INT64_C(1700000000000);
}

/* ---- fixture: a broker with topic "topic" (3 partitions) ------------------------- */

typedef struct fixture {
    hostile_store_t store;
    kl_broker_t broker;
    kl_request_t req;
    kl_writer_t out;
    kl_writer_t frame;           /* the request being built */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    kl_log_store_t port = {
        .self = &f->store, .topic_create = hs_topic_create,
        .topic_load_all = hs_topic_load_all, .partition_open = hs_partition_open,
        .partition_close = hs_partition_close, .append = hs_append, .read = hs_read,
        .offset_for_timestamp = hs_offset_for_timestamp,
    };
    kl_clock_t clock = { NULL, hs_now_ms };
    kl_broker_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.node_id = 1;
    strcpy(cfg.advertised_host, "localhost");
    cfg.advertised_port = 9092;
    cfg.num_partitions = 1;
    cfg.default_replication_factor = 1;
    cfg.auto_create_topics = false;
    cfg.message_max_bytes = 1048588;
    if (broker_init(&f->broker, &cfg, port, clock) != KL_OK ||
        create_topic(&f->broker, HOSTILE_TOPIC, HOSTILE_PARTITIONS, 1, NULL, 0, false, NULL)
            != KL_OK) {
        free(f);
        return -1;
    }
    f->req.broker = &f->broker;
    f->req.log = NULL;                          /* the closes are logged: keep it quiet */
    f->req.now_ms = 1000;
    f->req.first_attempt_ms = 1000;
    wr_init(&f->out);
    wr_init(&f->frame);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    broker_close(&f->broker);
    assert_int_equal(f->store.open_logs, 0);
    wr_free(&f->out);
    wr_free(&f->frame);
    free(f);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static int32_t be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static int16_t be16(const uint8_t *p)
{
    return (int16_t)((uint16_t)p[0] << 8 | p[1]);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Dispatch `len` bytes from a heap copy of exactly that size; check the frame rules
 * that hold for every reply; return the reply. */
static kl_reply_t dispatch(fixture_t *f, const uint8_t *bytes, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, bytes, len);
    memset(&f->req.header, 0, sizeof f->req.header);
    kl_reply_t reply = protocol_dispatch(&f->req, copy, len, &f->out);
    free(copy);
    if (reply == KL_REPLY_SEND) {
        assert_true(len >= 8);
        assert_true(f->out.len >= 8);
        assert_int_equal(be32(f->out.buf), (int32_t)(f->out.len - 4));
        assert_int_equal(be32(f->out.buf + 4), be32(bytes + 4));   /* correlation id */
    } else {
        assert_int_equal(f->out.len, 0);
    }
    assert_true(f->out.cap <= HOSTILE_MAX_OUT_CAP);
    return reply;
}

static kl_reply_t dispatch_frame(fixture_t *f)
{
    assert_true(wr_ok(&f->frame));
    return dispatch(f, f->frame.buf, f->frame.len);
}

/* Start a request in f->frame: header v1 (key, version, correlation id 77, client). */
static void begin(fixture_t *f, int16_t key, int16_t version)
{
    wr_reset(&f->frame);
    wr_i16(&f->frame, key);
    wr_i16(&f->frame, version);
    wr_i32(&f->frame, 77);
    wr_nullable_string(&f->frame, "hostile", 7);
}

/* A Produce v7 frame up to (and including) the records bytes of one partition. */
static void produce_v7(fixture_t *f, int32_t partition, const uint8_t *records, int32_t len)
{
    begin(f, KL_API_PRODUCE, 7);
    wr_nullable_string(&f->frame, NULL, -1);        /* transactional_id */
    wr_i16(&f->frame, -1);                          /* acks */
    wr_i32(&f->frame, 30000);                       /* timeout_ms */
    wr_array_len(&f->frame, 1);
    wr_string(&f->frame, HOSTILE_TOPIC, 5);
    wr_array_len(&f->frame, 1);
    wr_i32(&f->frame, partition);
    wr_nullable_bytes(&f->frame, records, len);
}

/* The one partition error of a Produce v7 answer to produce_v7(). */
static int16_t produce_v7_error(const fixture_t *f)
{
    kl_reader_t r;
    rd_init(&r, f->out.buf + 8, f->out.len - 8);
    assert_int_equal(rd_array_len(&r), 1);
    kl_str_t topic = rd_string(&r);
    assert_int_equal(topic.len, 5);
    assert_int_equal(rd_array_len(&r), 1);
    (void)rd_i32(&r);                               /* index */
    int16_t err = rd_i16(&r);
    (void)rd_i64(&r);                               /* base_offset */
    (void)rd_i64(&r);                               /* log_append_time */
    (void)rd_i64(&r);                               /* log_start_offset */
    (void)rd_i32(&r);                               /* throttle_time_ms */
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);
    return err;
}

/* ---- headers, keys, versions --------------------------------------------------- */

static void test_truncated_header_closes(void **state)
{
    fixture_t *f = *state;
    begin(f, KL_API_METADATA, 1);
    wr_array_len(&f->frame, -1);
    size_t header_len = 2 + 2 + 4 + 2 + 7;
    for (size_t n = 0; n < header_len; n++)
        assert_int_equal(dispatch(f, f->frame.buf, n), KL_REPLY_CLOSE);
    assert_int_equal(protocol_dispatch(&f->req, NULL, 0, &f->out), KL_REPLY_CLOSE);
    /* Header complete, body (the topics array) cut: still a close. */
    for (size_t n = header_len; n < f->frame.len; n++)
        assert_int_equal(dispatch(f, f->frame.buf, n), KL_REPLY_CLOSE);
    assert_int_equal(dispatch_frame(f), KL_REPLY_SEND);
}

static void test_unknown_api_keys_close(void **state)
{
    fixture_t *f = *state;
    const int16_t keys[] = { -1, INT16_MIN, INT16_MAX, 999, 1000, 4242 };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        begin(f, keys[i], 0);
        wr_i32(&f->frame, 0);
        assert_int_equal(dispatch_frame(f), KL_REPLY_CLOSE);
        assert_int_equal(f->req.header.api_key, keys[i]);
        assert_int_equal(f->req.header.correlation_id, 77);
    }
}

/* ApiVersions outside its range: the KIP-511 answer in the v0 layout (header v0,
 * error 35, classic array of our APIs, no throttle_time). */
static void test_api_versions_unsupported_version_gets_v0_error(void **state)
{
    fixture_t *f = *state;
    const int16_t versions[] = { 4, 100, INT16_MAX, -1, INT16_MIN };
    size_t count = 0;
    (void)api_table_all(&count);
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        begin(f, KL_API_API_VERSIONS, versions[i]);
        if (versions[i] >= 3)
            wr_empty_tagged_fields(&f->frame);      /* request header v2 */
        wr_raw(&f->frame, "\x02x\x02y\x00", 5);     /* some future body */
        assert_int_equal(dispatch_frame(f), KL_REPLY_SEND);
        assert_int_equal(f->out.len, 4 + 4 + 2 + 4 + 6 * count);
        assert_int_equal(be16(f->out.buf + 8), KL_ERR_UNSUPPORTED_VERSION);
        assert_int_equal(be32(f->out.buf + 10), (int32_t)count);
    }
}

/* Any other API at a version it never advertised: close (the client ignored us). */
static void test_unsupported_versions_of_other_apis_close(void **state)
{
    fixture_t *f = *state;
    const int16_t keys[] = { KL_API_PRODUCE, KL_API_FETCH, KL_API_LIST_OFFSETS,
                             KL_API_METADATA, KL_API_CREATE_TOPICS };
    const int16_t versions[] = { -1, 100, INT16_MAX, INT16_MIN };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
            begin(f, keys[k], versions[v]);
            wr_i32(&f->frame, 0);
            wr_i32(&f->frame, 0);
            assert_int_equal(dispatch_frame(f), KL_REPLY_CLOSE);
        }
    }
    /* Produce below v3 (message format v0/v1 only): never advertised, closed. */
    begin(f, KL_API_PRODUCE, 2);
    wr_i16(&f->frame, 1);
    wr_i32(&f->frame, 1000);
    wr_array_len(&f->frame, 0);
    assert_int_equal(dispatch_frame(f), KL_REPLY_CLOSE);
}

/* ---- lying counts and lengths ---------------------------------------------------- */

/* Dispatch f->frame, expect CLOSE, quickly and without growing `out`. */
static void expect_fast_close(fixture_t *f)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(dispatch_frame(f), KL_REPLY_CLOSE);
    assert_true(seconds_since(&t0) < HOSTILE_MAX_SECONDS);
    assert_int_equal(f->store.appends, 0);
}

static void test_array_count_2_31_minus_1_closes(void **state)
{
    fixture_t *f = *state;

    /* Metadata v1: topics count. */
    begin(f, KL_API_METADATA, 1);
    wr_array_len(&f->frame, HOSTILE_BIG_COUNT);
    wr_string(&f->frame, HOSTILE_TOPIC, 5);
    expect_fast_close(f);

    /* Produce v7: topics count; then one topic's partition count. */
    begin(f, KL_API_PRODUCE, 7);
    wr_nullable_string(&f->frame, NULL, -1);
    wr_i16(&f->frame, 1);
    wr_i32(&f->frame, 1000);
    wr_array_len(&f->frame, HOSTILE_BIG_COUNT);
    wr_string(&f->frame, HOSTILE_TOPIC, 5);
    expect_fast_close(f);
    begin(f, KL_API_PRODUCE, 7);
    wr_nullable_string(&f->frame, NULL, -1);
    wr_i16(&f->frame, 1);
    wr_i32(&f->frame, 1000);
    wr_array_len(&f->frame, 1);
    wr_string(&f->frame, HOSTILE_TOPIC, 5);
    wr_array_len(&f->frame, HOSTILE_BIG_COUNT);
    wr_i32(&f->frame, 0);
    expect_fast_close(f);

    /* Fetch v4: topics count; partitions count. Fetch v11: forgotten topics count. */
    for (int which = 0; which < 3; which++) {
        int16_t v = which == 2 ? 11 : 4;
        begin(f, KL_API_FETCH, v);
        wr_i32(&f->frame, -1);                      /* replica_id */
        wr_i32(&f->frame, 0);                       /* max_wait_ms */
        wr_i32(&f->frame, 0);                       /* min_bytes */
        wr_i32(&f->frame, 1 << 20);                 /* max_bytes */
        wr_i8(&f->frame, 0);                        /* isolation_level */
        if (v >= 7) { wr_i32(&f->frame, 0); wr_i32(&f->frame, -1); }
        if (which == 0) {
            wr_array_len(&f->frame, HOSTILE_BIG_COUNT);
        } else {
            wr_array_len(&f->frame, 1);
            wr_string(&f->frame, HOSTILE_TOPIC, 5);
            wr_array_len(&f->frame, which == 1 ? HOSTILE_BIG_COUNT : 0);
            if (which == 2)
                wr_array_len(&f->frame, HOSTILE_BIG_COUNT);     /* forgotten_topics */
        }
        wr_i32(&f->frame, 0);
        expect_fast_close(f);
    }

    /* ListOffsets v1 and CreateTopics v4 (topics, then one topic's configs). */
    begin(f, KL_API_LIST_OFFSETS, 1);
    wr_i32(&f->frame, -1);
    wr_array_len(&f->frame, HOSTILE_BIG_COUNT);
    expect_fast_close(f);
    begin(f, KL_API_CREATE_TOPICS, 4);
    wr_array_len(&f->frame, HOSTILE_BIG_COUNT);
    wr_i32(&f->frame, 1000);
    wr_i8(&f->frame, 0);
    expect_fast_close(f);
    begin(f, KL_API_CREATE_TOPICS, 4);
    wr_array_len(&f->frame, 1);
    wr_string(&f->frame, "t", 1);
    wr_i32(&f->frame, 1);
    wr_i16(&f->frame, 1);
    wr_array_len(&f->frame, 0);                     /* assignments */
    wr_array_len(&f->frame, HOSTILE_BIG_COUNT);     /* configs */
    wr_i32(&f->frame, 1000);
    wr_i8(&f->frame, 0);
    expect_fast_close(f);
    assert_null(broker_find_topic(&f->broker, "t"));
}

/* A count that fits the bytes left but not the elements' minimum size. */
static void test_array_count_plausible_but_short_closes(void **state)
{
    fixture_t *f = *state;
    begin(f, KL_API_METADATA, 1);
    wr_array_len(&f->frame, 1000);
    for (int i = 0; i < 1000; i++)
        wr_i8(&f->frame, 0);                        /* 1000 bytes, 2 needed per name */
    expect_fast_close(f);
}

static void test_string_longer_than_frame_closes(void **state)
{
    fixture_t *f = *state;

    /* client_id claims 1000 bytes, 3 follow. */
    wr_reset(&f->frame);
    wr_i16(&f->frame, KL_API_API_VERSIONS);
    wr_i16(&f->frame, 0);
    wr_i32(&f->frame, 77);
    wr_i16(&f->frame, 1000);
    wr_raw(&f->frame, "abc", 3);
    expect_fast_close(f);

    /* Metadata v1: a topic name of 32767 bytes, 5 follow. */
    begin(f, KL_API_METADATA, 1);
    wr_array_len(&f->frame, 1);
    wr_i16(&f->frame, INT16_MAX);
    wr_raw(&f->frame, "topic", 5);
    expect_fast_close(f);

    /* Produce v7: records of 2^31-1 bytes, 122 follow. */
    produce_v7(f, 1, KCAT_006_PRODUCE_V7_REQ + KCAT_BATCH_AT, KCAT_BATCH_LEN);
    kl_be32_write(f->frame.buf + f->frame.len - KCAT_BATCH_LEN - 4, INT32_MAX);
    expect_fast_close(f);

    /* ApiVersions v3: compact string length uvarint 2^32-1 (the largest 5-byte value). */
    begin(f, KL_API_API_VERSIONS, 3);
    wr_empty_tagged_fields(&f->frame);
    wr_raw(&f->frame, "\xff\xff\xff\xff\x0f", 5);
    wr_raw(&f->frame, "abc", 3);
    expect_fast_close(f);

    /* A tagged field in the request header claiming more bytes than are left. */
    begin(f, KL_API_API_VERSIONS, 3);
    wr_raw(&f->frame, "\x01\x00\xff\xff\x03", 5);   /* 1 field, tag 0, size 65535 */
    expect_fast_close(f);
}

static void test_negative_lengths(void **state)
{
    fixture_t *f = *state;

    /* client_id: -1 is null (fine), -2 is malformed. */
    wr_reset(&f->frame);
    wr_i16(&f->frame, KL_API_API_VERSIONS);
    wr_i16(&f->frame, 0);
    wr_i32(&f->frame, 77);
    wr_i16(&f->frame, -1);
    assert_int_equal(dispatch_frame(f), KL_REPLY_SEND);
    kl_be16_write(f->frame.buf + 8, -2);
    expect_fast_close(f);
    kl_be16_write(f->frame.buf + 8, INT16_MIN);
    expect_fast_close(f);

    /* Metadata v1 topic name (not nullable): -1 and -300. */
    const int16_t name_lens[] = { -1, -300 };
    for (size_t i = 0; i < 2; i++) {
        begin(f, KL_API_METADATA, 1);
        wr_array_len(&f->frame, 1);
        wr_i16(&f->frame, name_lens[i]);
        wr_raw(&f->frame, "topic", 5);
        expect_fast_close(f);
    }

    /* Metadata v0: topics array null (-1) is not allowed; v1: null means all topics. */
    begin(f, KL_API_METADATA, 0);
    wr_array_len(&f->frame, -1);
    expect_fast_close(f);
    begin(f, KL_API_METADATA, 1);
    wr_array_len(&f->frame, -1);
    assert_int_equal(dispatch_frame(f), KL_REPLY_SEND);
    begin(f, KL_API_METADATA, 1);
    wr_i32(&f->frame, -2);                          /* wr_array_len would write -1 */
    expect_fast_close(f);

    /* Fetch v4 topics array -5; Produce v7 records length -2 and INT32_MIN. */
    begin(f, KL_API_FETCH, 4);
    wr_i32(&f->frame, -1);
    wr_i32(&f->frame, 0);
    wr_i32(&f->frame, 0);
    wr_i32(&f->frame, 1 << 20);
    wr_i8(&f->frame, 0);
    wr_i32(&f->frame, -5);
    expect_fast_close(f);
    produce_v7(f, 1, NULL, -1);
    kl_be32_write(f->frame.buf + f->frame.len - 4, -2);
    expect_fast_close(f);
    kl_be32_write(f->frame.buf + f->frame.len - 4, INT32_MIN);
    expect_fast_close(f);

    /* Produce v7 records null: well-formed, answered INVALID_RECORD (v3+ needs a batch). */
    produce_v7(f, 1, NULL, -1);
    assert_int_equal(dispatch_frame(f), KL_REPLY_SEND);
    assert_int_equal(produce_v7_error(f), KL_ERR_INVALID_RECORD);
    assert_int_equal(f->store.appends, 0);
}

/* ---- Produce with garbage records ------------------------------------------------ */

/* Produce `records` to partition 1: answered with a partition error, nothing appended. */
static int16_t produce_garbage(fixture_t *f, const uint8_t *records, int32_t len)
{
    produce_v7(f, 1, records, len);
    assert_int_equal(dispatch_frame(f), KL_REPLY_SEND);
    assert_int_equal(f->store.appends, 0);
    return produce_v7_error(f);
}

/* The kcat batch with its CRC-32C recomputed after an edit. */
static void reseal(uint8_t *batch, size_t len)
{
    kl_be32_write(batch + 17, (int32_t)kl_crc32c(0, batch + 21, len - 21));
}

static void test_produce_garbage_records_get_an_error(void **state)
{
    fixture_t *f = *state;
    uint8_t b[KCAT_BATCH_LEN + 5];

    /* Too short for a batch header. */
    memset(b, 0x41, sizeof b);
    assert_int_equal(produce_garbage(f, b, 10), KL_ERR_CORRUPT_MESSAGE);

    /* Garbage that says magic 2: framing or CRC is wrong. */
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)(i * 37 + 11);
    b[16] = 2;
    assert_int_equal(produce_garbage(f, b, 80), KL_ERR_CORRUPT_MESSAGE);

    /* The real batch with one payload byte flipped: CRC mismatch. */
    memcpy(b, KCAT_006_PRODUCE_V7_REQ + KCAT_BATCH_AT, KCAT_BATCH_LEN);
    b[100] ^= 0x01;
    assert_int_equal(produce_garbage(f, b, KCAT_BATCH_LEN), KL_ERR_CORRUPT_MESSAGE);

    /* batch_length lying: 2^31-1, negative, below the header size. */
    const int32_t lengths[] = { INT32_MAX, -1, INT32_MIN, 48, KCAT_BATCH_LEN };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        memcpy(b, KCAT_006_PRODUCE_V7_REQ + KCAT_BATCH_AT, KCAT_BATCH_LEN);
        kl_be32_write(b + 8, lengths[i]);
        assert_int_equal(produce_garbage(f, b, KCAT_BATCH_LEN), KL_ERR_CORRUPT_MESSAGE);
    }

    /* A valid CRC over a record count that disagrees with last_offset_delta. */
    memcpy(b, KCAT_006_PRODUCE_V7_REQ + KCAT_BATCH_AT, KCAT_BATCH_LEN);
    kl_be32_write(b + 57, 4);
    reseal(b, KCAT_BATCH_LEN);
    assert_int_equal(produce_garbage(f, b, KCAT_BATCH_LEN), KL_ERR_INVALID_RECORD);

    /* A valid CRC over a negative last_offset_delta. */
    memcpy(b, KCAT_006_PRODUCE_V7_REQ + KCAT_BATCH_AT, KCAT_BATCH_LEN);
    kl_be32_write(b + 23, -1);
    reseal(b, KCAT_BATCH_LEN);
    assert_int_equal(produce_garbage(f, b, KCAT_BATCH_LEN), KL_ERR_CORRUPT_MESSAGE);

    /* A valid batch followed by 5 stray bytes: all or nothing, nothing is appended. */
    memcpy(b, KCAT_006_PRODUCE_V7_REQ + KCAT_BATCH_AT, KCAT_BATCH_LEN);
    memset(b + KCAT_BATCH_LEN, 0, 5);
    assert_int_equal(produce_garbage(f, b, (int32_t)sizeof b), KL_ERR_CORRUPT_MESSAGE);

    /* Pseudo-random garbage of every length up to 200 bytes, magic left to chance. */
    uint8_t junk[200];
    uint32_t seed = 12345;
    for (int32_t len = 1; len <= (int32_t)sizeof junk; len++) {
        for (int32_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (uint8_t)(seed >> 16);
        }
        int16_t err = produce_garbage(f, junk, len);
        assert_true(err == KL_ERR_CORRUPT_MESSAGE || err == KL_ERR_INVALID_RECORD ||
                    err == KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    }
}

/* ---- every truncation of a real request ------------------------------------------ */

static void test_every_truncation_of_kcat_produce_v7(void **state)
{
    fixture_t *f = *state;
    for (size_t n = 0; n < sizeof KCAT_006_PRODUCE_V7_REQ; n++) {
        assert_int_equal(dispatch(f, KCAT_006_PRODUCE_V7_REQ, n), KL_REPLY_CLOSE);
        assert_int_equal(f->store.appends, 0);
    }
    /* The whole request: appended at offset 0 of partition 1. */
    assert_int_equal(dispatch(f, KCAT_006_PRODUCE_V7_REQ, sizeof KCAT_006_PRODUCE_V7_REQ),
                     KL_REPLY_SEND);
    assert_int_equal(produce_v7_error(f), KL_OK);
    assert_int_equal(f->store.appends, 1);
    assert_int_equal(f->store.appended_bytes, KCAT_BATCH_LEN);
    assert_int_equal(broker_find_partition(&f->broker, HOSTILE_TOPIC, 1)->offsets.log_end, 3);
}

/* The same for requests of the other APIs, built here: no prefix is a request. */
static void test_every_truncation_of_other_requests(void **state)
{
    fixture_t *f = *state;
    for (int which = 0; which < 4; which++) {
        switch (which) {
        case 0:                                    /* Metadata v8, two topics */
            begin(f, KL_API_METADATA, 8);
            wr_array_len(&f->frame, 2);
            wr_string(&f->frame, HOSTILE_TOPIC, 5);
            wr_string(&f->frame, "other", 5);
            wr_i8(&f->frame, 1);
            wr_i8(&f->frame, 1);
            wr_i8(&f->frame, 1);
            break;
        case 1:                                    /* Fetch v11, forgotten topics, rack */
            begin(f, KL_API_FETCH, 11);
            wr_i32(&f->frame, -1); wr_i32(&f->frame, 0); wr_i32(&f->frame, 0);
            wr_i32(&f->frame, 1 << 20); wr_i8(&f->frame, 0);
            wr_i32(&f->frame, 0); wr_i32(&f->frame, -1);
            wr_array_len(&f->frame, 1);
            wr_string(&f->frame, HOSTILE_TOPIC, 5);
            wr_array_len(&f->frame, 1);
            wr_i32(&f->frame, 0); wr_i32(&f->frame, -1); wr_i64(&f->frame, 0);
            wr_i64(&f->frame, -1); wr_i32(&f->frame, 1 << 20);
            wr_array_len(&f->frame, 1);
            wr_string(&f->frame, HOSTILE_TOPIC, 5);
            wr_array_len(&f->frame, 1);
            wr_i32(&f->frame, 2);
            wr_string(&f->frame, "rack", 4);
            break;
        case 2:                                    /* ListOffsets v5 */
            begin(f, KL_API_LIST_OFFSETS, 5);
            wr_i32(&f->frame, -1); wr_i8(&f->frame, 0);
            wr_array_len(&f->frame, 1);
            wr_string(&f->frame, HOSTILE_TOPIC, 5);
            wr_array_len(&f->frame, 1);
            wr_i32(&f->frame, 0); wr_i32(&f->frame, -1); wr_i64(&f->frame, -2);
            break;
        default:                                   /* CreateTopics v4 with a config */
            begin(f, KL_API_CREATE_TOPICS, 4);
            wr_array_len(&f->frame, 1);
            wr_string(&f->frame, "fresh", 5);
            wr_i32(&f->frame, 2); wr_i16(&f->frame, 1);
            wr_array_len(&f->frame, 0);
            wr_array_len(&f->frame, 1);
            wr_string(&f->frame, "retention.ms", 12);
            wr_string(&f->frame, "1000", 4);
            wr_i32(&f->frame, 1000); wr_i8(&f->frame, 0);
            break;
        }
        assert_true(wr_ok(&f->frame));
        for (size_t n = 0; n < f->frame.len; n++)
            assert_int_equal(dispatch(f, f->frame.buf, n), KL_REPLY_CLOSE);
        assert_null(broker_find_topic(&f->broker, "fresh"));
        assert_int_equal(dispatch_frame(f), KL_REPLY_SEND);
    }
    assert_non_null(broker_find_topic(&f->broker, "fresh"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truncated_header_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_api_keys_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_versions_unsupported_version_gets_v0_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_versions_of_other_apis_close,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_count_2_31_minus_1_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_count_plausible_but_short_closes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_longer_than_frame_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_produce_garbage_records_get_an_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_of_kcat_produce_v7,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_of_other_requests,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
