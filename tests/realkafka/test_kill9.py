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
                             kafka_extra={"auto.commit.interval.ms": COMMIT_MS})
        produced = h.produce(c.bootstrap, "orders", N, keys=20, size=300, id_prefix=P)
        h.check(produced["acked"] == N, "producer: %r" % produced)
        with h.bridge(run.tmp, cfg) as b:
            h.wait_until(lambda: r.stats()["unique_2xx"] >= 1500, 60, interval=0.02,
                         alive=[b, r], what="1500 deliveries before the kill")
            t0 = time.monotonic()
            n0 = r.stats()["unique_2xx"]
            time.sleep(0.3)
            rate = (r.stats()["unique_2xx"] - n0) / (time.monotonic() - t0)
            b.kill9()
            at_kill = r.stats()["unique_2xx"]
            h.check(at_kill < N, "all %d delivered before the kill: not mid-stream" % N)
            time.sleep(0.5)
            t_restart = time.monotonic()
            b.start()
            recs = h.wait_delivered(r, h.ids(P, N), 90, alive=[b, r])
            run.summary["restart_to_done_s"] = round(time.monotonic() - t_restart, 1)
            rk.wait_committed_to_end(c.bootstrap, h.connector_group(cfg, "partner"), "orders",
                                     60, alive=[b])
            rc, _ = b.terminate(20)
            h.check(rc == 0, "bridge exit %s on SIGTERM" % rc)
        copies = rk.kafka_ids(rk.read_topic(c.bootstrap, "orders"))
        kafka_dups = sum(k - 1 for k in copies.values())
        bound = PARTS * WINDOW + int(rate * COMMIT_MS / 1000.0) + 64 + kafka_dups
        rk.check_outbound(run.summary, recs, h.ids(P, N), P, dup_bound=bound)
        run.summary.update({"delivered_at_kill": at_kill, "rate_at_kill": int(rate),
                            "kafka_duplicates": kafka_dups})


if __name__ == "__main__":
    h.main(test, timeout=240)
