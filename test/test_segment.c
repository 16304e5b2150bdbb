/*
 * test/test_segment.c — unit tests of infrastructure/storage/segment.c: append and read
 * round trips, sparse index lookups at every offset, KIP-74 reads, reopen, crash recovery
 * of the active segment (torn tail at every byte, every byte of the last batch flipped,
 * empty and partial-header files), index rebuild of active and sealed segments (deleted,
 * odd size, garbage, entries past the end or lying), corrupt batches in a sealed segment
 * reported and not served, offset by timestamp, and the time index (KIP-33): its entries,
 * sealing, rebuilds of a damaged .timeindex, lookups that stay exact with out-of-order
 * timestamps and read few batch headers (the kl_segment_stats_t seam; lab 04's acceptance
 * tests), and when the index files are written: never by an append, exactly the pending
 * entries at flush, seal and close, rebuilt after a SIGKILLed child's appends (rule 4), and
 * an append whose write(2) fails part-way (RLIMIT_FSIZE) taken back.
 * Every test works in its own mkdtemp directory under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domain/crc32c.h"
#include "domain/record_batch.h"
#include "infrastructure/storage/segment.h"

#define NBATCH 10

typedef struct fixture {
    char dir[64];
    uint8_t bytes[NBATCH][512];   /* the batches appended, as written */
    size_t sizes[NBATCH];
    int64_t positions[NBATCH];
    int64_t bases[NBATCH];
    int counts[NBATCH];
} fixture_t;

/* ---- a valid v2 batch: header + `count` uncompressed records, CRC-32C over [21, end) ---- */

static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);   /* zigzag, as Kafka's varint */
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

static size_t make_batch(uint8_t *buf, int64_t base_offset, int count, int64_t ts, size_t value_len)
{
    size_t pos = KL_BATCH_HEADER_SIZE;
    for (int i = 0; i < count; i++) {
        uint8_t body[256];
        size_t b = 0;
        body[b++] = 0;                                   /* attributes */
        b += put_varint(body + b, i);                    /* timestamp delta */
        b += put_varint(body + b, i);                    /* offset delta */
        b += put_varint(body + b, -1);                   /* null key */
        b += put_varint(body + b, (int64_t)value_len);
        memset(body + b, 'a' + (int)((base_offset + i) % 26), value_len);
        b += value_len;
        b += put_varint(body + b, 0);                    /* no headers */
        pos += put_varint(buf + pos, (int64_t)b);
        memcpy(buf + pos, body, b);
        pos += b;
    }
    memset(buf, 0, KL_BATCH_HEADER_SIZE);
    kl_be64_write(buf, base_offset);
    kl_be32_write(buf + 8, (int32_t)(pos - KL_BATCH_LOG_OVERHEAD));
    buf[16] = KL_BATCH_MAGIC_V2;
    kl_be32_write(buf + 23, count - 1);                  /* last_offset_delta */
    kl_be64_write(buf + 27, ts);
    kl_be64_write(buf + 35, ts + count - 1);             /* max_timestamp */
    kl_be64_write(buf + 43, -1);                         /* producer id */
    buf[51] = 0xff, buf[52] = 0xff;                      /* producer epoch -1 */
    kl_be32_write(buf + 53, -1);                         /* base sequence */
    kl_be32_write(buf + 57, count);
    kl_be32_write(buf + 17, (int32_t)kl_crc32c(0, buf + KL_BATCH_CRC_START, pos - KL_BATCH_CRC_START));
    return pos;
}

/* ---- a growable buffer behind the sink port ---- */

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

/* ---- fixture: a temp dir, a recipe of NBATCH batches (1..3 records, ~40-120 bytes) ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/klamm_test_segment_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    int64_t off = 0, pos = 0;
    for (int i = 0; i < NBATCH; i++) {
        f->counts[i] = 1 + i % 3;
        f->bases[i] = off;
        f->positions[i] = pos;
        f->sizes[i] = make_batch(f->bytes[i], off, f->counts[i], 1000 + off * 10, 10 + (size_t)i * 3);
        off += f->counts[i];
        pos += (int64_t)f->sizes[i];
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int64_t total_records(const fixture_t *f)
{
    return f->bases[NBATCH - 1] + f->counts[NBATCH - 1];
}

static int64_t total_bytes(const fixture_t *f)
{
    return f->positions[NBATCH - 1] + (int64_t)f->sizes[NBATCH - 1];
}

/* Append every batch of the recipe, one append call each. */
static kl_segment_t *fill(fixture_t *f, int32_t interval)
{
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, interval, NULL), KL_OK);
    for (int i = 0; i < NBATCH; i++)
        assert_int_equal(segment_append(seg, f->bytes[i], f->sizes[i]), KL_OK);
    return seg;
}

static int batch_of(const fixture_t *f, int64_t offset)
{
    for (int i = 0; i < NBATCH; i++)
        if (offset < f->bases[i] + f->counts[i])
            return i;
    return -1;
}

static void path_of(const fixture_t *f, const char *ext, char *buf, size_t cap)
{
    assert_true(segment_path(buf, cap, f->dir, 0, ext));
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void truncate_file(const char *path, int64_t size)
{
    assert_int_equal(truncate(path, size), 0);
}

static void flip_byte(const char *path, int64_t pos)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, pos), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, pos), 1);
    close(fd);
}

/* Read at every offset below batch `upto`'s base: each read starts with the batch that
 * holds the offset and holds whole batches of the recipe, in order. */
static void check_reads(fixture_t *f, kl_segment_t *seg, int upto)
{
    for (int64_t o = 0; o < f->bases[upto - 1] + f->counts[upto - 1]; o++) {
        test_buf_t b = { 0 };
        kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
        size_t n = 0;
        assert_int_equal(segment_read(seg, o, 1 << 20, &sink, &n), KL_OK);
        int first = batch_of(f, o);
        assert_int_equal(n, f->positions[upto - 1] + (int64_t)f->sizes[upto - 1] - f->positions[first]);
        assert_int_equal(b.len, n);
        for (int i = first; i < upto; i++)
            assert_memory_equal(b.data + f->positions[i] - f->positions[first], f->bytes[i], f->sizes[i]);
        free(b.data);
    }
}

/* The index `seg` holds, in memory and on disk, is the one a fresh segment builds from the
 * first `upto` batches of the recipe with the same interval. */
static void check_index_of_prefix(fixture_t *f, const kl_segment_t *seg, int32_t interval, int upto)
{
    char dir[80];
    snprintf(dir, sizeof dir, "%s/ref", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    kl_segment_t *ref = NULL;
    assert_int_equal(segment_create(&ref, dir, 0, interval, NULL), KL_OK);
    for (int i = 0; i < upto; i++)
        assert_int_equal(segment_append(ref, f->bytes[i], f->sizes[i]), KL_OK);
    assert_int_equal(seg->index_count, ref->index_count);
    if (ref->index_count > 0)
        assert_memory_equal(seg->index, ref->index, ref->index_count * 8);
    uint8_t disk[NBATCH * 8 + 8];
    int fd = open(seg->index_path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, disk, sizeof disk), (ssize_t)(ref->index_count * 8));
    close(fd);
    if (ref->index_count > 0)
        assert_memory_equal(disk, ref->index, ref->index_count * 8);
    segment_close(ref);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A logger writing into memory, to check the log lines a recovery promises. */
typedef struct test_log {
    char *text;
    size_t len;
    kl_log_t log;
} test_log_t;

static void test_log_open(test_log_t *l)
{
    l->text = NULL;
    l->len = 0;
    l->log.out = open_memstream(&l->text, &l->len);
    l->log.level = KL_LOG_DEBUG;
    assert_non_null(l->log.out);
}

static bool test_log_says(test_log_t *l, const char *what)
{
    fflush(l->log.out);
    return l->text != NULL && strstr(l->text, what) != NULL;
}

static void test_log_close(test_log_t *l)
{
    fclose(l->log.out);
    free(l->text);
}

/* ---- tests ---- */

static void test_names(void **state)
{
    (void)state;
    int64_t base = -1;
    char buf[128];
    assert_true(segment_parse_name("00000000000000000042.log", &base));
    assert_int_equal(base, 42);
    assert_false(segment_parse_name("00000000000000000042.index", &base));
    assert_false(segment_parse_name("0000000000000000042.log", &base));
    assert_false(segment_parse_name("0000000000000000004x.log", &base));
    assert_false(segment_parse_name("99999999999999999999.log", &base));   /* > INT64_MAX */
    assert_false(segment_parse_name("00000000000000000042.log.tmp", &base));
    assert_true(segment_path(buf, sizeof buf, "/d", 1234, ".log"));
    assert_string_equal(buf, "/d/00000000000000001234.log");
    assert_false(segment_path(buf, 10, "/d", 1234, ".log"));
}

static void test_append_updates_size_offsets_and_file(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 4096);
    char path[256];
    path_of(f, ".log", path, sizeof path);
    assert_int_equal(seg->size, total_bytes(f));
    assert_int_equal(seg->next_offset, total_records(f));
    assert_int_equal(file_size(path), total_bytes(f));
    /* interval 4096 > everything: only the first batch is indexed */
    assert_int_equal(seg->index_count, 1);
    assert_int_equal(segment_index_offset(seg, 0), f->counts[0] - 1);
    assert_int_equal(segment_index_position(seg, 0), 0);
    segment_close(seg);
}

/* Replay Kafka's rule: an entry when MORE than `interval` bytes were appended since the
 * last one (plus the first batch); compare with what the segment built, in memory and, once
 * flushed, on disk. */
