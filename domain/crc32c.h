/*
 * domain/crc32c.h — CRC-32C (Castagnoli), the checksum of Kafka's v2 record batch.
 * Layer: domain (pure computation; asks the CPU which instructions it has). May touch: nothing.
 *
 * KIP-98 moved Kafka from CRC-32 to CRC-32C for message format v2. The checksum
 * covers the batch from `attributes` to the end (see record_batch.h).
 */
#ifndef KL_DOMAIN_CRC32C_H
#define KL_DOMAIN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The implementations, slowest first. PORTABLE runs anywhere; SSE42 only on an x86-64
 * CPU that has SSE 4.2 (every x86 server CPU since 2008); VPCLMUL on one that also has
 * AVX-512 with VPCLMULQDQ (Intel Ice Lake, AMD Zen 4 and later). */
typedef enum kl_crc32c_impl {
    KL_CRC32C_PORTABLE = 0,      /* slicing-by-8 tables, ~2.4 GB/s */
    KL_CRC32C_SSE42,             /* the `crc32` instruction, 3-way: ~25 GB/s on 24 KiB+ */
    KL_CRC32C_VPCLMUL,           /* carry-less multiplication folding: ~50 GB/s on 256 B+ */
} kl_crc32c_impl_t;

/* The fastest implementation this CPU runs. A pure function of the CPU (a CPUID bit
 * libgcc read before main), cheap enough to ask at every call: see crc32c.c. */
kl_crc32c_impl_t kl_crc32c_best(void);

/* Extend `crc` (0 for a fresh checksum) over `len` bytes at `data` with `impl`, which
 * PORTABLE or what kl_crc32c_best returned (one the CPU lacks runs the next best).
 * Cost: O(len). */
uint32_t kl_crc32c_with(kl_crc32c_impl_t impl, uint32_t crc, const void *data, size_t len);

/* kl_crc32c_with(kl_crc32c_best(), ...): what every caller uses. */
uint32_t kl_crc32c(uint32_t crc, const void *data, size_t len);

#endif
