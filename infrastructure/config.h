/*
 * infrastructure/config.h — broker configuration from a server.properties file and
 * `--override key=value` flags, using Apache Kafka's own property names.
 * Layer: infrastructure. May touch: application/broker.h, storage config, <stdio.h>.
 */
#ifndef KL_INFRA_CONFIG_H
#define KL_INFRA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "application/broker.h"
#include "domain/error.h"
#include "infrastructure/storage/log_dir.h"

typedef struct kl_config {
    char listener_host[KL_HOST_MAX + 1];  /* listeners=PLAINTEXT://host:port */
    int32_t listener_port;
    int32_t socket_request_max_bytes;     /* socket.request.max.bytes: larger frame → close */
    int32_t max_connections;              /* max.connections */
    int log_level;                        /* klamm.log.level: error|warn|info|debug */
    kl_broker_config_t broker;
    kl_storage_config_t storage;
} kl_config_t;

/* Kafka's defaults (listeners PLAINTEXT://127.0.0.1:9092, log.dirs ./data, …). */
void config_defaults(kl_config_t *c);

/* Apply one property by its Kafka name. Unknown keys and bad values: KL_ERR_INVALID_CONFIG
 * with a message in errbuf. */
kl_err_t config_set(kl_config_t *c, const char *key, const char *value,
                    char *errbuf, size_t errlen);

/* Read a Java-properties-style file (key=value, '#' and '!' comments). */
kl_err_t config_load_file(kl_config_t *c, const char *path, char *errbuf, size_t errlen);

/* Command line: [server.properties] [--override key=value]... [--help].
 * Leaves advertised.listeners defaulting to the listener when unset. */
kl_err_t config_parse_args(kl_config_t *c, int argc, char **argv, char *errbuf, size_t errlen);

#endif
