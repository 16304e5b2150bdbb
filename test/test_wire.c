/*
 * test/test_wire.c — unit tests of infrastructure/protocol/wire.c: round trips of every
 * primitive at its boundaries, exact encodings, truncated and malformed input (the
 * reader must fail, never crash), null vs empty, compact forms, KIP-482 tagged fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "infrastructure/protocol/wire.h"

/* ---- helpers -------------------------------------------------------------------- */

static void reader_over(kl_reader_t *r, const kl_writer_t *w)
{
    assert_true(wr_ok(w));
    rd_init(r, w->buf, w->len);
}

static void assert_bytes(const kl_writer_t *w, const uint8_t *want, size_t n)
{
    assert_true(wr_ok(w));
    assert_int_equal(w->len, n);
    assert_memory_equal(w->buf, want, n);
}

/* Every strict prefix of an encoding must fail the reader run by `read`. */
typedef void (*read_fn)(kl_reader_t *r);

static void assert_every_prefix_fails(const kl_writer_t *w, read_fn read)
{
    for (size_t cut = 0; cut < w->len; cut++) {
        kl_reader_t r;
        rd_init(&r, w->buf, cut);
        read(&r);
        assert_false(rd_ok(&r));
        assert_int_equal(rd_remaining(&r), 0);
    }
    kl_reader_t whole;
    rd_init(&whole, w->buf, w->len);
    read(&whole);
    assert_true(rd_ok(&whole));
    assert_int_equal(rd_remaining(&whole), 0);
}

/* ---- fixed-width integers ------------------------------------------------------- */

static void test_fixed_ints_round_trip(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_i8(&w, INT8_MIN); wr_i8(&w, INT8_MAX); wr_i8(&w, -1);
    wr_i16(&w, INT16_MIN); wr_i16(&w, INT16_MAX); wr_i16(&w, -1);
    wr_i32(&w, INT32_MIN); wr_i32(&w, INT32_MAX); wr_i32(&w, 0);
    wr_i64(&w, INT64_MIN); wr_i64(&w, INT64_MAX); wr_i64(&w, -2);
    wr_u32(&w, UINT32_MAX);
    kl_reader_t r;
    reader_over(&r, &w);
    assert_int_equal(rd_i8(&r), INT8_MIN);
    assert_int_equal(rd_i8(&r), INT8_MAX);
    assert_int_equal(rd_i8(&r), -1);
    assert_int_equal(rd_i16(&r), INT16_MIN);
    assert_int_equal(rd_i16(&r), INT16_MAX);
    assert_int_equal(rd_i16(&r), -1);
    assert_int_equal(rd_i32(&r), INT32_MIN);
    assert_int_equal(rd_i32(&r), INT32_MAX);
    assert_int_equal(rd_i32(&r), 0);
    assert_true(rd_i64(&r) == INT64_MIN);
    assert_true(rd_i64(&r) == INT64_MAX);
    assert_true(rd_i64(&r) == -2);
    assert_true(rd_u32(&r) == UINT32_MAX);
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);
    wr_free(&w);
}

static void test_fixed_ints_are_big_endian(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_i16(&w, 0x0102);
    wr_i32(&w, 0x03040506);
    wr_i64(&w, 0x0708090a0b0c0d0eLL);
    const uint8_t want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
    assert_bytes(&w, want, sizeof want);
    wr_free(&w);
}

static void read_i8(kl_reader_t *r) { (void)rd_i8(r); }
static void read_i16(kl_reader_t *r) { (void)rd_i16(r); }
static void read_i32(kl_reader_t *r) { (void)rd_i32(r); }
static void read_i64(kl_reader_t *r) { (void)rd_i64(r); }
static void read_u32(kl_reader_t *r) { (void)rd_u32(r); }

static void test_fixed_ints_truncated_fail(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_i8(&w, 7);
    assert_every_prefix_fails(&w, read_i8);
    wr_reset(&w);
    wr_i16(&w, 7);
    assert_every_prefix_fails(&w, read_i16);
    wr_reset(&w);
    wr_i32(&w, 7);
    assert_every_prefix_fails(&w, read_i32);
    wr_reset(&w);
    wr_i64(&w, 7);
    assert_every_prefix_fails(&w, read_i64);
    wr_reset(&w);
    wr_u32(&w, 7);
    assert_every_prefix_fails(&w, read_u32);
    wr_free(&w);
}

static void test_failure_is_sticky(void **state)
{
    (void)state;
    const uint8_t buf[] = { 0x00, 0x01, 0x7f, 0x7f, 0x7f, 0x7f };
    kl_reader_t r;
    rd_init(&r, buf, sizeof buf);
    assert_int_equal(rd_i16(&r), 1);
    assert_int_equal(rd_i64(&r), 0);              /* 4 bytes left: fails */
    assert_false(rd_ok(&r));
    assert_int_equal(rd_i8(&r), 0);               /* bytes are there, but sticky */
    assert_int_equal(rd_i16(&r), 0);
    kl_str_t s = rd_compact_string(&r);
    assert_int_equal(s.len, 0);
    assert_non_null(s.ptr);
    assert_int_equal(rd_array_len(&r), 0);
    assert_int_equal(rd_remaining(&r), 0);
    assert_false(rd_ok(&r));

    rd_init(&r, buf, sizeof buf);
    rd_fail(&r);
    assert_int_equal(rd_i16(&r), 0);
    assert_false(rd_ok(&r));
}

