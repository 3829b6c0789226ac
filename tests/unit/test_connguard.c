/* test_connguard.c - connection deadlines from accept, per-IP and total limits, on real
 * socket pairs (the sweep shuts the server side down; the client side then reads EOF). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/connguard.h"
#include "core/metrics.h"
#include "test.h"
#include "core/util.h"

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &sa.sin_addr);
    return sa;
}

static struct sockaddr_in6 v6(const char *ip)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, ip, &sa.sin6_addr);
    return sa;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

/* 1 when the peer of fd was shut down (EOF readable at once). */
static int eof(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) != 1) return 0;
    char b;
    return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

static uint64_t count(const char *name, const char *labels)
{
    return wb_counter_value(wb_metrics_counter(name, "", labels));
}

static void test_limits(void)
{
    wb_connguard_conf c = {.endpoint = "t1",
                           .max_connections = 5,
                           .max_per_ip = 2,
                           .header_timeout_ms = 1000,
                           .request_timeout_ms = 2000};
    wb_connguard *g = wb_connguard_new(&c);
    ASSERT(g);
    struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
    struct sockaddr_in6 m = v6("::ffff:10.0.0.1"); /* the same client as a */
    struct sockaddr_in6 p1 = v6("2001:db8:1:2::1"), p2 = v6("2001:db8:1:2::ffff"),
                        q = v6("2001:db8:1:3::1");
    wb_conn_slot *s[8];
    ASSERT_EQ(wb_connguard_admit(g, SA(a)), 1);
    s[0] = wb_connguard_open(g, -1, SA(a));
    s[1] = wb_connguard_open(g, -1, SA(m));
    ASSERT_EQ(wb_connguard_admit(g, SA(a)), 0); /* two already, v4-mapped counted as v4 */
    ASSERT_EQ(wb_connguard_admit(g, SA(b)), 1);
    s[2] = wb_connguard_open(g, -1, SA(p1));
    s[3] = wb_connguard_open(g, -1, SA(p2));
    ASSERT_EQ(wb_connguard_admit(g, SA(q)), 1);  /* another /64 */
    ASSERT_EQ(wb_connguard_admit(g, SA(p1)), 0); /* the same /64: full */
    s[4] = wb_connguard_open(g, -1, SA(b));
    ASSERT_EQ(wb_connguard_count(g), 5);
    ASSERT_EQ(wb_connguard_admit(g, SA(q)), 0); /* total cap */
    ASSERT_EQ(count("webhook_bridge_inbound_connections_refused_total",
                    "endpoint=\"t1\",reason=\"per_ip\""),
              2);
    ASSERT_EQ(count("webhook_bridge_inbound_connections_refused_total",
                    "endpoint=\"t1\",reason=\"max_connections\""),
              1);
    wb_connguard_close(g, s[0]);
    ASSERT_EQ(wb_connguard_admit(g, SA(a)), 1); /* room again */
    for (int i = 1; i < 5; i++)
        wb_connguard_close(g, s[i]);
    ASSERT_EQ(wb_connguard_count(g), 0);
    ASSERT_EQ(wb_gauge_value(wb_metrics_gauge("webhook_bridge_inbound_open_connections", "",
                                              "endpoint=\"t1\"")),
              0);
    wb_connguard_free(g);
}

static void test_deadlines(void)
{
    wb_connguard_conf c = {.endpoint = "t2", .header_timeout_ms = 300, .request_timeout_ms = 600};
    wb_connguard *g = wb_connguard_new(&c);
    int head[2], body[2], parked[2], fresh[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, head), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, body), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, parked), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fresh), 0);
    int64_t t0 = wb_now_ms();
    wb_conn_slot *sh = wb_connguard_open(g, head[0], NULL);
    wb_conn_slot *sb = wb_connguard_open(g, body[0], NULL);
    wb_conn_slot *sp = wb_connguard_open(g, parked[0], NULL);
    wb_conn_slot *sf = wb_connguard_open(g, fresh[0], NULL);
    wb_connguard_head_done(sb);
    wb_connguard_head_done(sp);
    wb_connguard_park(sp);
    ASSERT_EQ(wb_connguard_sweep(g, t0 + 100), 0);
    ASSERT_EQ(wb_connguard_expired(sb, t0 + 100), 0);
    usleep(200000);
    wb_connguard_next(sf); /* answered now: its next request starts now */
    int64_t tn = wb_now_ms();
    /* past header_timeout: only the connection still in its first head is cut */
    ASSERT_EQ(wb_connguard_sweep(g, tn + 150), 1);
    ASSERT(eof(head[1]));
    ASSERT(!eof(body[1]));
    ASSERT(!eof(fresh[1]));
    /* later: the body one (request_timeout) and the fresh one (its own header_timeout) */
    ASSERT_EQ(wb_connguard_expired(sb, tn + 450), 1);
    ASSERT_EQ(wb_connguard_sweep(g, tn + 450), 2);
    ASSERT(eof(body[1]));
    ASSERT(eof(fresh[1]));
    /* the parked one never; a cut one is not cut again */
    ASSERT_EQ(wb_connguard_sweep(g, tn + 100000), 0);
    ASSERT(!eof(parked[1]));
    ASSERT_EQ(
        count("webhook_bridge_inbound_request_timeouts_total", "endpoint=\"t2\",phase=\"body\""),
        1);
    ASSERT_EQ(
        count("webhook_bridge_inbound_request_timeouts_total", "endpoint=\"t2\",phase=\"headers\""),
        2);
    wb_connguard_close(g, sh);
    wb_connguard_close(g, sb);
    wb_connguard_close(g, sp);
    wb_connguard_close(g, sf);
    for (int i = 0; i < 2; i++) {
        close(head[i]);
        close(body[i]);
        close(parked[i]);
        close(fresh[i]);
    }
    wb_connguard_free(g);
}

int main(void)
{
    RUN(test_limits);
    RUN(test_deadlines);
    wb_metrics_reset();
    TEST_DONE();
}
