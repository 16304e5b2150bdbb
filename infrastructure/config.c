/*
 * infrastructure/config.c — server.properties and --override parsing, Kafka's names.
 * Layer: infrastructure. May touch: application/broker.h, infrastructure/logging.h,
 * infrastructure/storage/log_dir.h, <stdio.h> (reading the file), <unistd.h> (hostname),
 * <arpa/inet.h> (inet_pton: is a bracketed host an IPv6 address, is it ::).
 *
 * One handler per property, found through a const table, so stepping through
 * config_set in gdb lands in a function a few lines long. Ranges follow Kafka's
 * ConfigDef (e.g. num.partitions atLeast(1), log.segment.bytes atLeast(14)); where
 * Klamm is narrower (one listener, one log dir, one replica) the message says why.
 */
#include "infrastructure/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "infrastructure/logging.h"

/* Longest value we accept: a log directory path plus some slack for blanks. */
#define KL_CONFIG_VALUE_BUF (KL_PATH_MAX + 64)
#define KL_CONFIG_KEY_BUF 128

/* ---- messages ------------------------------------------------------------------ */

static kl_err_t config_fail(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static kl_err_t config_fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return KL_ERR_INVALID_CONFIG;
}

/* ---- value parsers --------------------------------------------------------------- */

/* Kafka's INT/LONG types: a decimal integer, checked against the property's range. */
static kl_err_t config_parse_i64(const char *key, const char *v, int64_t min, int64_t max,
                                 int64_t *out, char *errbuf, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || isspace((unsigned char)v[0]))
        return config_fail(errbuf, errlen, "%s: '%s' is not an integer", key, v);
    if (errno == ERANGE || n < min || n > max)
        return config_fail(errbuf, errlen, "%s: %s is out of range [%lld, %lld]",
                           key, v, (long long)min, (long long)max);
    *out = n;
    return KL_OK;
}

static kl_err_t config_parse_i32(const char *key, const char *v, int32_t min, int32_t max,
                                 int32_t *out, char *errbuf, size_t errlen)
{
    int64_t n = 0;
    kl_err_t err = config_parse_i64(key, v, min, max, &n, errbuf, errlen);
    if (err == KL_OK)
        *out = (int32_t)n;
    return err;
}

/* Kafka's BOOLEAN type: "true" or "false", any case. */
static kl_err_t config_parse_bool(const char *key, const char *v, bool *out,
                                  char *errbuf, size_t errlen)
{
    if (strcasecmp(v, "true") == 0)
        *out = true;
    else if (strcasecmp(v, "false") == 0)
        *out = false;
    else
        return config_fail(errbuf, errlen, "%s: '%s' is not true or false", key, v);
    return KL_OK;
}

