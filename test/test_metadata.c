/*
 * test/test_metadata.c — unit tests of application/metadata.c: existing topics, the
 * naming rule, and Kafka's two-key auto-create rule (request flag AND broker config).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

/* topic "orders" exists (1 partition); num.partitions is 3, auto-create enabled */
typedef struct fixture {
    kl_broker_t b;
    char logs[4];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = test_calloc(1, sizeof(*f));
    kl_broker_config_t cfg;
    kl_topic_meta_t meta;
    memset(&cfg, 0, sizeof(cfg));
    cfg.num_partitions = 3;
    cfg.default_replication_factor = 1;
    cfg.auto_create_topics = true;
    memset(&meta, 0, sizeof(meta));
    strcpy(meta.name, "orders");
    meta.partition_count = 1;
    meta.replication_factor = 1;
    mock_log_store_expect_load_all(&meta, 1, KL_OK);
    mock_log_store_expect_open("orders", 0, &f->logs[0], 0, 0, KL_OK);
    assert_int_equal(broker_init(&f->b, &cfg, mock_log_store(), mock_clock()), KL_OK);
    *state = f;
    return 0;
}

/* Every partition still registered is closed, in registry (insertion) order. */
static int teardown(void **state)
{
    fixture_t *f = *state;
    for (kl_topic_t *t = f->b.topics; t != NULL; t = t->hh.next)
        for (int32_t i = 0; i < t->meta.partition_count; i++)
            mock_log_store_expect_close(t->partitions[i].log);
    broker_close(&f->b);
    test_free(f);
    return 0;
}

static void test_existing_topic_is_found(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    assert_int_equal(metadata_find_topic(&f->b, "orders", false, &t), KL_OK);
    assert_non_null(t);
    assert_string_equal(t->meta.name, "orders");
}

static void test_invalid_name_is_invalid_topic_exception(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    assert_int_equal(metadata_find_topic(&f->b, "bad name!", true, &t),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(metadata_find_topic(&f->b, "..", true, &t),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(metadata_find_topic(&f->b, "", true, &t),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_null(t);
}

static void test_missing_topic_is_auto_created_with_defaults(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    mock_log_store_expect_topic_create("events", 3, KL_OK);
    mock_log_store_expect_open("events", 0, &f->logs[1], 0, 0, KL_OK);
    mock_log_store_expect_open("events", 1, &f->logs[2], 0, 0, KL_OK);
    mock_log_store_expect_open("events", 2, &f->logs[3], 0, 0, KL_OK);
    assert_int_equal(metadata_find_topic(&f->b, "events", true, &t), KL_OK);
    assert_non_null(t);
    assert_int_equal(t->meta.partition_count, 3);
    assert_int_equal(t->meta.replication_factor, 1);
    assert_ptr_equal(broker_find_topic(&f->b, "events"), t);
    assert_ptr_equal(t->partitions[2].log, &f->logs[3]);
}

static void test_no_auto_create_when_the_request_says_no(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    assert_int_equal(metadata_find_topic(&f->b, "events", false, &t),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_null(t);
    assert_null(broker_find_topic(&f->b, "events"));
}

static void test_no_auto_create_when_the_broker_says_no(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    f->b.config.auto_create_topics = false;
    assert_int_equal(metadata_find_topic(&f->b, "events", true, &t),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_null(t);
}

static void test_auto_create_storage_error_registers_nothing(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    mock_log_store_expect_topic_create("events", 3, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(metadata_find_topic(&f->b, "events", true, &t),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(t);
    assert_null(broker_find_topic(&f->b, "events"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_existing_topic_is_found),
        T(test_invalid_name_is_invalid_topic_exception),
        T(test_missing_topic_is_auto_created_with_defaults),
        T(test_no_auto_create_when_the_request_says_no),
        T(test_no_auto_create_when_the_broker_says_no),
        T(test_auto_create_storage_error_registers_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
