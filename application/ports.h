/*
 * application/ports.h — the ports: what the use cases need from the outside world,
 * as small structs of function pointers (an adapter fills them; a test mocks them).
 * Layer: application. May touch: domain/.
 *
 * Every port carries `self`, the adapter's own state, passed back on each call, so two
 * adapters (a real one and a cmocka mock) can sit behind the same port.
 */
#ifndef KL_APPLICATION_PORTS_H
#define KL_APPLICATION_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "domain/partition.h"
#include "domain/retention.h"
#include "domain/topic.h"

/* Where a read puts its bytes: the caller's buffer grows by `n` and the store fills it.
 * Lets Fetch read a segment straight into the response (one copy, no temp buffer).
 * A store that reserved room for a whole range and then served less (it found a corrupt
 * batch in what it read, or the read failed) gives the unused tail back with `unreserve`,
 * so the check of the bytes can happen after they landed in the response.
 * `splice` (may be NULL) takes the bytes by reference instead: `n` bytes at `offset` of
 * the store's open file `file` (an OS file descriptor the caller may keep using until
 * the read returns; no copy at all). false = not taken (out of memory): the store then
 * copies through `reserve`. */
typedef struct kl_buf_sink {
    void *arg;
    uint8_t *(*reserve)(void *arg, size_t n);   /* NULL when out of memory */
    void (*unreserve)(void *arg, size_t n);     /* drop the last n reserved bytes */
    bool (*splice)(void *arg, int file, int64_t offset, size_t n);
} kl_buf_sink_t;

/* Called once per persisted topic at startup by log_store.topic_load_all. */
typedef kl_err_t (*kl_topic_visit_fn)(void *arg, const kl_topic_meta_t *meta);

/* The partition logs and the topic catalogue, on disk in production
 * (infrastructure/storage/log_dir.c). */
typedef struct kl_log_store {
    void *self;
    /* Persist a new topic's metadata and create its partition directories (durable
     * before it returns: a created topic survives a crash). */
    kl_err_t (*topic_create)(void *self, const kl_topic_meta_t *meta);
    /* Call `visit` for every topic persisted earlier. */
    kl_err_t (*topic_load_all)(void *self, kl_topic_visit_fn visit, void *arg);
    /* Open (recovering if needed) one partition's log; report its offsets. */
    kl_err_t (*partition_open)(void *self, const char *topic, int32_t partition,
                               void **log_out, kl_partition_offsets_t *offsets_out);
    void (*partition_close)(void *self, void *log);
    /* Append validated batches whose base offsets are already assigned (contiguous,
     * starting at the log end). Nothing is appended on error. */
    kl_err_t (*append)(void *self, void *log, const uint8_t *batches, size_t len);
    /* Whole batches starting with the one containing `offset`, up to `max_bytes`
     * but always at least one batch (KIP-74), written into `sink`. 0 bytes at log end. */
    kl_err_t (*read)(void *self, void *log, int64_t offset, int32_t max_bytes,
                     kl_buf_sink_t *sink, size_t *len_out);
    /* First offset whose batch max_timestamp >= `timestamp` (ListOffsets by time);
     * *offset_out = -1 when none. */
    kl_err_t (*offset_for_timestamp)(void *self, void *log, int64_t timestamp,
                                     int64_t *offset_out, int64_t *timestamp_out);
    /* Retention's view of the log: its segments, oldest first (the last one active),
     * into segs[0 .. min(cap, total)); *count_out = total, so a caller whose array was
     * too small learns how large to make it. A segment without records reports its
     * file's last-modified time as largest_timestamp (Kafka's LogSegment.largestTimestamp). */
    kl_err_t (*segments)(void *self, void *log, kl_segment_info_t *segs, size_t cap,
                         size_t *count_out);
    /* Retention's deletion: every segment whose offsets all lie below `offset` (its base
     * is below it and so is the next segment's base), oldest first, never the active
     * one. *log_start_out = the log start offset afterwards (the first kept segment's
     * base), also when the deletion stopped early on an error. */
    kl_err_t (*delete_segments_before)(void *self, void *log, int64_t offset,
                                       int64_t *log_start_out);
    /* DeleteTopics: remove the topic `topic` whose `count` partitions are `partitions`
     * (their `log` handles, NULL for one never opened). Its metadata goes first, durably:
     * from then on the topic does not exist at startup. Then every log is closed and its
     * files and directory are removed. On an error before the metadata is gone nothing
     * changed and the logs stay open (UNKNOWN_TOPIC_OR_PARTITION: no such topic;
     * KAFKA_STORAGE_ERROR). Once it is gone the call returns KL_OK and every log is
     * closed, even if a file could not be removed: the store finishes that later (at the
     * next start, or before a topic of that name is created again). */
    kl_err_t (*topic_delete)(void *self, const char *topic, const kl_partition_t *partitions,
                             int32_t count);
} kl_log_store_t;

/* Wall-clock time in milliseconds since the epoch (record timestamps, timeouts). */
typedef struct kl_clock {
    void *self;
    int64_t (*now_ms)(void *self);
} kl_clock_t;

#endif
