#!/usr/bin/python3
"""Every shape of config that `check` accepts must also run: an inbound-only bridge (no
`outbound:` section at all), and `outbound.topics` with no outbound connector. Each one is
checked, started, must become ready, serve a signed inbound webhook end to end (published to
Kafka, read back with wb-kafka) and stop on SIGTERM with exit 0.

Regression for: "An inbound-only bridge does not start" (`max_total_connections must be
>= 1` while `check` said the config was fine)."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import time

import harness as h

SECRET = h.SECRET  # whsec_<base64>


def sign(msg_id, ts, body):
    key = base64.b64decode(SECRET.split("_", 1)[1])
    mac = hmac.new(key, b"%s.%d.%s" % (msg_id.encode(), ts, body), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def write_shape(tmp, name, bootstrap, outbound):
    inbound = os.path.join(tmp, name + "-in.yaml")
    with open(inbound, "w") as f:
        f.write("name: platform\n"
                "direction: inbound\n"
                "topic: inbound.events\n"
                "verify: { scheme: standard-webhooks, secrets: [\"%s\"] }\n"
                "key: /id\n" % SECRET)
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write("kafka: { bootstrap.servers: %s, group.id: wb-shapes-%d }\n"
                % (json.dumps(bootstrap), os.getpid()))
        if outbound:
            f.write(outbound)
        f.write("inbound: { listen: \"127.0.0.1:0\" }\n"
                "admin: { listen: \"127.0.0.1:0\" }\n"
                "log: { level: info, format: json }\n"
                "connectors: [ %s ]\n" % json.dumps(inbound))
    return path


def inbound_port(b, timeout=15):
    def find():
        try:
            with open(b.err_path, "rb") as f:
                m = re.search(rb"inbound listener on port (\d+)", f.read())
        except FileNotFoundError:
            return None
        return int(m.group(1)) if m else None
    return h.wait_until(find, timeout, what="the inbound port in the bridge log", alive=[b])


def post_webhook(port, msg_id, body):
    ts = int(time.time())
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/webhooks/platform", body=body,
                  headers={"content-type": "application/json", "webhook-id": msg_id,
                           "webhook-timestamp": str(ts),
                           "webhook-signature": sign(msg_id, ts, body)})
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        c.close()


def one_shape(run, m, name, outbound):
    cfg = write_shape(run.tmp, name, m.bootstrap, outbound)
    p = subprocess.run([h.BRIDGE, "check", "-c", cfg], capture_output=True, timeout=20)
    h.check(p.returncode == 0, "%s: check refused the config: %s"
            % (name, (p.stdout + p.stderr).decode(errors="replace")[-600:]))
    with h.bridge(run.tmp, cfg, name=name) as b:
        port = h.admin_port(b)
        h.wait_until(lambda: h.http_get(port, "/readyz")[0] == 200, 20, interval=0.2,
                     what="%s: /readyz 200" % name, alive=[b])
        msg_id = "msg_%s_1" % name
        body = json.dumps({"id": "evt_%s" % name, "type": "shape.tested"}).encode()
        st, text = post_webhook(inbound_port(b), msg_id, body)
        h.check(st == 200, "%s: inbound answered %s %s" % (name, st, text[:300]))
        recs = h.consume(m.bootstrap, "inbound.events", timeout=10)
        mine = [r for r in recs if r.get("key") == "evt_%s" % name]
        h.check(len(mine) == 1, "%s: %d records published for the webhook (want 1): %r"
                % (name, len(mine), recs[-3:]))
        rc, took = b.terminate(20)
        h.check(rc == 0, "%s: SIGTERM exit %s after %.1fs; stderr:%s"
                % (name, rc, took, b.stderr_tail()))
        run.summary[name] = {"exit": rc, "stop_s": round(took, 2)}


def test(run):
    with h.mock({"orders": 2, "dlq": 1, "inbound.events": 2}) as m:
        one_shape(run, m, "inbound_only", None)
        one_shape(run, m, "no_outbound_connectors",
                  "outbound: { topics: [orders], dead_letter_topic: dlq }\n")


if __name__ == "__main__":
    h.main(test, timeout=85)
