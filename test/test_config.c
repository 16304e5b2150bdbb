/*
 * test/test_config.c — unit tests of infrastructure/config.c: Kafka's defaults, every
 * property's parsing and range, the listener rules (PLAINTEXT only, advertised follows
 * listeners), the properties file format and the command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "infrastructure/config.h"
#include "infrastructure/logging.h"

/* ---- helpers ----------------------------------------------------------------- */

typedef struct fixture {
    kl_config_t cfg;
    char err[KL_CONFIG_ERRBUF_SIZE];
    char path[64];                 /* a temporary properties file, when a test writes one */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    config_defaults(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->path[0] != '\0')
        unlink(f->path);
    free(f);
    return 0;
}

static kl_err_t set(fixture_t *f, const char *key, const char *value)
{
    f->err[0] = '\0';
    return config_set(&f->cfg, key, value, f->err, sizeof f->err);
}

/* Expect `key=value` to be rejected with a message containing `needle`. */
static void expect_rejected(fixture_t *f, const char *key, const char *value, const char *needle)
{
    assert_int_equal(set(f, key, value), KL_ERR_INVALID_CONFIG);
    if (strstr(f->err, needle) == NULL)
        fail_msg("%s=%s: message '%s' lacks '%s'", key, value, f->err, needle);
}

static void write_file(fixture_t *f, const char *text)
{
    snprintf(f->path, sizeof f->path, "/tmp/klamm-test-config-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static kl_err_t parse_args(fixture_t *f, int argc, char **argv)
{
    f->err[0] = '\0';
    return config_parse_args(&f->cfg, argc, argv, f->err, sizeof f->err);
}

/* ---- defaults ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
    fixture_t *f = *state;
    kl_config_t *c = &f->cfg;
    assert_string_equal(c->listener_host, "127.0.0.1");
    assert_int_equal(c->listener_port, 9092);
    assert_string_equal(c->broker.advertised_host, "127.0.0.1");
    assert_int_equal(c->broker.advertised_port, 9092);
    assert_false(c->advertised_set);
    assert_string_equal(c->storage.log_dir, "./data");
    assert_int_equal(c->broker.num_partitions, 1);
    assert_int_equal(c->broker.default_replication_factor, 1);
    assert_true(c->broker.auto_create_topics);
    assert_int_equal(c->broker.message_max_bytes, 1048588);
    assert_int_equal(c->socket_request_max_bytes, 104857600);
    assert_int_equal(c->max_connections, 1000);
    assert_true(c->storage.segment_bytes == 1073741824LL);
    assert_int_equal(c->storage.index_interval_bytes, 4096);
    assert_true(c->storage.flush_interval_messages == INT64_MAX);
    assert_true(c->storage.flush_interval_ms == -1);
    assert_true(c->storage.roll_ms == 604800000LL);      /* log.roll.hours=168 */
    assert_true(c->storage.preallocate);     /* Kafka: false; docs/performance.md round 3 */
    assert_true(c->broker.preallocate);      /* the same, as DescribeConfigs reports it */
    assert_int_equal(c->broker.node_id, 1);
    assert_string_equal(c->broker.cluster_id, "klamm-cluster");
    assert_int_equal(c->log_level, KL_LOG_INFO);
    assert_true(c->broker.retention_ms == 604800000LL);  /* log.retention.hours=168 */
    assert_true(c->broker.retention_bytes == -1);
    assert_true(c->retention_check_interval_ms == 300000);
}

/* ---- listeners -------------------------------------------------------------------- */

static void test_listeners_host_and_port(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "listeners", "PLAINTEXT://10.1.2.3:19092"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "10.1.2.3");
    assert_int_equal(f->cfg.listener_port, 19092);
    /* advertised follows the listener while unset */
    assert_string_equal(f->cfg.broker.advertised_host, "10.1.2.3");
    assert_int_equal(f->cfg.broker.advertised_port, 19092);
    assert_int_equal(set(f, "listeners", "plaintext://broker-1.example.com:9093"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "broker-1.example.com");
    assert_string_equal(f->cfg.broker.advertised_host, "broker-1.example.com");
    assert_int_equal(set(f, "listeners", "PLAINTEXT://[::1]:9094"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "::1");
    assert_int_equal(f->cfg.listener_port, 9094);
    assert_int_equal(set(f, "listeners", "PLAINTEXT://localhost:0"), KL_OK);   /* any port */
    assert_int_equal(f->cfg.listener_port, 0);
}

static void test_listeners_empty_host_binds_all_advertises_hostname(void **state)
{
    fixture_t *f = *state;
    char host[KL_HOST_MAX + 1] = { 0 };
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof host, "localhost");
    assert_int_equal(set(f, "listeners", "PLAINTEXT://:9092"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "0.0.0.0");
    assert_string_equal(f->cfg.broker.advertised_host, host);
    assert_int_equal(config_finalize(&f->cfg, f->err, sizeof f->err), KL_OK);
}

static void test_advertised_listeners_explicit_wins_in_any_order(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "advertised.listeners", "PLAINTEXT://public.example:29092"), KL_OK);
    assert_true(f->cfg.advertised_set);
    assert_int_equal(set(f, "listeners", "PLAINTEXT://0.0.0.0:9092"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "0.0.0.0");
    assert_string_equal(f->cfg.broker.advertised_host, "public.example");
    assert_int_equal(f->cfg.broker.advertised_port, 29092);
    assert_int_equal(config_finalize(&f->cfg, f->err, sizeof f->err), KL_OK);

    config_defaults(&f->cfg);
    assert_int_equal(set(f, "listeners", "PLAINTEXT://0.0.0.0:9092"), KL_OK);
    assert_int_equal(set(f, "advertised.listeners", "PLAINTEXT://public.example:29092"), KL_OK);
    assert_string_equal(f->cfg.broker.advertised_host, "public.example");
    assert_int_equal(f->cfg.broker.advertised_port, 29092);
}

static void test_wildcard_cannot_be_advertised(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "listeners", "PLAINTEXT://0.0.0.0:9092"), KL_OK);
    assert_int_equal(config_finalize(&f->cfg, f->err, sizeof f->err), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "advertised.listeners"));
    assert_non_null(strstr(f->err, "0.0.0.0"));
}

