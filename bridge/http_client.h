/* http_client.h - outbound webhook deliveries over a libcurl multi handle.
 *
 * One wb_http drives many concurrent POSTs on ONE thread (the outbound engine's event loop).
 * Nothing here blocks except the wait inside wb_http_run(). Connections are kept alive and
 * reused (HTTP/1.1 keep-alive, HTTP/2 multiplexing over TLS where the partner offers it), easy
 * handles are pooled, the DNS cache and TLS session cache are shared by all transfers.
 *
 * Every connection goes through the egress guard (egress.h) on the RESOLVED address, so
 * internal destinations are refused even through DNS names or rebinding.
 *
 * Request semantics: POST of the given body with the given headers; redirects are NOT
 * followed; "Expect: 100-continue" is never sent; the response body is read and discarded
 * (only its size is counted, a body over 1 MiB aborts the transfer and closes the connection,
 * the status already received still classifies it). Only http:// and https:// are allowed
 * (https:// only with https_only). Proxies from the environment (http_proxy, ...) are ignored:
 * only req->proxy is used.
 *
 * Thread: a wb_http and everything it hands out belong to the thread that calls
 * wb_http_run() (the "owner"). Only wb_http_wakeup() may be called from another thread. */
#ifndef WB_HTTP_CLIENT_H
#define WB_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include "egress.h"
#include "err.h"

typedef struct wb_http wb_http;

typedef struct wb_http_req {
    const char *url;            /* copied by libcurl at submit */
    struct curl_slist *headers; /* borrowed; must stay valid until the done callback.
                                 * Set Content-Type here (libcurl would default to a form). */
    const void *body;           /* borrowed; valid until the done callback (NULL: empty,
                                 * body_len must then be 0) */
    size_t body_len;
    int64_t timeout_ms;         /* whole transfer incl. queueing for a connection; <= 0: 30 s */
    int64_t connect_timeout_ms; /* TCP + TLS handshake; <= 0: 10 s */
    /* egress policy for this request */
    int allow_private;                     /* 1 = loopback/private/link-local allowed */
    const struct wb_egress_policy *policy; /* CIDR allowlist etc., may be NULL; borrowed,
                                            * valid until the done callback */
    int https_only; /* 1 = refuse http:// (PERMANENT, unsupported protocol) */
    /* may be NULL; strings copied at submit. With a proxy the egress guard is NOT applied to
     * the proxy connection (operator-configured) and the proxy resolves the target itself:
     * egress filtering is then the proxy's job. */
    const char *client_cert, *client_key, *ca_file, *proxy;
} wb_http_req;

/* Outcome class of a delivery attempt.
 *   DONE      2xx.
 *   RETRY     429 and 5xx (429/503 carry retry_after_ms when the partner sent Retry-After);
 *             3xx: redirects are never followed, a 3xx is a failure retried like a 5xx (a
 *             partner misconfiguration that can be fixed on their side; error names the
 *             Location); no response at all:
 *             connect refused/failed, timeouts, DNS failures, TLS errors.
 *   PERMANENT other 4xx; egress denied; URL not http(s), malformed URL, http:// with
 *             https_only.
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
    char error[160];        /* short reason, "" when DONE: "connect refused", "timeout after
                             * 10000 ms", "HTTP 503", "egress denied: 127.0.0.1 is loopback" */
} wb_http_result;

/* Completion callback. res is only valid during the call (copy what you need). Runs on the
 * owner thread from inside wb_http_run(). It may call wb_http_submit() (e.g. the next
 * delivery) but must not call wb_http_free() or wb_http_run(). */
typedef void (*wb_http_done_cb)(void *opaque, const wb_http_result *res);

/* Create a client. max_total_connections (>= 1) caps open connections over all hosts
 * (CURLMOPT_MAX_TOTAL_CONNECTIONS) and sizes the idle connection cache. Size it to at least
 * the sum of the connectors' max_concurrency: transfers beyond the connection caps wait inside
 * libcurl (their timeout runs), and that waiting costs libcurl about twice the CPU per request.
 * Returns NULL with a message in errstr on failure; the caller frees with wb_http_free().
 * Calls curl_global_init() (reference counted, thread-safe in this libcurl). */
wb_http *wb_http_new(int max_total_connections, char *errstr, size_t errstr_size);

/* Per-host connection cap (CURLMOPT_MAX_HOST_CONNECTIONS, 0 = none). libcurl applies one value
 * to every host; pass the largest max_concurrency of the connectors (the scheduler enforces
 * each connector's own limit). Owner thread. */
wb_err wb_http_set_max_host_connections(wb_http *h, long max);

/* Free the client: aborts transfers still running WITHOUT calling their callbacks, closes
 * connections. NULL is fine. Owner thread, not from inside a done callback. */
void wb_http_free(wb_http *h);

/* Start a request. req and its strings need only live during the call, except headers, body
 * and policy (borrowed until the callback). On WB_OK the callback fires exactly once later
 * from wb_http_run(); on error (WB_ERR_INVALID: no url/cb; WB_ERR_NOMEM; WB_ERR_HTTP: libcurl
 * refused the handle) it never fires. Owner thread. */
wb_err wb_http_submit(wb_http *h, const wb_http_req *req, wb_http_done_cb cb, void *opaque);

/* Drive transfers: wait up to timeout_ms for socket activity, a wakeup, or one of the extra fds
 * (set .events, read .revents afterwards), then perform and fire done callbacks. The wait
 * is also cut short by libcurl's own timers (a just-submitted request starts at once,
 * timeouts fire on time). Returns the number of completions (callbacks fired), 0 on a plain
 * timeout or wakeup, or -1 on a libcurl multi error. Owner thread. */
int wb_http_run(wb_http *h, int timeout_ms, struct curl_waitfd *extra, unsigned nextra);

/* Make a wb_http_run() that is waiting return early. Thread-safe (curl_multi_wakeup), but
 * must not race wb_http_free(): stop the waking threads first. */
void wb_http_wakeup(wb_http *h);

/* Number of submitted requests whose callback has not fired yet. Owner thread. */
int wb_http_in_flight(const wb_http *h);

/* Classify an attempt (see wb_http_class). A non-zero curl_code wins over status (the response,
 * if any, was incomplete). Egress denial is not visible in a CURLcode (it surfaces as
 * CURLE_COULDNT_CONNECT): wb_http_run() marks those PERMANENT itself. Pure, any thread. */
wb_http_class wb_http_classify(int status, int curl_code);

/* Parse a Retry-After header value: delta-seconds ("120") or an HTTP-date (IMF-fixdate, RFC 850
 * or asctime form), relative to now_unix_s. Returns milliseconds (>= 0, a date in the past
 * gives 0), or -1 if unparsable. Surrounding whitespace is ignored. Pure, any thread. */
int64_t wb_http_parse_retry_after(const char *value, int64_t now_unix_s);

/* Static name of a class: "done", "retry", "permanent", "gone". */
const char *wb_http_class_str(wb_http_class cls);

#endif
