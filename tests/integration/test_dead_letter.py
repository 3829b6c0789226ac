#!/usr/bin/python3
"""400 -> dead-letter topic with the error headers (attempts 1); always-500 exhausts the
schedule [0s,200ms,500ms] -> dead-letter with attempts 4; the committed offset of the source
partition never passes a record before its dead-letter write."""

import json
import threading
import time

import harness as h

P = "dl-"
BAD, FAIL = 10, 11           # offsets on partition 0 of the 400 and the always-500 record
N = 22


def records():
    out = []
    for i in range(N):
        etype = {BAD: "return.received", FAIL: "always.fail"}.get(i, "order.paid")
        out.append({"key": "k%d" % i, "partition": 0, "headers": {"event-type": etype},
                    "value": {"id": "%s%d" % (P, i), "type": etype, "key": "k%d" % i,
                              "seq": i, "per_key_seq": 0}})
    return out


def test(run):
    types = [{"type": "return.received", "status": 400},
             # slow 500s stretch the retry window over several commit intervals
             {"type": "always.fail", "status": 500, "delay_ms": 1200}]
    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, type_status=types) as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, schedule=("0s", "200ms", "500ms"),
                             outbound_extra="commit_interval: %dms" % 200)
        group = h.connector_group(cfg, "partner")
        h.produce_records(m.bootstrap, "orders", records())
        src = {json.loads(x["value"])["id"]: x for x in h.consume(m.bootstrap, "orders")}
        h.check(src[P + str(FAIL)]["offset"] == FAIL and src[P + str(FAIL)]["partition"] == 0,
                "source layout")

        samples, stop = [], threading.Event()

        def sampler():  # (wall ms before, wall ms after, committed offset of partition 0)
            while not stop.is_set():
                t0 = time.time() * 1000
                try:
                    c = h.committed(m.bootstrap, group, "orders", timeout=5)[0]
                except h.TestFailure:
                    continue
                samples.append((t0, time.time() * 1000, c))
                time.sleep(0.05)
        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        ok_ids = [P + str(i) for i in range(N) if i not in (BAD, FAIL)]
        try:
            with h.bridge(run.tmp, cfg) as b:
                h.wait_delivered(r, ok_ids, 30, alive=[b, r])
                dlq = h.wait_until(lambda: (lambda d: d if len(d) >= 2 else None)(
                    h.consume(m.bootstrap, "dlq", timeout=3)), 30, interval=0.5,
                    what="2 dead-letter records", alive=[b])
                h.wait_until(lambda: samples and samples[-1][2] >= N, 20,
                             what="committed offset %d on partition 0" % N, alive=[b])
        finally:
            stop.set()
            th.join(10)

        recs = r.records()
        lost, dups = h.summarize(run, ok_ids, recs, dead_letters=len(dlq),
                                 commit_samples=len(samples))
        h.check(not lost, "lost %d events" % len(lost))
        h.check(len(dlq) == 2, "expected 2 dead-letter records, got %d" % len(dlq))
        by_id = {json.loads(d["value"])["id"]: d for d in dlq}
        for off, status, attempts in ((BAD, "400", "1"), (FAIL, "500", "4")):
            rid = P + str(off)
            h.check(rid in by_id, "%s (offset %d) not dead-lettered" % (rid, off))
            d, s = by_id[rid], src[rid]
            hd = d["headers"]
            want = {"wb-error-status": status, "wb-error-attempts": attempts,
                    "wb-connector": "partner", "wb-source-topic": "orders",
                    "wb-source-partition": "0", "wb-source-offset": str(off)}
            wrong = {k: (hd.get(k), v) for k, v in want.items() if hd.get(k) != v}
            h.check(not wrong, "%s: dead-letter headers (got, want): %r" % (rid, wrong))
            for k in ("wb-error-reason", "wb-first-attempt", "wb-last-attempt"):
                h.check(hd.get(k), "%s: header %s missing" % (rid, k))
            h.check(d["key"] == s["key"] and d["value"] == s["value"],
                    "%s: original key/value not kept" % rid)
            h.check(hd.get("event-type") == s["headers"]["event-type"],
                    "%s: original headers not kept" % rid)
            sent = [x for x in recs if x["id"] == rid]
            h.check(len(sent) == int(attempts), "%s: %d requests, want %s"
                    % (rid, len(sent), attempts))
            # no sample saw the commit pass this record before its dead-letter record existed
            early = [x for x in samples if x[2] > off and x[1] < d["timestamp"]]
            h.check(not early, "%s: offset committed past %d at %.0f, before its dead-letter "
                    "write at %d" % (rid, off, early[0][1] if early else 0, d["timestamp"]))
        # and while the last 500 attempt was still at the receiver, nothing passed FAIL
        last_try = [x for x in recs if x["id"] == P + str(FAIL)][-1]["t_us"] / 1000
        during = [x for x in samples if x[0] <= last_try + 1000 and x[1] >= last_try]
        passed = [x for x in samples if x[1] <= last_try + 1000 and x[2] > FAIL]
        run.summary["samples_during_last_attempt"] = len(during)
        h.check(not passed, "offset committed past %d while its last attempt was in flight: %r"
                % (FAIL, passed[:2]))


if __name__ == "__main__":
    h.main(test)