/* Copy `src` into dst[size] or fail: a truncated host or path would point elsewhere. */
static kl_err_t config_copy(const char *key, char *dst, size_t size, const char *src,
                            size_t len, char *errbuf, size_t errlen)
{
    if (len >= size)
        return config_fail(errbuf, errlen, "%s: value longer than %zu characters", key,
                           size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
    return KL_OK;
}

/* ---- listeners ------------------------------------------------------------------- */

typedef struct config_endpoint {
    char host[KL_HOST_MAX + 1];      /* "" = all interfaces (Kafka: the default one) */
    int32_t port;
} config_endpoint_t;

/* The protocol part of "NAME://": only PLAINTEXT is spoken. Kafka maps listener names
 * to security protocols via listener.security.protocol.map; we support only the
 * identity mapping for PLAINTEXT, so other names get a message saying so. */
static kl_err_t config_check_protocol(const char *key, const char *proto, size_t len,
                                      char *errbuf, size_t errlen)
{
    static const char *const secure[] = { "SSL", "SASL_PLAINTEXT", "SASL_SSL" };
    if (len == 9 && strncasecmp(proto, "PLAINTEXT", 9) == 0)
        return KL_OK;
    for (size_t i = 0; i < sizeof secure / sizeof secure[0]; i++)
        if (strlen(secure[i]) == len && strncasecmp(proto, secure[i], len) == 0)
            return config_fail(errbuf, errlen, "%s: security protocol '%.*s' is not supported "
                               "(Klamm speaks PLAINTEXT only)", key, (int)len, proto);
    return config_fail(errbuf, errlen, "%s: listener name '%.*s' is not supported "
                       "(use PLAINTEXT://host:port)", key, (int)len, proto);
}

/* Kafka's EndPoint pattern allows [0-9a-zA-Z-%._:] in a host (':' and '%' for IPv6). */
static bool config_host_ok(const char *h)
{
    for (; *h != '\0'; h++)
        if (!isalnum((unsigned char)*h) && strchr("-%._:", *h) == NULL)
            return false;
    return true;
}

/* An IPv6 literal, optionally with a zone ("fe80::1%eth0"): getaddrinfo takes the zone,
 * inet_pton does not, so only the address before '%' is checked. */
static bool config_is_ipv6(const char *h)
{
    char addr[INET6_ADDRSTRLEN];
    struct in6_addr a;
    size_t n = strcspn(h, "%");
    if (n == 0 || n >= sizeof addr)
        return false;
    memcpy(addr, h, n);
    addr[n] = '\0';
    return inet_pton(AF_INET6, addr, &a) == 1;
}

/* "[v6addr]:port": the host between the brackets, *colon at the ':' before the port. */
static kl_err_t config_split_bracketed(const char *key, const char *s, const char **host,
                                       size_t *host_len, const char **colon,
                                       char *errbuf, size_t errlen)
{
    const char *close = strchr(s, ']');
    if (close == NULL)
        return config_fail(errbuf, errlen, "%s: missing ']' after the IPv6 address in '%s' "
                           "(expected PLAINTEXT://[address]:port)", key, s);
    if (close == s + 1)
        return config_fail(errbuf, errlen, "%s: empty IPv6 address in '%s'", key, s);
    if (close[1] != ':')
        return config_fail(errbuf, errlen, "%s: expected ':port' after ']' in '%s'", key, s);
    *host = s + 1;
    *host_len = (size_t)(close - *host);
    *colon = close + 1;
    return KL_OK;
}

/* "host:port", "[v6addr]:port" or ":port" (Kafka's EndPoint syntax). Kafka's pattern
 * makes the brackets optional, so "::1:9092" is host ::1, port 9092 (the last ':'). A
 * host with a ':' can only be an IPv6 address, and must be a well-formed one. */
static kl_err_t config_parse_hostport(const char *key, const char *s, config_endpoint_t *ep,
                                      char *errbuf, size_t errlen)
{
    const char *host = s, *colon = NULL;
    size_t host_len = 0;
    bool bracketed = s[0] == '[';
    if (bracketed) {
        if (config_split_bracketed(key, s, &host, &host_len, &colon, errbuf, errlen) != KL_OK)
            return KL_ERR_INVALID_CONFIG;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return config_fail(errbuf, errlen, "%s: expected PLAINTEXT://host:port, got '%s'",
                               key, s);
        host_len = (size_t)(colon - s);
    }
    if (config_copy(key, ep->host, sizeof ep->host, host, host_len, errbuf, errlen) != KL_OK)
        return KL_ERR_INVALID_CONFIG;
    if (!config_host_ok(ep->host))
        return config_fail(errbuf, errlen, "%s: invalid host '%s'", key, ep->host);
    if ((bracketed || strchr(ep->host, ':') != NULL) && !config_is_ipv6(ep->host))
        return config_fail(errbuf, errlen, "%s: '%s' is not an IPv6 address (in '%s')",
                           key, ep->host, s);
    return config_parse_i32(key, colon + 1, 0, 65535, &ep->port, errbuf, errlen);
}

static kl_err_t config_parse_listener(const char *key, const char *v, config_endpoint_t *ep,
                                      char *errbuf, size_t errlen)
{
    if (strchr(v, ',') != NULL)
        return config_fail(errbuf, errlen, "%s: only one listener is supported, got '%s'",
                           key, v);
    const char *sep = strstr(v, "://");
    if (sep == NULL)
        return config_fail(errbuf, errlen, "%s: expected PLAINTEXT://host:port, got '%s'",
                           key, v);
    kl_err_t err = config_check_protocol(key, v, (size_t)(sep - v), errbuf, errlen);
    if (err != KL_OK)
        return err;
    return config_parse_hostport(key, sep + 3, ep, errbuf, errlen);
}

/* Kafka advertises the machine's canonical host name when the listener host is empty. */
static void config_local_hostname(char *out, size_t size)
{
    if (gethostname(out, size) != 0 || out[0] == '\0')
        snprintf(out, size, "localhost");
    out[size - 1] = '\0';
}

static void config_set_advertised(kl_config_t *c, const config_endpoint_t *ep)
{
    if (ep->host[0] == '\0')
        config_local_hostname(c->broker.advertised_host, sizeof c->broker.advertised_host);
    else
        snprintf(c->broker.advertised_host, sizeof c->broker.advertised_host, "%s", ep->host);
    c->broker.advertised_port = ep->port;
}

static kl_err_t config_h_listeners(kl_config_t *c, const char *key, const char *v,
                                   char *errbuf, size_t errlen)
{
    config_endpoint_t ep;
    kl_err_t err = config_parse_listener(key, v, &ep, errbuf, errlen);
    if (err != KL_OK)
        return err;
    /* Empty host: bind every interface (Kafka binds the default one; for one broker on
     * one machine that is the same thing). */
    snprintf(c->listener_host, sizeof c->listener_host, "%s",
             ep.host[0] == '\0' ? "0.0.0.0" : ep.host);
    c->listener_port = ep.port;
    /* Kafka: "If advertised.listeners is not set, the value for listeners will be used." */
    if (!c->advertised_set)
        config_set_advertised(c, &ep);
    return KL_OK;
}

static kl_err_t config_h_advertised(kl_config_t *c, const char *key, const char *v,
                                    char *errbuf, size_t errlen)
{
    config_endpoint_t ep;
    kl_err_t err = config_parse_listener(key, v, &ep, errbuf, errlen);
    if (err != KL_OK)
        return err;
    config_set_advertised(c, &ep);
    c->advertised_set = true;
    return KL_OK;
}

/* ---- log directory --------------------------------------------------------------- */

static kl_err_t config_put_log_dir(kl_config_t *c, const char *key, const char *v,
                                   char *errbuf, size_t errlen)
{
    if (v[0] == '\0')
        return config_fail(errbuf, errlen, "%s: a directory is required", key);
    if (strchr(v, ',') != NULL)
        return config_fail(errbuf, errlen, "%s: only one directory is supported, got '%s'",
                           key, v);
    return config_copy(key, c->storage.log_dir, sizeof c->storage.log_dir, v, strlen(v),
                       errbuf, errlen);
}

static kl_err_t config_h_log_dirs(kl_config_t *c, const char *key, const char *v,
                                  char *errbuf, size_t errlen)
{
    kl_err_t err = config_put_log_dir(c, key, v, errbuf, errlen);
    if (err == KL_OK)
        c->log_dirs_set = true;
    return err;
}

static kl_err_t config_h_log_dir(kl_config_t *c, const char *key, const char *v,
                                 char *errbuf, size_t errlen)
{
    /* Kafka: log.dir is used only "if log.dirs is not set"; still validate it. */
    kl_storage_config_t keep = c->storage;
    kl_err_t err = config_put_log_dir(c, key, v, errbuf, errlen);
    if (err == KL_OK && c->log_dirs_set)
        c->storage = keep;
    return err;
}

/* ---- numbers and flags ------------------------------------------------------------ */

static kl_err_t config_h_num_partitions(kl_config_t *c, const char *key, const char *v,
                                        char *errbuf, size_t errlen)
{
    return config_parse_i32(key, v, 1, KL_PARTITIONS_MAX, &c->broker.num_partitions,
                            errbuf, errlen);
}

static kl_err_t config_h_replication(kl_config_t *c, const char *key, const char *v,
                                     char *errbuf, size_t errlen)
{
    int32_t n = 0;
    kl_err_t err = config_parse_i32(key, v, INT16_MIN, INT16_MAX, &n, errbuf, errlen);
    if (err != KL_OK)
        return err;
    /* Any other value would make every auto-created topic fail: say so at startup. */
    if (n != 1)
        return config_fail(errbuf, errlen, "%s: %d is not possible with a single broker "
                           "(only 1)", key, n);
    c->broker.default_replication_factor = (int16_t)n;
    return KL_OK;
}

static kl_err_t config_h_auto_create(kl_config_t *c, const char *key, const char *v,
                                     char *errbuf, size_t errlen)
{
    return config_parse_bool(key, v, &c->broker.auto_create_topics, errbuf, errlen);
}

static kl_err_t config_h_message_max(kl_config_t *c, const char *key, const char *v,
                                     char *errbuf, size_t errlen)
{
    return config_parse_i32(key, v, 0, INT32_MAX, &c->broker.message_max_bytes,
                            errbuf, errlen);
}

static kl_err_t config_h_request_max(kl_config_t *c, const char *key, const char *v,
                                     char *errbuf, size_t errlen)
{
    return config_parse_i32(key, v, 1, INT32_MAX, &c->socket_request_max_bytes,
                            errbuf, errlen);
}

static kl_err_t config_h_max_connections(kl_config_t *c, const char *key, const char *v,
                                         char *errbuf, size_t errlen)
{
    return config_parse_i32(key, v, 0, INT32_MAX, &c->max_connections, errbuf, errlen);
}

static kl_err_t config_h_segment_bytes(kl_config_t *c, const char *key, const char *v,
                                       char *errbuf, size_t errlen)
{
    /* Kafka: INT, atLeast(14) (the smallest legacy message). */
    return config_parse_i64(key, v, 14, INT32_MAX, &c->storage.segment_bytes, errbuf, errlen);
}

static kl_err_t config_h_index_interval(kl_config_t *c, const char *key, const char *v,
                                        char *errbuf, size_t errlen)
{
    return config_parse_i32(key, v, 0, INT32_MAX, &c->storage.index_interval_bytes,
                            errbuf, errlen);
}

static kl_err_t config_h_flush_messages(kl_config_t *c, const char *key, const char *v,
                                        char *errbuf, size_t errlen)
{
    return config_parse_i64(key, v, 1, INT64_MAX, &c->storage.flush_interval_messages,
                            errbuf, errlen);
}

static kl_err_t config_h_flush_ms(kl_config_t *c, const char *key, const char *v,
                                  char *errbuf, size_t errlen)
{
    /* -1 = never (our spelling of Kafka's unset default). */
    return config_parse_i64(key, v, -1, INT64_MAX, &c->storage.flush_interval_ms,
                            errbuf, errlen);
}

/* log.preallocate is needed twice: the storage acts on it (the partitions' default) and
 * DescribeConfigs reports it as the topics' preallocate default. Set here only, so the
 * two copies cannot disagree. */
static kl_err_t config_h_preallocate(kl_config_t *c, const char *key, const char *v,
                                     char *errbuf, size_t errlen)
{
    kl_err_t err = config_parse_bool(key, v, &c->storage.preallocate, errbuf, errlen);
    c->broker.preallocate = c->storage.preallocate;
    return err;
}

/* Kafka's KafkaConfig.logRetentionTimeMillis: log.retention.ms if set, else
 * log.retention.minutes if set, else log.retention.hours; a negative result is -1
 * (keep forever). Run after each of the three is set, so their order does not matter. */
static void config_resolve_retention(kl_config_t *c)
{
    int64_t ms = c->retention_ms_set ? c->retention_ms_given
               : c->retention_minutes_set ? c->retention_minutes_given * 60000
               : c->retention_hours * 3600000;
    c->broker.retention_ms = ms < 0 ? -1 : ms;
}

static kl_err_t config_h_retention_ms(kl_config_t *c, const char *key, const char *v,
                                      char *errbuf, size_t errlen)
{
    /* Kafka: LONG, no lower bound (negative = forever); hours and minutes scaled to ms
     * must fit a LONG too, which INT values always do. */
    kl_err_t err = config_parse_i64(key, v, INT64_MIN, INT64_MAX, &c->retention_ms_given,
                                    errbuf, errlen);
    if (err == KL_OK) {
        c->retention_ms_set = true;
        config_resolve_retention(c);
    }
    return err;
}

static kl_err_t config_h_retention_minutes(kl_config_t *c, const char *key, const char *v,
                                           char *errbuf, size_t errlen)
{
    kl_err_t err = config_parse_i64(key, v, INT32_MIN, INT32_MAX,
                                    &c->retention_minutes_given, errbuf, errlen);
    if (err == KL_OK) {
        c->retention_minutes_set = true;
        config_resolve_retention(c);
    }
    return err;
}

static kl_err_t config_h_retention_hours(kl_config_t *c, const char *key, const char *v,
                                         char *errbuf, size_t errlen)
{
    kl_err_t err = config_parse_i64(key, v, INT32_MIN, INT32_MAX, &c->retention_hours,
                                    errbuf, errlen);
    if (err == KL_OK)
        config_resolve_retention(c);
    return err;
}

/* Kafka's KafkaConfig.logRollTimeMillis: log.roll.ms if set, else log.roll.hours. Run
 * after each of the two is set, so their order does not matter. */
static void config_resolve_roll(kl_config_t *c)
{
    c->storage.roll_ms = c->roll_ms_set ? c->roll_ms_given : c->roll_hours * 3600000;
}

static kl_err_t config_h_roll_ms(kl_config_t *c, const char *key, const char *v,
                                 char *errbuf, size_t errlen)
{
    /* Kafka: LONG without a validator of its own, but it becomes every topic's segment.ms
     * default, which LogConfig checks with atLeast(1): refused here, at startup. */
    kl_err_t err = config_parse_i64(key, v, 1, INT64_MAX, &c->roll_ms_given, errbuf, errlen);
    if (err == KL_OK) {
        c->roll_ms_set = true;
        config_resolve_roll(c);
    }
    return err;
}

static kl_err_t config_h_roll_hours(kl_config_t *c, const char *key, const char *v,
                                    char *errbuf, size_t errlen)
{
    /* Kafka: INT, atLeast(1); scaled to ms it always fits a LONG. */
    kl_err_t err = config_parse_i64(key, v, 1, INT32_MAX, &c->roll_hours, errbuf, errlen);
    if (err == KL_OK)
        config_resolve_roll(c);
    return err;
}

static kl_err_t config_h_retention_bytes(kl_config_t *c, const char *key, const char *v,
                                         char *errbuf, size_t errlen)
{
    /* Kafka: LONG, default -1; any negative value means no size limit. */
    return config_parse_i64(key, v, INT64_MIN, INT64_MAX, &c->broker.retention_bytes,
                            errbuf, errlen);
}

static kl_err_t config_h_retention_check(kl_config_t *c, const char *key, const char *v,
                                         char *errbuf, size_t errlen)
{
    /* Kafka: LONG, atLeast(1). */
    return config_parse_i64(key, v, 1, INT64_MAX, &c->retention_check_interval_ms,
                            errbuf, errlen);
}

static kl_err_t config_h_node_id(kl_config_t *c, const char *key, const char *v,
                                 char *errbuf, size_t errlen)
{
    return config_parse_i32(key, v, 0, INT32_MAX, &c->broker.node_id, errbuf, errlen);
}

static kl_err_t config_h_log_level(kl_config_t *c, const char *key, const char *v,
                                   char *errbuf, size_t errlen)
{
    char lower[16];
    size_t n = strlen(v);
    if (n < sizeof lower) {
        for (size_t i = 0; i <= n; i++)
            lower[i] = (char)tolower((unsigned char)v[i]);
        int level = kl_log_level_parse(lower);
        if (level >= 0) {
            c->log_level = level;
            return KL_OK;
        }
    }
    return config_fail(errbuf, errlen, "%s: '%s' is not one of error, warn, info, debug",
                       key, v);
}

static kl_err_t config_h_trace(kl_config_t *c, const char *key, const char *v,
                               char *errbuf, size_t errlen)
{
    return config_parse_bool(key, v, &c->trace, errbuf, errlen);
}

/* ---- the property table ------------------------------------------------------------ */

typedef kl_err_t (*config_handler_fn)(kl_config_t *c, const char *key, const char *value,
                                      char *errbuf, size_t errlen);

static const struct config_property {
    const char *key;
    config_handler_fn set;
} config_properties[] = {
    { "listeners", config_h_listeners },
    { "advertised.listeners", config_h_advertised },
    { "log.dirs", config_h_log_dirs },
    { "log.dir", config_h_log_dir },
    { "num.partitions", config_h_num_partitions },
    { "default.replication.factor", config_h_replication },
    { "auto.create.topics.enable", config_h_auto_create },
    { "message.max.bytes", config_h_message_max },
    { "socket.request.max.bytes", config_h_request_max },
    { "max.connections", config_h_max_connections },
    { "log.segment.bytes", config_h_segment_bytes },
    { "log.index.interval.bytes", config_h_index_interval },
    { "log.flush.interval.messages", config_h_flush_messages },
    { "log.flush.interval.ms", config_h_flush_ms },
    { "log.preallocate", config_h_preallocate },
    { "log.retention.ms", config_h_retention_ms },
    { "log.retention.minutes", config_h_retention_minutes },
    { "log.retention.hours", config_h_retention_hours },
    { "log.retention.bytes", config_h_retention_bytes },
    { "log.retention.check.interval.ms", config_h_retention_check },
    { "log.roll.ms", config_h_roll_ms },
    { "log.roll.hours", config_h_roll_hours },
    { "node.id", config_h_node_id },
    { "broker.id", config_h_node_id },          /* the pre-KRaft name, same meaning */
    { "klamm.log.level", config_h_log_level },
    { "klamm.trace", config_h_trace },
};

#define KL_CONFIG_PROPERTIES (sizeof config_properties / sizeof config_properties[0])

const char *config_property_name(size_t i)
{
    return i < KL_CONFIG_PROPERTIES ? config_properties[i].key : NULL;
}

void config_defaults(kl_config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listener_host, sizeof c->listener_host, "127.0.0.1");
    c->listener_port = 9092;
    c->socket_request_max_bytes = 104857600;          /* Kafka: 100 MiB */
    c->max_connections = 1000;
    c->log_level = KL_LOG_INFO;
    c->broker.node_id = 1;
    snprintf(c->broker.advertised_host, sizeof c->broker.advertised_host, "127.0.0.1");
    c->broker.advertised_port = 9092;
    c->broker.num_partitions = 1;
    c->broker.default_replication_factor = 1;
    c->broker.auto_create_topics = true;
    c->broker.message_max_bytes = 1048588;            /* Kafka: 1 MiB + 12 bytes of log overhead */
    snprintf(c->broker.cluster_id, sizeof c->broker.cluster_id, "klamm-cluster");
    snprintf(c->storage.log_dir, sizeof c->storage.log_dir, "./data");
    c->storage.segment_bytes = 1073741824;            /* 1 GiB */
    c->storage.index_interval_bytes = 4096;
    /* Kafka's defaults never fsync on a schedule: durability comes from replication and
     * the OS page cache writes back on its own. One broker has no replicas, so set
     * these when a crash of the machine (not just the process) must lose nothing. */
    c->storage.flush_interval_messages = INT64_MAX;
    c->storage.flush_interval_ms = -1;
    /* log.preallocate: Kafka's default is false (its variant changes the file's length);
     * Klamm reserves with KEEP_SIZE, which leaves recovery alone, and saves ~14 % of the
     * broker's produce CPU on ext4 (docs/performance.md, round 3), so it is on. */
    c->storage.preallocate = true;
    c->broker.preallocate = c->storage.preallocate;
    /* Kafka: log.roll.hours=168, so a quiet partition's active segment is closed (and
     * becomes deletable by retention) at the first append a week after it started. */
    c->roll_hours = 168;
    config_resolve_roll(c);                           /* 604800000 ms */
    /* Kafka: log.retention.hours=168 (7 days), log.retention.bytes=-1 (no size limit),
     * checked every 5 minutes. */
    c->retention_hours = 168;
    config_resolve_retention(c);                      /* 604800000 ms */
    c->broker.retention_bytes = -1;
    c->retention_check_interval_ms = 300000;
}

