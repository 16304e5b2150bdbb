/*
 * test/test_schema.c — unit tests of infrastructure/protocol/schema.c, the Kafka message
 * schemas and their interpreter:
 *  - the schema rows agree with api_table.c (names, version ranges, flexible-from);
 *  - no field is malformed or dead (its gate opens in some advertised version);
 *  - every request frame the real clients sent for an API Klamm implements (all 62
 *    such fixtures of /work/shared/fixtures: kcat, kafka-python, KafkaJS) decodes to
 *    exactly its last byte — the proof that the request schemas are right;
 *  - the 49 responses of librdkafka's mock cluster decode exactly too, except the two
 *    the mock encodes its own way (a short ApiVersions v3 error answer, and a null
 *    OffsetFetch topics array where the spec allows none), which must fail;
 *  - every strict prefix of a request fails with one TRUNCATED event, last;
 *  - version gates, nullability gates, compact encodings and tagged fields on
 *    hand-built frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "infrastructure/protocol/api.h"
#include "infrastructure/protocol/schema.h"
#include "infrastructure/protocol/wire.h"
#include "test/fixtures/client_frames.h"

/* ---- fixtures: frames captured from the clients and the mock (client_frames.h) -------- */

typedef struct fixture {
    const char *name;
    const uint8_t *frame;
    size_t len;
    int16_t key;            /* responses: the request's API key and version */
    int16_t version;
    bool conforms;          /* responses: whether the mock followed Kafka's schema */
} fixture_t;

