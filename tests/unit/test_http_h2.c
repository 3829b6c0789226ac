/* test_http_h2.c - the HTTP client (outbound/http.h) against real third-party servers:
 *   - nginx (Debian's) with TLS 1.3 and HTTP/2, certificate from a CA made here: HTTP/2 by
 *     ALPN, many requests multiplexed on ONE connection, http2: off stays on HTTP/1.1,
 *     verification on (no CA: refused);
 *   - node's http2 module as an h2c server (prior knowledge): http2: prior-knowledge
 *     multiplexes over cleartext, auto does not speak h2c;
 *   - a raw Python socket server (tests/tools/raw_http_server.py) for odd answers: 100 then
 *     503 + Retry-After, answers cut mid-status and mid-header, headers trickling in past
 *     the timeout,
 *     Connection: close, an HTTP-date Retry-After.
 * A missing nginx, node or python3 FAILS this test (nothing is skipped). Every server is
 * started here and stopped before exit. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <curl/curl.h>

#include "core/loop.h"
#include "http/http.h"
#include "test.h"
#include "core/util.h"

static wb_loop *lp;
static char tmp[] = "/tmp/wb-test-h2-XXXXXX";

/* ------------------------------------------------------------------------------------------
 * Child processes: started with pipes on stdin/stdout, always reaped */

typedef struct child {
    pid_t pid;
    int in, out; /* our ends: write to its stdin, read its stdout */
} child;

static child spawn(char *const argv[])
{
    int pin[2], pout[2];
    child c = {-1, -1, -1};
    ASSERT_EQ(pipe(pin), 0);
    ASSERT_EQ(pipe(pout), 0);
    c.pid = fork();
    ASSERT(c.pid >= 0);
    if (c.pid == 0) {
        /* a failing assertion exits this process: the servers must not outlive it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        close(pin[1]);
        close(pout[0]);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    c.in = pin[1];
    c.out = pout[0];
    return c;
}

/* One line of the child's stdout within ms, or FAIL. */
static void read_line(const child *c, char *buf, size_t n, int ms)
{
    size_t len = 0;
    int64_t deadline = wb_now_ms() + ms;
    while (len + 1 < n) {
        struct pollfd p = {.fd = c->out, .events = POLLIN};
        int64_t left = deadline - wb_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) FAIL_("no line from child %d", c->pid);
        ssize_t r = read(c->out, buf + len, 1);
        if (r <= 0) FAIL_("child %d closed its output (missing tool?)", c->pid);
        if (buf[len] == '\n') break;
        len++;
    }
    buf[len] = '\0';
}

static void stop(child *c, int sig)
{
    if (c->pid <= 0) return;
    if (c->in >= 0) close(c->in); /* our tools exit when stdin closes */
    kill(c->pid, sig);
    int st;
    waitpid(c->pid, &st, 0);
    close(c->out);
    c->pid = -1;
}

/* A socket bound to a free loopback port (*port), not listening: while it is open,
 * connections to the port are refused and the kernel gives the port to nobody else, so it
 * cannot be taken between the probe and the server's bind. SO_REUSEADDR lets the server
 * (nginx sets it too) listen while it is held; close it once the server listens. */
static int reserve_port(int *port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* not nginx's to keep */
    ASSERT(fd >= 0);
    ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

static void wait_listening(int port, const child *c)
{
    int64_t deadline = wb_now_ms() + 10000;
    for (;;) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
        close(fd);
        if (ok) return;
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid) FAIL_("server exited before listening");
        if (wb_now_ms() > deadline) FAIL_("nothing listens on %d", port);
        usleep(20000);
    }
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    ASSERT(fputs(text, f) >= 0);
    fclose(f);
}

/* ------------------------------------------------------------------------------------------
 * A CA and a server certificate signed by it (localhost, 127.0.0.1) */