static void test_reader_over_null_buffer(void **state)
{
    (void)state;
    kl_reader_t r;
    rd_init(&r, NULL, 0);
    assert_int_equal(rd_i8(&r), 0);
    assert_false(rd_ok(&r));
}

static void test_skip(void **state)
{
    (void)state;
    const uint8_t buf[] = { 1, 2, 3, 4 };
    kl_reader_t r;
    rd_init(&r, buf, sizeof buf);
    rd_skip(&r, 3);
    assert_int_equal(rd_i8(&r), 4);
    assert_true(rd_ok(&r));
    rd_init(&r, buf, sizeof buf);
    rd_skip(&r, 5);
    assert_false(rd_ok(&r));
    rd_init(&r, buf, sizeof buf);
    rd_skip(&r, SIZE_MAX);                        /* no pointer-overflow wrap-around */
    assert_false(rd_ok(&r));
}

/* ---- varints -------------------------------------------------------------------- */

static void test_uvarint_encodings(void **state)
{
    (void)state;
    static const struct { uint32_t v; uint8_t len; uint8_t bytes[5]; } cases[] = {
        { 0, 1, { 0x00 } },
        { 63, 1, { 0x3f } },
        { 64, 1, { 0x40 } },
        { 127, 1, { 0x7f } },
        { 128, 2, { 0x80, 0x01 } },
        { 300, 2, { 0xac, 0x02 } },
        { 16383, 2, { 0xff, 0x7f } },
        { 16384, 3, { 0x80, 0x80, 0x01 } },
        { 0x7fffffff, 5, { 0xff, 0xff, 0xff, 0xff, 0x07 } },
        { 0xffffffff, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kl_writer_t w;
        wr_init(&w);
        wr_uvarint(&w, cases[i].v);
        assert_bytes(&w, cases[i].bytes, cases[i].len);
        kl_reader_t r;
        reader_over(&r, &w);
        assert_true(rd_uvarint(&r) == cases[i].v);
        assert_true(rd_ok(&r));
        assert_int_equal(rd_remaining(&r), 0);
        wr_free(&w);
    }
}

static void test_varint_zigzag(void **state)
{
    (void)state;
    static const struct { int32_t v; uint32_t zz; } cases[] = {
        { 0, 0 }, { -1, 1 }, { 1, 2 }, { -2, 3 }, { 63, 126 }, { -64, 127 }, { 64, 128 },
        { INT32_MAX, 0xfffffffe }, { INT32_MIN, 0xffffffff },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kl_writer_t w, u;
        wr_init(&w);
        wr_init(&u);
        wr_varint(&w, cases[i].v);
        wr_uvarint(&u, cases[i].zz);
        assert_int_equal(w.len, u.len);
        assert_memory_equal(w.buf, u.buf, u.len);
        kl_reader_t r;
        reader_over(&r, &w);
        assert_int_equal(rd_varint(&r), cases[i].v);
        assert_true(rd_ok(&r));
        wr_free(&w);
        wr_free(&u);
    }
    /* -1 is a single 0x01 byte, 63 a single 0x7e, 64 two bytes. */
    kl_writer_t w;
    wr_init(&w);
    wr_varint(&w, -1);
    wr_varint(&w, 63);
    wr_varint(&w, 64);
    const uint8_t want[] = { 0x01, 0x7e, 0x80, 0x01 };
    assert_bytes(&w, want, sizeof want);
    wr_free(&w);
}

static void test_varlong_round_trip(void **state)
{
    (void)state;
    const int64_t values[] = { 0, -1, 1, 63, 64, -65, INT32_MAX, INT32_MIN,
                               (int64_t)1 << 40, INT64_MAX, INT64_MIN };
    kl_writer_t w;
    wr_init(&w);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        wr_varlong(&w, values[i]);
    kl_reader_t r;
    reader_over(&r, &w);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        assert_true(rd_varlong(&r) == values[i]);
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);

    wr_reset(&w);
    wr_varlong(&w, INT64_MIN);                    /* zig-zag 2^64-1: ten bytes */
    assert_int_equal(w.len, 10);
    assert_int_equal(w.buf[9], 0x01);
    wr_free(&w);
}

