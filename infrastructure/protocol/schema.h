/*
 * infrastructure/protocol/schema.h — Kafka message schemas as data, and a generic
 * interpreter that walks a request or response body field by field.
 * Layer: infrastructure. May touch: protocol/wire.h (the bounds-checked readers).
 *
 * Every API Klamm implements has one static const row: its key, name, the version
 * range api_table.c advertises, its first flexible version, and two field lists (the
 * request and the response body) transcribed from Apache Kafka's message specs
 * (clients/src/main/resources/common/message/<Api>Request.json / Response.json). A
 * field carries the version gate of the spec ("versions": "1-4" → 1..4, "3+" →
 * 3..SCHEMA_V_MAX), the first version in which it may be null ("nullableVersions"),
 * its tag when it lives in the KIP-482 tagged-field section, and its nested fields
 * for arrays of structs.
 *
 * The interpreter (schema_walk) reads a body with the wire.h readers and reports
 * every field to a visitor callback as an event. It never allocates and never
 * trusts a length: the first failed read ends the walk with a SCHEMA_EV_TRUNCATED
 * event. It knows nothing about printing — trace.c is one visitor, the tests'
 * "did the schema consume the whole frame" check is another.
 */
#ifndef KL_INFRA_PROTOCOL_SCHEMA_H
#define KL_INFRA_PROTOCOL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infrastructure/protocol/wire.h"

#define SCHEMA_V_MAX INT16_MAX          /* "N+" in the specs: no upper version bound */
#define SCHEMA_NEVER INT16_MAX          /* nullable_from of a field that is never null */
#define SCHEMA_UNTAGGED (-1)            /* tag of a field in the ordinary field sequence */

typedef enum schema_type {
    SCHEMA_BOOL, SCHEMA_INT8, SCHEMA_INT16, SCHEMA_INT32, SCHEMA_INT64, SCHEMA_UUID,
    SCHEMA_STRING,          /* nullable from `nullable_from` */
    SCHEMA_BYTES,           /* nullable from `nullable_from` */
    SCHEMA_RECORDS,         /* bytes holding record batches; always nullable */
    SCHEMA_ARRAY,           /* of `elem`: a primitive, or SCHEMA_STRUCT (then of `fields`) */
    SCHEMA_STRUCT,          /* only as an array's `elem` */
} schema_type_t;

typedef struct schema_field {
    const char *name;                   /* the protocol guide's snake_case name; NULL ends a list */
    uint8_t type;                       /* schema_type_t */
    uint8_t elem;                       /* element type of an array */
    int16_t min_version;
    int16_t max_version;
    int16_t nullable_from;
    int16_t tag;                        /* SCHEMA_UNTAGGED, or the KIP-482 tag */
    const struct schema_field *fields;  /* the element's fields, for arrays of structs */
} schema_field_t;

typedef struct schema_api {
    int16_t key;
    const char *name;
    int16_t min_version;                /* the range api_table.c advertises */
    int16_t max_version;
    int16_t flexible_from;              /* first flexible version; SCHEMA_V_MAX if none */
    const schema_field_t *request;
    const schema_field_t *response;
} schema_api_t;

/* The schema of API `key`, or NULL when Klamm does not implement it. */
const schema_api_t *schema_find(int16_t key);

/* All rows (for tests that cross-check them against api_table.c). */
const schema_api_t *schema_all(size_t *count);

/* Whether `version` of `api` is in the range the schema covers. */
bool schema_version_known(const schema_api_t *api, int16_t version);

/* What the interpreter reports. Depth 0 is a top-level field; the fields of an array
 * element are one deeper than the array. */
typedef enum schema_event_kind {
    SCHEMA_EV_VALUE,        /* a scalar, string, bytes or records field; or one element of a
                               primitive array (then `index` >= 0) */
    SCHEMA_EV_ARRAY_BEGIN,  /* `count` elements follow (-1: the array is null) */
    SCHEMA_EV_ARRAY_END,
    SCHEMA_EV_ELEMENT,      /* element `index` of a struct array begins */
    SCHEMA_EV_ELEMENT_END,
    SCHEMA_EV_UNKNOWN_TAG,  /* a tagged field the schema does not name: `tag`, raw `bytes` */
    SCHEMA_EV_TRUNCATED,    /* a read failed (past the end, bad varint, bad length); with
                               is_null: an array was null where this version forbids it */
} schema_event_kind_t;

typedef struct schema_event {
    schema_event_kind_t kind;
    const schema_field_t *field;        /* NULL for UNKNOWN_TAG and a top-level TRUNCATED */
    int depth;
    schema_type_t type;                 /* of the value (the element type in a primitive array) */
    bool is_null;
    int64_t i;                          /* bool and integer values */
    kl_str_t str;                       /* string values */
    kl_bytes_t bytes;                   /* bytes, records, uuid (16 bytes), unknown tag data */
    int32_t count;                      /* ARRAY_BEGIN */
    int32_t index;                      /* element index; -1 when not an element */
    uint32_t tag;                       /* UNKNOWN_TAG */
} schema_event_t;

typedef void (*schema_visit_fn)(void *arg, const schema_event_t *ev);

/* Walk `fields` for `version` (flexible: compact encodings and tagged-field sections,
 * KIP-482) from the reader's position, calling `visit` (may be NULL) for each event.
 * Returns rd_ok(r): false when a read failed (a TRUNCATED event was reported, the walk
 * stopped there). The caller checks rd_remaining(r) for bytes the schema left over. */
bool schema_walk(const schema_field_t *fields, int16_t version, bool flexible,
                 kl_reader_t *r, schema_visit_fn visit, void *arg);

#endif
