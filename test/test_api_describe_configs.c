/*
 * test/test_api_describe_configs.c — unit tests of
 * infrastructure/protocol/api_describe_configs.c: the DescribeConfigs handler (v0-v3) fed
 * the admin clients' own requests (kafka-python and KafkaJS v2 fixture frames) and
 * hand-built v0/v1/v3 ones, over a real broker and use case with the cmocka log store
 * mock, checking the response body field by field.
 * Also the acceptance test of docs/labs/03-describe-configs-api.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "application/describe_configs.h"
#include "infrastructure/protocol/api.h"
#include "test/fixtures/client_frames.h"
#include "test/mocks/handler_fixture.h"

/* ---- harness: test/mocks/handler_fixture.h, with this broker and topic ---- */

#define TOPIC_CONFIGS 18         /* what a topic without overrides reports */

/* A broker creating 1 partition per new topic, without a cluster id; with `with_topic`,
 * topic "topic" (1 partition) found on disk at startup, overriding retention.ms when
 * `retention_ms` is non-NULL. */
static hf_env_t *env_new(bool with_topic, const char *retention_ms)
{
    kl_broker_config_t c = hf_broker_config();
    c.num_partitions = 1;
    c.cluster_id[0] = '\0';
    kl_topic_meta_t meta;
    memset(&meta, 0, sizeof meta);
    strcpy(meta.name, "topic");
    meta.partition_count = 1;
    meta.replication_factor = 1;
    if (retention_ms != NULL)
        assert_int_equal(topic_meta_set_config(&meta, "retention.ms", retention_ms), KL_OK);
    mock_log_store_expect_load_all(&meta, with_topic ? 1 : 0, KL_OK);   /* read in init */
    if (with_topic)
        mock_log_store_expect_open("topic", 0, hf_log(0), 0, 0, KL_OK);
    hf_env_t *e = hf_env_new_config(&c, mock_log_store());
    e->logs = with_topic ? 1 : 0;                                       /* hf_free closes it */
    return e;
}

/* Run the handler on a whole request frame (header v1 + body), as dispatch would. */
static kl_reply_t env_run(hf_env_t *e, const uint8_t *frame, size_t len)
{
    kl_reply_t reply = hf_run(e, describe_configs_handle, frame, len);
    assert_int_equal(e->req.header.api_key, KL_API_DESCRIBE_CONFIGS);
    return reply;
}

/* ---- building requests ---- */

static void req_begin(kl_writer_t *w, int16_t version, int32_t resources)
{
    hf_req_begin(w, KL_API_DESCRIBE_CONFIGS, version);
    wr_array_len(w, resources);
}

/* One resource; keys NULL = null array, else a NULL-terminated list. */
static void req_resource(kl_writer_t *w, int8_t type, const char *name, const char *const *keys)
{
    wr_i8(w, type);
    wr_string(w, name, (int32_t)strlen(name));
    if (keys == NULL) {
        wr_array_len(w, -1);
        return;
    }
    int32_t n = 0;
    while (keys[n] != NULL) n++;
    wr_array_len(w, n);
    for (int32_t i = 0; i < n; i++)
        wr_string(w, keys[i], (int32_t)strlen(keys[i]));
}

static void req_flags(kl_writer_t *w, int16_t v, bool synonyms, bool docs)
{
    if (v >= 1) wr_i8(w, synonyms ? 1 : 0);
    if (v >= 3) wr_i8(w, docs ? 1 : 0);
}

/* ---- reading the response ---- */

/* The result header of one resource; returns its config count. */
static int32_t want_result(kl_reader_t *r, kl_err_t err, const char *msg, int8_t type,
                           const char *name)
{
    hf_want_i16(r, (int16_t)err);
    hf_want_str(r, msg);
    hf_want_i8(r, type);
    hf_want_str(r, name);
    int32_t n = rd_i32(r);
    assert_true(rd_ok(r));
    return n;
}

