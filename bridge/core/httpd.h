/* httpd.h - what the bridge's libmicrohttpd endpoints (the inbound listener, the admin
 * endpoint) share: a daemon whose connections a connection guard admits and times
 * (connguard.h), whose library log lines go to the debug log, and its bound port.
 *
 * Ownership: the daemon is the caller's (MHD_stop_daemon); the guard is borrowed and must
 * outlive the daemon. Thread: wb_httpd_start from the thread that owns the endpoint; the
 * callbacks it installs run on the daemon's threads (the guard is thread-safe). */
#ifndef WB_HTTPD_H
#define WB_HTTPD_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "core/connguard.h"

typedef struct wb_httpd_conf {
    const char *log_prefix;      /* debug lines "<prefix>: <text>"; static storage */
    unsigned flags;              /* MHD_USE_* threading model; error log and IPv6 are added */
    const struct sockaddr *addr; /* where to listen (MHD copies it) */
    uint16_t port;               /* the port of addr, or 0 */
    wb_connguard *guard;         /* admits connections, tracks their deadlines (required) */
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_RequestCompletedCallback completed; /* NULL: none */
    void *completed_cls;
    unsigned thread_pool;          /* MHD_OPTION_THREAD_POOL_SIZE; 0: not set */
    unsigned connection_limit;     /* MHD's own cap (a backstop: the guard refuses first) */
    unsigned connection_timeout_s; /* MHD's idle timeout (a backstop: the guard's are shorter) */
    size_t memory_limit;           /* per-connection pool: read buffer and request headers */
    unsigned listen_backlog;       /* 0: MHD's default */
} wb_httpd_conf;

/* Start the daemon: every connection is offered to conf->guard (wb_connguard_admit) at accept
 * and tracked by it from start to close (its slot is the connection's socket context, see
 * MHD_CONNECTION_INFO_SOCKET_CONTEXT). NULL when MHD cannot start (address in use, ...). */
struct MHD_Daemon *wb_httpd_start(const wb_httpd_conf *conf);

/* A request's first call (its head is complete): the connection's slot in the guard, marked
 * so (wb_connguard_head_done: from now on only request_timeout applies); NULL when the guard
 * could not track the connection. The slot is the guard's. The daemon's threads. */
wb_conn_slot *wb_httpd_head_done(struct MHD_Connection *conn);

/* The TCP port d is bound to (useful with port 0); 0 when unknown. */
int wb_httpd_port(struct MHD_Daemon *d);

#endif
