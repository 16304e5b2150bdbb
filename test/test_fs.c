/*
 * test/test_fs.c — unit tests of infrastructure/storage/fs.c: bounded path formatting and
 * joining, directory fsync, durable mkdir, walking a directory's entries (every name once,
 * "." and ".." never, a visitor's error stops the walk and is the answer, a directory that
 * cannot be opened is logged), removing a directory of files (not a nested directory),
 * whole-buffer writes, whole-file writes and the atomic replace (temp file,
 * fsync, rename, directory fsync), including the failures: each
 * returns KAFKA_STORAGE_ERROR and logs one line under the caller's module naming the file.
 * Every test works in its own mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infrastructure/storage/fs.h"

#define MOD "fs_test"

typedef struct fixture {
    char dir[64];
    char path[128];                   /* <dir>/file, for tests that need one */
    char *log_text;
    size_t log_len;
    kl_log_t log;
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/klamm_test_fs_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/file", f->dir);
    f->log.out = open_memstream(&f->log_text, &f->log_len);
    f->log.level = KL_LOG_DEBUG;
    *state = f;
    return f->log.out == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    fclose(f->log.out);
    free(f->log_text);
    free(f);
    return 0;
}

/* The log so far, as one string. */
static const char *log_text(fixture_t *f)
{
    fflush(f->log.out);
    return f->log_text != NULL ? f->log_text : "";
}

/* The whole content of `path` into buf (NUL-terminated); its length, or -1. */
static ssize_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* ---- paths --------------------------------------------------------------------------- */

static void test_path_format_fits_or_says_so(void **state)
{
    (void)state;
    char buf[8];
    assert_true(fs_path_format(buf, sizeof buf, "%s/%d", "ab", 1234));   /* 7 chars + NUL */
    assert_string_equal(buf, "ab/1234");
    assert_false(fs_path_format(buf, sizeof buf, "%s/%d", "ab", 12345)); /* 8 chars */
    assert_string_equal(buf, "ab/1234");                                 /* truncated */
    assert_true(fs_path_format(buf, 1, "%s", ""));
    assert_false(fs_path_format(buf, 0, "%s", "x"));
}

static void test_join(void **state)
{
    (void)state;
    char *p = fs_join("/var/lib/klamm", "__klamm_topics");
    assert_non_null(p);
    assert_string_equal(p, "/var/lib/klamm/__klamm_topics");
    free(p);
    p = fs_join("", "x");
    assert_non_null(p);
    assert_string_equal(p, "/x");
    free(p);
}

/* ---- directories ----------------------------------------------------------------------- */

static void test_fsync_dir(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(fs_fsync_dir(&f->log, MOD, f->dir), KL_OK);
    assert_string_equal(log_text(f), "");
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", f->dir);
    assert_int_equal(fs_fsync_dir(&f->log, MOD, missing), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(log_text(f), "[" MOD "]"));
    assert_non_null(strstr(log_text(f), "open directory"));
    assert_non_null(strstr(log_text(f), missing));
}

static void test_fsync_dir_of_a_file_fails(void **state)
{
    fixture_t *f = *state;
    write_text(f->path, "x");
    assert_int_equal(fs_fsync_dir(NULL, MOD, f->path), KL_ERR_KAFKA_STORAGE_ERROR);
}

static void test_mkdir_durable_creates_then_accepts_existing(void **state)
{
    fixture_t *f = *state;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    assert_int_equal(fs_mkdir_durable(&f->log, MOD, sub, f->dir), KL_OK);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(fs_mkdir_durable(&f->log, MOD, sub, f->dir), KL_OK);   /* EEXIST */
    assert_string_equal(log_text(f), "");
}

static void test_mkdir_durable_failures(void **state)
{
    fixture_t *f = *state;
    char deep[160];
    snprintf(deep, sizeof deep, "%s/no/such", f->dir);
    assert_int_equal(fs_mkdir_durable(&f->log, MOD, deep, f->dir), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(log_text(f), "mkdir"));
    assert_non_null(strstr(log_text(f), deep));
    /* Created, but the parent to fsync is missing: the fsync's error is the answer. */
    char sub[128], missing[128];
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    snprintf(missing, sizeof missing, "%s/missing", f->dir);
    assert_int_equal(fs_mkdir_durable(&f->log, MOD, sub, missing), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(log_text(f), "open directory"));
}

