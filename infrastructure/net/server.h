/*
 * infrastructure/net/server.h — a single-threaded poll(2) TCP server speaking
 * Kafka's framing (int32 size + bytes), with per-connection in-order responses and
 * parked requests (Fetch long-poll, group joins) retried on timers.
 * Layer: infrastructure. May touch: sockets, poll, protocol/api.h, logging, clock.
 */
#ifndef KL_INFRA_NET_SERVER_H
#define KL_INFRA_NET_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "domain/error.h"
#include "infrastructure/logging.h"
#include "infrastructure/protocol/api.h"

typedef struct kl_server kl_server_t;

/* How the server hands a frame to the protocol. The server owns framing and timing;
 * the callee owns meaning. `req` has now_ms, first_attempt_ms, final_attempt, conn_id
 * filled; the callee fills the rest and returns what to do. */
typedef struct kl_frame_handler {
    void *arg;
    kl_reply_t (*on_frame)(void *arg, kl_request_t *req, const uint8_t *frame, size_t len,
                           kl_writer_t *out);
    void (*on_tick)(void *arg, int64_t now_ms);           /* timers: flush, group expiry */
    void (*on_disconnect)(void *arg, uint64_t conn_id);   /* may be NULL */
} kl_frame_handler_t;

typedef struct kl_server_options {
    const char *host;                  /* listen address, e.g. "127.0.0.1" or "0.0.0.0" */
    int port;                          /* 0 = any free port (see server_port) */
    int32_t max_frame_bytes;           /* socket.request.max.bytes */
    int32_t max_connections;           /* max.connections */
    int tick_interval_ms;              /* how often on_tick runs at most (e.g. 100) */
} kl_server_options_t;

kl_err_t server_open(kl_server_t **out, const kl_server_options_t *opts,
                     kl_frame_handler_t handler, const kl_log_t *log);
/* The bound port (useful with port 0). */
int server_port(const kl_server_t *s);
/* Serve until *stop becomes non-zero (set by a signal handler). */
kl_err_t server_run(kl_server_t *s, volatile sig_atomic_t *stop);
/* One poll iteration, waiting at most timeout_ms: the seam tests drive. */
kl_err_t server_poll_once(kl_server_t *s, int timeout_ms);
void server_close(kl_server_t *s);

#endif
