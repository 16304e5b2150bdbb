/*
 * test/test_offset_log.c — unit tests of infrastructure/storage/offset_log.c: commit →
 * reopen → load_all round trip, later commits override, tombstones clear a group (and a
 * topic tombstone a deleted topic in every group), crash recovery (torn tail at every byte
 * of the last append, a flipped byte anywhere in it or in an earlier record), compaction
 * keeping exactly the live set across reopen, leftover .tmp files, strings of maximal
 * length, and an unusable directory. Each test works in its own mkdtemp directory under
 * /tmp, removed afterwards.
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

#include "infrastructure/storage/offset_log.h"

/* One record met by load_all, copied (the port lends its strings for the call only). */
typedef struct seen {
    char *group, *topic, *metadata;
    bool deleted;
    bool topic_deleted;          /* a topic tombstone: `topic` is set, `group` is "" */
    int32_t partition;
    int64_t offset, timestamp_ms;
} seen_t;

typedef struct fixture {
    char dir[64];
    char path[128];              /* .../__klamm_offsets/offsets.log */
    offset_log_options_t opts;
    offset_log_t *l;
    seen_t *seen;
    size_t seen_count, seen_cap;
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void seen_clear(fixture_t *f)
{
    for (size_t i = 0; i < f->seen_count; i++) {
        free(f->seen[i].group);
        free(f->seen[i].topic);
        free(f->seen[i].metadata);
    }
    f->seen_count = 0;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/klamm_test_offsets_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/" KL_OFFSET_LOG_DIR "/" KL_OFFSET_LOG_FILE, f->dir);
    f->opts = offset_log_options_default();
    if (offset_log_open(&f->l, f->dir, &f->opts, NULL) != KL_OK) {
        nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    offset_log_close(f->l);
    seen_clear(f);
    free(f->seen);
    chmod(f->dir, 0700);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static kl_err_t collect(void *arg, const kl_offset_record_t *rec)
{
    fixture_t *f = arg;
    if (f->seen_count == f->seen_cap) {
        size_t cap = f->seen_cap ? f->seen_cap * 2 : 16;
        seen_t *p = realloc(f->seen, cap * sizeof *p);
        if (p == NULL)
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        f->seen = p;
        f->seen_cap = cap;
    }
    seen_t *s = &f->seen[f->seen_count++];
    s->group = strdup(rec->group_id);
    s->deleted = rec->group_deleted;
    s->topic_deleted = rec->topic_deleted;
    s->topic = rec->group_deleted ? NULL : dup_or_null(rec->commit.topic);
    s->metadata = rec->group_deleted ? NULL : dup_or_null(rec->commit.metadata);
    s->partition = rec->commit.partition;
    s->offset = rec->commit.offset;
    s->timestamp_ms = rec->commit_timestamp_ms;
    return KL_OK;
}

static void reopen(fixture_t *f)
{
    offset_log_close(f->l);
    f->l = NULL;
    assert_int_equal(offset_log_open(&f->l, f->dir, &f->opts, NULL), KL_OK);
}

static void load(fixture_t *f)
{
    seen_clear(f);
    kl_offset_store_t s = offset_log_store(f->l);
    assert_int_equal(s.load_all(s.self, collect, f), KL_OK);
}

/* What the coordinator would end with for (group, topic, partition) after replaying what
 * load_all showed: the offset of the latest commit after the latest tombstone (of the
 * group, or of the topic), or -1. */
static const seen_t *final_of(const fixture_t *f, const char *group, const char *topic, int32_t p)
{
    const seen_t *found = NULL;
    for (size_t i = 0; i < f->seen_count; i++) {
        const seen_t *s = &f->seen[i];
        if (s->topic_deleted && strcmp(s->topic, topic) == 0)
            found = NULL;
        if (s->topic_deleted || strcmp(s->group, group) != 0)
            continue;
        if (s->deleted)
            found = NULL;
        else if (strcmp(s->topic, topic) == 0 && s->partition == p)
            found = s;
    }
    return found;
}

static int64_t final_offset(const fixture_t *f, const char *group, const char *topic, int32_t p)
{
    const seen_t *s = final_of(f, group, topic, p);
    return s ? s->offset : -1;
}

static void commit1(fixture_t *f, const char *group, const char *topic, int32_t p, int64_t off)
{
    kl_offset_store_t s = offset_log_store(f->l);
    kl_offset_commit_t c = { .topic = topic, .partition = p, .offset = off, .metadata = "" };
    assert_int_equal(s.commit(s.self, group, &c, 1, 1000 + off), KL_OK);
}

static void delete_group(fixture_t *f, const char *group)
{
    kl_offset_store_t s = offset_log_store(f->l);
    assert_int_equal(s.delete_group(s.self, group), KL_OK);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_size;
}

static uint8_t *read_all(const char *path, int64_t *len)
{
    *len = file_size(path);
    uint8_t *buf = malloc((size_t)*len + 1);
    assert_non_null(buf);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, (size_t)*len, fp), (size_t)*len);
    fclose(fp);
    return buf;
}

static void write_all(const char *path, const uint8_t *buf, int64_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
}

/* ---- round trips ------------------------------------------------------------------------ */

static void test_commit_survives_reopen(void **state)
{
    fixture_t *f = *state;
    kl_offset_store_t s = offset_log_store(f->l);
    kl_offset_commit_t c[2] = {
        { .topic = "orders", .partition = 0, .offset = 42, .metadata = "hello" },
        { .topic = "orders", .partition = 3, .offset = 7, .metadata = NULL },
    };
    assert_int_equal(s.commit(s.self, "g1", c, 2, 1700000000123), KL_OK);
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 2);
    assert_string_equal(f->seen[0].group, "g1");
    assert_false(f->seen[0].deleted);
    assert_string_equal(f->seen[0].topic, "orders");
    assert_int_equal(f->seen[0].partition, 0);
    assert_int_equal(f->seen[0].offset, 42);
    assert_string_equal(f->seen[0].metadata, "hello");
    assert_int_equal(f->seen[0].timestamp_ms, 1700000000123);
    assert_int_equal(f->seen[1].partition, 3);
    assert_int_equal(f->seen[1].offset, 7);
    assert_string_equal(f->seen[1].metadata, "");      /* NULL metadata is stored as "" */
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.live_records, 2);
    assert_int_equal(st.bytes, file_size(f->path));
}

