/*
 * test/fuzz/fuzz_request.c — libFuzzer target for the whole request path: one fuzzer
 * input is one request frame (the bytes after the int32 size), handed to
 * protocol_dispatch exactly as the server would hand it a received frame.
 * Layer: test support. May touch: everything (it is a test), libFuzzer's entry point.
 *
 * Why: every byte of a request comes from the network. The codec promises (wire.h) that
 * no input can make it read out of bounds, loop or allocate for a lying count, and the
 * dispatcher promises a well-formed answer or a clean close. Built with ASan + UBSan,
 * this target turns each broken promise into a crash report with the input attached.
 *
 * Per input, from scratch (nothing survives between inputs, everything is freed, so
 * LeakSanitizer sees any leak of the code under test):
 *   1. an in-memory store (mem_log_store.c) and a broker with a fixed clock;
 *      create_topic("topic", 3 partitions) — the topic the captured clients used;
 *      a group coordinator over an in-memory offset store (mem_offset_store.c), for the
 *      consumer-group APIs;
 *   2. a warm-up Produce v7 (kcat's captured request, 3 records to partition 1), so a
 *      fuzzed Fetch or ListOffsets finds real batches to read;
 *   3. the input itself, on a writable heap copy of exactly its size (Produce rewrites
 *      base offsets in the frame; ASan catches a read one byte past it). A parked reply
 *      is dispatched again with the same frame at its deadline, as the server does;
 *   4. a checking Fetch v4 of partitions 0-2 from offset 0: every byte the store holds
 *      must come back unchanged, and the high watermarks must match the store — or, when
 *      the input deleted "topic" (DeleteTopics), broker and store must both have let go
 *      of it and every partition must answer UNKNOWN_TOPIC_OR_PARTITION.
 * Invariants checked after every dispatch (a violation abort()s = a reported crash):
 *   - KL_REPLY_SEND: out->len >= 8, the int32 size prefix equals out->len - 4, and the
 *     correlation id in the response equals the request's;
 *   - any other reply: `out` is empty; KL_REPLY_NONE only for Produce (acks=0);
 *   - a final attempt never parks again.
 * The store adds its own checks of the port contract (see mem_log_store.h).
 *
 * A second topic, "limited" (1 partition, max.message.bytes=200), makes the topic
 * override and MESSAGE_TOO_LARGE reachable with inputs under the 64 KiB -max_len.
 *
 * A custom mutator (LLVMFuzzerCustomMutator) helps the fuzzer past the CRC-32C of record
 * batches: after libFuzzer's own mutation it finds byte ranges that look like a v2 batch
 * (magic 2 at +16, a batch_length that fits) and rewrites their CRC, so a mutated batch
 * reaches the checks after the CRC (record count, offset delta, offset assignment,
 * append, read back). The CRC ends up in the input itself: a saved crash input
 * reproduces with the plain target, the mutator only steers which inputs are tried.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application/broker.h"
#include "application/group_coordinator.h"
#include "application/usecases.h"
#include "domain/crc32c.h"
#include "domain/record_batch.h"
#include "infrastructure/protocol/api.h"
#include "infrastructure/protocol/wire.h"
#include "test/fuzz/mem_log_store.h"
#include "test/fuzz/mem_offset_store.h"

#define FUZZ_TOPIC "topic"
#define FUZZ_PARTITIONS 3
#define FUZZ_WALL_MS INT64_C(1700000000000)     /* the fake clock: a fixed instant */
#define FUZZ_MONO_MS INT64_C(1000000)           /* the request's monotonic "now" */

/* kcat's Produce v7 (fixtures/kcat/006-Produce-v7.req.bin): acks=-1, topic "topic",
 * partition 1, one uncompressed v2 batch of 3 records. */
static const uint8_t fuzz_warmup_produce[] = {
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

#define FUZZ_CHECK_CORRELATION_ID 0x5eed
#define FUZZ_LIMITED_TOPIC "limited"
#define FUZZ_RESEAL_MAX 8                      /* batches re-sealed per mutation, at most */

/* ---- invariant failures -------------------------------------------------------- */

static void fuzz_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_request: invariant broken: %s\n", what);
        abort();
    }
}