static X509 *cert_new(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                      const char *const exts[][2], size_t nexts)
{
    X509 *crt = X509_new();
    X509V3_CTX ctx;
    ASSERT(crt != NULL);
    ASSERT(X509_set_version(crt, 2) == 1);
    ASSERT(ASN1_INTEGER_set(X509_get_serialNumber(crt), issuer ? 2 : 1) == 1);
    ASSERT(X509_gmtime_adj(X509_getm_notBefore(crt), -3600));
    ASSERT(X509_gmtime_adj(X509_getm_notAfter(crt), 86400));
    ASSERT(X509_set_pubkey(crt, key) == 1);
    X509_NAME *name = X509_get_subject_name(crt);
    ASSERT(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                      0) == 1);
    ASSERT(X509_set_issuer_name(crt, issuer ? X509_get_subject_name(issuer) : name) == 1);
    X509V3_set_ctx(&ctx, issuer ? issuer : crt, crt, NULL, NULL, 0);
    for (size_t i = 0; i < nexts; i++) {
        X509_EXTENSION *ext = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        ASSERT(ext != NULL);
        ASSERT(X509_add_ext(crt, ext, -1) == 1);
        X509_EXTENSION_free(ext);
    }
    ASSERT(X509_sign(crt, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return crt;
}

static void pem_write(const char *name, EVP_PKEY *key, X509 *crt)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    if (key) ASSERT(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    if (crt) ASSERT(PEM_write_X509(f, crt) == 1);
    fclose(f);
}

static void make_pki(void)
{
    static const char *const ca_ext[][2] = {{"basicConstraints", "critical,CA:TRUE"},
                                            {"keyUsage", "critical,keyCertSign,cRLSign"}};
    static const char *const srv_ext[][2] = {{"basicConstraints", "critical,CA:FALSE"},
                                             {"subjectAltName", "DNS:localhost,IP:127.0.0.1"},
                                             {"extendedKeyUsage", "serverAuth"}};
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
    ASSERT(ca_key && key);
    X509 *ca = cert_new(ca_key, "wb test CA", NULL, NULL, ca_ext, 2);
    X509 *crt = cert_new(key, "localhost", ca, ca_key, srv_ext, 3);
    pem_write("ca.pem", NULL, ca);
    pem_write("cert.pem", NULL, crt);
    pem_write("key.pem", key, NULL);
    X509_free(ca);
    X509_free(crt);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
}

/* ------------------------------------------------------------------------------------------
 * Client helpers */

typedef struct got {
    int n;
    wb_http_result res;
} got;

static void on_done(void *opaque, const wb_http_result *res)
{
    got *g = opaque;
    g->n++;
    g->res = *res;
}

static const wb_http_header CT[] = {{"content-type", "application/json"}};

static wb_http *client(int max)
{
    char err[128] = "";
    wb_http_opts o = {.max_total_connections = max};
    wb_http *h = wb_http_new(lp, &o, err, sizeof(err));
    if (!h) FAIL_("wb_http_new: %s", err);
    return h;
}

static wb_http_target *target(wb_http *h, const char *url, wb_http2_mode mode, const char *ca,
                              int64_t timeout_ms)
{
    char err[200] = "";
    wb_http_target_opts o = {.url = url,
                             .headers = CT,
                             .nheaders = 1,
                             .timeout_ms = timeout_ms,
                             .connect_timeout_ms = 3000,
                             .allow_private = 1,
                             .ca_file = ca,
                             .http2 = mode};
    wb_http_target *t = wb_http_target_new(h, &o, err, sizeof(err));
    if (!t) FAIL_("target %s: %s", url, err);
    return t;
}

/* libcurl 7.88 sometimes drops an HTTP/2 answer that nginx followed at once with
 * RST_STREAM NO_ERROR: no status at all, a stream error. Nothing says the partner answered,
 * so that attempt is (rightly) a retry; it is counted apart. Any answer that arrived must
 * decide, though. */
static int answer_lost(const wb_http_result *r)
{
    return r->status == 0 && r->curl_code == 92 /* CURLE_HTTP2_STREAM */ && r->cls == WB_HTTP_RETRY;
}

/* Submit n requests at once and turn the loop until all are done. */
static void run_n(wb_http *h, wb_http_target *t, got *g, int n)
{
    static const char body[] = "{\"type\":\"h2\"}";
    memset(g, 0, sizeof(*g) * (size_t)n);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(wb_http_submit(h, t, NULL, 0, body, sizeof(body) - 1, on_done, &g[i], NULL),
                  WB_OK);
    int64_t deadline = wb_now_ms() + 20000;
    while (wb_http_in_flight(h) > 0 && wb_now_ms() < deadline)
        ASSERT(wb_loop_run_once(lp, 100) >= 0);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(g[i].n, 1);
}

/* ------------------------------------------------------------------------------------------
 * nginx: TLS 1.3 + HTTP/2 */

static const char NGINX_CONF[] =
    "worker_processes 1;\ndaemon off;\nmaster_process off;\nuser root;\n"
    "pid %s/nginx.pid;\nerror_log %s/error.log warn;\nevents { worker_connections 256; }\n"
    "http {\n client_body_temp_path %s;\n proxy_temp_path %s;\n fastcgi_temp_path %s;\n"
    " uwsgi_temp_path %s;\n scgi_temp_path %s;\n"
    " log_format wb '$server_protocol $ssl_protocol $connection';\n"
    " server {\n  listen 127.0.0.1:%d ssl http2;\n  ssl_protocols TLSv1.3;\n"
    "  ssl_certificate %s/cert.pem;\n  ssl_certificate_key %s/key.pem;\n"
    "  keepalive_requests 100000;\n"
    "  location / { access_log %s/access.log wb; return 204; }\n }\n}\n";

/* Lines of nginx's access log matching proto+tls, and distinct connection numbers; the log
 * is emptied after reading. nginx writes a request's line when it finalizes the request,
 * which can come a little after the answer we already have (HTTP/2: after the unread body
 * arrived): wait up to 3 s for `expect` lines. */
static void access_stats(const char *want, int expect, int *lines, int *conns)
{
    char path[256], line[256];
    long seen[4096];
    int ns = 0;
    int64_t deadline = wb_now_ms() + 3000;
    snprintf(path, sizeof(path), "%s/access.log", tmp);
    for (;;) {
        *lines = 0;
        ns = 0;
        FILE *f = fopen(path, "r");
        if (f) {
            while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, want, strlen(want))) continue;
                (*lines)++;
                char *last = strrchr(line, ' ');
                long c = last ? strtol(last + 1, NULL, 10) : -1;
                int k = 0;
                while (k < ns && seen[k] != c)
                    k++;
                if (k == ns && ns < 4096) seen[ns++] = c;
            }
            fclose(f);
        }
        if (*lines >= expect || wb_now_ms() > deadline) break;
        usleep(20000);
    }
    if (truncate(path, 0) != 0 && errno != ENOENT) FAIL_("truncate %s", path);
    *conns = ns;
}

