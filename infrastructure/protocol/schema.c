/*
 * infrastructure/protocol/schema.c — the request and response schemas of every API in
 * api_table.c, as static const data, and the interpreter that walks a body with them.
 * Layer: infrastructure. May touch: protocol/schema.h, protocol/wire.h. No I/O.
 *
 * The field lists are transcribed from Apache Kafka's message specs
 * (clients/src/main/resources/common/message/<Api>Request.json and ...Response.json), in spec order, with each field's
 * "versions" as [min_version, max_version] and "nullableVersions" as nullable_from.
 * Names are the snake_case ones of Kafka's protocol guide. The lists cover exactly the
 * versions Klamm advertises: fields that exist only above or below that range are left
 * out (ListOffsets v0's max_num_offsets, Fetch v12's last_fetched_epoch, ...; their
 * gates could never open, and test_schema checks that no field is dead). Every gate
 * inside the range is kept, including fields that disappear (Fetch replica_id "0-14",
 * OffsetCommit retention_time_ms "2-4" and commit_timestamp "1"), and nullability gates
 * reaching past the range are written as the spec has them (Metadata topic name:
 * nullable from v10).
 *
 * Flexible versions (KIP-482) change the encoding, not the schema: strings, bytes and
 * arrays become compact (uvarint length + 1), and every struct — the body and each
 * array element — ends with a tagged-field section, where fields with a `tag` live.
 */
#include "infrastructure/protocol/schema.h"

/* ---- table-building shorthands --------------------------------------------------- */

#define ALL SCHEMA_V_MAX
#define NO SCHEMA_NEVER
#define UT SCHEMA_UNTAGGED
#define BOOL_ SCHEMA_BOOL
#define I8 SCHEMA_INT8
#define I16 SCHEMA_INT16
#define I32 SCHEMA_INT32
#define I64 SCHEMA_INT64
#define STR SCHEMA_STRING
#define BYT SCHEMA_BYTES
#define REC SCHEMA_RECORDS

/* A plain field; one nullable from version `nf`; arrays of structs (optionally
 * nullable); arrays of primitives; tagged fields (KIP-482); the end of a list. */
#define F(n, t, lo, hi) { n, t, 0, lo, hi, NO, UT, NULL }
#define FN(n, t, lo, hi, nf) { n, t, 0, lo, hi, nf, UT, NULL }
#define A(n, lo, hi, sub) { n, SCHEMA_ARRAY, SCHEMA_STRUCT, lo, hi, NO, UT, sub }
#define AN(n, lo, hi, nf, sub) { n, SCHEMA_ARRAY, SCHEMA_STRUCT, lo, hi, nf, UT, sub }
#define AP(n, e, lo, hi) { n, SCHEMA_ARRAY, e, lo, hi, NO, UT, NULL }
#define FT(n, t, lo, hi, tag) { n, t, 0, lo, hi, NO, tag, NULL }
#define AT(n, lo, hi, tag, sub) { n, SCHEMA_ARRAY, SCHEMA_STRUCT, lo, hi, NO, tag, sub }
#define END { NULL, 0, 0, 0, 0, 0, 0, NULL }

/* ---- Produce (0): ProduceRequest.json / ProduceResponse.json ------------------------ */

static const schema_field_t produce_req_partition[] = {
    F("index", I32, 0, ALL),
    FN("records", REC, 0, ALL, 0),
    END,
};
static const schema_field_t produce_req_topic[] = {
    F("name", STR, 0, ALL),
    A("partition_data", 0, ALL, produce_req_partition),
    END,
};
static const schema_field_t produce_req[] = {
    FN("transactional_id", STR, 3, ALL, 3),
    F("acks", I16, 0, ALL),
    F("timeout_ms", I32, 0, ALL),
    A("topic_data", 0, ALL, produce_req_topic),
    END,
};
static const schema_field_t produce_resp_record_error[] = {
    F("batch_index", I32, 8, ALL),
    FN("batch_index_error_message", STR, 8, ALL, 8),
    END,
};
static const schema_field_t produce_resp_partition[] = {
    F("index", I32, 0, ALL),
    F("error_code", I16, 0, ALL),
    F("base_offset", I64, 0, ALL),
    F("log_append_time_ms", I64, 2, ALL),
    F("log_start_offset", I64, 5, ALL),
    A("record_errors", 8, ALL, produce_resp_record_error),
    FN("error_message", STR, 8, ALL, 8),
    END,
};
static const schema_field_t produce_resp_topic[] = {
    F("name", STR, 0, ALL),
    A("partition_responses", 0, ALL, produce_resp_partition),
    END,
};
static const schema_field_t produce_resp[] = {
    A("responses", 0, ALL, produce_resp_topic),
    F("throttle_time_ms", I32, 1, ALL),
    END,
};

