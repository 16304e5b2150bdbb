/*
 * test/mocks/mock_log_store.c — the cmocka mock of the log_store port (see the header
 * for what each function checks and returns).
 * Layer: test support. May touch: application/ports.h, domain/record_batch.h, cmocka.
 *
 * The read mock really writes bytes into the caller's sink, so a fetch test exercises
 * the same reserve-and-fill path the on-disk store uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "domain/record_batch.h"
#include "test/mocks/mock_log_store.h"

kl_err_t mock_log_store_topic_create(void *self, const kl_topic_meta_t *meta)
{
    (void)self;
    const char *name = meta->name;
    int32_t partition_count = meta->partition_count;
    check_expected(name);
    check_expected(partition_count);
    return mock_type(kl_err_t);
}

kl_err_t mock_log_store_topic_load_all(void *self, kl_topic_visit_fn visit, void *arg)
{
    (void)self;
    int count = mock_type(int);
    kl_err_t err = KL_OK;
    for (int i = 0; i < count; i++) {
        const kl_topic_meta_t *meta = mock_ptr_type(const kl_topic_meta_t *);
        if (err == KL_OK)
            err = visit(arg, meta);     /* keep consuming the queue so it stays balanced */
    }
    kl_err_t result = mock_type(kl_err_t);
    return err != KL_OK ? err : result;
}

kl_err_t mock_log_store_partition_open(void *self, const char *topic, int32_t partition,
                                       void **log_out, kl_partition_offsets_t *offsets_out)
{
    (void)self;
    check_expected(topic);
    check_expected(partition);
    *log_out = mock_ptr_type(void *);
    offsets_out->log_start = mock_type(int64_t);
    offsets_out->high_watermark = mock_type(int64_t);
    offsets_out->log_end = mock_type(int64_t);
    return mock_type(kl_err_t);
}

void mock_log_store_partition_close(void *self, void *log)
{
    (void)self;
    check_expected_ptr(log);
}

kl_err_t mock_log_store_append(void *self, void *log, const uint8_t *batches, size_t len)
{
    (void)self;
    int64_t base_offset = len >= 8 ? kl_be64_read(batches) : -1;
    check_expected_ptr(log);
    check_expected(len);
    check_expected(base_offset);
    return mock_type(kl_err_t);
}

kl_err_t mock_log_store_read(void *self, void *log, int64_t offset, int32_t max_bytes,
                             kl_buf_sink_t *sink, size_t *len_out)
{
    (void)self;
    check_expected_ptr(log);
    check_expected(offset);
    check_expected(max_bytes);
    size_t n = mock_type(size_t);
    const uint8_t *bytes = mock_ptr_type(const uint8_t *);
    kl_err_t result = mock_type(kl_err_t);
    *len_out = 0;
    if (result != KL_OK || n == 0)
        return result;
    uint8_t *dst = sink->reserve(sink->arg, n);
    if (dst == NULL)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    memcpy(dst, bytes, n);
    *len_out = n;
    return KL_OK;
}

kl_err_t mock_log_store_offset_for_timestamp(void *self, void *log, int64_t timestamp,
                                             int64_t *offset_out, int64_t *timestamp_out)
{
    (void)self;
    check_expected_ptr(log);
    check_expected(timestamp);
    *offset_out = mock_type(int64_t);
    *timestamp_out = mock_type(int64_t);
    return mock_type(kl_err_t);
}

kl_err_t mock_log_store_segments(void *self, void *log, kl_segment_info_t *segs, size_t cap,
                                 size_t *count_out)
{
    (void)self;
    check_expected_ptr(log);
    size_t count = mock_type(size_t);
    const kl_segment_info_t *src = mock_ptr_type(const kl_segment_info_t *);
    kl_err_t result = mock_type(kl_err_t);
    size_t n = count < cap ? count : cap;
    if (n > 0)
        memcpy(segs, src, n * sizeof *segs);
    *count_out = count;
    return result;
}

kl_err_t mock_log_store_delete_segments_before(void *self, void *log, int64_t offset,
                                               int64_t *log_start_out)
{
    (void)self;
    check_expected_ptr(log);
    check_expected(offset);
    *log_start_out = mock_type(int64_t);
    return mock_type(kl_err_t);
}

kl_err_t mock_log_store_topic_delete(void *self, const char *topic,
                                     const kl_partition_t *partitions, int32_t count)
{
    (void)self;
    check_expected(topic);
    check_expected(count);
    for (int32_t i = 0; i < count; i++) {
        void *log = partitions[i].log;
        check_expected_ptr(log);
    }
    return mock_type(kl_err_t);
}

