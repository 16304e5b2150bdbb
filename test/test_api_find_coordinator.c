/*
 * test/test_api_find_coordinator.c — unit tests of
 * infrastructure/protocol/api_find_coordinator.c: the FindCoordinator handler fed the
 * clients' own requests (kcat v2, KafkaJS v2, kafka-python v0 fixture frames) and
 * hand-built ones for the transaction and unknown key types; responses checked field
 * by field against the broker's advertised address; truncated requests close.
 */
#include "test/fixtures/client_frames.h"
#include "test/mocks/group_fixture.h"

static void want_this_broker_v1(kl_reader_t *r)
{
    hf_want_i32(r, 0);                                      /* throttle_time_ms */
    hf_want_i16(r, KL_OK);                                  /* error_code */
    hf_want_null_str(r);                                    /* error_message */
    hf_want_i32(r, HF_NODE_ID);                             /* node_id */
    hf_want_str(r, GF_HOST);                                /* host */
    hf_want_i32(r, GF_PORT);                                /* port */
    hf_want_end(r);
}

static void test_kcat_v2_group_key(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, find_coordinator_handle, KCAT_010_FIND_COORDINATOR_V2_REQ,
                            sizeof KCAT_010_FIND_COORDINATOR_V2_REQ), KL_REPLY_SEND);
    want_this_broker_v1(&e->resp);
    gf_free(e);
}

static void test_kafkajs_v2_group_key(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, find_coordinator_handle, KJS_004_FIND_COORDINATOR_V2_REQ,
                            sizeof KJS_004_FIND_COORDINATOR_V2_REQ), KL_REPLY_SEND);
    want_this_broker_v1(&e->resp);
    gf_free(e);
}

static void test_kafka_python_v0(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, find_coordinator_handle, KPY_005_FIND_COORDINATOR_V0_REQ,
                            sizeof KPY_005_FIND_COORDINATOR_V0_REQ), KL_REPLY_SEND);
    hf_want_i16(&e->resp, KL_OK);                           /* error_code */
    hf_want_i32(&e->resp, HF_NODE_ID);                      /* node_id */
    hf_want_str(&e->resp, GF_HOST);                         /* host */
    hf_want_i32(&e->resp, GF_PORT);                         /* port */
    hf_want_end(&e->resp);
    gf_free(e);
}

static kl_reply_t run_key_type(gf_env_t *e, int16_t version, int8_t key_type)
{
    kl_writer_t w;
    gf_req_begin(&w, KL_API_FIND_COORDINATOR, version, "test");
    wr_cstr(&w, false, "txn-id");                           /* key */
    wr_i8(&w, key_type);                                    /* key_type */
    kl_reply_t reply = gf_run(e, find_coordinator_handle, w.buf, w.len);
    wr_free(&w);
    return reply;
}

static void want_no_coordinator(kl_reader_t *r, kl_err_t err)
{
    hf_want_i32(r, 0);                                      /* throttle_time_ms */
    hf_want_i16(r, err);                                    /* error_code */
    hf_want_null_str(r);                                    /* error_message */
    hf_want_i32(r, -1);                                     /* node_id */
    hf_want_str(r, "");                                     /* host */
    hf_want_i32(r, -1);                                     /* port */
    hf_want_end(r);
}

/* KIP-98 transaction coordinators do not exist here. */
static void test_transaction_key_not_available(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(run_key_type(e, 1, 1), KL_REPLY_SEND);
    want_no_coordinator(&e->resp, KL_ERR_COORDINATOR_NOT_AVAILABLE);
    gf_free(e);
}

static void test_unknown_key_type_invalid_request(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(run_key_type(e, 2, 7), KL_REPLY_SEND);
    want_no_coordinator(&e->resp, KL_ERR_INVALID_REQUEST);
    gf_free(e);
}

static void test_truncated_requests_close(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    gf_expect_close_on_every_cut(e, find_coordinator_handle,
                                 KCAT_010_FIND_COORDINATOR_V2_REQ,
                                 sizeof KCAT_010_FIND_COORDINATOR_V2_REQ);
    gf_expect_close_on_every_cut(e, find_coordinator_handle,
                                 KPY_005_FIND_COORDINATOR_V0_REQ,
                                 sizeof KPY_005_FIND_COORDINATOR_V0_REQ);
    gf_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kcat_v2_group_key),
        cmocka_unit_test(test_kafkajs_v2_group_key),
        cmocka_unit_test(test_kafka_python_v0),
        cmocka_unit_test(test_transaction_key_not_available),
        cmocka_unit_test(test_unknown_key_type_invalid_request),
        cmocka_unit_test(test_truncated_requests_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
