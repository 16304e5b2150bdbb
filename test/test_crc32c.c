/*
 * test/test_crc32c.c — unit tests of domain/crc32c.c: the standard check values, a
 * bit-at-a-time reference over data that reaches every table entry, incremental
 * extension, and the CRC a real producer (kcat/librdkafka) put in a record batch.
 * The hardware (SSE 4.2) and portable implementations are each checked against the
 * bit-at-a-time reference, at every length and alignment around their 8-byte blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "domain/crc32c.h"

/* The definition, one bit at a time: reflected polynomial 0x82F63B78, init and final
 * xor all ones. Independent of the tables in crc32c.c. */
static uint32_t reference_crc32c(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1u) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

/* Deterministic pseudo-random bytes (xorshift32), so a failure is reproducible. */
static void fill_pseudo_random(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static void test_check_value_123456789(void **state)
{
    (void)state;
    assert_int_equal(kl_crc32c(0, "123456789", 9), 0xe3069283u);
}

static void test_32_zero_bytes(void **state)
{
    (void)state;
    uint8_t zeros[32] = { 0 };
    assert_int_equal(kl_crc32c(0, zeros, sizeof zeros), 0x8a9136aau);
}

/* RFC 3720 appendix B.4 vectors: 32 bytes of 0xff, and 0x00..0x1f ascending. */
static void test_rfc3720_vectors(void **state)
{
    (void)state;
    uint8_t ones[32], up[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++)
        up[i] = (uint8_t)i;
    assert_int_equal(kl_crc32c(0, ones, sizeof ones), 0x62a8ab43u);
    assert_int_equal(kl_crc32c(0, up, sizeof up), 0x46dd794eu);
}

static void test_empty_input_keeps_crc(void **state)
{
    (void)state;
    assert_int_equal(kl_crc32c(0, "", 0), 0u);
    assert_int_equal(kl_crc32c(0x12345678u, "", 0), 0x12345678u);
}

/* 64 KiB of pseudo-random data is ~8k slicing blocks: every entry of the eight tables
 * is looked up many times, so a single wrong constant would show here. */
static void test_matches_bitwise_reference_on_large_buffer(void **state)
{
    (void)state;
    uint8_t buf[65536];
    fill_pseudo_random(buf, sizeof buf, 0x9e3779b9u);
    assert_int_equal(kl_crc32c(0, buf, sizeof buf), reference_crc32c(buf, sizeof buf));
}

/* Every length 0..80 at every start offset 0..7: covers head/tail handling around the
 * 8-byte blocks. */
static void test_matches_reference_all_lengths_and_offsets(void **state)
{
    (void)state;
    uint8_t buf[96];
    fill_pseudo_random(buf, sizeof buf, 12345u);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 80; len++)
            assert_int_equal(kl_crc32c(0, buf + off, len), reference_crc32c(buf + off, len));
}

static void test_incremental_equals_one_shot(void **state)
{
    (void)state;
    uint8_t buf[300];
    fill_pseudo_random(buf, sizeof buf, 777u);
    uint32_t whole = kl_crc32c(0, buf, sizeof buf);
    for (size_t split = 0; split <= sizeof buf; split++) {
        uint32_t part = kl_crc32c(0, buf, split);
        assert_int_equal(kl_crc32c(part, buf + split, sizeof buf - split), whole);
    }
    /* three pieces, too */
    uint32_t c = kl_crc32c(0, "1234", 4);
    c = kl_crc32c(c, "5", 1);
    c = kl_crc32c(c, "6789", 4);
    assert_int_equal(c, 0xe3069283u);
}

static void test_single_bit_flip_changes_crc(void **state)
{
    (void)state;
    uint8_t buf[64];
    fill_pseudo_random(buf, sizeof buf, 4242u);
    uint32_t good = kl_crc32c(0, buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(kl_crc32c(0, buf, sizeof buf), good);
            buf[i] ^= (uint8_t)(1u << bit);
        }
}

