/*
 * test/test_segment.c — unit tests of infrastructure/storage/segment.c: append and read
 * round trips, sparse index lookups at every offset, KIP-74 reads, reopen, crash recovery
 * of the active segment (torn tail at every byte, flipped bytes), index rebuild of sealed
 * segments, offset by timestamp. Every test works in its own mkdtemp directory under /tmp.
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
 * last one (plus the first batch); compare with what the segment built, in memory and on disk. */
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
        kl_buf_sink_t sink = { &b, test_buf_reserve };
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
    kl_buf_sink_t sink = { &b, test_buf_reserve };
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
        /* the next append continues where the valid prefix ends */
        assert_int_equal(segment_append(seg, f->bytes[last], f->sizes[last]), KL_OK);
        assert_int_equal(seg->next_offset, total_records(f));
        int64_t pos = -1;
        assert_int_equal(segment_find(seg, f->bases[last], &pos), KL_OK);
        assert_int_equal(pos, f->positions[last]);
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
        cmocka_unit_test_setup_teardown(test_offset_for_timestamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_create_refuses_existing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