/* Copy `v` without leading and trailing blanks (Kafka trims typed values too). */
static kl_err_t config_trim_value(const char *key, const char *v, char *out, size_t size,
                                  char *errbuf, size_t errlen)
{
    while (isspace((unsigned char)*v))
        v++;
    size_t n = strlen(v);
    while (n > 0 && isspace((unsigned char)v[n - 1]))
        n--;
    return config_copy(key, out, size, v, n, errbuf, errlen);
}

kl_err_t config_set(kl_config_t *c, const char *key, const char *value,
                    char *errbuf, size_t errlen)
{
    char v[KL_CONFIG_VALUE_BUF];
    for (size_t i = 0; i < KL_CONFIG_PROPERTIES; i++) {
        if (strcmp(key, config_properties[i].key) != 0)
            continue;
        if (config_trim_value(key, value, v, sizeof v, errbuf, errlen) != KL_OK)
            return KL_ERR_INVALID_CONFIG;
        return config_properties[i].set(c, key, v, errbuf, errlen);
    }
    return config_fail(errbuf, errlen, "unknown property '%s'", key);
}

/* ---- the properties file ------------------------------------------------------------- */

/* One line of a properties file, modified in place. Java's rule: the key ends at the
 * first '=', ':' or blank; blanks and one '=' or ':' separate it from the value. */
