/* err.c - names of the error codes. */
#include "core/err.h"

const char *wb_err_str(wb_err err)
{
    static const char *const names[WB_ERR__COUNT] = {
        [WB_OK] = "ok",
        [WB_ERR_NOMEM] = "out of memory",
        [WB_ERR_INVALID] = "invalid input",
        [WB_ERR_CONFIG] = "configuration error",
        [WB_ERR_IO] = "i/o error",
        [WB_ERR_KAFKA] = "kafka error",
        [WB_ERR_HTTP] = "http error",
        [WB_ERR_SIGNATURE] = "signature mismatch",
        [WB_ERR_STALE] = "timestamp outside tolerance",
        [WB_ERR_TOO_LARGE] = "too large",
        [WB_ERR_NOT_FOUND] = "not found",
        [WB_ERR_FULL] = "full",
        [WB_ERR_SCHEMA] = "schema error",
        [WB_ERR_TIMEOUT] = "timeout",
        [WB_ERR_DENIED] = "denied by policy",
        [WB_ERR_PENDING] = "pending",
    };
    if ((unsigned)err >= WB_ERR__COUNT || !names[err]) return "unknown error";
    return names[err];
}
