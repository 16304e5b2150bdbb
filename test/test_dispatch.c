/*
 * test/test_dispatch.c — unit tests of infrastructure/protocol/dispatch.c: unknown API
 * keys and unsupported versions close the connection (with a log line), ApiVersions at
 * an unknown version gets the KIP-511 v0 answer, the response frame (size prefix,
 * correlation id, header version — DeleteTopics v4 is the first flexible one after
 * ApiVersions) around a handler's body, and what happens to `out`
 * when a handler parks, stays silent, closes or reads a malformed body.
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

/* Weak stand-ins for the handlers other modules implement: the linker uses them
 * instead of pulling the real ones out of libklamm.a, so dispatch is tested alone. */
#define STUB(fn) __attribute__((weak)) kl_reply_t fn(kl_request_t *q, kl_reader_t *b, \
    kl_writer_t *o) { (void)q; (void)b; (void)o; return KL_REPLY_CLOSE; }
STUB(produce_handle)
STUB(fetch_handle)
STUB(list_offsets_handle)
STUB(create_topics_handle)

/* DeleteTopics (v0..v5, flexible from v4): answers whether dispatch called it flexible,
 * then the first body byte — which is only right if the header's tags were skipped. */
__attribute__((weak)) kl_reply_t delete_topics_handle(kl_request_t *req, kl_reader_t *body,
                                                      kl_writer_t *out)
{
    wr_i8(out, req->flexible);
    wr_i8(out, rd_i8(body));
    return rd_ok(body) ? KL_REPLY_SEND : KL_REPLY_CLOSE;
}

/* A scripted Metadata (v0..v8, not flexible) handler: the first body byte says what to
 * do, so the tests need no mutable state. */
enum { DO_SEND, DO_PARK, DO_NONE, DO_CLOSE, DO_MALFORMED, DO_SEND_MALFORMED, DO_MUTATE,
       DO_SPLICE, DO_SPLICE_PARK, DO_SPLICE_MAX, DO_SPLICE_HUGE };

/* The file ranges DO_SPLICE puts into the body, as Fetch does (zero copy): by reference,
 * never read here (the descriptor numbers are made up). */
#define SPLICE_A 300
#define SPLICE_B 7

__attribute__((weak)) kl_reply_t metadata_handle(kl_request_t *req, kl_reader_t *body,
                                                 kl_writer_t *out)
{
    const uint8_t *first = body->buf;
    int8_t what = rd_i8(body);
    wr_i32(out, 0x0a0b0c0d);                  /* something to be discarded or sent */
    switch (what) {
    case DO_SEND:
        wr_i16(out, req->header.api_version);
        return KL_REPLY_SEND;
    case DO_PARK:
        req->park_until_ms = 100;
        return KL_REPLY_PARK;
    case DO_NONE:
        return KL_REPLY_NONE;
    case DO_MALFORMED:
        (void)rd_i64(body);
        return rd_ok(body) ? KL_REPLY_SEND : KL_REPLY_CLOSE;
    case DO_SEND_MALFORMED:
        (void)rd_i64(body);
        return KL_REPLY_SEND;                 /* a buggy handler ignoring rd_ok() */
    case DO_MUTATE:
        ((uint8_t *)first)[1] = 0xee;         /* the frame is the connection's buffer */
        return KL_REPLY_SEND;
    case DO_SPLICE:                           /* memory, range, memory, range, range */
        wr_splice(out, 90, 4096, SPLICE_A);
        wr_i16(out, 0x0e0f);
        wr_splice(out, 91, 0, SPLICE_B);
        wr_splice(out, 90, 0, 1);
        return KL_REPLY_SEND;
    case DO_SPLICE_PARK:
        wr_splice(out, 90, 4096, SPLICE_A);
        req->park_until_ms = 100;
        return KL_REPLY_PARK;
    case DO_SPLICE_MAX:                       /* with the 8 bytes after the size: INT32_MAX */
        wr_splice(out, 90, 0, (size_t)INT32_MAX - 8);
        return KL_REPLY_SEND;
    case DO_SPLICE_HUGE:                      /* one more: past INT32_MAX */
        wr_splice(out, 90, 0, (size_t)INT32_MAX - 7);
        return KL_REPLY_SEND;
    default:
        return KL_REPLY_CLOSE;
    }
}

