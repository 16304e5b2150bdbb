/*
 * test/test_api_join_group.c — unit tests of infrastructure/protocol/api_join_group.c:
 * the JoinGroup handler fed the clients' own requests (kafka-python v2, kcat v5,
 * KafkaJS v5 fixture frames) and built ones, over the real group coordinator (fake
 * clock, counter member ids, mock offset store). Covers the one-step join (v0-3), the
 * KIP-394 MEMBER_ID_REQUIRED two-step join (v4+), parking and retrying with the
 * cookie, a full two-member join + sync across parks, errors, truncated requests.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

/* The "range" metadata inside KPY_007_JOIN_GROUP_V2_REQ (kafka-python's subscription to
 * "topic"). */
static const uint8_t KP_RANGE_MD[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 't', 'o', 'p', 'i', 'c', 0x00, 0x00,
    0x00, 0x00,
};
/* kcat's "range" metadata inside KCAT_011_JOIN_GROUP_V5_REQ (version 1, with owned
 * partitions). */
static const uint8_t KCAT_RANGE_MD[] = {
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 't', 'o', 'p', 'i', 'c', 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

#define ID_MAX 128

/* The fields of a JoinGroup response up to the members array. */
static void want_join_head(kl_reader_t *r, int16_t v, kl_err_t err, int32_t generation,
                           const char *protocol, const char *leader, const char *member)
{
    if (v >= 2) hf_want_i32(r, 0);                          /* throttle_time_ms */
    hf_want_i16(r, err);                                    /* error_code */
    hf_want_i32(r, generation);                             /* generation_id */
    hf_want_str(r, protocol);                               /* protocol_name */
    hf_want_str(r, leader);                                 /* leader */
    hf_want_str(r, member);                                 /* member_id */
}

static void want_member(kl_reader_t *r, int16_t v, const char *member, const void *md,
                        size_t md_len)
{
    hf_want_str(r, member);                                 /* member_id */
    if (v >= 5) hf_want_null_str(r);                        /* group_instance_id */
    gf_want_bytes(r, md, md_len);                           /* metadata */
}

/* kafka-python v2: one step; a lone member's round completes at once (no initial
 * delay): generation 1, it leads, and gets its own metadata back. */
static void test_kafka_python_v2_lone_member(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_member_id(id, sizeof id, "kp-consumer", 1);
    assert_int_equal(gf_run(e, join_group_handle, KPY_007_JOIN_GROUP_V2_REQ,
                            sizeof KPY_007_JOIN_GROUP_V2_REQ), KL_REPLY_SEND);
    want_join_head(&e->resp, 2, KL_OK, 1, "range", id, id);
    hf_want_i32(&e->resp, 1);                               /* members */
    want_member(&e->resp, 2, id, KP_RANGE_MD, sizeof KP_RANGE_MD);
    hf_want_end(&e->resp);
    gf_free(e);
}

/* KIP-394: v4+ with an empty member id gets MEMBER_ID_REQUIRED and the id to use. */
static void test_kcat_v5_member_id_required_then_join(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_member_id(id, sizeof id, "rdkafka", 1);
    assert_int_equal(gf_run(e, join_group_handle, KCAT_011_JOIN_GROUP_V5_REQ,
                            sizeof KCAT_011_JOIN_GROUP_V5_REQ), KL_REPLY_SEND);
    want_join_head(&e->resp, 5, KL_ERR_MEMBER_ID_REQUIRED, -1, "", "", id);
    hf_want_i32(&e->resp, 0);                               /* members */
    hf_want_end(&e->resp);

    /* kcat's second JoinGroup: the same body with the id it was given. */
    kl_writer_t w;
    gf_req_begin(&w, KL_API_JOIN_GROUP, 5, "rdkafka");
    size_t at = gf_body_at(KCAT_011_JOIN_GROUP_V5_REQ);
    wr_raw(&w, KCAT_011_JOIN_GROUP_V5_REQ + at, 2 + 10 + 4 + 4);    /* group_id, timeouts */
    wr_cstr(&w, false, id);                                 /* member_id */
    at += 2 + 10 + 4 + 4 + 2;                               /* past the empty member_id */
    wr_raw(&w, KCAT_011_JOIN_GROUP_V5_REQ + at, sizeof KCAT_011_JOIN_GROUP_V5_REQ - at);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_join_head(&e->resp, 5, KL_OK, 1, "range", id, id);
    hf_want_i32(&e->resp, 1);                               /* members */
    want_member(&e->resp, 5, id, KCAT_RANGE_MD, sizeof KCAT_RANGE_MD);
    hf_want_end(&e->resp);
    gf_free(e);
}

static void test_kafkajs_v5_member_id_required(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_member_id(id, sizeof id, "kjs", 1);
    assert_int_equal(gf_run(e, join_group_handle, KJS_005_JOIN_GROUP_V5_REQ,
                            sizeof KJS_005_JOIN_GROUP_V5_REQ), KL_REPLY_SEND);
    want_join_head(&e->resp, 5, KL_ERR_MEMBER_ID_REQUIRED, -1, "", "", id);
    hf_want_i32(&e->resp, 0);                               /* members */
    hf_want_end(&e->resp);
    gf_free(e);
}

/* v0 (no rebalance timeout, no throttle): with an initial delay the first attempt
 * parks; the retry with the cookie after the delay brings the id the member was given. */
static void test_v0_parks_and_learns_its_id_on_retry(void **state)
{
    (void)state;
    gf_env_t *e = gf_new_delay(3000);
    kl_writer_t w;
    gf_join_frame(&w, 0, "old", "g0", "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_PARK);
    int64_t cookie = e->req.park_cookie;
    assert_true(cookie > 0);
    assert_int_equal(e->req.park_until_ms, e->mono_ms + 3000);

    e->wall_ms += 3000;
    e->mono_ms += 3000;
    assert_int_equal(gf_attempt(e, join_group_handle, w.buf, w.len, cookie, false),
                     KL_REPLY_SEND);
    wr_free(&w);
    char id[ID_MAX];
    gf_member_id(id, sizeof id, "old", 1);
    want_join_head(&e->resp, 0, KL_OK, 1, "range", id, id);
    size_t md_len;
    const uint8_t *md = gf_range_md(&md_len);
    hf_want_i32(&e->resp, 1);                               /* members */
    want_member(&e->resp, 0, id, md, md_len);
    hf_want_end(&e->resp);
    gf_free(e);
}

/* The server's final attempt (deadline passed on its clock) always gets an answer. */
static void test_final_attempt_ends_the_round(void **state)
{
    (void)state;
    gf_env_t *e = gf_new_delay(3000);
    kl_writer_t w;
    gf_join_frame(&w, 3, "c", "g", "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_PARK);
    int64_t cookie = e->req.park_cookie;
    e->wall_ms += 10;                       /* the coordinator's deadline is still ahead */
    assert_int_equal(gf_attempt(e, join_group_handle, w.buf, w.len, cookie, false),
                     KL_REPLY_PARK);
    assert_int_equal(e->req.park_cookie, cookie);          /* same ticket */
    assert_int_equal(e->req.park_until_ms, e->mono_ms + 2990);
    assert_int_equal(gf_attempt(e, join_group_handle, w.buf, w.len, cookie, true),
                     KL_REPLY_SEND);
    wr_free(&w);
    char id[ID_MAX];
    gf_member_id(id, sizeof id, "c", 1);
    want_join_head(&e->resp, 3, KL_OK, 1, "range", id, id);
    gf_free(e);
}

/* Two members, each one's first attempt parks; retries with the cookies return the
 * round's result (the leader gets every member), then SyncGroup: the follower parks
 * until the leader's assignment arrives. This is what the server does, step by step. */
static void test_two_members_join_and_sync_across_parks(void **state)
{
    (void)state;
    gf_env_t *e = gf_new_delay(3000);
    char a[ID_MAX], b[ID_MAX];
    kl_writer_t wa, wb;
    size_t md_len;
    const uint8_t *md = gf_range_md(&md_len);

    /* KIP-394 first step for both. */
    gf_join_frame(&wa, 5, "a", "grp", "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, wa.buf, wa.len), KL_REPLY_SEND);
    wr_free(&wa);
    gf_member_id(a, sizeof a, "a", 1);
    want_join_head(&e->resp, 5, KL_ERR_MEMBER_ID_REQUIRED, -1, "", "", a);
    gf_join_frame(&wb, 5, "b", "grp", "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, wb.buf, wb.len), KL_REPLY_SEND);
    wr_free(&wb);
    gf_member_id(b, sizeof b, "b", 3);
    want_join_head(&e->resp, 5, KL_ERR_MEMBER_ID_REQUIRED, -1, "", "", b);

    /* Second step: both park (group.initial.rebalance.delay.ms). */
    gf_join_frame(&wa, 5, "a", "grp", a, NULL);
    assert_int_equal(gf_run(e, join_group_handle, wa.buf, wa.len), KL_REPLY_PARK);
    int64_t ca = e->req.park_cookie;
    assert_true(ca > 0);
    e->wall_ms += 1000;
    e->mono_ms += 1000;
    gf_join_frame(&wb, 5, "b", "grp", b, NULL);
    assert_int_equal(gf_run(e, join_group_handle, wb.buf, wb.len), KL_REPLY_PARK);
    int64_t cb = e->req.park_cookie;
    assert_true(cb > 0 && cb != ca);
    assert_int_equal(e->req.park_until_ms, e->mono_ms + 3000);  /* delay restarted */

    /* A retry before the deadline parks again with the same cookie. */
    e->wall_ms += 1000;
    e->mono_ms += 1000;
    assert_int_equal(gf_attempt(e, join_group_handle, wa.buf, wa.len, ca, false),
                     KL_REPLY_PARK);
    assert_int_equal(e->req.park_cookie, ca);
    assert_int_equal(e->req.park_until_ms, e->mono_ms + 2000);

    /* The deadline: the leader's retry gets both members, the follower's none. */
    e->wall_ms += 2000;
    e->mono_ms += 2000;
    assert_int_equal(gf_attempt(e, join_group_handle, wa.buf, wa.len, ca, false),
                     KL_REPLY_SEND);
    want_join_head(&e->resp, 5, KL_OK, 1, "range", a, a);
    hf_want_i32(&e->resp, 2);                               /* members */
    want_member(&e->resp, 5, a, md, md_len);
    want_member(&e->resp, 5, b, md, md_len);
    hf_want_end(&e->resp);
    assert_int_equal(gf_attempt(e, join_group_handle, wb.buf, wb.len, cb, false),
                     KL_REPLY_SEND);
    want_join_head(&e->resp, 5, KL_OK, 1, "range", a, b);
    hf_want_i32(&e->resp, 0);                               /* members: follower */
    hf_want_end(&e->resp);
    wr_free(&wa);
    wr_free(&wb);

    /* SyncGroup v3: the follower first (parks), then the leader with the plan. */
    gf_sync_frame(&wb, 3, "grp", 1, b, NULL, NULL, 0);
    assert_int_equal(gf_run(e, sync_group_handle, wb.buf, wb.len), KL_REPLY_PARK);
    int64_t cs = e->req.park_cookie;
    assert_true(cs > 0);
    const char *members[] = { a, b };
    const char *plans[] = { "plan-a", "plan-b" };
    gf_sync_frame(&wa, 3, "grp", 1, a, members, plans, 2);
    assert_int_equal(gf_run(e, sync_group_handle, wa.buf, wa.len), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_bytes(&e->resp, "plan-a", 6);                   /* assignment */
    hf_want_end(&e->resp);
    assert_int_equal(gf_attempt(e, sync_group_handle, wb.buf, wb.len, cs, false),
                     KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_bytes(&e->resp, "plan-b", 6);                   /* assignment */
    hf_want_end(&e->resp);
    wr_free(&wa);
    wr_free(&wb);
    gf_free(e);
}

static void test_errors(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    kl_writer_t w;

    /* A member id the coordinator never gave, for a group that does not exist. */
    gf_join_frame(&w, 5, "c", "nogroup", "ghost", NULL);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_join_head(&e->resp, 5, KL_ERR_UNKNOWN_MEMBER_ID, -1, "", "", "ghost");
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);

    /* An empty group id. */
    gf_join_frame(&w, 1, "c", "", "", NULL);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_join_head(&e->resp, 1, KL_ERR_INVALID_GROUP_ID, -1, "", "", "");
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);

    /* A session timeout below group.min.session.timeout.ms (6 s). */
    gf_req_begin(&w, KL_API_JOIN_GROUP, 0, "c");
    wr_cstr(&w, false, "g");
    wr_i32(&w, 1000);
    wr_cstr(&w, false, "");
    wr_cstr(&w, false, "consumer");
    wr_array_len(&w, 0);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_join_head(&e->resp, 0, KL_ERR_INVALID_SESSION_TIMEOUT, -1, "", "", "");
    hf_want_i32(&e->resp, 0);
    hf_want_end(&e->resp);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, join_group_handle, KCAT_011_JOIN_GROUP_V5_REQ,
                                 sizeof KCAT_011_JOIN_GROUP_V5_REQ);
    gf_expect_close_on_every_cut(e, join_group_handle, KPY_007_JOIN_GROUP_V2_REQ,
                                 sizeof KPY_007_JOIN_GROUP_V2_REQ);
    /* A null protocols array is not a request. */
    kl_writer_t w;
    gf_req_begin(&w, KL_API_JOIN_GROUP, 0, "c");
    wr_cstr(&w, false, "g");
    wr_i32(&w, 10000);
    wr_cstr(&w, false, "");
    wr_cstr(&w, false, "consumer");
    wr_array_len(&w, -1);
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_CLOSE);
    wr_free(&w);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_python_v2_lone_member),
        cmocka_unit_test(test_kcat_v5_member_id_required_then_join),
        cmocka_unit_test(test_kafkajs_v5_member_id_required),
        cmocka_unit_test(test_v0_parks_and_learns_its_id_on_retry),
        cmocka_unit_test(test_final_attempt_ends_the_round),
        cmocka_unit_test(test_two_members_join_and_sync_across_parks),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
