#!/usr/bin/python3
"""Dead-letter writes that fail (issue 9 item 3), against wb-mock:

1. can never succeed: a ~1.2 MB value that is not JSON must be parked, but the full record is
   over the producer's message.max.bytes: a REDUCED record is written instead (headers and
   source coordinates, no value, wb-dead-letter-reduced), counted in
   webhook_bridge_dead_letter_reduced_total; the partition's offsets move past it and the
   JSON records around it are delivered. (Before: "Message size too large" retried every
   second forever, commits stuck, readiness green.)
2. fails for a while: every Produce request is refused (NOT_ENOUGH_REPLICAS) while a small
   poison record is parked: the write is retried with backoff, counted as transient, /readyz
   turns 503 naming the dead-letter writes, the committed offset stays before the poison
   record; once the errors stop the write lands, readiness is green and the offsets reach the
   end. The poison record is produced and the errors armed while the bridge is stopped, so
   its first dead-letter write of that record already fails."""

import json

import harness as h

P = "dq-"
PRODUCE_API, NOT_ENOUGH_REPLICAS = 0, 19


def readyz(port):
    st, body = h.http_get(port, "/readyz", timeout=3)
    return st, body


def test(run):
    with h.mock({"orders": 1, "dlq": 1}) as m, h.receiver(run.tmp) as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, admin=True,
                             kafka_extra={"message.timeout.ms": 1500})
        group = h.connector_group(cfg)
        big = "x" * (1200 * 1024)
        recs = [{"key": "k", "value": json.dumps({"id": "%s%d" % (P, i), "type": "t"})}
                for i in range(10)]
        recs.append({"key": "big", "value": big, "headers": {"event-type": "t"}})
        recs += [{"key": "k", "value": json.dumps({"id": "%s%d" % (P, i), "type": "t"})}
                 for i in range(10, 20)]
        h.produce_records(m.bootstrap, "orders", recs, kafka=["message.max.bytes=2000000"])
        with h.bridge(run.tmp, cfg) as b:
            port = h.admin_port(b)
            h.wait_delivered(r, h.ids(P, 20), 30, alive=[b])
            h.wait_until(lambda: h.committed(m.bootstrap, group, "orders").get(0) == 21, 20,
                         interval=0.3, what="offsets past the oversized poison record",
                         alive=[b])
            dlq = h.consume(m.bootstrap, "dlq", timeout=3)
            red = [d for d in dlq if d["headers"].get("wb-dead-letter-reduced")]
            p = h.scrape(port)
            reduced = h.metric(p, "webhook_bridge_dead_letter_reduced_total", connector="partner")
            perm = h.metric(p, "webhook_bridge_dead_letter_write_failures_total",
                            kind="permanent")
            run.summary.update({"reduced_records": len(red), "reduced_metric": reduced,
                                "permanent_failures": perm})
            h.check(len(red) == 1, "want one reduced dead-letter record, got %r"
                    % [d["headers"] for d in dlq])
            hd = red[0]["headers"]
            h.check(not red[0].get("value") and not red[0].get("value_b64"),
                    "the reduced record carries a value")
            h.check(hd.get("wb-source-offset") == "10" and hd.get("wb-connector") == "partner"
                    and hd.get("wb-error-reason", "").startswith("decode"),
                    "reduced record headers: %r" % hd)
            h.check(reduced == 1, "dead_letter_reduced_total = %r" % reduced)
            h.check(perm and perm >= 1, "no permanent dead-letter failure counted")

        # 2. transient: every Produce fails for a while. The bridge is stopped while the
        # test's own producer writes the poison record and the errors are armed: were it
        # running, it could fetch the record in a gap with no errors and park it at once.
        # The restarted bridge resumes from the committed offset 21, so its first fetch
        # holds the poison record and its first dead-letter write already fails.
        more = [{"key": "k", "value": "not json {", "headers": {"event-type": "t"}}]
        more += [{"key": "k", "value": json.dumps({"id": "%s%d" % (P, i), "type": "t"})}
                 for i in range(20, 25)]
        h.produce_records(m.bootstrap, "orders", more)
        m.cmd("errors %d 100000 %d" % (PRODUCE_API, NOT_ENOUGH_REPLICAS))
        with h.bridge(run.tmp, cfg, name="bridge2") as b:
            port = h.admin_port(b)
            h.wait_delivered(r, h.ids(P, 25), 30, alive=[b])
            h.wait_until(lambda: readyz(port)[0] == 503, 20, interval=0.3,
                         what="/readyz 503 while dead-letter writes fail", alive=[b])
            st, body = readyz(port)
            h.check("dead-letter" in body, "/readyz does not name the dead-letter writes: %s"
                    % body)
            c_stuck = h.committed(m.bootstrap, group, "orders").get(0)
            h.check(c_stuck == 21, "committed %r moved past the unparked poison record at 21"
                    % c_stuck)
            trans = h.metric(h.scrape(port), "webhook_bridge_dead_letter_write_failures_total",
                             kind="transient")
            h.check(trans and trans >= 1, "no transient dead-letter failure counted")
            m.cmd("clear_errors %d" % PRODUCE_API)
            h.wait_until(lambda: h.committed(m.bootstrap, group, "orders").get(0) == 27, 40,
                         interval=0.3, what="offsets at the end once writes succeed",
                         alive=[b])
            h.wait_until(lambda: readyz(port)[0] == 200, 20, interval=0.3,
                         what="/readyz 200 again", alive=[b])
            run.summary.update({"transient_failures": trans, "committed_while_failing": c_stuck})


if __name__ == "__main__":
    h.main(test, timeout=150)
