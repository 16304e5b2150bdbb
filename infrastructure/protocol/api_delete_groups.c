/*
 * infrastructure/protocol/api_delete_groups.c — the DeleteGroups API (key 42),
 * versions 0-1: remove empty groups and their committed offsets (admin clients).
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_delete), wire.h, api.h.
 *
 * Rules (KIP-229): each named group gets its own result: NONE when it was Empty and
 * is now gone (offsets durably deleted first), GROUP_ID_NOT_FOUND when it does not
 * exist, NON_EMPTY_GROUP while it has members. throttle_time_ms is in every version
 * (always 0); v1 only changed throttling behaviour (KIP-219).
 * Versions 0-1 are non-flexible (KIP-482 starts at v2): classic encodings only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct dlg_request {
    int32_t group_count;
    kl_reader_t groups;              /* [group name string] */
} dlg_request_t;

static bool dlg_decode(kl_reader_t *r, dlg_request_t *q)
{
    q->group_count = rd_array_len(r);
    if (q->group_count < 0)
        rd_fail(r);
    q->groups = *r;
    for (int32_t i = 0; i < q->group_count; i++)
        (void)rd_string(r);
    return rd_ok(r);
}

static kl_err_t dlg_delete_one(coord_t *c, kl_str_t group_id)
{
    char *id = kl_str_dup(group_id);
    kl_err_t err = id != NULL ? coord_delete(c, id) : KL_ERR_UNKNOWN_SERVER_ERROR;
    free(id);
    return err;
}

kl_reply_t delete_groups_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    dlg_request_t q;
    if (!dlg_decode(body, &q))
        return KL_REPLY_CLOSE;

    kl_reader_t r = q.groups;
    wr_i32(out, 0);                                         /* throttle_time_ms */
    wr_array_len(out, q.group_count);                       /* results */
    for (int32_t i = 0; i < q.group_count; i++) {
        kl_str_t group_id = rd_string(&r);
        kl_err_t err = dlg_delete_one(req->coord, group_id);
        wr_string(out, group_id.ptr, group_id.len);         /* group_id */
        wr_i16(out, (int16_t)err);                          /* error_code */
    }
    return KL_REPLY_SEND;
}
