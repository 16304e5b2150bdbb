/*
 * infrastructure/net/connection.c — a connection's buffers and Kafka framing.
 * Layer: infrastructure. May touch: memory (<stdlib.h>, <string.h>, snprintf), the
 * kl_writer_t of protocol/wire.h, the descriptors of queued file ranges (dup, close,
 * pread when no descriptor is left), and the peer's struct sockaddr accept(2) filled in
 * (read only, to spell client_host). No sockets: server.c moves bytes in and out.
 *
 * Costs: compaction is a memmove of the bytes of a partial frame, done only when the
 * head frame would not fit in the room left; growth doubles up to max_frame + 4, so
 * a client can make us hold at most one maximum frame per connection.
 *
 * Buffers larger than KL_CONN_BUF_KEEP are released by conn_trim, which the server calls
 * for connections that stayed idle for a whole tick — not after every request. A producer
 * sending 1 MiB requests back to back used to get its read buffer freed and regrown
 * (malloc, page faults on first touch, munmap) for every request, and a consumer its
 * response buffers likewise (docs/performance.md). Memory bound unchanged: at most one
 * maximum frame read and the queued responses per connection, and none once idle.
 */
#include "infrastructure/net/connection.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "infrastructure/storage/fs.h"

static void conn_close_files(kl_conn_t *c, size_t from);

/* Java's Inet4Address.toString: "/" + the dotted quad. */
static void conn_java_ipv4(char *dst, size_t cap, const uint8_t b[4])
{
    snprintf(dst, cap, "/%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/* Java's Inet6Address.toString: "/" + all eight groups in hex, no "::" compression, no
 * leading zeros, then "%" + the numeric scope id if there is one (an accepted socket's
 * address carries the id, not an interface name). An IPv4-mapped address (an IPv4
 * client of a dual-stack listener) is an Inet4Address to Java: the dotted quad. */
static void conn_java_ipv6(char *dst, size_t cap, const struct sockaddr_in6 *sin6)
{
    const uint8_t *b = sin6->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
        conn_java_ipv4(dst, cap, b + 12);
        return;
    }
    char scope[12] = "";                            /* "%" + up to 10 digits */
    if (sin6->sin6_scope_id != 0)
        snprintf(scope, sizeof scope, "%%%u", (unsigned)sin6->sin6_scope_id);
    snprintf(dst, cap, "/%x:%x:%x:%x:%x:%x:%x:%x%s",
             b[0] << 8 | b[1], b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7],
             b[8] << 8 | b[9], b[10] << 8 | b[11], b[12] << 8 | b[13], b[14] << 8 | b[15],
             scope);
}

/* Kafka names a member's host InetAddress.toString(): "/" + the peer's address, no
 * port. Spelled from the binary address accept(2) gave, so nothing is parsed back from
 * the log name. No IP address (none given, another family): "/?", as the server's log
 * names such a peer "?". */
static void conn_client_host(char *dst, size_t cap, const struct sockaddr *addr)
{
    if (addr != NULL && addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
        conn_java_ipv4(dst, cap, (const uint8_t *)&sin->sin_addr);
    } else if (addr != NULL && addr->sa_family == AF_INET6) {
        conn_java_ipv6(dst, cap, (const struct sockaddr_in6 *)addr);
    } else {
        snprintf(dst, cap, "/?");
    }
}

void conn_init(kl_conn_t *c, uint64_t id, int fd, const char *peer,
               const struct sockaddr *addr, int32_t max_frame)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer != NULL ? peer : "?");
    conn_client_host(c->client_host, sizeof c->client_host, addr);
    c->max_frame = max_frame > 0 ? (size_t)max_frame : 1;
    wr_init(&c->wq);
    wr_init(&c->out);
}

void conn_free(kl_conn_t *c)
{
    conn_close_files(c, c->wfile);
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rstart = c->rend = 0;
    wr_free(&c->wq);
    wr_free(&c->out);
    c->wsent = c->wfile = c->wfile_sent = c->wfile_done = 0;
}

