/*
 * test/test_server.c — unit tests of infrastructure/net/server.c over real loopback
 * sockets (127.0.0.1, port 0), with a fake frame handler defined here. The test and
 * the server share one thread: the test drives the server with server_poll_once
 * while it reads and writes its client sockets without blocking.
 *
 * The fake handler's requests: first payload byte
 *   'E' echo the payload back          'N' answer nothing (like acks=0)
 *   'C' ask the server to close        'B'+u32 n  answer with n bytes of 'b'
 *   'P'+u32 ms park until now+ms; answer "W" if an 'E' was handled meanwhile, "F" on
 *              the final attempt.          'Q'+u32 ms  the same, but only "F"
 *   'R'+u32 off+u32 len+u8 pieces+tag  a zero-copy answer (file ranges, sendfile):
 *              [size][the request payload][len bytes of the fake's file from off, spliced
 *              as `pieces` adjacent ranges][FILE_TRAILER]; the size covers wr_total.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include "infrastructure/clock.h"
#include "infrastructure/net/connection.h"
#include "infrastructure/net/server.h"

/* ---- the fake handler ----------------------------------------------------------- */

typedef struct fake {
    int frames;                 /* first attempts */
    int echoes;
    int retries;                /* non-final retries of a parked request */
    int finals;
    int echoes_at_park;
    int64_t park_first_ms;
    bool inconsistent;          /* a retry saw a different first_attempt_ms */
    uint64_t last_conn_id;
    char client_host[64];       /* req->client_host of the last first attempt */
    int disconnects;
    uint64_t last_disconnect;
    int ticks;
    int64_t last_tick_ms;
    int64_t min_tick_gap_ms;
    int stop_after_ticks;
    volatile sig_atomic_t *stop;
    int file_fd;                /* what 'R' splices from (borrowed for the call only) */
    int ranges;                 /* 'R' requests answered */
} fake_t;

#define FILE_TRAILER "END!"     /* 4 bytes after an 'R' answer's file ranges */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static kl_reply_t fake_send(kl_writer_t *out, const void *p, size_t n)
{
    wr_i32(out, (int32_t)n);
    wr_raw(out, p, n);
    return KL_REPLY_SEND;
}

static kl_reply_t fake_park(fake_t *f, kl_request_t *req, const uint8_t *frame, size_t len,
                            kl_writer_t *out)
{
    if (req->park_until_ms == 0) {                       /* first attempt */
        assert_true(len >= 5);
        f->echoes_at_park = f->echoes;
        f->park_first_ms = req->first_attempt_ms;
        req->park_until_ms = req->now_ms + be32(frame + 1);
        return KL_REPLY_PARK;
    }
    if (req->first_attempt_ms != f->park_first_ms)
        f->inconsistent = true;
    if (req->final_attempt) {
        f->finals++;
        return fake_send(out, "F", 1);
    }
    f->retries++;
    if (frame[0] == 'P' && f->echoes != f->echoes_at_park)
        return fake_send(out, "W", 1);
    return KL_REPLY_PARK;                                /* deadline left as it was */
}

/* 'R': the answer's records are `len` bytes of f->file_fd from `off`, by reference. */
static kl_reply_t fake_ranges(fake_t *f, const uint8_t *frame, size_t len, kl_writer_t *out)
{
    assert_true(len >= 10);
    assert_true(f->file_fd >= 0);
    uint32_t off = be32(frame + 1), n = be32(frame + 5), pieces = frame[9];
    assert_true(pieces >= 1);
    f->ranges++;
    wr_i32(out, 0);                                      /* size: patched below */
    wr_raw(out, frame, len);
    for (uint32_t k = 0; k < pieces; k++) {
        size_t a = (size_t)n * k / pieces, b = (size_t)n * (k + 1) / pieces;
        assert_true(wr_splice(out, f->file_fd, (int64_t)off + (int64_t)a, b - a));
    }
    wr_raw(out, FILE_TRAILER, 4);
    assert_true(wr_ok(out));
    uint32_t size = (uint32_t)(wr_total(out) - 4);
    out->buf[0] = (uint8_t)(size >> 24);
    out->buf[1] = (uint8_t)(size >> 16);
    out->buf[2] = (uint8_t)(size >> 8);
    out->buf[3] = (uint8_t)size;
    return KL_REPLY_SEND;
}

static kl_reply_t fake_on_frame(void *arg, kl_request_t *req, uint8_t *frame,
                                size_t len, kl_writer_t *out)
{
    fake_t *f = arg;
    f->last_conn_id = req->conn_id;
    if (req->park_until_ms == 0) {
        f->frames++;
        snprintf(f->client_host, sizeof f->client_host, "%s",
                 req->client_host != NULL ? req->client_host : "(null)");
    }
    switch (frame[0]) {
    case 'E':
        f->echoes++;
        return fake_send(out, frame, len);
    case 'N':
        return KL_REPLY_NONE;
    case 'C':
        return KL_REPLY_CLOSE;
    case 'B': {
        size_t n = be32(frame + 1);
        wr_i32(out, (int32_t)n);
        uint8_t *p = wr_reserve(out, n);
        assert_non_null(p);
        memset(p, 'b', n);
        return KL_REPLY_SEND;
    }
    case 'P':
    case 'Q':
        return fake_park(f, req, frame, len, out);
    case 'R':
        return fake_ranges(f, frame, len, out);
    default:
        return KL_REPLY_CLOSE;
    }
}

static void fake_on_tick(void *arg, int64_t now_ms)
{
    fake_t *f = arg;
    if (f->ticks > 0 && now_ms - f->last_tick_ms < f->min_tick_gap_ms)
        f->min_tick_gap_ms = now_ms - f->last_tick_ms;
    f->ticks++;
    f->last_tick_ms = now_ms;
    if (f->stop != NULL && f->ticks >= f->stop_after_ticks)
        *f->stop = 1;
}

static void fake_on_disconnect(void *arg, uint64_t conn_id)
{
    fake_t *f = arg;
    f->disconnects++;
    f->last_disconnect = conn_id;
}

/* ---- fixture: a server, its fake and a log in memory ---------------------------- */