static void test_empty_log_loads_nothing(void **state)
{
    fixture_t *f = *state;
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 0);
    kl_offset_store_t s = offset_log_store(f->l);
    assert_int_equal(s.commit(s.self, "g", NULL, 0, 1), KL_OK);   /* nothing to append */
    assert_int_equal(file_size(f->path), 0);
}

static void test_later_commit_overrides(void **state)
{
    fixture_t *f = *state;
    commit1(f, "g", "t", 0, 5);
    commit1(f, "g", "t", 1, 6);
    commit1(f, "g", "t", 0, 9);
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 3);                 /* replay order: oldest first */
    assert_int_equal(final_offset(f, "g", "t", 0), 9);
    assert_int_equal(final_offset(f, "g", "t", 1), 6);
    assert_int_equal(final_of(f, "g", "t", 0)->timestamp_ms, 1009);
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.live_records, 2);
}

static void test_tombstone_clears_group(void **state)
{
    fixture_t *f = *state;
    commit1(f, "gone", "t", 0, 1);
    commit1(f, "gone", "u", 2, 2);
    commit1(f, "kept", "t", 0, 3);
    delete_group(f, "gone");
    assert_int_equal(offset_log_get_stats(f->l).live_records, 1);
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 4);
    assert_true(f->seen[3].deleted);
    assert_string_equal(f->seen[3].group, "gone");
    assert_int_equal(final_offset(f, "gone", "t", 0), -1);
    assert_int_equal(final_offset(f, "gone", "u", 2), -1);
    assert_int_equal(final_offset(f, "kept", "t", 0), 3);
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.live_records, 1);
    /* A commit after the tombstone brings the group back with only the new offset. */
    commit1(f, "gone", "t", 0, 10);
    reopen(f);
    load(f);
    assert_int_equal(final_offset(f, "gone", "t", 0), 10);
    assert_int_equal(final_offset(f, "gone", "u", 2), -1);
    assert_int_equal(offset_log_get_stats(f->l).live_records, 2);
}

