/*
 * test/test_topic_store.c — unit tests of infrastructure/storage/topic_store.c: save/load
 * round trip with configs, one topic by name, temp and foreign files ignored, a corrupt file refused, names
 * and values the format cannot hold refused, the deletion marker (DeleteTopics: a marked
 * topic no longer loads, markers are listed, unmarking removes them), and a directory
 * that vanished failing the walks. Each test uses its own mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infrastructure/storage/topic_store.h"

#define MAX_SEEN 8

typedef struct fixture {
    char dir[64];
    kl_topic_store_t *ts;
    kl_topic_meta_t seen[MAX_SEEN];
    int seen_count;
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/klamm_test_topics_XXXXXX");
    if (mkdtemp(f->dir) == NULL || topic_store_open(&f->ts, f->dir, NULL) != KL_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    topic_store_close(f->ts);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static kl_err_t collect(void *arg, const kl_topic_meta_t *meta)
{
    fixture_t *f = arg;
    if (f->seen_count == MAX_SEEN)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    f->seen[f->seen_count++] = *meta;
    return KL_OK;
}

static const kl_topic_meta_t *seen(const fixture_t *f, const char *name)
{
    for (int i = 0; i < f->seen_count; i++)
        if (strcmp(f->seen[i].name, name) == 0)
            return &f->seen[i];
    return NULL;
}

static kl_topic_meta_t meta_of(const char *name, int32_t partitions)
{
    kl_topic_meta_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    m.partition_count = partitions;
    m.replication_factor = 1;
    return m;
}

static void write_file(const fixture_t *f, const char *name, const char *content)
{
    char path[256];
    snprintf(path, sizeof path, "%s/" KL_TOPIC_STORE_DIR "/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static void test_round_trip_with_configs(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t a = meta_of("orders", 3);
    assert_int_equal(topic_meta_set_config(&a, "retention.ms", "86400000"), KL_OK);
    assert_int_equal(topic_meta_set_config(&a, "cleanup.policy", "compact,delete"), KL_OK);
    assert_int_equal(topic_meta_set_config(&a, "weird.value", "a=b c"), KL_OK);
    kl_topic_meta_t b = meta_of("_internal.x-1", 1);
    assert_int_equal(topic_store_save(f->ts, &a), KL_OK);
    assert_int_equal(topic_store_save(f->ts, &b), KL_OK);
    assert_true(topic_store_exists(f->ts, "orders"));
    assert_false(topic_store_exists(f->ts, "nope"));

    /* a fresh store over the same directory, as after a restart */
    topic_store_close(f->ts);
    assert_int_equal(topic_store_open(&f->ts, f->dir, NULL), KL_OK);
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_OK);
    assert_int_equal(f->seen_count, 2);
    const kl_topic_meta_t *ra = seen(f, "orders");
    assert_non_null(ra);
    assert_int_equal(ra->partition_count, 3);
    assert_int_equal(ra->replication_factor, 1);
    assert_int_equal(ra->config_count, 3);
    assert_string_equal(topic_meta_config(ra, "retention.ms"), "86400000");
    assert_string_equal(topic_meta_config(ra, "cleanup.policy"), "compact,delete");
    assert_string_equal(topic_meta_config(ra, "weird.value"), "a=b c");
    const kl_topic_meta_t *rb = seen(f, "_internal.x-1");
    assert_non_null(rb);
    assert_int_equal(rb->partition_count, 1);
    assert_int_equal(rb->config_count, 0);
}

static void test_file_is_readable_properties(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t a = meta_of("t", 7);
    assert_int_equal(topic_meta_set_config(&a, "segment.bytes", "1024"), KL_OK);
    assert_int_equal(topic_store_save(f->ts, &a), KL_OK);
    char path[256], text[512] = { 0 };
    snprintf(path, sizeof path, "%s/" KL_TOPIC_STORE_DIR "/t.properties", f->dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_true(fread(text, 1, sizeof text - 1, fp) > 0);
    fclose(fp);
    assert_non_null(strstr(text, "\npartitions=7\n"));
    assert_non_null(strstr(text, "\nreplication.factor=1\n"));
    assert_non_null(strstr(text, "\nconfig.segment.bytes=1024\n"));
    /* no temp file is left behind */
    snprintf(path, sizeof path, "%s/" KL_TOPIC_STORE_DIR "/t.tmp", f->dir);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_save_replaces(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t a = meta_of("t", 1);
    assert_int_equal(topic_store_save(f->ts, &a), KL_OK);
    a.partition_count = 4;
    assert_int_equal(topic_store_save(f->ts, &a), KL_OK);
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_OK);
    assert_int_equal(f->seen_count, 1);
    assert_int_equal(f->seen[0].partition_count, 4);
}

static void test_half_written_temp_and_foreign_files_ignored(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t a = meta_of("kept", 2);
    assert_int_equal(topic_store_save(f->ts, &a), KL_OK);
    write_file(f, "crashed.tmp", "# Klamm topic metadata\npartit");     /* crash mid-write */
    write_file(f, "crashed.properties.tmp", "partitions=");
    write_file(f, "README", "hello");
    write_file(f, "bad name!.properties", "partitions=1\n");            /* not a topic name */
    write_file(f, ".properties", "partitions=1\n");
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_OK);
    assert_int_equal(f->seen_count, 1);
    assert_string_equal(f->seen[0].name, "kept");
}