kl_log_store_t mock_log_store(void)
{
    kl_log_store_t s = {
        .self = NULL,
        .topic_create = mock_log_store_topic_create,
        .topic_load_all = mock_log_store_topic_load_all,
        .partition_open = mock_log_store_partition_open,
        .partition_close = mock_log_store_partition_close,
        .append = mock_log_store_append,
        .read = mock_log_store_read,
        .offset_for_timestamp = mock_log_store_offset_for_timestamp,
        .segments = mock_log_store_segments,
        .delete_segments_before = mock_log_store_delete_segments_before,
        .topic_delete = mock_log_store_topic_delete,
    };
    return s;
}

/* ---- helpers: one expected call each ---- */

void mock_log_store_expect_topic_create(const char *name, int32_t partition_count,
                                        kl_err_t result)
{
    expect_string(mock_log_store_topic_create, name, name);
    expect_value(mock_log_store_topic_create, partition_count, partition_count);
    will_return(mock_log_store_topic_create, result);
}

void mock_log_store_expect_load_all(const kl_topic_meta_t *metas, int count, kl_err_t result)
{
    will_return(mock_log_store_topic_load_all, count);
    for (int i = 0; i < count; i++)
        will_return(mock_log_store_topic_load_all, &metas[i]);
    will_return(mock_log_store_topic_load_all, result);
}

void mock_log_store_expect_open(const char *topic, int32_t partition, void *log,
                                int64_t log_start, int64_t log_end, kl_err_t result)
{
    expect_string(mock_log_store_partition_open, topic, topic);
    expect_value(mock_log_store_partition_open, partition, partition);
    will_return(mock_log_store_partition_open, log);
    will_return(mock_log_store_partition_open, log_start);
    will_return(mock_log_store_partition_open, log_end);  /* one replica: hw == log end */
    will_return(mock_log_store_partition_open, log_end);
    will_return(mock_log_store_partition_open, result);
}

void mock_log_store_expect_close(void *log)
{
    expect_value(mock_log_store_partition_close, log, log);
}

void mock_log_store_expect_append(void *log, size_t len, int64_t first_base_offset,
                                  kl_err_t result)
{
    expect_value(mock_log_store_append, log, log);
    expect_value(mock_log_store_append, len, len);
    expect_value(mock_log_store_append, base_offset, first_base_offset);
    will_return(mock_log_store_append, result);
}

void mock_log_store_expect_read(void *log, int64_t offset, int32_t max_bytes,
                                const uint8_t *bytes, size_t n, kl_err_t result)
{
    expect_value(mock_log_store_read, log, log);
    expect_value(mock_log_store_read, offset, offset);
    expect_value(mock_log_store_read, max_bytes, max_bytes);
    will_return(mock_log_store_read, n);
    will_return(mock_log_store_read, bytes);
    will_return(mock_log_store_read, result);
}

void mock_log_store_expect_offset_for_timestamp(void *log, int64_t timestamp,
                                                int64_t offset, int64_t found_timestamp,
                                                kl_err_t result)
{
    expect_value(mock_log_store_offset_for_timestamp, log, log);
    expect_value(mock_log_store_offset_for_timestamp, timestamp, timestamp);
    will_return(mock_log_store_offset_for_timestamp, offset);
    will_return(mock_log_store_offset_for_timestamp, found_timestamp);
    will_return(mock_log_store_offset_for_timestamp, result);
}

void mock_log_store_expect_segments(void *log, const kl_segment_info_t *segs, size_t count,
                                    kl_err_t result)
{
    expect_value(mock_log_store_segments, log, log);
    will_return(mock_log_store_segments, count);
    will_return(mock_log_store_segments, segs);
    will_return(mock_log_store_segments, result);
}

void mock_log_store_expect_delete_before(void *log, int64_t offset, int64_t log_start,
                                         kl_err_t result)
{
    expect_value(mock_log_store_delete_segments_before, log, log);
    expect_value(mock_log_store_delete_segments_before, offset, offset);
    will_return(mock_log_store_delete_segments_before, log_start);
    will_return(mock_log_store_delete_segments_before, result);
}

void mock_log_store_expect_topic_delete(const char *topic, void *const *logs, int32_t count,
                                        kl_err_t result)
{
    expect_string(mock_log_store_topic_delete, topic, topic);
    expect_value(mock_log_store_topic_delete, count, count);
    for (int32_t i = 0; i < count; i++)
        expect_value(mock_log_store_topic_delete, log, logs[i]);
    will_return(mock_log_store_topic_delete, result);
}