static void test_nginx_tls13_h2(void)
{
    enum { N = 40 };
    static got g[N];
    char conf[4096], url[128], ca[256], path[256], prefix[300];
    int port, lines, conns;
    int hold = reserve_port(&port);
    snprintf(conf, sizeof(conf), NGINX_CONF, tmp, tmp, tmp, tmp, tmp, tmp, tmp, port, tmp, tmp,
             tmp);
    write_file("nginx.conf", conf);
    snprintf(path, sizeof(path), "%s/nginx.conf", tmp);
    snprintf(prefix, sizeof(prefix), "%s", tmp);
    char *argv[] = {"/usr/sbin/nginx", "-p", prefix, "-c", path, NULL};
    ASSERT(access(argv[0], X_OK) == 0); /* nginx is a test dependency (.ci/deps --test) */
    child ng = spawn(argv);
    wait_listening(port, &ng);
    close(hold); /* nginx listens on the port now */
    snprintf(ca, sizeof(ca), "%s/ca.pem", tmp);
    snprintf(url, sizeof(url), "https://localhost:%d/hook", port);

    wb_http *h = client(8);
    /* auto: HTTP/2 by ALPN over TLS 1.3, every request multiplexed on one connection */
    wb_http_target *t = target(h, url, WB_HTTP2_AUTO, ca, 10000);
    run_n(h, t, g, N);
    int lost = 0;
    for (int i = 0; i < N; i++) {
        if (answer_lost(&g[i].res)) {
            lost++;
            continue;
        }
        if (g[i].res.cls != WB_HTTP_DONE)
            FAIL_("request %d: status %d, HTTP %d, curl %d: %s", i, g[i].res.status,
                  g[i].res.http_version, g[i].res.curl_code, g[i].res.error);
        ASSERT_EQ(g[i].res.status, 204);
        ASSERT_EQ(g[i].res.http_version, 20);
    }
    ASSERT(lost < N / 4);
    /* every answered request reached nginx; a lost answer may or may not have */
    access_stats("HTTP/2.0 TLSv1.3", N, &lines, &conns);
    fprintf(stderr, "  nginx: %d HTTP/2 requests over TLS 1.3 on %d connection(s)\n", lines, conns);
    ASSERT(lines >= N - lost && lines <= N);
    ASSERT_EQ(conns, 1);
    /* a second burst reuses it (and the TLS session cache is shared) */
    run_n(h, t, g, N);
    access_stats("HTTP/2.0 TLSv1.3", N, &lines, &conns);
    lost = 0;
    for (int i = 0; i < N; i++) {
        lost += answer_lost(&g[i].res);
        if (!answer_lost(&g[i].res) && g[i].res.cls != WB_HTTP_DONE)
            FAIL_("second burst, request %d: status %d, HTTP %d, curl %d: %s", i, g[i].res.status,
                  g[i].res.http_version, g[i].res.curl_code, g[i].res.error);
    }
    if (lines < N - lost || lines > N)
        FAIL_("second burst: %d of %d requests reached nginx (%d answers lost)", lines, N, lost);
    ASSERT_EQ(conns, 1);
    wb_http_target_release(t);

    /* Many small POSTs on few streams: nginx answers `return 204` before reading the
     * body and resets each stream (RST_STREAM NO_ERROR). Every one is a delivery, exactly
     * once, none retried, whatever libcurl 7.88 makes of the reset (a stream error, or a
     * stream left waiting until the timeout: short here). */
    {
        enum { M = 600 };
        static got many[M];
        wb_http_target *tm = target(h, url, WB_HTTP2_AUTO, ca, 1500);
        int64_t t0 = wb_now_ms();
        for (int round = 0; round < M / 8; round++)
            run_n(h, tm, many + round * 8, 8);
        int stalled = 0;
        lost = 0;
        for (int i = 0; i < M; i++) {
            if (answer_lost(&many[i].res)) {
                lost++;
                continue;
            }
            if (many[i].res.cls != WB_HTTP_DONE || many[i].res.status != 204)
                FAIL_("request %d: class %d status %d: %s", i, many[i].res.cls, many[i].res.status,
                      many[i].res.error);
            stalled += many[i].res.error[0] != '\0';
        }
        access_stats("HTTP/2.0 TLSv1.3", M, &lines, &conns);
        fprintf(stderr,
                "  nginx: %d early-reset HTTP/2 requests in %lld ms: %d stalled (answer "
                "kept), %d answers lost by libcurl (retried)\n",
                M, (long long)(wb_now_ms() - t0), stalled, lost);
        ASSERT(lines >= M - lost && lines <= M);
        ASSERT(lost < M / 4);
        wb_http_target_release(tm);
    }

    /* off: HTTP/1.1 even though nginx offers h2 */
    t = target(h, url, WB_HTTP2_OFF, ca, 10000);
    run_n(h, t, g, 8);
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(g[i].res.http_version, 11);
    access_stats("HTTP/1.1 TLSv1.3", 8, &lines, &conns);
    ASSERT_EQ(lines, 8);
    wb_http_target_release(t);

    /* no CA: verification refuses the handshake, nothing reaches nginx */
    t = target(h, url, WB_HTTP2_AUTO, NULL, 10000);
    run_n(h, t, g, 1);
    ASSERT_EQ(g[0].res.cls, WB_HTTP_RETRY);
    ASSERT_EQ(g[0].res.curl_code, 60); /* CURLE_PEER_FAILED_VERIFICATION */
    access_stats("HTTP", 0, &lines, &conns);
    ASSERT_EQ(lines, 0);
    wb_http_target_release(t);
    wb_http_free(h);
    stop(&ng, SIGQUIT);
}

