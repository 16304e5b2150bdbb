/*
 * infrastructure/protocol/wire.h — readers and writers for the Kafka protocol's
 * primitive types, classic and compact (KIP-482 flexible versions).
 * Layer: infrastructure. May touch: <stdint.h>, <stdlib.h>, <string.h>.
 *
 * The reader is "sticky": the first read past the end (or a malformed varint, or a
 * negative length that is not the null marker) sets `failed`, and every later read
 * returns zero/empty. A decoder reads all its fields and checks rd_ok() once — no
 * bounds check can be forgotten, because the primitives do them all.
 *
 * Strings and byte arrays are returned as views into the frame (no copy).
 */
#ifndef KL_INFRA_PROTOCOL_WIRE_H
#define KL_INFRA_PROTOCOL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of a string or bytes inside a frame. len == -1 means null. */
typedef struct kl_str {
    const char *ptr;
    int32_t len;
} kl_str_t;

typedef struct kl_bytes {
    const uint8_t *ptr;
    int32_t len;
} kl_bytes_t;

typedef struct kl_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    bool failed;
} kl_reader_t;

void rd_init(kl_reader_t *r, const uint8_t *buf, size_t len);
static inline bool rd_ok(const kl_reader_t *r) { return !r->failed; }
static inline size_t rd_remaining(const kl_reader_t *r) { return r->failed ? 0 : r->len - r->pos; }
void rd_fail(kl_reader_t *r);

int8_t rd_i8(kl_reader_t *r);
int16_t rd_i16(kl_reader_t *r);
int32_t rd_i32(kl_reader_t *r);
int64_t rd_i64(kl_reader_t *r);
uint32_t rd_u32(kl_reader_t *r);
uint32_t rd_uvarint(kl_reader_t *r);       /* at most 5 bytes */
int32_t rd_varint(kl_reader_t *r);         /* zig-zag */
int64_t rd_varlong(kl_reader_t *r);        /* zig-zag, at most 10 bytes */
uint64_t rd_uvarlong(kl_reader_t *r);
void rd_skip(kl_reader_t *r, size_t n);

kl_str_t rd_string(kl_reader_t *r);                 /* int16 length; null is an error */
kl_str_t rd_nullable_string(kl_reader_t *r);        /* int16 length, -1 = null */
kl_str_t rd_compact_string(kl_reader_t *r);         /* uvarint length+1; null is an error */
kl_str_t rd_compact_nullable_string(kl_reader_t *r);/* uvarint length+1, 0 = null */
kl_bytes_t rd_bytes(kl_reader_t *r);                /* int32 length */
kl_bytes_t rd_nullable_bytes(kl_reader_t *r);       /* int32 length, -1 = null */
kl_bytes_t rd_compact_bytes(kl_reader_t *r);
kl_bytes_t rd_compact_nullable_bytes(kl_reader_t *r);

/* Array element counts. Returns -1 for a null array. A count larger than the bytes
 * left (every element takes at least one byte) fails the reader: a hostile count of
 * 2^31-1 can never make a decoder allocate or loop for it. */
int32_t rd_array_len(kl_reader_t *r);               /* int32 */
int32_t rd_compact_array_len(kl_reader_t *r);       /* uvarint N+1, 0 = null */
/* A non-nullable int32-counted array (most of them): null fails the reader, as Kafka's
 * generated parsers refuse a "non-nullable field serialized as null". Returns >= 0. */
int32_t rd_array_len_required(kl_reader_t *r);

/* KIP-482 tagged fields: uvarint count, then {uvarint tag, uvarint size, bytes}. Unknown
 * tags are skipped, as the KIP requires. */
void rd_tagged_fields(kl_reader_t *r);

/* Version-gated helpers: `flex` = this API version is flexible (compact encodings). */
kl_str_t rd_str(kl_reader_t *r, bool flex);
kl_str_t rd_nstr(kl_reader_t *r, bool flex);
kl_bytes_t rd_nbytes(kl_reader_t *r, bool flex);
int32_t rd_arr(kl_reader_t *r, bool flex);
static inline void rd_tags(kl_reader_t *r, bool flex) { if (flex) rd_tagged_fields(r); }

/* A byte range of an open file that belongs in the output after the first `at` bytes of
 * buf: the bytes are not copied here, the sender passes them to the socket straight from
 * the file (sendfile(2), zero-copy Fetch — Kafka's FileRecords.writeTo does the same).
 * The fd is borrowed: valid only until the handler that spliced it returns (the
 * connection's queue takes its own duplicate, net/connection.c). */
