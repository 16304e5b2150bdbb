/*
 * infrastructure/protocol/api_heartbeat.c — the Heartbeat API (key 12), versions 0-3:
 * a member says it is alive, and learns whether it must rejoin.
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_heartbeat), wire.h, api.h.
 *
 * Rules: the whole answer is the coordinator's error code. REBALANCE_IN_PROGRESS is
 * how a Stable member learns a new round started (it must send JoinGroup);
 * UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION make it rejoin from scratch;
 * FENCED_INSTANCE_ID (KIP-345, v3+ group_instance_id) tells a static member that a
 * newer instance replaced it. v1+ add throttle_time_ms (always 0).
 * Versions 0-3 are all non-flexible (KIP-482 starts at v4): classic encodings only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct hb_request {
    kl_str_t group_id;
    int32_t generation_id;
    kl_str_t member_id;
    kl_str_t group_instance_id;      /* v3+ (KIP-345); null before */
} hb_request_t;

static bool hb_decode(kl_reader_t *r, int16_t v, hb_request_t *q)
{
    q->group_id = rd_string(r);
    q->generation_id = rd_i32(r);
    q->member_id = rd_string(r);
    q->group_instance_id = (kl_str_t){ NULL, -1 };
    if (v >= 3) q->group_instance_id = rd_nullable_string(r);
    return rd_ok(r);
}

kl_reply_t heartbeat_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    hb_request_t q;
    if (!hb_decode(body, v, &q))
        return KL_REPLY_CLOSE;
    char *group_id = kl_str_dup(q.group_id);
    char *member_id = kl_str_dup(q.member_id);
    char *instance_id = kl_str_dup(q.group_instance_id);
    kl_err_t err = KL_ERR_UNKNOWN_SERVER_ERROR;             /* out of memory */
    if (group_id != NULL && member_id != NULL && (q.group_instance_id.ptr == NULL ||
                                                  instance_id != NULL))
        err = coord_heartbeat(req->coord, group_id, member_id, instance_id,
                              q.generation_id);
    free(group_id);
    free(member_id);
    free(instance_id);

    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_i16(out, (int16_t)err);                              /* error_code */
    return KL_REPLY_SEND;
}