static void check_sparse_index(fixture_t *f, int32_t interval)
{
    kl_segment_t *seg = fill(f, interval);
    size_t expect = 0;
    int64_t since = 0;
    for (int i = 0; i < NBATCH; i++) {
        if (expect == 0 || since > interval) {
            assert_true(expect < seg->index_count);
            assert_int_equal(segment_index_offset(seg, expect), f->bases[i] + f->counts[i] - 1);
            assert_int_equal(segment_index_position(seg, expect), f->positions[i]);
            expect++;
            since = 0;
        }
        since += (int64_t)f->sizes[i];
    }
    assert_int_equal(seg->index_count, expect);
    assert_true(expect >= 2 && expect < NBATCH);
    char path[256];
    path_of(f, ".index", path, sizeof path);
    assert_int_equal(file_size(path), 0);                 /* active: in memory only */
    assert_int_equal(segment_flush(seg), KL_OK);
    assert_int_equal(file_size(path), (int64_t)expect * 8);
    uint8_t disk[NBATCH * 8];
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(disk, 1, expect * 8, fp), expect * 8);
    fclose(fp);
    assert_memory_equal(disk, seg->index, expect * 8);
    segment_close(seg);
    path_of(f, ".log", path, sizeof path);
    unlink(path);
}

static void test_sparse_index_follows_interval(void **state)
{
    fixture_t *f = *state;
    check_sparse_index(f, 100);
    /* exactly one batch's worth is not "more than": batch 1 gets no entry */
    check_sparse_index(f, (int32_t)f->sizes[0]);
}

static void test_find_every_offset(void **state)
{
    fixture_t *f = *state;
    int32_t intervals[] = { 0, 50, 100, 4096 };
    for (size_t k = 0; k < sizeof intervals / sizeof intervals[0]; k++) {
        kl_segment_t *seg = fill(f, intervals[k]);
        for (int64_t o = 0; o < total_records(f); o++) {
            int64_t pos = -1;
            assert_int_equal(segment_find(seg, o, &pos), KL_OK);
            assert_int_equal(pos, f->positions[batch_of(f, o)]);
        }
        int64_t pos = -1;
        assert_int_equal(segment_find(seg, total_records(f), &pos), KL_OK);
        assert_int_equal(pos, seg->size);
        segment_close(seg);
        char path[256];
        path_of(f, ".log", path, sizeof path);
        unlink(path);
    }
}

static void test_read_round_trip_every_offset(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 64);
    for (int64_t o = 0; o < total_records(f); o++) {
        test_buf_t b = { 0 };
        kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
        size_t n = 0;
        int first = batch_of(f, o);
        assert_int_equal(segment_read(seg, o, 1 << 20, &sink, &n), KL_OK);
        assert_int_equal(n, total_bytes(f) - f->positions[first]);
        assert_int_equal(b.len, n);
        size_t at = 0;
        for (int i = first; i < NBATCH; i++) {
            assert_memory_equal(b.data + at, f->bytes[i], f->sizes[i]);
            at += f->sizes[i];
        }
        free(b.data);
    }
    segment_close(seg);
}

static void test_read_respects_max_bytes_kip74(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 0);
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    /* smaller than one batch: the whole first batch anyway */
    assert_int_equal(segment_read(seg, 0, 5, &sink, &n), KL_OK);
    assert_int_equal(n, f->sizes[0]);
    assert_memory_equal(b.data, f->bytes[0], n);
    /* 0 behaves the same */
    b.len = 0;
    assert_int_equal(segment_read(seg, f->bases[3], 0, &sink, &n), KL_OK);
    assert_int_equal(n, f->sizes[3]);
    assert_memory_equal(b.data, f->bytes[3], n);
    /* room for two and a half batches: two */
    b.len = 0;
    int32_t max = (int32_t)(f->sizes[2] + f->sizes[3] + f->sizes[4] / 2);
    assert_int_equal(segment_read(seg, f->bases[2] + 1, max, &sink, &n), KL_OK);
    assert_int_equal(n, f->sizes[2] + f->sizes[3]);
    assert_memory_equal(b.data + f->sizes[2], f->bytes[3], f->sizes[3]);
    /* exactly three batches */
    b.len = 0;
    max = (int32_t)(f->sizes[2] + f->sizes[3] + f->sizes[4]);
    assert_int_equal(segment_read(seg, f->bases[2], max, &sink, &n), KL_OK);
    assert_int_equal(n, (size_t)max);
    /* at the end: nothing, and nothing reserved */
    b.len = 0;
    assert_int_equal(segment_read(seg, total_records(f), 1000, &sink, &n), KL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(b.len, 0);
    free(b.data);
    segment_close(seg);
}

static void test_multi_batch_append_and_reopen(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, 0, NULL), KL_OK);
    uint8_t all[NBATCH * 512];
    size_t len = 0;
    for (int i = 0; i < NBATCH; i++) {
        memcpy(all + len, f->bytes[i], f->sizes[i]);
        len += f->sizes[i];
    }
    assert_int_equal(segment_append(seg, all, len), KL_OK);   /* one call, NBATCH batches */
    assert_int_equal(seg->index_count, NBATCH);              /* interval 0: every batch */
    uint8_t index_before[NBATCH * 8];
    memcpy(index_before, seg->index, sizeof index_before);
    segment_close(seg);

    assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
    assert_int_equal(seg->size, (int64_t)len);
    assert_int_equal(seg->next_offset, total_records(f));
    assert_int_equal(seg->index_count, NBATCH);
    assert_memory_equal(seg->index, index_before, sizeof index_before);
    /* and it keeps going at the right offset */
    uint8_t more[512];
    size_t m = make_batch(more, total_records(f), 2, 5000, 8);
    assert_int_equal(segment_append(seg, more, m), KL_OK);
    assert_int_equal(seg->next_offset, total_records(f) + 2);
    segment_close(seg);
}

static void test_append_rejects_wrong_offsets_and_bad_framing(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = NULL;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    assert_int_equal(segment_create(&seg, f->dir, 0, 0, NULL), KL_OK);
    assert_int_equal(segment_append(seg, f->bytes[0], f->sizes[0]), KL_OK);
    /* batch 2 skips batch 1's offsets */
    assert_int_not_equal(segment_append(seg, f->bytes[2], f->sizes[2]), KL_OK);
    /* valid batch 1 followed by a truncated batch: nothing of the call is appended */
    uint8_t two[1024];
    memcpy(two, f->bytes[1], f->sizes[1]);
    memcpy(two + f->sizes[1], f->bytes[2], f->sizes[2]);
    assert_int_equal(segment_append(seg, two, f->sizes[1] + f->sizes[2] - 1), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(seg->size, (int64_t)f->sizes[0]);
    assert_int_equal(seg->next_offset, f->counts[0]);
    assert_int_equal(seg->index_count, 1);
    assert_int_equal(file_size(path), (int64_t)f->sizes[0]);
    /* the right one still goes in */
    assert_int_equal(segment_append(seg, f->bytes[1], f->sizes[1]), KL_OK);
    assert_int_equal(seg->next_offset, f->bases[2]);
    segment_close(seg);
}

static void test_recovery_torn_tail_at_every_byte(void **state)
{
    fixture_t *f = *state;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    int last = NBATCH - 1;
    for (int64_t cut = f->positions[last]; cut < total_bytes(f); cut++) {
        kl_segment_t *seg = fill(f, 100);
        segment_close(seg);
        truncate_file(path, cut);
        assert_int_equal(segment_open_active(&seg, f->dir, 0, 100, NULL), KL_OK);
        assert_int_equal(seg->size, f->positions[last]);
        assert_int_equal(seg->next_offset, f->bases[last]);
        assert_int_equal(file_size(path), f->positions[last]);
        /* the index is rebuilt: what appending the valid prefix would have built */
        check_index_of_prefix(f, seg, 100, last);
        /* the next append continues where the valid prefix ends, and is readable */
        assert_int_equal(segment_append(seg, f->bytes[last], f->sizes[last]), KL_OK);
        assert_int_equal(seg->next_offset, total_records(f));
        int64_t pos = -1;
        assert_int_equal(segment_find(seg, f->bases[last], &pos), KL_OK);
        assert_int_equal(pos, f->positions[last]);
        check_reads(f, seg, NBATCH);
        segment_close(seg);
        unlink(path);
    }
}

/* ---- log.preallocate ---------------------------------------------------------------- */

#define PREALLOC_STEP (1 << 20)

/* Bytes the file system holds for the file (st_blocks counts 512-byte units). */
static int64_t allocated_bytes(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_blocks * 512;
}

/* What a file of `size` bytes written in place occupies: whole 4 KiB blocks, no more. */
static int64_t blocks_for(int64_t size)
{
    return (size + 4095) / 4096 * 4096;
}

/* Every batch but the last, appended with a 1 MiB reservation; skips the test on a file
 * system that refuses fallocate (the segment then switched the reservation off). */
static kl_segment_t *fill_preallocated(fixture_t *f, int upto)
{
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, 100, NULL), KL_OK);
    segment_set_preallocate(seg, PREALLOC_STEP);
    for (int i = 0; i < upto; i++)
        assert_int_equal(segment_append(seg, f->bytes[i], f->sizes[i]), KL_OK);
    if (seg->reserve_step == 0) {
        segment_close(seg);
        skip();
    }
    return seg;
}

