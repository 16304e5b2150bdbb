/*
 * test/test_connection.c — unit tests of infrastructure/net/connection.c: Kafka framing
 * over an in-memory buffer (bytes fed in pieces), invalid sizes, compaction and growth
 * of the read buffer, the read back-pressure policy and the write queue — memory bytes
 * and file ranges (zero-copy Fetch) over real temporary files; client_host, the peer's
 * address as Kafka prints it, from sockaddrs built here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "infrastructure/net/connection.h"

#define MAX_FRAME 100000

/* Copy `n` bytes into the connection as recv() would, at most `piece` at a time. */
static void feed(kl_conn_t *c, const void *p, size_t n, size_t piece)
{
    const uint8_t *src = p;
    while (n > 0) {
        size_t avail = 0;
        uint8_t *dst = conn_read_space(c, &avail);
        assert_non_null(dst);
        assert_true(avail > 0);
        size_t k = n < piece ? n : piece;
        if (k > avail)
            k = avail;
        memcpy(dst, src, k);
        conn_read_commit(c, k);
        src += k;
        n -= k;
    }
}

static size_t make_frame(uint8_t *dst, int32_t size, uint8_t fill, size_t payload)
{
    uint32_t u = (uint32_t)size;
    dst[0] = (uint8_t)(u >> 24);
    dst[1] = (uint8_t)(u >> 16);
    dst[2] = (uint8_t)(u >> 8);
    dst[3] = (uint8_t)u;
    memset(dst + 4, fill, payload);
    return 4 + payload;
}

/* The memory bytes that go next (conn_write_chunk); *len 0 when a file range is next. */
static const uint8_t *write_data(const kl_conn_t *c, size_t *len)
{
    kl_conn_chunk_t ch = conn_write_chunk(c);
    *len = ch.mem != NULL ? ch.len : 0;
    return ch.mem;
}

static void test_frame_fed_byte_by_byte(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    uint8_t buf[64];
    size_t n = make_frame(buf, 10, 'a', 10);
    const uint8_t *frame;
    size_t len;
    int32_t size;
    for (size_t i = 0; i < n - 1; i++) {
        feed(&c, buf + i, 1, 1);
        assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_INCOMPLETE);
    }
    feed(&c, buf + n - 1, 1, 1);
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_READY);
    assert_int_equal(len, 10);
    assert_memory_equal(frame, "aaaaaaaaaa", 10);
    conn_consume_frame(&c);
    assert_int_equal(conn_buffered(&c), 0);
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_INCOMPLETE);
    conn_free(&c);
}

static void test_two_frames_in_one_read(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    uint8_t buf[64];
    size_t n = make_frame(buf, 3, 'x', 3);
    n += make_frame(buf + n, 5, 'y', 5);
    n += 2;                               /* and the start of a third frame's size */
    buf[n - 2] = 0;
    buf[n - 1] = 0;
    feed(&c, buf, n, n);
    const uint8_t *frame;
    size_t len;
    int32_t size;
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_READY);
    assert_int_equal(len, 3);
    assert_memory_equal(frame, "xxx", 3);
    conn_consume_frame(&c);
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_READY);
    assert_int_equal(len, 5);
    assert_memory_equal(frame, "yyyyy", 5);
    conn_consume_frame(&c);
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_INCOMPLETE);
    assert_int_equal(conn_buffered(&c), 2);
    conn_free(&c);
}

static void expect_bad_size(int32_t bad)
{
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    uint8_t buf[8];
    make_frame(buf, bad, 0, 0);
    feed(&c, buf, 4, 4);
    const uint8_t *frame;
    size_t len;
    int32_t size = 0;
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_BAD_SIZE);
    assert_int_equal(size, bad);
    conn_free(&c);
}

static void test_sizes_rejected(void **state)
{
    (void)state;
    expect_bad_size(-1);
    expect_bad_size(INT32_MIN);
    expect_bad_size(0);
    expect_bad_size(MAX_FRAME + 1);
    expect_bad_size(INT32_MAX);
}

/* The largest legal frame is accepted and the buffer grows to hold exactly it. */
static void test_max_frame_grows_buffer_to_cap(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    static uint8_t buf[MAX_FRAME + 4];
    size_t n = make_frame(buf, MAX_FRAME, 'z', MAX_FRAME);
    feed(&c, buf, n, 4096);
    const uint8_t *frame;
    size_t len;
    int32_t size;
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_READY);
    assert_int_equal(len, MAX_FRAME);
    assert_int_equal(frame[MAX_FRAME - 1], 'z');
    assert_true(c.rcap <= (size_t)MAX_FRAME + 4);
    conn_consume_frame(&c);
    /* empty and bigger than KL_CONN_BUF_KEEP? MAX_FRAME is below it: kept for reuse */
    size_t avail;
    assert_non_null(conn_read_space(&c, &avail));
    assert_true(avail > 0);
    conn_free(&c);
}

