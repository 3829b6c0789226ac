/* test_log.c - one record is one line in both formats, whatever the message carries. */
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "test.h"

/* Run one WB_WARN with stderr on a pipe; the captured text into out. */
static void capture(wb_log_format fmt, const char *msg, const wb_log_fields *fields, char *out,
                    size_t n)
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
    wb_log_fields f = {.connector = "v\nw"};
    capture(WB_LOG_TEXT, "a\nFAKE error forged\r\tx\x1b[31m\\", &f, out, sizeof out);
    ASSERT_EQ(count_newlines(out), 1);
    ASSERT_CONTAINS(out, "value=a\\nFAKE error forged\\r\\tx\\x1b[31m\\\\");
    ASSERT_CONTAINS(out, " connector=v\\nw");
    ASSERT_CONTAINS(out, " warn  ");
}

static void test_json_escapes_control_characters(void)
{
    char out[4096];
    capture(WB_LOG_JSON, "a\nb\"c\x01", NULL, out, sizeof out);
    ASSERT_EQ(count_newlines(out), 1);
    ASSERT_CONTAINS(out, "\"msg\":\"value=a\\nb\\\"c\\u0001\"");
}

/* The fields are JSON members of their own (numbers as numbers), not text in the message. */
static void test_json_fields(void)
{
    char out[4096];
    wb_log_fields f = {.connector = "acme\"x",
                       .webhook_id = "msg_1",
                       .topic = "orders",
                       .partition = 0,
                       .offset = 42,
                       .status = 503,
                       .attempt = 2};
    capture(WB_LOG_JSON, "failed", &f, out, sizeof out);
    ASSERT_EQ(count_newlines(out), 1);
    ASSERT_CONTAINS(out, "\"connector\":\"acme\\\"x\"");
    ASSERT_CONTAINS(out, "\"webhook-id\":\"msg_1\"");
    ASSERT_CONTAINS(out, "\"topic\":\"orders\",\"partition\":0,\"offset\":42");
    ASSERT_CONTAINS(out, "\"status\":503,\"attempt\":2}");
    ASSERT_CONTAINS(out, "\"msg\":\"value=failed\"");
}

/* Unset fields are left out: no topic means no partition either (0 is a partition). */
static void test_unset_fields_left_out(void)
{
    char out[4096];
    wb_log_fields f = {.connector = "acme", .offset = -1};
    capture(WB_LOG_JSON, "x", &f, out, sizeof out);
    ASSERT_CONTAINS(out, "\"connector\":\"acme\"}");
    ASSERT(!strstr(out, "partition"));
    ASSERT(!strstr(out, "status"));
    f = (wb_log_fields){.topic = "t", .partition = 3, .offset = -1};
    capture(WB_LOG_TEXT, "x", &f, out, sizeof out);
    ASSERT_CONTAINS(out, " topic=t partition=3\n");
}

/* A message longer than the record keeps its fields and stays one line. */
static void test_long_message_keeps_fields(void)
{
    char big[3000], out[8192];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    wb_log_fields f = {.connector = "acme", .status = 429};
    capture(WB_LOG_JSON, big, &f, out, sizeof out);
    ASSERT_EQ(count_newlines(out), 1);
    ASSERT_CONTAINS(out, "\"connector\":\"acme\",\"status\":429}\n");
}

int main(void)
{
    RUN(test_json_fields);
    RUN(test_unset_fields_left_out);
    RUN(test_long_message_keeps_fields);
    RUN(test_text_escapes_control_characters);
    RUN(test_json_escapes_control_characters);
    TEST_DONE();
}