/* ------------------------------------------------------------------------------------------
 * node: h2c with prior knowledge */

static void tool_path(char *out, size_t n, const char *name)
{
    const char *src = getenv("WB_SOURCE_DIR");
    ASSERT(src != NULL); /* CTest sets it */
    snprintf(out, n, "%s/tests/tools/%s", src, name);
}

static void test_node_h2c(void)
{
    enum { N = 50 };
    static got g[N];
    char js[512], line[128], url[128];
    tool_path(js, sizeof(js), "h2c_server.js");
    char *argv[] = {"node", js, NULL};
    child nd = spawn(argv);
    read_line(&nd, line, sizeof(line), 10000);
    int port = (int)strtol(line + 5, NULL, 10);
    ASSERT(!strncmp(line, "port=", 5) && port > 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);

    wb_http *h = client(8);
    wb_http_target *t = target(h, url, WB_HTTP2_PRIOR_KNOWLEDGE, NULL, 10000);
    run_n(h, t, g, N);
    for (int i = 0; i < N; i++) {
        if (g[i].res.cls != WB_HTTP_DONE) FAIL_("request %d: %s", i, g[i].res.error);
        ASSERT_EQ(g[i].res.http_version, 20);
    }
    ASSERT_EQ(write(nd.in, "stats\n", 6), 6);
    read_line(&nd, line, sizeof(line), 5000);
    fprintf(stderr, "  node h2c: %s (libcurl %s)\n", line,
            curl_version_info(CURLVERSION_NOW)->version);
    /* libcurl >= 8.0 multiplexes them on one connection; 7.88 cannot reuse an h2c
     * connection at all (see http_target.c), so the client opens one per request */
    if (curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000)
        ASSERT_STR_EQ(line, "sessions=1 streams=50");
    else
        ASSERT_STR_EQ(line, "sessions=50 streams=50");
    wb_http_target_release(t);

    /* auto speaks HTTP/1.1 on cleartext: an h2c-only server does not answer it usefully */
    t = target(h, url, WB_HTTP2_AUTO, NULL, 3000);
    run_n(h, t, g, 1);
    ASSERT(g[0].res.cls != WB_HTTP_DONE);
    wb_http_target_release(t);
    wb_http_free(h);
    stop(&nd, SIGTERM);
}