/* A stream of small frames straddling the buffer's end must be compacted, not grown. */
static void test_compaction_keeps_buffer_small(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    uint8_t buf[1000];
    size_t n = make_frame(buf, 990, 'q', 990);   /* 994 bytes: frames straddle the end */
    size_t frames = 0;
    for (int i = 0; i < 200; i++) {
        feed(&c, buf, n, 333);
        const uint8_t *frame;
        size_t len;
        int32_t size;
        while (conn_peek_frame(&c, &frame, &len, &size) == KL_FRAME_READY) {
            assert_int_equal(len, 990);
            conn_consume_frame(&c);
            frames++;
        }
    }
    assert_int_equal(frames, 200);
    assert_int_equal(c.rcap, KL_CONN_RBUF_INITIAL);
    conn_free(&c);
}

/* A partial frame left at the tail is moved to the front when room is needed. */
static void test_compaction_moves_partial_frame_to_front(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    static uint8_t buf[KL_CONN_RBUF_INITIAL];
    size_t first = KL_CONN_RBUF_INITIAL - 10;
    make_frame(buf, (int32_t)(first - 4), 'a', first - 4);
    make_frame(buf + first, 20, 'b', 6);          /* 10 bytes of a 24-byte frame */
    feed(&c, buf, KL_CONN_RBUF_INITIAL, KL_CONN_RBUF_INITIAL);
    const uint8_t *frame;
    size_t len;
    int32_t size;
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_READY);
    conn_consume_frame(&c);
    assert_int_equal(c.rstart, first);
    size_t avail = 0;
    uint8_t *dst = conn_read_space(&c, &avail);
    assert_int_equal(c.rstart, 0);
    assert_int_equal(c.rend, 10);
    assert_ptr_equal(dst, c.rbuf + 10);
    assert_int_equal(c.rcap, KL_CONN_RBUF_INITIAL);
    uint8_t rest[14];
    memset(rest, 'b', sizeof rest);
    memcpy(dst, rest, sizeof rest);
    conn_read_commit(&c, sizeof rest);
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_READY);
    assert_int_equal(len, 20);
    assert_memory_equal(frame, "bbbbbbbbbbbbbbbbbbbb", 20);
    conn_free(&c);
}

/* While a request is parked its bytes never move, and reading stops once one more
 * frame is buffered behind it. */
static void test_parked_frame_stays_put(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    uint8_t buf[64];
    size_t n = make_frame(buf, 8, 'p', 8);
    feed(&c, buf, n, n);
    const uint8_t *frame, *again;
    size_t len;
    int32_t size;
    assert_int_equal(conn_peek_frame(&c, &frame, &len, &size), KL_FRAME_READY);
    c.parked = true;
    assert_true(conn_wants_read(&c, 1000));
    n = make_frame(buf, 8, 'n', 4);               /* half of the next frame */
    feed(&c, buf, n, n);
    assert_true(conn_wants_read(&c, 1000));
    feed(&c, buf + 4, 4, 4);                      /* the rest: a whole frame waits */
    assert_false(conn_wants_read(&c, 1000));
    assert_int_equal(conn_peek_frame(&c, &again, &len, &size), KL_FRAME_READY);
    assert_ptr_equal(again, frame);
    assert_memory_equal(again, "pppppppp", 8);
    c.parked = false;
    conn_consume_frame(&c);
    assert_true(conn_wants_read(&c, 1000));
    conn_free(&c);
}

static void test_wants_read_policy(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    assert_true(conn_wants_read(&c, 10));
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "0123456789ab", 12);
    assert_true(conn_queue_out(&c));
    assert_false(conn_wants_read(&c, 10));        /* 12 unsent bytes > 10 */
    conn_write_commit(&c, 2);
    assert_true(conn_wants_read(&c, 10));
    c.eof = true;
    assert_false(conn_wants_read(&c, 10));
    c.eof = false;
    c.closing = true;
    assert_false(conn_wants_read(&c, 10));
    conn_free(&c);
}

/* The SO_RCVLOWAT the server sets: what the head frame still lacks (capped), else 1. */
static void test_read_lowat_is_what_the_head_frame_lacks(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    assert_int_equal(conn_read_lowat(&c, 1u << 20), 1);          /* nothing buffered */
    static uint8_t buf[4 + 1000];
    size_t n = make_frame(buf, 1000, 'x', 1000);
    feed(&c, buf, 2, 2);
    assert_int_equal(conn_read_lowat(&c, 1u << 20), 1);          /* size not known yet */
    feed(&c, buf + 2, 102, 102);                                 /* prefix + 100 bytes */
    assert_int_equal(conn_read_lowat(&c, 1u << 20), 900);
    assert_int_equal(conn_read_lowat(&c, 64), 64);               /* the cap */
    feed(&c, buf + 104, n - 104, n);
    assert_int_equal(conn_read_lowat(&c, 1u << 20), 1);          /* a whole frame */
    c.parked = true;
    feed(&c, buf, 10, 10);                                       /* a tail behind it */
    assert_int_equal(conn_read_lowat(&c, 1u << 20), 1);          /* parked: any byte */
    conn_free(&c);

    conn_init(&c, 2, -1, "mem", NULL, MAX_FRAME);
    n = make_frame(buf, MAX_FRAME + 1, 'x', 0);                  /* a size we refuse */
    feed(&c, buf, n, n);
    assert_int_equal(conn_read_lowat(&c, 1u << 20), 1);
    conn_free(&c);
}