typedef struct fixture {
    kl_server_t *s;
    fake_t fake;
    char *logbuf;
    size_t loglen;
    FILE *logf;
    kl_log_t log;
} fixture_t;

static kl_server_options_t default_opts(void)
{
    kl_server_options_t o = { .host = "127.0.0.1", .port = 0, .max_frame_bytes = 1024,
                              .max_connections = 16, .tick_interval_ms = 1000 };
    return o;
}

static fixture_t *fixture_open(const kl_server_options_t *opts)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->fake.min_tick_gap_ms = INT64_MAX;
    fx->fake.file_fd = -1;
    fx->logf = open_memstream(&fx->logbuf, &fx->loglen);
    assert_non_null(fx->logf);
    fx->log.out = fx->logf;
    fx->log.level = KL_LOG_DEBUG;
    kl_frame_handler_t h = { .arg = &fx->fake, .on_frame = fake_on_frame,
                             .on_tick = fake_on_tick, .on_disconnect = fake_on_disconnect };
    assert_int_equal(server_open(&fx->s, opts, h, &fx->log), KL_OK);
    assert_true(server_port(fx->s) > 0);
    return fx;
}

static void fixture_close(fixture_t *fx)
{
    server_close(fx->s);
    fclose(fx->logf);
    free(fx->logbuf);
    free(fx);
}

static bool log_has(fixture_t *fx, const char *needle)
{
    fflush(fx->logf);
    return fx->logbuf != NULL && strstr(fx->logbuf, needle) != NULL;
}

/* ---- clients -------------------------------------------------------------------- */

typedef struct client {
    int fd;
    uint8_t buf[256 * 1024];
    size_t len;
} client_t;

/* A client connected to the server's port at `addr` (a sockaddr_in or sockaddr_in6
 * whose port is filled in here), already accepted. */
static client_t *client_connect(fixture_t *fx, struct sockaddr_storage *addr, socklen_t len,
                                int bufsize)
{
    client_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = socket(addr->ss_family, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    if (bufsize > 0) {
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    }
    in_port_t port = htons((uint16_t)server_port(fx->s));
    if (addr->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)addr)->sin6_port = port;
    else
        ((struct sockaddr_in *)addr)->sin_port = port;
    assert_int_equal(connect(c->fd, (struct sockaddr *)addr, len), 0);
    assert_int_equal(server_poll_once(fx->s, 0), KL_OK);    /* accept it */
    return c;
}

/* A client of 127.0.0.1. */
static client_t *client_open(fixture_t *fx, int bufsize)
{
    struct sockaddr_storage ss = { 0 };
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return client_connect(fx, &ss, sizeof *a, bufsize);
}

/* A client of ::1. */
static client_t *client_open6(fixture_t *fx)
{
    struct sockaddr_storage ss = { 0 };
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    return client_connect(fx, &ss, sizeof *a, 0);
}

static void client_close(client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static size_t frame_of(uint8_t *dst, const void *payload, size_t n)
{
    uint32_t u = (uint32_t)n;
    dst[0] = (uint8_t)(u >> 24);
    dst[1] = (uint8_t)(u >> 16);
    dst[2] = (uint8_t)(u >> 8);
    dst[3] = (uint8_t)u;
    memcpy(dst + 4, payload, n);
    return 4 + n;
}

static void send_raw(client_t *c, const void *p, size_t n)
{
    assert_int_equal(send(c->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void send_frame(client_t *c, const void *payload, size_t n)
{
    uint8_t buf[4096];
    send_raw(c, buf, frame_of(buf, payload, n));
}

static size_t park_payload(uint8_t *p, uint32_t ms)
{
    p[0] = 'P';
    p[1] = (uint8_t)(ms >> 24);
    p[2] = (uint8_t)(ms >> 16);
    p[3] = (uint8_t)(ms >> 8);
    p[4] = (uint8_t)ms;
    return 5;
}

/* Drive the server until `c` holds a whole response frame; copy its payload to
 * dst and return its length. -1: the server closed the connection; -2: timed out. */
static int recv_frame(fixture_t *fx, client_t *c, void *dst, size_t cap, int timeout_ms)
{
    int64_t until = clock_monotonic_ms() + timeout_ms;
    for (;;) {
        if (c->len >= 4 && c->len - 4 >= be32(c->buf)) {
            size_t n = be32(c->buf);
            assert_true(n <= cap);
            memcpy(dst, c->buf + 4, n);
            memmove(c->buf, c->buf + 4 + n, c->len - 4 - n);
            c->len -= 4 + n;
            return (int)n;
        }
        if (clock_monotonic_ms() > until)
            return -2;
        assert_int_equal(server_poll_once(fx->s, 10), KL_OK);
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return -1;
        if (r > 0)
            c->len += (size_t)r;
    }
}

static void expect_echo(fixture_t *fx, client_t *c, const char *text)
{
    uint8_t payload[256];
    payload[0] = 'E';
    size_t n = strlen(text);
    memcpy(payload + 1, text, n);
    send_frame(c, payload, n + 1);
    uint8_t got[256];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), (int)n + 1);
    assert_memory_equal(got, payload, n + 1);
}

static void expect_closed(fixture_t *fx, client_t *c)
{
    uint8_t got[256];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), -1);
}

/* ---- zero-copy answers: a temp file, and reading answers bigger than client_t.buf -- */

/* Byte i of every test file: no short period, so a range from the wrong offset or
 * two ranges swapped do not compare equal. */
static uint8_t file_byte(size_t i)
{
    return (uint8_t)(((uint32_t)i * 2654435761u) >> 24);
}

/* A temp file of `size` file_byte()s, opened read-write; its path in `path`, or, with
 * path NULL, already unlinked (nothing left in /tmp when a test fails half-way). */
static int file_make(size_t size, char *path)
{
    char tmp[64] = "/tmp/klamm-test-server-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    if (path != NULL)
        memcpy(path, tmp, sizeof tmp);
    else
        unlink(tmp);
    static uint8_t chunk[64 * 1024];
    for (size_t at = 0; at < size;) {
        size_t n = size - at < sizeof chunk ? size - at : sizeof chunk;
        for (size_t k = 0; k < n; k++)
            chunk[k] = file_byte(at + k);
        assert_int_equal(pwrite(fd, chunk, n, (off_t)at), (ssize_t)n);
        at += n;
    }
    return fd;
}

