#!/usr/bin/python3
"""/readyz: 503 or unreachable before start-up completes, 200 once the consumer is assigned
and the producer connected; `alldown` on wb-mock -> 503 within a bound naming the producer
(kafka unreachable), /healthz stays 200 (loops still turn); `allup` -> 200 again and
deliveries resume."""

import json
import time

import harness as h

P = "rd-"
FLIP_BOUND = 20  # seconds for /readyz to notice the cluster going away / coming back


def readyz(port):
    st, body = h.http_get(port, "/readyz", timeout=3)
    try:
        doc = json.loads(body) if st else {}
    except ValueError:
        doc = {"raw": body}
    return st, doc


def test(run):
    with h.mock({"orders": 2, "dlq": 1}) as m, h.receiver(run.tmp) as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, admin=True)
        with h.bridge(run.tmp, cfg) as b:
            port = h.admin_port(b)
            t0 = time.monotonic()
            h.wait_until(lambda: readyz(port)[0] == 200, 20, interval=0.2,
                         what="/readyz 200 after start", alive=[b])
            run.summary["ready_after_s"] = round(time.monotonic() - t0, 2)
            st, doc = readyz(port)
            h.check(doc.get("status") == "ready", "/readyz body %r" % doc)
            h.produce(m.bootstrap, "orders", 20, id_prefix=P)
            h.wait_delivered(r, h.ids(P, 20), 20, alive=[b, r])

            m.cmd("alldown")
            t1 = time.monotonic()
            h.wait_until(lambda: readyz(port)[0] == 503, FLIP_BOUND, interval=0.2,
                         what="/readyz 503 after alldown", alive=[b])
            run.summary["unready_after_s"] = round(time.monotonic() - t1, 2)
            st, doc = readyz(port)
            checks = doc.get("checks", {})
            run.summary["checks_down"] = checks
            h.check(doc.get("status") == "not ready", "/readyz body while down: %r" % doc)
            bad = {k: v for k, v in checks.items() if v != "ok"}
            h.check(any("producer" in k or "kafka" in (v or "").lower()
                        for k, v in bad.items()),
                    "the failing check does not name the producer/kafka: %r" % checks)
            st, _ = h.http_get(port, "/healthz")
            h.check(st == 200, "/healthz answered %s while the cluster is down" % st)
            # stays unready while down (not a blip)
            time.sleep(2)
            h.check(readyz(port)[0] == 503, "/readyz back to 200 while brokers still down")

            m.cmd("allup")
            t2 = time.monotonic()
            h.wait_until(lambda: readyz(port)[0] == 200, FLIP_BOUND, interval=0.2,
                         what="/readyz 200 after allup", alive=[b])
            run.summary["ready_again_after_s"] = round(time.monotonic() - t2, 2)
            h.produce(m.bootstrap, "orders", 20, id_prefix=P, start=20)
            recs = h.wait_delivered(r, h.ids(P, 40), 40, alive=[b, r])
            lost, _ = h.summarize(run, h.ids(P, 40), recs)
            h.check(not lost, "lost %d events" % len(lost))


if __name__ == "__main__":
    h.main(test)
