/*
 * infrastructure/clock.h — the real clocks: wall time for the clock port, monotonic
 * time for the server's timers (immune to NTP steps).
 * Layer: infrastructure. May touch: <time.h>, application/ports.h.
 */
#ifndef KL_INFRA_CLOCK_H
#define KL_INFRA_CLOCK_H

#include <stdint.h>

#include "application/ports.h"

int64_t clock_wall_ms(void);          /* CLOCK_REALTIME in ms */
int64_t clock_monotonic_ms(void);     /* CLOCK_MONOTONIC in ms */
kl_clock_t clock_real(void);          /* the clock port backed by clock_wall_ms */

#endif
