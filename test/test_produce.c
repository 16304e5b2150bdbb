/*
 * test/test_produce.c — unit tests of application/produce.c: batch validation (real v2
 * batches with a real CRC-32C), offset assignment from the log end, the single store
 * append, all-or-nothing on failure. The store is the cmocka mock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "domain/crc32c.h"
#include "domain/record_batch.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

/* ---- a v2 record batch builder: header (see domain/record_batch.h) + records ---- */

static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);   /* zigzag */
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* One record: attributes, timestamp delta, offset delta, null key, value, no headers. */
static size_t put_record(uint8_t *p, int32_t offset_delta, const char *value)
{
    uint8_t body[128];
    size_t n = 0, vlen = strlen(value);
    body[n++] = 0;                              /* attributes */
    n += put_varint(body + n, offset_delta);    /* timestamp delta */
    n += put_varint(body + n, offset_delta);    /* offset delta */
    n += put_varint(body + n, -1);              /* key: null */
    n += put_varint(body + n, (int64_t)vlen);
    memcpy(body + n, value, vlen);
    n += vlen;
    n += put_varint(body + n, 0);               /* headers */
    size_t h = put_varint(p, (int64_t)n);
    memcpy(p + h, body, n);
    return h + n;
}

/* Build a batch of `count` records at buf; returns its total size. The base offset is
 * what a producer would send (the broker must overwrite it); the CRC is real. */
static size_t build_batch(uint8_t *buf, int64_t base_offset, int32_t count, int8_t magic)
{
    size_t n = KL_BATCH_HEADER_SIZE;
    memset(buf, 0, KL_BATCH_HEADER_SIZE);
    for (int32_t i = 0; i < count; i++)
        n += put_record(buf + n, i, "hello");
    kl_be64_write(buf + 0, base_offset);
    kl_be32_write(buf + 8, (int32_t)(n - KL_BATCH_LOG_OVERHEAD));
    buf[16] = (uint8_t)magic;
    kl_be32_write(buf + 23, count - 1);                 /* last_offset_delta */
    kl_be64_write(buf + 27, 1700000000000LL);           /* base_timestamp */
    kl_be64_write(buf + 35, 1700000000000LL + count - 1);/* max_timestamp */
    kl_be64_write(buf + 43, -1);                        /* producer_id */
    buf[51] = 0xff; buf[52] = 0xff;                     /* producer_epoch -1 */
    kl_be32_write(buf + 53, -1);                        /* base_sequence */
    kl_be32_write(buf + 57, count);
    uint32_t crc = kl_crc32c(0, buf + KL_BATCH_CRC_START, n - KL_BATCH_CRC_START);
    kl_be32_write(buf + 17, (int32_t)crc);
    return n;
}

/* ---- a broker with topic "orders" (2 partitions; partition 0 at log end 100) ---- */

typedef struct fixture {
    kl_broker_t b;
    char logs[2];
    uint8_t buf[4096];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = test_calloc(1, sizeof(*f));
    kl_broker_config_t cfg;
    kl_topic_meta_t meta;
    memset(&cfg, 0, sizeof(cfg));
    cfg.num_partitions = 1;
    cfg.default_replication_factor = 1;
    cfg.message_max_bytes = 1048588;
    memset(&meta, 0, sizeof(meta));
    strcpy(meta.name, "orders");
    meta.partition_count = 2;
    meta.replication_factor = 1;
    mock_log_store_expect_load_all(&meta, 1, KL_OK);
    mock_log_store_expect_open("orders", 0, &f->logs[0], 40, 100, KL_OK);
    mock_log_store_expect_open("orders", 1, &f->logs[1], 0, 0, KL_OK);
    assert_int_equal(broker_init(&f->b, &cfg, mock_log_store(), mock_clock()), KL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    mock_log_store_expect_close(&f->logs[0]);
    mock_log_store_expect_close(&f->logs[1]);
    broker_close(&f->b);
    test_free(f);
    return 0;
}

static void assert_offsets(fixture_t *f, int64_t log_end, uint64_t data_version)
{
    kl_partition_t *p = broker_find_partition(&f->b, "orders", 0);
    assert_int_equal(p->offsets.log_end, log_end);
    assert_int_equal(p->offsets.high_watermark, log_end);
    assert_int_equal(p->offsets.log_start, 40);
    assert_int_equal(f->b.data_version, data_version);
}

static void assert_error_result(const kl_produce_result_t *r)
{
    assert_int_equal(r->base_offset, -1);
    assert_int_equal(r->log_append_time, -1);
    assert_int_equal(r->log_start_offset, -1);
}

/* ---- tests ---- */

static void test_good_batch_gets_the_log_end_offset(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 2);
    mock_log_store_expect_append(&f->logs[0], n, 100, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r), KL_OK);
    assert_int_equal(r.base_offset, 100);
    assert_int_equal(r.log_append_time, -1);
    assert_int_equal(r.log_start_offset, 40);
    assert_offsets(f, 103, 1);
}

static void test_rewritten_base_offset_keeps_the_crc_valid(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    kl_batch_header_t h;
    size_t n = build_batch(f->buf, 12345, 1, 2);      /* whatever the producer sent */
    mock_log_store_expect_append(&f->logs[0], n, 100, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r), KL_OK);
    assert_int_equal(kl_be64_read(f->buf), 100);
    assert_int_equal(batch_validate(f->buf, n, &h), KL_OK);
    assert_int_equal(h.base_offset, 100);
}

