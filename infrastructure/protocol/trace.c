/*
 * infrastructure/protocol/trace.c — the protocol x-ray: a schema_walk visitor that
 * prints each field of a request or response by name, with the frame's header line.
 * Layer: infrastructure. May touch: <stdio.h>, protocol/schema.h, protocol/api.h (the
 * request header decoder), protocol/wire.h, domain/record_batch.h, domain/error.h.
 *
 * Layout (see trace.h): the header line unindented; a field at depth d is indented
 * 2 + 4*d spaces; an element of an array of structs opens with "- " two columns to
 * the left of its first field, so nested arrays read like YAML. The printer keeps a
 * little state on the stack (an element just opened, a primitive array's line still
 * open); nothing is global. Output errors are ignored: tracing must never disturb the
 * broker, and stderr has nowhere to report them.
 */
#include "infrastructure/protocol/trace.h"

#include <inttypes.h>
#include <string.h>

#include "domain/error.h"
#include "domain/record_batch.h"
#include "infrastructure/protocol/api.h"
#include "infrastructure/protocol/schema.h"
#include "infrastructure/protocol/wire.h"

#define TRACE_HEX_PREVIEW 16        /* bytes shown of a bytes field */
#define TRACE_STRING_MAX 200        /* characters shown of a string */
#define TRACE_INLINE_MAX 32         /* elements shown of an array of numbers or strings */

typedef struct trace_printer {
    FILE *out;
    bool dash;                      /* an array element just opened: its first line gets "- " */
    bool inline_open;               /* a primitive array's "[a, b" line awaits its "]" */
    int32_t inline_count;           /* that array's element count */
    size_t lines;                   /* field lines printed so far */
} trace_printer_t;

/* ---- small printers ----------------------------------------------------------------- */

static void trace_indent(trace_printer_t *p, int depth)
{
    int n = 2 + 4 * depth;
    p->lines++;
    if (p->dash) {
        fprintf(p->out, "%*s- ", n - 2, "");
        p->dash = false;
        return;
    }
    fprintf(p->out, "%*s", n, "");
}

static void trace_hex(FILE *out, const uint8_t *b, size_t len)
{
    size_t n = len < TRACE_HEX_PREVIEW ? len : TRACE_HEX_PREVIEW;
    fputs(" [", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, i == 0 ? "%02x" : " %02x", b[i]);
    fputs(len > n ? " ...]" : "]", out);
}

/* "N bytes [00 01 ...]", or "null". */
static void trace_bytes(FILE *out, kl_bytes_t b)
{
    if (b.len < 0 || b.ptr == NULL) {
        fputs(b.len < 0 ? "null" : "0 bytes", out);
        return;
    }
    fprintf(out, "%" PRId32 " bytes", b.len);
    if (b.len > 0)
        trace_hex(out, b.ptr, (size_t)b.len);
}

/* A quoted string: printable ASCII as is, \" \\ and \xNN for the rest, capped. */
static void trace_string(FILE *out, kl_str_t s)
{
    if (s.len < 0 || s.ptr == NULL) {
        fputs(s.len < 0 ? "null" : "\"\"", out);
        return;
    }
    int32_t n = s.len < TRACE_STRING_MAX ? s.len : TRACE_STRING_MAX;
    fputc('"', out);
    for (int32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c > 0x7e)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
    if (s.len > n)
        fprintf(out, "...(%" PRId32 " characters)", s.len);
}

static const char *trace_codec_name(int codec)
{
    static const char *const names[] = { "none", "gzip", "snappy", "lz4", "zstd" };
    return codec >= 0 && codec < 5 ? names[codec] : "unknown";
}

/* One line per record batch inside a records field, at `depth` + 1. */
static void trace_batches(trace_printer_t *p, kl_bytes_t b, int depth)
{
    size_t pos = 0;
    size_t len = (size_t)b.len;
    while (pos < len) {
        kl_batch_header_t h;
        kl_err_t err = batch_header_parse(b.ptr + pos, len - pos, &h);
        fprintf(p->out, "%*s- ", 2 + 4 * depth + 2, "");
        if (err != KL_OK) {
            if (err == KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT)
                fprintf(p->out, "<not a v2 batch: magic %d, %zu bytes>\n",
                        (int8_t)b.ptr[pos + 16], len - pos);
            else
                fprintf(p->out, "<partial batch: %zu bytes>\n", len - pos);
            return;
        }
        fprintf(p->out, "batch base_offset=%" PRId64 " records=%" PRId32 " codec=%s size=%zu%s%s\n",
                h.base_offset, h.records_count, trace_codec_name(batch_compression(&h)),
                batch_total_size(&h), batch_is_transactional(&h) ? " transactional" : "",
                batch_is_control(&h) ? " control" : "");
        pos += batch_total_size(&h);
    }
}

