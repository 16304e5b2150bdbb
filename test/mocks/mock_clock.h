/*
 * test/mocks/mock_clock.h — a cmocka mock of the application's clock port
 * (application/ports.h): now_ms() returns the values a test queues, in order.
 * Layer: test support. May touch: application/ports.h, cmocka.
 */
#ifndef KL_TEST_MOCK_CLOCK_H
#define KL_TEST_MOCK_CLOCK_H

#include <stdint.h>

#include "application/ports.h"

/* The port with now_ms pointing at mock_clock_now_ms; self is NULL. */
kl_clock_t mock_clock(void);

/* Returns the next value queued with will_return(mock_clock_now_ms, ms). */
int64_t mock_clock_now_ms(void *self);

/* Queue `ms` as the answer of the next now_ms() call. */
void mock_clock_will_return(int64_t ms);

#endif
