/*
 * infrastructure/protocol/api_find_coordinator.c — the FindCoordinator API (key 10),
 * versions 0-2: which broker coordinates a consumer group.
 * Layer: infrastructure (protocol adapter). May touch: application/broker.h (the
 * advertised address, read only), wire.h, api.h.
 *
 * Kafka's rules, as they apply to one broker:
 *  - key_type 0 (GROUP, the only type in v0): this broker coordinates every group, so
 *    the answer is always our node id and advertised host/port; the key (the group id)
 *    needs no lookup (Kafka hashes it to a __consumer_offsets partition and answers
 *    that partition's leader: with one broker, always us).
 *  - key_type 1 (TRANSACTION, KIP-98): Klamm has no transaction coordinator:
 *    COORDINATOR_NOT_AVAILABLE, with node -1, host "" and port -1, as Kafka answers
 *    when it has no coordinator to name.
 *  - any other key_type: INVALID_REQUEST (Kafka: "Unknown coordinator type").
 *  - v1+ add throttle_time_ms (always 0) and error_message (always null here).
 * Versions 0-2 are all non-flexible (KIP-482 starts at v3): classic encodings only.
 */
#include <stdint.h>

#include "infrastructure/protocol/api.h"

#define FC_KEY_GROUP 0
#define FC_KEY_TRANSACTION 1

typedef struct fc_request {
    kl_str_t key;
    int8_t key_type;             /* v1+; 0 (GROUP) before */
} fc_request_t;

static bool fc_decode(kl_reader_t *r, int16_t v, fc_request_t *q)
{
    q->key = rd_string(r);
    q->key_type = FC_KEY_GROUP;
    if (v >= 1) q->key_type = rd_i8(r);
    return rd_ok(r);
}

static kl_err_t fc_error_for(int8_t key_type)
{
    if (key_type == FC_KEY_GROUP)
        return KL_OK;
    if (key_type == FC_KEY_TRANSACTION)
        return KL_ERR_COORDINATOR_NOT_AVAILABLE;
    return KL_ERR_INVALID_REQUEST;
}

kl_reply_t find_coordinator_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    fc_request_t q;
    if (!fc_decode(body, v, &q))
        return KL_REPLY_CLOSE;

    const kl_broker_config_t *cfg = &req->broker->config;
    kl_err_t err = fc_error_for(q.key_type);
    bool found = err == KL_OK;
    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_i16(out, (int16_t)err);                              /* error_code */
    if (v >= 1) wr_nullable_string(out, NULL, -1);          /* error_message */
    wr_i32(out, found ? cfg->node_id : -1);                 /* node_id */
    wr_cstr(out, false, found ? cfg->advertised_host : ""); /* host */
    wr_i32(out, found ? cfg->advertised_port : -1);         /* port */
    return KL_REPLY_SEND;
}