static void test_two_batches_get_contiguous_offsets(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    kl_batch_header_t h;
    size_t n1 = build_batch(f->buf, 0, 3, 2);
    size_t n2 = build_batch(f->buf + n1, 0, 2, 2);
    mock_log_store_expect_append(&f->logs[0], n1 + n2, 100, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n1 + n2, &r), KL_OK);
    assert_int_equal(r.base_offset, 100);
    assert_int_equal(batch_validate(f->buf, n1, &h), KL_OK);
    assert_int_equal(h.base_offset, 100);
    assert_int_equal(batch_validate(f->buf + n1, n2, &h), KL_OK);
    assert_int_equal(h.base_offset, 103);           /* 100 + last_offset_delta 2 + 1 */
    assert_offsets(f, 105, 1);
}

static void test_consecutive_produces_continue_from_the_log_end(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 2, 2);
    mock_log_store_expect_append(&f->logs[0], n, 100, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r), KL_OK);
    n = build_batch(f->buf, 0, 1, 2);
    mock_log_store_expect_append(&f->logs[0], n, 102, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r), KL_OK);
    assert_int_equal(r.base_offset, 102);
    assert_offsets(f, 103, 2);
}

static void test_other_partition_has_its_own_offsets(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 1, 2);
    mock_log_store_expect_append(&f->logs[1], n, 0, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 1, f->buf, n, &r), KL_OK);
    assert_int_equal(r.base_offset, 0);
    assert_int_equal(r.log_start_offset, 0);
    assert_offsets(f, 100, 1);
}

static void test_bad_crc_is_corrupt_message(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 2);
    f->buf[n - 1] ^= 0x01;                            /* flip one covered bit */
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r),
                     KL_ERR_CORRUPT_MESSAGE);
    assert_error_result(&r);
    assert_offsets(f, 100, 0);
}

static void test_truncated_batch_is_corrupt_message(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 2);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n - 1, &r),
                     KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, 20, &r),
                     KL_ERR_CORRUPT_MESSAGE);
    assert_offsets(f, 100, 0);
}

static void test_corrupt_second_batch_rejects_the_whole_request(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n1 = build_batch(f->buf, 0, 3, 2);
    size_t n2 = build_batch(f->buf + n1, 0, 2, 2);
    f->buf[n1 + 30] ^= 0x40;
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n1 + n2, &r),
                     KL_ERR_CORRUPT_MESSAGE);
    assert_offsets(f, 100, 0);
}

static void test_magic_1_is_unsupported_for_message_format(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 1);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r),
                     KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    assert_offsets(f, 100, 0);
}

static void test_batch_over_message_max_bytes_is_too_large(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 2);
    f->b.config.message_max_bytes = (int32_t)n - 1;
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r),
                     KL_ERR_MESSAGE_TOO_LARGE);
    assert_offsets(f, 100, 0);

    f->b.config.message_max_bytes = (int32_t)n;       /* the limit itself is allowed */
    mock_log_store_expect_append(&f->logs[0], n, 100, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r), KL_OK);
}

static void test_size_is_checked_before_the_crc(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 2);
    f->buf[n - 1] ^= 0x01;
    f->b.config.message_max_bytes = 64;
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r),
                     KL_ERR_MESSAGE_TOO_LARGE);
}

static void test_topic_max_message_bytes_overrides_the_broker(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 2);
    kl_topic_t *t = broker_find_topic(&f->b, "orders");
    assert_int_equal(topic_meta_set_config(&t->meta, "max.message.bytes", "70"), KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r),
                     KL_ERR_MESSAGE_TOO_LARGE);
    assert_offsets(f, 100, 0);
}

static void test_empty_records_are_invalid_record(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    assert_int_equal(produce_append(&f->b, "orders", 0, NULL, 0, &r), KL_ERR_INVALID_RECORD);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, 0, &r), KL_ERR_INVALID_RECORD);
    assert_error_result(&r);
    assert_offsets(f, 100, 0);
}

static void test_unknown_topic_or_partition(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 1, 2);
    assert_int_equal(produce_append(&f->b, "nope", 0, f->buf, n, &r),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(produce_append(&f->b, "orders", 2, f->buf, n, &r),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(produce_append(&f->b, "orders", -1, f->buf, n, &r),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_error_result(&r);
}

static void test_store_failure_leaves_offsets_unchanged(void **state)
{
    fixture_t *f = *state;
    kl_produce_result_t r;
    size_t n = build_batch(f->buf, 0, 3, 2);
    mock_log_store_expect_append(&f->logs[0], n, 100, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_error_result(&r);
    assert_offsets(f, 100, 0);

    /* the retry gets the same offsets: nothing was consumed by the failure */
    mock_log_store_expect_append(&f->logs[0], n, 100, KL_OK);
    assert_int_equal(produce_append(&f->b, "orders", 0, f->buf, n, &r), KL_OK);
    assert_int_equal(r.base_offset, 100);
    assert_offsets(f, 103, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_good_batch_gets_the_log_end_offset),
        T(test_rewritten_base_offset_keeps_the_crc_valid),
        T(test_two_batches_get_contiguous_offsets),
        T(test_consecutive_produces_continue_from_the_log_end),
        T(test_other_partition_has_its_own_offsets),
        T(test_bad_crc_is_corrupt_message),
        T(test_truncated_batch_is_corrupt_message),
        T(test_corrupt_second_batch_rejects_the_whole_request),
        T(test_magic_1_is_unsupported_for_message_format),
        T(test_batch_over_message_max_bytes_is_too_large),
        T(test_size_is_checked_before_the_crc),
        T(test_topic_max_message_bytes_overrides_the_broker),
        T(test_empty_records_are_invalid_record),
        T(test_unknown_topic_or_partition),
        T(test_store_failure_leaves_offsets_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