static int32_t fuzz_be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* ---- the fixed clock ----------------------------------------------------------- */

static int64_t fuzz_clock_now_ms(void *self)
{
    (void)self;
    return FUZZ_WALL_MS;
}

/* ---- one dispatch with the invariants ------------------------------------------ */

/* Dispatch `frame` (mutable, `len` bytes); `pristine` is an unmodified copy of the
 * request (Produce may rewrite its frame), used to read the correlation id. */
static kl_reply_t fuzz_dispatch(kl_broker_t *b, coord_t *coord, uint8_t *frame, size_t len,
                                const uint8_t *pristine, kl_writer_t *out)
{
    kl_request_t req;
    memset(&req, 0, sizeof req);
    req.broker = b;
    req.coord = coord;
    req.log = NULL;                            /* silent: a log line per input is noise */
    req.now_ms = FUZZ_MONO_MS;
    req.first_attempt_ms = FUZZ_MONO_MS;
    req.conn_id = 1;

    kl_reply_t reply = protocol_dispatch(&req, frame, len, out);
    if (reply == KL_REPLY_PARK) {
        /* The server's timer fires at the deadline: same frame, final attempt. */
        fuzz_check(out->len == 0, "PARK left bytes in out");
        fuzz_check(req.park_until_ms >= req.first_attempt_ms, "parked until the past");
        req.now_ms = req.park_until_ms;
        req.final_attempt = true;
        reply = protocol_dispatch(&req, frame, len, out);
        fuzz_check(reply != KL_REPLY_PARK, "the final attempt parked again");
    }

    switch (reply) {
    case KL_REPLY_SEND:
        fuzz_check(len >= 8, "SEND for a frame too short to hold a header");
        fuzz_check(out->len >= 8, "SEND with a response shorter than size + correlation id");
        fuzz_check(out->len - 4 <= INT32_MAX, "response larger than an int32 size");
        fuzz_check(fuzz_be32(out->buf) == (int32_t)(out->len - 4),
                   "size prefix differs from the response length");
        fuzz_check(fuzz_be32(out->buf + 4) == fuzz_be32(pristine + 4),
                   "correlation id differs from the request's");
        break;
    case KL_REPLY_NONE:
        fuzz_check(out->len == 0, "NONE left bytes in out");
        fuzz_check(len >= 2 && pristine[0] == 0 && pristine[1] == KL_API_PRODUCE,
                   "NONE from an API other than Produce");
        break;
    case KL_REPLY_CLOSE:
        fuzz_check(out->len == 0, "CLOSE left bytes in out");
        break;
    default:
        fuzz_check(false, "unknown reply value");
    }
    return reply;
}

/* Dispatch a request built by the harness itself: it must be answered. */
static void fuzz_dispatch_own(kl_broker_t *b, coord_t *coord, const uint8_t *request,
                              size_t len, kl_writer_t *out, const char *what)
{
    uint8_t *frame = malloc(len);
    fuzz_check(frame != NULL, "out of memory");
    memcpy(frame, request, len);
    kl_reply_t reply = fuzz_dispatch(b, coord, frame, len, request, out);
    free(frame);
    if (reply != KL_REPLY_SEND) {
        fprintf(stderr, "fuzz_request: %s was not answered (reply %d)\n", what, (int)reply);
        abort();
    }
}

/* ---- the checking fetch -------------------------------------------------------- */

/* Fetch v4: replica -1, max_wait 0, min_bytes 0, max_bytes INT32_MAX, read_uncommitted,
 * [topic [p, offset 0, partition_max_bytes INT32_MAX] for p in 0..2]. */
static void fuzz_build_check_fetch(kl_writer_t *w)
{
    wr_i16(w, KL_API_FETCH);
    wr_i16(w, 4);
    wr_i32(w, FUZZ_CHECK_CORRELATION_ID);
    wr_nullable_string(w, "fuzz", 4);
    wr_i32(w, -1);
    wr_i32(w, 0);
    wr_i32(w, 0);
    wr_i32(w, INT32_MAX);
    wr_i8(w, 0);
    wr_array_len(w, 1);
    wr_cstr(w, false, FUZZ_TOPIC);
    wr_array_len(w, FUZZ_PARTITIONS);
    for (int32_t p = 0; p < FUZZ_PARTITIONS; p++) {
        wr_i32(w, p);
        wr_i64(w, 0);
        wr_i32(w, INT32_MAX);
    }
}

