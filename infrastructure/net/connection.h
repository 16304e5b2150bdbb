/*
 * infrastructure/net/connection.h — one client connection's memory: the read buffer
 * with Kafka framing (int32 big-endian size + payload), the queue of response bytes
 * not yet sent, the writer responses are built in, and the in-flight request state.
 * Layer: infrastructure. May touch: memory, protocol/wire.h (kl_writer_t), the file
 * descriptors of queued file ranges (dup, close, and pread as a fallback), and the
 * peer's struct sockaddr (read only, for client_host) — no sockets here, so the framing
 * can be tested over plain byte arrays and files; server.c does the
 * recv()/send()/sendfile() calls into and out of these buffers.
 *
 * Read buffer: bytes [rstart, rend) of rbuf are received but not yet consumed; the
 * frame at rstart is the connection's head request. It is compacted (moved to offset
 * 0) and grown (doubling, capped at max_frame + 4) only while no request is in flight,
 * so a parked request's frame pointer stays valid and unchanged until it is answered.
 *
 * Write queue: `wq.buf[wsent, wq.len)` is still to be sent, with the file ranges of
 * `wq.splices[wfile, nsplices)` (zero-copy Fetch data, kl_wr_splice_t) in their places.
 * A response built in `out` is queued by swapping the two writers when the queue is
 * empty and the response has no file ranges (no copy — the usual case), and by
 * appending otherwise; a file range is appended by reference, with a duplicate of its
 * descriptor (dup(2)) that the queue owns until the range is sent, so a segment that
 * retention deletes meanwhile is still readable. The sender (server.c) takes the queue
 * chunk by chunk: memory bytes with send(2), file ranges with sendfile(2).
 */
#ifndef KL_INFRA_NET_CONNECTION_H
#define KL_INFRA_NET_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infrastructure/protocol/wire.h"

/* First read-buffer size: most Kafka requests are far smaller. */
#define KL_CONN_RBUF_INITIAL (16u * 1024u)
/* Buffers larger than this are freed by conn_trim once empty and idle, so one big
 * request or response does not pin megabytes to an idle connection, while a busy one
 * keeps its buffers. Cost: a malloc for the next big one after an idle tick. */
#define KL_CONN_BUF_KEEP (256u * 1024u)

typedef enum kl_frame_status {
    KL_FRAME_INCOMPLETE = 0,   /* need more bytes */
    KL_FRAME_READY,            /* a whole frame is at the head */
    KL_FRAME_BAD_SIZE,         /* size < 1 or > max_frame: a protocol violation */
} kl_frame_status_t;

typedef struct kl_conn {
    uint64_t id;
    int fd;                    /* owned by the server; -1 for in-memory tests */
    char peer[64];             /* "ip:port" or "[v6addr%scope]:port", for log lines */
    char client_host[64];      /* "/ip" as Kafka shows a member's host (DescribeGroups):
                                  Java's "/0:0:0:0:0:0:0:1" for ::1 (connection.c);
                                  at most "/" + 39 + "%" + 10 digits */
    size_t max_frame;          /* socket.request.max.bytes (payload, without the prefix) */

    uint8_t *rbuf;             /* read buffer, allocated on first read */
    size_t rcap, rstart, rend;

    kl_writer_t wq;            /* unsent response bytes are wq.buf[wsent, wq.len) */
    size_t wsent;
    size_t wfile;              /* wq.splices[wfile] is the first file range not fully sent */
    size_t wfile_sent;         /* bytes of wq.splices[wfile] already sent */
    size_t wfile_done;         /* file-range bytes sent in all (wfile_sent included) */
    kl_writer_t out;           /* reused for every response (no malloc per request) */

    bool parked;               /* the head request returned KL_REPLY_PARK */
    int64_t park_until_ms;
    int64_t first_attempt_ms;
    int64_t park_cookie;       /* the handler's note to itself across retries (JoinGroup) */
    uint64_t park_seen_seq;    /* server's dispatch count when last attempted */

    size_t lowat;              /* SO_RCVLOWAT server.c last set on fd; 0 = never (1) */
    bool busy;                 /* had socket events since the server's last tick */
    bool eof;                  /* the peer sent FIN: answer what is buffered, then close */
    bool closing;              /* to be closed at the end of this server iteration */
    const char *close_reason;  /* static string for the close log line */
} kl_conn_t;