static void test_write_queue(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "abc", 3);
    uint8_t *built = w->buf;
    assert_true(conn_queue_out(&c));
    size_t len;
    const uint8_t *p = write_data(&c, &len);
    assert_ptr_equal(p, built);                   /* queued by swapping: no copy */
    assert_int_equal(len, 3);
    assert_int_equal(conn_out(&c)->len, 0);

    w = conn_out(&c);
    wr_raw(w, "defg", 4);
    assert_true(conn_queue_out(&c));              /* appended behind "abc" */
    assert_int_equal(conn_queued(&c), 7);
    conn_write_commit(&c, 2);                     /* a partial send */
    p = write_data(&c, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "cdefg", 5);

    w = conn_out(&c);
    wr_raw(w, "hi", 2);
    assert_true(conn_queue_out(&c));
    p = write_data(&c, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(p, "cdefghi", 7);
    conn_write_commit(&c, 7);
    assert_int_equal(conn_queued(&c), 0);
    p = write_data(&c, &len);
    assert_int_equal(len, 0);
    conn_free(&c);
}

/* Buffers beyond KL_CONN_BUF_KEEP stay while the connection is busy (no malloc and page
 * faults per big request) and are released by conn_trim once drained. */
static void test_large_buffers_kept_until_trimmed(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, 4 * 1024 * 1024);
    kl_writer_t *w = conn_out(&c);
    assert_non_null(wr_reserve(w, 2 * KL_CONN_BUF_KEEP));
    assert_true(conn_queue_out(&c));
    assert_true(conn_memory(&c) >= 2 * KL_CONN_BUF_KEEP);
    assert_false(conn_trim(&c));                 /* still queued: nothing to free */
    conn_write_commit(&c, conn_queued(&c));
    assert_true(conn_memory(&c) >= 2 * KL_CONN_BUF_KEEP);   /* kept for the next one */
    assert_true(conn_trim(&c));
    assert_true(conn_memory(&c) < KL_CONN_BUF_KEEP);
    assert_false(conn_trim(&c));
    conn_free(&c);
}

/* A big request's read buffer is reused by the next one, and trimmed only when empty. */
static void test_big_read_buffer_reused_then_trimmed(void **state)
{
    (void)state;
    enum { BIG = 3 * KL_CONN_BUF_KEEP };
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, 4 * BIG);
    static uint8_t buf[BIG + 4];
    size_t n = make_frame(buf, BIG, 'x', BIG);
    feed(&c, buf, n, 65536);
    uint8_t *first = c.rbuf;
    size_t cap = c.rcap;
    assert_true(cap >= (size_t)BIG + 4);
    conn_consume_frame(&c);
    feed(&c, buf, 10, 10);                       /* the start of the next big request */
    assert_false(conn_trim(&c));                 /* bytes buffered: kept */
    feed(&c, buf + 10, n - 10, 65536);
    assert_ptr_equal(c.rbuf, first);             /* same buffer, no regrowth */
    assert_int_equal(c.rcap, cap);
    conn_consume_frame(&c);
    assert_true(conn_trim(&c));
    assert_null(c.rbuf);
    assert_int_equal(c.rcap, 0);
    conn_free(&c);
}

/* ---- file ranges: helpers -------------------------------------------------------- */

static const char FILE_DATA[] = "0123456789abcdefghijklmnopqrstuvwxyz";
#define FILE_LEN (sizeof FILE_DATA - 1)

/* An open temporary file holding FILE_DATA, already unlinked: nothing is left behind,
 * and only its descriptors (and their duplicates) keep it readable. */
static int temp_file(void)
{
    char path[] = "/tmp/klamm-test-conn-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(write(fd, FILE_DATA, FILE_LEN), (ssize_t)FILE_LEN);
    return fd;
}

static void assert_fd_closed(int fd)
{
    errno = 0;
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

static int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    close(fd);
    return fd;
}

/* Take up to `limit` bytes off the queue as a sender would — memory with memcpy, file
 * ranges with pread from the chunk's descriptor — at most `piece` per commit, checking
 * conn_queued() at every step. Returns the bytes taken. */