typedef struct kl_wr_splice {
    size_t at;                 /* memory bytes of the output that precede the range */
    int fd;
    int64_t offset;            /* in the file */
    size_t len;
} kl_wr_splice_t;

/* Growable output buffer. Allocation failure sets `failed`; later writes are dropped.
 * The output is buf[0, len) with the splices' file ranges inserted at their `at`, in
 * order: wr_total() bytes in all. Without splices it is just buf[0, len). */
typedef struct kl_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    bool failed;
    kl_wr_splice_t *splices;   /* in output order (non-decreasing `at`) */
    size_t nsplices, splices_cap;
    size_t spliced;            /* sum of the splices' len */
} kl_writer_t;

void wr_init(kl_writer_t *w);
void wr_free(kl_writer_t *w);
void wr_reset(kl_writer_t *w);                      /* len = 0, no splices, keeps the buffer */
/* Back to `len` memory bytes: also drops every splice at or after `len` (the ranges
 * spliced since the writer was that long). No effect when len > w->len. */
void wr_truncate(kl_writer_t *w, size_t len);
/* Append `len` bytes of file `fd` from `offset`, by reference (see kl_wr_splice_t).
 * false (and the writer failed) on out of memory. */
bool wr_splice(kl_writer_t *w, int fd, int64_t offset, size_t len);
static inline size_t wr_total(const kl_writer_t *w) { return w->len + w->spliced; }
static inline bool wr_ok(const kl_writer_t *w) { return !w->failed; }
uint8_t *wr_reserve(kl_writer_t *w, size_t n);      /* n bytes appended, to be filled; NULL on OOM */

void wr_i8(kl_writer_t *w, int8_t v);
void wr_i16(kl_writer_t *w, int16_t v);
void wr_i32(kl_writer_t *w, int32_t v);
void wr_i64(kl_writer_t *w, int64_t v);
void wr_u32(kl_writer_t *w, uint32_t v);
void wr_uvarint(kl_writer_t *w, uint32_t v);
void wr_varint(kl_writer_t *w, int32_t v);
void wr_varlong(kl_writer_t *w, int64_t v);
void wr_raw(kl_writer_t *w, const void *p, size_t n);

void wr_string(kl_writer_t *w, const char *s, int32_t len);            /* int16 length */
void wr_nullable_string(kl_writer_t *w, const char *s, int32_t len);   /* s NULL or len<0 = null */
void wr_compact_string(kl_writer_t *w, const char *s, int32_t len);
void wr_compact_nullable_string(kl_writer_t *w, const char *s, int32_t len);
void wr_bytes(kl_writer_t *w, const void *p, int32_t len);
void wr_nullable_bytes(kl_writer_t *w, const void *p, int32_t len);
void wr_compact_bytes(kl_writer_t *w, const void *p, int32_t len);
void wr_compact_nullable_bytes(kl_writer_t *w, const void *p, int32_t len);
void wr_array_len(kl_writer_t *w, int32_t n);                          /* -1 = null */
void wr_compact_array_len(kl_writer_t *w, int32_t n);                  /* -1 = null */
void wr_empty_tagged_fields(kl_writer_t *w);                           /* a single 0 */

/* Version-gated helpers, mirroring the readers. */
void wr_str(kl_writer_t *w, bool flex, const char *s, int32_t len);
void wr_nstr(kl_writer_t *w, bool flex, const char *s, int32_t len);
void wr_nbytes(kl_writer_t *w, bool flex, const void *p, int32_t len);
void wr_arr(kl_writer_t *w, bool flex, int32_t n);
static inline void wr_tags(kl_writer_t *w, bool flex) { if (flex) wr_empty_tagged_fields(w); }
/* NUL-terminated convenience. */
void wr_cstr(kl_writer_t *w, bool flex, const char *s);

/* Fixed-width placeholders patched later (frame size, record-set size). */
size_t wr_placeholder_i32(kl_writer_t *w);
void wr_patch_i32(kl_writer_t *w, size_t at, int32_t v);

/* Copy a kl_str_t into a NUL-terminated buffer. false (and "" in dst) when null or it
 * does not fit in `cap` bytes including the NUL. */
bool kl_str_copy(kl_str_t s, char *dst, size_t cap);

/* A malloc'd NUL-terminated copy of `s` for code that keeps or passes on a C string (the
 * group coordinator's ids); the caller frees it. NULL for the null string, and when out of
 * memory: a caller that may see a null string tells the two apart by s.ptr. Like
 * strndup(3), the copy stops at an embedded NUL. */
char *kl_str_dup(kl_str_t s);

#endif
