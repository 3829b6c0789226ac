/* outbound/http.h - partner webhook POSTs on libcurl's multi_socket API, driven by a wb_loop.
 *
 * One wb_http per event loop (core/loop.h): its sockets are watched by the loop's epoll
 * (CURLMOPT_SOCKETFUNCTION) and libcurl's timeout is one loop timer (CURLMOPT_TIMERFUNCTION),
 * so the cost of a turn is proportional to the sockets that are ready, not to the transfers
 * in flight. Connections are kept alive and reused (HTTP/1.1 keep-alive; HTTP/2 multiplexing
 * over TLS where the partner offers it, or over cleartext with prior knowledge when a target
 * asks for it); easy handles are pooled and only the per-request options are set on each
 * request; the DNS cache and TLS session cache are shared by every transfer of the client.
 *
 * A target (wb_http_target) is what stays constant for a connector: URL, constant headers
 * (rendered to header lines once), timeouts, TLS files, proxy and egress policy. A request adds
 * only the per-delivery headers (webhook-id, webhook-timestamp, webhook-signature, traceparent)
 * and the body.
 *
 * Header values are typed (name, value) pairs, never text split on newlines: a name must be a
 * token (RFC 9110), a value may hold no control character (CR, LF, NUL, DEL and the rest of
 * 0x00-0x1f except HTAB): anything else is refused with WB_ERR_INVALID, at target creation or at
 * submit. So nothing in a Kafka record can add, replace or split request headers.
 *
 * Egress guard (egress.h) on the RESOLVED address of every connection, including reused
 * keep-alive ones. With a proxy, requests go through the proxy only (environment proxy
 * variables and NO_PROXY are ignored), the target host is checked before the request is made
 * (an IP literal or a name resolving to a denied address is refused), and a connection to
 * anything but the proxy is still guarded.
 *
 * Request semantics: POST; redirects are NOT followed; "Expect: 100-continue" is never sent;
 * the response body is read and discarded (a body over 1 MiB aborts the transfer, the status
 * already received still classifies it). Only http:// and https:// (https:// only with
 * https_only).
 *
 * Thread: a wb_http, its targets and its requests belong to the loop's thread. */
#ifndef WB_OUTBOUND_HTTP_H
#define WB_OUTBOUND_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "core/loop.h"
#include "http/egress.h"
#include "core/err.h"

typedef struct wb_http wb_http;
typedef struct wb_http_target wb_http_target;
typedef struct wb_http_xfer wb_http_xfer; /* one submitted request */

typedef struct wb_http_header {
    const char *name;
    const char *value;
} wb_http_header;

/* 1 when name is an RFC 9110 token and value holds no control character (HTAB allowed) and
 * neither is longer than 8 KiB. Pure, any thread. Use it to decide on a fallback (e.g. a
 * record's own id carrying a newline falls back to the derived wb_ id). */
int wb_http_header_ok(const char *name, const char *value);

typedef struct wb_http_opts {
    int max_total_connections; /* >= 1: caps open connections over all hosts, sizes the cache */
    int max_host_connections;  /* 0 = no per-host cap (each connector's scheduler caps its own) */
} wb_http_opts;

/* Create a client on lp. Calls curl_global_init() (reference counted). NULL + errstr. */
wb_http *wb_http_new(wb_loop *lp, const wb_http_opts *opts, char *errstr, size_t errstr_size);
/* Abort every transfer WITHOUT calling its callback, close connections, free. Targets must
 * have been released. NULL is fine. Loop thread, not from inside a callback. */
void wb_http_free(wb_http *h);
/* Change the connection caps (config reload). */
wb_err wb_http_set_limits(wb_http *h, const wb_http_opts *opts);

typedef enum wb_http2_mode {
    WB_HTTP2_AUTO = 0,        /* HTTP/2 over TLS when ALPN offers it, HTTP/1.1 otherwise */
    WB_HTTP2_OFF,             /* HTTP/1.1 only */
    WB_HTTP2_PRIOR_KNOWLEDGE, /* h2c: HTTP/2 without upgrade over cleartext (opt-in) */
} wb_http2_mode;