/* fixtures/kcat/006-Produce-v7.req.bin (170 bytes) */
static const uint8_t kcat_produce_v7[] = {
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x04, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x75,
    0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x74, 0x6f, 0x70, 0x69, 0x63,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x7a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6e,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x05, 0x75, 0x95, 0xb8, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0xa2, 0x07, 0x17, 0xcb, 0x05, 0x00,
    0x00, 0x01, 0xa2, 0x07, 0x17, 0xcb, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x03, 0x26, 0x00, 0x00, 0x00, 0x08, 0x6b, 0x65, 0x79, 0x31, 0x12, 0x76,
    0x61, 0x6c, 0x75, 0x65, 0x2d, 0x6f, 0x6e, 0x65, 0x00, 0x26, 0x00, 0x00,
    0x02, 0x08, 0x6b, 0x65, 0x79, 0x32, 0x12, 0x76, 0x61, 0x6c, 0x75, 0x65,
    0x2d, 0x74, 0x77, 0x6f, 0x00, 0x28, 0x00, 0x00, 0x04, 0x08, 0x6b, 0x65,
    0x79, 0x35, 0x14, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x2d, 0x66, 0x69, 0x76,
    0x65, 0x00,
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the record batch starts in a Produce v7 request with one topic and one
 * partition (non-flexible versions, so plain int16-length strings):
 *   api_key i16, api_version i16, correlation_id i32, client_id string,
 *   transactional_id nullable string, acks i16, timeout_ms i32,
 *   [topics] i32 count, name string, [partitions] i32 count, index i32,
 *   records: i32 length, then the batch. */
static size_t produce_v7_first_batch(const uint8_t *req, uint32_t *records_len)
{
    size_t pos = 8;
    pos += 2 + be16(req + pos);                 /* client_id */
    uint16_t txn = be16(req + pos);             /* -1 (0xffff) = null */
    pos += 2 + (txn == 0xffff ? 0 : txn);
    pos += 2 + 4 + 4;                           /* acks, timeout, topic count */
    pos += 2 + be16(req + pos);                 /* topic name */
    pos += 4 + 4;                               /* partition count, index */
    *records_len = be32(req + pos);
    return pos + 4;
}

/* The CRC field (batch bytes 17..20) covers batch bytes 21 to the end: KIP-98. */
static void test_crc_of_real_kcat_batch(void **state)
{
    (void)state;
    uint32_t len = 0;
    size_t at = produce_v7_first_batch(kcat_produce_v7, &len);
    assert_int_equal(at, 48);
    assert_int_equal(at + len, sizeof kcat_produce_v7);
    const uint8_t *batch = kcat_produce_v7 + at;
    assert_int_equal(batch[16], 2);             /* magic: it is a v2 batch */
    uint32_t stored = be32(batch + 17);
    assert_int_equal(stored, 0x057595b8u);
    assert_int_equal(kl_crc32c(0, batch + 21, len - 21), stored);
    assert_int_equal(reference_crc32c(batch + 21, len - 21), stored);
}

/* Every implementation, pinned, over every length 0..200 at every start offset 0..15.
 * (One the CPU lacks runs the next best, so this passes everywhere and tests what runs.) */
static void test_each_impl_matches_reference(void **state)
{
    (void)state;
    uint8_t buf[224];
    fill_pseudo_random(buf, sizeof buf, 31337u);
    const kl_crc32c_impl_t impls[] = { KL_CRC32C_PORTABLE, KL_CRC32C_SSE42, KL_CRC32C_VPCLMUL };
    for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++)
        for (size_t off = 0; off < 16; off++)
            for (size_t len = 0; len <= 200; len++)
                assert_int_equal(kl_crc32c_with(impls[k], 0, buf + off, len),
                                 reference_crc32c(buf + off, len));
}

/* The folding path (KL_CRC32C_VPCLMUL) at every length that changes its course: below
 * its 256-byte minimum, one 256-byte round, rounds plus 64-byte and 16-byte folds plus
 * a tail of 0..15 bytes (all of 0..1100), at four alignments, from a non-zero register —
 * against the bitwise reference. A wrong folding constant, lane order or tail shows here. */
static void test_fold_path_matches_reference_at_every_length(void **state)
{
    (void)state;
    static uint8_t buf[1100 + 4];
    fill_pseudo_random(buf, sizeof buf, 0x0f01d5edu);
    for (size_t off = 0; off < 4; off++)
        for (size_t len = 0; len <= 1100; len++) {
            uint32_t head = reference_crc32c(buf, 5);    /* chain on from a register != 0 */
            uint32_t want = kl_crc32c_with(KL_CRC32C_PORTABLE, head, buf + off, len);
            assert_int_equal(kl_crc32c_with(KL_CRC32C_VPCLMUL, head, buf + off, len), want);
        }
}

