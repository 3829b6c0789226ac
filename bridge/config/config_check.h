/* config_check.h - format checks of one string value (V_* of a wb_field): topic names,
 * JSON pointers, URLs, CIDRs, listen addresses, consumer group ids, start positions.
 * Private to bridge/config/. Pure functions apart from the report; any thread. */
#ifndef WB_CONFIG_CHECK_H
#define WB_CONFIG_CHECK_H

#include "config/config_int.h"

/* 0 when s passes check (a V_* value; V_NONE passes everything), else -1 after reporting
 * "<file>:<line>: <key>: <why>" (a URL is not echoed: it may carry credentials).
 * V_START also stores the parsed position in c->cc (start_mode, start_ms). */
int wb_config_check_value(wb_config_ctx *c, int line, const char *key, int check, const char *s);

/* An HTTP header name (RFC 9110 token, not empty). */
int wb_config_valid_token(const char *s);

/* A header the HTTP client or the signer sets (host, content-type, webhook-*, ...):
 * connector headers: may not override it. Case-insensitive. */
int wb_config_reserved_header(const char *name);

#endif