static size_t take(kl_conn_t *c, uint8_t *dst, size_t limit, size_t piece)
{
    size_t got = 0;
    while (got < limit && conn_queued(c) > 0) {
        kl_conn_chunk_t ch = conn_write_chunk(c);
        assert_true(ch.len > 0);
        size_t k = ch.len < piece ? ch.len : piece;
        if (k > limit - got)
            k = limit - got;
        if (ch.file >= 0) {
            assert_null(ch.mem);
            assert_int_equal(pread(ch.file, dst + got, k, (off_t)ch.offset), (ssize_t)k);
        } else {
            assert_non_null(ch.mem);
            memcpy(dst + got, ch.mem, k);
        }
        got += k;
        size_t before = conn_queued(c);
        conn_write_commit(c, k);
        assert_int_equal(conn_queued(c), before - k);
    }
    return got;
}

/* ---- write queue: file ranges ---------------------------------------------------- */

/* A response without ranges is still handed over by swapping, also after the queue
 * held ranges. */
static void test_queue_without_ranges_swaps_after_ranges(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "hd", 2);
    assert_true(wr_splice(w, fd, 0, 4));
    assert_true(conn_queue_out(&c));
    uint8_t got[16];
    assert_int_equal(take(&c, got, sizeof got, 100), 6);
    assert_memory_equal(got, "hd0123", 6);

    w = conn_out(&c);
    wr_raw(w, "plain", 5);
    uint8_t *built = w->buf;
    assert_true(conn_queue_out(&c));
    size_t len;
    const uint8_t *p = write_data(&c, &len);
    assert_ptr_equal(p, built);                   /* swapped: no copy */
    assert_int_equal(len, 5);
    assert_int_equal(c.wq.nsplices, 0);
    assert_int_equal(conn_queued(&c), 5);
    kl_conn_chunk_t ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, -1);
    assert_false(ch.more);
    conn_free(&c);
    close(fd);
}

/* Header memory, then the file range through a duplicate descriptor of the queue's
 * own, then the trailing memory; partial sends inside the range move its offset. */
static void test_chunks_of_a_response_with_a_file_range(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "HDR", 3);
    assert_true(wr_splice(w, fd, 2, 5));          /* "23456" */
    wr_raw(w, "TRL", 3);
    assert_true(conn_queue_out(&c));
    assert_int_equal(conn_queued(&c), 11);
    assert_int_equal(conn_out(&c)->nsplices, 0);

    kl_conn_chunk_t ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, -1);
    assert_int_equal(ch.len, 3);
    assert_memory_equal(ch.mem, "HDR", 3);
    assert_true(ch.more);
    size_t len;
    assert_ptr_equal(write_data(&c, &len), ch.mem);
    assert_int_equal(len, 3);
    conn_write_commit(&c, 3);

    ch = conn_write_chunk(&c);
    int dup_fd = ch.file;
    assert_true(dup_fd >= 0);
    assert_int_not_equal(dup_fd, fd);
    assert_true(fcntl(dup_fd, F_GETFD) & FD_CLOEXEC);
    assert_null(ch.mem);
    assert_int_equal(ch.offset, 2);
    assert_int_equal(ch.len, 5);
    assert_true(ch.more);
    assert_null(write_data(&c, &len));       /* no memory next */
    assert_int_equal(len, 0);
    conn_write_commit(&c, 2);                     /* a partial sendfile */
    assert_int_equal(conn_queued(&c), 6);

    ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, dup_fd);
    assert_int_equal(ch.offset, 4);
    assert_int_equal(ch.len, 3);
    char rest[3];
    assert_int_equal(pread(ch.file, rest, 3, (off_t)ch.offset), 3);
    assert_memory_equal(rest, "456", 3);
    conn_write_commit(&c, 1);
    ch = conn_write_chunk(&c);
    assert_int_equal(ch.offset, 5);
    assert_int_equal(ch.len, 2);
    conn_write_commit(&c, 2);                     /* the range is sent: its fd closed */
    assert_fd_closed(dup_fd);

    ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, -1);
    assert_int_equal(ch.len, 3);
    assert_memory_equal(ch.mem, "TRL", 3);
    assert_false(ch.more);
    conn_write_commit(&c, 3);
    assert_int_equal(conn_queued(&c), 0);
    ch = conn_write_chunk(&c);
    assert_int_equal(ch.len, 0);
    assert_int_equal(ch.file, -1);
    assert_true(fcntl(fd, F_GETFD) >= 0);         /* the borrowed fd is not the queue's */
    conn_free(&c);
    close(fd);
}

/* Ranges back to back — at the start, and at the very end where no memory byte is
 * left — say by `more` whether anything follows, and sending everything closes every
 * duplicate. */