static kl_err_t config_apply_line(kl_config_t *c, char *line, char *errbuf, size_t errlen)
{
    char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0' || *p == '#' || *p == '!')
        return KL_OK;                                   /* blank or comment */
    char *key = p;
    while (*p != '\0' && *p != '=' && *p != ':' && !isspace((unsigned char)*p))
        p++;
    char *key_end = p;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '=' || *p == ':')
        p++;
    if (key_end == key)
        return config_fail(errbuf, errlen, "expected key=value");
    *key_end = '\0';
    return config_set(c, key, p, errbuf, errlen);
}

kl_err_t config_load_file(kl_config_t *c, const char *path, char *errbuf, size_t errlen)
{
    char msg[KL_CONFIG_ERRBUF_SIZE];
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    kl_err_t err = KL_OK;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return config_fail(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        err = config_apply_line(c, line, msg, sizeof msg);
        if (err != KL_OK) {
            config_fail(errbuf, errlen, "%s:%d: %s", path, lineno, msg);
            goto out;
        }
    }
    if (ferror(f))
        err = config_fail(errbuf, errlen, "%s: read error: %s", path, strerror(errno));
out:
    free(line);
    fclose(f);
    return err;
}

/* ---- cross-checks and the command line ------------------------------------------------ */

/* 0.0.0.0, or :: in any spelling (::0, 0:0:0:0:0:0:0:0). */
static bool config_is_unspecified(const char *h)
{
    struct in6_addr a;
    return strcmp(h, "0.0.0.0") == 0 ||
           (inet_pton(AF_INET6, h, &a) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a));
}

