/* test_util.c - unit tests for util.c and buf.c. */
#include "core/buf.h"
#include "test.h"
#include "core/util.h"

static void test_durations(void)
{
    int64_t ms;
    ASSERT_EQ(wb_parse_duration_ms("30s", &ms), WB_OK);
    ASSERT_EQ(ms, 30000);
    ASSERT_EQ(wb_parse_duration_ms("250ms", &ms), WB_OK);
    ASSERT_EQ(ms, 250);
    ASSERT_EQ(wb_parse_duration_ms("5m", &ms), WB_OK);
    ASSERT_EQ(ms, 300000);
    ASSERT_EQ(wb_parse_duration_ms("1.5s", &ms), WB_OK);
    ASSERT_EQ(ms, 1500);
    ASSERT_EQ(wb_parse_duration_ms("2h", &ms), WB_OK);
    ASSERT_EQ(ms, 7200000);
    ASSERT_EQ(wb_parse_duration_ms("10", &ms), WB_OK);
    ASSERT_EQ(ms, 10000);
    ASSERT_EQ(wb_parse_duration_ms("5 parsecs", &ms), WB_ERR_INVALID);
    ASSERT_EQ(wb_parse_duration_ms("-1s", &ms), WB_ERR_INVALID);
    ASSERT_EQ(wb_parse_duration_ms("", &ms), WB_ERR_INVALID);
}

static void test_sizes_rates(void)
{
    size_t n;
    double r;
    ASSERT_EQ(wb_parse_size("1MiB", &n), WB_OK);
    ASSERT_EQ(n, 1048576);
    ASSERT_EQ(wb_parse_size("512KiB", &n), WB_OK);
    ASSERT_EQ(n, 524288);
    ASSERT_EQ(wb_parse_size("4096", &n), WB_OK);
    ASSERT_EQ(n, 4096);
    ASSERT_EQ(wb_parse_size("1 XB", &n), WB_ERR_INVALID);
    ASSERT_EQ(wb_parse_rate("200/s", &r), WB_OK);
    ASSERT(r == 200.0);
    ASSERT_EQ(wb_parse_rate("60/m", &r), WB_OK);
    ASSERT(r == 1.0);
    ASSERT_EQ(wb_parse_rate("0/s", &r), WB_ERR_INVALID);
    ASSERT_EQ(wb_parse_rate("5/fortnight", &r), WB_ERR_INVALID);
}

static void test_glob_pointer(void)
{
    ASSERT(wb_glob_match("order.*", "order.paid"));
    ASSERT(!wb_glob_match("order.*", "inventory.low"));
    ASSERT(wb_glob_match("*", "anything"));
    json_t *doc =
        json_loads("{\"data\":{\"object\":{\"id\":\"ch_1\"},\"a/b\":[1,{\"x~\":2}]}}", 0, NULL);
    ASSERT(doc);
    ASSERT_STR_EQ(json_string_value(wb_json_pointer(doc, "/data/object/id")), "ch_1");
    ASSERT_EQ(json_integer_value(wb_json_pointer(doc, "/data/a~1b/1/x~0")), 2);
    ASSERT(wb_json_pointer(doc, "/data/missing") == NULL);
    ASSERT(wb_json_pointer(doc, "/data/a~1b/01") == NULL);
    ASSERT(wb_json_pointer(doc, "") == doc);
    json_decref(doc);
}

static void test_codecs(void)
{
    char out[64];
    unsigned char raw[64];
    ASSERT_EQ(wb_base64_encode((const unsigned char *)"hello", 5, out), 8);
    ASSERT_STR_EQ(out, "aGVsbG8=");
    ASSERT_EQ(wb_base64_decode("aGVsbG8=", 8, raw), 5);
    ASSERT(!memcmp(raw, "hello", 5));
    ASSERT_EQ(wb_base64_decode("aGVsbG8", 7, raw), 5);
    ASSERT_EQ(wb_base64_decode("a$==", 4, raw), -1);
    /* every remainder, padded or not, round-trips; blanks and inner padding are refused */
    const unsigned char src[] = {0xfb, 0xff, 0x00, 0x10, 0x83, 0xff, 0x7e};
    for (size_t n = 0; n <= sizeof(src); n++) {
        size_t len = wb_base64_encode(src, n, out);
        ASSERT_EQ(len, 4 * ((n + 2) / 3));
        ASSERT_EQ(wb_base64_decode(out, len, raw), (long)n);
        ASSERT(!memcmp(raw, src, n));
        while (len > 0 && out[len - 1] == '=')
            len--;
        ASSERT_EQ(wb_base64_decode(out, len, raw), (long)n);
        ASSERT(!memcmp(raw, src, n));
    }
    ASSERT_EQ(wb_base64_decode(" aGVsbG8=", 9, raw), -1);
    ASSERT_EQ(wb_base64_decode("aGVsbG8=\n", 9, raw), -1);
    ASSERT_EQ(wb_base64_decode("aG=sbG8=", 8, raw), -1);
    ASSERT_EQ(wb_base64_decode("aGVsb", 5, raw), -1);
    wb_hex_encode((const unsigned char *)"\x01\xab", 2, out);
    ASSERT_STR_EQ(out, "01ab");
    ASSERT_EQ(wb_hex_decode("01AB", 4, raw), 2);
    ASSERT_EQ(raw[1], 0xab);
    ASSERT_EQ(wb_hex_decode("0g", 2, raw), -1);
    ASSERT(wb_ct_equal("abc", "abc", 3));
    ASSERT(!wb_ct_equal("abc", "abd", 3));
}

static void test_buf(void)
{
    wb_buf b;
    wb_buf_init(&b, 16);
    ASSERT_EQ(wb_buf_adds(&b, "0123456789"), WB_OK);
    ASSERT_EQ(wb_buf_printf(&b, "%d", 12345), WB_OK);
    ASSERT_STR_EQ(b.data, "012345678912345");
    ASSERT_EQ(wb_buf_adds(&b, "xx"), WB_ERR_TOO_LARGE);
    ASSERT_EQ(b.len, 15);
    wb_buf_free(&b);
}

int main(void)
{
    RUN(test_durations);
    RUN(test_sizes_rates);
    RUN(test_glob_pointer);
    RUN(test_codecs);
    RUN(test_buf);
    TEST_DONE();
}