static void test_uvarlong_round_trip(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_varlong(&w, -1);                           /* zig-zag 1 */
    kl_reader_t r;
    reader_over(&r, &w);
    assert_true(rd_uvarlong(&r) == 1);
    const uint8_t max[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    rd_init(&r, max, sizeof max);
    assert_true(rd_uvarlong(&r) == UINT64_MAX);
    assert_true(rd_ok(&r));
    wr_free(&w);
}

static void read_uvarint(kl_reader_t *r) { (void)rd_uvarint(r); }
static void read_varint(kl_reader_t *r) { (void)rd_varint(r); }
static void read_varlong(kl_reader_t *r) { (void)rd_varlong(r); }

static void test_varints_truncated_fail(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_uvarint(&w, 0xffffffff);
    assert_every_prefix_fails(&w, read_uvarint);
    wr_reset(&w);
    wr_varint(&w, INT32_MIN);
    assert_every_prefix_fails(&w, read_varint);
    wr_reset(&w);
    wr_varlong(&w, INT64_MIN);
    assert_every_prefix_fails(&w, read_varlong);
    wr_free(&w);
}

static void test_overlong_varints_fail(void **state)
{
    (void)state;
    kl_reader_t r;
    /* Six bytes for a 32-bit varint: the fifth still says "more". */
    const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    rd_init(&r, six, sizeof six);
    assert_int_equal(rd_uvarint(&r), 0);
    assert_false(rd_ok(&r));
    rd_init(&r, six, sizeof six);
    assert_int_equal(rd_varint(&r), 0);
    assert_false(rd_ok(&r));
    /* Five bytes whose last carries bits beyond 32. */
    const uint8_t wide[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
    rd_init(&r, wide, sizeof wide);
    (void)rd_uvarint(&r);
    assert_false(rd_ok(&r));
    /* Eleven bytes for a varlong; and ten whose last carries bits beyond 64. */
    const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0 };
    rd_init(&r, eleven, sizeof eleven);
    (void)rd_varlong(&r);
    assert_false(rd_ok(&r));
    const uint8_t wide64[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    rd_init(&r, wide64, sizeof wide64);
    (void)rd_uvarlong(&r);
    assert_false(rd_ok(&r));
}

/* ---- strings -------------------------------------------------------------------- */

static void test_classic_strings(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_string(&w, "abc", 3);
    wr_string(&w, "", 0);
    wr_nullable_string(&w, NULL, 0);
    wr_nullable_string(&w, "x", -1);             /* len < 0 is null too */
    wr_nullable_string(&w, "", 0);
    wr_nullable_string(&w, "hello", 5);
    const uint8_t want[] = { 0, 3, 'a', 'b', 'c', 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0,
                             0, 5, 'h', 'e', 'l', 'l', 'o' };
    assert_bytes(&w, want, sizeof want);

    kl_reader_t r;
    reader_over(&r, &w);
    kl_str_t s = rd_string(&r);
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "abc", 3);
    assert_ptr_equal(s.ptr, (const char *)w.buf + 2);   /* a view, not a copy */
    s = rd_string(&r);
    assert_int_equal(s.len, 0);
    assert_non_null(s.ptr);                       /* empty is not null */
    s = rd_nullable_string(&r);
    assert_int_equal(s.len, -1);
    assert_null(s.ptr);
    s = rd_nullable_string(&r);
    assert_int_equal(s.len, -1);
    s = rd_nullable_string(&r);
    assert_int_equal(s.len, 0);
    assert_non_null(s.ptr);
    s = rd_nullable_string(&r);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.ptr, "hello", 5);
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);
    wr_free(&w);
}

static void test_null_where_not_nullable_fails(void **state)
{
    (void)state;
    kl_reader_t r;
    const uint8_t classic_null[] = { 0xff, 0xff };
    rd_init(&r, classic_null, sizeof classic_null);
    (void)rd_string(&r);
    assert_false(rd_ok(&r));
    const uint8_t neg2[] = { 0xff, 0xfe };        /* -2 is never valid */
    rd_init(&r, neg2, sizeof neg2);
    (void)rd_nullable_string(&r);
    assert_false(rd_ok(&r));
    const uint8_t compact_null[] = { 0x00 };
    rd_init(&r, compact_null, sizeof compact_null);
    (void)rd_compact_string(&r);
    assert_false(rd_ok(&r));
    rd_init(&r, compact_null, sizeof compact_null);
    (void)rd_compact_bytes(&r);
    assert_false(rd_ok(&r));
    const uint8_t bytes_null[] = { 0xff, 0xff, 0xff, 0xff };
    rd_init(&r, bytes_null, sizeof bytes_null);
    (void)rd_bytes(&r);
    assert_false(rd_ok(&r));
    const uint8_t bytes_neg2[] = { 0xff, 0xff, 0xff, 0xfe };
    rd_init(&r, bytes_neg2, sizeof bytes_neg2);
    (void)rd_nullable_bytes(&r);
    assert_false(rd_ok(&r));
}

