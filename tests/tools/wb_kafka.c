/* wb_kafka.c - a small Kafka client for tests and benchmarks (librdkafka + jansson).
 *
 *   wb-kafka produce --bootstrap B --topic T [--count N] [--size BYTES] [--keys K]
 *            [--types a,b,...] [--partition-by-key] [--partition P] [--rate R/s]
 *            [--id-prefix P] [--start S] [--header k=v]... [--manifest FILE] [--idempotent]
 *   wb-kafka produce --bootstrap B --topic T --stdin     (JSONL
 * {"key","value"|"value_b64","headers","partition"}) wb-kafka consume --bootstrap B --topic T
 * [--timeout 10s] [--count N] [--group G] [--eof] wb-kafka committed --bootstrap B --group G
 * --topic T
 *
 * Generated events are JSON objects
 *   {"id":"<prefix><seq>","type":..,"key":"k<seq%K>","seq":..,"per_key_seq":..,
 *    "produced_at_us":..,"pad":".."}
 * with Kafka key = key and header event-type = type; acks=all; every delivery report is awaited
 * and a JSON summary is printed to stdout. Exit 0 only when every message was acknowledged.
 *
 * Thread: single-threaded (librdkafka's own threads aside). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#define MAX_HEADERS 32
#define MAX_TYPES   32

typedef struct {
    const char *bootstrap;
    const char *topic;
    const char *group;
    const char *id_prefix;
    const char *manifest;
    const char *kafka[MAX_HEADERS]; /* --kafka k=v: more librdkafka properties */
    int nkafka;
    const char *headers[MAX_HEADERS];
    int nheaders;
    char *types[MAX_TYPES];
    int ntypes;
    long count;
    long size;
    long keys;
    long start;
    long partition;
    double rate;
    double timeout_s;
    int from_stdin;
    int eof;
    int idempotent;
} opts_t;

static long delivered_ok;
static long delivered_err;
static char first_error[256];
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_long(const char *s, const char *what)
{
    char *end = NULL;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0) {
        fprintf(stderr, "wb-kafka: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

/* "10s", "500ms", "2m", "3" (seconds) -> seconds. */
static double parse_duration(const char *s)
{
    char *end = NULL;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0) goto bad;
    if (*end == '\0' || strcmp(end, "s") == 0) return v;
    if (strcmp(end, "ms") == 0) return v / 1000.0;
    if (strcmp(end, "m") == 0) return v * 60.0;
bad:
    fprintf(stderr, "wb-kafka: bad duration '%s'\n", s);
    exit(2);
}

/* "1000/s", "1000" -> per second. */
static double parse_rate(const char *s)
{
    char *end = NULL;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || v <= 0 || (*end != '\0' && strcmp(end, "/s") != 0)) {
        fprintf(stderr, "wb-kafka: bad rate '%s' (want N/s)\n", s);
        exit(2);
    }
    return v;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        delivered_ok++;
    } else {
        if (delivered_err++ == 0)
            snprintf(first_error, sizeof(first_error), "%s", rd_kafka_err2str(rkm->err));
    }
}

