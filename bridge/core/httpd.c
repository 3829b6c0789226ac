/* httpd.c - a libmicrohttpd daemon wired to a connection guard (httpd.h). */
#include "core/httpd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

/* Over max_connections or max_connections_per_ip a new connection is closed at once (MHD
 * itself would merely stop accepting and leave clients hanging in the kernel's backlog). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    wb_connguard *g = cls;
    return wb_connguard_admit(g, addr) ? MHD_YES : MHD_NO;
}

/* A connection's slot in the guard lives exactly as long as the connection. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    wb_connguard *g = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context =
            fd ? wb_connguard_open(g, fd->connect_fd, ad ? ad->client_addr : NULL) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        wb_connguard_close(g, *socket_context);
        *socket_context = NULL;
    }
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    const char *prefix = cls;
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    WB_DEBUG("%s: %s", prefix, msg);
}

struct MHD_Daemon *wb_httpd_start(const wb_httpd_conf *conf)
{
    unsigned flags = conf->flags | MHD_USE_ERROR_LOG;
    if (conf->addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    /* Options that only one endpoint sets are left out rather than given a made-up default,
     * so each daemon keeps libmicrohttpd's own defaults for them. */
    struct MHD_OptionItem opts[16];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)conf->addr};
    if (conf->thread_pool)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, conf->thread_pool, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, conf->connection_limit, NULL};
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, conf->guard};
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, conf->connection_timeout_s, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                        (intptr_t)conf->memory_limit, NULL};
    if (conf->completed)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)conf->completed,
                                            conf->completed_cls};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log,
                                        (void *)conf->log_prefix};
    if (conf->listen_backlog)
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, conf->listen_backlog, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags, conf->port, on_accept, conf->guard, conf->handler,
                            conf->handler_cls, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

wb_conn_slot *wb_httpd_head_done(struct MHD_Connection *conn)
{
    /* on_connection made the slot the connection's socket context */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    wb_conn_slot *s = ci ? ci->socket_context : NULL;
    wb_connguard_head_done(s);
    return s;
}

int wb_httpd_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *di = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    return di ? di->port : 0;
}