kl_err_t config_finalize(kl_config_t *c, char *errbuf, size_t errlen)
{
    const char *h = c->broker.advertised_host;
    /* Kafka: "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0".
     * A client told to connect to 0.0.0.0 would connect to itself; the same goes for
     * IPv6's unspecified address ::, which Kafka's check does not spell out. */
    if (config_is_unspecified(h))
        return config_fail(errbuf, errlen, "advertised.listeners: cannot advertise the "
                           "non-routable address %s; set advertised.listeners to a host "
                           "clients can reach", h);
    return KL_OK;
}

bool config_is_usage(const char *errbuf)
{
    return errbuf != NULL &&
           strncmp(errbuf, KL_CONFIG_USAGE_PREFIX, strlen(KL_CONFIG_USAGE_PREFIX)) == 0;
}

/* Append to buf[len] at *pos what fits (a cut text is what test_config.c guards
 * against: KL_CONFIG_ERRBUF_SIZE holds the whole of it). */
static void config_append(char *buf, size_t len, size_t *pos, const char *s)
{
    int n = snprintf(buf + *pos, len - *pos, "%s", s);
    size_t room = len - *pos - 1;
    *pos += (size_t)n < room ? (size_t)n : room;
}

/* The property names, straight from config_properties (so --help cannot fall behind
 * it), a few to a line of at most KL_CONFIG_HELP_WIDTH columns. */
