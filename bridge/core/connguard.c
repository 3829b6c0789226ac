/* connguard.c - per-connection deadlines from accept, per-IP and total connection limits.
 *
 * @locks g->lock guards the slot list, the address table and the counts; a slot's phase and
 *        start are atomics so the request path (phase changes, twice per request) takes no
 *        lock. The sweep reads them under g->lock only to walk the list safely: a slot is
 *        removed (wb_connguard_close) before its fd is closed, so the sweep never shuts down
 *        an fd number that was closed and reused.
 * @locality any thread. */
#include "core/connguard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#define NBUCKETS 1024 /* address table; distinct addresses <= open connections */

enum phase { PH_HEAD = 0, PH_BODY, PH_PARKED, PH_CUT };

/* Open connections of one client address. */
typedef struct ipcount {
    LIST_ENTRY(ipcount) link; /* its bucket */
    int n;
    size_t keylen;
    unsigned char key[16];
} ipcount;

struct wb_conn_slot {
    LIST_ENTRY(wb_conn_slot) link; /* g->slots, g->lock */
    int fd;
    int64_t request_ms; /* the guard's request_timeout */
    ipcount *ipc;       /* the address this slot counts in, or NULL */
    _Atomic int64_t start_ms;
    atomic_int phase;
};

LIST_HEAD(ipchain, ipcount);

struct wb_connguard {
    pthread_mutex_t lock;
    LIST_HEAD(, wb_conn_slot) slots; /* open connections, newest first */
    int count;
    struct ipchain buckets[NBUCKETS];
    int max_connections, max_per_ip;
    int64_t header_ms, request_ms;
    wb_counter *refused_per_ip, *refused_max, *timeout_headers, *timeout_body;
    wb_gauge *open;
    char endpoint[32];
};

/* The limit key of an address: IPv4 (also v4-mapped IPv6) whole, IPv6 by its /64 (one host
 * or one subnet owner commonly holds a whole /64). 0 when it has no address (unix socket). */
static size_t addr_key(const struct sockaddr *sa, unsigned char key[16])
{
    if (!sa) return 0;
    if (sa->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a, mapped, 12)) {
            memcpy(key, a + 12, 4);
            return 4;
        }
        memcpy(key, a, 8);
        return 8;
    }
    return 0;
}

static unsigned bucket_of(const unsigned char *key, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % NBUCKETS;
}

/* Lock held. The entry of key, created (n = 0) when create is set; NULL if absent / OOM. */
static ipcount *ip_find(wb_connguard *g, const unsigned char *key, size_t n, int create)
{
    struct ipchain *b = &g->buckets[bucket_of(key, n)];
    ipcount *ipc;
    LIST_FOREACH(ipc, b, link)
    {
        if (ipc->keylen == n && !memcmp(ipc->key, key, n)) return ipc;
    }
    if (!create) return NULL;
    if (!(ipc = calloc(1, sizeof(*ipc)))) return NULL;
    ipc->keylen = n;
    memcpy(ipc->key, key, n);
    LIST_INSERT_HEAD(b, ipc, link);
    return ipc;
}

/* Lock held: one connection of ipc is gone; the entry goes with its last one. */
static void ip_release(ipcount *ipc)
{
    if (--ipc->n > 0) return;
    LIST_REMOVE(ipc, link);
    free(ipc);
}

static wb_counter *counter(const char *name, const char *help, const char *endpoint, const char *k,
                           const char *v)
{
    char lb[128];
    snprintf(lb, sizeof(lb), "endpoint=\"%s\",%s=\"%s\"", endpoint, k, v);
    return wb_metrics_counter(name, help, lb);
}

wb_connguard *wb_connguard_new(const wb_connguard_conf *conf)
{
    wb_connguard *g = calloc(1, sizeof(*g));
    if (!g) return NULL;
    pthread_mutex_init(&g->lock, NULL);
    LIST_INIT(&g->slots);
    for (size_t i = 0; i < NBUCKETS; i++)
        LIST_INIT(&g->buckets[i]);
    g->max_connections = conf->max_connections;
    g->max_per_ip = conf->max_per_ip;
    g->header_ms = conf->header_timeout_ms > 0 ? conf->header_timeout_ms : 10000;
    g->request_ms =
        conf->request_timeout_ms >= g->header_ms ? conf->request_timeout_ms : g->header_ms;
    snprintf(g->endpoint, sizeof(g->endpoint), "%s", conf->endpoint ? conf->endpoint : "-");
    static const char rh[] = "Connections refused at accept, by limit";
    static const char th[] = "Requests cut off for not completing in time (time from accept)";
    g->refused_per_ip = counter("webhook_bridge_inbound_connections_refused_total", rh, g->endpoint,
                                "reason", "per_ip");
    g->refused_max = counter("webhook_bridge_inbound_connections_refused_total", rh, g->endpoint,
                             "reason", "max_connections");
    g->timeout_headers = counter("webhook_bridge_inbound_request_timeouts_total", th, g->endpoint,
                                 "phase", "headers");
    g->timeout_body =
        counter("webhook_bridge_inbound_request_timeouts_total", th, g->endpoint, "phase", "body");
    char lb[64];
    snprintf(lb, sizeof(lb), "endpoint=\"%s\"", g->endpoint);
    g->open = wb_metrics_gauge("webhook_bridge_inbound_open_connections",
                               "Open HTTP connections of the endpoint", lb);
    return g;
}

