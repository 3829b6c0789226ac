#!/usr/bin/python3
"""Every shape of config that `check` accepts must also run: an inbound-only bridge (no
`outbound:` section at all), and `outbound.topics` with no outbound connector. Each one is
checked, started, must become ready, serve a signed inbound webhook end to end (published to
Kafka, read back with wb-kafka) and stop on SIGTERM with exit 0.

Regression for: "An inbound-only bridge does not start" (`max_total_connections must be
>= 1` while `check` said the config was fine)."""

import json
import os
import subprocess

import harness as h


def write_shape(tmp, name, bootstrap, outbound):
    inbound = h.write_inbound_connector(tmp, "platform", "inbound.events", key="/id")
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
        st, _, text = h.post_webhook(h.inbound_port(b), "platform", msg_id, body)
        h.check(st == 200, "%s: inbound answered %s %s" % (name, st, text[:300]))
        recs = h.consume(m.bootstrap, "inbound.events", timeout=10)
        mine = [r for r in recs if r.get("key") == "evt_%s" % name]
        h.check(len(mine) == 1, "%s: %d records published for the webhook (want 1): %r"
                % (name, len(mine), recs[-3:]))
        rc, took = b.terminate(20)
        h.check(rc == 0, "%s: SIGTERM exit %s after %.1fs; stderr:%s"
                % (name, rc, took, b.stderr_tail()))
        run.summary[name] = {"exit": rc, "stop_s": round(took, 2)}


def check_and_run_agree(run, m):
    """`check` builds what `run` builds (issue 9 item 11): a config run refuses, check refuses
    with the same message -- an allow_cidrs entry with host bits set used to pass check and
    fail run."""
    conn = os.path.join(run.tmp, "cidr-partner.yaml")
    with open(conn, "w") as f:
        f.write("name: partner\ndirection: outbound\nurl: https://partner.example/hook\n"
                "events: [\"*\"]\nsigning: { secrets: [\"%s\"] }\n"
                "allow_cidrs: [\"10.20.0.1/16\"]\n" % h.SECRET)
    cfg = os.path.join(run.tmp, "cidr.yaml")
    with open(cfg, "w") as f:
        f.write("kafka: { bootstrap.servers: %s, group.id: wb-shapes-cidr }\n"
                "outbound: { topics: [orders], dead_letter_topic: dlq }\n"
                "connectors: [ %s ]\n" % (json.dumps(m.bootstrap), json.dumps(conn)))
    c = subprocess.run([h.BRIDGE, "check", "-c", cfg], capture_output=True, timeout=20)
    r = subprocess.run([h.BRIDGE, "run", "-c", cfg], capture_output=True, timeout=30)
    ce, re_ = c.stderr.decode(errors="replace"), r.stderr.decode(errors="replace")
    run.summary["check_vs_run"] = {"check": c.returncode, "run": r.returncode}
    h.check(c.returncode != 0 and "allow_cidrs" in ce and "host bits" in ce,
            "check accepted an allow_cidrs entry with host bits set: %r" % ce[-300:])
    h.check(r.returncode != 0 and "allow_cidrs" in re_,
            "run did not refuse the same config: exit %d %r" % (r.returncode, re_[-300:]))


def test(run):
    with h.mock({"orders": 2, "dlq": 1, "inbound.events": 2}) as m:
        one_shape(run, m, "inbound_only", None)
        one_shape(run, m, "no_outbound_connectors",
                  "outbound: { topics: [orders], dead_letter_topic: dlq }\n")
        check_and_run_agree(run, m)


if __name__ == "__main__":
    h.main(test, timeout=85)