static void delete_topic(fixture_t *f, const char *topic)
{
    kl_offset_store_t s = offset_log_store(f->l);
    assert_int_equal(s.delete_topic(s.self, topic), KL_OK);
}

/* DeleteTopics: one record cancels every group's commits of that topic (and a group left
 * with none leaves the live set); a commit of the topic after it counts again. */
static void test_topic_tombstone_clears_the_topic_in_every_group(void **state)
{
    fixture_t *f = *state;
    commit1(f, "g1", "t", 0, 1);
    commit1(f, "g1", "u", 0, 2);
    commit1(f, "g2", "t", 1, 3);
    delete_topic(f, "t");
    assert_int_equal(offset_log_get_stats(f->l).live_records, 1);
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 4);
    assert_true(f->seen[3].topic_deleted);
    assert_false(f->seen[3].deleted);
    assert_string_equal(f->seen[3].topic, "t");
    assert_string_equal(f->seen[3].group, "");
    assert_int_equal(final_offset(f, "g1", "t", 0), -1);
    assert_int_equal(final_offset(f, "g2", "t", 1), -1);
    assert_int_equal(final_offset(f, "g1", "u", 0), 2);
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.live_records, 1);
    commit1(f, "g2", "t", 1, 9);                        /* the topic created again */
    reopen(f);
    load(f);
    assert_int_equal(final_offset(f, "g2", "t", 1), 9);
    assert_int_equal(final_offset(f, "g1", "t", 0), -1);
    assert_int_equal(offset_log_get_stats(f->l).live_records, 2);
}

/* Compaction writes the live set only: no topic tombstone, none of what it cancelled. */
static void test_compaction_drops_topic_tombstones(void **state)
{
    fixture_t *f = *state;
    f->opts.compact_min_records = 10;
    f->opts.compact_ratio = 4;
    reopen(f);
    commit1(f, "live", "u", 0, 1);
    for (int i = 0; i < 30; i++) {
        commit1(f, "g", "t", i, i);
        delete_topic(f, "t");
        if (offset_log_get_stats(f->l).compactions > 0)
            break;
    }
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_true(st.compactions > 0);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.live_records, 1);
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 1);
    assert_string_equal(f->seen[0].topic, "u");
}

static void test_sync_commits(void **state)
{
    fixture_t *f = *state;
    f->opts.sync_commits = true;
    reopen(f);
    commit1(f, "g", "t", 0, 77);
    delete_group(f, "other");
    reopen(f);
    load(f);
    assert_int_equal(final_offset(f, "g", "t", 0), 77);
}

