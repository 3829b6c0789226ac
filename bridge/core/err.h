/* err.h - the one error enum of webhook-bridge.
 *
 * Every function that can fail returns a wb_err (0 = WB_OK) or a pointer that is NULL on
 * failure with a message in the caller's errstr buffer. */
#ifndef WB_ERR_H
#define WB_ERR_H

typedef enum wb_err {
    WB_OK = 0,
    WB_ERR_NOMEM,     /* allocation failed */
    WB_ERR_INVALID,   /* bad argument or malformed input */
    WB_ERR_CONFIG,    /* configuration error */
    WB_ERR_IO,        /* file or socket error */
    WB_ERR_KAFKA,     /* librdkafka reported an error */
    WB_ERR_HTTP,      /* libcurl / HTTP error */
    WB_ERR_SIGNATURE, /* signature did not verify */
    WB_ERR_STALE,     /* timestamp outside tolerance */
    WB_ERR_TOO_LARGE, /* size limit exceeded */
    WB_ERR_NOT_FOUND, /* lookup failed */
    WB_ERR_FULL,      /* queue or window full: try later */
    WB_ERR_SCHEMA,    /* Avro decode / resolution failure */
    WB_ERR_TIMEOUT,   /* deadline passed */
    WB_ERR_DENIED,    /* refused by policy (egress guard, insecure settings) */
    WB_ERR_PENDING,   /* not yet: an answer is being fetched; retry when notified */
    WB_ERR__COUNT
} wb_err;

/* Static, human readable name of an error code. Never NULL. */
const char *wb_err_str(wb_err err);

#endif
