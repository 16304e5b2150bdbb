/*
 * infrastructure/protocol/wire.c — the Kafka protocol's primitive types: big-endian
 * integers, unsigned and zig-zag varints, classic and compact (KIP-482) strings, bytes,
 * arrays and tagged fields; a sticky-failure reader and a growable writer (whose output
 * may reference file ranges, kl_wr_splice_t, sent later without a copy).
 * Layer: infrastructure. May touch: <stdint.h>, <stdlib.h>, <string.h>. No I/O: a
 * splice only records a file descriptor number; reading it is the sender's business.
 *
 * Every bound check of the protocol codec lives here. A reader that runs past the end,
 * meets an over-long varint or a negative length that is not the null marker becomes
 * `failed`, and from then on every read returns zero/empty. Decoders read on and check
 * rd_ok() once; they never need a bounds check of their own.
 */
#include "infrastructure/protocol/wire.h"

#include <stdlib.h>
#include <string.h>

/* What a failed string/bytes read returns: empty, with a valid pointer, so a caller
 * that forgets rd_ok() still cannot dereference NULL. */
static const char kl_wire_empty[1] = "";

/* ---- reader: basics ------------------------------------------------------------ */

void rd_init(kl_reader_t *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = buf != NULL ? len : 0;
    r->pos = 0;
    r->failed = false;
}

void rd_fail(kl_reader_t *r)
{
    r->failed = true;
}

/* Returns a pointer to the next `n` bytes and consumes them, or NULL (and fails the
 * reader) when fewer are left. The one place every fixed-size read is checked. */