static void test_listeners_rejected(void **state)
{
    fixture_t *f = *state;
    expect_rejected(f, "listeners", "SSL://host:9093", "security protocol 'SSL' is not supported");
    expect_rejected(f, "listeners", "SASL_PLAINTEXT://host:9093", "'SASL_PLAINTEXT'");
    expect_rejected(f, "listeners", "SASL_SSL://host:9093", "PLAINTEXT only");
    expect_rejected(f, "listeners", "INTERNAL://host:9093", "listener name 'INTERNAL'");
    expect_rejected(f, "listeners", "host:9092", "expected PLAINTEXT://host:port");
    expect_rejected(f, "listeners", "PLAINTEXT://host", "expected PLAINTEXT://host:port");
    expect_rejected(f, "listeners", "PLAINTEXT://a:1,PLAINTEXT://b:2", "only one listener");
    expect_rejected(f, "listeners", "PLAINTEXT://host:65536", "listeners");
    expect_rejected(f, "listeners", "PLAINTEXT://host:-1", "out of range");
    expect_rejected(f, "listeners", "PLAINTEXT://host:port", "not an integer");
    expect_rejected(f, "listeners", "PLAINTEXT://host:", "not an integer");
    expect_rejected(f, "listeners", "PLAINTEXT://ho st:9092", "invalid host");
    expect_rejected(f, "advertised.listeners", "SSL://host:9093", "advertised.listeners");
    /* nothing was changed by the failures */
    assert_string_equal(f->cfg.listener_host, "127.0.0.1");
    assert_int_equal(f->cfg.listener_port, 9092);
    assert_false(f->cfg.advertised_set);
}

/* ---- IPv6 listeners ------------------------------------------------------------------ */

/* Kafka's form: the address in brackets; the host kept (and advertised in Metadata)
 * without them, since Metadata's host field is a plain host and clients add them back. */
