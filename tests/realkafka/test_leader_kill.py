#!/usr/bin/env python3
"""kill -9 of a partition leader broker, on a real 3-node cluster (RF 3, min.insync.replicas 2),
then its restart; twice with one bridge that has an outbound and an inbound connector:

1. outbound: while events are produced (acks=all) and delivered, the leader of orders/0 is
   killed; after the restart every event is delivered (lost 0), duplicates stay within the
   in-flight windows and carry the event's own webhook-id, per-key order holds, and the group
   commits to the end of every partition.
2. inbound: while three partners post webhooks (retrying 503s after Retry-After, as senders
   do), the leader of inbound.events/0 is killed; every webhook is eventually answered 2xx,
   every 2xx names the partition/offset that holds that webhook, and every accepted webhook
   is in the topic, read back with kafka-python after the restart."""

import time

import realkafka as rk

h = rk.h
P, N, KEYS, PARTS, WINDOW, RATE = "lk-", 5000, 30, 3, 250, 350
SENDERS, PER_SENDER = 3, 250


def outbound_phase(run, c, r, b, cfg):
    prod = h.produce_async(c.bootstrap, "orders", N, keys=KEYS, size=300, id_prefix=P,
                           rate=RATE, timeout=120, idempotent=True)
    h.wait_until(lambda: r.stats()["unique_2xx"] >= 800, 60, interval=0.1, alive=[b, r],
                 what="800 deliveries before the kill")
    at_kill = r.stats()["unique_2xx"]
    killed, new, moved_s = rk.leader_kill(c, "orders", 0)
    time.sleep(2)
    c.start_node(killed)
    produced = prod.finish(120)
    recs = h.wait_delivered(r, h.ids(P, N), 120, alive=[b, r])
    c.wait_fully_replicated(timeout=90)
    group = h.connector_group(cfg, "partner")
    rk.wait_committed_to_end(c.bootstrap, group, "orders", 60, alive=[b])
    pos = rk.source_positions(c.bootstrap, "orders", h.ids(P, N))
    out = run.summary["outbound"] = {}
    rk.check_outbound(out, r.records(), h.ids(P, N), P,
                      dup_bound=PARTS * WINDOW, positions=pos)
    out.update({"delivered_at_kill": at_kill, "killed_node": killed, "new_leader": new,
                "leader_moved_s": round(moved_s, 1), "producer_acked": produced["acked"]})
    h.check(at_kill < N, "everything was delivered before the kill: not mid-stream")


def inbound_phase(run, c, b):
    port = h.inbound_port(b)
    senders = [rk.Sender(port, "platform", ["in%d-%d" % (s, i) for i in range(PER_SENDER)],
                         deadline_s=150, rate=40) for s in range(SENDERS)]
    for s in senders:
        s.start()
    h.wait_until(lambda: sum(len(s.accepted) for s in senders) >= 150, 60, interval=0.1,
                 alive=[b], what="150 inbound webhooks accepted before the kill")
    at_kill = sum(len(s.accepted) for s in senders)
    killed, new, moved_s = rk.leader_kill(c, "inbound.events", 0)
    time.sleep(2)
    c.start_node(killed)
    for s in senders:
        s.finish(160)
    c.wait_fully_replicated(timeout=90)
    records = rk.read_topic(c.bootstrap, "inbound.events")
    inb = run.summary["inbound"] = {}
    dups = rk.check_inbound(inb, senders, records, "inbound.events")
    inb.update({"accepted_at_kill": at_kill, "killed_node": killed,
                                   "new_leader": new, "leader_moved_s": round(moved_s, 1)})
    h.check(at_kill < SENDERS * PER_SENDER, "all accepted before the kill: not mid-stream")
    # the idempotent producer does not write a webhook twice; a partner's retry after a 503
    # whose write landed late is deduplicated (200 duplicate) or, past that, written again
    h.check(dups <= SENDERS * 5, "%d webhooks written to Kafka more than once" % dups)


def test(run):
    with rk.kafka_cluster(run, {"orders": PARTS, "dlq": 1, "inbound.events": 3}) as c, \
            h.receiver(run.tmp, latency_ms="1-5") as r:
        cfg = h.write_config(run.tmp, c.bootstrap, r.url, max_in_flight=WINDOW,
                             outbound_extra="commit_interval: %dms" % 200)
        out = h.write_connector(run.tmp, "partner", r.url)
        inb = h.write_inbound_connector(run.tmp, "platform", "inbound.events", key="/id")
        h.set_connectors(cfg, [out, inb], ['inbound: { listen: "127.0.0.1:0" }'])
        with h.bridge(run.tmp, cfg) as b:
            t0 = time.monotonic()
            outbound_phase(run, c, r, b, cfg)
            run.summary["outbound"]["phase_s"] = round(time.monotonic() - t0, 1)
            t0 = time.monotonic()
            inbound_phase(run, c, b)
            run.summary["inbound"]["phase_s"] = round(time.monotonic() - t0, 1)
            rc, _ = b.terminate(20)
            h.check(rc == 0, "bridge exit %s on SIGTERM" % rc)


if __name__ == "__main__":
    h.main(test, timeout=330)
