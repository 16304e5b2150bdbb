/*
 * application/group_coordinator.c — the consumer group use cases (see the header for
 * the API and for how a protocol handler parks JoinGroup/SyncGroup with a ticket).
 * Layer: application. May touch: domain/ (group, topic names), application/ports.h,
 * application/offset_store.h, uthash, <stdlib.h>, <string.h>. Reads time only through
 * the clock port, once per public call; writes offsets only through the store port.
 *
 * Design invariants:
 *
 *  1. The domain decides, the coordinator remembers who asked. Every rule of the group
 *     protocol lives in domain/group.c; this file maps group ids to groups, keeps
 *     committed offsets, and keeps tickets for parked requests.
 *  2. A ticket is answered ("resolved") the moment the group's state decides it, by
 *     coord_resolve_group(), which every call that can change a group runs before it
 *     returns. The answer is a deep copy taken then, so a later change of the group
 *     (a new round starting before the parked request is retried) cannot alter it.
 *  3. Whether a ticket is decided is a function of the group alone:
 *        JOIN  waiting in generation G: decided when generation > G (the round ended),
 *              or when its member is gone (UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID);
 *        SYNC  waiting in generation G: decided when the group is Stable in G (the
 *              leader's assignment), or it left G / is rebalancing
 *              (REBALANCE_IN_PROGRESS), or its member is gone.
 *  4. An offset is in memory only after the store made it durable (write-ahead):
 *     OffsetFetch never reports a commit a crash could lose.
 *  5. Every ticket is freed exactly once: when its result is handed out, or by
 *     coord_tick() ticket_grace_ms after its deadline (the client went away).
 *
 * A ticket's life:
 *
 *     coord_join/coord_sync          coord_resolve_group()          retry (park_cookie)
 *     (answer not known yet)   -->   (group state decides)    -->   result moved out,
 *     ticket PENDING                 ticket RESOLVED                ticket freed
 *          |                                                               ^
 *          +--- retry before that: PENDING again (same ticket) ------------+
 *          +--- final attempt: join round forced to end / sync gives up ---+
 *          +--- never retried: coord_tick() frees it after the grace period
 */
/* uthash calls exit() when it cannot allocate, by default; a broker must answer
 * UNKNOWN_SERVER_ERROR instead (errors are values). With HASH_NONFATAL_OOM a failed add
 * leaves the table as it was and uthash_nonfatal_oom runs in the adding function, where
 * `hash_oom` is a local. Must precede the first inclusion of <uthash.h>. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = 1)

#include "application/group_coordinator.h"

#include <stdlib.h>
#include <string.h>

#include "domain/topic.h"

/* ---- private types -------------------------------------------------------------- */

typedef struct coord_offset_key {
    char topic[KL_TOPIC_NAME_MAX + 1];
    int32_t partition;
} coord_offset_key_t;

typedef struct coord_offset_entry {
    coord_offset_key_t key;          /* zero-filled before use: hashed as bytes */
    int64_t offset;
    char *metadata;
    int64_t commit_timestamp_ms;
    UT_hash_handle hh;
} coord_offset_entry_t;

struct coord_group {
    group_t g;                       /* g.group_id is the hash key */
    coord_offset_entry_t *offsets;   /* uthash by (topic, partition) */
    UT_hash_handle hh;
};

typedef enum coord_ticket_kind { COORD_TICKET_JOIN, COORD_TICKET_SYNC } coord_ticket_kind_t;

struct coord_ticket {
    int64_t id;                      /* hash key; > 0 */
    coord_ticket_kind_t kind;
    char *group_id;
    char *member_id;
    char *group_instance_id;         /* NULL for a dynamic member */
    int32_t generation_id;           /* the generation the member waited in */
    int64_t deadline_ms;             /* coordinator clock */
    bool resolved;
    coord_join_result_t join;        /* kind JOIN, once resolved */
    coord_sync_result_t sync;        /* kind SYNC, once resolved */
    UT_hash_handle hh;
};

/* ---- helpers ---------------------------------------------------------------------- */

static char *coord_strdup(const char *s)        /* NULL reads as "" */
{
    size_t n = strlen(s ? s : "");
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s ? s : "", n);
        p[n] = '\0';
    }
    return p;
}

static char *coord_strdup_opt(const char *s) { return s ? coord_strdup(s) : NULL; }

static uint8_t *coord_bytedup(const uint8_t *b, size_t n)
{
    if (!b || n == 0)
        return NULL;
    uint8_t *p = malloc(n);
    if (p)
        memcpy(p, b, n);
    return p;
}