struct sockaddr;

/* `peer`: the name for log lines, as server.c formats it ("ip:port",
 * "[v6addr%scope]:port"). `addr`: the peer's address as accept(2) gave it (a
 * sockaddr_in or sockaddr_in6; NULL when there is none, e.g. in-memory tests), read
 * only here, to spell client_host. */
void conn_init(kl_conn_t *c, uint64_t id, int fd, const char *peer,
               const struct sockaddr *addr, int32_t max_frame);
void conn_free(kl_conn_t *c);

/* ---- read side ---------------------------------------------------------------- */

/* Where to put received bytes: a pointer and *avail > 0 bytes of room, after making
 * room for the head frame (compact, grow). *avail == 0 means "do not read now" (in
 * flight with a full tail, or a full buffer at the cap). NULL on out of memory. */
uint8_t *conn_read_space(kl_conn_t *c, size_t *avail);
void conn_read_commit(kl_conn_t *c, size_t n);
size_t conn_buffered(const kl_conn_t *c);

/* The head frame. READY: *frame and *len = the payload after the size prefix, pointing into
 * rbuf. BAD_SIZE: *size_out = the offending size. */
kl_frame_status_t conn_peek_frame(const kl_conn_t *c, const uint8_t **frame, size_t *len,
                                  int32_t *size_out);
/* Drop the (answered) head frame; the next buffered frame becomes the head. */
void conn_consume_frame(kl_conn_t *c);

/* Should the server poll this connection for input? No while closing, after EOF,
 * while more than `max_queued` response bytes wait to be sent, or while a parked
 * request has one more complete frame (or a full tail) behind it. */
bool conn_wants_read(const kl_conn_t *c, size_t max_queued);

/* How many bytes the socket should hold before poll(2) calls it readable (the server
 * sets it as SO_RCVLOWAT): what the head frame still lacks, at most `cap`, so a 1 MB
 * request wakes the server once instead of once per segment burst. 1 (any byte) while
 * a whole frame is buffered, while a request is parked (its tail is read as it comes)
 * and while its size prefix is not complete or not valid. */
size_t conn_read_lowat(const kl_conn_t *c, size_t cap);

/* ---- write side --------------------------------------------------------------- */

/* `out`, reset, ready for the next response. */
kl_writer_t *conn_out(kl_conn_t *c);
/* Queue what `out` holds (a complete frame), its file ranges with duplicated
 * descriptors; when no descriptor is left (EMFILE) a range is read (pread) into the
 * queue instead. false on out of memory or a failed read: the queue is then as before. */
bool conn_queue_out(kl_conn_t *c);
/* Bytes queued and not yet sent, file ranges included. */
size_t conn_queued(const kl_conn_t *c);

/* The next piece of the queue to send. */
typedef struct kl_conn_chunk {
    const uint8_t *mem;        /* memory bytes; NULL when the chunk is a file range */
    int file;                  /* the file range's descriptor (the queue's own), or -1 */
    int64_t offset;            /* where in the file the chunk starts */
    size_t len;                /* 0 when nothing is queued */
    bool more;                 /* more of the queue follows: worth MSG_MORE */
} kl_conn_chunk_t;
kl_conn_chunk_t conn_write_chunk(const kl_conn_t *c);
/* n bytes of the chunk conn_write_chunk returned were sent. */
void conn_write_commit(kl_conn_t *c, size_t n);
/* Forget everything queued (file ranges closed): after a chunk could not be sent, what
 * follows it must not be sent either — it would land where the lost bytes belong. */
void conn_write_drop(kl_conn_t *c);

/* Replace the file ranges of `w` by their bytes (pread), so the whole output is in
 * w->buf — for the protocol x-ray, which decodes responses from memory. false when a
 * range cannot be read or memory runs out (w unchanged). */
bool conn_inline_files(kl_writer_t *w);

/* Free every buffer larger than KL_CONN_BUF_KEEP that holds nothing (the read buffer
 * only while no request is in flight). The server calls it for connections idle for a
 * tick. true when something was freed. */
bool conn_trim(kl_conn_t *c);

/* Bytes of heap this connection holds (capacities of its three buffers). */
size_t conn_memory(const kl_conn_t *c);

#endif
