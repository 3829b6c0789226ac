/* connguard.h - connection limits for an HTTP endpoint: time from accept, per-IP, total.
 *
 * libmicrohttpd's connection timeout measures idle time only: a client sending one header
 * byte a second holds its slot forever, and enough of them hold every slot (slowloris). The
 * guard gives each connection a deadline of its own:
 *   - the request head must be complete within header_timeout of the request's start (the
 *     accept, or the previous answer on a kept-alive connection, which makes header_timeout
 *     the keep-alive idle limit too);
 *   - the whole request, body included, within request_timeout of the same start;
 *   - none while the connection is parked (waiting for Kafka: bounded by publish_timeout).
 * wb_connguard_sweep, called a few times a second by the endpoint's own thread, shuts down
 * the socket of every connection past its deadline; the HTTP library then sees the peer
 * gone and closes it. No answer is sent: none can be before the head is complete, and a body
 * that stopped coming cannot be answered mid-way by libmicrohttpd 0.9.75 (nginx closes such
 * connections silently too).
 * It also counts open connections per client address (IPv4 address, IPv6 /64) and in total,
 * and refuses new ones over max_per_ip / max_connections.
 *
 * Metrics (endpoint="inbound" or "admin"):
 *   webhook_bridge_inbound_connections_refused_total{endpoint,reason="per_ip"|"max_connections"}
 *   webhook_bridge_inbound_request_timeouts_total{endpoint,phase="headers"|"body"}
 *   webhook_bridge_inbound_open_connections{endpoint}
 *
 * Ownership: the guard owns its slots; a slot lives from wb_connguard_open to
 * wb_connguard_close. Thread: every function may be called from any thread (one mutex guards
 * the slot list and the address table; a slot's phase and start are atomics, updated without
 * the lock on the request path). */
#ifndef WB_CONNGUARD_H
#define WB_CONNGUARD_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct wb_connguard wb_connguard;
typedef struct wb_conn_slot wb_conn_slot;

typedef struct wb_connguard_conf {
    const char *endpoint;       /* metric label value: "inbound", "admin" */
    int max_connections;        /* 0 = no limit */
    int max_per_ip;             /* 0 = no limit */
    int64_t header_timeout_ms;  /* > 0 */
    int64_t request_timeout_ms; /* >= header_timeout_ms */
} wb_connguard_conf;

/* NULL when out of memory. conf is copied (endpoint too). */
wb_connguard *wb_connguard_new(const wb_connguard_conf *conf);
/* Every slot must be closed first (the HTTP daemon stopped). NULL is a no-op. */
void wb_connguard_free(wb_connguard *g);

/* Accept policy: 1 when a connection from addr may be taken, 0 (counted) when the address or
 * the endpoint is at its limit. Checked before the slot is opened, so concurrent accepts can
 * overshoot a limit by the number of accepting threads. */
int wb_connguard_admit(wb_connguard *g, const struct sockaddr *addr);

/* A connection started: track fd from now (its first request starts now). NULL when out of
 * memory (the connection is then only bounded by the library's idle timeout). */
wb_conn_slot *wb_connguard_open(wb_connguard *g, int fd, const struct sockaddr *addr);
/* The connection is closing: forget it (before its fd is closed). NULL is a no-op. */
void wb_connguard_close(wb_connguard *g, wb_conn_slot *s);

/* The request head is complete: from now only request_timeout applies. */
void wb_connguard_head_done(wb_conn_slot *s);
/* Waiting for something bounded elsewhere (Kafka's ack): no deadline until the next call. */
void wb_connguard_park(wb_conn_slot *s);
/* The answer is queued: the next request on this connection starts now. */
void wb_connguard_next(wb_conn_slot *s);
/* 1 when the current request is past request_timeout (its handler answers 408). */
int wb_connguard_expired(const wb_conn_slot *s, int64_t now_ms);

/* Shut down every connection past its deadline; returns how many. Any thread. */
int wb_connguard_sweep(wb_connguard *g, int64_t now_ms);

/* Open connections now. */
int wb_connguard_count(wb_connguard *g);

#endif
