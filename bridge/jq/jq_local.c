/* outbound/jq_local.c - compile and run a jq program in this process (see outbound/jq.h).
 *
 * This is the one place that knows libjq's API; the sandbox worker runs events through the
 * same wb_jq_prog_run(), so the CLI, the config check and the bridge agree on every rule.
 * jq reports compile errors through its error callback (several lines, then "N compile
 * errors"); they are collected into the caller's buffer instead of jq's default stderr. */
#include "jq/jq.h"
#include "jq/jq_proto.h"
#include "core/jscan.h"

#include <jq.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wb_jq_prog {
    jq_state *jq;
};

typedef struct msgs {
    char *buf;
    size_t size;
    size_t used;
} msgs;

static msgs silent; /* never written: buf is NULL */

/* Append jq's message to m, "; " between messages, without jq's "jq: error: " prefix. */
static void on_jq_error(void *data, jv msg)
{
    msgs *m = data;
    jv text = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) : jv_dump_string(jv_copy(msg), 0);
    const char *s = jv_string_value(text);
    if (!strncmp(s, "jq: error: ", 11)) s += 11;
    if (!strncmp(s, "jq: ", 4)) s += 4;
    /* the closing "1 compile error" count adds nothing to the messages before it */
    char *end;
    strtol(s, &end, 10);
    if (end != s && (!strcmp(end, " compile error") || !strcmp(end, " compile errors"))) s = "";
    if (*s && m->buf && m->size > m->used + 1) {
        int w = snprintf(m->buf + m->used, m->size - m->used, "%s%s", m->used ? "; " : "", s);
        if (w > 0) m->used += (size_t)w < m->size - m->used ? (size_t)w : m->size - m->used - 1;
    }
    /* jq puts the offending source on a second line, padded: one line, single spaces */
    if (m->buf && m->size) {
        size_t o = 0;
        for (size_t i = 0; i < m->used; i++) {
            char ch = m->buf[i] == '\n' || m->buf[i] == '\t' ? ' ' : m->buf[i];
            if (ch == ' ' && (o == 0 || m->buf[o - 1] == ' ')) continue;
            m->buf[o++] = ch;
        }
        while (o && m->buf[o - 1] == ' ')
            o--;
        m->buf[o] = 0;
        m->used = o;
    }
    jv_free(text);
    jv_free(msg);
}

wb_jq_prog *wb_jq_prog_new(const char *expr, char *errstr, size_t errstr_size)
{
    msgs m = {errstr, errstr_size, 0};
    if (errstr && errstr_size) errstr[0] = 0;
    wb_jq_prog *prog = calloc(1, sizeof(*prog));
    if (!prog || !(prog->jq = jq_init())) {
        if (errstr) snprintf(errstr, errstr_size, "out of memory");
        free(prog);
        return NULL;
    }
    jq_set_error_cb(prog->jq, on_jq_error, &m);
    int ok = jq_compile(prog->jq, expr);
    /* Run-time errors are read from jq_next()'s result; nothing may print to stderr. */
    jq_set_error_cb(prog->jq, on_jq_error, &silent);
    if (!ok) {
        if (errstr && errstr_size && !errstr[0]) snprintf(errstr, errstr_size, "compile error");
        wb_jq_prog_free(prog);
        return NULL;
    }
    return prog;
}

void wb_jq_prog_free(wb_jq_prog *prog)
{
    if (!prog) return;
    if (prog->jq) jq_teardown(&prog->jq);
    free(prog);
}

void wb_jq_prog_set_nomem(wb_jq_prog *prog, void (*fn)(void *), void *arg)
{
    jq_set_nomem_handler(prog->jq, fn, arg);
}

wb_err wb_jq_check(const char *expr, char *errstr, size_t errstr_size)
{
    wb_jq_prog *prog = wb_jq_prog_new(expr, errstr, errstr_size);
    if (!prog) return WB_ERR_CONFIG;
    wb_jq_prog_free(prog);
    return WB_OK;
}

/* jq's message of an invalid value (jv_invalid_get_msg: a string, or any value passed to
 * error()) into error; consumes v. */
static void error_text(jv v, const char *prefix, char *error, size_t error_size)
{
    jv msg = jv_invalid_get_msg(v);
    jv text = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) : jv_dump_string(jv_copy(msg), 0);
    if (error) snprintf(error, error_size, "%s%.400s", prefix, jv_string_value(text));
    jv_free(text);
    jv_free(msg);
}

__attribute__((format(printf, 3, 4))) static wb_jq_status fail(char *error, size_t error_size,
                                                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (error) vsnprintf(error, error_size, fmt, ap);
    va_end(ap);
    return WB_JQ_FAILED;
}

/* Run prog on input (consumed) and keep at most two results: two are enough to tell
 * "exactly one" apart (jq_start resets the state for the next run). Returns how many (0..2),
 * or -1 when the program halted or raised an error (error filled). */