/* ---- fixture: a request and a memory logger -------------------------------------- */

typedef struct fixture {
    kl_request_t req;
    kl_log_t log;
    char *text;
    size_t size;
    kl_writer_t out;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->log.out = open_memstream(&f->text, &f->size);
    f->log.level = KL_LOG_DEBUG;
    f->req.broker = NULL;                      /* ApiVersions needs no broker */
    f->req.log = &f->log;
    wr_init(&f->out);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    fclose(f->log.out);
    free(f->text);
    wr_free(&f->out);
    free(f);
    return 0;
}

static const char *logged(fixture_t *f)
{
    fflush(f->log.out);
    return f->text != NULL ? f->text : "";
}

static int32_t be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static int16_t be16(const uint8_t *p)
{
    return (int16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Metadata v`version`, correlation id 5, client "c", then a body of `what` + 3 bytes. */
static size_t metadata_frame(uint8_t *buf, int16_t version, uint8_t what)
{
    const uint8_t frame[] = { 0x00, 0x03, 0x00, (uint8_t)version, 0x00, 0x00, 0x00, 0x05,
                              0x00, 0x01, 'c', what, 0x01, 0x02, 0x03 };
    memcpy(buf, frame, sizeof frame);
    return sizeof frame;
}

/* ---- unknown keys, unsupported versions, malformed headers ----------------------- */

static void test_unknown_api_key_closes(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[] = { 0x03, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01, 'x' };
    wr_i32(&f->out, 1234);                     /* stale content must go */
    assert_int_equal(protocol_dispatch(&f->req, frame, sizeof frame, &f->out), KL_REPLY_CLOSE);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(f->req.header.api_key, 999);
    assert_int_equal(f->req.header.correlation_id, 9);
    assert_non_null(strstr(logged(f), "WARN"));
    assert_non_null(strstr(logged(f), "unknown api key 999"));
    assert_non_null(strstr(logged(f), "correlation id 9"));
}

static void test_truncated_header_closes(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[] = { 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 'r', 'd' };
    for (size_t cut = 0; cut <= sizeof frame; cut++) {
        assert_int_equal(protocol_dispatch(&f->req, frame, cut, &f->out), KL_REPLY_CLOSE);
        assert_int_equal(f->out.len, 0);
    }
    assert_non_null(strstr(logged(f), "malformed request header"));
    /* No frame at all. */
    assert_int_equal(protocol_dispatch(&f->req, NULL, 0, &f->out), KL_REPLY_CLOSE);
}

static void test_unsupported_version_of_other_api_closes(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 9, DO_SEND);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_CLOSE);
    assert_int_equal(f->out.len, 0);
    assert_non_null(strstr(logged(f), "Metadata v9 not supported"));
    n = metadata_frame(frame, -1, DO_SEND);
    frame[2] = 0xff;                           /* version -1 */
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_CLOSE);
}