#define FIXTURE(a, n) { n, a, sizeof a, 0, 0, true }
#define RESPONSE(a, n, k, v, ok) { n, a, sizeof a, k, v, ok }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const fixture_t requests[] = {
    FIXTURE(KPY_001_API_VERSIONS_V0_REQ, "kafka-python/001-ApiVersions-v0.req.bin"),
    FIXTURE(KPY_002_METADATA_V0_REQ, "kafka-python/002-Metadata-v0.req.bin"),
    FIXTURE(KPY_003_METADATA_V1_REQ, "kafka-python/003-Metadata-v1.req.bin"),
    FIXTURE(KPY_004_PRODUCE_V7_REQ, "kafka-python/004-Produce-v7.req.bin"),
    FIXTURE(KPY_005_FIND_COORDINATOR_V0_REQ, "kafka-python/005-FindCoordinator-v0.req.bin"),
    FIXTURE(KPY_006_METADATA_V1_REQ, "kafka-python/006-Metadata-v1.req.bin"),
    FIXTURE(KPY_007_JOIN_GROUP_V2_REQ, "kafka-python/007-JoinGroup-v2.req.bin"),
    FIXTURE(KPY_008_SYNC_GROUP_V1_REQ, "kafka-python/008-SyncGroup-v1.req.bin"),
    FIXTURE(KPY_009_OFFSET_FETCH_V1_REQ, "kafka-python/009-OffsetFetch-v1.req.bin"),
    FIXTURE(KPY_010_LIST_OFFSETS_V1_REQ, "kafka-python/010-ListOffsets-v1.req.bin"),
    FIXTURE(KPY_011_LIST_OFFSETS_V1_REQ, "kafka-python/011-ListOffsets-v1.req.bin"),
    FIXTURE(KPY_012_FETCH_V4_REQ, "kafka-python/012-Fetch-v4.req.bin"),
    FIXTURE(KPY_013_OFFSET_COMMIT_V2_REQ, "kafka-python/013-OffsetCommit-v2.req.bin"),
    FIXTURE(KPY_014_LEAVE_GROUP_V1_REQ, "kafka-python/014-LeaveGroup-v1.req.bin"),
    FIXTURE(KPY_015_METADATA_V2_REQ, "kafka-python/015-Metadata-v2.req.bin"),
    FIXTURE(KPY_016_METADATA_V2_REQ, "kafka-python/016-Metadata-v2.req.bin"),
    FIXTURE(KPY_017_OFFSET_FETCH_V3_REQ, "kafka-python/017-OffsetFetch-v3.req.bin"),
    FIXTURE(KPY_018_CREATE_TOPICS_V3_REQ, "kafka-python/018-CreateTopics-v3.req.bin"),
    FIXTURE(KPY_019_DELETE_TOPICS_V3_REQ, "kafka-python/019-DeleteTopics-v3.req.bin"),
    FIXTURE(KPY_020_LIST_GROUPS_V1_REQ, "kafka-python/020-ListGroups-v1.req.bin"),
    FIXTURE(KPY_021_DESCRIBE_GROUPS_V3_REQ, "kafka-python/021-DescribeGroups-v3.req.bin"),
    FIXTURE(KPY_025_DELETE_GROUPS_V1_REQ, "kafka-python/025-DeleteGroups-v1.req.bin"),
    FIXTURE(KPY_026_METADATA_V5_REQ, "kafka-python/026-Metadata-v5.req.bin"),
    FIXTURE(KJS_001_API_VERSIONS_V2_REQ, "kafkajs/001-ApiVersions-v2.req.bin"),
    FIXTURE(KJS_002_METADATA_V2_REQ, "kafkajs/002-Metadata-v2.req.bin"),
    FIXTURE(KJS_003_PRODUCE_V7_REQ, "kafkajs/003-Produce-v7.req.bin"),
    FIXTURE(KJS_004_FIND_COORDINATOR_V2_REQ, "kafkajs/004-FindCoordinator-v2.req.bin"),
    FIXTURE(KJS_005_JOIN_GROUP_V5_REQ, "kafkajs/005-JoinGroup-v5.req.bin"),
    FIXTURE(KJS_006_SYNC_GROUP_V3_REQ, "kafkajs/006-SyncGroup-v3.req.bin"),
    FIXTURE(KJS_007_OFFSET_FETCH_V4_REQ, "kafkajs/007-OffsetFetch-v4.req.bin"),
    FIXTURE(KJS_008_LIST_OFFSETS_V3_REQ, "kafkajs/008-ListOffsets-v3.req.bin"),
    FIXTURE(KJS_009_FETCH_V11_REQ, "kafkajs/009-Fetch-v11.req.bin"),
    FIXTURE(KJS_010_OFFSET_COMMIT_V5_REQ, "kafkajs/010-OffsetCommit-v5.req.bin"),
    FIXTURE(KJS_011_HEARTBEAT_V3_REQ, "kafkajs/011-Heartbeat-v3.req.bin"),
    FIXTURE(KJS_012_OFFSET_COMMIT_V5_REQ, "kafkajs/012-OffsetCommit-v5.req.bin"),
    FIXTURE(KJS_013_LEAVE_GROUP_V1_REQ, "kafkajs/013-LeaveGroup-v1.req.bin"),
    FIXTURE(KJS_014_METADATA_V2_REQ, "kafkajs/014-Metadata-v2.req.bin"),
    FIXTURE(KJS_015_CREATE_TOPICS_V3_REQ, "kafkajs/015-CreateTopics-v3.req.bin"),
    FIXTURE(KJS_016_DELETE_TOPICS_V1_REQ, "kafkajs/016-DeleteTopics-v1.req.bin"),
    FIXTURE(KJS_018_LIST_GROUPS_V2_REQ, "kafkajs/018-ListGroups-v2.req.bin"),
    FIXTURE(KJS_019_DESCRIBE_GROUPS_V2_REQ, "kafkajs/019-DescribeGroups-v2.req.bin"),
    FIXTURE(KJS_020_DELETE_GROUPS_V1_REQ, "kafkajs/020-DeleteGroups-v1.req.bin"),
    FIXTURE(KJS_023_LIST_OFFSETS_V3_REQ, "kafkajs/023-ListOffsets-v3.req.bin"),
    FIXTURE(KJS_025_METADATA_V6_REQ, "kafkajs/025-Metadata-v6.req.bin"),
    FIXTURE(KCAT_001_API_VERSIONS_V3_REQ, "kcat/001-ApiVersions-v3.req.bin"),
    FIXTURE(KCAT_002_API_VERSIONS_V0_REQ, "kcat/002-ApiVersions-v0.req.bin"),
    FIXTURE(KCAT_003_METADATA_V2_REQ, "kcat/003-Metadata-v2.req.bin"),
    FIXTURE(KCAT_004_METADATA_V2_REQ, "kcat/004-Metadata-v2.req.bin"),
    FIXTURE(KCAT_005_METADATA_V2_REQ, "kcat/005-Metadata-v2.req.bin"),
    FIXTURE(KCAT_006_PRODUCE_V7_REQ, "kcat/006-Produce-v7.req.bin"),
    FIXTURE(KCAT_007_LIST_OFFSETS_V2_REQ, "kcat/007-ListOffsets-v2.req.bin"),
    FIXTURE(KCAT_008_LIST_OFFSETS_V2_REQ, "kcat/008-ListOffsets-v2.req.bin"),
    FIXTURE(KCAT_009_FETCH_V11_REQ, "kcat/009-Fetch-v11.req.bin"),
    FIXTURE(KCAT_010_FIND_COORDINATOR_V2_REQ, "kcat/010-FindCoordinator-v2.req.bin"),
    FIXTURE(KCAT_011_JOIN_GROUP_V5_REQ, "kcat/011-JoinGroup-v5.req.bin"),
    FIXTURE(KCAT_012_SYNC_GROUP_V3_REQ, "kcat/012-SyncGroup-v3.req.bin"),
    FIXTURE(KCAT_013_HEARTBEAT_V3_REQ, "kcat/013-Heartbeat-v3.req.bin"),
    FIXTURE(KCAT_014_FETCH_V11_REQ, "kcat/014-Fetch-v11.req.bin"),
    FIXTURE(KCAT_015_OFFSET_COMMIT_V7_REQ, "kcat/015-OffsetCommit-v7.req.bin"),
    FIXTURE(KCAT_016_LEAVE_GROUP_V1_REQ, "kcat/016-LeaveGroup-v1.req.bin"),
    FIXTURE(KCAT_017_PRODUCE_V7_REQ, "kcat/017-Produce-v7.req.bin"),
    FIXTURE(KCAT_018_METADATA_V4_REQ, "kcat/018-Metadata-v4.req.bin"),
};

