/* test_egress.c - egress guard: address table (v4, v6, mapped) and CIDR allowlists. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "http/egress.h"
#include "test.h"

/* Build a sockaddr from text ("1.2.3.4" or "::1"). */
static struct sockaddr_storage addr(const char *s)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(443);
    } else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(443);
    } else {
        FAIL_("bad test address %s", s);
    }
    return ss;
}

static int check(const wb_egress_policy *p, int allow_private, const char *a, char *why, size_t n)
{
    struct sockaddr_storage ss = addr(a);
    why[0] = '\0';
    return wb_egress_check(p, allow_private, (struct sockaddr *)&ss, why, n);
}

static const struct {
    const char *addr;
    int allowed;
    const char *why; /* substring of the reason when denied */
} TABLE[] = {
    {"93.184.216.34", 1, NULL},
    {"8.8.8.8", 1, NULL},
    {"1.1.1.1", 1, NULL},
    {"172.15.255.255", 1, NULL},
    {"172.32.0.1", 1, NULL},
    {"100.63.255.255", 1, NULL},
    {"100.128.0.1", 1, NULL},
    {"169.253.1.1", 1, NULL},
    {"192.169.0.1", 1, NULL},
    {"11.0.0.1", 1, NULL},
    {"127.0.0.1", 0, "127.0.0.1 is loopback"},
    {"127.255.255.254", 0, "loopback"},
    {"10.0.0.1", 0, "10.0.0.1 is private"},
    {"10.255.255.255", 0, "private"},
    {"172.16.0.1", 0, "private"},
    {"172.31.255.255", 0, "private"},
    {"192.168.1.1", 0, "private"},
    {"169.254.169.254", 0, "169.254.169.254 is link-local (cloud metadata)"},
    {"169.254.1.1", 0, "169.254.1.1 is link-local"},
    {"0.0.0.0", 0, "0.0.0.0 is unspecified"},
    {"0.1.2.3", 0, "unspecified"},
    {"100.64.0.1", 0, "CGNAT"},
    {"100.127.255.255", 0, "CGNAT"},
    {"224.0.0.1", 0, "multicast"},
    {"255.255.255.255", 0, "reserved"},
    /* IPv6 */
    {"2606:4700:4700::1111", 1, NULL},
    {"2001:db8::1", 1, NULL},
    {"64:ff9b::808:808", 1, NULL}, /* NAT64 of 8.8.8.8 */
    {"::1", 0, "::1 is loopback"},
    {"::", 0, ":: is unspecified"},
    {"fc00::1", 0, "unique local"},
    {"fd12:3456::1", 0, "unique local"},
    {"fd00:ec2::254", 0, "cloud metadata"},
    {"fe80::1", 0, "fe80::1 is link-local"},
    {"febf::1", 0, "link-local"},
    {"fec0::1", 0, "site-local"},
    {"ff02::1", 0, "multicast"},
    {"::127.0.0.1", 0, "IPv4-compatible"},
    /* IPv4-mapped and NAT64 forms of internal IPv4 */
    {"::ffff:127.0.0.1", 0, "::ffff:127.0.0.1 is loopback (IPv4-mapped)"},
    {"::ffff:169.254.169.254", 0, "link-local (cloud metadata) (IPv4-mapped)"},
    {"::ffff:10.1.2.3", 0, "private (IPv4-mapped)"},
    {"::ffff:0.0.0.0", 0, "unspecified"},
    {"64:ff9b::a9fe:a9fe", 0, "cloud metadata) (NAT64)"},
    {"::ffff:8.8.8.8", 1, NULL},
};

static void test_table(void)
{
    char why[128];
    for (size_t i = 0; i < sizeof(TABLE) / sizeof(TABLE[0]); i++) {
        int got = check(NULL, 0, TABLE[i].addr, why, sizeof(why));
        if (got != TABLE[i].allowed)
            FAIL_("%s: allowed=%d, want %d (why: %s)", TABLE[i].addr, got, TABLE[i].allowed, why);
        if (!got) ASSERT_CONTAINS(why, TABLE[i].why);
        /* allow_private unlocks every internal range */
        ASSERT_EQ(check(NULL, 1, TABLE[i].addr, why, sizeof(why)), 1);
    }
}