static void test_preallocate_reserves_blocks_but_not_size(void **state)
{
    fixture_t *f = *state;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    kl_segment_t *seg = fill_preallocated(f, NBATCH);
    assert_int_equal(file_size(path), total_bytes(f));          /* size = bytes written */
    assert_int_equal(seg->size, total_bytes(f));
    assert_true(allocated_bytes(path) >= PREALLOC_STEP);        /* the step is reserved */
    assert_int_equal(seg->reserved_end, PREALLOC_STEP);
    check_reads(f, seg, NBATCH);
    /* sealing gives back everything past the end */
    assert_int_equal(segment_release_reserve(seg), KL_OK);
    assert_int_equal(file_size(path), total_bytes(f));
    assert_int_equal(allocated_bytes(path), blocks_for(total_bytes(f)));
    check_reads(f, seg, NBATCH);
    segment_close(seg);
}

/* Without the setting nothing is reserved (so the test above can fail). */
static void test_no_preallocate_reserves_nothing(void **state)
{
    fixture_t *f = *state;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    kl_segment_t *seg = fill(f, 100);
    assert_int_equal(seg->reserve_step, 0);
    assert_int_equal(allocated_bytes(path), blocks_for(total_bytes(f)));
    segment_close(seg);
}

/* A crash mid-write in a preallocated segment: the size covers part of the last batch and
 * reserved blocks lie past it. Recovery keeps exactly the valid prefix, and the file's
 * size afterwards is that prefix (the reservation does not leak into the size). */
static void test_preallocated_torn_tail_keeps_the_valid_prefix(void **state)
{
    fixture_t *f = *state;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    int last = NBATCH - 1;
    for (size_t torn = 1; torn < f->sizes[last]; torn += 7) {
        kl_segment_t *seg = fill_preallocated(f, last);
        int fd = open(path, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, f->bytes[last], torn), (ssize_t)torn);
        close(fd);
        segment_close(seg);
        assert_int_equal(file_size(path), f->positions[last] + (int64_t)torn);
        assert_true(allocated_bytes(path) >= PREALLOC_STEP);
        assert_int_equal(segment_open_active(&seg, f->dir, 0, 100, NULL), KL_OK);
        assert_int_equal(seg->size, f->positions[last]);
        assert_int_equal(seg->next_offset, f->bases[last]);
        assert_int_equal(file_size(path), f->positions[last]);
        check_index_of_prefix(f, seg, 100, last);
        assert_int_equal(segment_append(seg, f->bytes[last], f->sizes[last]), KL_OK);
        check_reads(f, seg, NBATCH);
        segment_close(seg);
        unlink(path);
    }
}

static void test_recovery_cuts_corrupt_batch(void **state)
{
    fixture_t *f = *state;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    /* a flipped byte in the last batch's records, in its CRC field, in its magic; then a
     * flipped byte in batch 4: everything from batch 4 on is cut (offsets after it are
     * unreachable once the chain is broken). */
    struct { int batch; int64_t at; } cases[] = {
        { NBATCH - 1, 70 }, { NBATCH - 1, 18 }, { NBATCH - 1, 16 }, { NBATCH - 1, 9 }, { 4, 30 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        kl_segment_t *seg = fill(f, 0);
        segment_close(seg);
        int b = cases[k].batch;
        flip_byte(path, f->positions[b] + cases[k].at);
        assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
        assert_int_equal(seg->size, f->positions[b]);
        assert_int_equal(seg->next_offset, f->bases[b]);
        assert_int_equal(seg->index_count, (size_t)b);
        assert_int_equal(file_size(path), f->positions[b]);
        segment_close(seg);
        unlink(path);
    }
}

/* Rule 2 byte by byte: whichever byte of the last batch is flipped, that batch is cut and
 * the earlier ones stay readable. The one exception is rule 8: bytes 12..15
 * (partition_leader_epoch) are outside the CRC by Kafka's design, so the batch is kept. */
static void test_recovery_flip_every_byte_of_last_batch(void **state)
{
    fixture_t *f = *state;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    int last = NBATCH - 1;
    for (int64_t at = 0; at < (int64_t)f->sizes[last]; at++) {
        kl_segment_t *seg = fill(f, 0);
        segment_close(seg);
        flip_byte(path, f->positions[last] + at);
        assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
        bool epoch = at >= 12 && at < 16;
        assert_int_equal(seg->size, epoch ? total_bytes(f) : f->positions[last]);
        assert_int_equal(seg->next_offset, epoch ? total_records(f) : f->bases[last]);
        assert_int_equal(seg->index_count, epoch ? NBATCH : last);
        assert_int_equal(file_size(path), seg->size);
        if (!epoch)
            check_reads(f, seg, last);
        segment_close(seg);
        unlink(path);
    }
}

/* Rule 4 on the active segment: whatever the .index holds, open rebuilds it from the scan. */
static void expect_active_rebuild(fixture_t *f, void (*damage)(const char *index_path))
{
    kl_segment_t *seg = fill(f, 50);
    segment_close(seg);
    char ipath[256];
    path_of(f, ".index", ipath, sizeof ipath);
    damage(ipath);
    assert_int_equal(segment_open_active(&seg, f->dir, 0, 50, NULL), KL_OK);
    assert_int_equal(seg->size, total_bytes(f));
    assert_int_equal(seg->next_offset, total_records(f));
    check_index_of_prefix(f, seg, 50, NBATCH);
    check_reads(f, seg, NBATCH);
    segment_close(seg);
}

static void test_recovery_of_garbage_only_file(void **state)
{
    fixture_t *f = *state;
    char path[256];
    path_of(f, ".log", path, sizeof path);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("this is not a record batch at all, just text that is long enough....", fp);
    fclose(fp);
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
    assert_int_equal(seg->size, 0);
    assert_int_equal(seg->next_offset, 0);
    assert_int_equal(seg->index_count, 0);
    segment_close(seg);
}

static void expect_sealed_rebuild(fixture_t *f, void (*damage)(const char *index_path))
{
    kl_segment_t *seg = fill(f, 50);
    size_t count = seg->index_count;
    uint8_t before[NBATCH * 8];
    memcpy(before, seg->index, count * 8);
    segment_close(seg);
    char ipath[256];
    path_of(f, ".index", ipath, sizeof ipath);
    damage(ipath);
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 50, NULL), KL_OK);
    assert_int_equal(seg->index_count, count);
    assert_memory_equal(seg->index, before, count * 8);
    assert_int_equal(file_size(ipath), (int64_t)count * 8);
    for (int64_t o = 0; o < total_records(f); o++) {
        int64_t pos = -1;
        assert_int_equal(segment_find(seg, o, &pos), KL_OK);
        assert_int_equal(pos, f->positions[batch_of(f, o)]);
    }
    check_reads(f, seg, NBATCH);
    segment_close(seg);
}

static void damage_delete(const char *p) { assert_int_equal(unlink(p), 0); }
static void damage_odd_size(const char *p) { truncate_file(p, file_size(p) - 3); }
static void damage_empty(const char *p) { truncate_file(p, 0); }
static void damage_decreasing(const char *p)
{
    /* second entry's offset becomes 0: not increasing */
    int fd = open(p, O_WRONLY);
    uint8_t zero[4] = { 0 };
    assert_int_equal(pwrite(fd, zero, 4, 8), 4);
    close(fd);
}
static void damage_position_past_end(const char *p)
{
    int fd = open(p, O_WRONLY);
    uint8_t big[4] = { 0x7f, 0, 0, 0 };
    assert_int_equal(pwrite(fd, big, 4, 12), 4);
    close(fd);
}

static void damage_garbage(const char *p)
{
    /* 45 bytes of a fixed pseudo-random pattern: odd size and nonsense entries */
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    uint32_t x = 2463534242u;
    for (int i = 0; i < 45; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        fputc((int)(x & 0xff), fp);
    }
    fclose(fp);
}
static void damage_garbage_aligned(const char *p)
{
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 48; i++)
        fputc(0xa5 ^ i, fp);
    fclose(fp);
}
static void damage_first_not_at_zero(const char *p)
{
    /* the first entry's position 0 becomes 1: still increasing and inside the file, the
     * last entry still right, but position 1 is no batch start */
    int fd = open(p, O_WRONLY);
    uint8_t one = 1;
    assert_int_equal(pwrite(fd, &one, 1, 7), 1);
    close(fd);
}
static void damage_last_entry_lies(const char *p)
{
    /* increasing, in range, first entry right: only the last one points into a batch */
    int fd = open(p, O_RDWR);
    uint8_t e[8];
    off_t at = (off_t)file_size(p) - 8;
    assert_int_equal(pread(fd, e, 8, at), 8);
    e[7] = (uint8_t)(e[7] + 1);
    assert_int_equal(pwrite(fd, e, 8, at), 8);
    close(fd);
}

static void test_active_index_deleted_is_rebuilt(void **state) { expect_active_rebuild(*state, damage_delete); }
static void test_active_index_odd_size_is_rebuilt(void **state) { expect_active_rebuild(*state, damage_odd_size); }
static void test_active_index_garbage_is_rebuilt(void **state) { expect_active_rebuild(*state, damage_garbage); }
static void test_active_index_past_end_is_rebuilt(void **state) { expect_active_rebuild(*state, damage_position_past_end); }
static void test_active_index_lies_is_rebuilt(void **state) { expect_active_rebuild(*state, damage_last_entry_lies); }
static void test_sealed_index_garbage_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_garbage); }
static void test_sealed_index_aligned_garbage_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_garbage_aligned); }
static void test_sealed_index_first_not_at_zero_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_first_not_at_zero); }
static void test_sealed_index_last_entry_lies_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_last_entry_lies); }

static void test_sealed_index_deleted_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_delete); }
static void test_sealed_index_odd_size_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_odd_size); }
static void test_sealed_index_empty_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_empty); }
static void test_sealed_index_unordered_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_decreasing); }
static void test_sealed_index_past_end_is_rebuilt(void **state) { expect_sealed_rebuild(*state, damage_position_past_end); }