static const fixture_t responses[] = {
    RESPONSE(KPY_001_API_VERSIONS_V0_RESP, "kafka-python/001-ApiVersions-v0.resp.bin", 18, 0, true),
    RESPONSE(KPY_002_METADATA_V0_RESP, "kafka-python/002-Metadata-v0.resp.bin", 3, 0, true),
    RESPONSE(KPY_003_METADATA_V1_RESP, "kafka-python/003-Metadata-v1.resp.bin", 3, 1, true),
    RESPONSE(KPY_004_PRODUCE_V7_RESP, "kafka-python/004-Produce-v7.resp.bin", 0, 7, true),
    RESPONSE(KPY_005_FIND_COORDINATOR_V0_RESP, "kafka-python/005-FindCoordinator-v0.resp.bin", 10, 0, true),
    RESPONSE(KPY_006_METADATA_V1_RESP, "kafka-python/006-Metadata-v1.resp.bin", 3, 1, true),
    RESPONSE(KPY_007_JOIN_GROUP_V2_RESP, "kafka-python/007-JoinGroup-v2.resp.bin", 11, 2, true),
    RESPONSE(KPY_008_SYNC_GROUP_V1_RESP, "kafka-python/008-SyncGroup-v1.resp.bin", 14, 1, true),
    RESPONSE(KPY_009_OFFSET_FETCH_V1_RESP, "kafka-python/009-OffsetFetch-v1.resp.bin", 9, 1, true),
    RESPONSE(KPY_010_LIST_OFFSETS_V1_RESP, "kafka-python/010-ListOffsets-v1.resp.bin", 2, 1, true),
    RESPONSE(KPY_011_LIST_OFFSETS_V1_RESP, "kafka-python/011-ListOffsets-v1.resp.bin", 2, 1, true),
    RESPONSE(KPY_012_FETCH_V4_RESP, "kafka-python/012-Fetch-v4.resp.bin", 1, 4, true),
    RESPONSE(KPY_013_OFFSET_COMMIT_V2_RESP, "kafka-python/013-OffsetCommit-v2.resp.bin", 8, 2, true),
    RESPONSE(KPY_014_LEAVE_GROUP_V1_RESP, "kafka-python/014-LeaveGroup-v1.resp.bin", 13, 1, true),
    RESPONSE(KPY_015_METADATA_V2_RESP, "kafka-python/015-Metadata-v2.resp.bin", 3, 2, true),
    RESPONSE(KPY_016_METADATA_V2_RESP, "kafka-python/016-Metadata-v2.resp.bin", 3, 2, true),
    RESPONSE(KPY_017_OFFSET_FETCH_V3_RESP, "kafka-python/017-OffsetFetch-v3.resp.bin", 9, 3, false),
    RESPONSE(KJS_001_API_VERSIONS_V2_RESP, "kafkajs/001-ApiVersions-v2.resp.bin", 18, 2, true),
    RESPONSE(KJS_002_METADATA_V2_RESP, "kafkajs/002-Metadata-v2.resp.bin", 3, 2, true),
    RESPONSE(KJS_003_PRODUCE_V7_RESP, "kafkajs/003-Produce-v7.resp.bin", 0, 7, true),
    RESPONSE(KJS_004_FIND_COORDINATOR_V2_RESP, "kafkajs/004-FindCoordinator-v2.resp.bin", 10, 2, true),
    RESPONSE(KJS_005_JOIN_GROUP_V5_RESP, "kafkajs/005-JoinGroup-v5.resp.bin", 11, 5, true),
    RESPONSE(KJS_006_SYNC_GROUP_V3_RESP, "kafkajs/006-SyncGroup-v3.resp.bin", 14, 3, true),
    RESPONSE(KJS_007_OFFSET_FETCH_V4_RESP, "kafkajs/007-OffsetFetch-v4.resp.bin", 9, 4, true),
    RESPONSE(KJS_008_LIST_OFFSETS_V3_RESP, "kafkajs/008-ListOffsets-v3.resp.bin", 2, 3, true),
    RESPONSE(KJS_009_FETCH_V11_RESP, "kafkajs/009-Fetch-v11.resp.bin", 1, 11, true),
    RESPONSE(KJS_010_OFFSET_COMMIT_V5_RESP, "kafkajs/010-OffsetCommit-v5.resp.bin", 8, 5, true),
    RESPONSE(KJS_011_HEARTBEAT_V3_RESP, "kafkajs/011-Heartbeat-v3.resp.bin", 12, 3, true),
    RESPONSE(KJS_012_OFFSET_COMMIT_V5_RESP, "kafkajs/012-OffsetCommit-v5.resp.bin", 8, 5, true),
    RESPONSE(KJS_013_LEAVE_GROUP_V1_RESP, "kafkajs/013-LeaveGroup-v1.resp.bin", 13, 1, true),
    RESPONSE(KJS_014_METADATA_V2_RESP, "kafkajs/014-Metadata-v2.resp.bin", 3, 2, true),
    RESPONSE(KJS_023_LIST_OFFSETS_V3_RESP, "kafkajs/023-ListOffsets-v3.resp.bin", 2, 3, true),
    RESPONSE(KCAT_001_API_VERSIONS_V3_RESP, "kcat/001-ApiVersions-v3.resp.bin", 18, 3, false),
    RESPONSE(KCAT_002_API_VERSIONS_V0_RESP, "kcat/002-ApiVersions-v0.resp.bin", 18, 0, true),
    RESPONSE(KCAT_003_METADATA_V2_RESP, "kcat/003-Metadata-v2.resp.bin", 3, 2, true),
    RESPONSE(KCAT_004_METADATA_V2_RESP, "kcat/004-Metadata-v2.resp.bin", 3, 2, true),
    RESPONSE(KCAT_005_METADATA_V2_RESP, "kcat/005-Metadata-v2.resp.bin", 3, 2, true),
    RESPONSE(KCAT_006_PRODUCE_V7_RESP, "kcat/006-Produce-v7.resp.bin", 0, 7, true),
    RESPONSE(KCAT_007_LIST_OFFSETS_V2_RESP, "kcat/007-ListOffsets-v2.resp.bin", 2, 2, true),
    RESPONSE(KCAT_008_LIST_OFFSETS_V2_RESP, "kcat/008-ListOffsets-v2.resp.bin", 2, 2, true),
    RESPONSE(KCAT_009_FETCH_V11_RESP, "kcat/009-Fetch-v11.resp.bin", 1, 11, true),
    RESPONSE(KCAT_010_FIND_COORDINATOR_V2_RESP, "kcat/010-FindCoordinator-v2.resp.bin", 10, 2, true),
    RESPONSE(KCAT_011_JOIN_GROUP_V5_RESP, "kcat/011-JoinGroup-v5.resp.bin", 11, 5, true),
    RESPONSE(KCAT_012_SYNC_GROUP_V3_RESP, "kcat/012-SyncGroup-v3.resp.bin", 14, 3, true),
    RESPONSE(KCAT_013_HEARTBEAT_V3_RESP, "kcat/013-Heartbeat-v3.resp.bin", 12, 3, true),
    RESPONSE(KCAT_014_FETCH_V11_RESP, "kcat/014-Fetch-v11.resp.bin", 1, 11, true),
    RESPONSE(KCAT_015_OFFSET_COMMIT_V7_RESP, "kcat/015-OffsetCommit-v7.resp.bin", 8, 7, true),
    RESPONSE(KCAT_016_LEAVE_GROUP_V1_RESP, "kcat/016-LeaveGroup-v1.resp.bin", 13, 1, true),
    RESPONSE(KCAT_017_PRODUCE_V7_RESP, "kcat/017-Produce-v7.resp.bin", 0, 7, true),
};