static bool coord_empty(const char *s) { return s == NULL || s[0] == '\0'; }

static int64_t coord_wait(int64_t deadline_ms, int64_t now_ms)
{
    return deadline_ms > now_ms ? deadline_ms - now_ms : 0;
}

/* splitmix64: the built-in id source when none is injected (see coord_init). */
static uint64_t coord_builtin_next64(void *self)
{
    coord_t *c = self;
    uint64_t z = (c->id_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- groups and offsets --------------------------------------------------------------- */

static coord_group_t *coord_find_group(coord_t *c, const char *group_id)
{
    coord_group_t *cg = NULL;
    if (group_id)
        HASH_FIND_STR(c->groups, group_id, cg);
    return cg;
}

static coord_group_t *coord_create_group(coord_t *c, const char *group_id)
{
    coord_group_t *cg = calloc(1, sizeof *cg);
    if (!cg)
        return NULL;
    if (group_init(&cg->g, group_id, &c->config.group) != KL_OK) {
        free(cg);
        return NULL;
    }
    int hash_oom = 0;
    HASH_ADD_KEYPTR(hh, c->groups, cg->g.group_id, strlen(cg->g.group_id), cg);
    if (hash_oom) {
        group_free(&cg->g);
        free(cg);
        return NULL;
    }
    return cg;
}

static void coord_offsets_clear(coord_group_t *cg)
{
    coord_offset_entry_t *e, *tmp;
    HASH_ITER(hh, cg->offsets, e, tmp) {
        HASH_DEL(cg->offsets, e);
        free(e->metadata);
        free(e);
    }
}

static void coord_drop_group(coord_t *c, coord_group_t *cg)
{
    HASH_DEL(c->groups, cg);
    coord_offsets_clear(cg);
    group_free(&cg->g);
    free(cg);
}

/* Drop `cg`'s offsets of `topic`; whether it had any. */
static bool coord_offsets_drop_topic(coord_group_t *cg, const char *topic)
{
    bool any = false;
    coord_offset_entry_t *e, *tmp;
    HASH_ITER(hh, cg->offsets, e, tmp) {
        if (strcmp(e->key.topic, topic) != 0)
            continue;
        HASH_DEL(cg->offsets, e);
        free(e->metadata);
        free(e);
        any = true;
    }
    return any;
}

static bool coord_offsets_have_topic(const coord_group_t *cg, const char *topic)
{
    for (const coord_offset_entry_t *e = cg->offsets; e; e = e->hh.next)
        if (strcmp(e->key.topic, topic) == 0)
            return true;
    return false;
}

/* The topic was deleted: its offsets go from every group, and a group left Empty with
 * none goes too (Kafka's cleanupGroupMetadata turns it Dead). Used live and on replay. */
static void coord_forget_topic(coord_t *c, const char *topic)
{
    coord_group_t *cg, *tmp;
    HASH_ITER(hh, c->groups, cg, tmp) {
        if (coord_offsets_drop_topic(cg, topic) && cg->offsets == NULL &&
            group_member_count(&cg->g) == 0 && group_delete(&cg->g) == KL_OK)
            coord_drop_group(c, cg);
    }
}

/* false when the topic name cannot be a key (longer than any valid topic name). */
static bool coord_offset_key(coord_offset_key_t *k, const char *topic, int32_t partition)
{
    memset(k, 0, sizeof *k);
    size_t n = strlen(topic ? topic : "");
    if (n > KL_TOPIC_NAME_MAX)
        return false;
    memcpy(k->topic, topic ? topic : "", n);
    k->partition = partition;
    return true;
}

static coord_offset_entry_t *coord_find_offset(coord_group_t *cg, const char *topic,
                                               int32_t partition)
{
    coord_offset_key_t k;
    coord_offset_entry_t *e = NULL;
    if (cg && coord_offset_key(&k, topic, partition))
        HASH_FIND(hh, cg->offsets, &k, sizeof k, e);
    return e;
}

static kl_err_t coord_put_offset(coord_group_t *cg, const kl_offset_commit_t *oc,
                                 int64_t ts)
{
    char *meta = coord_strdup(oc->metadata);
    if (!meta)
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    coord_offset_entry_t *e = coord_find_offset(cg, oc->topic, oc->partition);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e || !coord_offset_key(&e->key, oc->topic, oc->partition)) {
            free(e);
            free(meta);
            return e ? KL_ERR_UNKNOWN_TOPIC_OR_PARTITION : KL_ERR_UNKNOWN_SERVER_ERROR;
        }
        int hash_oom = 0;
        HASH_ADD(hh, cg->offsets, key, sizeof e->key, e);
        if (hash_oom) {
            free(e);
            free(meta);
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        }
    }
    free(e->metadata);
    e->metadata = meta;
    e->offset = oc->offset;
    e->commit_timestamp_ms = ts;
    return KL_OK;
}