static rd_kafka_t *new_client(rd_kafka_type_t type, const opts_t *o, const char *group)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    struct kv {
        const char *k, *v;
    } prod[] = {{"acks", "all"},
                {"linger.ms", "5"},
                {"queue.buffering.max.messages", "2000000"},
                {"queue.buffering.max.kbytes", "2097151"},
                {"message.timeout.ms", "120000"},
                {NULL, NULL}},
      cons[] = {{"enable.auto.commit", "false"},
                {"enable.partition.eof", "true"},
                {"auto.offset.reset", "earliest"},
                {NULL, NULL}};
    struct kv *kvs = type == RD_KAFKA_PRODUCER ? prod : cons;
    int i;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", o->bootstrap, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        goto bad;
    for (i = 0; kvs[i].k != NULL; i++)
        if (rd_kafka_conf_set(conf, kvs[i].k, kvs[i].v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            goto bad;
    if (group != NULL &&
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        goto bad;
    for (i = 0; i < o->nkafka; i++) {
        char k[256];
        const char *eq = strchr(o->kafka[i], '=');
        if (!eq || (size_t)(eq - o->kafka[i]) >= sizeof(k)) {
            snprintf(errstr, sizeof(errstr), "--kafka %s: expected key=value", o->kafka[i]);
            goto bad;
        }
        memcpy(k, o->kafka[i], (size_t)(eq - o->kafka[i]));
        k[eq - o->kafka[i]] = 0;
        if (rd_kafka_conf_set(conf, k, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            goto bad;
    }
    /* Without idempotence a retried batch can land twice, or after a later one (reordering a
     * key); tests that move partition leaders under load need the producer's order. */
    if (type == RD_KAFKA_PRODUCER && o->idempotent &&
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK)
        goto bad;
    if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (rk == NULL) goto bad;
    return rk;
bad:
    fprintf(stderr, "wb-kafka: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    exit(2);
}

/* Number of partitions of topic, or exits. */
static int partition_count(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err;
    int n = -1, tries;

    for (tries = 0; tries < 20 && n < 0; tries++) {
        err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
            md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            n = md->topics[0].partition_cnt;
        else if (tries == 19)
            fprintf(stderr, "wb-kafka: metadata for %s: %s\n", topic,
                    rd_kafka_err2str(err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : md->topics[0].err));
        if (md != NULL) rd_kafka_metadata_destroy(md);
        md = NULL;
        if (n < 0) usleep(250 * 1000);
    }
    rd_kafka_topic_destroy(rkt);
    if (n < 0) exit(1);
    return n;
}

static rd_kafka_headers_t *headers_from_args(const opts_t *o, const char *type)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(o->nheaders + 1);
    int i;
    if (type != NULL) rd_kafka_header_add(hdrs, "event-type", -1, type, -1);
    for (i = 0; i < o->nheaders; i++) {
        const char *eq = strchr(o->headers[i], '=');
        if (eq == NULL)
            rd_kafka_header_add(hdrs, o->headers[i], -1, NULL, 0);
        else
            rd_kafka_header_add(hdrs, o->headers[i], (ssize_t)(eq - o->headers[i]), eq + 1, -1);
    }
    return hdrs;
}

/* Produce one message; on a full queue, serve delivery reports and try again. */
static int produce_one(rd_kafka_t *rk, const char *topic, int32_t partition, const char *key,
                       size_t keylen, const char *value, size_t valuelen, rd_kafka_headers_t *hdrs)
{
    rd_kafka_resp_err_t err;
    for (;;) {
        err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)value, valuelen),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 50);
            continue;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "wb-kafka: produce: %s\n", rd_kafka_err2str(err));
            rd_kafka_headers_destroy(hdrs);
            return -1;
        }
        return 0;
    }
}

static int finish_produce(rd_kafka_t *rk, long sent, double t0)
{
    double secs;
    rd_kafka_resp_err_t err = rd_kafka_flush(rk, 120000);
    secs = mono_s() - t0;
    printf(
        "{\"sent\":%ld,\"acked\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"per_second\":%.0f%s%s%s}\n",
        sent, delivered_ok, delivered_err, secs, secs > 0 ? (double)delivered_ok / secs : 0.0,
        delivered_err ? ",\"first_error\":\"" : "", delivered_err ? first_error : "",
        delivered_err ? "\"" : "");
    fflush(stdout);
    rd_kafka_destroy(rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || delivered_err > 0 || delivered_ok != sent) return 1;
    return 0;
}