/* ---- helpers --------------------------------------------------------------------------- */

/* A visitor that counts what it sees. */
typedef struct tally {
    size_t events;
    size_t values;
    size_t truncated;
    size_t unknown_tags;
    bool last_was_truncated;
    bool truncated_null;
    int64_t last_int;
    uint32_t last_tag;
} tally_t;

static void tally_visit(void *arg, const schema_event_t *ev)
{
    tally_t *t = arg;
    t->events++;
    t->last_was_truncated = ev->kind == SCHEMA_EV_TRUNCATED;
    if (ev->kind == SCHEMA_EV_VALUE) {
        t->values++;
        t->last_int = ev->i;
    }
    if (ev->kind == SCHEMA_EV_TRUNCATED) {
        t->truncated++;
        t->truncated_null = ev->is_null;
    }
    if (ev->kind == SCHEMA_EV_UNKNOWN_TAG) {
        t->unknown_tags++;
        t->last_tag = ev->tag;
    }
}

/* Put `r` at the body of a request frame; returns the API's schema (NULL if none). */
static const schema_api_t *at_request_body(kl_reader_t *r, const uint8_t *frame, size_t len,
                                           int16_t *version)
{
    kl_request_header_t h;
    rd_init(r, frame, len);
    if (!request_header_decode(r, &h, NULL))
        return NULL;
    *version = h.api_version;
    return schema_find(h.api_key);
}

