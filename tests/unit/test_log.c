/* test_log.c - one record is one line in both formats, whatever the message carries. */
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "test.h"

/* Run one WB_WARN with stderr on a pipe; the captured text into out. */
static void capture(wb_log_format fmt, const char *msg, const char *fields, char *out, size_t n)
{
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    int saved = dup(2);
    dup2(p[1], 2);
    wb_log_setup(WB_LOG_INFO, fmt);
    WB_LOGF(WB_LOG_WARN, fields, "value=%s", msg);
    dup2(saved, 2);
    close(saved);
    close(p[1]);
    ssize_t got = read(p[0], out, n - 1);
    close(p[0]);
    ASSERT(got > 0);
    out[got] = 0;
}

static int count_newlines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Regression (issue 9.15): the text format wrote "\n" raw, so a partner's value could forge
 * a second log record. */
static void test_text_escapes_control_characters(void)
{
    char out[4096];
    capture(WB_LOG_TEXT, "a\nFAKE error forged\r\tx\x1b[31m\\", "\"k\":\"v\nw\"", out, sizeof out);
    ASSERT_EQ(count_newlines(out), 1);
    ASSERT_CONTAINS(out, "value=a\\nFAKE error forged\\r\\tx\\x1b[31m\\\\");
    ASSERT_CONTAINS(out, "{\"k\":\"v\\nw\"}");
    ASSERT_CONTAINS(out, " warn  ");
}

static void test_json_escapes_control_characters(void)
{
    char out[4096];
    capture(WB_LOG_JSON, "a\nb\"c\x01", NULL, out, sizeof out);
    ASSERT_EQ(count_newlines(out), 1);
    ASSERT_CONTAINS(out, "\"msg\":\"value=a\\nb\\\"c\\u0001\"");
}

int main(void)
{
    RUN(test_text_escapes_control_characters);
    RUN(test_json_escapes_control_characters);
    TEST_DONE();
}
