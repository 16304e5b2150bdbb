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
 * Produce 9+, Fetch 12+, ListOffsets 6+, Metadata 9+, ApiVersions 3+, CreateTopics 5+.
 * Only ApiVersions has a flexible version within the ranges implemented here.
 */
#include "infrastructure/protocol/api.h"

static const kl_api_t kl_api_table[] = {
    { KL_API_PRODUCE, "Produce", 3, 8, KL_NOT_FLEXIBLE, produce_handle },
    { KL_API_FETCH, "Fetch", 4, 11, KL_NOT_FLEXIBLE, fetch_handle },
    { KL_API_LIST_OFFSETS, "ListOffsets", 1, 5, KL_NOT_FLEXIBLE, list_offsets_handle },
    { KL_API_METADATA, "Metadata", 0, 8, KL_NOT_FLEXIBLE, metadata_handle },
    { KL_API_API_VERSIONS, "ApiVersions", 0, 3, 3, api_versions_handle },
    { KL_API_CREATE_TOPICS, "CreateTopics", 0, 4, KL_NOT_FLEXIBLE, create_topics_handle },
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
