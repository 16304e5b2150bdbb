/*
 * test/mocks/mock_log_store.h — a cmocka mock of the application's log_store port
 * (application/ports.h), shared by every test that drives a use case.
 * Layer: test support. May touch: application/ports.h, cmocka.
 *
 * Each mock function checks its key arguments with check_expected() and returns values
 * queued with will_return(), so a test states exactly which store calls it expects.
 * Use the raw cmocka macros on the function names below, or the helpers, which queue
 * the expectations and the results of one call in the order the mock consumes them.
 *
 * What each mock checks and returns (in will_return order):
 *   topic_create        checks name, partition_count          returns err
 *   topic_load_all      —  returns count, then `count` meta pointers (visited in order;
 *                          a visit error stops the walk and is returned), then err
 *   partition_open      checks topic, partition                returns log handle,
 *                          log_start, high_watermark, log_end, err
 *   partition_close     checks log
 *   append              checks log, len, base_offset (the first batch's, read at call time,
 *                          so a test sees the offsets the use case assigned)   returns err
 *   read                checks log, offset, max_bytes          returns byte count, byte
 *                          pointer (copied into the sink), err
 *   offset_for_timestamp checks log, timestamp                 returns offset, timestamp, err
 *   segments            checks log                             returns count, segment info
 *                          pointer (min(cap, count) entries copied out), err
 *   delete_segments_before checks log, offset                  returns log start, err
 *   topic_delete        checks topic, count, and every partitions[i].log (one
 *                          check_expected(log) per partition, in order)   returns err
 */
#ifndef KL_TEST_MOCK_LOG_STORE_H
#define KL_TEST_MOCK_LOG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "application/ports.h"

/* The port with every function pointing at a mock below; self is NULL. */
kl_log_store_t mock_log_store(void);

kl_err_t mock_log_store_topic_create(void *self, const kl_topic_meta_t *meta);
kl_err_t mock_log_store_topic_load_all(void *self, kl_topic_visit_fn visit, void *arg);
kl_err_t mock_log_store_partition_open(void *self, const char *topic, int32_t partition,
                                       void **log_out, kl_partition_offsets_t *offsets_out);
void mock_log_store_partition_close(void *self, void *log);
kl_err_t mock_log_store_append(void *self, void *log, const uint8_t *batches, size_t len);
kl_err_t mock_log_store_read(void *self, void *log, int64_t offset, int32_t max_bytes,
                             kl_buf_sink_t *sink, size_t *len_out);
kl_err_t mock_log_store_offset_for_timestamp(void *self, void *log, int64_t timestamp,
                                             int64_t *offset_out, int64_t *timestamp_out);
kl_err_t mock_log_store_segments(void *self, void *log, kl_segment_info_t *segs, size_t cap,
                                 size_t *count_out);
kl_err_t mock_log_store_delete_segments_before(void *self, void *log, int64_t offset,
                                               int64_t *log_start_out);
kl_err_t mock_log_store_topic_delete(void *self, const char *topic,
                                     const kl_partition_t *partitions, int32_t count);

/* Helpers: expect one call with these arguments and queue its results. Pointers passed
 * in (name, topic, metas, bytes) must outlive the call they describe. */
void mock_log_store_expect_topic_create(const char *name, int32_t partition_count,
                                        kl_err_t result);
void mock_log_store_expect_load_all(const kl_topic_meta_t *metas, int count, kl_err_t result);
void mock_log_store_expect_open(const char *topic, int32_t partition, void *log,
                                int64_t log_start, int64_t log_end, kl_err_t result);
void mock_log_store_expect_close(void *log);
void mock_log_store_expect_append(void *log, size_t len, int64_t first_base_offset,
                                  kl_err_t result);
void mock_log_store_expect_read(void *log, int64_t offset, int32_t max_bytes,
                                const uint8_t *bytes, size_t n, kl_err_t result);
void mock_log_store_expect_offset_for_timestamp(void *log, int64_t timestamp,
                                                int64_t offset, int64_t found_timestamp,
                                                kl_err_t result);
void mock_log_store_expect_segments(void *log, const kl_segment_info_t *segs, size_t count,
                                    kl_err_t result);
void mock_log_store_expect_delete_before(void *log, int64_t offset, int64_t log_start,
                                         kl_err_t result);
/* A topic_delete of `topic` handing over the `count` logs logs[0..count). */
void mock_log_store_expect_topic_delete(const char *topic, void *const *logs, int32_t count,
                                        kl_err_t result);

#endif
