/* test_httpd.c - a libmicrohttpd daemon started by wb_httpd_start on loopback: the bound
 * port, the guard's slot handed to the request, open connections tracked from accept to
 * close, and a connection over the guard's limit closed at accept. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/httpd.h"
#include "core/metrics.h"
#include "core/util.h"
#include "test.h"

static atomic_int slots_seen, requests;

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    if (!*con_cls) { /* first call: the head is complete */
        *con_cls = conn;
        if (wb_httpd_head_done(conn)) atomic_fetch_add(&slots_seen, 1);
        return MHD_YES;
    }
    atomic_fetch_add(&requests, 1);
    static const char body[] = "ok";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(2, (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return rc;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Everything fd reads within ms (until EOF), NUL-terminated in buf. */
static size_t read_all(int fd, char *buf, size_t size, int ms)
{
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (n + 1 < size && poll(&p, 1, ms) == 1) {
        ssize_t got = recv(fd, buf + n, size - 1 - n, 0);
        if (got <= 0) break;
        n += (size_t)got;
    }
    buf[n] = 0;
    return n;
}

/* Wait up to 2 s for the guard to count want open connections. */
static int open_becomes(wb_connguard *g, int want)
{
    for (int i = 0; i < 200; i++) {
        if (wb_connguard_count(g) == want) return 1;
        usleep(10000);
    }
    return 0;
}

static struct MHD_Daemon *start(wb_connguard *g)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    wb_httpd_conf hc = {.log_prefix = "test microhttpd",
                        .flags = MHD_USE_INTERNAL_POLLING_THREAD,
                        .addr = (struct sockaddr *)&sa,
                        .guard = g,
                        .handler = handler,
                        .connection_limit = 16,
                        .connection_timeout_s = 5,
                        .memory_limit = 16384};
    return wb_httpd_start(&hc);
}

static void test_serves_and_tracks(void)
{
    wb_connguard_conf gc = {.endpoint = "httpd-a",
                            .max_connections = 4,
                            .header_timeout_ms = 5000,
                            .request_timeout_ms = 5000};
    wb_connguard *g = wb_connguard_new(&gc);
    ASSERT(g);
    struct MHD_Daemon *d = start(g);
    ASSERT(d != NULL);
    int port = wb_httpd_port(d);
    ASSERT(port > 0);
    int fd = dial(port);
    ASSERT(fd >= 0);
    ASSERT(open_becomes(g, 1));
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ASSERT_EQ(send(fd, req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));
    char buf[1024];
    read_all(fd, buf, sizeof(buf), 2000);
    ASSERT_CONTAINS(buf, "HTTP/1.1 200");
    ASSERT_EQ(atomic_load(&requests), 1);
    ASSERT_EQ(atomic_load(&slots_seen), 1); /* the request got its connection's slot */
    close(fd);
    ASSERT(open_becomes(g, 0)); /* the slot went with the connection */
    MHD_stop_daemon(d);
    wb_connguard_free(g);
    ASSERT_EQ(wb_httpd_port(NULL), 0);
}

static void test_refused_at_accept(void)
{
    wb_connguard_conf gc = {.endpoint = "httpd-b",
                            .max_connections = 1,
                            .header_timeout_ms = 5000,
                            .request_timeout_ms = 5000};
    wb_connguard *g = wb_connguard_new(&gc);
    struct MHD_Daemon *d = start(g);
    ASSERT(d != NULL);
    int port = wb_httpd_port(d);
    int first = dial(port);
    ASSERT(first >= 0);
    ASSERT(open_becomes(g, 1));
    int second = dial(port); /* over max_connections: closed at once, not left hanging */
    ASSERT(second >= 0);
    char buf[64];
    ASSERT_EQ(read_all(second, buf, sizeof(buf), 2000), 0);
    ASSERT_EQ(
        wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_connections_refused_total", "",
                                            "endpoint=\"httpd-b\",reason=\"max_connections\"")),
        1);
    ASSERT_EQ(wb_connguard_count(g), 1);
    close(second);
    close(first);
    ASSERT(open_becomes(g, 0));
    MHD_stop_daemon(d);
    wb_connguard_free(g);
}

int main(void)
{
    RUN(test_serves_and_tracks);
    RUN(test_refused_at_accept);
    TEST_DONE();
}