static void test_listeners_ipv6_in_brackets(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "listeners", "PLAINTEXT://[::1]:9092"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "::1");
    assert_int_equal(f->cfg.listener_port, 9092);
    assert_string_equal(f->cfg.broker.advertised_host, "::1");
    assert_int_equal(f->cfg.broker.advertised_port, 9092);
    assert_int_equal(config_finalize(&f->cfg, f->err, sizeof f->err), KL_OK);
    assert_int_equal(set(f, "listeners", "PLAINTEXT://[fd00::2]:0"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "fd00::2");
    assert_int_equal(f->cfg.listener_port, 0);
    assert_int_equal(set(f, "listeners", "PLAINTEXT://[fe80::1%eth0]:9092"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "fe80::1%eth0");          /* a zone id */
    assert_int_equal(set(f, "listeners", "PLAINTEXT://[::ffff:127.0.0.1]:9092"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "::ffff:127.0.0.1");
    /* Kafka's EndPoint pattern makes the brackets optional: the last ':' ends the host */
    assert_int_equal(set(f, "listeners", "PLAINTEXT://::1:9093"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "::1");
    assert_int_equal(f->cfg.listener_port, 9093);
}

static void test_advertised_listeners_ipv6(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "listeners", "PLAINTEXT://[::]:9092"), KL_OK);
    assert_string_equal(f->cfg.listener_host, "::");
    assert_int_equal(set(f, "advertised.listeners", "PLAINTEXT://[2001:db8::7]:29092"), KL_OK);
    assert_string_equal(f->cfg.broker.advertised_host, "2001:db8::7");
    assert_int_equal(f->cfg.broker.advertised_port, 29092);
    assert_int_equal(config_finalize(&f->cfg, f->err, sizeof f->err), KL_OK);
}

/* Kafka refuses to advertise the meta-address 0.0.0.0; its IPv6 twin :: is just as
 * unreachable, in every spelling. Unset advertised.listeners follows listeners, so a
 * listener on [::] alone is refused, as one on 0.0.0.0 is. */
static void test_ipv6_wildcard_cannot_be_advertised(void **state)
{
    fixture_t *f = *state;
    static const char *const any[] = { "PLAINTEXT://[::]:9092", "PLAINTEXT://[::0]:9092",
                                       "PLAINTEXT://[0:0:0:0:0:0:0:0]:9092" };
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        config_defaults(&f->cfg);
        assert_int_equal(set(f, "listeners", any[i]), KL_OK);
        assert_int_equal(config_finalize(&f->cfg, f->err, sizeof f->err),
                         KL_ERR_INVALID_CONFIG);
        if (strstr(f->err, "non-routable") == NULL)
            fail_msg("%s: message '%s' lacks 'non-routable'", any[i], f->err);
        config_defaults(&f->cfg);
        assert_int_equal(set(f, "advertised.listeners", any[i]), KL_OK);
        assert_int_equal(config_finalize(&f->cfg, f->err, sizeof f->err),
                         KL_ERR_INVALID_CONFIG);
        assert_non_null(strstr(f->err, "advertised.listeners"));
    }
}

static void test_listeners_ipv6_rejected(void **state)
{
    fixture_t *f = *state;
    expect_rejected(f, "listeners", "PLAINTEXT://[::1:9092", "missing ']'");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1", "missing ']'");
    expect_rejected(f, "listeners", "PLAINTEXT://[]:9092", "empty IPv6 address");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1]", "expected ':port' after ']'");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1]9092", "expected ':port' after ']'");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1]:", "not an integer");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1]:x", "not an integer");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1]:65536", "out of range");
    expect_rejected(f, "listeners", "PLAINTEXT://[localhost]:9092",
                    "'localhost' is not an IPv6 address");
    expect_rejected(f, "listeners", "PLAINTEXT://[1.2.3.4]:9092", "not an IPv6 address");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1::2]:9092", "not an IPv6 address");
    expect_rejected(f, "listeners", "PLAINTEXT://[%eth0]:9092", "not an IPv6 address");
    expect_rejected(f, "listeners", "PLAINTEXT://[::1]]:9092", "expected ':port' after ']'");
    expect_rejected(f, "listeners", "PLAINTEXT://1:2:9092", "'1:2' is not an IPv6 address");
    expect_rejected(f, "advertised.listeners", "PLAINTEXT://[::1:9092",
                    "advertised.listeners: missing ']'");
    /* nothing was changed by the failures */
    assert_string_equal(f->cfg.listener_host, "127.0.0.1");
    assert_int_equal(f->cfg.listener_port, 9092);
    assert_string_equal(f->cfg.broker.advertised_host, "127.0.0.1");
    assert_false(f->cfg.advertised_set);
}

static void test_args_ipv6_listener(void **state)
{
    fixture_t *f = *state;
    char *argv[] = { "klamm", "--override", "listeners=PLAINTEXT://[::1]:19092", NULL };
    assert_int_equal(parse_args(f, 3, argv), KL_OK);
    assert_string_equal(f->cfg.listener_host, "::1");
    assert_string_equal(f->cfg.broker.advertised_host, "::1");
    char *wildcard[] = { "klamm", "--override", "listeners=PLAINTEXT://[::]:9092", NULL };
    assert_int_equal(parse_args(f, 3, wildcard), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "::"));
}

static void test_listener_host_too_long(void **state)
{
    fixture_t *f = *state;
    char v[KL_HOST_MAX + 64];
    int n = snprintf(v, sizeof v, "PLAINTEXT://");
    memset(v + n, 'h', KL_HOST_MAX + 1);
    snprintf(v + n + KL_HOST_MAX + 1, sizeof v - (size_t)n - KL_HOST_MAX - 1, ":9092");
    expect_rejected(f, "listeners", v, "longer than");
}

/* ---- log directory ------------------------------------------------------------------- */

static void test_log_dirs(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.dirs", "/var/lib/klamm"), KL_OK);
    assert_string_equal(f->cfg.storage.log_dir, "/var/lib/klamm");
    expect_rejected(f, "log.dirs", "/a,/b", "only one directory");
    expect_rejected(f, "log.dirs", "", "log.dirs");
    expect_rejected(f, "log.dir", "/a,/b", "log.dir: only one directory");
    assert_string_equal(f->cfg.storage.log_dir, "/var/lib/klamm");
}