/* ---- results ---------------------------------------------------------------------------- */

static void coord_member_infos_free(coord_member_info_t *ms, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        free(ms[i].member_id);
        free(ms[i].group_instance_id);
        free(ms[i].client_id);
        free(ms[i].client_host);
        free(ms[i].metadata);
        free(ms[i].assignment);
    }
    free(ms);
}

/* Copy every member; with_metadata adds the chosen protocol's metadata, with_assignment
 * the assignment. NULL (and *n_out 0) on out of memory or an empty group. */
static coord_member_info_t *coord_member_infos(const group_t *g, bool with_metadata,
                                               bool with_assignment, int32_t *n_out,
                                               kl_err_t *err)
{
    int32_t n = group_member_count(g), i = 0;
    *n_out = 0;
    *err = KL_OK;
    if (n == 0)
        return NULL;
    coord_member_info_t *ms = calloc((size_t)n, sizeof *ms);
    if (!ms) {
        *err = KL_ERR_UNKNOWN_SERVER_ERROR;
        return NULL;
    }
    for (group_member_t *m = g->members; m; m = m->hh.next, i++) {
        coord_member_info_t *x = &ms[i];
        x->member_id = coord_strdup(m->member_id);
        x->group_instance_id = coord_strdup_opt(m->group_instance_id);
        x->client_id = coord_strdup(m->client_id);
        x->client_host = coord_strdup(m->client_host);
        bool ok = x->member_id && x->client_id && x->client_host &&
                  (!m->group_instance_id || x->group_instance_id);
        if (with_metadata) {
            size_t len;
            const uint8_t *md = group_member_metadata(m, g->protocol_name, &len);
            x->metadata = coord_bytedup(md, len);
            x->metadata_len = x->metadata ? len : 0;
            ok = ok && (len == 0 || x->metadata);
        }
        if (with_assignment) {
            x->assignment = coord_bytedup(m->assignment, m->assignment_len);
            x->assignment_len = x->assignment ? m->assignment_len : 0;
            ok = ok && (m->assignment_len == 0 || x->assignment);
        }
        if (!ok) {
            coord_member_infos_free(ms, n);
            *err = KL_ERR_UNKNOWN_SERVER_ERROR;
            return NULL;
        }
    }
    *n_out = n;
    return ms;
}

void coord_join_result_free(coord_join_result_t *r)
{
    free(r->member_id);
    free(r->protocol_type);
    free(r->protocol_name);
    free(r->leader_id);
    coord_member_infos_free(r->members, r->member_count);
    memset(r, 0, sizeof *r);
}

void coord_sync_result_free(coord_sync_result_t *r)
{
    free(r->protocol_type);
    free(r->protocol_name);
    free(r->assignment);
    memset(r, 0, sizeof *r);
}

void coord_describe_result_free(coord_describe_result_t *r)
{
    free(r->protocol_type);
    free(r->protocol_name);
    coord_member_infos_free(r->members, r->member_count);
    memset(r, 0, sizeof *r);
}

/* A JoinGroup error answer: generation -1, the member id as sent (or the new one). */
static void coord_join_fail(coord_join_result_t *out, kl_err_t err, const char *member_id)
{
    coord_join_result_free(out);
    out->error = err;
    out->generation_id = GROUP_NO_GENERATION;
    out->member_id = coord_strdup(member_id);
    out->leader_id = coord_strdup("");
}

/* The JoinGroup answer for member `m` of the generation just formed. The leader gets
 * every member's metadata, to compute the assignment from. */
static void coord_join_answer(const group_t *g, const group_member_t *m,
                              coord_join_result_t *out)
{
    kl_err_t err = KL_OK;
    coord_join_result_free(out);
    out->error = KL_OK;
    out->generation_id = g->generation_id;
    out->member_id = coord_strdup(m->member_id);
    out->protocol_type = coord_strdup(g->protocol_type);
    /* NULL only when complete_join() ran out of memory keeping the chosen name: no
     * answer then, rather than protocol "" and a leader without metadata. */
    out->protocol_name = g->protocol_name ? coord_strdup(g->protocol_name) : NULL;
    out->leader_id = coord_strdup(g->leader ? g->leader->member_id : "");
    if (g->leader == m)
        out->members = coord_member_infos(g, true, false, &out->member_count, &err);
    if (err != KL_OK || !out->member_id || !out->protocol_type || !out->protocol_name ||
        !out->leader_id)
        coord_join_fail(out, KL_ERR_UNKNOWN_SERVER_ERROR, m->member_id);
}

