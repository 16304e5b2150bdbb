/*
 * infrastructure/net/server.c — the broker's network loop: one thread, poll(2),
 * non-blocking sockets, Kafka framing, in-order answers, parked requests.
 * Layer: infrastructure. May touch: sockets, poll, net/connection.h, logging, clock.
 *
 * One iteration (server_poll_once):
 *   1. build the pollset: the listener, and per connection POLLIN only when it may
 *      be read (connection.c's back-pressure rule) and POLLOUT only with bytes queued;
 *   2. poll, with the nearest of: the caller's timeout, the next tick, parked deadlines
 *      (0 when a parked request has a retry owed);
 *   3. per ready connection: read, then "pump": answer buffered frames one at a time
 *      and send, until the connection parks, runs out of frames or its queue fills;
 *   4. accept new connections;
 *   5. retry parked requests if any other request was dispatched since their last
 *      attempt (it may have produced what they wait for), final attempts when due;
 *   6. on_tick when due (and idle connections give back big buffers); close what was
 *      marked for closing.
 *
 * Why one request at a time per connection: Kafka promises in-order answers per
 * connection and the broker mutes a channel while a request is in flight; doing the
 * same keeps a parked request's frame in place and the read buffer bounded.
 * Cost: O(connections) per iteration for the pollset and timeouts — fine for the
 * hundreds of connections a single broker sees; epoll would be the next step.
 */
#include "infrastructure/net/server.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "infrastructure/clock.h"
#include "infrastructure/net/connection.h"

#define SERVER_LOG "net"
#define SERVER_DEFAULT_QUEUE (8u * 1024u * 1024u)
#define SERVER_DEFAULT_TICK_MS 100
#define SERVER_ACCEPT_BURST 64    /* accepts per iteration: others get a turn too */
#define SERVER_READ_BURST 4       /* recv() calls per connection per iteration */
#define SERVER_ACCEPT_PAUSE_MS 100/* after EMFILE: the listener would spin otherwise */
#define SERVER_DRAIN_MS 500       /* shutdown: how long to try flushing answers */
#define SERVER_LOWAT_MAX (1u << 20) /* SO_RCVLOWAT cap: see server_conn_lowat */

struct kl_server {
    kl_server_options_t opts;     /* opts.host is not kept: only used by server_open */
    size_t max_queued;
    kl_frame_handler_t handler;
    const kl_log_t *log;
    int listen_fd;
    int port;

    kl_conn_t **conns;            /* unordered; closed ones are swap-removed */
    size_t nconns, conns_cap;
    struct pollfd *pfds;          /* [0] listener, [1 + i] conns[i] */
    size_t pfds_cap;

    uint64_t next_id;
    uint64_t seq;                 /* first attempts dispatched so far (retry trigger) */
    int64_t next_tick_ms;
    int64_t accept_paused_until;
    uint64_t accepted, rejected;
};

/* ---- addresses ----------------------------------------------------------------- */

/* "ip:port" for IPv4, "[v6addr]:port" for IPv6 (with "%scope" inside the brackets for a
 * link-local peer) — the form a client would type. An IPv4-mapped address (an IPv4
 * client of a dual-stack [::] listener) is shown as the IPv4 address it is, as Java's
 * InetAddress does. For log lines only: connection.c spells Kafka's client_host from
 * the sockaddr itself (conn_init). */
static void server_addr_name(const struct sockaddr_storage *ss, char *dst, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        snprintf(dst, cap, "%s:%d", ip, ntohs(sin->sin_port));
        return;
    }
    if (ss->ss_family != AF_INET6) {
        snprintf(dst, cap, "?");
        return;
    }
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    int port = ntohs(sin6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
        inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip, sizeof ip);
        snprintf(dst, cap, "%s:%d", ip, port);
    } else {
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        if (sin6->sin6_scope_id != 0)
            snprintf(dst, cap, "[%s%%%u]:%d", ip, (unsigned)sin6->sin6_scope_id, port);
        else
            snprintf(dst, cap, "[%s]:%d", ip, port);
    }
}