/* ---- Fetch (1) ---------------------------------------------------------------------- */

static const schema_field_t fetch_req_partition[] = {
    F("partition", I32, 0, ALL),
    F("current_leader_epoch", I32, 9, ALL),
    F("fetch_offset", I64, 0, ALL),
    F("log_start_offset", I64, 5, ALL),
    F("partition_max_bytes", I32, 0, ALL),
    END,
};
static const schema_field_t fetch_req_topic[] = {
    F("topic", STR, 0, 12),
    A("partitions", 0, ALL, fetch_req_partition),
    END,
};
static const schema_field_t fetch_req_forgotten[] = {
    F("topic", STR, 7, 12),
    AP("partitions", I32, 7, ALL),
    END,
};
static const schema_field_t fetch_req[] = {
    F("replica_id", I32, 0, 14),
    F("max_wait_ms", I32, 0, ALL),
    F("min_bytes", I32, 0, ALL),
    F("max_bytes", I32, 3, ALL),
    F("isolation_level", I8, 4, ALL),
    F("session_id", I32, 7, ALL),
    F("session_epoch", I32, 7, ALL),
    A("topics", 0, ALL, fetch_req_topic),
    A("forgotten_topics_data", 7, ALL, fetch_req_forgotten),
    F("rack_id", STR, 11, ALL),
    END,
};
static const schema_field_t fetch_resp_aborted[] = {
    F("producer_id", I64, 4, ALL),
    F("first_offset", I64, 4, ALL),
    END,
};
static const schema_field_t fetch_resp_partition[] = {
    F("partition_index", I32, 0, ALL),
    F("error_code", I16, 0, ALL),
    F("high_watermark", I64, 0, ALL),
    F("last_stable_offset", I64, 4, ALL),
    F("log_start_offset", I64, 5, ALL),
    AN("aborted_transactions", 4, ALL, 4, fetch_resp_aborted),
    F("preferred_read_replica", I32, 11, ALL),
    FN("records", REC, 0, ALL, 0),
    END,
};
static const schema_field_t fetch_resp_topic[] = {
    F("topic", STR, 0, 12),
    A("partitions", 0, ALL, fetch_resp_partition),
    END,
};
static const schema_field_t fetch_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    F("error_code", I16, 7, ALL),
    F("session_id", I32, 7, ALL),
    A("responses", 0, ALL, fetch_resp_topic),
    END,
};

/* ---- ListOffsets (2) ---------------------------------------------------------------- */

static const schema_field_t list_offsets_req_partition[] = {
    F("partition_index", I32, 0, ALL),
    F("current_leader_epoch", I32, 4, ALL),
    F("timestamp", I64, 0, ALL),
    END,
};
static const schema_field_t list_offsets_req_topic[] = {
    F("name", STR, 0, ALL),
    A("partitions", 0, ALL, list_offsets_req_partition),
    END,
};
static const schema_field_t list_offsets_req[] = {
    F("replica_id", I32, 0, ALL),
    F("isolation_level", I8, 2, ALL),
    A("topics", 0, ALL, list_offsets_req_topic),
    END,
};
static const schema_field_t list_offsets_resp_partition[] = {
    F("partition_index", I32, 0, ALL),
    F("error_code", I16, 0, ALL),
    F("timestamp", I64, 1, ALL),
    F("offset", I64, 1, ALL),
    F("leader_epoch", I32, 4, ALL),
    END,
};
static const schema_field_t list_offsets_resp_topic[] = {
    F("name", STR, 0, ALL),
    A("partitions", 0, ALL, list_offsets_resp_partition),
    END,
};
static const schema_field_t list_offsets_resp[] = {
    F("throttle_time_ms", I32, 2, ALL),
    A("topics", 0, ALL, list_offsets_resp_topic),
    END,
};

/* ---- Metadata (3) ------------------------------------------------------------------- */

