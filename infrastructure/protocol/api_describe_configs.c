/*
 * infrastructure/protocol/api_describe_configs.c — the DescribeConfigs API (key 32),
 * versions 0-3: the configuration of topics and of this broker, for admin clients
 * (kafka-configs.sh --describe, KafkaAdminClient.describe_configs, admin.describeConfigs).
 * Layer: infrastructure (protocol adapter). May touch: application/describe_configs.h
 * (the use case), wire.h, api.h.
 *
 * Field layout (Kafka's DescribeConfigsRequest/Response.json):
 *   request   resources [resource_type int8, resource_name string,
 *                        configuration_keys nullable [string]],
 *             include_synonyms bool (v1+), include_documentation bool (v3+)
 *   response  throttle_time_ms int32,
 *             results [error_code int16, error_message nullable string,
 *                      resource_type int8, resource_name string,
 *                      configs [name string, value nullable string, read_only bool,
 *                               is_default bool (v0 only), config_source int8 (v1+),
 *                               is_sensitive bool,
 *                               synonyms (v1+) [name string, value nullable string,
 *                                               source int8],
 *                               config_type int8 (v3+),
 *                               documentation nullable string (v3+)]]
 * Versions 0-3 are non-flexible; v4 is the first flexible one (KIP-482: compact
 * strings and arrays, tagged fields) and is not offered. Version 2 only changed the
 * throttling behaviour (responses before throttling), not a byte.
 * The body is decoded completely before the first resource is described, so a
 * truncated request is answered by closing the connection.
 */
#include <stdint.h>
#include <string.h>

#include "application/describe_configs.h"
#include "infrastructure/protocol/api.h"

/* The decoded request: its flags, plus a reader positioned on the resources array. */
typedef struct dcf_request {
    bool include_synonyms;       /* v1+ */
    bool include_documentation;  /* v3+ */
    kl_reader_t resources;
} dcf_request_t;

/* One resource of the request; `keys` views its configuration_keys array. */
typedef struct dcf_resource {
    int8_t type;
    kl_str_t name;
    int32_t key_count;           /* -1: null (all keys) */
    kl_reader_t keys;            /* positioned on the first key */
} dcf_resource_t;

static dcf_resource_t dcf_read_resource(kl_reader_t *r)
{
    dcf_resource_t res;
    res.type = rd_i8(r);
    res.name = rd_string(r);
    res.key_count = rd_array_len(r);
    res.keys = *r;
    for (int32_t i = 0; i < res.key_count; i++)
        (void)rd_string(r);
    return res;
}

/* LAB 03 BEGIN: decode the request body for version v (which fields exist in which version) */
static bool dcf_decode(kl_reader_t *r, int16_t v, dcf_request_t *q)
{
    q->resources = *r;
    int32_t n = rd_array_len(r);
    for (int32_t i = 0; i < n; i++)
        (void)dcf_read_resource(r);
    q->include_synonyms = v >= 1 && rd_i8(r) != 0;
    q->include_documentation = v >= 3 && rd_i8(r) != 0;
    return rd_ok(r);
}
/* LAB 03 END */

/* The use case's key filter over the request's configuration_keys. */
static bool dcf_key_wanted(void *arg, const char *name)
{
    const dcf_resource_t *res = arg;
    kl_reader_t r = res->keys;
    size_t len = strlen(name);
    for (int32_t i = 0; i < res->key_count; i++) {
        kl_str_t k = rd_string(&r);
        if (k.len >= 0 && (size_t)k.len == len && memcmp(k.ptr, name, len) == 0)
            return true;
    }
    return false;
}

static void dcf_write_nstr(kl_writer_t *out, const char *s)
{
    wr_nullable_string(out, s, s != NULL ? (int32_t)strlen(s) : -1);
}

static void dcf_write_synonyms(kl_writer_t *out, const kl_config_description_t *d,
                               bool include)
{
    int32_t n = include ? d->synonym_count : 0;
    wr_array_len(out, n);
    for (int32_t i = 0; i < n; i++) {
        const kl_config_synonym_t *s = &d->synonyms[i];
        wr_string(out, s->name, (int32_t)strlen(s->name));
        dcf_write_nstr(out, s->value);
        wr_i8(out, s->source);
    }
}

/* LAB 03 BEGIN: write one config entry: which fields exist in which version */
static void dcf_write_config(kl_writer_t *out, int16_t v, const dcf_request_t *q,
                             const kl_config_description_t *d)
{
    wr_string(out, d->name, (int32_t)strlen(d->name));            /* name */
    dcf_write_nstr(out, d->value);                                 /* value */
    wr_i8(out, d->read_only ? 1 : 0);                              /* read_only */
    if (v == 0) wr_i8(out, d->is_default ? 1 : 0);                 /* is_default */
    if (v >= 1) wr_i8(out, d->source);                             /* config_source */
    wr_i8(out, d->sensitive ? 1 : 0);                              /* is_sensitive */
    if (v >= 1) dcf_write_synonyms(out, d, q->include_synonyms);   /* synonyms */
    if (v >= 3) wr_i8(out, d->type);                               /* config_type */
    if (v >= 3)                                                    /* documentation */
        dcf_write_nstr(out, q->include_documentation ? d->documentation : NULL);
}
/* LAB 03 END */

static void dcf_write_result(kl_request_t *req, const dcf_request_t *q,
                             dcf_resource_t *res, kl_writer_t *out)
{
    kl_describe_configs_result_t result;
    kl_config_key_filter_t filter = { dcf_key_wanted, res };
    int16_t v = req->header.api_version;
    size_t name_len = res->name.len > 0 ? (size_t)res->name.len : 0;
    /* a null or empty key list asks for every config (Kafka's ConfigHelper) */
    kl_err_t err = describe_configs(req->broker, res->type, res->name.ptr, name_len,
                                    res->key_count > 0 ? &filter : NULL, &result);

    wr_i16(out, (int16_t)err);                                     /* error_code */
    dcf_write_nstr(out, result.error_message[0] != '\0' ? result.error_message : NULL);
    wr_i8(out, res->type);                                         /* resource_type */
    wr_string(out, res->name.ptr, res->name.len);                  /* resource_name */
    wr_array_len(out, result.count);                               /* configs */
    for (int32_t i = 0; i < result.count; i++)
        dcf_write_config(out, v, q, &result.configs[i]);
}

kl_reply_t describe_configs_handle(kl_request_t *req, kl_reader_t *body, kl_writer_t *out)
{
    dcf_request_t q;
    if (!dcf_decode(body, req->header.api_version, &q))
        return KL_REPLY_CLOSE;

    wr_i32(out, 0);                                                /* throttle_time_ms */
    kl_reader_t r = q.resources;
    int32_t n = rd_array_len(&r);
    wr_array_len(out, n < 0 ? 0 : n);                              /* results */
    for (int32_t i = 0; i < n; i++) {
        dcf_resource_t res = dcf_read_resource(&r);
        dcf_write_result(req, &q, &res, out);
    }
    return KL_REPLY_SEND;
}
