/* envelope.h - what a partner receives: event type, webhook-id, the Standard Webhooks
 * envelope {"type","timestamp","data"} and the per-attempt signed headers.
 *
 * Thread: pure functions; call from any thread. */
#ifndef WB_ENVELOPE_H
#define WB_ENVELOPE_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

#include "kafka/event.h"

/* Append {"type":<type>,"timestamp":<ts>,"data":<data>} to out. data must be one valid JSON
 * text (it is copied verbatim, not re-serialised). */
wb_err wb_envelope_build(wb_buf *out, const char *type, int64_t unix_ms, const char *data,
                         size_t data_len);

#endif
