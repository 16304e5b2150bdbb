/*
 * test/test_retention.c — unit tests of domain/retention.c: Kafka's retention.ms and
 * retention.bytes rules over a partition's segments (UnifiedLog's
 * deleteRetentionMsBreachedSegments / deleteRetentionSizeBreachedSegments), the
 * prefix-only walk, the active segment that is never deleted, and malformed lists.
 * Also the acceptance test of docs/labs/01-retention.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/retention.h"

#define NOW 1000000000LL            /* "now", in ms */
#define DAY 86400000LL
#define UNLIMITED (-1)

/* Three closed segments of 100 bytes and an active one of 40, one day apart:
 * base offsets 0, 10, 20, 30; largest timestamps NOW-3d, NOW-2d, NOW-1d, NOW. */
static void four_segments(kl_segment_info_t s[4])
{
    for (int i = 0; i < 4; i++) {
        s[i].base_offset = 10 * i;
        s[i].size_bytes = i == 3 ? 40 : 100;
        s[i].largest_timestamp = NOW - (3 - i) * DAY;
        s[i].active = i == 3;
    }
}

static kl_retention_plan_t plan(const kl_segment_info_t *s, size_t n, int64_t ms, int64_t bytes)
{
    kl_retention_config_t cfg = { ms, bytes };
    kl_retention_plan_t p;
    assert_int_equal(retention_plan(s, n, &cfg, NOW, &p), KL_OK);
    return p;
}

static void test_unlimited_deletes_nothing(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    kl_retention_plan_t p = plan(s, 4, UNLIMITED, UNLIMITED);
    assert_int_equal(p.delete_count, 0);
    assert_int_equal(p.bytes_deleted, 0);
    assert_int_equal(p.new_log_start, 0);
}

static void test_time_deletes_segments_older_than_retention(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    /* 36 h: the 3-day- and 2-day-old segments breach, the 1-day-old one does not */
    kl_retention_plan_t p = plan(s, 4, DAY + DAY / 2, UNLIMITED);
    assert_int_equal(p.delete_count, 2);
    assert_int_equal(p.by_time, 2);
    assert_int_equal(p.bytes_deleted, 200);
    assert_int_equal(p.new_log_start, 20);
}

static void test_time_boundary_is_strict(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    /* exactly 2 days old with retention.ms = 2 days: now - ts == retention, kept */
    kl_retention_plan_t p = plan(s, 4, 2 * DAY, UNLIMITED);
    assert_int_equal(p.delete_count, 1);
    assert_int_equal(p.new_log_start, 10);
    /* one millisecond less retention and it breaches */
    p = plan(s, 4, 2 * DAY - 1, UNLIMITED);
    assert_int_equal(p.delete_count, 2);
}

static void test_time_never_deletes_active_segment(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    s[3].largest_timestamp = NOW - 10 * DAY;      /* old data in the active segment */
    kl_retention_plan_t p = plan(s, 4, 0, UNLIMITED);
    assert_int_equal(p.delete_count, 3);
    assert_int_equal(p.by_time, 3);
    assert_int_equal(p.new_log_start, 30);
}

static void test_time_only_deletes_a_prefix(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    s[1].largest_timestamp = NOW;                 /* a young segment in the middle */
    s[2].largest_timestamp = NOW - 5 * DAY;       /* older, but behind the young one */
    kl_retention_plan_t p = plan(s, 4, DAY, UNLIMITED);
    assert_int_equal(p.delete_count, 1);
    assert_int_equal(p.new_log_start, 10);
}

static void test_retention_ms_zero_deletes_every_closed_segment(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    s[2].largest_timestamp = NOW - 1;
    kl_retention_plan_t p = plan(s, 4, 0, UNLIMITED);
    assert_int_equal(p.delete_count, 3);
}

static void test_size_keeps_at_least_retention_bytes(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);                             /* 340 bytes in all */
    /* 150: deleting 100 leaves 240 >= 150, 100 more leaves 140 < 150: one goes */
    kl_retention_plan_t p = plan(s, 4, UNLIMITED, 150);
    assert_int_equal(p.delete_count, 1);
    assert_int_equal(p.by_time, 0);
    assert_int_equal(p.bytes_deleted, 100);
    assert_int_equal(p.new_log_start, 10);
}

static void test_size_boundary_remainder_equal_is_deleted(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    /* 140: after two deletions exactly 140 remain: diff - size == 0, so both go */
    kl_retention_plan_t p = plan(s, 4, UNLIMITED, 140);
    assert_int_equal(p.delete_count, 2);
    assert_int_equal(p.new_log_start, 20);
    p = plan(s, 4, UNLIMITED, 141);
    assert_int_equal(p.delete_count, 1);
}

