/* config_check.c - format checks of one string value, by the V_* a settings table names.
 *
 * Most checks are a predicate and one message: they live in one table (checks[] below),
 * the message written whole with "{}" where the value goes. The consumer group id (two
 * messages) and the start position (parsed and stored) have their own functions. */
#include "config/config_check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "config/config_yaml.h"
#include "core/timefmt.h"
#include "core/util.h"

/* ------------------------------------------------------------------------------------------ */
/* Predicates                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* Kafka's topic rule: 1..249 of [A-Za-z0-9._-], not "." or "..". */
static int valid_topic(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 249 || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i])) return 0;
    return 1;
}

/* A connector name: it goes into metric labels and the default consumer group id. */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && !strchr("._-", s[i]))
            return 0;
    return 1;
}

/* See config_check.h. */
int wb_config_valid_token(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s)) return 0;
    return 1;
}

static int valid_pointer(const char *s)
{
    return s[0] == '/';
}

/* Where an inbound event's type is: a JSON pointer into the body, or a header. */
static int valid_event_type(const char *s)
{
    return s[0] == '/' || wb_config_valid_token(s);
}

/* "host:port", "[v6]:port" or ":port"; port 0..65535 (0: an ephemeral port, logged at start). */
static int valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    long port;
    if (!colon || wb_parse_int(colon + 1, 0, 65535, &port) != WB_OK) return 0;
    for (const char *p = s; p < colon; p++)
        if ((unsigned char)*p <= ' ' || *p == '/') return 0;
    return 1;
}

/* See config_check.h. */
int wb_config_reserved_header(const char *name)
{
    static const char *const reserved[] = {
        "host",         "content-length", "transfer-encoding", "connection",
        "content-type", "webhook-id",     "webhook-timestamp", "webhook-signature"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (!strcasecmp(name, reserved[i])) return 1;
    return 0;
}

/* http:// or https://, a host, no blank or control character. */
static int valid_url(const char *s)
{
    const char *h;
    if (!strncasecmp(s, "https://", 8))
        h = s + 8;
    else if (!strncasecmp(s, "http://", 7))
        h = s + 7;
    else
        return 0;
    if (!*h || *h == '/' || *h == '?' || *h == '#') return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ') return 0;
    return 1;
}

/* An IPv4 or IPv6 address with an optional /bits within its family's width. */
static int valid_cidr(const char *s)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(addr)) return 0;
    memcpy(addr, s, n);
    addr[n] = 0;
    unsigned char bin[16];
    long max;
    if (inet_pton(AF_INET, addr, bin) == 1)
        max = 32;
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        max = 128;
    else
        return 0;
    long bits;
    return !slash || wb_parse_int(slash + 1, 0, max, &bits) == WB_OK;
}

/* "name@version", version 1..1000000. */
static int valid_schema_ref(const char *s)
{
    const char *at = strrchr(s, '@');
    long v;
    return at && at != s && wb_parse_int(at + 1, 1, 1000000, &v) == WB_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The checks                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* Index: V_*. msg is reported when ok() fails, the value in place of "{}". */
static const struct {
    int (*ok)(const char *s);
    const char *msg;
} checks[V_COUNT] = {
    [V_TOPIC] = {valid_topic, "invalid topic name '{}' (letters, digits, '.', '_', '-')"},
    [V_POINTER] = {valid_pointer, "expected a JSON pointer starting with '/', got '{}'"},
    [V_EVENT_TYPE] = {valid_event_type,
                      "expected a JSON pointer ('/type') or a header name, got '{}'"},
    [V_NAME] = {valid_name, "invalid name '{}' (lowercase letters, digits, '.', '_', '-'; "
                            "starting with a letter or digit)"},
    /* The URL may carry credentials after interpolation: not echoed. */
    [V_URL] = {valid_url, "expected an http:// or https:// URL with a host"},
    [V_CIDR] = {valid_cidr, "invalid CIDR '{}' (e.g. 10.0.0.0/8 or fd00::/8)"},
    [V_SCHEMA_REF] = {valid_schema_ref, "expected 'name@version' (e.g. order.paid@1), got '{}'"},
    [V_LISTEN] = {valid_listen, "expected host:port (e.g. 0.0.0.0:8080), got '{}'"},
    [V_TOKEN] = {wb_config_valid_token, "invalid header name '{}'"},
};

/* A consumer group id: 1..249 characters, no control character. */
static int check_group(wb_config_ctx *c, int line, const char *key, const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            wb_config_report(c, line, key, "control character in consumer group id");
            return -1;
        }
    if (!*s || strlen(s) > 249) {
        wb_config_report(c, line, key, "expected a consumer group id of 1 to 249 characters");
        return -1;
    }
    return 0;
}

/* start: latest, earliest or an RFC 3339 time; the parsed form goes to the connector. */
static int check_start(wb_config_ctx *c, int line, const char *key, const char *s)
{
    int64_t ms = 0;
    int mode;
    if (!strcmp(s, "latest"))
        mode = WB_START_LATEST;
    else if (!strcmp(s, "earliest"))
        mode = WB_START_EARLIEST;
    else if (s[0] != '-' && wb_time_parse_ms(s, 0, &ms) == WB_OK)
        mode = WB_START_TIME;
    else {
        wb_config_report(c, line, key,
                         "expected latest, earliest or an RFC 3339 time (2026-12-01T00:00:00Z), "
                         "got '%s'",
                         s);
        return -1;
    }
    if (c->cc) {
        c->cc->start_mode = mode;
        c->cc->start_ms = ms;
    }
    return 0;
}

/* See config_check.h. */
int wb_config_check_value(wb_config_ctx *c, int line, const char *key, int check, const char *s)
{
    if (check == V_GROUP) return check_group(c, line, key, s);
    if (check == V_START) return check_start(c, line, key, s);
    if (check <= V_NONE || check >= V_COUNT || !checks[check].ok || checks[check].ok(s)) return 0;
    const char *msg = checks[check].msg, *hole = strstr(msg, "{}");
    if (hole)
        wb_config_report(c, line, key, "%.*s%s%s", (int)(hole - msg), msg, s, hole + 2);
    else
        wb_config_report(c, line, key, "%s", msg);
    return -1;
}