static void coord_sync_fail(coord_sync_result_t *out, kl_err_t err)
{
    coord_sync_result_free(out);
    out->error = err;
}

static void coord_sync_answer(const group_t *g, const uint8_t *assignment, size_t len,
                              coord_sync_result_t *out)
{
    coord_sync_result_free(out);
    out->error = KL_OK;
    out->protocol_type = coord_strdup(g->protocol_type);
    out->protocol_name = g->protocol_name ? coord_strdup(g->protocol_name) : NULL;
    out->assignment = coord_bytedup(assignment, len);
    out->assignment_len = out->assignment ? len : 0;
    if (!out->protocol_type || !out->protocol_name || (len && !out->assignment))
        coord_sync_fail(out, KL_ERR_UNKNOWN_SERVER_ERROR);
}

/* ---- tickets ---------------------------------------------------------------------------- */

static void coord_ticket_free(coord_t *c, coord_ticket_t *t)
{
    HASH_DEL(c->tickets, t);
    free(t->group_id);
    free(t->member_id);
    free(t->group_instance_id);
    coord_join_result_free(&t->join);
    coord_sync_result_free(&t->sync);
    free(t);
}

static coord_ticket_t *coord_ticket_new(coord_t *c, coord_ticket_kind_t kind,
                                        const char *group_id, const char *member_id,
                                        const char *group_instance_id, int32_t generation,
                                        int64_t deadline_ms)
{
    coord_ticket_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->kind = kind;
    t->group_id = coord_strdup(group_id);
    t->member_id = coord_strdup(member_id);
    t->group_instance_id = coord_empty(group_instance_id) ? NULL
                                                          : coord_strdup(group_instance_id);
    if (!t->group_id || !t->member_id || (!coord_empty(group_instance_id) &&
                                          !t->group_instance_id)) {
        free(t->group_id);
        free(t->member_id);
        free(t->group_instance_id);
        free(t);
        return NULL;
    }
    t->id = c->next_ticket++;
    t->generation_id = generation;
    t->deadline_ms = deadline_ms;
    int hash_oom = 0;
    HASH_ADD(hh, c->tickets, id, sizeof t->id, t);
    if (hash_oom) {
        free(t->group_id);
        free(t->member_id);
        free(t->group_instance_id);
        free(t);
        return NULL;
    }
    return t;
}

static coord_ticket_t *coord_ticket_find(coord_t *c, int64_t id, coord_ticket_kind_t kind,
                                         const char *group_id)
{
    coord_ticket_t *t = NULL;
    HASH_FIND(hh, c->tickets, &id, sizeof id, t);
    if (t && (t->kind != kind || strcmp(t->group_id, group_id ? group_id : "") != 0))
        return NULL;             /* a cookie that is not this request's: never trust it */
    return t;
}

/* Invariant 3: decide one ticket from the group's state, if it can be decided. */
static void coord_ticket_try_resolve(coord_group_t *cg, coord_ticket_t *t)
{
    group_t *g = cg ? &cg->g : NULL;
    group_member_t *m = g ? group_find_member(g, t->member_id) : NULL;
    if (!m) {
        /* KIP-345: a static member replaced by a newer instance is fenced, not unknown */
        bool fenced = g && group_find_static_member(g, t->group_instance_id) != NULL;
        kl_err_t err = fenced ? KL_ERR_FENCED_INSTANCE_ID : KL_ERR_UNKNOWN_MEMBER_ID;
        if (t->kind == COORD_TICKET_JOIN)
            coord_join_fail(&t->join, err, t->member_id);
        else
            coord_sync_fail(&t->sync, err);
        t->resolved = true;
        return;
    }
    if (t->kind == COORD_TICKET_JOIN) {
        if (g->generation_id > t->generation_id) {
            coord_join_answer(g, m, &t->join);
            t->resolved = true;
        }
        return;
    }
    if (g->generation_id != t->generation_id || g->state == GROUP_PREPARING_REBALANCE) {
        coord_sync_fail(&t->sync, KL_ERR_REBALANCE_IN_PROGRESS);
        t->resolved = true;
    } else if (g->state == GROUP_STABLE) {
        coord_sync_answer(g, m->assignment, m->assignment_len, &t->sync);
        t->resolved = true;
    }
}