static void test_size_under_limit_deletes_nothing(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    assert_int_equal(plan(s, 4, UNLIMITED, 340).delete_count, 0);
    assert_int_equal(plan(s, 4, UNLIMITED, 1000).delete_count, 0);
    /* 339: the oldest segment is larger than the 1-byte excess: nothing goes */
    assert_int_equal(plan(s, 4, UNLIMITED, 339).delete_count, 0);
}

static void test_size_never_deletes_active_segment(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    kl_retention_plan_t p = plan(s, 4, UNLIMITED, 0);
    assert_int_equal(p.delete_count, 3);
    assert_int_equal(p.bytes_deleted, 300);
    assert_int_equal(p.new_log_start, 30);
}

static void test_size_stops_at_first_segment_too_big(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    s[0].size_bytes = 500;                        /* 740 in all */
    /* 300: deleting 500 would leave 240 < 300, so nothing, though s[1] alone could go */
    assert_int_equal(plan(s, 4, UNLIMITED, 300).delete_count, 0);
}

static void test_time_then_size_on_what_is_left(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    /* time takes the 3-day-old segment (240 bytes left); size then takes one more
     * (140 left >= 100) but not a third (40 < 100) */
    kl_retention_plan_t p = plan(s, 4, 2 * DAY + DAY / 2, 100);
    assert_int_equal(p.delete_count, 2);
    assert_int_equal(p.by_time, 1);
    assert_int_equal(p.bytes_deleted, 200);
    assert_int_equal(p.new_log_start, 20);
}

static void test_no_active_segment_may_delete_all(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    four_segments(s);
    s[3].active = false;
    kl_retention_plan_t p = plan(s, 4, UNLIMITED, 0);
    assert_int_equal(p.delete_count, 4);
    assert_int_equal(p.new_log_start, -1);
}

static void test_empty_list(void **state)
{
    (void)state;
    kl_retention_config_t cfg = { 0, 0 };
    kl_retention_plan_t p;
    assert_int_equal(retention_plan(NULL, 0, &cfg, NOW, &p), KL_OK);
    assert_int_equal(p.delete_count, 0);
    assert_int_equal(p.new_log_start, -1);
}

static void test_malformed_lists_rejected(void **state)
{
    (void)state;
    kl_segment_info_t s[4];
    kl_retention_config_t cfg = { 0, 0 };
    kl_retention_plan_t p;
    four_segments(s);
    s[1].active = true;                           /* active, but not the last */
    assert_int_equal(retention_plan(s, 4, &cfg, NOW, &p), KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(p.delete_count, 0);
    four_segments(s);
    s[2].base_offset = 5;                         /* offsets not ascending */
    assert_int_equal(retention_plan(s, 4, &cfg, NOW, &p), KL_ERR_UNKNOWN_SERVER_ERROR);
    four_segments(s);
    s[0].size_bytes = -1;
    assert_int_equal(retention_plan(s, 4, &cfg, NOW, &p), KL_ERR_UNKNOWN_SERVER_ERROR);
    four_segments(s);
    assert_int_equal(retention_plan(s, 4, NULL, NOW, &p), KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(retention_plan(NULL, 2, &cfg, NOW, &p), KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(retention_plan(s, 4, &cfg, NOW, NULL), KL_ERR_UNKNOWN_SERVER_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited_deletes_nothing),
        cmocka_unit_test(test_time_deletes_segments_older_than_retention),
        cmocka_unit_test(test_time_boundary_is_strict),
        cmocka_unit_test(test_time_never_deletes_active_segment),
        cmocka_unit_test(test_time_only_deletes_a_prefix),
        cmocka_unit_test(test_retention_ms_zero_deletes_every_closed_segment),
        cmocka_unit_test(test_size_keeps_at_least_retention_bytes),
        cmocka_unit_test(test_size_boundary_remainder_equal_is_deleted),
        cmocka_unit_test(test_size_under_limit_deletes_nothing),
        cmocka_unit_test(test_size_never_deletes_active_segment),
        cmocka_unit_test(test_size_stops_at_first_segment_too_big),
        cmocka_unit_test(test_time_then_size_on_what_is_left),
        cmocka_unit_test(test_no_active_segment_may_delete_all),
        cmocka_unit_test(test_empty_list),
        cmocka_unit_test(test_malformed_lists_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
