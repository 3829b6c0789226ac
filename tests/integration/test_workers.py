#!/usr/bin/python3
"""outbound.workers: 2 — two engines in one process, each a consumer-group member with its
own partitions: every event delivered, per-key order kept, both engines got partitions, and
SIGTERM drains both."""

import re

import harness as h

N, KEYS, P = 1500, 40, "wk-"


def test(run):
    with h.mock({"orders": 6, "dlq": 1}) as m, \
            h.receiver(run.tmp, latency_ms="0-10") as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, concurrency=32, ordering="key",
                             workers=2)
        h.produce(m.bootstrap, "orders", N, keys=KEYS, size=300, id_prefix=P)
        with h.bridge(run.tmp, cfg) as b:
            recs = h.wait_delivered(r, h.ids(P, N), 60, alive=[b, r])
            rc, took = b.terminate(20)
        lost, dups = h.summarize(run, h.ids(P, N), recs)
        seen, last, violations = set(), {}, 0
        for x in recs:
            if x["id"] in seen:
                continue
            seen.add(x["id"])
            if x["per_key_seq"] <= last.get(x["key"], -1):
                violations += 1
            last[x["key"]] = x["per_key_seq"]
        log = open(b.err_path).read()
        assigned = [int(n) for n in re.findall(r"assigned (\d+) partition", log)]
        run.summary.update({"order_violations": violations, "assignments": assigned,
                            "exit": rc, "sigterm_s": round(took, 1)})
        h.check(not lost, "lost %d events" % len(lost))
        h.check(not violations, "per-key order broken %d times" % violations)
        h.check("2 outbound worker(s)" in log, "the bridge did not start two workers")
        h.check(len(assigned) >= 2 and all(n > 0 for n in assigned[:2]),
                "both workers should own partitions: %r" % assigned)
        h.check(rc == 0, "SIGTERM exit %r" % rc)


if __name__ == "__main__":
    h.main(test)
