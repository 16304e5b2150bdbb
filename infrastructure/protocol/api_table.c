/*
 * infrastructure/protocol/api_table.c — the APIs Klamm implements: key, name, version
 * range, first flexible version and handler. One static const row per API.
 * Layer: infrastructure. May touch: protocol/api.h (the handlers it names).
 *
 * This table is the single source of truth for version negotiation: ApiVersions
 * advertises exactly these ranges (a client picks min(its max, our max)), dispatch
 * refuses anything outside them, and `flexible_from` decides the header versions and
 * the compact encodings (KIP-482). The flexible-from values are those of Kafka's
 * message specs (clients/src/main/resources/common/message/<Api>Request.json):
 * Produce 9+, Fetch 12+, ListOffsets 6+, Metadata 9+, ApiVersions 3+, CreateTopics 5+,
 * DeleteTopics 4+, OffsetCommit 8+, OffsetFetch 6+, FindCoordinator 3+, JoinGroup 6+,
 * Heartbeat 4+, LeaveGroup 4+, SyncGroup 4+, DescribeGroups 5+, ListGroups 3+,
 * DeleteGroups 2+, DescribeConfigs 4+.
 * ApiVersions and DeleteTopics have flexible versions within the ranges implemented here.
 * DeleteTopics stops at v5: v6 names topics by id (KIP-516), and Klamm keeps no ids.
 * OffsetFetch starts at v1: v0 reads offsets from ZooKeeper in Apache Kafka, which
 * Klamm does not have (every client here uses v1+).
 */
#include "infrastructure/protocol/api.h"

static const kl_api_t kl_api_table[] = {
    { KL_API_PRODUCE, "Produce", 3, 8, KL_NOT_FLEXIBLE, produce_handle },
    { KL_API_FETCH, "Fetch", 4, 11, KL_NOT_FLEXIBLE, fetch_handle },
    { KL_API_LIST_OFFSETS, "ListOffsets", 1, 5, KL_NOT_FLEXIBLE, list_offsets_handle },
    { KL_API_METADATA, "Metadata", 0, 8, KL_NOT_FLEXIBLE, metadata_handle },
    { KL_API_API_VERSIONS, "ApiVersions", 0, 3, 3, api_versions_handle },
    { KL_API_CREATE_TOPICS, "CreateTopics", 0, 4, KL_NOT_FLEXIBLE, create_topics_handle },
    { KL_API_DELETE_TOPICS, "DeleteTopics", 0, 5, 4, delete_topics_handle },
    { KL_API_OFFSET_COMMIT, "OffsetCommit", 0, 7, KL_NOT_FLEXIBLE, offset_commit_handle },
    { KL_API_OFFSET_FETCH, "OffsetFetch", 1, 5, KL_NOT_FLEXIBLE, offset_fetch_handle },
    { KL_API_FIND_COORDINATOR, "FindCoordinator", 0, 2, KL_NOT_FLEXIBLE,
      find_coordinator_handle },
    { KL_API_JOIN_GROUP, "JoinGroup", 0, 5, KL_NOT_FLEXIBLE, join_group_handle },
    { KL_API_HEARTBEAT, "Heartbeat", 0, 3, KL_NOT_FLEXIBLE, heartbeat_handle },
    { KL_API_LEAVE_GROUP, "LeaveGroup", 0, 3, KL_NOT_FLEXIBLE, leave_group_handle },
    { KL_API_SYNC_GROUP, "SyncGroup", 0, 3, KL_NOT_FLEXIBLE, sync_group_handle },
    { KL_API_DESCRIBE_GROUPS, "DescribeGroups", 0, 4, KL_NOT_FLEXIBLE, describe_groups_handle },
    { KL_API_LIST_GROUPS, "ListGroups", 0, 2, KL_NOT_FLEXIBLE, list_groups_handle },
    { KL_API_DELETE_GROUPS, "DeleteGroups", 0, 1, KL_NOT_FLEXIBLE, delete_groups_handle },
    { KL_API_DESCRIBE_CONFIGS, "DescribeConfigs", 0, 3, KL_NOT_FLEXIBLE,
      describe_configs_handle },
};

#define KL_API_COUNT (sizeof kl_api_table / sizeof kl_api_table[0])

const kl_api_t *api_table_find(int16_t key)
{
    for (size_t i = 0; i < KL_API_COUNT; i++)
        if (kl_api_table[i].key == key)
            return &kl_api_table[i];
    return NULL;
}

const kl_api_t *api_table_all(size_t *count)
{
    if (count != NULL)
        *count = KL_API_COUNT;
    return kl_api_table;
}
