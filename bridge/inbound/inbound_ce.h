/* inbound_ce.h - CloudEvents attributes the inbound listener makes up (inbound_ce.c). An
 * incoming traceparent is checked with wb_traceparent_valid (kafka/event.h).
 *
 * Thread: every function may be called from any thread. */
#ifndef WB_INBOUND_CE_H
#define WB_INBOUND_CE_H

#include <stddef.h>

#include "core/jscan.h"

/* A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" + NUL. */
void wb_inbound_ce_uuid(char out[37]);
/* A fresh traceparent (random trace and parent ids, not sampled) + NUL. */
void wb_inbound_ce_traceparent_new(char out[56]);
/* ce_time now: RFC 3339 UTC with milliseconds ("2026-11-23T18:00:00.000Z") + NUL. */
void wb_inbound_ce_time(char out[48]);
/* The text of a value the body scan found at t (strings as they are, integers as written,
 * anything else as compact JSON rendered by jansson from json/len). malloc'd, the caller
 * frees; NULL when absent or null. */
char *wb_inbound_ce_pointer_text(const wb_jscan_target *t, const char *json, size_t len);

#endif