static const schema_field_t metadata_req_topic[] = {
    FN("name", STR, 0, ALL, 10),
    END,
};
static const schema_field_t metadata_req[] = {
    AN("topics", 0, ALL, 1, metadata_req_topic),
    F("allow_auto_topic_creation", BOOL_, 4, ALL),
    F("include_cluster_authorized_operations", BOOL_, 8, 10),
    F("include_topic_authorized_operations", BOOL_, 8, ALL),
    END,
};
static const schema_field_t metadata_resp_broker[] = {
    F("node_id", I32, 0, ALL),
    F("host", STR, 0, ALL),
    F("port", I32, 0, ALL),
    FN("rack", STR, 1, ALL, 1),
    END,
};
static const schema_field_t metadata_resp_partition[] = {
    F("error_code", I16, 0, ALL),
    F("partition_index", I32, 0, ALL),
    F("leader_id", I32, 0, ALL),
    F("leader_epoch", I32, 7, ALL),
    AP("replica_nodes", I32, 0, ALL),
    AP("isr_nodes", I32, 0, ALL),
    AP("offline_replicas", I32, 5, ALL),
    END,
};
static const schema_field_t metadata_resp_topic[] = {
    F("error_code", I16, 0, ALL),
    FN("name", STR, 0, ALL, 12),
    F("is_internal", BOOL_, 1, ALL),
    A("partitions", 0, ALL, metadata_resp_partition),
    F("topic_authorized_operations", I32, 8, ALL),
    END,
};
static const schema_field_t metadata_resp[] = {
    F("throttle_time_ms", I32, 3, ALL),
    A("brokers", 0, ALL, metadata_resp_broker),
    FN("cluster_id", STR, 2, ALL, 2),
    F("controller_id", I32, 1, ALL),
    A("topics", 0, ALL, metadata_resp_topic),
    F("cluster_authorized_operations", I32, 8, 10),
    END,
};

/* ---- OffsetCommit (8) --------------------------------------------------------------- */

static const schema_field_t offset_commit_req_partition[] = {
    F("partition_index", I32, 0, ALL),
    F("committed_offset", I64, 0, ALL),
    F("committed_leader_epoch", I32, 6, ALL),
    F("commit_timestamp", I64, 1, 1),
    FN("committed_metadata", STR, 0, ALL, 0),
    END,
};
static const schema_field_t offset_commit_req_topic[] = {
    F("name", STR, 0, ALL),
    A("partitions", 0, ALL, offset_commit_req_partition),
    END,
};
static const schema_field_t offset_commit_req[] = {
    F("group_id", STR, 0, ALL),
    F("generation_id_or_member_epoch", I32, 1, ALL),
    F("member_id", STR, 1, ALL),
    FN("group_instance_id", STR, 7, ALL, 7),
    F("retention_time_ms", I64, 2, 4),
    A("topics", 0, ALL, offset_commit_req_topic),
    END,
};
static const schema_field_t offset_commit_resp_partition[] = {
    F("partition_index", I32, 0, ALL),
    F("error_code", I16, 0, ALL),
    END,
};
static const schema_field_t offset_commit_resp_topic[] = {
    F("name", STR, 0, ALL),
    A("partitions", 0, ALL, offset_commit_resp_partition),
    END,
};
static const schema_field_t offset_commit_resp[] = {
    F("throttle_time_ms", I32, 3, ALL),
    A("topics", 0, ALL, offset_commit_resp_topic),
    END,
};

/* ---- OffsetFetch (9) ---------------------------------------------------------------- */

static const schema_field_t offset_fetch_req_topic[] = {
    F("name", STR, 0, 7),
    AP("partition_indexes", I32, 0, 7),
    END,
};
static const schema_field_t offset_fetch_req[] = {
    F("group_id", STR, 0, 7),
    AN("topics", 0, 7, 2, offset_fetch_req_topic),
    END,
};
static const schema_field_t offset_fetch_resp_partition[] = {
    F("partition_index", I32, 0, 7),
    F("committed_offset", I64, 0, 7),
    F("committed_leader_epoch", I32, 5, 7),
    FN("metadata", STR, 0, 7, 0),
    F("error_code", I16, 0, 7),
    END,
};
static const schema_field_t offset_fetch_resp_topic[] = {
    F("name", STR, 0, 7),
    A("partitions", 0, 7, offset_fetch_resp_partition),
    END,
};
static const schema_field_t offset_fetch_resp[] = {
    F("throttle_time_ms", I32, 3, ALL),
    A("topics", 0, 7, offset_fetch_resp_topic),
    F("error_code", I16, 2, 7),
    END,
};

