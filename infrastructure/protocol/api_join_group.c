/*
 * infrastructure/protocol/api_join_group.c — the JoinGroup API (key 11), versions 0-5:
 * a consumer joins (or rejoins) a group's rebalance round.
 * Layer: infrastructure (protocol adapter). May touch: application/group_coordinator.h
 * (coord_join), wire.h, api.h.
 *
 * Rules this file implements, by name:
 *  - Parking: a round collects every member's JoinGroup before any is answered, so the
 *    first attempt usually gets COORD_PENDING with a ticket. The handler parks the
 *    request (req->park_cookie = ticket, deadline now + wait_ms) and the server calls
 *    it again with the same frame and that cookie; the coordinator then answers or
 *    says pending again. On the final attempt it always answers.
 *  - KIP-394 MEMBER_ID_REQUIRED (v4+): a first join with an empty member_id gets the
 *    error together with the member id it must rejoin with (response member_id).
 *    v0-3 clients join in one step; a parked v0-3 join learns its id on the retry.
 *  - KIP-345 static membership (v5+): group_instance_id in the request and in every
 *    member of the leader's answer.
 *  - Only the leader gets the members array (with each member's metadata for the
 *    chosen protocol), to compute the assignment; followers get an empty one.
 *  - rebalance_timeout_ms is v1+; for v0 the session timeout bounds the round (-1 is
 *    passed, which the coordinator reads as "use the session timeout").
 *  - client_host is the peer as Kafka prints it ("/127.0.0.1"), from the server
 *    (kl_request_t.client_host); DescribeGroups shows it.
 * Versions 0-5 are all non-flexible (KIP-482 starts at v6): classic encodings only;
 * protocol_name is therefore never null in the response ("" on errors).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "application/group_coordinator.h"
#include "infrastructure/protocol/api.h"

typedef struct jg_request {
    kl_str_t group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;    /* v1+; -1 before */
    kl_str_t member_id;
    kl_str_t group_instance_id;      /* v5+ (KIP-345); null before */
    kl_str_t protocol_type;
    int32_t protocol_count;
    kl_reader_t protocols;           /* [name string, metadata bytes] */
} jg_request_t;

/* NUL-terminated copies of the request's strings, which the coordinator needs. */
typedef struct jg_owned {
    char *group_id;
    char *member_id;
    char *group_instance_id;         /* NULL: dynamic member */
    char *protocol_type;
    char *client_id;                 /* NULL when the header had none */
    group_protocol_t *protocols;     /* names owned; metadata points into the frame */
    int32_t protocol_count;
} jg_owned_t;

static bool jg_decode(kl_reader_t *r, int16_t v, jg_request_t *q)
{
    q->group_id = rd_string(r);
    q->session_timeout_ms = rd_i32(r);
    q->rebalance_timeout_ms = -1;
    if (v >= 1) q->rebalance_timeout_ms = rd_i32(r);
    q->member_id = rd_string(r);
    q->group_instance_id = (kl_str_t){ NULL, -1 };
    if (v >= 5) q->group_instance_id = rd_nullable_string(r);
    q->protocol_type = rd_string(r);
    q->protocol_count = rd_array_len(r);
    q->protocols = *r;
    for (int32_t i = 0; i < q->protocol_count; i++) {
        (void)rd_string(r);                                 /* name */
        (void)rd_bytes(r);                                  /* metadata */
    }
    return rd_ok(r) && q->protocol_count >= 0;
}

static bool jg_copied(kl_str_t s, const char *copy) { return s.ptr == NULL || copy != NULL; }

static void jg_owned_free(jg_owned_t *o)
{
    for (int32_t i = 0; o->protocols != NULL && i < o->protocol_count; i++)
        free(o->protocols[i].name);
    free(o->protocols);
    free(o->group_id);
    free(o->member_id);
    free(o->group_instance_id);
    free(o->protocol_type);
    free(o->client_id);
    memset(o, 0, sizeof *o);
}

/* The protocols, names copied, metadata borrowed from the frame (the coordinator
 * copies what it keeps, so a view is enough). */
