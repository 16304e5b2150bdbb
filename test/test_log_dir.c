/*
 * test/test_log_dir.c — unit tests of infrastructure/storage/log_dir.c through the
 * log_store port: the directory and its lock, topic create/load, partitions that append,
 * read and survive a close (and a torn tail at every byte, with its log line), a corrupt
 * batch in an older segment reported on read, stray files, rolling (a topic's segment.bytes
 * and segment.ms over the broker's defaults, kept across a reopen), a topic's preallocate
 * over log.preallocate (st_blocks of the active segment, kept across a reopen), the flush
 * tick, and DeleteTopics: files and metadata gone, only the topic's own directories
 * touched (not a file or a symlink named like one), a name created again starting empty,
 * and each place a crash can stop a deletion (marker only, some directories left, all
 * left, a marker beside a live topic file, a directory that is not ours) finished — or
 * left alone — at the next start.
 * Every test works in its own mkdtemp directory under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/crc32c.h"
#include "domain/record_batch.h"
#include "infrastructure/storage/fs.h"
#include "infrastructure/storage/log_dir.h"
#include "infrastructure/storage/partition_log.h"

typedef struct fixture {
    char root[64];
    kl_storage_config_t cfg;
    char *logbuf;                 /* what the logger wrote (open_memstream) */
    size_t loglen;
    kl_log_t log;
} fixture_t;

/* ---- a valid v2 batch: header + `count` uncompressed records, CRC-32C over [21, end) ---- */

static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

static size_t make_batch(uint8_t *buf, int64_t base_offset, int count, int64_t ts)
{
    size_t pos = KL_BATCH_HEADER_SIZE;
    for (int i = 0; i < count; i++) {
        uint8_t body[64];
        size_t b = 0;
        body[b++] = 0;
        b += put_varint(body + b, i);
        b += put_varint(body + b, i);
        b += put_varint(body + b, -1);
        b += put_varint(body + b, 16);
        memset(body + b, 'k', 16);
        b += 16;
        b += put_varint(body + b, 0);
        pos += put_varint(buf + pos, (int64_t)b);
        memcpy(buf + pos, body, b);
        pos += b;
    }
    memset(buf, 0, KL_BATCH_HEADER_SIZE);
    kl_be64_write(buf, base_offset);
    kl_be32_write(buf + 8, (int32_t)(pos - KL_BATCH_LOG_OVERHEAD));
    buf[16] = KL_BATCH_MAGIC_V2;
    kl_be32_write(buf + 23, count - 1);
    kl_be64_write(buf + 27, ts);
    kl_be64_write(buf + 35, ts + count - 1);
    kl_be64_write(buf + 43, -1);
    buf[51] = 0xff, buf[52] = 0xff;
    kl_be32_write(buf + 53, -1);
    kl_be32_write(buf + 57, count);
    kl_be32_write(buf + 17, (int32_t)kl_crc32c(0, buf + KL_BATCH_CRC_START, pos - KL_BATCH_CRC_START));
    return pos;
}

typedef struct test_buf {
    uint8_t *data;
    size_t len;
} test_buf_t;

static uint8_t *test_buf_reserve(void *arg, size_t n)
{
    test_buf_t *b = arg;
    uint8_t *p = realloc(b->data, b->len + n);
    if (p == NULL)
        return NULL;
    b->data = p;
    b->len += n;
    return p + b->len - n;
}

