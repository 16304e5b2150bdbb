/*
 * test/test_api_describe_groups.c — unit tests of
 * infrastructure/protocol/api_describe_groups.c: the DescribeGroups handler fed the
 * admin clients' own requests (kafka-python v3, KafkaJS v2 fixture frames) and built
 * ones: an unknown group is Dead with no error, a Stable group shows protocol, members,
 * metadata and assignments, a rebalancing one hides them; the version gates (throttle
 * v1+, authorized_operations v3+ with KIP-430's INT32_MIN, group_instance_id v4+);
 * truncated requests.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define ID_MAX 128
#define GROUP_OPS ((1 << 3) | (1 << 6) | (1 << 8))      /* READ, DELETE, DESCRIBE */

static void want_group_head(kl_reader_t *r, kl_err_t err, const char *group,
                            const char *state, const char *type, const char *protocol)
{
    hf_want_i16(r, err);                                    /* error_code */
    hf_want_str(r, group);                                  /* group_id */
    hf_want_str(r, state);                                  /* group_state */
    hf_want_str(r, type);                                   /* protocol_type */
    hf_want_str(r, protocol);                               /* protocol_data */
}

static void test_fixtures_unknown_group_is_dead(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, describe_groups_handle, KPY_021_DESCRIBE_GROUPS_V3_REQ,
                            sizeof KPY_021_DESCRIBE_GROUPS_V3_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);                               /* groups */
    want_group_head(&e->resp, KL_OK, "kp-group", "Dead", "", "");
    hf_want_i32(&e->resp, 0);                               /* members */
    hf_want_i32(&e->resp, INT32_MIN);                       /* authorized_operations */
    hf_want_end(&e->resp);

    assert_int_equal(gf_run(e, describe_groups_handle, KJS_019_DESCRIBE_GROUPS_V2_REQ,
                            sizeof KJS_019_DESCRIBE_GROUPS_V2_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i32(&e->resp, 1);                               /* groups */
    want_group_head(&e->resp, KL_OK, "kjs-group", "Dead", "", "");
    hf_want_i32(&e->resp, 0);                               /* members (no ops in v2) */
    hf_want_end(&e->resp);
    gf_free(e);
}

static void describe_frame(kl_writer_t *w, int16_t v, const char *group, bool ops)
{
    gf_req_begin(w, KL_API_DESCRIBE_GROUPS, v, "admin");
    wr_array_len(w, 1);                                     /* groups */
    wr_cstr(w, false, group);
    if (v >= 3) wr_i8(w, ops ? 1 : 0);                      /* include_authorized_operations */
}

static void test_stable_group_v4_with_operations(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    kl_writer_t w;
    describe_frame(&w, 4, "g", true);
    assert_int_equal(gf_run(e, describe_groups_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    size_t md_len;
    const uint8_t *md = gf_range_md(&md_len);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);                                      /* throttle_time_ms */
    hf_want_i32(r, 1);                                      /* groups */
    want_group_head(r, KL_OK, "g", "Stable", "consumer", "range");
    hf_want_i32(r, 1);                                      /* members */
    hf_want_str(r, id);                                     /*   member_id */
    hf_want_null_str(r);                                    /*   group_instance_id */
    hf_want_str(r, "c");                                    /*   client_id */
    hf_want_str(r, "");                                     /*   client_host (unknown) */
    gf_want_bytes(r, md, md_len);                           /*   member_metadata */
    gf_want_bytes(r, "A", 1);                               /*   member_assignment */
    hf_want_i32(r, GROUP_OPS);                              /* authorized_operations */
    hf_want_end(r);
    gf_free(e);
}

/* v0 (no throttle): a group in PreparingRebalance shows its members without metadata,
 * and no protocol (Kafka fills those in Stable only). */
static void test_rebalancing_group_v0(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "g", "c", id, sizeof id);
    kl_writer_t w;
    gf_join_frame(&w, 2, "d", "g", "", NULL);               /* a second member: new round */
    assert_int_equal(gf_run(e, join_group_handle, w.buf, w.len), KL_REPLY_PARK);
    wr_free(&w);
    describe_frame(&w, 0, "g", false);
    assert_int_equal(gf_run(e, describe_groups_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    char other[ID_MAX];
    gf_member_id(other, sizeof other, "d", 3);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 1);                                      /* groups */
    want_group_head(r, KL_OK, "g", "PreparingRebalance", "consumer", "");
    hf_want_i32(r, 2);                                      /* members */
    hf_want_str(r, id);
    hf_want_str(r, "c");
    hf_want_str(r, "");
    gf_want_bytes(r, NULL, 0);
    gf_want_bytes(r, NULL, 0);
    hf_want_str(r, other);
    hf_want_str(r, "d");
    hf_want_str(r, "");
    gf_want_bytes(r, NULL, 0);
    gf_want_bytes(r, NULL, 0);
    hf_want_end(r);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, describe_groups_handle, KPY_021_DESCRIBE_GROUPS_V3_REQ,
                                 sizeof KPY_021_DESCRIBE_GROUPS_V3_REQ);
    gf_expect_close_on_every_cut(e, describe_groups_handle, KJS_019_DESCRIBE_GROUPS_V2_REQ,
                                 sizeof KJS_019_DESCRIBE_GROUPS_V2_REQ);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_unknown_group_is_dead),
        cmocka_unit_test(test_stable_group_v4_with_operations),
        cmocka_unit_test(test_rebalancing_group_v0),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