/* One config entry of version v, without synonyms (none asked for), no documentation. */
static void want_plain_config(kl_reader_t *r, int16_t v, const char *name, const char *value,
                              int8_t source, int8_t type)
{
    hf_want_str(r, name);
    hf_want_str(r, value);
    hf_want_i8(r, 0);                                        /* read_only */
    if (v == 0) hf_want_i8(r, source == KL_CONFIG_SOURCE_DEFAULT);  /* is_default */
    if (v >= 1) hf_want_i8(r, source);                       /* config_source */
    hf_want_i8(r, 0);                                        /* is_sensitive */
    if (v >= 1) hf_want_i32(r, 0);                           /* synonyms */
    if (v >= 3) hf_want_i8(r, type);                         /* config_type */
    if (v >= 3) hf_want_str(r, NULL);                        /* documentation */
}

/* Skip one config entry of version v, returning its name (a view). */
static kl_str_t skip_config(kl_reader_t *r, int16_t v)
{
    kl_str_t name = rd_string(r);
    (void)rd_nullable_string(r);
    (void)rd_i8(r);
    if (v == 0) (void)rd_i8(r);
    if (v >= 1) (void)rd_i8(r);
    (void)rd_i8(r);
    if (v >= 1) {
        int32_t n = rd_i32(r);
        for (int32_t i = 0; i < n; i++) {
            (void)rd_string(r);
            (void)rd_nullable_string(r);
            (void)rd_i8(r);
        }
    }
    if (v >= 3) (void)rd_i8(r);
    if (v >= 3) (void)rd_nullable_string(r);
    return name;
}

/* ---- tests ---- */

static void test_kafka_python_v2_fixture(void **state)
{
    (void)state;
    hf_env_t *e = env_new(true, NULL);
    assert_int_equal(env_run(e, KPY_022_DESCRIBE_CONFIGS_V2_REQ,
                             sizeof KPY_022_DESCRIBE_CONFIGS_V2_REQ),
                     KL_REPLY_SEND);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);                                       /* throttle_time_ms */
    hf_want_i32(r, 1);                                       /* results */
    int32_t n = want_result(r, KL_OK, NULL, KL_RESOURCE_TOPIC, "topic");
    assert_int_equal(n, TOPIC_CONFIGS);
    want_plain_config(r, 2, "cleanup.policy", "delete", KL_CONFIG_SOURCE_DEFAULT, 0);
    want_plain_config(r, 2, "compression.type", "producer", KL_CONFIG_SOURCE_DEFAULT, 0);
    for (int32_t i = 2; i < n; i++) {
        kl_str_t name = skip_config(r, 2);
        assert_true(name.len > 0);
    }
    hf_want_end(r);
    hf_free(e);
}

static void test_kafkajs_v2_fixture_unknown_topic(void **state)
{
    (void)state;
    hf_env_t *e = env_new(false, NULL);
    assert_int_equal(env_run(e, KJS_021_DESCRIBE_CONFIGS_V2_REQ,
                             sizeof KJS_021_DESCRIBE_CONFIGS_V2_REQ),
                     KL_REPLY_SEND);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);
    hf_want_i32(r, 1);
    assert_int_equal(want_result(r, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, NULL,
                                 KL_RESOURCE_TOPIC, "topic"), 0);
    hf_want_end(r);
    hf_free(e);
}

static void test_kafkajs_v2_fixture_with_override(void **state)
{
    (void)state;
    hf_env_t *e = env_new(true, "120000");
    assert_int_equal(env_run(e, KJS_021_DESCRIBE_CONFIGS_V2_REQ,
                             sizeof KJS_021_DESCRIBE_CONFIGS_V2_REQ),
                     KL_REPLY_SEND);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);
    hf_want_i32(r, 1);
    int32_t n = want_result(r, KL_OK, NULL, KL_RESOURCE_TOPIC, "topic");
    assert_int_equal(n, TOPIC_CONFIGS);
    bool seen = false;
    for (int32_t i = 0; i < n; i++) {
        kl_reader_t at = *r;
        kl_str_t name = skip_config(r, 2);
        if (name.len == 12 && memcmp(name.ptr, "retention.ms", 12) == 0) {
            want_plain_config(&at, 2, "retention.ms", "120000", KL_CONFIG_SOURCE_TOPIC, 0);
            seen = true;
        }
    }
    assert_true(seen);
    hf_want_end(r);
    hf_free(e);
}