static int run_two(wb_jq_prog *prog, const char *what, jv input, jv *first, jv *second, char *error,
                   size_t error_size)
{
    jq_start(prog->jq, input, 0);
    jv v;
    int n = 0;
    while (n < 2 && jv_is_valid(v = jq_next(prog->jq))) {
        if (n++ == 0)
            *first = v;
        else
            *second = v;
    }
    if (n == 2) return n;
    if (jq_halted(prog->jq)) {
        jv m = jq_get_error_message(prog->jq);
        jv t = jv_get_kind(m) == JV_KIND_STRING ? jv_copy(m) : jv_dump_string(jv_copy(m), 0);
        if (error)
            snprintf(error, error_size, "%s halted%s%.400s", what,
                     jv_get_kind(m) == JV_KIND_INVALID ? "" : ": ", jv_string_value(t));
        jv_free(t);
        jv_free(m);
        jv_free(v);
        return -1;
    }
    if (jv_invalid_has_msg(jv_copy(v))) {
        char pre[32];
        snprintf(pre, sizeof(pre), "%s: ", what);
        error_text(v, pre, error, error_size);
        return -1;
    }
    jv_free(v);
    return n;
}

/* The one result of a transform, dumped into out (bounded by max_output). */
static wb_jq_status transform_output(jv result, size_t max_output, wb_buf *out, char *error,
                                     size_t error_size)
{
    jv_kind k = jv_get_kind(result);
    if (k != JV_KIND_OBJECT)
        return fail(error, error_size, "transform must yield an object, got %s", jv_kind_name(k));
    wb_jq_status st = WB_JQ_FAILED;
    jv text = jv_dump_string(jv_copy(result), 0);
    size_t tlen = (size_t)jv_string_length_bytes(jv_copy(text));
    if (max_output && tlen > max_output) {
        if (error)
            snprintf(error, error_size, "transform output is %zu bytes, over the %zu-byte limit",
                     tlen, max_output);
    } else if (wb_buf_add(out, jv_string_value(text), tlen) != WB_OK) {
        if (error) snprintf(error, error_size, "transform output does not fit (%zu bytes)", tlen);
    } else {
        st = WB_JQ_PASS;
    }
    jv_free(text);
    return st;
}

wb_jq_status wb_jq_prog_run(wb_jq_prog *prog, wb_jq_kind kind, const char *json, size_t len,
                            size_t max_output, wb_buf *out, char *error, size_t error_size)
{
    const char *what = kind == WB_JQ_FILTER ? "filter" : "transform";
    if (error && error_size) error[0] = 0;
    if (len > INT_MAX) return fail(error, error_size, "%s: the event is too large", what);
    /* libjq 1.6's parser leaks on some invalid texts (20 bytes a time): hostile events are
     * refused by our own validator first, so a long-lived worker does not grow */
    char why[128];
    int line = 0;
    if (wb_jscan(json, len, NULL, 0, why, sizeof(why), &line))
        return fail(error, error_size, "the event is not JSON: %s (line %d)", why, line);
    jv input = jv_parse_sized(json, (int)len);
    if (!jv_is_valid(input)) {
        error_text(input, "the event is not JSON: ", error, error_size);
        return WB_JQ_FAILED;
    }
    jv first = jv_invalid(), second = jv_invalid();
    wb_jq_status st = WB_JQ_FAILED;
    int n = run_two(prog, what, input, &first, &second, error, error_size);
    if (n == 0)
        st = fail(error, error_size, "%s yielded no value (it must yield exactly one)", what);
    else if (n > 1)
        st = fail(error, error_size, "%s yielded several values (it must yield exactly one)", what);
    else if (n == 1 && kind != WB_JQ_FILTER)
        st = transform_output(first, max_output, out, error, error_size);
    else if (n == 1 && jv_get_kind(first) == JV_KIND_TRUE)
        st = WB_JQ_PASS;
    else if (n == 1 && jv_get_kind(first) == JV_KIND_FALSE)
        st = WB_JQ_FILTERED;
    else if (n == 1)
        st = fail(error, error_size, "filter must yield true or false, got %s",
                  jv_kind_name(jv_get_kind(first)));
    jv_free(first);
    jv_free(second);
    return st;
}

wb_jq_status wb_jq_run_local(const char *expr, wb_jq_kind kind, const char *json, size_t len,
                             wb_buf *out, char *error, size_t error_size)
{
    wb_jq_prog *prog = wb_jq_prog_new(expr, error, error_size);
    if (!prog) return WB_JQ_FAILED;
    wb_jq_status st = wb_jq_prog_run(prog, kind, json, len, 0, out, error, error_size);
    wb_jq_prog_free(prog);
    return st;
}
