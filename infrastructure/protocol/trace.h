/*
 * infrastructure/protocol/trace.h — the protocol x-ray: every request and response
 * printed decoded, one readable block each, for `klamm --trace` (KLAMM_TRACE=1,
 * klamm.trace=true).
 * Layer: infrastructure. May touch: <stdio.h>, protocol/schema.h, protocol/api.h (the
 * request header decoder), protocol/wire.h, domain/record_batch.h, domain/error.h.
 *
 * A block starts with one unindented line — connection id, direction, API name and
 * version, correlation id, client id (requests), frame size — followed by every field
 * of the body by name, two spaces deeper per level, YAML-like:
 *
 *   [conn 1] request Produce v7 correlation_id=4 client_id="rdkafka" (170 bytes)
 *     transactional_id: null
 *     acks: -1
 *     timeout_ms: 30000
 *     topic_data: [1]
 *       - name: "topic"
 *         partition_data: [1]
 *           - index: 0
 *             records: 122 bytes
 *               - batch base_offset=0 records=3 codec=none size=122
 *
 * Strings are quoted (non-printable bytes as \xNN), bytes print as their length and a
 * hex preview of the first 16, arrays of numbers and strings inline, error codes with
 * their name. Record data is summarised batch by batch (domain/record_batch.h), never
 * decompressed. A malformed frame prints what could be decoded, then "<truncated>";
 * bytes the schema does not account for print as "<N trailing bytes ...>".
 *
 * Tracing never changes what the broker does: it only reads the frame. The caller
 * decides whether to trace (one branch per request when tracing is off).
 */
#ifndef KL_INFRA_PROTOCOL_TRACE_H
#define KL_INFRA_PROTOCOL_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A request frame as received: without the 4-byte size prefix, starting with the
 * request header (api_key, api_version, correlation_id, client_id, KIP-482 tags). */
void trace_request(FILE *out, uint64_t conn_id, const uint8_t *frame, size_t len);

/* A response frame without its size prefix: correlation id, tagged fields when the
 * response header is v1 (flexible versions, except ApiVersions: KIP-511), then the
 * body for `api_key` at `api_version` (the request's). An ApiVersions response that
 * carries UNSUPPORTED_VERSION, or answers a version beyond our range, is read in the
 * v0 layout, as Kafka's clients do. */
void trace_response(FILE *out, uint64_t conn_id, int16_t api_key, int16_t api_version,
                    const uint8_t *frame, size_t len);

#endif