static void test_log_dir_alias_and_precedence(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.dir", "/tmp/one"), KL_OK);
    assert_string_equal(f->cfg.storage.log_dir, "/tmp/one");
    assert_int_equal(set(f, "log.dirs", "/tmp/two"), KL_OK);
    assert_string_equal(f->cfg.storage.log_dir, "/tmp/two");
    /* Kafka: log.dir only matters when log.dirs is not set */
    assert_int_equal(set(f, "log.dir", "/tmp/three"), KL_OK);
    assert_string_equal(f->cfg.storage.log_dir, "/tmp/two");
}

/* ---- numbers, booleans, levels --------------------------------------------------------- */

static void test_numeric_properties(void **state)
{
    fixture_t *f = *state;
    kl_config_t *c = &f->cfg;
    assert_int_equal(set(f, "num.partitions", "6"), KL_OK);
    assert_int_equal(c->broker.num_partitions, 6);
    assert_int_equal(set(f, "default.replication.factor", "1"), KL_OK);
    assert_int_equal(c->broker.default_replication_factor, 1);
    assert_int_equal(set(f, "message.max.bytes", "2000000"), KL_OK);
    assert_int_equal(c->broker.message_max_bytes, 2000000);
    assert_int_equal(set(f, "socket.request.max.bytes", "5000"), KL_OK);
    assert_int_equal(c->socket_request_max_bytes, 5000);
    assert_int_equal(set(f, "max.connections", "12"), KL_OK);
    assert_int_equal(c->max_connections, 12);
    assert_int_equal(set(f, "log.segment.bytes", "1048576"), KL_OK);
    assert_true(c->storage.segment_bytes == 1048576);
    assert_int_equal(set(f, "log.index.interval.bytes", "0"), KL_OK);
    assert_int_equal(c->storage.index_interval_bytes, 0);
    assert_int_equal(set(f, "log.flush.interval.messages", "1"), KL_OK);
    assert_true(c->storage.flush_interval_messages == 1);
    assert_int_equal(set(f, "log.flush.interval.messages", "9223372036854775807"), KL_OK);
    assert_true(c->storage.flush_interval_messages == INT64_MAX);
    assert_int_equal(set(f, "log.flush.interval.ms", "1000"), KL_OK);
    assert_true(c->storage.flush_interval_ms == 1000);
    assert_int_equal(set(f, "log.flush.interval.ms", "-1"), KL_OK);
    assert_true(c->storage.flush_interval_ms == -1);
    assert_int_equal(set(f, "node.id", "7"), KL_OK);
    assert_int_equal(c->broker.node_id, 7);
    assert_int_equal(set(f, "broker.id", "3"), KL_OK);
    assert_int_equal(c->broker.node_id, 3);
}

static void test_values_are_trimmed(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "num.partitions", "  4 \t"), KL_OK);
    assert_int_equal(f->cfg.broker.num_partitions, 4);
    assert_int_equal(set(f, "log.dirs", " /tmp/x "), KL_OK);
    assert_string_equal(f->cfg.storage.log_dir, "/tmp/x");
}

static void test_bad_numbers_name_the_key(void **state)
{
    fixture_t *f = *state;
    expect_rejected(f, "num.partitions", "abc", "num.partitions: 'abc' is not an integer");
    expect_rejected(f, "num.partitions", "", "num.partitions");
    expect_rejected(f, "num.partitions", "3x", "not an integer");
    expect_rejected(f, "num.partitions", "1.5", "not an integer");
    expect_rejected(f, "num.partitions", "0", "num.partitions: 0 is out of range");
    expect_rejected(f, "num.partitions", "10001", "out of range");
    expect_rejected(f, "message.max.bytes", "-1", "message.max.bytes");
    expect_rejected(f, "message.max.bytes", "2147483648", "out of range");
    expect_rejected(f, "socket.request.max.bytes", "0", "socket.request.max.bytes");
    expect_rejected(f, "max.connections", "-5", "max.connections");
    expect_rejected(f, "log.segment.bytes", "13", "log.segment.bytes");
    expect_rejected(f, "log.segment.bytes", "2147483648", "log.segment.bytes");
    expect_rejected(f, "log.index.interval.bytes", "-1", "log.index.interval.bytes");
    expect_rejected(f, "log.flush.interval.messages", "0", "log.flush.interval.messages");
    expect_rejected(f, "log.flush.interval.messages", "99999999999999999999", "out of range");
    expect_rejected(f, "log.flush.interval.ms", "-2", "log.flush.interval.ms");
    expect_rejected(f, "node.id", "-1", "node.id");
    expect_rejected(f, "broker.id", "x", "broker.id");
    expect_rejected(f, "default.replication.factor", "3", "single broker");
    expect_rejected(f, "default.replication.factor", "0", "default.replication.factor");
    /* failures leave the values alone */
    assert_int_equal(f->cfg.broker.num_partitions, 1);
    assert_int_equal(f->cfg.broker.message_max_bytes, 1048588);
    assert_int_equal(f->cfg.broker.node_id, 1);
}

