/*
 * test/test_api_versions.c — unit tests of infrastructure/protocol/api_versions.c:
 * the ApiVersions requests captured from kcat (v3), KafkaJS (v2) and kafka-python (v0)
 * go through protocol_dispatch and the response bytes are checked field by field;
 * KIP-511 unsupported-version answer, invalid software names, malformed bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "infrastructure/protocol/api.h"
#include "test/fixtures/client_frames.h"

/* Weak stand-ins for the handlers other modules implement (see test_dispatch.c). */
#define STUB(fn) __attribute__((weak)) kl_reply_t fn(kl_request_t *q, kl_reader_t *b, \
    kl_writer_t *o) { (void)q; (void)b; (void)o; return KL_REPLY_CLOSE; }
STUB(metadata_handle)
STUB(produce_handle)
STUB(fetch_handle)
STUB(list_offsets_handle)
STUB(create_topics_handle)

/* ---- helpers -------------------------------------------------------------------- */

typedef struct fixture {
    kl_request_t req;
    kl_writer_t out;
    uint8_t frame[256];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->req.broker = NULL;                      /* ApiVersions needs no broker */
    f->req.log = NULL;
    wr_init(&f->out);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    wr_free(&f->out);
    free(f);
    return 0;
}

/* Dispatch a copy of `req` (the frame is mutable, the fixtures are const). */
static kl_reply_t dispatch(fixture_t *f, const uint8_t *req, size_t len)
{
    assert_true(len <= sizeof f->frame);
    memcpy(f->frame, req, len);
    return protocol_dispatch(&f->req, f->frame, len, &f->out);
}

/* Check the response body from `r` on: error 0 and the API table, then throttle and
 * tags as `version` says, and nothing after. */
static void assert_table_body(kl_reader_t *r, int16_t version)
{
    bool flex = version >= 3;
    size_t count = 0;
    const kl_api_t *apis = api_table_all(&count);
    assert_int_equal(rd_i16(r), 0);
    assert_int_equal(rd_arr(r, flex), (int32_t)count);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(rd_i16(r), apis[i].key);
        assert_int_equal(rd_i16(r), apis[i].min_version);
        assert_int_equal(rd_i16(r), apis[i].max_version);
        if (flex)
            assert_int_equal(rd_uvarint(r), 0);          /* entry tags: none */
    }
    if (version >= 1)
        assert_int_equal(rd_i32(r), 0);                  /* throttle_time_ms */
    if (flex)
        assert_int_equal(rd_uvarint(r), 0);              /* body tags: none */
    assert_true(rd_ok(r));
    assert_int_equal(rd_remaining(r), 0);
}

/* Size prefix and correlation id (response header v0: nothing else). */
static void assert_frame_header(fixture_t *f, kl_reader_t *r, int32_t correlation_id)
{
    rd_init(r, f->out.buf, f->out.len);
    assert_int_equal(rd_i32(r), (int32_t)f->out.len - 4);
    assert_int_equal(rd_i32(r), correlation_id);
}

/* ---- fixtures through dispatch -------------------------------------------------- */

static void test_kcat_v3(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(dispatch(f, KCAT_001_API_VERSIONS_V3_REQ,
                              sizeof KCAT_001_API_VERSIONS_V3_REQ), KL_REPLY_SEND);
    assert_true(f->req.flexible);
    kl_reader_t r;
    assert_frame_header(f, &r, 1);
    /* KIP-511: no header tag byte even though v3 is flexible: the body starts with
     * error_code 0x0000 right after the correlation id. */
    assert_int_equal(f->out.buf[8], 0x00);
    assert_int_equal(f->out.buf[9], 0x00);
    size_t count = 0;
    api_table_all(&count);
    assert_int_equal(f->out.buf[10], count + 1);       /* compact array: N+1 */
    assert_table_body(&r, 3);
    assert_int_equal(f->out.len, 4 + 4 + 2 + 1 + 7 * count + 4 + 1);
    assert_int_equal(f->out.buf[f->out.len - 1], 0x00);  /* trailing tag byte */
}

