#!/usr/bin/env python3
"""Outbound on a real 3-node cluster (RF 3, min.insync.replicas 2): per-key order under
concurrency with every event's first attempt failing (each one retried, keeping its place in its
lane), a 400 and an always-500 record dead-lettered with their headers (read back with
kafka-python), and commit-after-delivery: while the bridge runs, a sampler reads the group's
committed offsets with kafka-python and no sample ever covers a record that had not yet been
delivered (2xx at the receiver) or written to the dead-letter topic. At the end the committed
offsets reach the end of every partition."""

import json
import threading
import time

import realkafka as rk

h = rk.h
P, N, KEYS, PARTS = "dv-", 1200, 30, 4
LEAD, BAD, FAIL = 22, 10, 11     # records at the head of partition 0; offsets of 400 / 500


def head_records():
    out = []
    for i in range(LEAD):
        etype = {BAD: "return.received", FAIL: "always.fail"}.get(i, "order.paid")
        out.append({"key": "head%d" % i, "partition": 0, "headers": {"event-type": etype},
                    "value": {"id": "hd-%d" % i, "type": etype, "key": "head%d" % i,
                              "per_key_seq": 0}})
    return out


def test(run):
    types = [{"type": "return.received", "status": 400},
             {"type": "always.fail", "status": 500, "delay_ms": 300}]
    with rk.kafka_cluster(run, {"orders": PARTS, "dlq": 1}) as c, \
            h.receiver(run.tmp, latency_ms="0-5", fail_first=1, type_status=types) as r:
        cfg = h.write_config(run.tmp, c.bootstrap, r.url, concurrency=32,
                             schedule=("0s", "200ms", "500ms"),
                             outbound_extra="commit_interval: %dms" % 200)
        group = h.connector_group(cfg, "partner")
        h.produce_records(c.bootstrap, "orders", head_records())
        h.produce(c.bootstrap, "orders", N, keys=KEYS, size=300, id_prefix=P,
                  types=["order.paid", "inventory.low"], idempotent=True)
        src = rk.read_topic(c.bootstrap, "orders")
        h.check(len(src) == LEAD + N, "read back %d of %d produced records"
                % (len(src), LEAD + N))
        where = {json.loads(x["value"])["id"]: (x["partition"], x["offset"]) for x in src}
        head = {x["offset"]: x for x in src if x["partition"] == 0}
        h.check(where["hd-%d" % FAIL] == (0, FAIL), "head layout: %r" % (where["hd-%d" % FAIL],))

        samples, stop = [], threading.Event()

        def sampler():  # (wall ms after the read, {partition: committed})
            a = rk.Admin(c.bootstrap)
            try:
                while not stop.is_set():
                    try:
                        got = a.committed(group, "orders")
                    except rk.kafka.errors.KafkaError:  # e.g. coordinator loading: again
                        time.sleep(0.1)
                        continue
                    samples.append((time.time() * 1000, got))
                    time.sleep(0.1)
            finally:
                a.close()
        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        ok_ids = ["hd-%d" % i for i in range(LEAD) if i not in (BAD, FAIL)] + h.ids(P, N)
        t0 = time.monotonic()
        try:
            with h.bridge(run.tmp, cfg) as b:
                recs = h.wait_delivered(r, ok_ids, 120, alive=[b, r])
                run.summary["deliver_s"] = round(time.monotonic() - t0, 1)
                dlq = h.wait_until(lambda: (lambda d: d if len(d) >= 2 else None)(
                    rk.read_topic(c.bootstrap, "dlq")), 30, interval=0.5,
                    what="2 dead-letter records", alive=[b])
                rk.wait_committed_to_end(c.bootstrap, group, "orders", 30, alive=[b])
                rc, _ = b.terminate(20)
                h.check(rc == 0, "bridge exit %s on SIGTERM" % rc)
        finally:
            stop.set()
            th.join(15)
        recs = r.records()
        rk.check_outbound(run.summary, recs, ok_ids, P, dup_bound=0,
                          positions=where)
        retried = sum(1 for x in recs if x["status"] == 500 and x["attempt"] == 1)
        run.summary.update({"dead_letters": len(dlq), "commit_samples": len(samples),
                            "first_attempts_failed": retried})
        h.check(retried >= len(ok_ids), "only %d first attempts failed: retries not exercised"
                % retried)

        # dead letters: original key/value/headers plus the error headers
        h.check(len(dlq) == 2, "expected 2 dead-letter records, got %d" % len(dlq))
        by_id = {json.loads(d["value"])["id"]: d for d in dlq}
        for off, status, attempts in ((BAD, "400", "1"), (FAIL, "500", "4")):
            rid = "hd-%d" % off
            h.check(rid in by_id, "%s not dead-lettered" % rid)
            hd = by_id[rid]["headers"]
            want = {"wb-error-status": status, "wb-error-attempts": attempts,
                    "wb-connector": "partner", "wb-source-topic": "orders",
                    "wb-source-partition": "0", "wb-source-offset": str(off),
                    "wb-webhook-id": rid, "event-type": head[off]["headers"]["event-type"]}
            wrong = {k: (hd.get(k), v) for k, v in want.items() if hd.get(k) != v}
            h.check(not wrong, "%s: dead-letter headers (got, want): %r" % (rid, wrong))
            h.check(by_id[rid]["key"] == head[off]["key"] and by_id[rid]["value"] ==
                    head[off]["value"], "%s: original key/value not kept" % rid)

        # commit-after-delivery: every committed offset covers only terminal records
        done_ms = {}
        for x in recs:
            if 200 <= x["status"] < 300:
                done_ms.setdefault(x["id"], x["t_us"] / 1000.0)
        for rid, d in by_id.items():
            done_ms[rid] = float(d["timestamp"])
        terminal_at = {}  # (partition, offset) -> wall ms it became terminal
        for rid, pos in where.items():
            terminal_at[pos] = done_ms.get(rid, float("inf"))
        early = []
        for t_ms, got in samples:
            for part, off in got.items():
                for o in range(off):
                    if terminal_at.get((part, o), float("inf")) > t_ms:
                        early.append((part, off, o))
                        break
        run.summary["early_commits"] = len(early)
        # the always-500 record held partition 0 for seconds: the sampler must have seen it
        held = [g for _, g in samples if 0 < g.get(0, 0) <= FAIL]
        run.summary["samples_holding_at_fail"] = len(held)
        h.check(held, "no sample saw partition 0 committed at or below offset %d while its "
                "retries ran: the hold was not observed" % FAIL)
        h.check(samples, "no committed-offset samples were taken")
        h.check(not early, "%d samples committed past a record not yet terminal, e.g. "
                "(partition, committed, record offset) %r" % (len(early), early[:3]))


if __name__ == "__main__":
    h.main(test, timeout=210)