static void test_empty_directory_loads_nothing(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_OK);
    assert_int_equal(f->seen_count, 0);
}

static void test_corrupt_file_fails_the_load(void **state)
{
    fixture_t *f = *state;
    const char *bad[] = { "replication.factor=1\n", "partitions=0\n", "partitions=abc\n",
                          "partitions=2\nno equals sign\n", "partitions=99999999999\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(f, "broken.properties", bad[i]);
        assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_ERR_KAFKA_STORAGE_ERROR);
    }
    /* comments, blank lines, CRLF and unknown plain keys are fine */
    write_file(f, "broken.properties", "# c\r\n! c\r\n\r\npartitions=5\r\nfuture.key=1\r\n");
    f->seen_count = 0;
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_OK);
    assert_int_equal(f->seen_count, 1);
    assert_int_equal(f->seen[0].partition_count, 5);
}

/* One topic by name, as log_dir reads a topic's segment.bytes / segment.ms when it opens
 * a partition: found, absent (no error), or a corrupt file (an error, as for load_all). */
static void test_load_one_topic(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t a = meta_of("orders", 3);
    assert_int_equal(topic_meta_set_config(&a, "segment.bytes", "1024"), KL_OK);
    assert_int_equal(topic_store_save(f->ts, &a), KL_OK);
    kl_topic_meta_t m;
    bool found = false;
    assert_int_equal(topic_store_load(f->ts, "orders", &m, &found), KL_OK);
    assert_true(found);
    assert_string_equal(m.name, "orders");
    assert_int_equal(m.partition_count, 3);
    assert_string_equal(topic_meta_config(&m, "segment.bytes"), "1024");
    assert_int_equal(topic_store_load(f->ts, "nope", &m, &found), KL_OK);
    assert_false(found);
    write_file(f, "broken.properties", "partitions=abc\n");
    assert_int_equal(topic_store_load(f->ts, "broken", &m, &found), KL_ERR_KAFKA_STORAGE_ERROR);
}

static void test_visitor_error_stops_the_walk(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < MAX_SEEN + 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        kl_topic_meta_t m = meta_of(name, 1);
        assert_int_equal(topic_store_save(f->ts, &m), KL_OK);
    }
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(f->seen_count, MAX_SEEN);
}

static void test_refuses_what_the_format_cannot_hold(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t m = meta_of("t", 1);
    snprintf(m.configs[0].key, sizeof m.configs[0].key, "a");
    snprintf(m.configs[0].value, sizeof m.configs[0].value, "line\nbreak");
    m.config_count = 1;
    assert_int_equal(topic_store_check(&m), KL_ERR_INVALID_CONFIG);
    assert_int_equal(topic_store_save(f->ts, &m), KL_ERR_INVALID_CONFIG);
    snprintf(m.configs[0].key, sizeof m.configs[0].key, "a=b");
    snprintf(m.configs[0].value, sizeof m.configs[0].value, "v");
    assert_int_equal(topic_store_save(f->ts, &m), KL_ERR_INVALID_CONFIG);
    assert_false(topic_store_exists(f->ts, "t"));

    kl_topic_meta_t bad = meta_of("../escape", 1);
    assert_int_equal(topic_store_save(f->ts, &bad), KL_ERR_INVALID_TOPIC_EXCEPTION);
    kl_topic_meta_t longest = meta_of("", 1);
    memset(longest.name, 'x', KL_TOPIC_STORE_NAME_MAX);
    assert_int_equal(topic_store_check(&longest), KL_OK);
    assert_int_equal(topic_store_save(f->ts, &longest), KL_OK);
    assert_true(topic_store_exists(f->ts, longest.name));
    kl_topic_meta_t too_long = meta_of("", 1);
    memset(too_long.name, 'x', KL_TOPIC_STORE_NAME_MAX + 1);
    assert_int_equal(topic_store_check(&too_long), KL_ERR_INVALID_TOPIC_EXCEPTION);
}

