/*
 * test/mocks/mock_clock.c — the cmocka mock of the clock port (see mock_clock.h).
 * Layer: test support. May touch: application/ports.h, cmocka.
 *
 * Why a mock and not a fixed fake: a test that depends on time says so by queueing each
 * reading; an unexpected clock call then fails the test instead of passing silently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test/mocks/mock_clock.h"

int64_t mock_clock_now_ms(void *self)
{
    (void)self;
    return mock_type(int64_t);
}

kl_clock_t mock_clock(void)
{
    kl_clock_t c = { .self = NULL, .now_ms = mock_clock_now_ms };
    return c;
}

void mock_clock_will_return(int64_t ms)
{
    will_return(mock_clock_now_ms, ms);
}