static void test_compact_strings(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_compact_string(&w, "abc", 3);
    wr_compact_string(&w, "", 0);
    wr_compact_nullable_string(&w, NULL, 0);
    wr_compact_nullable_string(&w, "", 0);
    const uint8_t want[] = { 4, 'a', 'b', 'c', 1, 0, 1 };
    assert_bytes(&w, want, sizeof want);
    kl_reader_t r;
    reader_over(&r, &w);
    kl_str_t s = rd_compact_string(&r);
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "abc", 3);
    s = rd_compact_string(&r);
    assert_int_equal(s.len, 0);
    assert_non_null(s.ptr);
    s = rd_compact_nullable_string(&r);
    assert_int_equal(s.len, -1);
    assert_null(s.ptr);
    s = rd_compact_nullable_string(&r);
    assert_int_equal(s.len, 0);
    assert_non_null(s.ptr);
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);

    /* A 200-byte string needs a two-byte length varint (201 = 0xc9 0x01). */
    char big[200];
    memset(big, 'z', sizeof big);
    wr_reset(&w);
    wr_compact_string(&w, big, (int32_t)sizeof big);
    assert_int_equal(w.len, 202);
    assert_int_equal(w.buf[0], 0xc9);
    assert_int_equal(w.buf[1], 0x01);
    reader_over(&r, &w);
    s = rd_compact_string(&r);
    assert_int_equal(s.len, 200);
    assert_true(rd_ok(&r));
    wr_free(&w);
}

static void test_string_length_beyond_input_fails(void **state)
{
    (void)state;
    kl_reader_t r;
    const uint8_t classic[] = { 0x00, 0x05, 'a', 'b' };
    rd_init(&r, classic, sizeof classic);
    kl_str_t s = rd_string(&r);
    assert_false(rd_ok(&r));
    assert_int_equal(s.len, 0);
    /* Compact N+1 = 4: N = 3 > 2 bytes left. */
    const uint8_t compact[] = { 0x04, 'a', 'b' };
    rd_init(&r, compact, sizeof compact);
    s = rd_compact_nullable_string(&r);
    assert_false(rd_ok(&r));
    assert_int_equal(s.len, 0);
    /* Huge compact length (2^32-1 as N+1). */
    const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 'a' };
    rd_init(&r, huge, sizeof huge);
    (void)rd_compact_string(&r);
    assert_false(rd_ok(&r));
    const uint8_t bytes[] = { 0x7f, 0xff, 0xff, 0xff, 'a' };
    rd_init(&r, bytes, sizeof bytes);
    kl_bytes_t b = rd_bytes(&r);
    assert_false(rd_ok(&r));
    assert_int_equal(b.len, 0);
}

static void read_string(kl_reader_t *r) { (void)rd_string(r); }
static void read_nullable_string(kl_reader_t *r) { (void)rd_nullable_string(r); }
static void read_compact_string(kl_reader_t *r) { (void)rd_compact_string(r); }
static void read_compact_nullable_string(kl_reader_t *r) { (void)rd_compact_nullable_string(r); }
static void read_bytes(kl_reader_t *r) { (void)rd_bytes(r); }
static void read_nullable_bytes(kl_reader_t *r) { (void)rd_nullable_bytes(r); }
static void read_compact_bytes(kl_reader_t *r) { (void)rd_compact_bytes(r); }
static void read_compact_nullable_bytes(kl_reader_t *r) { (void)rd_compact_nullable_bytes(r); }

static void test_strings_and_bytes_truncated_fail(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_string(&w, "kafka", 5);
    assert_every_prefix_fails(&w, read_string);
    assert_every_prefix_fails(&w, read_nullable_string);
    wr_reset(&w);
    wr_compact_string(&w, "kafka", 5);
    assert_every_prefix_fails(&w, read_compact_string);
    assert_every_prefix_fails(&w, read_compact_nullable_string);
    wr_reset(&w);
    wr_bytes(&w, "\x01\x02\x03", 3);
    assert_every_prefix_fails(&w, read_bytes);
    assert_every_prefix_fails(&w, read_nullable_bytes);
    wr_reset(&w);
    wr_compact_bytes(&w, "\x01\x02\x03", 3);
    assert_every_prefix_fails(&w, read_compact_bytes);
    assert_every_prefix_fails(&w, read_compact_nullable_bytes);
    wr_free(&w);
}

static void test_bytes_round_trip(void **state)
{
    (void)state;
    const uint8_t data[] = { 0x00, 0xff, 0x10 };
    kl_writer_t w;
    wr_init(&w);
    wr_bytes(&w, data, 3);
    wr_nullable_bytes(&w, NULL, 0);
    wr_compact_bytes(&w, data, 3);
    wr_compact_nullable_bytes(&w, NULL, 0);
    wr_compact_nullable_bytes(&w, data, 0);
    wr_bytes(&w, NULL, 0);                        /* non-nullable NULL written empty */
    const uint8_t want[] = { 0, 0, 0, 3, 0x00, 0xff, 0x10, 0xff, 0xff, 0xff, 0xff,
                             4, 0x00, 0xff, 0x10, 0, 1, 0, 0, 0, 0 };
    assert_bytes(&w, want, sizeof want);
    kl_reader_t r;
    reader_over(&r, &w);
    kl_bytes_t b = rd_bytes(&r);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, data, 3);
    b = rd_nullable_bytes(&r);
    assert_int_equal(b.len, -1);
    assert_null(b.ptr);
    b = rd_compact_bytes(&r);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, data, 3);
    b = rd_compact_nullable_bytes(&r);
    assert_int_equal(b.len, -1);
    b = rd_compact_nullable_bytes(&r);
    assert_int_equal(b.len, 0);
    assert_non_null(b.ptr);
    b = rd_bytes(&r);
    assert_int_equal(b.len, 0);
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);
    wr_free(&w);
}

