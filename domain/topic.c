/*
 * domain/topic.c — the rules about topics as data: the naming rule, partition count and
 * replication factor for CreateTopics, per-topic config overrides and their boolean values.
 * Layer: domain (pure). May touch: domain/topic.h, <string.h>. No I/O.
 */
#include "domain/topic.h"

#include <stdbool.h>
#include <string.h>

/* Kafka's Topic.validate: legal characters are ASCII alphanumerics, '.', '_' and '-'.
 * Written out rather than isalnum() so the locale cannot widen the set. */
static bool topic_name_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

kl_err_t topic_validate_name(const char *name, size_t len)
{
    if (name == NULL || len == 0 || len > KL_TOPIC_NAME_MAX)
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    /* "." and ".." would collide with directory entries of the log directory. */
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return KL_ERR_INVALID_TOPIC_EXCEPTION;
    for (size_t i = 0; i < len; i++)
        if (!topic_name_char_ok(name[i]))
            return KL_ERR_INVALID_TOPIC_EXCEPTION;
    return KL_OK;
}

kl_err_t topic_validate_partition_count(int32_t count)
{
    /* CreateTopics v4+ (KIP-464): -1 asks for the broker's num.partitions. */
    if (count == -1)
        return KL_OK;
    if (count < 1 || count > KL_PARTITIONS_MAX)
        return KL_ERR_INVALID_PARTITIONS;
    return KL_OK;
}

kl_err_t topic_validate_replication_factor(int16_t factor)
{
    /* One broker holds one replica; -1 is KIP-464's "broker default" (1 here). */
    if (factor == 1 || factor == -1)
        return KL_OK;
    return KL_ERR_INVALID_REPLICATION_FACTOR;
}

/* Index of `key` in meta->configs, or -1. */
static int32_t topic_meta_find(const kl_topic_meta_t *meta, const char *key)
{
    for (int32_t i = 0; i < meta->config_count && i < KL_TOPIC_CONFIGS_MAX; i++)
        if (strcmp(meta->configs[i].key, key) == 0)
            return i;
    return -1;
}

const char *topic_meta_config(const kl_topic_meta_t *meta, const char *key)
{
    if (meta == NULL || key == NULL)
        return NULL;
    int32_t i = topic_meta_find(meta, key);
    return i < 0 ? NULL : meta->configs[i].value;
}

kl_err_t topic_meta_set_config(kl_topic_meta_t *meta, const char *key, const char *value)
{
    if (meta == NULL || key == NULL || value == NULL || key[0] == '\0')
        return KL_ERR_INVALID_CONFIG;
    size_t klen = strlen(key), vlen = strlen(value);
    /* Room for the terminating NUL: a key that would be cut short must not be stored
     * under a different (truncated) name. */
    if (klen >= KL_CONFIG_KEY_MAX || vlen >= KL_CONFIG_VALUE_MAX)
        return KL_ERR_INVALID_CONFIG;
    int32_t i = topic_meta_find(meta, key);
    if (i < 0) {
        if (meta->config_count < 0 || meta->config_count >= KL_TOPIC_CONFIGS_MAX)
            return KL_ERR_INVALID_CONFIG;
        i = meta->config_count++;
        memcpy(meta->configs[i].key, key, klen + 1);
    }
    memcpy(meta->configs[i].value, value, vlen + 1);
    return KL_OK;
}

/* ASCII case-insensitive equality with a lowercase word, by hand: strcasecmp follows the
 * locale, and Java's equalsIgnoreCase of "true"/"false" is plain ASCII here. */
static bool topic_ascii_word_is(const char *s, const char *lower)
{
    for (; *lower != '\0'; s++, lower++) {
        char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
        if (c != *lower)
            return false;
    }
    return *s == '\0';
}

kl_err_t topic_config_bool(const char *value, bool *out)
{
    if (value == NULL)
        return KL_ERR_INVALID_CONFIG;
    /* Kafka's ConfigDef.parseType also trims blanks first; Klamm's CreateTopics checks
     * every config's value untrimmed (create_topics.c), so this one does too. */
    if (topic_ascii_word_is(value, "true"))
        *out = true;
    else if (topic_ascii_word_is(value, "false"))
        *out = false;
    else
        return KL_ERR_INVALID_CONFIG;
    return KL_OK;
}
