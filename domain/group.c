/*
 * domain/group.c — the consumer group state machine (see group.h for the data).
 * Layer: domain (pure). May touch: domain/error.h, uthash.h, <stdlib.h>, <string.h>.
 * No I/O, no clock (now_ms is an argument), no randomness (ids come from the caller).
 *
 * Design invariants (the numbers are cited in the code):
 *
 *  1. A group is Empty iff it has no members and is not Dead. Every other live state
 *     has at least one member, except transiently inside one call.
 *  2. The leader is a member: g->leader == NULL iff g->members == NULL. When the leader
 *     goes, the first remaining member (join order) takes over; at the end of a round a
 *     leader that did not rejoin is replaced by the first member that did.
 *  3. The generation only moves in complete_join(), by exactly one, also when the round
 *     ends with no members (Kafka's initNextGeneration does the same). A request from
 *     an older generation is therefore always recognisable: ILLEGAL_GENERATION.
 *  4. awaiting_join is true only in PreparingRebalance; complete_join() clears it for
 *     all. awaiting_sync is true only in CompletingRebalance; leaving that state (to
 *     Stable or back to PreparingRebalance) clears it for all.
 *  5. A member waiting for a JoinGroup or SyncGroup answer is never expired by its
 *     session timeout (Kafka's shouldKeepAlive): its request is parked at the broker,
 *     so it cannot heartbeat. The round's deadline bounds that wait instead.
 *  6. group_protocol selection only happens when every member supports a common
 *     protocol; group_join() refuses a member that would break this
 *     (INCONSISTENT_GROUP_PROTOCOL), so complete_join() always finds one.
 *  7. Strings and byte arrays in a group are owned copies; nothing points into a
 *     caller's request buffer after a call returns.
 *
 * States and the functions that perform each transition:
 *
 *                 join (first member)                 all rejoined / deadline
 *     +-------+  prepare_rebalance()  +--------------------+  complete_join()   +---------------------+
 *     | Empty | --------------------> | PreparingRebalance | -----------------> | CompletingRebalance |
 *     +-------+ <-------------------- +--------------------+ <----------------- +---------------------+
 *       |   complete_join() with         ^         ^         join (new member or    |
 *       |   no member left               |         |         changed protocols),    | leader's SyncGroup
 *       |                                |         |         leave, session expiry  | group_sync()
 *       | group_delete()                 |         |         prepare_rebalance()    v
 *       v                                |         |                           +--------+
 *     +------+                           |         +-------------------------- | Stable |
 *     | Dead |                           |   join (leader, new member, changed  +--------+
 *     +------+                           |   protocols), leave, session expiry
 *                                        |   prepare_rebalance()
 *                       (PreparingRebalance: leave / expiry / join just call
 *                        group_try_complete_join(), which may end the round)
 */
/* uthash calls exit() when it cannot allocate, by default; a broker must answer
 * UNKNOWN_SERVER_ERROR instead (errors are values). With HASH_NONFATAL_OOM a failed add
 * leaves the table as it was and uthash_nonfatal_oom runs in the adding function, where
 * `hash_oom` is a local. Must precede the first inclusion of <uthash.h>. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = 1)

#include "domain/group.h"

#include <stdlib.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------------ */

static char *group_strdup(const char *s)
{
    size_t n = strlen(s ? s : "");
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s ? s : "", n);
        p[n] = '\0';
    }
    return p;
}

static uint8_t *group_bytedup(const uint8_t *b, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (p && n)
        memcpy(p, b, n);
    return p;
}

static bool group_str_empty(const char *s) { return s == NULL || s[0] == '\0'; }

static bool group_str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

group_config_t group_config_default(void)
{
    group_config_t c = {
        .min_session_timeout_ms = GROUP_DEFAULT_MIN_SESSION_TIMEOUT_MS,
        .max_session_timeout_ms = GROUP_DEFAULT_MAX_SESSION_TIMEOUT_MS,
        .initial_rebalance_delay_ms = 0,
        .max_size = 0,
    };
    return c;
}

const char *group_state_name(group_state_t s)
{
    switch (s) {
    case GROUP_EMPTY: return "Empty";
    case GROUP_PREPARING_REBALANCE: return "PreparingRebalance";
    case GROUP_COMPLETING_REBALANCE: return "CompletingRebalance";
    case GROUP_STABLE: return "Stable";
    case GROUP_DEAD: return "Dead";
    }
    return "Dead";
}

