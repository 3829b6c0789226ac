/* fuzz_jq.c - hostile EVENTS against fixed filters and transforms, through the real jq
 * sandbox (worker process, budget, memory cap), as the outbound engine runs them.
 *
 * The programs are the operator's (fixed here); the input is the event, which is not ours.
 * Each program is chosen so that the event decides how much work it does (a range bound, a
 * regex subject, nesting depth, array length). Properties checked for every input:
 *   - the callback runs exactly once per request, within budget + slack (never a hang);
 *   - a transform that passes yields one JSON object, a failure has a message;
 *   - when the sandbox answered (not a budget, memory or worker-death failure), the
 *     in-process run of the same program on the same event gives the same verdict and bytes.
 *
 * The worker binary: WB_JQ_WORKER (CTest sets it to webhook-bridge), since this executable's
 * main() is the fuzzer's, not ours. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "jq/jq.h"
#include "core/util.h"

#define BUDGET_MS 200

static const struct {
    wb_jq_kind kind;
    const char *expr;
} progs[] = {
    {WB_JQ_FILTER, ".data.amount | tonumber? // 0 | . > 100"},
    {WB_JQ_FILTER, "[range(.n // 0 | if type == \"number\" then . else 0 end)] | length > 3"},
    {WB_JQ_FILTER, "(.s // \"\") | tostring | test(\"^(a+)+$\")"},
    {WB_JQ_TRANSFORM, "{id: .id, type: .type, items: [.items[]? | {sku: .sku?, q: .qty?}]}"},
    {WB_JQ_TRANSFORM, "{depth: ([paths] | map(length) | max // 0), keys: (keys? // [])}"},
    {WB_JQ_TRANSFORM, "with_entries(.key |= ascii_downcase?) | {n: length}"},
};
#define NPROGS (sizeof(progs) / sizeof(progs[0]))

typedef struct result {
    int calls;
    wb_jq_status st;
    char *out;
    size_t len;
    char err[1100];
} result;

static wb_loop *lp;
static wb_jq *jq;

static void on_result(void *opaque, wb_jq_status st, const char *out, size_t len, const char *error)
{
    result *r = opaque;
    r->calls++;
    r->st = st;
    r->len = len;
    r->out = NULL;
    if (out) {
        r->out = malloc(len + 1);
        if (!r->out) abort();
        memcpy(r->out, out, len);
        r->out[len] = 0;
    }
    snprintf(r->err, sizeof(r->err), "%s", error ? error : "");
}

static void setup(void)
{
    char err[256];
    const char *exe = getenv("WB_JQ_WORKER");
    if (!exe || !*exe) {
        fprintf(stderr, "fuzz_jq: set WB_JQ_WORKER to the webhook-bridge binary\n");
        abort();
    }
    wb_jq_limits lim = {.budget_ms = BUDGET_MS, .memory_bytes = 128u << 20, .worker_exe = exe};
    if (!(lp = wb_loop_new(err, sizeof(err))) || !(jq = wb_jq_new(lp, &lim, err, sizeof(err)))) {
        fprintf(stderr, "fuzz_jq: %s\n", err);
        abort();
    }
}

/* The sandbox's own verdicts (not the program's): nothing to compare in process. */
static int sandbox_verdict(const result *r)
{
    return r->st == WB_JQ_FAILED &&
           (strstr(r->err, "budget of the jq sandbox") || strstr(r->err, "memory limit") ||
            strstr(r->err, "sandbox died"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!jq) setup();
    if (size > 64 * 1024) return 0;
    result res[NPROGS];
    memset(res, 0, sizeof(res));
    for (size_t i = 0; i < NPROGS; i++)
        if (wb_jq_eval(jq, progs[i].expr, progs[i].kind, (const char *)data, size, on_result,
                       &res[i], NULL) != WB_OK)
            abort();
    /* every request answered, each within its budget (+ slack for a respawn per request) */
    int64_t deadline = wb_now_ms() + (int64_t)NPROGS * (BUDGET_MS + 2000);
    for (;;) {
        int done = 1;
        for (size_t i = 0; i < NPROGS; i++)
            done &= res[i].calls > 0;
        if (done) break;
        if (wb_now_ms() > deadline) {
            fprintf(stderr, "fuzz_jq: an evaluation was never answered\n");
            abort();
        }
        if (wb_loop_run_once(lp, 20) < 0) abort();
    }
    for (size_t i = 0; i < NPROGS; i++) {
        result *r = &res[i];
        if (r->calls != 1 || r->st > WB_JQ_FAILED) abort();
        if (r->st == WB_JQ_FAILED && !r->err[0]) abort();
        if (r->st == WB_JQ_PASS && progs[i].kind == WB_JQ_TRANSFORM) {
            json_t *doc = r->out ? json_loadb(r->out, r->len, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
            if (!json_is_object(doc)) abort();
            json_decref(doc);
        }
        if (!sandbox_verdict(r)) {
            /* the same code in process must agree (it answered in time in the sandbox) */
            wb_buf out;
            char err[1100];
            wb_buf_init(&out, 0);
            wb_jq_status st = wb_jq_run_local(progs[i].expr, progs[i].kind, (const char *)data,
                                              size, &out, err, sizeof(err));
            if (st != r->st) {
                fprintf(stderr, "fuzz_jq: program %zu: sandbox %d (%s), in process %d (%s)\n", i,
                        r->st, r->err, st, err);
                abort();
            }
            if (st == WB_JQ_PASS && progs[i].kind == WB_JQ_TRANSFORM &&
                (out.len != r->len || memcmp(out.data, r->out, r->len)))
                abort();
            if (st == WB_JQ_FAILED && strcmp(err, r->err)) abort();
            wb_buf_free(&out);
        }
        free(r->out);
    }
    return 0;
}
