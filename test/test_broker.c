/*
 * test/test_broker.c — unit tests of application/broker.c: loading persisted topics
 * through the log_store port, the registry lookups, closing every partition, removing a
 * deleted topic without closing its logs again (the store closed them).
 * The store is the cmocka mock (test/mocks/mock_log_store.c): each test states the exact
 * store calls it expects; an unexpected call fails it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "application/broker.h"
#include "test/mocks/alloc_fail.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

static kl_broker_config_t test_config(void)
{
    kl_broker_config_t c;
    memset(&c, 0, sizeof(c));
    c.node_id = 1;
    c.num_partitions = 1;
    c.default_replication_factor = 1;
    c.message_max_bytes = 1048588;
    return c;
}

static kl_topic_meta_t test_meta(const char *name, int32_t partitions)
{
    kl_topic_meta_t m;
    memset(&m, 0, sizeof(m));
    strcpy(m.name, name);
    m.partition_count = partitions;
    m.replication_factor = 1;
    return m;
}

static void test_init_with_no_topics_is_empty(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    mock_log_store_expect_load_all(NULL, 0, KL_OK);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()), KL_OK);
    assert_null(b.topics);
    assert_int_equal(b.config.node_id, 1);
    assert_int_equal(b.data_version, 0);
    assert_null(broker_find_topic(&b, "orders"));
    broker_close(&b);
}

static void test_init_opens_every_partition_of_every_topic(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t metas[2] = { test_meta("orders", 2), test_meta("audit", 1) };
    char logs[3];
    mock_log_store_expect_load_all(metas, 2, KL_OK);
    mock_log_store_expect_open("orders", 0, &logs[0], 0, 10, KL_OK);
    mock_log_store_expect_open("orders", 1, &logs[1], 5, 7, KL_OK);
    mock_log_store_expect_open("audit", 0, &logs[2], 0, 0, KL_OK);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()), KL_OK);

    kl_partition_t *p = broker_find_partition(&b, "orders", 1);
    assert_non_null(p);
    assert_int_equal(p->index, 1);
    assert_ptr_equal(p->log, &logs[1]);
    assert_int_equal(p->offsets.log_start, 5);
    assert_int_equal(p->offsets.high_watermark, 7);
    assert_int_equal(p->offsets.log_end, 7);
    kl_topic_t *t = broker_find_topic(&b, "audit");
    assert_non_null(t);
    assert_int_equal(t->meta.partition_count, 1);

    mock_log_store_expect_close(&logs[0]);
    mock_log_store_expect_close(&logs[1]);
    mock_log_store_expect_close(&logs[2]);
    broker_close(&b);
    assert_null(b.topics);
}

static void test_init_load_failure_is_returned(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    mock_log_store_expect_load_all(NULL, 0, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(b.topics);
}

static void test_init_open_failure_closes_what_was_opened(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t metas[2] = { test_meta("audit", 1), test_meta("orders", 2) };
    char logs[2];
    mock_log_store_expect_load_all(metas, 2, KL_OK);
    mock_log_store_expect_open("audit", 0, &logs[0], 0, 0, KL_OK);
    mock_log_store_expect_open("orders", 0, &logs[1], 0, 0, KL_OK);
    mock_log_store_expect_open("orders", 1, NULL, 0, 0, KL_ERR_KAFKA_STORAGE_ERROR);
    /* the half-opened topic first, then the topic loaded before it */
    mock_log_store_expect_close(&logs[1]);
    mock_log_store_expect_close(&logs[0]);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(b.topics);
}

static void test_find_partition_checks_the_index(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t metas[1] = { test_meta("orders", 2) };
    char logs[2];
    mock_log_store_expect_load_all(metas, 1, KL_OK);
    mock_log_store_expect_open("orders", 0, &logs[0], 0, 0, KL_OK);
    mock_log_store_expect_open("orders", 1, &logs[1], 0, 0, KL_OK);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()), KL_OK);

    assert_non_null(broker_find_partition(&b, "orders", 0));
    assert_null(broker_find_partition(&b, "orders", 2));
    assert_null(broker_find_partition(&b, "orders", -1));
    assert_null(broker_find_partition(&b, "order", 0));

    mock_log_store_expect_close(&logs[0]);
    mock_log_store_expect_close(&logs[1]);
    broker_close(&b);
}

static void test_add_topic_registers_and_reports_it(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t meta = test_meta("orders", 1);
    kl_topic_t *t = NULL;
    char log;
    mock_log_store_expect_load_all(NULL, 0, KL_OK);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()), KL_OK);

    mock_log_store_expect_open("orders", 0, &log, 0, 0, KL_OK);
    assert_int_equal(broker_add_topic(&b, &meta, &t), KL_OK);
    assert_ptr_equal(t, broker_find_topic(&b, "orders"));
    assert_string_equal(t->meta.name, "orders");

    mock_log_store_expect_close(&log);
    broker_close(&b);
}

static void test_add_topic_twice_is_already_exists(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t metas[1] = { test_meta("orders", 1) };
    kl_topic_t sentinel;
    kl_topic_t *t = &sentinel;              /* must be reset to NULL on error */
    char log;
    mock_log_store_expect_load_all(metas, 1, KL_OK);
    mock_log_store_expect_open("orders", 0, &log, 0, 0, KL_OK);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()), KL_OK);

    assert_int_equal(broker_add_topic(&b, &metas[0], &t), KL_ERR_TOPIC_ALREADY_EXISTS);
    assert_null(t);

    mock_log_store_expect_close(&log);
    broker_close(&b);
}

