/*
 * infrastructure/protocol/request_header.c — decode the Kafka request header.
 * Layer: infrastructure. May touch: protocol/wire.h, protocol/api.h (the API table).
 *
 * Request header v1: int16 api_key, int16 api_version, int32 correlation_id, nullable
 * string client_id. Header v2 (KIP-482) adds a tagged-field section and is used exactly
 * when the request's API version is flexible. KIP-482/KIP-511: even in header v2 the
 * client_id stays a classic int16-length nullable string, so that a broker can always
 * read it before it knows whether it understands the version.
 * Header v0 (no client_id) is only used by ControlledShutdown v0, which Klamm does not
 * implement; every request is read as v1 or v2.
 */
#include "infrastructure/protocol/api.h"

bool request_header_decode(kl_reader_t *r, kl_request_header_t *h, const kl_api_t **api_out)
{
    h->api_key = rd_i16(r);
    h->api_version = rd_i16(r);
    h->correlation_id = rd_i32(r);
    h->client_id = rd_nullable_string(r);       /* classic even in header v2 (KIP-511) */

    const kl_api_t *api = rd_ok(r) ? api_table_find(h->api_key) : NULL;
    if (api != NULL && h->api_version >= api->flexible_from)
        rd_tagged_fields(r);                    /* header v2 (KIP-482) */
    if (api_out != NULL)
        *api_out = api;
    return rd_ok(r);
}
