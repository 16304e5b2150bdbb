/*
 * infrastructure/logging.c — one-line, timestamped log records.
 * Layer: infrastructure. May touch: <stdio.h>, <time.h>.
 *
 * One fprintf per record (a single write for line-buffered stderr), so lines from the
 * broker never interleave mid-line even when a test reads stderr concurrently.
 */
#include "infrastructure/logging.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static const char *const kl_log_level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void kl_log_write(const kl_log_t *log, kl_log_level_t level, const char *module,
                  const char *fmt, ...)
{
    if (log == NULL || log->out == NULL || level > log->level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(log->out, "%s.%03ldZ %-5s [%s] %s\n", when, ts.tv_nsec / 1000000,
            kl_log_level_names[level], module, msg);
    fflush(log->out);
}

int kl_log_level_parse(const char *name)
{
    static const char *const lower[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (strcmp(name, lower[i]) == 0)
            return i;
    return -1;
}
