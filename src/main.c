/*
 * src/main.c — the composition root: configuration → log directory and offset log
 * (storage adapters) → broker and group coordinator (use cases) → protocol dispatch →
 * poll server. Nothing else in Klamm knows which concrete adapter sits behind a port;
 * this file is where that is decided.
 * Layer: src. May touch: every layer. The only file with global mutable state: the
 * stop flag a signal handler sets.
 *
 * Startup order matters (docs/architecture.md): the log directory is opened and every
 * partition recovered *before* the listener accepts a connection, so no client can
 * see a half-recovered log.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application/broker.h"
#include "application/group_coordinator.h"
#include "application/retention_enforce.h"
#include "infrastructure/clock.h"
#include "infrastructure/config.h"
#include "infrastructure/logging.h"
#include "infrastructure/net/connection.h"
#include "infrastructure/net/server.h"
#include "infrastructure/protocol/api.h"
#include "infrastructure/protocol/trace.h"
#include "infrastructure/storage/log_dir.h"
#include "infrastructure/storage/offset_log.h"

/* Set by SIGINT/SIGTERM; server_run polls it between iterations. */
static volatile sig_atomic_t main_stop_requested = 0;

static void main_on_signal(int sig)
{
    (void)sig;
    main_stop_requested = 1;
}

/* Everything the frame handler needs, bundled so the server can hand it back. */
typedef struct klamm_app {
    kl_config_t config;
    kl_log_t log;
    kl_log_dir_t *log_dir;
    offset_log_t *offsets;
    kl_broker_t broker;
    coord_t coord;              /* must not move after coord_init: lives here for good */
    int64_t retention_due_ms;   /* tick time of the next retention run; -1 = not armed yet */
} klamm_app_t;

/* The protocol x-ray (--trace): the request as received — before a handler may rewrite
 * it (Produce assigns base offsets) and only on its first attempt (a parked retry comes
 * with park_until_ms already set) — and the response once there is one. The size
 * prefix dispatch wrote is skipped. */
static kl_reply_t main_on_frame_traced(kl_request_t *req, uint8_t *frame, size_t len,
                                       kl_writer_t *out)
{
    if (req->park_until_ms == 0)
        trace_request(stderr, req->conn_id, frame, len);
    kl_reply_t reply = protocol_dispatch(req, frame, len, out);
    if (reply == KL_REPLY_SEND && !conn_inline_files(out))    /* Fetch's file ranges */
        return KL_REPLY_CLOSE;
    if (reply == KL_REPLY_SEND && out->len >= 4)
        trace_response(stderr, req->conn_id, req->header.api_key, req->header.api_version,
                       out->buf + 4, out->len - 4);
    return reply;
}

static kl_reply_t main_on_frame(void *arg, kl_request_t *req, uint8_t *frame, size_t len,
                                kl_writer_t *out)
{
    klamm_app_t *app = arg;
    req->broker = &app->broker;
    req->coord = &app->coord;
    req->log = &app->log;
    if (app->config.trace)      /* the one branch tracing costs when it is off */
        return main_on_frame_traced(req, frame, len, out);
    return protocol_dispatch(req, frame, len, out);
}

/* Kafka's LogManager schedules "kafka-log-retention" every
 * log.retention.check.interval.ms (first run after one interval here; Kafka waits a
 * fixed 30 s). It runs on the poll thread between requests, so no read is in flight
 * while segments are deleted. One line per run that deleted something or failed;
 * storage logs one line per deleted segment. */
static void main_retention_tick(klamm_app_t *app, int64_t now_ms)
{
    int64_t interval = app->config.retention_check_interval_ms;
    if (app->retention_due_ms < 0)
        app->retention_due_ms = now_ms + interval;
    if (now_ms < app->retention_due_ms)
        return;
    app->retention_due_ms = now_ms + interval;
    kl_retention_report_t r;
    kl_err_t err = retention_enforce(&app->broker, &r);
    if (r.segments_deleted > 0)
        KL_LOG_INF(&app->log, "retention", "deleted %d segment(s), %lld bytes (%d by "
                   "retention.ms, %d by retention.bytes) in %d partition(s) checked",
                   r.segments_deleted, (long long)r.bytes_deleted, r.by_time,
                   r.segments_deleted - r.by_time, r.partitions_checked);
    if (err != KL_OK)
        KL_LOG_ERR(&app->log, "retention", "%d partition(s) failed, first error %s",
                   r.partitions_failed, kl_err_name(err));
}