/* Descriptors this process has open (the queue's duplicates among them). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;                                        /* opendir's own */
}

static size_t range_payload(uint8_t *p, uint32_t off, uint32_t len, uint8_t pieces,
                            const char *tag)
{
    p[0] = 'R';
    for (int k = 0; k < 4; k++) {
        p[1 + k] = (uint8_t)(off >> (24 - 8 * k));
        p[5 + k] = (uint8_t)(len >> (24 - 8 * k));
    }
    p[9] = pieces;
    size_t t = strlen(tag);
    memcpy(p + 10, tag, t);
    return 10 + t;
}

/* Drive the server until n bytes of `c` are in dst (what recv_frame buffered first).
 * Returns the bytes got: fewer than n when the server closed or timeout_ms passed. */
static size_t recv_bytes(fixture_t *fx, client_t *c, uint8_t *dst, size_t n, int timeout_ms)
{
    size_t got = c->len < n ? c->len : n;
    memcpy(dst, c->buf, got);
    memmove(c->buf, c->buf + got, c->len - got);
    c->len -= got;
    int64_t until = clock_monotonic_ms() + timeout_ms;
    while (got < n && clock_monotonic_ms() <= until) {
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);   /* 0: no 1 ms naps */
        ssize_t r = recv(c->fd, dst + got, n - got, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            break;
        if (r > 0)
            got += (size_t)r;
    }
    return got;
}

/* memcmp that names the first differing byte (assert_memory_equal lists them all). */
static void assert_same_bytes(const uint8_t *got, const uint8_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("byte %zu of %zu: got 0x%02x, want 0x%02x", i, n, got[i], want[i]);
}

/* The whole answer an 'R' request gets, as bytes: size, payload, file range, trailer. */
static uint8_t *range_answer(const uint8_t *payload, size_t plen, uint32_t off, uint32_t len,
                             size_t *total)
{
    *total = 4 + plen + len + 4;
    uint8_t *a = malloc(*total);
    assert_non_null(a);
    uint32_t size = (uint32_t)(*total - 4);
    for (int k = 0; k < 4; k++)
        a[k] = (uint8_t)(size >> (24 - 8 * k));
    memcpy(a + 4, payload, plen);
    for (size_t i = 0; i < len; i++)
        a[4 + plen + i] = file_byte(off + i);
    memcpy(a + 4 + plen + len, FILE_TRAILER, 4);
    return a;
}

/* Ask for [off, off + len) of the fake's file in `pieces` ranges, or, with send_it
 * false, only expect the answer to a request already sent with that payload. */
static void expect_range_answer(fixture_t *fx, client_t *c, uint32_t off, uint32_t len,
                                uint8_t pieces, const char *tag, bool send_it)
{
    uint8_t p[64];
    size_t plen = range_payload(p, off, len, pieces, tag);
    if (send_it)
        send_frame(c, p, plen);
    size_t total;
    uint8_t *want = range_answer(p, plen, off, len, &total);
    uint8_t *got = malloc(total);
    assert_non_null(got);
    assert_int_equal(recv_bytes(fx, c, got, total, 5000), total);
    assert_same_bytes(got, want, total);
    free(got);
    free(want);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_request_sent_byte_by_byte(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    uint8_t buf[64];
    size_t n = frame_of(buf, "Ehello", 6);
    for (size_t i = 0; i < n; i++) {
        send_raw(c, buf + i, 1);
        assert_int_equal(server_poll_once(fx->s, 5), KL_OK);
    }
    uint8_t got[64];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), 6);
    assert_memory_equal(got, "Ehello", 6);
    assert_int_equal(fx->fake.frames, 1);
    client_close(c);
    fixture_close(fx);
}

/* Half a frame, polls, then the rest in one piece: the server, which told the kernel
 * to wake it only once the rest is there (SO_RCVLOWAT, server_conn_lowat), wakes for
 * exactly that rest. A mark above what is missing would never wake: the 2 s wait fails. */
static void test_frame_rest_wakes_the_server(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    uint8_t payload[1000];
    memset(payload, 'r', sizeof payload);
    payload[0] = 'E';
    uint8_t buf[4 + sizeof payload];
    size_t n = frame_of(buf, (const char *)payload, sizeof payload);
    send_raw(c, buf, 300);
    for (int i = 0; i < 3; i++)
        assert_int_equal(server_poll_once(fx->s, 5), KL_OK);
    assert_int_equal(fx->fake.frames, 0);
    send_raw(c, buf + 300, n - 300);
    uint8_t got[sizeof payload];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), (int)sizeof payload);
    assert_memory_equal(got, payload, sizeof payload);
    expect_echo(fx, c, "and the next one");                     /* mark back to 1 byte */
    client_close(c);
    fixture_close(fx);
}

static void test_pipelined_requests_answered_in_order(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    uint8_t buf[64];
    size_t n = frame_of(buf, "Eone", 4);
    n += frame_of(buf + n, "N", 1);
    n += frame_of(buf + n, "Etwo!", 5);
    send_raw(c, buf, n);                       /* three frames, one segment */
    uint8_t got[64];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), 4);
    assert_memory_equal(got, "Eone", 4);
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), 5);
    assert_memory_equal(got, "Etwo!", 5);
    assert_int_equal(fx->fake.frames, 3);
    client_close(c);
    fixture_close(fx);
}

static void check_bad_size_closes(int32_t size)
{
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *good = client_open(fx, 0);
    client_t *bad = client_open(fx, 0);
    uint8_t buf[8];
    uint32_t u = (uint32_t)size;
    buf[0] = (uint8_t)(u >> 24);
    buf[1] = (uint8_t)(u >> 16);
    buf[2] = (uint8_t)(u >> 8);
    buf[3] = (uint8_t)u;
    memcpy(buf + 4, "Exxx", 4);
    send_raw(bad, buf, 8);
    expect_closed(fx, bad);
    expect_echo(fx, good, "still here");
    char needle[64];
    snprintf(needle, sizeof needle, "invalid frame size %d", (int)size);
    assert_true(log_has(fx, needle));
    assert_true(log_has(fx, "WARN"));
    assert_true(log_has(fx, "127.0.0.1:"));
    assert_int_equal(fx->fake.frames, 1);      /* only the good one reached the handler */
    assert_int_equal(fx->fake.disconnects, 1);
    client_close(bad);
    client_close(good);
    fixture_close(fx);
}