static bool jg_own_protocols(const jg_request_t *q, jg_owned_t *o)
{
    o->protocols = calloc((size_t)q->protocol_count + 1, sizeof *o->protocols);
    if (o->protocols == NULL)
        return false;
    o->protocol_count = q->protocol_count;
    kl_reader_t r = q->protocols;
    for (int32_t i = 0; i < q->protocol_count; i++) {
        kl_str_t name = rd_string(&r);
        kl_bytes_t md = rd_bytes(&r);
        o->protocols[i].name = kl_str_dup(name);
        o->protocols[i].metadata = (uint8_t *)md.ptr;       /* frame bytes are mutable */
        o->protocols[i].metadata_len = (size_t)md.len;
        if (o->protocols[i].name == NULL)
            return false;
    }
    return true;
}

/* false when out of memory (o is then freed). */
static bool jg_own(const jg_request_t *q, kl_str_t client_id, jg_owned_t *o)
{
    memset(o, 0, sizeof *o);
    o->group_id = kl_str_dup(q->group_id);
    o->member_id = kl_str_dup(q->member_id);
    o->group_instance_id = kl_str_dup(q->group_instance_id);
    o->protocol_type = kl_str_dup(q->protocol_type);
    o->client_id = kl_str_dup(client_id);
    bool ok = jg_copied(q->group_id, o->group_id) && jg_copied(q->member_id, o->member_id) &&
              jg_copied(q->group_instance_id, o->group_instance_id) &&
              jg_copied(q->protocol_type, o->protocol_type) &&
              jg_copied(client_id, o->client_id) && jg_own_protocols(q, o);
    if (!ok)
        jg_owned_free(o);
    return ok;
}

static coord_join_args_t jg_args(const kl_request_t *req, const jg_request_t *q,
                                 const jg_owned_t *o, int16_t v)
{
    coord_join_args_t a = {
        .group_id = o->group_id,
        .member_id = o->member_id,
        .group_instance_id = o->group_instance_id,
        .client_id = o->client_id,
        .client_host = req->client_host != NULL ? req->client_host : "",
        .session_timeout_ms = q->session_timeout_ms,
        .rebalance_timeout_ms = q->rebalance_timeout_ms,
        .protocol_type = o->protocol_type,
        .protocols = o->protocols,
        .protocol_count = o->protocol_count,
        .require_known_member_id = v >= 4,                  /* KIP-394 */
    };
    return a;
}

static void jg_write_nullable(kl_writer_t *out, const char *s)
{
    wr_nullable_string(out, s, s != NULL ? (int32_t)strlen(s) : -1);
}

static void jg_write_member(kl_writer_t *out, const coord_member_info_t *m, int16_t v)
{
    wr_cstr(out, false, m->member_id);                      /* member_id */
    if (v >= 5) jg_write_nullable(out, m->group_instance_id);   /* group_instance_id */
    wr_bytes(out, m->metadata, (int32_t)m->metadata_len);   /* metadata */
}

static void jg_write(kl_writer_t *out, const coord_join_result_t *res, int16_t v)
{
    if (v >= 2) wr_i32(out, 0);                             /* throttle_time_ms */
    wr_i16(out, (int16_t)res->error);                       /* error_code */
    wr_i32(out, res->generation_id);                        /* generation_id */
    wr_cstr(out, false, res->protocol_name);                /* protocol_name ("" if none) */
    wr_cstr(out, false, res->leader_id);                    /* leader */
    wr_cstr(out, false, res->member_id);                    /* member_id */
    wr_array_len(out, res->member_count);                   /* members (leader only) */
    for (int32_t i = 0; i < res->member_count; i++)
        jg_write_member(out, &res->members[i], v);
}

kl_reply_t join_group_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    int16_t v = req->header.api_version;
    jg_request_t q;
    jg_owned_t o;
    if (!jg_decode(body, v, &q))
        return KL_REPLY_CLOSE;
    if (!jg_own(&q, req->header.client_id, &o))
        return KL_REPLY_CLOSE;              /* out of memory: as dispatch does */

    coord_join_args_t a = jg_args(req, &q, &o, v);
    coord_join_result_t res;
    coord_outcome_t outcome = coord_join(req->coord, &a, req->park_cookie,
                                         req->final_attempt, &res);
    jg_owned_free(&o);
    if (outcome == COORD_PENDING) {
        req->park_cookie = res.ticket;
        req->park_until_ms = req->now_ms + res.wait_ms;
        coord_join_result_free(&res);
        return KL_REPLY_PARK;
    }
    jg_write(out, &res, v);
    coord_join_result_free(&res);
    return KL_REPLY_SEND;
}
