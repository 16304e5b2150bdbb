/*
 * test/test_list_offsets.c — unit tests of application/list_offsets.c: EARLIEST and
 * LATEST from the partition's offsets, timestamps through the mocked store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

/* topic "orders", one partition: log start 10, high watermark = log end 50 */
typedef struct fixture {
    kl_broker_t b;
    char log;
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

static void test_earliest_is_the_log_start(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, KL_LIST_OFFSETS_EARLIEST, &r),
                     KL_OK);
    assert_int_equal(r.offset, 10);
    assert_int_equal(r.timestamp, -1);
}

static void test_latest_is_the_high_watermark(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, KL_LIST_OFFSETS_LATEST, &r),
                     KL_OK);
    assert_int_equal(r.offset, 50);
    assert_int_equal(r.timestamp, -1);
}

static void test_timestamp_asks_the_store(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    mock_log_store_expect_offset_for_timestamp(&f->log, 1700000000000LL,
                                               23, 1700000000005LL, KL_OK);
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, 1700000000000LL, &r), KL_OK);
    assert_int_equal(r.offset, 23);
    assert_int_equal(r.timestamp, 1700000000005LL);
}

static void test_timestamp_zero_is_a_real_query(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    mock_log_store_expect_offset_for_timestamp(&f->log, 0, 10, 1600000000000LL, KL_OK);
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, 0, &r), KL_OK);
    assert_int_equal(r.offset, 10);
}

static void test_timestamp_after_every_record_is_minus_one(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    mock_log_store_expect_offset_for_timestamp(&f->log, 1800000000000LL, -1, 77, KL_OK);
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, 1800000000000LL, &r), KL_OK);
    assert_int_equal(r.offset, -1);
    assert_int_equal(r.timestamp, -1);
}

static void test_store_error_is_returned(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    mock_log_store_expect_offset_for_timestamp(&f->log, 5, 0, 0, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, 5, &r),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(r.offset, -1);
}

static void test_other_negative_timestamps_are_invalid_request(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, -3, &r), KL_ERR_INVALID_REQUEST);
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, -100, &r),
                     KL_ERR_INVALID_REQUEST);
    assert_int_equal(r.offset, -1);
}

static void test_unknown_topic_or_partition(void **state)
{
    fixture_t *f = *state;
    kl_list_offsets_result_t r;
    assert_int_equal(list_offsets_query(&f->b, "nope", 0, -1, &r),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(list_offsets_query(&f->b, "orders", 1, -2, &r),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(r.offset, -1);
    assert_int_equal(r.timestamp, -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_earliest_is_the_log_start),
        T(test_latest_is_the_high_watermark),
        T(test_timestamp_asks_the_store),
        T(test_timestamp_zero_is_a_real_query),
        T(test_timestamp_after_every_record_is_minus_one),
        T(test_store_error_is_returned),
        T(test_other_negative_timestamps_are_invalid_request),
        T(test_unknown_topic_or_partition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
