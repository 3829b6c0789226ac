#!/usr/bin/python3
"""503 with Retry-After: 2 on the first request: the retry of that webhook-id comes >= 2 s
later, other keys keep flowing meanwhile."""

import harness as h

N, P = 40, "ra-"


def test(run):
    plan = [{"count": 1, "status": 503, "retry_after": "2"}]
    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, status_plan=plan, latency_ms="5-10") as r:
        # a schedule whose own delays are short: only Retry-After can explain a 2 s gap
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, schedule=("0s", "100ms", "100ms"))
        h.produce(m.bootstrap, "orders", N, keys=10, id_prefix=P)
        with h.bridge(run.tmp, cfg) as b:
            recs = h.wait_delivered(r, h.ids(P, N), 40, alive=[b, r])
        lost, dups = h.summarize(run, h.ids(P, N), recs)
        h.check(recs[0]["status"] == 503, "first request answered %r" % recs[0]["status"])
        rid = recs[0]["id"]
        tries = [x for x in recs if x["id"] == rid]
        h.check(len(tries) >= 2, "the 503 was not retried: %r" % tries)
        gap = (tries[1]["t_us"] - tries[0]["t_us"]) / 1e6
        during = [x for x in recs if tries[0]["t_us"] < x["t_us"] < tries[1]["t_us"]
                  and x["key"] != tries[0]["key"] and 200 <= x["status"] < 300]
        run.summary.update({"retry_gap_s": round(gap, 3), "delivered_meanwhile": len(during),
                            "retried_id": rid})
        h.check(gap >= 1.98, "retry after %.3fs, Retry-After said 2s" % gap)
        h.check(gap < 6.0, "retry after %.3fs: far longer than Retry-After: 2" % gap)
        h.check(200 <= tries[1]["status"] < 300, "the retry was answered %r" % tries[1]["status"])
        h.check(not lost, "lost %d events" % len(lost))
        h.check(len(during) > 0, "nothing else was delivered during the Retry-After wait")
        h.check(run.summary["unverified"] == 0, "unverified requests")


if __name__ == "__main__":
    h.main(test)