static void test_sealed_trusts_a_sane_short_index(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 0);
    size_t count = seg->index_count;
    segment_close(seg);
    char ipath[256];
    path_of(f, ".index", ipath, sizeof ipath);
    truncate_file(ipath, 16);   /* two entries: still sane, so trusted as is */
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 0, NULL), KL_OK);
    assert_int_equal(seg->index_count, 2);
    assert_true(count > 2);
    assert_int_equal(seg->size, total_bytes(f));
    assert_int_equal(seg->next_offset, total_records(f));
    for (int64_t o = 0; o < total_records(f); o++) {   /* lookups still right: they walk further */
        int64_t pos = -1;
        assert_int_equal(segment_find(seg, o, &pos), KL_OK);
        assert_int_equal(pos, f->positions[batch_of(f, o)]);
    }
    segment_close(seg);
}

/* Rule 7's scope: only a sealed segment found on disk is checked on read. A segment this
 * process created or scanned is not, so a byte changed behind its back is served as is
 * (the documented limit); the same file reopened sealed is checked and reported. */
static void test_reads_verify_only_segments_found_sealed(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 0);
    assert_false(seg->verify_reads);                     /* created: every byte appended was checked */
    char path[256];
    path_of(f, ".log", path, sizeof path);
    flip_byte(path, f->positions[0] + KL_BATCH_HEADER_SIZE + 1);   /* a record byte of batch 0 */
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(segment_read(seg, 0, 1 << 20, &sink, &n), KL_OK);
    assert_int_equal(n, total_bytes(f));                 /* not checked again: one pread, no CRC */
    segment_close(seg);

    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 0, NULL), KL_OK);
    assert_true(seg->verify_reads);                      /* found on disk: checked on read */
    b.len = 0;
    assert_int_equal(segment_read(seg, 0, 1 << 20, &sink, &n), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(b.len, 0);
    segment_close(seg);

    assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
    assert_false(seg->verify_reads);                     /* scanned: batch 0 on was cut at open */
    assert_int_equal(seg->size, 0);
    segment_close(seg);
    free(b.data);
}

/* ---- zero-copy reads: a sink that takes file ranges by reference (ports.h splice) ---- */

/* Records what segment_read hands over: every splice call, and the reserved bytes (through
 * test_buf_t) when it copies instead. `accept` false makes splice refuse (out of memory). */
typedef struct splice_sink {
    test_buf_t buf;
    bool accept;
    int splices;                 /* splice calls, taken or not */
    int reserves;                /* reserve calls */
    int fd;                      /* the last splice's arguments */
    int64_t offset;
    size_t n;
} splice_sink_t;

static uint8_t *splice_sink_reserve(void *arg, size_t n)
{
    splice_sink_t *s = arg;
    s->reserves++;
    return test_buf_reserve(&s->buf, n);
}

static void splice_sink_unreserve(void *arg, size_t n)
{
    test_buf_unreserve(&((splice_sink_t *)arg)->buf, n);
}

static bool splice_sink_splice(void *arg, int fd, int64_t offset, size_t n)
{
    splice_sink_t *s = arg;
    s->splices++;
    s->fd = fd;
    s->offset = offset;
    s->n = n;
    return s->accept;
}

static kl_buf_sink_t splice_sink(splice_sink_t *s, bool accept)
{
    memset(s, 0, sizeof *s);
    s->accept = accept;
    s->fd = -1;
    kl_buf_sink_t sink = { s, splice_sink_reserve, splice_sink_unreserve, splice_sink_splice };
    return sink;
}

/* A read at `offset` (max_bytes `max`) is exactly one splice of batches [from, to): the
 * segment's own .log descriptor, from batch `from`'s position, to the end of batch to-1;
 * nothing reserved; and the file really holds the recipe's bytes there. */
static void expect_spliced(fixture_t *f, kl_segment_t *seg, int64_t offset, int32_t max,
                           int from, int to)
{
    splice_sink_t s;
    kl_buf_sink_t sink = splice_sink(&s, true);
    size_t n = 99;
    assert_int_equal(segment_read(seg, offset, max, &sink, &n), KL_OK);
    size_t want = (size_t)(f->positions[to - 1] + (int64_t)f->sizes[to - 1] - f->positions[from]);
    assert_int_equal(s.splices, 1);
    assert_int_equal(s.fd, seg->log_fd);
    assert_int_equal(s.offset, f->positions[from]);
    assert_int_equal(s.n, want);
    assert_int_equal(n, want);
    assert_int_equal(s.reserves, 0);
    assert_int_equal(s.buf.len, 0);
    uint8_t *disk = malloc(want);
    assert_non_null(disk);
    assert_int_equal(pread(s.fd, disk, want, (off_t)s.offset), (ssize_t)want);
    for (int i = from; i < to; i++)
        assert_memory_equal(disk + f->positions[i] - f->positions[from], f->bytes[i], f->sizes[i]);
    free(disk);
    free(s.buf.data);
}

/* Every offset, with room for everything, one batch (KIP-74: max_bytes below one batch
 * still gets the whole first one), and two and a half batches (two). */
static void check_spliced_reads(fixture_t *f, kl_segment_t *seg)
{
    for (int64_t o = 0; o < total_records(f); o++) {
        int first = batch_of(f, o);
        expect_spliced(f, seg, o, 1 << 20, first, NBATCH);
        expect_spliced(f, seg, o, 1, first, first + 1);
        if (first + 3 <= NBATCH) {
            int32_t max = (int32_t)(f->sizes[first] + f->sizes[first + 1] + f->sizes[first + 2] / 2);
            expect_spliced(f, seg, o, max, first, first + 2);
        }
    }
}

/* Zero copies: the active segment hands its ranges over by reference. */
static void test_read_splices_active_segment(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 64);
    assert_false(seg->verify_reads);
    check_spliced_reads(f, seg);
    segment_close(seg);
}

/* A segment this process sealed (at a roll), and one it scanned at open (the active one
 * after a restart), hold only checked bytes: spliced too. */
static void test_read_splices_segment_sealed_or_scanned_here(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 100);
    assert_int_equal(segment_seal(seg), KL_OK);
    assert_false(seg->verify_reads);
    check_spliced_reads(f, seg);
    segment_close(seg);

    assert_int_equal(segment_open_active(&seg, f->dir, 0, 100, NULL), KL_OK);
    assert_false(seg->verify_reads);
    check_spliced_reads(f, seg);
    segment_close(seg);
}

/* Rule 7 beats zero copy: a sealed segment found on disk is read into the sink and
 * checked even when the sink offers splice — whole batches served are the recipe's, and
 * a damaged one is still reported (CORRUPT_MESSAGE, nothing served, nothing spliced). */
static void test_read_of_segment_found_sealed_never_splices(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 0);
    segment_close(seg);
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 0, NULL), KL_OK);
    assert_true(seg->verify_reads);
    for (int64_t o = 0; o < total_records(f); o++) {
        splice_sink_t s;
        kl_buf_sink_t sink = splice_sink(&s, true);
        size_t n = 0;
        int first = batch_of(f, o);
        assert_int_equal(segment_read(seg, o, 1 << 20, &sink, &n), KL_OK);
        assert_int_equal(s.splices, 0);
        assert_int_equal(n, total_bytes(f) - f->positions[first]);
        assert_int_equal(s.buf.len, n);
        for (int i = first; i < NBATCH; i++)
            assert_memory_equal(s.buf.data + f->positions[i] - f->positions[first], f->bytes[i], f->sizes[i]);
        free(s.buf.data);
    }
    segment_close(seg);

    char path[256];
    path_of(f, ".log", path, sizeof path);
    flip_byte(path, f->positions[4] + KL_BATCH_HEADER_SIZE + 1);   /* a record byte of batch 4 */
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 0, NULL), KL_OK);
    for (int64_t o = f->bases[4]; o < f->bases[4] + f->counts[4]; o++) {
        splice_sink_t s;
        kl_buf_sink_t sink = splice_sink(&s, true);
        size_t n = 99;
        assert_int_equal(segment_read(seg, o, 1 << 20, &sink, &n), KL_ERR_CORRUPT_MESSAGE);
        assert_int_equal(n, 0);
        assert_int_equal(s.splices, 0);
        assert_int_equal(s.buf.len, 0);
        free(s.buf.data);
    }
    /* before it: served up to the damage, by copy */
    splice_sink_t s;
    kl_buf_sink_t sink = splice_sink(&s, true);
    size_t n = 0;
    assert_int_equal(segment_read(seg, 0, 1 << 20, &sink, &n), KL_OK);
    assert_int_equal(s.splices, 0);
    assert_int_equal(n, f->positions[4]);
    assert_int_equal(s.buf.len, n);
    assert_memory_equal(s.buf.data, f->bytes[0], f->sizes[0]);
    free(s.buf.data);
    segment_close(seg);
}

/* A splice that is not taken (false) falls back to the copy: one attempt with the right
 * range, then the same bytes through reserve. */
static void test_refused_splice_falls_back_to_copy(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 64);
    for (int64_t o = 0; o < total_records(f); o++) {
        splice_sink_t s;
        kl_buf_sink_t sink = splice_sink(&s, false);
        size_t n = 0;
        int first = batch_of(f, o);
        assert_int_equal(segment_read(seg, o, 1 << 20, &sink, &n), KL_OK);
        assert_int_equal(s.splices, 1);
        assert_int_equal(s.offset, f->positions[first]);
        assert_int_equal(s.n, total_bytes(f) - f->positions[first]);
        assert_int_equal(s.reserves, 1);
        assert_int_equal(n, s.n);
        assert_int_equal(s.buf.len, n);
        for (int i = first; i < NBATCH; i++)
            assert_memory_equal(s.buf.data + f->positions[i] - f->positions[first], f->bytes[i], f->sizes[i]);
        free(s.buf.data);
    }
    segment_close(seg);
}