static void test_oversized_frame_closes_connection(void **state)
{
    (void)state;
    check_bad_size_closes(1025);
    check_bad_size_closes(INT32_MAX);
}

static void test_negative_size_closes_connection(void **state)
{
    (void)state;
    check_bad_size_closes(-1);
}

static void test_zero_size_closes_connection(void **state)
{
    (void)state;
    check_bad_size_closes(0);
}

/* A largest legal frame passes (the buffer grows to max_frame + 4). */
static void test_max_size_frame_accepted(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    uint8_t payload[1024];
    memset(payload, 'z', sizeof payload);
    payload[0] = 'E';
    send_frame(c, payload, sizeof payload);
    uint8_t got[1024];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), 1024);
    assert_memory_equal(got, payload, 1024);
    client_close(c);
    fixture_close(fx);
}

/* The poll timeout follows the parked deadline: one poll with a long timeout returns
 * in time to give the final answer. */
static void test_parked_request_answered_at_deadline(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    o.tick_interval_ms = 10000;
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    uint8_t p[8];
    int64_t start = clock_monotonic_ms();
    send_frame(c, p, park_payload(p, 150));
    uint8_t got[16];
    int n = -2;
    for (int i = 0; i < 20 && n == -2; i++) {
        assert_int_equal(server_poll_once(fx->s, 5000), KL_OK);
        n = (int)recv(c->fd, got, sizeof got, MSG_DONTWAIT);
        if (n < 0)
            n = -2;
    }
    int64_t elapsed = clock_monotonic_ms() - start;
    assert_int_equal(n, 5);
    assert_memory_equal(got, "\0\0\0\1F", 5);
    assert_true(elapsed >= 150);
    assert_true(elapsed < 2000);
    assert_int_equal(fx->fake.finals, 1);
    assert_false(fx->fake.inconsistent);
    client_close(c);
    fixture_close(fx);
}

static void test_parked_request_woken_by_other_request(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *waiter = client_open(fx, 0);
    client_t *other = client_open(fx, 0);
    uint8_t p[8];
    int64_t start = clock_monotonic_ms();
    send_frame(waiter, p, park_payload(p, 10000));
    for (int i = 0; i < 5; i++)
        assert_int_equal(server_poll_once(fx->s, 5), KL_OK);
    assert_int_equal(fx->fake.finals, 0);
    expect_echo(fx, other, "wake up");
    uint8_t got[16];
    assert_int_equal(recv_frame(fx, waiter, got, sizeof got, 2000), 1);
    assert_int_equal(got[0], 'W');
    assert_true(clock_monotonic_ms() - start < 2000);
    assert_int_equal(fx->fake.finals, 0);
    assert_true(fx->fake.retries >= 1);
    assert_false(fx->fake.inconsistent);
    client_close(waiter);
    client_close(other);
    fixture_close(fx);
}

/* One retry per dispatch of another request — not a retry on every iteration. */
static void test_parked_request_retried_once_per_other_request(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *waiter = client_open(fx, 0);
    client_t *other = client_open(fx, 0);
    uint8_t p[8];
    park_payload(p, 5000);
    p[0] = 'Q';
    send_frame(waiter, p, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(server_poll_once(fx->s, 2), KL_OK);
    assert_int_equal(fx->fake.retries, 0);
    expect_echo(fx, other, "one");
    assert_int_equal(fx->fake.retries, 1);
    expect_echo(fx, other, "two");
    assert_int_equal(fx->fake.retries, 2);
    int64_t t0 = clock_monotonic_ms();
    assert_int_equal(server_poll_once(fx->s, 100), KL_OK);
    assert_true(clock_monotonic_ms() - t0 >= 90);   /* nothing owed: poll sleeps */
    assert_int_equal(fx->fake.retries, 2);
    assert_int_equal(fx->fake.finals, 0);
    client_close(waiter);
    client_close(other);
    fixture_close(fx);
}

/* Requests behind a parked one on the same connection wait for it (and do not wake
 * it), the server stops reading once one more frame is buffered, and everything is
 * answered in order once the deadline passes. */
static void test_parked_request_holds_back_its_connection(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    o.max_frame_bytes = 1 << 20;              /* read buffer not capped by the frame size */
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    uint8_t p[8];
    send_frame(c, p, park_payload(p, 500));
    for (int i = 0; i < 3; i++)
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
    uint8_t payload[1000];
    memset(payload, 'e', sizeof payload);
    payload[0] = 'E';
    for (int i = 0; i < 50; i++) {            /* one frame per poll: reads stop early */
        payload[1] = (uint8_t)i;
        send_frame(c, payload, sizeof payload);
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
    }
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_int_equal(fx->fake.echoes, 0);
    assert_true(st.buffered_bytes <= 9 + 2 * 1004);  /* parked frame + one more (+ a bit) */
    uint8_t got[1000];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), 1);
    assert_int_equal(got[0], 'F');
    for (int i = 0; i < 50; i++) {
        assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), 1000);
        assert_int_equal(got[1], (uint8_t)i);
    }
    assert_int_equal(fx->fake.echoes, 50);
    client_close(c);
    fixture_close(fx);
}

static void test_close_reply_closes_and_reports_disconnect(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    send_frame(c, "C", 1);
    expect_closed(fx, c);
    assert_int_equal(fx->fake.disconnects, 1);
    assert_int_equal(fx->fake.last_disconnect, fx->fake.last_conn_id);
    assert_true(log_has(fx, "closing"));
    client_close(c);
    fixture_close(fx);
}

