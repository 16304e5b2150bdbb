/*
 * infrastructure/protocol/api_list_groups.c — the ListGroups API (key 16), versions
 * 0-2: every group this broker coordinates (admin clients).
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_list), wire.h, api.h.
 *
 * Rules: the request body is empty in v0-2 (the states filter is v4+, KIP-518). Every
 * live group is listed with its protocol type ("" for a group that only stores
 * offsets). v1+ add throttle_time_ms (always 0); v2 is v1 (KIP-219 throttling only).
 * Versions 0-2 are all non-flexible (KIP-482 starts at v3): classic encodings only.
 */
#include <stdint.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct lsg_state {
    kl_writer_t *out;
    int32_t count;
} lsg_state_t;

/* coord_list's visitor: one group entry, written as it is met. */
static void lsg_visit(void *arg, const char *group_id, const char *protocol_type,
                      const char *state)
{
    lsg_state_t *st = arg;
    (void)state;                                            /* v4+ filter only */
    wr_cstr(st->out, false, group_id);                      /* group_id */
    wr_cstr(st->out, false, protocol_type);                 /* protocol_type */
    st->count++;
}

kl_reply_t list_groups_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    (void)body;                                             /* no fields in v0-2 */

    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_i16(out, KL_OK);                                     /* error_code */
    size_t count_at = wr_placeholder_i32(out);              /* groups: patched below */
    lsg_state_t st = { out, 0 };
    coord_list(req->coord, lsg_visit, &st);
    wr_patch_i32(out, count_at, st.count);
    return KL_REPLY_SEND;
}