/* At the log end (and in an empty segment) there is nothing to read: no splice, no
 * reserve, 0 bytes. */
static void test_read_at_end_splices_nothing(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 64);
    splice_sink_t s;
    kl_buf_sink_t sink = splice_sink(&s, true);
    size_t n = 99;
    assert_int_equal(segment_read(seg, total_records(f), 1 << 20, &sink, &n), KL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(s.splices, 0);
    assert_int_equal(s.reserves, 0);
    segment_close(seg);

    char dir[80];
    snprintf(dir, sizeof dir, "%s/empty", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(segment_create(&seg, dir, 50, 64, NULL), KL_OK);
    n = 99;
    assert_int_equal(segment_read(seg, 50, 1 << 20, &sink, &n), KL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(s.splices, 0);
    assert_int_equal(s.reserves, 0);
    segment_close(seg);
}

/* Read from `offset` with room for everything: expect exactly batches [from, to). */
static void expect_read(fixture_t *f, kl_segment_t *seg, int64_t offset, int32_t max, int from, int to)
{
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(segment_read(seg, offset, max, &sink, &n), KL_OK);
    assert_int_equal(n, f->positions[to - 1] + (int64_t)f->sizes[to - 1] - f->positions[from]);
    assert_int_equal(b.len, n);                 /* the sink grew by exactly what was served */
    for (int i = from; i < to; i++)
        assert_memory_equal(b.data + f->positions[i] - f->positions[from], f->bytes[i], f->sizes[i]);
    free(b.data);
}

/* Every offset of batch `bad` is reported, not served: CORRUPT_MESSAGE, 0 bytes, the sink
 * untouched. */
static void expect_corrupt(fixture_t *f, kl_segment_t *seg, int bad)
{
    for (int64_t o = f->bases[bad]; o < f->bases[bad] + f->counts[bad]; o++) {
        test_buf_t b = { 0 };
        kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
        size_t n = 99;
        assert_int_equal(segment_read(seg, o, 1 << 20, &sink, &n), KL_ERR_CORRUPT_MESSAGE);
        assert_int_equal(n, 0);
        assert_int_equal(b.len, 0);
        free(b.data);
    }
}

/* A read at `o` either serves the recipe's batches from the one holding `o` on, or is
 * reported (CORRUPT_MESSAGE, nothing served); never other bytes. Returns true if served. */
static bool read_served_or_reported(fixture_t *f, kl_segment_t *seg, int64_t o)
{
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 99;
    kl_err_t err = segment_read(seg, o, 1 << 20, &sink, &n);
    if (err == KL_OK) {
        int first = batch_of(f, o);
        assert_int_equal(n, total_bytes(f) - f->positions[first]);
        for (int i = first; i < NBATCH; i++)
            assert_memory_equal(b.data + f->positions[i] - f->positions[first], f->bytes[i], f->sizes[i]);
    } else {
        assert_int_equal(err, KL_ERR_CORRUPT_MESSAGE);
        assert_int_equal(n, 0);
        assert_int_equal(b.len, 0);
    }
    free(b.data);
    return err == KL_OK;
}

/* Rule 7: batch 4 of a sealed segment (trusted at open, not scanned) is damaged at `at`.
 * Reads before it serve up to it; reads of it are reported with a log line naming the
 * file and position. After it: offsets from batch `reach_from` on are served (through the
 * index); those between may need a walk through batch 4's header, so they are served or
 * reported depending on what the damage hit, never served wrong. */
static void check_corrupt_middle(fixture_t *f, int64_t at, int32_t interval, int reach_from)
{
    const int bad = 4;
    kl_segment_t *seg = fill(f, interval);
    segment_close(seg);
    char path[256];
    path_of(f, ".log", path, sizeof path);
    flip_byte(path, f->positions[bad] + at);
    test_log_t log;
    test_log_open(&log);
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), interval, &log.log), KL_OK);
    for (int64_t o = 0; o < f->bases[bad]; o++)
        expect_read(f, seg, o, 1 << 20, batch_of(f, o), bad);
    expect_corrupt(f, seg, bad);
    char where[300];
    snprintf(where, sizeof where, "%s: corrupt batch at position %lld", path, (long long)f->positions[bad]);
    assert_true(test_log_says(&log, where));
    for (int64_t o = f->bases[bad + 1]; o < total_records(f); o++) {
        bool served = read_served_or_reported(f, seg, o);
        if (reach_from < NBATCH && o >= f->bases[reach_from])
            assert_true(served);
        if (reach_from == NBATCH)
            assert_false(served);
    }
    /* the file is reported, never repaired (rule 6) */
    assert_int_equal(file_size(path), total_bytes(f));
    segment_close(seg);
    test_log_close(&log);
    unlink(path);
}

static void test_sealed_corrupt_records_reported_not_served(void **state)
{
    fixture_t *f = *state;
    /* a record byte: only the CRC sees it, the header walk passes it */
    check_corrupt_middle(f, KL_BATCH_HEADER_SIZE + 3, 4096, 5);
    check_corrupt_middle(f, (int64_t)f->sizes[4] - 1, 4096, 5);
}

static void test_sealed_corrupt_header_fields_reported_not_served(void **state)
{
    fixture_t *f = *state;
    /* base_offset, batch_length, leader epoch is rule 8 (skipped), magic, crc, attributes,
     * last_offset_delta, timestamps, producer id/epoch, base sequence, records count.
     * Every batch indexed: from batch 6 on, the index leads past the damage. */
    int64_t fields[] = { 0, 7, 8, 11, 16, 17, 20, 22, 26, 30, 38, 45, 52, 56, 60 };
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        check_corrupt_middle(f, fields[k], 0, 6);
}

static void test_sealed_corrupt_framing_blocks_the_walk(void **state)
{
    fixture_t *f = *state;
    /* magic flipped and only the first batch indexed: offsets after batch 4 can only be
     * found by walking through it, so they are all reported too */
    check_corrupt_middle(f, 16, 4096, NBATCH);
}

static void test_read_stops_at_corrupt_header_within_max_bytes(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 0);
    segment_close(seg);
    char path[256];
    path_of(f, ".log", path, sizeof path);
    flip_byte(path, f->positions[4] + 16);                  /* batch 4's magic */
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 0, NULL), KL_OK);
    /* the end walk meets batch 4's header: batches 2 and 3 are served */
    int32_t max = (int32_t)(f->sizes[2] + f->sizes[3] + 5);
    expect_read(f, seg, f->bases[2], max, 2, 4);
    /* ListOffsets by time meets it too when its walk must pass batch 4: reported. (A target
     * past the segment's largest timestamp walks nothing since the time index: not found.) */
    bool found = false;
    int64_t off = -1, ts = -1;
    assert_int_equal(segment_offset_for_timestamp(seg, 1000 + f->bases[4] * 10, &found, &off, &ts),
                     KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(segment_offset_for_timestamp(seg, 1LL << 50, &found, &off, &ts), KL_OK);
    assert_false(found);
    segment_close(seg);
}

static void test_sealed_rebuild_stops_at_corrupt_header(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 0);
    segment_close(seg);
    char path[256], ipath[256];
    path_of(f, ".log", path, sizeof path);
    path_of(f, ".index", ipath, sizeof ipath);
    flip_byte(path, f->positions[6] + 10);                 /* batch 6's length */
    assert_int_equal(unlink(ipath), 0);
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 0, NULL), KL_OK);
    assert_int_equal(seg->index_count, 6);                  /* batches 0..5 */
    assert_int_equal(seg->size, total_bytes(f));            /* nothing cut (rule 6) */
    expect_read(f, seg, 0, 1 << 20, 0, 6);
    expect_corrupt(f, seg, 6);
    segment_close(seg);
}

/* Rule 3: an empty active segment, and one holding only part of a header, are the empty
 * prefix; the next append starts at the segment's base. */
static void check_empty_prefix(fixture_t *f, size_t keep)
{
    const int64_t base = 100;
    uint8_t batch[512];
    size_t n = make_batch(batch, base, 2, 7, 10);
    char path[256];
    assert_true(segment_path(path, sizeof path, f->dir, base, ".log"));
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(batch, 1, keep, fp), keep);
    fclose(fp);
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_open_active(&seg, f->dir, base, 0, NULL), KL_OK);
    assert_int_equal(seg->size, 0);
    assert_int_equal(seg->next_offset, base);
    assert_int_equal(seg->index_count, 0);
    assert_int_equal(file_size(path), 0);
    assert_int_equal(file_size(seg->index_path), 0);
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t got = 99;
    assert_int_equal(segment_read(seg, base, 1000, &sink, &got), KL_OK);
    assert_int_equal(got, 0);
    assert_int_equal(segment_append(seg, batch, n), KL_OK);
    assert_int_equal(seg->next_offset, base + 2);
    assert_int_equal(segment_read(seg, base + 1, 1000, &sink, &got), KL_OK);
    assert_int_equal(got, n);
    assert_memory_equal(b.data, batch, n);
    free(b.data);
    segment_close(seg);
    unlink(path);
}

static void test_recovery_of_empty_and_partial_header_files(void **state)
{
    fixture_t *f = *state;
    check_empty_prefix(f, 0);
    check_empty_prefix(f, 1);
    check_empty_prefix(f, 30);
    check_empty_prefix(f, KL_BATCH_HEADER_SIZE);       /* a whole header, no records */
}