/* ---- FindCoordinator (10) ----------------------------------------------------------- */

static const schema_field_t find_coordinator_req[] = {
    F("key", STR, 0, 3),
    F("key_type", I8, 1, ALL),
    END,
};
static const schema_field_t find_coordinator_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    F("error_code", I16, 0, 3),
    FN("error_message", STR, 1, 3, 1),
    F("node_id", I32, 0, 3),
    F("host", STR, 0, 3),
    F("port", I32, 0, 3),
    END,
};

/* ---- JoinGroup (11) ----------------------------------------------------------------- */

static const schema_field_t join_group_req_protocol[] = {
    F("name", STR, 0, ALL),
    F("metadata", BYT, 0, ALL),
    END,
};
static const schema_field_t join_group_req[] = {
    F("group_id", STR, 0, ALL),
    F("session_timeout_ms", I32, 0, ALL),
    F("rebalance_timeout_ms", I32, 1, ALL),
    F("member_id", STR, 0, ALL),
    FN("group_instance_id", STR, 5, ALL, 5),
    F("protocol_type", STR, 0, ALL),
    A("protocols", 0, ALL, join_group_req_protocol),
    END,
};
static const schema_field_t join_group_resp_member[] = {
    F("member_id", STR, 0, ALL),
    FN("group_instance_id", STR, 5, ALL, 5),
    F("metadata", BYT, 0, ALL),
    END,
};
static const schema_field_t join_group_resp[] = {
    F("throttle_time_ms", I32, 2, ALL),
    F("error_code", I16, 0, ALL),
    F("generation_id", I32, 0, ALL),
    FN("protocol_name", STR, 0, ALL, 7),
    F("leader", STR, 0, ALL),
    F("member_id", STR, 0, ALL),
    A("members", 0, ALL, join_group_resp_member),
    END,
};

/* ---- Heartbeat (12) ----------------------------------------------------------------- */

static const schema_field_t heartbeat_req[] = {
    F("group_id", STR, 0, ALL),
    F("generation_id", I32, 0, ALL),
    F("member_id", STR, 0, ALL),
    FN("group_instance_id", STR, 3, ALL, 3),
    END,
};
static const schema_field_t heartbeat_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    F("error_code", I16, 0, ALL),
    END,
};

/* ---- LeaveGroup (13) ---------------------------------------------------------------- */

static const schema_field_t leave_group_req_member[] = {
    F("member_id", STR, 3, ALL),
    FN("group_instance_id", STR, 3, ALL, 3),
    END,
};
static const schema_field_t leave_group_req[] = {
    F("group_id", STR, 0, ALL),
    F("member_id", STR, 0, 2),
    A("members", 3, ALL, leave_group_req_member),
    END,
};
static const schema_field_t leave_group_resp_member[] = {
    F("member_id", STR, 3, ALL),
    FN("group_instance_id", STR, 3, ALL, 3),
    F("error_code", I16, 3, ALL),
    END,
};
static const schema_field_t leave_group_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    F("error_code", I16, 0, ALL),
    A("members", 3, ALL, leave_group_resp_member),
    END,
};

/* ---- SyncGroup (14) ----------------------------------------------------------------- */

static const schema_field_t sync_group_req_assignment[] = {
    F("member_id", STR, 0, ALL),
    F("assignment", BYT, 0, ALL),
    END,
};
static const schema_field_t sync_group_req[] = {
    F("group_id", STR, 0, ALL),
    F("generation_id", I32, 0, ALL),
    F("member_id", STR, 0, ALL),
    FN("group_instance_id", STR, 3, ALL, 3),
    A("assignments", 0, ALL, sync_group_req_assignment),
    END,
};
static const schema_field_t sync_group_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    F("error_code", I16, 0, ALL),
    F("assignment", BYT, 0, ALL),
    END,
};

/* ---- DescribeGroups (15) ------------------------------------------------------------ */

