/*
 * domain/error.h — Klamm's error values: Apache Kafka's own error codes.
 * Layer: domain (pure). May touch: nothing but <stdint.h>.
 *
 * Why Kafka's codes and not an errno-like set of our own: every error a use case
 * returns ends up in a response field, so the value a function returns is the value
 * the client sees. Failures that have no Kafka meaning (a disk write failing) are
 * mapped to the Kafka code a real broker would send (KAFKA_STORAGE_ERROR).
 * The numbers are fixed by the protocol ("Error Codes" table of the Kafka protocol guide).
 */
#ifndef KL_DOMAIN_ERROR_H
#define KL_DOMAIN_ERROR_H

#include <stdint.h>

typedef enum kl_err {
    KL_ERR_UNKNOWN_SERVER_ERROR = -1,          /* anything unexpected; also out of memory */
    KL_OK = 0,                                 /* NONE */
    KL_ERR_OFFSET_OUT_OF_RANGE = 1,            /* fetch offset outside [log start, log end] */
    KL_ERR_CORRUPT_MESSAGE = 2,                /* batch CRC or framing is wrong */
    KL_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,     /* no such topic, or partition index too large */
    KL_ERR_INVALID_FETCH_SIZE = 4,
    KL_ERR_LEADER_NOT_AVAILABLE = 5,           /* topic being created (auto-create answer) */
    KL_ERR_NOT_LEADER_OR_FOLLOWER = 6,
    KL_ERR_REQUEST_TIMED_OUT = 7,
    KL_ERR_MESSAGE_TOO_LARGE = 10,             /* batch larger than message.max.bytes */
    KL_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KL_ERR_COORDINATOR_NOT_AVAILABLE = 15,
    KL_ERR_NOT_COORDINATOR = 16,
    KL_ERR_INVALID_TOPIC_EXCEPTION = 17,       /* topic name breaks Kafka's naming rule */
    KL_ERR_RECORD_LIST_TOO_LARGE = 18,
    KL_ERR_INVALID_REQUIRED_ACKS = 21,         /* acks not in {-1, 0, 1} */
    KL_ERR_ILLEGAL_GENERATION = 22,
    KL_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KL_ERR_INVALID_GROUP_ID = 24,
    KL_ERR_UNKNOWN_MEMBER_ID = 25,
    KL_ERR_INVALID_SESSION_TIMEOUT = 26,
    KL_ERR_REBALANCE_IN_PROGRESS = 27,
    KL_ERR_INVALID_COMMIT_OFFSET_SIZE = 28,
    KL_ERR_INVALID_TIMESTAMP = 32,
    KL_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
    KL_ERR_UNSUPPORTED_VERSION = 35,           /* API version outside the advertised range */
    KL_ERR_TOPIC_ALREADY_EXISTS = 36,
    KL_ERR_INVALID_PARTITIONS = 37,            /* partition count < 1 (or absurd) */
    KL_ERR_INVALID_REPLICATION_FACTOR = 38,    /* single broker: only 1 (or -1 = default) */
    KL_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
    KL_ERR_INVALID_CONFIG = 40,
    KL_ERR_NOT_CONTROLLER = 41,
    KL_ERR_INVALID_REQUEST = 42,               /* the request could not be decoded */
    KL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,/* magic 0/1 message sets: we store v2 only */
    KL_ERR_KAFKA_STORAGE_ERROR = 56,           /* the disk said no */
    KL_ERR_NON_EMPTY_GROUP = 68,
    KL_ERR_GROUP_ID_NOT_FOUND = 69,
    KL_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KL_ERR_MEMBER_ID_REQUIRED = 79,            /* JoinGroup v4+: KIP-394 two-step join */
    KL_ERR_GROUP_MAX_SIZE_REACHED = 81,
    KL_ERR_FENCED_INSTANCE_ID = 82,            /* KIP-345 static membership */
    KL_ERR_INVALID_RECORD = 87,
} kl_err_t;

/* Kafka's upper-case name for an error code ("OFFSET_OUT_OF_RANGE"); "UNKNOWN" if unlisted. */
const char *kl_err_name(kl_err_t err);

#endif
