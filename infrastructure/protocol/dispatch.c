/*
 * infrastructure/protocol/dispatch.c — one request frame in, one response frame (or a
 * decision to stay silent, park or close) out.
 * Layer: infrastructure. May touch: protocol/api.h, protocol/wire.h, logging.
 *
 * The Kafka rules applied here, in order:
 *  - an API key the broker does not implement: Apache Kafka closes the connection
 *    (there is no response schema to answer with); so do we, after a log line;
 *  - a version outside the advertised range: for ApiVersions, answer the v0-layout
 *    UNSUPPORTED_VERSION response so the client can retry with a version we know
 *    (KIP-511); for any other API the client ignored our ApiVersions answer: close;
 *  - response header v1 (KIP-482: correlation id + tagged fields) for flexible
 *    versions, v0 (correlation id only) otherwise — and always v0 for ApiVersions,
 *    whose response must be readable before the client knows our versions (KIP-511).
 */
#include "infrastructure/protocol/api.h"

#define KL_DISPATCH_LOG "protocol"

/* "%.*s"-ready client id: the null client id prints as "-". */
static int dispatch_id_len(kl_str_t s) { return s.ptr != NULL && s.len > 0 ? s.len : 1; }
static const char *dispatch_id_ptr(kl_str_t s) { return s.ptr != NULL && s.len > 0 ? s.ptr : "-"; }

/* Response header: int32 size (patched in dispatch_finish), int32 correlation id,
 * then tagged fields when the header is v1. Returns where the size goes. */
static size_t dispatch_begin(kl_writer_t *out, int32_t correlation_id, bool header_v1)
{
    size_t size_at = wr_placeholder_i32(out);
    wr_i32(out, correlation_id);
    if (header_v1)
        wr_empty_tagged_fields(out);
    return size_at;
}

/* Patch the size prefix: the bytes after it, file ranges spliced in by Fetch included
 * (wr_total). Out of memory is logged and closes. */
static kl_reply_t dispatch_finish(const kl_request_t *req, kl_writer_t *out, size_t size_at)
{
    size_t n = wr_total(out) - size_at - 4;
    if (!wr_ok(out) || n > INT32_MAX) {
        KL_LOG_ERR(req->log, KL_DISPATCH_LOG,
                   "cannot build response to api %d v%d (correlation id %d): out of memory",
                   req->header.api_key, req->header.api_version, req->header.correlation_id);
        wr_reset(out);
        return KL_REPLY_CLOSE;
    }
    wr_patch_i32(out, size_at, (int32_t)n);
    return KL_REPLY_SEND;
}

/* KIP-511: ApiVersions at a version we do not know gets a v0 answer listing ours. */
static kl_reply_t dispatch_unsupported_api_versions(kl_request_t *req, kl_writer_t *out)
{
    KL_LOG_DBG(req->log, KL_DISPATCH_LOG,
               "ApiVersions v%d unsupported (correlation id %d, client %.*s): v0 answer",
               req->header.api_version, req->header.correlation_id,
               dispatch_id_len(req->header.client_id), dispatch_id_ptr(req->header.client_id));
    size_t size_at = dispatch_begin(out, req->header.correlation_id, false);
    api_versions_write_unsupported(out);
    return dispatch_finish(req, out, size_at);
}

/* Header decoded, API known: check the version; Kafka refuses versions it never
 * advertised by closing the connection (except ApiVersions, above). */
static bool dispatch_version_ok(const kl_api_t *api, int16_t version)
{
    return version >= api->min_version && version <= api->max_version;
}

bool protocol_response_header_flexible(const kl_api_t *api, int16_t version)
{
    return version >= api->flexible_from && api->key != KL_API_API_VERSIONS;
}

static kl_reply_t dispatch_call(kl_request_t *req, const kl_api_t *api, const kl_reader_t *r,
                                kl_writer_t *out)
{
    req->flexible = req->header.api_version >= api->flexible_from;
    bool header_v1 = protocol_response_header_flexible(api, req->header.api_version);
    size_t size_at = dispatch_begin(out, req->header.correlation_id, header_v1);

    kl_reader_t body;
    rd_init(&body, r->buf + r->pos, r->len - r->pos);
    kl_reply_t reply = api->handler(req, &body, out);
    if (reply == KL_REPLY_SEND && !rd_ok(&body))
        reply = KL_REPLY_CLOSE;             /* a handler that forgot rd_ok(): never answer garbage */
    if (reply == KL_REPLY_CLOSE)
        KL_LOG_WARNING(req->log, KL_DISPATCH_LOG,
                       "closing connection: %s %s v%d request (correlation id %d, client %.*s)",
                       rd_ok(&body) ? "refused" : "malformed", api->name,
                       req->header.api_version, req->header.correlation_id,
                       dispatch_id_len(req->header.client_id),
                       dispatch_id_ptr(req->header.client_id));
    if (reply != KL_REPLY_SEND) {
        wr_reset(out);
        return reply;
    }
    return dispatch_finish(req, out, size_at);
}

kl_reply_t protocol_dispatch(kl_request_t *req, uint8_t *frame, size_t len, kl_writer_t *out)
{
    kl_reader_t r;
    const kl_api_t *api = NULL;

    wr_reset(out);
    req->flexible = false;
    rd_init(&r, frame, len);
    if (!request_header_decode(&r, &req->header, &api)) {
        KL_LOG_WARNING(req->log, KL_DISPATCH_LOG,
                       "closing connection: malformed request header (%zu bytes)", len);
        return KL_REPLY_CLOSE;
    }
    if (api == NULL) {
        KL_LOG_WARNING(req->log, KL_DISPATCH_LOG,
                       "closing connection: unknown api key %d v%d (correlation id %d, client %.*s)",
                       req->header.api_key, req->header.api_version, req->header.correlation_id,
                       dispatch_id_len(req->header.client_id),
                       dispatch_id_ptr(req->header.client_id));
        return KL_REPLY_CLOSE;
    }
    if (!dispatch_version_ok(api, req->header.api_version)) {
        if (api->key == KL_API_API_VERSIONS)
            return dispatch_unsupported_api_versions(req, out);
        KL_LOG_WARNING(req->log, KL_DISPATCH_LOG,
                       "closing connection: %s v%d not supported (v%d..v%d; correlation id %d, client %.*s)",
                       api->name, req->header.api_version, api->min_version, api->max_version,
                       req->header.correlation_id, dispatch_id_len(req->header.client_id),
                       dispatch_id_ptr(req->header.client_id));
        return KL_REPLY_CLOSE;
    }
    return dispatch_call(req, api, &r, out);
}
