/*
 * infrastructure/clock.c — the real clocks behind the clock port and the server timers.
 * Layer: infrastructure. May touch: <time.h>.
 */
#include "infrastructure/clock.h"

#include <time.h>

static int64_t clock_read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void) { return clock_read_ms(CLOCK_REALTIME); }

int64_t clock_monotonic_ms(void) { return clock_read_ms(CLOCK_MONOTONIC); }

static int64_t clock_port_now_ms(void *self)
{
    (void)self;
    return clock_wall_ms();
}

kl_clock_t clock_real(void)
{
    kl_clock_t c = { .self = NULL, .now_ms = clock_port_now_ms };
    return c;
}