static void test_string_too_long_for_int16_fails_writer(void **state)
{
    (void)state;
    char *big = calloc(1, 40000);
    assert_non_null(big);
    kl_writer_t w;
    wr_init(&w);
    wr_string(&w, big, 40000);
    assert_false(wr_ok(&w));
    wr_free(&w);
    free(big);
}

/* ---- arrays --------------------------------------------------------------------- */

static void test_arrays(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_array_len(&w, 2);
    wr_i8(&w, 1);
    wr_i8(&w, 2);
    wr_array_len(&w, -1);
    wr_compact_array_len(&w, 1);
    wr_i8(&w, 3);
    wr_compact_array_len(&w, -1);
    wr_compact_array_len(&w, 0);
    const uint8_t want[] = { 0, 0, 0, 2, 1, 2, 0xff, 0xff, 0xff, 0xff, 2, 3, 0, 1 };
    assert_bytes(&w, want, sizeof want);
    kl_reader_t r;
    reader_over(&r, &w);
    assert_int_equal(rd_array_len(&r), 2);
    rd_skip(&r, 2);
    assert_int_equal(rd_array_len(&r), -1);
    assert_int_equal(rd_compact_array_len(&r), 1);
    rd_skip(&r, 1);
    assert_int_equal(rd_compact_array_len(&r), -1);
    assert_int_equal(rd_compact_array_len(&r), 0);
    assert_true(rd_ok(&r));
    wr_free(&w);
}

static void test_required_array_refuses_null(void **state)
{
    (void)state;
    kl_reader_t r;
    const uint8_t null_then_two[] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 1, 2 };
    rd_init(&r, null_then_two, sizeof null_then_two);
    assert_int_equal(rd_array_len_required(&r), 0);
    assert_false(rd_ok(&r));                        /* non-nullable field serialized as null */
    rd_init(&r, null_then_two + 4, sizeof null_then_two - 4);
    assert_int_equal(rd_array_len_required(&r), 2);
    assert_true(rd_ok(&r));
}

static void test_hostile_array_counts_fail(void **state)
{
    (void)state;
    kl_reader_t r;
    const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0 };
    rd_init(&r, huge, sizeof huge);
    assert_int_equal(rd_array_len(&r), 0);
    assert_false(rd_ok(&r));
    const uint8_t neg2[] = { 0xff, 0xff, 0xff, 0xfe };
    rd_init(&r, neg2, sizeof neg2);
    (void)rd_array_len(&r);
    assert_false(rd_ok(&r));
    const uint8_t one_more[] = { 0, 0, 0, 3, 1, 2 };     /* 3 elements, 2 bytes */
    rd_init(&r, one_more, sizeof one_more);
    (void)rd_array_len(&r);
    assert_false(rd_ok(&r));
    const uint8_t exact[] = { 0, 0, 0, 2, 1, 2 };
    rd_init(&r, exact, sizeof exact);
    assert_int_equal(rd_array_len(&r), 2);
    assert_true(rd_ok(&r));
    const uint8_t compact_huge[] = { 0xff, 0xff, 0xff, 0xff, 0x07, 0 };
    rd_init(&r, compact_huge, sizeof compact_huge);
    assert_int_equal(rd_compact_array_len(&r), 0);
    assert_false(rd_ok(&r));
    const uint8_t truncated[] = { 0, 0, 0 };
    rd_init(&r, truncated, sizeof truncated);
    (void)rd_array_len(&r);
    assert_false(rd_ok(&r));
    const uint8_t compact_truncated[] = { 0x80 };
    rd_init(&r, compact_truncated, sizeof compact_truncated);
    (void)rd_compact_array_len(&r);
    assert_false(rd_ok(&r));
}

/* ---- tagged fields (KIP-482) ---------------------------------------------------- */

static void test_tagged_fields_skip_unknown(void **state)
{
    (void)state;
    /* 2 fields: tag 0 size 3, tag 200 (two-byte varint) size 1; then an i8 after. */
    const uint8_t buf[] = { 0x02, 0x00, 0x03, 'a', 'b', 'c', 0xc8, 0x01, 0x01, 'x', 0x2a };
    kl_reader_t r;
    rd_init(&r, buf, sizeof buf);
    rd_tagged_fields(&r);
    assert_true(rd_ok(&r));
    assert_int_equal(rd_i8(&r), 42);
    assert_int_equal(rd_remaining(&r), 0);

    const uint8_t none[] = { 0x00, 0x07 };
    rd_init(&r, none, sizeof none);
    rd_tagged_fields(&r);
    assert_int_equal(rd_i8(&r), 7);
    assert_true(rd_ok(&r));
}

static void read_tags(kl_reader_t *r) { rd_tagged_fields(r); }