static void test_boolean(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "auto.create.topics.enable", "false"), KL_OK);
    assert_false(f->cfg.broker.auto_create_topics);
    assert_int_equal(set(f, "auto.create.topics.enable", "TRUE"), KL_OK);
    assert_true(f->cfg.broker.auto_create_topics);
    assert_int_equal(set(f, "auto.create.topics.enable", "False"), KL_OK);
    assert_false(f->cfg.broker.auto_create_topics);
    expect_rejected(f, "auto.create.topics.enable", "yes", "auto.create.topics.enable");
    expect_rejected(f, "auto.create.topics.enable", "1", "not true or false");
}

static void test_preallocate(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.preallocate", "false"), KL_OK);
    assert_false(f->cfg.storage.preallocate);
    assert_false(f->cfg.broker.preallocate);       /* DescribeConfigs' copy follows */
    assert_int_equal(set(f, "log.preallocate", " true "), KL_OK);
    assert_true(f->cfg.storage.preallocate);
    assert_true(f->cfg.broker.preallocate);
    expect_rejected(f, "log.preallocate", "on", "log.preallocate");
    assert_true(f->cfg.storage.preallocate);                 /* a rejected value changes nothing */
    assert_true(f->cfg.broker.preallocate);
}

static void test_log_level(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "klamm.log.level", "debug"), KL_OK);
    assert_int_equal(f->cfg.log_level, KL_LOG_DEBUG);
    assert_int_equal(set(f, "klamm.log.level", "WARN"), KL_OK);
    assert_int_equal(f->cfg.log_level, KL_LOG_WARN);
    assert_int_equal(set(f, "klamm.log.level", "error"), KL_OK);
    assert_int_equal(f->cfg.log_level, KL_LOG_ERROR);
    expect_rejected(f, "klamm.log.level", "loud", "klamm.log.level: 'loud'");
    expect_rejected(f, "klamm.log.level", "a-very-long-level-name", "klamm.log.level");
    assert_int_equal(f->cfg.log_level, KL_LOG_ERROR);
}

static void test_unknown_property(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "zookeeper.connect", "localhost:2181"), KL_ERR_INVALID_CONFIG);
    assert_string_equal(f->err, "unknown property 'zookeeper.connect'");
    assert_int_equal(set(f, "Num.Partitions", "3"), KL_ERR_INVALID_CONFIG);  /* case matters */
}

static void test_null_or_small_errbuf_is_safe(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(config_set(&f->cfg, "nope", "1", NULL, 0), KL_ERR_INVALID_CONFIG);
    char tiny[8];
    assert_int_equal(config_set(&f->cfg, "nope", "1", tiny, sizeof tiny), KL_ERR_INVALID_CONFIG);
    assert_string_equal(tiny, "unknown");
}

/* ---- properties file ------------------------------------------------------------------ */

static void test_load_file(void **state)
{
    fixture_t *f = *state;
    write_file(f,
        "# Klamm broker\n"
        "! also a comment\n"
        "\n"
        "   \t\n"
        "listeners=PLAINTEXT://127.0.0.1:19092\n"
        "  num.partitions = 3  \n"
        "log.dirs: /tmp/klamm-data\n"
        "message.max.bytes 500000\n"
        "auto.create.topics.enable=false\r\n"
        "  # indented comment\n"
        "node.id=5");                                   /* no final newline */
    assert_int_equal(config_load_file(&f->cfg, f->path, f->err, sizeof f->err), KL_OK);
    assert_int_equal(f->cfg.listener_port, 19092);
    assert_int_equal(f->cfg.broker.advertised_port, 19092);
    assert_int_equal(f->cfg.broker.num_partitions, 3);
    assert_string_equal(f->cfg.storage.log_dir, "/tmp/klamm-data");
    assert_int_equal(f->cfg.broker.message_max_bytes, 500000);
    assert_false(f->cfg.broker.auto_create_topics);
    assert_int_equal(f->cfg.broker.node_id, 5);
}

