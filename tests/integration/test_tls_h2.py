#!/usr/bin/python3
"""HTTPS partners: TLS is verified and HTTP/2 is used where the server offers it.

nginx (Debian's, private config in the test's temp dir) serves TLS + HTTP/2 with a
certificate made here for localhost. A connector with `tls.ca_file` delivers every event, and
nginx logs each request as HTTP/2.0; the same connector without the CA is refused at the TLS
handshake (certificate verification stays on), so nothing reaches nginx and the events go to
the dead-letter topic."""

import os
import shutil
import socket
import subprocess
import time

import harness as h

P = "h2-"
N = 20

NGINX_CONF = """\
worker_processes 1;
daemon off;
user root;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    log_format wb '$server_protocol $status $http_webhook_id';
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        location / {{
            access_log {tmp}/access.log wb;
            return 204;
        }}
    }}
}}
"""


def start_nginx(tmp):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", os.path.join(tmp, "key.pem"), "-out",
                    os.path.join(tmp, "cert.pem"), "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    # the port stays reserved until nginx listens on it (nginx sets SO_REUSEADDR), so no
    # other process can take it in between, and a connection that succeeds is nginx's
    with h.reserve_port() as hold:
        port = hold.getsockname()[1]
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=port))
        proc = subprocess.Popen([nginx, "-p", tmp, "-c", conf, "-e",
                                 os.path.join(tmp, "nginx-error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return proc, port
            except OSError:
                h.check(proc.poll() is None, "nginx exited: %s" % proc.stderr.read().decode())
                h.check(time.monotonic() < deadline, "nginx did not listen on %d" % port)
                time.sleep(0.05)


def access_log(tmp):
    path = os.path.join(tmp, "access.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split() for l in f if l.strip()]


def records():
    return [{"key": "k%d" % i, "headers": {"event-type": "order.paid"},
             "value": {"id": "%s%d" % (P, i), "type": "order.paid", "key": "k%d" % i,
                       "seq": i, "per_key_seq": 0}} for i in range(N)]


def test(run):
    ngx, port = start_nginx(run.tmp)
    try:
        url = "https://localhost:%d/hook" % port
        ca = os.path.join(run.tmp, "cert.pem")
        with h.mock({"orders": 2, "dlq": 1}) as m:
            # 1. trusted: every event over HTTP/2
            cfg = h.write_config(run.tmp, m.bootstrap, url, name="trusted")
            conn = h.write_connector(run.tmp, "trusted", url,
                                     extra=['tls: { ca_file: %s }' % h._yaml_str(ca)])
            h.set_connectors(cfg, [conn])
            h.produce_records(m.bootstrap, "orders", records())
            with h.bridge(run.tmp, cfg, name="trusted") as b:
                h.wait_until(lambda: len([l for l in access_log(run.tmp)
                                          if l[1] == "204"]) >= N, 30,
                             what="%d deliveries at nginx" % N, alive=[b])
                # nginx answers `return 204` before reading the request body and resets the
                # stream (RST_STREAM NO_ERROR, RFC 9113 8.1): that is a delivery, not a
                # failure to retry (libcurl 7.88 reports it as a stream error)
                time.sleep(1.5)
            lines = access_log(run.tmp)
            protos = sorted({l[0] for l in lines})
            ids = {l[2] for l in lines if l[1] == "204"}
            dlq1 = h.consume(m.bootstrap, "dlq", timeout=2)
            run.summary.update({"delivered": len(ids), "protocols": protos,
                                "requests": len(lines), "dead_lettered_trusted": len(dlq1)})
            h.check(ids == {"%s%d" % (P, i) for i in range(N)}, "ids at nginx: %r" % ids)
            h.check(protos == ["HTTP/2.0"], "protocols used: %r (want HTTP/2.0)" % protos)
            # (libcurl 7.88 now and then drops such an answer entirely: that attempt had no
            # status and is rightly retried, so a few duplicates may occur, never many)
            h.check(len(lines) <= N + N // 4, "%d requests for %d events: answered "
                    "deliveries were retried" % (len(lines), N))
            h.check(not dlq1, "trusted deliveries dead-lettered: %r"
                    % [d["headers"].get("wb-error-reason") for d in dlq1][:3])

            # 2. untrusted (no CA): refused at the handshake, nothing sent, dead-lettered
            before = len(access_log(run.tmp))
            cfg2 = h.write_config(run.tmp, m.bootstrap, url, name="untrusted")
            # (a high breaker threshold: otherwise it opens after 10 failures, as it should,
            # and the rest wait for its cooldown instead of exhausting their retries)
            conn2 = h.write_connector(run.tmp, "untrusted", url, schedule=("0s",),
                                      extra=["circuit_breaker: { failures: 1000, cooldown: 1s }"])
            h.set_connectors(cfg2, [conn2])
            with h.bridge(run.tmp, cfg2, name="untrusted") as b2:
                dlq = h.wait_until(lambda: (lambda d: d if len(d) >= N else None)(
                    h.consume(m.bootstrap, "dlq", timeout=3)), 40, interval=0.5,
                    what="%d dead-letter records" % N, alive=[b2])
            reasons = {x["headers"].get("wb-error-reason", "") for x in dlq}
            run.summary.update({"dead_lettered_untrusted": len(dlq),
                                "reason": sorted(reasons)[0][:100] if reasons else ""})
            h.check(len(access_log(run.tmp)) == before,
                    "requests reached nginx without a trusted certificate")
            h.check(all("certificate" in r.lower() or "ssl" in r.lower() or "tls" in r.lower()
                        for r in reasons), "dead-letter reasons: %r" % reasons)
    finally:
        ngx.terminate()
        ngx.wait(10)


if __name__ == "__main__":
    h.main(test)