/* ---- listening ----------------------------------------------------------------- */

static int server_bind(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    /* Restarting the broker must not wait for TIME_WAIT of old connections. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        goto err;
    /* Dual stack: the JVM opens its IPv6 sockets with IPV6_V6ONLY off (sun.nio.ch.Net),
     * so a Kafka broker with listeners=PLAINTEXT://[::]:9092 also takes IPv4 clients,
     * whatever the OS default (Linux: net.ipv6.bindv6only). Kafka users expect the
     * same here. It only matters for ::; a specific address such as ::1 has one family
     * anyway. Where the OS has no dual stack the call fails and the listener stays
     * IPv6-only — still a working listener, so the failure is ignored. */
    if (ai->ai_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0)
        goto err;
    return fd;
err:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* Bind the first address of `res` that works, IPv4 ones first: Kafka binds
 * new InetSocketAddress(host, port), and Java resolves a name to its IPv4 address
 * before its IPv6 one (java.net.preferIPv6Addresses=false), so "localhost" with both
 * 127.0.0.1 and ::1 listens on 127.0.0.1 as it always did here. An IPv6 literal ("::1",
 * "::") resolves to IPv6 only. Returns errno of the last failure, 0 on success. */
static int server_bind_first(kl_server_t *s, const struct addrinfo *res)
{
    int err = EADDRNOTAVAIL;
    for (int v4_pass = 1; v4_pass >= 0; v4_pass--) {
        for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
            if ((ai->ai_family == AF_INET) != v4_pass)
                continue;
            s->listen_fd = server_bind(ai);
            if (s->listen_fd >= 0)
                return 0;
            err = errno;
        }
    }
    return err;
}

/* `host`: an IPv4 or IPv6 literal ("127.0.0.1", "0.0.0.0", "::1", "::", without
 * brackets) or a name such as "localhost"; NULL or "" = every IPv4 interface. */
static kl_err_t server_listen(kl_server_t *s, const char *host)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", s->opts.port);
    const char *node = host != NULL && host[0] != '\0' ? host : NULL;
    int gai = getaddrinfo(node, port, &hints, &res);
    if (gai != 0) {
        KL_LOG_ERR(s->log, SERVER_LOG, "cannot resolve listen host %s: %s",
                   node ? node : "(any)", gai_strerror(gai));
        return KL_ERR_INVALID_CONFIG;
    }
    int err = server_bind_first(s, res);
    freeaddrinfo(res);
    if (s->listen_fd < 0) {
        bool v6 = node != NULL && strchr(node, ':') != NULL;
        KL_LOG_ERR(s->log, SERVER_LOG, "cannot listen on %s%s%s:%d: %s", v6 ? "[" : "",
                   node ? node : "0.0.0.0", v6 ? "]" : "", s->opts.port, strerror(err));
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &sl) < 0)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    char name[80];
    server_addr_name(&ss, name, sizeof name);
    KL_LOG_INF(s->log, SERVER_LOG, "listening on %s", name);
    return KL_OK;
}

kl_err_t server_open(kl_server_t **out, const kl_server_options_t *opts,
                     kl_frame_handler_t handler, const kl_log_t *log)
{
    *out = NULL;
    if (opts == NULL || handler.on_frame == NULL || opts->max_frame_bytes < 1 ||
        opts->port < 0 || opts->port > 65535)
        return KL_ERR_INVALID_CONFIG;
    kl_server_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    s->opts = *opts;
    s->opts.host = NULL;
    if (s->opts.tick_interval_ms <= 0)
        s->opts.tick_interval_ms = SERVER_DEFAULT_TICK_MS;
    s->max_queued = opts->max_queued_bytes != 0 ? opts->max_queued_bytes : SERVER_DEFAULT_QUEUE;
    s->handler = handler;
    s->log = log;
    s->listen_fd = -1;
    s->next_id = 1;
    s->next_tick_ms = clock_monotonic_ms() + s->opts.tick_interval_ms;
    kl_err_t err = server_listen(s, opts->host);
    if (err != KL_OK) {
        server_close(s);
        return err;
    }
    *out = s;
    return KL_OK;
}