static void test_adjacent_ranges_and_more_flag(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    kl_writer_t *w = conn_out(&c);
    assert_true(wr_splice(w, fd, 0, 3));          /* no memory before it */
    assert_true(wr_splice(w, fd, 10, 2));
    wr_raw(w, "m", 1);
    assert_true(wr_splice(w, fd, 20, 4));         /* no memory after these two */
    assert_true(wr_splice(w, fd, 30, 2));
    assert_true(conn_queue_out(&c));
    assert_int_equal(conn_queued(&c), 12);
    int fds[4];
    for (size_t i = 0; i < 4; i++)
        fds[i] = c.wq.splices[i].fd;
    assert_int_not_equal(fds[0], fds[1]);         /* one duplicate per range */

    kl_conn_chunk_t ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, fds[0]);
    assert_true(ch.more);
    conn_write_commit(&c, 3);
    ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, fds[1]);
    assert_int_equal(ch.offset, 10);
    assert_true(ch.more);
    conn_write_commit(&c, 2);
    ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, -1);
    assert_int_equal(ch.len, 1);
    assert_true(ch.more);                         /* a range follows: MSG_MORE */
    conn_write_commit(&c, 1);
    ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, fds[2]);
    assert_int_equal(ch.len, 4);
    assert_true(ch.more);                         /* all memory sent, a range follows */
    conn_write_commit(&c, 4);
    ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, fds[3]);
    assert_int_equal(ch.offset, 30);
    assert_false(ch.more);                        /* the last byte of the queue */
    conn_write_commit(&c, 2);
    assert_int_equal(conn_queued(&c), 0);
    for (size_t i = 0; i < 4; i++)
        assert_fd_closed(fds[i]);
    conn_free(&c);
    close(fd);
}

/* Queue one response: `head`, then `len` bytes of file `fd` from `offset` by reference,
 * then `tail`. */
static void queue_range_response(kl_conn_t *c, const char *head, int fd, int64_t offset,
                                 size_t len, const char *tail)
{
    kl_writer_t *w = conn_out(c);
    wr_raw(w, head, strlen(head));
    assert_true(wr_splice(w, fd, offset, len));
    wr_raw(w, tail, strlen(tail));
    assert_true(conn_queue_out(c));
}

/* The queue holds its own descriptor: the handler's fd may be closed (and the segment
 * file deleted, as temp_file does) right after queueing. */
static void test_range_survives_closing_the_original_fd(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    queue_range_response(&c, "<", fd, 26, 10, ">");
    close(fd);
    conn_write_commit(&c, 1);
    kl_conn_chunk_t ch = conn_write_chunk(&c);
    assert_true(ch.file >= 0);
    char got[10];
    assert_int_equal(pread(ch.file, got, sizeof got, (off_t)ch.offset), 10);
    assert_memory_equal(got, "qrstuvwxyz", 10);
    uint8_t all[16];
    assert_int_equal(take(&c, all, sizeof all, 4), 11);
    assert_memory_equal(all, "qrstuvwxyz>", 11);
    conn_free(&c);
}

/* Responses queued while earlier ones are partly sent — once inside a range, once
 * after a range was sent in full and memory after it partly — come out in order, and
 * the compaction of the sent half moves the ranges' positions with the bytes. */
static void test_pipelined_responses_with_ranges_keep_order(void **state)
{
    (void)state;
    int f1 = temp_file(), f2 = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    uint8_t got[128];
    size_t n = 0;

    kl_writer_t *w = conn_out(&c);                /* A: 20 + 10 + 2 = 32 bytes */
    wr_raw(w, "AAAAAAAAAAAAAAAAAAAA", 20);
    assert_true(wr_splice(w, f1, 2, 10));         /* "23456789ab" */
    wr_raw(w, "aa", 2);
    assert_true(conn_queue_out(&c));
    n += take(&c, got + n, 24, 7);                /* into the range: 4 of its 10 */
    assert_int_equal(n, 24);
    assert_int_equal(c.wsent, 20);

    w = conn_out(&c);                             /* B: 2 + 7 + 3 + 3 = 15 bytes */
    wr_raw(w, "BB", 2);
    assert_true(wr_splice(w, f2, 5, 7));          /* "56789ab" */
    wr_raw(w, "bbb", 3);
    assert_true(wr_splice(w, f1, 0, 3));          /* "012", ends the response */
    assert_true(conn_queue_out(&c));
    assert_int_equal(c.wsent, 0);                 /* 20 of 22 sent: compacted */
    assert_int_equal(c.wq.splices[0].at, 0);
    assert_int_equal(conn_queued(&c), 8 + 15);

    n += take(&c, got + n, 13, 3);                /* A's rest, "BB", 3 of B's first range */
    assert_int_equal(n, 37);
    assert_int_equal(c.wfile, 1);

    w = conn_out(&c);                             /* C: 4 + 2 + 2 = 8 bytes */
    wr_raw(w, "CCCC", 4);
    assert_true(wr_splice(w, f2, 0, 2));          /* "01" */
    wr_raw(w, "cc", 2);
    assert_true(conn_queue_out(&c));
    assert_int_equal(c.wsent, 0);                 /* 4 of 7 sent: compacted */
    assert_int_equal(c.wfile, 0);                 /* A's range dropped with it */
    assert_int_equal(conn_queued(&c), 4 + 3 + 3 + 8);

    n += take(&c, got + n, sizeof got - n, 5);
    const char want[] = "AAAAAAAAAAAAAAAAAAAA" "23456789ab" "aa"
                        "BB" "56789ab" "bbb" "012"
                        "CCCC" "01" "cc";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(got, want, n);
    assert_int_equal(conn_queued(&c), 0);
    assert_int_equal(c.wq.nsplices, 0);
    conn_free(&c);
    close(f1);
    close(f2);
}

