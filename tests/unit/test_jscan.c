/* test_jscan.c - the one-pass JSON validator and its pointer lookups. */
#include "core/jscan.h"
#include "test.h"

static int ok(const char *s)
{
    char err[96];
    int line;
    return wb_jscan(s, strlen(s), NULL, 0, err, sizeof(err), &line) == 0;
}

static void test_valid_and_invalid(void)
{
    ASSERT(ok("{}"));
    ASSERT(ok(" [1, -0.5e+10, true, false, null, \"x\"] "));
    ASSERT(ok("\"top level string\""));
    ASSERT(ok("123456789012345678901234567890")); /* forwarded as text: any size */
    ASSERT(ok("{\"a\":\"\\ud83d\\ude00 \\u00e9 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}"));
    ASSERT(ok("{\"nul\":\"a\\u0000b\"}"));
    ASSERT(ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""));
    ASSERT(!ok(""));
    ASSERT(!ok("{"));
    ASSERT(!ok("{\"a\":1,}"));
    ASSERT(!ok("[1,]"));
    ASSERT(!ok("{\"a\" 1}"));
    ASSERT(!ok("{\"a\":01}"));
    ASSERT(!ok("{\"a\":1.}"));
    ASSERT(!ok("{\"a\":.5}"));
    ASSERT(!ok("{\"a\":1e}"));
    ASSERT(!ok("{\"a\":tru}"));
    ASSERT(!ok("{\"a\":\"\\ud800\"}"));   /* lone high surrogate */
    ASSERT(!ok("{\"a\":\"\\udc00\"}"));   /* lone low surrogate */
    ASSERT(!ok("{\"a\":\"\\x\"}"));       /* bad escape */
    ASSERT(!ok("{\"a\":\"tab\there\"}")); /* raw control character */
    ASSERT(!ok("\"\xc3\x28\""));          /* bad UTF-8 */
    ASSERT(!ok("\"\xed\xa0\x80\""));      /* UTF-8 encoded surrogate */
    ASSERT(!ok("\"\xc0\xaf\""));          /* overlong */
    ASSERT(!ok("{} {}"));
    char err[96];
    int line;
    ASSERT_EQ(wb_jscan("1\0", 2, NULL, 0, err, sizeof(err), &line), -1); /* NUL is not JSON */
    char deep[2 * WB_JSCAN_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < WB_JSCAN_MAX_DEPTH + 2; i++)
        deep[n++] = '[';
    deep[n] = 0;
    ASSERT_EQ(wb_jscan(deep, n, NULL, 0, err, sizeof(err), &line), -1);
    ASSERT_CONTAINS(err, "nested too deeply");
}

static void test_error_line(void)
{
    const char *s = "{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}";
    char err[96];
    int line = 0;
    ASSERT_EQ(wb_jscan(s, strlen(s), NULL, 0, err, sizeof(err), &line), -1);
    ASSERT_EQ(line, 3);
}

static void test_pointers(void)
{
    const char *s = "{\"id\":\"evt_1\",\"type\":\"order.paid\",\"n\":42,\"f\":1.5,"
                    "\"data\":{\"object\":{\"id\":\"ch_\\u00e9\"},\"a/b\":[10,{\"x~\":\"deep\"}]},"
                    "\"id2\":\"first\",\"id2\":\"last\",\"obj\":{\"k\":1}}";
    wb_jscan_target t[8] = {
        {.pointer = "/id"},  {.pointer = "/type"},           {.pointer = "/n"},
        {.pointer = "/f"},   {.pointer = "/data/object/id"}, {.pointer = "/data/a~1b/1/x~0"},
        {.pointer = "/id2"}, {.pointer = "/missing"}};
    char err[96];
    int line;
    ASSERT_EQ(wb_jscan(s, strlen(s), t, 8, err, sizeof(err), &line), 0);
    ASSERT_EQ(t[0].kind, WB_JSCAN_STRING);
    ASSERT_STR_EQ(t[0].value, "evt_1");
    ASSERT_STR_EQ(t[1].value, "order.paid");
    ASSERT_EQ(t[2].kind, WB_JSCAN_INTEGER);
    ASSERT_STR_EQ(t[2].value, "42");
    ASSERT_EQ(t[3].kind, WB_JSCAN_OTHER);
    ASSERT_STR_EQ(t[4].value, "ch_\xc3\xa9");
    ASSERT_STR_EQ(t[5].value, "deep");
    ASSERT_STR_EQ(t[6].value, "last"); /* last member wins, as in jansson */
    ASSERT_EQ(t[7].kind, WB_JSCAN_NONE);

    /* a repeated name whose later value lacks the path clears the earlier match */
    const char *d = "{\"a\":[1,2],\"a\":{\"x\":1}}";
    wb_jscan_target u = {.pointer = "/a/0"};
    ASSERT_EQ(wb_jscan(d, strlen(d), &u, 1, err, sizeof(err), &line), 0);
    ASSERT_EQ(u.kind, WB_JSCAN_NONE);

    /* invalid text: nothing is reported as found */
    const char *bad = "{\"id\":\"x\",";
    wb_jscan_target v = {.pointer = "/id"};
    ASSERT_EQ(wb_jscan(bad, strlen(bad), &v, 1, err, sizeof(err), &line), -1);
    ASSERT_EQ(v.kind, WB_JSCAN_NONE);
}

int main(void)
{
    RUN(test_valid_and_invalid);
    RUN(test_error_line);
    RUN(test_pointers);
    TEST_DONE();
}
