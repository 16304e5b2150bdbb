/*
 * test/test_describe_configs.c — unit tests of application/describe_configs.c: a topic's
 * effective configuration (override → TOPIC_CONFIG, else the broker default), the
 * synonyms, the key filter, the broker resource, and Kafka's per-resource errors, over
 * a broker built here on the cmocka log-store mock.
 * Also the acceptance test of docs/labs/02-describe-configs-usecase.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "application/describe_configs.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"

#define NODE_ID 7

/* One topic "orders" (1 partition) with retention.ms, max.message.bytes, segment.bytes
 * and preallocate overridden, one topic "plain" without overrides. */
typedef struct env {
    kl_broker_t broker;
    kl_topic_meta_t metas[2];
    kl_describe_configs_result_t res;
} env_t;

static void *env_log(int i) { return (void *)(uintptr_t)(0x100 + i); }

static env_t *env_new_with(int32_t message_max_bytes, bool preallocate)
{
    env_t *e = calloc(1, sizeof *e);
    assert_non_null(e);
    kl_broker_config_t c;
    memset(&c, 0, sizeof c);
    c.node_id = NODE_ID;
    strcpy(c.advertised_host, "broker.example");
    c.advertised_port = 9093;
    c.num_partitions = 3;
    c.default_replication_factor = 1;
    c.auto_create_topics = true;
    c.message_max_bytes = message_max_bytes;
    c.preallocate = preallocate;
    strcpy(e->metas[0].name, "orders");
    e->metas[0].partition_count = 1;
    e->metas[0].replication_factor = 1;
    assert_int_equal(topic_meta_set_config(&e->metas[0], "retention.ms", "3600000"), KL_OK);
    assert_int_equal(topic_meta_set_config(&e->metas[0], "max.message.bytes", "5000"), KL_OK);
    assert_int_equal(topic_meta_set_config(&e->metas[0], "segment.bytes", "1048576"), KL_OK);
    assert_int_equal(topic_meta_set_config(&e->metas[0], "preallocate", "false"), KL_OK);
    strcpy(e->metas[1].name, "plain");
    e->metas[1].partition_count = 1;
    e->metas[1].replication_factor = 1;
    mock_log_store_expect_load_all(e->metas, 2, KL_OK);
    mock_log_store_expect_open("orders", 0, env_log(0), 0, 0, KL_OK);
    mock_log_store_expect_open("plain", 0, env_log(1), 0, 0, KL_OK);
    assert_int_equal(broker_init(&e->broker, &c, mock_log_store(), mock_clock()), KL_OK);
    return e;
}

/* Klamm's defaults: message.max.bytes as Kafka's, log.preallocate true (Kafka: false). */
static env_t *env_new(void) { return env_new_with(1048588, true); }

static void env_free(env_t *e)
{
    mock_log_store_expect_close(env_log(0));
    mock_log_store_expect_close(env_log(1));
    broker_close(&e->broker);
    free(e);
}

static kl_err_t describe(env_t *e, int8_t type, const char *name,
                         const kl_config_key_filter_t *filter)
{
    return describe_configs(&e->broker, type, name, strlen(name), filter, &e->res);
}

static const kl_config_description_t *find(const kl_describe_configs_result_t *r,
                                           const char *name)
{
    for (int32_t i = 0; i < r->count; i++)
        if (strcmp(r->configs[i].name, name) == 0)
            return &r->configs[i];
    return NULL;
}

/* A filter over a NULL-terminated list of names. */
static bool in_list(void *arg, const char *name)
{
    for (const char *const *p = arg; *p != NULL; p++)
        if (strcmp(*p, name) == 0)
            return true;
    return false;
}

static void test_topic_override_is_topic_config(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "orders", NULL), KL_OK);
    const kl_config_description_t *d = find(&e->res, "retention.ms");
    assert_non_null(d);
    assert_string_equal(d->value, "3600000");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_TOPIC);
    assert_false(d->is_default);
    assert_false(d->read_only);
    assert_false(d->sensitive);
    assert_int_equal(d->type, KL_CONFIG_TYPE_LONG);
    assert_non_null(d->documentation);
    /* synonyms: the override, then the broker default it hides */
    assert_int_equal(d->synonym_count, 2);
    assert_string_equal(d->synonyms[0].name, "retention.ms");
    assert_string_equal(d->synonyms[0].value, "3600000");
    assert_int_equal(d->synonyms[0].source, KL_CONFIG_SOURCE_TOPIC);
    assert_string_equal(d->synonyms[1].name, "log.retention.hours");
    assert_string_equal(d->synonyms[1].value, "168");
    assert_int_equal(d->synonyms[1].source, KL_CONFIG_SOURCE_DEFAULT);
    env_free(e);
}