int server_port(const kl_server_t *s) { return s->port; }

/* ---- connections: add, mark, close --------------------------------------------- */

static bool server_add_conn(kl_server_t *s, int fd, const char *peer,
                            const struct sockaddr_storage *addr)
{
    if (s->nconns == s->conns_cap) {
        size_t cap = s->conns_cap != 0 ? s->conns_cap * 2 : 16;
        kl_conn_t **p = realloc(s->conns, cap * sizeof *p);
        if (p == NULL)
            return false;
        s->conns = p;
        s->conns_cap = cap;
    }
    kl_conn_t *c = malloc(sizeof *c);
    if (c == NULL)
        return false;
    conn_init(c, s->next_id++, fd, peer, (const struct sockaddr *)addr,
              s->opts.max_frame_bytes);
    s->conns[s->nconns++] = c;
    return true;
}

static void server_mark_closing(kl_conn_t *c, const char *reason)
{
    if (!c->closing) {
        c->closing = true;
        c->close_reason = reason;
    }
}

/* One send of the queue's next chunk: memory bytes with send(2) — MSG_MORE when a file
 * range follows, so a Fetch response's small header leaves in the same segment as its
 * records — or a file range with sendfile(2): the kernel hands the page-cache pages to
 * the socket, no copy through user space (Kafka's zero-copy transfer, FileRecords).
 * Returns what send/sendfile returned. */
static ssize_t server_send_chunk(kl_conn_t *c, const kl_conn_chunk_t *ch)
{
    if (ch->file < 0)
        return send(c->fd, ch->mem, ch->len,
                    MSG_NOSIGNAL | MSG_DONTWAIT | (ch->more ? MSG_MORE : 0));
    off_t offset = (off_t)ch->offset;
    return sendfile(c->fd, ch->file, &offset, ch->len);
}

/* One non-blocking send attempt of what is queued (answers to earlier requests),
 * then close, tell the handler, free. */
static void server_close_conn(kl_server_t *s, size_t i)
{
    kl_conn_t *c = s->conns[i];
    kl_conn_chunk_t ch = conn_write_chunk(c);
    if (ch.len > 0)
        (void)server_send_chunk(c, &ch);
    close(c->fd);
    KL_LOG_DBG(s->log, SERVER_LOG, "closed %s (conn %" PRIu64 "): %s", c->peer, c->id,
               c->close_reason != NULL ? c->close_reason : "closed");
    if (s->handler.on_disconnect != NULL)
        s->handler.on_disconnect(s->handler.arg, c->id);
    conn_free(c);
    free(c);
    s->conns[i] = s->conns[--s->nconns];
}

static void server_close_all(kl_server_t *s, const char *reason)
{
    while (s->nconns > 0) {
        server_mark_closing(s->conns[s->nconns - 1], reason);
        server_close_conn(s, s->nconns - 1);
    }
}

/* Done after EOF: nothing parked, nothing more to answer, nothing left to send. */
static bool server_conn_finished(const kl_conn_t *c)
{
    const uint8_t *f;
    size_t len;
    int32_t size;
    return c->eof && !c->parked && conn_queued(c) == 0 &&
           conn_peek_frame(c, &f, &len, &size) != KL_FRAME_READY;
}

/* Backwards, so swap-removal only moves connections already looked at. */
static void server_sweep(kl_server_t *s)
{
    for (size_t i = s->nconns; i-- > 0;) {
        kl_conn_t *c = s->conns[i];
        if (server_conn_finished(c))
            server_mark_closing(c, "peer closed");
        if (c->closing)
            server_close_conn(s, i);
    }
}

/* ---- requests ------------------------------------------------------------------ */