typedef struct wb_http_target_opts {
    const char *url;               /* http:// or https:// */
    const wb_http_header *headers; /* constant headers (content-type, user-agent, configured) */
    size_t nheaders;
    int64_t timeout_ms;             /* whole attempt incl. waiting for a connection; <= 0: 30 s */
    int64_t connect_timeout_ms;     /* TCP + TLS handshake; <= 0: 10 s */
    int allow_private;              /* 1 = loopback/private/link-local allowed */
    const wb_egress_policy *policy; /* allowlist or NULL; borrowed for the target's life */
    int https_only;
    const char *client_cert, *client_key, *ca_file; /* mTLS / CA bundle files, or NULL */
    const char *proxy;                              /* http(s)://host:port, or NULL */
    wb_http2_mode http2;
} wb_http_target_opts;

/* Build a target: every string copied, headers checked (WB_ERR_INVALID names the header in
 * errstr) and rendered once. The caller holds one reference; each submitted request holds
 * another until its callback (or cancel), so a target may be released while its requests
 * finish (a reload replaced it). NULL + errstr on error. */
wb_http_target *wb_http_target_new(wb_http *h, const wb_http_target_opts *opts, char *errstr,
                                   size_t errstr_size);
void wb_http_target_release(wb_http_target *t);

/* Outcome class of an attempt.
 *   DONE      2xx.
 *   RETRY     429 and 5xx (429/503 carry retry_after_ms when the partner sent Retry-After);
 *             408, 425; 3xx (redirects are never followed; error names the Location); no
 *             response at all: connect refused/failed, timeouts, DNS failures, TLS errors.
 *   PERMANENT other 4xx; egress denied; URL not http(s), malformed URL, http:// with
 *             https_only; a request that cannot be built.
 *   GONE      410: the partner says the endpoint is gone for good (permanent too). */
typedef enum wb_http_class {
    WB_HTTP_DONE,
    WB_HTTP_RETRY,
    WB_HTTP_PERMANENT,
    WB_HTTP_GONE
} wb_http_class;

typedef struct wb_http_result {
    int status;    /* HTTP status, 0 if no response */
    int curl_code; /* CURLcode */
    wb_http_class cls;
    int64_t retry_after_ms; /* from Retry-After on 429/503 (seconds or HTTP-date), -1 if none */
    int64_t elapsed_us;     /* submit to completion (includes waiting for a connection) */
    int http_version;       /* 10, 11, 20 (0 when no response) */
    char error[160];        /* short reason, "" when DONE: "connect refused", "timeout after
                             * 10000 ms", "HTTP 503", "egress denied: 127.0.0.1 is loopback" */
} wb_http_result;

/* Completion: res is valid during the call only. Runs on the loop thread from a loop
 * callback. It may submit (e.g. the next delivery) or cancel other requests, but must not
 * free the client. */
typedef void (*wb_http_done_cb)(void *opaque, const wb_http_result *res);

/* Start a POST to target t with the per-request headers (copied: the caller may free them
 * on return) and the body (borrowed until the callback or wb_http_cancel). On WB_OK the
 * callback fires exactly once later (never from inside this call) unless the request is
 * cancelled, and *xp (optional) receives the handle. On error (WB_ERR_INVALID: a header
 * refused or no target; WB_ERR_NOMEM; WB_ERR_HTTP: libcurl refused the handle) nothing was
 * sent and the callback never fires. */
wb_err wb_http_submit(wb_http *h, wb_http_target *t, const wb_http_header *hdrs, size_t nhdrs,
                      const void *body, size_t body_len, wb_http_done_cb cb, void *opaque,
                      wb_http_xfer **xp);

/* Abort one request WITHOUT calling its callback (shutdown past the drain bound, a removed
 * connector). The handle is invalid afterwards. */
void wb_http_cancel(wb_http *h, wb_http_xfer *x);

/* Requests submitted and not yet completed or cancelled. */
int wb_http_in_flight(const wb_http *h);

/* Classify an attempt (see wb_http_class). A non-zero curl_code wins over status. Pure. */
wb_http_class wb_http_classify(int status, int curl_code);

/* Parse a Retry-After value: delta-seconds ("120") or an HTTP-date (IMF-fixdate, RFC 850 or
 * asctime), relative to now_unix_s. Returns ms (>= 0; a past date gives 0), or -1 when
 * unparsable. Surrounding whitespace ignored. Pure. */
int64_t wb_http_parse_retry_after(const char *value, int64_t now_unix_s);

/* "done", "retry", "permanent", "gone". */
const char *wb_http_class_str(wb_http_class cls);

#endif