static void test_disconnect_reported_on_client_close(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *a = client_open(fx, 0);
    client_t *b = client_open(fx, 0);
    expect_echo(fx, a, "a");
    uint64_t a_id = fx->fake.last_conn_id;
    expect_echo(fx, b, "b");
    assert_int_not_equal(fx->fake.last_conn_id, a_id);
    close(a->fd);
    a->fd = -1;
    for (int i = 0; i < 20 && fx->fake.disconnects == 0; i++)
        assert_int_equal(server_poll_once(fx->s, 10), KL_OK);
    assert_int_equal(fx->fake.disconnects, 1);
    assert_int_equal(fx->fake.last_disconnect, a_id);
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_int_equal(st.connections, 1);
    expect_echo(fx, b, "b again");
    client_close(a);
    client_close(b);
    fixture_close(fx);
}

/* Hostile client (issue "Crash safety"): it announces a 100-byte request, sends 10 bytes
 * of it and hangs up. Nothing is dispatched, the close is reported, others are served. */
static void test_disconnect_mid_request(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *a = client_open(fx, 0);
    client_t *b = client_open(fx, 0);
    const uint8_t partial[] = { 0, 0, 0, 100, 'E', 'h', 'a', 'l', 'f', ' ', 'o', 'f', ' ', 'i' };
    send_raw(a, partial, sizeof partial);
    assert_int_equal(server_poll_once(fx->s, 10), KL_OK);
    close(a->fd);
    a->fd = -1;
    for (int i = 0; i < 50 && fx->fake.disconnects == 0; i++)
        assert_int_equal(server_poll_once(fx->s, 10), KL_OK);
    assert_int_equal(fx->fake.disconnects, 1);
    assert_int_equal(fx->fake.frames, 0);          /* the half request never reached us */
    expect_echo(fx, b, "still serving");
    client_close(a);
    client_close(b);
    fixture_close(fx);
}

/* Hostile client: it asks for a 16 MiB answer, reads a little of it and resets the
 * connection. The server's send fails (EPIPE/ECONNRESET): it closes that connection,
 * reports it, does not die of SIGPIPE (MSG_NOSIGNAL) and keeps serving others. */