/* Invariant 2: run after anything that may have changed `cg`. */
static void coord_resolve_group(coord_t *c, coord_group_t *cg, const char *group_id)
{
    coord_ticket_t *t, *tmp;
    HASH_ITER(hh, c->tickets, t, tmp) {
        if (!t->resolved && strcmp(t->group_id, group_id) == 0)
            coord_ticket_try_resolve(cg, t);
    }
}

/* ---- life cycle ------------------------------------------------------------------------- */

coord_config_t coord_config_default(void)
{
    coord_config_t cfg = { .group = group_config_default(), .ticket_grace_ms = 60000 };
    return cfg;
}

static kl_err_t coord_load_visit(void *arg, const kl_offset_record_t *rec)
{
    coord_t *c = arg;
    if (rec->topic_deleted) {            /* topic tombstone: its offsets, every group */
        coord_forget_topic(c, rec->commit.topic ? rec->commit.topic : "");
        return KL_OK;
    }
    coord_group_t *cg = coord_find_group(c, rec->group_id);
    if (rec->group_deleted) {            /* tombstone: forget what came before */
        if (cg)
            coord_drop_group(c, cg);
        return KL_OK;
    }
    if (!cg && !(cg = coord_create_group(c, rec->group_id)))
        return KL_ERR_UNKNOWN_SERVER_ERROR;
    return coord_put_offset(cg, &rec->commit, rec->commit_timestamp_ms);
}

kl_err_t coord_init(coord_t *c, const coord_config_t *cfg, kl_clock_t clock,
                    kl_offset_store_t store, group_id_source_t ids)
{
    memset(c, 0, sizeof *c);
    c->config = *cfg;
    c->clock = clock;
    c->store = store;
    c->next_ticket = 1;
    if (ids.next64) {
        c->ids = ids;
    } else {
        c->id_state = (uint64_t)clock.now_ms(clock.self);
        c->ids.self = c;
        c->ids.next64 = coord_builtin_next64;
    }
    kl_err_t err = store.load_all(store.self, coord_load_visit, c);
    if (err != KL_OK)
        coord_close(c);
    return err;
}

void coord_close(coord_t *c)
{
    coord_group_t *cg, *gtmp;
    HASH_ITER(hh, c->groups, cg, gtmp)
        coord_drop_group(c, cg);
    coord_ticket_t *t, *ttmp;
    HASH_ITER(hh, c->tickets, t, ttmp)
        coord_ticket_free(c, t);
}

/* ---- JoinGroup ---------------------------------------------------------------------------- */

static coord_outcome_t coord_join_retry(coord_t *c, const coord_join_args_t *a,
                                        int64_t ticket, bool final_attempt, int64_t now,
                                        coord_join_result_t *out)
{
    coord_ticket_t *t = coord_ticket_find(c, ticket, COORD_TICKET_JOIN, a->group_id);
    if (!t) {
        coord_join_fail(out, KL_ERR_UNKNOWN_MEMBER_ID, a->member_id);
        return COORD_DONE;
    }
    coord_group_t *cg = coord_find_group(c, t->group_id);
    if (!t->resolved) {
        /* The deadline is the round's: at it, the round ends without the laggards. */
        if (cg && group_try_complete_join(&cg->g, now, final_attempt))
            coord_resolve_group(c, cg, t->group_id);
        else
            coord_ticket_try_resolve(cg, t);
    }
    if (!t->resolved && final_attempt)     /* cannot happen; answer rather than hang */
        coord_join_fail(&t->join, KL_ERR_UNKNOWN_MEMBER_ID, t->member_id);
    else if (!t->resolved) {
        if (cg && cg->g.state == GROUP_PREPARING_REBALANCE)
            t->deadline_ms = cg->g.rebalance_deadline_ms;   /* initial delay may move it */
        coord_join_result_free(out);
        out->ticket = t->id;
        out->wait_ms = coord_wait(t->deadline_ms, now);
        return COORD_PENDING;
    }
    *out = t->join;                        /* move the answer out (invariant 5) */
    memset(&t->join, 0, sizeof t->join);
    coord_ticket_free(c, t);
    return COORD_DONE;
}

static group_join_args_t coord_domain_join_args(const coord_join_args_t *a)
{
    group_join_args_t d = {
        .member_id = a->member_id ? a->member_id : "",
        .group_instance_id = a->group_instance_id,
        .client_id = a->client_id,
        .client_host = a->client_host,
        .session_timeout_ms = a->session_timeout_ms,
        .rebalance_timeout_ms = a->rebalance_timeout_ms,
        .protocol_type = a->protocol_type,
        .protocols = a->protocols,
        .protocol_count = a->protocol_count,
        .require_known_member_id = a->require_known_member_id,
    };
    return d;
}