/* ---- read side ---------------------------------------------------------------- */

static uint32_t conn_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t conn_buffered(const kl_conn_t *c) { return c->rend - c->rstart; }

/* Whole bytes (prefix included) the head frame needs, or 4 while its size is unknown
 * or invalid (an invalid size is reported by conn_peek_frame, never buffered for). */
static size_t conn_head_need(const kl_conn_t *c)
{
    if (conn_buffered(c) < 4)
        return 4;
    int32_t size = (int32_t)conn_be32(c->rbuf + c->rstart);
    if (size < 1 || (size_t)size > c->max_frame)
        return 4;
    return 4 + (size_t)size;
}

static void conn_compact(kl_conn_t *c)
{
    size_t n = conn_buffered(c);
    if (c->rstart > 0 && n > 0)
        memmove(c->rbuf, c->rbuf + c->rstart, n);
    c->rstart = 0;
    c->rend = n;
}

static bool conn_grow(kl_conn_t *c, size_t need)
{
    size_t limit = c->max_frame + 4;
    size_t cap = c->rcap != 0 ? c->rcap * 2 : KL_CONN_RBUF_INITIAL;
    if (cap < need)
        cap = need;
    if (cap > limit)
        cap = limit;
    if (cap <= c->rcap)
        return true;                       /* at the cap already: nothing to do */
    uint8_t *p = realloc(c->rbuf, cap);
    if (p == NULL)
        return false;
    c->rbuf = p;
    c->rcap = cap;
    return true;
}

uint8_t *conn_read_space(kl_conn_t *c, size_t *avail)
{
    *avail = 0;
    if (c->parked) {                       /* in flight: bytes may not move */
        *avail = c->rcap - c->rend;
        return c->rbuf + c->rend;
    }
    if (conn_buffered(c) == 0)
        c->rstart = c->rend = 0;           /* free compaction */
    /* Grow only for a head frame that does not fit: a buffer full of complete frames
     * waits for them to be answered instead (that is the back-pressure). */
    size_t need = conn_head_need(c);
    if (c->rend == c->rcap || c->rcap - c->rstart < need) {
        conn_compact(c);
        if (c->rcap < need && !conn_grow(c, need))
            return NULL;
    }
    *avail = c->rcap - c->rend;
    return c->rbuf + c->rend;
}

void conn_read_commit(kl_conn_t *c, size_t n) { c->rend += n; }

kl_frame_status_t conn_peek_frame(const kl_conn_t *c, const uint8_t **frame, size_t *len,
                                  int32_t *size_out)
{
    if (conn_buffered(c) < 4)
        return KL_FRAME_INCOMPLETE;
    int32_t size = (int32_t)conn_be32(c->rbuf + c->rstart);
    *size_out = size;
    /* size 0 cannot even hold a request header; negative sizes are garbage. */
    if (size < 1 || (size_t)size > c->max_frame)
        return KL_FRAME_BAD_SIZE;
    if (conn_buffered(c) - 4 < (size_t)size)
        return KL_FRAME_INCOMPLETE;
    *frame = c->rbuf + c->rstart + 4;
    *len = (size_t)size;
    return KL_FRAME_READY;
}

void conn_consume_frame(kl_conn_t *c)
{
    c->rstart += conn_head_need(c);
    if (c->rstart > c->rend)               /* never: only called on a READY head */
        c->rstart = c->rend;
    if (c->rstart == c->rend)
        c->rstart = c->rend = 0;           /* big buffers stay until idle: conn_trim */
}

/* A complete frame buffered behind the (parked) head frame? */
static bool conn_second_frame_ready(const kl_conn_t *c)
{
    size_t after = c->rstart + conn_head_need(c);
    if (after + 4 > c->rend)
        return false;
    int32_t size = (int32_t)conn_be32(c->rbuf + after);
    if (size < 1 || (size_t)size > c->max_frame)
        return true;                       /* bad, but reading more will not help */
    return c->rend - after - 4 >= (size_t)size;
}