static void test_disconnect_mid_response(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *a = client_open(fx, 16 * 1024);
    client_t *b = client_open(fx, 0);
    const uint32_t n = 16 * 1024 * 1024;     /* more than any loopback socket buffers */
    const uint8_t big[] = { 'B', (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                            (uint8_t)n };
    send_frame(a, big, sizeof big);
    size_t got = 0;
    for (int i = 0; i < 200 && got < 8192; i++) {
        assert_int_equal(server_poll_once(fx->s, 5), KL_OK);
        ssize_t r = recv(a->fd, a->buf, 4096, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
    }
    assert_true(got > 0);
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_true(st.max_conn_queued_bytes > 0);      /* most of the answer still unsent */
    struct linger rst = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(a->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
    close(a->fd);                                   /* RST: the peer is gone mid-answer */
    a->fd = -1;
    for (int i = 0; i < 100 && fx->fake.disconnects == 0; i++)
        assert_int_equal(server_poll_once(fx->s, 10), KL_OK);
    assert_int_equal(fx->fake.disconnects, 1);
    server_stats(fx->s, &st);
    assert_int_equal(st.connections, 1);
    expect_echo(fx, b, "still serving");
    client_close(a);
    client_close(b);
    fixture_close(fx);
}

/* A half-closed client still gets the answers to what it sent, even to a request
 * that was parked when the FIN arrived. */
static void test_requests_before_eof_are_answered(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    uint8_t p[8];
    send_frame(c, p, park_payload(p, 50));
    for (int i = 0; i < 3; i++)
        assert_int_equal(server_poll_once(fx->s, 2), KL_OK);
    shutdown(c->fd, SHUT_WR);
    uint8_t got[16];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), 1);
    assert_int_equal(got[0], 'F');
    expect_closed(fx, c);
    assert_int_equal(fx->fake.disconnects, 1);
    client_close(c);
    fixture_close(fx);
}

static void test_max_connections_enforced(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    o.max_connections = 2;
    fixture_t *fx = fixture_open(&o);
    client_t *a = client_open(fx, 0);
    client_t *b = client_open(fx, 0);
    client_t *c = client_open(fx, 0);
    expect_closed(fx, c);
    expect_echo(fx, a, "a");
    expect_echo(fx, b, "b");
    assert_true(log_has(fx, "max.connections"));
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_int_equal(st.connections, 2);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(fx->fake.disconnects, 0);  /* never a served connection */
    /* a slot freed is a slot usable again */
    client_close(a);
    for (int i = 0; i < 20 && fx->fake.disconnects == 0; i++)
        assert_int_equal(server_poll_once(fx->s, 10), KL_OK);
    client_t *d = client_open(fx, 0);
    expect_echo(fx, d, "d");
    client_close(b);
    client_close(c);
    client_close(d);
    fixture_close(fx);
}

/* A client that pipelines requests for big answers and reads nothing: the server
 * stops reading it once its queue passes the limit, so its memory stays bounded and
 * other clients are still served; once the client reads, every answer arrives. */
static void test_slow_reader_memory_bounded(void **state)
{
    (void)state;
    const size_t limit = 128 * 1024, answer = 32 * 1024;
    kl_server_options_t o = default_opts();
    o.max_queued_bytes = limit;
    fixture_t *fx = fixture_open(&o);
    client_t *slow = client_open(fx, 32 * 1024);
    client_t *other = client_open(fx, 0);
    uint8_t req[200], frame[204];
    memset(req, 0, sizeof req);
    req[0] = 'B';
    req[3] = (uint8_t)(answer >> 8);
    size_t flen = frame_of(frame, req, sizeof req);
    int sent = 0, stuck = 0;
    size_t off = 0, peak_queue = 0, peak_memory = 0;
    while (stuck < 200 && sent < 100000) {
        ssize_t r = send(slow->fd, frame + off, flen - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) {
            off += (size_t)r;
            if (off == flen) {
                off = 0;
                sent++;
            }
            stuck = 0;
        } else {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            stuck++;
            assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
        }
        kl_server_stats_t st;
        server_stats(fx->s, &st);
        if (st.max_conn_queued_bytes > peak_queue)
            peak_queue = st.max_conn_queued_bytes;
        if (st.memory_bytes > peak_memory)
            peak_memory = st.memory_bytes;
    }
    assert_true(sent < 100000);                /* the server did stop reading */
    assert_true(peak_queue <= limit + answer + 4);
    /* queue + the writer being filled + one read buffer, with doubling slack */
    assert_true(peak_memory <= 2 * (limit + answer) + 2 * answer + 64 * 1024);
    expect_echo(fx, other, "not blocked");
    /* and it does not spin on the connection it cannot serve: nothing to do = sleep */
    int64_t t0 = clock_monotonic_ms();
    assert_int_equal(server_poll_once(fx->s, 100), KL_OK);
    assert_true(clock_monotonic_ms() - t0 >= 90);

    /* now read everything: all `sent` answers (and the unsent tail frame) arrive */
    size_t want = (size_t)sent * (answer + 4), got = 0, bees = 0;
    static uint8_t sink[64 * 1024];
    int64_t until = clock_monotonic_ms() + 10000;
    while ((got < want || off != 0) && clock_monotonic_ms() < until) {
        if (off != 0) {
            ssize_t r = send(slow->fd, frame + off, flen - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r > 0 && (off += (size_t)r) == flen) {
                off = 0;
                sent++;
                want += answer + 4;
            }
        }
        assert_int_equal(server_poll_once(fx->s, 1), KL_OK);
        ssize_t r = recv(slow->fd, sink, sizeof sink, MSG_DONTWAIT);
        for (ssize_t k = 0; k < r; k++)
            bees += sink[k] == 'b';            /* size prefixes 00 00 80 00 are not 'b' */
        if (r > 0)
            got += (size_t)r;
    }
    assert_int_equal(got, want);
    assert_int_equal(bees, (size_t)sent * answer);
    client_close(slow);
    client_close(other);
    fixture_close(fx);
}

static void test_tick_interval_respected(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    o.tick_interval_ms = 30;
    fixture_t *fx = fixture_open(&o);
    int64_t start = clock_monotonic_ms();
    while (clock_monotonic_ms() - start < 200)
        assert_int_equal(server_poll_once(fx->s, 1), KL_OK);
    assert_true(fx->fake.ticks >= 3);
    assert_true(fx->fake.ticks <= 8);
    assert_true(fx->fake.min_tick_gap_ms >= 30);
    fixture_close(fx);
}

static void test_run_returns_when_stop_flag_set(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    o.tick_interval_ms = 20;
    fixture_t *fx = fixture_open(&o);
    client_t *c = client_open(fx, 0);
    expect_echo(fx, c, "before");
    volatile sig_atomic_t stop = 0;
    fx->fake.stop = &stop;
    fx->fake.stop_after_ticks = fx->fake.ticks + 3;
    int64_t start = clock_monotonic_ms();
    assert_int_equal(server_run(fx->s, &stop), KL_OK);
    int64_t elapsed = clock_monotonic_ms() - start;
    assert_true(elapsed >= 40);
    assert_true(elapsed < 2000);
    assert_int_equal(fx->fake.disconnects, 1);  /* connections closed on the way out */
    uint8_t got[16];
    assert_int_equal(recv(c->fd, got, sizeof got, 0), 0);
    client_close(c);
    fixture_close(fx);
}

static void test_listen_on_localhost_name(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    o.host = "localhost";
    fixture_t *fx = fixture_open(&o);
    assert_true(log_has(fx, "listening"));
    client_t *c = client_open(fx, 0);
    expect_echo(fx, c, "hi");
    client_close(c);
    fixture_close(fx);

    kl_server_t *s = NULL;
    o.host = "192.0.2.1";                   /* TEST-NET-1: not an address of ours */
    kl_frame_handler_t h = { .on_frame = fake_on_frame };
    assert_int_not_equal(server_open(&s, &o, h, NULL), KL_OK);
    assert_null(s);
}

/* ---- IPv6 ---------------------------------------------------------------------------- */

/* The IPv6 tests skip() on a machine that cannot bind ::1 (no IPv6, or a kernel without
 * the loopback address); any other failure is a failure. */
static void skip_without_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0 && errno == EAFNOSUPPORT)
        skip();
    assert_true(fd >= 0);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a), err = errno;
    close(fd);
    if (rc < 0 && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT))
        skip();
    assert_int_equal(rc, 0);
}

/* listeners=PLAINTEXT://[::1]:0 — config keeps the host without brackets, "::1". */
static void test_listen_on_ipv6_loopback(void **state)
{
    (void)state;
    skip_without_ipv6_loopback();
    kl_server_options_t o = default_opts();
    o.host = "::1";
    fixture_t *fx = fixture_open(&o);
    char want[64];
    snprintf(want, sizeof want, "listening on [::1]:%d", server_port(fx->s));
    assert_true(log_has(fx, want));
    client_t *c = client_open6(fx);
    expect_echo(fx, c, "over IPv6");
    assert_string_equal(fx->fake.client_host, "/0:0:0:0:0:0:0:1");   /* Java's spelling */
    assert_true(log_has(fx, "accepted [::1]:"));
    client_close(c);
    fixture_close(fx);
}

/* listeners=PLAINTEXT://[::]:0 — every interface of both families, as a Kafka broker
 * (the JVM's sockets are dual-stack) would; an IPv4 client is shown as IPv4. */
static void test_listen_on_ipv6_any_is_dual_stack(void **state)
{
    (void)state;
    skip_without_ipv6_loopback();
    kl_server_options_t o = default_opts();
    o.host = "::";
    fixture_t *fx = fixture_open(&o);
    char want[64];
    snprintf(want, sizeof want, "listening on [::]:%d", server_port(fx->s));
    assert_true(log_has(fx, want));
    client_t *c6 = client_open6(fx);
    expect_echo(fx, c6, "six");
    assert_string_equal(fx->fake.client_host, "/0:0:0:0:0:0:0:1");
    client_t *c4 = client_open(fx, 0);
    expect_echo(fx, c4, "four");
    assert_string_equal(fx->fake.client_host, "/127.0.0.1");
    assert_true(log_has(fx, "accepted 127.0.0.1:"));         /* not [::ffff:127.0.0.1] */
    client_close(c4);
    client_close(c6);
    fixture_close(fx);
}

