/*
 * application/delete_topics.c — the DeleteTopics use case for one topic: delete it
 * through the store, drop it from the registry, forget the groups' offsets of it.
 * Layer: application. May touch: domain/, application/ (the log_store port, the broker
 * registry, the group coordinator).
 *
 * Kafka's answer per topic (KafkaApis.handleDeleteTopicsRequest, ControllerApis
 * .deleteTopics): a name the broker does not host is UNKNOWN_TOPIC_OR_PARTITION — also
 * one that breaks the naming rule, since no such topic can exist. Klamm has no ACLs
 * (no TOPIC_AUTHORIZATION_FAILED) and no internal topics: its own state lives in the
 * __klamm_topics and __klamm_offsets directories, which are not topics, so no name
 * reaches them (the store touches only "<name>-<n>" directories and the topic's own
 * metadata file).
 *
 * Order, and why:
 *  1. the store deletes (metadata first, durably; then the files). Only once it said yes
 *     does the topic leave the registry, so a failed deletion leaves it fully usable;
 *  2. the registry forgets it: from now on Metadata, Produce, Fetch and ListOffsets
 *     answer UNKNOWN_TOPIC_OR_PARTITION (or Metadata creates it anew, empty, when
 *     auto.create.topics.enable says so, as in Kafka);
 *  3. the committed offsets of it go (Kafka's GroupMetadataManager does this after the
 *     topic is gone, too). A crash between 1 and 3 leaves offsets of a topic that no
 *     longer exists, never a live topic whose groups lost their positions.
 * Requests in flight keep no pointer into the registry between attempts: a parked Fetch
 * looks its partitions up again on every retry (and now gets UNKNOWN_TOPIC_OR_PARTITION),
 * and a Fetch response already queued holds its own duplicates of the segment file
 * descriptors, which keep the unlinked files readable until it is sent.
 */
#include "application/group_coordinator.h"
#include "application/usecases.h"

kl_err_t delete_topic(kl_broker_t *b, struct coord *coord, const char *name,
                      kl_err_t *offsets_err)
{
    if (offsets_err != NULL)
        *offsets_err = KL_OK;
    kl_topic_t *t = broker_find_topic(b, name);
    if (t == NULL)
        return KL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    kl_err_t err = b->store.topic_delete(b->store.self, t->meta.name, t->partitions,
                                         t->meta.partition_count);
    if (err != KL_OK)
        return err;
    broker_remove_topic(b, t);
    kl_err_t off = coord != NULL ? coord_delete_topic_offsets(coord, name) : KL_OK;
    if (offsets_err != NULL)
        *offsets_err = off;
    return KL_OK;
}