/* ---- members ----------------------------------------------------------------- */

static void group_protocols_free(group_protocol_t *p, int32_t n)
{
    if (!p)                        /* a member whose protocol copy ran out of memory */
        return;
    for (int32_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].metadata);
    }
    free(p);
}

static void group_member_free(group_member_t *m)
{
    if (!m)
        return;
    free(m->member_id);
    free(m->group_instance_id);
    free(m->client_id);
    free(m->client_host);
    group_protocols_free(m->protocols, m->protocol_count);
    free(m->assignment);
    free(m);
}

/* Deep copy of a protocol list (invariant 7). NULL on out of memory. */
static group_protocol_t *group_protocols_copy(const group_protocol_t *src, int32_t n)
{
    group_protocol_t *p = calloc(n > 0 ? (size_t)n : 1, sizeof *p);
    if (!p)
        return NULL;
    for (int32_t i = 0; i < n; i++) {
        p[i].name = group_strdup(src[i].name);
        p[i].metadata = group_bytedup(src[i].metadata, src[i].metadata_len);
        p[i].metadata_len = src[i].metadata_len;
        if (!p[i].name || !p[i].metadata) {
            group_protocols_free(p, i + 1);
            return NULL;
        }
    }
    return p;
}

/* A new member from a JoinGroup, not yet in any group. NULL on out of memory. */
static group_member_t *group_member_new(const group_join_args_t *a, const char *member_id,
                                        int64_t now_ms)
{
    group_member_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->member_id = group_strdup(member_id);
    m->group_instance_id = group_str_empty(a->group_instance_id)
                               ? NULL : group_strdup(a->group_instance_id);
    m->client_id = group_strdup(a->client_id);
    m->client_host = group_strdup(a->client_host);
    m->protocols = group_protocols_copy(a->protocols, a->protocol_count);
    m->protocol_count = a->protocol_count;
    m->session_timeout_ms = a->session_timeout_ms;
    m->rebalance_timeout_ms = a->rebalance_timeout_ms > 0 ? a->rebalance_timeout_ms
                                                          : a->session_timeout_ms;
    m->last_heartbeat_ms = now_ms;
    if (!m->member_id || !m->client_id || !m->client_host || !m->protocols ||
        (!group_str_empty(a->group_instance_id) && !m->group_instance_id)) {
        group_member_free(m);
        return NULL;
    }
    return m;
}

group_member_t *group_find_member(const group_t *g, const char *member_id)
{
    group_member_t *m = NULL;
    if (!group_str_empty(member_id))
        HASH_FIND_STR(g->members, member_id, m);
    return m;
}

/* Linear: groups are small and a second hash would be a second thing to keep right. */
group_member_t *group_find_static_member(const group_t *g, const char *group_instance_id)
{
    if (group_str_empty(group_instance_id))
        return NULL;
    for (group_member_t *m = g->members; m; m = m->hh.next)
        if (m->group_instance_id && strcmp(m->group_instance_id, group_instance_id) == 0)
            return m;
    return NULL;
}

int32_t group_member_count(const group_t *g) { return (int32_t)HASH_COUNT(g->members); }

bool group_is_leader(const group_t *g, const char *member_id)
{
    return g->leader && group_str_eq(g->leader->member_id, member_id);
}

const uint8_t *group_member_metadata(const group_member_t *m, const char *protocol,
                                     size_t *len_out)
{
    for (int32_t i = 0; i < m->protocol_count; i++) {
        if (group_str_eq(m->protocols[i].name, protocol)) {
            *len_out = m->protocols[i].metadata_len;
            return m->protocols[i].metadata;
        }
    }
    *len_out = 0;
    return NULL;
}

static bool group_member_supports(const group_member_t *m, const char *protocol)
{
    size_t len;
    return group_member_metadata(m, protocol, &len) != NULL;
}

/* Same protocol names and metadata, in the same order (Kafka's MemberMetadata.matches):
 * a rejoin with identical protocols need not disturb a settled group. */
static bool group_member_matches(const group_member_t *m, const group_join_args_t *a)
{
    if (m->protocol_count != a->protocol_count)
        return false;
    for (int32_t i = 0; i < m->protocol_count; i++) {
        const group_protocol_t *x = &m->protocols[i], *y = &a->protocols[i];
        if (!group_str_eq(x->name, y->name) || x->metadata_len != y->metadata_len ||
            (x->metadata_len && memcmp(x->metadata, y->metadata, x->metadata_len) != 0))
            return false;
    }
    return true;
}