#define KL_CONFIG_HELP_WIDTH 78

static void config_usage_names(char *buf, size_t len, size_t *pos)
{
    size_t col = 0;
    for (size_t i = 0; i < KL_CONFIG_PROPERTIES; i++) {
        const char *key = config_properties[i].key;
        bool wrap = col == 0 || col + 1 + strlen(key) > KL_CONFIG_HELP_WIDTH;
        config_append(buf, len, pos, wrap ? "\n  " : " ");
        config_append(buf, len, pos, key);
        col = (wrap ? 2 : col + 1) + strlen(key);
    }
}

static kl_err_t config_usage(char *errbuf, size_t errlen)
{
    size_t pos = 0;
    if (errbuf == NULL || errlen == 0)
        return KL_ERR_INVALID_CONFIG;
    errbuf[0] = '\0';
    config_append(errbuf, errlen, &pos, KL_CONFIG_USAGE_PREFIX
        " klamm [server.properties] [--override key=value]... [--trace] [--help|-h]\n"
        "--override applies after the file. Properties, Kafka's names:");
    config_usage_names(errbuf, errlen, &pos);
    config_append(errbuf, errlen, &pos, "\nDefault: PLAINTEXT://127.0.0.1:9092, "
                  "log.dirs=./data; see docs/configuration.md");
    return KL_ERR_INVALID_CONFIG;
}

