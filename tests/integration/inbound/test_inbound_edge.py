#!/usr/bin/python3
"""The real `webhook-bridge run` binary against wb-mock, driven by real clients over loopback
sockets, at the edges of the inbound listener (issue 9):

- 9.14  a 3 MiB body over max_body, sent without waiting for 100 Continue, by Node's fetch
        (undici) and by Python's http.client: both read the 413 problem+json (before: the
        connection was reset while they were still sending, fetch failed);
- 9.7   a client dribbling its request head one byte at a time is cut at header_timeout from
        the accept, long before the idle timeout could matter, and counted in /metrics; the
        same on the admin endpoint;
- 9.2   a signed Stripe event whose id carries a JSON-escaped newline is refused with 400
        naming the field, and nothing reaches Kafka (read back with wb-kafka);
- 9.8   a request without its signature headers is refused before its body is read;
- the admin endpoint exports webhook_bridge_ready.

Bounded: about 20 s; every process is stopped by its context manager."""

import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness as h  # noqa: E402

STRIPE_SECRET = "whsec_edge_test_secret"


def write_config(tmp, bootstrap):
    conns = os.path.join(tmp, "connectors")
    os.mkdir(conns)
    with open(os.path.join(conns, "stripe.yaml"), "w") as f:
        f.write("name: stripe\n"
                "direction: inbound\n"
                "topic: in.stripe\n"
                "verify: { scheme: stripe, secrets: [\"%s\"], tolerance: 5m }\n"
                "event_type: /type\n"
                "max_body: 64KiB\n" % STRIPE_SECRET)
    path = os.path.join(tmp, "bridge.yaml")
    with open(path, "w") as f:
        f.write("kafka: { bootstrap.servers: %s }\n" % json.dumps(bootstrap))
        f.write("inbound: { listen: \"127.0.0.1:0\", header_timeout: 1s, request_timeout: 5s }\n"
                "admin: { listen: \"127.0.0.1:0\" }\n"
                "log: { level: info, format: json }\n"
                "connectors: connectors\n")
    return path


def port_of(b, what):
    pat = {"inbound": rb"inbound listener on port (\d+)",
           "admin": rb"admin endpoint on port (\d+)"}[what]

    def find():
        try:
            with open(b.err_path, "rb") as f:
                m = re.search(pat, f.read())
        except FileNotFoundError:
            return None
        return int(m.group(1)) if m else None
    return h.wait_until(find, 15, what="the %s port in the bridge log" % what, alive=[b])


def stripe_headers(body):
    ts = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), b"%d.%s" % (ts, body), hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "stripe-signature": "t=%d,v1=%s" % (ts, mac)}