static void test_api_versions_unsupported_version_gets_v0_error(void **state)
{
    fixture_t *f = *state;
    /* ApiVersions v4 (header v2: tag byte), correlation id 3, client "k", v4 body. */
    uint8_t frame[] = { 0x00, 0x12, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 'k', 0x00,
                        0x02, 'a', 0x02, 'b', 0x00 };
    assert_int_equal(protocol_dispatch(&f->req, frame, sizeof frame, &f->out), KL_REPLY_SEND);
    size_t count = 0;
    const kl_api_t *apis = api_table_all(&count);
    const uint8_t *p = f->out.buf;
    /* size, correlation id (header v0: no tags), error 35, int32 count, 6-byte entries. */
    assert_int_equal(f->out.len, 4 + 4 + 2 + 4 + 6 * count);
    assert_int_equal(be32(p), (int32_t)(f->out.len - 4));
    assert_int_equal(be32(p + 4), 3);
    assert_int_equal(be16(p + 8), 35);
    assert_int_equal(be32(p + 10), (int32_t)count);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(be16(p + 14 + 6 * i), apis[i].key);
        assert_int_equal(be16(p + 16 + 6 * i), apis[i].min_version);
        assert_int_equal(be16(p + 18 + 6 * i), apis[i].max_version);
    }
}

/* ---- the response frame around a handler --------------------------------------- */

static void test_response_frame_v0_header(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 8, DO_SEND);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_SEND);
    const uint8_t want[] = { 0, 0, 0, 10, 0, 0, 0, 5, 0x0a, 0x0b, 0x0c, 0x0d, 0, 8 };
    assert_int_equal(f->out.len, sizeof want);
    assert_memory_equal(f->out.buf, want, sizeof want);
    assert_false(f->req.flexible);
    assert_int_equal(f->req.header.api_key, KL_API_METADATA);
    assert_int_equal(f->req.header.client_id.len, 1);
}

/* DeleteTopics v4 is flexible (KIP-482): request header v2 (its tag section after the
 * client id is skipped) and response header v1 (a tag section after the correlation id);
 * v3 is not: header v1 in, header v0 out. */
static void test_flexible_delete_topics_uses_header_v2_and_response_header_v1(void **state)
{
    fixture_t *f = *state;
    uint8_t v4[] = { 0x00, 0x14, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01, 'c', 0x00,
                     0x7a };
    assert_int_equal(protocol_dispatch(&f->req, v4, sizeof v4, &f->out), KL_REPLY_SEND);
    const uint8_t want4[] = { 0, 0, 0, 7, 0, 0, 0, 6, 0x00, 0x01, 0x7a };
    assert_int_equal(f->out.len, sizeof want4);
    assert_memory_equal(f->out.buf, want4, sizeof want4);
    assert_true(f->req.flexible);

    uint8_t v3[] = { 0x00, 0x14, 0x00, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01, 'c', 0x7a };
    wr_reset(&f->out);
    assert_int_equal(protocol_dispatch(&f->req, v3, sizeof v3, &f->out), KL_REPLY_SEND);
    const uint8_t want3[] = { 0, 0, 0, 6, 0, 0, 0, 6, 0x00, 0x7a };
    assert_int_equal(f->out.len, sizeof want3);
    assert_memory_equal(f->out.buf, want3, sizeof want3);
    assert_false(f->req.flexible);
}

/* Zero-copy Fetch: the size prefix counts the file ranges spliced into the body too
 * (memory bytes after the prefix + spliced bytes); the memory bytes are the frame's. */
static void test_size_prefix_counts_spliced_ranges(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 8, DO_SPLICE);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_SEND);
    const uint8_t mem[] = { 0, 0, 0, 0, 0, 0, 0, 5, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
    assert_int_equal(f->out.len, sizeof mem);
    assert_memory_equal(f->out.buf + 4, mem + 4, sizeof mem - 4);
    assert_int_equal(f->out.nsplices, 3);
    assert_int_equal(f->out.spliced, SPLICE_A + SPLICE_B + 1);
    assert_int_equal(be32(f->out.buf), (int32_t)(sizeof mem - 4 + SPLICE_A + SPLICE_B + 1));
    assert_int_equal(be32(f->out.buf), (int32_t)(wr_total(&f->out) - 4));
    assert_int_equal(f->out.splices[0].at, 12);          /* where the handler put them */
    assert_int_equal(f->out.splices[1].at, 14);
    assert_int_equal(f->out.splices[2].at, 14);

    /* the next response starts clean: no range of the last one left over */
    n = metadata_frame(frame, 8, DO_SEND);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_SEND);
    assert_int_equal(f->out.nsplices, 0);
    assert_int_equal(f->out.spliced, 0);
    assert_int_equal(be32(f->out.buf), 10);
}

