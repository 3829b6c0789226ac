#!/usr/bin/python3
"""outbound_bench.py - throughput, CPU, latency and memory of the outbound path.

  /usr/bin/python3 tests/bench/outbound_bench.py [--events 100000] [--partitions 32]
      [--concurrency 64] [--max-in-flight 320] [--keys 1000] [--size 500]
      [--live-events 20000] [--live-rate 5000] [--ordering key] [--nginx-workers 1]
      [--https] [--http2] [--read-body] [--client-only] [--dry-run] [--keep]

1. wb-mock (3 brokers) with `orders` (P partitions) and `dlq`; N events of ~SIZE bytes are
   produced BEFORE the bridge starts (a backlog: measures throughput).
2. nginx (Debian's, private config in a temp dir, not a daemon) answers 204 with keep-alive and
   logs `$msec $http_webhook_id` per request.
3. `webhook-bridge run` delivers the backlog; then LIVE events are produced at LIVE_RATE/s while
   it runs (measures append -> receiver latency without the backlog's queueing).
4. Printed: events/s (first to last delivery of the backlog), bridge CPU us/event (utime+stime
   over the whole run / events), p50/p99 append->receiver latency of the live phase (and of the
   backlog, which includes queueing), peak RSS (VmHWM), the receiver ceiling measured by
   `wrk -t1 -c64 -d5s` with a similar POST, and the ratio bridge/ceiling.
--https: nginx serves TLS 1.3 only, with a certificate from a CA made for the run (EC P-256);
   the connector trusts it with tls.ca_file; wrk's ceiling is then HTTPS (HTTP/1.1 over TLS).
--http2: with --https, HTTP/2 by ALPN (connector http2: auto); without it, cleartext h2c with
   prior knowledge (connector http2: prior-knowledge; wrk, which has no HTTP/2, measures a
   plain HTTP/1.1 port of the same nginx server). Without --http2 the connector says
   http2: off (HTTP/1.1 keep-alive).
--read-body: nginx reads each request body before answering (proxy_pass to a second server
   block `return 204`), as a partner application does; `return 204` alone answers at once
   and, over HTTP/2, resets the stream (see tests/bench/README.md).
--client-only: instead of the bridge, tests/bench/http_bench (the HTTP client alone, no
   Kafka) sends EVENTS requests at CONCURRENCY to the same nginx: the client's own CPU cost.
--dry-run: only nginx + wrk (no bridge), to check the receiver side.
Binaries: WB_BRIDGE, WB_MOCK, WB_KAFKA, WB_HTTP_BENCH (else ../../build-dev or build-release),
NGINX, WRK.
Figures are printed, never asserted."""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def find_build():
    for d in ("build-release", "build", "build-dev"):
        if os.path.exists(os.path.join(SRC, d, "webhook-bridge")):
            return os.path.join(SRC, d)
    return os.path.join(SRC, "build-dev")


BUILD = os.environ.get("WB_BUILD_DIR") or find_build()
BRIDGE = os.environ.get("WB_BRIDGE") or os.path.join(BUILD, "webhook-bridge")
MOCK = os.environ.get("WB_MOCK") or os.path.join(BUILD, "tests", "tools", "wb-mock")
KAFKA = os.environ.get("WB_KAFKA") or os.path.join(BUILD, "tests", "tools", "wb-kafka")
HTTP_BENCH = os.environ.get("WB_HTTP_BENCH") or os.path.join(BUILD, "tests", "bench", "http_bench")
NGINX = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
WRK = os.environ.get("WRK") or shutil.which("wrk") or "/usr/bin/wrk"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


