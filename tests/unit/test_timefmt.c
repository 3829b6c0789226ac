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

/* Microseconds and bare dates (the Avro logical types), including the ends of 0001-9999. */
static void test_format_us_date(void)
{
    char b[WB_TIME_BUF];
    ASSERT_EQ(wb_time_format_us(0, b, sizeof(b)), 27);
    ASSERT_STR_EQ(b, "1970-01-01T00:00:00.000000Z");
    wb_time_format_us(1700000000123456LL, b, sizeof(b));
    ASSERT_STR_EQ(b, "2023-11-14T22:13:20.123456Z");
    wb_time_format_us(-1, b, sizeof(b));
    ASSERT_STR_EQ(b, "1969-12-31T23:59:59.999999Z");
    wb_time_format_us(253402300799999999LL, b, sizeof(b));
    ASSERT_STR_EQ(b, "9999-12-31T23:59:59.999999Z");
    wb_time_format_us(-62135596800000000LL, b, sizeof(b));
    ASSERT_STR_EQ(b, "0001-01-01T00:00:00.000000Z");
    ASSERT_EQ(wb_time_format_date(0, b, sizeof(b)), 10);
    ASSERT_STR_EQ(b, "1970-01-01");
    wb_time_format_date(-1, b, sizeof(b));
    ASSERT_STR_EQ(b, "1969-12-31");
    wb_time_format_date(-719162, b, sizeof(b));
    ASSERT_STR_EQ(b, "0001-01-01");
    wb_time_format_date(2932896, b, sizeof(b));
    ASSERT_STR_EQ(b, "9999-12-31");
    wb_time_format_ms(253402300799999LL, b, sizeof(b));
    ASSERT_STR_EQ(b, "9999-12-31T23:59:59.999Z");
    /* outside 0000-9999: printf's %04lld, as before (wider, or signed) */
    wb_time_format_ms(253402300800000LL, b, sizeof(b));
    ASSERT_STR_EQ(b, "10000-01-01T00:00:00.000Z");
    wb_time_format_ms(-62135596800001LL, b, sizeof(b));
    ASSERT_STR_EQ(b, "0000-12-31T23:59:59.999Z");
    wb_time_format_date(-719529, b, sizeof(b));
    ASSERT_STR_EQ(b, "-001-12-31");
    /* the extremes fit WB_TIME_BUF */
    ASSERT(wb_time_format_ms(INT64_MIN, b, sizeof(b)) < sizeof(b) - 1);
    ASSERT(wb_time_format_us(INT64_MAX, b, sizeof(b)) < sizeof(b) - 1);
    ASSERT(wb_time_format_date(INT64_MIN / 2, b, sizeof(b)) < sizeof(b) - 1);
    char small[5];
    ASSERT_EQ(wb_time_format_date(0, small, sizeof(small)), 4);
    ASSERT_STR_EQ(small, "1970");
    ASSERT_EQ(wb_time_format_us(0, small, 0), 0);
}

static void test_parse_strict(void)
{
    int64_t v;
    ASSERT_EQ(wb_time_parse_datetime_us("2023-11-14T22:13:20.123456Z", &v), WB_OK);
    ASSERT_EQ(v, 1700000000123456LL);
    ASSERT_EQ(wb_time_parse_datetime_us("2023-11-14 23:13:20.1234567+01:00", &v), WB_OK);
    ASSERT_EQ(v, 1700000000123456LL); /* the seventh digit is cut, not rounded */
    ASSERT_EQ(wb_time_parse_datetime_us("1969-12-31T23:59:59.999999z", &v), WB_OK);
    ASSERT_EQ(v, -1);
    ASSERT_EQ(wb_time_parse_datetime_us("2026-11-23T17:44:60Z", &v), WB_OK); /* leap second */
    ASSERT_EQ(v, 1795455900000000LL);
    ASSERT_EQ(wb_time_parse_datetime_us("0001-01-01T00:00:00Z", &v), WB_OK);
    ASSERT_EQ(v, -62135596800000000LL);
    ASSERT_EQ(wb_time_parse_date("2026-11-23", &v), WB_OK);
    ASSERT_EQ(v, 20780);
    ASSERT_EQ(wb_time_parse_date("1969-12-31", &v), WB_OK);
    ASSERT_EQ(v, -1);
    ASSERT_EQ(wb_time_parse_date("2024-02-29", &v), WB_OK);
    const char *bad_dt[] = {"",
                            "2026-11-23",           /* a bare date is not a date-time */
                            "-2h",                  /* nor a relative form */
                            "2026-02-30T00:00:00Z", /* no such day */
                            "2026-04-31T00:00:00Z",
                            "2026-11-23T17:44:06",
                            "2026-11-23T17:44:06+01",
                            "2026-11-23T17:44:06+24:00",
                            "2026-11-23T17:44:06.Z",
                            "2026-11-23T17:44:06Z ",
                            "2026-1",
                            NULL};
    for (int i = 0; bad_dt[i]; i++)
        if (wb_time_parse_datetime_us(bad_dt[i], &v) != WB_ERR_INVALID)
            FAIL_("accepted date-time '%s'", bad_dt[i]);
    const char *bad_date[] = {"",           "2026-11-23T00:00:00Z", "2026-11-2",  "2026-11-233",
                              "2025-02-29", "2026-00-10",           "-026-11-23", NULL};
    for (int i = 0; bad_date[i]; i++)
        if (wb_time_parse_date(bad_date[i], &v) != WB_ERR_INVALID)
            FAIL_("accepted date '%s'", bad_date[i]);
    ASSERT_EQ(wb_time_parse_datetime_us(NULL, &v), WB_ERR_INVALID);
    ASSERT_EQ(wb_time_parse_date(NULL, &v), WB_ERR_INVALID);
}

/* Whatever the formatters write inside 0001-9999, the strict parsers read back. */
static void test_roundtrip_us_date(void)
{
    int64_t v;
    char b[WB_TIME_BUF];
    for (int64_t t = -62135596800000000LL; t < 253402300799999999LL;
         t += 86400000000LL * 4099 + 1234567) {
        wb_time_format_us(t, b, sizeof(b));
        ASSERT_EQ(wb_time_parse_datetime_us(b, &v), WB_OK);
        ASSERT_EQ(v, t);
    }
    for (int64_t d = -719162; d <= 2932896; d += 97) {
        wb_time_format_date(d, b, sizeof(b));
        ASSERT_EQ(wb_time_parse_date(b, &v), WB_OK);
        ASSERT_EQ(v, d);
    }
}

int main(void)
{
    RUN(test_format);
    RUN(test_parse);
    RUN(test_refuse);
    RUN(test_format_us_date);
    RUN(test_parse_strict);
    RUN(test_roundtrip_us_date);
    TEST_DONE();
}
