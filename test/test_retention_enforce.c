/*
 * test/test_retention_enforce.c — unit tests of application/retention_enforce.c: the
 * effective settings (topic override over broker default), cleanup.policy, the store
 * calls in order (segments, then delete_segments_before with the plan's new log start),
 * the log start offset that follows and the report; store failures and odd answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "application/retention_enforce.h"
#include "application/usecases.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

#define NOW 1700000000000LL          /* the clock's "now" in every test */
#define HOUR 3600000LL
#define WEEK (168 * HOUR)

/* Up to two topics, "orders" (partitions log_a, log_b) and "audit" (log_c). */
typedef struct fixture {
    kl_broker_t b;
    kl_broker_config_t cfg;
    kl_topic_meta_t metas[2];
    int topic_count;
    char log_a, log_b, log_c;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = test_calloc(1, sizeof(*f));
    f->cfg.retention_ms = WEEK;                       /* Kafka: log.retention.hours=168 */
    f->cfg.retention_bytes = -1;
    strcpy(f->metas[0].name, "orders");
    f->metas[0].partition_count = 1;
    f->metas[0].replication_factor = 1;
    strcpy(f->metas[1].name, "audit");
    f->metas[1].partition_count = 1;
    f->metas[1].replication_factor = 1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->topic_count > 0)
        mock_log_store_expect_close(&f->log_a);
    if (f->topic_count > 1)
        mock_log_store_expect_close(&f->log_c);
    broker_close(&f->b);
    test_free(f);
    return 0;
}

/* Start the broker with `topics` topics; every partition holds offsets [0, 30). */
static void start(fixture_t *f, int topics)
{
    f->topic_count = topics;
    mock_log_store_expect_load_all(f->metas, topics, KL_OK);
    mock_log_store_expect_open("orders", 0, &f->log_a, 0, 30, KL_OK);
    if (topics > 1)
        mock_log_store_expect_open("audit", 0, &f->log_c, 0, 30, KL_OK);
    assert_int_equal(broker_init(&f->b, &f->cfg, mock_log_store(), mock_clock()), KL_OK);
}

/* Three segments [0,10) [10,20) [20,30), 100 bytes each; the last is active. Their
 * largest timestamps are `age0`, `age1`, `age2` ms before NOW. */
static void three_segments(kl_segment_info_t s[3], int64_t age0, int64_t age1, int64_t age2)
{
    s[0] = (kl_segment_info_t){ 0, 100, NOW - age0, false };
    s[1] = (kl_segment_info_t){ 10, 100, NOW - age1, false };
    s[2] = (kl_segment_info_t){ 20, 100, NOW - age2, true };
}

static kl_partition_t *orders0(fixture_t *f)
{
    return broker_find_partition(&f->b, "orders", 0);
}

/* ---- effective settings and cleanup.policy ------------------------------------- */

static void test_broker_defaults_apply_without_overrides(void **state)
{
    fixture_t *f = *state;
    kl_retention_config_t c;
    assert_int_equal(retention_effective_config(&f->cfg, &f->metas[0], &c), KL_OK);
    assert_int_equal(c.retention_ms, WEEK);
    assert_int_equal(c.retention_bytes, -1);
}

static void test_topic_overrides_win(void **state)
{
    fixture_t *f = *state;
    kl_retention_config_t c;
    topic_meta_set_config(&f->metas[0], "retention.ms", "1000");
    topic_meta_set_config(&f->metas[0], "retention.bytes", "4096");
    assert_int_equal(retention_effective_config(&f->cfg, &f->metas[0], &c), KL_OK);
    assert_int_equal(c.retention_ms, 1000);
    assert_int_equal(c.retention_bytes, 4096);
}

static void test_unparsable_override_is_invalid_config(void **state)
{
    fixture_t *f = *state;
    kl_retention_config_t c;
    topic_meta_set_config(&f->metas[0], "retention.ms", "7d");
    assert_int_equal(retention_effective_config(&f->cfg, &f->metas[0], &c),
                     KL_ERR_INVALID_CONFIG);
    topic_meta_set_config(&f->metas[0], "retention.ms", "");
    assert_int_equal(retention_effective_config(&f->cfg, &f->metas[0], &c),
                     KL_ERR_INVALID_CONFIG);
}