static void test_kafkajs_v2(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(dispatch(f, KJS_001_API_VERSIONS_V2_REQ,
                              sizeof KJS_001_API_VERSIONS_V2_REQ), KL_REPLY_SEND);
    assert_false(f->req.flexible);
    kl_reader_t r;
    assert_frame_header(f, &r, 0);
    assert_table_body(&r, 2);
    size_t count = 0;
    api_table_all(&count);
    assert_int_equal(f->out.len, 4 + 4 + 2 + 4 + 6 * count + 4);
}

static void test_kafka_python_v0(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(dispatch(f, KPY_001_API_VERSIONS_V0_REQ,
                              sizeof KPY_001_API_VERSIONS_V0_REQ), KL_REPLY_SEND);
    kl_reader_t r;
    assert_frame_header(f, &r, 1);
    assert_table_body(&r, 0);                             /* no throttle in v0 */
    size_t count = 0;
    api_table_all(&count);
    assert_int_equal(f->out.len, 4 + 4 + 2 + 4 + 6 * count);
    /* Exact bytes of the first entry: Produce 3..8. */
    const uint8_t produce[] = { 0x00, 0x00, 0x00, 0x03, 0x00, 0x08 };
    assert_memory_equal(f->out.buf + 14, produce, sizeof produce);
}

static void test_v1_has_throttle(void **state)
{
    fixture_t *f = *state;
    uint8_t req[sizeof KJS_001_API_VERSIONS_V2_REQ];
    memcpy(req, KJS_001_API_VERSIONS_V2_REQ, sizeof req);
    req[3] = 1;
    assert_int_equal(dispatch(f, req, sizeof req), KL_REPLY_SEND);
    kl_reader_t r;
    assert_frame_header(f, &r, 0);
    assert_table_body(&r, 1);
}

static void test_unsupported_version_4(void **state)
{
    fixture_t *f = *state;
    uint8_t req[sizeof KCAT_001_API_VERSIONS_V3_REQ];
    memcpy(req, KCAT_001_API_VERSIONS_V3_REQ, sizeof req);
    req[3] = 4;
    assert_int_equal(dispatch(f, req, sizeof req), KL_REPLY_SEND);
    kl_reader_t r;
    assert_frame_header(f, &r, 1);
    size_t count = 0;
    const kl_api_t *apis = api_table_all(&count);
    assert_int_equal(rd_i16(&r), 35);                     /* UNSUPPORTED_VERSION */
    assert_int_equal(rd_array_len(&r), (int32_t)count);   /* classic array (v0) */
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(rd_i16(&r), apis[i].key);
        assert_int_equal(rd_i16(&r), apis[i].min_version);
        assert_int_equal(rd_i16(&r), apis[i].max_version);
    }
    assert_true(rd_ok(&r));
    assert_int_equal(rd_remaining(&r), 0);                /* no throttle in v0 */
}

static void test_unknown_api_key_999_closes(void **state)
{
    fixture_t *f = *state;
    uint8_t req[sizeof KJS_001_API_VERSIONS_V2_REQ];
    memcpy(req, KJS_001_API_VERSIONS_V2_REQ, sizeof req);
    req[0] = 0x03;
    req[1] = 0xe7;
    assert_int_equal(dispatch(f, req, sizeof req), KL_REPLY_CLOSE);
    assert_int_equal(f->out.len, 0);
}

static void test_truncated_header_closes(void **state)
{
    fixture_t *f = *state;
    for (size_t cut = 0; cut < 18; cut++) {                /* header v2 is 18 bytes */
        assert_int_equal(dispatch(f, KCAT_001_API_VERSIONS_V3_REQ, cut), KL_REPLY_CLOSE);
        assert_int_equal(f->out.len, 0);
    }
}