static void test_free_closes_unsent_ranges(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "h", 1);
    assert_true(wr_splice(w, fd, 0, 5));
    wr_raw(w, "m", 1);
    assert_true(wr_splice(w, fd, 5, 5));
    assert_true(conn_queue_out(&c));
    int first = c.wq.splices[0].fd, second = c.wq.splices[1].fd;
    conn_write_commit(&c, 1);
    conn_write_commit(&c, 2);                     /* the first range partly sent */
    assert_true(fcntl(first, F_GETFD) >= 0);
    assert_true(fcntl(second, F_GETFD) >= 0);
    conn_free(&c);
    assert_fd_closed(first);
    assert_fd_closed(second);
    assert_true(fcntl(fd, F_GETFD) >= 0);
    close(fd);
}

/* After a chunk could not be sent, nothing behind it may go out: drop empties the
 * queue (ranges closed), and the connection can queue again from scratch. */
static void test_drop_forgets_the_queue(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    queue_range_response(&c, "h", fd, 0, 5, "tail");
    int dup_fd = c.wq.splices[0].fd;
    conn_write_commit(&c, 1);
    conn_write_drop(&c);
    assert_int_equal(conn_queued(&c), 0);
    assert_int_equal(conn_write_chunk(&c).len, 0);
    assert_fd_closed(dup_fd);
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "next", 4);
    assert_true(conn_queue_out(&c));
    size_t len;
    const uint8_t *p = write_data(&c, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(p, "next", 4);
    conn_free(&c);
    close(fd);
}

/* A writer holding only empty ranges inlines to nothing (not "out of memory"). */
static void test_inline_files_of_empty_ranges(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_writer_t w;
    wr_init(&w);
    assert_true(wr_splice(&w, fd, 0, 0));
    assert_true(conn_inline_files(&w));
    assert_int_equal(wr_total(&w), 0);
    assert_int_equal(w.nsplices, 0);
    wr_free(&w);
    close(fd);
}

/* A range that cannot be queued (a closed descriptor: no dup, no pread; or no memory
 * for the copy) fails the whole response and undoes it: the earlier response, partly
 * sent, is intact and the duplicate already taken for a first range is closed again. */
static void test_bad_range_leaves_queue_as_it_was(void **state)
{
    (void)state;
    int fd = temp_file();
    int bad = fcntl(fd, F_DUPFD, 500);            /* far above what dup will take */
    assert_true(bad >= 500);
    close(bad);
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    queue_range_response(&c, "hello", fd, 0, 4, "!");
    conn_write_commit(&c, 2);                     /* "he" sent */
    size_t queued = conn_queued(&c), len = c.wq.len, nsplices = c.wq.nsplices;
    size_t spliced = c.wq.spliced, wsent = c.wsent;
    int free_fd = lowest_free_fd();

    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "xy", 2);
    assert_true(wr_splice(w, fd, 0, 3));          /* fine: gets a duplicate */
    assert_true(wr_splice(w, bad, 0, 3));         /* fails */
    wr_raw(w, "z", 1);
    assert_false(conn_queue_out(&c));
    assert_int_equal(conn_queued(&c), queued);
    assert_int_equal(c.wq.len, len);
    assert_int_equal(c.wq.nsplices, nsplices);
    assert_int_equal(c.wq.spliced, spliced);
    assert_int_equal(c.wsent, wsent);
    assert_true(wr_ok(&c.wq));
    assert_int_equal(lowest_free_fd(), free_fd);  /* no duplicate leaked */

    /* No dup, and no memory for the copy instead: the queue's writer failed, undone. */
    w = conn_out(&c);
    wr_raw(w, "xy", 2);
    assert_true(wr_splice(w, bad, 0, SIZE_MAX / 2));
    assert_false(conn_queue_out(&c));
    assert_true(wr_ok(&c.wq));
    assert_int_equal(conn_queued(&c), queued);
    assert_int_equal(c.wq.len, len);
    assert_int_equal(c.wq.nsplices, nsplices);

    uint8_t got[16];
    assert_int_equal(take(&c, got, sizeof got, 100), 8);
    assert_memory_equal(got, "llo0123!", 8);

    w = conn_out(&c);                             /* the queue still works */
    wr_raw(w, "ok", 2);
    assert_true(wr_splice(w, fd, 35, 1));
    assert_true(conn_queue_out(&c));
    assert_int_equal(take(&c, got, sizeof got, 100), 3);
    assert_memory_equal(got, "okz", 3);
    conn_free(&c);
    close(fd);
}