/* The folding path and the other two agree on 1 MiB + 7 bytes (many 256-byte rounds). */
static void test_fold_path_agrees_on_a_large_buffer(void **state)
{
    (void)state;
    static uint8_t big[(1 << 20) + 7];
    fill_pseudo_random(big, sizeof big, 0xc0ffee11u);
    uint32_t sw = kl_crc32c_with(KL_CRC32C_PORTABLE, 0, big, sizeof big);
    assert_int_equal(kl_crc32c_with(KL_CRC32C_SSE42, 0, big, sizeof big), sw);
    assert_int_equal(kl_crc32c_with(KL_CRC32C_VPCLMUL, 0, big, sizeof big), sw);
}

/* Hardware and portable agree on 1 MiB, and when chained in odd-sized pieces. */
static void test_impls_agree_on_large_and_chained(void **state)
{
    (void)state;
    static uint8_t big[1 << 20];
    fill_pseudo_random(big, sizeof big, 0xdeadbeefu);
    kl_crc32c_impl_t hw = kl_crc32c_best();
    uint32_t sw_whole = kl_crc32c_with(KL_CRC32C_PORTABLE, 0, big, sizeof big);
    assert_int_equal(kl_crc32c_with(hw, 0, big, sizeof big), sw_whole);
    uint32_t c = 0;
    for (size_t at = 0, step = 1; at < sizeof big; at += step, step = step * 3 + 1) {
        size_t n = at + step > sizeof big ? sizeof big - at : step;
        c = kl_crc32c_with((step & 1) ? hw : KL_CRC32C_PORTABLE, c, big + at, n);
    }
    assert_int_equal(c, sw_whole);
}

/* Around the hardware path's 3-way rounds (3 lanes of 8 KiB): one byte short of a round,
 * exactly one, one more, two rounds and a tail, at odd alignments, against the bitwise
 * reference (a wrong lane-shift constant would show here). */
static void test_round_boundaries_match_reference(void **state)
{
    (void)state;
    static uint8_t buf[2 * 24576 + 64];
    fill_pseudo_random(buf, sizeof buf, 0x51ed270bu);
    const size_t lens[] = { 24575, 24576, 24577, 2 * 24576 + 13 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
        for (size_t off = 0; off < 3; off++)
            assert_int_equal(kl_crc32c(0, buf + off, lens[k]), reference_crc32c(buf + off, lens[k]));
}

/* kl_crc32c is the best implementation the CPU runs: carry-less multiplication folding
 * with AVX-512 VPCLMULQDQ, else the SSE 4.2 instruction, else the tables. */
static void test_best_is_the_cpu_choice(void **state)
{
    (void)state;
#if defined(__x86_64__) && defined(__GNUC__)
    kl_crc32c_impl_t want = KL_CRC32C_PORTABLE;
    if (__builtin_cpu_supports("sse4.2"))
        want = KL_CRC32C_SSE42;
    if (want == KL_CRC32C_SSE42 && __builtin_cpu_supports("pclmul") &&
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("vpclmulqdq"))
        want = KL_CRC32C_VPCLMUL;
#else
    kl_crc32c_impl_t want = KL_CRC32C_PORTABLE;
#endif
    assert_int_equal(kl_crc32c_best(), want);
    /* Asking for either hardware path is safe everywhere: a CPU without it runs the next
     * best (a 300-byte buffer is long enough for the folding path). */
    assert_int_equal(kl_crc32c_with(KL_CRC32C_SSE42, 0, "123456789", 9), 0xe3069283u);
    uint8_t zeros[300] = {0};
    assert_int_equal(kl_crc32c_with(KL_CRC32C_VPCLMUL, 0, zeros, sizeof zeros),
                     reference_crc32c(zeros, sizeof zeros));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value_123456789),
        cmocka_unit_test(test_32_zero_bytes),
        cmocka_unit_test(test_rfc3720_vectors),
        cmocka_unit_test(test_empty_input_keeps_crc),
        cmocka_unit_test(test_matches_bitwise_reference_on_large_buffer),
        cmocka_unit_test(test_matches_reference_all_lengths_and_offsets),
        cmocka_unit_test(test_incremental_equals_one_shot),
        cmocka_unit_test(test_single_bit_flip_changes_crc),
        cmocka_unit_test(test_crc_of_real_kcat_batch),
        cmocka_unit_test(test_each_impl_matches_reference),
        cmocka_unit_test(test_fold_path_matches_reference_at_every_length),
        cmocka_unit_test(test_fold_path_agrees_on_a_large_buffer),
        cmocka_unit_test(test_impls_agree_on_large_and_chained),
        cmocka_unit_test(test_best_is_the_cpu_choice),
        cmocka_unit_test(test_round_boundaries_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