coord_outcome_t coord_join(coord_t *c, const coord_join_args_t *a, int64_t ticket,
                           bool final_attempt, coord_join_result_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = c->clock.now_ms(c->clock.self);
    if (ticket > 0)
        return coord_join_retry(c, a, ticket, final_attempt, now, out);
    if (coord_empty(a->group_id)) {
        coord_join_fail(out, KL_ERR_INVALID_GROUP_ID, a->member_id);
        return COORD_DONE;
    }
    coord_group_t *cg = coord_find_group(c, a->group_id);
    bool created = false;
    if (!cg) {
        if (!coord_empty(a->member_id)) {       /* a member of a group that is gone */
            coord_join_fail(out, KL_ERR_UNKNOWN_MEMBER_ID, a->member_id);
            return COORD_DONE;
        }
        if (!(cg = coord_create_group(c, a->group_id))) {
            coord_join_fail(out, KL_ERR_UNKNOWN_SERVER_ERROR, a->member_id);
            return COORD_DONE;
        }
        created = true;
    }
    group_join_args_t d = coord_domain_join_args(a);
    group_join_outcome_t o;
    kl_err_t err = group_join(&cg->g, &d, now, c->ids, &o);
    if (err != KL_OK) {
        coord_join_fail(out, err, o.member_id ? o.member_id : a->member_id);
        if (created && err != KL_ERR_MEMBER_ID_REQUIRED)
            coord_drop_group(c, cg);            /* leave no trace of a refused join */
        else
            coord_resolve_group(c, cg, a->group_id);
        return COORD_DONE;
    }
    group_member_t *m = group_find_member(&cg->g, o.member_id);
    if (!o.waiting) {
        coord_join_answer(&cg->g, m, out);
        coord_resolve_group(c, cg, a->group_id);
        return COORD_DONE;
    }
    coord_ticket_t *t = coord_ticket_new(c, COORD_TICKET_JOIN, a->group_id, m->member_id,
                                         a->group_instance_id, cg->g.generation_id,
                                         cg->g.rebalance_deadline_ms);
    coord_resolve_group(c, cg, a->group_id);
    if (!t) {
        coord_join_fail(out, KL_ERR_UNKNOWN_SERVER_ERROR, a->member_id);
        return COORD_DONE;
    }
    out->ticket = t->id;
    out->wait_ms = coord_wait(t->deadline_ms, now);
    return COORD_PENDING;
}

/* ---- SyncGroup ------------------------------------------------------------------------------ */

static coord_outcome_t coord_sync_retry(coord_t *c, const coord_sync_args_t *a,
                                        int64_t ticket, bool final_attempt, int64_t now,
                                        coord_sync_result_t *out)
{
    coord_ticket_t *t = coord_ticket_find(c, ticket, COORD_TICKET_SYNC, a->group_id);
    if (!t) {                /* lost track: make the member rejoin, keeping its id */
        coord_sync_fail(out, KL_ERR_REBALANCE_IN_PROGRESS);
        return COORD_DONE;
    }
    coord_group_t *cg = coord_find_group(c, t->group_id);
    if (!t->resolved)
        coord_ticket_try_resolve(cg, t);
    if (!t->resolved && (final_attempt || now >= t->deadline_ms)) {
        /* The leader never sent its assignment: the member rejoins (a dead leader is
         * removed by its session timeout, which starts a new round). */
        if (cg)
            group_cancel_sync(&cg->g, t->member_id);
        coord_sync_fail(&t->sync, KL_ERR_REBALANCE_IN_PROGRESS);
        t->resolved = true;
    }
    if (!t->resolved) {
        coord_sync_result_free(out);
        out->ticket = t->id;
        out->wait_ms = coord_wait(t->deadline_ms, now);
        return COORD_PENDING;
    }
    *out = t->sync;
    memset(&t->sync, 0, sizeof t->sync);
    coord_ticket_free(c, t);
    return COORD_DONE;
}