/* With no descriptor left (EMFILE) a range is read into the queue: same bytes, one
 * copy, nothing to close later. */
static void test_no_descriptor_left_reads_range_into_memory(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", NULL, MAX_FRAME);
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "HD", 2);
    assert_true(wr_splice(w, fd, 3, 30));
    wr_raw(w, "TL", 2);
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)lowest_free_fd();      /* every descriptor below is taken */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    int dup_errno = errno;
    bool queued = conn_queue_out(&c);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);   /* before any assert fails */
    assert_int_equal(dup_fd, -1);
    assert_int_equal(dup_errno, EMFILE);
    assert_true(queued);

    assert_int_equal(c.wq.nsplices, 0);
    assert_int_equal(conn_queued(&c), 34);
    kl_conn_chunk_t ch = conn_write_chunk(&c);
    assert_int_equal(ch.file, -1);
    assert_int_equal(ch.len, 34);
    assert_false(ch.more);
    assert_memory_equal(ch.mem, "HD", 2);
    assert_memory_equal(ch.mem + 2, FILE_DATA + 3, 30);
    assert_memory_equal(ch.mem + 32, "TL", 2);
    conn_write_commit(&c, 34);
    assert_int_equal(conn_queued(&c), 0);

    w = conn_out(&c);                             /* limit back: by reference again */
    assert_true(wr_splice(w, fd, 0, 1));
    assert_true(conn_queue_out(&c));
    assert_int_equal(c.wq.nsplices, 1);
    conn_free(&c);
    close(fd);
}

static void test_inline_files_turns_ranges_into_bytes(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_writer_t w;
    wr_init(&w);
    wr_raw(&w, "ab", 2);
    assert_true(wr_splice(&w, fd, 1, 3));         /* "123" */
    wr_raw(&w, "cd", 2);
    assert_true(wr_splice(&w, fd, 10, 2));        /* "ab" */
    assert_true(wr_splice(&w, fd, 0, 1));         /* "0" */
    assert_true(conn_inline_files(&w));
    assert_true(wr_ok(&w));
    assert_int_equal(w.nsplices, 0);
    assert_int_equal(w.spliced, 0);
    assert_int_equal(w.len, 10);
    assert_int_equal(wr_total(&w), 10);
    assert_memory_equal(w.buf, "ab123cdab0", 10);
    assert_true(fcntl(fd, F_GETFD) >= 0);         /* borrowed: left open */

    uint8_t *buf = w.buf;                         /* no ranges: nothing to do */
    assert_true(conn_inline_files(&w));
    assert_ptr_equal(w.buf, buf);
    assert_int_equal(w.len, 10);
    wr_free(&w);
    close(fd);
}

static void test_inline_files_fails_on_unreadable_range(void **state)
{
    (void)state;
    int fd = temp_file();
    kl_writer_t w;
    wr_init(&w);
    wr_raw(&w, "ab", 2);
    assert_true(wr_splice(&w, fd, 0, 2));
    wr_raw(&w, "cd", 2);
    assert_true(wr_splice(&w, fd, (int64_t)FILE_LEN - 2, 5));   /* past the end */
    uint8_t *buf = w.buf;
    assert_false(conn_inline_files(&w));
    assert_ptr_equal(w.buf, buf);
    assert_int_equal(w.len, 4);
    assert_memory_equal(w.buf, "abcd", 4);
    assert_int_equal(w.nsplices, 2);
    assert_int_equal(w.spliced, 7);
    assert_true(wr_ok(&w));

    close(fd);                                    /* a closed descriptor: same */
    assert_false(conn_inline_files(&w));
    assert_int_equal(w.nsplices, 2);
    assert_int_equal(w.len, 4);
    wr_free(&w);
}

/* ---- client_host: the peer as Kafka's DescribeGroups shows it --------------------- */

/* An IPv4 peer a.b.c.d:port, as accept(2) fills it in. */
static struct sockaddr_in ipv4_peer(const char *addr, int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
    return sin;
}

/* An IPv6 peer [addr%scope]:port (scope 0: none), as accept(2) fills it in. */
static struct sockaddr_in6 ipv6_peer(const char *addr, uint32_t scope, int port)
{
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                 .sin6_scope_id = scope };
    assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
    return sin6;
}

/* client_host of a connection from `addr`, as conn_init spells it; the peer's log name
 * is kept as given. */
static void expect_client_host(const void *addr, const char *want)
{
    kl_conn_t c;
    conn_init(&c, 1, -1, "peer", (const struct sockaddr *)addr, MAX_FRAME);
    assert_string_equal(c.peer, "peer");
    if (strcmp(c.client_host, want) != 0)
        fail_msg("client_host '%s', want '%s'", c.client_host, want);
    conn_free(&c);
}

