/*
 * test/test_api_delete_groups.c — unit tests of
 * infrastructure/protocol/api_delete_groups.c: the DeleteGroups handler fed the admin
 * clients' own requests (kafka-python v1, KafkaJS v1 fixture frames) and a built v0
 * one: GROUP_ID_NOT_FOUND, an Empty group deleted (its offsets durably first: the mock
 * store must see delete_group), NON_EMPTY_GROUP, a store failure; truncated requests.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

#define ID_MAX 128

/* An Empty group that only holds offsets (t-0 at 3). */
static void offsets_only_group(gf_env_t *e, const char *group)
{
    gf_commit_offset(e, group, "t", 0, 3, "");
}

static void want_one_result(kl_reader_t *r, const char *group, kl_err_t err)
{
    hf_want_i32(r, 0);                                      /* throttle_time_ms */
    hf_want_i32(r, 1);                                      /* results */
    hf_want_str(r, group);                                  /*   group_id */
    hf_want_i16(r, err);                                    /*   error_code */
    hf_want_end(r);
}

static void test_kafka_python_v1_not_found(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, delete_groups_handle, KPY_025_DELETE_GROUPS_V1_REQ,
                            sizeof KPY_025_DELETE_GROUPS_V1_REQ), KL_REPLY_SEND);
    want_one_result(&e->resp, "kp-group", KL_ERR_GROUP_ID_NOT_FOUND);
    gf_free(e);
}

static void test_kafkajs_v1_deletes_empty_group(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    offsets_only_group(e, "kjs-group");
    expect_string(mock_offset_store_delete_group, group_id, "kjs-group");
    will_return(mock_offset_store_delete_group, KL_OK);
    assert_int_equal(gf_run(e, delete_groups_handle, KJS_020_DELETE_GROUPS_V1_REQ,
                            sizeof KJS_020_DELETE_GROUPS_V1_REQ), KL_REPLY_SEND);
    want_one_result(&e->resp, "kjs-group", KL_OK);
    coord_offset_t off;
    assert_int_equal(coord_fetch_offset(&e->coord, "kjs-group", "t", 0, &off), KL_OK);
    assert_int_equal(off.offset, -1);                       /* the offsets went with it */
    gf_free(e);
}

/* v0, several groups, each its own answer: members, a store failure, not found. */
static void test_v0_one_result_per_group(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    char id[ID_MAX];
    gf_stable_member(e, "busy", "c", id, sizeof id);
    offsets_only_group(e, "disk");
    expect_string(mock_offset_store_delete_group, group_id, "disk");
    will_return(mock_offset_store_delete_group, KL_ERR_KAFKA_STORAGE_ERROR);
    kl_writer_t w;
    gf_req_begin(&w, KL_API_DELETE_GROUPS, 0, "admin");
    wr_array_len(&w, 3);                                    /* groups_names */
    wr_cstr(&w, false, "busy");
    wr_cstr(&w, false, "disk");
    wr_cstr(&w, false, "none");
    assert_int_equal(gf_run(e, delete_groups_handle, w.buf, w.len), KL_REPLY_SEND);
    wr_free(&w);
    kl_reader_t *r = &e->resp;
    hf_want_i32(r, 0);                                      /* throttle_time_ms */
    hf_want_i32(r, 3);                                      /* results */
    hf_want_str(r, "busy");
    hf_want_i16(r, KL_ERR_NON_EMPTY_GROUP);
    hf_want_str(r, "disk");
    hf_want_i16(r, KL_ERR_KAFKA_STORAGE_ERROR);
    hf_want_str(r, "none");
    hf_want_i16(r, KL_ERR_GROUP_ID_NOT_FOUND);
    hf_want_end(r);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, delete_groups_handle, KPY_025_DELETE_GROUPS_V1_REQ,
                                 sizeof KPY_025_DELETE_GROUPS_V1_REQ);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_python_v1_not_found),
        cmocka_unit_test(test_kafkajs_v1_deletes_empty_group),
        cmocka_unit_test(test_v0_one_result_per_group),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
