/*
 * test/test_time_index.c — unit tests of infrastructure/storage/time_index.c: the append
 * rule (only new maxima), the 12-byte big-endian file format, each entry written once
 * (write_pending, flush), truncate / rewrite / reopen,
 * the sanity check of time_index_load (each reason refused), and time_index_lookup against
 * a linear reference at every interesting timestamp (lab 04's acceptance tests, with the
 * header-read tests in test_segment.c). Every test works in its own mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infrastructure/storage/time_index.h"

#define BASE 1000                       /* the segment's base offset in every test */

typedef struct fixture {
    char dir[64];
    char path[128];
    char *log_text;
    size_t log_len;
    kl_log_t log;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/klamm_test_time_index_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/00000000000000001000.timeindex", f->dir);
    f->log.out = open_memstream(&f->log_text, &f->log_len);
    f->log.level = KL_LOG_DEBUG;
    *state = f;
    return f->log.out == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    fclose(f->log.out);
    free(f->log_text);
    free(f);
    return 0;
}

/* How many log lines so far mention `what`. */
static int log_count(fixture_t *f, const char *what)
{
    fflush(f->log.out);
    int n = 0;
    for (const char *p = f->log_text; p != NULL && (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

static kl_time_index_t *open_index(fixture_t *f, bool truncate)
{
    kl_time_index_t *idx = NULL;
    assert_int_equal(time_index_open(&idx, f->path, BASE, truncate, &f->log), KL_OK);
    return idx;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void write_file(const char *path, const uint8_t *bytes, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
}

/* One entry as the file holds it: int64 timestamp, int32 relative offset, big-endian. */
static void put_entry(uint8_t *p, int64_t ts, int32_t rel)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)ts >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        p[8 + i] = (uint8_t)((uint32_t)rel >> (24 - 8 * i));
}

/* ---- append rule and file format ---- */

static void test_note_keeps_only_new_maxima(void **state)
{
    fixture_t *f = *state;
    kl_time_index_t *idx = open_index(f, true);
    assert_int_equal(time_index_last_timestamp(idx), KL_TIME_INDEX_NO_TIMESTAMP);
    assert_int_equal(time_index_note(idx, -1, BASE), KL_OK);      /* no timestamp: nothing */
    assert_int_equal(idx->count, 0);
    assert_int_equal(time_index_note(idx, 100, BASE + 2), KL_OK);
    assert_int_equal(time_index_note(idx, 100, BASE + 5), KL_OK); /* not larger */
    assert_int_equal(time_index_note(idx, 90, BASE + 6), KL_OK);  /* smaller */
    assert_int_equal(time_index_note(idx, 150, BASE + 9), KL_OK);
    assert_int_equal(idx->count, 2);
    kl_time_entry_t e = time_index_entry(idx, 0);
    assert_int_equal(e.timestamp, 100);
    assert_int_equal(e.offset, BASE + 2);
    e = time_index_entry(idx, 1);
    assert_int_equal(e.timestamp, 150);
    assert_int_equal(e.offset, BASE + 9);
    assert_int_equal(time_index_last_timestamp(idx), 150);
    assert_int_equal(file_size(f->path), 0);                      /* memory only so far */
    time_index_close(idx);
}

static void test_file_format_and_round_trip(void **state)
{
    fixture_t *f = *state;
    kl_time_index_t *idx = open_index(f, true);
    assert_int_equal(time_index_note(idx, 1795416581337LL, BASE + 3), KL_OK);
    assert_int_equal(time_index_note(idx, 1795416581400LL, BASE + 70000), KL_OK);
    assert_int_equal(time_index_write_pending(idx), KL_OK);
    uint8_t want[24];
    put_entry(want, 1795416581337LL, 3);
    put_entry(want + 12, 1795416581400LL, 70000);
    assert_memory_equal(idx->bytes, want, sizeof want);
    time_index_close(idx);
    uint8_t disk[32];
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(disk, 1, sizeof disk, fp), sizeof want);
    fclose(fp);
    assert_memory_equal(disk, want, sizeof want);
    idx = open_index(f, false);
    assert_int_equal(time_index_load(idx, BASE + 70001), KL_OK);
    assert_int_equal(idx->count, 2);
    assert_int_equal(time_index_entry(idx, 1).offset, BASE + 70000);
    time_index_close(idx);
    idx = open_index(f, true);                                    /* a new segment: emptied */
    assert_int_equal(file_size(f->path), 0);
    time_index_close(idx);
}

/* Entries are written once each: write_pending appends those noted since the last write
 * (the active segment's entries wait in memory until a flush, a seal or a close). */
static void test_write_pending_writes_each_entry_once(void **state)
{
    fixture_t *f = *state;
    kl_time_index_t *idx = open_index(f, true);
    assert_int_equal(idx->written, 0);
    assert_int_equal(time_index_note(idx, 10, BASE), KL_OK);
    assert_int_equal(time_index_note(idx, 20, BASE + 1), KL_OK);
    assert_int_equal(file_size(f->path), 0);                      /* noted: memory only */
    assert_int_equal(time_index_write_pending(idx), KL_OK);
    assert_int_equal(idx->written, 2);
    assert_int_equal(file_size(f->path), 24);
    assert_int_equal(time_index_note(idx, 30, BASE + 2), KL_OK);
    assert_int_equal(time_index_write_pending(idx), KL_OK);       /* only the new one */
    assert_int_equal(time_index_write_pending(idx), KL_OK);       /* nothing new: no-op */
    assert_int_equal(idx->written, 3);
    assert_int_equal(file_size(f->path), 36);
    uint8_t disk[48];
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(disk, 1, sizeof disk, fp), 36);
    fclose(fp);
    assert_memory_equal(disk, idx->bytes, 36);
    time_index_close(idx);
}