coord_outcome_t coord_sync(coord_t *c, const coord_sync_args_t *a, int64_t ticket,
                           bool final_attempt, coord_sync_result_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = c->clock.now_ms(c->clock.self);
    if (ticket > 0)
        return coord_sync_retry(c, a, ticket, final_attempt, now, out);
    if (coord_empty(a->group_id)) {
        coord_sync_fail(out, KL_ERR_INVALID_GROUP_ID);
        return COORD_DONE;
    }
    coord_group_t *cg = coord_find_group(c, a->group_id);
    if (!cg) {
        coord_sync_fail(out, KL_ERR_UNKNOWN_MEMBER_ID);
        return COORD_DONE;
    }
    group_sync_outcome_t o;
    kl_err_t err = group_sync(&cg->g, a->member_id, a->group_instance_id, a->generation_id,
                              a->protocol_type, a->protocol_name, a->assignments,
                              a->assignment_count, now, &o);
    if (err != KL_OK) {
        coord_sync_fail(out, err);
        return COORD_DONE;
    }
    if (!o.waiting) {
        coord_sync_answer(&cg->g, o.assignment, o.assignment_len, out);
        coord_resolve_group(c, cg, a->group_id);        /* the leader's sync frees all */
        return COORD_DONE;
    }
    group_member_t *m = group_find_member(&cg->g, a->member_id);
    coord_ticket_t *t = coord_ticket_new(c, COORD_TICKET_SYNC, a->group_id, a->member_id,
                                         a->group_instance_id, a->generation_id,
                                         now + m->rebalance_timeout_ms);
    if (!t) {
        group_cancel_sync(&cg->g, a->member_id);
        coord_sync_fail(out, KL_ERR_UNKNOWN_SERVER_ERROR);
        return COORD_DONE;
    }
    out->ticket = t->id;
    out->wait_ms = coord_wait(t->deadline_ms, now);
    return COORD_PENDING;
}

/* ---- Heartbeat, LeaveGroup ------------------------------------------------------------------- */

kl_err_t coord_heartbeat(coord_t *c, const char *group_id, const char *member_id,
                         const char *group_instance_id, int32_t generation_id)
{
    int64_t now = c->clock.now_ms(c->clock.self);
    if (coord_empty(group_id))
        return KL_ERR_INVALID_GROUP_ID;
    coord_group_t *cg = coord_find_group(c, group_id);
    if (!cg)
        return KL_ERR_UNKNOWN_MEMBER_ID;
    return group_heartbeat(&cg->g, member_id, group_instance_id, generation_id, now);
}

kl_err_t coord_leave(coord_t *c, const char *group_id, const char *member_id,
                     const char *group_instance_id)
{
    int64_t now = c->clock.now_ms(c->clock.self);
    if (coord_empty(group_id))
        return KL_ERR_INVALID_GROUP_ID;
    coord_group_t *cg = coord_find_group(c, group_id);
    if (!cg)
        return KL_ERR_UNKNOWN_MEMBER_ID;
    kl_err_t err = group_leave(&cg->g, member_id, group_instance_id, now);
    coord_resolve_group(c, cg, group_id);
    return err;
}

/* ---- OffsetCommit, OffsetFetch --------------------------------------------------------------- */

kl_err_t coord_commit_offsets(coord_t *c, const char *group_id, int32_t generation_id,
                              const char *member_id, const char *group_instance_id,
                              const kl_offset_commit_t *commits, size_t count)
{
    int64_t now = c->clock.now_ms(c->clock.self);
    if (!group_id)
        return KL_ERR_INVALID_GROUP_ID;
    coord_offset_key_t k;
    for (size_t i = 0; i < count; i++)
        if (!coord_offset_key(&k, commits[i].topic, commits[i].partition))
            return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    coord_group_t *cg = coord_find_group(c, group_id);
    bool created = false;
    if (!cg) {
        /* No group: fine for a consumer that only stores offsets here (generation < 0);
         * anyone else comes from a generation that no longer exists. */
        if (generation_id >= 0)
            return KL_ERR_ILLEGAL_GENERATION;
        if (!(cg = coord_create_group(c, group_id)))
            return KL_ERR_UNKNOWN_SERVER_ERROR;
        created = true;
    }
    kl_err_t err = group_check_commit(&cg->g, generation_id, member_id, group_instance_id,
                                      now);
    if (err == KL_OK && count > 0)                      /* invariant 4: disk first */
        err = c->store.commit(c->store.self, group_id, commits, count, now);
    for (size_t i = 0; err == KL_OK && i < count; i++)
        err = coord_put_offset(cg, &commits[i], now);
    if (err != KL_OK && created && cg->offsets == NULL)
        coord_drop_group(c, cg);
    return err;
}

static void coord_offset_view(const coord_offset_entry_t *e, coord_offset_t *out)
{
    out->offset = e ? e->offset : -1;
    out->metadata = e ? e->metadata : "";
    out->commit_timestamp_ms = e ? e->commit_timestamp_ms : -1;
}