void wb_connguard_free(wb_connguard *g)
{
    if (!g) return;
    wb_conn_slot *s;
    while ((s = LIST_FIRST(&g->slots))) { /* only if the daemon leaked some */
        LIST_REMOVE(s, link);
        free(s);
    }
    for (size_t i = 0; i < NBUCKETS; i++) {
        ipcount *ipc;
        while ((ipc = LIST_FIRST(&g->buckets[i]))) {
            LIST_REMOVE(ipc, link);
            free(ipc);
        }
    }
    pthread_mutex_destroy(&g->lock);
    free(g);
}

int wb_connguard_admit(wb_connguard *g, const struct sockaddr *addr)
{
    unsigned char key[16];
    size_t kl = addr_key(addr, key);
    int ok = 1;
    pthread_mutex_lock(&g->lock);
    if (g->max_connections > 0 && g->count >= g->max_connections) {
        ok = 0;
        wb_counter_inc(g->refused_max);
    } else if (g->max_per_ip > 0 && kl) {
        ipcount *ipc = ip_find(g, key, kl, 0);
        if (ipc && ipc->n >= g->max_per_ip) {
            ok = 0;
            wb_counter_inc(g->refused_per_ip);
        }
    }
    pthread_mutex_unlock(&g->lock);
    if (!ok) WB_DEBUG("%s: connection refused at accept (limit reached)", g->endpoint);
    return ok;
}

wb_conn_slot *wb_connguard_open(wb_connguard *g, int fd, const struct sockaddr *addr)
{
    wb_conn_slot *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->fd = fd;
    s->request_ms = g->request_ms;
    atomic_init(&s->start_ms, wb_now_ms());
    atomic_init(&s->phase, PH_HEAD);
    unsigned char key[16];
    size_t kl = addr_key(addr, key);
    pthread_mutex_lock(&g->lock);
    if (kl && (s->ipc = ip_find(g, key, kl, 1))) s->ipc->n++;
    LIST_INSERT_HEAD(&g->slots, s, link);
    g->count++;
    wb_gauge_set(g->open, g->count);
    pthread_mutex_unlock(&g->lock);
    return s;
}

void wb_connguard_close(wb_connguard *g, wb_conn_slot *s)
{
    if (!s) return;
    pthread_mutex_lock(&g->lock);
    LIST_REMOVE(s, link);
    if (s->ipc) ip_release(s->ipc);
    g->count--;
    wb_gauge_set(g->open, g->count);
    pthread_mutex_unlock(&g->lock);
    free(s);
}

void wb_connguard_head_done(wb_conn_slot *s)
{
    if (s) atomic_store_explicit(&s->phase, PH_BODY, memory_order_relaxed);
}

void wb_connguard_park(wb_conn_slot *s)
{
    if (s) atomic_store_explicit(&s->phase, PH_PARKED, memory_order_relaxed);
}

void wb_connguard_next(wb_conn_slot *s)
{
    if (!s) return;
    atomic_store_explicit(&s->start_ms, wb_now_ms(), memory_order_relaxed);
    atomic_store_explicit(&s->phase, PH_HEAD, memory_order_relaxed);
}

int wb_connguard_expired(const wb_conn_slot *s, int64_t now)
{
    return s && now - atomic_load_explicit(&((wb_conn_slot *)s)->start_ms, memory_order_relaxed) >
                    s->request_ms;
}

int wb_connguard_sweep(wb_connguard *g, int64_t now)
{
    int cut = 0;
    pthread_mutex_lock(&g->lock);
    wb_conn_slot *s;
    LIST_FOREACH(s, &g->slots, link)
    {
        int ph = atomic_load_explicit(&s->phase, memory_order_relaxed);
        int64_t age = now - atomic_load_explicit(&s->start_ms, memory_order_relaxed);
        int late = (ph == PH_HEAD && age > g->header_ms) || (ph == PH_BODY && age > g->request_ms);
        if (!late) continue;
        /* Counted first: whoever watches the client may look the moment it is cut. The
         * owner thread notices the shutdown (EOF) and closes the connection. */
        wb_counter_inc(ph == PH_HEAD ? g->timeout_headers : g->timeout_body);
        atomic_store_explicit(&s->phase, PH_CUT, memory_order_relaxed);
        shutdown(s->fd, SHUT_RDWR);
        cut++;
    }
    pthread_mutex_unlock(&g->lock);
    if (cut) WB_DEBUG("%s: cut %d connection(s) past their deadline", g->endpoint, cut);
    return cut;
}

int wb_connguard_count(wb_connguard *g)
{
    pthread_mutex_lock(&g->lock);
    int n = g->count;
    pthread_mutex_unlock(&g->lock);
    return n;
}