static int produce_generated(const opts_t *o)
{
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, o, NULL);
    FILE *mf = NULL;
    char key[64], id[160];
    char *pad = NULL;
    char *value = NULL;
    long i, seq;
    double t0 = mono_s();
    int rc = 1;
    static const char *default_types[] = {"order.paid", "inventory.low", "booking.created",
                                          "return.received", "lead.created"};

    if (o->manifest != NULL) {
        mf = fopen(o->manifest, "w");
        if (mf == NULL) {
            fprintf(stderr, "wb-kafka: %s: %s\n", o->manifest, strerror(errno));
            goto out;
        }
    }
    pad = malloc((size_t)o->size + 1);
    value = malloc((size_t)o->size + 1024);
    if (pad == NULL || value == NULL) goto out;
    memset(pad, 'x', (size_t)o->size);
    for (i = 0; i < o->count && !stop_requested; i++) {
        const char *type;
        int64_t ts = now_us();
        int n, padlen;
        seq = o->start + i;
        type = o->ntypes > 0 ? o->types[seq % o->ntypes] : default_types[seq % 5];
        snprintf(key, sizeof(key), "k%ld", seq % o->keys);
        snprintf(id, sizeof(id), "%s%ld", o->id_prefix, seq);
        /* Body without the pad first, to size the pad. */
        n = snprintf(value, 1024,
                     "{\"id\":\"%s\",\"type\":\"%s\",\"key\":\"%s\",\"seq\":%ld,"
                     "\"per_key_seq\":%ld,\"produced_at_us\":%" PRId64 ",\"pad\":\"\"}",
                     id, type, key, seq, seq / o->keys, ts);
        if (n < 0 || n >= 1024) goto out;
        padlen = o->size > n ? (int)(o->size - n) : 0;
        n = snprintf(value, (size_t)o->size + 1024,
                     "{\"id\":\"%s\",\"type\":\"%s\",\"key\":\"%s\",\"seq\":%ld,"
                     "\"per_key_seq\":%ld,\"produced_at_us\":%" PRId64 ",\"pad\":\"%.*s\"}",
                     id, type, key, seq, seq / o->keys, ts, padlen, pad);
        if (produce_one(rk, o->topic,
                        o->partition >= 0 ? (int32_t)o->partition : RD_KAFKA_PARTITION_UA, key,
                        strlen(key), value, (size_t)n, headers_from_args(o, type)) != 0)
            goto out;
        if (mf != NULL) fprintf(mf, "%s\t%" PRId64 "\n", id, ts);
        rd_kafka_poll(rk, 0);
        if (o->rate > 0) {
            double due = t0 + (double)(i + 1) / o->rate;
            double now = mono_s();
            if (due > now) usleep((useconds_t)((due - now) * 1e6));
        }
    }
    rc = finish_produce(rk, i, t0);
    rk = NULL;
out:
    if (mf != NULL) fclose(mf);
    free(pad);
    free(value);
    if (rk != NULL) rd_kafka_destroy(rk);
    return rc;
}

/* Standard base64 (padding optional) into a fresh buffer; NULL on a bad character. */
static unsigned char *b64_decode(const char *in, size_t *outlen)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0, i;
    unsigned long acc = 0;
    int bits = 0;
    unsigned char *out = malloc(n / 4 * 3 + 4);

    if (out == NULL) return NULL;
    for (i = 0; i < n && in[i] != '='; i++) {
        const char *c = in[i] ? strchr(alpha, in[i]) : NULL;
        if (c == NULL) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned long)(c - alpha);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    *outlen = o;
    return out;
}