static void test_tagged_fields_truncated_fail(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    const uint8_t buf[] = { 0x02, 0x00, 0x03, 'a', 'b', 'c', 0xc8, 0x01, 0x01, 'x' };
    wr_raw(&w, buf, sizeof buf);
    assert_every_prefix_fails(&w, read_tags);
    wr_free(&w);

    kl_reader_t r;
    const uint8_t hostile[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00 };
    rd_init(&r, hostile, sizeof hostile);
    rd_tagged_fields(&r);
    assert_false(rd_ok(&r));
    const uint8_t big_size[] = { 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f };
    rd_init(&r, big_size, sizeof big_size);
    rd_tagged_fields(&r);
    assert_false(rd_ok(&r));
}

static void test_empty_tagged_fields_written(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_empty_tagged_fields(&w);
    wr_tags(&w, false);
    wr_tags(&w, true);
    const uint8_t want[] = { 0, 0 };
    assert_bytes(&w, want, sizeof want);
    kl_reader_t r;
    reader_over(&r, &w);
    rd_tags(&r, true);
    rd_tags(&r, false);
    rd_tags(&r, true);
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);
    wr_free(&w);
}

/* ---- version-gated helpers ------------------------------------------------------ */

static void test_gated_helpers(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    for (int flex = 0; flex <= 1; flex++) {
        wr_reset(&w);
        wr_str(&w, flex, "ab", 2);
        wr_cstr(&w, flex, "cd");
        wr_nstr(&w, flex, NULL, 0);
        wr_nbytes(&w, flex, "\x09", 1);
        wr_nbytes(&w, flex, NULL, 0);
        wr_arr(&w, flex, 3);
        wr_arr(&w, flex, -1);
        assert_int_equal(w.len, flex ? 3 + 3 + 1 + 2 + 1 + 1 + 1 : 4 + 4 + 2 + 5 + 4 + 4 + 4);
        kl_reader_t r;
        reader_over(&r, &w);
        kl_str_t s = rd_str(&r, flex);
        assert_int_equal(s.len, 2);
        assert_memory_equal(s.ptr, "ab", 2);
        s = rd_str(&r, flex);
        assert_memory_equal(s.ptr, "cd", 2);
        assert_int_equal(rd_nstr(&r, flex).len, -1);
        kl_bytes_t b = rd_nbytes(&r, flex);
        assert_int_equal(b.len, 1);
        assert_int_equal(b.ptr[0], 9);
        assert_int_equal(rd_nbytes(&r, flex).len, -1);
        /* rd_arr's count check: 3 elements but only the null-array marker left. */
        int32_t n = rd_arr(&r, flex);
        assert_true(flex ? (n == 0 && !rd_ok(&r)) : (n == 3 && rd_ok(&r)));
    }
    wr_free(&w);
}

/* ---- writer buffer -------------------------------------------------------------- */

static void test_writer_grows_and_resets(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    for (int i = 0; i < 100000; i++)
        wr_i32(&w, i);
    assert_true(wr_ok(&w));
    assert_int_equal(w.len, 400000);
    assert_true(w.cap >= w.len);
    kl_reader_t r;
    reader_over(&r, &w);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(rd_i32(&r), i);
    uint8_t *kept = w.buf;
    size_t cap = w.cap;
    wr_reset(&w);
    assert_int_equal(w.len, 0);
    assert_ptr_equal(w.buf, kept);
    assert_int_equal(w.cap, cap);
    wr_free(&w);
    assert_null(w.buf);
    assert_int_equal(w.len, 0);
}

static void test_writer_reserve(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_i8(&w, 1);
    uint8_t *p = wr_reserve(&w, 3);
    assert_non_null(p);
    memcpy(p, "xyz", 3);
    const uint8_t want[] = { 1, 'x', 'y', 'z' };
    assert_bytes(&w, want, sizeof want);
    assert_null(wr_reserve(&w, SIZE_MAX));        /* overflow: fails, no wrap */
    assert_false(wr_ok(&w));
    wr_i8(&w, 5);                                 /* dropped */
    assert_int_equal(w.len, 4);
    wr_reset(&w);
    assert_true(wr_ok(&w));
    wr_free(&w);
}

static void test_placeholder_patch(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_i8(&w, 9);
    size_t at = wr_placeholder_i32(&w);
    wr_i16(&w, 7);
    wr_patch_i32(&w, at, (int32_t)(w.len - at - 4));
    wr_patch_i32(&w, w.len - 1, 0x11111111);      /* out of bounds: ignored */
    const uint8_t want[] = { 9, 0, 0, 0, 2, 0, 7 };
    assert_bytes(&w, want, sizeof want);
    wr_patch_i32(&w, at, INT32_MIN);
    assert_int_equal(w.buf[1], 0x80);
    wr_free(&w);
}

/* ---- writer: file ranges (splices) ---------------------------------------------- */

static void test_splice_recorded_at_current_len(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_raw(&w, "head", 4);
    assert_true(wr_splice(&w, 7, 100, 50));
    assert_int_equal(w.len, 4);                   /* no memory bytes added */
    assert_int_equal(w.nsplices, 1);
    assert_int_equal(w.splices[0].at, 4);
    assert_int_equal(w.splices[0].fd, 7);
    assert_int_equal(w.splices[0].offset, 100);
    assert_int_equal(w.splices[0].len, 50);
    assert_int_equal(w.spliced, 50);
    assert_int_equal(wr_total(&w), 54);
    wr_raw(&w, "tail", 4);
    assert_int_equal(wr_total(&w), 58);
    assert_memory_equal(w.buf, "headtail", 8);
    wr_free(&w);
    assert_null(w.splices);
    assert_int_equal(w.nsplices, 0);
    assert_int_equal(w.spliced, 0);
}