static void test_load_file_error_names_file_and_line(void **state)
{
    fixture_t *f = *state;
    write_file(f, "# ok\nnum.partitions=2\n\nnum.network.threads=3\nnode.id=9\n");
    assert_int_equal(config_load_file(&f->cfg, f->path, f->err, sizeof f->err),
                     KL_ERR_INVALID_CONFIG);
    char expect[256];
    snprintf(expect, sizeof expect, "%s:4: unknown property 'num.network.threads'", f->path);
    assert_string_equal(f->err, expect);
    assert_int_equal(f->cfg.broker.num_partitions, 2);   /* lines before the error applied */
    assert_int_equal(f->cfg.broker.node_id, 1);          /* lines after it not */
}

static void test_load_file_bad_value_and_missing_separator(void **state)
{
    fixture_t *f = *state;
    write_file(f, "num.partitions=zero\n");
    assert_int_equal(config_load_file(&f->cfg, f->path, f->err, sizeof f->err),
                     KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, ":1: num.partitions: 'zero' is not an integer"));
    unlink(f->path);
    write_file(f, "\n=5\n");
    assert_int_equal(config_load_file(&f->cfg, f->path, f->err, sizeof f->err),
                     KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, ":2: expected key=value"));
}

static void test_load_missing_file(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(config_load_file(&f->cfg, "/nonexistent/klamm.properties", f->err,
                                      sizeof f->err), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "/nonexistent/klamm.properties"));
    assert_non_null(strstr(f->err, "cannot open"));
}

/* ---- command line ---------------------------------------------------------------------- */

static void test_args_none_gives_defaults(void **state)
{
    fixture_t *f = *state;
    char *argv[] = { "klamm", NULL };
    f->cfg.broker.num_partitions = 99;                   /* parse_args starts from defaults */
    assert_int_equal(parse_args(f, 1, argv), KL_OK);
    assert_int_equal(f->cfg.broker.num_partitions, 1);
    assert_int_equal(f->cfg.listener_port, 9092);
}

static void test_args_file_then_overrides_in_order(void **state)
{
    fixture_t *f = *state;
    write_file(f, "num.partitions=3\nnode.id=4\nlisteners=PLAINTEXT://127.0.0.1:1111\n");
    /* the overrides come first on the line but are applied after the file */
    char *argv[] = { "klamm", "--override", "num.partitions=8", "--override",
                     "num.partitions=9", f->path, "--override",
                     "advertised.listeners=PLAINTEXT://example.org:2222", NULL };
    assert_int_equal(parse_args(f, 8, argv), KL_OK);
    assert_int_equal(f->cfg.broker.num_partitions, 9);
    assert_int_equal(f->cfg.broker.node_id, 4);
    assert_int_equal(f->cfg.listener_port, 1111);
    assert_string_equal(f->cfg.broker.advertised_host, "example.org");
    assert_int_equal(f->cfg.broker.advertised_port, 2222);
}

static void test_args_override_value_may_contain_equals(void **state)
{
    fixture_t *f = *state;
    char *argv[] = { "klamm", "--override", "log.dirs=/tmp/a=b", NULL };
    assert_int_equal(parse_args(f, 3, argv), KL_OK);
    assert_string_equal(f->cfg.storage.log_dir, "/tmp/a=b");
}

static void test_args_errors(void **state)
{
    fixture_t *f = *state;
    char *missing[] = { "klamm", "--override", NULL };
    assert_int_equal(parse_args(f, 2, missing), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "--override needs key=value"));

    char *no_eq[] = { "klamm", "--override", "num.partitions", NULL };
    assert_int_equal(parse_args(f, 3, no_eq), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "expected key=value"));

    char *unknown_opt[] = { "klamm", "--verbose", NULL };
    assert_int_equal(parse_args(f, 2, unknown_opt), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "unknown option '--verbose'"));

    char *two_files[] = { "klamm", "a.properties", "b.properties", NULL };
    assert_int_equal(parse_args(f, 3, two_files), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "only one properties file"));

    char *bad_key[] = { "klamm", "--override", "no.such.key=1", NULL };
    assert_int_equal(parse_args(f, 3, bad_key), KL_ERR_INVALID_CONFIG);
    assert_string_equal(f->err, "unknown property 'no.such.key'");

    char *no_file[] = { "klamm", "/nonexistent/server.properties", NULL };
    assert_int_equal(parse_args(f, 2, no_file), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "cannot open"));

    char *wildcard[] = { "klamm", "--override", "listeners=PLAINTEXT://0.0.0.0:9092", NULL };
    assert_int_equal(parse_args(f, 3, wildcard), KL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(f->err, "advertised.listeners"));
    assert_false(config_is_usage(f->err));
}