bool conn_wants_read(const kl_conn_t *c, size_t max_queued)
{
    if (c->closing || c->eof)
        return false;
    if (conn_queued(c) > max_queued)
        return false;
    if (c->parked)
        return c->rend < c->rcap && !conn_second_frame_ready(c);
    return true;
}

size_t conn_read_lowat(const kl_conn_t *c, size_t cap)
{
    size_t need = conn_head_need(c), have = conn_buffered(c);
    if (c->parked || have < 4 || have >= need || cap < 1)
        return 1;                          /* parked, size unknown, or a whole frame */
    return need - have < cap ? need - have : cap;
}

/* ---- write side --------------------------------------------------------------- */

kl_writer_t *conn_out(kl_conn_t *c)
{
    wr_reset(&c->out);
    return &c->out;
}

size_t conn_queued(const kl_conn_t *c)
{
    return c->wq.len - c->wsent + c->wq.spliced - c->wfile_done;
}

/* Close the queue's own descriptors of the file ranges from index `from` on. */
static void conn_close_files(kl_conn_t *c, size_t from)
{
    for (size_t i = from; i < c->wq.nsplices; i++)
        close(c->wq.splices[i].fd);
}

/* Nothing left to send: counters back to zero, buffers kept. */
static void conn_queue_reset(kl_conn_t *c)
{
    conn_close_files(c, c->wfile);
    wr_reset(&c->wq);
    c->wsent = c->wfile = c->wfile_sent = c->wfile_done = 0;
}

/* Move what is still to be sent to the front of the queue — its memory bytes and its
 * file ranges, whose positions shift with them — once the sent part is at least half
 * the buffer (cost: one memmove of the unsent bytes). */
static void conn_queue_compact(kl_conn_t *c)
{
    if (c->wsent == 0 || c->wsent < c->wq.len / 2)
        return;
    memmove(c->wq.buf, c->wq.buf + c->wsent, c->wq.len - c->wsent);
    c->wq.len -= c->wsent;
    size_t keep = c->wq.nsplices - c->wfile;
    if (keep > 0)
        memmove(c->wq.splices, c->wq.splices + c->wfile, keep * sizeof *c->wq.splices);
    for (size_t i = 0; i < keep; i++)
        c->wq.splices[i].at -= c->wsent;
    c->wq.nsplices = keep;
    c->wq.spliced -= c->wfile_done - c->wfile_sent;     /* the ranges sent in full */
    c->wfile_done = c->wfile_sent;
    c->wfile = 0;
    c->wsent = 0;
}

static bool conn_pread_full(int fd, uint8_t *dst, size_t n, int64_t offset)
{
    return fs_pread_all(fd, dst, n, offset) == (ssize_t)n;    /* short: the file shrank */
}

/* One file range onto `dst`: by reference with a descriptor of `dst`'s own when
 * `by_reference` and the process has one left (not EMFILE), else by reading it (one
 * copy). */
static bool conn_append_file(kl_writer_t *dst, const kl_wr_splice_t *s, bool by_reference)
{
    if (s->len == 0)
        return true;
    int fd = by_reference ? fcntl(s->fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fd >= 0) {
        if (wr_splice(dst, fd, s->offset, s->len))
            return true;
        close(fd);
        return false;
    }
    uint8_t *bytes = wr_reserve(dst, s->len);
    return bytes != NULL && conn_pread_full(s->fd, bytes, s->len, s->offset);
}

/* `src` onto the end of `dst`: its memory bytes piece by piece, its file ranges in
 * between them (conn_append_file). */
static bool conn_append_writer(kl_writer_t *dst, const kl_writer_t *src, bool by_reference)
{
    size_t prev = 0;
    for (size_t i = 0; i < src->nsplices; i++) {
        wr_raw(dst, src->buf + prev, src->splices[i].at - prev);
        prev = src->splices[i].at;
        if (!wr_ok(dst) || !conn_append_file(dst, &src->splices[i], by_reference))
            return false;
    }
    wr_raw(dst, src->buf != NULL ? src->buf + prev : NULL, src->len - prev);
    return wr_ok(dst);
}