static void test_create_truncates_a_leftover_index(void **state)
{
    fixture_t *f = *state;
    char ipath[256];
    path_of(f, ".index", ipath, sizeof ipath);
    damage_garbage(ipath);                             /* an .index with no .log */
    kl_segment_t *seg = fill(f, 50);
    size_t count = seg->index_count;
    assert_int_equal(file_size(ipath), 0);             /* emptied; appends write only the .log */
    segment_close(seg);
    assert_int_equal(file_size(ipath), (int64_t)count * 8);
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, total_records(f), 50, NULL), KL_OK);
    check_index_of_prefix(f, seg, 50, NBATCH);
    check_reads(f, seg, NBATCH);
    segment_close(seg);
}

static void test_offset_for_timestamp(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 4096);
    bool found = false;
    int64_t off = -1, ts = -1;
    /* batch i has timestamps 1000 + base*10 .. + count - 1 */
    assert_int_equal(segment_offset_for_timestamp(seg, 0, &found, &off, &ts), KL_OK);
    assert_true(found);
    assert_int_equal(off, 0);
    int b = 5;
    int64_t t = 1000 + f->bases[b] * 10;
    assert_int_equal(segment_offset_for_timestamp(seg, t, &found, &off, &ts), KL_OK);
    assert_true(found);
    assert_int_equal(off, f->bases[b]);
    assert_int_equal(ts, t + f->counts[b] - 1);
    /* just after batch 4's max timestamp: batch 5 */
    int64_t t4max = 1000 + f->bases[4] * 10 + f->counts[4] - 1;
    assert_int_equal(segment_offset_for_timestamp(seg, t4max + 1, &found, &off, &ts), KL_OK);
    assert_int_equal(off, f->bases[5]);
    assert_int_equal(segment_offset_for_timestamp(seg, 1LL << 50, &found, &off, &ts), KL_OK);
    assert_false(found);
    segment_close(seg);
}

/* ---- the time index (KIP-33) inside a segment ---- */

#define TI_NBATCH 300
#define TI_INTERVAL 256              /* bytes: an index entry every ~3-4 of these batches */

/* TI_NBATCH one-record batches; batch i holds offset i with timestamp ts_of(i). */
typedef struct ti_log {
    uint8_t *bytes[TI_NBATCH];
    size_t sizes[TI_NBATCH];
    int64_t ts[TI_NBATCH];
} ti_log_t;

static int64_t ti_rising(int i) { return 5000 + (int64_t)i * 10; }
/* out of order: up and down around a rising trend, repeats included */
static int64_t ti_jumpy(int i) { return 5000 + (int64_t)i * 3 + ((i * 37) % 11) * 7 - (i % 5 == 0 ? 40 : 0); }

static kl_segment_t *ti_fill(fixture_t *f, ti_log_t *l, int64_t (*ts_of)(int))
{
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, TI_INTERVAL, NULL), KL_OK);
    for (int i = 0; i < TI_NBATCH; i++) {
        l->bytes[i] = malloc(256);
        assert_non_null(l->bytes[i]);
        l->ts[i] = ts_of(i);
        l->sizes[i] = make_batch(l->bytes[i], i, 1, l->ts[i], 12);
        assert_int_equal(segment_append(seg, l->bytes[i], l->sizes[i]), KL_OK);
    }
    return seg;
}

static void ti_free(ti_log_t *l)
{
    for (int i = 0; i < TI_NBATCH; i++)
        free(l->bytes[i]);
}

/* The answer by definition: the first batch whose max timestamp >= target; -1 when none. */
static int ti_expected(const ti_log_t *l, int64_t target)
{
    for (int i = 0; i < TI_NBATCH; i++)
        if (l->ts[i] >= target)
            return i;
    return -1;
}

/* Ask every interesting target; each answer must be the definition's. When `max_reads` > 0,
 * no lookup may read more batch headers than that (the time index's whole point: a walk
 * from the segment start reads up to TI_NBATCH of them). */
static void ti_check_all(const ti_log_t *l, kl_segment_t *seg, uint64_t max_reads)
{
    kl_segment_stats_t stats = { 0 };
    seg->stats = &stats;
    for (int i = 0; i < TI_NBATCH; i++) {
        for (int64_t d = -1; d <= 1; d++) {
            int64_t target = l->ts[i] + d;
            int want = ti_expected(l, target);
            bool found = false;
            int64_t off = -1, ts = -1;
            stats.header_reads = 0;
            assert_int_equal(segment_offset_for_timestamp(seg, target, &found, &off, &ts), KL_OK);
            assert_int_equal(found, want >= 0);
            if (want >= 0) {
                assert_int_equal(off, want);
                assert_int_equal(ts, l->ts[want]);
            }
            if (max_reads > 0 && stats.header_reads > max_reads)
                fail_msg("target %lld: %llu header reads, at most %llu expected", (long long)target,
                         (unsigned long long)stats.header_reads, (unsigned long long)max_reads);
        }
    }
    seg->stats = NULL;
}

static void ti_path(const fixture_t *f, char *buf, size_t cap)
{
    path_of(f, ".timeindex", buf, cap);
}

static void test_time_index_entries_follow_the_offset_index(void **state)
{
    fixture_t *f = *state;
    ti_log_t l;
    kl_segment_t *seg = ti_fill(f, &l, ti_rising);
    const kl_time_index_t *ti = seg->time_index;
    /* rising timestamps: one time entry per .index entry, naming the same batch */
    assert_int_equal(ti->count, seg->index_count);
    for (size_t i = 0; i < ti->count; i++) {
        kl_time_entry_t e = time_index_entry(ti, i);
        assert_int_equal(e.offset, segment_index_offset(seg, i));
        assert_int_equal(e.timestamp, l.ts[e.offset]);
    }
    assert_int_equal(seg->max_timestamp, l.ts[TI_NBATCH - 1]);
    char path[256];
    ti_path(f, path, sizeof path);
    assert_int_equal(file_size(path), 0);                 /* active: in memory only */
    /* sealing adds the largest timestamp once, and only once, and writes every entry */
    assert_int_equal(segment_seal(seg), KL_OK);
    assert_int_equal(segment_seal(seg), KL_OK);
    assert_int_equal(ti->count, seg->index_count + 1);
    assert_int_equal(time_index_last_timestamp(ti), l.ts[TI_NBATCH - 1]);
    assert_int_equal(file_size(path), (int64_t)ti->count * KL_TIME_INDEX_ENTRY_SIZE);
    segment_close(seg);
    ti_free(&l);
}

/* Acceptance (lab 04): right answers, and few header reads, in the active segment. */
static void test_time_lookup_reads_few_headers(void **state)
{
    fixture_t *f = *state;
    ti_log_t l;
    kl_segment_t *seg = ti_fill(f, &l, ti_rising);
    ti_check_all(&l, seg, 12);
    /* past the largest timestamp: not found without reading anything */
    kl_segment_stats_t stats = { 0 };
    seg->stats = &stats;
    bool found = true;
    int64_t off = -1, ts = -1;
    assert_int_equal(segment_offset_for_timestamp(seg, l.ts[TI_NBATCH - 1] + 1, &found, &off, &ts), KL_OK);
    assert_false(found);
    assert_int_equal(stats.header_reads, 0);
    seg->stats = NULL;
    segment_close(seg);
    ti_free(&l);
}

/* Acceptance (lab 04): the same once the segment is sealed and opened from disk. */
static void test_time_lookup_in_a_sealed_segment(void **state)
{
    fixture_t *f = *state;
    ti_log_t l;
    kl_segment_t *seg = ti_fill(f, &l, ti_rising);
    assert_int_equal(segment_seal(seg), KL_OK);
    size_t count = seg->time_index->count;
    segment_close(seg);
    test_log_t log;
    test_log_open(&log);
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, TI_NBATCH, TI_INTERVAL, &log.log), KL_OK);
    assert_false(test_log_says(&log, "rebuilding"));       /* trusted, not rebuilt */
    assert_int_equal(seg->time_index->count, count);
    assert_int_equal(seg->max_timestamp, l.ts[TI_NBATCH - 1]);
    ti_check_all(&l, seg, 12);
    segment_close(seg);
    test_log_close(&log);
    ti_free(&l);
}

/* Out-of-order timestamps: the index keeps only new maxima, and answers stay exact. */
static void test_time_lookup_with_out_of_order_timestamps(void **state)
{
    fixture_t *f = *state;
    ti_log_t l;
    kl_segment_t *seg = ti_fill(f, &l, ti_jumpy);
    const kl_time_index_t *ti = seg->time_index;
    assert_true(ti->count > 10);
    for (size_t i = 1; i < ti->count; i++)
        assert_true(time_index_entry(ti, i).timestamp > time_index_entry(ti, i - 1).timestamp);
    for (size_t i = 0; i < ti->count; i++) {   /* each names the first batch to reach its time */
        kl_time_entry_t e = time_index_entry(ti, i);
        assert_int_equal(ti_expected(&l, e.timestamp), e.offset);
    }
    ti_check_all(&l, seg, 0);
    segment_close(seg);
    ti_free(&l);
}

