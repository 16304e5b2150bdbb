/*
 * test/test_partition.c — unit tests of domain/partition.c: the fetch offset range
 * [log_start, log_end] and how an append moves log_end and the high watermark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/partition.h"

static void test_fetch_inside_range_is_ok(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 10, .high_watermark = 20, .log_end = 20 };
    assert_int_equal(partition_check_fetch_offset(&o, 10), KL_OK);
    assert_int_equal(partition_check_fetch_offset(&o, 15), KL_OK);
    assert_int_equal(partition_check_fetch_offset(&o, 19), KL_OK);
}

static void test_fetch_at_log_end_is_ok(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 10, .high_watermark = 20, .log_end = 20 };
    assert_int_equal(partition_check_fetch_offset(&o, 20), KL_OK);
}

static void test_fetch_outside_range_is_out_of_range(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 10, .high_watermark = 20, .log_end = 20 };
    assert_int_equal(partition_check_fetch_offset(&o, 9), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(partition_check_fetch_offset(&o, 21), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(partition_check_fetch_offset(&o, -1), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(partition_check_fetch_offset(&o, INT64_MAX), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(partition_check_fetch_offset(&o, INT64_MIN), KL_ERR_OFFSET_OUT_OF_RANGE);
}

static void test_empty_log_accepts_only_zero(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { 0, 0, 0 };
    assert_int_equal(partition_check_fetch_offset(&o, 0), KL_OK);
    assert_int_equal(partition_check_fetch_offset(&o, 1), KL_ERR_OFFSET_OUT_OF_RANGE);
}

static void test_advance_returns_base_and_moves_end_and_hw(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 0, .high_watermark = 0, .log_end = 0 };
    assert_int_equal(partition_advance(&o, 3), 0);
    assert_int_equal(o.log_end, 3);
    assert_int_equal(o.high_watermark, 3);
    assert_int_equal(o.log_start, 0);
    assert_int_equal(partition_advance(&o, 5), 3);
    assert_int_equal(o.log_end, 8);
    assert_int_equal(o.high_watermark, 8);
}

static void test_advance_after_retention_keeps_log_start(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 100, .high_watermark = 150, .log_end = 150 };
    assert_int_equal(partition_advance(&o, 1), 150);
    assert_int_equal(o.log_start, 100);
    assert_int_equal(o.log_end, 151);
    assert_int_equal(o.high_watermark, 151);
    assert_int_equal(partition_check_fetch_offset(&o, 150), KL_OK);
    assert_int_equal(partition_check_fetch_offset(&o, 151), KL_OK);
}

static void test_advance_by_zero_or_negative_changes_nothing(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 0, .high_watermark = 7, .log_end = 7 };
    assert_int_equal(partition_advance(&o, 0), 7);
    assert_int_equal(partition_advance(&o, -4), 7);
    assert_int_equal(o.log_end, 7);
    assert_int_equal(o.high_watermark, 7);
}

static void test_move_log_start_up_to_the_high_watermark(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 0, .high_watermark = 30, .log_end = 30 };
    assert_int_equal(partition_move_log_start(&o, 20), KL_OK);
    assert_int_equal(o.log_start, 20);
    assert_int_equal(partition_check_fetch_offset(&o, 19), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(partition_check_fetch_offset(&o, 20), KL_OK);
    assert_int_equal(partition_move_log_start(&o, 30), KL_OK);   /* = hw: empty but legal */
    assert_int_equal(o.log_start, 30);
    assert_int_equal(o.high_watermark, 30);
    assert_int_equal(o.log_end, 30);
}

static void test_move_log_start_never_goes_back(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 20, .high_watermark = 30, .log_end = 30 };
    assert_int_equal(partition_move_log_start(&o, 10), KL_OK);
    assert_int_equal(o.log_start, 20);
    assert_int_equal(partition_move_log_start(&o, -1), KL_OK);
    assert_int_equal(o.log_start, 20);
}

static void test_move_log_start_past_the_high_watermark_is_refused(void **state)
{
    (void)state;
    kl_partition_offsets_t o = { .log_start = 5, .high_watermark = 30, .log_end = 30 };
    assert_int_equal(partition_move_log_start(&o, 31), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(o.log_start, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_inside_range_is_ok),
        cmocka_unit_test(test_fetch_at_log_end_is_ok),
        cmocka_unit_test(test_fetch_outside_range_is_out_of_range),
        cmocka_unit_test(test_empty_log_accepts_only_zero),
        cmocka_unit_test(test_advance_returns_base_and_moves_end_and_hw),
        cmocka_unit_test(test_advance_after_retention_keeps_log_start),
        cmocka_unit_test(test_advance_by_zero_or_negative_changes_nothing),
        cmocka_unit_test(test_move_log_start_up_to_the_high_watermark),
        cmocka_unit_test(test_move_log_start_never_goes_back),
        cmocka_unit_test(test_move_log_start_past_the_high_watermark_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
