/* outbound/http_int.h - internals shared by the HTTP client's files (http.c drives libcurl,
 * http_parse.c holds the pure helpers). Not for use outside bridge/outbound/http*.c. */
#ifndef WB_OUTBOUND_HTTP_INT_H
#define WB_OUTBOUND_HTTP_INT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "http/http.h"

#define WB_HTTP_MAX_HEADER_LEN 8192 /* longest header name or value accepted */

#define DEFAULT_TIMEOUT_MS         30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000

enum wb_http_phase {
    PH_IDLE = 0, /* in a free list */
    PH_PROBE,    /* proxied target with a host name: resolving it to check the addresses */
    PH_REQUEST,  /* the request itself, in the multi handle */
    PH_FAILQ,    /* failed before libcurl saw it: completes from the kick timer */
};

/* A list of transfers: a target's idle stack, the free stack, the fail queue. */
STAILQ_HEAD(wb_http_xfers, wb_http_xfer);

struct wb_http_target {
    wb_http *h;
    uint64_t id; /* unique per client: tells a transfer whether its options are ours */
    int refs;
    char *url, *proxy, *client_cert, *client_key, *ca_file;
    struct curl_slist *headers; /* constant lines + "Expect:", one allocation with the text */
    long timeout_ms, connect_timeout_ms;
    int allow_private;
    const wb_egress_policy *policy;
    int https_only;
    wb_http2_mode http2;
    int pipewait;
    int one_shot; /* one connection per request (h2c prior knowledge on libcurl < 8.0) */
    /* proxy: the identity of the proxy (port always, address when given as a literal) and
     * the verdict on the target host when it is an IP literal */
    int proxy_literal;
    struct sockaddr_storage proxy_addr;
    int proxy_port;
    int host_is_name;          /* target host is a name: each request resolves and checks it */
    char host_denied[128];     /* target host is a denied literal: why ("" = allowed / a name) */
    struct wb_http_xfers idle; /* idle transfers configured for this target (a stack) */
};

struct wb_http_xfer {
    CURL *easy;
    wb_http *h;
    STAILQ_ENTRY(wb_http_xfer) link;    /* free list, target idle list or fail queue */
    SLIST_ENTRY(wb_http_xfer) all_link; /* every transfer, for wb_http_free */
    int phase;
    uint64_t configured; /* id of the target whose options the handle carries, 0 = none */
    int dirty;           /* options half applied: reset before the next use */
    /* per request */
    wb_http_target *t; /* holds a reference while the request runs */
    wb_http_done_cb cb;
    void *opaque;
    int64_t start_us;
    int64_t retry_after_ms; /* from the last response's headers, -1 if none */
    size_t body_seen;       /* response body bytes discarded */
    int body_capped;        /* aborted because the response body was too large */
    char denied[128];       /* first egress denial reason, "" if none */
    int n_allowed;          /* addresses the guard let through (new connections) */
    /* per-request header lines: nodes[] point into text; both only grow */
    struct curl_slist *nodes;
    size_t cap_nodes;
    char *text;
    size_t cap_text;
    char errbuf[CURL_ERROR_SIZE];
};

struct wb_http {
    wb_loop *lp;
    CURLM *multi;
    CURLSH *share;
    wb_timer timer;                 /* libcurl's timeout */
    wb_timer kick;                  /* completes the fail queue */
    struct wb_http_xfers free;      /* idle transfers configured for no live target (a stack) */
    SLIST_HEAD(, wb_http_xfer) all; /* every transfer */
    struct wb_http_xfers failq;     /* failed before start, waiting for the kick (FIFO) */
    uint64_t next_target_id;
    int in_flight;
    /* owned[fd]: a connection socket this handle opened (open-socket callback) and has not
     * closed yet; only those are parked between transfers. libcurl's resolver socketpair
     * and sockets it closes without the close-socket callback are unregistered instead. */
    unsigned char *owned;
    size_t nowned;
};

/* owned[] upkeep (http_target.c). wb_http_owns is 0 for an fd never marked. */
void wb_http_own(wb_http *h, curl_socket_t s, int on);
int wb_http_owns(const wb_http *h, curl_socket_t s);

/* http_target.c: the egress guard's libcurl callbacks (CURLOPT_OPENSOCKETFUNCTION and
 * CURLOPT_PREREQFUNCTION, clientp = the transfer) and the target's last reference. */
curl_socket_t wb_http_on_opensocket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address);
int wb_http_on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                      int conn_primary_port, int conn_local_port);
void wb_http_target_unref(wb_http_target *t);
/* CURLOPT_CLOSESOCKETFUNCTION, clientp = the wb_http (a pooled connection outlives the
 * transfer that opened it): unregister the socket (parked sockets are still in epoll, and a
 * spawned child may briefly hold a copy of the fd, keeping the registration alive past the
 * close), then close it. */
int wb_http_on_closesocket(void *clientp, curl_socket_t s);

/* wb_http_header_ok() that also returns both lengths (one pass over each string). */
int wb_http_header_check(const char *name, const char *value, size_t *name_len, size_t *value_len);

/* Render one checked header as the line libcurl expects ("Name: value", or "Name;" for a
 * blank value) plus a NUL into out, which holds at least nl + vl + 3 bytes. Returns the bytes
 * written including the NUL. */
size_t wb_http_header_render(char *out, const char *name, size_t nl, const char *value, size_t vl);

#endif