/* More splices than the first allocation holds: all kept, in order, summed. */
static void test_splices_keep_order(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    size_t total = 0;
    for (int i = 0; i < 20; i++) {
        wr_i8(&w, (int8_t)i);
        if (i % 3 == 0)
            assert_true(wr_splice(&w, 3, i * 1000, (size_t)i + 1));   /* two in a row */
        assert_true(wr_splice(&w, 100 + i, i * 10, (size_t)i + 1));
        total += (size_t)(i % 3 == 0 ? 2 * (i + 1) : i + 1);
    }
    assert_true(wr_ok(&w));
    assert_int_equal(w.spliced, total);
    assert_int_equal(wr_total(&w), 20 + total);
    size_t k = 0;
    for (int i = 0; i < 20; i++) {
        if (i % 3 == 0) {
            assert_int_equal(w.splices[k].at, (size_t)i + 1);
            assert_int_equal(w.splices[k].fd, 3);
            assert_int_equal(w.splices[k].offset, i * 1000);
            k++;
        }
        assert_int_equal(w.splices[k].at, (size_t)i + 1);
        assert_int_equal(w.splices[k].fd, 100 + i);
        assert_int_equal(w.splices[k].offset, i * 10);
        assert_int_equal(w.splices[k].len, (size_t)i + 1);
        k++;
    }
    assert_int_equal(w.nsplices, k);
    wr_free(&w);
}

/* Truncating to a length drops the memory bytes past it and the ranges spliced at or
 * after it (Fetch takes back a partition that did not fit), keeps the earlier ones. */
static void test_truncate_drops_later_splices(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_raw(&w, "abcd", 4);
    assert_true(wr_splice(&w, 5, 0, 10));         /* at 4 */
    wr_raw(&w, "efg", 3);
    assert_true(wr_splice(&w, 6, 0, 20));         /* at 7 */
    assert_true(wr_splice(&w, 7, 0, 40));         /* at 7 */
    wr_raw(&w, "hi", 2);
    assert_true(wr_splice(&w, 8, 0, 80));         /* at 9 */
    assert_int_equal(wr_total(&w), 9 + 150);

    wr_truncate(&w, 8);                           /* the one at 9 goes */
    assert_int_equal(w.len, 8);
    assert_int_equal(w.nsplices, 3);
    assert_int_equal(w.spliced, 70);
    assert_int_equal(wr_total(&w), 78);

    wr_truncate(&w, 7);                           /* exactly at 7: both at 7 go */
    assert_int_equal(w.len, 7);
    assert_int_equal(w.nsplices, 1);
    assert_int_equal(w.splices[0].fd, 5);
    assert_int_equal(w.spliced, 10);
    assert_memory_equal(w.buf, "abcdefg", 7);

    wr_truncate(&w, 5);                           /* at 4 < 5: kept */
    assert_int_equal(w.len, 5);
    assert_int_equal(w.nsplices, 1);
    assert_int_equal(wr_total(&w), 15);

    wr_truncate(&w, 0);
    assert_int_equal(w.len, 0);
    assert_int_equal(w.nsplices, 0);
    assert_int_equal(w.spliced, 0);
    assert_true(wr_ok(&w));
    wr_free(&w);
}

static void test_truncate_beyond_len_does_nothing(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_raw(&w, "abc", 3);
    assert_true(wr_splice(&w, 5, 0, 10));         /* at 3 == len */
    wr_truncate(&w, 4);
    assert_int_equal(w.len, 3);
    assert_int_equal(w.nsplices, 1);
    assert_int_equal(wr_total(&w), 13);
    wr_truncate(&w, SIZE_MAX);
    assert_int_equal(w.len, 3);
    assert_int_equal(w.nsplices, 1);
    wr_truncate(&w, 3);                           /* == len: the range at 3 goes */
    assert_int_equal(w.len, 3);
    assert_int_equal(w.nsplices, 0);
    assert_int_equal(wr_total(&w), 3);
    wr_free(&w);
}

static void test_reset_clears_splices(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_raw(&w, "abc", 3);
    assert_true(wr_splice(&w, 5, 0, 10));
    kl_wr_splice_t *kept = w.splices;
    wr_reset(&w);
    assert_int_equal(w.len, 0);
    assert_int_equal(w.nsplices, 0);
    assert_int_equal(w.spliced, 0);
    assert_int_equal(wr_total(&w), 0);
    assert_ptr_equal(w.splices, kept);            /* the array is reused */
    assert_true(wr_splice(&w, 6, 1, 2));
    assert_int_equal(w.nsplices, 1);
    assert_int_equal(w.splices[0].at, 0);
    assert_int_equal(w.splices[0].fd, 6);
    assert_int_equal(wr_total(&w), 2);
    wr_free(&w);
}

