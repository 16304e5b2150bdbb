/*
 * test/fuzz/mem_log_store.h — a small, correct, in-memory implementation of the
 * log_store port (application/ports.h) for the request-path fuzzer.
 * Layer: test support. May touch: application/ports.h.
 *
 * Why a real fake and not the cmocka mock: the fuzzer sends requests nobody scripted,
 * so the store must simply behave like a store — topics created through the port are
 * kept, append stores the bytes of each partition, read hands back whole stored batches —
 * so that a Produce followed by a Fetch travels the real path end to end.
 *
 * It is also a tripwire: it abort()s (which the fuzzer reports as a crash) when the
 * broker breaks the port's contract — appending bytes that are not valid v2 batches or
 * whose offsets do not continue the log, opening a partition of a topic that was never
 * made durable, opening a log twice, closing one that is not open, deleting a topic it
 * does not hold or with logs that are not that topic's own open ones, or leaving a log
 * open when the store is freed.
 */
#ifndef KL_TEST_FUZZ_MEM_LOG_STORE_H
#define KL_TEST_FUZZ_MEM_LOG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "application/ports.h"

typedef struct mem_log_store mem_log_store_t;

/* NULL when out of memory. */
mem_log_store_t *mem_log_store_new(void);
/* Frees everything; abort()s if a partition log is still open (broker_close forgot it). */
void mem_log_store_free(mem_log_store_t *s);
/* The port, with `self` = s. */
kl_log_store_t mem_log_store_port(mem_log_store_t *s);

/* The stored bytes of one partition (NULL, 0 when it has none) and its log end. */
const uint8_t *mem_log_store_data(const mem_log_store_t *s, const char *topic,
                                  int32_t partition, size_t *len_out, int64_t *log_end_out);

/* Whether `topic` was created through the port and not deleted since. */
bool mem_log_store_has_topic(const mem_log_store_t *s, const char *topic);

#endif