/* "topic" was deleted by the input (DeleteTopics): the broker and the store must agree,
 * and every partition must now answer UNKNOWN_TOPIC_OR_PARTITION with no records. */
static void fuzz_check_fetch_deleted(kl_reader_t *r)
{
    for (int32_t p = 0; p < FUZZ_PARTITIONS; p++) {
        fuzz_check(rd_i32(r) == p, "checking Fetch: partitions out of order");
        fuzz_check(rd_i16(r) == KL_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                   "checking Fetch: a deleted topic's partition did not say unknown");
        (void)rd_i64(r);                       /* high_watermark */
        (void)rd_i64(r);                       /* last_stable_offset */
        (void)rd_array_len(r);                 /* aborted_transactions */
        fuzz_check(rd_nullable_bytes(r).len <= 0, "checking Fetch: records of a deleted topic");
    }
}

/* Everything the store holds for "topic" must come back byte for byte. */
static void fuzz_check_fetch(kl_broker_t *b, coord_t *coord, const mem_log_store_t *store)
{
    kl_writer_t req, out;
    wr_init(&req);
    wr_init(&out);
    fuzz_build_check_fetch(&req);
    fuzz_check(wr_ok(&req), "out of memory");
    fuzz_dispatch_own(b, coord, req.buf, req.len, &out, "the checking Fetch");

    kl_reader_t r;
    rd_init(&r, out.buf + 8, out.len - 8);     /* after size and correlation id */
    (void)rd_i32(&r);                          /* throttle_time_ms */
    fuzz_check(rd_array_len(&r) == 1, "checking Fetch: not one topic");
    kl_str_t topic = rd_string(&r);
    fuzz_check(topic.len == (int32_t)strlen(FUZZ_TOPIC) &&
               memcmp(topic.ptr, FUZZ_TOPIC, strlen(FUZZ_TOPIC)) == 0,
               "checking Fetch: wrong topic name");
    fuzz_check(rd_array_len(&r) == FUZZ_PARTITIONS, "checking Fetch: wrong partition count");
    bool deleted = broker_find_topic(b, FUZZ_TOPIC) == NULL;
    fuzz_check(deleted == !mem_log_store_has_topic(store, FUZZ_TOPIC),
               "broker and store disagree on whether \"topic\" exists");
    if (deleted)
        fuzz_check_fetch_deleted(&r);
    for (int32_t p = 0; !deleted && p < FUZZ_PARTITIONS; p++) {
        size_t stored_len = 0;
        int64_t log_end = 0;
        const uint8_t *stored = mem_log_store_data(store, FUZZ_TOPIC, p, &stored_len, &log_end);
        fuzz_check(rd_i32(&r) == p, "checking Fetch: partitions out of order");
        fuzz_check(rd_i16(&r) == KL_OK, "checking Fetch: partition error");
        fuzz_check(rd_i64(&r) == log_end, "checking Fetch: high watermark != store log end");
        (void)rd_i64(&r);                      /* last_stable_offset */
        fuzz_check(rd_array_len(&r) == 0, "checking Fetch: aborted transactions");
        kl_bytes_t records = rd_nullable_bytes(&r);
        fuzz_check(rd_ok(&r), "checking Fetch: response does not parse");
        fuzz_check(records.len >= 0 && (size_t)records.len == stored_len,
                   "checking Fetch: record bytes differ in length from the store's");
        fuzz_check(stored_len == 0 || memcmp(records.ptr, stored, stored_len) == 0,
                   "checking Fetch: record bytes differ from the store's");
    }
    fuzz_check(rd_ok(&r) && rd_remaining(&r) == 0, "checking Fetch: trailing bytes");
    wr_free(&req);
    wr_free(&out);
}