/* ---- life cycle ----------------------------------------------------------------- */

kl_err_t group_init(group_t *g, const char *group_id, const group_config_t *cfg)
{
    memset(g, 0, sizeof *g);
    g->group_id = group_strdup(group_id);
    if (!g->group_id)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    g->config = *cfg;
    g->state = GROUP_EMPTY;
    g->generation_id = 0;
    return KL_OK;
}

void group_free(group_t *g)
{
    group_member_t *m, *tmp;
    HASH_ITER(hh, g->members, m, tmp) {
        HASH_DEL(g->members, m);
        group_member_free(m);
    }
    group_pending_member_t *p, *ptmp;
    HASH_ITER(hh, g->pending, p, ptmp) {
        HASH_DEL(g->pending, p);
        free(p->member_id);
        free(p);
    }
    free(g->group_id);
    free(g->protocol_type);
    free(g->protocol_name);
    memset(g, 0, sizeof *g);
    g->state = GROUP_DEAD;
}

/* ---- member ids (KIP-394) --------------------------------------------------------- */

static void group_hex(char *out, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--) {
        out[i] = hex[v & 0xf];
        v >>= 4;
    }
}

/* "<prefix>-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", like Kafka's
 * clientId + "-" + UUID.randomUUID (instance id as prefix for static members). */
static char *group_new_member_id(const char *prefix, group_id_source_t ids)
{
    uint64_t hi = ids.next64(ids.self), lo = ids.next64(ids.self);
    size_t plen = strlen(prefix ? prefix : "");
    char *id = malloc(plen + 1 + 36 + 1);
    if (!id)
        return NULL;
    memcpy(id, prefix ? prefix : "", plen);
    char *u = id + plen;
    *u++ = '-';
    group_hex(u, hi >> 32, 8);            u[8] = '-';
    group_hex(u + 9, hi >> 16, 4);        u[13] = '-';
    group_hex(u + 14, hi, 4);             u[18] = '-';
    group_hex(u + 19, lo >> 48, 4);       u[23] = '-';
    group_hex(u + 24, lo, 12);
    u[36] = '\0';
    return id;
}

static group_pending_member_t *group_find_pending(const group_t *g, const char *member_id)
{
    group_pending_member_t *p = NULL;
    if (!group_str_empty(member_id))
        HASH_FIND_STR(g->pending, member_id, p);
    return p;
}

static void group_drop_pending(group_t *g, group_pending_member_t *p)
{
    HASH_DEL(g->pending, p);
    free(p->member_id);
    free(p);
}

/* ---- the rebalance --------------------------------------------------------------- */

static int32_t group_max_rebalance_timeout(const group_t *g)
{
    int32_t t = 0;
    for (group_member_t *m = g->members; m; m = m->hh.next)
        if (m->rebalance_timeout_ms > t)
            t = m->rebalance_timeout_ms;
    return t;
}

/* Empty | Stable | CompletingRebalance → PreparingRebalance. Leaving
 * CompletingRebalance drops the half-made assignment (invariant 4): followers parked in
 * SyncGroup are answered REBALANCE_IN_PROGRESS by the coordinator. */
static void group_prepare_rebalance(group_t *g, int64_t now_ms)
{
    if (g->state == GROUP_COMPLETING_REBALANCE) {
        for (group_member_t *m = g->members; m; m = m->hh.next) {
            m->awaiting_sync = false;
            free(m->assignment);
            m->assignment = NULL;
            m->assignment_len = 0;
        }
    }
    int32_t timeout = group_max_rebalance_timeout(g);
    if (g->state == GROUP_EMPTY && g->config.initial_rebalance_delay_ms > 0) {
        /* group.initial.rebalance.delay.ms: wait a little for the other members of a
         * group that starts up all at once, instead of one rebalance per member. */
        g->initial_delay_round = true;
        g->initial_delay_limit_ms = now_ms + timeout;
        g->rebalance_deadline_ms = now_ms + g->config.initial_rebalance_delay_ms;
        if (g->rebalance_deadline_ms > g->initial_delay_limit_ms)
            g->rebalance_deadline_ms = g->initial_delay_limit_ms;
    } else {
        g->initial_delay_round = false;
        g->rebalance_deadline_ms = now_ms + timeout;
    }
    g->state = GROUP_PREPARING_REBALANCE;
}