/* truncate takes entries back in memory, and in the file only when they were written
 * (the undo of a failed append or seal); rewrite replaces the file and counts it written. */
static void test_truncate_takes_back_rewrite_replaces(void **state)
{
    fixture_t *f = *state;
    kl_time_index_t *idx = open_index(f, true);
    assert_int_equal(time_index_note(idx, 10, BASE), KL_OK);
    assert_int_equal(time_index_note(idx, 20, BASE + 1), KL_OK);
    assert_int_equal(time_index_write_pending(idx), KL_OK);
    assert_int_equal(time_index_note(idx, 30, BASE + 2), KL_OK);
    assert_int_equal(time_index_truncate(idx, 2), KL_OK);         /* the unwritten one */
    assert_int_equal(idx->count, 2);
    assert_int_equal(idx->written, 2);
    assert_int_equal(file_size(f->path), 24);
    assert_int_equal(time_index_truncate(idx, 1), KL_OK);         /* a written one too */
    assert_int_equal(idx->count, 1);
    assert_int_equal(idx->written, 1);
    assert_int_equal(file_size(f->path), 12);
    assert_int_equal(time_index_note(idx, 25, BASE + 3), KL_OK);
    assert_int_equal(time_index_rewrite(idx), KL_OK);
    assert_int_equal(idx->written, 2);
    assert_int_equal(time_index_write_pending(idx), KL_OK);       /* nothing left to write */
    assert_int_equal(time_index_note(idx, 40, BASE + 4), KL_OK);
    assert_int_equal(time_index_flush(idx), KL_OK);               /* writes the pending one */
    assert_int_equal(idx->written, 3);
    assert_int_equal(file_size(f->path), 36);
    time_index_close(idx);
    idx = open_index(f, false);
    assert_int_equal(time_index_load(idx, BASE + 5), KL_OK);
    assert_int_equal(idx->count, 3);
    assert_int_equal(idx->written, 3);                            /* loaded = on disk */
    assert_int_equal(time_index_entry(idx, 1).timestamp, 25);
    assert_int_equal(time_index_entry(idx, 2).timestamp, 40);
    time_index_close(idx);
}