/* ---- the custom mutator: re-seal record batch CRCs ------------------------------ */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
    size = LLVMFuzzerMutate(data, size, max_size);
    if (seed % 4 == 0)
        return size;                           /* some inputs keep a wrong CRC */
    int sealed = 0;
    for (size_t at = 0; at + KL_BATCH_HEADER_SIZE <= size && sealed < FUZZ_RESEAL_MAX; at++) {
        if (data[at + 16] != KL_BATCH_MAGIC_V2)
            continue;
        int32_t batch_length = kl_be32_read(data + at + 8);
        if (batch_length < KL_BATCH_HEADER_SIZE - KL_BATCH_LOG_OVERHEAD ||
            (size_t)batch_length > size - at - KL_BATCH_LOG_OVERHEAD)
            continue;
        size_t end = at + KL_BATCH_LOG_OVERHEAD + (size_t)batch_length;
        uint32_t crc = kl_crc32c(0, data + at + KL_BATCH_CRC_START,
                                 end - at - KL_BATCH_CRC_START);
        kl_be32_write(data + at + 17, (int32_t)crc);
        sealed++;
        at = end - 1;                          /* the next batch starts after this one */
    }
    return size;
}

/* ---- the entry point ----------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem_log_store_t *store = mem_log_store_new();
    fuzz_check(store != NULL, "out of memory");
    kl_clock_t clock = { NULL, fuzz_clock_now_ms };
    kl_broker_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.node_id = 1;
    snprintf(cfg.advertised_host, sizeof cfg.advertised_host, "%s", "localhost");
    cfg.advertised_port = 9092;
    cfg.num_partitions = 1;
    cfg.default_replication_factor = 1;
    cfg.auto_create_topics = true;             /* Metadata may create: more paths */
    cfg.message_max_bytes = 1048588;           /* Kafka's default */
    snprintf(cfg.cluster_id, sizeof cfg.cluster_id, "%s", "klamm-fuzz-cluster");

    kl_broker_t broker;
    fuzz_check(broker_init(&broker, &cfg, mem_log_store_port(store), clock) == KL_OK,
               "broker_init failed");
    fuzz_check(create_topic(&broker, FUZZ_TOPIC, FUZZ_PARTITIONS, 1, NULL, 0, false, NULL)
                   == KL_OK, "create_topic(\"topic\", 3) failed");
    kl_config_entry_t limit;
    memset(&limit, 0, sizeof limit);
    snprintf(limit.key, sizeof limit.key, "%s", "max.message.bytes");
    snprintf(limit.value, sizeof limit.value, "%s", "200");
    fuzz_check(create_topic(&broker, FUZZ_LIMITED_TOPIC, 1, 1, &limit, 1, false, NULL)
                   == KL_OK, "create_topic(\"limited\", 1) failed");

    mem_offset_store_t *offsets = mem_offset_store_new();
    fuzz_check(offsets != NULL, "out of memory");
    coord_t coord;
    coord_config_t ccfg = coord_config_default();
    group_id_source_t ids = { 0 };             /* the built-in source, seeded by the clock */
    fuzz_check(coord_init(&coord, &ccfg, clock, mem_offset_store_port(offsets), ids) == KL_OK,
               "coord_init failed");

    kl_writer_t out;
    wr_init(&out);
    fuzz_dispatch_own(&broker, &coord, fuzz_warmup_produce, sizeof fuzz_warmup_produce, &out,
                      "the warm-up Produce");
    size_t warm_len = 0;
    int64_t warm_end = 0;
    (void)mem_log_store_data(store, FUZZ_TOPIC, 1, &warm_len, &warm_end);
    fuzz_check(warm_end == 3, "the warm-up Produce did not append its 3 records");

    /* The input: a heap copy of exactly `size` bytes, writable like a receive buffer. */
    uint8_t *frame = malloc(size);             /* malloc(0): no byte may be read */
    fuzz_check(frame != NULL || size == 0, "out of memory");
    if (size > 0)
        memcpy(frame, data, size);
    (void)fuzz_dispatch(&broker, &coord, frame, size, data, &out);
    free(frame);
    wr_free(&out);
    coord_tick(&coord);                        /* the server's timer, once */

    fuzz_check_fetch(&broker, &coord, store);

    coord_close(&coord);
    mem_offset_store_free(offsets);
    broker_close(&broker);
    mem_log_store_free(store);
    return 0;
}
