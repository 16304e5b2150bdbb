/*
 * infrastructure/protocol/api_leave_group.c — the LeaveGroup API (key 13), versions
 * 0-3: members leave a group at once instead of waiting for their session to expire.
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_leave), wire.h, api.h.
 *
 * Rules this file implements, by name:
 *  - v0-2: one member_id; the answer is that member's error code.
 *  - v3 (KIP-345, batch leave for static members): members [member_id,
 *    group_instance_id], answered one by one in `members` with per-member error codes;
 *    the top-level error is NONE unless the group id itself is refused
 *    (INVALID_GROUP_ID), as in Kafka's handleLeaveGroup (the members array is then
 *    empty).
 *  - An unknown group is UNKNOWN_MEMBER_ID for its members (the coordinator's answer).
 *  - v1+ add throttle_time_ms (always 0).
 * Versions 0-3 are all non-flexible (KIP-482 starts at v4): classic encodings only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct lg_request {
    kl_str_t group_id;
    kl_str_t member_id;              /* v0-2 */
    int32_t member_count;            /* v3+ */
    kl_reader_t members;             /* v3+: [member_id string, group_instance_id nullable] */
} lg_request_t;

static bool lg_decode(kl_reader_t *r, int16_t v, lg_request_t *q)
{
    q->group_id = rd_string(r);
    q->member_id = (kl_str_t){ NULL, -1 };
    q->member_count = 0;
    if (v <= 2) q->member_id = rd_string(r);
    if (v >= 3) q->member_count = rd_array_len(r);
    q->members = *r;
    for (int32_t i = 0; i < q->member_count; i++) {
        (void)rd_string(r);                                 /* member_id */
        (void)rd_nullable_string(r);                        /* group_instance_id */
    }
    return rd_ok(r) && q->member_count >= 0;
}

/* One member leaves; UNKNOWN_SERVER_ERROR when its strings cannot be copied. */
static kl_err_t lg_leave_one(coord_t *c, const char *group_id, kl_str_t member,
                             kl_str_t instance)
{
    char *member_id = kl_str_dup(member);
    char *instance_id = kl_str_dup(instance);
    kl_err_t err = KL_ERR_UNKNOWN_SERVER_ERROR;
    if (member_id != NULL && (instance.ptr == NULL || instance_id != NULL))
        err = coord_leave(c, group_id, member_id, instance_id);
    free(member_id);
    free(instance_id);
    return err;
}

/* v3: each member's own answer. */
static void lg_write_members(kl_request_t *req, const char *group_id, const lg_request_t *q,
                             kl_writer_t *out)
{
    kl_reader_t r = q->members;
    wr_array_len(out, q->member_count);                     /* members */
    for (int32_t i = 0; i < q->member_count; i++) {
        kl_str_t member = rd_string(&r);
        kl_str_t instance = rd_nullable_string(&r);
        kl_err_t err = lg_leave_one(req->coord, group_id, member, instance);
        wr_string(out, member.ptr, member.len);             /* member_id */
        wr_nullable_string(out, instance.ptr, instance.len);/* group_instance_id */
        wr_i16(out, (int16_t)err);                          /* error_code */
    }
}

kl_reply_t leave_group_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    lg_request_t q;
    if (!lg_decode(body, v, &q))
        return KL_REPLY_CLOSE;
    char *group_id = kl_str_dup(q.group_id);
    if (group_id == NULL)
        return KL_REPLY_CLOSE;              /* out of memory: as dispatch does */

    /* Kafka's group-level check comes before any member (validateGroupStatus). */
    kl_err_t top = group_id[0] == '\0' ? KL_ERR_INVALID_GROUP_ID : KL_OK;
    if (v <= 2 && top == KL_OK)
        top = lg_leave_one(req->coord, group_id, q.member_id, (kl_str_t){ NULL, -1 });

    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_i16(out, (int16_t)top);                              /* error_code */
    if (v >= 3 && top != KL_OK) wr_array_len(out, 0);       /* members: none */
    if (v >= 3 && top == KL_OK) lg_write_members(req, group_id, &q, out);
    free(group_id);
    return KL_REPLY_SEND;
}