static void server_reply(kl_server_t *s, kl_conn_t *c, const kl_request_t *req,
                         kl_reply_t reply)
{
    switch (reply) {
    case KL_REPLY_SEND:
        if (!conn_queue_out(c)) {
            KL_LOG_ERR(s->log, SERVER_LOG, "closing %s (conn %" PRIu64 "): out of memory "
                       "queueing a response", c->peer, c->id);
            server_mark_closing(c, "out of memory");
            return;
        }
        /* fall through */
    case KL_REPLY_NONE:
        c->parked = false;
        conn_consume_frame(c);
        return;
    case KL_REPLY_PARK:
        if (req->final_attempt && req->park_until_ms <= req->now_ms) {
            KL_LOG_WARNING(s->log, SERVER_LOG, "closing %s (conn %" PRIu64 "): the handler "
                           "parked a request again after its deadline", c->peer, c->id);
            server_mark_closing(c, "request parked past its deadline");
            return;
        }
        c->parked = true;
        c->park_until_ms = req->park_until_ms;
        c->first_attempt_ms = req->first_attempt_ms;
        c->park_cookie = req->park_cookie;
        c->park_seen_seq = s->seq;
        return;
    case KL_REPLY_CLOSE:
    default:
        KL_LOG_WARNING(s->log, SERVER_LOG, "closing %s (conn %" PRIu64 "): the request "
                       "handler rejected a request", c->peer, c->id);
        server_mark_closing(c, "request rejected");
        return;
    }
}

/* Hand the head frame to the handler: a first attempt, or a retry of a parked one
 * (same first_attempt_ms; final once the deadline has passed). */
static void server_attempt(kl_server_t *s, kl_conn_t *c, bool first)
{
    const uint8_t *frame;
    size_t len;
    int32_t size;
    if (conn_peek_frame(c, &frame, &len, &size) != KL_FRAME_READY)
        return;
    kl_request_t req;
    memset(&req, 0, sizeof req);
    req.log = s->log;
    req.conn_id = c->id;
    req.client_host = c->client_host;
    req.now_ms = clock_monotonic_ms();
    if (first) {
        s->seq++;
        req.first_attempt_ms = req.now_ms;
    } else {
        req.first_attempt_ms = c->first_attempt_ms;
        req.park_until_ms = c->park_until_ms;
        req.park_cookie = c->park_cookie;
        req.final_attempt = req.now_ms >= c->park_until_ms;
    }
    kl_writer_t *out = conn_out(c);
    /* The frame sits in this connection's own read buffer, which nothing else reads
     * until the request is answered: handlers may rewrite it (Produce sets offsets). */
    kl_reply_t reply = s->handler.on_frame(s->handler.arg, &req, (uint8_t *)frame, len, out);
    server_reply(s, c, &req, reply);
}

/* Could the head frame be dispatched right now? */
static bool server_conn_servable(const kl_server_t *s, const kl_conn_t *c)
{
    const uint8_t *f;
    size_t len;
    int32_t size;
    return !c->closing && !c->parked && conn_queued(c) <= s->max_queued &&
           conn_peek_frame(c, &f, &len, &size) != KL_FRAME_INCOMPLETE;
}

/* Dispatch buffered frames one by one (pipelining) until the connection parks, runs
 * out of whole frames, closes, or has more than max_queued bytes waiting. */
static void server_conn_serve(kl_server_t *s, kl_conn_t *c)
{
    while (server_conn_servable(s, c)) {
        const uint8_t *frame;
        size_t len;
        int32_t size = 0;
        if (conn_peek_frame(c, &frame, &len, &size) == KL_FRAME_BAD_SIZE) {
            KL_LOG_WARNING(s->log, SERVER_LOG, "closing %s (conn %" PRIu64 "): invalid "
                           "frame size %" PRId32 " (socket.request.max.bytes %" PRId32 ")",
                           c->peer, c->id, size, s->opts.max_frame_bytes);
            server_mark_closing(c, "invalid frame size");
            return;
        }
        server_attempt(s, c, true);
    }
}

/* ---- socket I/O ---------------------------------------------------------------- */

static const char *server_errno_reason(int err)
{
    switch (err) {
    case ECONNRESET: return "connection reset by peer";
    case EPIPE: return "broken pipe";
    case ETIMEDOUT: return "connection timed out";
    default: return "socket error";
    }
}

