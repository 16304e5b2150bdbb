/*
 * test/test_logging.c — unit tests of infrastructure/logging.c: format, level filter,
 * NULL logger, level names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "infrastructure/logging.h"

static void test_writes_level_module_and_message(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    kl_log_t log = { .out = mem, .level = KL_LOG_INFO };
    KL_LOG_INF(&log, "storage", "truncated %d bytes", 42);
    fclose(mem);
    assert_non_null(strstr(text, "INFO  [storage] truncated 42 bytes\n"));
    assert_int_equal(text[4], '-');          /* ISO date first */
    assert_non_null(strchr(text, 'Z'));
    free(text);
}

static void test_drops_records_above_level(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    kl_log_t log = { .out = mem, .level = KL_LOG_WARN };
    KL_LOG_DBG(&log, "net", "noise");
    KL_LOG_INF(&log, "net", "noise");
    KL_LOG_ERR(&log, "net", "kept");
    fclose(mem);
    assert_null(strstr(text, "noise"));
    assert_non_null(strstr(text, "ERROR [net] kept"));
    free(text);
}

static void test_null_logger_is_silent(void **state)
{
    (void)state;
    KL_LOG_ERR(NULL, "x", "nothing happens");
    kl_log_t nowhere = { .out = NULL, .level = KL_LOG_DEBUG };
    KL_LOG_ERR(&nowhere, "x", "nothing happens");
}

static void test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(kl_log_level_parse("error"), KL_LOG_ERROR);
    assert_int_equal(kl_log_level_parse("warn"), KL_LOG_WARN);
    assert_int_equal(kl_log_level_parse("info"), KL_LOG_INFO);
    assert_int_equal(kl_log_level_parse("debug"), KL_LOG_DEBUG);
    assert_int_equal(kl_log_level_parse("loud"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_level_module_and_message),
        cmocka_unit_test(test_drops_records_above_level),
        cmocka_unit_test(test_null_logger_is_silent),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