static void test_failed_writer_refuses_splice(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_raw(&w, "abc", 3);
    assert_null(wr_reserve(&w, SIZE_MAX));
    assert_false(wr_ok(&w));
    assert_false(wr_splice(&w, 5, 0, 10));
    assert_int_equal(w.nsplices, 0);
    assert_int_equal(w.spliced, 0);
    assert_int_equal(wr_total(&w), 3);
    assert_false(wr_ok(&w));
    wr_free(&w);
}

/* ---- kl_str_copy ---------------------------------------------------------------- */

static void test_str_copy(void **state)
{
    (void)state;
    char dst[4] = "zzz";
    kl_str_t abc = { "abc", 3 };
    assert_true(kl_str_copy(abc, dst, sizeof dst));
    assert_string_equal(dst, "abc");
    kl_str_t abcd = { "abcd", 4 };
    assert_false(kl_str_copy(abcd, dst, sizeof dst));
    assert_string_equal(dst, "");
    kl_str_t null = { NULL, -1 };
    strcpy(dst, "q");
    assert_false(kl_str_copy(null, dst, sizeof dst));
    assert_string_equal(dst, "");
    kl_str_t empty = { "", 0 };
    assert_true(kl_str_copy(empty, dst, sizeof dst));
    assert_string_equal(dst, "");
    assert_false(kl_str_copy(abc, dst, 0));
}

static void test_str_dup(void **state)
{
    (void)state;
    char frame[] = { 'g', 'r', 'o', 'u', 'p', 'X' };   /* a view, not NUL-terminated */
    kl_str_t group = { frame, 5 };
    char *copy = kl_str_dup(group);
    assert_non_null(copy);
    assert_string_equal(copy, "group");
    assert_ptr_not_equal(copy, frame);
    free(copy);
    kl_str_t empty = { frame, 0 };
    copy = kl_str_dup(empty);
    assert_non_null(copy);
    assert_string_equal(copy, "");
    free(copy);
    kl_str_t null = { NULL, -1 };
    assert_null(kl_str_dup(null));
    kl_str_t inner_nul = { "ab\0cd", 5 };                 /* like strndup: stops at NUL */
    copy = kl_str_dup(inner_nul);
    assert_non_null(copy);
    assert_string_equal(copy, "ab");
    free(copy);
}

/* A string read from a frame copies to exactly its bytes; a null one to NULL. */
static void test_str_dup_of_read_strings(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_string(&w, "member-1", 8);
    wr_nullable_string(&w, NULL, -1);
    kl_reader_t r;
    reader_over(&r, &w);
    char *member = kl_str_dup(rd_string(&r));
    kl_str_t instance = rd_nullable_string(&r);
    assert_true(rd_ok(&r));
    assert_string_equal(member, "member-1");
    assert_null(instance.ptr);
    assert_null(kl_str_dup(instance));
    free(member);
    wr_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_ints_round_trip),
        cmocka_unit_test(test_fixed_ints_are_big_endian),
        cmocka_unit_test(test_fixed_ints_truncated_fail),
        cmocka_unit_test(test_failure_is_sticky),
        cmocka_unit_test(test_reader_over_null_buffer),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_uvarint_encodings),
        cmocka_unit_test(test_varint_zigzag),
        cmocka_unit_test(test_varlong_round_trip),
        cmocka_unit_test(test_uvarlong_round_trip),
        cmocka_unit_test(test_varints_truncated_fail),
        cmocka_unit_test(test_overlong_varints_fail),
        cmocka_unit_test(test_classic_strings),
        cmocka_unit_test(test_null_where_not_nullable_fails),
        cmocka_unit_test(test_compact_strings),
        cmocka_unit_test(test_string_length_beyond_input_fails),
        cmocka_unit_test(test_strings_and_bytes_truncated_fail),
        cmocka_unit_test(test_bytes_round_trip),
        cmocka_unit_test(test_string_too_long_for_int16_fails_writer),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_required_array_refuses_null),
        cmocka_unit_test(test_hostile_array_counts_fail),
        cmocka_unit_test(test_tagged_fields_skip_unknown),
        cmocka_unit_test(test_tagged_fields_truncated_fail),
        cmocka_unit_test(test_empty_tagged_fields_written),
        cmocka_unit_test(test_gated_helpers),
        cmocka_unit_test(test_writer_grows_and_resets),
        cmocka_unit_test(test_writer_reserve),
        cmocka_unit_test(test_placeholder_patch),
        cmocka_unit_test(test_splice_recorded_at_current_len),
        cmocka_unit_test(test_splices_keep_order),
        cmocka_unit_test(test_truncate_drops_later_splices),
        cmocka_unit_test(test_truncate_beyond_len_does_nothing),
        cmocka_unit_test(test_reset_clears_splices),
        cmocka_unit_test(test_failed_writer_refuses_splice),
        cmocka_unit_test(test_str_copy),
        cmocka_unit_test(test_str_dup),
        cmocka_unit_test(test_str_dup_of_read_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