/* ---- walking a directory's entries ----------------------------------------------------- */

#define MAX_NAMES 8

/* What a walk saw: each name once, in readdir order; `stop_after` > 0 makes the visit of
 * that many-th name answer `stop_with`. */
typedef struct walk {
    char names[MAX_NAMES][32];
    int count;
    int stop_after;
    kl_err_t stop_with;
} walk_t;

static kl_err_t record_name(void *arg, const char *name)
{
    walk_t *w = arg;
    assert_true(w->count < MAX_NAMES);
    snprintf(w->names[w->count++], sizeof w->names[0], "%s", name);
    return w->count == w->stop_after ? w->stop_with : KL_OK;
}

static bool walk_saw(const walk_t *w, const char *name)
{
    for (int i = 0; i < w->count; i++)
        if (strcmp(w->names[i], name) == 0)
            return true;
    return false;
}

static void make_entries(fixture_t *f, const char *const *names, size_t n)
{
    char path[160];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, names[i]);
        write_text(path, "x");
    }
}

static void test_each_entry_of_an_empty_dir_visits_nothing(void **state)
{
    fixture_t *f = *state;
    walk_t w = { .count = 0 };
    assert_int_equal(fs_each_entry(&f->log, MOD, f->dir, record_name, &w), KL_OK);
    assert_int_equal(w.count, 0);                           /* "." and ".." are not entries */
    assert_string_equal(log_text(f), "");
}