static void test_cleanup_policy_must_contain_delete(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t *m = &f->metas[0];
    assert_true(retention_policy_deletes(m));                  /* default: delete */
    topic_meta_set_config(m, "cleanup.policy", "compact");
    assert_false(retention_policy_deletes(m));
    topic_meta_set_config(m, "cleanup.policy", "compact,delete");
    assert_true(retention_policy_deletes(m));
    topic_meta_set_config(m, "cleanup.policy", "delete, compact");
    assert_true(retention_policy_deletes(m));
    topic_meta_set_config(m, "cleanup.policy", "deleted");
    assert_false(retention_policy_deletes(m));
    topic_meta_set_config(m, "cleanup.policy", "");
    assert_false(retention_policy_deletes(m));
}

/* ---- enforcing ------------------------------------------------------------------ */

static void test_time_breached_segments_go_and_log_start_moves(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    topic_meta_set_config(&f->metas[0], "retention.ms", "1000");
    start(f, 1);
    three_segments(s, 5000, 2000, 10);
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 3, KL_OK);
    mock_log_store_expect_delete_before(&f->log_a, 20, 20, KL_OK);

    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_OK);
    assert_int_equal(r.partitions_checked, 1);
    assert_int_equal(r.partitions_failed, 0);
    assert_int_equal(r.segments_deleted, 2);
    assert_int_equal(r.by_time, 2);
    assert_int_equal(r.bytes_deleted, 200);
    assert_int_equal(orders0(f)->offsets.log_start, 20);
    assert_int_equal(orders0(f)->offsets.high_watermark, 30);
    assert_int_equal(orders0(f)->offsets.log_end, 30);
}

static void test_fetch_below_the_new_log_start_is_out_of_range(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    topic_meta_set_config(&f->metas[0], "retention.ms", "1000");
    start(f, 1);
    three_segments(s, 5000, 10, 10);
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 3, KL_OK);
    mock_log_store_expect_delete_before(&f->log_a, 10, 10, KL_OK);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_OK);

    kl_fetch_result_t fr;
    assert_int_equal(fetch_partition(&f->b, "orders", 0, 5, 1024, NULL, &fr),
                     KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(fr.log_start_offset, 10);    /* where auto.offset.reset jumps */
    kl_list_offsets_result_t lr;
    assert_int_equal(list_offsets_query(&f->b, "orders", 0, KL_LIST_OFFSETS_EARLIEST, &lr),
                     KL_OK);
    assert_int_equal(lr.offset, 10);
}

static void test_size_rule_uses_the_broker_default(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    f->cfg.retention_ms = -1;
    f->cfg.retention_bytes = 150;      /* 300 bytes: the oldest goes, 200 >= 150 remain */
    start(f, 1);
    three_segments(s, 10, 10, 10);
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 3, KL_OK);
    mock_log_store_expect_delete_before(&f->log_a, 10, 10, KL_OK);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_OK);
    assert_int_equal(r.segments_deleted, 1);
    assert_int_equal(r.by_time, 0);
    assert_int_equal(orders0(f)->offsets.log_start, 10);
}

static void test_nothing_breached_deletes_nothing(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    start(f, 1);
    three_segments(s, HOUR, HOUR, 10);            /* a week of retention: all young */
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 3, KL_OK);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_OK);  /* no delete call expected */
    assert_int_equal(r.partitions_checked, 1);
    assert_int_equal(r.segments_deleted, 0);
    assert_int_equal(orders0(f)->offsets.log_start, 0);
}

static void test_compact_only_topic_is_not_touched(void **state)
{
    fixture_t *f = *state;
    topic_meta_set_config(&f->metas[0], "cleanup.policy", "compact");
    topic_meta_set_config(&f->metas[0], "retention.ms", "0");
    start(f, 1);
    mock_clock_will_return(NOW);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_OK);  /* no store call expected */
    assert_int_equal(r.partitions_checked, 0);
}

static void test_a_failing_partition_does_not_stop_the_others(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    topic_meta_set_config(&f->metas[1], "retention.ms", "1000");
    start(f, 2);
    three_segments(s, 5000, 10, 10);
    mock_clock_will_return(NOW);                  /* one reading for the whole run */
    mock_log_store_expect_segments(&f->log_a, NULL, 0, KL_ERR_KAFKA_STORAGE_ERROR);
    mock_log_store_expect_segments(&f->log_c, s, 3, KL_OK);
    mock_log_store_expect_delete_before(&f->log_c, 10, 10, KL_OK);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(r.partitions_failed, 1);
    assert_int_equal(r.partitions_checked, 1);
    assert_int_equal(r.segments_deleted, 1);
    assert_int_equal(broker_find_partition(&f->b, "audit", 0)->offsets.log_start, 10);
    assert_int_equal(orders0(f)->offsets.log_start, 0);
}

