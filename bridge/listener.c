/* listener.c - inbound HTTP listener on libmicrohttpd: route, limits, verify, dedupe,
 * publish, and answer only after the broker's delivery report.
 *
 * Lifetimes (the delicate part):
 * - `request` is per HTTP request: created at MHD's first call, freed in on_completed.
 * - While a request waits for Kafka its connection is suspended, so MHD cannot complete (and
 *   free) it. A `ticket` carries the wait: it is the produce opaque, sits in the shared
 *   pending list (deadline order: one timeout for all, so FIFO), and points at the request.
 *   Whoever detaches the request from the ticket under shared->lock (the delivery report,
 *   the timer on timeout, or free on shutdown) stores the outcome and resumes the connection;
 *   nobody else touches that request afterwards.
 * - The ticket itself is freed by the delivery report only (it fires exactly once).
 * - `shared` (lock, pending list, dedupe caches) is reference-counted: the listener holds one
 *   reference and every ticket one, so a delivery report arriving after wb_listener_free
 *   still finds its lock and its dedupe cache. */
#include "jscan.h"
#include "listener.h"
#include "registry.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "connguard.h"
#include "dedupe.h"
#include "envelope.h"
#include "header_value.h"
#include "log.h"
#include "metrics.h"
#include "problem.h"
#include "signing.h"
#include "util.h"

#define DEDUPE_TOTAL_ENTRIES    1000000 /* shared between the inbound connectors */
#define RETRY_AFTER_UNAVAILABLE 5       /* seconds, on 503 */
/* An error decided before the body (404, 401...) while the client is already sending one
 * (no Expect: 100-continue) is answered after reading and discarding up to this much of it:
 * answering at once makes libmicrohttpd close with unread data, and the client sees a
 * reset instead of the answer (nginx's lingering close, done before the answer). */
#define DRAIN_MAX (16u << 20)
#define SWEEP_MS  200 /* connection deadlines are checked this often */

/* ------------------------------------------------------------------------------------------
 * Types
 * ---------------------------------------------------------------------------------------- */

typedef struct ticket ticket;
typedef struct request request;

typedef struct shared {
    pthread_mutex_t lock; /* guards refs, the pending list and every ticket->req */
    pthread_cond_t cond;  /* timer wake-up (monotonic clock) */
    int refs;
    ticket *head, *tail; /* pending publishes, oldest (earliest deadline) first */
    int npending;
    int stop;       /* timer thread exits */
    wb_dedupe **dd; /* per connector index (NULL for outbound connectors) */
    size_t ndd;
    wb_connguard *guard; /* swept by the timer thread (joined before the guard is freed) */
} shared;

struct ticket {
    ticket *prev, *next;
    shared *sh;
    request *req; /* NULL once answered (ack, timeout, shutdown); guarded by sh->lock */
    int64_t deadline_ms;
    wb_dedupe *dd;     /* reservation to commit/abort, or NULL */
    wb_histogram *lat; /* publish latency, observed on the report */
    int64_t t0_us;
    size_t idlen, dglen; /* dedupe keys in keys[]: the delivery id, then the digest key */
    char keys[];
};

/* Statuses the listener answers; one requests_total series per connector and status. */
static const int counted_status[] = {200, 400, 401, 404, 405, 408, 409, 413, 415, 422, 429, 503};
/* The key of a signature digest in the dedupe cache: ids are header values, so no id can
 * start with this byte. */
#define DIGEST_KEY_TAG '\x01'
#define DIGEST_KEY_MAX (1 + 32)
#define NSTATUS        (sizeof(counted_status) / sizeof(counted_status[0]))

typedef struct inmetrics {
    wb_counter *requests[NSTATUS];
    wb_counter *verify_signature, *verify_stale, *verify_malformed;
    wb_counter *duplicates, *in_flight_conflicts, *dedupe_evictions;
    wb_histogram *publish_seconds;
} inmetrics;

typedef struct inconn {
    const wb_connector *k;
    _Atomic(wb_verifier *) v; /* swapped by wb_listener_reload (secret rotation) */
    inmetrics m;
    pthread_mutex_t rl_lock; /* guards the token bucket */
    double tokens;
    int64_t rl_last_us;
    char source[96]; /* ce_source: "webhook-bridge/<name>" */
} inconn;

enum phase { P_BODY = 0, P_DRAIN, P_WAIT, P_DONE };

struct request {
    struct MHD_Connection *conn;
    wb_conn_slot *slot; /* the connection's deadlines (connguard.h), or NULL */
    int connector;
    int form;
    int64_t start_ms;
    /* P_DRAIN: the answer decided before the body, given once the body has been read */
    size_t drained;
    int drain_status, drain_retry;
    const char *drain_slug;
    char drain_detail[200];
    wb_buf body;
    wb_buf avro;  /* the body encoded with the connector's schema, when it has one */
    int overflow; /* body went past max_body */
    int expired;  /* request_timeout passed while reading the body */
    enum phase phase;
    int status;  /* HTTP status queued (metrics), 0 = none yet */
    int waiting; /* suspended for a delivery report (set on the MHD thread) */
    /* publish outcome, written under shared->lock by whoever detaches the ticket */
    wb_err perr;
    int timed_out;
    int32_t partition;
    int64_t offset;
    char errmsg[128];
};

struct wb_listener {
    const wb_config *cfg;
    wb_producer *prod;
    struct MHD_Daemon *d;
    int port;
    inconn *in; /* cfg->nconnectors entries; only inbound ones are set up */
    shared *sh;
    pthread_t timer;
    int timer_started;
    inmetrics unknown; /* requests to no connector (404): connector="-" */
    atomic_int active; /* requests between first call and completion */
    int max_conn;
    int64_t publish_timeout_ms; /* cfg values, defaults applied when unset (<= 0) */
    wb_schemas *schemas;        /* inbound Avro encoding (connectors with `schema:`), or NULL */
    wb_verifier **retired;      /* replaced by a reload; a request may still be using one */
    size_t nretired;
    pthread_mutex_t schemas_lock; /* wb_schemas is single-threaded; MHD serves from a pool */
    int64_t request_timeout_ms;
    wb_connguard *guard; /* time from accept, per-IP and total connection limits */
    size_t max_record;   /* the producer's message.max.bytes */
};

/* ------------------------------------------------------------------------------------------
 * Routing (pure)
 * ---------------------------------------------------------------------------------------- */

/* Media type of a Content-Type value equals want (case-insensitive, parameters ignored). */
static int media_is(const char *ct, const char *want)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n)) return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static void route_err(wb_route *out, int status, const char *slug, const char *detail)
{
    out->status = status;
    out->slug = slug;
    out->detail = detail;
}