static const uint8_t *rd_take(kl_reader_t *r, size_t n)
{
    if (r->failed || r->len - r->pos < n) {
        r->failed = true;
        return NULL;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

void rd_skip(kl_reader_t *r, size_t n)
{
    (void)rd_take(r, n);
}

/* ---- reader: fixed-width integers (network byte order) ------------------------- */

static uint64_t rd_be(kl_reader_t *r, size_t n)
{
    const uint8_t *p = rd_take(r, n);
    uint64_t v = 0;
    if (p == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int8_t rd_i8(kl_reader_t *r) { return (int8_t)(uint8_t)rd_be(r, 1); }
int16_t rd_i16(kl_reader_t *r) { return (int16_t)(uint16_t)rd_be(r, 2); }
int32_t rd_i32(kl_reader_t *r) { return (int32_t)(uint32_t)rd_be(r, 4); }
int64_t rd_i64(kl_reader_t *r) { return (int64_t)rd_be(r, 8); }
uint32_t rd_u32(kl_reader_t *r) { return (uint32_t)rd_be(r, 4); }

/* ---- reader: varints ----------------------------------------------------------- */

/* Kafka's unsigned varint (protobuf base-128, little-endian groups of 7 bits, high bit =
 * "more"). `max_bytes` is 5 for 32 bits, 10 for 64. A varint longer than that, or whose
 * last byte carries bits beyond the type's width, is malformed and fails the reader. */
static uint64_t rd_uvar(kl_reader_t *r, unsigned max_bytes, unsigned bits)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < max_bytes; i++) {
        const uint8_t *p = rd_take(r, 1);
        if (p == NULL)
            return 0;
        unsigned shift = 7 * i;
        uint64_t group = *p & 0x7f;
        if (shift + 7 > bits && (group >> (bits - shift)) != 0)
            goto err;                   /* bits above the type's width */
        v |= group << shift;
        if ((*p & 0x80) == 0)
            return v;
    }
err:
    r->failed = true;                   /* over-long: continuation bit on the last byte */
    return 0;
}

uint32_t rd_uvarint(kl_reader_t *r) { return (uint32_t)rd_uvar(r, 5, 32); }
uint64_t rd_uvarlong(kl_reader_t *r) { return rd_uvar(r, 10, 64); }

/* Zig-zag (as in Kafka's ByteUtils.readVarint): 0,-1,1,-2.. map to 0,1,2,3.. so small
 * negative numbers stay short. Decoded in unsigned arithmetic: no signed overflow. */
int32_t rd_varint(kl_reader_t *r)
{
    uint32_t u = rd_uvarint(r);
    return (int32_t)((u >> 1) ^ (0u - (u & 1u)));
}

int64_t rd_varlong(kl_reader_t *r)
{
    uint64_t u = rd_uvarlong(r);
    return (int64_t)((u >> 1) ^ (0u - (u & 1u)));
}

/* ---- reader: strings and bytes ------------------------------------------------- */

/* A view of `n` bytes (n >= 0) at the current position, or empty + failed. */
static kl_bytes_t rd_view(kl_reader_t *r, int64_t n)
{
    kl_bytes_t b = { (const uint8_t *)kl_wire_empty, 0 };
    if (n < 0 || n > INT32_MAX) {
        r->failed = true;
        return b;
    }
    const uint8_t *p = rd_take(r, (size_t)n);
    if (p != NULL) {
        b.ptr = p;
        b.len = (int32_t)n;
    }
    return b;
}

/* `n` is the decoded length; -1 means null. Anything else negative is malformed. */
static kl_bytes_t rd_len_view(kl_reader_t *r, int64_t n, bool nullable)
{
    kl_bytes_t null = { NULL, -1 };
    if (r->failed)
        return rd_view(r, -1);
    if (n == -1 && nullable)
        return null;
    return rd_view(r, n);
}

static kl_str_t kl_bytes_as_str(kl_bytes_t b)
{
    kl_str_t s = { (const char *)b.ptr, b.len };
    return s;
}

/* Compact forms (KIP-482) store length+1 as an unsigned varint, 0 meaning null. */
static int64_t rd_compact_len(kl_reader_t *r)
{
    return (int64_t)rd_uvarint(r) - 1;
}

kl_str_t rd_string(kl_reader_t *r)
{
    int64_t n = rd_i16(r);
    return kl_bytes_as_str(rd_len_view(r, n, false));
}

kl_str_t rd_nullable_string(kl_reader_t *r)
{
    int64_t n = rd_i16(r);
    return kl_bytes_as_str(rd_len_view(r, n, true));
}

kl_str_t rd_compact_string(kl_reader_t *r)
{
    int64_t n = rd_compact_len(r);
    return kl_bytes_as_str(rd_len_view(r, n, false));
}

kl_str_t rd_compact_nullable_string(kl_reader_t *r)
{
    int64_t n = rd_compact_len(r);
    return kl_bytes_as_str(rd_len_view(r, n, true));
}

kl_bytes_t rd_bytes(kl_reader_t *r)
{
    int64_t n = rd_i32(r);
    return rd_len_view(r, n, false);
}

kl_bytes_t rd_nullable_bytes(kl_reader_t *r)
{
    int64_t n = rd_i32(r);
    return rd_len_view(r, n, true);
}

kl_bytes_t rd_compact_bytes(kl_reader_t *r)
{
    int64_t n = rd_compact_len(r);
    return rd_len_view(r, n, false);
}

kl_bytes_t rd_compact_nullable_bytes(kl_reader_t *r)
{
    int64_t n = rd_compact_len(r);
    return rd_len_view(r, n, true);
}

/* ---- reader: arrays and tagged fields ------------------------------------------ */

/* Every element of every Kafka array takes at least one byte, so a count above the
 * bytes left is a lie: fail now, before a decoder loops or allocates for it. */
static int32_t rd_count(kl_reader_t *r, int64_t n)
{
    if (r->failed)
        return 0;
    if (n == -1)
        return -1;
    if (n < 0 || (uint64_t)n > rd_remaining(r)) {
        r->failed = true;
        return 0;
    }
    return (int32_t)n;
}

int32_t rd_array_len(kl_reader_t *r)
{
    int64_t n = rd_i32(r);
    return rd_count(r, n);
}

int32_t rd_array_len_required(kl_reader_t *r)
{
    int32_t n = rd_array_len(r);
    if (n < 0) {
        rd_fail(r);
        return 0;
    }
    return n;
}

int32_t rd_compact_array_len(kl_reader_t *r)
{
    int64_t n = rd_compact_len(r);
    return rd_count(r, n);
}

/* KIP-482: uvarint count, then per field uvarint tag, uvarint size, `size` bytes.
 * Klamm reads no tagged field of any request yet, so every tag is "unknown" and is
 * skipped, exactly as the KIP asks of a receiver that does not know a tag. */
void rd_tagged_fields(kl_reader_t *r)
{
    uint32_t count = rd_uvarint(r);
    if (count > rd_remaining(r) / 2) {      /* each field: >= 1 byte tag + 1 byte size */
        r->failed = true;
        return;
    }
    for (uint32_t i = 0; i < count && !r->failed; i++) {
        (void)rd_uvarint(r);                /* tag */
        uint32_t size = rd_uvarint(r);
        rd_skip(r, size);
    }
}

/* ---- reader: version-gated helpers --------------------------------------------- */

kl_str_t rd_str(kl_reader_t *r, bool flex)
{
    return flex ? rd_compact_string(r) : rd_string(r);
}

kl_str_t rd_nstr(kl_reader_t *r, bool flex)
{
    return flex ? rd_compact_nullable_string(r) : rd_nullable_string(r);
}

kl_bytes_t rd_nbytes(kl_reader_t *r, bool flex)
{
    return flex ? rd_compact_nullable_bytes(r) : rd_nullable_bytes(r);
}

int32_t rd_arr(kl_reader_t *r, bool flex)
{
    return flex ? rd_compact_array_len(r) : rd_array_len(r);
}

/* ---- writer: buffer ------------------------------------------------------------ */

void wr_init(kl_writer_t *w)
{
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    w->failed = false;
    w->splices = NULL;
    w->nsplices = w->splices_cap = 0;
    w->spliced = 0;
}

void wr_free(kl_writer_t *w)
{
    free(w->buf);
    free(w->splices);
    wr_init(w);
}

void wr_reset(kl_writer_t *w)
{
    w->len = 0;
    w->failed = false;
    w->nsplices = 0;
    w->spliced = 0;
}

void wr_truncate(kl_writer_t *w, size_t len)
{
    if (len > w->len)
        return;
    w->len = len;
    while (w->nsplices > 0 && w->splices[w->nsplices - 1].at >= len) {
        w->nsplices--;
        w->spliced -= w->splices[w->nsplices].len;
    }
}

bool wr_splice(kl_writer_t *w, int fd, int64_t offset, size_t len)
{
    if (w->failed)
        return false;
    if (w->nsplices == w->splices_cap) {
        size_t cap = w->splices_cap != 0 ? w->splices_cap * 2 : 8;
        kl_wr_splice_t *p = realloc(w->splices, cap * sizeof *p);
        if (p == NULL) {
            w->failed = true;
            return false;
        }
        w->splices = p;
        w->splices_cap = cap;
    }
    w->splices[w->nsplices++] = (kl_wr_splice_t){ w->len, fd, offset, len };
    w->spliced += len;
    return true;
}

/* Doubling growth: appending N bytes one at a time costs O(N) copies in total. */
static bool wr_grow(kl_writer_t *w, size_t need)
{
    size_t cap = w->cap != 0 ? w->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    uint8_t *p = realloc(w->buf, cap);
    if (p == NULL)
        return false;
    w->buf = p;
    w->cap = cap;
    return true;
}

uint8_t *wr_reserve(kl_writer_t *w, size_t n)
{
    if (w->failed)
        return NULL;
    if (n > SIZE_MAX - w->len)
        goto err;
    if (w->len + n > w->cap && !wr_grow(w, w->len + n))
        goto err;
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
err:
    w->failed = true;
    return NULL;
}

void wr_raw(kl_writer_t *w, const void *p, size_t n)
{
    uint8_t *dst = wr_reserve(w, n);
    if (dst != NULL && n > 0)
        memcpy(dst, p, n);
}

/* ---- writer: integers ---------------------------------------------------------- */

static void wr_be(kl_writer_t *w, uint64_t v, size_t n)
{
    uint8_t *p = wr_reserve(w, n);
    if (p == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void wr_i8(kl_writer_t *w, int8_t v) { wr_be(w, (uint8_t)v, 1); }
void wr_i16(kl_writer_t *w, int16_t v) { wr_be(w, (uint16_t)v, 2); }
void wr_i32(kl_writer_t *w, int32_t v) { wr_be(w, (uint32_t)v, 4); }
void wr_i64(kl_writer_t *w, int64_t v) { wr_be(w, (uint64_t)v, 8); }
void wr_u32(kl_writer_t *w, uint32_t v) { wr_be(w, v, 4); }

static void wr_uvar(kl_writer_t *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    wr_raw(w, tmp, n);
}

void wr_uvarint(kl_writer_t *w, uint32_t v) { wr_uvar(w, v); }

void wr_varint(kl_writer_t *w, int32_t v)
{
    uint32_t u = (uint32_t)v;
    wr_uvar(w, (u << 1) ^ (0u - (u >> 31)));        /* zig-zag */
}

void wr_varlong(kl_writer_t *w, int64_t v)
{
    uint64_t u = (uint64_t)v;
    wr_uvar(w, (u << 1) ^ (0u - (u >> 63)));        /* zig-zag */
}

/* ---- writer: strings, bytes, arrays -------------------------------------------- */

/* A non-nullable field handed NULL is written empty: the wire cannot say null there. */
static int32_t wr_len_of(const void *p, int32_t len)
{
    return (p == NULL || len < 0) ? -1 : len;
}

void wr_string(kl_writer_t *w, const char *s, int32_t len)
{
    int32_t n = wr_len_of(s, len);
    wr_nullable_string(w, n < 0 ? kl_wire_empty : s, n < 0 ? 0 : n);
}

void wr_nullable_string(kl_writer_t *w, const char *s, int32_t len)
{
    int32_t n = wr_len_of(s, len);
    if (n > INT16_MAX) {                    /* does not fit the int16 length */
        w->failed = true;
        return;
    }
    wr_i16(w, (int16_t)n);
    if (n > 0)
        wr_raw(w, s, (size_t)n);
}

void wr_compact_string(kl_writer_t *w, const char *s, int32_t len)
{
    int32_t n = wr_len_of(s, len);
    wr_compact_nullable_string(w, n < 0 ? kl_wire_empty : s, n < 0 ? 0 : n);
}

void wr_compact_nullable_string(kl_writer_t *w, const char *s, int32_t len)
{
    wr_compact_nullable_bytes(w, s, len);
}

void wr_bytes(kl_writer_t *w, const void *p, int32_t len)
{
    int32_t n = wr_len_of(p, len);
    wr_nullable_bytes(w, n < 0 ? kl_wire_empty : p, n < 0 ? 0 : n);
}

void wr_nullable_bytes(kl_writer_t *w, const void *p, int32_t len)
{
    int32_t n = wr_len_of(p, len);
    wr_i32(w, n);
    if (n > 0)
        wr_raw(w, p, (size_t)n);
}

void wr_compact_bytes(kl_writer_t *w, const void *p, int32_t len)
{
    int32_t n = wr_len_of(p, len);
    wr_compact_nullable_bytes(w, n < 0 ? kl_wire_empty : p, n < 0 ? 0 : n);
}

void wr_compact_nullable_bytes(kl_writer_t *w, const void *p, int32_t len)
{
    int32_t n = wr_len_of(p, len);
    wr_uvarint(w, n < 0 ? 0u : (uint32_t)n + 1u);   /* null -> 0 */
    if (n > 0)
        wr_raw(w, p, (size_t)n);
}

void wr_array_len(kl_writer_t *w, int32_t n)
{
    wr_i32(w, n < 0 ? -1 : n);
}

void wr_compact_array_len(kl_writer_t *w, int32_t n)
{
    wr_uvarint(w, n < 0 ? 0u : (uint32_t)n + 1u);
}

void wr_empty_tagged_fields(kl_writer_t *w)
{
    wr_uvarint(w, 0);
}

/* ---- writer: version-gated helpers --------------------------------------------- */

void wr_str(kl_writer_t *w, bool flex, const char *s, int32_t len)
{
    if (flex)
        wr_compact_string(w, s, len);
    else
        wr_string(w, s, len);
}

void wr_nstr(kl_writer_t *w, bool flex, const char *s, int32_t len)
{
    if (flex)
        wr_compact_nullable_string(w, s, len);
    else
        wr_nullable_string(w, s, len);
}

void wr_nbytes(kl_writer_t *w, bool flex, const void *p, int32_t len)
{
    if (flex)
        wr_compact_nullable_bytes(w, p, len);
    else
        wr_nullable_bytes(w, p, len);
}

void wr_arr(kl_writer_t *w, bool flex, int32_t n)
{
    if (flex)
        wr_compact_array_len(w, n);
    else
        wr_array_len(w, n);
}

void wr_cstr(kl_writer_t *w, bool flex, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n > INT32_MAX) {
        w->failed = true;
        return;
    }
    wr_str(w, flex, s, (int32_t)n);
}

/* ---- writer: placeholders ------------------------------------------------------ */

size_t wr_placeholder_i32(kl_writer_t *w)
{
    size_t at = w->len;
    wr_i32(w, 0);
    return at;
}

void wr_patch_i32(kl_writer_t *w, size_t at, int32_t v)
{
    uint32_t u = (uint32_t)v;
    if (w->failed || at > w->len || w->len - at < 4)
        return;
    for (size_t i = 0; i < 4; i++)
        w->buf[at + i] = (uint8_t)(u >> (8 * (3 - i)));
}

/* ---- helpers ------------------------------------------------------------------- */

bool kl_str_copy(kl_str_t s, char *dst, size_t cap)
{
    if (cap == 0)
        return false;
    dst[0] = '\0';
    if (s.ptr == NULL || s.len < 0 || (size_t)s.len >= cap)
        return false;
    memcpy(dst, s.ptr, (size_t)s.len);
    dst[s.len] = '\0';
    return true;
}

char *kl_str_dup(kl_str_t s)
{
    return s.ptr != NULL ? strndup(s.ptr, (size_t)s.len) : NULL;
}