/* Put `r` at the body of a response frame (correlation id, KIP-482 header tags). */
static void at_response_body(kl_reader_t *r, const fixture_t *f, const schema_api_t *api)
{
    rd_init(r, f->frame, f->len);
    (void)rd_i32(r);
    if (f->version >= api->flexible_from && api->key != KL_API_API_VERSIONS)
        rd_tagged_fields(r);
}

static bool flexible(const schema_api_t *api, int16_t version)
{
    return version >= api->flexible_from;
}

/* ---- the table ---------------------------------------------------------------------------- */

static void test_schema_rows_match_api_table(void **state)
{
    (void)state;
    size_t n_api = 0, n_schema = 0;
    const kl_api_t *apis = api_table_all(&n_api);
    (void)schema_all(&n_schema);
    assert_int_equal(n_schema, n_api);
    for (size_t i = 0; i < n_api; i++) {
        const schema_api_t *s = schema_find(apis[i].key);
        assert_non_null(s);
        assert_string_equal(s->name, apis[i].name);
        assert_int_equal(s->min_version, apis[i].min_version);
        assert_int_equal(s->max_version, apis[i].max_version);
        assert_int_equal(s->flexible_from, apis[i].flexible_from);
        assert_non_null(s->request);
        assert_non_null(s->response);
    }
}

/* Every field: a sane gate that opens within the API's range; arrays of structs have
 * fields; tagged fields only in flexible versions; nesting stays shallow. */
static void check_fields(const schema_api_t *api, const schema_field_t *fields, int depth)
{
    assert_true(depth < 6);
    for (const schema_field_t *f = fields; f->name != NULL; f++) {
        if (f->min_version > api->max_version)
            fail_msg("%s: %s v%d+ is beyond v%d", api->name, f->name, f->min_version,
                     api->max_version);
        if (f->max_version < api->min_version)
            fail_msg("%s: %s ends at v%d, before v%d", api->name, f->name, f->max_version,
                     api->min_version);
        assert_true(f->min_version <= f->max_version);
        assert_true(f->type <= SCHEMA_ARRAY);
        if (f->tag != SCHEMA_UNTAGGED)
            assert_true(f->min_version >= api->flexible_from);
        if (f->type == SCHEMA_ARRAY && f->elem == SCHEMA_STRUCT) {
            assert_non_null(f->fields);
            check_fields(api, f->fields, depth + 1);
        } else {
            assert_null(f->fields);
        }
    }
}

