/*
 * test/test_api_table.c — unit tests of infrastructure/protocol/api_table.c: the rows
 * (keys, ranges, flexible-from), lookup, and the table's own consistency.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "infrastructure/protocol/api.h"

/* Weak stand-ins for the handlers other modules implement (see test_request_header.c). */
#define STUB(fn) __attribute__((weak)) kl_reply_t fn(kl_request_t *q, kl_reader_t *b, \
    kl_writer_t *o) { (void)q; (void)b; (void)o; return KL_REPLY_CLOSE; }
STUB(metadata_handle)
STUB(produce_handle)
STUB(fetch_handle)
STUB(list_offsets_handle)
STUB(create_topics_handle)

static void assert_row(int16_t key, const char *name, int16_t min, int16_t max,
                       int16_t flexible_from, kl_api_handler_fn handler)
{
    const kl_api_t *api = api_table_find(key);
    assert_non_null(api);
    assert_int_equal(api->key, key);
    assert_string_equal(api->name, name);
    assert_int_equal(api->min_version, min);
    assert_int_equal(api->max_version, max);
    assert_int_equal(api->flexible_from, flexible_from);
    assert_true(api->handler == handler);
}

static void test_rows(void **state)
{
    (void)state;
    assert_row(KL_API_PRODUCE, "Produce", 3, 8, KL_NOT_FLEXIBLE, produce_handle);
    assert_row(KL_API_FETCH, "Fetch", 4, 11, KL_NOT_FLEXIBLE, fetch_handle);
    assert_row(KL_API_LIST_OFFSETS, "ListOffsets", 1, 5, KL_NOT_FLEXIBLE, list_offsets_handle);
    assert_row(KL_API_METADATA, "Metadata", 0, 8, KL_NOT_FLEXIBLE, metadata_handle);
    assert_row(KL_API_API_VERSIONS, "ApiVersions", 0, 3, 3, api_versions_handle);
    assert_row(KL_API_CREATE_TOPICS, "CreateTopics", 0, 4, KL_NOT_FLEXIBLE, create_topics_handle);
    assert_row(KL_API_FIND_COORDINATOR, "FindCoordinator", 0, 2, KL_NOT_FLEXIBLE, find_coordinator_handle);
    assert_row(KL_API_JOIN_GROUP, "JoinGroup", 0, 5, KL_NOT_FLEXIBLE, join_group_handle);
    assert_row(KL_API_SYNC_GROUP, "SyncGroup", 0, 3, KL_NOT_FLEXIBLE, sync_group_handle);
    assert_row(KL_API_HEARTBEAT, "Heartbeat", 0, 3, KL_NOT_FLEXIBLE, heartbeat_handle);
    assert_row(KL_API_LEAVE_GROUP, "LeaveGroup", 0, 3, KL_NOT_FLEXIBLE, leave_group_handle);
    assert_row(KL_API_OFFSET_COMMIT, "OffsetCommit", 0, 7, KL_NOT_FLEXIBLE, offset_commit_handle);
    assert_row(KL_API_OFFSET_FETCH, "OffsetFetch", 1, 5, KL_NOT_FLEXIBLE, offset_fetch_handle);
    assert_row(KL_API_DESCRIBE_GROUPS, "DescribeGroups", 0, 4, KL_NOT_FLEXIBLE, describe_groups_handle);
    assert_row(KL_API_LIST_GROUPS, "ListGroups", 0, 2, KL_NOT_FLEXIBLE, list_groups_handle);
    assert_row(KL_API_DELETE_GROUPS, "DeleteGroups", 0, 1, KL_NOT_FLEXIBLE, delete_groups_handle);
    assert_row(KL_API_DESCRIBE_CONFIGS, "DescribeConfigs", 0, 3, KL_NOT_FLEXIBLE,
               describe_configs_handle);
    /* v4+ flexible (KIP-482); v6 needs topic ids (KIP-516), which Klamm does not keep */
    assert_row(KL_API_DELETE_TOPICS, "DeleteTopics", 0, 5, 4, delete_topics_handle);
}

static void test_unknown_keys_not_found(void **state)
{
    (void)state;
    assert_null(api_table_find(-1));
    assert_null(api_table_find(999));
    assert_null(api_table_find(21));                    /* DeleteRecords: not implemented */
    assert_null(api_table_find(INT16_MAX));
}

static void test_all_is_consistent(void **state)
{
    (void)state;
    size_t n = 0;
    const kl_api_t *all = api_table_all(&n);
    assert_int_equal(n, 18);
    assert_non_null(api_table_all(NULL));
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(api_table_find(all[i].key), &all[i]);  /* keys unique */
        assert_true(all[i].min_version >= 0);
        assert_true(all[i].min_version <= all[i].max_version);
        assert_true(all[i].flexible_from > all[i].min_version);
        assert_non_null(all[i].handler);
        assert_non_null(all[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_unknown_keys_not_found),
        cmocka_unit_test(test_all_is_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
