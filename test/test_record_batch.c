/*
 * test/test_record_batch.c — unit tests of domain/record_batch.c: big-endian helpers,
 * header decoding, every validation rule (framing, magic, CRC-32C, offset delta,
 * record count), base offset rewriting, batch iteration; on batches built by hand here
 * and on the batches real producers sent (kcat/librdkafka incl. gzip, kafka-python,
 * KafkaJS; captured in /work/shared/fixtures and embedded below).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "domain/crc32c.h"
#include "domain/record_batch.h"
#include "test/fixtures/client_frames.h"

/* ---- a hand-made batch ----------------------------------------------------------- */

typedef struct batch_spec {
    int64_t base_offset;
    int32_t leader_epoch;
    int16_t attributes;
    int64_t base_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int records;                /* how many records to encode */
} batch_spec_t;

static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);   /* zigzag, as Kafka does */
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* One v2 record: length, attributes, timestamp delta, offset delta, key, value, headers. */
static size_t put_record(uint8_t *p, int index)
{
    uint8_t body[64];
    size_t n = 0;
    char key[2] = { 'k', (char)('0' + index % 10) };
    char value[7] = { 'v', 'a', 'l', 'u', 'e', '-', (char)('a' + index % 26) };
    int klen = (int)sizeof key, vlen = (int)sizeof value;
    body[n++] = 0;                                  /* attributes (unused) */
    n += put_varint(body + n, index);               /* timestamp delta */
    n += put_varint(body + n, index);               /* offset delta */
    n += put_varint(body + n, klen);
    memcpy(body + n, key, (size_t)klen);
    n += (size_t)klen;
    n += put_varint(body + n, vlen);
    memcpy(body + n, value, (size_t)vlen);
    n += (size_t)vlen;
    n += put_varint(body + n, 0);                   /* no headers */
    size_t m = put_varint(p, (int64_t)n);
    memcpy(p + m, body, n);
    return m + n;
}

/* Recompute the CRC after a test changed a covered field on purpose. */
static void fix_crc(uint8_t *buf)
{
    size_t total = 12 + (size_t)kl_be32_read(buf + 8);
    kl_be32_write(buf + 17, (int32_t)kl_crc32c(0, buf + 21, total - 21));
}

static size_t build_batch(uint8_t *buf, const batch_spec_t *s)
{
    size_t n = KL_BATCH_HEADER_SIZE;
    for (int i = 0; i < s->records; i++)
        n += put_record(buf + n, i);
    kl_be64_write(buf + 0, s->base_offset);
    kl_be32_write(buf + 8, (int32_t)(n - 12));
    kl_be32_write(buf + 12, s->leader_epoch);
    buf[16] = 2;
    kl_be16_write(buf + 21, s->attributes);
    kl_be32_write(buf + 23, s->records - 1);
    kl_be64_write(buf + 27, s->base_timestamp);
    kl_be64_write(buf + 35, s->base_timestamp + (s->records > 0 ? s->records - 1 : 0));
    kl_be64_write(buf + 43, s->producer_id);
    kl_be16_write(buf + 51, s->producer_epoch);
    kl_be32_write(buf + 53, s->base_sequence);
    kl_be32_write(buf + 57, s->records);
    fix_crc(buf);
    return n;
}

static const batch_spec_t three = {
    .base_offset = 0, .leader_epoch = -1, .attributes = 0,
    .base_timestamp = 1700000000000LL, .producer_id = -1, .producer_epoch = -1,
    .base_sequence = -1, .records = 3,
};

/* ---- big-endian helpers -------------------------------------------------------- */