static void test_truncated_v3_body_closes(void **state)
{
    fixture_t *f = *state;
    for (size_t cut = 18; cut < sizeof KCAT_001_API_VERSIONS_V3_REQ; cut++) {
        assert_int_equal(dispatch(f, KCAT_001_API_VERSIONS_V3_REQ, cut), KL_REPLY_CLOSE);
        assert_int_equal(f->out.len, 0);
    }
}

/* ---- the handler itself --------------------------------------------------------- */

static kl_reply_t handle_v3_body(fixture_t *f, const uint8_t *body, size_t len)
{
    kl_reader_t r;
    f->req.header.api_key = KL_API_API_VERSIONS;
    f->req.header.api_version = 3;
    f->req.flexible = true;
    rd_init(&r, body, len);
    return api_versions_handle(&f->req, &r, &f->out);
}

static void test_v3_invalid_software_name_is_invalid_request(void **state)
{
    fixture_t *f = *state;
    /* KIP-511 pattern: alphanumeric at both ends, '-' and '.' inside. */
    const uint8_t bad_name[] = { 0x05, 'l', 'i', 'b', '-', 0x02, '1', 0x00 };
    assert_int_equal(handle_v3_body(f, bad_name, sizeof bad_name), KL_REPLY_SEND);
    const uint8_t want[] = { 0x00, 0x2a, 0x01, 0, 0, 0, 0, 0x00 };  /* 42, [], throttle, tags */
    assert_int_equal(f->out.len, sizeof want);
    assert_memory_equal(f->out.buf, want, sizeof want);

    wr_reset(&f->out);
    const uint8_t empty_version[] = { 0x02, 'x', 0x01, 0x00 };
    assert_int_equal(handle_v3_body(f, empty_version, sizeof empty_version), KL_REPLY_SEND);
    assert_int_equal(f->out.buf[1], 0x2a);

    wr_reset(&f->out);
    const uint8_t space[] = { 0x04, 'a', ' ', 'b', 0x02, '1', 0x00 };
    assert_int_equal(handle_v3_body(f, space, sizeof space), KL_REPLY_SEND);
    assert_int_equal(f->out.buf[1], 0x2a);
}

static void test_v3_valid_names_accepted(void **state)
{
    fixture_t *f = *state;
    const uint8_t ok[] = { 0x08, 'a', '-', 'b', '.', 'c', '-', 'd', 0x02, '7', 0x01, 0x00, 0x00 };
    assert_int_equal(handle_v3_body(f, ok, sizeof ok), KL_REPLY_SEND);
    kl_reader_t r;
    rd_init(&r, f->out.buf, f->out.len);
    assert_table_body(&r, 3);                              /* unknown tag skipped */
}

static void test_v3_null_name_closes(void **state)
{
    fixture_t *f = *state;
    const uint8_t null_name[] = { 0x00, 0x02, '1', 0x00 };
    assert_int_equal(handle_v3_body(f, null_name, sizeof null_name), KL_REPLY_CLOSE);
}

static void test_write_unsupported_layout(void **state)
{
    fixture_t *f = *state;
    api_versions_write_unsupported(&f->out);
    size_t count = 0;
    api_table_all(&count);
    assert_int_equal(f->out.len, 2 + 4 + 6 * count);
    assert_int_equal(f->out.buf[0], 0);
    assert_int_equal(f->out.buf[1], 35);
    /* ApiVersions itself is listed, so a client can retry at our max (KIP-511). */
    bool found = false;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = f->out.buf + 6 + 6 * i;
        if (e[0] == 0 && e[1] == 18 && e[5] == 3)
            found = true;
    }
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kcat_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kafkajs_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kafka_python_v0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_has_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_version_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_api_key_999_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_header_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_v3_body_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v3_invalid_software_name_is_invalid_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v3_valid_names_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v3_null_name_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_unsupported_layout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
