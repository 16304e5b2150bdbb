/*
 * infrastructure/protocol/api_sync_group.c — the SyncGroup API (key 14), versions 0-3:
 * the leader hands out the assignment it computed; every member gets its own part.
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_sync), wire.h, api.h.
 *
 * Rules this file implements, by name:
 *  - Parking: a follower's SyncGroup that arrives before the leader's cannot be
 *    answered yet: COORD_PENDING with a ticket; the request is parked (park_cookie =
 *    ticket, deadline now + wait_ms) and retried with the same frame until the leader's
 *    assignment is there (or, on the final attempt, REBALANCE_IN_PROGRESS).
 *  - Only the leader sends assignments; a follower's array is empty (and ignored).
 *  - KIP-345 (v3+): group_instance_id, checked against the member (FENCED_INSTANCE_ID).
 *  - The response's assignment is never null in v0-3: empty bytes when the leader gave
 *    this member nothing, and on errors.
 * Versions 0-3 are all non-flexible (KIP-482 starts at v4); protocol_type/name (v5+,
 * KIP-559) are not in these versions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct sg_request {
    kl_str_t group_id;
    int32_t generation_id;
    kl_str_t member_id;
    kl_str_t group_instance_id;      /* v3+ (KIP-345); null before */
    int32_t assignment_count;
    kl_reader_t assignments;         /* [member_id string, assignment bytes] */
} sg_request_t;

/* NUL-terminated copies for the coordinator; assignment bytes stay in the frame. */
typedef struct sg_owned {
    char *group_id;
    char *member_id;
    char *group_instance_id;
    group_assignment_t *assignments; /* member ids owned */
    int32_t assignment_count;
} sg_owned_t;

static bool sg_decode(kl_reader_t *r, int16_t v, sg_request_t *q)
{
    q->group_id = rd_string(r);
    q->generation_id = rd_i32(r);
    q->member_id = rd_string(r);
    q->group_instance_id = (kl_str_t){ NULL, -1 };
    if (v >= 3) q->group_instance_id = rd_nullable_string(r);
    q->assignment_count = rd_array_len(r);
    q->assignments = *r;
    for (int32_t i = 0; i < q->assignment_count; i++) {
        (void)rd_string(r);                                 /* member_id */
        (void)rd_bytes(r);                                  /* assignment */
    }
    return rd_ok(r) && q->assignment_count >= 0;
}

static bool sg_copied(kl_str_t s, const char *copy) { return s.ptr == NULL || copy != NULL; }

static void sg_owned_free(sg_owned_t *o)
{
    for (int32_t i = 0; o->assignments != NULL && i < o->assignment_count; i++)
        free((char *)o->assignments[i].member_id);
    free(o->assignments);
    free(o->group_id);
    free(o->member_id);
    free(o->group_instance_id);
    memset(o, 0, sizeof *o);
}

static bool sg_own_assignments(const sg_request_t *q, sg_owned_t *o)
{
    o->assignments = calloc((size_t)q->assignment_count + 1, sizeof *o->assignments);
    if (o->assignments == NULL)
        return false;
    o->assignment_count = q->assignment_count;
    kl_reader_t r = q->assignments;
    for (int32_t i = 0; i < q->assignment_count; i++) {
        kl_str_t member = rd_string(&r);
        kl_bytes_t bytes = rd_bytes(&r);
        o->assignments[i].member_id = kl_str_dup(member);
        o->assignments[i].assignment = bytes.ptr;
        o->assignments[i].assignment_len = (size_t)bytes.len;
        if (o->assignments[i].member_id == NULL)
            return false;
    }
    return true;
}

static bool sg_own(const sg_request_t *q, sg_owned_t *o)
{
    memset(o, 0, sizeof *o);
    o->group_id = kl_str_dup(q->group_id);
    o->member_id = kl_str_dup(q->member_id);
    o->group_instance_id = kl_str_dup(q->group_instance_id);
    bool ok = sg_copied(q->group_id, o->group_id) && sg_copied(q->member_id, o->member_id) &&
              sg_copied(q->group_instance_id, o->group_instance_id) &&
              sg_own_assignments(q, o);
    if (!ok)
        sg_owned_free(o);
    return ok;
}

static void sg_write(kl_writer_t *out, const coord_sync_result_t *res, int16_t v)
{
    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_i16(out, (int16_t)res->error);                       /* error_code */
    wr_bytes(out, res->assignment, (int32_t)res->assignment_len);   /* assignment */
}

kl_reply_t sync_group_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    sg_request_t q;
    sg_owned_t o;
    if (!sg_decode(body, v, &q))
        return KL_REPLY_CLOSE;
    if (!sg_own(&q, &o))
        return KL_REPLY_CLOSE;              /* out of memory: as dispatch does */

    coord_sync_args_t a = {
        .group_id = o.group_id,
        .member_id = o.member_id,
        .group_instance_id = o.group_instance_id,
        .generation_id = q.generation_id,
        .protocol_type = NULL,                              /* v5+ only (KIP-559) */
        .protocol_name = NULL,
        .assignments = o.assignments,
        .assignment_count = o.assignment_count,
    };
    coord_sync_result_t res;
    coord_outcome_t outcome = coord_sync(req->coord, &a, req->park_cookie,
                                         req->final_attempt, &res);
    sg_owned_free(&o);
    if (outcome == COORD_PENDING) {
        req->park_cookie = res.ticket;
        req->park_until_ms = req->now_ms + res.wait_ms;
        coord_sync_result_free(&res);
        return KL_REPLY_PARK;
    }
    sg_write(out, &res, v);
    coord_sync_result_free(&res);
    return KL_REPLY_SEND;
}