static char *b64_encode(const unsigned char *in, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    size_t i, o = 0;

    if (out == NULL) return NULL;
    for (i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16;
        if (i + 1 < n) v |= (unsigned long)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = alpha[(v >> 18) & 63];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alpha[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? alpha[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* JSONL {"key": str|null, "value": str|json, "value_b64": base64 (binary value, wins over
 * "value"), "headers": {k: v}, "partition": n}. */
static int produce_stdin(const opts_t *o)
{
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, o, NULL);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long sent = 0, lineno = 0;
    double t0 = mono_s();

    while (!stop_requested && (len = getline(&line, &cap, stdin)) != -1) {
        json_error_t jerr;
        json_t *rec, *jkey, *jval, *jhdrs, *jpart, *jb64, *v;
        const char *hk, *key = NULL, *value = NULL;
        char *dumped = NULL;
        size_t valuelen = 0;
        rd_kafka_headers_t *hdrs;
        int32_t partition = RD_KAFKA_PARTITION_UA;

        lineno++;
        if (len <= 1) continue;
        rec = json_loads(line, 0, &jerr);
        if (rec == NULL || !json_is_object(rec)) {
            fprintf(stderr, "wb-kafka: stdin line %ld: %s\n", lineno,
                    rec ? "not an object" : jerr.text);
            json_decref(rec);
            free(line);
            rd_kafka_destroy(rk);
            return 2;
        }
        jkey = json_object_get(rec, "key");
        jval = json_object_get(rec, "value");
        jhdrs = json_object_get(rec, "headers");
        jpart = json_object_get(rec, "partition");
        jb64 = json_object_get(rec, "value_b64");
        if (json_is_string(jkey)) key = json_string_value(jkey);
        if (json_is_string(jval))
            value = json_string_value(jval);
        else if (jval != NULL && !json_is_null(jval))
            value = dumped = json_dumps(jval, JSON_COMPACT | JSON_ENCODE_ANY);
        if (value != NULL) valuelen = strlen(value);
        if (json_is_string(jb64)) {
            free(dumped);
            dumped = (char *)b64_decode(json_string_value(jb64), &valuelen);
            if (dumped == NULL) {
                fprintf(stderr, "wb-kafka: stdin line %ld: bad value_b64\n", lineno);
                json_decref(rec);
                free(line);
                rd_kafka_destroy(rk);
                return 2;
            }
            value = dumped;
        }
        if (json_is_integer(jpart))
            partition = (int32_t)json_integer_value(jpart);
        else if (o->partition >= 0)
            partition = (int32_t)o->partition;
        hdrs = headers_from_args(o, NULL);
        if (json_is_object(jhdrs)) {
            json_object_foreach(jhdrs, hk, v)
            {
                if (json_is_string(v))
                    rd_kafka_header_add(hdrs, hk, -1, json_string_value(v), -1);
                else
                    rd_kafka_header_add(hdrs, hk, -1, NULL, 0);
            }
        }
        if (produce_one(rk, o->topic, partition, key, key ? strlen(key) : 0, value, valuelen,
                        hdrs) != 0) {
            free(dumped);
            json_decref(rec);
            free(line);
            rd_kafka_destroy(rk);
            return 1;
        }
        sent++;
        free(dumped);
        json_decref(rec);
        rd_kafka_poll(rk, 0);
    }
    free(line);
    return finish_produce(rk, sent, t0);
}

static json_t *json_bytes(const void *p, size_t len)
{
    if (p == NULL) return json_null();
    return json_stringn_nocheck((const char *)p, len);
}

static int consume(const opts_t *o)
{
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts = NULL;
    double deadline = mono_s() + o->timeout_s;
    long got = 0;
    int nparts, i, at_eof = 0;
    char *eof_seen = NULL;

    rk = new_client(RD_KAFKA_CONSUMER, o, o->group ? o->group : "wb-kafka-reader");
    rd_kafka_poll_set_consumer(rk);
    nparts = partition_count(rk, o->topic);
    parts = rd_kafka_topic_partition_list_new(nparts);
    if (o->group != NULL) {
        rd_kafka_topic_partition_list_add(parts, o->topic, RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "wb-kafka: subscribe failed\n");
            return 1;
        }
    } else {
        for (i = 0; i < nparts; i++)
            rd_kafka_topic_partition_list_add(parts, o->topic, i)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "wb-kafka: assign failed\n");
            return 1;
        }
    }
    eof_seen = calloc((size_t)nparts, 1);
    if (eof_seen == NULL) return 1;

    while (!stop_requested && mono_s() < deadline && (o->count <= 0 || got < o->count)) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        json_t *rec, *hj;
        rd_kafka_headers_t *hdrs = NULL;
        const char *hname;
        const void *hval;
        size_t hsize, idx;
        char *out;

        if (rkm == NULL) continue;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (rkm->partition >= 0 && rkm->partition < nparts && !eof_seen[rkm->partition]) {
                eof_seen[rkm->partition] = 1;
                at_eof++;
            }
            rd_kafka_message_destroy(rkm);
            if (o->eof && at_eof >= nparts) break;
            continue;
        }
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "wb-kafka: consume: %s\n", rd_kafka_message_errstr(rkm));
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (rkm->partition >= 0 && rkm->partition < nparts && eof_seen[rkm->partition]) {
            eof_seen[rkm->partition] = 0; /* new data after EOF */
            at_eof--;
        }
        hj = json_object();
        if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (idx = 0; rd_kafka_header_get_all(hdrs, idx, &hname, &hval, &hsize) ==
                          RD_KAFKA_RESP_ERR_NO_ERROR;
                 idx++)
                json_object_set_new(hj, hname, json_bytes(hval, hsize));
        }
        rec = json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:I}", "topic",
                        rd_kafka_topic_name(rkm->rkt), "partition", (int)rkm->partition, "offset",
                        (json_int_t)rkm->offset, "key", json_bytes(rkm->key, rkm->key_len), "value",
                        json_bytes(rkm->payload, rkm->len), "headers", hj, "timestamp",
                        (json_int_t)rd_kafka_message_timestamp(rkm, NULL));
        if (rec != NULL && rkm->payload != NULL) {
            /* binary values: value_b64 always; value null when not valid UTF-8 */
            char *b64 = b64_encode(rkm->payload, rkm->len);
            json_t *checked = json_stringn(rkm->payload, rkm->len);
            if (b64 != NULL) json_object_set_new(rec, "value_b64", json_string(b64));
            if (checked == NULL) json_object_set_new(rec, "value", json_null());
            json_decref(checked);
            free(b64);
        }
        out = rec ? json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (out != NULL) {
            printf("%s\n", out);
            free(out);
        }
        json_decref(rec);
        rd_kafka_message_destroy(rkm);
        got++;
    }
    fflush(stdout);
    if (o->group != NULL && got > 0)
        rd_kafka_commit(rk, NULL, 0); /* so `committed` can be checked against a reader */
    free(eof_seen);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (o->count > 0 && got < o->count) {
        fprintf(stderr, "wb-kafka: consumed %ld of %ld before the timeout\n", got, o->count);
        return 1;
    }
    return 0;
}

