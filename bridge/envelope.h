/* envelope.h - what a partner receives: event type, webhook-id, the Standard Webhooks
 * envelope {"type","timestamp","data"} and the per-attempt signed headers.
 *
 * Thread: pure functions; call from any thread. */
#ifndef WB_ENVELOPE_H
#define WB_ENVELOPE_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

/* Value of the last header `name` of rkm as a NUL-terminated copy in out (truncated to
 * out_size-1). Returns 1 when present. */
int wb_record_header(const rd_kafka_message_t *rkm, const char *name, char *out, size_t out_size);

/* Event type of a record: the `ce_type` header (CloudEvents Kafka binding), an `event-type`
 * header, from_body (the value found at the configured pointer, or NULL), else the topic
 * name. */
void wb_event_type(const rd_kafka_message_t *rkm, const char *from_body, char *out,
                   size_t out_size);

/* webhook-id: the `ce_id` header, from_body (the string/integer at the id pointer, or NULL),
 * else "wb_" + 32 hex digits of SHA-256(topic/partition/offset). Stable across retries and
 * across a replay of the same record. */
void wb_webhook_id(const rd_kafka_message_t *rkm, const char *from_body, char *out,
                   size_t out_size);

/* Only the derived form: "wb_" + 32 hex digits of SHA-256(topic/partition/offset). The
 * fallback when the record's own id cannot be a header value (a control character). */
void wb_webhook_id_derived(const rd_kafka_message_t *rkm, char *out, size_t out_size);

/* RFC 3339 UTC with milliseconds, e.g. "2026-11-23T17:44:06.123Z". out >= 32 bytes. */
void wb_rfc3339_ms(int64_t unix_ms, char *out, size_t out_size);

/* Append {"type":<type>,"timestamp":<ts>,"data":<data>} to out. data must be one valid JSON
 * text (it is copied verbatim, not re-serialised). */
wb_err wb_envelope_build(wb_buf *out, const char *type, int64_t unix_ms, const char *data,
                         size_t data_len);

#endif
