#!/usr/bin/env python3
"""A rolling restart of all three brokers under load, on a real cluster (RF 3,
min.insync.replicas 2): events are produced at a steady rate and delivered, and two partners
post inbound webhooks, while each broker in turn is stopped (controlled shutdown), started and
waited for until every partition is fully replicated again (what an operator's rolling
restart does). Deliveries keep flowing through every step; afterwards nothing is lost on
either path, outbound duplicates stay within the windows (same webhook-id), per-key order
holds, every inbound 2xx is backed by the record it names, and the group commits to the end."""

import time

import realkafka as rk

h = rk.h
P, KEYS, PARTS, WINDOW, RATE = "rr-", 40, 6, 200, 250


def test(run):
    topics = {"orders": PARTS, "dlq": 1, "inbound.events": 3}
    with rk.kafka_cluster(run, topics) as c, h.receiver(run.tmp, latency_ms="1-5") as r:
        cfg = h.write_config(run.tmp, c.bootstrap, r.url, max_in_flight=WINDOW,
                             kafka_extra={"session.timeout.ms": 10000},
                             outbound_extra="commit_interval: 200ms")
        out = h.write_connector(run.tmp, "partner", r.url)
        inb = h.write_inbound_connector(run.tmp, "platform", "inbound.events", key="/id")
        h.set_connectors(cfg, [out, inb], ['inbound: { listen: "127.0.0.1:0" }'])
        with h.bridge(run.tmp, cfg) as b:
            port = h.inbound_port(b)
            prod = h.ProduceProc(c.bootstrap, "orders", 1000000, keys=KEYS, size=300,
                                 id_prefix=P, rate=RATE, idempotent=True)
            senders = [rk.Sender(port, "platform", ["rr%d-%d" % (s, i) for i in range(100000)],
                                 deadline_s=400, rate=25) for s in range(2)]
            try:
                for s in senders:
                    s.start()
                h.wait_until(lambda: r.stats()["unique_2xx"] >= 500, 60, interval=0.2,
                             alive=[b, r], what="500 deliveries before the rolling restart")
                progress = []

                def settle(node_id):  # deliveries and inbound accepts went on meanwhile
                    progress.append((node_id, r.stats()["unique_2xx"],
                                     sum(len(s.accepted) for s in senders)))
                    b.assert_alive()
                    h.check(prod.running(), "the producer stopped during the rolling restart")
                t0 = time.monotonic()
                took = c.rolling_restart(settle=settle)
                run.summary["rolling_restart_s"] = round(time.monotonic() - t0, 1)
                run.summary["node_restart_s"] = took
                run.summary["progress"] = progress
            finally:
                for s in senders:
                    s.stop()
                produced = prod.stop()
            for s in senders:
                s.finish(120)
            n = produced["sent"]
            h.check(produced["acked"] == n, "producer: %r" % produced)
            h.wait_delivered(r, h.ids(P, n), 120, alive=[b, r])
            group = h.connector_group(cfg, "partner")
            rk.wait_committed_to_end(c.bootstrap, group, "orders", 60, alive=[b])
            pos = rk.source_positions(c.bootstrap, "orders", h.ids(P, n))
            outs = run.summary["outbound"] = {}
            rk.check_outbound(outs, r.records(), h.ids(P, n), P,
                              dup_bound=PARTS * WINDOW, positions=pos)
            inbs = run.summary["inbound"] = {}
            dups = rk.check_inbound(inbs, senders, rk.read_topic(c.bootstrap, "inbound.events"),
                                    "inbound.events")
            h.check(dups <= 10, "%d inbound webhooks written more than once" % dups)
            rc, _ = b.terminate(20)
            h.check(rc == 0, "bridge exit %s on SIGTERM" % rc)
        # each step moved deliveries forward: the load really ran through the restarts
        prev_out, prev_in = 500, 0
        for node_id, n_out, n_in in progress:
            h.check(n_out > prev_out and n_in > prev_in, "no progress while node %d restarted: "
                    "%r" % (node_id, progress))
            prev_out, prev_in = n_out, n_in


if __name__ == "__main__":
    h.main(test, timeout=420)