static void main_on_tick(void *arg, int64_t now_ms)
{
    klamm_app_t *app = arg;
    log_dir_tick(app->log_dir, now_ms);
    main_retention_tick(app, now_ms);
    coord_tick(&app->coord);    /* session expiry, overdue rebalances */
}

static void main_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);   /* a client vanishing mid-write is an error value, not a death */
}

static int main_load_config(klamm_app_t *app, int argc, char **argv)
{
    char err[KL_CONFIG_ERRBUF_SIZE] = "";     /* holds --help's whole text too */
    config_defaults(&app->config);
    if (config_parse_args(&app->config, argc, argv, err, sizeof err) != KL_OK) {
        fprintf(stderr, "%s\n", err);
        return config_is_usage(err) ? 0 : 2;
    }
    app->log.out = stderr;
    app->log.level = (kl_log_level_t)app->config.log_level;
    const char *env_trace = getenv("KLAMM_TRACE");      /* KLAMM_TRACE=1: --trace */
    if (env_trace != NULL && env_trace[0] != '\0' && strcmp(env_trace, "0") != 0)
        app->config.trace = true;
    return -1;  /* go on */
}

int main(int argc, char **argv)
{
    static klamm_app_t app;     /* large (config paths): keep it off the stack */
    kl_server_t *server = NULL;
    app.retention_due_ms = -1;
    int rc = main_load_config(&app, argc, argv);
    if (rc >= 0)
        return rc;
    rc = 1;

    if (log_dir_open(&app.log_dir, &app.config.storage, &app.log) != KL_OK)
        goto out;
    kl_err_t err = broker_init(&app.broker, &app.config.broker, log_dir_store(app.log_dir),
                               clock_real());
    if (err != KL_OK) {
        KL_LOG_ERR(&app.log, "main", "cannot load topics from %s: %s",
                   app.config.storage.log_dir, kl_err_name(err));
        goto out_dir;
    }

    /* Committed offsets follow the log flush policy, as Kafka's __consumer_offsets
     * topic does: write(2) per commit survives kill -9 (the page cache is the kernel's);
     * with log.flush.interval.messages=1 every commit is also fsync'd (power loss). */
    offset_log_options_t oopts = offset_log_options_default();
    oopts.sync_commits = app.config.storage.flush_interval_messages <= 1;
    if (offset_log_open(&app.offsets, app.config.storage.log_dir, &oopts, &app.log) != KL_OK)
        goto out_broker;
    coord_config_t ccfg = coord_config_default();
    group_id_source_t ids = { 0 };
    err = coord_init(&app.coord, &ccfg, clock_real(), offset_log_store(app.offsets), ids);
    if (err != KL_OK) {
        KL_LOG_ERR(&app.log, "main", "cannot load committed offsets: %s", kl_err_name(err));
        goto out_offsets;
    }

    kl_server_options_t opts = {
        .host = app.config.listener_host,
        .port = app.config.listener_port,
        .max_frame_bytes = app.config.socket_request_max_bytes,
        .max_connections = app.config.max_connections,
        .tick_interval_ms = 100,
    };
    kl_frame_handler_t handler = { .arg = &app, .on_frame = main_on_frame,
                                   .on_tick = main_on_tick, .on_disconnect = NULL };
    if (server_open(&server, &opts, handler, &app.log) != KL_OK)
        goto out_coord;

    main_install_signals();
    /* An IPv6 host goes back into brackets, the form `listeners` takes. */
    bool v6 = strchr(app.config.listener_host, ':') != NULL;
    KL_LOG_INF(&app.log, "main", "Klamm node %d ready: PLAINTEXT://%s%s%s:%d, log.dirs=%s",
               app.config.broker.node_id, v6 ? "[" : "", app.config.listener_host,
               v6 ? "]" : "", server_port(server), app.config.storage.log_dir);
    rc = server_run(server, &main_stop_requested) == KL_OK ? 0 : 1;
    KL_LOG_INF(&app.log, "main", "shutting down");
    server_close(server);
out_coord:
    coord_close(&app.coord);
out_offsets:
    offset_log_close(app.offsets);
out_broker:
    broker_close(&app.broker);
out_dir:
    log_dir_close(app.log_dir);
out:
    return rc;
}