/* Kafka records InetAddress.toString(): "/" + the address, no port. */
static void test_client_host_of_ipv4_peer(void **state)
{
    (void)state;
    struct sockaddr_in a = ipv4_peer("127.0.0.1", 40000);
    expect_client_host(&a, "/127.0.0.1");
    a = ipv4_peer("10.1.2.3", 9);
    expect_client_host(&a, "/10.1.2.3");
    a = ipv4_peer("255.255.255.255", 65535);
    expect_client_host(&a, "/255.255.255.255");
    a = ipv4_peer("0.0.0.0", 0);
    expect_client_host(&a, "/0.0.0.0");
}

/* Java's Inet6Address prints all eight groups in hex, without "::" compression or
 * leading zeros ("/0:0:0:0:0:0:0:1" for ::1). */
static void test_client_host_of_ipv6_peer(void **state)
{
    (void)state;
    struct sockaddr_in6 a = ipv6_peer("::1", 0, 40000);
    expect_client_host(&a, "/0:0:0:0:0:0:0:1");
    a = ipv6_peer("2001:db8::ab:0:1", 0, 1);
    expect_client_host(&a, "/2001:db8:0:0:0:ab:0:1");
    a = ipv6_peer("fd00::2", 0, 65535);
    expect_client_host(&a, "/fd00:0:0:0:0:0:0:2");
    a = ipv6_peer("::", 0, 1);
    expect_client_host(&a, "/0:0:0:0:0:0:0:0");
}

/* A scoped (link-local) peer: "%" and the numeric scope id, as Java prints an accepted
 * socket's address (it knows the id, not the interface's name). */
static void test_client_host_of_scoped_ipv6_peer(void **state)
{
    (void)state;
    struct sockaddr_in6 a = ipv6_peer("fe80::fc:ff:fe00:1", 2, 5);
    expect_client_host(&a, "/fe80:0:0:0:fc:ff:fe00:1%2");
    a = ipv6_peer("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UINT32_MAX, 65535);
    expect_client_host(&a, "/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295");
}

/* An IPv4 client of a dual-stack [::] listener arrives as ::ffff:a.b.c.d; to Java it is
 * an Inet4Address: the dotted quad. */
static void test_client_host_of_ipv4_mapped_peer(void **state)
{
    (void)state;
    struct sockaddr_in6 a = ipv6_peer("::ffff:127.0.0.1", 0, 7);
    expect_client_host(&a, "/127.0.0.1");
    a = ipv6_peer("::ffff:10.200.3.4", 0, 7);
    expect_client_host(&a, "/10.200.3.4");
    a = ipv6_peer("::127.0.0.1", 0, 7);            /* IPv4-compatible, not mapped: v6 */
    expect_client_host(&a, "/0:0:0:0:0:0:7f00:1");
}

/* No IP address to print (another family, or none: in-memory tests): "/?", as the
 * server names such a peer "?" in its log lines. */
static void test_client_host_without_ip_address(void **state)
{
    (void)state;
    struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/tmp/x" };
    expect_client_host(&un, "/?");
    expect_client_host(NULL, "/?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_fed_byte_by_byte),
        cmocka_unit_test(test_client_host_of_ipv4_peer),
        cmocka_unit_test(test_client_host_of_ipv6_peer),
        cmocka_unit_test(test_client_host_of_scoped_ipv6_peer),
        cmocka_unit_test(test_client_host_of_ipv4_mapped_peer),
        cmocka_unit_test(test_client_host_without_ip_address),
        cmocka_unit_test(test_two_frames_in_one_read),
        cmocka_unit_test(test_sizes_rejected),
        cmocka_unit_test(test_max_frame_grows_buffer_to_cap),
        cmocka_unit_test(test_compaction_keeps_buffer_small),
        cmocka_unit_test(test_compaction_moves_partial_frame_to_front),
        cmocka_unit_test(test_parked_frame_stays_put),
        cmocka_unit_test(test_wants_read_policy),
        cmocka_unit_test(test_read_lowat_is_what_the_head_frame_lacks),
        cmocka_unit_test(test_write_queue),
        cmocka_unit_test(test_large_buffers_kept_until_trimmed),
        cmocka_unit_test(test_big_read_buffer_reused_then_trimmed),
        cmocka_unit_test(test_queue_without_ranges_swaps_after_ranges),
        cmocka_unit_test(test_chunks_of_a_response_with_a_file_range),
        cmocka_unit_test(test_adjacent_ranges_and_more_flag),
        cmocka_unit_test(test_range_survives_closing_the_original_fd),
        cmocka_unit_test(test_pipelined_responses_with_ranges_keep_order),
        cmocka_unit_test(test_free_closes_unsent_ranges),
        cmocka_unit_test(test_drop_forgets_the_queue),
        cmocka_unit_test(test_inline_files_of_empty_ranges),
        cmocka_unit_test(test_bad_range_leaves_queue_as_it_was),
        cmocka_unit_test(test_no_descriptor_left_reads_range_into_memory),
        cmocka_unit_test(test_inline_files_turns_ranges_into_bytes),
        cmocka_unit_test(test_inline_files_fails_on_unreadable_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
