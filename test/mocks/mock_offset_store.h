/*
 * test/mocks/mock_offset_store.h — a cmocka mock of the offset store port
 * (application/offset_store.h).
 * Layer: test support. May touch: application/offset_store.h, cmocka.
 *
 *   commit        check_expected(group_id), check_expected(count), then per commit
 *                 check_expected(topic), check_expected(partition), check_expected(offset);
 *                 returns the queued kl_err_t (will_return(mock_offset_store_commit, err)).
 *   load_all      visits the records of the mock_offset_store_t in `self`, in order,
 *                 then returns the queued kl_err_t (will_return(mock_offset_store_load_all, err)).
 *   delete_group  check_expected(group_id); returns the queued kl_err_t.
 *   delete_topic  check_expected(topic); returns the queued kl_err_t.
 */
#ifndef KL_TEST_MOCK_OFFSET_STORE_H
#define KL_TEST_MOCK_OFFSET_STORE_H

#include <stddef.h>

#include "application/offset_store.h"

/* What load_all replays (owned by the test, usually on its stack). */
typedef struct mock_offset_store {
    const kl_offset_record_t *records;
    size_t count;
} mock_offset_store_t;

/* The port over `m` (m may be NULL: nothing to replay). */
kl_offset_store_t mock_offset_store(mock_offset_store_t *m);

kl_err_t mock_offset_store_commit(void *self, const char *group_id,
                                  const kl_offset_commit_t *commits, size_t count,
                                  int64_t commit_timestamp_ms);
kl_err_t mock_offset_store_load_all(void *self, kl_offset_visit_fn visit, void *arg);
kl_err_t mock_offset_store_delete_group(void *self, const char *group_id);
kl_err_t mock_offset_store_delete_topic(void *self, const char *topic);

#endif