static void test_be_reads_known_bytes(void **state)
{
    (void)state;
    const uint8_t b[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
    assert_int_equal(kl_be64_read(b), 0x0102030405060708LL);
    assert_int_equal(kl_be32_read(b), 0x01020304);
    assert_int_equal(kl_be16_read(b), 0x0102);
    const uint8_t ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
    assert_int_equal(kl_be64_read(ff), -2);
    assert_int_equal(kl_be32_read(ff), -1);
    assert_int_equal(kl_be16_read(ff), -1);
    const uint8_t min[8] = { 0x80, 0, 0, 0, 0, 0, 0, 0 };
    assert_true(kl_be64_read(min) == INT64_MIN);
    assert_int_equal(kl_be32_read(min), INT32_MIN);
    assert_int_equal(kl_be16_read(min), INT16_MIN);
}

static void test_be_write_read_round_trip(void **state)
{
    (void)state;
    const int64_t v64[] = { 0, 1, -1, 255, 256, INT64_MAX, INT64_MIN, 0x0102030405060708LL };
    const int32_t v32[] = { 0, 1, -1, 0x7f, 0x80, INT32_MAX, INT32_MIN, 0x01020304 };
    const int16_t v16[] = { 0, 1, -1, 0x7f, 0x80, INT16_MAX, INT16_MIN, 0x0102 };
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++) {
        kl_be64_write(b, v64[i]);
        assert_true(kl_be64_read(b) == v64[i]);
        kl_be32_write(b, v32[i]);
        assert_int_equal(kl_be32_read(b), v32[i]);
        kl_be16_write(b, v16[i]);
        assert_int_equal(kl_be16_read(b), v16[i]);
    }
    kl_be32_write(b, 0x0a0b0c0d);
    assert_memory_equal(b, "\x0a\x0b\x0c\x0d", 4);
    kl_be16_write(b, 0x0a0b);
    assert_memory_equal(b, "\x0a\x0b", 2);
    kl_be64_write(b, 0x0102030405060708LL);
    assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

/* ---- parse and validate: hand-made batches ------------------------------------- */

static void test_parse_decodes_every_field(void **state)
{
    (void)state;
    uint8_t buf[512];
    batch_spec_t s = {
        .base_offset = 0x0102030405LL, .leader_epoch = 7, .attributes = 0x0011,
        .base_timestamp = 1700000000123LL, .producer_id = 4242, .producer_epoch = 3,
        .base_sequence = 99, .records = 4,
    };
    size_t n = build_batch(buf, &s);
    kl_batch_header_t h;
    memset(&h, 0xaa, sizeof h);
    assert_int_equal(batch_header_parse(buf, n, &h), KL_OK);
    assert_true(h.base_offset == 0x0102030405LL);
    assert_int_equal(h.batch_length, (int32_t)(n - 12));
    assert_int_equal(h.partition_leader_epoch, 7);
    assert_int_equal(h.magic, 2);
    assert_int_equal(h.crc, kl_crc32c(0, buf + 21, n - 21));
    assert_int_equal(h.attributes, 0x0011);
    assert_int_equal(h.last_offset_delta, 3);
    assert_true(h.base_timestamp == 1700000000123LL);
    assert_true(h.max_timestamp == 1700000000126LL);
    assert_int_equal(h.producer_id, 4242);
    assert_int_equal(h.producer_epoch, 3);
    assert_int_equal(h.base_sequence, 99);
    assert_int_equal(h.records_count, 4);
    assert_int_equal(batch_total_size(&h), n);
    assert_int_equal(batch_record_span(&h), 4);
    assert_true(batch_last_offset(&h) == 0x0102030405LL + 3);
    assert_int_equal(batch_compression(&h), KL_COMPRESSION_GZIP);
    assert_int_equal(batch_is_transactional(&h), 1);
    assert_int_equal(batch_is_control(&h), 0);
}

static void assert_headers_equal(const kl_batch_header_t *a, const kl_batch_header_t *b)
{
    assert_true(a->base_offset == b->base_offset);
    assert_int_equal(a->batch_length, b->batch_length);
    assert_int_equal(a->partition_leader_epoch, b->partition_leader_epoch);
    assert_int_equal(a->magic, b->magic);
    assert_int_equal(a->crc, b->crc);
    assert_int_equal(a->attributes, b->attributes);
    assert_int_equal(a->last_offset_delta, b->last_offset_delta);
    assert_true(a->base_timestamp == b->base_timestamp);
    assert_true(a->max_timestamp == b->max_timestamp);
    assert_true(a->producer_id == b->producer_id);
    assert_int_equal(a->producer_epoch, b->producer_epoch);
    assert_int_equal(a->base_sequence, b->base_sequence);
    assert_int_equal(a->records_count, b->records_count);
}

/* batch_header_decode on 61 bytes written field by field at the offsets of the table in
 * record_batch.h, with negative values and a header no check would accept: it only
 * decodes. */
static void test_decode_reads_the_61_bytes_as_they_are(void **state)
{
    (void)state;
    uint8_t hdr[KL_BATCH_HEADER_SIZE];
    memset(hdr, 0, sizeof hdr);
    kl_be64_write(hdr + 0, -2);
    kl_be32_write(hdr + 8, 0);                      /* batch_length no batch can have */
    kl_be32_write(hdr + 12, -1);
    hdr[16] = 1;                                    /* magic 1: decoded, not refused */
    kl_be32_write(hdr + 17, (int32_t)0xdeadbeefu);
    kl_be16_write(hdr + 21, 0x0024);
    kl_be32_write(hdr + 23, -5);
    kl_be64_write(hdr + 27, 1700000000000LL);
    kl_be64_write(hdr + 35, -1);
    kl_be64_write(hdr + 43, 0x7fffffffffffffffLL);
    kl_be16_write(hdr + 51, -1);
    kl_be32_write(hdr + 53, 0x01020304);
    kl_be32_write(hdr + 57, 12345);
    kl_batch_header_t h;
    memset(&h, 0xaa, sizeof h);
    batch_header_decode(hdr, &h);
    assert_true(h.base_offset == -2);
    assert_int_equal(h.batch_length, 0);
    assert_int_equal(h.partition_leader_epoch, -1);
    assert_int_equal(h.magic, 1);
    assert_true(h.crc == 0xdeadbeefu);
    assert_int_equal(h.attributes, 0x0024);
    assert_int_equal(h.last_offset_delta, -5);
    assert_true(h.base_timestamp == 1700000000000LL);
    assert_true(h.max_timestamp == -1);
    assert_true(h.producer_id == 0x7fffffffffffffffLL);
    assert_int_equal(h.producer_epoch, -1);
    assert_int_equal(h.base_sequence, 0x01020304);
    assert_int_equal(h.records_count, 12345);
}

/* The header alone (what segment.c reads from disk) decodes to what batch_header_parse
 * gives for the whole batch. */
static void test_decode_of_the_header_alone_matches_parse(void **state)
{
    (void)state;
    uint8_t buf[512], hdr[KL_BATCH_HEADER_SIZE];
    batch_spec_t s = {
        .base_offset = 77, .leader_epoch = 2, .attributes = 0x0003,
        .base_timestamp = 1600000000000LL, .producer_id = -1, .producer_epoch = -1,
        .base_sequence = -1, .records = 3,
    };
    size_t n = build_batch(buf, &s);
    memcpy(hdr, buf, sizeof hdr);
    kl_batch_header_t parsed, decoded;
    assert_int_equal(batch_header_parse(buf, n, &parsed), KL_OK);
    batch_header_decode(hdr, &decoded);
    assert_headers_equal(&decoded, &parsed);
}

static void test_attribute_accessors(void **state)
{
    (void)state;
    kl_batch_header_t h = { 0 };
    h.attributes = KL_COMPRESSION_ZSTD | (1 << 3) | (1 << 5);
    assert_int_equal(batch_compression(&h), KL_COMPRESSION_ZSTD);
    assert_int_equal(batch_is_transactional(&h), 0);
    assert_int_equal(batch_is_control(&h), 1);
    h.attributes = KL_COMPRESSION_LZ4;
    assert_int_equal(batch_compression(&h), KL_COMPRESSION_LZ4);
    assert_int_equal(batch_is_control(&h), 0);
}

static void test_validate_accepts_hand_made_batches(void **state)
{
    (void)state;
    uint8_t buf[1024];
    for (int records = 1; records <= 10; records++) {
        batch_spec_t s = three;
        s.records = records;
        size_t n = build_batch(buf, &s);
        kl_batch_header_t h;
        assert_int_equal(batch_validate(buf, n, &h), KL_OK);
        assert_int_equal(h.records_count, records);
        assert_int_equal(batch_record_span(&h), records);
    }
}

static void test_trailing_bytes_are_not_part_of_the_batch(void **state)
{
    (void)state;
    uint8_t buf[600];
    size_t n = build_batch(buf, &three);
    memset(buf + n, 0x5a, 100);
    kl_batch_header_t h;
    assert_int_equal(batch_validate(buf, n + 100, &h), KL_OK);
    assert_int_equal(batch_total_size(&h), n);
}

static void test_short_buffer_is_corrupt(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    for (size_t len = 0; len < KL_BATCH_HEADER_SIZE; len++) {
        assert_int_equal(batch_header_parse(buf, len, &h), KL_ERR_CORRUPT_MESSAGE);
        assert_int_equal(batch_validate(buf, len, &h), KL_ERR_CORRUPT_MESSAGE);
    }
    (void)n;
}

static void test_truncation_at_every_length_is_corrupt(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    for (size_t len = 0; len < n; len++)
        assert_int_equal(batch_validate(buf, len, &h), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(batch_validate(buf, n, &h), KL_OK);
}

static void test_old_magic_is_unsupported_format(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    const uint8_t magics[] = { 0, 1, 3, 0xff };
    for (size_t i = 0; i < sizeof magics; i++) {
        buf[16] = magics[i];
        assert_int_equal(batch_header_parse(buf, n, &h), KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
        assert_int_equal(batch_validate(buf, n, &h), KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
        /* a v0/v1 message can be shorter than a v2 header: still named by its magic */
        assert_int_equal(batch_validate(buf, 30, &h), KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
        assert_int_equal(batch_validate(buf, 17, &h), KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
        /* 16 bytes do not reach the magic */
        assert_int_equal(batch_validate(buf, 16, &h), KL_ERR_CORRUPT_MESSAGE);
    }
}

static void test_batch_length_bounds(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    const int32_t bad[] = { 48, 0, -1, INT32_MIN, (int32_t)(n - 12 + 1), INT32_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kl_be32_write(buf + 8, bad[i]);
        assert_int_equal(batch_header_parse(buf, n, &h), KL_ERR_CORRUPT_MESSAGE);
    }
    /* 49 (header only) frames fine; the CRC and counts then decide */
    kl_be32_write(buf + 8, 49);
    assert_int_equal(batch_header_parse(buf, n, &h), KL_OK);
    assert_int_equal(batch_total_size(&h), 61);
    assert_int_equal(batch_validate(buf, n, &h), KL_ERR_CORRUPT_MESSAGE);   /* CRC */
}

static void test_crc_mismatch_is_corrupt(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    kl_be32_write(buf + 17, kl_be32_read(buf + 17) ^ 1);
    assert_int_equal(batch_header_parse(buf, n, &h), KL_OK);     /* parse does not check */
    assert_int_equal(batch_validate(buf, n, &h), KL_ERR_CORRUPT_MESSAGE);
}

/* Every byte of the checksummed range [17, n): flipping any bit must be caught. Bytes
 * 0..15 (base offset, length, leader epoch) are outside the CRC by design (KIP-98):
 * flipping base offset or leader epoch leaves a valid batch. */
static void test_flipped_bytes(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            kl_err_t err = batch_validate(buf, n, &h);
            if (i < 8 || (i >= 12 && i < 16))
                assert_int_equal(err, KL_OK);
            else if (i == 16)
                assert_int_equal(err, KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
            else
                assert_int_equal(err, KL_ERR_CORRUPT_MESSAGE);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(batch_validate(buf, n, &h), KL_OK);
}

static void test_negative_last_offset_delta_is_corrupt(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    kl_be32_write(buf + 23, -1);
    kl_be32_write(buf + 57, 0);          /* count = delta + 1: only the delta is wrong */
    fix_crc(buf);
    assert_int_equal(batch_validate(buf, n, &h), KL_ERR_CORRUPT_MESSAGE);
    kl_be32_write(buf + 23, INT32_MIN);
    fix_crc(buf);
    assert_int_equal(batch_validate(buf, n, &h), KL_ERR_CORRUPT_MESSAGE);
}

static void test_record_count_mismatch_is_invalid_record(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    kl_batch_header_t h;
    const int32_t counts[] = { 0, 2, 4, -1, INT32_MAX };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        kl_be32_write(buf + 57, counts[i]);
        fix_crc(buf);
        assert_int_equal(batch_validate(buf, n, &h), KL_ERR_INVALID_RECORD);
    }
    /* the count rule applies to compressed batches too: the count is in the header */
    kl_be32_write(buf + 57, 5);
    kl_be16_write(buf + 21, KL_COMPRESSION_GZIP);
    fix_crc(buf);
    assert_int_equal(batch_validate(buf, n, &h), KL_ERR_INVALID_RECORD);
    kl_be32_write(buf + 57, 3);
    fix_crc(buf);
    assert_int_equal(batch_validate(buf, n, &h), KL_OK);
}

static void test_set_base_offset_keeps_batch_valid(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_batch(buf, &three);
    uint8_t before[512];
    memcpy(before, buf, n);
    batch_set_base_offset(buf, 1234567890123LL);
    assert_memory_equal(buf + 8, before + 8, n - 8);        /* only bytes 0..7 changed */
    kl_batch_header_t h;
    assert_int_equal(batch_validate(buf, n, &h), KL_OK);
    assert_true(h.base_offset == 1234567890123LL);
    assert_true(batch_last_offset(&h) == 1234567890125LL);
    assert_memory_equal(buf, "\x00\x00\x01\x1f\x71\xfb\x04\xcb", 8);
}

/* ---- batch_next -------------------------------------------------------------- */

static void test_next_walks_a_sequence(void **state)
{
    (void)state;
    uint8_t buf[2048];
    size_t len = 0, sizes[3];
    for (int i = 0; i < 3; i++) {
        batch_spec_t s = three;
        s.base_offset = 10 * i;
        s.records = i + 1;
        sizes[i] = build_batch(buf + len, &s);
        len += sizes[i];
    }
    size_t pos = 0;
    kl_batch_header_t h;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(batch_next(buf, len, &pos, &h), KL_OK);
        assert_int_equal(h.base_offset, 10 * i);
        assert_int_equal(h.records_count, i + 1);
    }
    assert_int_equal(pos, len);
    assert_int_equal(sizes[0] + sizes[1] + sizes[2], len);
    /* at the end there is nothing more to read, and pos stays put */
    assert_int_equal(batch_next(buf, len, &pos, &h), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(pos, len);
}

static void test_next_stops_at_torn_tail(void **state)
{
    (void)state;
    uint8_t buf[2048];
    size_t first = build_batch(buf, &three);
    size_t second = build_batch(buf + first, &three);
    kl_batch_header_t h;
    for (size_t cut = 1; cut < second; cut++) {
        size_t pos = 0;
        assert_int_equal(batch_next(buf, first + cut, &pos, &h), KL_OK);
        assert_int_equal(pos, first);
        assert_int_equal(batch_next(buf, first + cut, &pos, &h), KL_ERR_CORRUPT_MESSAGE);
        assert_int_equal(pos, first);                       /* not advanced on error */
    }
}

static void test_next_reports_corruption_in_the_middle(void **state)
{
    (void)state;
    uint8_t buf[2048];
    size_t a = build_batch(buf, &three);
    size_t b = build_batch(buf + a, &three);
    size_t c = build_batch(buf + a + b, &three);
    buf[a + 40] ^= 0x10;                                    /* inside the 2nd batch's CRC range */
    size_t pos = 0;
    kl_batch_header_t h;
    assert_int_equal(batch_next(buf, a + b + c, &pos, &h), KL_OK);
    assert_int_equal(batch_next(buf, a + b + c, &pos, &h), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(pos, a);
}

/* ---- real producers' batches ---------------------------------------------------- */

/* The Produce v7 frames of kcat, kafka-python and KafkaJS: test/fixtures/client_frames.h. */

typedef struct found_batch {
    const uint8_t *at;
    size_t len;
    int32_t partition;
} found_batch_t;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The record sets of a Produce v7 request (non-flexible: int16-length strings):
 * header (api_key, api_version, correlation_id, client_id), transactional_id, acks,
 * timeout_ms, [topic name, [partition index, records (int32 length + bytes)]].
 * Returns how many were found; the walk must end exactly at the frame's end. */
static int produce_v7_batches(const uint8_t *req, size_t len, found_batch_t *out, int max)
{
    size_t pos = 8;
    pos += 2 + rd16(req + pos);                             /* client_id */
    uint16_t txn = rd16(req + pos);
    pos += 2 + (txn == 0xffff ? 0 : txn);                   /* transactional_id */
    pos += 2 + 4;                                           /* acks, timeout_ms */
    uint32_t topics = rd32(req + pos);
    pos += 4;
    int found = 0;
    for (uint32_t t = 0; t < topics; t++) {
        pos += 2 + rd16(req + pos);                         /* topic name */
        uint32_t parts = rd32(req + pos);
        pos += 4;
        for (uint32_t p = 0; p < parts && found < max; p++) {
            out[found].partition = (int32_t)rd32(req + pos);
            out[found].len = rd32(req + pos + 4);
            out[found].at = req + pos + 8;
            pos += 8 + out[found].len;
            found++;
        }
    }
    assert_int_equal(pos, len);
    return found;
}

/* What every real batch must satisfy, whoever produced it. */
static void check_real_batch(const found_batch_t *fb, int32_t records, int compression)
{
    kl_batch_header_t h;
    size_t pos = 0;
    assert_int_equal(batch_next(fb->at, fb->len, &pos, &h), KL_OK);
    assert_int_equal(pos, fb->len);                         /* one batch per record set */
    assert_int_equal(h.magic, 2);
    assert_int_equal(h.base_offset, 0);                     /* producers send 0 */
    assert_int_equal(h.records_count, records);
    assert_int_equal(batch_record_span(&h), records);
    assert_int_equal(batch_compression(&h), compression);
    assert_int_equal(h.producer_id, -1);                    /* not idempotent */
    assert_true(h.max_timestamp >= h.base_timestamp);
}

/* Truncations and corruptions of a real batch (copied: fixtures are const). */
static void check_real_batch_damage(const found_batch_t *fb)
{
    uint8_t copy[1024];
    kl_batch_header_t h;
    assert_true(fb->len <= sizeof copy);
    memcpy(copy, fb->at, fb->len);
    for (size_t len = 0; len < fb->len; len++)
        assert_int_equal(batch_validate(copy, len, &h), KL_ERR_CORRUPT_MESSAGE);
    for (size_t i = 17; i < fb->len; i++) {
        copy[i] ^= 0x01;
        assert_int_equal(batch_validate(copy, fb->len, &h), KL_ERR_CORRUPT_MESSAGE);
        copy[i] ^= 0x01;
    }
    batch_set_base_offset(copy, 41);
    assert_int_equal(batch_validate(copy, fb->len, &h), KL_OK);
    assert_int_equal(batch_last_offset(&h), 41 + h.last_offset_delta);
}

static void test_kcat_batch(void **state)
{
    (void)state;
    found_batch_t fb[4];
    assert_int_equal(produce_v7_batches(KCAT_006_PRODUCE_V7_REQ, sizeof KCAT_006_PRODUCE_V7_REQ,
                                        fb, 4), 1);
    assert_int_equal(fb[0].partition, 1);
    assert_int_equal(fb[0].len, 122);
    check_real_batch(&fb[0], 3, KL_COMPRESSION_NONE);
    check_real_batch_damage(&fb[0]);
}

static void test_kcat_gzip_batch(void **state)
{
    (void)state;
    found_batch_t fb[4];
    assert_int_equal(produce_v7_batches(KCAT_017_PRODUCE_V7_REQ, sizeof KCAT_017_PRODUCE_V7_REQ,
                                        fb, 4), 1);
    assert_int_equal(fb[0].partition, 2);
    check_real_batch(&fb[0], 2, KL_COMPRESSION_GZIP);
    /* the records are a gzip stream (magic 1f 8b) right after the header */
    assert_int_equal(fb[0].at[61], 0x1f);
    assert_int_equal(fb[0].at[62], 0x8b);
    check_real_batch_damage(&fb[0]);
}

static void test_kafka_python_batches(void **state)
{
    (void)state;
    found_batch_t fb[4];
    assert_int_equal(produce_v7_batches(KPY_004_PRODUCE_V7_REQ,
                                        sizeof KPY_004_PRODUCE_V7_REQ, fb, 4), 2);
    assert_int_equal(fb[0].partition, 0);
    assert_int_equal(fb[1].partition, 2);
    check_real_batch(&fb[0], 2, KL_COMPRESSION_NONE);
    check_real_batch(&fb[1], 3, KL_COMPRESSION_NONE);
    check_real_batch_damage(&fb[0]);
    check_real_batch_damage(&fb[1]);
}

static void test_kafkajs_batches(void **state)
{
    (void)state;
    found_batch_t fb[4];
    assert_int_equal(produce_v7_batches(KJS_003_PRODUCE_V7_REQ, sizeof KJS_003_PRODUCE_V7_REQ,
                                        fb, 4), 3);
    int32_t expected_records[3] = { 3, 1, 1 };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fb[i].partition, i);
        check_real_batch(&fb[i], expected_records[i], KL_COMPRESSION_NONE);
        check_real_batch_damage(&fb[i]);
    }
}

/* A log segment is batches back to back: concatenate all real ones and walk them. */
static void test_next_over_concatenated_real_batches(void **state)
{
    (void)state;
    found_batch_t fb[8];
    int n = produce_v7_batches(KJS_003_PRODUCE_V7_REQ, sizeof KJS_003_PRODUCE_V7_REQ, fb, 8);
    n += produce_v7_batches(KPY_004_PRODUCE_V7_REQ, sizeof KPY_004_PRODUCE_V7_REQ,
                            fb + n, 8 - n);
    uint8_t seg[4096];
    size_t len = 0;
    int64_t next_offset = 0;
    for (int i = 0; i < n; i++) {
        memcpy(seg + len, fb[i].at, fb[i].len);
        kl_batch_header_t h;
        assert_int_equal(batch_header_parse(seg + len, fb[i].len, &h), KL_OK);
        batch_set_base_offset(seg + len, next_offset);      /* what append does */
        next_offset += batch_record_span(&h);
        len += fb[i].len;
    }
    size_t pos = 0;
    int64_t expect = 0;
    int seen = 0;
    while (pos < len) {
        kl_batch_header_t h;
        assert_int_equal(batch_next(seg, len, &pos, &h), KL_OK);
        assert_true(h.base_offset == expect);
        expect = batch_last_offset(&h) + 1;
        seen++;
    }
    assert_int_equal(seen, n);
    assert_true(expect == next_offset);
    assert_true(expect == 3 + 1 + 1 + 2 + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_be_reads_known_bytes),
        cmocka_unit_test(test_be_write_read_round_trip),
        cmocka_unit_test(test_parse_decodes_every_field),
        cmocka_unit_test(test_decode_reads_the_61_bytes_as_they_are),
        cmocka_unit_test(test_decode_of_the_header_alone_matches_parse),
        cmocka_unit_test(test_attribute_accessors),
        cmocka_unit_test(test_validate_accepts_hand_made_batches),
        cmocka_unit_test(test_trailing_bytes_are_not_part_of_the_batch),
        cmocka_unit_test(test_short_buffer_is_corrupt),
        cmocka_unit_test(test_truncation_at_every_length_is_corrupt),
        cmocka_unit_test(test_old_magic_is_unsupported_format),
        cmocka_unit_test(test_batch_length_bounds),
        cmocka_unit_test(test_crc_mismatch_is_corrupt),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_negative_last_offset_delta_is_corrupt),
        cmocka_unit_test(test_record_count_mismatch_is_invalid_record),
        cmocka_unit_test(test_set_base_offset_keeps_batch_valid),
        cmocka_unit_test(test_next_walks_a_sequence),
        cmocka_unit_test(test_next_stops_at_torn_tail),
        cmocka_unit_test(test_next_reports_corruption_in_the_middle),
        cmocka_unit_test(test_kcat_batch),
        cmocka_unit_test(test_kcat_gzip_batch),
        cmocka_unit_test(test_kafka_python_batches),
        cmocka_unit_test(test_kafkajs_batches),
        cmocka_unit_test(test_next_over_concatenated_real_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
