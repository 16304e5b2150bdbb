/*
 * test/test_request_header.c — unit tests of infrastructure/protocol/request_header.c:
 * header v1 and v2 (KIP-482 tags, KIP-511 classic client_id), null client id, unknown
 * API keys, truncated headers; frames captured from kcat, KafkaJS and kafka-python.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "infrastructure/protocol/api.h"

/* The API table names every handler; the ones other modules implement are stubbed
 * weakly so this test links whether or not those modules exist yet (a weak definition
 * keeps the linker from pulling the real one out of libklamm.a). */
#define STUB(fn) __attribute__((weak)) kl_reply_t fn(kl_request_t *q, kl_reader_t *b, \
    kl_writer_t *o) { (void)q; (void)b; (void)o; return KL_REPLY_CLOSE; }
STUB(metadata_handle)
STUB(produce_handle)
STUB(fetch_handle)
STUB(list_offsets_handle)
STUB(create_topics_handle)

/* kcat/001-ApiVersions-v3.req.bin: header v2 (ApiVersions v3 is flexible). */
static const uint8_t kcat_api_versions_v3[] = {
    0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 'r', 'd', 'k', 'a',
    'f', 'k', 'a', 0x00, 0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a', 0x06,
    '2', '.', '0', '.', '2', 0x00,
};

/* kafkajs/001-ApiVersions-v2.req.bin: header v1, empty body. */
static const uint8_t kafkajs_api_versions_v2[] = {
    0x00, 0x12, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 'k', 'j', 's',
};

static void test_header_v1(void **state)
{
    (void)state;
    kl_reader_t r;
    kl_request_header_t h;
    const kl_api_t *api = NULL;
    rd_init(&r, kafkajs_api_versions_v2, sizeof kafkajs_api_versions_v2);
    assert_true(request_header_decode(&r, &h, &api));
    assert_int_equal(h.api_key, 18);
    assert_int_equal(h.api_version, 2);
    assert_int_equal(h.correlation_id, 0);
    assert_int_equal(h.client_id.len, 3);
    assert_memory_equal(h.client_id.ptr, "kjs", 3);
    assert_non_null(api);
    assert_int_equal(api->key, KL_API_API_VERSIONS);
    assert_int_equal(rd_remaining(&r), 0);
}

static void test_header_v2_reads_tags_and_classic_client_id(void **state)
{
    (void)state;
    kl_reader_t r;
    kl_request_header_t h;
    const kl_api_t *api = NULL;
    rd_init(&r, kcat_api_versions_v3, sizeof kcat_api_versions_v3);
    assert_true(request_header_decode(&r, &h, &api));
    assert_int_equal(h.api_key, 18);
    assert_int_equal(h.api_version, 3);
    assert_int_equal(h.correlation_id, 1);
    assert_int_equal(h.client_id.len, 7);          /* int16 length, not compact */
    assert_memory_equal(h.client_id.ptr, "rdkafka", 7);
    assert_non_null(api);
    /* Positioned at the body: the compact client_software_name "librdkafka". */
    assert_int_equal(r.pos, 18);
    kl_str_t name = rd_compact_string(&r);
    assert_int_equal(name.len, 10);
    assert_memory_equal(name.ptr, "librdkafka", 10);
}

static void test_header_v2_skips_unknown_tags(void **state)
{
    (void)state;
    const uint8_t frame[] = {
        0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x01, 'c',
        0x02, 0x05, 0x01, 0xaa, 0x07, 0x00,          /* two unknown tags */
        0x99,                                        /* first body byte */
    };
    kl_reader_t r;
    kl_request_header_t h;
    const kl_api_t *api = NULL;
    rd_init(&r, frame, sizeof frame);
    assert_true(request_header_decode(&r, &h, &api));
    assert_int_equal(h.correlation_id, 42);
    assert_int_equal(rd_i8(&r), (int8_t)0x99);
    assert_true(rd_ok(&r));
}

static void test_v1_header_does_not_read_tags(void **state)
{
    (void)state;
    /* Metadata v2 (not flexible): the byte after client_id belongs to the body. */
    const uint8_t frame[] = {
        0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 'c', 0x00, 0x00, 0x00, 0x00,
    };
    kl_reader_t r;
    kl_request_header_t h;
    const kl_api_t *api = NULL;
    rd_init(&r, frame, sizeof frame);
    assert_true(request_header_decode(&r, &h, &api));
    assert_int_equal(api->key, KL_API_METADATA);
    assert_int_equal(r.pos, 11);
    assert_int_equal(rd_array_len(&r), 0);
}

static void test_null_client_id(void **state)
{
    (void)state;
    const uint8_t frame[] = { 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff };
    kl_reader_t r;
    kl_request_header_t h;
    const kl_api_t *api = NULL;
    rd_init(&r, frame, sizeof frame);
    assert_true(request_header_decode(&r, &h, &api));
    assert_int_equal(h.client_id.len, -1);
    assert_null(h.client_id.ptr);
    assert_int_equal(h.correlation_id, 7);
}

static void test_unknown_key_decoded_as_v1(void **state)
{
    (void)state;
    /* api key 999, version 0, correlation id 77, client "x"; then bytes. */
    const uint8_t frame[] = { 0x03, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4d, 0x00, 0x01, 'x', 0x01 };
    kl_reader_t r;
    kl_request_header_t h;
    const kl_api_t *api = (const kl_api_t *)&h;      /* must be overwritten */
    rd_init(&r, frame, sizeof frame);
    assert_true(request_header_decode(&r, &h, &api));
    assert_null(api);
    assert_int_equal(h.api_key, 999);
    assert_int_equal(h.correlation_id, 77);
    assert_int_equal(r.pos, 11);
}

static void test_truncated_headers_fail(void **state)
{
    (void)state;
    /* Every strict prefix of the header (18 bytes in the v2 case) must fail. */
    for (size_t cut = 0; cut < 18; cut++) {
        kl_reader_t r;
        kl_request_header_t h;
        const kl_api_t *api = NULL;
        rd_init(&r, kcat_api_versions_v3, cut);
        assert_false(request_header_decode(&r, &h, &api));
    }
    for (size_t cut = 0; cut < sizeof kafkajs_api_versions_v2; cut++) {
        kl_reader_t r;
        kl_request_header_t h;
        const kl_api_t *api = NULL;
        rd_init(&r, kafkajs_api_versions_v2, cut);
        assert_false(request_header_decode(&r, &h, &api));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_v1),
        cmocka_unit_test(test_header_v2_reads_tags_and_classic_client_id),
        cmocka_unit_test(test_header_v2_skips_unknown_tags),
        cmocka_unit_test(test_v1_header_does_not_read_tags),
        cmocka_unit_test(test_null_client_id),
        cmocka_unit_test(test_unknown_key_decoded_as_v1),
        cmocka_unit_test(test_truncated_headers_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
