/* jq_bench.c - cost per event of a typical filter and a typical transform, in process and
 * through the sandbox worker (outbound/jq.h). Figures printed, not asserted.
 *
 *   build/tests/bench/jq_bench [events] [in-flight]
 *
 * The event is the envelope of an order.paid v2 (~560 bytes), as the engine hands it over.
 * In process: CPU per evaluation (parse + run + dump). Sandbox: `in-flight` requests kept
 * queued on one loop (the engine's shape: many records per loop turn), N evaluations; wall
 * time per event, and CPU per event of the bridge side (this process) and of the worker
 * (from /proc/<pid>/stat), whose sum is what an event costs the machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "jq/jq.h"
#include "core/util.h"

static const char event[] =
    "{\"type\":\"order.paid\",\"timestamp\":\"2026-11-23T17:44:06.123Z\",\"data\":{"
    "\"event_id\":\"6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d\",\"order_id\":\"ord_1001\","
    "\"customer_id\":\"cus_77\",\"amount\":\"1234.50\",\"currency\":\"EUR\","
    "\"payment_method\":\"CARD\",\"paid_at\":\"2026-11-23T17:44:06.123Z\","
    "\"coupon_code\":\"WELCOME10\","
    "\"lines\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price\":\"600.00\"},"
    "{\"sku\":\"SKU-2\",\"quantity\":1,\"unit_price\":\"34.50\"},"
    "{\"sku\":\"SKU-3\",\"quantity\":5,\"unit_price\":\"0.99\"}],"
    "\"sales_channel\":\"web\",\"tax_amount\":\"234.55\"}}";

static const char filter[] = ".data.amount | tonumber > 100";
static const char transform[] =
    "{event: .type, id: .data.order_id, amount_cents: "
    "(.data.amount | tonumber * 100 | round), currency: .data.currency, "
    "at: .timestamp, items: [.data.lines[] | {sku, qty: .quantity}]}";

static double cpu_self_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double cpu_thread_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* utime + stime of pid in microseconds (clock ticks). */
static double cpu_pid_us(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static void in_process(const char *name, const char *expr, wb_jq_kind kind, long n)
{
    char err[512];
    wb_jq_prog *p = wb_jq_prog_new(expr, err, sizeof(err));
    if (!p) {
        fprintf(stderr, "jq_bench: %s\n", err);
        exit(1);
    }
    wb_buf out;
    wb_buf_init(&out, 0);
    double t0 = cpu_thread_us();
    for (long i = 0; i < n; i++) {
        wb_buf_reset(&out);
        if (wb_jq_prog_run(p, kind, event, sizeof(event) - 1, 0, &out, err, sizeof(err)) ==
            WB_JQ_FAILED) {
            fprintf(stderr, "jq_bench: %s\n", err);
            exit(1);
        }
    }
    double us = (cpu_thread_us() - t0) / (double)n;
    printf("in process  %-9s %6.2f us CPU per event\n", name, us);
    wb_buf_free(&out);
    wb_jq_prog_free(p);
}

typedef struct bench {
    wb_jq *jq;
    const char *expr;
    wb_jq_kind kind;
    long sent, done, total;
} bench;

static void submit(bench *b);

static void on_result(void *opaque, wb_jq_status st, const char *out, size_t len, const char *error)
{
    bench *b = opaque;
    (void)out;
    (void)len;
    if (st == WB_JQ_FAILED) {
        fprintf(stderr, "jq_bench: %s\n", error);
        exit(1);
    }
    b->done++;
    submit(b);
}

static void submit(bench *b)
{
    if (b->sent >= b->total) return;
    if (wb_jq_eval(b->jq, b->expr, b->kind, event, sizeof(event) - 1, on_result, b, NULL)) {
        fprintf(stderr, "jq_bench: eval failed\n");
        exit(1);
    }
    b->sent++;
}

static void sandbox(wb_loop *lp, wb_jq *jq, const char *name, const char *expr, wb_jq_kind kind,
                    long n, int inflight)
{
    bench b = {jq, expr, kind, 0, 0, 1 + inflight};
    /* warm up: the worker is started and the program compiled before timing */
    for (int i = 0; i <= inflight; i++)
        submit(&b);
    while (b.done < b.total)
        wb_loop_run_once(lp, 100);
    b.sent = b.done = 0;
    b.total = n;
    int pid = wb_jq_worker_pid(jq);
    double w0 = cpu_pid_us(pid), s0 = cpu_self_us();
    int64_t t0 = wb_now_us();
    for (int i = 0; i < inflight; i++)
        submit(&b);
    while (b.done < b.total)
        wb_loop_run_once(lp, 100);
    double wall = (double)(wb_now_us() - t0) / (double)n;
    double self = (cpu_self_us() - s0) / (double)n, worker = (cpu_pid_us(pid) - w0) / (double)n;
    printf("sandbox     %-9s %6.2f us wall per event, CPU %5.2f bridge + %5.2f worker = %5.2f us "
           "(%d in flight)\n",
           name, wall, self, worker, self + worker, inflight);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "jq-worker")) return wb_jq_worker_main(argc - 1, argv + 1);
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    int inflight = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 256;
    if (n <= 0 || inflight <= 0) {
        fprintf(stderr, "usage: jq_bench [events] [in-flight]\n");
        return 2;
    }
    printf("event: %zu bytes; %ld evaluations each\n", sizeof(event) - 1, n);
    in_process("filter", filter, WB_JQ_FILTER, n);
    in_process("transform", transform, WB_JQ_TRANSFORM, n);
    char err[256];
    wb_loop *lp = wb_loop_new(err, sizeof(err));
    wb_jq *jq = lp ? wb_jq_new(lp, NULL, err, sizeof(err)) : NULL;
    if (!jq) {
        fprintf(stderr, "jq_bench: %s\n", err);
        return 1;
    }
    sandbox(lp, jq, "filter", filter, WB_JQ_FILTER, n, inflight);
    sandbox(lp, jq, "transform", transform, WB_JQ_TRANSFORM, n, inflight);
    sandbox(lp, jq, "filter", filter, WB_JQ_FILTER, n / 10, 1);
    wb_jq_free(jq);
    wb_loop_free(lp);
    return 0;
}
