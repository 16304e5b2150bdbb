/*
 * test/mocks/group_fixture.h — shared setup for the consumer-group handler tests
 * (test/test_api_find_coordinator.c … test_api_delete_groups.c): a broker, a real
 * group coordinator, a request as dispatch would hand it over, request builders. Built
 * on test/mocks/handler_fixture.h: a request runs through its hf_run_request, and the
 * responses are read with its hf_want_* helpers.
 * Layer: test support. May touch: application/ (broker, group_coordinator),
 * infrastructure/protocol/api.h, test/mocks/ (handler fixture, log store, offset
 * store), cmocka.
 * Static inline helpers only (no .c file): every test binary gets its own copy.
 *
 * What is real and what is fake, and why:
 *  - the coordinator is the real one (application/group_coordinator.c), so a handler
 *    test exercises the Kafka rules end to end, parking included;
 *  - its clock is a fake whose time the test sets (gf_env_t.wall_ms): join rounds and
 *    session timeouts are driven by moving it, and the coordinator reads it as often as
 *    it likes (the queue-based mock_clock would need one will_return per read);
 *  - member ids come from a counter (1, 2, 3…), so the KIP-394 ids are predictable:
 *    gf_member_id(client_id, n) spells the n-th one;
 *  - the offset store is the cmocka mock (test/mocks/mock_offset_store.h): a commit
 *    test states exactly which partitions must reach the disk;
 *  - topics live in a real broker over the cmocka log store mock.
 */
#ifndef KL_TEST_MOCKS_GROUP_FIXTURE_H
#define KL_TEST_MOCKS_GROUP_FIXTURE_H

#include <stdio.h>

#include "application/group_coordinator.h"
#include "test/mocks/handler_fixture.h"
#include "test/mocks/mock_offset_store.h"

#define GF_HOST "broker.test"        /* the broker's address (HF_NODE_ID is its id) */
#define GF_PORT 19092
#define GF_T0 1700000000000LL        /* the coordinator's wall clock at the start */

typedef struct gf_env {
    kl_broker_t broker;
    coord_t coord;
    int64_t wall_ms;                 /* the coordinator's clock: set it to move time */
    uint64_t next_id;                /* the member id source's counter */
    int64_t mono_ms;                 /* req->now_ms of the next attempt */
    int32_t logs;                    /* partition logs opened through the mock store */
    kl_request_t req;                /* the last attempt's request (park_cookie…) */
    kl_writer_t out;
    kl_reader_t resp;                /* the response body after an attempt */
    uint8_t frame[8192];             /* the request, copied: handlers may write to it */
} gf_env_t;

/* ---- fakes ---------------------------------------------------------------------- */

static inline int64_t gf_clock_now(void *self) { return ((gf_env_t *)self)->wall_ms; }

static inline uint64_t gf_next_id(void *self) { return ++((gf_env_t *)self)->next_id; }

/* The KIP-394 id the coordinator hands out for draws n, n+1 of the counter (each id
 * takes two): "<prefix>-00000000-0000-000n-0000-0000000000(n+1)". */
static inline void gf_member_id(char *dst, size_t cap, const char *prefix, uint64_t n)
{
    snprintf(dst, cap, "%s-%08x-%04x-%04x-%04x-%012llx", prefix, (unsigned)(n >> 32),
             (unsigned)((n >> 16) & 0xffff), (unsigned)(n & 0xffff), 0u,
             (unsigned long long)(n + 1));
}

/* ---- life cycle ------------------------------------------------------------------- */

/* hf_broker_config() at GF_HOST:GF_PORT, cluster "klamm-test", no auto-creation. */
static inline kl_broker_config_t gf_broker_config(void)
{
    kl_broker_config_t c = hf_broker_config();
    strcpy(c.advertised_host, GF_HOST);
    c.advertised_port = GF_PORT;
    c.auto_create_topics = false;
    strcpy(c.cluster_id, "klamm-test");
    return c;
}

/* A broker with no topics and an empty coordinator whose rounds start after
 * `initial_delay_ms` (group.initial.rebalance.delay.ms; 0 = at once). */
static inline gf_env_t *gf_new_delay(int32_t initial_delay_ms)
{
    gf_env_t *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->wall_ms = GF_T0;
    e->mono_ms = 5000;
    kl_clock_t clock = { e, gf_clock_now };
    kl_broker_config_t bc = gf_broker_config();
    mock_log_store_expect_load_all(NULL, 0, KL_OK);
    assert_int_equal(broker_init(&e->broker, &bc, mock_log_store(), clock), KL_OK);

    coord_config_t cc = coord_config_default();
    cc.group.initial_rebalance_delay_ms = initial_delay_ms;
    group_id_source_t ids = { e, gf_next_id };
    will_return(mock_offset_store_load_all, KL_OK);
    assert_int_equal(coord_init(&e->coord, &cc, clock, mock_offset_store(NULL), ids), KL_OK);
    wr_init(&e->out);
    return e;
}

