/*
 * test/test_api_list_groups.c — unit tests of infrastructure/protocol/api_list_groups.c:
 * the ListGroups handler fed the admin clients' own requests (kafka-python v1, KafkaJS
 * v2 fixture frames, empty bodies) and a built v0 one: no groups, then a consumer group
 * and a group that only stores offsets ("" protocol type); throttle from v1.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define ID_MAX 128

static void test_no_groups(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, list_groups_handle, KPY_020_LIST_GROUPS_V1_REQ,
                            sizeof KPY_020_LIST_GROUPS_V1_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    hf_want_i32(&e->resp, 0);                               /* groups */
    hf_want_end(&e->resp);
    gf_free(e);
}

static void add_groups(gf_env_t *e)
{
    char id[ID_MAX];
    gf_stable_member(e, "consumers", "c", id, sizeof id);
    gf_commit_offset(e, "offsets-only", "t", 0, 3, "");
}

static void want_groups(kl_reader_t *r)
{
    hf_want_i16(r, KL_OK);                                  /* error_code */
    hf_want_i32(r, 2);                                      /* groups */
    hf_want_str(r, "consumers");                            /*   group_id */
    hf_want_str(r, "consumer");                             /*   protocol_type */
    hf_want_str(r, "offsets-only");
    hf_want_str(r, "");
    hf_want_end(r);
}

static void test_kafkajs_v2_lists_every_group(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    add_groups(e);
    assert_int_equal(gf_run(e, list_groups_handle, KJS_018_LIST_GROUPS_V2_REQ,
                            sizeof KJS_018_LIST_GROUPS_V2_REQ), KL_REPLY_SEND);
    hf_want_i32(&e->resp, 0);                               /* throttle_time_ms */
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