# ---- nginx ------------------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes {workers};
daemon off;
master_process on;
user root;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_body_buffer_size 64k;
    log_format wb '$msec $http_webhook_id';
    access_log off;
    server {{
        listen 127.0.0.1:{port}{listen_opts} backlog=4096;
        {extra_listen}
        {tls}
        keepalive_requests 1000000;
        keepalive_timeout 120s;
        location /wrk {{ {answer} }}
        location / {{
            access_log {tmp}/access.log wb buffer=1m flush=500ms;
            {answer}
        }}
    }}
    {upstream}
}}
"""


def make_pki(tmp):
    """A CA and a server certificate for localhost/127.0.0.1 signed by it (EC P-256)."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=30)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ossl("req", "-x509", *ec, "-days", "2", "-keyout", os.path.join(tmp, "ca.key"),
         "-out", os.path.join(tmp, "ca.pem"), "-subj", "/CN=wb-bench CA")
    ossl("req", *ec, "-keyout", os.path.join(tmp, "key.pem"), "-out",
         os.path.join(tmp, "srv.csr"), "-subj", "/CN=localhost")
    with open(os.path.join(tmp, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    ossl("x509", "-req", "-in", os.path.join(tmp, "srv.csr"), "-CA", os.path.join(tmp, "ca.pem"),
         "-CAkey", os.path.join(tmp, "ca.key"), "-CAcreateserial", "-days", "2",
         "-out", os.path.join(tmp, "cert.pem"), "-extfile", os.path.join(tmp, "ext.cnf"))
    return os.path.join(tmp, "ca.pem")


class Nginx:
    """nginx `return 204`. https: TLS 1.3 only; http2: h2 (ALPN) with https, else h2c prior
    knowledge on the main port and a plain HTTP/1.1 port (wrk_port) for wrk."""

    def __init__(self, tmp, workers=1, https=False, http2=False, read_body=False):
        self.tmp = tmp
        self.port = free_port()
        self.wrk_port = self.port
        self.https = https
        self.conf = os.path.join(tmp, "nginx.conf")
        self.log = os.path.join(tmp, "access.log")
        self.ca = make_pki(tmp) if https else None
        listen_opts, extra_listen, tls = "", "", ""
        if https:
            listen_opts = " ssl http2" if http2 else " ssl"
            tls = ("ssl_protocols TLSv1.3; ssl_certificate %s/cert.pem; "
                   "ssl_certificate_key %s/key.pem; ssl_session_cache shared:wb:10m;"
                   % (tmp, tmp))
        elif http2:
            listen_opts = " http2"
            self.wrk_port = free_port()
            extra_listen = "listen 127.0.0.1:%d backlog=4096;" % self.wrk_port
        answer, upstream = "return 204;", ""
        if read_body:
            # `return` answers before the request body is read (and HTTP/2 then resets the
            # stream); a partner application reads it first. Proxying to a second server
            # block makes nginx read the whole body before the answer.
            up = free_port()
            answer = ("proxy_pass http://wb_up; proxy_http_version 1.1; "
                      "proxy_set_header Connection \"\";")
            upstream = ("upstream wb_up {{ server 127.0.0.1:{0}; keepalive 64; }} "
                        "server {{ listen 127.0.0.1:{0}; keepalive_requests 1000000; "
                        "access_log off; location / {{ return 204; }} }}").format(up)
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=self.port, workers=workers,
                                      listen_opts=listen_opts, extra_listen=extra_listen,
                                      tls=tls, answer=answer, upstream=upstream))
        self.proc = subprocess.Popen([NGINX, "-p", tmp, "-c", self.conf, "-e",
                                      os.path.join(tmp, "nginx-error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit("nginx did not start: %s" % self.proc.stderr.read().decode())
                time.sleep(0.05)
        raise SystemExit("nginx did not listen on %d" % self.port)

    def lines(self):
        try:
            with open(self.log) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: flushes the buffered log
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wrk_ceiling(ng, tmp, size, seconds=5, conns=64):
    body = json.dumps({"type": "order.paid", "timestamp": "2026-01-01T00:00:00Z",
                       "data": {"id": "evt-1", "pad": "x" * max(0, size - 60)}})
    script = os.path.join(tmp, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write("wrk.body = %s\n" % json.dumps(body))
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write('wrk.headers["webhook-id"] = "msg_bench"\n')
        f.write('wrk.headers["webhook-timestamp"] = "1767225600"\n')
        f.write('wrk.headers["webhook-signature"] = "v1,%s"\n' % ("A" * 44))
    url = ("https://localhost:%d/wrk" if ng.https else "http://127.0.0.1:%d/wrk") % ng.wrk_port
    out = subprocess.run([WRK, "-t1", "-c%d" % conns, "-d%ds" % seconds, "-s", script,
                          url], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else float("nan"), out


# ---- Kafka + bridge ---------------------------------------------------------------------------


def start_mock(partitions):
    p = subprocess.Popen([MOCK, "--brokers", "3", "--topic", "orders:%d" % partitions,
                          "--topic", "dlq:1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = p.stdout.readline().decode().strip()
    if not line.startswith("bootstrap="):
        raise SystemExit("wb-mock: %r" % line)
    return p, line.split("=", 1)[1]


def produce(bootstrap, n, size, keys, manifest, prefix, start=0, rate=None):
    args = [KAFKA, "produce", "--bootstrap", bootstrap, "--topic", "orders", "--count", str(n),
            "--size", str(size), "--keys", str(keys), "--id-prefix", prefix, "--start",
            str(start), "--manifest", manifest]
    if rate:
        args += ["--rate", "%d/s" % rate]
    out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit("wb-kafka produce failed: %s" % out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def partner_url(ng):
    return ("https://localhost:%d/hook" if ng.https else "http://127.0.0.1:%d/hook") % ng.port


def http2_mode(a):
    return ("auto" if a.https else "prior-knowledge") if a.http2 else "off"


def write_config(tmp, bootstrap, ng, a):
    conn = os.path.join(tmp, "partner.yaml")
    with open(conn, "w") as f:
        f.write("name: partner\ndirection: outbound\nurl: %s\n"
                "events: [\"*\"]\nsigning: { scheme: standard-webhooks, secrets: [\"%s\"] }\n"
                "ordering: %s\nmax_concurrency: %d\ntimeout: 10s\n"
                "retry: { schedule: [0s, 200ms, 500ms, 1s], on_exhausted: dead-letter }\n"
                "allow_private_networks: true\n"
                % (partner_url(ng), SECRET, a.ordering, a.concurrency))
        if a.http2 or a.https:  # (left out otherwise: older bridges know no such key)
            f.write("http2: %s\n" % http2_mode(a))
        if ng.ca:
            f.write("tls: { ca_file: \"%s\" }\n" % ng.ca)
    cfg = os.path.join(tmp, "bridge.yaml")
    with open(cfg, "w") as f:
        extra = "".join(", %s: \"%s\"" % tuple(kv.split("=", 1)) for kv in a.kafka)
        f.write("kafka: { bootstrap.servers: \"%s\", group.id: \"wb-bench-%d\", "
                "auto.offset.reset: earliest%s }\n" % (bootstrap, os.getpid(), extra))
        f.write("outbound: { topics: [orders], dead_letter_topic: dlq, "
                "max_in_flight_per_partition: %d, drain_timeout: 10s, id_pointer: /id, "
                "loops: %d%s }\n" % (a.max_in_flight, a.loops,
                ", fetch_buffer: %s" % a.fetch_buffer if a.fetch_buffer else ""))
        f.write("log: { level: warn, format: json }\n")
        f.write("connectors: [ \"%s\" ]\n" % conn)
    return cfg


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def read_manifest(path, into):
    with open(path) as f:
        for line in f:
            i, t = line.rstrip("\n").split("\t")
            into[i] = int(t)


def read_access(path):
    """[(msec float, webhook-id)] in log order."""
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                out.append((float(parts[0]), parts[1]))
    return out


def run_bridge(a, tmp, ng, ceiling):
    mock, bootstrap = start_mock(a.partitions)
    bridge = None
    try:
        produced_at = {}
        man = os.path.join(tmp, "backlog.tsv")
        s = produce(bootstrap, a.events, a.size, a.keys, man, "b-")
        read_manifest(man, produced_at)
        say("backlog: %d events produced (%.0f/s)" % (s["acked"], s["per_second"]))
        cfg = write_config(tmp, bootstrap, ng, a)
        err = open(os.path.join(tmp, "bridge.stderr"), "wb")
        bridge = subprocess.Popen([BRIDGE, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                                  stderr=err)
        t_start = time.monotonic()
        deadline = t_start + a.timeout
        while ng.lines() < a.events:
            if bridge.poll() is not None:
                err.flush()
                with open(err.name, "rb") as f:
                    tail = f.read().decode(errors="replace")[-1500:]
                raise SystemExit("the bridge exited with %s:\n%s" % (bridge.returncode, tail))
            if time.monotonic() > deadline:
                raise SystemExit("timed out: %d of %d delivered" % (ng.lines(), a.events))
            time.sleep(0.2)
        cpu_backlog = cpu_s(bridge.pid)
        say("backlog delivered in %.1fs (incl. start-up)" % (time.monotonic() - t_start))
        if a.live_events:
            man_live = os.path.join(tmp, "live.tsv")
            produce(bootstrap, a.live_events, a.size, a.keys, man_live, "l-",
                    start=a.events, rate=a.live_rate)
            read_manifest(man_live, produced_at)
            total = a.events + a.live_events
            while ng.lines() < total and time.monotonic() < deadline and bridge.poll() is None:
                time.sleep(0.2)
        cpu_total = cpu_s(bridge.pid)
        hwm = vm_hwm_kib(bridge.pid)
        bridge.send_signal(signal.SIGTERM)
        try:
            bridge.wait(20)
        except subprocess.TimeoutExpired:
            bridge.kill()
        bridge = None
        ng.stop()

        acc = read_access(ng.log)
        first_seen = {}
        for t, i in acc:
            first_seen.setdefault(i, t)
        backlog = [first_seen[i] for i in first_seen if i.startswith("b-")]
        live_lat = [(first_seen[i] * 1e6 - produced_at[i]) / 1000.0
                    for i in first_seen if i.startswith("l-") and i in produced_at]
        backlog_lat = [(first_seen[i] * 1e6 - produced_at[i]) / 1000.0
                       for i in first_seen if i.startswith("b-") and i in produced_at]
        span = max(backlog) - min(backlog) if len(backlog) > 1 else float("nan")
        rate = len(backlog) / span if span and span > 0 else float("nan")
        n_all = len(first_seen)
        return {
            "events": a.events, "partitions": a.partitions, "concurrency": a.concurrency,
            "max_in_flight_per_partition": a.max_in_flight,
            "window_total": a.max_in_flight * a.partitions,
            "delivered_unique": n_all, "requests": len(acc),
            "events_per_s": round(rate),
            "cpu_us_per_event": round(cpu_total * 1e6 / max(1, n_all), 1),
            "cpu_us_per_event_backlog": round(cpu_backlog * 1e6 / max(1, len(backlog)), 1),
            "latency_live_ms_p50": round(pct(live_lat, 50), 2),
            "latency_live_ms_p99": round(pct(live_lat, 99), 2),
            "live_events": len(live_lat), "live_rate": a.live_rate,
            "latency_backlog_ms_p50": round(pct(backlog_lat, 50), 1),
            "latency_backlog_ms_p99": round(pct(backlog_lat, 99), 1),
            "peak_rss_mib": round(hwm / 1024.0, 1),
            "receiver_ceiling_rps": round(ceiling),
            "ratio_to_ceiling": round(rate / ceiling, 3) if ceiling == ceiling and ceiling
            else None,
        }
    finally:
        if bridge is not None and bridge.poll() is None:
            bridge.kill()
            bridge.wait()
        mock.stdin.close()
        try:
            mock.wait(10)
        except subprocess.TimeoutExpired:
            mock.kill()


def client_only(a, ng, ceiling):
    """http_bench (the HTTP client alone) against the same nginx, beside wrk's ceiling."""
    if not os.path.exists(HTTP_BENCH):
        raise SystemExit("missing %s (build first or set WB_HTTP_BENCH)" % HTTP_BENCH)
    args = [HTTP_BENCH, partner_url(ng), "-n", str(a.events), "-c", str(a.concurrency),
            "--size", str(a.size), "--http2", http2_mode(a)]
    if ng.ca:
        args += ["--ca", ng.ca]
    out = subprocess.run(args, capture_output=True, text=True, timeout=a.timeout)
    lines = out.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise SystemExit("http_bench failed: %s%s" % (out.stdout, out.stderr))
    res = json.loads(lines[-1])  # printed even when some requests failed ("ok" says)
    if out.returncode != 0:
        say("http_bench: %d of %d requests not delivered: %s"
            % (res["requests"] - res["ok"], res["requests"], out.stderr.strip()[-300:]))
    res["receiver_ceiling_rps"] = round(ceiling)
    res["ratio_to_ceiling"] = round(res["requests_per_s"] / ceiling, 3) if ceiling else None
    res["https"] = a.https
    print("http client benchmark: %d requests x %d B, concurrency %d, %s, http2: %s"
          % (a.events, a.size, a.concurrency, "HTTPS (TLS 1.3)" if a.https else "HTTP",
             http2_mode(a)))
    print("  throughput      %8d requests/s (%d of %d delivered)"
          % (res["requests_per_s"], res["ok"], res["requests"]))
    print("  client CPU      %8.2f us/request (utime+stime of http_bench / requests)"
          % res["cpu_us_per_request"])
    print("  peak RSS        %8.1f MiB" % res["peak_rss_mib"])
    print("  receiver        %8d req/s ceiling (wrk -t1 -c64%s), client/ceiling = %s"
          % (res["receiver_ceiling_rps"], ", HTTPS" if a.https else "", res["ratio_to_ceiling"]))
    print(json.dumps(res, sort_keys=True))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--partitions", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--max-in-flight", type=int, default=320)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--ordering", default="key", choices=("key", "partition", "none"))
    ap.add_argument("--live-events", type=int, default=20000)
    ap.add_argument("--live-rate", type=int, default=5000)
    ap.add_argument("--timeout", type=int, default=600, help="seconds for the whole run")
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--nginx-workers", type=int, default=1)
    ap.add_argument("--https", action="store_true", help="TLS 1.3 partner (local CA)")
    ap.add_argument("--http2", action="store_true",
                    help="HTTP/2: by ALPN with --https, else h2c with prior knowledge")
    ap.add_argument("--read-body", action="store_true",
                    help="nginx reads the request body before answering (proxied to a second "
                    "server block) instead of `return 204` at once")
    ap.add_argument("--client-only", action="store_true",
                    help="the HTTP client alone (tests/bench/http_bench), no Kafka")
    ap.add_argument("--dry-run", action="store_true", help="nginx + wrk only")
    ap.add_argument("--kafka", action="append", default=None, metavar="KEY=VALUE",
                    help="extra librdkafka property for the bridge (repeatable; default "
                    "fetch.wait.max.ms=10: librdkafka's mock broker answers a fetch only when "
                    "that wait expires, a real broker as soon as data is there)")
    ap.add_argument("--loops", "--workers", dest="loops", type=int, default=1,
                    help="outbound.loops of the bridge (event-loop threads)")
    ap.add_argument("--fetch-buffer", default="",
                    help="outbound.fetch_buffer of the bridge (default: the bridge's)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    a = ap.parse_args()
    if a.kafka is None:
        a.kafka = ["fetch.wait.max.ms=10"]

    tmp = tempfile.mkdtemp(prefix="wb-bench-")
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    ng = Nginx(tmp, a.nginx_workers, https=a.https, http2=a.http2, read_body=a.read_body)
    try:
        ceiling, wrk_out = wrk_ceiling(ng, tmp, a.size, a.wrk_seconds)
        say("receiver ceiling (wrk -t1 -c64 -d%ds POST%s): %.0f req/s"
            % (a.wrk_seconds, ", HTTPS" if a.https else "", ceiling))
        if a.dry_run:
            print(json.dumps({"receiver_ceiling_rps": round(ceiling), "dry_run": True}))
            sys.stderr.write(wrk_out)
            return 0
        if a.client_only:
            return client_only(a, ng, ceiling)
        for p in (BRIDGE, MOCK, KAFKA):
            if not os.path.exists(p):
                raise SystemExit("missing %s (build first or set WB_BRIDGE/WB_MOCK/WB_KAFKA)" % p)
        res = run_bridge(a, tmp, ng, ceiling)
    finally:
        ng.stop()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say("kept %s" % tmp)
    res["https"] = a.https
    res["http2"] = http2_mode(a)
    print("outbound benchmark: %d events x %d B on %d partitions, concurrency %d, "
          "window %d/partition (%d total), %d loop(s), kafka %s, %s, http2: %s"
          % (a.events, a.size, a.partitions, a.concurrency, a.max_in_flight,
             res["window_total"], a.loops, " ".join(a.kafka) or "-",
             "HTTPS (TLS 1.3)" if a.https else "HTTP", http2_mode(a)))
    print("  throughput      %8d events/s   (first to last delivery of the backlog)"
          % res["events_per_s"])
    print("  bridge CPU      %8.1f us/event  (utime+stime over the run / events)"
          % res["cpu_us_per_event"])
    print("  latency live    p50 %.1f ms  p99 %.1f ms  (%d events at %d/s, append -> receiver)"
          % (res["latency_live_ms_p50"], res["latency_live_ms_p99"], res["live_events"],
             a.live_rate))
    print("  latency backlog p50 %.0f ms  p99 %.0f ms  (includes queueing behind the backlog)"
          % (res["latency_backlog_ms_p50"], res["latency_backlog_ms_p99"]))
    print("  peak RSS        %8.1f MiB" % res["peak_rss_mib"])
    print("  receiver        %8d req/s ceiling (wrk -t1 -c64), bridge/ceiling = %s"
          % (res["receiver_ceiling_rps"], res["ratio_to_ceiling"]))
    print(json.dumps(res, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
