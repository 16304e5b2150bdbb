/*
 * test/test_clock.c — unit tests of infrastructure/clock.c: the port reads wall time,
 * the monotonic clock never goes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "infrastructure/clock.h"

static void test_port_reports_wall_time(void **state)
{
    (void)state;
    kl_clock_t c = clock_real();
    int64_t before = clock_wall_ms();
    int64_t now = c.now_ms(c.self);
    int64_t after = clock_wall_ms();
    assert_true(before <= now && now <= after);
    assert_true(now > 1600000000000LL);   /* after 2020: really epoch milliseconds */
}

static void test_monotonic_never_goes_back(void **state)
{
    (void)state;
    int64_t prev = clock_monotonic_ms();
    for (int i = 0; i < 1000; i++) {
        int64_t t = clock_monotonic_ms();
        assert_true(t >= prev);
        prev = t;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_reports_wall_time),
        cmocka_unit_test(test_monotonic_never_goes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