static void test_schema_no_dead_or_malformed_field(void **state)
{
    (void)state;
    size_t n = 0;
    const schema_api_t *all = schema_all(&n);
    for (size_t i = 0; i < n; i++) {
        check_fields(&all[i], all[i].request, 0);
        check_fields(&all[i], all[i].response, 0);
    }
}

static void test_schema_lookups(void **state)
{
    (void)state;
    const schema_api_t *md = schema_find(KL_API_METADATA);
    assert_non_null(md);
    assert_true(schema_version_known(md, 0));
    assert_true(schema_version_known(md, 8));
    assert_false(schema_version_known(md, 9));
    assert_false(schema_version_known(md, -1));
    assert_false(schema_version_known(NULL, 0));
    assert_null(schema_find(21));                   /* DeleteRecords: not implemented */
    assert_null(schema_find(-1));
}

/* ---- real frames ------------------------------------------------------------------------ */

static void test_schema_decodes_every_fixture_request_exactly(void **state)
{
    (void)state;
    assert_int_equal(COUNT(requests), 62);
    for (size_t i = 0; i < COUNT(requests); i++) {
        kl_reader_t r;
        int16_t v = 0;
        tally_t t = { 0 };
        const schema_api_t *api = at_request_body(&r, requests[i].frame, requests[i].len, &v);
        if (api == NULL || !schema_version_known(api, v))
            fail_msg("%s: no schema", requests[i].name);
        bool ok = schema_walk(api->request, v, flexible(api, v), &r, tally_visit, &t);
        if (!ok || rd_remaining(&r) != 0 || t.truncated != 0)
            fail_msg("%s: decoded %s with %zu bytes left", requests[i].name,
                     ok ? "fully" : "partly", rd_remaining(&r));
    }
}

static void test_schema_decodes_the_mock_responses(void **state)
{
    (void)state;
    size_t conforming = 0;
    for (size_t i = 0; i < COUNT(responses); i++) {
        const fixture_t *f = &responses[i];
        const schema_api_t *api = schema_find(f->key);
        kl_reader_t r;
        assert_non_null(api);
        assert_true(schema_version_known(api, f->version));
        at_response_body(&r, f, api);
        bool ok = schema_walk(api->response, f->version, flexible(api, f->version), &r,
                              NULL, NULL);
        bool exact = ok && rd_remaining(&r) == 0;
        if (exact != f->conforms)
            fail_msg("%s: exact=%d, expected %d", f->name, exact, f->conforms);
        conforming += exact;
    }
    assert_int_equal(conforming, 49 - 2);
}

static void test_schema_every_prefix_of_a_request_is_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(requests); i++) {
        kl_reader_t r;
        int16_t v = 0;
        const schema_api_t *api = at_request_body(&r, requests[i].frame, requests[i].len, &v);
        assert_non_null(api);
        size_t body = r.pos;
        for (size_t len = body; len < requests[i].len; len++) {
            tally_t t = { 0 };
            rd_init(&r, requests[i].frame, len);
            rd_skip(&r, body);
            bool ok = schema_walk(api->request, v, flexible(api, v), &r, tally_visit, &t);
            if (ok || t.truncated != 1 || !t.last_was_truncated)
                fail_msg("%s cut at %zu: ok=%d truncated=%zu", requests[i].name, len, ok,
                         t.truncated);
        }
    }
}

/* ---- hand-built frames --------------------------------------------------------------------- */

static bool walk_bytes(const schema_field_t *fields, int16_t v, bool flex, const kl_writer_t *w,
                       tally_t *t, size_t *left)
{
    kl_reader_t r;
    rd_init(&r, w->buf, w->len);
    bool ok = schema_walk(fields, v, flex, &r, tally_visit, t);
    *left = rd_remaining(&r);
    return ok;
}