void wb_listener_route(const wb_config *cfg, const char *method, const char *url,
                       const char *content_type, const char *content_length, wb_route *out)
{
    static const char prefix[] = "/webhooks/";
    memset(out, 0, sizeof(*out));
    out->connector = -1;
    out->length = -1;
    if (!url || strncmp(url, prefix, sizeof(prefix) - 1)) {
        route_err(out, 404, "not-found", "no such endpoint: POST /webhooks/{connector}");
        return;
    }
    const char *name = url + sizeof(prefix) - 1;
    size_t nlen = strlen(name);
    for (size_t i = 0; i < cfg->nconnectors && nlen; i++) {
        const wb_connector *k = &cfg->connectors[i];
        if (k->direction == WB_DIR_INBOUND && k->name && strlen(k->name) == nlen &&
            !memcmp(k->name, name, nlen)) {
            out->connector = (int)i;
            break;
        }
    }
    if (out->connector < 0) {
        route_err(out, 404, "not-found", "unknown inbound connector");
        return;
    }
    const wb_connector *k = &cfg->connectors[out->connector];
    if (!method || strcmp(method, "POST")) {
        route_err(out, 405, "method", "only POST is allowed here");
        return;
    }
    if (!content_type) {
        route_err(out, 415, "media-type", "Content-Type is missing (application/json expected)");
        return;
    }
    if (k->signing.scheme == WB_SCHEME_SLACK &&
        media_is(content_type, "application/x-www-form-urlencoded")) {
        out->form = 1;
    } else if (!media_is(content_type, "application/json")) {
        route_err(out, 415, "media-type",
                  k->signing.scheme == WB_SCHEME_SLACK ? "Content-Type must be application/json or "
                                                         "application/x-www-form-urlencoded"
                                                       : "Content-Type must be application/json");
        return;
    }
    if (content_length) {
        long long v = 0;
        const char *p = content_length;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) {
            route_err(out, 400, "malformed", "malformed Content-Length");
            return;
        }
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > (long long)1 << 50) { /* way past any max_body: stop counting */
                v = (long long)1 << 51;
                continue;
            }
            v = v * 10 + (*p - '0');
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p) {
            route_err(out, 400, "malformed", "malformed Content-Length");
            return;
        }
        out->length = v;
        size_t max = k->max_body ? k->max_body : 1024 * 1024;
        if ((unsigned long long)v > max) {
            route_err(out, 413, "too-large", "Content-Length exceeds the connector's max_body");
            return;
        }
    }
}