static void ti_damage_and_reopen(fixture_t *f, void (*damage)(const char *path), bool sealed)
{
    ti_log_t l;
    kl_segment_t *seg = ti_fill(f, &l, ti_rising);
    if (sealed)
        assert_int_equal(segment_seal(seg), KL_OK);
    size_t count = seg->time_index->count;
    uint8_t *before = malloc(count * KL_TIME_INDEX_ENTRY_SIZE);
    assert_non_null(before);
    memcpy(before, seg->time_index->bytes, count * KL_TIME_INDEX_ENTRY_SIZE);
    segment_close(seg);
    char path[256];
    ti_path(f, path, sizeof path);
    damage(path);
    test_log_t log;
    test_log_open(&log);
    kl_err_t err = sealed ? segment_open_sealed(&seg, f->dir, 0, TI_NBATCH, TI_INTERVAL, &log.log)
                          : segment_open_active(&seg, f->dir, 0, TI_INTERVAL, &log.log);
    assert_int_equal(err, KL_OK);
    if (sealed)
        assert_true(test_log_says(&log, "timeindex"));
    assert_int_equal(seg->time_index->count, count);
    assert_memory_equal(seg->time_index->bytes, before, count * KL_TIME_INDEX_ENTRY_SIZE);
    assert_int_equal(file_size(path), (int64_t)count * KL_TIME_INDEX_ENTRY_SIZE);
    ti_check_all(&l, seg, 12);
    segment_close(seg);
    test_log_close(&log);
    free(before);
    ti_free(&l);
}

static void ti_damage_decreasing(const char *p)
{
    /* the second entry's timestamp becomes 0: not increasing */
    int fd = open(p, O_WRONLY);
    uint8_t zero[8] = { 0 };
    assert_int_equal(pwrite(fd, zero, 8, 12), 8);
    close(fd);
}
static void ti_damage_offset_past_end(const char *p)
{
    int fd = open(p, O_RDWR);
    uint8_t big[4] = { 0x7f, 0, 0, 0 };
    off_t last = (off_t)file_size(p) - 4;
    assert_int_equal(pwrite(fd, big, 4, last), 4);
    close(fd);
}

static void test_sealed_time_index_deleted_is_rebuilt(void **state) { ti_damage_and_reopen(*state, damage_delete, true); }
static void test_sealed_time_index_empty_is_rebuilt(void **state) { ti_damage_and_reopen(*state, damage_empty, true); }
static void test_sealed_time_index_odd_size_is_rebuilt(void **state) { ti_damage_and_reopen(*state, damage_odd_size, true); }
static void test_sealed_time_index_garbage_is_rebuilt(void **state) { ti_damage_and_reopen(*state, damage_garbage_aligned, true); }
static void test_sealed_time_index_unordered_is_rebuilt(void **state) { ti_damage_and_reopen(*state, ti_damage_decreasing, true); }
static void test_sealed_time_index_past_end_is_rebuilt(void **state) { ti_damage_and_reopen(*state, ti_damage_offset_past_end, true); }
static void test_active_time_index_garbage_is_rebuilt(void **state) { ti_damage_and_reopen(*state, damage_garbage, false); }
static void test_active_time_index_deleted_is_rebuilt(void **state) { ti_damage_and_reopen(*state, damage_delete, false); }

/* A failed append leaves the time index as it was, in memory and on disk (where the active
 * segment's entries wait for a flush); the .log is cut back to the last whole batch. */
static void test_failed_append_leaves_time_index(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, 0, NULL), KL_OK);
    assert_int_equal(segment_append(seg, f->bytes[0], f->sizes[0]), KL_OK);
    int64_t max = seg->max_timestamp;
    uint8_t two[1024];
    memcpy(two, f->bytes[1], f->sizes[1]);
    memcpy(two + f->sizes[1], f->bytes[2], f->sizes[2]);
    assert_int_equal(segment_append(seg, two, f->sizes[1] + f->sizes[2] - 1), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(seg->time_index->count, 1);
    assert_int_equal(seg->max_timestamp, max);
    char path[256];
    ti_path(f, path, sizeof path);
    assert_int_equal(file_size(path), 0);                     /* written at flush, seal, close */
    path_of(f, ".log", path, sizeof path);
    assert_int_equal(file_size(path), (int64_t)f->sizes[0]);  /* the .log is cut back */
    assert_int_equal(segment_append(seg, two, f->sizes[1] + f->sizes[2]), KL_OK);
    assert_int_equal(seg->time_index->count, 3);              /* interval 0: every batch */
    assert_int_equal(segment_flush(seg), KL_OK);
    ti_path(f, path, sizeof path);
    assert_int_equal(file_size(path), 3 * KL_TIME_INDEX_ENTRY_SIZE);
    segment_close(seg);
}

/* Kafka's rollingBasedTimestamp (segment.ms): the first batch's max_timestamp, from the
 * first append or the recovery scan; a failed first append leaves it unset. */
static void test_first_batch_timestamp(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, 0, NULL), KL_OK);
    assert_int_equal(seg->first_batch_timestamp, -1);
    assert_int_equal(segment_append(seg, f->bytes[0], f->sizes[0] - 1), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(seg->first_batch_timestamp, -1);
    int64_t first = kl_be64_read(f->bytes[0] + 35);
    assert_int_equal(segment_append(seg, f->bytes[0], f->sizes[0]), KL_OK);
    assert_int_equal(seg->first_batch_timestamp, first);
    assert_int_equal(segment_append(seg, f->bytes[1], f->sizes[1]), KL_OK);
    assert_int_equal(seg->first_batch_timestamp, first);
    segment_close(seg);
    assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
    assert_int_equal(seg->first_batch_timestamp, first);
    segment_close(seg);
}

static void test_flush_and_create_refuses_existing(void **state)
{
    fixture_t *f = *state;
    kl_segment_t *seg = fill(f, 4096);
    assert_int_equal(segment_flush(seg), KL_OK);
    segment_close(seg);
    kl_segment_t *again = NULL;
    assert_int_equal(segment_create(&again, f->dir, 0, 4096, NULL), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(again);
}

/* ---- when the index files are written: flush, seal, close; never by an append ---------- */

/* The bytes of a file (at most cap); how many there were. */
static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

/* `path` holds exactly the n bytes at `want`, nothing more. */
static void expect_file_holds(const char *path, const uint8_t *want, size_t n)
{
    uint8_t *disk = malloc(n + 64);
    assert_non_null(disk);
    assert_int_equal(file_size(path), (int64_t)n);
    assert_int_equal(slurp(path, disk, n + 64), n);
    if (n > 0)
        assert_memory_equal(disk, want, n);
    free(disk);
}

/* Both index files hold the segment's in-memory entries, each exactly once. */
static void expect_files_hold_memory(const kl_segment_t *seg)
{
    expect_file_holds(seg->index_path, seg->index, seg->index_count * KL_SEGMENT_INDEX_ENTRY_SIZE);
    const kl_time_index_t *ti = seg->time_index;
    expect_file_holds(ti->path, ti->bytes, ti->count * KL_TIME_INDEX_ENTRY_SIZE);
}

/* Every offset is found at its batch, through the index (at most 2 headers read with an
 * entry per batch), every read is right, and every batch is found by its timestamp. */
static void expect_lookups(fixture_t *f, kl_segment_t *seg)
{
    kl_segment_stats_t stats = { 0 };
    seg->stats = &stats;
    for (int64_t o = 0; o < total_records(f); o++) {
        int64_t pos = -1;
        stats.header_reads = 0;
        assert_int_equal(segment_find(seg, o, &pos), KL_OK);
        assert_int_equal(pos, f->positions[batch_of(f, o)]);
        if (seg->index_count == NBATCH)
            assert_true(stats.header_reads <= 2);
    }
    seg->stats = NULL;
    check_reads(f, seg, NBATCH);
    for (int i = 0; i < NBATCH; i++) {
        bool found = false;
        int64_t off = -1, ts = -1;
        assert_int_equal(segment_offset_for_timestamp(seg, 1000 + f->bases[i] * 10, &found, &off, &ts), KL_OK);
        assert_true(found);
        assert_int_equal(off, f->bases[i]);
    }
}

/* An append is one write(2), to the .log: with an .index and a .timeindex entry for every
 * batch (interval 0, rising timestamps), neither index file grows, and every lookup still
 * answers from the in-memory entries. After a reopen (the scan rewrites both files, rule 4)
 * appends leave them alone again. */
static void test_appends_write_only_the_log(void **state)
{
    fixture_t *f = *state;
    char lpath[256], ipath[256], tpath[256];
    path_of(f, ".log", lpath, sizeof lpath);
    path_of(f, ".index", ipath, sizeof ipath);
    ti_path(f, tpath, sizeof tpath);
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, 0, NULL), KL_OK);
    for (int i = 0; i < NBATCH; i++) {
        assert_int_equal(segment_append(seg, f->bytes[i], f->sizes[i]), KL_OK);
        assert_int_equal(file_size(lpath), f->positions[i] + (int64_t)f->sizes[i]);
        assert_int_equal(file_size(ipath), 0);
        assert_int_equal(file_size(tpath), 0);
    }
    assert_int_equal(seg->index_count, NBATCH);
    assert_int_equal(seg->time_index->count, NBATCH);
    expect_lookups(f, seg);
    segment_close(seg);

    assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
    expect_files_hold_memory(seg);
    uint8_t more[512];
    size_t m = make_batch(more, total_records(f), 2, 9000, 8);
    assert_int_equal(segment_append(seg, more, m), KL_OK);
    assert_int_equal(seg->index_count, NBATCH + 1);
    assert_int_equal(seg->time_index->count, NBATCH + 1);
    assert_int_equal(file_size(ipath), NBATCH * KL_SEGMENT_INDEX_ENTRY_SIZE);
    assert_int_equal(file_size(tpath), NBATCH * KL_TIME_INDEX_ENTRY_SIZE);
    int64_t pos = -1;
    assert_int_equal(segment_find(seg, total_records(f) + 1, &pos), KL_OK);
    assert_int_equal(pos, total_bytes(f));
    segment_close(seg);
}

/* A clean close, a flush and a seal write the entries appended since the last of them,
 * each exactly once: afterwards the files hold the in-memory entries byte for byte. A
 * segment sealed so is trusted as it is when opened sealed (rule 5). */