static void server_conn_flush(kl_server_t *s, kl_conn_t *c)
{
    while (!c->closing && conn_queued(c) > 0) {
        kl_conn_chunk_t ch = conn_write_chunk(c);
        ssize_t n = server_send_chunk(c, &ch);
        if (n > 0) {
            conn_write_commit(c, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;                                  /* POLLOUT will tell us */
        conn_write_drop(c);         /* undeliverable: nothing after it may be sent */
        if (n == 0) {             /* sendfile at end of file: shorter than when read */
            KL_LOG_ERR(s->log, SERVER_LOG, "closing %s (conn %" PRIu64 "): a log file "
                       "ended before the %zu bytes of a Fetch response could be sent",
                       c->peer, c->id, ch.len);
            server_mark_closing(c, "log file shorter than its response");
        } else {
            server_mark_closing(c, server_errno_reason(errno));
        }
    }
}

/* Answer and send until no progress: sending may bring the queue under the limit,
 * which lets more buffered frames be answered — no socket event would say so. */
static void server_conn_pump(kl_server_t *s, kl_conn_t *c)
{
    do {
        server_conn_serve(s, c);
        server_conn_flush(s, c);
    } while (server_conn_servable(s, c));
}

static void server_conn_read(kl_server_t *s, kl_conn_t *c)
{
    for (int i = 0; i < SERVER_READ_BURST && conn_wants_read(c, s->max_queued); i++) {
        size_t avail;
        uint8_t *p = conn_read_space(c, &avail);
        if (p == NULL) {
            KL_LOG_ERR(s->log, SERVER_LOG, "closing %s (conn %" PRIu64 "): out of memory "
                       "for its read buffer", c->peer, c->id);
            server_mark_closing(c, "out of memory");
            return;
        }
        if (avail == 0)
            return;                                  /* full of whole frames */
        ssize_t n = recv(c->fd, p, avail, 0);
        if (n > 0) {
            conn_read_commit(c, (size_t)n);
            if ((size_t)n < avail)
                return;                              /* the socket is drained */
            continue;
        }
        if (n == 0) {
            c->eof = true;                           /* answer what is buffered first */
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        server_mark_closing(c, server_errno_reason(errno));
        return;
    }
}

static void server_conn_events(kl_server_t *s, kl_conn_t *c, short revents)
{
    c->busy = true;                                  /* keeps its buffers (server_tick) */
    if (revents & (POLLERR | POLLNVAL)) {
        int err = 0;
        socklen_t sl = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        server_mark_closing(c, server_errno_reason(err));
        return;
    }
    if (revents & POLLIN) {
        server_conn_read(s, c);
    } else if (revents & POLLHUP) {
        server_mark_closing(c, "peer hung up");      /* both directions gone */
        return;
    }
    server_conn_pump(s, c);
}

static void server_accept(kl_server_t *s)
{
    for (int i = 0; i < SERVER_ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == ECONNABORTED || errno == EINTR)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                KL_LOG_WARNING(s->log, SERVER_LOG, "accept: %s; pausing accepts for %d ms",
                               strerror(errno), SERVER_ACCEPT_PAUSE_MS);
                s->accept_paused_until = clock_monotonic_ms() + SERVER_ACCEPT_PAUSE_MS;
            }
            return;                                  /* EAGAIN: none left */
        }
        char peer[64];
        server_addr_name(&ss, peer, sizeof peer);
        if (s->opts.max_connections > 0 && s->nconns >= (size_t)s->opts.max_connections) {
            KL_LOG_WARNING(s->log, SERVER_LOG, "max.connections (%" PRId32 ") reached: "
                           "closing new connection from %s", s->opts.max_connections, peer);
            close(fd);
            s->rejected++;
            continue;
        }
        int one = 1;   /* answers are whole frames: do not let Nagle hold them back */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!server_add_conn(s, fd, peer, &ss)) {
            KL_LOG_ERR(s->log, SERVER_LOG, "out of memory accepting %s", peer);
            close(fd);
            continue;
        }
        s->accepted++;
        KL_LOG_DBG(s->log, SERVER_LOG, "accepted %s (conn %" PRIu64 ")", peer,
                   s->conns[s->nconns - 1]->id);
    }
}

