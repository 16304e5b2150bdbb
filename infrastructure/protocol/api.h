/*
 * infrastructure/protocol/api.h — the request path inside the protocol layer: request
 * header, the API table ({key, name, min, max, flexible-from, handler}) and dispatch.
 * Layer: infrastructure. May touch: application/, domain/, protocol/wire.h, logging.
 *
 * A handler decodes its request body for `req->header.api_version`, calls use cases,
 * and encodes the response body (not the response header, which dispatch writes).
 * A handler whose body reader failed (malformed request) returns KL_REPLY_CLOSE;
 * dispatch logs the API, version and correlation id and empties `out`.
 */
#ifndef KL_INFRA_PROTOCOL_API_H
#define KL_INFRA_PROTOCOL_API_H

#include <stdbool.h>
#include <stdint.h>

#include "application/broker.h"
#include "infrastructure/logging.h"
#include "infrastructure/protocol/wire.h"

/* Kafka API keys implemented (or about to be) by Klamm. */
enum kl_api_key {
    KL_API_PRODUCE = 0, KL_API_FETCH = 1, KL_API_LIST_OFFSETS = 2, KL_API_METADATA = 3,
    KL_API_OFFSET_COMMIT = 8, KL_API_OFFSET_FETCH = 9, KL_API_FIND_COORDINATOR = 10,
    KL_API_JOIN_GROUP = 11, KL_API_HEARTBEAT = 12, KL_API_LEAVE_GROUP = 13,
    KL_API_SYNC_GROUP = 14, KL_API_DESCRIBE_GROUPS = 15, KL_API_LIST_GROUPS = 16,
    KL_API_API_VERSIONS = 18, KL_API_CREATE_TOPICS = 19, KL_API_DELETE_TOPICS = 20,
    KL_API_DESCRIBE_CONFIGS = 32,
    KL_API_DELETE_GROUPS = 42,
};

/* Request header v0 (key, version, correlation id), v1 (+ client_id), v2 (+ tagged
 * fields, KIP-482). Which one a request uses follows from its API's flexible-from. */
typedef struct kl_request_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kl_str_t client_id;          /* null in v0 */
} kl_request_header_t;

/* What the server should do with a handled request. */
typedef enum kl_reply {
    KL_REPLY_SEND = 0,     /* `out` holds a complete response frame */
    KL_REPLY_NONE,         /* no response (Produce with acks=0) */
    KL_REPLY_PARK,         /* not yet: call again later (Fetch long-poll, group joins) */
    KL_REPLY_CLOSE,        /* protocol violation: log it and close the connection */
} kl_reply_t;

/* The group coordinator (application/group_coordinator.h); only the consumer-group
 * handlers (api_join_group.c and friends) look inside it. */
struct coord;

/* Everything a handler may use. */
typedef struct kl_request {
    kl_broker_t *broker;
    struct coord *coord;         /* the group coordinator, for the consumer-group APIs */
    const kl_log_t *log;
    kl_request_header_t header;
    bool flexible;               /* api_version >= the API's flexible-from */
    int64_t now_ms;              /* monotonic time of this attempt */
    int64_t first_attempt_ms;    /* monotonic time the request was first handled */
    bool final_attempt;          /* the parked deadline passed: answer with what there is */
    int64_t park_until_ms;       /* set by a handler returning KL_REPLY_PARK */
    int64_t park_cookie;         /* set by a handler that parks; handed back unchanged on
                                    every retry of that request (0 on the first attempt):
                                    lets JoinGroup find the join it started */
    uint64_t conn_id;            /* which connection (logging, groups) */
    const char *client_host;     /* "/ip" of the peer (JoinGroup records it); may be NULL */
} kl_request_t;

typedef kl_reply_t (*kl_api_handler_fn)(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);

typedef struct kl_api {
    int16_t key;
    const char *name;
    int16_t min_version;
    int16_t max_version;
    int16_t flexible_from;       /* first flexible version; INT16_MAX when none */
    kl_api_handler_fn handler;
} kl_api_t;

#define KL_NOT_FLEXIBLE INT16_MAX

/* The API table (api_table.c): lookup by key, NULL when not implemented. */
const kl_api_t *api_table_find(int16_t key);
const kl_api_t *api_table_all(size_t *count);

/* Decode the request header at the start of `r`, for the header version `api` needs.
 * An unknown key is still decoded as v1 so its correlation id can be logged. */
bool request_header_decode(kl_reader_t *r, kl_request_header_t *h, const kl_api_t **api_out);

/* The whole request path for one frame (frame = bytes after the 4-byte size):
 * header, version check, handler, response header. On KL_REPLY_SEND, `out` holds
 * size prefix + response header + body; on any other reply `out` is left empty.
 * `req` carries broker, log, times; its header and flexible fields are filled here.
 *
 * `frame` is the connection's own receive buffer and is mutable on purpose: a handler
 * may rewrite request bytes in place (Produce assigns the base offsets of the batches
 * it appends). The handler's `body` reader views that same buffer, so a handler may
 * cast away the const of a view it got from it (the bytes themselves are not const).
 * A parked request (KL_REPLY_PARK) is dispatched again later with the same frame. */
kl_reply_t protocol_dispatch(kl_request_t *req, uint8_t *frame, size_t len,
                             kl_writer_t *out);

/* Whether the response to `api` at `version` uses response header v1 (KIP-482 tagged
 * fields after the correlation id): flexible versions do, except ApiVersions, whose
 * response header is always v0 (KIP-511). */
bool protocol_response_header_flexible(const kl_api_t *api, int16_t version);

/* Handlers, one per file (protocol/<api>.c). */
kl_reply_t api_versions_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t metadata_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t produce_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t fetch_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t list_offsets_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t create_topics_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t delete_topics_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t find_coordinator_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t join_group_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t sync_group_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t heartbeat_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t leave_group_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t offset_commit_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t offset_fetch_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t describe_groups_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t list_groups_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t delete_groups_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);
kl_reply_t describe_configs_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out);

/* ApiVersions in the v0 layout with UNSUPPORTED_VERSION, as Kafka answers a version it
 * does not know (KIP-511). Writes the body only. */
void api_versions_write_unsupported(kl_writer_t *out);

#endif