/* The value of a VALUE event (no newline). */
static void trace_value(trace_printer_t *p, const schema_event_t *ev)
{
    FILE *out = p->out;
    switch (ev->type) {
    case SCHEMA_BOOL: fputs(ev->i != 0 ? "true" : "false", out); break;
    case SCHEMA_STRING: trace_string(out, ev->str); break;
    case SCHEMA_BYTES: trace_bytes(out, ev->bytes); break;
    case SCHEMA_RECORDS:
        if (ev->is_null)
            fputs("null", out);
        else
            fprintf(out, "%" PRId32 " bytes", ev->bytes.len);
        break;
    case SCHEMA_UUID:
        for (int32_t i = 0; i < ev->bytes.len; i++)
            fprintf(out, "%02x", ev->bytes.ptr[i]);
        break;
    default:
        fprintf(out, "%" PRId64, ev->i);
        if (ev->index < 0 && strcmp(ev->field->name, "error_code") == 0)
            fprintf(out, " (%s)", kl_err_name((kl_err_t)ev->i));
        break;
    }
}

/* ---- the visitor ----------------------------------------------------------------------- */

static void trace_on_value(trace_printer_t *p, const schema_event_t *ev)
{
    if (ev->index >= 0) {                   /* an element of a primitive array, inline */
        if (ev->index < TRACE_INLINE_MAX) {
            fputs(ev->index == 0 ? "" : ", ", p->out);
            trace_value(p, ev);
        }
        return;
    }
    trace_indent(p, ev->depth);
    fprintf(p->out, "%s: ", ev->field->name);
    trace_value(p, ev);
    fputc('\n', p->out);
    if (ev->type == SCHEMA_RECORDS && !ev->is_null)
        trace_batches(p, ev->bytes, ev->depth);
}

static void trace_on_array_begin(trace_printer_t *p, const schema_event_t *ev)
{
    trace_indent(p, ev->depth);
    fprintf(p->out, "%s: ", ev->field->name);
    if (ev->is_null || ev->count == 0) {
        fputs(ev->is_null ? "null\n" : "[]\n", p->out);
        return;
    }
    if (ev->field->elem == SCHEMA_STRUCT) {
        fprintf(p->out, "[%" PRId32 "]\n", ev->count);
        return;
    }
    fputc('[', p->out);
    p->inline_open = true;
    p->inline_count = ev->count;
}

static void trace_on_array_end(trace_printer_t *p)
{
    if (!p->inline_open)
        return;
    if (p->inline_count > TRACE_INLINE_MAX)
        fprintf(p->out, ", ... (%" PRId32 " in all)", p->inline_count);
    fputs("]\n", p->out);
    p->inline_open = false;
}

static void trace_on_truncated(trace_printer_t *p, const schema_event_t *ev)
{
    if (p->inline_open) {
        fputs(" <truncated>\n", p->out);
        p->inline_open = false;
        return;
    }
    trace_indent(p, ev->depth);
    if (ev->field != NULL)
        fprintf(p->out, "%s: ", ev->field->name);
    fputs(ev->is_null ? "null <truncated: not nullable in this version>\n" : "<truncated>\n",
          p->out);
}

static void trace_visit(void *arg, const schema_event_t *ev)
{
    trace_printer_t *p = arg;
    switch (ev->kind) {
    case SCHEMA_EV_VALUE: trace_on_value(p, ev); break;
    case SCHEMA_EV_ARRAY_BEGIN: trace_on_array_begin(p, ev); break;
    case SCHEMA_EV_ARRAY_END: trace_on_array_end(p); break;
    case SCHEMA_EV_ELEMENT: p->dash = true; break;
    case SCHEMA_EV_ELEMENT_END:
        if (p->dash) {                      /* an element with no fields at this version */
            trace_indent(p, ev->depth + 1);
            fputs("{}\n", p->out);
        }
        break;
    case SCHEMA_EV_UNKNOWN_TAG:
        trace_indent(p, ev->depth);
        fprintf(p->out, "tag %" PRIu32 ": ", ev->tag);
        trace_bytes(p->out, ev->bytes);
        fputc('\n', p->out);
        break;
    case SCHEMA_EV_TRUNCATED: trace_on_truncated(p, ev); break;
    }
}

/* ---- bodies ------------------------------------------------------------------------------ */

/* The rest of `r` printed as an opaque body with a reason. */
static void trace_opaque(FILE *out, kl_reader_t *r, const char *why)
{
    kl_bytes_t rest = { r->buf + r->pos, (int32_t)rd_remaining(r) };
    fprintf(out, "  <%s; body ", why);
    trace_bytes(out, rest);
    fputs(">\n", out);
}