/* ---- parked requests and timers ------------------------------------------------ */

/* A parked request is retried when some other request was dispatched since its last
 * attempt, and for the last time when its deadline passes. Answering it lets the
 * frames behind it go, which may owe other parked requests a retry: the next poll
 * then does not wait (see server_timeout). */
static void server_retry_parked(kl_server_t *s)
{
    for (size_t i = 0; i < s->nconns; i++) {
        kl_conn_t *c = s->conns[i];
        if (!c->parked || c->closing)
            continue;
        bool due = clock_monotonic_ms() >= c->park_until_ms;
        if (!due && c->park_seen_seq == s->seq)
            continue;
        server_attempt(s, c, false);              /* a new PARK records s->seq */
        if (!c->parked)
            server_conn_pump(s, c);
    }
}

/* Connections with no socket event for a whole tick give back their big buffers
 * (conn_trim); busy ones keep them, so back-to-back 1 MiB requests reuse one buffer.
 * Cost: O(connections) once per tick, not per request. */
static void server_trim_idle(kl_server_t *s)
{
    for (size_t i = 0; i < s->nconns; i++) {
        kl_conn_t *c = s->conns[i];
        if (!c->busy)
            (void)conn_trim(c);
        c->busy = false;
    }
}

static void server_tick(kl_server_t *s)
{
    int64_t now = clock_monotonic_ms();
    if (now < s->next_tick_ms)
        return;
    s->next_tick_ms = now + s->opts.tick_interval_ms;
    server_trim_idle(s);
    if (s->handler.on_tick != NULL) {
        s->handler.on_tick(s->handler.arg, now);
        /* A tick can decide what parked requests wait for (a session expiry ends a
         * join round): owe every parked request a retry, as a dispatch would. Cost:
         * one extra attempt per parked request per tick. */
        s->seq++;
    }
}

static int64_t server_min(int64_t a, int64_t b) { return a < b ? a : b; }

static int server_timeout(const kl_server_t *s, int64_t now, int timeout_ms)
{
    int64_t wait = timeout_ms < 0 ? INT_MAX : timeout_ms;
    wait = server_min(wait, s->next_tick_ms - now);
    if (s->accept_paused_until > now)
        wait = server_min(wait, s->accept_paused_until - now);
    for (size_t i = 0; i < s->nconns && wait > 0; i++) {
        const kl_conn_t *c = s->conns[i];
        if (c->parked)
            wait = c->park_seen_seq != s->seq ? 0 : server_min(wait, c->park_until_ms - now);
        else if (server_conn_servable(s, c) || c->closing)
            wait = 0;
    }
    return wait < 0 ? 0 : (int)wait;
}

/* Poll a connection with half a request buffered as readable only once the rest of
 * that request (up to SERVER_LOWAT_MAX) is in the socket: SO_RCVLOWAT, the value from
 * conn_read_lowat. Without it a 1 MB Produce wakes the loop for every burst of segments
 * the client writes — measured ~3 poll + recv pairs per request on loopback (more when
 * the client is slowed down), each wake-up a context switch taken from the client on a
 * 2-core machine; with it ~1.3 (docs/performance.md, change 5).
 * Cost: a setsockopt when the value changes, about two per large request and none for
 * requests that arrive whole; the kernel grows the socket's receive buffer to hold the
 * mark (at most ~2 x SERVER_LOWAT_MAX per connection, bytes our read buffer would hold
 * anyway). FIN and errors still wake poll at once. A failed setsockopt only loses the
 * saving (poll wakes on any byte, as before), so it is ignored. */
static void server_conn_lowat(kl_conn_t *c)
{
    size_t want = conn_read_lowat(c, SERVER_LOWAT_MAX);
    size_t now = c->lowat != 0 ? c->lowat : 1;
    if (want == now)
        return;
    int v = (int)want;
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
    c->lowat = want;
}

