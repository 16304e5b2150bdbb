/*
 * test/fuzz/mem_offset_store.h — an in-memory offset store (application/offset_store.h)
 * for the request-path fuzzer, so the consumer-group APIs (OffsetCommit, DeleteGroups…)
 * and the offsets part of DeleteTopics run against a real group coordinator.
 * Layer: test support. May touch: application/offset_store.h.
 *
 * It keeps every commit and deletion as a record (owned copies) and replays them in
 * load_all, as the on-disk offset log does. It also reads every string it is handed
 * to its NUL, so ASan reports a coordinator that passes a non-terminated or freed one.
 */
#ifndef KL_TEST_FUZZ_MEM_OFFSET_STORE_H
#define KL_TEST_FUZZ_MEM_OFFSET_STORE_H

#include "application/offset_store.h"

typedef struct mem_offset_store mem_offset_store_t;

mem_offset_store_t *mem_offset_store_new(void);           /* NULL when out of memory */
void mem_offset_store_free(mem_offset_store_t *s);
kl_offset_store_t mem_offset_store_port(mem_offset_store_t *s);

#endif