/* A handler that spliced and then parks leaves `out` empty, ranges included. */
static void test_park_after_splice_leaves_no_range(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 8, DO_SPLICE_PARK);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_PARK);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(f->out.nsplices, 0);
    assert_int_equal(wr_total(&f->out), 0);
}

/* Spliced bytes count toward the int32 size limit: up to INT32_MAX the response is
 * framed; past it the response cannot be, so the connection closes (logged) and `out` is
 * left empty. (Metadata v8: header v0, so 8 memory bytes follow the size.) */
static void test_spliced_response_past_int32_closes(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 8, DO_SPLICE_MAX);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_SEND);
    assert_int_equal(be32(f->out.buf), INT32_MAX);
    n = metadata_frame(frame, 8, DO_SPLICE_HUGE);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_CLOSE);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(f->out.nsplices, 0);
    assert_int_equal(wr_total(&f->out), 0);
    assert_non_null(strstr(logged(f), "cannot build response to api 3 v8"));
}

static void test_handler_park_none_close_leave_out_empty(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 1, DO_PARK);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_PARK);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(f->req.park_until_ms, 100);
    n = metadata_frame(frame, 1, DO_NONE);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_NONE);
    assert_int_equal(f->out.len, 0);
    n = metadata_frame(frame, 1, DO_CLOSE);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_CLOSE);
    assert_int_equal(f->out.len, 0);
    assert_non_null(strstr(logged(f), "refused Metadata v1 request (correlation id 5, client c)"));
}

static void test_malformed_body_closes_with_log(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 4, DO_MALFORMED);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_CLOSE);
    assert_int_equal(f->out.len, 0);
    assert_non_null(strstr(logged(f), "malformed Metadata v4 request (correlation id 5"));
}

static void test_send_with_failed_reader_is_closed(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 4, DO_SEND_MALFORMED);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_CLOSE);
    assert_int_equal(f->out.len, 0);
    assert_non_null(strstr(logged(f), "malformed Metadata v4"));
}

static void test_handler_may_modify_frame(void **state)
{
    fixture_t *f = *state;
    uint8_t frame[32];
    size_t n = metadata_frame(frame, 3, DO_MUTATE);
    assert_int_equal(protocol_dispatch(&f->req, frame, n, &f->out), KL_REPLY_SEND);
    assert_int_equal(frame[12], 0xee);         /* body byte 1, rewritten in place */
}

static void test_response_header_version(void **state)
{
    (void)state;
    const kl_api_t produce_v9 = { KL_API_PRODUCE, "Produce", 3, 9, 9, NULL };
    assert_false(protocol_response_header_flexible(&produce_v9, 8));
    assert_true(protocol_response_header_flexible(&produce_v9, 9));
    const kl_api_t *av = api_table_find(KL_API_API_VERSIONS);
    assert_false(protocol_response_header_flexible(av, 3));   /* KIP-511: always v0 */
    assert_false(protocol_response_header_flexible(api_table_find(KL_API_METADATA), 8));
    const kl_api_t *dt = api_table_find(KL_API_DELETE_TOPICS);
    assert_false(protocol_response_header_flexible(dt, 3));
    assert_true(protocol_response_header_flexible(dt, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unknown_api_key_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_header_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_version_of_other_api_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_versions_unsupported_version_gets_v0_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_frame_v0_header, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_flexible_delete_topics_uses_header_v2_and_response_header_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_prefix_counts_spliced_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park_after_splice_leaves_no_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spliced_response_past_int32_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_park_none_close_leave_out_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_body_closes_with_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_with_failed_reader_is_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_may_modify_frame, setup, teardown),
        cmocka_unit_test(test_response_header_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