static void test_allowlist(void)
{
    char *cidrs[] = {"10.20.0.0/16", "127.0.0.1", "fd00:1::/32", "169.254.169.254/32"};
    char err[128] = "", why[128];
    wb_egress_policy *p = wb_egress_policy_new(cidrs, 4, err, sizeof(err));
    ASSERT(p != NULL);

    ASSERT_EQ(check(p, 0, "10.20.3.4", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "10.21.0.1", why, sizeof(why)), 0);
    ASSERT_CONTAINS(why, "10.21.0.1 is private");
    ASSERT_EQ(check(p, 0, "127.0.0.1", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "127.0.0.2", why, sizeof(why)), 0);
    ASSERT_EQ(check(p, 0, "::ffff:10.20.9.9", why, sizeof(why)), 1); /* v4 entry, mapped */
    ASSERT_EQ(check(p, 0, "fd00:1:ffff::5", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "fd00:2::5", why, sizeof(why)), 0);
    ASSERT_EQ(check(p, 0, "169.254.169.254", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "169.254.169.253", why, sizeof(why)), 0);
    ASSERT_EQ(check(p, 0, "8.8.8.8", why, sizeof(why)), 1); /* public stays allowed */
    wb_egress_policy_free(p);

    /* odd prefixes: /0, /12, /7, /127 */
    char *odd[] = {"172.16.0.0/12", "fc00::/7", "::/127"};
    p = wb_egress_policy_new(odd, 3, err, sizeof(err));
    ASSERT(p != NULL);
    ASSERT_EQ(check(p, 0, "172.31.1.1", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "172.32.1.1", why, sizeof(why)), 1); /* public anyway */
    ASSERT_EQ(check(p, 0, "fdff::1", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "::1", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "fe80::1", why, sizeof(why)), 0);
    wb_egress_policy_free(p);

    char *zero[] = {"0.0.0.0/0"};
    p = wb_egress_policy_new(zero, 1, err, sizeof(err));
    ASSERT(p != NULL);
    ASSERT_EQ(check(p, 0, "10.0.0.1", why, sizeof(why)), 1);
    ASSERT_EQ(check(p, 0, "::1", why, sizeof(why)), 0); /* v4 /0 says nothing about v6 */
    wb_egress_policy_free(p);

    /* empty policy */
    p = wb_egress_policy_new(NULL, 0, err, sizeof(err));
    ASSERT(p != NULL);
    ASSERT_EQ(check(p, 0, "10.0.0.1", why, sizeof(why)), 0);
    wb_egress_policy_free(p);
}

static void test_bad_cidrs(void)
{
    char err[128];
    const char *bad[][2] = {
        {"10.0.0.1/8", "host bits"},      {"10.0.0.0/33", "prefix length"},
        {"fd00::/129", "prefix length"},  {"banana", "not an IP"},
        {"10.0.0.0/", "bad prefix"},      {"10.0.0.0/-1", "bad prefix"},
        {"10.0.0.0/8x", "prefix length"}, {"", "not an IP"},
        {"fd00::1/64", "host bits"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *ok = "192.168.0.0/16";
        char *list[2] = {ok, (char *)bad[i][0]};
        err[0] = '\0';
        wb_egress_policy *p = wb_egress_policy_new(list, 2, err, sizeof(err));
        if (p) FAIL_("'%s' accepted", bad[i][0]);
        ASSERT_CONTAINS(err, "entry 2");
        ASSERT_CONTAINS(err, bad[i][1]);
    }
}

static void test_other_family(void)
{
    struct sockaddr_un un;
    char why[64];
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    ASSERT_EQ(wb_egress_check(NULL, 1, (struct sockaddr *)&un, why, sizeof(why)), 0);
    ASSERT_CONTAINS(why, "unsupported address family");
    ASSERT_EQ(wb_egress_check(NULL, 1, NULL, why, sizeof(why)), 0);
    /* why may be NULL */
    struct sockaddr_storage ss = addr("127.0.0.1");
    ASSERT_EQ(wb_egress_check(NULL, 0, (struct sockaddr *)&ss, NULL, 0), 0);
}

int main(void)
{
    RUN(test_table);
    RUN(test_allowlist);
    RUN(test_bad_cidrs);
    RUN(test_other_family);
    TEST_DONE();
}
