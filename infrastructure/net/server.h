/*
 * infrastructure/net/server.h — a single-threaded poll(2) TCP server speaking
 * Kafka's framing (int32 size + bytes), with per-connection in-order responses and
 * parked requests (Fetch long-poll, group joins) retried on timers.
 * Layer: infrastructure. May touch: sockets, poll, protocol/api.h, logging, clock.
 */
#ifndef KL_INFRA_NET_SERVER_H
#define KL_INFRA_NET_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "infrastructure/logging.h"
#include "infrastructure/protocol/api.h"

typedef struct kl_server kl_server_t;

/* How the server hands a frame to the protocol. The server owns framing and timing;
 * the callee owns meaning. `req` has now_ms, first_attempt_ms, final_attempt, conn_id
 * and log filled; the callee fills the rest and returns what to do. `frame` is the
 * payload after the size prefix, inside the connection's read buffer; it stays where
 * it is, unchanged by the server, until the request is answered.
 *
 * KL_REPLY_PARK: set req->park_until_ms (monotonic). The same frame is offered again,
 * with the same first_attempt_ms and park_until_ms pre-filled, after each poll
 * iteration in which another request was handled, and with final_attempt = true once
 * the deadline has passed. Requests behind it on the same connection wait. */
typedef struct kl_frame_handler {
    void *arg;
    kl_reply_t (*on_frame)(void *arg, kl_request_t *req, uint8_t *frame, size_t len,
                           kl_writer_t *out);
    void (*on_tick)(void *arg, int64_t now_ms);           /* timers: flush, group expiry */
    void (*on_disconnect)(void *arg, uint64_t conn_id);   /* may be NULL */
} kl_frame_handler_t;

typedef struct kl_server_options {
    const char *host;                  /* listen address, e.g. "127.0.0.1", "0.0.0.0",
                                          "::1" or "::" (IPv6 without brackets; "::" is
                                          dual-stack), or a name (its IPv4 address first) */
    int port;                          /* 0 = any free port (see server_port) */
    int32_t max_frame_bytes;           /* socket.request.max.bytes */
    int32_t max_connections;           /* max.connections; <= 0 = no limit */
    int tick_interval_ms;              /* how often on_tick runs at most (e.g. 100) */
    size_t max_queued_bytes;           /* unsent response bytes per connection before the
                                          server stops reading it; 0 = 8 MiB */
} kl_server_options_t;

/* What the server holds, for tests and diagnostics. */
typedef struct kl_server_stats {
    size_t connections;
    size_t queued_bytes;               /* unsent response bytes, all connections */
    size_t max_conn_queued_bytes;      /* the largest single connection's unsent bytes */
    size_t buffered_bytes;             /* received request bytes not yet answered */
    size_t memory_bytes;               /* buffer capacities held for all connections */
    uint64_t accepted;                 /* connections accepted and served */
    uint64_t rejected;                 /* connections closed at once (max.connections) */
} kl_server_stats_t;

kl_err_t server_open(kl_server_t **out, const kl_server_options_t *opts,
                     kl_frame_handler_t handler, const kl_log_t *log);
/* The bound port (useful with port 0). */
int server_port(const kl_server_t *s);
/* Serve until *stop becomes non-zero (set by a signal handler); then give queued
 * answers up to 0.5 s to leave, close every connection and return. */
kl_err_t server_run(kl_server_t *s, volatile sig_atomic_t *stop);
/* One poll iteration, waiting at most timeout_ms: the seam tests drive. */
kl_err_t server_poll_once(kl_server_t *s, int timeout_ms);
/* Close remaining connections (on_disconnect for each) and the listener; free all. */
void server_close(kl_server_t *s);
void server_stats(const kl_server_t *s, kl_server_stats_t *out);

#endif