/* OffsetCommit partitions: commit_timestamp exists in v1 only, leader epoch from v6. */
static void test_schema_version_gates(void **state)
{
    (void)state;
    const schema_api_t *oc = schema_find(KL_API_OFFSET_COMMIT);
    kl_writer_t w;
    size_t left = 0;
    wr_init(&w);
    wr_cstr(&w, false, "g");                        /* group_id */
    wr_i32(&w, 1);                                  /* generation */
    wr_cstr(&w, false, "m");                        /* member_id */
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "t");
    wr_array_len(&w, 1);
    wr_i32(&w, 0);                                  /* partition_index */
    wr_i64(&w, 42);                                 /* committed_offset */
    wr_i64(&w, 1700000000000);                      /* commit_timestamp: v1 only */
    wr_nullable_string(&w, NULL, -1);               /* committed_metadata */
    tally_t t = { 0 };
    assert_true(walk_bytes(oc->request, 1, false, &w, &t, &left));
    assert_int_equal(left, 0);
    assert_int_equal(t.values, 8);
    t = (tally_t){ 0 };                             /* v2 has retention_time_ms instead, */
    bool ok = walk_bytes(oc->request, 2, false, &w, &t, &left);     /* so v1 bytes misparse */
    assert_true(!ok || left != 0);
    wr_free(&w);
}

/* Metadata topics: a null array is "all topics" from v1; in v0 it is malformed. */
static void test_schema_nullable_gate(void **state)
{
    (void)state;
    const schema_api_t *md = schema_find(KL_API_METADATA);
    kl_writer_t w;
    size_t left = 0;
    wr_init(&w);
    wr_array_len(&w, -1);
    tally_t t = { 0 };
    assert_false(walk_bytes(md->request, 0, false, &w, &t, &left));
    assert_int_equal(t.truncated, 1);
    assert_true(t.truncated_null);
    t = (tally_t){ 0 };
    assert_true(walk_bytes(md->request, 1, false, &w, &t, &left));
    assert_int_equal(left, 0);
    assert_int_equal(t.truncated, 0);
    wr_free(&w);
}

/* ApiVersions v3 response: compact array, element tags, then the body's tagged fields:
 * a known one (finalized_features_epoch, tag 1) and one the schema does not name. */
static void build_api_versions_v3(kl_writer_t *w, uint32_t epoch_size)
{
    wr_i16(w, 0);                                   /* error_code */
    wr_compact_array_len(w, 1);
    wr_i16(w, 18);
    wr_i16(w, 0);
    wr_i16(w, 3);
    wr_empty_tagged_fields(w);                      /* the element's */
    wr_i32(w, 0);                                   /* throttle_time_ms */
    wr_uvarint(w, 2);                               /* two tagged fields */
    wr_uvarint(w, 1);
    wr_uvarint(w, epoch_size);
    wr_i64(w, 7);
    wr_uvarint(w, 9);
    wr_uvarint(w, 2);
    wr_i16(w, 0x0102);
}

static void test_schema_tagged_fields(void **state)
{
    (void)state;
    const schema_api_t *av = schema_find(KL_API_API_VERSIONS);
    kl_writer_t w;
    size_t left = 0;
    wr_init(&w);
    build_api_versions_v3(&w, 8);
    tally_t t = { 0 };
    assert_true(walk_bytes(av->response, 3, true, &w, &t, &left));
    assert_int_equal(left, 0);
    assert_int_equal(t.unknown_tags, 1);
    assert_int_equal(t.last_tag, 9);
    assert_int_equal(t.values, 6);                  /* error, key, min, max, throttle, epoch */
    wr_reset(&w);
    build_api_versions_v3(&w, 9);                   /* size says 9, the int64 is 8: malformed */
    t = (tally_t){ 0 };
    assert_false(walk_bytes(av->response, 3, true, &w, &t, &left));
    assert_int_equal(t.truncated, 1);
    wr_free(&w);
}

static void test_schema_walk_refuses_no_fields(void **state)
{
    (void)state;
    kl_reader_t r;
    tally_t t = { 0 };
    rd_init(&r, (const uint8_t *)"", 0);
    assert_false(schema_walk(NULL, 0, false, &r, tally_visit, &t));
    assert_int_equal(t.truncated, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_rows_match_api_table),
        cmocka_unit_test(test_schema_no_dead_or_malformed_field),
        cmocka_unit_test(test_schema_lookups),
        cmocka_unit_test(test_schema_decodes_every_fixture_request_exactly),
        cmocka_unit_test(test_schema_decodes_the_mock_responses),
        cmocka_unit_test(test_schema_every_prefix_of_a_request_is_truncated),
        cmocka_unit_test(test_schema_version_gates),
        cmocka_unit_test(test_schema_nullable_gate),
        cmocka_unit_test(test_schema_tagged_fields),
        cmocka_unit_test(test_schema_walk_refuses_no_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