/* The sink's give-back: the last n reserved bytes were not used. */
static void test_buf_unreserve(void *arg, size_t n)
{
    test_buf_t *b = arg;
    assert_true(n <= b->len);
    b->len -= n;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    strcpy(f->root, "/tmp/klamm_test_logdir_XXXXXX");
    if (mkdtemp(f->root) == NULL)
        return -1;
    /* a nested directory that does not exist yet: log_dir_open creates it */
    snprintf(f->cfg.log_dir, sizeof f->cfg.log_dir, "%s/a/data", f->root);
    f->cfg.segment_bytes = 1 << 20;
    f->cfg.index_interval_bytes = 4096;
    f->cfg.flush_interval_messages = INT64_MAX;
    f->cfg.flush_interval_ms = -1;
    f->log.out = open_memstream(&f->logbuf, &f->loglen);
    f->log.level = KL_LOG_DEBUG;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    fclose(f->log.out);
    free(f->logbuf);
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static bool exists(const fixture_t *f, const char *rel)
{
    char path[KL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", f->cfg.log_dir, rel);
    return access(path, F_OK) == 0;
}

static bool log_says(fixture_t *f, const char *text)
{
    fflush(f->log.out);
    return f->logbuf != NULL && strstr(f->logbuf, text) != NULL;
}

static kl_log_dir_t *open_dir(fixture_t *f)
{
    kl_log_dir_t *d = NULL;
    assert_int_equal(log_dir_open(&d, &f->cfg, &f->log), KL_OK);
    assert_non_null(d);
    return d;
}

typedef struct visits {
    int count;
    kl_topic_meta_t last;
} visits_t;

static kl_err_t count_topics(void *arg, const kl_topic_meta_t *meta)
{
    visits_t *v = arg;
    v->count++;
    v->last = *meta;
    return KL_OK;
}

static void test_open_creates_directory_and_lock(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    assert_true(exists(f, ".lock"));
    assert_true(exists(f, "__klamm_topics"));
    log_dir_close(d);
}

static void test_lock_prevents_second_open(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_dir_t *second = NULL;
    assert_int_equal(log_dir_open(&second, &f->cfg, &f->log), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(second);
    assert_true(log_says(f, "in use by another broker"));
    assert_true(log_says(f, ".lock"));
    log_dir_close(d);
    /* released on close */
    d = open_dir(f);
    log_dir_close(d);
}

static void test_open_fails_cleanly_on_a_file(void **state)
{
    fixture_t *f = *state;
    snprintf(f->cfg.log_dir, sizeof f->cfg.log_dir, "%s/plain", f->root);
    FILE *fp = fopen(f->cfg.log_dir, "w");
    assert_non_null(fp);
    fclose(fp);
    kl_log_dir_t *d = NULL;
    assert_int_equal(log_dir_open(&d, &f->cfg, &f->log), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(d);
}

static void test_topic_create_and_load(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    kl_topic_meta_t m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "events");
    m.partition_count = 3;
    m.replication_factor = 1;
    assert_int_equal(topic_meta_set_config(&m, "retention.ms", "1000"), KL_OK);
    assert_int_equal(s.topic_create(s.self, &m), KL_OK);
    assert_true(exists(f, "events-0"));
    assert_true(exists(f, "events-2"));
    assert_false(exists(f, "events-3"));
    assert_true(exists(f, "__klamm_topics/events.properties"));
    assert_int_equal(s.topic_create(s.self, &m), KL_ERR_TOPIC_ALREADY_EXISTS);
    strcpy(m.name, "bad/name");
    assert_int_equal(s.topic_create(s.self, &m), KL_ERR_INVALID_TOPIC_EXCEPTION);
    log_dir_close(d);

    d = open_dir(f);
    s = log_dir_store(d);
    visits_t seen;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(s.topic_load_all(s.self, count_topics, &seen), KL_OK);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.last.name, "events");
    assert_int_equal(seen.last.partition_count, 3);
    assert_int_equal(seen.last.replication_factor, 1);
    assert_string_equal(topic_meta_config(&seen.last, "retention.ms"), "1000");
    log_dir_close(d);
}

static void test_partition_append_read_reopen(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_bytes = 300;                     /* a few batches per segment */
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = NULL;
    kl_partition_offsets_t offs = { -1, -1, -1 };
    assert_int_equal(s.partition_open(s.self, "fresh", 0, &log, &offs), KL_OK);  /* dir created */
    assert_true(exists(f, "fresh-0/00000000000000000000.log"));
    assert_int_equal(offs.log_start, 0);
    assert_int_equal(offs.log_end, 0);
    assert_int_equal(offs.high_watermark, 0);

    uint8_t batches[20][512];
    size_t sizes[20];
    int64_t off = 0;
    for (int i = 0; i < 20; i++) {
        sizes[i] = make_batch(batches[i], off, 2, 100 + off);
        assert_int_equal(s.append(s.self, log, batches[i], sizes[i]), KL_OK);
        off += 2;
    }
    assert_true(((kl_partition_log_t *)log)->segment_count > 3);
    s.partition_close(s.self, log);
    log_dir_close(d);

    d = open_dir(f);
    s = log_dir_store(d);
    assert_int_equal(s.partition_open(s.self, "fresh", 0, &log, &offs), KL_OK);
    assert_int_equal(offs.log_start, 0);
    assert_int_equal(offs.log_end, 40);
    assert_int_equal(offs.high_watermark, 40);
    for (int64_t o = 0; o < 40; o++) {
        test_buf_t b = { 0 };
        kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
        size_t n = 0;
        assert_int_equal(s.read(s.self, log, o, 1, &sink, &n), KL_OK);
        assert_int_equal(n, sizes[o / 2]);
        assert_memory_equal(b.data, batches[o / 2], n);
        free(b.data);
    }
    int64_t at = 0, ts = 0;
    assert_int_equal(s.offset_for_timestamp(s.self, log, 100 + 21, &at, &ts), KL_OK);
    assert_int_equal(at, 20);                       /* batch 20..21 has timestamps 120, 121 */
    assert_int_equal(ts, 121);
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(s.read(s.self, log, 41, 100, &sink, &n), KL_ERR_OFFSET_OUT_OF_RANGE);
    log_dir_close(d);                               /* closes the still-open partition */
}

static void test_torn_tail_recovered_with_log_line(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s.partition_open(s.self, "t", 1, &log, &offs), KL_OK);
    uint8_t a[512], b[512];
    size_t na = make_batch(a, 0, 3, 10), nb = make_batch(b, 3, 2, 20);
    assert_int_equal(s.append(s.self, log, a, na), KL_OK);
    assert_int_equal(s.append(s.self, log, b, nb), KL_OK);
    log_dir_close(d);                               /* like kill -9: nothing more to write */

    char path[KL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/t-1/00000000000000000000.log", f->cfg.log_dir);
    assert_int_equal(truncate(path, (off_t)(na + nb - 7)), 0);
    d = open_dir(f);
    s = log_dir_store(d);
    assert_int_equal(s.partition_open(s.self, "t", 1, &log, &offs), KL_OK);
    assert_int_equal(offs.log_end, 3);
    assert_true(log_says(f, "00000000000000000000.log"));
    assert_true(log_says(f, "truncating"));
    assert_true(log_says(f, "next offset 3"));
    assert_int_equal(s.append(s.self, log, b, nb), KL_OK);   /* continues at offset 3 */
    s.partition_close(s.self, log);
    log_dir_close(d);
}

static void test_tick_flushes_after_interval(void **state)
{
    fixture_t *f = *state;
    f->cfg.flush_interval_ms = 50;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    kl_partition_log_t *pl = log;
    log_dir_tick(d, 10);
    uint8_t a[512];
    assert_int_equal(s.append(s.self, log, a, make_batch(a, 0, 4, 10)), KL_OK);
    assert_int_equal(pl->unflushed_messages, 4);
    log_dir_tick(d, 30);
    assert_int_equal(pl->unflushed_messages, 4);
    log_dir_tick(d, 60);
    assert_int_equal(pl->unflushed_messages, 0);
    log_dir_close(d);
}

/* Append `n` batches of 2 records to partition t-0 through the port (a fresh directory). */
static void fill_partition(fixture_t *f, uint8_t batches[][512], size_t *sizes, int n)
{
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    for (int i = 0; i < n; i++) {
        sizes[i] = make_batch(batches[i], 2 * i, 2, 100 + 2 * i);
        assert_int_equal(s.append(s.self, log, batches[i], sizes[i]), KL_OK);
    }
    log_dir_close(d);
}

/* Read offset `o` through the port with max_bytes 1: exactly batch o / 2. */
static void expect_port_read(kl_log_store_t *s, void *log, int64_t o, uint8_t batches[][512], size_t *sizes)
{
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(s->read(s->self, log, o, 1, &sink, &n), KL_OK);
    assert_int_equal(n, sizes[o / 2]);
    assert_memory_equal(b.data, batches[o / 2], n);
    free(b.data);
}

/* Rule 2-3 through the port: cut the last batch at every byte; partition_open reports the
 * valid prefix as the log end (and high watermark), the next append continues there. */
static void test_torn_tail_at_every_byte_through_the_port(void **state)
{
    fixture_t *f = *state;
    enum { N = 4 };
    uint8_t batches[N][512];
    size_t sizes[N];
    fill_partition(f, batches, sizes, N);
    char path[KL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/t-0/00000000000000000000.log", f->cfg.log_dir);
    int64_t last_pos = (int64_t)(sizes[0] + sizes[1] + sizes[2]);
    for (int64_t cut = last_pos; cut < last_pos + (int64_t)sizes[N - 1]; cut++) {
        assert_int_equal(truncate(path, (off_t)cut), 0);
        kl_log_dir_t *d = open_dir(f);
        kl_log_store_t s = log_dir_store(d);
        void *log = NULL;
        kl_partition_offsets_t offs = { -1, -1, -1 };
        assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
        assert_int_equal(offs.log_start, 0);
        assert_int_equal(offs.log_end, 2 * (N - 1));
        assert_int_equal(offs.high_watermark, 2 * (N - 1));
        assert_int_equal(s.append(s.self, log, batches[N - 1], sizes[N - 1]), KL_OK);
        for (int64_t o = 0; o < 2 * N; o++)
            expect_port_read(&s, log, o, batches, sizes);
        log_dir_close(d);
    }
    char cut_at[64];
    snprintf(cut_at, sizeof cut_at, "torn or corrupt batch at position %lld", (long long)last_pos);
    assert_true(log_says(f, cut_at));
}

/* Rule 7 through the port: a corrupt batch in an OLDER segment (not scanned at open) is
 * answered CORRUPT_MESSAGE with a log line naming the file and the position. */
static void test_corrupt_older_segment_reported_through_the_port(void **state)
{
    fixture_t *f = *state;
    enum { N = 12 };
    f->cfg.segment_bytes = 400;                       /* several segments */
    uint8_t batches[N][512];
    size_t sizes[N];
    fill_partition(f, batches, sizes, N);
    char path[KL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/t-0/00000000000000000000.log", f->cfg.log_dir);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    long pos = (long)sizes[0];                        /* batch 1 (offsets 2, 3), a record byte */
    assert_int_equal(fseek(fp, pos + KL_BATCH_HEADER_SIZE + 4, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, pos + KL_BATCH_HEADER_SIZE + 4, SEEK_SET), 0);
    fputc(c ^ 0xff, fp);
    fclose(fp);

    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    assert_true(((kl_partition_log_t *)log)->segment_count > 2);
    assert_int_equal(offs.log_end, 2 * N);            /* not scanned, not cut */
    expect_port_read(&s, log, 0, batches, sizes);
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 99;
    assert_int_equal(s.read(s.self, log, 2, 1 << 20, &sink, &n), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(n, 0);
    assert_int_equal(b.len, 0);
    free(b.data);
    char line[KL_PATH_MAX + 128];
    snprintf(line, sizeof line, "%s: corrupt batch at position %ld", path, pos);
    assert_true(log_says(f, line));
    int64_t seg1 = ((kl_partition_log_t *)log)->segments[1]->base_offset;
    for (int64_t o = seg1; o < 2 * N; o++)            /* later segments are served */
        expect_port_read(&s, log, o, batches, sizes);
    log_dir_close(d);
}

/* Stray files and a leftover index in a partition directory: ignored, offsets right. */
static void test_stray_files_in_partition_directory(void **state)
{
    fixture_t *f = *state;
    enum { N = 3 };
    uint8_t batches[N][512];
    size_t sizes[N];
    fill_partition(f, batches, sizes, N);
    const char *stray[] = { "t-0/notes.txt", "t-0/00000000000000000077.index",
                            "t-0/00000000000000000000.log.bak", "t-0/.nfs0001" };
    for (size_t i = 0; i < sizeof stray / sizeof stray[0]; i++) {
        char path[KL_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", f->cfg.log_dir, stray[i]);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("not a segment, not an index entry", fp);
        fclose(fp);
    }
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    assert_int_equal(offs.log_start, 0);
    assert_int_equal(offs.log_end, 2 * N);
    for (int64_t o = 0; o < 2 * N; o++)
        expect_port_read(&s, log, o, batches, sizes);
    log_dir_close(d);
}

/* Retention through the port: the segments as listed, then the oldest two deleted (files
 * gone, one "Deleting segment" line each), reads below the new start refused, and the
 * new start is where the partition opens after a restart. */
/* ---- a topic's segment.bytes / segment.ms over the broker's defaults ---- */

static void create_topic(kl_log_store_t *s, const char *name, const char *key, const char *value)
{
    kl_topic_meta_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    m.partition_count = 1;
    m.replication_factor = 1;
    if (key != NULL)
        assert_int_equal(topic_meta_set_config(&m, key, value), KL_OK);
    assert_int_equal(s->topic_create(s->self, &m), KL_OK);
}

/* Append `n` two-record batches at the log end, timestamps from `ts` on. */
static void append_batches(kl_log_store_t *s, void *log, int n, int64_t ts)
{
    for (int i = 0; i < n; i++) {
        uint8_t buf[512];
        int64_t end = plog_log_end(log);
        size_t len = make_batch(buf, end, 2, ts + i);
        assert_int_equal(s->append(s->self, log, buf, len), KL_OK);
    }
}

static kl_partition_log_t *open_partition(kl_log_store_t *s, const char *topic)
{
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s->partition_open(s->self, topic, 0, &log, &offs), KL_OK);
    return log;
}

/* segment.bytes rolls that topic's partitions at its size while another topic keeps the
 * broker's log.segment.bytes; the override is persisted, so it holds after a reopen. */
static void test_topic_segment_bytes_overrides_the_broker(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);                 /* broker: 1 MiB */
    kl_log_store_t s = log_dir_store(d);
    create_topic(&s, "small", "segment.bytes", "300");
    create_topic(&s, "big", NULL, NULL);
    for (int round = 0; round < 2; round++) {
        kl_partition_log_t *small = open_partition(&s, "small");
        kl_partition_log_t *big = open_partition(&s, "big");
        assert_int_equal(small->cfg.segment_bytes, 300);
        assert_int_equal(big->cfg.segment_bytes, 1 << 20);
        size_t before = small->segment_count;
        append_batches(&s, small, 20, 100);
        append_batches(&s, big, 20, 100);
        assert_true(small->segment_count > before + 3);
        for (size_t i = 0; i < small->segment_count; i++)
            assert_true(small->segments[i]->size <= 300);
        assert_int_equal(big->segment_count, 1);
        log_dir_close(d);                          /* as after a restart */
        d = open_dir(f);
        s = log_dir_store(d);
    }
    log_dir_close(d);
}

/* segment.ms: a topic's override beats the broker's log.roll.ms, which applies to the
 * others; after a reopen the override and the first batch's timestamp still hold. */
static void test_topic_segment_ms_overrides_the_broker(void **state)
{
    fixture_t *f = *state;
    f->cfg.roll_ms = 1000;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    create_topic(&s, "quick", "segment.ms", "100");
    create_topic(&s, "slow", NULL, NULL);
    kl_partition_log_t *quick = open_partition(&s, "quick");
    kl_partition_log_t *slow = open_partition(&s, "slow");
    assert_int_equal(quick->cfg.segment_ms, 100);
    assert_int_equal(slow->cfg.segment_ms, 1000);
    append_batches(&s, quick, 1, 5000);
    append_batches(&s, slow, 1, 5000);
    append_batches(&s, quick, 1, 5101);            /* 5102 - 5001 > 100 */
    append_batches(&s, slow, 1, 5101);
    assert_int_equal(quick->segment_count, 2);
    assert_int_equal(slow->segment_count, 1);
    append_batches(&s, slow, 1, 6001);             /* 6002 - 5001 > 1000 */
    assert_int_equal(slow->segment_count, 2);
    log_dir_close(d);

    d = open_dir(f);
    s = log_dir_store(d);
    quick = open_partition(&s, "quick");
    assert_int_equal(quick->cfg.segment_ms, 100);
    append_batches(&s, quick, 1, 5150);            /* 5151 - 5102: no roll */
    assert_int_equal(quick->segment_count, 2);
    append_batches(&s, quick, 1, 5202);            /* 5203 - 5102 > 100 */
    assert_int_equal(quick->segment_count, 3);
    log_dir_close(d);
}

/* A hand-edited override in odd.properties (`line`) stops the partition from opening,
 * with a log line naming the topic and `what`. */
static void check_bad_persisted_override(fixture_t *f, const char *line, const char *what)
{
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    char path[KL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/__klamm_topics/odd.properties", f->cfg.log_dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "partitions=1\n%s\n", line);
    fclose(fp);
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s.partition_open(s.self, "odd", 0, &log, &offs), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_true(log_says(f, "odd"));
    assert_true(log_says(f, what));
    log_dir_close(d);
}

/* An override that is not a number: better not to open than to roll by a setting nobody
 * asked for. */
static void test_bad_persisted_override_fails_the_open(void **state)
{
    check_bad_persisted_override(*state, "config.segment.ms=soon", "segment.ms");
}

/* ---- a topic's preallocate over the broker's log.preallocate ---- */

/* Bytes the file system holds for partition 0's first segment of `topic` (st_blocks
 * counts 512-byte units). */
static int64_t allocated_bytes(const fixture_t *f, const char *topic)
{
    char path[KL_PATH_MAX + 64];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s-0/00000000000000000000.log", f->cfg.log_dir, topic);
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_blocks * 512;
}

/* Reserved ahead: at least one step (segment.bytes, 1 MiB here, is below
 * PLOG_PREALLOCATE_STEP). Not reserved: the 4 KiB blocks of what was written, no more. */
static void expect_reserved(const fixture_t *f, const char *topic, kl_partition_log_t *pl,
                            bool reserved)
{
    int64_t size = pl->segments[pl->segment_count - 1]->size;
    if (reserved)
        assert_true(allocated_bytes(f, topic) >= f->cfg.segment_bytes);
    else
        assert_int_equal(allocated_bytes(f, topic), (size + 4095) / 4096 * 4096);
}

/* Does this file system reserve with fallocate(KEEP_SIZE)? Asked of a scratch file, not
 * of the segment, so a segment that never asked cannot pass for one that was refused. */
static bool fallocate_works(const fixture_t *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/probe", f->root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    bool ok = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
    close(fd);
    unlink(path);
    return ok;
}

/* Open `on` and `off`, append to both, check the reservation of each; twice, with a
 * close and reopen between (as across a restart: the override is read back from
 * __klamm_topics). Skipped where the file system refuses fallocate. */
static void check_preallocate_per_topic(fixture_t *f, kl_log_dir_t *d, const char *on,
                                        const char *off)
{
    if (!fallocate_works(f)) {
        log_dir_close(d);
        skip();
    }
    kl_log_store_t s = log_dir_store(d);
    for (int round = 0; round < 2; round++) {
        kl_partition_log_t *yes = open_partition(&s, on);
        kl_partition_log_t *no = open_partition(&s, off);
        assert_true(yes->cfg.preallocate);
        assert_false(no->cfg.preallocate);
        append_batches(&s, yes, 5, 100 + 10 * round);
        append_batches(&s, no, 5, 100 + 10 * round);
        expect_reserved(f, on, yes, true);
        expect_reserved(f, off, no, false);
        log_dir_close(d);
        d = open_dir(f);
        s = log_dir_store(d);
    }
    log_dir_close(d);
}

/* preallocate=false on a broker with log.preallocate=true (Klamm's default): that topic's
 * active segment reserves nothing, before and after a reopen; the others still do. */
static void test_topic_preallocate_false_overrides_the_broker(void **state)
{
    fixture_t *f = *state;
    f->cfg.preallocate = true;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    create_topic(&s, "lean", "preallocate", "false");
    create_topic(&s, "plain", NULL, NULL);
    check_preallocate_per_topic(f, d, "plain", "lean");
}

/* preallocate=true (in any case, as CreateTopics accepts it) on a broker with
 * log.preallocate=false: that topic reserves, the others do not. */
static void test_topic_preallocate_true_overrides_the_broker(void **state)
{
    fixture_t *f = *state;
    f->cfg.preallocate = false;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    create_topic(&s, "eager", "preallocate", "TRUE");
    create_topic(&s, "plain", NULL, NULL);
    check_preallocate_per_topic(f, d, "eager", "plain");
}

/* A hand-edited preallocate that is not a boolean stops the open, naming topic and key. */
static void test_bad_persisted_preallocate_fails_the_open(void **state)
{
    check_bad_persisted_override(*state, "config.preallocate=yes", "preallocate=yes");
}

static void test_retention_port_lists_and_deletes_segments(void **state)
{
    fixture_t *f = *state;
    enum { N = 12 };
    f->cfg.segment_bytes = 400;                       /* several segments */
    uint8_t batches[N][512];
    size_t sizes[N];
    fill_partition(f, batches, sizes, N);
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = NULL;
    kl_partition_offsets_t offs;
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    kl_segment_info_t segs[N];
    size_t count = 0;
    assert_int_equal(s.segments(s.self, log, segs, N, &count), KL_OK);
    assert_true(count > 3);
    assert_int_equal(segs[0].base_offset, 0);
    assert_true(segs[count - 1].active);
    assert_false(segs[0].active);
    assert_true(segs[0].largest_timestamp >= 100);   /* the batches' timestamps */

    int64_t start = segs[2].base_offset, log_start = -1;
    assert_int_equal(s.delete_segments_before(s.self, log, start, &log_start), KL_OK);
    assert_int_equal(log_start, start);
    assert_false(exists(f, "t-0/00000000000000000000.log"));
    assert_false(exists(f, "t-0/00000000000000000000.index"));
    assert_false(exists(f, "t-0/00000000000000000000.timeindex"));
    assert_true(log_says(f, "Deleting segment"));
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(s.read(s.self, log, 0, 1, &sink, &n), KL_ERR_OFFSET_OUT_OF_RANGE);
    free(b.data);
    expect_port_read(&s, log, start, batches, sizes);
    log_dir_close(d);

    d = open_dir(f);
    s = log_dir_store(d);
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    assert_int_equal(offs.log_start, start);
    assert_int_equal(offs.log_end, 2 * N);
    log_dir_close(d);
}

/* ---- DeleteTopics ---- */

static void make_topic(kl_log_store_t *s, const char *name, int32_t partitions)
{
    kl_topic_meta_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    m.partition_count = partitions;
    m.replication_factor = 1;
    assert_int_equal(s->topic_create(s->self, &m), KL_OK);
}

/* Open every partition of `name` into parts[0..n) (as the broker registry holds them)
 * and append `batches` two-record batches to each. */
static void open_all(kl_log_store_t *s, const char *name, kl_partition_t *parts, int32_t n,
                     int batches)
{
    for (int32_t i = 0; i < n; i++) {
        parts[i].index = i;
        assert_int_equal(s->partition_open(s->self, name, i, &parts[i].log, &parts[i].offsets),
                         KL_OK);
        append_batches(s, parts[i].log, batches, 100);
    }
}

/* How many topics a start would load; when one, it must be `only`. */
static int topics_loaded(kl_log_store_t *s, const char *only)
{
    visits_t seen;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(s->topic_load_all(s->self, count_topics, &seen), KL_OK);
    if (seen.count == 1)
        assert_string_equal(seen.last.name, only);
    return seen.count;
}

static void rename_in_topics(fixture_t *f, const char *from, const char *to)
{
    char a[KL_PATH_MAX + 64], b[KL_PATH_MAX + 64];
    snprintf(a, sizeof a, "%s/__klamm_topics/%s", f->cfg.log_dir, from);
    snprintf(b, sizeof b, "%s/__klamm_topics/%s", f->cfg.log_dir, to);
    assert_int_equal(rename(a, b), 0);
}

static void mkdir_in(fixture_t *f, const char *rel)
{
    char path[KL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", f->cfg.log_dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void rmdir_in(fixture_t *f, const char *rel)
{
    char path[KL_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", f->cfg.log_dir, rel);
    assert_int_equal(rmdir(path), 0);
}

/* The topic's metadata and every file of it go; the logs are closed by the store (so
 * log_dir_close has nothing of it left to close); the next start knows nothing of it. */
static void test_delete_removes_files_and_metadata(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    kl_partition_t parts[2];
    make_topic(&s, "events", 2);
    make_topic(&s, "kept", 1);
    open_all(&s, "events", parts, 2, 3);
    assert_true(exists(f, "events-1/00000000000000000000.log"));
    assert_int_equal(s.topic_delete(s.self, "events", parts, 2), KL_OK);
    assert_false(exists(f, "events-0"));
    assert_false(exists(f, "events-1"));
    assert_false(exists(f, "__klamm_topics/events.properties"));
    assert_false(exists(f, "__klamm_topics/events.deleting"));
    assert_true(exists(f, "kept-0"));
    assert_true(log_says(f, "deleted topic events with 2 partition(s)"));
    log_dir_close(d);

    d = open_dir(f);
    s = log_dir_store(d);
    assert_int_equal(topics_loaded(&s, "kept"), 1);
    log_dir_close(d);
}

/* No such topic: UNKNOWN_TOPIC_OR_PARTITION, and a directory of that name stays. */
static void test_delete_of_an_unknown_topic_changes_nothing(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    mkdir_in(f, "ghost-0");
    kl_partition_t none[1] = { { 0, { 0, 0, 0 }, NULL } };
    assert_int_equal(s.topic_delete(s.self, "ghost", none, 1), KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_true(exists(f, "ghost-0"));
    log_dir_close(d);
}

/* Only "<topic>-<n>" directories of that very topic: "a" takes a-0 and a-1 but not a-1-0
 * (topic "a-1"); a user topic named like Klamm's offsets directory takes its own
 * partition directory, never __klamm_offsets/ itself. Partitions never opened go too. */
static void test_delete_touches_only_its_own_directories(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    make_topic(&s, "a", 2);
    make_topic(&s, "a-1", 1);
    make_topic(&s, "__klamm_offsets", 1);
    mkdir_in(f, "__klamm_offsets");
    char offsets[KL_PATH_MAX + 64];
    snprintf(offsets, sizeof offsets, "%s/__klamm_offsets/offsets.log", f->cfg.log_dir);
    FILE *fp = fopen(offsets, "w");
    assert_non_null(fp);
    fclose(fp);
    kl_partition_t a[2] = { { 0, { 0, 0, 0 }, NULL }, { 1, { 0, 0, 0 }, NULL } };
    assert_int_equal(s.topic_delete(s.self, "a", a, 2), KL_OK);   /* never opened */
    assert_false(exists(f, "a-0"));
    assert_false(exists(f, "a-1"));
    assert_true(exists(f, "a-1-0"));
    assert_true(exists(f, "__klamm_topics/a-1.properties"));
    kl_partition_t o[1] = { { 0, { 0, 0, 0 }, NULL } };
    assert_int_equal(s.topic_delete(s.self, "__klamm_offsets", o, 1), KL_OK);
    assert_false(exists(f, "__klamm_offsets-0"));
    assert_true(exists(f, "__klamm_offsets/offsets.log"));
    assert_true(exists(f, "__klamm_topics"));
    log_dir_close(d);
}

/* Named like one of the topic's partition directories but not a directory: a file, and a
 * symlink to a directory holding someone's file. The deletion leaves both, and what is
 * behind the link (a partition directory is recognised by lstat, never through a link). */
static void test_delete_leaves_files_and_symlinks_named_like_partitions(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    make_topic(&s, "t", 1);
    mkdir_in(f, "elsewhere");
    char path[KL_PATH_MAX + 64], target[KL_PATH_MAX + 64];
    const char *files[] = { "elsewhere/keep", "t-1" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", f->cfg.log_dir, files[i]);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fclose(fp);
    }
    snprintf(target, sizeof target, "%s/elsewhere", f->cfg.log_dir);
    snprintf(path, sizeof path, "%s/t-2", f->cfg.log_dir);
    assert_int_equal(symlink(target, path), 0);
    kl_partition_t p[1] = { { 0, { 0, 0, 0 }, NULL } };
    assert_int_equal(s.topic_delete(s.self, "t", p, 1), KL_OK);
    assert_false(exists(f, "t-0"));
    assert_true(exists(f, "t-1"));
    assert_true(exists(f, "t-2/keep"));
    assert_false(exists(f, "__klamm_topics/t.deleting"));
    log_dir_close(d);
}

/* Created again under the same name: empty, from offset 0. */
static void test_created_again_starts_empty(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    kl_partition_t parts[1];
    make_topic(&s, "t", 1);
    open_all(&s, "t", parts, 1, 3);
    assert_int_equal(plog_log_end(parts[0].log), 6);
    assert_int_equal(s.topic_delete(s.self, "t", parts, 1), KL_OK);
    make_topic(&s, "t", 1);
    void *log = NULL;
    kl_partition_offsets_t offs = { -1, -1, -1 };
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    assert_int_equal(offs.log_start, 0);
    assert_int_equal(offs.log_end, 0);
    log_dir_close(d);
}

/* Write topic "t" (2 partitions, data in both) and stop cleanly: the starting point of
 * the crash tests below, which then put the files in the state a crash would leave. */
static void leave_topic_t(fixture_t *f)
{
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    kl_partition_t parts[2];
    make_topic(&s, "t", 2);
    make_topic(&s, "kept", 1);
    open_all(&s, "t", parts, 2, 2);
    log_dir_close(d);
}

/* Crash right after step 1 (the marker is durable, every file still there): the next
 * start finishes the deletion before anything is served. */
static void test_crash_after_the_marker_is_finished_at_startup(void **state)
{
    fixture_t *f = *state;
    leave_topic_t(f);
    rename_in_topics(f, "t.properties", "t.deleting");
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    assert_false(exists(f, "t-0"));
    assert_false(exists(f, "t-1"));
    assert_false(exists(f, "__klamm_topics/t.deleting"));
    assert_true(exists(f, "kept-0"));
    assert_true(log_says(f, "finished deleting topic t"));
    assert_int_equal(topics_loaded(&s, "kept"), 1);
    log_dir_close(d);
}

/* Crash in step 2 or 3: one directory removed, the other not; or all removed, only the
 * marker left. Both finished at the next start. */
static void test_crash_midway_is_finished_at_startup(void **state)
{
    fixture_t *f = *state;
    leave_topic_t(f);
    rename_in_topics(f, "t.properties", "t.deleting");
    char p0[KL_PATH_MAX + 64];
    snprintf(p0, sizeof p0, "%s/t-0", f->cfg.log_dir);
    assert_int_equal(fs_remove_dir(NULL, "test", p0), KL_OK);
    kl_log_dir_t *d = open_dir(f);
    assert_false(exists(f, "t-1"));
    assert_false(exists(f, "__klamm_topics/t.deleting"));
    log_dir_close(d);

    char marker[KL_PATH_MAX + 64];
    snprintf(marker, sizeof marker, "%s/__klamm_topics/x.deleting", f->cfg.log_dir);
    FILE *fp = fopen(marker, "w");                          /* all removed, marker left */
    assert_non_null(fp);
    fclose(fp);
    d = open_dir(f);
    assert_false(exists(f, "__klamm_topics/x.deleting"));
    log_dir_close(d);
}

/* A marker beside a topic file (only by hand): the live topic wins, the marker goes. */
static void test_marker_beside_a_live_topic_keeps_the_topic(void **state)
{
    fixture_t *f = *state;
    leave_topic_t(f);
    char marker[KL_PATH_MAX + 64];
    snprintf(marker, sizeof marker, "%s/__klamm_topics/t.deleting", f->cfg.log_dir);
    FILE *fp = fopen(marker, "w");
    assert_non_null(fp);
    fclose(fp);
    kl_log_dir_t *d = open_dir(f);
    assert_true(exists(f, "t-0/00000000000000000000.log"));
    assert_true(exists(f, "t-1"));
    assert_false(exists(f, "__klamm_topics/t.deleting"));
    assert_true(log_says(f, "keeping the topic"));
    log_dir_close(d);
}

/* A partition directory of no topic and without a marker (a create that crashed before
 * its file, or not Klamm's): logged at startup and left alone; the start goes on. */
static void test_orphan_directory_is_logged_and_left_alone(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    void *log = open_partition(&s, "ghost");                /* no topic file */
    append_batches(&s, log, 2, 100);
    log_dir_close(d);
    d = open_dir(f);
    s = log_dir_store(d);
    assert_true(log_says(f, "ignoring"));
    assert_true(log_says(f, "ghost-0: no topic ghost"));
    assert_true(exists(f, "ghost-0/00000000000000000000.log"));
    assert_int_equal(topics_loaded(&s, ""), 0);
    log_dir_close(d);
}

/* A deletion whose files could not all be removed (something not ours inside): it still
 * succeeds — the topic is gone — and says so; the marker stays; creating the name again
 * is refused until the leftovers can go; once they can, the next start finishes. */
static void test_failed_removal_is_finished_later(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    kl_partition_t parts[1];
    make_topic(&s, "t", 1);
    open_all(&s, "t", parts, 1, 2);
    mkdir_in(f, "t-0/nested");
    assert_int_equal(s.topic_delete(s.self, "t", parts, 1), KL_OK);
    assert_true(log_says(f, "topic t is deleted, but some of its files remain"));
    assert_true(exists(f, "__klamm_topics/t.deleting"));
    assert_false(exists(f, "__klamm_topics/t.properties"));
    kl_topic_meta_t m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "t");
    m.partition_count = 1;
    m.replication_factor = 1;
    assert_int_equal(s.topic_create(s.self, &m), KL_ERR_KAFKA_STORAGE_ERROR);
    log_dir_close(d);

    d = open_dir(f);                                        /* still stuck: the start goes on */
    s = log_dir_store(d);
    assert_true(log_says(f, "could not finish deleting topic t"));
    assert_int_equal(topics_loaded(&s, ""), 0);
    log_dir_close(d);

    rmdir_in(f, "t-0/nested");
    d = open_dir(f);
    assert_false(exists(f, "t-0"));
    assert_false(exists(f, "__klamm_topics/t.deleting"));
    log_dir_close(d);
}

/* A marker left while the broker runs (the failure above): creating the name first
 * finishes that deletion, so the new topic starts empty at offset 0. */
static void test_create_finishes_a_pending_deletion(void **state)
{
    fixture_t *f = *state;
    kl_log_dir_t *d = open_dir(f);
    kl_log_store_t s = log_dir_store(d);
    kl_partition_t parts[1];
    make_topic(&s, "t", 1);
    open_all(&s, "t", parts, 1, 2);
    s.partition_close(s.self, parts[0].log);
    rename_in_topics(f, "t.properties", "t.deleting");      /* interrupted after step 1 */
    make_topic(&s, "t", 1);
    assert_false(exists(f, "__klamm_topics/t.deleting"));
    void *log = NULL;
    kl_partition_offsets_t offs = { -1, -1, -1 };
    assert_int_equal(s.partition_open(s.self, "t", 0, &log, &offs), KL_OK);
    assert_int_equal(offs.log_end, 0);
    log_dir_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_directory_and_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_prevents_second_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_fails_cleanly_on_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_create_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partition_append_read_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_recovered_with_log_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_flushes_after_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_at_every_byte_through_the_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_older_segment_reported_through_the_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stray_files_in_partition_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_segment_bytes_overrides_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_segment_ms_overrides_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_persisted_override_fails_the_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_preallocate_false_overrides_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_preallocate_true_overrides_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_persisted_preallocate_fails_the_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_port_lists_and_deletes_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_removes_files_and_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_of_an_unknown_topic_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_touches_only_its_own_directories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_leaves_files_and_symlinks_named_like_partitions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_created_again_starts_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_the_marker_is_finished_at_startup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_midway_is_finished_at_startup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marker_beside_a_live_topic_keeps_the_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_directory_is_logged_and_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_removal_is_finished_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_finishes_a_pending_deletion, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