/* ------------------------------------------------------------------------------------------
 * raw socket server: odd answers */

static void test_raw_odd_answers(void)
{
    char py[512], line[128], url[160];
    got g[2];
    tool_path(py, sizeof(py), "raw_http_server.py");
    char *argv[] = {"/usr/bin/python3", py, NULL};
    child rs = spawn(argv);
    read_line(&rs, line, sizeof(line), 10000);
    int port = (int)strtol(line + 5, NULL, 10);
    ASSERT(!strncmp(line, "port=", 5) && port > 0);
    wb_http *h = client(4);
    wb_http_target *t;

#define AT(path) (snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path), url)
    /* 100 Continue then 503: the final answer and its Retry-After count */
    t = target(h, AT("/continue-503"), WB_HTTP2_AUTO, NULL, 5000);
    run_n(h, t, g, 1);
    ASSERT_EQ(g[0].res.status, 503);
    ASSERT_EQ(g[0].res.cls, WB_HTTP_RETRY);
    ASSERT_EQ(g[0].res.retry_after_ms, 7000);
    wb_http_target_release(t);

    /* cut in the middle of the status line: no answer at all, retried */
    t = target(h, AT("/cut-status"), WB_HTTP2_AUTO, NULL, 5000);
    run_n(h, t, g, 1);
    ASSERT(g[0].res.curl_code != 0);
    ASSERT_EQ(g[0].res.status, 0);
    ASSERT_EQ(g[0].res.cls, WB_HTTP_RETRY);
    ASSERT(g[0].res.error[0] != '\0');
    wb_http_target_release(t);
    /* cut after a complete status line: the partner has given its answer (libcurl ends the
     * response there); the status decides */
    t = target(h, AT("/cut-headers"), WB_HTTP2_AUTO, NULL, 5000);
    run_n(h, t, g, 1);
    ASSERT_EQ(g[0].res.status, 200);
    ASSERT_EQ(g[0].res.cls, WB_HTTP_DONE);
    wb_http_target_release(t);

    /* headers trickling in: the whole-attempt timeout ends it, through the loop timer */
    int64_t t0 = wb_now_ms();
    t = target(h, AT("/slow-headers"), WB_HTTP2_AUTO, NULL, 400);
    run_n(h, t, g, 1);
    ASSERT_EQ(g[0].res.curl_code, 28); /* CURLE_OPERATION_TIMEDOUT */
    ASSERT_STR_EQ(g[0].res.error, "timeout after 400 ms");
    ASSERT(wb_now_ms() - t0 < 2000);
    wb_http_target_release(t);

    /* Connection: close after each answer: every request still succeeds */
    t = target(h, AT("/close"), WB_HTTP2_AUTO, NULL, 5000);
    for (int i = 0; i < 3; i++) {
        run_n(h, t, g, 1);
        ASSERT_EQ(g[0].res.status, 204);
    }
    wb_http_target_release(t);

    /* an HTTP-date Retry-After an hour ahead */
    t = target(h, AT("/date-429"), WB_HTTP2_AUTO, NULL, 5000);
    run_n(h, t, g, 1);
    ASSERT_EQ(g[0].res.status, 429);
    if (g[0].res.retry_after_ms < 3590000 || g[0].res.retry_after_ms > 3601000)
        FAIL_("Retry-After date gave %lld ms", (long long)g[0].res.retry_after_ms);
    wb_http_target_release(t);
#undef AT
    wb_http_free(h);
    stop(&rs, SIGTERM);
}

/* Also on a failed assertion (exit(1)): the temp dir goes; the servers die with us
 * (PR_SET_PDEATHSIG in spawn). */
static void remove_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void)
{
    char err[128] = "";
    signal(SIGPIPE, SIG_IGN);
    lp = wb_loop_new(err, sizeof(err));
    if (!lp) FAIL_("wb_loop_new: %s", err);
    ASSERT(mkdtemp(tmp) != NULL);
    atexit(remove_tmp);
    make_pki();
    RUN(test_nginx_tls13_h2);
    RUN(test_node_h2c);
    RUN(test_raw_odd_answers);
    wb_loop_free(lp);
    TEST_DONE();
}
