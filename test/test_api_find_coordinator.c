/*
 * test/test_api_find_coordinator.c — unit tests of
 * infrastructure/protocol/api_find_coordinator.c: the FindCoordinator handler fed the
 * clients' own requests (kcat v2, KafkaJS v2, kafka-python v0 fixture frames) and
 * hand-built ones for the transaction and unknown key types; responses checked field
 * by field against the broker's advertised address; truncated requests close.
 */
#include "test/mocks/group_fixture.h"

/* ---- fixtures: request frames captured from the clients (/work/shared/fixtures) ---- */

/* kcat/010-FindCoordinator-v2.req.bin (30 bytes) */
static const uint8_t KCAT_FC_V2[] = {
    0x00, 0x0a, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x07, 0x72, 0x64,
    0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x0a, 0x6b, 0x63, 0x61, 0x74, 0x2d,
    0x67, 0x72, 0x6f, 0x75, 0x70, 0x00,
};
/* kafkajs/004-FindCoordinator-v2.req.bin (25 bytes) */
static const uint8_t KJS_FC_V2[] = {
    0x00, 0x0a, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 0x6b, 0x6a,
    0x73, 0x00, 0x09, 0x6b, 0x6a, 0x73, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70,
    0x00,
};
/* kafka-python/005-FindCoordinator-v0.req.bin (31 bytes) */
static const uint8_t KP_FC_V0[] = {
    0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x0b, 0x6b, 0x70,
    0x2d, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72, 0x00, 0x08, 0x6b,
    0x70, 0x2d, 0x67, 0x72, 0x6f, 0x75, 0x70,
};

static void want_this_broker_v1(kl_reader_t *r)
{
    gf_want_i32(r, 0);                                      /* throttle_time_ms */
    gf_want_i16(r, KL_OK);                                  /* error_code */
    gf_want_null_str(r);                                    /* error_message */
    gf_want_i32(r, GF_NODE_ID);                             /* node_id */
    gf_want_str(r, GF_HOST);                                /* host */
    gf_want_i32(r, GF_PORT);                                /* port */
    gf_want_end(r);
}

static void test_kcat_v2_group_key(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, find_coordinator_handle, KCAT_FC_V2, sizeof KCAT_FC_V2),
                     KL_REPLY_SEND);
    want_this_broker_v1(&e->resp);
    gf_free(e);
}

static void test_kafkajs_v2_group_key(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, find_coordinator_handle, KJS_FC_V2, sizeof KJS_FC_V2),
                     KL_REPLY_SEND);
    want_this_broker_v1(&e->resp);
    gf_free(e);
}

static void test_kafka_python_v0(void **state)
{
    (void)state;
    gf_env_t *e = gf_new();
    assert_int_equal(gf_run(e, find_coordinator_handle, KP_FC_V0, sizeof KP_FC_V0),
                     KL_REPLY_SEND);
    gf_want_i16(&e->resp, KL_OK);                           /* error_code */
    gf_want_i32(&e->resp, GF_NODE_ID);                      /* node_id */
    gf_want_str(&e->resp, GF_HOST);                         /* host */
    gf_want_i32(&e->resp, GF_PORT);                         /* port */
    gf_want_end(&e->resp);
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
    gf_want_i32(r, 0);                                      /* throttle_time_ms */
    gf_want_i16(r, err);                                    /* error_code */
    gf_want_null_str(r);                                    /* error_message */
    gf_want_i32(r, -1);                                     /* node_id */
    gf_want_str(r, "");                                     /* host */
    gf_want_i32(r, -1);                                     /* port */
    gf_want_end(r);
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
    gf_expect_close_on_every_cut(e, find_coordinator_handle, KCAT_FC_V2, sizeof KCAT_FC_V2,
                                 gf_body_at(KCAT_FC_V2));
    gf_expect_close_on_every_cut(e, find_coordinator_handle, KP_FC_V0, sizeof KP_FC_V0,
                                 gf_body_at(KP_FC_V0));
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