static void test_v0_broker_with_keys(void **state)
{
    (void)state;
    hf_env_t *e = env_new(false, NULL);
    kl_writer_t w;
    const char *keys[] = { "message.max.bytes", "node.id", NULL };
    req_begin(&w, 0, 1);
    req_resource(&w, KL_RESOURCE_BROKER, "1", keys);
    assert_int_equal(env_run(e, w.buf, w.len), KL_REPLY_SEND);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);
    hf_want_i32(r, 1);
    assert_int_equal(want_result(r, KL_OK, NULL, KL_RESOURCE_BROKER, "1"), 2);
    /* message.max.bytes: Kafka's default, dynamic (not read-only) */
    hf_want_str(r, "message.max.bytes");
    hf_want_str(r, "1048588");
    hf_want_i8(r, 0);                                        /* read_only */
    hf_want_i8(r, 1);                                        /* is_default */
    hf_want_i8(r, 0);                                        /* is_sensitive */
    /* node.id: static, read-only */
    hf_want_str(r, "node.id");
    hf_want_str(r, "1");
    hf_want_i8(r, 1);
    hf_want_i8(r, 0);
    hf_want_i8(r, 0);
    hf_want_end(r);
    wr_free(&w);
    hf_free(e);
}

static void test_v1_synonyms(void **state)
{
    (void)state;
    hf_env_t *e = env_new(true, "3600000");
    kl_writer_t w;
    const char *keys[] = { "retention.ms", NULL };
    req_begin(&w, 1, 1);
    req_resource(&w, KL_RESOURCE_TOPIC, "topic", keys);
    req_flags(&w, 1, true, false);
    assert_int_equal(env_run(e, w.buf, w.len), KL_REPLY_SEND);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);
    hf_want_i32(r, 1);
    assert_int_equal(want_result(r, KL_OK, NULL, KL_RESOURCE_TOPIC, "topic"), 1);
    hf_want_str(r, "retention.ms");
    hf_want_str(r, "3600000");
    hf_want_i8(r, 0);                                        /* read_only */
    hf_want_i8(r, KL_CONFIG_SOURCE_TOPIC);                   /* config_source */
    hf_want_i8(r, 0);                                        /* is_sensitive */
    hf_want_i32(r, 2);                                       /* synonyms */
    hf_want_str(r, "retention.ms");
    hf_want_str(r, "3600000");
    hf_want_i8(r, KL_CONFIG_SOURCE_TOPIC);
    hf_want_str(r, "log.retention.hours");
    hf_want_str(r, "168");
    hf_want_i8(r, KL_CONFIG_SOURCE_DEFAULT);
    hf_want_end(r);
    wr_free(&w);
    hf_free(e);
}

static void test_v3_type_and_documentation(void **state)
{
    (void)state;
    hf_env_t *e = env_new(true, NULL);
    kl_writer_t w;
    const char *keys[] = { "unclean.leader.election.enable", NULL };
    req_begin(&w, 3, 2);
    req_resource(&w, KL_RESOURCE_TOPIC, "topic", keys);
    req_resource(&w, KL_RESOURCE_TOPIC, "topic", keys);
    req_flags(&w, 3, false, true);
    assert_int_equal(env_run(e, w.buf, w.len), KL_REPLY_SEND);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);
    hf_want_i32(r, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(want_result(r, KL_OK, NULL, KL_RESOURCE_TOPIC, "topic"), 1);
        hf_want_str(r, "unclean.leader.election.enable");
        hf_want_str(r, "false");
        hf_want_i8(r, 0);
        hf_want_i8(r, KL_CONFIG_SOURCE_DEFAULT);
        hf_want_i8(r, 0);
        hf_want_i32(r, 0);                                   /* synonyms not asked for */
        hf_want_i8(r, KL_CONFIG_TYPE_BOOLEAN);               /* config_type */
        kl_str_t doc = rd_nullable_string(r);                /* documentation, asked for */
        assert_true(rd_ok(r));
        assert_true(doc.len > 0);
    }
    hf_want_end(r);
    /* without include_documentation: null */
    wr_free(&w);
    req_begin(&w, 3, 1);
    req_resource(&w, KL_RESOURCE_TOPIC, "topic", keys);
    req_flags(&w, 3, false, false);
    assert_int_equal(env_run(e, w.buf, w.len), KL_REPLY_SEND);
    hf_want_i32(r, 0);
    hf_want_i32(r, 1);
    assert_int_equal(want_result(r, KL_OK, NULL, KL_RESOURCE_TOPIC, "topic"), 1);
    want_plain_config(r, 3, "unclean.leader.election.enable", "false", KL_CONFIG_SOURCE_DEFAULT,
                      KL_CONFIG_TYPE_BOOLEAN);
    hf_want_end(r);
    wr_free(&w);
    hf_free(e);
}