static inline gf_env_t *gf_new(void) { return gf_new_delay(0); }

/* Register a topic as if it had been loaded from disk (one open per partition, with
 * the log handles hf_log(e->logs), hf_log(e->logs + 1)…). */
static inline void gf_add_topic(gf_env_t *e, const char *name, int32_t partitions)
{
    kl_topic_meta_t meta;
    memset(&meta, 0, sizeof meta);
    strcpy(meta.name, name);
    meta.partition_count = partitions;
    meta.replication_factor = 1;
    for (int32_t i = 0; i < partitions; i++)
        mock_log_store_expect_open(name, i, hf_log(e->logs + i), 0, 0, KL_OK);
    kl_topic_t *t = NULL;
    assert_int_equal(broker_add_topic(&e->broker, &meta, &t), KL_OK);
    e->logs += partitions;
}

static inline void gf_free(gf_env_t *e)
{
    coord_close(&e->coord);
    for (int32_t i = 0; i < e->logs; i++)        /* broker_close: topics in creation order */
        mock_log_store_expect_close(hf_log(i));
    broker_close(&e->broker);
    wr_free(&e->out);
    free(e);
}

/* ---- running a handler --------------------------------------------------------------- */

/* One attempt of `h` on a whole request frame (header v1 + body), as dispatch and the
 * server would make it (hf_run_request), at e->mono_ms, with the coordinator; `cookie`
 * is the park_cookie of a retry (0 on a first attempt). e->resp then reads the body. */
static inline kl_reply_t gf_attempt(gf_env_t *e, kl_api_handler_fn h, const uint8_t *frame,
                                    size_t len, int64_t cookie, bool final_attempt)
{
    kl_request_t base;
    memset(&base, 0, sizeof base);
    base.broker = &e->broker;
    base.coord = &e->coord;
    base.now_ms = e->mono_ms;
    base.first_attempt_ms = e->mono_ms;
    base.final_attempt = final_attempt;
    base.park_cookie = cookie;
    kl_reply_t reply = hf_run_request(h, &base, frame, len, e->frame, sizeof e->frame,
                                      &e->req, &e->out, &e->resp);
    if (reply != KL_REPLY_SEND)          /* parked or closed: nothing may be written */
        assert_int_equal(e->out.len, 8);
    return reply;
}

static inline kl_reply_t gf_run(gf_env_t *e, kl_api_handler_fn h, const uint8_t *frame,
                                size_t len)
{
    return gf_attempt(e, h, frame, len, 0, false);
}

/* Where the body starts: after int16 key, int16 version, int32 correlation id and the
 * client id string of header v1. */
static inline size_t gf_body_at(const uint8_t *frame)
{
    return 10 + (size_t)(((unsigned)frame[8] << 8) | frame[9]);
}

/* Every strict prefix of the body (from gf_body_at(frame) on) is a truncated request:
 * the handler must close the connection and write nothing (and, the store mocks
 * failing on any unexpected call, change nothing durable). */
static inline void gf_expect_close_on_every_cut(gf_env_t *e, kl_api_handler_fn h,
                                                const uint8_t *frame, size_t len)
{
    for (size_t cut = gf_body_at(frame); cut < len; cut++)
        assert_int_equal(gf_run(e, h, frame, cut), KL_REPLY_CLOSE);
}

/* ---- building requests ------------------------------------------------------------------ */

/* Header v1 with `client_id`; the caller appends the body with wr_* and frees `w`. */
static inline void gf_req_begin(kl_writer_t *w, int16_t key, int16_t version,
                                const char *client_id)
{
    wr_init(w);
    wr_i16(w, key);
    wr_i16(w, version);
    wr_i32(w, 42);
    wr_cstr(w, false, client_id);
}

static inline void gf_wr_nullable(kl_writer_t *w, const char *s)
{
    wr_nullable_string(w, s, s != NULL ? (int32_t)strlen(s) : -1);
}

/* The "range" subscription every built JoinGroup sends (ConsumerProtocol v0: version,
 * topics ["topic"], user_data null), as kafka-python sends it. */
static inline const uint8_t *gf_range_md(size_t *len)
{
    static const uint8_t md[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 't', 'o',
                                  'p', 'i', 'c', 0xff, 0xff, 0xff, 0xff };
    *len = sizeof md;
    return md;
}

/* JoinGroup `version` of `member` ("" on a first join) to `group`, session 10 s,
 * rebalance 300 s (v1+), one protocol: ("range", gf_range_md()). */