static int hexdigit(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

int wb_listener_form_ok(const char *body, size_t len)
{
    /* name=value pairs joined by '&'; bytes outside the URL-unreserved set must be
     * percent-encoded (what Slack, browsers and every form encoder send) */
    size_t pair_start = 0;
    int have_name = 0;
    if (len == 0) return 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = i < len ? body[i] : '&';
        if (ch == '&') {
            if (i == pair_start || !have_name) return 0; /* empty pair or "=value" */
            pair_start = i + 1;
            have_name = 0;
            continue;
        }
        if (ch == '=') {
            if (i == pair_start) return 0;
            have_name = 1;
            continue;
        }
        if (ch == '%') {
            if (i + 2 >= len || !hexdigit(body[i + 1]) || !hexdigit(body[i + 2])) return 0;
            i += 2;
        } else if (!ch || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                            (ch >= '0' && ch <= '9') || strchr("-._~*+!'()", ch))) {
            return 0;
        }
        if (i + 1 == len || body[i + 1] == '&') have_name = 1; /* "flag" alone is a name */
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * Answers
 * ---------------------------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *ct,
                              const char *body, size_t len, int retry_after, const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
    if (retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result problem(request *r, const char *url, int status, const char *slug,
                               const char *detail, int retry_after)
{
    struct MHD_Connection *c = r->conn;
    r->status = status;
    wb_buf b;
    wb_buf_init(&b, 4096);
    if (wb_problem_json(&b, status, slug, detail, url)) {
        wb_buf_free(&b);
        return MHD_NO;
    }
    WB_DEBUG("inbound %s -> %d %s", url ? url : "?", status, detail ? detail : "");
    enum MHD_Result rc = answer(c, status, WB_PROBLEM_CONTENT_TYPE, b.data, b.len, retry_after,
                                status == 405 ? "POST" : NULL);
    wb_buf_free(&b);
    return rc;
}

static enum MHD_Result json_ok(request *r, const char *body)
{
    r->status = 200;
    return answer(r->conn, 200, "application/json", body, strlen(body), 0, NULL);
}

/* ------------------------------------------------------------------------------------------
 * Shared state and tickets
 * ---------------------------------------------------------------------------------------- */

static void shared_unref(shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    int last = --sh->refs == 0;
    pthread_mutex_unlock(&sh->lock);
    if (!last) return;
    for (size_t i = 0; i < sh->ndd; i++)
        wb_dedupe_free(sh->dd[i]);
    free(sh->dd);
    pthread_cond_destroy(&sh->cond);
    pthread_mutex_destroy(&sh->lock);
    free(sh);
}

static void pending_unlink(shared *sh, ticket *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        sh->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        sh->tail = t->prev;
    t->prev = t->next = NULL;
    sh->npending--;
}

/* Commit (the broker acked) or abort (forget: the partner's retry is accepted) the dedupe
 * keys of a publish: the delivery id and the signature digest. */
static void keys_release(wb_dedupe *dd, const char *keys, size_t idlen, size_t dglen, int commit)
{
    if (!dd) return;
    void (*fn)(wb_dedupe *, const char *, size_t) = commit ? wb_dedupe_commit : wb_dedupe_abort;
    if (idlen) fn(dd, keys, idlen);
    if (dglen) fn(dd, keys + idlen, dglen);
}

/* Lock held: answer the ticket's request with a 503 (timeout or shutdown) and forget the
 * dedupe reservation so the partner's retry is accepted. Returns the connection to resume. */
static struct MHD_Connection *expire(shared *sh, ticket *t, const char *why)
{
    request *r = t->req;
    pending_unlink(sh, t);
    t->req = NULL;
    keys_release(t->dd, t->keys, t->idlen, t->dglen, 0);
    r->perr = WB_ERR_TIMEOUT;
    r->timed_out = 1;
    snprintf(r->errmsg, sizeof(r->errmsg), "%s", why);
    r->phase = P_DONE;
    return r->conn;
}

/* Delivery report, on the producer thread. */
static void on_ack(void *opaque, wb_err err, const char *errmsg, int32_t partition, int64_t offset)
{
    ticket *t = opaque;
    shared *sh = t->sh;
    if (t->lat) wb_histogram_observe(t->lat, (double)(wb_now_us() - t->t0_us) / 1e6);
    /* Commit first, so a retry racing with our 200 already finds the id SEEN. A late success
     * (after a timeout) commits too; a late failure leaves the id alone (a retry may hold it). */
    if (!err) keys_release(t->dd, t->keys, t->idlen, t->dglen, 1);
    pthread_mutex_lock(&sh->lock);
    request *r = t->req;
    if (r) {
        pending_unlink(sh, t);
        t->req = NULL;
        if (err) keys_release(t->dd, t->keys, t->idlen, t->dglen, 0);
        r->perr = err;
        r->partition = partition;
        r->offset = offset;
        if (err) snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg ? errmsg : "kafka error");
        r->phase = P_DONE;
    } else if (!err) {
        WB_INFO("inbound: broker acked a request after it was answered 503 (id %.*s)",
                (int)(t->idlen < 64 ? t->idlen : 64), t->keys);
    }
    pthread_mutex_unlock(&sh->lock);
    if (r) MHD_resume_connection(r->conn);
    free(t);
    shared_unref(sh);
}

/* Timer thread: answers 503 to requests whose publish deadline passed, and cuts connections
 * past their own deadline (slow clients) every SWEEP_MS. */
static void *timer_run(void *arg)
{
    shared *sh = arg;
    int64_t next_sweep = 0;
    pthread_mutex_lock(&sh->lock);
    while (!sh->stop) {
        int64_t now = wb_now_ms();
        if (now >= next_sweep && sh->guard) {
            pthread_mutex_unlock(&sh->lock);
            wb_connguard_sweep(sh->guard, now);
            pthread_mutex_lock(&sh->lock);
            next_sweep = now + SWEEP_MS;
            continue;
        }
        if (sh->head && sh->head->deadline_ms <= now) {
            struct MHD_Connection *c = expire(sh, sh->head,
                                              "no acknowledgement from Kafka "
                                              "within publish_timeout");
            pthread_mutex_unlock(&sh->lock);
            MHD_resume_connection(c);
            pthread_mutex_lock(&sh->lock);
            continue;
        }
        int64_t wake =
            sh->head && sh->head->deadline_ms < next_sweep ? sh->head->deadline_ms : next_sweep;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (wake - now) * 1000000LL;
        ts.tv_sec += ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&sh->cond, &sh->lock, &ts);
    }
    pthread_mutex_unlock(&sh->lock);
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Publishing
 * ---------------------------------------------------------------------------------------- */

static const char *hdr_get(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/* Random bits for ids that only need to be unique (ce_id fallback, new trace ids): a
 * per-thread xorshift128+ seeded from getrandom, so the hot path makes no syscall. */
static void rand_bytes(unsigned char *out, size_t n)
{
    static _Thread_local uint64_t st[2];
    if (!st[0] && !st[1]) {
        if (getrandom(st, sizeof(st), 0) != (ssize_t)sizeof(st)) {
            st[0] = (uint64_t)wb_now_us() * 0x9E3779B97F4A7C15ULL;
            st[1] = (uint64_t)(uintptr_t)&st ^ 0xD1B54A32D192ED03ULL;
        }
        st[0] |= 1;
    }
    for (size_t i = 0; i < n; i += 8) {
        uint64_t x = st[0], y = st[1];
        st[0] = y;
        x ^= x << 23;
        st[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
        uint64_t r = st[1] + y;
        for (size_t j = 0; j < 8 && i + j < n; j++)
            out[i + j] = (unsigned char)(r >> (8 * j));
    }
}

static void uuid4(char out[37])
{
    unsigned char b[16];
    rand_bytes(b, sizeof(b));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    char hex[33];
    wb_hex_encode(b, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>", trace and parent ids not all zero. */
static int traceparent_ok(const char *s)
{
    if (!s || strlen(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-') return 0;
    int nz_trace = 0, nz_parent = 0;
    for (int i = 0; i < 55; i++) {
        if (i == 2 || i == 35 || i == 52) continue;
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
        if (c != '0' && i > 2 && i < 35) nz_trace = 1;
        if (c != '0' && i > 35 && i < 52) nz_parent = 1;
    }
    return s[0] == '0' && s[1] == '0' && nz_trace && nz_parent;
}

static void new_traceparent(char out[56])
{
    unsigned char b[24];
    rand_bytes(b, sizeof(b));
    b[0] |= 1;
    b[16] |= 1;
    /* "00-" <32 hex trace id> "-" <16 hex parent id> "-00", built without printf */
    memcpy(out, "00-", 3);
    wb_hex_encode(b, 16, out + 3);
    out[35] = '-';
    wb_hex_encode(b + 16, 8, out + 36);
    memcpy(out + 52, "-00", 4);
}

/* ce_time now. The formatter (envelope.h) runs once a second per thread; the milliseconds
 * are patched in. */
static void rfc3339_now(char out[48])
{
    static _Thread_local int64_t cached_s = -1;
    static _Thread_local char cached[32]; /* "2026-11-23T18:00:00.000Z" */
    int64_t ms = wb_wall_ms();
    if (ms / 1000 != cached_s) {
        wb_rfc3339_ms(ms - ms % 1000, cached, sizeof(cached));
        cached_s = ms / 1000;
    }
    memcpy(out, cached, 25);
    int frac = (int)(ms % 1000);
    out[20] = (char)('0' + frac / 100);
    out[21] = (char)('0' + frac / 10 % 10);
    out[22] = (char)('0' + frac % 10);
}

/* Decimal text of v at p; returns the length. */
static size_t put_int(char *p, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0) p[len++] = '-';
    while (n)
        p[len++] = tmp[--n];
    return len;
}

/* A JSON value as Kafka key / header text: strings as is, anything else compact JSON.
 * Returns a malloc'd string or NULL (null / absent). */
static char *json_text(json_t *v)
{
    if (!v || json_is_null(v)) return NULL;
    if (json_is_string(v)) return wb_strdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* The text of a value found by the scan: strings and integers directly; anything else
 * (a float, an object used as a key...) rendered by jansson, which is rare enough. */
static char *pointer_text(const wb_jscan_target *t, const char *json, size_t len)
{
    /* (a string that filled the scanner's buffer may be longer: take the slow path) */
    if ((t->kind == WB_JSCAN_STRING && strlen(t->value) < sizeof(t->value) - 4) ||
        t->kind == WB_JSCAN_INTEGER)
        return wb_strdup(t->value);
    if (t->kind == WB_JSCAN_NONE) return NULL;
    json_t *doc = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    char *text = json_text(wb_json_pointer(doc, t->pointer));
    json_decref(doc);
    return text;
}

/* Token bucket, burst = one second of rate (at least 1). Returns 0 or the Retry-After. */
static int rate_take(inconn *ic)
{
    double rate = ic->k->rate_per_s;
    if (rate <= 0) return 0;
    double burst = rate < 1 ? 1 : rate;
    int retry = 0;
    pthread_mutex_lock(&ic->rl_lock);
    int64_t now = wb_now_us();
    ic->tokens += (double)(now - ic->rl_last_us) / 1e6 * rate;
    if (ic->tokens > burst) ic->tokens = burst;
    ic->rl_last_us = now;
    if (ic->tokens >= 1)
        ic->tokens -= 1;
    else
        retry = (int)((1 - ic->tokens) / rate) + 1;
    pthread_mutex_unlock(&ic->rl_lock);
    return retry;
}

/* Kafka record headers being built, with their serialized size (librdkafka counts key +
 * value + headers against message.max.bytes; 8 bytes covers each header's varints). */
typedef struct hdrset {
    rd_kafka_headers_t *h;
    size_t bytes;
} hdrset;

static void add_hdr(hdrset *hs, const char *name, const char *value)
{
    if (!value) return;
    size_t vl = strlen(value);
    rd_kafka_header_add(hs->h, name, -1, value, (ssize_t)vl);
    hs->bytes += strlen(name) + vl + 8;
}

/* 400 when v (named field) cannot be a header value; 0 when it can. */
static int field_bad(request *r, const char *url, const char *field, const char *v, size_t max,
                     enum MHD_Result *rc)
{
    const char *bad = v ? wb_header_value_problem(v, strlen(v), max) : NULL;
    if (!bad) return 0;
    char detail[256];
    snprintf(detail, sizeof(detail), "%s %s", field, bad);
    *rc = problem(r, url, 400, "malformed", detail, 0);
    return 1;
}

/* Reserve the dedupe keys of a verified request. Anything but NEW leaves nothing reserved;
 * ERROR (out of memory) means: publish without dedupe. */
static wb_dedupe_state keys_reserve(wb_dedupe *dd, const char *keys, size_t idlen, size_t dglen)
{
    wb_dedupe_state st = WB_DEDUPE_NEW;
    if (idlen && (st = wb_dedupe_begin(dd, keys, idlen)) != WB_DEDUPE_NEW) return st;
    if (dglen && (st = wb_dedupe_begin(dd, keys + idlen, dglen)) != WB_DEDUPE_NEW) {
        if (idlen) wb_dedupe_abort(dd, keys, idlen);
        return st;
    }
    return st;
}

/* Body complete: verify, parse, dedupe, publish and suspend. */
static enum MHD_Result process(wb_listener *l, request *r, const char *url)
{
    inconn *ic = &l->in[r->connector];
    const wb_connector *k = ic->k;
    struct MHD_Connection *c = r->conn;
    const char *body = r->body.data ? r->body.data : "";
    size_t len = r->body.len;
    enum MHD_Result rc;
    int is_json = 0;
    /* key and event type pointers, found by the same pass that validates the body */
    wb_jscan_target tg[2] = {
        {.pointer = k->key_pointer},
        {.pointer = k->event_type && k->event_type[0] == '/' ? k->event_type : NULL}};
    char *key = NULL, *type = NULL;
    hdrset hs = {NULL, 0};
    ticket *t = NULL;
    wb_dedupe *dd = NULL;
    char keys[256 + DIGEST_KEY_MAX];
    size_t idlen = 0, dglen = 0;

    /* 1. signature and freshness */
    wb_verify_result vr;
    wb_err err =
        wb_verifier_verify(atomic_load(&ic->v), hdr_get, c, body, len, (int64_t)time(NULL), &vr);
    if (err == WB_ERR_SIGNATURE) {
        wb_counter_inc(ic->m.verify_signature);
        rc = problem(r, url, 401, "signature", vr.reason[0] ? vr.reason : "bad signature", 0);
        goto out;
    }
    if (err == WB_ERR_STALE) {
        wb_counter_inc(ic->m.verify_stale);
        rc = problem(r, url, 401, "stale-timestamp",
                     vr.reason[0] ? vr.reason : "timestamp outside the tolerance", 0);
        goto out;
    }
    if (err) {
        wb_counter_inc(ic->m.verify_malformed);
        rc = problem(r, url, 400, "malformed", vr.reason[0] ? vr.reason : wb_err_str(err), 0);
        goto out;
    }

    /* 1b. the rate token, only for requests that proved to be the partner's */
    int retry = rate_take(ic);
    if (retry) {
        rc = problem(r, url, 429, "rate-limited", "over the connector's rate_limit", retry);
        goto out;
    }

    /* 2. JSON (form bodies of Slack are validated as forms and forwarded as they are) */
    if (!r->form) {
        char jerr[96] = "empty body";
        int jline = 1;
        if (len == 0 || wb_jscan(body, len, tg, 2, jerr, sizeof(jerr), &jline)) {
            char detail[256];
            snprintf(detail, sizeof(detail), "body is not valid JSON: %s (line %d)", jerr, jline);
            rc = problem(r, url, 400, "malformed", detail, 0);
            goto out;
        }
        is_json = 1;
    } else if (!wb_listener_form_ok(body, len)) {
        rc = problem(r, url, 400, "malformed",
                     "body is not application/x-www-form-urlencoded (name=value pairs joined "
                     "by '&', percent-encoded)",
                     0);
        goto out;
    }

    /* 2b. the values that become record headers: no control characters (typed headers
     * downstream never split them again, but a partner request header must not carry one) */
    if (k->event_type) {
        if (k->event_type[0] == '/')
            type = is_json ? pointer_text(&tg[1], r->body.data, r->body.len) : NULL;
        else
            type = wb_strdup(hdr_get(c, k->event_type));
        char field[96];
        snprintf(field, sizeof(field), "event type (%s)", k->event_type);
        if (field_bad(r, url, field, type, WB_HEADER_ID_MAX, &rc)) goto out;
    }
    if (field_bad(r, url, "Content-Type", hdr_get(c, MHD_HTTP_HEADER_CONTENT_TYPE),
                  WB_SIG_MAX_HEADER, &rc))
        goto out;
    for (size_t i = 0; i < k->nforward_headers; i++) {
        char field[96];
        snprintf(field, sizeof(field), "header %s", k->forward_headers[i]);
        if (field_bad(r, url, field, hdr_get(c, k->forward_headers[i]), WB_SIG_MAX_HEADER, &rc))
            goto out;
    }

    /* 2c. schema: validate and encode to Confluent-framed Avro (422 names the field) */
    if (k->schema && is_json) {
        char reason[256] = "";
        wb_buf_reset(&r->avro);
        pthread_mutex_lock(&l->schemas_lock);
        err = wb_schemas_from_json(l->schemas, k->schema, body, len, &r->avro, reason,
                                   sizeof(reason));
        pthread_mutex_unlock(&l->schemas_lock);
        if (err) {
            char detail[320];
            snprintf(detail, sizeof(detail), "body does not fit schema %s: %s", k->schema,
                     reason[0] ? reason : wb_err_str(err));
            rc = problem(r, url, 422, "schema", detail, 0);
            goto out;
        }
        body = r->avro.data;
        len = r->avro.len;
    }

    /* 3. dedupe: on the delivery id and, when a replay could change the id (it is not
     * signed) or there is none, on the signature's digest too */
    idlen = strlen(vr.delivery_id);
    memcpy(keys, vr.delivery_id, idlen);
    if (vr.digest_len && (!vr.id_signed || !idlen)) {
        keys[idlen] = DIGEST_KEY_TAG;
        memcpy(keys + idlen + 1, vr.digest, vr.digest_len);
        dglen = 1 + vr.digest_len;
    }
    dd = idlen || dglen ? l->sh->dd[r->connector] : NULL;
    if (dd) {
        wb_dedupe_state st = keys_reserve(dd, keys, idlen, dglen);
        if (st == WB_DEDUPE_SEEN) {
            wb_counter_inc(ic->m.duplicates);
            rc = json_ok(r, "{\"duplicate\":true}");
            dd = NULL;
            goto out;
        }
        if (st == WB_DEDUPE_IN_FLIGHT) {
            wb_counter_inc(ic->m.in_flight_conflicts);
            rc = problem(r, url, 409, "in-flight",
                         "a request with this delivery id is being published; retry later", 1);
            dd = NULL;
            goto out;
        }
        if (st == WB_DEDUPE_FULL) {
            rc = problem(r, url, 503, "unavailable",
                         "too many deliveries of this connector are being published", 1);
            dd = NULL;
            goto out;
        }
        if (st == WB_DEDUPE_ERROR) dd = NULL;
    }

    /* 4. key, CloudEvents headers */
    if (is_json && k->key_pointer) key = pointer_text(&tg[0], r->body.data, r->body.len);
    char ceid[37], cetime[48], tp[56];
    const char *id = vr.delivery_id;
    if (!id[0]) {
        uuid4(ceid);
        id = ceid;
    }
    rfc3339_now(cetime);
    const char *in_tp = hdr_get(c, "traceparent");
    if (traceparent_ok(in_tp))
        snprintf(tp, sizeof(tp), "%s", in_tp);
    else
        new_traceparent(tp);
    hs.h = rd_kafka_headers_new(8 + k->nforward_headers);
    if (!hs.h) goto nomem;
    add_hdr(&hs, "ce_specversion", "1.0");
    add_hdr(&hs, "ce_id", id);
    add_hdr(&hs, "ce_source", ic->source);
    add_hdr(&hs, "ce_type", type ? type : "unknown");
    add_hdr(&hs, "ce_time", cetime);
    add_hdr(&hs, "content-type",
            k->schema ? "application/vnd.apache.avro+binary"
                      : hdr_get(c, MHD_HTTP_HEADER_CONTENT_TYPE));
    add_hdr(&hs, "traceparent", tp);
    for (size_t i = 0; i < k->nforward_headers; i++)
        add_hdr(&hs, k->forward_headers[i], hdr_get(c, k->forward_headers[i]));

    /* 4b. the record must fit the producer's message.max.bytes (max_body does, checked at
     * load; its key and headers may not) */
    if (len + (key ? strlen(key) : 0) + hs.bytes > l->max_record) {
        keys_release(dd, keys, idlen, dglen, 0);
        dd = NULL;
        rc = problem(r, url, 413, "too-large",
                     "the record (body, key and headers) exceeds Kafka's message.max.bytes", 0);
        goto out;
    }

    /* 5. publish: ticket in the pending list and connection suspended before the send, so
     * the delivery report can never run ahead of us. */
    t = calloc(1, sizeof(*t) + idlen + dglen);
    if (!t) goto nomem;
    t->sh = l->sh;
    t->req = r;
    t->dd = dd;
    t->idlen = idlen;
    t->dglen = dglen;
    memcpy(t->keys, keys, idlen + dglen);
    t->deadline_ms = wb_now_ms() + l->publish_timeout_ms;
    t->lat = ic->m.publish_seconds;
    t->t0_us = wb_now_us();
    r->phase = P_WAIT;
    r->waiting = 1;
    wb_connguard_park(r->slot); /* publish_timeout bounds the wait */
    MHD_suspend_connection(c);  /* before the ticket is reachable: nobody resumes early */
    pthread_mutex_lock(&l->sh->lock);
    if (l->sh->stop) { /* shutting down: the timer is gone, do not start a wait */
        r->phase = P_DONE;
        r->perr = WB_ERR_TIMEOUT;
        snprintf(r->errmsg, sizeof(r->errmsg), "shutting down");
        pthread_mutex_unlock(&l->sh->lock);
        keys_release(dd, keys, idlen, dglen, 0);
        free(t);
        MHD_resume_connection(c);
        rc = MHD_YES;
        goto out;
    }
    l->sh->refs++;
    t->prev = l->sh->tail;
    if (l->sh->tail)
        l->sh->tail->next = t;
    else
        l->sh->head = t;
    l->sh->tail = t;
    l->sh->npending++;
    pthread_mutex_unlock(&l->sh->lock);
    err = wb_producer_send(l->prod, k->topic, -1, key, key ? strlen(key) : 0, body, len, hs.h,
                           on_ack, t);
    if (err) {
        /* No report will come: take the ticket back (the timer may have expired it already,
         * in which case the 503 is on its way). */
        pthread_mutex_lock(&l->sh->lock);
        int mine = t->req != NULL;
        if (mine) {
            pending_unlink(l->sh, t);
            t->req = NULL;
            r->perr = err;
            snprintf(r->errmsg, sizeof(r->errmsg), "%s",
                     err == WB_ERR_FULL ? "producer queue full" : "produce failed");
            r->phase = P_DONE;
        }
        l->sh->refs--; /* never the last: the listener holds one */
        pthread_mutex_unlock(&l->sh->lock);
        if (mine) /* else expire() already released it (and a retry may hold it now) */
            keys_release(dd, keys, idlen, dglen, 0);
        free(t);
        rd_kafka_headers_destroy(hs.h);
        if (mine) MHD_resume_connection(c);
    }
    hs.h = NULL; /* the producer owns them now */
    rc = MHD_YES;
    goto out;

nomem:
    keys_release(dd, keys, idlen, dglen, 0);
    rc = problem(r, url, 503, "unavailable", "out of memory", RETRY_AFTER_UNAVAILABLE);
out:
    if (hs.h) rd_kafka_headers_destroy(hs.h);
    free(key);
    free(type);

    return rc;
}

/* Resumed after the delivery report / timeout: give the outcome. */
static enum MHD_Result finish(wb_listener *l, request *r, const char *url)
{
    pthread_mutex_lock(&l->sh->lock);
    enum phase ph = r->phase;
    wb_err perr = r->perr;
    int32_t partition = r->partition;
    int64_t offset = r->offset;
    char errmsg[128];
    memcpy(errmsg, r->errmsg, sizeof(errmsg));
    pthread_mutex_unlock(&l->sh->lock);
    if (ph != P_DONE) /* spurious call while still suspended: nothing to say yet */
        return MHD_YES;
    if (perr) {
        char detail[200];
        snprintf(detail, sizeof(detail), "Kafka did not acknowledge the event: %s", errmsg);
        return problem(r, url, 503, "unavailable", detail, RETRY_AFTER_UNAVAILABLE);
    }
    /* {"topic":"...","partition":N,"offset":N}, built without printf (the hot path) */
    char body[512];
    const char *topic = l->in[r->connector].k->topic; /* a topic name: <= 249 safe chars */
    size_t tl = strlen(topic), n = 0;
    memcpy(body, "{\"topic\":\"", 10);
    n = 10;
    memcpy(body + n, topic, tl);
    n += tl;
    memcpy(body + n, "\",\"partition\":", 14);
    n += 14;
    n += put_int(body + n, partition);
    memcpy(body + n, ",\"offset\":", 10);
    n += 10;
    n += put_int(body + n, offset);
    memcpy(body + n, "}", 2);
    return json_ok(r, body);
}

/* ------------------------------------------------------------------------------------------
 * MHD callbacks
 * ---------------------------------------------------------------------------------------- */

/* An error found before the body (route, header stage of verification). When the client
 * is sending a body without waiting for 100 Continue, read and discard it first (up to
 * DRAIN_MAX), then answer: answering now makes libmicrohttpd close the connection with
 * unread data in the socket, which the kernel turns into a reset that the client sees
 * instead of the answer (issue 9.14). */
static enum MHD_Result early_error(request *r, const char *url, int status, const char *slug,
                                   const char *detail, int retry_after, const wb_route *rt)
{
    struct MHD_Connection *c = r->conn;
    const char *te = hdr_get(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *expect = hdr_get(c, MHD_HTTP_HEADER_EXPECT);
    int body_coming = (rt->length > 0 && (unsigned long long)rt->length <= DRAIN_MAX) ||
                      (rt->length < 0 && te && strcasecmp(te, "identity"));
    if (!body_coming || (expect && !strcasecmp(expect, "100-continue"))) {
        r->phase = P_DONE;
        return problem(r, url, status, slug, detail, retry_after);
    }
    r->phase = P_DRAIN;
    r->drain_status = status;
    r->drain_slug = slug;
    r->drain_retry = retry_after;
    snprintf(r->drain_detail, sizeof(r->drain_detail), "%s", detail ? detail : "");
    return MHD_YES;
}

/* Switch a request whose body turned out bad (too large, too late) to draining. */
static void start_drain(request *r, int status, const char *slug, const char *detail)
{
    r->phase = P_DRAIN;
    r->drain_status = status;
    r->drain_slug = slug;
    r->drain_retry = 0;
    snprintf(r->drain_detail, sizeof(r->drain_detail), "%s", detail);
    wb_buf_free(&r->body);
}

/* First call for a request: its head is complete. Route, header stage of verification. */
static enum MHD_Result on_head(wb_listener *l, request *r, const char *method, const char *url)
{
    struct MHD_Connection *c = r->conn;
    wb_route rt;
    wb_listener_route(l->cfg, method, url, hdr_get(c, MHD_HTTP_HEADER_CONTENT_TYPE),
                      hdr_get(c, MHD_HTTP_HEADER_CONTENT_LENGTH), &rt);
    r->connector = rt.connector; /* 405/413/415 count under their connector */
    if (rt.status) return early_error(r, url, rt.status, rt.slug, rt.detail, 0, &rt);
    inconn *ic = &l->in[rt.connector];
    r->form = rt.form;
    /* Signature headers present and well formed, timestamp fresh: before a byte of body is
     * buffered (the full check needs the body, below). */
    wb_verify_result vr;
    wb_err err = wb_verifier_precheck(atomic_load(&ic->v), hdr_get, c, (int64_t)time(NULL), &vr);
    if (err) {
        wb_counter *m = err == WB_ERR_SIGNATURE ? ic->m.verify_signature
                        : err == WB_ERR_STALE   ? ic->m.verify_stale
                                                : ic->m.verify_malformed;
        wb_counter_inc(m);
        int st = err == WB_ERR_SIGNATURE || err == WB_ERR_STALE ? 401 : 400;
        const char *slug = err == WB_ERR_STALE       ? "stale-timestamp"
                           : err == WB_ERR_SIGNATURE ? "signature"
                                                     : "malformed";
        return early_error(r, url, st, slug, vr.reason[0] ? vr.reason : wb_err_str(err), 0, &rt);
    }
    const wb_connector *k = ic->k;
    size_t max = k->max_body ? k->max_body : 1024 * 1024;
    wb_buf_init(&r->body, max);
    /* One allocation when the length is known (saves the doubling copies). */
    if (rt.length > 0 && wb_buf_reserve(&r->body, (size_t)rt.length)) return MHD_NO;
    wb_buf_init(&r->avro, 0);
    return MHD_YES; /* MHD sends 100 Continue when asked, then the body arrives */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    wb_listener *l = cls;
    request *r = *con_cls;

    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r) return MHD_NO;
        r->conn = c;
        r->connector = -1;
        r->start_ms = wb_now_ms();
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        r->slot = ci ? ci->socket_context : NULL;
        wb_connguard_head_done(r->slot);
        *con_cls = r;
        atomic_fetch_add(&l->active, 1);
        return on_head(l, r, method, url);
    }

    if (r->waiting) return finish(l, r, url);
    if (r->phase == P_DONE) { /* error already queued; swallow whatever still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->phase == P_DRAIN) {
        if (*upload_data_size) {
            r->drained += *upload_data_size;
            *upload_data_size = 0;
            /* past the bound: close rather than read an unbounded body */
            return r->drained > DRAIN_MAX ? MHD_NO : MHD_YES;
        }
        r->phase = P_DONE;
        return problem(r, url, r->drain_status, r->drain_slug, r->drain_detail, r->drain_retry);
    }

    if (*upload_data_size) {
        if (wb_connguard_expired(r->slot, wb_now_ms()))
            start_drain(r, 408, "timeout", "request_timeout exceeded");
        else if (wb_buf_add(&r->body, upload_data, *upload_data_size))
            start_drain(r, 413, "too-large", "body exceeds max_body");
        else
            *upload_data_size = 0;
        if (r->phase == P_DRAIN) {
            r->drained = *upload_data_size;
            *upload_data_size = 0;
        }
        return MHD_YES;
    }

    /* body complete */
    if (wb_connguard_expired(r->slot, wb_now_ms())) {
        r->phase = P_DONE;
        return problem(r, url, 408, "timeout", "request_timeout exceeded", 0);
    }
    return process(l, r, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    wb_listener *l = cls;
    request *r = *con_cls;
    if (!r) return;
    if (r->status) {
        inmetrics *m = r->connector >= 0 ? &l->in[r->connector].m : &l->unknown;
        for (size_t i = 0; i < NSTATUS; i++)
            if (counted_status[i] == r->status && m->requests[i]) wb_counter_inc(m->requests[i]);
    }
    wb_connguard_next(r->slot); /* the next request on this connection starts now */
    wb_buf_free(&r->body);
    wb_buf_free(&r->avro);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&l->active, 1);
}

/* Over max_connections or max_connections_per_ip a new connection is closed at once (MHD
 * itself would merely stop accepting and leave clients hanging in the kernel's backlog). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    wb_listener *l = cls;
    return wb_connguard_admit(l->guard, addr) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    wb_listener *l = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context =
            fd ? wb_connguard_open(l->guard, fd->connect_fd, ad ? ad->client_addr : NULL) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        wb_connguard_close(l->guard, *socket_context);
        *socket_context = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    WB_DEBUG("microhttpd: %s", msg);
}

/* ------------------------------------------------------------------------------------------
 * Life cycle
 * ---------------------------------------------------------------------------------------- */

/* "host:port", "[v6]:port", ":port" -> sockaddr. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, char *errstr, size_t n)
{
    char host[256] = "";
    const char *port;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host)) goto bad;
        memcpy(host, s + 1, (size_t)(e - s - 1));
        port = e + 2;
    } else {
        const char *e = strrchr(s, ':');
        if (!e || (size_t)(e - s) >= sizeof(host)) goto bad;
        memcpy(host, s, (size_t)(e - s));
        port = e + 1;
    }
    long p;
    if (wb_parse_int(port, 0, 65535, &p)) goto bad;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai || !res) {
        snprintf(errstr, n, "inbound.listen: %s: %s", s, gai_strerror(gai));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(errstr, n, "inbound.listen: '%s' is not host:port", s);
    return -1;
}

/* Register the metric series of one connector ("-" for requests that match none). */
static void metrics_register(inmetrics *m, const char *name)
{
    char lb[512];
    for (size_t i = 0; i < NSTATUS; i++) {
        snprintf(lb, sizeof(lb), "connector=\"%s\",status=\"%d\"", name, counted_status[i]);
        m->requests[i] = wb_metrics_counter("webhook_bridge_inbound_requests_total",
                                            "Inbound webhook requests by answer status", lb);
    }
    if (!strcmp(name, "-")) return;
    static const char vhelp[] = "Inbound requests failing verification, by reason class";
    snprintf(lb, sizeof(lb), "connector=\"%s\",reason=\"signature\"", name);
    m->verify_signature =
        wb_metrics_counter("webhook_bridge_inbound_verify_failures_total", vhelp, lb);
    snprintf(lb, sizeof(lb), "connector=\"%s\",reason=\"stale\"", name);
    m->verify_stale = wb_metrics_counter("webhook_bridge_inbound_verify_failures_total", vhelp, lb);
    snprintf(lb, sizeof(lb), "connector=\"%s\",reason=\"malformed\"", name);
    m->verify_malformed =
        wb_metrics_counter("webhook_bridge_inbound_verify_failures_total", vhelp, lb);
    snprintf(lb, sizeof(lb), "connector=\"%s\"", name);
    m->duplicates = wb_metrics_counter("webhook_bridge_inbound_duplicates_total",
                                       "Duplicate deliveries answered without publishing", lb);
    m->dedupe_evictions =
        wb_metrics_counter("webhook_bridge_inbound_dedupe_evictions_total",
                           "Delivery ids forgotten before their dedupe_ttl to stay in bounds", lb);
    m->in_flight_conflicts =
        wb_metrics_counter("webhook_bridge_inbound_in_flight_conflicts_total",
                           "Deliveries answered 409 while the same id was being published", lb);
    m->publish_seconds =
        wb_metrics_histogram("webhook_bridge_inbound_publish_seconds",
                             "Time from produce to the broker's delivery report", lb, NULL, 0);
}

static void free_inconns(wb_listener *l)
{
    if (!l->in) return;
    for (size_t i = 0; i < l->cfg->nconnectors; i++) {
        if (!l->in[i].k) continue;
        wb_verifier_free(atomic_load(&l->in[i].v));
        pthread_mutex_destroy(&l->in[i].rl_lock);
    }
    free(l->in);
    l->in = NULL;
    for (size_t i = 0; i < l->nretired; i++)
        wb_verifier_free(l->retired[i]);
    free(l->retired);
    l->retired = NULL;
    l->nretired = 0;
}

wb_listener *wb_listener_new(const wb_config *cfg, wb_producer *prod, char *errstr,
                             size_t errstr_size)
{
    wb_listener *l = calloc(1, sizeof(*l));
    shared *sh = calloc(1, sizeof(*sh));
    if (!l || !sh) {
        free(l);
        free(sh);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    l->cfg = cfg;
    l->prod = prod;
    l->sh = sh;
    pthread_mutex_init(&l->schemas_lock, NULL);
    sh->refs = 1;
    pthread_mutex_init(&sh->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sh->cond, &ca);
    pthread_condattr_destroy(&ca);

    if (!cfg->inbound.listen) {
        snprintf(errstr, errstr_size, "inbound.listen is not set");
        goto fail;
    }
    size_t nin = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        nin += cfg->connectors[i].direction == WB_DIR_INBOUND;
    l->in = calloc(cfg->nconnectors ? cfg->nconnectors : 1, sizeof(*l->in));
    sh->dd = calloc(cfg->nconnectors ? cfg->nconnectors : 1, sizeof(*sh->dd));
    if (!l->in || !sh->dd) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    sh->ndd = cfg->nconnectors;
    size_t per = nin ? DEDUPE_TOTAL_ENTRIES / nin : DEDUPE_TOTAL_ENTRIES;
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *k = &cfg->connectors[i];
        if (k->direction != WB_DIR_INBOUND) continue;
        if (!k->topic) {
            snprintf(errstr, errstr_size, "inbound connector %s: no topic", k->name);
            goto fail;
        }
        char verr[256] = "";
        wb_verifier *v = wb_verifier_new(&k->signing, verr, sizeof(verr));
        atomic_store(&l->in[i].v, v);
        if (!v) {
            snprintf(errstr, errstr_size, "inbound connector %s: %s", k->name, verr);
            goto fail;
        }
        l->in[i].k = k;
        if (k->schema && !l->schemas) {
            char serr[512] = "";
            l->schemas =
                wb_schemas_new(cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas",
                               NULL, NULL, NULL, NULL, serr, sizeof(serr));
            if (!l->schemas) {
                snprintf(errstr, errstr_size, "inbound connector %s: schema: %s", k->name, serr);
                goto fail;
            }
        }
        if (k->schema && wb_schemas_id_of(l->schemas, k->schema) < 0) {
            snprintf(errstr, errstr_size, "inbound connector %s: schema %s is not in the manifest",
                     k->name, k->schema);
            goto fail;
        }
        metrics_register(&l->in[i].m, k->name);
        snprintf(l->in[i].source, sizeof(l->in[i].source), "webhook-bridge/%s", k->name);
        pthread_mutex_init(&l->in[i].rl_lock, NULL);
        l->in[i].tokens = k->rate_per_s < 1 ? 1 : k->rate_per_s;
        l->in[i].rl_last_us = wb_now_us();
        if (k->signing.scheme == WB_SCHEME_NONE)
            WB_WARN("inbound connector %s accepts UNSIGNED requests (scheme none, insecure)",
                    k->name);
        int64_t ttl = k->dedupe_ttl_ms > 0 ? k->dedupe_ttl_ms : 86400000;
        sh->dd[i] = wb_dedupe_new(per, ttl, NULL, NULL);
        if (!sh->dd[i]) {
            snprintf(errstr, errstr_size, "out of memory");
            goto fail;
        }
        wb_dedupe_set_eviction_counter(sh->dd[i], l->in[i].m.dedupe_evictions);
    }

    metrics_register(&l->unknown, "-");

    struct sockaddr_storage ss;
    if (parse_listen(cfg->inbound.listen, &ss, errstr, errstr_size)) goto fail;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    int threads = cfg->inbound.threads > 0 ? cfg->inbound.threads : 2;
    l->publish_timeout_ms =
        cfg->inbound.publish_timeout_ms > 0 ? cfg->inbound.publish_timeout_ms : 10000;
    l->request_timeout_ms =
        cfg->inbound.request_timeout_ms > 0 ? cfg->inbound.request_timeout_ms : 30000;
    int64_t header_ms = cfg->inbound.header_timeout_ms > 0 ? cfg->inbound.header_timeout_ms : 10000;
    if (header_ms > l->request_timeout_ms) header_ms = l->request_timeout_ms;
    /* MHD's idle timeout is only a backstop now: the guard's deadlines are shorter */
    int64_t to_s = (l->request_timeout_ms + 999) / 1000 + 1;
    size_t max_header = cfg->inbound.max_header ? cfg->inbound.max_header : 16384;
    l->max_conn = cfg->inbound.max_connections > 0 ? cfg->inbound.max_connections : 1024;
    l->max_record = wb_config_kafka_max_message(cfg);
    wb_connguard_conf gc = {.endpoint = "inbound",
                            .max_connections = l->max_conn,
                            .max_per_ip = cfg->inbound.max_connections_per_ip,
                            .header_timeout_ms = header_ms,
                            .request_timeout_ms = l->request_timeout_ms};
    if (!(l->guard = wb_connguard_new(&gc))) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    sh->guard = l->guard;
    l->d = MHD_start_daemon(
        flags, 0, on_accept, l, on_request, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        /* MHD's own cap is a backstop (split between the pool's threads); on_accept refuses */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(l->max_conn + 16 * threads),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)to_s,
        /* the per-connection pool holds the read buffer and the request headers */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(max_header + 8192),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!l->d) {
        snprintf(errstr, errstr_size, "inbound: cannot listen on %s", cfg->inbound.listen);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
    l->port = di ? di->port : 0;
    if (pthread_create(&l->timer, NULL, timer_run, sh)) {
        snprintf(errstr, errstr_size, "inbound: cannot start the timer thread");
        goto fail;
    }
    l->timer_started = 1;
    WB_INFO("inbound listener on %s (port %d), %zu connector(s), %d thread(s)", cfg->inbound.listen,
            l->port, nin, threads);
    return l;
fail:
    if (l->d) MHD_stop_daemon(l->d);
    sh->guard = NULL;
    wb_connguard_free(l->guard);
    free_inconns(l);
    shared_unref(sh);
    if (l->schemas) wb_schemas_free(l->schemas);
    pthread_mutex_destroy(&l->schemas_lock);
    free(l);
    return NULL;
}

wb_err wb_listener_reload(wb_listener *l, const wb_config *cfg, char *errstr, size_t errstr_size)
{
    size_t n = l->cfg->nconnectors;
    wb_verifier **fresh = calloc(n ? n : 1, sizeof(*fresh));
    wb_verifier **retired = realloc(l->retired, (l->nretired + n + 1) * sizeof(*retired));
    if (!fresh || !retired) {
        free(fresh);
        if (retired) l->retired = retired;
        snprintf(errstr, errstr_size, "out of memory");
        return WB_ERR_NOMEM;
    }
    l->retired = retired;
    /* Build every new verifier first: all or nothing. */
    for (size_t j = 0; j < cfg->nconnectors; j++) {
        const wb_connector *nk = &cfg->connectors[j];
        if (nk->direction != WB_DIR_INBOUND) continue;
        size_t i = 0;
        while (i < n && !(l->in[i].k && !strcmp(l->in[i].k->name, nk->name)))
            i++;
        if (i == n) {
            WB_WARN("reload: new inbound connector %s is served after a restart", nk->name);
            continue;
        }
        char verr[256] = "";
        fresh[i] = wb_verifier_new(&nk->signing, verr, sizeof(verr));
        if (!fresh[i]) {
            snprintf(errstr, errstr_size, "inbound connector %s: %s", nk->name, verr);
            for (size_t k = 0; k < n; k++)
                wb_verifier_free(fresh[k]);
            free(fresh);
            return WB_ERR_CONFIG;
        }
    }
    /* Swap: requests verifying right now finish with the verifier they loaded. */
    for (size_t i = 0; i < n; i++)
        if (fresh[i]) l->retired[l->nretired++] = atomic_exchange(&l->in[i].v, fresh[i]);
    free(fresh);
    return WB_OK;
}

int wb_listener_port(const wb_listener *l)
{
    return l->port;
}

int wb_listener_active(const wb_listener *l)
{
    return atomic_load(&((wb_listener *)l)->active);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void wb_listener_free(wb_listener *l, int timeout_ms)
{
    if (!l) return;
    shared *sh = l->sh;
    /* 1. stop accepting (the listen socket is ours to close after the stop) */
    MHD_socket lsock = MHD_quiesce_daemon(l->d);
    /* 2. let requests in progress finish */
    int64_t end = wb_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (atomic_load(&l->active) > 0 && wb_now_ms() < end)
        sleep_ms(10);
    /* 3. whoever still waits for the broker gets a 503 */
    pthread_mutex_lock(&sh->lock);
    int forced = 0;
    while (sh->head) {
        struct MHD_Connection *c = expire(sh, sh->head, "shutting down");
        pthread_mutex_unlock(&sh->lock);
        MHD_resume_connection(c);
        forced++;
        pthread_mutex_lock(&sh->lock);
    }
    sh->stop = 1;
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
    if (forced) {
        WB_WARN("inbound: answered 503 to %d request(s) still waiting for Kafka at shutdown",
                forced);
        end = wb_now_ms() + 1000;
        while (atomic_load(&l->active) > 0 && wb_now_ms() < end)
            sleep_ms(10);
    }
    if (l->timer_started) pthread_join(l->timer, NULL);
    MHD_stop_daemon(l->d);
    if (lsock != MHD_INVALID_SOCKET) close(lsock);
    sh->guard = NULL;
    wb_connguard_free(l->guard); /* the timer (its sweeper) is joined, MHD stopped */
    free_inconns(l);
    shared_unref(sh);
    if (l->schemas) wb_schemas_free(l->schemas);
    pthread_mutex_destroy(&l->schemas_lock);
    free(l);
}
