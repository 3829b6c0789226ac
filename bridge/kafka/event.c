/* kafka/event.c - record -> wb_event, CloudEvents headers, trace context (see event.h). */
#include "kafka/event.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

int wb_record_header(const rd_kafka_message_t *rkm, const char *name, char *out, size_t out_size)
{
    rd_kafka_headers_t *hdrs;
    const void *val;
    size_t size;
    if (rd_kafka_message_headers(rkm, &hdrs) || rd_kafka_header_get_last(hdrs, name, &val, &size))
        return 0;
    if (!val || !out_size) return 0;
    if (size >= out_size) size = out_size - 1;
    memcpy(out, val, size);
    out[size] = 0;
    return 1;
}

int wb_header_token_ok(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n >= max) return 0;
    return n > 0;
}

int wb_traceparent_valid(const char *s)
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

/* Each thread hands out RAND_bytes output from a buffer it refills 512 bytes at a time:
 * OpenSSL 3.0 checks for a fork (getpid(), a system call) on every RAND_bytes call, which
 * was about 1.4 system calls per delivered webhook (one fresh traceparent each). The bytes
 * are the DRBG's own; a child process after fork() must not replay its parent's buffer, so
 * the forking thread's buffer is emptied in the child (the only thread there). */
#define RAND_POOL 512
static _Thread_local struct {
    unsigned char b[RAND_POOL];
    size_t pos; /* next unused byte; RAND_POOL = empty */
    int init;
} rnd;
static pthread_once_t rnd_once = PTHREAD_ONCE_INIT;

static void rnd_child(void)
{
    rnd.pos = RAND_POOL;
    explicit_bzero(rnd.b, sizeof(rnd.b));
}

static void rnd_register(void)
{
    pthread_atfork(NULL, NULL, rnd_child);
}

void wb_event_random(unsigned char *out, size_t n)
{
    /* RAND_bytes only fails when the DRBG cannot be seeded at all; the ids then stay
     * well-formed and non-zero. */
    if (!n) return;
    if (!rnd.init) {
        pthread_once(&rnd_once, rnd_register);
        rnd.pos = RAND_POOL;
        rnd.init = 1;
    }
    if (n > RAND_POOL / 4) {
        if (RAND_bytes(out, (int)n) != 1) memset(out, 0x5a, n);
        return;
    }
    if (RAND_POOL - rnd.pos < n) {
        if (RAND_bytes(rnd.b, RAND_POOL) != 1) {
            memset(out, 0x5a, n);
            return;
        }
        rnd.pos = 0;
    }
    memcpy(out, rnd.b + rnd.pos, n);
    explicit_bzero(rnd.b + rnd.pos, n); /* handed out once, never kept */
    rnd.pos += n;
}

void wb_traceparent_new(char *out, size_t out_size)
{
    unsigned char b[24];
    wb_event_random(b, sizeof(b));
    b[0] |= 1;
    b[16] |= 1;
    char hex[49];
    wb_hex_encode(b, sizeof(b), hex);
    snprintf(out, out_size, "00-%.32s-%.16s-01", hex, hex + 32);
}

void wb_event_fallback_id(const char *topic, int32_t partition, int64_t offset, char *out,
                          size_t out_size)
{
    char src[512];
    int n = snprintf(src, sizeof(src), "%s/%" PRId32 "/%" PRId64, topic, partition, offset);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)src, (size_t)(n < (int)sizeof(src) ? n : (int)sizeof(src) - 1),
           md);
    char hex[33];
    wb_hex_encode(md, 16, hex);
    snprintf(out, out_size, "wb_%s", hex);
}

int wb_event_ce_attr(const rd_kafka_message_t *rkm, const char *name, char *out, size_t n)
{
    out[0] = 0;
    if (!wb_record_header(rkm, name, out, n)) return 0;
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            out[0] = 0; /* never forwarded into a header; the attribute is simply absent */
            return 0;
        }
    return out[0] != 0;
}

void wb_event_decode(wb_event *ev, const rd_kafka_message_t *rkm, const char *body, size_t body_len,
                     const char *type_from_body, const char *id_from_body)
{
    memset(ev, 0, sizeof(*ev));
    ev->body = body;
    ev->body_len = body_len;
    ev->key = rkm->key;
    ev->key_len = rkm->key_len;
    rd_kafka_timestamp_type_t tstype;
    ev->ts_ms = rd_kafka_message_timestamp(rkm, &tstype);
    if (ev->ts_ms < 0) ev->ts_ms = wb_wall_ms();

    /* type: it routes (glob match) and is printed; control characters make it unusable. */
    if ((!wb_record_header(rkm, "ce_type", ev->type, sizeof(ev->type)) || !ev->type[0]) &&
        (!wb_record_header(rkm, "event-type", ev->type, sizeof(ev->type)) || !ev->type[0])) {
        if (type_from_body && *type_from_body)
            snprintf(ev->type, sizeof(ev->type), "%s", type_from_body);
        else
            snprintf(ev->type, sizeof(ev->type), "%s", rd_kafka_topic_name(rkm->rkt));
    }
    if (!wb_header_token_ok(ev->type, sizeof(ev->type) - 1))
        snprintf(ev->type, sizeof(ev->type), "%s", rd_kafka_topic_name(rkm->rkt));

    /* id: the record's own when it is usable in a header, else the derived one */
    char own[sizeof(ev->id)] = "";
    if (!wb_record_header(rkm, "ce_id", own, sizeof(own)) || !own[0]) {
        own[0] = 0;
        if (id_from_body && *id_from_body) snprintf(own, sizeof(own), "%s", id_from_body);
    }
    if (own[0] && wb_header_token_ok(own, WB_EVENT_ID_MAX)) {
        memcpy(ev->id, own, sizeof(ev->id));
    } else {
        ev->id_refused = own[0] != 0;
        wb_event_fallback_id(rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset, ev->id,
                             sizeof(ev->id));
    }

    char tp[64] = "";
    if (wb_record_header(rkm, "traceparent", tp, sizeof(tp)) && wb_traceparent_valid(tp))
        memcpy(ev->traceparent, tp, 56);
    else
        wb_traceparent_new(ev->traceparent, sizeof(ev->traceparent));
}

wb_err wb_ce_write(rd_kafka_headers_t *h, const wb_ce_attrs *a)
{
    const char *names[] = {"ce_id", "ce_source", "ce_type", "ce_time", "ce_dataschema"};
    const char *vals[] = {a->id, a->source, a->type, a->time, a->dataschema};
    for (size_t i = 0; i < 5; i++)
        for (const char *p = vals[i]; p && *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) return WB_ERR_INVALID;
    rd_kafka_header_add(h, "ce_specversion", -1, "1.0", 3);
    for (size_t i = 0; i < 5; i++)
        if (vals[i] && *vals[i]) rd_kafka_header_add(h, names[i], -1, vals[i], -1);
    return WB_OK;
}
