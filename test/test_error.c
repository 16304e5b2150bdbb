/*
 * test/test_error.c — unit tests of domain/error.c: every code has Kafka's name,
 * the numbers are the protocol's, and unlisted values read "UNKNOWN".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "domain/error.h"

/* The protocol guide's table, restated independently of error.c's switch. */
static const struct { int code; kl_err_t err; const char *name; } expected[] = {
    { -1, KL_ERR_UNKNOWN_SERVER_ERROR, "UNKNOWN_SERVER_ERROR" },
    { 0, KL_OK, "NONE" },
    { 1, KL_ERR_OFFSET_OUT_OF_RANGE, "OFFSET_OUT_OF_RANGE" },
    { 2, KL_ERR_CORRUPT_MESSAGE, "CORRUPT_MESSAGE" },
    { 3, KL_ERR_UNKNOWN_TOPIC_OR_PARTITION, "UNKNOWN_TOPIC_OR_PARTITION" },
    { 4, KL_ERR_INVALID_FETCH_SIZE, "INVALID_FETCH_SIZE" },
    { 5, KL_ERR_LEADER_NOT_AVAILABLE, "LEADER_NOT_AVAILABLE" },
    { 6, KL_ERR_NOT_LEADER_OR_FOLLOWER, "NOT_LEADER_OR_FOLLOWER" },
    { 7, KL_ERR_REQUEST_TIMED_OUT, "REQUEST_TIMED_OUT" },
    { 10, KL_ERR_MESSAGE_TOO_LARGE, "MESSAGE_TOO_LARGE" },
    { 14, KL_ERR_COORDINATOR_LOAD_IN_PROGRESS, "COORDINATOR_LOAD_IN_PROGRESS" },
    { 15, KL_ERR_COORDINATOR_NOT_AVAILABLE, "COORDINATOR_NOT_AVAILABLE" },
    { 16, KL_ERR_NOT_COORDINATOR, "NOT_COORDINATOR" },
    { 17, KL_ERR_INVALID_TOPIC_EXCEPTION, "INVALID_TOPIC_EXCEPTION" },
    { 18, KL_ERR_RECORD_LIST_TOO_LARGE, "RECORD_LIST_TOO_LARGE" },
    { 21, KL_ERR_INVALID_REQUIRED_ACKS, "INVALID_REQUIRED_ACKS" },
    { 22, KL_ERR_ILLEGAL_GENERATION, "ILLEGAL_GENERATION" },
    { 23, KL_ERR_INCONSISTENT_GROUP_PROTOCOL, "INCONSISTENT_GROUP_PROTOCOL" },
    { 24, KL_ERR_INVALID_GROUP_ID, "INVALID_GROUP_ID" },
    { 25, KL_ERR_UNKNOWN_MEMBER_ID, "UNKNOWN_MEMBER_ID" },
    { 26, KL_ERR_INVALID_SESSION_TIMEOUT, "INVALID_SESSION_TIMEOUT" },
    { 27, KL_ERR_REBALANCE_IN_PROGRESS, "REBALANCE_IN_PROGRESS" },
    { 28, KL_ERR_INVALID_COMMIT_OFFSET_SIZE, "INVALID_COMMIT_OFFSET_SIZE" },
    { 32, KL_ERR_INVALID_TIMESTAMP, "INVALID_TIMESTAMP" },
    { 33, KL_ERR_UNSUPPORTED_SASL_MECHANISM, "UNSUPPORTED_SASL_MECHANISM" },
    { 35, KL_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION" },
    { 36, KL_ERR_TOPIC_ALREADY_EXISTS, "TOPIC_ALREADY_EXISTS" },
    { 37, KL_ERR_INVALID_PARTITIONS, "INVALID_PARTITIONS" },
    { 38, KL_ERR_INVALID_REPLICATION_FACTOR, "INVALID_REPLICATION_FACTOR" },
    { 39, KL_ERR_INVALID_REPLICA_ASSIGNMENT, "INVALID_REPLICA_ASSIGNMENT" },
    { 40, KL_ERR_INVALID_CONFIG, "INVALID_CONFIG" },
    { 41, KL_ERR_NOT_CONTROLLER, "NOT_CONTROLLER" },
    { 42, KL_ERR_INVALID_REQUEST, "INVALID_REQUEST" },
    { 43, KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, "UNSUPPORTED_FOR_MESSAGE_FORMAT" },
    { 56, KL_ERR_KAFKA_STORAGE_ERROR, "KAFKA_STORAGE_ERROR" },
    { 68, KL_ERR_NON_EMPTY_GROUP, "NON_EMPTY_GROUP" },
    { 69, KL_ERR_GROUP_ID_NOT_FOUND, "GROUP_ID_NOT_FOUND" },
    { 76, KL_ERR_UNSUPPORTED_COMPRESSION_TYPE, "UNSUPPORTED_COMPRESSION_TYPE" },
    { 79, KL_ERR_MEMBER_ID_REQUIRED, "MEMBER_ID_REQUIRED" },
    { 81, KL_ERR_GROUP_MAX_SIZE_REACHED, "GROUP_MAX_SIZE_REACHED" },
    { 82, KL_ERR_FENCED_INSTANCE_ID, "FENCED_INSTANCE_ID" },
    { 87, KL_ERR_INVALID_RECORD, "INVALID_RECORD" },
};

static void test_codes_have_protocol_numbers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_int_equal((int)expected[i].err, expected[i].code);
}

static void test_every_code_has_kafka_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_string_equal(kl_err_name(expected[i].err), expected[i].name);
}

static void test_names_are_distinct(void **state)
{
    (void)state;
    size_t n = sizeof expected / sizeof expected[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(kl_err_name(expected[i].err), kl_err_name(expected[j].err));
}

static void test_unlisted_code_is_unknown(void **state)
{
    (void)state;
    assert_string_equal(kl_err_name((kl_err_t)9), "UNKNOWN");
    assert_string_equal(kl_err_name((kl_err_t)1000), "UNKNOWN");
    assert_string_equal(kl_err_name((kl_err_t)-2), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_have_protocol_numbers),
        cmocka_unit_test(test_every_code_has_kafka_name),
        cmocka_unit_test(test_names_are_distinct),
        cmocka_unit_test(test_unlisted_code_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