static void test_bad_override_deletes_nothing_in_that_topic(void **state)
{
    fixture_t *f = *state;
    topic_meta_set_config(&f->metas[0], "retention.bytes", "lots");
    start(f, 1);
    mock_clock_will_return(NOW);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_ERR_INVALID_CONFIG);
    assert_int_equal(r.partitions_failed, 1);
    assert_int_equal(orders0(f)->offsets.log_start, 0);
}

static void test_partial_deletion_moves_log_start_as_far_as_it_got(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    topic_meta_set_config(&f->metas[0], "retention.ms", "1000");
    start(f, 1);
    three_segments(s, 5000, 5000, 10);
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 3, KL_OK);
    /* the first segment went, the second's unlink failed */
    mock_log_store_expect_delete_before(&f->log_a, 20, 10, KL_ERR_KAFKA_STORAGE_ERROR);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(r.segments_deleted, 1);
    assert_int_equal(r.bytes_deleted, 100);
    assert_int_equal(orders0(f)->offsets.log_start, 10);
}

static void test_log_start_past_the_high_watermark_is_refused(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    topic_meta_set_config(&f->metas[0], "retention.ms", "1000");
    start(f, 1);
    three_segments(s, 5000, 10, 10);
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 3, KL_OK);
    mock_log_store_expect_delete_before(&f->log_a, 10, 31, KL_OK);   /* a broken store */
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(orders0(f)->offsets.log_start, 0);               /* invariant kept */
}

static void test_malformed_segment_list_is_refused(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[3];
    start(f, 1);
    three_segments(s, 5000, 5000, 10);
    s[0].active = true;                            /* active but not last */
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 3, KL_OK);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(orders0(f)->offsets.log_start, 0);
}

static void test_many_segments_are_listed_into_a_heap_array(void **state)
{
    fixture_t *f = *state;
    enum { N = 100 };
    static kl_segment_info_t s[N];
    for (int i = 0; i < N; i++)
        s[i] = (kl_segment_info_t){ i * 10, 50, NOW - (i < 90 ? 5000 : 10), i == N - 1 };
    topic_meta_set_config(&f->metas[0], "retention.ms", "1000");
    start(f, 1);
    /* reset the partition's end so the new start (900) stays below the high watermark */
    orders0(f)->offsets.high_watermark = orders0(f)->offsets.log_end = 1000;
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, N, KL_OK);   /* 64 fit: ask again */
    mock_log_store_expect_segments(&f->log_a, s, N, KL_OK);
    mock_log_store_expect_delete_before(&f->log_a, 900, 900, KL_OK);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_OK);
    assert_int_equal(r.segments_deleted, 90);
    assert_int_equal(orders0(f)->offsets.log_start, 900);
}

static void test_empty_partition_has_nothing_to_plan(void **state)
{
    fixture_t *f = *state;
    kl_segment_info_t s[1] = { { 0, 0, NOW - 5000, true } };
    topic_meta_set_config(&f->metas[0], "retention.ms", "0");
    start(f, 1);
    mock_clock_will_return(NOW);
    mock_log_store_expect_segments(&f->log_a, s, 1, KL_OK);
    kl_retention_report_t r;
    assert_int_equal(retention_enforce(&f->b, &r), KL_OK);   /* the active one stays */
    assert_int_equal(r.segments_deleted, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_broker_defaults_apply_without_overrides),
        T(test_topic_overrides_win),
        T(test_unparsable_override_is_invalid_config),
        T(test_cleanup_policy_must_contain_delete),
        T(test_time_breached_segments_go_and_log_start_moves),
        T(test_fetch_below_the_new_log_start_is_out_of_range),
        T(test_size_rule_uses_the_broker_default),
        T(test_nothing_breached_deletes_nothing),
        T(test_compact_only_topic_is_not_touched),
        T(test_a_failing_partition_does_not_stop_the_others),
        T(test_bad_override_deletes_nothing_in_that_topic),
        T(test_partial_deletion_moves_log_start_as_far_as_it_got),
        T(test_log_start_past_the_high_watermark_is_refused),
        T(test_malformed_segment_list_is_refused),
        T(test_many_segments_are_listed_into_a_heap_array),
        T(test_empty_partition_has_nothing_to_plan),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
