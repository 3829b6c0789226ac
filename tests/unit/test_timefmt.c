/* test_timefmt.c - RFC 3339 formatting and parsing, round trips and refusals. */
#include "core/timefmt.h"
#include "test.h"

static void test_format(void)
{
    char b[WB_TIME_BUF];
    wb_time_format_ms(0, b, sizeof(b));
    ASSERT_STR_EQ(b, "1970-01-01T00:00:00.000Z");
    wb_time_format_ms(1764611046123LL, b, sizeof(b));
    ASSERT_STR_EQ(b, "2025-12-01T17:44:06.123Z");
    wb_time_format_ms(951782400000LL, b, sizeof(b)); /* leap day */
    ASSERT_STR_EQ(b, "2000-02-29T00:00:00.000Z");
    wb_time_format_ms(-1, b, sizeof(b));
    ASSERT_STR_EQ(b, "1969-12-31T23:59:59.999Z");
    char small[8];
    ASSERT_EQ(wb_time_format_ms(0, small, sizeof(small)), 7);
    ASSERT_STR_EQ(small, "1970-01");
}

static void test_parse(void)
{
    int64_t v;
    ASSERT_EQ(wb_time_parse_ms("2025-12-01T17:44:06.123Z", 0, &v), WB_OK);
    ASSERT_EQ(v, 1764611046123LL);
    ASSERT_EQ(wb_time_parse_ms("2025-12-01T18:44:06.123+01:00", 0, &v), WB_OK);
    ASSERT_EQ(v, 1764611046123LL);
    ASSERT_EQ(wb_time_parse_ms("2025-12-01t17:44:06z", 0, &v), WB_OK);
    ASSERT_EQ(v, 1764611046000LL);
    ASSERT_EQ(wb_time_parse_ms("2025-12-01", 0, &v), WB_OK);
    ASSERT_EQ(v, 1764547200000LL);
    ASSERT_EQ(wb_time_parse_ms("2025-12-01T17:44:06.5Z", 0, &v), WB_OK);
    ASSERT_EQ(v, 1764611046500LL);
    ASSERT_EQ(wb_time_parse_ms("-2h", 10000000, &v), WB_OK);
    ASSERT_EQ(v, 10000000 - 7200000);
    /* round trip over a range */
    for (int64_t t = -86400000LL * 800; t < 86400000LL * 40000; t += 86400000LL * 37 + 12345) {
        char b[WB_TIME_BUF];
        wb_time_format_ms(t, b, sizeof(b));
        ASSERT_EQ(wb_time_parse_ms(b, 0, &v), WB_OK);
        ASSERT_EQ(v, t);
    }
}

static void test_refuse(void)
{
    int64_t v;
    const char *bad[] = {"",
                         "yesterday",
                         "2025-13-01T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2025-12-01T24:00:00Z",
                         "2025-12-01T17:44:06",
                         "2025-12-01T17:44:06Zjunk",
                         "2025-12-01T17:44:06.Z",
                         "2025-12-01T17:44:06+0100",
                         "25-12-01",
                         "-",
                         "-2 parsecs",
                         NULL};
    for (int i = 0; bad[i]; i++)
        if (wb_time_parse_ms(bad[i], 0, &v) != WB_ERR_INVALID) FAIL_("accepted '%s'", bad[i]);
    ASSERT_EQ(wb_time_parse_ms(NULL, 0, &v), WB_ERR_INVALID);
}

int main(void)
{
    RUN(test_format);
    RUN(test_parse);
    RUN(test_refuse);
    TEST_DONE();
}