static void test_open_fails_in_a_missing_directory(void **state)
{
    fixture_t *f = *state;
    kl_time_index_t *idx = NULL;
    char path[160];
    snprintf(path, sizeof path, "%s/nope/0.timeindex", f->dir);
    assert_int_equal(time_index_open(&idx, path, BASE, false, &f->log), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(idx);
    assert_int_equal(log_count(f, "nope/0.timeindex"), 1);
    time_index_close(NULL);
}

/* ---- the sanity check of load ---- */

/* Write `n` entries, load them against a segment ending at BASE + 100: refused, with `why`. */
static void expect_refused(fixture_t *f, const uint8_t *bytes, size_t n, const char *why)
{
    write_file(f->path, bytes, n);
    int before = log_count(f, why);
    kl_time_index_t *idx = open_index(f, false);
    assert_int_equal(time_index_load(idx, BASE + 100), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(idx->count, 0);
    assert_int_equal(log_count(f, why), before + 1);
    time_index_close(idx);
}

static void test_load_refuses_what_the_writer_never_writes(void **state)
{
    fixture_t *f = *state;
    uint8_t b[36];
    put_entry(b, 10, 1);
    put_entry(b + 12, 20, 5);
    put_entry(b + 24, 30, 9);
    expect_refused(f, b, 35, "multiple of 12");
    put_entry(b + 12, 5, 5);                                      /* timestamp goes down */
    expect_refused(f, b, 36, "not increasing");
    put_entry(b + 12, 10, 5);                                     /* timestamp repeats */
    expect_refused(f, b, 36, "not increasing");
    put_entry(b + 12, 20, 1);                                     /* offset repeats */
    expect_refused(f, b, 36, "not increasing");
    put_entry(b + 12, 20, 5);
    put_entry(b + 24, 30, 100);                                   /* offset = next_offset */
    expect_refused(f, b, 36, "outside the segment");
    put_entry(b + 24, 30, -1);                                    /* below the base */
    expect_refused(f, b, 36, "outside the segment");
    put_entry(b, -1, 1);                                          /* no timestamp */
    put_entry(b + 24, 30, 9);
    expect_refused(f, b, 36, "without a timestamp");
}

static void test_load_accepts_empty_and_sane(void **state)
{
    fixture_t *f = *state;
    kl_time_index_t *idx = open_index(f, true);
    assert_int_equal(time_index_load(idx, BASE), KL_OK);
    assert_int_equal(idx->count, 0);
    time_index_close(idx);
    uint8_t b[24];
    put_entry(b, 0, 0);                                           /* timestamp 0 is a time */
    put_entry(b + 12, 1, 99);                                     /* the segment's last offset */
    write_file(f->path, b, sizeof b);
    idx = open_index(f, false);
    assert_int_equal(time_index_load(idx, BASE + 100), KL_OK);
    assert_int_equal(idx->count, 2);
    time_index_close(idx);
}

/* ---- lookup (lab 04) ---- */

/* An index with `n` entries: timestamps from `ts`, offsets from BASE, growing by the gaps. */
static kl_time_index_t *index_of(fixture_t *f, size_t n, const int64_t *ts, const int64_t *off)
{
    kl_time_index_t *idx = open_index(f, true);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(time_index_note(idx, ts[i], off[i]), KL_OK);
    assert_int_equal(idx->count, n);
    return idx;
}

/* The definition, by a linear scan: index of the last entry with timestamp <= target, -1. */
static long reference_lookup(size_t n, const int64_t *ts, int64_t target)
{
    long at = -1;
    for (size_t i = 0; i < n && ts[i] <= target; i++)
        at = (long)i;
    return at;
}

static void expect_lookup(const kl_time_index_t *idx, size_t n, const int64_t *ts,
                          const int64_t *off, int64_t target)
{
    long want = reference_lookup(n, ts, target);
    kl_time_entry_t e = { -7, -7 };
    bool got = time_index_lookup(idx, target, &e);
    if (got != (want >= 0))
        fail_msg("target %lld: lookup says %s, expected %s", (long long)target,
                 got ? "an entry" : "none", want >= 0 ? "an entry" : "none");
    if (want >= 0 && (e.timestamp != ts[want] || e.offset != off[want]))
        fail_msg("target %lld: got (%lld, %lld), expected entry %ld = (%lld, %lld)",
                 (long long)target, (long long)e.timestamp, (long long)e.offset, want,
                 (long long)ts[want], (long long)off[want]);
}

static void test_lookup_empty_index(void **state)
{
    fixture_t *f = *state;
    kl_time_index_t *idx = open_index(f, true);
    kl_time_entry_t e;
    assert_false(time_index_lookup(idx, 0, &e));
    assert_false(time_index_lookup(idx, INT64_MAX, &e));
    time_index_close(idx);
}

static void test_lookup_single_entry(void **state)
{
    fixture_t *f = *state;
    int64_t ts[] = { 500 }, off[] = { BASE + 4 };
    kl_time_index_t *idx = index_of(f, 1, ts, off);
    for (int64_t t = 495; t <= 505; t++)
        expect_lookup(idx, 1, ts, off, t);
    expect_lookup(idx, 1, ts, off, INT64_MAX);
    expect_lookup(idx, 1, ts, off, INT64_MIN);
    time_index_close(idx);
}

static void test_lookup_every_target_small(void **state)
{
    fixture_t *f = *state;
    int64_t ts[] = { 100, 200, 300, 301, 450, 1000, 1001 };
    int64_t off[] = { BASE, BASE + 3, BASE + 7, BASE + 8, BASE + 20, BASE + 21, BASE + 40 };
    size_t n = sizeof ts / sizeof ts[0];
    kl_time_index_t *idx = index_of(f, n, ts, off);
    for (int64_t t = 0; t <= 1100; t++)
        expect_lookup(idx, n, ts, off, t);
    time_index_close(idx);
}

/* Every size from 1 to 70 entries (odd and even, powers of two and around them), every
 * target at, just before and just after each entry. */
static void test_lookup_every_size(void **state)
{
    fixture_t *f = *state;
    int64_t ts[70], off[70];
    for (size_t n = 1; n <= 70; n++) {
        for (size_t i = 0; i < n; i++) {
            ts[i] = 1000 + (int64_t)(i * i) * 3 + (int64_t)i;     /* uneven gaps */
            off[i] = BASE + (int64_t)i * 5;
        }
        kl_time_index_t *idx = index_of(f, n, ts, off);
        for (size_t i = 0; i < n; i++)
            for (int64_t d = -1; d <= 1; d++)
                expect_lookup(idx, n, ts, off, ts[i] + d);
        expect_lookup(idx, n, ts, off, ts[n - 1] + 1000000);
        time_index_close(idx);
    }
}

/* A large index (a 4 GiB segment at the default interval has ~1M entries; 100,000 here)
 * with timestamps far apart: lookups between entries, and at the extremes of int64. */
static void test_lookup_large_index(void **state)
{
    fixture_t *f = *state;
    const size_t n = 100000;
    int64_t *ts = malloc(n * sizeof *ts), *off = malloc(n * sizeof *off);
    assert_non_null(ts);
    assert_non_null(off);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        ts[i] = (i == 0 ? 1600000000000LL : ts[i - 1]) + 1 + (int64_t)(x % 5000);
        off[i] = BASE + (int64_t)i * 3;
    }
    kl_time_index_t *idx = index_of(f, n, ts, off);
    for (size_t i = 0; i < n; i += 997) {
        expect_lookup(idx, n, ts, off, ts[i]);
        expect_lookup(idx, n, ts, off, ts[i] - 1);
        expect_lookup(idx, n, ts, off, ts[i] + 1);
    }
    expect_lookup(idx, n, ts, off, ts[n - 1]);
    expect_lookup(idx, n, ts, off, INT64_MAX);
    expect_lookup(idx, n, ts, off, INT64_MIN);
    time_index_close(idx);
    free(ts);
    free(off);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_note_keeps_only_new_maxima, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_format_and_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_pending_writes_each_entry_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_takes_back_rewrite_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_fails_in_a_missing_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_what_the_writer_never_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_accepts_empty_and_sane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_empty_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_single_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_every_target_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_every_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_large_index, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
