/*
 * infrastructure/net/connection.c — a connection's buffers and Kafka framing.
 * Layer: infrastructure. May touch: memory (<stdlib.h>, <string.h>, snprintf) and the
 * kl_writer_t of protocol/wire.h. No sockets: server.c moves bytes in and out.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void conn_init(kl_conn_t *c, uint64_t id, int fd, const char *peer, int32_t max_frame)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer != NULL ? peer : "?");
    /* Kafka names a member's host "/" + address (InetAddress.toString): drop the port. */
    const char *colon = strrchr(c->peer, ':');
    int host_len = colon != NULL ? (int)(colon - c->peer) : (int)strlen(c->peer);
    snprintf(c->client_host, sizeof c->client_host, "/%.*s", host_len, c->peer);
    c->max_frame = max_frame > 0 ? (size_t)max_frame : 1;
    wr_init(&c->wq);
    wr_init(&c->out);
}

void conn_free(kl_conn_t *c)
{
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rstart = c->rend = 0;
    wr_free(&c->wq);
    wr_free(&c->out);
    c->wsent = 0;
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

size_t conn_queued(const kl_conn_t *c) { return c->wq.len - c->wsent; }

bool conn_queue_out(kl_conn_t *c)
{
    if (!wr_ok(&c->out))
        return false;
    if (conn_queued(c) == 0) {             /* the usual case: hand the buffer over */
        kl_writer_t t = c->wq;
        c->wq = c->out;
        c->out = t;
        c->wsent = 0;
        wr_reset(&c->out);
        return true;
    }
    if (c->wsent > 0 && c->wsent >= c->wq.len / 2) {   /* reclaim the sent half */
        memmove(c->wq.buf, c->wq.buf + c->wsent, c->wq.len - c->wsent);
        c->wq.len -= c->wsent;
        c->wsent = 0;
    }
    wr_raw(&c->wq, c->out.buf, c->out.len);
    return wr_ok(&c->wq);
}

const uint8_t *conn_write_data(const kl_conn_t *c, size_t *len)
{
    *len = conn_queued(c);
    return c->wq.buf != NULL ? c->wq.buf + c->wsent : NULL;
}

void conn_write_commit(kl_conn_t *c, size_t n)
{
    c->wsent += n;
    if (c->wsent < c->wq.len)
        return;
    c->wsent = 0;
    wr_reset(&c->wq);                      /* big buffers stay until idle: conn_trim */
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