static const schema_field_t describe_groups_req[] = {
    AP("groups", STR, 0, ALL),
    F("include_authorized_operations", BOOL_, 3, ALL),
    END,
};
static const schema_field_t describe_groups_resp_member[] = {
    F("member_id", STR, 0, ALL),
    FN("group_instance_id", STR, 4, ALL, 4),
    F("client_id", STR, 0, ALL),
    F("client_host", STR, 0, ALL),
    F("member_metadata", BYT, 0, ALL),
    F("member_assignment", BYT, 0, ALL),
    END,
};
static const schema_field_t describe_groups_resp_group[] = {
    F("error_code", I16, 0, ALL),
    F("group_id", STR, 0, ALL),
    F("group_state", STR, 0, ALL),
    F("protocol_type", STR, 0, ALL),
    F("protocol_data", STR, 0, ALL),
    A("members", 0, ALL, describe_groups_resp_member),
    F("authorized_operations", I32, 3, ALL),
    END,
};
static const schema_field_t describe_groups_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    A("groups", 0, ALL, describe_groups_resp_group),
    END,
};

/* ---- ListGroups (16) ---------------------------------------------------------------- */

static const schema_field_t list_groups_req[] = {
    END,
};
static const schema_field_t list_groups_resp_group[] = {
    F("group_id", STR, 0, ALL),
    F("protocol_type", STR, 0, ALL),
    END,
};
static const schema_field_t list_groups_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    F("error_code", I16, 0, ALL),
    A("groups", 0, ALL, list_groups_resp_group),
    END,
};

/* ---- ApiVersions (18): v3+ is flexible; its features live in tagged fields ---------- */

static const schema_field_t api_versions_req[] = {
    F("client_software_name", STR, 3, ALL),
    F("client_software_version", STR, 3, ALL),
    END,
};
static const schema_field_t api_versions_resp_key[] = {
    F("api_key", I16, 0, ALL),
    F("min_version", I16, 0, ALL),
    F("max_version", I16, 0, ALL),
    END,
};
static const schema_field_t api_versions_resp_supported[] = {
    F("name", STR, 3, ALL),
    F("min_version", I16, 3, ALL),
    F("max_version", I16, 3, ALL),
    END,
};
static const schema_field_t api_versions_resp_finalized[] = {
    F("name", STR, 3, ALL),
    F("max_version_level", I16, 3, ALL),
    F("min_version_level", I16, 3, ALL),
    END,
};
static const schema_field_t api_versions_resp[] = {
    F("error_code", I16, 0, ALL),
    A("api_keys", 0, ALL, api_versions_resp_key),
    F("throttle_time_ms", I32, 1, ALL),
    AT("supported_features", 3, ALL, 0, api_versions_resp_supported),
    FT("finalized_features_epoch", I64, 3, ALL, 1),
    AT("finalized_features", 3, ALL, 2, api_versions_resp_finalized),
    FT("zk_migration_ready", BOOL_, 3, ALL, 3),
    END,
};

/* ---- CreateTopics (19) -------------------------------------------------------------- */

static const schema_field_t create_topics_req_assignment[] = {
    F("partition_index", I32, 0, ALL),
    AP("broker_ids", I32, 0, ALL),
    END,
};
static const schema_field_t create_topics_req_config[] = {
    F("name", STR, 0, ALL),
    FN("value", STR, 0, ALL, 0),
    END,
};
static const schema_field_t create_topics_req_topic[] = {
    F("name", STR, 0, ALL),
    F("num_partitions", I32, 0, ALL),
    F("replication_factor", I16, 0, ALL),
    A("assignments", 0, ALL, create_topics_req_assignment),
    A("configs", 0, ALL, create_topics_req_config),
    END,
};
static const schema_field_t create_topics_req[] = {
    A("topics", 0, ALL, create_topics_req_topic),
    F("timeout_ms", I32, 0, ALL),
    F("validate_only", BOOL_, 1, ALL),
    END,
};
static const schema_field_t create_topics_resp_topic[] = {
    F("name", STR, 0, ALL),
    F("error_code", I16, 0, ALL),
    FN("error_message", STR, 1, ALL, 0),
    END,
};
static const schema_field_t create_topics_resp[] = {
    F("throttle_time_ms", I32, 2, ALL),
    A("topics", 0, ALL, create_topics_resp_topic),
    END,
};

/* ---- DeleteTopics (20): v4+ is flexible; v6's topic ids are beyond the range -------- */

static const schema_field_t delete_topics_req[] = {
    AP("topic_names", STR, 0, 5),
    F("timeout_ms", I32, 0, ALL),
    END,
};
static const schema_field_t delete_topics_resp_result[] = {
    FN("name", STR, 0, ALL, 6),
    F("error_code", I16, 0, ALL),
    FN("error_message", STR, 5, ALL, 5),
    END,
};
static const schema_field_t delete_topics_resp[] = {
    F("throttle_time_ms", I32, 1, ALL),
    A("responses", 0, ALL, delete_topics_resp_result),
    END,
};

