/*
 * application/metadata.c — the Metadata use case: find a topic a client asked about,
 * creating it on the fly when Kafka's auto-create rule allows.
 * Layer: application. May touch: domain/, application/.
 *
 * Kafka's rule: a missing topic is created with the broker defaults (num.partitions,
 * default.replication.factor) only when the broker's auto.create.topics.enable is true
 * AND the request's allow_auto_topic_creation (Metadata v4+) is true; consumers set the
 * latter false since KIP-361. A name that breaks the naming rule is
 * INVALID_TOPIC_EXCEPTION whether or not it exists.
 * Kafka answers LEADER_NOT_AVAILABLE for a topic it has just started creating, because
 * there creation is asynchronous; here create_topic is synchronous and durable, so the
 * topic is usable at once and the answer is NONE.
 */
#include <string.h>

#include "application/usecases.h"

kl_err_t metadata_find_topic(kl_broker_t *b, const char *name, bool allow_auto_create,
                             kl_topic_t **out)
{
    *out = NULL;
    if (topic_validate_name(name, strlen(name)) != KL_OK)
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    kl_topic_t *t = broker_find_topic(b, name);
    if (t != NULL) {
        *out = t;
        return KL_OK;
    }
    if (!allow_auto_create || !b->config.auto_create_topics)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    return create_topic(b, name, -1, -1, NULL, 0, false, out);
}