/* Files, a hidden file and a subdirectory: each once; "." and ".." never. */
static void test_each_entry_visits_every_name_once(void **state)
{
    fixture_t *f = *state;
    const char *names[] = { "00000000000000000000.log", "a.properties", ".hidden" };
    make_entries(f, names, 3);
    char sub[128];
    snprintf(sub, sizeof sub, "%s/t-0", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    walk_t w = { .count = 0 };
    assert_int_equal(fs_each_entry(&f->log, MOD, f->dir, record_name, &w), KL_OK);
    assert_int_equal(w.count, 4);
    for (size_t i = 0; i < 3; i++)
        assert_true(walk_saw(&w, names[i]));
    assert_true(walk_saw(&w, "t-0"));
    assert_false(walk_saw(&w, "."));
    assert_false(walk_saw(&w, ".."));
    assert_string_equal(log_text(f), "");
}

/* A missing directory, or a file where the directory should be: STORAGE_ERROR, one line
 * under the caller's module naming it, and no visit. */
static void test_each_entry_of_a_missing_dir_is_an_error(void **state)
{
    fixture_t *f = *state;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", f->dir);
    walk_t w = { .count = 0 };
    assert_int_equal(fs_each_entry(&f->log, MOD, missing, record_name, &w),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(w.count, 0);
    assert_non_null(strstr(log_text(f), "[" MOD "]"));
    assert_non_null(strstr(log_text(f), "opendir"));
    assert_non_null(strstr(log_text(f), missing));
    write_text(f->path, "x");
    assert_int_equal(fs_each_entry(&f->log, MOD, f->path, record_name, &w),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(w.count, 0);
    assert_non_null(strstr(log_text(f), f->path));
}

/* The visitor stops the walk: its value is the answer, unchanged; nothing more is
 * visited, and nothing is logged for it (the visitor says why itself). */
static void test_each_entry_stops_at_the_visitors_error(void **state)
{
    fixture_t *f = *state;
    const char *names[] = { "a", "b", "c" };
    make_entries(f, names, 3);
    walk_t w = { .stop_after = 1, .stop_with = KL_ERR_UNKNOWN_SERVER_ERROR };
    assert_int_equal(fs_each_entry(&f->log, MOD, f->dir, record_name, &w),
                     KL_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(w.count, 1);
    w = (walk_t){ .stop_after = 2, .stop_with = KL_ERR_CORRUPT_MESSAGE };
    assert_int_equal(fs_each_entry(&f->log, MOD, f->dir, record_name, &w),
                     KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(w.count, 2);
    assert_string_equal(log_text(f), "");
}

/* ---- removing a directory of files ------------------------------------------------------ */

static void test_remove_dir_removes_files_and_itself(void **state)
{
    fixture_t *f = *state;
    char sub[128], file[160];
    snprintf(sub, sizeof sub, "%s/topic-0", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    const char *names[] = { "00000000000000000000.log", "00000000000000000000.index",
                            "00000000000000000000.timeindex", "stray.tmp" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(file, sizeof file, "%s/%s", sub, names[i]);
        write_text(file, "bytes");
    }
    assert_int_equal(fs_remove_dir(&f->log, MOD, sub), KL_OK);
    assert_int_equal(access(sub, F_OK), -1);
    assert_string_equal(log_text(f), "");
    /* already gone: fine, nothing logged */
    assert_int_equal(fs_remove_dir(&f->log, MOD, sub), KL_OK);
    assert_string_equal(log_text(f), "");
}

/* Not recursive: a directory inside is not ours to delete; the call fails, logged. */
static void test_remove_dir_refuses_a_subdirectory(void **state)
{
    fixture_t *f = *state;
    char sub[128], inner[160];
    snprintf(sub, sizeof sub, "%s/topic-0", f->dir);
    snprintf(inner, sizeof inner, "%s/nested", sub);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(mkdir(inner, 0755), 0);
    assert_int_equal(fs_remove_dir(&f->log, MOD, sub), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(access(inner, F_OK), 0);
    assert_non_null(strstr(log_text(f), "unlink nested"));
    assert_non_null(strstr(log_text(f), MOD));
    /* a file is not a directory either: refused, and left alone */
    write_text(f->path, "x");
    assert_int_equal(fs_remove_dir(&f->log, MOD, f->path), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(log_text(f), "opendir"));
    assert_int_equal(access(f->path, F_OK), 0);
}

/* ---- writing ---------------------------------------------------------------------------- */

static void test_write_full_writes_every_byte(void **state)
{
    fixture_t *f = *state;
    size_t n = 1 << 20;
    char *big = malloc(n);
    char *back = malloc(n + 1);
    assert_non_null(big);
    assert_non_null(back);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(fs_write_full(&f->log, MOD, fd, f->path, "head:", 5), KL_OK);
    assert_int_equal(fs_write_full(&f->log, MOD, fd, f->path, big, n), KL_OK);
    assert_int_equal(fs_write_full(&f->log, MOD, fd, f->path, big, 0), KL_OK);
    close(fd);
    fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, back, 5, 0), 5);
    assert_memory_equal(back, "head:", 5);
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, back + got, n - got, (off_t)(5 + got));
        assert_true(r > 0);
        got += (size_t)r;
    }
    close(fd);
    assert_memory_equal(back, big, n);
    free(big);
    free(back);
}

static void test_write_full_error_names_the_file(void **state)
{
    fixture_t *f = *state;
    write_text(f->path, "x");
    int fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fs_write_full(&f->log, MOD, fd, f->path, "y", 1), KL_ERR_KAFKA_STORAGE_ERROR);
    close(fd);
    assert_non_null(strstr(log_text(f), "[" MOD "]"));
    assert_non_null(strstr(log_text(f), "write"));
    assert_non_null(strstr(log_text(f), f->path));
}

/* fs_pread_all: every byte asked for, fewer only at the end of the file, -1 on an error. */
static void test_pread_all_reads_to_the_end(void **state)
{
    fixture_t *f = *state;
    write_text(f->path, "0123456789");
    int fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    char buf[16] = "";
    assert_int_equal(fs_pread_all(fd, buf, 4, 3), 4);
    assert_memory_equal(buf, "3456", 4);
    assert_int_equal(fs_pread_all(fd, buf, 8, 6), 4);           /* the file ends at 10 */
    assert_memory_equal(buf, "6789", 4);
    assert_int_equal(fs_pread_all(fd, buf, 0, 0), 0);
    close(fd);
    assert_int_equal(fs_pread_all(fd, buf, 4, 0), -1);          /* closed: EBADF */
    assert_int_equal(errno, EBADF);
}

/* fs_pread_full: a short file is damage, with a log line saying where it ended. */
static void test_pread_full_short_file_is_an_error(void **state)
{
    fixture_t *f = *state;
    write_text(f->path, "0123456789");
    int fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    char buf[16];
    assert_int_equal(fs_pread_full(&f->log, MOD, fd, f->path, buf, 10, 0), KL_OK);
    assert_memory_equal(buf, "0123456789", 10);
    assert_int_equal(fs_pread_full(&f->log, MOD, fd, f->path, buf, 8, 6),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(log_text(f), "unexpected end of file at 10"));
    assert_non_null(strstr(log_text(f), f->path));
    close(fd);
    assert_int_equal(fs_pread_full(&f->log, MOD, fd, f->path, buf, 1, 0),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(log_text(f), "pread"));
}

static void test_write_file_creates_and_truncates(void **state)
{
    fixture_t *f = *state;
    char back[64];
    assert_int_equal(fs_write_file(&f->log, MOD, f->path, "a longer first text", 19), KL_OK);
    assert_int_equal(read_file(f->path, back, sizeof back), 19);
    assert_string_equal(back, "a longer first text");
    assert_int_equal(fs_write_file(&f->log, MOD, f->path, "short", 5), KL_OK);
    assert_int_equal(read_file(f->path, back, sizeof back), 5);
    assert_string_equal(back, "short");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/file", f->dir);
    assert_int_equal(fs_write_file(&f->log, MOD, missing, "x", 1), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(log_text(f), "open"));
    assert_non_null(strstr(log_text(f), missing));
}

/* ---- replacing ------------------------------------------------------------------------- */

static void test_replace_file_swaps_content_and_removes_tmp(void **state)
{
    fixture_t *f = *state;
    char tmp[160], back[64];
    snprintf(tmp, sizeof tmp, "%s/file.tmp", f->dir);
    assert_int_equal(fs_replace_file(&f->log, MOD, tmp, f->path, f->dir, "v1", 2), KL_OK);
    assert_int_equal(read_file(f->path, back, sizeof back), 2);
    assert_string_equal(back, "v1");
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(fs_replace_file(&f->log, MOD, tmp, f->path, f->dir, "version 2", 9), KL_OK);
    assert_int_equal(read_file(f->path, back, sizeof back), 9);
    assert_string_equal(back, "version 2");
    assert_int_equal(access(tmp, F_OK), -1);
    assert_string_equal(log_text(f), "");
}

/* The rename fails (the final name is a non-empty directory): the temp file is deleted and
 * the old content stays. */
static void test_replace_file_failed_rename_deletes_tmp(void **state)
{
    fixture_t *f = *state;
    char tmp[160], final[160], inside[192];
    snprintf(tmp, sizeof tmp, "%s/file.tmp", f->dir);
    snprintf(final, sizeof final, "%s/taken", f->dir);
    snprintf(inside, sizeof inside, "%s/keep", final);
    assert_int_equal(mkdir(final, 0755), 0);
    write_text(inside, "old");
    assert_int_equal(fs_replace_file(&f->log, MOD, tmp, final, f->dir, "new", 3),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(access(inside, F_OK), 0);
    assert_non_null(strstr(log_text(f), "rename"));
    assert_non_null(strstr(log_text(f), tmp));
}

static void test_replace_file_unwritable_tmp_leaves_final(void **state)
{
    fixture_t *f = *state;
    char tmp[160], back[64];
    snprintf(tmp, sizeof tmp, "%s/no/file.tmp", f->dir);
    write_text(f->path, "old");
    assert_int_equal(fs_replace_file(&f->log, MOD, tmp, f->path, f->dir, "new", 3),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(read_file(f->path, back, sizeof back), 3);
    assert_string_equal(back, "old");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_format_fits_or_says_so),
        cmocka_unit_test(test_join),
        cmocka_unit_test_setup_teardown(test_fsync_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_dir_of_a_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_durable_creates_then_accepts_existing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_durable_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_entry_of_an_empty_dir_visits_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_entry_visits_every_name_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_entry_of_a_missing_dir_is_an_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_entry_stops_at_the_visitors_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_dir_removes_files_and_itself,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_dir_refuses_a_subdirectory,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_full_writes_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_full_error_names_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pread_all_reads_to_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pread_full_short_file_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_file_creates_and_truncates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_file_swaps_content_and_removes_tmp,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_file_failed_rename_deletes_tmp,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_file_unwritable_tmp_leaves_final,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