/* ---- DeleteGroups (42) -------------------------------------------------------------- */

static const schema_field_t delete_groups_req[] = {
    AP("groups_names", STR, 0, ALL),
    END,
};
static const schema_field_t delete_groups_resp_result[] = {
    F("group_id", STR, 0, ALL),
    F("error_code", I16, 0, ALL),
    END,
};
static const schema_field_t delete_groups_resp[] = {
    F("throttle_time_ms", I32, 0, ALL),
    A("results", 0, ALL, delete_groups_resp_result),
    END,
};

/* DescribeConfigs (KIP-226 sources from v1, documentation and types from v3). */
static const schema_field_t describe_configs_req_resource[] = {
    F("resource_type", I8, 0, ALL), F("resource_name", STR, 0, ALL),
    { "configuration_keys", SCHEMA_ARRAY, STR, 0, ALL, 0, UT, NULL }, END, };
static const schema_field_t describe_configs_req[] = {
    A("resources", 0, ALL, describe_configs_req_resource),
    F("include_synonyms", BOOL_, 1, ALL), F("include_documentation", BOOL_, 3, ALL), END, };
static const schema_field_t describe_configs_resp_synonym[] = {
    F("name", STR, 1, ALL), FN("value", STR, 1, ALL, 0), F("source", I8, 1, ALL), END, };
static const schema_field_t describe_configs_resp_config[] = {
    F("name", STR, 0, ALL), FN("value", STR, 0, ALL, 0), F("read_only", BOOL_, 0, ALL),
    F("is_default", BOOL_, 0, 0), F("config_source", I8, 1, ALL), F("is_sensitive", BOOL_, 0, ALL),
    A("synonyms", 1, ALL, describe_configs_resp_synonym), F("config_type", I8, 3, ALL),
    FN("documentation", STR, 3, ALL, 0), END, };
static const schema_field_t describe_configs_resp_result[] = {
    F("error_code", I16, 0, ALL), FN("error_message", STR, 0, ALL, 0), F("resource_type", I8, 0, ALL),
    F("resource_name", STR, 0, ALL), A("configs", 0, ALL, describe_configs_resp_config), END, };
static const schema_field_t describe_configs_resp[] = {
    F("throttle_time_ms", I32, 0, ALL), A("results", 0, ALL, describe_configs_resp_result), END, };

/* ---- the API rows: ranges and flexible-from as in api_table.c ---------------------- */

static const schema_api_t schema_apis[] = {
    { 0, "Produce", 3, 8, ALL, produce_req, produce_resp },
    { 1, "Fetch", 4, 11, ALL, fetch_req, fetch_resp },
    { 2, "ListOffsets", 1, 5, ALL, list_offsets_req, list_offsets_resp },
    { 3, "Metadata", 0, 8, ALL, metadata_req, metadata_resp },
    { 8, "OffsetCommit", 0, 7, ALL, offset_commit_req, offset_commit_resp },
    { 9, "OffsetFetch", 1, 5, ALL, offset_fetch_req, offset_fetch_resp },
    { 10, "FindCoordinator", 0, 2, ALL, find_coordinator_req, find_coordinator_resp },
    { 11, "JoinGroup", 0, 5, ALL, join_group_req, join_group_resp },
    { 12, "Heartbeat", 0, 3, ALL, heartbeat_req, heartbeat_resp },
    { 13, "LeaveGroup", 0, 3, ALL, leave_group_req, leave_group_resp },
    { 14, "SyncGroup", 0, 3, ALL, sync_group_req, sync_group_resp },
    { 15, "DescribeGroups", 0, 4, ALL, describe_groups_req, describe_groups_resp },
    { 16, "ListGroups", 0, 2, ALL, list_groups_req, list_groups_resp },
    { 18, "ApiVersions", 0, 3, 3, api_versions_req, api_versions_resp },
    { 19, "CreateTopics", 0, 4, ALL, create_topics_req, create_topics_resp },
    { 20, "DeleteTopics", 0, 5, 4, delete_topics_req, delete_topics_resp },
    { 32, "DescribeConfigs", 0, 3, ALL, describe_configs_req, describe_configs_resp },
    { 42, "DeleteGroups", 0, 1, ALL, delete_groups_req, delete_groups_resp },
};

