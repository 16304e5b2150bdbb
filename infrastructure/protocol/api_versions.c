/*
 * infrastructure/protocol/api_versions.c — ApiVersions (key 18) v0..v3: the first
 * request of every client, answering which API versions this broker implements.
 * Layer: infrastructure. May touch: protocol/api.h, protocol/wire.h, domain/error.h.
 *
 * Request: v0-v2 have an empty body; v3 (flexible, KIP-482) carries
 * client_software_name and client_software_version (compact strings, KIP-511) and a
 * tagged-field section. Response: error_code, api_keys [{api_key, min_version,
 * max_version}], throttle_time_ms (v1+); in v3 the array is compact and every entry and
 * the body end with tagged fields. The list is the API table, so what is advertised is
 * exactly what dispatch accepts. The response header is always v0 (dispatch's job,
 * KIP-511): a client must be able to read it before it knows our versions.
 */
#include "infrastructure/protocol/api.h"

#include "domain/error.h"

/* KIP-511: client software name and version must match
 * [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? — otherwise the broker answers
 * INVALID_REQUEST, as Apache Kafka does. */
static bool api_versions_is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool api_versions_valid_software_id(kl_str_t s)
{
    if (s.len <= 0)
        return false;
    if (!api_versions_is_alnum(s.ptr[0]) || !api_versions_is_alnum(s.ptr[s.len - 1]))
        return false;
    for (int32_t i = 1; i < s.len - 1; i++)
        if (!api_versions_is_alnum(s.ptr[i]) && s.ptr[i] != '-' && s.ptr[i] != '.')
            return false;
    return true;
}

/* One api_keys entry per table row. */
static void api_versions_write_keys(kl_writer_t *out, bool flex)
{
    size_t n = 0;
    const kl_api_t *apis = api_table_all(&n);
    wr_arr(out, flex, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        wr_i16(out, apis[i].key);
        wr_i16(out, apis[i].min_version);
        wr_i16(out, apis[i].max_version);
        wr_tags(out, flex);
    }
}

static void api_versions_write_body(kl_writer_t *out, int16_t version, bool flex,
                                    kl_err_t err)
{
    wr_i16(out, (int16_t)err);
    if (err == KL_OK)
        api_versions_write_keys(out, flex);
    else
        wr_arr(out, flex, 0);
    if (version >= 1)
        wr_i32(out, 0);                         /* throttle_time_ms: never throttled */
    wr_tags(out, flex);                         /* v3: no SupportedFeatures etc. */
}

kl_reply_t api_versions_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t version = req->header.api_version;
    kl_err_t err = KL_OK;
    if (version >= 3) {
        kl_str_t name = rd_compact_string(body);
        kl_str_t sw_version = rd_compact_string(body);
        rd_tagged_fields(body);
        if (!rd_ok(body))
            return KL_REPLY_CLOSE;
        if (!api_versions_valid_software_id(name) ||
            !api_versions_valid_software_id(sw_version))
            err = KL_ERR_INVALID_REQUEST;
    }
    api_versions_write_body(out, version, req->flexible, err);
    return KL_REPLY_SEND;
}

void api_versions_write_unsupported(kl_writer_t *out)
{
    wr_i16(out, (int16_t)KL_ERR_UNSUPPORTED_VERSION);
    api_versions_write_keys(out, false);        /* v0 layout: classic array, no throttle */
}
