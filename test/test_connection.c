/*
 * test/test_connection.c — unit tests of infrastructure/net/connection.c: Kafka framing
 * over an in-memory buffer (bytes fed in pieces), invalid sizes, compaction and growth
 * of the read buffer, the read back-pressure policy and the write queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

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

static void test_frame_fed_byte_by_byte(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
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

    conn_init(&c, 2, -1, "mem", MAX_FRAME);
    n = make_frame(buf, MAX_FRAME + 1, 'x', 0);                  /* a size we refuse */
    feed(&c, buf, n, n);
    assert_int_equal(conn_read_lowat(&c, 1u << 20), 1);
    conn_free(&c);
}

static void test_write_queue(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", MAX_FRAME);
    kl_writer_t *w = conn_out(&c);
    wr_raw(w, "abc", 3);
    uint8_t *built = w->buf;
    assert_true(conn_queue_out(&c));
    size_t len;
    const uint8_t *p = conn_write_data(&c, &len);
    assert_ptr_equal(p, built);                   /* queued by swapping: no copy */
    assert_int_equal(len, 3);
    assert_int_equal(conn_out(&c)->len, 0);

    w = conn_out(&c);
    wr_raw(w, "defg", 4);
    assert_true(conn_queue_out(&c));              /* appended behind "abc" */
    assert_int_equal(conn_queued(&c), 7);
    conn_write_commit(&c, 2);                     /* a partial send */
    p = conn_write_data(&c, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "cdefg", 5);

    w = conn_out(&c);
    wr_raw(w, "hi", 2);
    assert_true(conn_queue_out(&c));
    p = conn_write_data(&c, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(p, "cdefghi", 7);
    conn_write_commit(&c, 7);
    assert_int_equal(conn_queued(&c), 0);
    p = conn_write_data(&c, &len);
    assert_int_equal(len, 0);
    conn_free(&c);
}

/* Buffers beyond KL_CONN_BUF_KEEP stay while the connection is busy (no malloc and page
 * faults per big request) and are released by conn_trim once drained. */
static void test_large_buffers_kept_until_trimmed(void **state)
{
    (void)state;
    kl_conn_t c;
    conn_init(&c, 1, -1, "mem", 4 * 1024 * 1024);
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
    conn_init(&c, 1, -1, "mem", 4 * BIG);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_fed_byte_by_byte),
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