static void test_topic_without_override_reports_default(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "plain", NULL), KL_OK);
    const kl_config_description_t *d = find(&e->res, "retention.ms");
    assert_non_null(d);
    assert_string_equal(d->value, "604800000");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_DEFAULT);
    assert_true(d->is_default);
    assert_false(d->read_only);
    assert_int_equal(d->synonym_count, 1);
    assert_int_equal(d->synonyms[0].source, KL_CONFIG_SOURCE_DEFAULT);
    d = find(&e->res, "cleanup.policy");
    assert_non_null(d);
    assert_string_equal(d->value, "delete");
    assert_int_equal(d->type, KL_CONFIG_TYPE_LIST);
    d = find(&e->res, "retention.bytes");
    assert_non_null(d);
    assert_string_equal(d->value, "-1");
    d = find(&e->res, "max.message.bytes");
    assert_non_null(d);
    assert_string_equal(d->value, "1048588");
    assert_true(d->is_default);
    assert_string_equal(d->synonyms[0].name, "message.max.bytes");
    env_free(e);
}

static void test_topic_lists_every_config_it_can_state(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "plain", NULL), KL_OK);
    /* 24 topic configs, less the 6 whose default Klamm's use cases cannot see */
    assert_int_equal(e->res.count, 18);
    assert_null(find(&e->res, "segment.bytes"));
    assert_non_null(find(&e->res, "preallocate"));  /* log.preallocate is in the config */
    assert_null(find(&e->res, "segment.ms"));      /* log.roll.ms is a storage setting */
    assert_null(find(&e->res, "flush.ms"));
    assert_non_null(find(&e->res, "unclean.leader.election.enable"));
    assert_string_equal(e->res.error_message, "");
    /* an override of such a config is reported, with only its own synonym */
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "orders", NULL), KL_OK);
    assert_int_equal(e->res.count, 19);
    const kl_config_description_t *d = find(&e->res, "segment.bytes");
    assert_non_null(d);
    assert_string_equal(d->value, "1048576");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_TOPIC);
    assert_int_equal(d->synonym_count, 1);
    env_free(e);
}

static void test_topic_default_from_broker_message_max_bytes(void **state)
{
    (void)state;
    env_t *e = env_new_with(2000000, true);
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "plain", NULL), KL_OK);
    const kl_config_description_t *d = find(&e->res, "max.message.bytes");
    assert_non_null(d);
    assert_string_equal(d->value, "2000000");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_STATIC_BROKER);
    assert_false(d->is_default);
    /* the override still wins over the broker's setting */
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "orders", NULL), KL_OK);
    d = find(&e->res, "max.message.bytes");
    assert_string_equal(d->value, "5000");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_TOPIC);
    assert_int_equal(d->synonym_count, 2);
    assert_string_equal(d->synonyms[1].value, "2000000");
    assert_int_equal(d->synonyms[1].source, KL_CONFIG_SOURCE_STATIC_BROKER);
    env_free(e);
}

/* preallocate without an override is the broker's log.preallocate. Klamm's default,
 * true, is not Kafka's (false; docs/performance.md round 3), so it is reported as
 * STATIC_BROKER_CONFIG, as message.max.bytes is when it differs from Kafka's; false is
 * Kafka's default: DEFAULT_CONFIG. */
static void test_topic_preallocate_from_the_broker(void **state)
{
    (void)state;
    for (int on = 0; on < 2; on++) {
        env_t *e = env_new_with(1048588, on == 1);
        assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "plain", NULL), KL_OK);
        const kl_config_description_t *d = find(&e->res, "preallocate");
        assert_non_null(d);
        const char *value = on ? "true" : "false";
        int8_t source = on ? KL_CONFIG_SOURCE_STATIC_BROKER : KL_CONFIG_SOURCE_DEFAULT;
        assert_string_equal(d->value, value);
        assert_int_equal(d->source, source);
        assert_int_equal(d->is_default, !on);
        assert_false(d->read_only);
        assert_int_equal(d->type, KL_CONFIG_TYPE_BOOLEAN);
        assert_int_equal(d->synonym_count, 1);
        assert_string_equal(d->synonyms[0].name, "log.preallocate");
        assert_string_equal(d->synonyms[0].value, value);
        assert_int_equal(d->synonyms[0].source, source);
        env_free(e);
    }
}

/* A topic's preallocate=false on a broker with log.preallocate=true: the override is
 * the value in force (TOPIC_CONFIG), the broker's setting its second synonym. */
static void test_topic_preallocate_override(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "orders", NULL), KL_OK);
    const kl_config_description_t *d = find(&e->res, "preallocate");
    assert_non_null(d);
    assert_string_equal(d->value, "false");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_TOPIC);
    assert_false(d->is_default);
    assert_int_equal(d->synonym_count, 2);
    assert_string_equal(d->synonyms[0].name, "preallocate");
    assert_string_equal(d->synonyms[0].value, "false");
    assert_int_equal(d->synonyms[0].source, KL_CONFIG_SOURCE_TOPIC);
    assert_string_equal(d->synonyms[1].name, "log.preallocate");
    assert_string_equal(d->synonyms[1].value, "true");
    assert_int_equal(d->synonyms[1].source, KL_CONFIG_SOURCE_STATIC_BROKER);
    env_free(e);
}

