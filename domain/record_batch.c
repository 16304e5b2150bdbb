/*
 * domain/record_batch.c — decoding and validating Kafka's v2 record batch header
 * (message format v2, KIP-98), plus the big-endian helpers it needs.
 * Layer: domain (pure). May touch: domain/record_batch.h, domain/crc32c.h, <string.h>.
 *
 * Nothing here allocates or copies records: a batch is checked in place and stored
 * byte for byte. The only write is batch_set_base_offset, which is safe because the
 * CRC starts at `attributes` (byte 21), after base_offset, batch_length,
 * partition_leader_epoch and magic — exactly the fields a broker may rewrite.
 */
#include "domain/record_batch.h"

#include "domain/crc32c.h"

#define KL_BATCH_MAGIC_OFFSET 16
#define KL_BATCH_CRC_OFFSET 17
/* batch_length counts the bytes after itself: a header-only batch is 61 - 12 = 49. */
#define KL_BATCH_MIN_LENGTH (KL_BATCH_HEADER_SIZE - KL_BATCH_LOG_OVERHEAD)

/* ---- big-endian helpers ------------------------------------------------------
 * Built from unsigned byte shifts so they work on any host byte order and alignment.
 * The unsigned → signed conversions are two's complement on every compiler we target
 * (GCC and Clang document it). */

int64_t kl_be64_read(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

int32_t kl_be32_read(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                     (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

int16_t kl_be16_read(const uint8_t *p)
{
    return (int16_t)((uint16_t)p[0] << 8 | (uint16_t)p[1]);
}

void kl_be64_write(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
}

void kl_be32_write(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

void kl_be16_write(uint8_t *p, int16_t v)
{
    uint16_t u = (uint16_t)v;
    p[0] = (uint8_t)(u >> 8);
    p[1] = (uint8_t)u;
}

/* ---- header ------------------------------------------------------------------ */

/* Field by field, at the offsets of the table in record_batch.h. */
void batch_header_decode(const uint8_t *hdr, kl_batch_header_t *out)
{
    out->base_offset = kl_be64_read(hdr + 0);
    out->batch_length = kl_be32_read(hdr + 8);
    out->partition_leader_epoch = kl_be32_read(hdr + 12);
    out->magic = (int8_t)hdr[16];
    out->crc = (uint32_t)kl_be32_read(hdr + 17);
    out->attributes = kl_be16_read(hdr + 21);
    out->last_offset_delta = kl_be32_read(hdr + 23);
    out->base_timestamp = kl_be64_read(hdr + 27);
    out->max_timestamp = kl_be64_read(hdr + 35);
    out->producer_id = kl_be64_read(hdr + 43);
    out->producer_epoch = kl_be16_read(hdr + 51);
    out->base_sequence = kl_be32_read(hdr + 53);
    out->records_count = kl_be32_read(hdr + 57);
}

kl_err_t batch_header_parse(const uint8_t *buf, size_t len, kl_batch_header_t *out)
{
    /* Magic first: v0/v1 message sets keep magic at the same byte 16 (offset, size,
     * crc, magic), and may be shorter than a v2 header. Naming the format is the more
     * useful answer than "corrupt" for an old client. */
    if (len > KL_BATCH_MAGIC_OFFSET && buf[KL_BATCH_MAGIC_OFFSET] != KL_BATCH_MAGIC_V2)
        return KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    if (len < KL_BATCH_HEADER_SIZE)
        return KL_ERR_CORRUPT_MESSAGE;
    int32_t batch_length = kl_be32_read(buf + 8);
    if (batch_length < KL_BATCH_MIN_LENGTH)
        return KL_ERR_CORRUPT_MESSAGE;
    /* batch_length >= 49 here, so the size_t arithmetic cannot wrap. */
    if ((size_t)batch_length > len - KL_BATCH_LOG_OVERHEAD)
        return KL_ERR_CORRUPT_MESSAGE;
    batch_header_decode(buf, out);
    return KL_OK;
}

kl_err_t batch_validate(const uint8_t *buf, size_t len, kl_batch_header_t *out)
{
    kl_err_t err = batch_header_parse(buf, len, out);
    if (err != KL_OK)
        return err;
    size_t total = batch_total_size(out);
    uint32_t crc = kl_crc32c(0, buf + KL_BATCH_CRC_START, total - KL_BATCH_CRC_START);
    if (crc != out->crc)
        return KL_ERR_CORRUPT_MESSAGE;
    if (out->last_offset_delta < 0)
        return KL_ERR_CORRUPT_MESSAGE;
    /* Kafka's LogValidator rejects a client batch whose record count disagrees with
     * its offset span: offsets are assigned as base + delta, so a mismatch would give
     * records offsets outside the range the broker accounted for. */
    if ((int64_t)out->records_count != batch_record_span(out))
        return KL_ERR_INVALID_RECORD;
    return KL_OK;
}

size_t batch_total_size(const kl_batch_header_t *h)
{
    return (size_t)KL_BATCH_LOG_OVERHEAD + (size_t)(uint32_t)h->batch_length;
}

int64_t batch_record_span(const kl_batch_header_t *h)
{
    return (int64_t)h->last_offset_delta + 1;
}

int64_t batch_last_offset(const kl_batch_header_t *h)
{
    return h->base_offset + h->last_offset_delta;
}

int batch_compression(const kl_batch_header_t *h)
{
    return h->attributes & 0x7;
}

int batch_is_transactional(const kl_batch_header_t *h)
{
    return (h->attributes >> 4) & 1;
}

int batch_is_control(const kl_batch_header_t *h)
{
    return (h->attributes >> 5) & 1;
}

void batch_set_base_offset(uint8_t *buf, int64_t base_offset)
{
    kl_be64_write(buf, base_offset);
}

kl_err_t batch_next(const uint8_t *buf, size_t len, size_t *pos, kl_batch_header_t *out)
{
    if (*pos >= len)
        return KL_ERR_CORRUPT_MESSAGE;       /* no batch here: callers stop at *pos == len */
    kl_err_t err = batch_validate(buf + *pos, len - *pos, out);
    if (err != KL_OK)
        return err;
    *pos += batch_total_size(out);
    return KL_OK;
}