static void test_flush_seal_and_close_write_the_pending_entries(void **state)
{
    fixture_t *f = *state;
    char ipath[256], tpath[256];
    path_of(f, ".index", ipath, sizeof ipath);
    ti_path(f, tpath, sizeof tpath);
    kl_segment_t *seg = fill(f, 0);
    uint8_t index[NBATCH * KL_SEGMENT_INDEX_ENTRY_SIZE], times[NBATCH * KL_TIME_INDEX_ENTRY_SIZE];
    size_t n = seg->index_count * KL_SEGMENT_INDEX_ENTRY_SIZE;
    size_t tn = seg->time_index->count * KL_TIME_INDEX_ENTRY_SIZE;
    memcpy(index, seg->index, n);
    memcpy(times, seg->time_index->bytes, tn);
    assert_int_equal(file_size(ipath), 0);
    segment_close(seg);                                      /* close */
    expect_file_holds(ipath, index, n);
    expect_file_holds(tpath, times, tn);

    assert_int_equal(segment_open_active(&seg, f->dir, 0, 0, NULL), KL_OK);
    int64_t next = total_records(f);
    for (int k = 0; k < 3; k++) {                            /* flush, flush, seal */
        uint8_t more[512];
        size_t m = make_batch(more, next, 2, 9000 + k * 100, 8);
        assert_int_equal(segment_append(seg, more, m), KL_OK);
        next += 2;
        assert_int_equal(file_size(ipath), (int64_t)(seg->index_count - 1) * KL_SEGMENT_INDEX_ENTRY_SIZE);
        assert_int_equal(file_size(tpath), (int64_t)(seg->time_index->count - 1) * KL_TIME_INDEX_ENTRY_SIZE);
        assert_int_equal(k < 2 ? segment_flush(seg) : segment_seal(seg), KL_OK);
        expect_files_hold_memory(seg);
    }
    assert_int_equal(segment_seal(seg), KL_OK);              /* nothing new: nothing written */
    assert_int_equal(segment_flush(seg), KL_OK);
    expect_files_hold_memory(seg);
    size_t count = seg->index_count, tcount = seg->time_index->count;
    segment_close(seg);

    test_log_t log;
    test_log_open(&log);
    assert_int_equal(segment_open_sealed(&seg, f->dir, 0, next, 0, &log.log), KL_OK);
    assert_false(test_log_says(&log, "rebuilding"));
    assert_int_equal(seg->index_count, count);
    assert_int_equal(seg->time_index->count, tcount);
    assert_int_equal(seg->max_timestamp, 9000 + 2 * 100 + 1);
    expect_files_hold_memory(seg);
    for (int64_t o = 0; o < total_records(f); o++) {
        int64_t pos = -1;
        assert_int_equal(segment_find(seg, o, &pos), KL_OK);
        assert_int_equal(pos, f->positions[batch_of(f, o)]);
    }
    segment_close(seg);
    test_log_close(&log);
}

/* A crash: a child process creates the segment, appends every batch (flushing after batch
 * `flush_after`, -1: never) and dies by SIGKILL, closing nothing. */
static void crash_while_appending(fixture_t *f, int32_t interval, int flush_after)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kl_segment_t *seg = NULL;
        if (segment_create(&seg, f->dir, 0, interval, NULL) != KL_OK)
            _exit(1);
        for (int i = 0; i < NBATCH; i++) {
            if (segment_append(seg, f->bytes[i], f->sizes[i]) != KL_OK)
                _exit(1);
            if (i == flush_after && segment_flush(seg) != KL_OK)
                _exit(1);
        }
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* Rule 4 after a crash: the .log holds every appended batch; the index files hold nothing,
 * or only what a flush wrote. The reopen keeps every batch (nothing is cut), rebuilds both
 * indexes from the scan and rewrites them, and every offset and timestamp is found. */
static void test_crash_before_flush_rebuilds_the_indexes(void **state)
{
    fixture_t *f = *state;
    char lpath[256], ipath[256], tpath[256];
    path_of(f, ".log", lpath, sizeof lpath);
    path_of(f, ".index", ipath, sizeof ipath);
    ti_path(f, tpath, sizeof tpath);
    const int flush_after[] = { -1, 4 };
    for (size_t k = 0; k < sizeof flush_after / sizeof flush_after[0]; k++) {
        crash_while_appending(f, 50, flush_after[k]);
        assert_int_equal(file_size(lpath), total_bytes(f));
        int64_t on_disk = file_size(ipath), t_on_disk = file_size(tpath);
        if (flush_after[k] < 0) {
            assert_int_equal(on_disk, 0);
            assert_int_equal(t_on_disk, 0);
        } else {
            assert_true(on_disk > 0 && t_on_disk > 0);
        }
        test_log_t log;
        test_log_open(&log);
        kl_segment_t *seg = NULL;
        assert_int_equal(segment_open_active(&seg, f->dir, 0, 50, &log.log), KL_OK);
        assert_false(test_log_says(&log, "truncating"));
        assert_int_equal(seg->size, total_bytes(f));
        assert_int_equal(seg->next_offset, total_records(f));
        assert_true(on_disk < (int64_t)seg->index_count * KL_SEGMENT_INDEX_ENTRY_SIZE);
        check_index_of_prefix(f, seg, 50, NBATCH);
        expect_files_hold_memory(seg);
        expect_lookups(f, seg);
        segment_close(seg);
        test_log_close(&log);
        unlink(lpath);
        unlink(ipath);
        unlink(tpath);
    }
}

/* The failure path of an append: a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) lets the
 * .log's write(2) stop part-way through the batches and the next one fail with EFBIG. The
 * append answers KAFKA_STORAGE_ERROR, the .log is cut back to its last whole batch, the
 * in-memory entries are rolled back, and the index files, which appends never touch, keep
 * what the last flush wrote; the retried append and a flush then leave everything exact. */
static void test_failed_write_is_taken_back(void **state)
{
    fixture_t *f = *state;
    char lpath[256];
    path_of(f, ".log", lpath, sizeof lpath);
    kl_segment_t *seg = NULL;
    assert_int_equal(segment_create(&seg, f->dir, 0, 0, NULL), KL_OK);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(segment_append(seg, f->bytes[i], f->sizes[i]), KL_OK);
        if (i == 4)
            assert_int_equal(segment_flush(seg), KL_OK);     /* batches 0-4 indexed on disk */
    }
    size_t count = seg->index_count, tcount = seg->time_index->count;
    int64_t size = seg->size, max = seg->max_timestamp;
    uint8_t two[1024];
    memcpy(two, f->bytes[6], f->sizes[6]);
    memcpy(two + f->sizes[6], f->bytes[7], f->sizes[7]);
    size_t len = f->sizes[6] + f->sizes[7];

    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < (rlim_t)(size + (int64_t)len))
        skip();
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    low = old;
    low.rlim_cur = (rlim_t)size + 20;                         /* 20 bytes of batch 6 fit */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
    kl_err_t err = segment_append(seg, two, len);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);

    assert_int_equal(err, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(seg->size, size);
    assert_int_equal(seg->next_offset, f->bases[6]);
    assert_int_equal(seg->index_count, count);
    assert_int_equal(seg->time_index->count, tcount);
    assert_int_equal(seg->max_timestamp, max);
    assert_int_equal(file_size(lpath), size);
    assert_int_equal(file_size(seg->index_path), 5 * KL_SEGMENT_INDEX_ENTRY_SIZE);
    assert_int_equal(file_size(seg->time_index->path), 5 * KL_TIME_INDEX_ENTRY_SIZE);

    assert_int_equal(segment_append(seg, two, len), KL_OK);
    for (int i = 8; i < NBATCH; i++)
        assert_int_equal(segment_append(seg, f->bytes[i], f->sizes[i]), KL_OK);
    assert_int_equal(segment_flush(seg), KL_OK);
    expect_files_hold_memory(seg);
    check_index_of_prefix(f, seg, 0, NBATCH);
    expect_lookups(f, seg);
    segment_close(seg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_append_updates_size_offsets_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse_index_follows_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_round_trip_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_respects_max_bytes_kip74, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_batch_append_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_rejects_wrong_offsets_and_bad_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_torn_tail_at_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_cuts_corrupt_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_of_garbage_only_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_deleted_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_odd_size_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_empty_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_unordered_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_past_end_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_trusts_a_sane_short_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_verify_only_segments_found_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_splices_active_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_splices_segment_sealed_or_scanned_here, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_of_segment_found_sealed_never_splices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_splice_falls_back_to_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_at_end_splices_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_flip_every_byte_of_last_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_index_deleted_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_index_odd_size_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_index_garbage_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_index_past_end_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_index_lies_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_garbage_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_aligned_garbage_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_first_not_at_zero_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_index_last_entry_lies_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_corrupt_records_reported_not_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_corrupt_header_fields_reported_not_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_corrupt_framing_blocks_the_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_stops_at_corrupt_header_within_max_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_rebuild_stops_at_corrupt_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_of_empty_and_partial_header_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_truncates_a_leftover_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_for_timestamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_batch_timestamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_create_refuses_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_index_entries_follow_the_offset_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_lookup_reads_few_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_lookup_in_a_sealed_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_lookup_with_out_of_order_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_time_index_deleted_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_time_index_empty_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_time_index_odd_size_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_time_index_garbage_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_time_index_unordered_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_time_index_past_end_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_time_index_garbage_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_time_index_deleted_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_append_leaves_time_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preallocate_reserves_blocks_but_not_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_preallocate_reserves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preallocated_torn_tail_keeps_the_valid_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appends_write_only_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_seal_and_close_write_the_pending_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_before_flush_rebuilds_the_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_is_taken_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