static void test_args_help(void **state)
{
    fixture_t *f = *state;
    char *long_help[] = { "klamm", "server.properties", "--help", NULL };
    assert_int_equal(parse_args(f, 3, long_help), KL_ERR_INVALID_CONFIG);
    assert_true(config_is_usage(f->err));
    assert_int_equal(strncmp(f->err, "usage:", 6), 0);
    assert_non_null(strstr(f->err, "--override key=value"));
    assert_non_null(strstr(f->err, "docs/configuration.md"));
    /* The text comes back in errbuf, and src/main.c's errbuf is KL_CONFIG_ERRBUF_SIZE
     * bytes, like ours: a text that did not fit would be cut off silently, losing the
     * last names and the defaults line. So: the last line is there, whole. Should the
     * table outgrow the buffer, raise KL_CONFIG_ERRBUF_SIZE (main follows it). */
    const char *last = strrchr(f->err, '\n');
    assert_non_null(last);
    assert_string_equal(last + 1, "Default: PLAINTEXT://127.0.0.1:9092, log.dirs=./data; "
                                  "see docs/configuration.md");
    assert_true(strlen(f->err) < KL_CONFIG_ERRBUF_SIZE - 1);

    char *short_help[] = { "klamm", "-h", NULL };
    assert_int_equal(parse_args(f, 2, short_help), KL_ERR_INVALID_CONFIG);
    assert_true(config_is_usage(f->err));
    assert_false(config_is_usage("unknown property 'x'"));
    assert_false(config_is_usage(NULL));
}

/* Is `name` one of the space-separated words of the property lines of the --help text
 * (the lines starting with two blanks)? Counts the words in *words. */
static bool help_lists(const char *help, const char *name, size_t *words)
{
    bool found = false;
    *words = 0;
    for (const char *line = help; line != NULL; line = strchr(line, '\n')) {
        line += line[0] == '\n';
        if (strncmp(line, "  ", 2) != 0)
            continue;
        size_t end = strcspn(line, "\n");
        for (size_t i = 2; i < end;) {
            size_t n = strcspn(line + i, " \n");
            (*words)++;
            if (strlen(name) == n && strncmp(line + i, name, n) == 0)
                found = true;
            i += n + 1;
        }
    }
    return found;
}

/* --help lists exactly the names of the property table, so that it cannot fall behind
 * it again (it once lacked the log.retention.*, log.roll.* and other names), on lines
 * no wider than a terminal. config_property_name reads the table config_set uses. */
static void test_help_lists_every_property(void **state)
{
    fixture_t *f = *state;
    char *help[] = { "klamm", "--help", NULL };
    assert_int_equal(parse_args(f, 2, help), KL_ERR_INVALID_CONFIG);
    char text[KL_CONFIG_ERRBUF_SIZE];
    snprintf(text, sizeof text, "%s", f->err);
    size_t n = 0, words = 0;
    for (const char *name; (name = config_property_name(n)) != NULL; n++) {
        if (!help_lists(text, name, &words))
            fail_msg("--help does not list '%s':\n%s", name, text);
        assert_int_not_equal(set(f, name, ""), KL_OK);         /* "" is no valid value... */
        assert_null(strstr(f->err, "unknown property"));     /* ...but the name is known */
    }
    assert_int_equal(words, n);                               /* and nothing else */
    static const char *const once_missing[] = { "log.dir", "broker.id", "log.preallocate",
        "log.retention.ms", "log.retention.minutes", "log.retention.hours",
        "log.retention.bytes", "log.retention.check.interval.ms", "log.roll.ms",
        "log.roll.hours", "klamm.trace" };
    for (size_t i = 0; i < sizeof once_missing / sizeof once_missing[0]; i++)
        assert_true(help_lists(text, once_missing[i], &words));
    for (const char *line = text; line != NULL; line = strchr(line + 1, '\n'))
        assert_true(strcspn(line + (line[0] == '\n'), "\n") <= 80);
}

/* ---- retention ---------------------------------------------------------------------- */

static void test_retention_hours_and_minutes_scale_to_ms(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.retention.hours", "1"), KL_OK);
    assert_true(f->cfg.broker.retention_ms == 3600000);
    assert_int_equal(set(f, "log.retention.minutes", "2"), KL_OK);
    assert_true(f->cfg.broker.retention_ms == 120000);
    assert_int_equal(set(f, "log.retention.ms", "1500"), KL_OK);
    assert_true(f->cfg.broker.retention_ms == 1500);
}

/* Kafka's precedence is by name, not by order: ms > minutes > hours. */
static void test_retention_precedence_ignores_order(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.retention.ms", "1500"), KL_OK);
    assert_int_equal(set(f, "log.retention.minutes", "2"), KL_OK);
    assert_int_equal(set(f, "log.retention.hours", "3"), KL_OK);
    assert_true(f->cfg.broker.retention_ms == 1500);
    config_defaults(&f->cfg);
    assert_int_equal(set(f, "log.retention.minutes", "2"), KL_OK);
    assert_int_equal(set(f, "log.retention.hours", "3"), KL_OK);
    assert_true(f->cfg.broker.retention_ms == 120000);
}