static void test_errors_per_resource(void **state)
{
    (void)state;
    hf_env_t *e = env_new(true, NULL);
    kl_writer_t w;
    const char *none[] = { NULL };                           /* empty list: every key */
    req_begin(&w, 1, 3);
    req_resource(&w, KL_RESOURCE_BROKER, "2", NULL);
    req_resource(&w, 3, "group", NULL);
    req_resource(&w, KL_RESOURCE_BROKER, "1", none);
    req_flags(&w, 1, false, false);
    assert_int_equal(env_run(e, w.buf, w.len), KL_REPLY_SEND);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);
    hf_want_i32(r, 3);
    assert_int_equal(want_result(r, KL_ERR_INVALID_REQUEST,
                                 "Unexpected broker id, expected 1 or empty string, "
                                 "but received 2", KL_RESOURCE_BROKER, "2"), 0);
    assert_int_equal(want_result(r, KL_ERR_INVALID_REQUEST, "Unsupported resource type: 3",
                                 3, "group"), 0);
    int32_t n = want_result(r, KL_OK, NULL, KL_RESOURCE_BROKER, "1");
    assert_int_equal(n, 6);
    for (int32_t i = 0; i < n; i++)
        (void)skip_config(r, 1);
    hf_want_end(r);
    wr_free(&w);
    hf_free(e);
}

static void test_truncated_request_closes(void **state)
{
    (void)state;
    hf_env_t *e = env_new(false, NULL);
    kl_writer_t w;
    const char *keys[] = { "retention.ms", NULL };
    req_begin(&w, 3, 1);
    req_resource(&w, KL_RESOURCE_TOPIC, "topic", keys);
    req_flags(&w, 3, true, true);
    size_t body_at = 2 + 2 + 4 + 2 + 4;
    for (size_t cut = body_at; cut < w.len; cut++) {
        assert_int_equal(env_run(e, w.buf, cut), KL_REPLY_CLOSE);
        assert_int_equal(rd_remaining(&e->resp), 0);
    }
    for (size_t cut = 18; cut < sizeof KPY_022_DESCRIBE_CONFIGS_V2_REQ; cut++)   /* body at 18 */
        assert_int_equal(env_run(e, KPY_022_DESCRIBE_CONFIGS_V2_REQ, cut), KL_REPLY_CLOSE);
    wr_free(&w);
    hf_free(e);
}

static void test_table_row(void **state)
{
    (void)state;
    const kl_api_t *api = api_table_find(KL_API_DESCRIBE_CONFIGS);
    assert_non_null(api);
    assert_int_equal(api->min_version, 0);
    assert_int_equal(api->max_version, 3);
    assert_int_equal(api->flexible_from, KL_NOT_FLEXIBLE);   /* v4 would be the first */
    assert_true(api->handler == describe_configs_handle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_python_v2_fixture),
        cmocka_unit_test(test_kafkajs_v2_fixture_unknown_topic),
        cmocka_unit_test(test_kafkajs_v2_fixture_with_override),
        cmocka_unit_test(test_v0_broker_with_keys),
        cmocka_unit_test(test_v1_synonyms),
        cmocka_unit_test(test_v3_type_and_documentation),
        cmocka_unit_test(test_errors_per_resource),
        cmocka_unit_test(test_truncated_request_closes),
        cmocka_unit_test(test_table_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