static void test_add_topic_rejects_bad_metadata_without_store_calls(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t none = test_meta("orders", 0);
    kl_topic_meta_t bad_name = test_meta("..", 1);
    mock_log_store_expect_load_all(NULL, 0, KL_OK);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()), KL_OK);

    assert_int_equal(broker_add_topic(&b, &none, NULL), KL_ERR_INVALID_PARTITIONS);
    assert_int_equal(broker_add_topic(&b, &bad_name, NULL), KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_null(b.topics);
    broker_close(&b);
}

/* ---- out of memory ------------------------------------------------------------------
 * A broker that cannot allocate must answer UNKNOWN_SERVER_ERROR and be exactly as before
 * the request (broker.c makes uthash's out-of-memory non-fatal for that). To make an
 * allocation fail on demand, this test binary defines malloc, calloc and realloc itself
 * (test/mocks/alloc_fail.h): alloc_fail_arm(n) makes the allocation after the next n
 * fail, once. */

/* A fake log store that counts what is open: after a failure nothing may stay open. */
typedef struct counting_store {
    int opened;
    int closed;
    char logs[8];
} counting_store_t;

static kl_err_t counting_load_all(void *self, kl_topic_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return KL_OK;
}

static kl_err_t counting_open(void *self, const char *topic, int32_t partition,
                              void **log_out, kl_partition_offsets_t *offsets_out)
{
    counting_store_t *s = self;
    (void)topic;
    memset(offsets_out, 0, sizeof *offsets_out);
    *log_out = &s->logs[partition];
    s->opened++;
    return KL_OK;
}

static void counting_close(void *self, void *log)
{
    counting_store_t *s = self;
    assert_non_null(log);
    s->closed++;
}

static void test_add_topic_out_of_memory_is_unknown_server_error_and_leaves_nothing(void **state)
{
    (void)state;
    if (!alloc_fail_supported())         /* valgrind's allocator replaces this one */
        skip();
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t meta = test_meta("orders", 2);
    int failures = 0;
    /* fail the first allocation, then the second, ... until one run needs no more */
    for (long n = 0;; n++) {
        counting_store_t s = { 0 };
        kl_log_store_t store = { .self = &s, .topic_load_all = counting_load_all,
                                 .partition_open = counting_open,
                                 .partition_close = counting_close };
        kl_broker_t b;
        assert_int_equal(broker_init(&b, &cfg, store, mock_clock()), KL_OK);
        kl_topic_t sentinel;
        kl_topic_t *t = &sentinel;
        alloc_fail_arm(n);
        kl_err_t err = broker_add_topic(&b, &meta, &t);
        bool failed = alloc_fail_happened();
        alloc_fail_disarm();
        if (!failed) {
            assert_int_equal(err, KL_OK);
            assert_ptr_equal(t, broker_find_topic(&b, "orders"));
            assert_int_equal(s.opened, 2);
            assert_int_equal(s.closed, 0);
            broker_close(&b);
            assert_int_equal(s.closed, 2);
            break;
        }
        failures++;
        assert_int_equal(err, KL_ERR_UNKNOWN_SERVER_ERROR);
        assert_null(t);
        assert_null(broker_find_topic(&b, "orders"));
        assert_int_equal(s.closed, s.opened);            /* every opened log closed again */
        broker_close(&b);
    }
    /* the topic, its partitions and the registry's table and buckets */
    assert_true(failures >= 4);
}

/* The store already closed a deleted topic's logs: removing it closes nothing (the mock
 * fails on an unexpected partition_close), and broker_close closes only the others. */
static void test_remove_topic_closes_nothing(void **state)
{
    (void)state;
    kl_broker_t b;
    kl_broker_config_t cfg = test_config();
    kl_topic_meta_t metas[2] = { test_meta("orders", 2), test_meta("audit", 1) };
    char logs[3];
    mock_log_store_expect_load_all(metas, 2, KL_OK);
    mock_log_store_expect_open("orders", 0, &logs[0], 0, 0, KL_OK);
    mock_log_store_expect_open("orders", 1, &logs[1], 0, 0, KL_OK);
    mock_log_store_expect_open("audit", 0, &logs[2], 0, 0, KL_OK);
    assert_int_equal(broker_init(&b, &cfg, mock_log_store(), mock_clock()), KL_OK);
    broker_remove_topic(&b, broker_find_topic(&b, "orders"));
    assert_null(broker_find_topic(&b, "orders"));
    assert_null(broker_find_partition(&b, "orders", 1));
    assert_non_null(broker_find_partition(&b, "audit", 0));
    mock_log_store_expect_close(&logs[2]);
    broker_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_with_no_topics_is_empty),
        cmocka_unit_test(test_init_opens_every_partition_of_every_topic),
        cmocka_unit_test(test_init_load_failure_is_returned),
        cmocka_unit_test(test_init_open_failure_closes_what_was_opened),
        cmocka_unit_test(test_find_partition_checks_the_index),
        cmocka_unit_test(test_add_topic_registers_and_reports_it),
        cmocka_unit_test(test_add_topic_twice_is_already_exists),
        cmocka_unit_test(test_add_topic_rejects_bad_metadata_without_store_calls),
        cmocka_unit_test(test_add_topic_out_of_memory_is_unknown_server_error_and_leaves_nothing),
        cmocka_unit_test(test_remove_topic_closes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