static int committed(const opts_t *o)
{
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_resp_err_t err;
    int nparts, i;
    json_t *res;
    char *out;

    if (o->group == NULL) {
        fprintf(stderr, "wb-kafka: committed needs --group\n");
        return 2;
    }
    rk = new_client(RD_KAFKA_CONSUMER, o, o->group);
    nparts = partition_count(rk, o->topic);
    parts = rd_kafka_topic_partition_list_new(nparts);
    for (i = 0; i < nparts; i++)
        rd_kafka_topic_partition_list_add(parts, o->topic, i);
    err = rd_kafka_committed(rk, parts, (int)(o->timeout_s * 1000));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "wb-kafka: committed: %s\n", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy(rk);
        return 1;
    }
    res = json_object();
    for (i = 0; i < parts->cnt; i++) {
        char k[16];
        snprintf(k, sizeof(k), "%d", (int)parts->elems[i].partition);
        json_object_set_new(res, k, json_integer((json_int_t)parts->elems[i].offset));
    }
    out = json_dumps(res, JSON_COMPACT);
    printf("%s\n", out ? out : "{}");
    free(out);
    json_decref(res);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage:\n"
               "  wb-kafka produce --bootstrap B --topic T [--count N] [--size BYTES] [--keys K]\n"
               "           [--types a,b] [--partition-by-key] [--partition P] [--rate R/s]\n"
               "           [--id-prefix P] [--start S] [--header k=v]... [--manifest FILE]\n"
               "           [--kafka key=value]... [--idempotent]\n"
               "  wb-kafka produce --bootstrap B --topic T --stdin\n"
               "  wb-kafka consume --bootstrap B --topic T [--timeout 10s] [--count N] [--group G]"
               " [--eof]\n"
               "  wb-kafka committed --bootstrap B --group G --topic T [--timeout 10s]\n");
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},
        {"keys", required_argument, NULL, 'k'},
        {"types", required_argument, NULL, 'T'},
        {"partition-by-key", no_argument, NULL, 'K'},
        {"partition", required_argument, NULL, 'p'},
        {"rate", required_argument, NULL, 'r'},
        {"id-prefix", required_argument, NULL, 'i'},
        {"start", required_argument, NULL, 'S'},
        {"header", required_argument, NULL, 'H'},
        {"manifest", required_argument, NULL, 'm'},
        {"kafka", required_argument, NULL, 'X'},
        {"stdin", no_argument, NULL, 'I'},
        {"timeout", required_argument, NULL, 'o'},
        {"group", required_argument, NULL, 'g'},
        {"eof", no_argument, NULL, 'e'},
        {"idempotent", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opts_t o;
    const char *cmd;
    char *save = NULL, *tok, *types_arg = NULL;
    int c, rc;
    struct sigaction sa;

    memset(&o, 0, sizeof(o));
    o.count = -1;
    o.size = 200;
    o.keys = 10;
    o.partition = -1;
    o.timeout_s = 10;
    o.id_prefix = "evt-";

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cmd = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o.bootstrap = optarg;
            break;
        case 't':
            o.topic = optarg;
            break;
        case 'n':
            o.count = parse_long(optarg, "--count");
            break;
        case 's':
            o.size = parse_long(optarg, "--size");
            break;
        case 'k':
            o.keys = parse_long(optarg, "--keys");
            if (o.keys < 1) o.keys = 1;
            break;
        case 'T':
            types_arg = optarg;
            break;
        case 'K':
            break; /* the default: librdkafka's partitioner hashes the key */
        case 'p':
            o.partition = parse_long(optarg, "--partition");
            break;
        case 'r':
            o.rate = parse_rate(optarg);
            break;
        case 'i':
            o.id_prefix = optarg;
            break;
        case 'S':
            o.start = parse_long(optarg, "--start");
            break;
        case 'H':
            if (o.nheaders == MAX_HEADERS) {
                fprintf(stderr, "wb-kafka: too many --header\n");
                return 2;
            }
            o.headers[o.nheaders++] = optarg;
            break;
        case 'm':
            o.manifest = optarg;
            break;
        case 'X':
            if (o.nkafka == MAX_HEADERS) {
                fprintf(stderr, "wb-kafka: too many --kafka\n");
                return 2;
            }
            o.kafka[o.nkafka++] = optarg;
            break;
        case 'I':
            o.from_stdin = 1;
            break;
        case 'o':
            o.timeout_s = parse_duration(optarg);
            break;
        case 'g':
            o.group = optarg;
            break;
        case 'e':
            o.eof = 1;
            break;
        case 'P':
            o.idempotent = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (o.bootstrap == NULL || o.topic == NULL) {
        fprintf(stderr, "wb-kafka: --bootstrap and --topic are required\n");
        return 2;
    }
    if (types_arg != NULL) {
        for (tok = strtok_r(types_arg, ",", &save); tok != NULL && o.ntypes < MAX_TYPES;
             tok = strtok_r(NULL, ",", &save))
            o.types[o.ntypes++] = tok;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (strcmp(cmd, "produce") == 0 && o.count < 0) o.count = 1;
    if (strcmp(cmd, "produce") == 0)
        rc = o.from_stdin ? produce_stdin(&o) : produce_generated(&o);
    else if (strcmp(cmd, "consume") == 0)
        rc = consume(&o);
    else if (strcmp(cmd, "committed") == 0)
        rc = committed(&o);
    else {
        fprintf(stderr, "wb-kafka: unknown command '%s'\n", cmd);
        usage(stderr);
        rc = 2;
    }
    return rc;
}
