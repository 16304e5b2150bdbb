/*
 * infrastructure/protocol/api_describe_groups.c — the DescribeGroups API (key 15),
 * versions 0-4: state, protocol and members of each named group (admin clients).
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_describe), wire.h, api.h.
 *
 * Rules this file implements, by name:
 *  - State names as Kafka spells them: Empty, PreparingRebalance,
 *    CompletingRebalance, Stable, Dead. An unknown group is described as Dead with no
 *    error and no members (Kafka 2.x).
 *  - protocol_data (the chosen protocol's name), member metadata and assignments are
 *    only filled in Stable, as in Kafka ("" / empty bytes otherwise).
 *  - v3+ (KIP-430): authorized_operations is INT32_MIN ("not asked for") unless the
 *    request sets include_authorized_operations; then, as Kafka without an authorizer,
 *    every operation a group supports: READ (3), DELETE (6), DESCRIBE (8) as bits.
 *  - v4 (KIP-345): each member's group_instance_id (null for dynamic members).
 *  - v1+ add throttle_time_ms (always 0).
 * Versions 0-4 are all non-flexible (KIP-482 starts at v5): classic encodings only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

/* KIP-430 bit field: 1 << AclOperation code, for READ, DELETE and DESCRIBE. */
#define DG_GROUP_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8))

typedef struct dg_request {
    int32_t group_count;
    kl_reader_t groups;              /* [group_id string] */
    bool include_authorized_operations;     /* v3+ */
} dg_request_t;

static bool dg_decode(kl_reader_t *r, int16_t v, dg_request_t *q)
{
    q->group_count = rd_array_len(r);
    if (q->group_count < 0)
        rd_fail(r);
    q->groups = *r;
    for (int32_t i = 0; i < q->group_count; i++)
        (void)rd_string(r);
    q->include_authorized_operations = false;
    if (v >= 3) q->include_authorized_operations = rd_i8(r) != 0;
    return rd_ok(r);
}

static void dg_write_nullable(kl_writer_t *out, const char *s)
{
    wr_nullable_string(out, s, s != NULL ? (int32_t)strlen(s) : -1);
}

static void dg_write_member(kl_writer_t *out, const coord_member_info_t *m, int16_t v)
{
    wr_cstr(out, false, m->member_id);                      /* member_id */
    if (v >= 4) dg_write_nullable(out, m->group_instance_id);   /* group_instance_id */
    wr_cstr(out, false, m->client_id);                      /* client_id */
    wr_cstr(out, false, m->client_host);                    /* client_host */
    wr_bytes(out, m->metadata, (int32_t)m->metadata_len);   /* member_metadata */
    wr_bytes(out, m->assignment, (int32_t)m->assignment_len);   /* member_assignment */
}

static void dg_write_group(kl_writer_t *out, kl_str_t group_id,
                           const coord_describe_result_t *d, const dg_request_t *q, int16_t v)
{
    int32_t ops = q->include_authorized_operations ? DG_GROUP_OPERATIONS : INT32_MIN;
    wr_i16(out, (int16_t)d->error);                         /* error_code */
    wr_string(out, group_id.ptr, group_id.len);             /* group_id */
    wr_cstr(out, false, d->state);                          /* group_state */
    wr_cstr(out, false, d->protocol_type);                  /* protocol_type */
    wr_cstr(out, false, d->protocol_name);                  /* protocol_data */
    wr_array_len(out, d->member_count);                     /* members */
    for (int32_t i = 0; i < d->member_count; i++)
        dg_write_member(out, &d->members[i], v);
    if (v >= 3) wr_i32(out, ops);                           /* authorized_operations */
}

static void dg_describe_one(coord_t *c, kl_str_t group_id, const dg_request_t *q, int16_t v,
                            kl_writer_t *out)
{
    coord_describe_result_t d;
    char *id = kl_str_dup(group_id);
    if (id != NULL) {
        coord_describe(c, id, &d);
    } else {                                /* out of memory: this group's error */
        memset(&d, 0, sizeof d);
        d.error = KL_ERR_UNKNOWN_SERVER_ERROR;
        d.state = "Dead";
    }
    dg_write_group(out, group_id, &d, q, v);
    coord_describe_result_free(&d);
    free(id);
}

kl_reply_t describe_groups_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    dg_request_t q;
    if (!dg_decode(body, v, &q))
        return KL_REPLY_CLOSE;

    kl_reader_t r = q.groups;
    if (v >= 1) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_array_len(out, q.group_count);                       /* groups */
    for (int32_t i = 0; i < q.group_count; i++)
        dg_describe_one(req->coord, rd_string(&r), &q, v, out);
    return KL_REPLY_SEND;
}