/* Split "key=value" into key (copied to keybuf) and a pointer to the value. */
static kl_err_t config_split_override(const char *arg, char *keybuf, size_t keysize,
                                      const char **value, char *errbuf, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return config_fail(errbuf, errlen, "--override: expected key=value, got '%s'", arg);
    size_t n = (size_t)(eq - arg);
    if (n >= keysize)
        return config_fail(errbuf, errlen, "unknown property '%.*s'", (int)n, arg);
    memcpy(keybuf, arg, n);
    keybuf[n] = '\0';
    *value = eq + 1;
    return KL_OK;
}

/* First pass: find the file, reject unknown options, answer --help. */
static kl_err_t config_scan_args(int argc, char **argv, const char **file,
                                 char *errbuf, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return config_usage(errbuf, errlen);
        if (strcmp(a, "--override") == 0) {
            if (++i >= argc)
                return config_fail(errbuf, errlen, "--override needs key=value");
        } else if (strcmp(a, "--trace") == 0) {
            continue;                   /* applied with the overrides */
        } else if (a[0] == '-' && a[1] != '\0') {
            return config_fail(errbuf, errlen, "unknown option '%s' (try --help)", a);
        } else if (*file != NULL) {
            return config_fail(errbuf, errlen, "only one properties file may be given "
                               "('%s' and '%s')", *file, a);
        } else {
            *file = a;
        }
    }
    return KL_OK;
}

/* Second pass: every --override, in order. */
static kl_err_t config_apply_overrides(kl_config_t *c, int argc, char **argv,
                                       char *errbuf, size_t errlen)
{
    char key[KL_CONFIG_KEY_BUF];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trace") == 0)
            c->trace = true;
        if (strcmp(argv[i], "--override") != 0)
            continue;
        const char *value = NULL;
        kl_err_t err = config_split_override(argv[++i], key, sizeof key, &value,
                                             errbuf, errlen);
        if (err == KL_OK)
            err = config_set(c, key, value, errbuf, errlen);
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

kl_err_t config_parse_args(kl_config_t *c, int argc, char **argv, char *errbuf, size_t errlen)
{
    const char *file = NULL;
    config_defaults(c);
    kl_err_t err = config_scan_args(argc, argv, &file, errbuf, errlen);
    if (err == KL_OK && file != NULL)
        err = config_load_file(c, file, errbuf, errlen);
    if (err == KL_OK)
        err = config_apply_overrides(c, argc, argv, errbuf, errlen);
    if (err == KL_OK)
        err = config_finalize(c, errbuf, errlen);
    return err;
}