#define SCHEMA_API_COUNT (sizeof schema_apis / sizeof schema_apis[0])

const schema_api_t *schema_find(int16_t key)
{
    for (size_t i = 0; i < SCHEMA_API_COUNT; i++)
        if (schema_apis[i].key == key)
            return &schema_apis[i];
    return NULL;
}

const schema_api_t *schema_all(size_t *count)
{
    if (count != NULL)
        *count = SCHEMA_API_COUNT;
    return schema_apis;
}

bool schema_version_known(const schema_api_t *api, int16_t version)
{
    return api != NULL && version >= api->min_version && version <= api->max_version;
}

/* ---- the interpreter ----------------------------------------------------------------- */

typedef struct schema_walker {
    kl_reader_t *r;
    int16_t version;
    bool flex;
    schema_visit_fn visit;
    void *arg;
} schema_walker_t;

static bool schema_present(const schema_field_t *f, int16_t v)
{
    return v >= f->min_version && v <= f->max_version;
}

static schema_event_t schema_event(schema_event_kind_t kind, const schema_field_t *f, int depth)
{
    schema_event_t ev = { 0 };
    ev.kind = kind;
    ev.field = f;
    ev.depth = depth;
    ev.index = -1;
    if (f != NULL)
        ev.type = (schema_type_t)f->type;
    return ev;
}

static void schema_emit(const schema_walker_t *w, const schema_event_t *ev)
{
    if (w->visit != NULL)
        w->visit(w->arg, ev);
}

/* A read failed: say where, and stop the walk. */
static bool schema_truncated(const schema_walker_t *w, const schema_field_t *f, int depth)
{
    schema_event_t ev = schema_event(SCHEMA_EV_TRUNCATED, f, depth);
    schema_emit(w, &ev);
    return false;
}

/* A view of the next `n` bytes (the reader fails when fewer are left). */
static kl_bytes_t schema_take(kl_reader_t *r, size_t n)
{
    kl_bytes_t b = { NULL, 0 };
    if (rd_remaining(r) >= n)
        b.ptr = r->buf + r->pos;
    rd_skip(r, n);
    b.len = rd_ok(r) ? (int32_t)n : 0;
    return b;
}

static kl_bytes_t schema_read_bytes(kl_reader_t *r, bool flex, bool nullable)
{
    if (nullable)
        return rd_nbytes(r, flex);
    return flex ? rd_compact_bytes(r) : rd_bytes(r);
}

/* Read one primitive of type `t` into `ev`. */
static void schema_read_primitive(const schema_walker_t *w, schema_type_t t, bool nullable,
                                  schema_event_t *ev)
{
    kl_reader_t *r = w->r;
    ev->type = t;
    switch (t) {
    case SCHEMA_BOOL: ev->i = rd_i8(r); break;
    case SCHEMA_INT8: ev->i = rd_i8(r); break;
    case SCHEMA_INT16: ev->i = rd_i16(r); break;
    case SCHEMA_INT32: ev->i = rd_i32(r); break;
    case SCHEMA_INT64: ev->i = rd_i64(r); break;
    case SCHEMA_UUID: ev->bytes = schema_take(r, 16); break;
    case SCHEMA_STRING:
        ev->str = nullable ? rd_nstr(r, w->flex) : rd_str(r, w->flex);
        ev->is_null = ev->str.len < 0;
        break;
    case SCHEMA_BYTES:
    case SCHEMA_RECORDS:
        ev->bytes = schema_read_bytes(r, w->flex, nullable || t == SCHEMA_RECORDS);
        ev->is_null = ev->bytes.len < 0;
        break;
    default:
        rd_fail(r);                     /* not a primitive: a schema table bug */
        break;
    }
}

static bool schema_walk_struct(const schema_walker_t *w, const schema_field_t *fields, int depth);

