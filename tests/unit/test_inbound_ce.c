/* test_inbound_ce.c - the CloudEvents attributes the inbound listener makes up
 * (inbound/inbound_ce.c) and the header-value rule every id passes (core/header_value.c):
 * random UUIDs of version 4 that do not repeat, fresh traceparents the event model accepts,
 * ce_time in RFC 3339 with milliseconds near now, a body value's text for each JSON kind, and
 * values that could split a header refused with a phrase that says why. */
#include <ctype.h>

#include "core/header_value.h"
#include "core/jscan.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "inbound/inbound_ce.h"
#include "kafka/event.h"
#include "test.h"

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
    return 1;
}

static void test_uuid_shape_and_uniqueness(void)
{
    char seen[64][37];
    for (int i = 0; i < 64; i++) {
        char *u = seen[i];
        wb_inbound_ce_uuid(u);
        ASSERT_EQ(strlen(u), 36);
        ASSERT(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
        ASSERT(is_hex(u, 8) && is_hex(u + 9, 4) && is_hex(u + 14, 4) && is_hex(u + 19, 4) &&
               is_hex(u + 24, 12));
        ASSERT(u[14] == '4');                  /* version 4: random */
        ASSERT(strchr("89ab", u[19]) != NULL); /* RFC 4122 variant */
        for (int j = 0; j < i; j++)
            ASSERT(strcmp(seen[j], u) != 0);
    }
}

static void test_traceparent_new_is_valid(void)
{
    char a[56], b[56];
    wb_inbound_ce_traceparent_new(a);
    wb_inbound_ce_traceparent_new(b);
    ASSERT_EQ(strlen(a), 55);
    ASSERT(wb_traceparent_valid(a));
    ASSERT(!strncmp(a, "00-", 3));
    ASSERT(!strcmp(a + 52, "-00")); /* not sampled: we did not decide to trace it */
    ASSERT(strcmp(a, b) != 0);
    /* neither the trace id nor the parent id is all zeros (invalid per W3C) */
    ASSERT(strncmp(a + 3, "00000000000000000000000000000000", 32) != 0);
    ASSERT(strncmp(a + 36, "0000000000000000", 16) != 0);
}

static void test_time_is_now_in_rfc3339_ms(void)
{
    char t[48];
    int64_t before = wb_wall_ms();
    wb_inbound_ce_time(t);
    int64_t after = wb_wall_ms();
    ASSERT_EQ(strlen(t), 24); /* 2026-11-23T18:00:00.000Z */
    ASSERT(t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
    int64_t ms = 0;
    ASSERT_EQ(wb_time_parse_ms(t, 0, &ms), WB_OK);
    ASSERT(ms >= before - 1 && ms <= after + 1);
}

static char *text_at(const char *json, const char *pointer)
{
    wb_jscan_target t = {.pointer = pointer};
    char err[64];
    int line = 0;
    ASSERT_EQ(wb_jscan(json, strlen(json), &t, 1, err, sizeof err, &line), 0);
    return wb_inbound_ce_pointer_text(&t, json, strlen(json));
}

static void test_pointer_text_per_kind(void)
{
    const char *doc = "{\"id\":\"evt_1\",\"n\":42,\"f\":1.5,\"o\":{\"b\":[1,true]},\"z\":null,"
                      "\"long\":\"";
    /* a string longer than the scanner's 160-byte buffer takes jansson's path, whole */
    char json[1024];
    char longv[401];
    memset(longv, 'x', 400);
    longv[400] = 0;
    snprintf(json, sizeof json, "%s%s\"}", doc, longv);
    char *s = text_at(json, "/id");
    ASSERT_STR_EQ(s, "evt_1");
    free(s);
    s = text_at(json, "/n");
    ASSERT_STR_EQ(s, "42");
    free(s);
    s = text_at(json, "/f");
    ASSERT_STR_EQ(s, "1.5");
    free(s);
    s = text_at(json, "/o");
    ASSERT_STR_EQ(s, "{\"b\":[1,true]}");
    free(s);
    s = text_at(json, "/long");
    ASSERT_STR_EQ(s, longv);
    free(s);
    ASSERT(text_at(json, "/z") == NULL);
    ASSERT(text_at(json, "/absent") == NULL);
}

static void test_header_value_rule(void)
{
    ASSERT(wb_header_value_problem("evt_1", 5, WB_HEADER_ID_MAX) == NULL);
    ASSERT(wb_header_value_problem("", 0, WB_HEADER_ID_MAX) == NULL);
    ASSERT(wb_header_value_problem("caf\xc3\xa9 ok", 8, WB_HEADER_ID_MAX) == NULL);
    const char *bad[] = {"a\r\nX-Evil: 1", "a\nb", "a\tb", "a\x1b[0m", "a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = wb_header_value_problem(bad[i], strlen(bad[i]), WB_HEADER_ID_MAX);
        ASSERT(why != NULL);
        ASSERT_CONTAINS(why, "control character");
    }
    ASSERT(wb_header_value_problem("a\0b", 3, WB_HEADER_ID_MAX) != NULL); /* NUL inside */
    char big[300];
    memset(big, 'a', sizeof big);
    ASSERT(wb_header_value_problem(big, WB_HEADER_ID_MAX, WB_HEADER_ID_MAX) == NULL);
    const char *why = wb_header_value_problem(big, WB_HEADER_ID_MAX + 1, WB_HEADER_ID_MAX);
    ASSERT(why != NULL);
    ASSERT_CONTAINS(why, "255");
}

int main(void)
{
    RUN(test_uuid_shape_and_uniqueness);
    RUN(test_traceparent_new_is_valid);
    RUN(test_time_is_now_in_rfc3339_ms);
    RUN(test_pointer_text_per_kind);
    RUN(test_header_value_rule);
    TEST_DONE();
}