/* An IPv4 listener still listens on IPv4 only, and names its IPv4 peers as before. */
static void test_ipv4_listener_unchanged(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    char want[64];
    snprintf(want, sizeof want, "listening on 127.0.0.1:%d", server_port(fx->s));
    assert_true(log_has(fx, want));
    client_t *c = client_open(fx, 0);
    expect_echo(fx, c, "hi");
    assert_string_equal(fx->fake.client_host, "/127.0.0.1");
    client_close(c);
    fixture_close(fx);
}

/* ---- zero-copy answers (file ranges, sendfile) ------------------------------------ */

/* An answer of 'b's of the 'B' request (n bytes) is next on `c`. */
static void expect_bees(fixture_t *fx, client_t *c, size_t n)
{
    uint8_t *got = malloc(4 + n);
    assert_non_null(got);
    assert_int_equal(recv_bytes(fx, c, got, 4 + n, 5000), 4 + n);
    assert_int_equal(be32(got), n);
    for (size_t i = 0; i < n; i++)
        if (got[4 + i] != 'b')
            fail_msg("byte %zu of the 'B' answer: 0x%02x", i, got[4 + i]);
    free(got);
}

static void send_bees_request(client_t *c, uint32_t n)
{
    const uint8_t big[] = { 'B', (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                            (uint8_t)n };
    send_frame(c, big, sizeof big);
}

/* Small answers with file ranges — one range, three adjacent ones, an empty one, the
 * last byte — arrive byte for byte, and the queue's duplicate descriptors are closed
 * once sent. */
static void test_file_range_answer_arrives_intact(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    int fd = file_make(4096, NULL);
    fx->fake.file_fd = fd;
    client_t *c = client_open(fx, 0);
    int fds = open_fds();
    expect_range_answer(fx, c, 100, 1000, 1, "small", true);
    expect_range_answer(fx, c, 0, 4096, 3, "three adjacent", true);
    expect_range_answer(fx, c, 4000, 0, 1, "empty", true);
    expect_range_answer(fx, c, 4095, 1, 1, "last byte", true);
    assert_int_equal(fx->fake.ranges, 4);
    assert_int_equal(open_fds(), fds);               /* every duplicate closed */
    expect_echo(fx, c, "plain answers still fine");
    client_close(c);
    fixture_close(fx);
    close(fd);
}

/* 8 MiB of file, far more than the socket buffers of a client that reads slowly at
 * first: sendfile sends part of the range, hits EAGAIN, and POLLOUT continues it at
 * the right offset. The server holds none of those bytes in memory, and its duplicate
 * descriptor keeps the data readable after the file is closed and unlinked. */
static void test_large_file_range_sent_in_pieces(void **state)
{
    (void)state;
    const uint32_t n = 8u << 20;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    char path[64];
    int fd = file_make(n, path);
    fx->fake.file_fd = fd;
    client_t *c = client_open(fx, 16 * 1024);
    int fds = open_fds();
    uint8_t p[64];
    send_frame(c, p, range_payload(p, 0, n, 1, "big"));
    for (int i = 0; i < 20; i++) {                  /* slow reader: 1000 bytes a turn */
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
        ssize_t r = recv(c->fd, c->buf + c->len, 1000, MSG_DONTWAIT);
        if (r > 0)
            c->len += (size_t)r;
    }
    assert_int_equal(fx->fake.ranges, 1);
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_true(st.max_conn_queued_bytes > n / 2);   /* stuck mid-range: EAGAIN */
    assert_true(st.memory_bytes < 1024 * 1024);      /* by reference, not copied */
    assert_int_equal(open_fds(), fds + 1);           /* the queue's duplicate */
    close(fd);                                       /* queued: ours may go now */
    unlink(path);
    fx->fake.file_fd = -1;
    expect_range_answer(fx, c, 0, n, 1, "big", false);
    assert_int_equal(open_fds(), fds - 1);           /* ours and the duplicate closed */
    expect_echo(fx, c, "still in step");
    client_close(c);
    fixture_close(fx);
}

/* Pipelined requests whose answers hold file ranges, with a plain answer between them,
 * and more of them arriving while the queue is stuck inside a range (appended behind
 * it, the queue compacted): every answer arrives whole and in order. */
static void test_pipelined_file_range_answers_in_order(void **state)
{
    (void)state;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    int fd = file_make(8u << 20, NULL);
    fx->fake.file_fd = fd;
    client_t *c = client_open(fx, 16 * 1024);
    int fds = open_fds();
    char mid[200];
    memset(mid, 'm', sizeof mid - 1);
    mid[sizeof mid - 1] = '\0';
    mid[0] = 'E';
    uint8_t buf[1024], p[64];
    size_t len = 0;
    len += frame_of(buf + len, p, range_payload(p, 0, 1000, 1, "one"));
    len += frame_of(buf + len, mid, strlen(mid));
    len += frame_of(buf + len, p, range_payload(p, 1u << 20, 6u << 20, 2, "two"));
    send_raw(c, buf, len);                          /* three frames, one segment */
    for (int i = 0; i < 5; i++)
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
    assert_int_equal(fx->fake.ranges, 2);
    assert_int_equal(fx->fake.echoes, 1);
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_true(st.max_conn_queued_bytes > 1u << 20);  /* stuck inside range "two" */
    len = frame_of(buf, p, range_payload(p, 123, 200000, 1, "three"));
    len += frame_of(buf + len, p, range_payload(p, 7, 10, 1, "four"));
    send_raw(c, buf, len);
    for (int i = 0; i < 5; i++)
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
    assert_int_equal(fx->fake.ranges, 4);           /* queued behind the stuck range */
    expect_range_answer(fx, c, 0, 1000, 1, "one", false);
    uint8_t got[256];
    assert_int_equal(recv_frame(fx, c, got, sizeof got, 2000), (int)strlen(mid));
    assert_memory_equal(got, mid, strlen(mid));
    expect_range_answer(fx, c, 1u << 20, 6u << 20, 2, "two", false);
    expect_range_answer(fx, c, 123, 200000, 1, "three", false);
    expect_range_answer(fx, c, 7, 10, 1, "four", false);
    assert_int_equal(open_fds(), fds);
    expect_echo(fx, c, "after");
    client_close(c);
    fixture_close(fx);
    close(fd);
}

/* A file that shrinks after its range was queued (and before it was sent): sendfile
 * meets the end of the file early (returns 0). The server logs an error and closes that
 * connection — the client gets the answers before it whole and then EOF before the
 * bytes promised — and goes on serving the others. */
static void test_truncated_file_closes_connection(void **state)
{
    (void)state;
    const uint32_t big = 8u << 20, n = 65536, left = 20000;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    int fd = file_make(n, NULL);
    fx->fake.file_fd = fd;
    client_t *a = client_open(fx, 16 * 1024);
    client_t *b = client_open(fx, 0);
    int fds = open_fds();
    send_bees_request(a, big);                      /* holds the queue up */
    uint8_t p[64];
    size_t plen = range_payload(p, 0, n, 1, "cut");
    send_frame(a, p, plen);
    for (int i = 0; i < 5; i++)
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
    assert_int_equal(fx->fake.ranges, 1);
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_true(st.max_conn_queued_bytes > 4 + plen + n + 4);  /* none of it sent yet */
    assert_int_equal(ftruncate(fd, left), 0);
    expect_bees(fx, a, big);
    size_t total;
    uint8_t *want = range_answer(p, plen, 0, n, &total);
    uint8_t *got = malloc(total);
    assert_non_null(got);
    size_t m = recv_bytes(fx, a, got, total, 5000);
    assert_true(m < total);                          /* EOF before the promised bytes */
    assert_true(m >= 4 + plen + left);               /* what the file still had came */
    assert_same_bytes(got, want, 4 + plen + left);
    free(got);
    free(want);
    assert_true(log_has(fx, "ERROR"));
    assert_true(log_has(fx, "ended before the 45536 bytes of a Fetch response"));
    assert_int_equal(fx->fake.disconnects, 1);
    server_stats(fx->s, &st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(open_fds(), fds - 1);           /* its socket and duplicate closed */
    expect_echo(fx, b, "still serving");
    client_close(a);
    client_close(b);
    fixture_close(fx);
    close(fd);
}

/* After sendfile meets the end of a shrunk file, nothing queued behind the lost range
 * may be sent (infrastructure/net/connection.c:conn_write_drop): the rest of that
 * answer and the answers pipelined behind it would land where the missing file bytes
 * belong, and the client could read a complete frame of the promised size holding the
 * wrong bytes (the trailer, the next answer's size prefix, its 'b's) instead of EOF. */
static void test_truncated_file_sends_nothing_after_the_gap(void **state)
{
    (void)state;
    const uint32_t big = 8u << 20, n = 4096;
    kl_server_options_t o = default_opts();
    fixture_t *fx = fixture_open(&o);
    int fd = file_make(n, NULL);
    fx->fake.file_fd = fd;
    client_t *a = client_open(fx, 16 * 1024);
    send_bees_request(a, big);                      /* holds the queue up */
    uint8_t p[64];
    size_t plen = range_payload(p, 0, n, 1, "gap");
    send_frame(a, p, plen);
    send_bees_request(a, 16384);                    /* an answer pipelined behind */
    for (int i = 0; i < 5; i++)
        assert_int_equal(server_poll_once(fx->s, 0), KL_OK);
    assert_int_equal(fx->fake.frames, 3);
    kl_server_stats_t st;
    server_stats(fx->s, &st);
    assert_true(st.max_conn_queued_bytes > 4 + plen + n + 4 + 4 + 16384);  /* unsent */
    assert_int_equal(ftruncate(fd, 0), 0);
    expect_bees(fx, a, big);
    size_t total;
    uint8_t *want = range_answer(p, plen, 0, n, &total);
    uint8_t *got = malloc(total);
    assert_non_null(got);
    size_t m = recv_bytes(fx, a, got, total, 5000);
    assert_same_bytes(got, want, m);                 /* whatever came is the answer's */
    assert_true(m < total);                          /* and it ends early: EOF */
    free(got);
    free(want);
    assert_int_equal(fx->fake.disconnects, 1);
    client_close(a);
    fixture_close(fx);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_sent_byte_by_byte),
        cmocka_unit_test(test_frame_rest_wakes_the_server),
        cmocka_unit_test(test_pipelined_requests_answered_in_order),
        cmocka_unit_test(test_oversized_frame_closes_connection),
        cmocka_unit_test(test_negative_size_closes_connection),
        cmocka_unit_test(test_zero_size_closes_connection),
        cmocka_unit_test(test_max_size_frame_accepted),
        cmocka_unit_test(test_parked_request_answered_at_deadline),
        cmocka_unit_test(test_parked_request_woken_by_other_request),
        cmocka_unit_test(test_parked_request_retried_once_per_other_request),
        cmocka_unit_test(test_parked_request_holds_back_its_connection),
        cmocka_unit_test(test_close_reply_closes_and_reports_disconnect),
        cmocka_unit_test(test_disconnect_reported_on_client_close),
        cmocka_unit_test(test_disconnect_mid_request),
        cmocka_unit_test(test_disconnect_mid_response),
        cmocka_unit_test(test_requests_before_eof_are_answered),
        cmocka_unit_test(test_max_connections_enforced),
        cmocka_unit_test(test_slow_reader_memory_bounded),
        cmocka_unit_test(test_tick_interval_respected),
        cmocka_unit_test(test_run_returns_when_stop_flag_set),
        cmocka_unit_test(test_listen_on_localhost_name),
        cmocka_unit_test(test_listen_on_ipv6_loopback),
        cmocka_unit_test(test_listen_on_ipv6_any_is_dual_stack),
        cmocka_unit_test(test_ipv4_listener_unchanged),
        cmocka_unit_test(test_file_range_answer_arrives_intact),
        cmocka_unit_test(test_large_file_range_sent_in_pieces),
        cmocka_unit_test(test_pipelined_file_range_answers_in_order),
        cmocka_unit_test(test_truncated_file_closes_connection),
        cmocka_unit_test(test_truncated_file_sends_nothing_after_the_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
