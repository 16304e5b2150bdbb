/*
 * test/test_topic.c — unit tests of domain/topic.c: Kafka's topic naming rule, the
 * CreateTopics partition/replication rules, per-topic config overrides, and the boolean
 * rule for a topic config's value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domain/topic.h"

static kl_err_t validate(const char *name)
{
    return topic_validate_name(name, strlen(name));
}

static void test_valid_names(void **state)
{
    (void)state;
    assert_int_equal(validate("topic"), KL_OK);
    assert_int_equal(validate("a"), KL_OK);
    assert_int_equal(validate("My.Topic_2-x"), KL_OK);
    assert_int_equal(validate("..."), KL_OK);          /* only "." and ".." are reserved */
    assert_int_equal(validate(".hidden"), KL_OK);
    assert_int_equal(validate("__consumer_offsets"), KL_OK);
    assert_int_equal(validate("0123456789"), KL_OK);
}

static void test_empty_and_dots_rejected(void **state)
{
    (void)state;
    assert_int_equal(validate(""), KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(validate("."), KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(validate(".."), KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(topic_validate_name(NULL, 0), KL_ERR_INVALID_TOPIC_EXCEPTION);
}

static void test_illegal_characters_rejected(void **state)
{
    (void)state;
    const char *bad[] = { "a b", "a/b", "a\\b", "a:b", "a*", "tópic", "a\n", "a@b", "a,b",
                          "a+b", "a#b", "a=b", "\t" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(validate(bad[i]), KL_ERR_INVALID_TOPIC_EXCEPTION);
    /* every byte outside the legal set, one at a time */
    for (int ch = 1; ch < 256; ch++) {
        char name[2] = { (char)ch, 0 };
        int legal = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (ch == '.')
            continue;                                   /* "." alone is the reserved name */
        assert_int_equal(topic_validate_name(name, 1),
                         legal ? KL_OK : KL_ERR_INVALID_TOPIC_EXCEPTION);
    }
}

static void test_embedded_nul_rejected(void **state)
{
    (void)state;
    assert_int_equal(topic_validate_name("ab\0cd", 5), KL_ERR_INVALID_TOPIC_EXCEPTION);
}

static void test_length_limit_249(void **state)
{
    (void)state;
    char name[300];
    memset(name, 'x', sizeof name);
    assert_int_equal(topic_validate_name(name, 249), KL_OK);
    assert_int_equal(topic_validate_name(name, 250), KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(topic_validate_name(name, 300), KL_ERR_INVALID_TOPIC_EXCEPTION);
}

static void test_length_argument_is_respected(void **state)
{
    (void)state;
    /* Only the first `len` bytes count: names arrive from the wire without a NUL. */
    assert_int_equal(topic_validate_name("topic bad", 5), KL_OK);
    assert_int_equal(topic_validate_name("..x", 2), KL_ERR_INVALID_TOPIC_EXCEPTION);
}

static void test_partition_count_rule(void **state)
{
    (void)state;
    assert_int_equal(topic_validate_partition_count(1), KL_OK);
    assert_int_equal(topic_validate_partition_count(3), KL_OK);
    assert_int_equal(topic_validate_partition_count(KL_PARTITIONS_MAX), KL_OK);
    assert_int_equal(topic_validate_partition_count(-1), KL_OK);
    assert_int_equal(topic_validate_partition_count(0), KL_ERR_INVALID_PARTITIONS);
    assert_int_equal(topic_validate_partition_count(-2), KL_ERR_INVALID_PARTITIONS);
    assert_int_equal(topic_validate_partition_count(KL_PARTITIONS_MAX + 1), KL_ERR_INVALID_PARTITIONS);
    assert_int_equal(topic_validate_partition_count(INT32_MIN), KL_ERR_INVALID_PARTITIONS);
    assert_int_equal(topic_validate_partition_count(INT32_MAX), KL_ERR_INVALID_PARTITIONS);
}

static void test_replication_factor_rule(void **state)
{
    (void)state;
    assert_int_equal(topic_validate_replication_factor(1), KL_OK);
    assert_int_equal(topic_validate_replication_factor(-1), KL_OK);
    assert_int_equal(topic_validate_replication_factor(0), KL_ERR_INVALID_REPLICATION_FACTOR);
    assert_int_equal(topic_validate_replication_factor(2), KL_ERR_INVALID_REPLICATION_FACTOR);
    assert_int_equal(topic_validate_replication_factor(3), KL_ERR_INVALID_REPLICATION_FACTOR);
    assert_int_equal(topic_validate_replication_factor(-2), KL_ERR_INVALID_REPLICATION_FACTOR);
}

static void test_config_set_and_get(void **state)
{
    (void)state;
    kl_topic_meta_t m = { 0 };
    assert_null(topic_meta_config(&m, "retention.ms"));
    assert_int_equal(topic_meta_set_config(&m, "retention.ms", "60000"), KL_OK);
    assert_int_equal(topic_meta_set_config(&m, "cleanup.policy", "delete"), KL_OK);
    assert_int_equal(m.config_count, 2);
    assert_string_equal(topic_meta_config(&m, "retention.ms"), "60000");
    assert_string_equal(topic_meta_config(&m, "cleanup.policy"), "delete");
    assert_null(topic_meta_config(&m, "retention"));     /* exact key match only */
    assert_null(topic_meta_config(&m, "segment.bytes"));
}

static void test_config_replace_keeps_count(void **state)
{
    (void)state;
    kl_topic_meta_t m = { 0 };
    assert_int_equal(topic_meta_set_config(&m, "retention.ms", "60000"), KL_OK);
    assert_int_equal(topic_meta_set_config(&m, "retention.ms", "120000"), KL_OK);
    assert_int_equal(m.config_count, 1);
    assert_string_equal(topic_meta_config(&m, "retention.ms"), "120000");
    assert_int_equal(topic_meta_set_config(&m, "retention.ms", ""), KL_OK);
    assert_string_equal(topic_meta_config(&m, "retention.ms"), "");
}

static void test_config_full_is_invalid_config(void **state)
{
    (void)state;
    kl_topic_meta_t m = { 0 };
    char key[32];
    for (int i = 0; i < KL_TOPIC_CONFIGS_MAX; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(topic_meta_set_config(&m, key, "v"), KL_OK);
    }
    assert_int_equal(topic_meta_set_config(&m, "one.more", "v"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(m.config_count, KL_TOPIC_CONFIGS_MAX);
    /* replacing an existing key still works when full */
    assert_int_equal(topic_meta_set_config(&m, "k3", "w"), KL_OK);
    assert_string_equal(topic_meta_config(&m, "k3"), "w");
}

static void test_config_too_long_is_invalid_config(void **state)
{
    (void)state;
    kl_topic_meta_t m = { 0 };
    char key[KL_CONFIG_KEY_MAX + 1], value[KL_CONFIG_VALUE_MAX + 1];
    memset(key, 'k', sizeof key);
    memset(value, 'v', sizeof value);
    key[KL_CONFIG_KEY_MAX - 1] = '\0';                    /* longest that fits */
    value[KL_CONFIG_VALUE_MAX - 1] = '\0';
    assert_int_equal(topic_meta_set_config(&m, key, value), KL_OK);
    assert_string_equal(topic_meta_config(&m, key), value);
    key[KL_CONFIG_KEY_MAX - 1] = 'k';
    key[KL_CONFIG_KEY_MAX] = '\0';                        /* one too long */
    assert_int_equal(topic_meta_set_config(&m, key, "v"), KL_ERR_INVALID_CONFIG);
    value[KL_CONFIG_VALUE_MAX - 1] = 'v';
    value[KL_CONFIG_VALUE_MAX] = '\0';
    assert_int_equal(topic_meta_set_config(&m, "x", value), KL_ERR_INVALID_CONFIG);
    assert_int_equal(topic_meta_set_config(&m, "", "v"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(topic_meta_set_config(&m, NULL, "v"), KL_ERR_INVALID_CONFIG);
    assert_int_equal(topic_meta_set_config(&m, "x", NULL), KL_ERR_INVALID_CONFIG);
    assert_int_equal(m.config_count, 1);
}

/* Looking up a config of no topic, or no key, finds nothing (and does not crash). */
static void test_config_lookup_without_topic_or_key_is_null(void **state)
{
    (void)state;
    kl_topic_meta_t m = { 0 };
    assert_int_equal(topic_meta_set_config(&m, "retention.ms", "1"), KL_OK);
    assert_null(topic_meta_config(NULL, "retention.ms"));
    assert_null(topic_meta_config(&m, NULL));
    assert_int_equal(topic_meta_set_config(NULL, "retention.ms", "1"), KL_ERR_INVALID_CONFIG);
}

/* Kafka's BOOLEAN config type: "true" or "false" in any case; nothing else, not even a
 * number or an empty string. A refused value leaves *out alone. */
static void test_config_bool(void **state)
{
    (void)state;
    bool v = false;
    assert_int_equal(topic_config_bool("true", &v), KL_OK);
    assert_true(v);
    assert_int_equal(topic_config_bool("FALSE", &v), KL_OK);
    assert_false(v);
    assert_int_equal(topic_config_bool("True", &v), KL_OK);
    assert_true(v);
    assert_int_equal(topic_config_bool("fAlSe", &v), KL_OK);
    assert_false(v);
    static const char *const bad[] = { "", "1", "0", "yes", "no", "on", "t", "tru",
                                       "truee", "false ", " true", "true\n", "falsE?" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = true;
        assert_int_equal(topic_config_bool(bad[i], &v), KL_ERR_INVALID_CONFIG);
        assert_true(v);
    }
    assert_int_equal(topic_config_bool(NULL, &v), KL_ERR_INVALID_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_names),
        cmocka_unit_test(test_empty_and_dots_rejected),
        cmocka_unit_test(test_illegal_characters_rejected),
        cmocka_unit_test(test_embedded_nul_rejected),
        cmocka_unit_test(test_length_limit_249),
        cmocka_unit_test(test_length_argument_is_respected),
        cmocka_unit_test(test_partition_count_rule),
        cmocka_unit_test(test_replication_factor_rule),
        cmocka_unit_test(test_config_set_and_get),
        cmocka_unit_test(test_config_replace_keeps_count),
        cmocka_unit_test(test_config_full_is_invalid_config),
        cmocka_unit_test(test_config_too_long_is_invalid_config),
        cmocka_unit_test(test_config_lookup_without_topic_or_key_is_null),
        cmocka_unit_test(test_config_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