/* An array: its count, then each element (a primitive, or a struct one level deeper). */
static bool schema_walk_array(const schema_walker_t *w, const schema_field_t *f, int depth)
{
    int32_t count = rd_arr(w->r, w->flex);
    if (!rd_ok(w->r))
        return schema_truncated(w, f, depth);
    if (count < 0 && w->version < f->nullable_from) {
        rd_fail(w->r);                  /* null where the spec does not allow it */
        schema_event_t bad = schema_event(SCHEMA_EV_TRUNCATED, f, depth);
        bad.is_null = true;
        schema_emit(w, &bad);
        return false;
    }
    schema_event_t ev = schema_event(SCHEMA_EV_ARRAY_BEGIN, f, depth);
    ev.count = count;
    ev.is_null = count < 0;
    schema_emit(w, &ev);
    for (int32_t i = 0; i < count; i++) {
        ev = schema_event(f->elem == SCHEMA_STRUCT ? SCHEMA_EV_ELEMENT : SCHEMA_EV_VALUE, f, depth);
        ev.index = i;
        if (f->elem != SCHEMA_STRUCT) {
            schema_read_primitive(w, (schema_type_t)f->elem, false, &ev);
            if (!rd_ok(w->r))
                return schema_truncated(w, f, depth);
            schema_emit(w, &ev);
            continue;
        }
        schema_emit(w, &ev);
        if (!schema_walk_struct(w, f->fields, depth + 1))
            return false;
        ev.kind = SCHEMA_EV_ELEMENT_END;
        schema_emit(w, &ev);
    }
    ev = schema_event(SCHEMA_EV_ARRAY_END, f, depth);
    schema_emit(w, &ev);
    return true;
}

static bool schema_walk_field(const schema_walker_t *w, const schema_field_t *f, int depth)
{
    if (f->type == SCHEMA_ARRAY)
        return schema_walk_array(w, f, depth);
    schema_event_t ev = schema_event(SCHEMA_EV_VALUE, f, depth);
    schema_read_primitive(w, (schema_type_t)f->type, w->version >= f->nullable_from, &ev);
    if (!rd_ok(w->r))
        return schema_truncated(w, f, depth);
    schema_emit(w, &ev);
    return true;
}

static const schema_field_t *schema_find_tag(const schema_field_t *fields, uint32_t tag,
                                             int16_t version)
{
    for (const schema_field_t *f = fields; f->name != NULL; f++)
        if (f->tag >= 0 && (uint32_t)f->tag == tag && schema_present(f, version))
            return f;
    return NULL;
}

/* A known tagged field: decoded from its own bytes, which it must fill exactly. */
static bool schema_walk_tagged(const schema_walker_t *w, const schema_field_t *f,
                               kl_bytes_t data, int depth)
{
    kl_reader_t sub;
    rd_init(&sub, data.ptr, (size_t)data.len);
    schema_walker_t sw = *w;
    sw.r = &sub;
    if (!schema_walk_field(&sw, f, depth))
        return false;
    if (rd_remaining(&sub) != 0)
        return schema_truncated(w, f, depth);
    return true;
}

/* KIP-482 tagged-field section: uvarint count, then {uvarint tag, uvarint size, bytes}. */
static bool schema_walk_tags(const schema_walker_t *w, const schema_field_t *fields, int depth)
{
    uint32_t n = rd_uvarint(w->r);
    for (uint32_t i = 0; i < n && rd_ok(w->r); i++) {
        uint32_t tag = rd_uvarint(w->r);
        uint32_t size = rd_uvarint(w->r);
        kl_bytes_t data = schema_take(w->r, size);
        if (!rd_ok(w->r))
            break;
        const schema_field_t *f = schema_find_tag(fields, tag, w->version);
        if (f != NULL) {
            if (!schema_walk_tagged(w, f, data, depth)) {
                rd_fail(w->r);
                return false;
            }
            continue;
        }
        schema_event_t ev = schema_event(SCHEMA_EV_UNKNOWN_TAG, NULL, depth);
        ev.tag = tag;
        ev.bytes = data;
        schema_emit(w, &ev);
    }
    return rd_ok(w->r) ? true : schema_truncated(w, NULL, depth);
}

static bool schema_walk_struct(const schema_walker_t *w, const schema_field_t *fields, int depth)
{
    for (const schema_field_t *f = fields; f->name != NULL; f++) {
        if (f->tag != SCHEMA_UNTAGGED || !schema_present(f, w->version))
            continue;
        if (!schema_walk_field(w, f, depth))
            return false;
    }
    return w->flex ? schema_walk_tags(w, fields, depth) : true;
}

bool schema_walk(const schema_field_t *fields, int16_t version, bool flexible,
                 kl_reader_t *r, schema_visit_fn visit, void *arg)
{
    schema_walker_t w = { r, version, flexible, visit, arg };
    if (fields == NULL || !rd_ok(r)) {
        rd_fail(r);
        return schema_truncated(&w, NULL, 0);
    }
    return schema_walk_struct(&w, fields, 0);
}
