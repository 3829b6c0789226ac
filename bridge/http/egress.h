/* egress.h - outbound egress guard: which resolved addresses a webhook may connect to.
 *
 * The HTTP client calls wb_egress_check() on every address libcurl is about to connect to
 * (CURLOPT_OPENSOCKETFUNCTION), i.e. AFTER name resolution, so a hostname that resolves (or
 * re-resolves, "DNS rebinding") to an internal address is refused just like a literal one.
 *
 * Denied unless allow_private is set or a CIDR of the policy matches:
 *   IPv4: 0.0.0.0/8 (unspecified, "this network"), 127.0.0.0/8 (loopback), 10.0.0.0/8,
 *         172.16.0.0/12, 192.168.0.0/16 (private), 100.64.0.0/10 (CGNAT shared space),
 *         169.254.0.0/16 (link-local, incl. 169.254.169.254 cloud metadata),
 *         224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, incl. 255.255.255.255).
 *   IPv6: :: (unspecified), ::1 (loopback), fc00::/7 (unique local, incl. fd00:ec2::254
 *         AWS metadata), fec0::/10 (site-local), fe80::/10 (link-local), ff00::/8 (multicast),
 *         ::/96 (IPv4-compatible, deprecated), and the IPv4 address embedded in
 *         ::ffff:0:0/96 (IPv4-mapped) and 64:ff9b::/96 (NAT64) is checked as IPv4.
 *
 * Thread: a policy is immutable after wb_egress_policy_new(); wb_egress_check() is safe from
 * any thread on a shared policy. */
#ifndef WB_EGRESS_H
#define WB_EGRESS_H

#include <stddef.h>
#include <sys/socket.h>
#include "core/err.h"

typedef struct wb_egress_policy wb_egress_policy;

/* Build a policy from an allowlist of CIDRs ("10.1.0.0/16", "fd00:1::/32", a bare address
 * means /32 or /128). An IPv4 entry also matches the IPv4-mapped IPv6 form of its addresses.
 * Entries with host bits set ("10.0.0.1/8") are rejected as likely mistakes.
 * n may be 0 (cidrs may then be NULL): an empty allowlist.
 * Returns a policy the caller frees with wb_egress_policy_free(), or NULL with a message in
 * errstr ("egress allowlist entry 2 '10.0.0.1/8': host bits set"). cidrs are only read. */
wb_egress_policy *wb_egress_policy_new(char **cidrs, size_t n, char *errstr, size_t errstr_size);

/* Free a policy (NULL is fine). */
void wb_egress_policy_free(wb_egress_policy *p);

/* Decide whether a connection to sa (AF_INET or AF_INET6; port ignored) is allowed.
 * p may be NULL (no allowlist). Returns 1 when allowed, 0 when denied; on denial why (if
 * non-NULL) receives "<address> is <category>", e.g. "169.254.169.254 is link-local (cloud
 * metadata)" or "::ffff:127.0.0.1 is loopback (IPv4-mapped)". Other families are denied. */
int wb_egress_check(const wb_egress_policy *p, int allow_private, const struct sockaddr *sa,
                    char *why, size_t why_size);

#endif
