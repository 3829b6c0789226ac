/* kafka/event.h - a Kafka record decoded once into the bridge's event model, and the one
 * reader/writer of CloudEvents binary-mode headers (ce_*).
 *
 * Outbound, each connector decodes a record once into a wb_event: event type, webhook-id,
 * timestamp, traceparent, CloudEvents attributes, key and JSON body. Inbound, the listener
 * writes the same attributes as ce_* headers, so what one bridge publishes another reads back.
 *
 * Every text here may end up in an HTTP header of a signed partner request: ids and
 * traceparents holding anything but visible ASCII are refused (the id falls back to the derived
 * `wb_` id, the traceparent to a fresh one), so a record can never add or split a header.
 *
 * Thread: pure functions (wb_event_random and wb_traceparent_new read OpenSSL's RNG); any
 * thread. */
#ifndef WB_KAFKA_EVENT_H
#define WB_KAFKA_EVENT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define WB_EVENT_ID_MAX 128 /* longest id taken from a record (ce_id, id pointer) */

typedef struct wb_event {
    char type[128];       /* ce_type, event-type header, the type pointer, else the topic */
    char id[160];         /* webhook-id (see wb_event_decode) */
    int id_refused;       /* the record's own id was unusable (control characters, too long) */
    char traceparent[56]; /* W3C traceparent: the record's when valid, else a fresh one */
    /* The other CloudEvents attributes stay in the record's headers (wb_event_ce_attr):
     * a wb_event lives as long as its delivery, 10,000 of them in flight by default. */
    int64_t ts_ms;   /* Kafka record timestamp (CreateTime/LogAppendTime), wall ms */
    const void *key; /* borrowed from the record */
    size_t key_len;
    const char *body; /* the JSON value (the record's, or Avro decoded to JSON) */
    size_t body_len;
} wb_event;

/* Fill ev from rkm and its JSON body (borrowed: ev points into rkm and body). type_from_body
 * and id_from_body are the values found at the configured JSON pointers, or NULL.
 * webhook-id: ce_id, else id_from_body, else "wb_" + 32 hex digits of
 * SHA-256(topic/partition/offset) -- stable across retries, crash replays, replays and
 * redrives of the same record. An own id that is not visible ASCII (or longer than
 * WB_EVENT_ID_MAX) is refused: ev->id_refused is set and the derived id is used. */
void wb_event_decode(wb_event *ev, const rd_kafka_message_t *rkm, const char *body, size_t body_len,
                     const char *type_from_body, const char *id_from_body);

/* The derived id of a record ("wb_" + hex), as wb_event_decode would give without an own id. */
void wb_event_fallback_id(const char *topic, int32_t partition, int64_t offset, char *out,
                          size_t out_size);

/* A CloudEvents attribute header of rkm (e.g. "ce_dataschema") into out when present and
 * free of control characters (else out = ""). 1 when out is non-empty. */
int wb_event_ce_attr(const rd_kafka_message_t *rkm, const char *name, char *out, size_t n);

/* Value of the last header `name` of rkm, NUL-terminated (truncated to out_size-1). 1 when
 * present. */
int wb_record_header(const rd_kafka_message_t *rkm, const char *name, char *out, size_t out_size);

/* 1 when s is non-empty, at most max bytes, and only visible ASCII (0x21..0x7e). */
int wb_header_token_ok(const char *s, size_t max);

/* W3C trace context: 1 when s is a valid version-00 traceparent. */
int wb_traceparent_valid(const char *s);
/* n random bytes for ids that need only be unique (trace ids, the inbound ce_id fallback):
 * the one generator of the bridge's ids (OpenSSL RAND_bytes, drawn 512 bytes at a time per
 * thread). Any thread; fork-safe. */
void wb_event_random(unsigned char *out, size_t n);
/* A fresh random traceparent ("00-<32 hex>-<16 hex>-01"). out >= 56 bytes. */
void wb_traceparent_new(char *out, size_t out_size);

/* CloudEvents binary mode, Kafka binding: what the inbound side writes. */
typedef struct wb_ce_attrs {
    const char *id, *source, *type, *time, *dataschema; /* NULL or "": header left out */
} wb_ce_attrs;
/* Add ce_specversion "1.0" and the given attributes to h. WB_ERR_INVALID when an attribute
 * holds a control character (nothing added then). */
wb_err wb_ce_write(rd_kafka_headers_t *h, const wb_ce_attrs *a);

#endif