bool conn_queue_out(kl_conn_t *c)
{
    if (!wr_ok(&c->out))
        return false;
    if (conn_queued(c) == 0 && c->out.nsplices == 0) {   /* usual: hand the buffer over */
        conn_queue_reset(c);
        kl_writer_t t = c->wq;
        c->wq = c->out;
        c->out = t;
        wr_reset(&c->out);
        return true;
    }
    conn_queue_compact(c);
    size_t old_len = c->wq.len, old_n = c->wq.nsplices, old_spliced = c->wq.spliced;
    if (conn_append_writer(&c->wq, &c->out, true))
        return true;
    conn_close_files(c, old_n);            /* undo: the queue is as it was */
    c->wq.len = old_len;
    c->wq.nsplices = old_n;
    c->wq.spliced = old_spliced;
    c->wq.failed = false;
    return false;
}

kl_conn_chunk_t conn_write_chunk(const kl_conn_t *c)
{
    kl_conn_chunk_t ch = { NULL, -1, 0, 0, false };
    const kl_wr_splice_t *s = c->wfile < c->wq.nsplices ? &c->wq.splices[c->wfile] : NULL;
    if (s != NULL && s->at == c->wsent) {                 /* a file range is next */
        ch.file = s->fd;
        ch.offset = s->offset + (int64_t)c->wfile_sent;
        ch.len = s->len - c->wfile_sent;
        ch.more = c->wsent < c->wq.len || c->wfile + 1 < c->wq.nsplices;
        return ch;
    }
    size_t end = s != NULL ? s->at : c->wq.len;
    ch.mem = c->wq.buf != NULL ? c->wq.buf + c->wsent : NULL;
    ch.len = end - c->wsent;
    ch.more = s != NULL;
    return ch;
}

void conn_write_drop(kl_conn_t *c)
{
    conn_queue_reset(c);
}

void conn_write_commit(kl_conn_t *c, size_t n)
{
    kl_conn_chunk_t ch = conn_write_chunk(c);
    if (n > ch.len)
        n = ch.len;
    if (ch.file >= 0) {
        c->wfile_sent += n;
        c->wfile_done += n;
        if (c->wfile_sent == c->wq.splices[c->wfile].len) {
            close(c->wq.splices[c->wfile].fd);
            c->wfile++;
            c->wfile_sent = 0;
        }
    } else {
        c->wsent += n;
    }
    if (conn_queued(c) == 0)
        conn_queue_reset(c);               /* big buffers stay until idle: conn_trim */
}

bool conn_inline_files(kl_writer_t *w)
{
    if (w->nsplices == 0)
        return wr_ok(w);
    kl_writer_t flat;
    wr_init(&flat);
    bool ok = wr_ok(w) && (wr_total(w) == 0 || wr_reserve(&flat, wr_total(w)) != NULL);
    flat.len = 0;                          /* one allocation, then filled in order */
    if (!ok || !conn_append_writer(&flat, w, false)) {
        wr_free(&flat);
        return false;
    }
    wr_free(w);
    *w = flat;
    return true;
}

bool conn_trim(kl_conn_t *c)
{
    bool freed = false;
    if (!c->parked && conn_buffered(c) == 0 && c->rcap > KL_CONN_BUF_KEEP) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = c->rstart = c->rend = 0;
        freed = true;
    }
    if (conn_queued(c) == 0 && c->wq.cap > KL_CONN_BUF_KEEP) {
        wr_free(&c->wq);
        c->wsent = 0;
        freed = true;
    }
    if (c->out.len == 0 && c->out.cap > KL_CONN_BUF_KEEP) {
        wr_free(&c->out);
        freed = true;
    }
    return freed;
}

size_t conn_memory(const kl_conn_t *c) { return c->rcap + c->wq.cap + c->out.cap; }