static bool server_pollset(kl_server_t *s, int64_t now)
{
    if (s->nconns + 1 > s->pfds_cap) {
        size_t cap = s->pfds_cap != 0 ? s->pfds_cap : 16;
        while (cap < s->nconns + 1)
            cap *= 2;
        struct pollfd *p = realloc(s->pfds, cap * sizeof *p);
        if (p == NULL)
            return false;
        s->pfds = p;
        s->pfds_cap = cap;
    }
    s->pfds[0].fd = s->listen_fd;
    s->pfds[0].events = now >= s->accept_paused_until ? POLLIN : 0;
    s->pfds[0].revents = 0;
    for (size_t i = 0; i < s->nconns; i++) {
        kl_conn_t *c = s->conns[i];
        short ev = 0;
        if (conn_wants_read(c, s->max_queued)) {
            ev |= POLLIN;
            server_conn_lowat(c);
        }
        if (conn_queued(c) > 0)
            ev |= POLLOUT;
        s->pfds[i + 1].fd = c->fd;
        s->pfds[i + 1].events = ev;
        s->pfds[i + 1].revents = 0;
    }
    return true;
}

/* ---- the loop ------------------------------------------------------------------ */

kl_err_t server_poll_once(kl_server_t *s, int timeout_ms)
{
    int64_t now = clock_monotonic_ms();
    size_t n = s->nconns;   /* connections accepted below are polled next time */
    if (!server_pollset(s, now)) {
        KL_LOG_ERR(s->log, SERVER_LOG, "out of memory building the poll set");
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    int rc = poll(s->pfds, n + 1, server_timeout(s, now, timeout_ms));
    if (rc < 0 && errno != EINTR) {
        KL_LOG_ERR(s->log, SERVER_LOG, "poll: %s", strerror(errno));
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    for (size_t i = 0; rc > 0 && i < n; i++)
        if (s->pfds[i + 1].revents != 0)
            server_conn_events(s, s->conns[i], s->pfds[i + 1].revents);
    if (rc > 0 && (s->pfds[0].revents & POLLIN))
        server_accept(s);
    server_retry_parked(s);
    server_tick(s);
    server_sweep(s);
    return KL_OK;
}

/* Shutdown: give queued answers up to SERVER_DRAIN_MS to leave. */
static void server_drain(kl_server_t *s)
{
    int64_t until = clock_monotonic_ms() + SERVER_DRAIN_MS;
    for (;;) {
        size_t n = 0;
        for (size_t i = 0; i < s->nconns; i++) {
            kl_conn_t *c = s->conns[i];
            server_conn_flush(s, c);
            if (!c->closing && conn_queued(c) > 0 && n < s->pfds_cap)
                s->pfds[n++] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
        }
        int64_t left = until - clock_monotonic_ms();
        if (n == 0 || left <= 0)
            return;
        if (poll(s->pfds, n, (int)left) < 0 && errno != EINTR)
            return;
    }
}

/* A signal landing between the flag check and poll() is noticed at the next wakeup,
 * at most one tick later (ppoll with a signal mask would close that window). */
kl_err_t server_run(kl_server_t *s, volatile sig_atomic_t *stop)
{
    kl_err_t err = KL_OK;
    while (*stop == 0 && err == KL_OK)
        err = server_poll_once(s, s->opts.tick_interval_ms);
    server_drain(s);
    server_close_all(s, "broker shutting down");
    KL_LOG_INF(s->log, SERVER_LOG, "stopped listening on port %d", s->port);
    return err;
}

void server_close(kl_server_t *s)
{
    if (s == NULL)
        return;
    server_close_all(s, "server closed");
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    free(s->conns);
    free(s->pfds);
    free(s);
}

void server_stats(const kl_server_t *s, kl_server_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->connections = s->nconns;
    out->accepted = s->accepted;
    out->rejected = s->rejected;
    for (size_t i = 0; i < s->nconns; i++) {
        const kl_conn_t *c = s->conns[i];
        size_t q = conn_queued(c);
        out->queued_bytes += q;
        if (q > out->max_conn_queued_bytes)
            out->max_conn_queued_bytes = q;
        out->buffered_bytes += conn_buffered(c);
        out->memory_bytes += conn_memory(c);
    }
}
