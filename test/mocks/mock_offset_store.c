/*
 * test/mocks/mock_offset_store.c — the cmocka mock of the offset store port (see the
 * header for what each function checks and returns).
 * Layer: test support. May touch: application/offset_store.h, cmocka.
 *
 * Why check every commit field: the write-ahead rule (an offset is fetchable only after
 * the store took it) is only tested if the test knows exactly what reached the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test/mocks/mock_offset_store.h"

kl_err_t mock_offset_store_commit(void *self, const char *group_id,
                                  const kl_offset_commit_t *commits, size_t count,
                                  int64_t commit_timestamp_ms)
{
    (void)self;
    (void)commit_timestamp_ms;
    check_expected(group_id);
    check_expected(count);
    for (size_t i = 0; i < count; i++) {
        const char *topic = commits[i].topic;
        int32_t partition = commits[i].partition;
        int64_t offset = commits[i].offset;
        check_expected(topic);
        check_expected(partition);
        check_expected(offset);
    }
    return mock_type(kl_err_t);
}

kl_err_t mock_offset_store_load_all(void *self, kl_offset_visit_fn visit, void *arg)
{
    const mock_offset_store_t *m = self;
    kl_err_t err = KL_OK;
    for (size_t i = 0; m && err == KL_OK && i < m->count; i++)
        err = visit(arg, &m->records[i]);
    kl_err_t result = mock_type(kl_err_t);
    return err != KL_OK ? err : result;
}

kl_err_t mock_offset_store_delete_group(void *self, const char *group_id)
{
    (void)self;
    check_expected(group_id);
    return mock_type(kl_err_t);
}

kl_err_t mock_offset_store_delete_topic(void *self, const char *topic)
{
    (void)self;
    check_expected(topic);
    return mock_type(kl_err_t);
}

kl_offset_store_t mock_offset_store(mock_offset_store_t *m)
{
    kl_offset_store_t s = {
        .self = m,
        .commit = mock_offset_store_commit,
        .load_all = mock_offset_store_load_all,
        .delete_group = mock_offset_store_delete_group,
        .delete_topic = mock_offset_store_delete_topic,
    };
    return s;
}
