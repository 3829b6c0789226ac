#!/usr/bin/python3
"""The test tools on their own (no bridge): wb-mock commands, wb-kafka produce / consume /
committed, receiver.js verification, status plans, Retry-After, down/up and stats."""

import base64
import hashlib
import hmac
import http.client
import json
import time

import harness as h


def sign(msg_id, ts, body, secret=h.SECRET):
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, ("%s.%d.%s" % (msg_id, ts, body)).encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def post(port, msg_id, data, etype="order.paid", tamper=False):
    body = json.dumps({"type": etype, "timestamp": "2026-01-01T00:00:00Z", "data": data})
    ts = int(time.time())
    hdrs = {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": sign(msg_id, ts, body), "content-type": "application/json"}
    if tamper:
        body = body.replace("order", "ordeR")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("POST", "/hook", body=body, headers=hdrs)
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("retry-after")
    finally:
        c.close()


def test_kafka(run):
    with h.mock({"orders": 4, "dlq": 1}) as m:
        s = h.produce(m.bootstrap, "orders", 1000, size=500, keys=50, id_prefix="t-",
                      manifest=run.tmp + "/manifest.tsv")
        h.check(s["acked"] == 1000 and s["failed"] == 0, "produce summary %r" % s)
        recs = h.consume(m.bootstrap, "orders")
        h.check(len(recs) == 1000, "consumed %d of 1000" % len(recs))
        by_key = {}
        for r in recs:
            v = json.loads(r["value"])
            h.check(r["key"] == v["key"] and r["headers"]["event-type"] == v["type"],
                    "key/header mismatch in %r" % r)
            h.check(450 <= len(r["value"]) <= 520, "value size %d" % len(r["value"]))
            by_key.setdefault(v["key"], set()).add(r["partition"])
        h.check(len(by_key) == 50, "keys %d" % len(by_key))
        h.check(all(len(p) == 1 for p in by_key.values()), "a key spans partitions")
        with open(run.tmp + "/manifest.tsv") as f:
            h.check(sum(1 for _ in f) == 1000, "manifest lines")

        # --stdin with explicit partition, headers and an object value
        h.produce_records(m.bootstrap, "dlq", [
            {"key": "a", "value": {"x": 1}, "headers": {"h1": "v1"}, "partition": 0}])
        d = h.consume(m.bootstrap, "dlq")
        h.check(len(d) == 1 and json.loads(d[0]["value"]) == {"x": 1},
                "stdin record %r" % d)
        h.check(d[0]["headers"] == {"h1": "v1"}, "stdin headers %r" % d[0]["headers"])

        # committed: a group consumer commits what it read
        g = "tools-%d" % time.time()
        got = h.consume(m.bootstrap, "orders", group=g, count=1000, eof=False, timeout=20)
        h.check(len(got) == 1000, "group consume %d" % len(got))
        c = h.committed(m.bootstrap, g, "orders")
        h.check(sum(c.values()) == 1000, "committed %r" % c)
        nothing = h.committed(m.bootstrap, g + "-none", "orders")
        h.check(all(v < 0 for v in nothing.values()), "fresh group committed %r" % nothing)

        # broker control
        m.cmd("alldown")
        m.cmd("allup")
        m.cmd("down 2")
        m.cmd("up 2")
        m.cmd("rtt 1 5")
        m.cmd("topic extra 3")
        try:
            m.cmd("down")
            h.check(False, "a bad command was accepted")
        except h.TestFailure as e:
            h.check("error" in str(e), str(e))
        s = h.produce(m.bootstrap, "extra", 30, keys=3)
        h.check(s["acked"] == 30, "produce to created topic %r" % s)
        run.summary["kafka_records"] = len(recs)


def test_receiver(run):
    plan = [{"count": 2, "status": 503, "retry_after": "2"}]
    types = [{"type": "return.received", "status": 400}]
    with h.receiver(run.tmp, status_plan=plan, type_status=types, latency_ms="0-5") as r:
        h.check(post(r.port, "a", {"key": "k1", "seq": 0}) == (503, "2"), "plan step 1")
        h.check(post(r.port, "a", {"key": "k1", "seq": 0})[0] == 503, "plan step 2")
        h.check(post(r.port, "a", {"key": "k1", "seq": 0})[0] == 204, "after the plan")
        h.check(post(r.port, "b", {}, etype="return.received")[0] == 400, "type override")
        h.check(post(r.port, "c", {}, tamper=True)[0] == 401, "tampered body accepted")
        st = r.stats()
        h.check(st["received"] == 5 and st["verified"] == 4, "stats %r" % st)
        h.check(st["by_status"] == {"503": 2, "204": 1, "400": 1, "401": 1}, "by_status %r" % st)
        h.check(st["unique_2xx"] == 1, "unique_2xx %r" % st)

        r.control(down=True)
        time.sleep(0.2)
        try:
            post(r.port, "d", {})
            h.check(False, "request accepted while down")
        except OSError:
            pass
        r.control(down=False)
        h.wait_until(lambda: _up(r.port), 5, what="receiver back up")
        r.control(down=True, for_ms=500)
        time.sleep(0.1)
        h.check(not _up(r.port), "still up after down")
        h.wait_until(lambda: _up(r.port), 5, what="receiver up after for_ms")
        r.control(status=500)
        h.check(post(r.port, "e", {})[0] == 500, "control status")
        r.control(status=None)
        h.check(post(r.port, "e", {})[0] == 204, "control status reset")

        time.sleep(0.3)
        recs = r.records()
        h.check(len(recs) >= 7, "records %d" % len(recs))
        a = [x for x in recs if x["id"] == "a"]
        h.check([x["attempt"] for x in a] == [1, 2, 3], "attempts %r" % a)
        h.check(a[0]["key"] == "k1" and a[0]["seq"] == 0 and a[0]["type"] == "order.paid",
                "record fields %r" % a[0])
        lost, dups, unver = h.account(["a", "b"], recs)
        h.check(lost == ["b"] and dups == 0 and unver == 1, "account %r" % ((lost, dups, unver),))
    with h.receiver(run.tmp, fail_first=2, name="ff") as r:
        codes = [post(r.port, "x", {})[0] for _ in range(3)]
        h.check(codes == [500, 500, 204], "fail-first %r" % codes)
    run.summary["receiver"] = "ok"


def _up(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/_stats")
        c.getresponse().read()
        c.close()
        return True
    except OSError:
        return False


def test(run):
    test_kafka(run)
    test_receiver(run)


if __name__ == "__main__":
    h.main(test, timeout=80, needs_bridge=False)
