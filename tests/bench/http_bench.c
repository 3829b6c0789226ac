/* http_bench.c - the HTTP client alone: N POSTs through wb_http (outbound/http.h) on a
 * wb_loop, C in flight, to a URL (nginx `return 204` in outbound_bench.py --client-only).
 * Prints one JSON line: requests, seconds, requests/s, CPU us per request (this process:
 * utime+stime; the server's CPU is not counted), peak RSS. Kafka is not involved, so this is
 * the client's own cost, apart from the engine's. Figures are printed, never asserted.
 *
 *   http_bench URL [-n REQUESTS] [-c CONCURRENCY] [--http2 auto|off|prior-knowledge]
 *              [--ca FILE] [--size BODY_BYTES]
 *
 * Each request carries the per-delivery headers the engine sends (webhook-id,
 * webhook-timestamp, webhook-signature) as typed headers, over one target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/loop.h"
#include "http/http.h"
#include "core/util.h"

typedef struct bench {
    wb_http *h;
    wb_http_target *t;
    long total, submitted, done, ok;
    char *body;
    size_t body_len;
    char ids[64][32];
} bench;

static void submit_one(bench *b);

static void on_done(void *opaque, const wb_http_result *res)
{
    bench *b = opaque;
    b->done++;
    if (res->cls == WB_HTTP_DONE)
        b->ok++;
    else if (b->done - b->ok <= 3)
        fprintf(stderr, "http_bench: request failed: %s\n", res->error);
    if (b->submitted < b->total) submit_one(b);
}

static void submit_one(bench *b)
{
    /* the engine's per-attempt headers: an id, a timestamp, a signature of realistic size */
    char *id = b->ids[b->submitted % 64];
    snprintf(id, 32, "msg_%ld", b->submitted);
    wb_http_header hd[] = {
        {"webhook-id", id},
        {"webhook-timestamp", "1767225600"},
        {"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}};
    b->submitted++;
    if (wb_http_submit(b->h, b->t, hd, 3, b->body, b->body_len, on_done, b, NULL) != WB_OK) {
        fprintf(stderr, "http_bench: submit failed\n");
        exit(1);
    }
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *ca = NULL, *mode = "auto";
    long n = 100000, conc = 64, size = 500;
    for (int i = 1; i < argc; i++) {
        long v;
        if (!strcmp(argv[i], "-n") && i + 1 < argc && !wb_parse_int(argv[++i], 1, 1L << 30, &v))
            n = v;
        else if (!strcmp(argv[i], "-c") && i + 1 < argc && !wb_parse_int(argv[++i], 1, 100000, &v))
            conc = v;
        else if (!strcmp(argv[i], "--size") && i + 1 < argc &&
                 !wb_parse_int(argv[++i], 0, 1 << 24, &v))
            size = v;
        else if (!strcmp(argv[i], "--http2") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--ca") && i + 1 < argc)
            ca = argv[++i];
        else if (argv[i][0] != '-' && !url)
            url = argv[i];
        else {
            fprintf(stderr, "usage: http_bench URL [-n N] [-c C] [--http2 auto|off|"
                            "prior-knowledge] [--ca FILE] [--size B]\n");
            return 2;
        }
    }
    if (!url) {
        fprintf(stderr, "http_bench: no URL\n");
        return 2;
    }
    wb_http2_mode m = !strcmp(mode, "off")               ? WB_HTTP2_OFF
                      : !strcmp(mode, "prior-knowledge") ? WB_HTTP2_PRIOR_KNOWLEDGE
                                                         : WB_HTTP2_AUTO;
    char err[256] = "";
    wb_loop *lp = wb_loop_new(err, sizeof(err));
    if (!lp) {
        fprintf(stderr, "http_bench: %s\n", err);
        return 1;
    }
    bench b;
    memset(&b, 0, sizeof(b));
    wb_http_opts ho = {.max_total_connections = (int)conc};
    b.h = wb_http_new(lp, &ho, err, sizeof(err));
    static const wb_http_header ct[] = {{"content-type", "application/json"},
                                        {"user-agent", "webhook-bridge/bench"}};
    wb_http_target_opts to = {.url = url,
                              .headers = ct,
                              .nheaders = 2,
                              .timeout_ms = 30000,
                              .allow_private = 1,
                              .ca_file = ca,
                              .http2 = m};
    if (!b.h || !(b.t = wb_http_target_new(b.h, &to, err, sizeof(err)))) {
        fprintf(stderr, "http_bench: %s\n", err);
        return 1;
    }
    b.total = n;
    b.body_len = (size_t)size;
    b.body = malloc(b.body_len + 1);
    memset(b.body, 'x', b.body_len);
    if (b.body_len >= 2) {
        b.body[0] = '"';
        b.body[b.body_len - 1] = '"';
    }

    /* warm-up: connections, TLS sessions, handles */
    long warm = conc * 4 < n ? conc * 4 : n / 10;
    b.total = warm;
    for (long i = 0; i < conc && b.submitted < b.total; i++)
        submit_one(&b);
    while (b.done < warm)
        wb_loop_run_once(lp, 100);
    long warm_failed = warm - b.ok;

    b.total = warm + n;
    b.ok = 0;
    double c0 = cpu_s();
    int64_t t0 = wb_now_us();
    for (long i = 0; i < conc && b.submitted < b.total; i++)
        submit_one(&b);
    while (b.done < b.total)
        if (wb_loop_run_once(lp, 1000) < 0) break;
    double secs = (double)(wb_now_us() - t0) / 1e6;
    double cpu = cpu_s() - c0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"requests\": %ld, \"ok\": %ld, \"warmup_failed\": %ld, \"concurrency\": %ld, "
           "\"http2\": \"%s\", \"seconds\": %.3f, \"requests_per_s\": %.0f, "
           "\"cpu_us_per_request\": %.2f, \"peak_rss_mib\": %.1f}\n",
           n, b.ok, warm_failed, conc, mode, secs, (double)n / secs, cpu * 1e6 / (double)n,
           (double)ru.ru_maxrss / 1024.0);
    wb_http_target_release(b.t);
    wb_http_free(b.h);
    wb_loop_free(lp);
    free(b.body);
    return b.ok == n ? 0 : 1;
}
