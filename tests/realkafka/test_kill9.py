#!/usr/bin/env python3
"""kill -9 of the bridge mid-stream on a real 3-node cluster (as tests/integration/test_kill9.py
does on the mock cluster), then a restart: every event is delivered (lost 0), duplicates stay
within the in-flight windows plus one commit interval, each duplicate carries the event's own
webhook-id, per-key order holds, and the group commits to the end of every partition."""

import time

import realkafka as rk

h = rk.h
N, P, PARTS, WINDOW, COMMIT_MS = 6000, "k9-", 4, 250, 200


def test(run):
    with rk.kafka_cluster(run, {"orders": PARTS, "dlq": 1}) as c, \
            h.receiver(run.tmp, latency_ms="2-10") as r:
        cfg = h.write_config(run.tmp, c.bootstrap, r.url, max_in_flight=WINDOW,
                             outbound_extra="commit_interval: %dms" % COMMIT_MS)
        produced = h.produce(c.bootstrap, "orders", N, keys=20, size=300, id_prefix=P,
                              idempotent=True)
        h.check(produced["acked"] == N, "producer: %r" % produced)
        with h.bridge(run.tmp, cfg) as b:
            t0 = time.monotonic()
            recs, at_kill, rate = h.kill9_midstream(b, r, h.ids(P, N), 1500, timeout=90,
                                                    wait_before=60)
            run.summary["start_to_done_s"] = round(time.monotonic() - t0, 1)
            rk.wait_committed_to_end(c.bootstrap, h.connector_group(cfg, "partner"), "orders",
                                     60, alive=[b])
            rc, _ = b.terminate(20)
            h.check(rc == 0, "bridge exit %s on SIGTERM" % rc)
        pos = rk.source_positions(c.bootstrap, "orders", h.ids(P, N))
        bound = PARTS * WINDOW + int(rate * COMMIT_MS / 1000.0) + 64
        rk.check_outbound(run.summary, recs, h.ids(P, N), P, dup_bound=bound,
                          positions=pos)
        run.summary.update({"delivered_at_kill": at_kill, "rate_at_kill": int(rate)})


if __name__ == "__main__":
    h.main(test, timeout=240)
