/*
 * test/test_create_topics.c — unit tests of application/create_topics.c: Kafka's checks
 * in order, broker defaults for -1, the topic config whitelist and value checks,
 * validate_only, durability before registration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "application/usecases.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

/* topic "orders" exists; num.partitions 2, default.replication.factor 1 */
typedef struct fixture {
    kl_broker_t b;
    char logs[8];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = test_calloc(1, sizeof(*f));
    kl_broker_config_t cfg;
    kl_topic_meta_t meta;
    memset(&cfg, 0, sizeof(cfg));
    cfg.num_partitions = 2;
    cfg.default_replication_factor = 1;
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

static kl_config_entry_t entry(const char *key, const char *value)
{
    kl_config_entry_t e;
    memset(&e, 0, sizeof(e));
    strcpy(e.key, key);
    strcpy(e.value, value);
    return e;
}

/* create_topic with one config entry; no store call is expected */
static kl_err_t create_with_config(fixture_t *f, const char *key, const char *value)
{
    kl_config_entry_t e = entry(key, value);
    return create_topic(&f->b, "events", 1, 1, &e, 1, true, NULL);
}

static void test_creates_persists_then_registers(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    mock_log_store_expect_topic_create("events", 3, KL_OK);
    mock_log_store_expect_open("events", 0, &f->logs[1], 0, 0, KL_OK);
    mock_log_store_expect_open("events", 1, &f->logs[2], 0, 0, KL_OK);
    mock_log_store_expect_open("events", 2, &f->logs[3], 0, 0, KL_OK);
    assert_int_equal(create_topic(&f->b, "events", 3, 1, NULL, 0, false, &t), KL_OK);
    assert_non_null(t);
    assert_ptr_equal(broker_find_topic(&f->b, "events"), t);
    assert_int_equal(t->meta.partition_count, 3);
    assert_int_equal(t->meta.replication_factor, 1);
}

static void test_minus_one_takes_the_broker_defaults(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    mock_log_store_expect_topic_create("events", 2, KL_OK);
    mock_log_store_expect_open("events", 0, &f->logs[1], 0, 0, KL_OK);
    mock_log_store_expect_open("events", 1, &f->logs[2], 0, 0, KL_OK);
    assert_int_equal(create_topic(&f->b, "events", -1, -1, NULL, 0, false, &t), KL_OK);
    assert_int_equal(t->meta.partition_count, 2);
    assert_int_equal(t->meta.replication_factor, 1);
}

static void test_existing_topic_is_already_exists(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(create_topic(&f->b, "orders", 1, 1, NULL, 0, false, NULL),
                     KL_ERR_TOPIC_ALREADY_EXISTS);
    assert_int_equal(create_topic(&f->b, "orders", 1, 1, NULL, 0, true, NULL),
                     KL_ERR_TOPIC_ALREADY_EXISTS);
}

static void test_name_is_checked_first(void **state)
{
    fixture_t *f = *state;
    char long_name[KL_TOPIC_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(create_topic(&f->b, "no/slash", 0, 3, NULL, 0, false, NULL),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(create_topic(&f->b, ".", 1, 1, NULL, 0, false, NULL),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(create_topic(&f->b, long_name, 1, 1, NULL, 0, false, NULL),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
}

static void test_bad_partition_counts(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(create_topic(&f->b, "events", 0, 1, NULL, 0, false, NULL),
                     KL_ERR_INVALID_PARTITIONS);
    assert_int_equal(create_topic(&f->b, "events", -5, 1, NULL, 0, false, NULL),
                     KL_ERR_INVALID_PARTITIONS);
    assert_int_equal(create_topic(&f->b, "events", KL_PARTITIONS_MAX + 1, 1, NULL, 0, false,
                                  NULL), KL_ERR_INVALID_PARTITIONS);
    f->b.config.num_partitions = 0;                 /* a default that cannot be used */
    assert_int_equal(create_topic(&f->b, "events", -1, 1, NULL, 0, false, NULL),
                     KL_ERR_INVALID_PARTITIONS);
}

static void test_bad_replication_factors(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(create_topic(&f->b, "events", 1, 3, NULL, 0, false, NULL),
                     KL_ERR_INVALID_REPLICATION_FACTOR);
    assert_int_equal(create_topic(&f->b, "events", 1, 0, NULL, 0, false, NULL),
                     KL_ERR_INVALID_REPLICATION_FACTOR);
    f->b.config.default_replication_factor = 3;     /* more replicas than brokers */
    assert_int_equal(create_topic(&f->b, "events", 1, -1, NULL, 0, false, NULL),
                     KL_ERR_INVALID_REPLICATION_FACTOR);
}

static void test_unknown_config_is_invalid_config(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(create_with_config(f, "retention.hours", "1"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "log.retention.ms", "1"), KL_ERR_INVALID_CONFIG);
}

static void test_config_values_are_checked(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(create_with_config(f, "retention.ms", "abc"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "retention.ms", "-2"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "retention.ms", ""), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "retention.ms", "99999999999999999999"),
                     KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "segment.bytes", "10"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "max.message.bytes", "2147483648"),
                     KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "min.insync.replicas", "0"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "cleanup.policy", "forever"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "cleanup.policy", "compact,"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "compression.type", "brotli"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "message.timestamp.type", "createtime"),
                     KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "preallocate", "yes"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(create_with_config(f, "min.cleanable.dirty.ratio", "1.5"),
                     KL_ERR_INVALID_CONFIG);
}

static void test_good_config_values_are_accepted(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(create_with_config(f, "retention.ms", "-1"), KL_OK);
    assert_int_equal(create_with_config(f, "retention.bytes", "-1"), KL_OK);
    assert_int_equal(create_with_config(f, "segment.bytes", "1048576"), KL_OK);
    assert_int_equal(create_with_config(f, "segment.ms", "604800000"), KL_OK);
    assert_int_equal(create_with_config(f, "max.message.bytes", "2147483647"), KL_OK);
    assert_int_equal(create_with_config(f, "cleanup.policy", "compact,delete"), KL_OK);
    assert_int_equal(create_with_config(f, "compression.type", "producer"), KL_OK);
    assert_int_equal(create_with_config(f, "message.timestamp.type", "LogAppendTime"), KL_OK);
    assert_int_equal(create_with_config(f, "flush.messages", "1"), KL_OK);
    assert_int_equal(create_with_config(f, "flush.ms", "0"), KL_OK);
    assert_int_equal(create_with_config(f, "preallocate", "TRUE"), KL_OK);
    assert_int_equal(create_with_config(f, "min.cleanable.dirty.ratio", "0.5"), KL_OK);
    assert_null(broker_find_topic(&f->b, "events"));   /* all validate_only */
}

static void test_configs_are_kept_in_the_topic(void **state)
{
    fixture_t *f = *state;
    kl_config_entry_t cfgs[3] = { entry("retention.ms", "1000"),
                                  entry("cleanup.policy", "compact"),
                                  entry("retention.ms", "2000") };  /* last one wins */
    kl_topic_t *t = NULL;
    mock_log_store_expect_topic_create("events", 1, KL_OK);
    mock_log_store_expect_open("events", 0, &f->logs[1], 0, 0, KL_OK);
    assert_int_equal(create_topic(&f->b, "events", 1, 1, cfgs, 3, false, &t), KL_OK);
    assert_string_equal(topic_meta_config(&t->meta, "retention.ms"), "2000");
    assert_string_equal(topic_meta_config(&t->meta, "cleanup.policy"), "compact");
    assert_int_equal(t->meta.config_count, 2);
}

static void test_validate_only_touches_nothing(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    assert_int_equal(create_topic(&f->b, "events", 4, 1, NULL, 0, true, &t), KL_OK);
    assert_null(t);
    assert_null(broker_find_topic(&f->b, "events"));
}

static void test_store_failure_registers_nothing(void **state)
{
    fixture_t *f = *state;
    kl_topic_t *t = NULL;
    mock_log_store_expect_topic_create("events", 1, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(create_topic(&f->b, "events", 1, 1, NULL, 0, false, &t),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(t);
    assert_null(broker_find_topic(&f->b, "events"));
}

static void test_open_failure_registers_nothing(void **state)
{
    fixture_t *f = *state;
    mock_log_store_expect_topic_create("events", 2, KL_OK);
    mock_log_store_expect_open("events", 0, &f->logs[1], 0, 0, KL_OK);
    mock_log_store_expect_open("events", 1, NULL, 0, 0, KL_ERR_KAFKA_STORAGE_ERROR);
    mock_log_store_expect_close(&f->logs[1]);
    assert_int_equal(create_topic(&f->b, "events", 2, 1, NULL, 0, false, NULL),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(broker_find_topic(&f->b, "events"));
}

/* preallocate is Kafka's BOOLEAN: "true" or "false" in any case, else INVALID_CONFIG
 * and nothing reaches the store; a good value is kept as given (the storage reads it
 * with the same rule, domain/topic.c:topic_config_bool). */
static void test_preallocate_is_a_boolean(void **state)
{
    fixture_t *f = *state;
    static const char *const bad[] = { "", "1", "0", "yes", "truee", "true ", "on" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(create_with_config(f, "preallocate", bad[i]), KL_ERR_INVALID_CONFIG);
    kl_config_entry_t cfgs[2] = { entry("segment.bytes", "1048576"),
                                  entry("preallocate", "maybe") };
    assert_int_equal(create_topic(&f->b, "events", 1, 1, cfgs, 2, false, NULL),
                     KL_ERR_INVALID_CONFIG);                /* no store call expected */
    assert_null(broker_find_topic(&f->b, "events"));
    kl_topic_t *t = NULL;
    cfgs[1] = entry("preallocate", "False");
    mock_log_store_expect_topic_create("events", 1, KL_OK);
    mock_log_store_expect_open("events", 0, &f->logs[1], 0, 0, KL_OK);
    assert_int_equal(create_topic(&f->b, "events", 1, 1, cfgs, 2, false, &t), KL_OK);
    assert_string_equal(topic_meta_config(&t->meta, "preallocate"), "False");
}

/* message.format.version is kept as given (Klamm does not interpret it). */
static void test_uninterpreted_config_is_kept_as_given(void **state)
{
    fixture_t *f = *state;
    kl_config_entry_t e = entry("message.format.version", "2.8-IV1");
    kl_topic_t *t = NULL;
    mock_log_store_expect_topic_create("events", 1, KL_OK);
    mock_log_store_expect_open("events", 0, &f->logs[1], 0, 0, KL_OK);
    assert_int_equal(create_topic(&f->b, "events", 1, 1, &e, 1, false, &t), KL_OK);
    assert_string_equal(topic_meta_config(&t->meta, "message.format.version"), "2.8-IV1");
}

/* A request that claims config entries but carries none is malformed: INVALID_CONFIG,
 * and nothing reaches the store. */
static void test_config_count_without_entries_is_invalid_config(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(create_topic(&f->b, "events", 1, 1, NULL, 2, false, NULL),
                     KL_ERR_INVALID_CONFIG);
    assert_null(broker_find_topic(&f->b, "events"));
}

/* Klamm keeps at most KL_TOPIC_CONFIGS_MAX overrides per topic; one more valid
 * override is refused as INVALID_CONFIG rather than silently dropped. */
static void test_more_overrides_than_kept_is_invalid_config(void **state)
{
    fixture_t *f = *state;
    static const char *const keys[] = {
        "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms",
        "index.interval.bytes", "max.compaction.lag.ms", "max.message.bytes",
        "message.timestamp.difference.max.ms", "min.compaction.lag.ms",
        "min.insync.replicas", "retention.bytes", "retention.ms", "segment.bytes",
        "segment.index.bytes", "segment.jitter.ms", "segment.ms", "flush.messages",
    };
    kl_config_entry_t cfgs[KL_TOPIC_CONFIGS_MAX + 1];
    for (int i = 0; i <= KL_TOPIC_CONFIGS_MAX; i++)
        cfgs[i] = entry(keys[i], "1000");
    /* 16 distinct keys plus a repeat: fits (the repeat replaces) */
    assert_int_equal(create_topic(&f->b, "events", 1, 1, cfgs, KL_TOPIC_CONFIGS_MAX + 1,
                                  true, NULL), KL_OK);
    cfgs[KL_TOPIC_CONFIGS_MAX] = entry("preallocate", "false"); /* a 17th distinct key */
    assert_int_equal(create_topic(&f->b, "events", 1, 1, cfgs, KL_TOPIC_CONFIGS_MAX + 1,
                                  false, NULL), KL_ERR_INVALID_CONFIG);
    assert_null(broker_find_topic(&f->b, "events"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_creates_persists_then_registers),
        T(test_minus_one_takes_the_broker_defaults),
        T(test_existing_topic_is_already_exists),
        T(test_name_is_checked_first),
        T(test_bad_partition_counts),
        T(test_bad_replication_factors),
        T(test_unknown_config_is_invalid_config),
        T(test_config_values_are_checked),
        T(test_good_config_values_are_accepted),
        T(test_configs_are_kept_in_the_topic),
        T(test_validate_only_touches_nothing),
        T(test_store_failure_registers_nothing),
        T(test_open_failure_registers_nothing),
        T(test_preallocate_is_a_boolean),
        T(test_uninterpreted_config_is_kept_as_given),
        T(test_config_count_without_entries_is_invalid_config),
        T(test_more_overrides_than_kept_is_invalid_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
