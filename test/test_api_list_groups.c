/*
 * test/test_api_list_groups.c — unit tests of infrastructure/protocol/api_list_groups.c:
 * the ListGroups handler fed the admin clients' own requests (kafka-python v1, KafkaJS
 * v2 fixture frames, empty bodies) and a built v0 one: no groups, then a consumer group
 * and a group that only stores offsets ("" protocol type); throttle from v1.
 */
#include "test/mocks/group_fixture.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kafka-python/020-ListGroups-v1.req.bin (18 bytes) */
static const uint8_t KP_LG_V1[] = {
    0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x08, 0x6b, 0x70,
    0x2d, 0x61, 0x64, 0x6d, 0x69, 0x6e,
};
/* kafkajs/018-ListGroups-v2.req.bin (13 bytes) */
static const uint8_t KJS_LG_V2[] = {
    0x00, 0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 0x6b, 0x6a,
    0x73,
};

#define ID_MAX 128

static void test_no_groups(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, list_groups_handle, KP_LG_V1, sizeof KP_LG_V1), KL_REPLY_SEND);
    gf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    gf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_i32(&e->resp, 0);                               /* groups */
    gf_want_end(&e->resp);
    gf_free(e);
}

static void add_groups(gf_env_t *e)
{
    char id[ID_MAX];
    gf_stable_member(e, "consumers", "c", id, sizeof id);
    expect_string(mock_offset_store_commit, group_id, "offsets-only");
    expect_value(mock_offset_store_commit, count, 1);
    expect_string(mock_offset_store_commit, topic, "t");
    expect_value(mock_offset_store_commit, partition, 0);
    expect_value(mock_offset_store_commit, offset, 3);
    will_return(mock_offset_store_commit, KL_OK);
    kl_offset_commit_t c = { "t", 0, 3, "" };
    assert_int_equal(coord_commit_offsets(&e->coord, "offsets-only", -1, "", NULL, &c, 1),
                     KL_OK);
}

static void want_groups(kl_reader_t *r)
{
    gf_want_i16(r, KL_OK);                                  /* error_code */
    gf_want_i32(r, 2);                                      /* groups */
    gf_want_str(r, "consumers");                            /*   group_id */
    gf_want_str(r, "consumer");                             /*   protocol_type */
    gf_want_str(r, "offsets-only");
    gf_want_str(r, "");
    gf_want_end(r);
}

static void test_kafkajs_v2_lists_every_group(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    add_groups(e);
    assert_int_equal(gf_run(e, list_groups_handle, KJS_LG_V2, sizeof KJS_LG_V2),
                     KL_REPLY_SEND);
    gf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    want_groups(&e->resp);
    gf_free(e);
}

static void test_v0_no_throttle(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    add_groups(e);
    kl_writer_t w;
    gf_req_begin(&w, KL_API_LIST_GROUPS, 0, "admin");
    assert_int_equal(gf_run(e, list_groups_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    want_groups(&e->resp);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_groups),
        cmocka_unit_test(test_kafkajs_v2_lists_every_group),
        cmocka_unit_test(test_v0_no_throttle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
