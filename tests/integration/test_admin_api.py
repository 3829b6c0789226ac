#!/usr/bin/python3
"""The connectors admin API (issue 8): two connectors a and b on one topic.
- POST /connectors/b/pause without the bearer token (or a wrong one) is refused (401),
  with it accepted (202); GET /connectors then shows b paused, a running;
- events produced while b is paused: a receives every one of them, b none; b's lag (in
  GET /connectors and webhook_bridge_connector_lag_records) grows to the number produced and
  its oldest undelivered age grows; nothing is dead-lettered;
- POST /connectors/b/resume: b receives the whole backlog, in per-key order, and its lag goes
  back to 0; an unknown connector is a 404 problem."""

import http.client
import json
import os
import time

import harness as h

N1, N2, P = 60, 200, "ad-"
TOKEN = "admin-token-for-the-test-0123456789"


def call(port, method, path, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        hdrs = {"authorization": "Bearer " + token} if token else {}
        c.request(method, path, headers=hdrs)
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        try:
            return r.status, json.loads(body), dict(r.getheaders())
        except ValueError:
            return r.status, body, dict(r.getheaders())
    finally:
        c.close()


def state_of(port, name):
    st, doc, _ = call(port, "GET", "/connectors")
    h.check(st == 200, "GET /connectors answered %s: %r" % (st, doc))
    for c in doc["connectors"]:
        if c["name"] == name:
            return c
    raise h.TestFailure("GET /connectors has no %s: %r" % (name, doc))


def test(run):
    os.environ["WB_TEST_ADMIN_TOKEN"] = TOKEN
    with h.mock({"orders": 2, "dlq": 1}) as m, h.receiver(run.tmp, name="a") as ra, \
            h.receiver(run.tmp, name="b") as rb:
        cfg = h.write_config(run.tmp, m.bootstrap, ra.url, admin=True)
        ca = h.write_connector(run.tmp, "a", ra.url, extra=["ordering: key"])
        cb = h.write_connector(run.tmp, "b", rb.url, extra=["ordering: key"])
        h.set_connectors(cfg, [ca, cb])
        with open(cfg) as f:
            text = f.read().replace('admin: { listen: "127.0.0.1:0" }',
                                    'admin: { listen: "127.0.0.1:0", token: '
                                    '"${WB_TEST_ADMIN_TOKEN}" }')
        with open(cfg, "w") as f:
            f.write(text)
        with h.bridge(run.tmp, cfg) as b:
            port = h.admin_port(b)
            h.produce(m.bootstrap, "orders", N1, id_prefix=P, keys=20)
            h.wait_delivered(ra, h.ids(P, N1), 30, alive=[b])
            h.wait_delivered(rb, h.ids(P, N1), 30, alive=[b])

            st, doc, hd = call(port, "POST", "/connectors/b/pause")
            h.check(st == 401 and "bearer" in hd.get("WWW-Authenticate", "").lower(),
                    "pause without a token: %s %r %r" % (st, doc, hd))
            st, doc, _ = call(port, "POST", "/connectors/b/pause", token="wrong")
            h.check(st == 401, "pause with a wrong token: %s %r" % (st, doc))
            st, doc, _ = call(port, "POST", "/connectors/nope/pause", token=TOKEN)
            h.check(st == 404, "pause of an unknown connector: %s %r" % (st, doc))
            st, doc, _ = call(port, "POST", "/connectors/b/pause", token=TOKEN)
            h.check(st == 202 and doc.get("paused") is True, "pause: %s %r" % (st, doc))
            h.wait_until(lambda: state_of(port, "b")["state"] == "paused", 5, interval=0.2,
                         what="b paused in GET /connectors", alive=[b])
            h.wait_until(lambda: state_of(port, "a")["state"] == "running", 5, interval=0.2,
                         what="a running in GET /connectors", alive=[b])

            nb = len(rb.records())
            h.produce(m.bootstrap, "orders", N2, id_prefix=P, keys=20, start=N1)
            h.wait_delivered(ra, h.ids(P, N1 + N2), 30, alive=[b],
                             what="a's deliveries while b is paused")
            lag = h.wait_until(lambda: (lambda s: s if (s["lag"] or 0) >= N2 else None)(
                state_of(port, "b")), 25, interval=0.5, what="b's lag growing to %d" % N2,
                alive=[b])
            time.sleep(1.5)
            later = state_of(port, "b")
            metric = h.metric(h.scrape(port), "webhook_bridge_connector_lag_records",
                              connector="b")
            run.summary.update({"b_lag_paused": lag["lag"], "b_lag_metric": metric,
                                "b_oldest_s": later["oldest_undelivered_seconds"],
                                "a_lag": state_of(port, "a")["lag"]})
            h.check(len(rb.records()) == nb, "paused b received %d requests"
                    % (len(rb.records()) - nb))
            h.check(metric is not None and metric >= N2, "lag metric of b: %r" % metric)
            h.check(later["oldest_undelivered_seconds"] > 0,
                    "b's oldest undelivered age did not grow: %r" % later)

            st, doc, _ = call(port, "POST", "/connectors/b/resume", token=TOKEN)
            h.check(st == 202 and doc.get("paused") is False, "resume: %s %r" % (st, doc))
            recs = h.wait_delivered(rb, h.ids(P, N1 + N2), 30, alive=[b],
                                    what="b's backlog after resume")
            h.wait_until(lambda: state_of(port, "b")["lag"] == 0, 25, interval=0.5,
                         what="b's lag back to 0", alive=[b])
            seen, last, bad = set(), {}, 0
            for x in recs:
                if x["id"] in seen or not 200 <= x["status"] < 300:
                    continue
                seen.add(x["id"])
                if x["per_key_seq"] <= last.get(x["key"], -1):
                    bad += 1
                last[x["key"]] = x["per_key_seq"]
            run.summary["order_violations"] = bad
            h.check(bad == 0, "per-key order broken %d times after resume" % bad)
            h.check(not h.consume(m.bootstrap, "dlq", timeout=2), "something was dead-lettered")


if __name__ == "__main__":
    h.main(test, timeout=120)