/* Walk the body with `fields` and report what the schema did not account for. */
static void trace_body(FILE *out, const schema_field_t *fields, int16_t version, bool flex,
                       kl_reader_t *r)
{
    trace_printer_t p = { out, false, false, 0, 0 };
    if (!schema_walk(fields, version, flex, r, trace_visit, &p))
        return;
    size_t left = rd_remaining(r);
    if (left == 0) {
        if (p.lines == 0)
            fputs("  (no fields in this version)\n", out);
        return;
    }
    fprintf(out, "  <%zu trailing bytes not in the schema", left);
    trace_hex(out, r->buf + r->pos, left);
    fputs(">\n", out);
}

static void trace_api_name(FILE *out, const schema_api_t *api, int16_t key, int16_t version)
{
    if (api != NULL)
        fprintf(out, "%s v%d", api->name, version);
    else
        fprintf(out, "api_key=%d v%d", key, version);
}

/* Why there is no schema for this request or response, or NULL when there is. */
static const char *trace_no_schema(const schema_api_t *api, int16_t version, char *buf,
                                   size_t cap)
{
    if (api == NULL)
        return "no schema: Klamm does not implement this API";
    if (schema_version_known(api, version))
        return NULL;
    snprintf(buf, cap, "no schema: Klamm implements %s v%d..v%d", api->name,
             api->min_version, api->max_version);
    return buf;
}

/* ---- the two entry points --------------------------------------------------------------- */

void trace_request(FILE *out, uint64_t conn_id, const uint8_t *frame, size_t len)
{
    kl_reader_t r;
    kl_request_header_t h;
    char why[96];
    if (out == NULL)
        return;
    rd_init(&r, frame, len);
    fprintf(out, "[conn %" PRIu64 "] request ", conn_id);
    if (!request_header_decode(&r, &h, NULL)) {
        rd_init(&r, frame, len);
        fputs("<truncated header>\n", out);
        trace_opaque(out, &r, "header");
        return;
    }
    const schema_api_t *api = schema_find(h.api_key);
    trace_api_name(out, api, h.api_key, h.api_version);
    fprintf(out, " correlation_id=%" PRId32 " client_id=", h.correlation_id);
    trace_string(out, h.client_id);
    fprintf(out, " (%zu bytes)\n", len);
    const char *no = trace_no_schema(api, h.api_version, why, sizeof why);
    if (no != NULL) {
        trace_opaque(out, &r, no);
        return;
    }
    trace_body(out, api->request, h.api_version, h.api_version >= api->flexible_from, &r);
}

/* KIP-511: Kafka answers an ApiVersions version it does not know in the v0 layout with
 * UNSUPPORTED_VERSION, and clients read such an answer as v0 whatever they asked. */
static bool trace_api_versions_v0_layout(const schema_api_t *api, int16_t version,
                                         const kl_reader_t *r)
{
    if (api == NULL || api->key != KL_API_API_VERSIONS)
        return false;
    if (!schema_version_known(api, version))
        return true;
    return rd_remaining(r) >= 2 &&
           kl_be16_read(r->buf + r->pos) == (int16_t)KL_ERR_UNSUPPORTED_VERSION;
}

void trace_response(FILE *out, uint64_t conn_id, int16_t api_key, int16_t api_version,
                    const uint8_t *frame, size_t len)
{
    kl_reader_t r;
    char why[96];
    if (out == NULL)
        return;
    rd_init(&r, frame, len);
    const schema_api_t *api = schema_find(api_key);
    bool flex = api != NULL && api_version >= api->flexible_from;
    int32_t correlation_id = rd_i32(&r);
    if (flex && api_key != KL_API_API_VERSIONS)
        rd_tagged_fields(&r);               /* response header v1 (KIP-482) */
    fprintf(out, "[conn %" PRIu64 "] response ", conn_id);
    trace_api_name(out, api, api_key, api_version);
    if (!rd_ok(&r)) {
        fprintf(out, " <truncated header> (%zu bytes)\n", len);
        return;
    }
    fprintf(out, " correlation_id=%" PRId32 " (%zu bytes)\n", correlation_id, len);
    if (trace_api_versions_v0_layout(api, api_version, &r)) {
        fputs("  (read as v0: the UNSUPPORTED_VERSION answer, KIP-511)\n", out);
        trace_body(out, api->response, 0, false, &r);
        return;
    }
    const char *no = trace_no_schema(api, api_version, why, sizeof why);
    if (no != NULL) {
        trace_opaque(out, &r, no);
        return;
    }
    trace_body(out, api->response, api_version, flex, &r);
}
