/* egress.c - egress guard: refuse internal destinations for outbound webhooks.
 *
 * See egress.h for the list of ranges. The check runs on resolved addresses at connect time
 * (the HTTP client's open-socket callback), so it is cheap: no allocation, a few compares. */
#include "http/egress.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network address, 4 or 16 bytes used */
    unsigned prefix;        /* prefix length in bits */
} cidr;

struct wb_egress_policy {
    size_t n;
    cidr *cidrs;
};

/* ------------------------------------------------------------------------------------------
 * CIDR helpers */

/* 1 when the first `prefix` bits of a and b are equal. */
static int prefix_match(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (full && memcmp(a, b, full)) return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xffu << (8 - rest));
        if ((a[full] & mask) != (b[full] & mask)) return 0;
    }
    return 1;
}

/* 1 when any bit after `prefix` is set in addr (len bytes). */
static int host_bits_set(const unsigned char *addr, size_t len, unsigned prefix)
{
    for (size_t i = 0; i < len; i++) {
        unsigned bit0 = (unsigned)i * 8;
        unsigned char mask;
        if (bit0 + 8 <= prefix) continue;
        mask = bit0 >= prefix ? 0xff : (unsigned char)(0xffu >> (prefix - bit0));
        if (addr[i] & mask) return 1;
    }
    return 0;
}

static wb_err parse_cidr(const char *s, cidr *out, char *err, size_t err_size)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
    unsigned maxbits;

    if (hlen == 0 || hlen >= sizeof(host)) {
        snprintf(err, err_size, "not an IP address");
        return WB_ERR_CONFIG;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        maxbits = 128;
    } else {
        snprintf(err, err_size, "not an IP address");
        return WB_ERR_CONFIG;
    }
    out->prefix = maxbits;
    if (slash) {
        char *end = NULL;
        long v;
        if (!slash[1] || slash[1] < '0' || slash[1] > '9') {
            snprintf(err, err_size, "bad prefix length");
            return WB_ERR_CONFIG;
        }
        v = strtol(slash + 1, &end, 10);
        if (*end || v < 0 || v > (long)maxbits) {
            snprintf(err, err_size, "prefix length must be 0..%u", maxbits);
            return WB_ERR_CONFIG;
        }
        out->prefix = (unsigned)v;
    }
    if (host_bits_set(out->addr, maxbits / 8, out->prefix)) {
        snprintf(err, err_size, "host bits set (did you mean a narrower prefix?)");
        return WB_ERR_CONFIG;
    }
    return WB_OK;
}

wb_egress_policy *wb_egress_policy_new(char **cidrs, size_t n, char *errstr, size_t errstr_size)
{
    wb_egress_policy *p = calloc(1, sizeof(*p));
    wb_egress_policy *ret = NULL;
    char why[96];

    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (n) {
        if (!cidrs) {
            snprintf(errstr, errstr_size, "egress allowlist: NULL list");
            goto out;
        }
        p->cidrs = calloc(n, sizeof(*p->cidrs));
        if (!p->cidrs) {
            snprintf(errstr, errstr_size, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = cidrs[i] ? cidrs[i] : "";
        if (parse_cidr(s, &p->cidrs[i], why, sizeof(why)) != WB_OK) {
            snprintf(errstr, errstr_size, "egress allowlist entry %zu '%.64s': %s", i + 1, s, why);
            goto out;
        }
    }
    p->n = n;
    ret = p;
    p = NULL;
out:
    wb_egress_policy_free(p);
    return ret;
}

void wb_egress_policy_free(wb_egress_policy *p)
{
    if (!p) return;
    free(p->cidrs);
    free(p);
}

/* ------------------------------------------------------------------------------------------
 * Classification */

/* Category of a non-public IPv4 address (network byte order bytes), NULL when public. */
static const char *v4_category(const unsigned char *a)
{
    if (a[0] == 0) return "unspecified";
    if (a[0] == 127) return "loopback";
    if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168))
        return "private";
    if (a[0] == 100 && (a[1] & 0xc0) == 64) return "shared address space (CGNAT)";
    if (a[0] == 169 && a[1] == 254)
        return (a[2] == 169 && a[3] == 254) ? "link-local (cloud metadata)" : "link-local";
    if ((a[0] & 0xf0) == 224) return "multicast";
    if ((a[0] & 0xf0) == 240) return "reserved";
    return NULL;
}

static const unsigned char V4MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const unsigned char NAT64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
static const unsigned char ZERO12[12] = {0};
/* fd00:ec2::254, the AWS instance metadata service over IPv6. */
static const unsigned char AWS_IMDS6[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0,    0,
                                            0,    0, 0,    0,    0, 0, 0x02, 0x54};

/* Category of a non-public IPv6 address (not the embedded-IPv4 forms), NULL when public. */
static const char *v6_category(const unsigned char *a)
{
    if (!memcmp(a, ZERO12, 12)) {
        if (!a[12] && !a[13] && !a[14] && a[15] <= 1) return a[15] ? "loopback" : "unspecified";
        return "reserved (IPv4-compatible)";
    }
    if ((a[0] & 0xfe) == 0xfc)
        return !memcmp(a, AWS_IMDS6, 16) ? "private (unique local, cloud metadata)"
                                         : "private (unique local)";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "private (site-local)";
    if (a[0] == 0xff) return "multicast";
    return NULL;
}

static int allowlisted(const wb_egress_policy *p, const unsigned char *v4, const unsigned char *v6)
{
    if (!p) return 0;
    for (size_t i = 0; i < p->n; i++) {
        const cidr *c = &p->cidrs[i];
        if (c->family == AF_INET && v4 && prefix_match(c->addr, v4, c->prefix)) return 1;
        if (c->family == AF_INET6 && v6 && prefix_match(c->addr, v6, c->prefix)) return 1;
    }
    return 0;
}

int wb_egress_check(const wb_egress_policy *p, int allow_private, const struct sockaddr *sa,
                    char *why, size_t why_size)
{
    const unsigned char *v4 = NULL, *v6 = NULL;
    const char *cat, *suffix = "";
    char text[INET6_ADDRSTRLEN];

    if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
        if (why && why_size)
            snprintf(why, why_size, "unsupported address family %d", sa ? sa->sa_family : -1);
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        v4 = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        cat = v4_category(v4);
    } else {
        v6 = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (!memcmp(v6, V4MAPPED, 12)) {
            v4 = v6 + 12;
            cat = v4_category(v4);
            suffix = " (IPv4-mapped)";
        } else if (!memcmp(v6, NAT64, 12)) {
            v4 = v6 + 12;
            cat = v4_category(v4);
            suffix = " (NAT64)";
        } else {
            cat = v6_category(v6);
        }
    }
    if (!cat || allow_private || allowlisted(p, v4, v6)) return 1;
    if (why && why_size) {
        if (!inet_ntop(sa->sa_family, v6 ? (const void *)v6 : (const void *)v4, text, sizeof(text)))
            snprintf(text, sizeof(text), "?");
        snprintf(why, why_size, "%s is %s%s", text, cat, suffix);
    }
    return 0;
}
