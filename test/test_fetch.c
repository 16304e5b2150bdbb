/*
 * test/test_fetch.c — unit tests of application/fetch.c: the offset range rule, the
 * log-end shortcut (no store call), real bytes through the sink from the mocked store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

/* A fixed-capacity sink: what a Fetch response buffer looks like to the store. */
typedef struct test_sink {
    uint8_t data[256];
    size_t used;
} test_sink_t;

static uint8_t *test_sink_reserve(void *arg, size_t n)
{
    test_sink_t *s = arg;
    if (n > sizeof(s->data) - s->used)
        return NULL;
    uint8_t *p = s->data + s->used;
    s->used += n;
    return p;
}

static void test_sink_unreserve(void *arg, size_t n)
{
    test_sink_t *s = arg;
    assert_true(n <= s->used);
    s->used -= n;
}

/* topic "orders", one partition: log start 10, high watermark = log end 50 */
typedef struct fixture {
    kl_broker_t b;
    char log;
    test_sink_t store;
    kl_buf_sink_t sink;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = test_calloc(1, sizeof(*f));
    kl_broker_config_t cfg;
    kl_topic_meta_t meta;
    memset(&cfg, 0, sizeof(cfg));
    memset(&meta, 0, sizeof(meta));
    strcpy(meta.name, "orders");
    meta.partition_count = 1;
    meta.replication_factor = 1;
    mock_log_store_expect_load_all(&meta, 1, KL_OK);
    mock_log_store_expect_open("orders", 0, &f->log, 10, 50, KL_OK);
    assert_int_equal(broker_init(&f->b, &cfg, mock_log_store(), mock_clock()), KL_OK);
    f->sink.arg = &f->store;
    f->sink.reserve = test_sink_reserve;
    f->sink.unreserve = test_sink_unreserve;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    mock_log_store_expect_close(&f->log);
    broker_close(&f->b);
    test_free(f);
    return 0;
}

static void assert_partition_offsets(const kl_fetch_result_t *r)
{
    assert_int_equal(r->high_watermark, 50);
    assert_int_equal(r->last_stable_offset, 50);
    assert_int_equal(r->log_start_offset, 10);
}

static void test_reads_bytes_into_the_sink(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    const uint8_t bytes[] = "batch bytes from the log";
    mock_log_store_expect_read(&f->log, 20, 1024, bytes, sizeof(bytes), KL_OK);
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 20, 1024, &f->sink, &r), KL_OK);
    assert_int_equal(r.bytes, sizeof(bytes));
    assert_int_equal(f->store.used, sizeof(bytes));
    assert_memory_equal(f->store.data, bytes, sizeof(bytes));
    assert_partition_offsets(&r);
}

static void test_log_start_is_readable(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    const uint8_t bytes[4] = { 1, 2, 3, 4 };
    mock_log_store_expect_read(&f->log, 10, 1, bytes, sizeof(bytes), KL_OK);
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 10, 1, &f->sink, &r), KL_OK);
    assert_int_equal(r.bytes, 4);
}

static void test_at_log_end_returns_nothing_without_reading(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 50, 1024, &f->sink, &r), KL_OK);
    assert_int_equal(r.bytes, 0);
    assert_int_equal(f->store.used, 0);
    assert_partition_offsets(&r);
}

static void test_below_log_start_is_out_of_range_with_offsets(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 9, 1024, &f->sink, &r),
                     KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(r.bytes, 0);
    assert_partition_offsets(&r);
}

static void test_past_log_end_is_out_of_range_with_offsets(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 51, 1024, &f->sink, &r),
                     KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_partition_offsets(&r);
    assert_int_equal(fetch_partition(&f->b, "orders", 0, -1, 1024, &f->sink, &r),
                     KL_ERR_OFFSET_OUT_OF_RANGE);
}

static void test_unknown_topic_or_partition(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    assert_int_equal(fetch_partition(&f->b, "nope", 0, 0, 1024, &f->sink, &r),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(r.high_watermark, -1);
    assert_int_equal(r.log_start_offset, -1);
    assert_int_equal(fetch_partition(&f->b, "orders", 1, 0, 1024, &f->sink, &r),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

static void test_store_error_is_returned(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    mock_log_store_expect_read(&f->log, 30, 100, NULL, 0, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 30, 100, &f->sink, &r),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(r.bytes, 0);
}

static void test_sees_records_appended_after_setup(void **state)
{
    fixture_t *f = *state;
    kl_fetch_result_t r;
    const uint8_t bytes[8] = { 0 };
    kl_partition_t *p = broker_find_partition(&f->b, "orders", 0);
    partition_advance(&p->offsets, 5);              /* as produce would after an append */
    mock_log_store_expect_read(&f->log, 50, 1024, bytes, sizeof(bytes), KL_OK);
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 50, 1024, &f->sink, &r), KL_OK);
    assert_int_equal(r.bytes, 8);
    assert_int_equal(r.high_watermark, 55);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_reads_bytes_into_the_sink),
        T(test_log_start_is_readable),
        T(test_at_log_end_returns_nothing_without_reading),
        T(test_below_log_start_is_out_of_range_with_offsets),
        T(test_past_log_end_is_out_of_range_with_offsets),
        T(test_unknown_topic_or_partition),
        T(test_store_error_is_returned),
        T(test_sees_records_appended_after_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