def post(port, body, headers, path="/webhooks/stripe"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        c.request("POST", path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.getheader("content-type"), r.read().decode(errors="replace")
    finally:
        c.close()


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        c.close()


def metric(admin, series):
    status, text = get(admin, "/metrics")
    h.check(status == 200, "/metrics answered %d" % status)
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


NODE_FETCH = r"""
const [port] = process.argv.slice(1);
const body = Buffer.alloc(3 * 1024 * 1024, 0x78);
try {
  const r = await fetch(`http://127.0.0.1:${port}/webhooks/stripe`, {
    method: "POST", body, headers: { "content-type": "application/json" } });
  console.log(JSON.stringify({ status: r.status, type: r.headers.get("content-type"),
                               body: await r.text() }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e), cause: String(e.cause) }));
}
"""


def big_body_413(run, port):
    # Node's fetch sends the whole body without Expect: 100-continue.
    p = subprocess.run([h.NODE, "--input-type=module", "-e", NODE_FETCH, str(port)],
                       capture_output=True, timeout=30)
    out = p.stdout.decode(errors="replace").strip().splitlines()
    h.check(out, "node fetch printed nothing: %s" % p.stderr.decode(errors="replace")[-500:])
    res = json.loads(out[-1])
    h.check("error" not in res, "fetch of 3 MiB failed instead of reading the 413: %s" % res)
    h.check(res["status"] == 413, "fetch got %s" % res)
    h.check(res["type"] == "application/problem+json", "fetch got content-type %s" % res["type"])
    h.check("max_body" in res["body"], "413 body: %s" % res["body"])
    # Python's http.client writes the whole body, then reads the answer.
    status, ctype, text = post(port, b"x" * (3 << 20), {"content-type": "application/json"})
    h.check(status == 413 and ctype == "application/problem+json",
            "http.client got %d %s %s" % (status, ctype, text[:200]))
    run.summary["big_body"] = "413 read by fetch and http.client"


def slow_head(port, admin, endpoint, path, deadline_s):
    before = metric(admin, 'webhook_bridge_inbound_request_timeouts_total{endpoint="%s",'
                    'phase="headers"}' % endpoint) or 0
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "X-Pad: %s\r\n" % (path, "a" * 200)).encode()
    t0 = time.monotonic()
    cut = False
    s.settimeout(0.25)
    for i in range(len(head)):
        try:
            s.send(head[i:i + 1])
            if s.recv(4096) == b"":
                cut = True
                break
        except socket.timeout:
            continue
        except OSError:
            cut = True
            break
    took = time.monotonic() - t0
    s.close()
    h.check(cut, "%s: a byte-a-time request head was never cut" % endpoint)
    h.check(deadline_s - 0.2 <= took < deadline_s + 1.5,
            "%s: cut after %.2fs, header deadline %ss" % (endpoint, took, deadline_s))
    after = metric(admin, 'webhook_bridge_inbound_request_timeouts_total{endpoint="%s",'
                   'phase="headers"}' % endpoint)
    h.check(after == before + 1, "%s: timeouts metric %s -> %s" % (endpoint, before, after))
    return took


def test(run):
    with h.mock({"in.stripe": 1}, brokers=1) as m:
        cfg = write_config(run.tmp, m.bootstrap)
        p = subprocess.run([h.BRIDGE, "check", "-c", cfg], capture_output=True, timeout=20)
        h.check(p.returncode == 0, "check: %s" % (p.stdout + p.stderr).decode()[-500:])
        with h.bridge(run.tmp, cfg) as b:
            port = port_of(b, "inbound")
            admin = port_of(b, "admin")
            h.wait_until(lambda: get(admin, "/readyz")[0] == 200, 20, what="ready", alive=[b])
            h.check(metric(admin, "webhook_bridge_ready") == 1, "webhook_bridge_ready is not 1")

            # a good event goes through (the pipeline works at all)
            good = b'{"id":"evt_ok_1","type":"invoice.paid"}'
            status, _, text = post(port, good, stripe_headers(good))
            h.check(status == 200 and '"offset"' in text, "good event: %d %s" % (status, text))

            # 9.2: an id with a JSON-escaped newline never becomes ce_id
            bad = b'{"id":"evt_1\\nX-Injected: yes","type":"invoice.paid"}'
            status, ctype, text = post(port, bad, stripe_headers(bad))
            h.check(status == 400 and ctype == "application/problem+json",
                    "injected id: %d %s" % (status, text))
            h.check('body field \\"id\\" contains a control character' in text, text)

            # 9.8: no signature headers: refused from the head (the body is drained, unread)
            status, _, text = post(port, b'{"id":"evt_2"}', {"content-type": "application/json"})
            h.check(status == 401 and "missing Stripe-Signature header" in text, text)

            big_body_413(run, port)
            run.summary["inbound_cut_s"] = round(slow_head(port, admin, "inbound",
                                                           "/webhooks/stripe", 1.0), 2)
            run.summary["admin_cut_s"] = round(slow_head(admin, admin, "admin", "/metrics",
                                                         5.0), 2)
            b.assert_alive()
            status, _, text = post(port, good, stripe_headers(good))
            h.check(status == 200 and "duplicate" in text, "after the edges: %d %s"
                    % (status, text))

            recs = h.consume(m.bootstrap, "in.stripe", timeout=5)
            ids = [r.get("headers", {}).get("ce_id") for r in recs]
            h.check(len(recs) == 1, "expected exactly the good event on Kafka, got %s" % ids)
            run.summary["published"] = len(recs)
            rc, took = b.terminate(15)
            h.check(rc == 0, "bridge exited %s after SIGTERM" % rc)


if __name__ == "__main__":
    h.main(test, timeout=90)