static void test_retention_negative_means_forever(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.retention.hours", "-1"), KL_OK);
    assert_true(f->cfg.broker.retention_ms == -1);
    assert_int_equal(set(f, "log.retention.ms", "-5"), KL_OK);
    assert_true(f->cfg.broker.retention_ms == -1);
    assert_int_equal(set(f, "log.retention.ms", "0"), KL_OK);   /* 0: delete when sealed */
    assert_true(f->cfg.broker.retention_ms == 0);
}

static void test_retention_bytes_and_check_interval(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.retention.bytes", "1073741824"), KL_OK);
    assert_true(f->cfg.broker.retention_bytes == 1073741824LL);
    assert_int_equal(set(f, "log.retention.bytes", "-1"), KL_OK);
    assert_true(f->cfg.broker.retention_bytes == -1);
    assert_int_equal(set(f, "log.retention.check.interval.ms", "500"), KL_OK);
    assert_true(f->cfg.retention_check_interval_ms == 500);
    expect_rejected(f, "log.retention.check.interval.ms", "0", "out of range");
    expect_rejected(f, "log.retention.hours", "2147483648", "out of range");
    expect_rejected(f, "log.retention.minutes", "ten", "not an integer");
    expect_rejected(f, "log.retention.ms", "1d", "not an integer");
    expect_rejected(f, "log.retention.bytes", "1GB", "not an integer");
    assert_true(f->cfg.retention_check_interval_ms == 500);     /* unchanged by a reject */
}

static void test_retention_from_file_and_overrides(void **state)
{
    fixture_t *f = *state;
    write_file(f, "log.retention.minutes=10\nlog.retention.bytes=4096\n");
    char *argv[] = { "klamm", f->path, "--override", "log.retention.hours=1", NULL };
    assert_int_equal(parse_args(f, 4, argv), KL_OK);
    assert_true(f->cfg.broker.retention_ms == 600000);          /* minutes beat hours */
    assert_true(f->cfg.broker.retention_bytes == 4096);
}

/* ---- time-based rolling ----------------------------------------------------------- */

static void test_roll_hours_scale_to_ms_and_ms_wins(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(set(f, "log.roll.hours", "2"), KL_OK);
    assert_true(f->cfg.storage.roll_ms == 7200000);
    assert_int_equal(set(f, "log.roll.ms", "1500"), KL_OK);
    assert_true(f->cfg.storage.roll_ms == 1500);
    assert_int_equal(set(f, "log.roll.hours", "3"), KL_OK);   /* ms wins, whatever the order */
    assert_true(f->cfg.storage.roll_ms == 1500);
}

static void test_roll_bounds(void **state)
{
    fixture_t *f = *state;
    expect_rejected(f, "log.roll.hours", "0", "out of range");            /* atLeast(1) */
    expect_rejected(f, "log.roll.hours", "2147483648", "out of range");   /* INT */
    expect_rejected(f, "log.roll.ms", "0", "out of range");    /* segment.ms's atLeast(1) */
    expect_rejected(f, "log.roll.ms", "1h", "not an integer");
    assert_true(f->cfg.storage.roll_ms == 604800000LL);         /* unchanged by a reject */
    assert_int_equal(set(f, "log.roll.hours", "2147483647"), KL_OK);      /* fits a LONG */
    assert_true(f->cfg.storage.roll_ms == 2147483647LL * 3600000);
}

static void test_roll_from_file_and_overrides(void **state)
{
    fixture_t *f = *state;
    write_file(f, "log.roll.ms=60000\n");
    char *argv[] = { "klamm", f->path, "--override", "log.roll.hours=1", NULL };
    assert_int_equal(parse_args(f, 4, argv), KL_OK);
    assert_true(f->cfg.storage.roll_ms == 60000);               /* ms beats hours */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners_host_and_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners_empty_host_binds_all_advertises_hostname,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_advertised_listeners_explicit_wins_in_any_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wildcard_cannot_be_advertised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_host_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners_ipv6_in_brackets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advertised_listeners_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_wildcard_cannot_be_advertised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners_ipv6_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_ipv6_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_dir_alias_and_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numeric_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_are_trimmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_numbers_name_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boolean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_property, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_or_small_errbuf_is_safe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file_error_names_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file_bad_value_and_missing_separator,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_none_gives_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_file_then_overrides_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_override_value_may_contain_equals,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_args_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_every_property, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_hours_and_minutes_scale_to_ms,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_precedence_ignores_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_negative_means_forever, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_bytes_and_check_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_from_file_and_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_hours_scale_to_ms_and_ms_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_from_file_and_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preallocate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
