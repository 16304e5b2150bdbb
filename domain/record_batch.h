/*
 * domain/record_batch.h — a read-only view of Kafka's v2 record batch header (magic 2).
 * Layer: domain (pure). May touch: domain/error.h, domain/crc32c.h.
 *
 * Klamm stores batches byte for byte as the producer sent them; only base_offset is
 * rewritten. That is safe because the CRC-32C covers `attributes` to the end of the
 * batch, not the first 21 bytes (KIP-98, "Message format v2"). The 61-byte header:
 *
 *   off size field
 *     0   8  base_offset             rewritten by the broker on append
 *     8   4  batch_length            bytes after this field (so total = 12 + batch_length)
 *    12   4  partition_leader_epoch
 *    16   1  magic                   must be 2
 *    17   4  crc                     CRC-32C of bytes [21, 12 + batch_length)
 *    21   2  attributes              bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *    23   4  last_offset_delta       records in the batch = last_offset_delta + 1
 *    27   8  base_timestamp
 *    35   8  max_timestamp
 *    43   8  producer_id
 *    51   2  producer_epoch
 *    53   4  base_sequence
 *    57   4  records_count
 *    61      records…
 * All integers big-endian.
 */
#ifndef KL_DOMAIN_RECORD_BATCH_H
#define KL_DOMAIN_RECORD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

#define KL_BATCH_HEADER_SIZE 61
#define KL_BATCH_LOG_OVERHEAD 12         /* base_offset + batch_length precede the length count */
#define KL_BATCH_CRC_START 21            /* the CRC covers from attributes onward */
#define KL_BATCH_MAGIC_V2 2

enum kl_compression {
    KL_COMPRESSION_NONE = 0, KL_COMPRESSION_GZIP = 1, KL_COMPRESSION_SNAPPY = 2,
    KL_COMPRESSION_LZ4 = 3, KL_COMPRESSION_ZSTD = 4,
};

typedef struct kl_batch_header {
    int64_t base_offset;
    int32_t batch_length;
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} kl_batch_header_t;

/* Decode the 61 header bytes at hdr[0..61) into `out`, field by field, and nothing else:
 * no length, magic or CRC check (the caller guarantees 61 readable bytes and checks what it
 * needs). batch_header_parse uses it on a batch in memory; segment.c on a header it read
 * alone from disk. */
void batch_header_decode(const uint8_t *hdr, kl_batch_header_t *out);

/* Decode the header at buf[0..len). Checks, in this order: magic == 2 (read at byte 16
 * whenever len > 16, so a short v0/v1 message set is still recognised as such),
 * len >= 61, batch_length large enough to hold the header (>= 49) and the whole batch
 * inside `len` (bytes past the batch are allowed and ignored). No CRC check.
 * Errors: KL_ERR_CORRUPT_MESSAGE (framing), KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT (magic). */
kl_err_t batch_header_parse(const uint8_t *buf, size_t len, kl_batch_header_t *out);

/* batch_header_parse + CRC-32C check + last_offset_delta >= 0 (all KL_ERR_CORRUPT_MESSAGE)
 * + records_count == last_offset_delta + 1 (KL_ERR_INVALID_RECORD, as Kafka's LogValidator
 * answers a producer whose count disagrees with its offsets). records_count sits in the
 * v2 header, so the count rule holds for compressed batches too. `out` is filled whenever
 * the header itself parsed. Cost: O(batch size) for the CRC. */
kl_err_t batch_validate(const uint8_t *buf, size_t len, kl_batch_header_t *out);

/* Total bytes of the batch described by `h`: 12 + batch_length. */
size_t batch_total_size(const kl_batch_header_t *h);

/* Records in the batch by offset span: last_offset_delta + 1. */
int64_t batch_record_span(const kl_batch_header_t *h);

/* Offset of the batch's last record: base_offset + last_offset_delta. */
int64_t batch_last_offset(const kl_batch_header_t *h);

/* Compression codec (attributes & 7). */
int batch_compression(const kl_batch_header_t *h);

/* Attribute bit 4: part of a transaction (KIP-98). */
int batch_is_transactional(const kl_batch_header_t *h);

/* Attribute bit 5: a control batch (transaction COMMIT/ABORT markers, KIP-98). */
int batch_is_control(const kl_batch_header_t *h);

/* Rewrite the base_offset field in place (bytes 0..8). CRC stays valid by design. */
void batch_set_base_offset(uint8_t *buf, int64_t base_offset);

/* Walk a sequence of batches: validate the one at buf[*pos..len) (CRC included),
 * fill `out`, and advance *pos past it. Returns KL_OK, or an error; *pos == len
 * means done (callers loop while *pos < len). */
kl_err_t batch_next(const uint8_t *buf, size_t len, size_t *pos, kl_batch_header_t *out);

/* Big-endian helpers shared by the batch code and its tests. */
int64_t kl_be64_read(const uint8_t *p);
int32_t kl_be32_read(const uint8_t *p);
int16_t kl_be16_read(const uint8_t *p);
void kl_be64_write(uint8_t *p, int64_t v);
void kl_be32_write(uint8_t *p, int32_t v);
void kl_be16_write(uint8_t *p, int16_t v);

#endif