static inline void gf_join_frame(kl_writer_t *w, int16_t version, const char *client_id,
                                 const char *group, const char *member,
                                 const char *instance)
{
    size_t md_len;
    const uint8_t *md = gf_range_md(&md_len);
    gf_req_begin(w, KL_API_JOIN_GROUP, version, client_id);
    wr_cstr(w, false, group);                               /* group_id */
    wr_i32(w, 10000);                                       /* session_timeout_ms */
    if (version >= 1) wr_i32(w, 300000);                    /* rebalance_timeout_ms */
    wr_cstr(w, false, member);                              /* member_id */
    if (version >= 5) gf_wr_nullable(w, instance);          /* group_instance_id */
    wr_cstr(w, false, "consumer");                          /* protocol_type */
    wr_array_len(w, 1);                                     /* protocols */
    wr_cstr(w, false, "range");
    wr_bytes(w, md, (int32_t)md_len);
}

/* SyncGroup `version`; the leader passes n (member id, assignment text) pairs. */
static inline void gf_sync_frame(kl_writer_t *w, int16_t version, const char *group,
                                 int32_t generation, const char *member,
                                 const char *const *members, const char *const *assignments,
                                 int32_t n)
{
    gf_req_begin(w, KL_API_SYNC_GROUP, version, "test");
    wr_cstr(w, false, group);                               /* group_id */
    wr_i32(w, generation);                                  /* generation_id */
    wr_cstr(w, false, member);                              /* member_id */
    if (version >= 3) gf_wr_nullable(w, NULL);              /* group_instance_id */
    wr_array_len(w, n);                                     /* assignments */
    for (int32_t i = 0; i < n; i++) {
        wr_cstr(w, false, members[i]);
        wr_bytes(w, assignments[i], (int32_t)strlen(assignments[i]));
    }
}

/* ---- reading responses -------------------------------------------------------------------- */

/* Fields, strings and the end: hf_want_* (test/mocks/handler_fixture.h). */

static inline void gf_want_bytes(kl_reader_t *r, const void *p, size_t n)
{
    kl_bytes_t got = rd_nullable_bytes(r);
    assert_true(rd_ok(r));
    assert_int_equal(got.len, (int32_t)n);
    if (n > 0)
        assert_memory_equal(got.ptr, p, n);
}

/* Copy the next string into `dst` (a member id the test must send back). */
static inline void gf_read_str(kl_reader_t *r, char *dst, size_t cap)
{
    kl_str_t got = rd_string(r);
    assert_true(rd_ok(r));
    assert_true(kl_str_copy(got, dst, cap));
}

/* ---- a group ready to use ------------------------------------------------------------ */

/* Commit one offset through the coordinator as OffsetCommit would (a simple commit,
 * generation -1), expecting it to reach the offset store. A group that did not exist
 * is created Empty, holding only offsets. */
static inline void gf_commit_offset(gf_env_t *e, const char *group, const char *topic,
                                    int32_t partition, int64_t offset, const char *metadata)
{
    expect_string(mock_offset_store_commit, group_id, group);
    expect_value(mock_offset_store_commit, count, 1);
    expect_string(mock_offset_store_commit, topic, topic);
    expect_value(mock_offset_store_commit, partition, partition);
    expect_value(mock_offset_store_commit, offset, offset);
    will_return(mock_offset_store_commit, KL_OK);
    kl_offset_commit_t c = { topic, partition, offset, metadata };
    assert_int_equal(coord_commit_offsets(&e->coord, group, -1, "", NULL, &c, 1), KL_OK);
}

/* Make `client_id` the only member of `group`, Stable in generation 1 with assignment
 * "A" (needs a coordinator with no initial delay): JoinGroup v2 (one step, no KIP-394)
 * answered at once, then the leader's SyncGroup v1. The member id goes to `member`. */
static inline void gf_stable_member(gf_env_t *e, const char *group, const char *client_id,
                                    char *member, size_t cap)
{
    kl_writer_t w;
    gf_join_frame(&w, 2, client_id, group, "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    hf_want_i32(&e->resp, 1);                               /* generation_id */
    (void)rd_string(&e->resp);                              /* protocol_name */
    (void)rd_string(&e->resp);                              /* leader */
    gf_read_str(&e->resp, member, cap);                     /* member_id */

    const char *members[] = { member };
    const char *assignments[] = { "A" };
    gf_sync_frame(&w, 1, group, 1, member, members, assignments, 1);
    assert_int_equal(gf_run(e, sync_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_bytes(&e->resp, "A", 1);                        /* assignment */
    hf_want_end(&e->resp);
}

#endif
