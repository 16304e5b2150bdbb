/*
 * infrastructure/logging.h — one-line log records to a stream (stderr by default).
 * Layer: infrastructure. May touch: <stdio.h>.
 *
 * The logger is a value passed to whoever logs (server, storage), never a global,
 * so a test can hand in a logger writing to a memory stream, or NULL for silence.
 */
#ifndef KL_INFRA_LOGGING_H
#define KL_INFRA_LOGGING_H

#include <stdio.h>

typedef enum kl_log_level {
    KL_LOG_ERROR = 0, KL_LOG_WARN = 1, KL_LOG_INFO = 2, KL_LOG_DEBUG = 3,
} kl_log_level_t;

typedef struct kl_log {
    FILE *out;
    kl_log_level_t level;    /* records above this level are dropped */
} kl_log_t;

/* Format: "2026-11-23T06:30:58.123Z INFO  [module] message\n". `log` may be NULL. */
void kl_log_write(const kl_log_t *log, kl_log_level_t level, const char *module,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Parse "error" / "warn" / "info" / "debug"; -1 when unknown. */
int kl_log_level_parse(const char *name);

#define KL_LOG_ERR(log, mod, ...) kl_log_write((log), KL_LOG_ERROR, (mod), __VA_ARGS__)
#define KL_LOG_WARNING(log, mod, ...) kl_log_write((log), KL_LOG_WARN, (mod), __VA_ARGS__)
#define KL_LOG_INF(log, mod, ...) kl_log_write((log), KL_LOG_INFO, (mod), __VA_ARGS__)
#define KL_LOG_DBG(log, mod, ...) kl_log_write((log), KL_LOG_DEBUG, (mod), __VA_ARGS__)

#endif
