/*
 * infrastructure/config.h — broker configuration from a server.properties file and
 * `--override key=value` flags, using Apache Kafka's own property names.
 * Layer: infrastructure. May touch: application/broker.h, storage config, <stdio.h>.
 *
 * Supported properties (Kafka's names; anything else is an error, so a typo never
 * silently falls back to a default):
 *   listeners                    PLAINTEXT://host:port or PLAINTEXT://[v6addr]:port (one
 *                                listener; empty host = all IPv4 interfaces; [::] = all,
 *                                both families; port 0 = any free port)
 *   advertised.listeners         the same forms; unset = follow `listeners`. A bracketed
 *                                host is kept (and advertised) without its brackets.
 *   log.dirs (alias log.dir)     one directory; log.dirs wins over log.dir, as in Kafka
 *   num.partitions, default.replication.factor, auto.create.topics.enable,
 *   message.max.bytes, socket.request.max.bytes, max.connections, log.segment.bytes,
 *   log.index.interval.bytes, log.flush.interval.messages, log.flush.interval.ms,
 *   log.preallocate (true|false: reserve segment blocks ahead, storage/partition_log.h;
 *   a topic's preallocate overrides it),
 *   log.retention.ms / log.retention.minutes / log.retention.hours (Kafka's precedence:
 *   ms over minutes over hours, whatever order they are given in; negative = forever),
 *   log.retention.bytes, log.retention.check.interval.ms,
 *   log.roll.ms / log.roll.hours (the segment.ms default; ms wins over hours, whatever
 *   order they are given in, as in Kafka),
 *   node.id (alias broker.id), klamm.log.level (error|warn|info|debug),
 *   klamm.trace (true|false: print every request and response decoded to stderr,
 *   infrastructure/protocol/trace.h; also the --trace flag).
 */
#ifndef KL_INFRA_CONFIG_H
#define KL_INFRA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "application/broker.h"
#include "domain/error.h"
#include "infrastructure/storage/log_dir.h"

/* The errbuf size to use: any message fits, and so does the --help text, every property
 * name included (test_config.c:test_args_help checks it arrives whole). */
#define KL_CONFIG_ERRBUF_SIZE 1024
/* config_parse_args puts this in front of the usage text it returns for --help/-h. */
#define KL_CONFIG_USAGE_PREFIX "usage:"

typedef struct kl_config {
    char listener_host[KL_HOST_MAX + 1];  /* listeners=PLAINTEXT://host:port ("::1" for [::1]) */
    int32_t listener_port;
    int32_t socket_request_max_bytes;     /* socket.request.max.bytes: larger frame → close */
    int32_t max_connections;              /* max.connections */
    int log_level;                        /* klamm.log.level: error|warn|info|debug */
    bool trace;                           /* klamm.trace / --trace: the protocol x-ray */
    kl_broker_config_t broker;
    kl_storage_config_t storage;
    int64_t retention_check_interval_ms;  /* log.retention.check.interval.ms */
    /* log.retention.{ms,minutes,hours} as given; broker.retention_ms is resolved from
     * them after each one is set (config.c:config_resolve_retention). */
    int64_t retention_ms_given;
    int64_t retention_minutes_given;
    int64_t retention_hours;              /* log.retention.hours: 168 */
    bool retention_ms_set;                /* log.retention.ms given */
    bool retention_minutes_set;           /* log.retention.minutes given */
    /* log.roll.{ms,hours} as given; storage.roll_ms is resolved from them after each
     * one is set (config.c:config_resolve_roll). */
    int64_t roll_ms_given;
    int64_t roll_hours;                   /* log.roll.hours: 168 */
    bool roll_ms_set;                     /* log.roll.ms given */
    bool advertised_set;                  /* advertised.listeners given explicitly */
    bool log_dirs_set;                    /* log.dirs given (then log.dir is ignored) */
} kl_config_t;

/* Kafka's defaults (listeners PLAINTEXT://127.0.0.1:9092, log.dirs ./data, …). */
void config_defaults(kl_config_t *c);

/* Apply one property by its Kafka name. Unknown keys and bad values: KL_ERR_INVALID_CONFIG
 * with a message in errbuf naming the key. Leading/trailing blanks of the value are ignored. */
kl_err_t config_set(kl_config_t *c, const char *key, const char *value,
                    char *errbuf, size_t errlen);

/* Read a Java-properties-style file (key=value, key: value or key value; '#' and '!'
 * comments; blanks trimmed; no line continuations or escapes). Errors name "path:line". */
kl_err_t config_load_file(kl_config_t *c, const char *path, char *errbuf, size_t errlen);

/* Cross-property checks once everything is set: the advertised host must be routable
 * (Kafka refuses to advertise 0.0.0.0 / ::). */
kl_err_t config_finalize(kl_config_t *c, char *errbuf, size_t errlen);

/* Command line: [server.properties] [--override key=value]... [--trace] [--help|-h].
 * --trace is klamm.trace=true, applied with the overrides.
 * Starts from config_defaults, loads the file, then applies every --override in order
 * (after the file, wherever they appear), then config_finalize. advertised.listeners
 * defaults to the listener when unset. --help/-h: KL_ERR_INVALID_CONFIG with errbuf
 * holding the usage text, which starts with KL_CONFIG_USAGE_PREFIX (see config_is_usage). */
kl_err_t config_parse_args(kl_config_t *c, int argc, char **argv, char *errbuf, size_t errlen);

/* The i-th property name config_set accepts, in its table's order; NULL past the last.
 * --help lists them all from the same table, so the list cannot drift from it. */
const char *config_property_name(size_t i);

/* True when errbuf holds the --help text rather than an error (main exits 0 then). */
bool config_is_usage(const char *errbuf);

#endif