static void group_maybe_prepare_rebalance(group_t *g, int64_t now_ms)
{
    if (g->state == GROUP_EMPTY || g->state == GROUP_STABLE ||
        g->state == GROUP_COMPLETING_REBALANCE)
        group_prepare_rebalance(g, now_ms);
}

/* Kafka's selectProtocol: of the protocols every member supports, each member votes
 * for the first in its own preference order; most votes wins. Ties go to the earlier
 * one in the first member's order. NULL only when there is no common protocol. */
static const char *group_select_protocol(const group_t *g)
{
    const group_member_t *first = g->members;
    const char *best = NULL;
    int32_t best_votes = -1;
    if (!first)
        return NULL;
    for (int32_t i = 0; i < first->protocol_count; i++) {
        const char *cand = first->protocols[i].name;
        bool common = true;
        for (group_member_t *m = g->members; m && common; m = m->hh.next)
            common = group_member_supports(m, cand);
        if (!common)
            continue;
        int32_t votes = 0;
        for (group_member_t *m = g->members; m; m = m->hh.next) {
            for (int32_t j = 0; j < m->protocol_count; j++) {
                const char *p = m->protocols[j].name;
                bool p_common = true;
                for (group_member_t *o = g->members; o && p_common; o = o->hh.next)
                    p_common = group_member_supports(o, p);
                if (p_common) {          /* m's vote: its first common protocol */
                    if (strcmp(p, cand) == 0)
                        votes++;
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best;
}

/* Would a member with these protocols fit (invariant 6)? Kafka's supportsProtocols. */
static bool group_supports_protocols(const group_t *g, const group_join_args_t *a)
{
    if (group_str_empty(a->protocol_type) || a->protocol_count <= 0)
        return false;
    if (g->members == NULL)
        return true;
    if (!group_str_eq(g->protocol_type, a->protocol_type))
        return false;
    for (int32_t i = 0; i < a->protocol_count; i++) {
        bool all = true;
        for (group_member_t *m = g->members; m && all; m = m->hh.next)
            all = group_member_supports(m, a->protocols[i].name);
        if (all)
            return true;
    }
    return false;
}

/* Take out one member; the leader passes to the first remaining member (invariant 2). */
static void group_unlink_member(group_t *g, group_member_t *m)
{
    HASH_DEL(g->members, m);
    if (g->leader == m)
        g->leader = g->members;
    group_member_free(m);
}

/* PreparingRebalance → CompletingRebalance (or Empty when nobody is left). */
static void group_complete_join(group_t *g, int64_t now_ms)
{
    /* Dynamic members that did not rejoin in time are gone; static members (KIP-345)
     * stay, as a restarting static member should not cost a rebalance. */
    group_member_t *m, *tmp;
    HASH_ITER(hh, g->members, m, tmp) {
        if (!m->awaiting_join && m->group_instance_id == NULL)
            group_unlink_member(g, m);
    }
    g->generation_id++;                                   /* invariant 3 */
    g->initial_delay_round = false;
    free(g->protocol_name);
    g->protocol_name = NULL;
    if (g->members == NULL) {
        g->state = GROUP_EMPTY;                           /* invariant 1 */
        return;
    }
    if (g->leader == NULL || !g->leader->awaiting_join) {
        for (m = g->members; m; m = m->hh.next) {
            if (m->awaiting_join) {
                g->leader = m;
                break;
            }
        }
    }
    /* invariant 6. NULL only when out of memory: the coordinator then answers
     * UNKNOWN_SERVER_ERROR instead of announcing a round without a protocol. */
    g->protocol_name = group_strdup(group_select_protocol(g));
    for (m = g->members; m; m = m->hh.next) {
        m->awaiting_join = false;                         /* invariant 4 */
        m->last_heartbeat_ms = now_ms;
    }
    g->state = GROUP_COMPLETING_REBALANCE;
}

bool group_try_complete_join(group_t *g, int64_t now_ms, bool force)
{
    if (g->state != GROUP_PREPARING_REBALANCE)
        return false;
    bool ready = force || now_ms >= g->rebalance_deadline_ms;
    if (!ready && !g->initial_delay_round) {
        ready = true;                 /* Kafka's hasAllMembersJoined */
        for (group_member_t *m = g->members; m && ready; m = m->hh.next)
            ready = m->awaiting_join;
    }
    if (ready)
        group_complete_join(g, now_ms);
    return ready;
}

/* A member goes (leave, expiry): the others must rebalance without it. */
static void group_remove_member(group_t *g, group_member_t *m, int64_t now_ms)
{
    group_unlink_member(g, m);
    group_maybe_prepare_rebalance(g, now_ms);
    group_try_complete_join(g, now_ms, false);
}

/* ---- JoinGroup ------------------------------------------------------------------ */

static void group_extend_initial_delay(group_t *g, int64_t now_ms)
{
    if (g->state != GROUP_PREPARING_REBALANCE || !g->initial_delay_round)
        return;
    int64_t d = now_ms + g->config.initial_rebalance_delay_ms;
    g->rebalance_deadline_ms = d < g->initial_delay_limit_ms ? d : g->initial_delay_limit_ms;
}

static kl_err_t group_add_member_and_rebalance(group_t *g, const group_join_args_t *a,
                                               char *member_id, int64_t now_ms,
                                               group_join_outcome_t *out)
{
    if (g->config.max_size > 0 && group_member_count(g) >= g->config.max_size)
        return KL_ERR_GROUP_MAX_SIZE_REACHED;
    group_member_t *m = group_member_new(a, member_id, now_ms);
    if (!m)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    if (g->members == NULL) {
        char *pt = group_strdup(a->protocol_type);
        if (!pt) {
            group_member_free(m);
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        }
        free(g->protocol_type);
        g->protocol_type = pt;
    }
    m->awaiting_join = true;
    int hash_oom = 0;
    HASH_ADD_KEYPTR(hh, g->members, m->member_id, strlen(m->member_id), m);
    if (hash_oom) {
        group_member_free(m);
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (g->leader == NULL)
        g->leader = m;                                    /* invariant 2 */
    group_extend_initial_delay(g, now_ms);
    group_maybe_prepare_rebalance(g, now_ms);
    out->member_id = m->member_id;
    return KL_OK;
}

/* Replace a member's protocols (after the caller checked they fit) and mark it joined. */
static kl_err_t group_update_member_and_rebalance(group_t *g, group_member_t *m,
                                                  const group_join_args_t *a, int64_t now_ms)
{
    group_protocol_t *p = group_protocols_copy(a->protocols, a->protocol_count);
    char *cid = group_strdup(a->client_id), *host = group_strdup(a->client_host);
    if (!p || !cid || !host) {
        if (p)
            group_protocols_free(p, a->protocol_count);
        free(cid);
        free(host);
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    group_protocols_free(m->protocols, m->protocol_count);
    m->protocols = p;
    m->protocol_count = a->protocol_count;
    free(m->client_id);
    m->client_id = cid;
    free(m->client_host);
    m->client_host = host;
    m->session_timeout_ms = a->session_timeout_ms;
    m->rebalance_timeout_ms = a->rebalance_timeout_ms > 0 ? a->rebalance_timeout_ms
                                                          : a->session_timeout_ms;
    m->last_heartbeat_ms = now_ms;
    m->awaiting_join = true;
    group_maybe_prepare_rebalance(g, now_ms);
    return KL_OK;
}

/* KIP-345: a static member restarted (empty member id, known instance id). It gets a
 * new member id in the old one's place; the old id is fenced. In Stable, if the chosen
 * protocol would not change, no rebalance: the member takes over its old assignment. */
static kl_err_t group_replace_static_member(group_t *g, group_member_t *old,
                                            const group_join_args_t *a, int64_t now_ms,
                                            group_id_source_t ids, group_join_outcome_t *out)
{
    char *new_id = group_new_member_id(a->group_instance_id, ids);
    if (!new_id)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    HASH_DEL(g->members, old);
    free(old->member_id);
    old->member_id = new_id;
    /* Re-keyed, so it moves to the end of the join order; g->leader points at the
     * struct, so a static leader stays leader. */
    int hash_oom = 0;
    HASH_ADD_KEYPTR(hh, g->members, old->member_id, strlen(old->member_id), old);
    if (hash_oom) {
        /* Out of memory re-keying the member (out of the table already): it is gone,
         * as if its session expired — the leader passes on (invariant 2), the others
         * rebalance, a group left without members ends its round Empty (invariant 1). */
        if (g->leader == old)
            g->leader = g->members;
        group_member_free(old);
        group_maybe_prepare_rebalance(g, now_ms);
        group_try_complete_join(g, now_ms, false);
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    out->member_id = old->member_id;
    group_state_t before = g->state;
    bool matches = group_member_matches(old, a);
    if (before == GROUP_PREPARING_REBALANCE) {
        return group_update_member_and_rebalance(g, old, a, now_ms);
    }
    if (before == GROUP_STABLE && matches) {
        old->last_heartbeat_ms = now_ms;   /* answered at once with the current generation */
        return KL_OK;
    }
    /* CompletingRebalance: the leader may already be assigning to the old id. */
    return group_update_member_and_rebalance(g, old, a, now_ms);
}

static kl_err_t group_join_new_member(group_t *g, const group_join_args_t *a,
                                      int64_t now_ms, group_id_source_t ids,
                                      group_join_outcome_t *out)
{
    bool is_static = !group_str_empty(a->group_instance_id);
    if (is_static) {
        group_member_t *old = group_find_static_member(g, a->group_instance_id);
        if (old)
            return group_replace_static_member(g, old, a, now_ms, ids, out);
    }
    if (g->config.max_size > 0 && group_member_count(g) >= g->config.max_size)
        return KL_ERR_GROUP_MAX_SIZE_REACHED;
    char *id = group_new_member_id(is_static ? a->group_instance_id : a->client_id, ids);
    if (!id)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    if (!is_static && a->require_known_member_id) {
        /* KIP-394: hand out the id, remember it, and make the client come back with it,
         * so a client that times out before the answer does not leave a ghost member. */
        group_pending_member_t *p = calloc(1, sizeof *p);
        if (!p) {
            free(id);
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        }
        p->member_id = id;
        p->expires_ms = now_ms + a->session_timeout_ms;
        int hash_oom = 0;
        HASH_ADD_KEYPTR(hh, g->pending, p->member_id, strlen(p->member_id), p);
        if (hash_oom) {
            free(id);
            free(p);
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        }
        out->member_id = p->member_id;
        return KL_ERR_MEMBER_ID_REQUIRED;
    }
    kl_err_t err = group_add_member_and_rebalance(g, a, id, now_ms, out);
    free(id);
    return err;
}

static kl_err_t group_join_known_member(group_t *g, const group_join_args_t *a,
                                        int64_t now_ms, group_join_outcome_t *out)
{
    group_pending_member_t *p = group_find_pending(g, a->member_id);
    if (p) {                                       /* second step of KIP-394 */
        kl_err_t err = group_add_member_and_rebalance(g, a, p->member_id, now_ms, out);
        if (err == KL_OK)
            group_drop_pending(g, p);      /* out->member_id is the member's own copy */
        return err;
    }
    group_member_t *st = group_find_static_member(g, a->group_instance_id);
    if (st && strcmp(st->member_id, a->member_id) != 0)
        return KL_ERR_FENCED_INSTANCE_ID;
    group_member_t *m = group_find_member(g, a->member_id);
    if (!m || (!group_str_empty(a->group_instance_id) && !st))
        return KL_ERR_UNKNOWN_MEMBER_ID;
    out->member_id = m->member_id;
    switch (g->state) {
    case GROUP_PREPARING_REBALANCE:
        return group_update_member_and_rebalance(g, m, a, now_ms);
    case GROUP_COMPLETING_REBALANCE:
        if (group_member_matches(m, a)) {          /* lost its JoinGroup answer: resend */
            m->last_heartbeat_ms = now_ms;
            return KL_OK;
        }
        return group_update_member_and_rebalance(g, m, a, now_ms);
    case GROUP_STABLE:
        if (g->leader == m || !group_member_matches(m, a))
            return group_update_member_and_rebalance(g, m, a, now_ms);
        m->last_heartbeat_ms = now_ms;
        return KL_OK;
    case GROUP_EMPTY:
    case GROUP_DEAD:
        break;
    }
    return KL_ERR_UNKNOWN_MEMBER_ID;
}

kl_err_t group_join(group_t *g, const group_join_args_t *a, int64_t now_ms,
                    group_id_source_t ids, group_join_outcome_t *out)
{
    out->member_id = NULL;
    out->waiting = false;
    if (g->state == GROUP_DEAD)
        return KL_ERR_COORDINATOR_NOT_AVAILABLE;
    if (a->session_timeout_ms < g->config.min_session_timeout_ms ||
        a->session_timeout_ms > g->config.max_session_timeout_ms)
        return KL_ERR_INVALID_SESSION_TIMEOUT;
    if (!group_supports_protocols(g, a))
        return KL_ERR_INCONSISTENT_GROUP_PROTOCOL;
    kl_err_t err = group_str_empty(a->member_id)
                       ? group_join_new_member(g, a, now_ms, ids, out)
                       : group_join_known_member(g, a, now_ms, out);
    if (err != KL_OK)
        return err;
    group_try_complete_join(g, now_ms, false);
    out->waiting = g->state == GROUP_PREPARING_REBALANCE;
    return KL_OK;
}

/* ---- SyncGroup, Heartbeat, LeaveGroup --------------------------------------------- */

/* KIP-345: an instance id now bound to another member id means this one is a zombie. */
static bool group_is_fenced(const group_t *g, const char *member_id,
                            const char *group_instance_id)
{
    group_member_t *st = group_find_static_member(g, group_instance_id);
    return st && !group_str_eq(st->member_id, member_id);
}

static kl_err_t group_set_assignment(group_member_t *m, const uint8_t *b, size_t n)
{
    uint8_t *copy = group_bytedup(b, n);
    if (!copy)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    free(m->assignment);
    m->assignment = copy;
    m->assignment_len = n;
    return KL_OK;
}

/* CompletingRebalance → Stable: the leader's assignments reach every member; members
 * the leader left out get an empty assignment. */
static kl_err_t group_apply_assignments(group_t *g, const group_assignment_t *as, int32_t n)
{
    for (group_member_t *m = g->members; m; m = m->hh.next) {
        const uint8_t *b = NULL;
        size_t len = 0;
        for (int32_t i = 0; i < n; i++) {
            if (group_str_eq(as[i].member_id, m->member_id)) {
                b = as[i].assignment;
                len = as[i].assignment_len;
            }
        }
        if (group_set_assignment(m, b, len) != KL_OK)
            return KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    for (group_member_t *m = g->members; m; m = m->hh.next)
        m->awaiting_sync = false;                              /* invariant 4 */
    g->state = GROUP_STABLE;
    return KL_OK;
}

/* The checks SyncGroup and Heartbeat start with, in Kafka's order: the group is alive, a
 * static member's instance is not fenced, the member exists, its generation is current.
 * *m_out is the member when the answer is KL_OK. */
static kl_err_t group_check_member(group_t *g, const char *member_id,
                                   const char *group_instance_id, int32_t generation_id,
                                   group_member_t **m_out)
{
    if (g->state == GROUP_DEAD)
        return KL_ERR_COORDINATOR_NOT_AVAILABLE;
    if (group_is_fenced(g, member_id, group_instance_id))
        return KL_ERR_FENCED_INSTANCE_ID;
    group_member_t *m = group_find_member(g, member_id);
    if (!m)
        return KL_ERR_UNKNOWN_MEMBER_ID;
    if (generation_id != g->generation_id)
        return KL_ERR_ILLEGAL_GENERATION;
    *m_out = m;
    return KL_OK;
}

kl_err_t group_sync(group_t *g, const char *member_id, const char *group_instance_id,
                    int32_t generation_id, const char *protocol_type,
                    const char *protocol_name, const group_assignment_t *assignments,
                    int32_t assignment_count, int64_t now_ms, group_sync_outcome_t *out)
{
    out->waiting = false;
    out->assignment = NULL;
    out->assignment_len = 0;
    group_member_t *m = NULL;
    kl_err_t err = group_check_member(g, member_id, group_instance_id, generation_id, &m);
    if (err != KL_OK)
        return err;
    /* KIP-559: SyncGroup v5 names the protocol; it must be the one chosen. */
    if ((protocol_type && !group_str_eq(protocol_type, g->protocol_type)) ||
        (protocol_name && !group_str_eq(protocol_name, g->protocol_name)))
        return KL_ERR_INCONSISTENT_GROUP_PROTOCOL;
    m->last_heartbeat_ms = now_ms;
    switch (g->state) {
    case GROUP_PREPARING_REBALANCE:
        return KL_ERR_REBALANCE_IN_PROGRESS;
    case GROUP_COMPLETING_REBALANCE:
        if (g->leader == m) {
            err = group_apply_assignments(g, assignments, assignment_count);
            if (err != KL_OK)
                return err;
            break;
        }
        m->awaiting_sync = true;
        out->waiting = true;
        return KL_OK;
    case GROUP_STABLE:
        break;
    case GROUP_EMPTY:
    case GROUP_DEAD:
        return KL_ERR_UNKNOWN_MEMBER_ID;
    }
    out->assignment = m->assignment;
    out->assignment_len = m->assignment_len;
    return KL_OK;
}

void group_cancel_sync(group_t *g, const char *member_id)
{
    group_member_t *m = group_find_member(g, member_id);
    if (m)
        m->awaiting_sync = false;
}

kl_err_t group_heartbeat(group_t *g, const char *member_id, const char *group_instance_id,
                         int32_t generation_id, int64_t now_ms)
{
    group_member_t *m = NULL;
    kl_err_t err = group_check_member(g, member_id, group_instance_id, generation_id, &m);
    if (err != KL_OK)
        return err;
    m->last_heartbeat_ms = now_ms;
    /* The heartbeat is how a settled member learns it must rejoin. */
    if (g->state == GROUP_PREPARING_REBALANCE)
        return KL_ERR_REBALANCE_IN_PROGRESS;
    return KL_OK;
}

kl_err_t group_leave(group_t *g, const char *member_id, const char *group_instance_id,
                     int64_t now_ms)
{
    if (g->state == GROUP_DEAD)
        return KL_ERR_COORDINATOR_NOT_AVAILABLE;
    group_member_t *m;
    if (!group_str_empty(group_instance_id)) {
        m = group_find_static_member(g, group_instance_id);
        if (!m)
            return KL_ERR_UNKNOWN_MEMBER_ID;
        if (!group_str_empty(member_id) && strcmp(m->member_id, member_id) != 0)
            return KL_ERR_FENCED_INSTANCE_ID;
    } else {
        group_pending_member_t *p = group_find_pending(g, member_id);
        if (p) {
            group_drop_pending(g, p);
            return KL_OK;
        }
        m = group_find_member(g, member_id);
        if (!m)
            return KL_ERR_UNKNOWN_MEMBER_ID;
    }
    group_remove_member(g, m, now_ms);
    return KL_OK;
}

/* ---- time ------------------------------------------------------------------------- */

static bool group_member_expired(const group_member_t *m, int64_t now_ms)
{
    if (m->awaiting_join || m->awaiting_sync)                  /* invariant 5 */
        return false;
    return now_ms - m->last_heartbeat_ms >= m->session_timeout_ms;
}

int32_t group_expire(group_t *g, int64_t now_ms)
{
    int32_t removed = 0;
    if (g->state == GROUP_DEAD)
        return 0;
    group_pending_member_t *p, *ptmp;
    HASH_ITER(hh, g->pending, p, ptmp) {
        if (now_ms >= p->expires_ms)
            group_drop_pending(g, p);
    }
    /* One at a time, starting over each time: removing a member may end the round,
     * and ending the round may remove other members (no iterator survives that). */
    for (;;) {
        group_member_t *victim = NULL;
        for (group_member_t *m = g->members; m && !victim; m = m->hh.next)
            if (group_member_expired(m, now_ms))
                victim = m;
        if (!victim)
            break;
        group_remove_member(g, victim, now_ms);
        removed++;
    }
    group_try_complete_join(g, now_ms, false);
    return removed;
}

/* ---- OffsetCommit, DeleteGroups ---------------------------------------------------- */

kl_err_t group_check_commit(group_t *g, int32_t generation_id, const char *member_id,
                            const char *group_instance_id, int64_t now_ms)
{
    if (g->state == GROUP_DEAD)
        return KL_ERR_COORDINATOR_NOT_AVAILABLE;
    if (group_is_fenced(g, member_id, group_instance_id))
        return KL_ERR_FENCED_INSTANCE_ID;
    if (generation_id < 0 && g->state == GROUP_EMPTY)
        return KL_OK;                  /* the group only uses Kafka to store offsets */
    if (g->state == GROUP_COMPLETING_REBALANCE)
        return KL_ERR_REBALANCE_IN_PROGRESS;
    group_member_t *m = group_find_member(g, member_id);
    if (!m)
        return KL_ERR_UNKNOWN_MEMBER_ID;
    if (generation_id != g->generation_id)
        return KL_ERR_ILLEGAL_GENERATION;
    m->last_heartbeat_ms = now_ms;
    return KL_OK;
}

kl_err_t group_delete(group_t *g)
{
    if (g->state == GROUP_DEAD)
        return KL_ERR_GROUP_ID_NOT_FOUND;
    if (g->members != NULL)
        return KL_ERR_NON_EMPTY_GROUP;
    g->state = GROUP_DEAD;
    return KL_OK;
}
