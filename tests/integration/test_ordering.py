#!/usr/bin/python3
"""Per-key order under concurrency 64 with random receiver latency; other keys overtake, also
within one partition (keys of a partition are delivered in parallel, not one at a time)."""

import json

import harness as h

N, KEYS, P = 2000, 50, "ord-"


def test(run):
    with h.mock({"orders": 4, "dlq": 1}) as m, \
            h.receiver(run.tmp, latency_ms="0-20") as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, concurrency=64, ordering="key")
        h.produce(m.bootstrap, "orders", N, keys=KEYS, size=300, id_prefix=P)
        where = {json.loads(x["value"])["id"]: (x["partition"], x["offset"])
                 for x in h.consume(m.bootstrap, "orders")}
        h.check(len(where) == N, "produced %d of %d" % (len(where), N))
        with h.bridge(run.tmp, cfg) as b:
            recs = h.wait_delivered(r, h.ids(P, N), 60, alive=[b, r])
        lost, dups = h.summarize(run, h.ids(P, N), recs)
        h.check_ids_are_event_ids(recs, P)

        # first arrival of each id, in arrival order
        seen, first = set(), []
        for x in recs:
            if x["id"] not in seen:
                seen.add(x["id"])
                first.append(x)
        last_by_key, violations = {}, []
        for x in first:
            prev = last_by_key.get(x["key"])
            if prev is not None and x["per_key_seq"] <= prev:
                violations.append((x["key"], prev, x["per_key_seq"]))
            last_by_key[x["key"]] = x["per_key_seq"]
        # overtaking: a later-produced event (higher global seq) of another key arrives first
        inversions = sum(1 for a, b in zip(first, first[1:]) if b["seq"] < a["seq"])
        # ... and within a partition: a later offset arrives before an earlier one
        last_off, part_overtakes = {}, 0
        for x in first:
            part, off = where[x["id"]]
            if off < last_off.get(part, -1):
                part_overtakes += 1
            last_off[part] = max(off, last_off.get(part, -1))
        run.summary.update({"order_violations": len(violations), "inversions": inversions,
                            "partition_overtakes": part_overtakes, "keys": len(last_by_key)})
        h.check(not lost, "lost %d events" % len(lost))
        h.check(run.summary["unverified"] == 0, "unverified requests")
        h.check(not violations, "per-key order broken %d times, e.g. %r"
                % (len(violations), violations[:3]))
        h.check(len(last_by_key) == KEYS, "saw %d keys" % len(last_by_key))
        h.check(inversions > 0, "no overtaking: deliveries arrived in global order "
                "(keys not delivered in parallel?)")
        h.check(part_overtakes > 0, "no overtaking within a partition: its keys were "
                "delivered one at a time")


if __name__ == "__main__":
    h.main(test)