static void test_topic_filtered_by_key(void **state)
{
    (void)state;
    env_t *e = env_new();
    const char *keys[] = { "retention.ms", "no.such.config", "cleanup.policy", NULL };
    kl_config_key_filter_t f = { in_list, keys };
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "orders", &f), KL_OK);
    assert_int_equal(e->res.count, 2);
    assert_string_equal(e->res.configs[0].name, "cleanup.policy");
    assert_string_equal(e->res.configs[1].name, "retention.ms");
    assert_string_equal(e->res.configs[1].value, "3600000");
    env_free(e);
}

static void test_unknown_topic(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "missing", NULL),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(e->res.count, 0);
    assert_string_equal(e->res.error_message, "");     /* Kafka sends no message */
    env_free(e);
}

static void test_invalid_topic_name(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "bad/name", NULL),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, "", NULL),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(e->res.count, 0);
    assert_true(strlen(e->res.error_message) > 0);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(describe(e, KL_RESOURCE_TOPIC, longname, NULL),
                     KL_ERR_INVALID_TOPIC_EXCEPTION);
    env_free(e);
}

static void test_broker_configs(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "7", NULL), KL_OK);
    assert_int_equal(e->res.count, 6);
    const kl_config_description_t *d = find(&e->res, "node.id");
    assert_non_null(d);
    assert_string_equal(d->value, "7");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_STATIC_BROKER);
    assert_true(d->read_only);
    d = find(&e->res, "num.partitions");
    assert_string_equal(d->value, "3");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_STATIC_BROKER);
    assert_int_equal(d->synonym_count, 2);
    assert_string_equal(d->synonyms[1].value, "1");
    assert_int_equal(d->synonyms[1].source, KL_CONFIG_SOURCE_DEFAULT);
    d = find(&e->res, "message.max.bytes");
    assert_string_equal(d->value, "1048588");
    assert_int_equal(d->source, KL_CONFIG_SOURCE_DEFAULT);
    assert_true(d->is_default);
    assert_false(d->read_only);
    d = find(&e->res, "advertised.listeners");
    assert_string_equal(d->value, "PLAINTEXT://broker.example:9093");
    d = find(&e->res, "auto.create.topics.enable");
    assert_string_equal(d->value, "true");
    assert_int_equal(d->type, KL_CONFIG_TYPE_BOOLEAN);
    assert_non_null(find(&e->res, "default.replication.factor"));
    assert_null(find(&e->res, "log.segment.bytes"));   /* not in kl_broker_config_t */
    env_free(e);
}

static void test_broker_filtered_and_empty_name(void **state)
{
    (void)state;
    env_t *e = env_new();
    const char *keys[] = { "num.partitions", NULL };
    kl_config_key_filter_t f = { in_list, keys };
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "7", &f), KL_OK);
    assert_int_equal(e->res.count, 1);
    assert_string_equal(e->res.configs[0].name, "num.partitions");
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "", NULL), KL_OK);
    assert_int_equal(e->res.count, 0);                 /* no dynamic defaults */
    env_free(e);
}

static void test_broker_id_not_ours(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "8", NULL), KL_ERR_INVALID_REQUEST);
    assert_int_equal(e->res.count, 0);
    assert_string_equal(e->res.error_message,
                        "Unexpected broker id, expected 7 or empty string, but received 8");
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "seven", NULL), KL_ERR_INVALID_REQUEST);
    assert_string_equal(e->res.error_message, "Broker id must be an integer, but it is: seven");
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "99999999999", NULL),
                     KL_ERR_INVALID_REQUEST);
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "-", NULL), KL_ERR_INVALID_REQUEST);
    assert_int_equal(describe(e, KL_RESOURCE_BROKER, "+7", NULL), KL_OK);
    env_free(e);
}

static void test_unsupported_resource_type(void **state)
{
    (void)state;
    env_t *e = env_new();
    assert_int_equal(describe(e, 3, "group", NULL), KL_ERR_INVALID_REQUEST);   /* GROUP */
    assert_string_equal(e->res.error_message, "Unsupported resource type: 3");
    assert_int_equal(describe(e, 8, "7", NULL), KL_ERR_INVALID_REQUEST);       /* BROKER_LOGGER */
    assert_int_equal(e->res.count, 0);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_override_is_topic_config),
        cmocka_unit_test(test_topic_without_override_reports_default),
        cmocka_unit_test(test_topic_lists_every_config_it_can_state),
        cmocka_unit_test(test_topic_default_from_broker_message_max_bytes),
        cmocka_unit_test(test_topic_preallocate_from_the_broker),
        cmocka_unit_test(test_topic_preallocate_override),
        cmocka_unit_test(test_topic_filtered_by_key),
        cmocka_unit_test(test_unknown_topic),
        cmocka_unit_test(test_invalid_topic_name),
        cmocka_unit_test(test_broker_configs),
        cmocka_unit_test(test_broker_filtered_and_empty_name),
        cmocka_unit_test(test_broker_id_not_ours),
        cmocka_unit_test(test_unsupported_resource_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