static kl_err_t refuse(void *arg, const kl_offset_record_t *rec)
{
    (void)rec;
    (*(int *)arg)++;
    return KL_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

static void test_visit_error_stops_load(void **state)
{
    fixture_t *f = *state;
    commit1(f, "g", "t", 0, 1);
    commit1(f, "g", "t", 1, 2);
    int calls = 0;
    kl_offset_store_t s = offset_log_store(f->l);
    assert_int_equal(s.load_all(s.self, refuse, &calls), KL_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    assert_int_equal(calls, 1);
}

/* ---- crash recovery --------------------------------------------------------------------- */

/* Appends A (1 record), B (1 record), C (one OffsetCommit of 2 records); sizes after each. */
static void three_appends(fixture_t *f, int64_t *after_a, int64_t *after_b, int64_t *after_c)
{
    commit1(f, "g", "t", 0, 100);
    *after_a = file_size(f->path);
    commit1(f, "g", "t", 1, 200);
    *after_b = file_size(f->path);
    kl_offset_store_t s = offset_log_store(f->l);
    kl_offset_commit_t c[2] = {
        { .topic = "t", .partition = 0, .offset = 300, .metadata = "m" },
        { .topic = "t", .partition = 1, .offset = 301, .metadata = "m" },
    };
    assert_int_equal(s.commit(s.self, "g", c, 2, 3000), KL_OK);
    *after_c = file_size(f->path);
    offset_log_close(f->l);
    f->l = NULL;
}

/* Reopen over `len` bytes of `bytes`; expect the file cut to `keep` bytes and A,B seen. */
static void expect_recovered(fixture_t *f, const uint8_t *bytes, int64_t len, int64_t keep,
                             int64_t records)
{
    write_all(f->path, bytes, len);
    assert_int_equal(offset_log_open(&f->l, f->dir, &f->opts, NULL), KL_OK);
    assert_int_equal(file_size(f->path), keep);
    assert_int_equal(offset_log_get_stats(f->l).records, records);
    load(f);
    assert_int_equal((int64_t)f->seen_count, records);
    assert_int_equal(final_offset(f, "g", "t", 0), 100);   /* C never happened */
    assert_int_equal(final_offset(f, "g", "t", 1), records == 2 ? 200 : -1);
    /* The log is usable after the cut: a new commit lands right after what was kept. */
    commit1(f, "g", "t", 5, 500);
    offset_log_close(f->l);
    f->l = NULL;
    assert_int_equal(offset_log_open(&f->l, f->dir, &f->opts, NULL), KL_OK);
    assert_int_equal(offset_log_get_stats(f->l).records, records + 1);
    offset_log_close(f->l);
    f->l = NULL;
}

static void test_torn_tail_every_byte(void **state)
{
    fixture_t *f = *state;
    int64_t a, b, c, len;
    three_appends(f, &a, &b, &c);
    uint8_t *bytes = read_all(f->path, &len);
    assert_int_equal(len, c);
    /* Every cut inside C, including the one between its two records: all or nothing. */
    for (int64_t cut = b + 1; cut < c; cut++)
        expect_recovered(f, bytes, cut, b, 2);
    free(bytes);
    assert_int_equal(offset_log_open(&f->l, f->dir, &f->opts, NULL), KL_OK);
}

static void test_flipped_byte_detected(void **state)
{
    fixture_t *f = *state;
    int64_t a, b, c, len;
    three_appends(f, &a, &b, &c);
    uint8_t *bytes = read_all(f->path, &len);
    for (int64_t i = b; i < c; i++) {             /* any byte of the last append */
        bytes[i] ^= 0x10;
        expect_recovered(f, bytes, len, b, 2);
        bytes[i] ^= 0x10;
    }
    bytes[a + 12] ^= 0x01;                        /* inside B: B and all after it are cut */
    expect_recovered(f, bytes, len, a, 1);
    free(bytes);
    assert_int_equal(offset_log_open(&f->l, f->dir, &f->opts, NULL), KL_OK);
}

static void test_truncation_is_logged(void **state)
{
    fixture_t *f = *state;
    int64_t a, b, c, len;
    three_appends(f, &a, &b, &c);
    uint8_t *bytes = read_all(f->path, &len);
    write_all(f->path, bytes, c - 3);
    free(bytes);
    char *text = NULL;
    size_t text_len = 0;
    FILE *mem = open_memstream(&text, &text_len);
    assert_non_null(mem);
    kl_log_t log = { .out = mem, .level = KL_LOG_INFO };
    assert_int_equal(offset_log_open(&f->l, f->dir, &f->opts, &log), KL_OK);
    fclose(mem);
    char expect[64];
    snprintf(expect, sizeof expect, "truncating %lld bytes", (long long)(c - 3 - b));
    assert_non_null(strstr(text, expect));
    assert_non_null(strstr(text, "torn"));
    free(text);
}

static void test_leftover_tmp_ignored(void **state)
{
    fixture_t *f = *state;
    commit1(f, "g", "t", 0, 1);
    offset_log_close(f->l);
    f->l = NULL;
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s/" KL_OFFSET_LOG_DIR "/" KL_OFFSET_LOG_TMP_FILE, f->dir);
    int64_t len;
    uint8_t *bytes = read_all(f->path, &len);
    write_all(tmp, bytes, len);                   /* a half-done compaction: valid records */
    free(bytes);
    assert_int_equal(offset_log_open(&f->l, f->dir, &f->opts, NULL), KL_OK);
    assert_int_equal(access(tmp, F_OK), -1);      /* deleted at open */
    load(f);
    assert_int_equal(f->seen_count, 1);
    assert_int_equal(final_offset(f, "g", "t", 0), 1);
}

/* ---- compaction ------------------------------------------------------------------------- */

static void test_compaction_keeps_live_set(void **state)
{
    fixture_t *f = *state;
    f->opts.compact_min_records = 20;
    f->opts.compact_ratio = 4;
    reopen(f);
    /* 3 groups x 2 partitions, committed 30 times over; one group deleted midway. */
    const char *groups[3] = { "a", "b", "c" };
    for (int64_t round = 0; round < 30; round++) {
        for (int g = 0; g < 3; g++)
            for (int32_t p = 0; p < 2; p++)
                commit1(f, groups[g], "t", p, round * 10 + p);
        if (round == 14)
            delete_group(f, "b");
        if (round == 15)
            break;                                 /* "b" stays deleted from here on */
    }
    for (int64_t round = 16; round < 30; round++)
        for (int32_t p = 0; p < 2; p++) {
            commit1(f, "a", "t", p, round * 10 + p);
            commit1(f, "c", "t", p, round * 10 + p);
        }
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_true(st.compactions > 0);
    assert_int_equal(st.live_records, 6);          /* b's round-15 commits are live again */
    assert_true(st.records <= 4 * 6);                /* else it would have compacted */
    reopen(f);
    load(f);
    assert_int_equal((int64_t)f->seen_count, offset_log_get_stats(f->l).records);
    assert_int_equal(final_offset(f, "a", "t", 0), 290);
    assert_int_equal(final_offset(f, "a", "t", 1), 291);
    assert_int_equal(final_offset(f, "b", "t", 0), 150);
    assert_int_equal(final_offset(f, "b", "t", 1), 151);
    assert_int_equal(final_offset(f, "c", "t", 1), 291);
    assert_int_equal(final_of(f, "c", "t", 1)->timestamp_ms, 1000 + 291);
}

static void test_compaction_drops_tombstones_and_dead_groups(void **state)
{
    fixture_t *f = *state;
    f->opts.compact_min_records = 10;
    f->opts.compact_ratio = 4;
    reopen(f);
    commit1(f, "live", "t", 0, 1);
    for (int i = 0; i < 30; i++) {
        commit1(f, "dead", "t", i, i);
        delete_group(f, "dead");
        if (offset_log_get_stats(f->l).compactions > 0)
            break;
    }
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_true(st.compactions > 0);
    /* Right after a compaction the file holds exactly the live set: no tombstone left. */
    assert_int_equal(st.records, 1);
    assert_int_equal(st.live_records, 1);
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 1);
    assert_string_equal(f->seen[0].group, "live");
    assert_false(f->seen[0].deleted);
}

static void test_compaction_at_open(void **state)
{
    fixture_t *f = *state;
    for (int64_t i = 0; i < 50; i++)
        commit1(f, "g", "t", (int32_t)(i % 2), i);
    assert_int_equal(offset_log_get_stats(f->l).compactions, 0);   /* default: 10,000 */
    int64_t before = file_size(f->path);
    f->opts.compact_min_records = 10;
    reopen(f);
    offset_log_stats_t st = offset_log_get_stats(f->l);
    assert_int_equal(st.compactions, 1);
    assert_int_equal(st.records, 2);
    assert_true(file_size(f->path) < before);
    load(f);
    assert_int_equal(f->seen_count, 2);
    assert_int_equal(final_offset(f, "g", "t", 0), 48);
    assert_int_equal(final_offset(f, "g", "t", 1), 49);
}

/* ---- limits and errors ------------------------------------------------------------------ */

static char *filled(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_maximal_lengths(void **state)
{
    fixture_t *f = *state;
    char *group = filled('g', KL_OFFSET_LOG_STRING_MAX);
    char *topic = filled('t', KL_OFFSET_LOG_STRING_MAX);
    char *meta = filled('m', KL_OFFSET_LOG_STRING_MAX);
    kl_offset_store_t s = offset_log_store(f->l);
    kl_offset_commit_t c = { .topic = topic, .partition = INT32_MAX, .offset = INT64_MAX,
                             .metadata = meta };
    assert_int_equal(s.commit(s.self, group, &c, 1, INT64_MIN), KL_OK);
    assert_int_equal(s.delete_group(s.self, group), KL_OK);
    assert_int_equal(s.commit(s.self, group, &c, 1, 5), KL_OK);
    assert_int_equal(s.delete_topic(s.self, topic), KL_OK);
    reopen(f);
    load(f);
    assert_int_equal(f->seen_count, 4);
    assert_true(f->seen[3].topic_deleted);
    assert_string_equal(f->seen[3].topic, topic);
    assert_string_equal(f->seen[0].group, group);
    assert_string_equal(f->seen[0].topic, topic);
    assert_string_equal(f->seen[0].metadata, meta);
    assert_int_equal(f->seen[0].partition, INT32_MAX);
    assert_int_equal(f->seen[0].offset, INT64_MAX);
    assert_int_equal(f->seen[0].timestamp_ms, INT64_MIN);
    assert_true(f->seen[1].deleted);
    assert_string_equal(f->seen[1].group, group);
    assert_string_equal(f->seen[2].metadata, meta);
    free(group);
    free(topic);
    free(meta);
}

static void test_too_long_refused_nothing_appended(void **state)
{
    fixture_t *f = *state;
    commit1(f, "g", "t", 0, 1);
    int64_t before = file_size(f->path);
    char *big = filled('x', KL_OFFSET_LOG_STRING_MAX + 1);
    kl_offset_store_t s = offset_log_store(f->l);
    kl_offset_commit_t c[2] = {
        { .topic = "t", .partition = 1, .offset = 2, .metadata = "" },
        { .topic = "t", .partition = 2, .offset = 3, .metadata = big },
    };
    assert_int_equal(s.commit(s.self, "g", c, 2, 1), KL_ERR_INVALID_REQUEST);
    c[1].metadata = "";
    c[1].topic = big;
    assert_int_equal(s.commit(s.self, "g", c, 2, 1), KL_ERR_INVALID_REQUEST);
    c[1].topic = NULL;
    assert_int_equal(s.commit(s.self, "g", c, 2, 1), KL_ERR_INVALID_REQUEST);
    c[1].topic = "t";
    assert_int_equal(s.commit(s.self, big, c, 2, 1), KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(s.commit(s.self, NULL, c, 2, 1), KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(s.delete_group(s.self, big), KL_ERR_INVALID_GROUP_ID);
    assert_int_equal(s.delete_topic(s.self, big), KL_ERR_INVALID_REQUEST);
    assert_int_equal(s.delete_topic(s.self, NULL), KL_ERR_INVALID_REQUEST);
    assert_int_equal(file_size(f->path), before);
    assert_int_equal(offset_log_get_stats(f->l).records, 1);
    free(big);
}

static void test_unusable_directory(void **state)
{
    fixture_t *f = *state;
    offset_log_t *l = NULL;
    char path[160];
    /* log.dirs is a regular file: fails for root too. */
    snprintf(path, sizeof path, "%s/plainfile", f->dir);
    write_all(path, (const uint8_t *)"x", 1);
    assert_int_equal(offset_log_open(&l, path, NULL, NULL), KL_ERR_KAFKA_STORAGE_ERROR);
    /* log.dirs missing. */
    snprintf(path, sizeof path, "%s/missing", f->dir);
    assert_int_equal(offset_log_open(&l, path, NULL, NULL), KL_ERR_KAFKA_STORAGE_ERROR);
    /* A log file that is a directory. */
    snprintf(path, sizeof path, "%s/d2", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char inner[200];
    snprintf(inner, sizeof inner, "%s/" KL_OFFSET_LOG_DIR, path);
    assert_int_equal(mkdir(inner, 0700), 0);
    snprintf(inner, sizeof inner, "%s/" KL_OFFSET_LOG_DIR "/" KL_OFFSET_LOG_FILE, path);
    assert_int_equal(mkdir(inner, 0700), 0);
    assert_int_equal(offset_log_open(&l, path, NULL, NULL), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(l);
    /* Permission bits: meaningless for root, who ignores them. */
    if (geteuid() == 0)
        return;
    snprintf(path, sizeof path, "%s/ro", f->dir);
    assert_int_equal(mkdir(path, 0500), 0);
    assert_int_equal(offset_log_open(&l, path, NULL, NULL), KL_ERR_KAFKA_STORAGE_ERROR);
    chmod(path, 0700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_log_loads_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_commit_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_clears_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_tombstone_clears_the_topic_in_every_group,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_drops_topic_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visit_error_stops_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_is_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_tmp_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_keeps_live_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_drops_tombstones_and_dead_groups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compaction_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maximal_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long_refused_nothing_appended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_directory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
