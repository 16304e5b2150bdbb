/*
 * test/test_trace.c — unit tests of infrastructure/protocol/trace.c, the protocol x-ray.
 * GOLDEN tests: real frames captured from kcat, kafka-python and KafkaJS (and the
 * responses of librdkafka's mock cluster, /work/shared/fixtures) are traced into a
 * memory stream and the text must equal the expected block exactly. Then the edges:
 * truncated frames, unknown APIs and versions, trailing bytes, KIP-482 tagged fields,
 * partial record batches, and every prefix of every embedded frame (no crash, always
 * ends in "<truncated>").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "infrastructure/protocol/trace.h"
#include "infrastructure/protocol/wire.h"
#include "test/fixtures/client_frames.h"      /* the frames captured from the clients */

/* ---- helpers ------------------------------------------------------------------------------ */

/* The trace of one request or response, as a malloc'ed string. */
static char *capture(bool request, int16_t key, int16_t version, const uint8_t *frame,
                     size_t len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    if (request)
        trace_request(out, 7, frame, len);
    else
        trace_response(out, 7, key, version, frame, len);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void expect_request(const uint8_t *frame, size_t len, const char *golden)
{
    char *text = capture(true, 0, 0, frame, len);
    assert_string_equal(text, golden);
    free(text);
}

static void expect_response(int16_t key, int16_t version, const uint8_t *frame, size_t len,
                            const char *golden)
{
    char *text = capture(false, key, version, frame, len);
    assert_string_equal(text, golden);
    free(text);
}

/* ---- golden traces of real frames ---------------------------------------------------------- */

/* ApiVersions v3 (flexible: compact strings, header v2 tags) */
static void test_trace_api_versions_v3_request(void **state)
{
    (void)state;
    expect_request(KCAT_001_API_VERSIONS_V3_REQ, sizeof KCAT_001_API_VERSIONS_V3_REQ,
        "[conn 7] request ApiVersions v3 correlation_id=1 client_id=\"rdkafka\" (36 bytes)\n"
        "  client_software_name: \"librdkafka\"\n"
        "  client_software_version: \"2.0.2\"\n");
}

/* ApiVersions v0: an empty body */
static void test_trace_api_versions_v0_request(void **state)
{
    (void)state;
    expect_request(KCAT_002_API_VERSIONS_V0_REQ, sizeof KCAT_002_API_VERSIONS_V0_REQ,
        "[conn 7] request ApiVersions v0 correlation_id=2 client_id=\"rdkafka\" (17 bytes)\n"
        "  (no fields in this version)\n");
}

/* Metadata v2, topics=null (all topics) */
static void test_trace_metadata_v2_request_all_topics(void **state)
{
    (void)state;
    expect_request(KCAT_004_METADATA_V2_REQ, sizeof KCAT_004_METADATA_V2_REQ,
        "[conn 7] request Metadata v2 correlation_id=4 client_id=\"rdkafka\" (21 bytes)\n"
        "  topics: null\n");
}

/* Metadata v2, topics=[topic] (KafkaJS) */
static void test_trace_metadata_v2_request_named(void **state)
{
    (void)state;
    expect_request(KJS_002_METADATA_V2_REQ, sizeof KJS_002_METADATA_V2_REQ,
        "[conn 7] request Metadata v2 correlation_id=1 client_id=\"kjs\" (24 bytes)\n"
        "  topics: [1]\n"
        "    - name: \"topic\"\n");
}

/* Produce v7: one uncompressed batch of 3 records */
static void test_trace_produce_v7_request(void **state)
{
    (void)state;
    expect_request(KCAT_006_PRODUCE_V7_REQ, sizeof KCAT_006_PRODUCE_V7_REQ,
        "[conn 7] request Produce v7 correlation_id=4 client_id=\"rdkafka\" (170 bytes)\n"
        "  transactional_id: null\n"
        "  acks: -1\n"
        "  timeout_ms: 30000\n"
        "  topic_data: [1]\n"
        "    - name: \"topic\"\n"
        "      partition_data: [1]\n"
        "        - index: 1\n"
        "          records: 122 bytes\n"
        "            - batch base_offset=0 records=3 codec=none size=122\n");
}

/* Produce v7: a gzip batch (summarised, not decompressed) */
static void test_trace_produce_v7_gzip_request(void **state)
{
    (void)state;
    expect_request(KCAT_017_PRODUCE_V7_REQ, sizeof KCAT_017_PRODUCE_V7_REQ,
        "[conn 7] request Produce v7 correlation_id=4 client_id=\"rdkafka\" (192 bytes)\n"
        "  transactional_id: null\n"
        "  acks: -1\n"
        "  timeout_ms: 30000\n"
        "  topic_data: [1]\n"
        "    - name: \"topic\"\n"
        "      partition_data: [1]\n"
        "        - index: 2\n"
        "          records: 144 bytes\n"
        "            - batch base_offset=0 records=2 codec=gzip size=144\n");
}

/* Produce v7 with two partitions (kafka-python) */
static void test_trace_produce_v7_kafka_python_request(void **state)
{
    (void)state;
    expect_request(KPY_004_PRODUCE_V7_REQ, sizeof KPY_004_PRODUCE_V7_REQ,
        "[conn 7] request Produce v7 correlation_id=1 client_id=\"kafka-python-producer-1\" (534 bytes)\n"
        "  transactional_id: null\n"
        "  acks: -1\n"
        "  timeout_ms: 30000\n"
        "  topic_data: [1]\n"
        "    - name: \"topic\"\n"
        "      partition_data: [2]\n"
        "        - index: 0\n"
        "          records: 197 bytes\n"
        "            - batch base_offset=0 records=2 codec=none size=197\n"
        "        - index: 2\n"
        "          records: 265 bytes\n"
        "            - batch base_offset=0 records=3 codec=none size=265\n");
}

/* Fetch v11 (rack_id, forgotten topics, sessions) */
static void test_trace_fetch_v11_request(void **state)
{
    (void)state;
    expect_request(KCAT_009_FETCH_V11_REQ, sizeof KCAT_009_FETCH_V11_REQ,
        "[conn 7] request Fetch v11 correlation_id=8 client_id=\"rdkafka\" (91 bytes)\n"
        "  replica_id: -1\n"
        "  max_wait_ms: 500\n"
        "  min_bytes: 1\n"
        "  max_bytes: 52428800\n"
        "  isolation_level: 1\n"
        "  session_id: 0\n"
        "  session_epoch: -1\n"
        "  topics: [1]\n"
        "    - topic: \"topic\"\n"
        "      partitions: [1]\n"
        "        - partition: 0\n"
        "          current_leader_epoch: -1\n"
        "          fetch_offset: 0\n"
        "          log_start_offset: -1\n"
        "          partition_max_bytes: 1048576\n"
        "  forgotten_topics_data: []\n"
        "  rack_id: \"\"\n");
}

/* JoinGroup v5: bytes fields as length + hex preview */
static void test_trace_join_group_v5_request(void **state)
{
    (void)state;
    expect_request(KCAT_011_JOIN_GROUP_V5_REQ, sizeof KCAT_011_JOIN_GROUP_V5_REQ,
        "[conn 7] request JoinGroup v5 correlation_id=4 client_id=\"rdkafka\" (124 bytes)\n"
        "  group_id: \"kcat-group\"\n"
        "  session_timeout_ms: 45000\n"
        "  rebalance_timeout_ms: 300000\n"
        "  member_id: \"\"\n"
        "  group_instance_id: null\n"
        "  protocol_type: \"consumer\"\n"
        "  protocols: [2]\n"
        "    - name: \"range\"\n"
        "      metadata: 21 bytes [00 01 00 00 00 01 00 05 74 6f 70 69 63 00 00 00 ...]\n"
        "    - name: \"roundrobin\"\n"
        "      metadata: 21 bytes [00 01 00 00 00 01 00 05 74 6f 70 69 63 00 00 00 ...]\n");
}

/* OffsetCommit v7 */
static void test_trace_offset_commit_v7_request(void **state)
{
    (void)state;
    expect_request(KCAT_015_OFFSET_COMMIT_V7_REQ, sizeof KCAT_015_OFFSET_COMMIT_V7_REQ,
        "[conn 7] request OffsetCommit v7 correlation_id=8 client_id=\"rdkafka\" (102 bytes)\n"
        "  group_id: \"kcat-group\"\n"
        "  generation_id_or_member_epoch: 2\n"
        "  member_id: \"0x7fd334003620\"\n"
        "  group_instance_id: null\n"
        "  topics: [1]\n"
        "    - name: \"topic\"\n"
        "      partitions: [2]\n"
        "        - partition_index: 0\n"
        "          committed_offset: 2\n"
        "          committed_leader_epoch: -1\n"
        "          committed_metadata: \"\"\n"
        "        - partition_index: 1\n"
        "          committed_offset: 3\n"
        "          committed_leader_epoch: -1\n"
        "          committed_metadata: \"\"\n");
}

/* OffsetFetch v1: an inline array of int32 */
static void test_trace_offset_fetch_v1_request(void **state)
{
    (void)state;
    expect_request(KPY_009_OFFSET_FETCH_V1_REQ, sizeof KPY_009_OFFSET_FETCH_V1_REQ,
        "[conn 7] request OffsetFetch v1 correlation_id=3 client_id=\"kp-consumer\" (58 bytes)\n"
        "  group_id: \"kp-group\"\n"
        "  topics: [1]\n"
        "    - name: \"topic\"\n"
        "      partition_indexes: [0, 1, 2]\n");
}

/* DescribeGroups v2: an inline array of strings */
static void test_trace_describe_groups_v2_request(void **state)
{
    (void)state;
    expect_request(KJS_019_DESCRIBE_GROUPS_V2_REQ, sizeof KJS_019_DESCRIBE_GROUPS_V2_REQ,
        "[conn 7] request DescribeGroups v2 correlation_id=3 client_id=\"kjs\" (28 bytes)\n"
        "  groups: [\"kjs-group\"]\n");
}

/* Heartbeat v3 */
static void test_trace_heartbeat_v3_request(void **state)
{
    (void)state;
    expect_request(KCAT_013_HEARTBEAT_V3_REQ, sizeof KCAT_013_HEARTBEAT_V3_REQ,
        "[conn 7] request Heartbeat v3 correlation_id=7 client_id=\"rdkafka\" (51 bytes)\n"
        "  group_id: \"kcat-group\"\n"
        "  generation_id: 2\n"
        "  member_id: \"0x7fd334003620\"\n"
        "  group_instance_id: null\n");
}

/* CreatePartitions v1: an API Klamm does not implement */
static void test_trace_unknown_api_request(void **state)
{
    (void)state;
    expect_request(KPY_024_CREATE_PARTITIONS_V1_REQ, sizeof KPY_024_CREATE_PARTITIONS_V1_REQ,
        "[conn 7] request api_key=37 v1 correlation_id=3 client_id=\"kp-admin\" (42 bytes)\n"
        "  <no schema: Klamm does not implement this API; body 24 bytes [00 00 00 01 00 05 74 6f 70 69 63 00 00 00 06 ff ...]>\n");
}

/* DeleteTopics v3 (kafka-python's delete_topics): a primitive array of names */
static void test_trace_delete_topics_v3_request(void **state)
{
    (void)state;
    expect_request(KPY_019_DELETE_TOPICS_V3_REQ, sizeof KPY_019_DELETE_TOPICS_V3_REQ,
        "[conn 7] request DeleteTopics v3 correlation_id=3 client_id=\"kp-admin\" (37 bytes)\n"
        "  topic_names: [\"old-topic\"]\n"
        "  timeout_ms: 3000\n");
}

/* DeleteTopics v5 response (flexible, KIP-482): compact strings and arrays, a tagged-field
 * section per result and at the end, error_message null or set */
static void test_trace_delete_topics_v5_response(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_i32(&w, 11);                                 /* correlation id */
    wr_empty_tagged_fields(&w);                     /* response header v1 */
    wr_i32(&w, 0);                                  /* throttle_time_ms */
    wr_compact_array_len(&w, 2);
    wr_compact_string(&w, "gone", 4);
    wr_i16(&w, 0);
    wr_compact_nullable_string(&w, NULL, -1);
    wr_empty_tagged_fields(&w);
    wr_compact_string(&w, "nope", 4);
    wr_i16(&w, 3);
    wr_compact_nullable_string(&w, "no such topic", 13);
    wr_empty_tagged_fields(&w);
    wr_empty_tagged_fields(&w);
    assert_true(wr_ok(&w));
    expect_response(20, 5, w.buf, w.len,
        "[conn 7] response DeleteTopics v5 correlation_id=11 (42 bytes)\n"
        "  throttle_time_ms: 0\n"
        "  responses: [2]\n"
        "    - name: \"gone\"\n"
        "      error_code: 0 (NONE)\n"
        "      error_message: null\n"
        "    - name: \"nope\"\n"
        "      error_code: 3 (UNKNOWN_TOPIC_OR_PARTITION)\n"
        "      error_message: \"no such topic\"\n");
    wr_free(&w);
}

/* Produce v7 cut inside its records: what decoded, then <truncated> */
static void test_trace_truncated_produce_request(void **state)
{
    (void)state;
    expect_request(KCAT_006_PRODUCE_V7_REQ, 100,
        "[conn 7] request Produce v7 correlation_id=4 client_id=\"rdkafka\" (100 bytes)\n"
        "  transactional_id: null\n"
        "  acks: -1\n"
        "  timeout_ms: 30000\n"
        "  topic_data: [1]\n"
        "    - name: \"topic\"\n"
        "      partition_data: [1]\n"
        "        - index: 1\n"
        "          records: <truncated>\n");
}

/* a frame too short for the request header */
static void test_trace_truncated_header(void **state)
{
    (void)state;
    expect_request(KCAT_006_PRODUCE_V7_REQ, 7,
        "[conn 7] request <truncated header>\n"
        "  <header; body 7 bytes [00 00 00 07 00 00 00]>\n");
}

/* Produce v7 response (the mock's) */
static void test_trace_produce_v7_response(void **state)
{
    (void)state;
    expect_response(0, 7, KCAT_006_PRODUCE_V7_RESP, sizeof KCAT_006_PRODUCE_V7_RESP,
        "[conn 7] response Produce v7 correlation_id=4 (53 bytes)\n"
        "  responses: [1]\n"
        "    - name: \"topic\"\n"
        "      partition_responses: [1]\n"
        "        - index: 1\n"
        "          error_code: 0 (NONE)\n"
        "          base_offset: 0\n"
        "          log_append_time_ms: 1234\n"
        "          log_start_offset: 0\n"
        "  throttle_time_ms: 0\n");
}

/* Fetch v11 response: record batches summarised */
static void test_trace_fetch_v11_response(void **state)
{
    (void)state;
    expect_response(1, 11, KCAT_014_FETCH_V11_RESP, sizeof KCAT_014_FETCH_V11_RESP,
        "[conn 7] response Fetch v11 correlation_id=11 (381 bytes)\n"
        "  throttle_time_ms: 0\n"
        "  error_code: 0 (NONE)\n"
        "  session_id: 0\n"
        "  responses: [1]\n"
        "    - topic: \"topic\"\n"
        "      partitions: [3]\n"
        "        - partition_index: 2\n"
        "          error_code: 0 (NONE)\n"
        "          high_watermark: 0\n"
        "          last_stable_offset: 0\n"
        "          log_start_offset: 0\n"
        "          aborted_transactions: []\n"
        "          preferred_read_replica: -1\n"
        "          records: 0 bytes\n"
        "        - partition_index: 1\n"
        "          error_code: 0 (NONE)\n"
        "          high_watermark: 3\n"
        "          last_stable_offset: 3\n"
        "          log_start_offset: 0\n"
        "          aborted_transactions: []\n"
        "          preferred_read_replica: -1\n"
        "          records: 122 bytes\n"
        "            - batch base_offset=0 records=3 codec=none size=122\n"
        "        - partition_index: 0\n"
        "          error_code: 0 (NONE)\n"
        "          high_watermark: 2\n"
        "          last_stable_offset: 2\n"
        "          log_start_offset: 0\n"
        "          aborted_transactions: []\n"
        "          preferred_read_replica: -1\n"
        "          records: 104 bytes\n"
        "            - batch base_offset=0 records=2 codec=none size=104\n");
}

/* Metadata v2 response */
static void test_trace_metadata_v2_response(void **state)
{
    (void)state;
    expect_response(3, 2, KCAT_003_METADATA_V2_RESP, sizeof KCAT_003_METADATA_V2_RESP,
        "[conn 7] response Metadata v2 correlation_id=3 (62 bytes)\n"
        "  brokers: [1]\n"
        "    - node_id: 1\n"
        "      host: \"127.0.0.1\"\n"
        "      port: 35525\n"
        "      rack: null\n"
        "  cluster_id: \"mockCluster157c61bca0a8\"\n"
        "  controller_id: 0\n"
        "  topics: []\n");
}

/* JoinGroup v5 response */
static void test_trace_join_group_v5_response(void **state)
{
    (void)state;
    expect_response(11, 5, KCAT_011_JOIN_GROUP_V5_RESP, sizeof KCAT_011_JOIN_GROUP_V5_RESP,
        "[conn 7] response JoinGroup v5 correlation_id=4 (100 bytes)\n"
        "  throttle_time_ms: 0\n"
        "  error_code: 0 (NONE)\n"
        "  generation_id: 2\n"
        "  protocol_name: \"range\"\n"
        "  leader: \"0x7fd334003620\"\n"
        "  member_id: \"0x7fd334003620\"\n"
        "  members: [1]\n"
        "    - member_id: \"0x7fd334003620\"\n"
        "      group_instance_id: null\n"
        "      metadata: 21 bytes [00 01 00 00 00 01 00 05 74 6f 70 69 63 00 00 00 ...]\n");
}

/* the mock's UNSUPPORTED_VERSION answer to ApiVersions v3: read in the v0 layout (KIP-511), which the mock did not quite follow */
static void test_trace_api_versions_unsupported_response(void **state)
{
    (void)state;
    expect_response(18, 3, KCAT_001_API_VERSIONS_V3_RESP, sizeof KCAT_001_API_VERSIONS_V3_RESP,
        "[conn 7] response ApiVersions v3 correlation_id=1 (17 bytes)\n"
        "  (read as v0: the UNSUPPORTED_VERSION answer, KIP-511)\n"
        "  error_code: 35 (UNSUPPORTED_VERSION)\n"
        "  api_keys: <truncated>\n");
}

/* OffsetFetch v3 response with topics=null, which the spec does not allow */
static void test_trace_null_where_not_nullable_response(void **state)
{
    (void)state;
    expect_response(9, 3, KPY_017_OFFSET_FETCH_V3_RESP, sizeof KPY_017_OFFSET_FETCH_V3_RESP,
        "[conn 7] response OffsetFetch v3 correlation_id=6 (14 bytes)\n"
        "  throttle_time_ms: 0\n"
        "  topics: null <truncated: not nullable in this version>\n");
}

/* ---- golden traces of edited and hand-built frames ---------------------------------------- */

/* A Heartbeat v3 with two bytes the schema does not account for. */
static void test_trace_trailing_bytes(void **state)
{
    (void)state;
    uint8_t frame[sizeof KCAT_013_HEARTBEAT_V3_REQ + 2];
    memcpy(frame, KCAT_013_HEARTBEAT_V3_REQ, sizeof KCAT_013_HEARTBEAT_V3_REQ);
    frame[sizeof frame - 2] = 0xbe;
    frame[sizeof frame - 1] = 0xef;
    expect_request(frame, sizeof frame,
        "[conn 7] request Heartbeat v3 correlation_id=7 client_id=\"rdkafka\" (53 bytes)\n"
        "  group_id: \"kcat-group\"\n"
        "  generation_id: 2\n"
        "  member_id: \"0x7fd334003620\"\n"
        "  group_instance_id: null\n"
        "  <2 trailing bytes not in the schema [be ef]>\n");
}

/* Metadata v9 (flexible; beyond the v0..v8 Klamm advertises): header, then the raw body. */
static void test_trace_version_beyond_range(void **state)
{
    (void)state;
    uint8_t frame[sizeof KCAT_004_METADATA_V2_REQ];
    memcpy(frame, KCAT_004_METADATA_V2_REQ, sizeof frame);
    frame[3] = 9;
    expect_request(frame, sizeof frame,
        "[conn 7] request Metadata v9 correlation_id=4 client_id=\"rdkafka\" (21 bytes)\n"
        "  <no schema: Klamm implements Metadata v0..v8; body 4 bytes [ff ff ff ff]>\n");
}

/* An ApiVersions v3 response as Klamm sends it (header v0, KIP-511; compact body) with
 * two tagged fields: finalized_features_epoch (tag 1) and one the schema does not name. */
static void test_trace_tagged_fields_response(void **state)
{
    (void)state;
    kl_writer_t w;
    wr_init(&w);
    wr_i32(&w, 42);                                 /* correlation id; no header tags */
    wr_i16(&w, 0);
    wr_compact_array_len(&w, 2);
    wr_i16(&w, 0);
    wr_i16(&w, 3);
    wr_i16(&w, 8);
    wr_empty_tagged_fields(&w);
    wr_i16(&w, 18);
    wr_i16(&w, 0);
    wr_i16(&w, 3);
    wr_empty_tagged_fields(&w);
    wr_i32(&w, 0);                                  /* throttle_time_ms */
    wr_uvarint(&w, 2);
    wr_uvarint(&w, 1);
    wr_uvarint(&w, 8);
    wr_i64(&w, 5);
    wr_uvarint(&w, 9);
    wr_uvarint(&w, 3);
    wr_raw(&w, "abc", 3);
    assert_true(wr_ok(&w));
    expect_response(18, 3, w.buf, w.len,
        "[conn 7] response ApiVersions v3 correlation_id=42 (41 bytes)\n"
        "  error_code: 0 (NONE)\n"
        "  api_keys: [2]\n"
        "    - api_key: 0\n"
        "      min_version: 3\n"
        "      max_version: 8\n"
        "    - api_key: 18\n"
        "      min_version: 0\n"
        "      max_version: 3\n"
        "  throttle_time_ms: 0\n"
        "  finalized_features_epoch: 5\n"
        "  tag 9: 3 bytes [61 62 63]\n");
    wr_free(&w);
}

/* A Fetch v4 response whose records end in a partial batch (Kafka may cut the last
 * batch at the fetch size): the whole batches, then the remainder. */
static void test_trace_partial_batch_response(void **state)
{
    (void)state;
    /* the 122-byte batch inside kcat/006-Produce-v7.req.bin (records start at byte 48) */
    const uint8_t *batch = KCAT_006_PRODUCE_V7_REQ + 48;
    kl_writer_t w;
    wr_init(&w);
    wr_i32(&w, 9);                                  /* correlation id */
    wr_i32(&w, 0);                                  /* throttle_time_ms */
    wr_array_len(&w, 1);
    wr_cstr(&w, false, "topic");
    wr_array_len(&w, 1);
    wr_i32(&w, 0);                                  /* partition_index */
    wr_i16(&w, 0);
    wr_i64(&w, 3);                                  /* high_watermark */
    wr_i64(&w, 3);                                  /* last_stable_offset */
    wr_array_len(&w, -1);                           /* aborted_transactions: null */
    wr_i32(&w, 122 + 30);
    wr_raw(&w, batch, 122);
    wr_raw(&w, batch, 30);
    assert_true(wr_ok(&w));
    expect_response(1, 4, w.buf, w.len,
        "[conn 7] response Fetch v4 correlation_id=9 (205 bytes)\n"
        "  throttle_time_ms: 0\n"
        "  responses: [1]\n"
        "    - topic: \"topic\"\n"
        "      partitions: [1]\n"
        "        - partition_index: 0\n"
        "          error_code: 0 (NONE)\n"
        "          high_watermark: 3\n"
        "          last_stable_offset: 3\n"
        "          aborted_transactions: null\n"
        "          records: 152 bytes\n"
        "            - batch base_offset=0 records=3 codec=none size=122\n"
        "            - <partial batch: 30 bytes>\n");
    wr_free(&w);
}

/* ---- robustness ------------------------------------------------------------------------------ */

static void test_trace_null_stream_is_ignored(void **state)
{
    (void)state;
    trace_request(NULL, 1, KCAT_006_PRODUCE_V7_REQ, sizeof KCAT_006_PRODUCE_V7_REQ);
    trace_response(NULL, 1, 0, 7, KCAT_006_PRODUCE_V7_RESP, sizeof KCAT_006_PRODUCE_V7_RESP);
    char *text = capture(true, 0, 0, NULL, 0);
    assert_string_equal(text, "[conn 7] request <truncated header>\n  <header; body 0 bytes>\n");
    free(text);
}

/* Every strict prefix of every embedded request (past its header) ends in <truncated>;
 * under ASan/valgrind this also proves no read leaves the frame. */
static void test_trace_every_prefix_ends_truncated(void **state)
{
    (void)state;
    static const struct { const uint8_t *frame; size_t len; } frames[] = {
        { KCAT_001_API_VERSIONS_V3_REQ, sizeof KCAT_001_API_VERSIONS_V3_REQ },
        { KCAT_002_API_VERSIONS_V0_REQ, sizeof KCAT_002_API_VERSIONS_V0_REQ },
        { KCAT_004_METADATA_V2_REQ, sizeof KCAT_004_METADATA_V2_REQ },
        { KJS_002_METADATA_V2_REQ, sizeof KJS_002_METADATA_V2_REQ },
        { KCAT_006_PRODUCE_V7_REQ, sizeof KCAT_006_PRODUCE_V7_REQ },
        { KCAT_017_PRODUCE_V7_REQ, sizeof KCAT_017_PRODUCE_V7_REQ },
        { KPY_004_PRODUCE_V7_REQ, sizeof KPY_004_PRODUCE_V7_REQ },
        { KCAT_009_FETCH_V11_REQ, sizeof KCAT_009_FETCH_V11_REQ },
        { KCAT_011_JOIN_GROUP_V5_REQ, sizeof KCAT_011_JOIN_GROUP_V5_REQ },
        { KCAT_015_OFFSET_COMMIT_V7_REQ, sizeof KCAT_015_OFFSET_COMMIT_V7_REQ },
        { KPY_009_OFFSET_FETCH_V1_REQ, sizeof KPY_009_OFFSET_FETCH_V1_REQ },
        { KJS_019_DESCRIBE_GROUPS_V2_REQ, sizeof KJS_019_DESCRIBE_GROUPS_V2_REQ },
        { KCAT_013_HEARTBEAT_V3_REQ, sizeof KCAT_013_HEARTBEAT_V3_REQ },
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        for (size_t len = 0; len < frames[i].len; len++) {
            char *text = capture(true, 0, 0, frames[i].frame, len);
            if (strstr(text, "<truncated") == NULL)
                fail_msg("frame %zu cut at %zu:\n%s", i, len, text);
            free(text);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_api_versions_v3_request),
        cmocka_unit_test(test_trace_api_versions_v0_request),
        cmocka_unit_test(test_trace_metadata_v2_request_all_topics),
        cmocka_unit_test(test_trace_metadata_v2_request_named),
        cmocka_unit_test(test_trace_produce_v7_request),
        cmocka_unit_test(test_trace_produce_v7_gzip_request),
        cmocka_unit_test(test_trace_produce_v7_kafka_python_request),
        cmocka_unit_test(test_trace_fetch_v11_request),
        cmocka_unit_test(test_trace_join_group_v5_request),
        cmocka_unit_test(test_trace_offset_commit_v7_request),
        cmocka_unit_test(test_trace_offset_fetch_v1_request),
        cmocka_unit_test(test_trace_describe_groups_v2_request),
        cmocka_unit_test(test_trace_heartbeat_v3_request),
        cmocka_unit_test(test_trace_unknown_api_request),
        cmocka_unit_test(test_trace_delete_topics_v3_request),
        cmocka_unit_test(test_trace_delete_topics_v5_response),
        cmocka_unit_test(test_trace_truncated_produce_request),
        cmocka_unit_test(test_trace_truncated_header),
        cmocka_unit_test(test_trace_produce_v7_response),
        cmocka_unit_test(test_trace_fetch_v11_response),
        cmocka_unit_test(test_trace_metadata_v2_response),
        cmocka_unit_test(test_trace_join_group_v5_response),
        cmocka_unit_test(test_trace_api_versions_unsupported_response),
        cmocka_unit_test(test_trace_null_where_not_nullable_response),
        cmocka_unit_test(test_trace_trailing_bytes),
        cmocka_unit_test(test_trace_version_beyond_range),
        cmocka_unit_test(test_trace_tagged_fields_response),
        cmocka_unit_test(test_trace_partial_batch_response),
        cmocka_unit_test(test_trace_null_stream_is_ignored),
        cmocka_unit_test(test_trace_every_prefix_ends_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