kl_err_t coord_fetch_offset(coord_t *c, const char *group_id, const char *topic,
                            int32_t partition, coord_offset_t *out)
{
    coord_offset_view(NULL, out);
    if (!group_id)
        return KL_ERR_INVALID_GROUP_ID;
    coord_offset_view(coord_find_offset(coord_find_group(c, group_id), topic, partition),
                      out);
    return KL_OK;
}

kl_err_t coord_fetch_all_offsets(coord_t *c, const char *group_id,
                                 coord_offset_visit_fn visit, void *arg)
{
    if (!group_id)
        return KL_ERR_INVALID_GROUP_ID;
    coord_group_t *cg = coord_find_group(c, group_id);
    if (!cg)
        return KL_OK;
    for (coord_offset_entry_t *e = cg->offsets; e; e = e->hh.next) {
        coord_offset_t view;
        coord_offset_view(e, &view);
        kl_err_t err = visit(arg, e->key.topic, e->key.partition, &view);
        if (err != KL_OK)
            return err;
    }
    return KL_OK;
}

/* ---- DescribeGroups, ListGroups, DeleteGroups ---------------------------------------------- */

kl_err_t coord_describe(coord_t *c, const char *group_id, coord_describe_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->state = group_state_name(GROUP_DEAD);
    if (!group_id) {
        out->error = KL_ERR_INVALID_GROUP_ID;
        return out->error;
    }
    coord_group_t *cg = coord_find_group(c, group_id);
    const group_t *g = cg ? &cg->g : NULL;
    bool stable = g && g->state == GROUP_STABLE;
    kl_err_t err = KL_OK;
    if (g) {
        out->state = group_state_name(g->state);
        out->members = coord_member_infos(g, stable, stable, &out->member_count, &err);
    }
    out->protocol_type = coord_strdup(g ? g->protocol_type : "");
    out->protocol_name = coord_strdup(stable ? g->protocol_name : "");
    if (err != KL_OK || !out->protocol_type || !out->protocol_name) {
        coord_describe_result_free(out);
        out->state = group_state_name(GROUP_DEAD);
        err = KL_ERR_UNKNOWN_SERVER_ERROR;
    }
    out->error = err;
    return err;
}

void coord_list(coord_t *c, coord_list_visit_fn visit, void *arg)
{
    for (coord_group_t *cg = c->groups; cg; cg = cg->hh.next)
        visit(arg, cg->g.group_id, cg->g.protocol_type ? cg->g.protocol_type : "",
              group_state_name(cg->g.state));
}

kl_err_t coord_delete(coord_t *c, const char *group_id)
{
    if (!group_id)
        return KL_ERR_INVALID_GROUP_ID;
    coord_group_t *cg = coord_find_group(c, group_id);
    if (!cg || cg->g.state == GROUP_DEAD)
        return KL_ERR_GROUP_ID_NOT_FOUND;
    if (group_member_count(&cg->g) > 0)
        return KL_ERR_NON_EMPTY_GROUP;
    /* Durable first: a deleted group must not come back with its offsets at restart. */
    kl_err_t err = c->store.delete_group(c->store.self, group_id);
    if (err != KL_OK)
        return err;
    err = group_delete(&cg->g);
    if (err == KL_OK)
        coord_drop_group(c, cg);
    return err;
}

/* ---- DeleteTopics ---------------------------------------------------------------------------- */

kl_err_t coord_delete_topic_offsets(coord_t *c, const char *topic)
{
    bool any = false;
    for (coord_group_t *cg = c->groups; topic && cg && !any; cg = cg->hh.next)
        any = coord_offsets_have_topic(cg, topic);
    if (!any)
        return KL_OK;
    kl_err_t err = c->store.delete_topic(c->store.self, topic);
    coord_forget_topic(c, topic);
    return err;
}

/* ---- time ------------------------------------------------------------------------------------ */

int32_t coord_tick(coord_t *c)
{
    int64_t now = c->clock.now_ms(c->clock.self);
    int32_t removed = 0;
    for (coord_group_t *cg = c->groups; cg; cg = cg->hh.next) {
        removed += group_expire(&cg->g, now);
        coord_resolve_group(c, cg, cg->g.group_id);
    }
    coord_ticket_t *t, *tmp;
    HASH_ITER(hh, c->tickets, t, tmp) {                 /* invariant 5 */
        if (now - t->deadline_ms <= c->config.ticket_grace_ms)
            continue;
        coord_group_t *cg = coord_find_group(c, t->group_id);
        if (cg && t->kind == COORD_TICKET_SYNC && !t->resolved)
            group_cancel_sync(&cg->g, t->member_id);
        coord_ticket_free(c, t);
    }
    return removed;
}
