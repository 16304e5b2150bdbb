/*
 * domain/crc32c.h — CRC-32C (Castagnoli), the checksum of Kafka's v2 record batch.
 * Layer: domain (pure computation). May touch: nothing.
 *
 * KIP-98 moved Kafka from CRC-32 to CRC-32C for message format v2. The checksum
 * covers the batch from `attributes` to the end (see record_batch.h).
 */
#ifndef KL_DOMAIN_CRC32C_H
#define KL_DOMAIN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend `crc` (0 for a fresh checksum) over `len` bytes at `data`. Cost: O(len). */
uint32_t kl_crc32c(uint32_t crc, const void *data, size_t len);

#endif