static void test_open_needs_the_log_dir(void **state)
{
    (void)state;
    kl_topic_store_t *ts = NULL;
    assert_int_equal(topic_store_open(&ts, "/nonexistent/klamm/dir", NULL), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(ts);
}

/* ---- deletion ---- */

typedef struct names {
    int count;
    char list[4][64];
} names_t;

static kl_err_t collect_name(void *arg, const char *name)
{
    names_t *n = arg;
    if (n->count == 4)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    snprintf(n->list[n->count++], sizeof n->list[0], "%s", name);
    return KL_OK;
}

static bool file_exists(const fixture_t *f, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/" KL_TOPIC_STORE_DIR "/%s", f->dir, name);
    return access(path, F_OK) == 0;
}

/* Marked: the topic no longer loads or exists, the marker is listed; unmarked: gone. */
static void test_mark_unmark_deleted(void **state)
{
    fixture_t *f = *state;
    kl_topic_meta_t a = meta_of("orders", 3), b = meta_of("kept", 1);
    assert_int_equal(topic_store_save(f->ts, &a), KL_OK);
    assert_int_equal(topic_store_save(f->ts, &b), KL_OK);
    assert_false(topic_store_deleting(f->ts, "orders"));
    assert_int_equal(topic_store_mark_deleted(f->ts, "orders"), KL_OK);
    assert_false(topic_store_exists(f->ts, "orders"));
    assert_true(topic_store_deleting(f->ts, "orders"));
    assert_false(file_exists(f, "orders.properties"));
    assert_true(file_exists(f, "orders.deleting"));
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_OK);
    assert_int_equal(f->seen_count, 1);
    assert_string_equal(f->seen[0].name, "kept");

    names_t n = { 0 };
    assert_int_equal(topic_store_each_deleting(f->ts, collect_name, &n), KL_OK);
    assert_int_equal(n.count, 1);
    assert_string_equal(n.list[0], "orders");

    assert_int_equal(topic_store_unmark_deleted(f->ts, "orders"), KL_OK);
    assert_false(topic_store_deleting(f->ts, "orders"));
    assert_false(file_exists(f, "orders.deleting"));
    assert_int_equal(topic_store_unmark_deleted(f->ts, "orders"), KL_OK);   /* gone: fine */
    memset(&n, 0, sizeof n);
    assert_int_equal(topic_store_each_deleting(f->ts, collect_name, &n), KL_OK);
    assert_int_equal(n.count, 0);
}

/* Nothing to mark: no such topic (and names that cannot be one); nothing changes. */
static void test_mark_of_a_missing_topic_is_unknown(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(topic_store_mark_deleted(f->ts, "ghost"), KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(topic_store_mark_deleted(f->ts, "../escape"),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_false(file_exists(f, "ghost.deleting"));
}

/* Only "<valid topic>.deleting" files are markers; the walk stops at a visitor error. */
static void test_foreign_files_are_not_markers(void **state)
{
    fixture_t *f = *state;
    write_file(f, "a.deleting", "partitions=1\n");
    write_file(f, "b.deleting", "partitions=1\n");
    write_file(f, ".deleting", "");
    write_file(f, "bad name!.deleting", "");
    write_file(f, "c.deleting.tmp", "");
    names_t n = { 0 };
    assert_int_equal(topic_store_each_deleting(f->ts, collect_name, &n), KL_OK);
    assert_int_equal(n.count, 2);
    n.count = 4;                                            /* the visitor's next call fails */
    assert_int_equal(topic_store_each_deleting(f->ts, collect_name, &n),
                     KL_ERR_UNKNOWN_SERVER_ERROR);
}

/* The directory gone from under an open store: the walks fail, rather than report "no
 * topics" or "no markers" (a start would then forget every topic). */
static void test_walks_of_a_vanished_directory_fail(void **state)
{
    fixture_t *f = *state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/" KL_TOPIC_STORE_DIR, f->dir);
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(topic_store_load_all(f->ts, collect, f), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(f->seen_count, 0);
    names_t n = { 0 };
    assert_int_equal(topic_store_each_deleting(f->ts, collect_name, &n),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(n.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_with_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_is_readable_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_written_temp_and_foreign_files_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_directory_loads_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file_fails_the_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_one_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visitor_error_stops_the_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_what_the_format_cannot_hold, setup, teardown),
        cmocka_unit_test(test_open_needs_the_log_dir),
        cmocka_unit_test_setup_teardown(test_mark_unmark_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_of_a_missing_topic_is_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_files_are_not_markers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walks_of_a_vanished_directory_fail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
