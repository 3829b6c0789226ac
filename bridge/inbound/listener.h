/* listener.h - the inbound HTTP listener: partner webhooks -> verified -> Kafka.
 *
 * libmicrohttpd with an epoll thread pool (cfg->inbound.threads), suspend/resume and an ITC.
 * `POST /webhooks/{connector}` for every inbound connector: route and limits (404/405/415/413,
 * 429 per-connector token bucket), then once the body is complete: signature and freshness
 * (401), JSON (400), dedupe by delivery id (200 {"duplicate":true}; 409 while the same id is
 * still being published by another request), publish with wb_producer_send and suspend the
 * request until the delivery report: 200 {"topic","partition","offset"}, or 503 + Retry-After
 * on failure or after cfg->inbound.publish_timeout_ms. Never 2xx before the broker's ack.
 * Every error is application/problem+json (problem.h) and nothing is published for it.
 *
 * Thread: new/free from the main thread; requests are served on MHD's threads; delivery
 * reports arrive on the producer thread; publish timeouts fire on the listener's timer
 * thread. */
#ifndef WB_LISTENER_H
#define WB_LISTENER_H

#include <stddef.h>
#include "config/config.h"
#include "kafka/producer.h"

typedef struct wb_listener wb_listener;

/* Start listening on cfg->inbound.listen ("host:port", "[v6]:port", ":port"; port 0 =
 * ephemeral) for every inbound connector in cfg. Verifiers and dedupe caches are prepared
 * here (a bad secret fails start-up with errstr). cfg and prod are borrowed and must outlive
 * the listener. NULL + errstr on failure. */
wb_listener *wb_listener_new(const wb_config *cfg, wb_producer *prod, char *errstr,
                             size_t errstr_size);

/* SIGHUP: verify with the secrets of cfg's inbound connectors from now on (secret rotation).
 * Connectors are matched by name; other changes (new or removed inbound connectors, topics,
 * limits) take effect on restart and are logged. All or nothing: a secret that does not
 * decode rejects the reload (WB_ERR_CONFIG + errstr). cfg must outlive the listener.
 * Thread: any one thread at a time (the reloading one); requests keep being served. */
wb_err wb_listener_reload(wb_listener *l, const wb_config *cfg, char *errstr, size_t errstr_size);

/* Verifiers replaced by reloads and still kept (a request may be using one); those older than
 * the request timeout plus a margin are freed first. Same thread as wb_listener_reload. */
size_t wb_listener_retired(wb_listener *l);

/* The bound TCP port (useful with port 0). */
int wb_listener_port(const wb_listener *l);

/* Requests currently being served (body being read or waiting for the broker). */
int wb_listener_active(const wb_listener *l);

/* Stop accepting, let requests in progress finish for up to timeout_ms, answer 503 to those
 * still waiting for the broker, close everything and free. A delivery report arriving later
 * touches no freed memory (it only commits the dedupe entry). NULL is a no-op. */
void wb_listener_free(wb_listener *l, int timeout_ms);

/* ---- routing decision (pure; exported for tests and the fuzz target) ---- */

typedef struct wb_route {
    int status;         /* 0 = accepted: read the body; else the HTTP status to answer */
    const char *slug;   /* problem type slug when status != 0 (static) */
    const char *detail; /* human detail when status != 0 (static) */
    int connector;      /* index into cfg->connectors, -1 when unknown */
    int form;           /* body is application/x-www-form-urlencoded (slack) */
    long long length;   /* Content-Length, -1 when absent (chunked) */
} wb_route;

/* Decide what to do with a request from its line and headers only (no body yet): 404
 * unknown path or connector, 405 not POST, 415 content type, 413 Content-Length over the
 * connector's max_body, 400 malformed Content-Length. Any argument but cfg and out may be
 * NULL (treated as absent). */
void wb_listener_route(const wb_config *cfg, const char *method, const char *url,
                       const char *content_type, const char *content_length, wb_route *out);

/* 1 when body (len bytes) is a well-formed application/x-www-form-urlencoded body: one or
 * more name[=value] pairs joined by '&', names not empty, every byte outside the unreserved
 * set percent-encoded with two hex digits. Pure; any thread. */
int wb_listener_form_ok(const char *body, size_t len);

#endif
