#!/usr/bin/python3
"""Every mock broker down for 5 s mid-stream, then up: delivery resumes, nothing lost."""

import time

import harness as h

N, P = 3000, "bd-"


def test(run):
    with h.mock({"orders": 4, "dlq": 1}) as m, h.receiver(run.tmp, latency_ms="0-3") as r:
        # a session that outlives the outage: the group should not expire during it
        cfg = h.write_config(run.tmp, m.bootstrap, r.url,
                             kafka_extra={"session.timeout.ms": 30000})
        with h.bridge(run.tmp, cfg) as b:
            prod = h.produce_async(m.bootstrap, "orders", N, keys=30, id_prefix=P, rate=400)
            h.wait_until(lambda: r.stats()["unique_2xx"] >= 300, 30, alive=[b, r],
                         what="deliveries before the outage")
            m.cmd("alldown")
            t0 = time.monotonic()
            at_down = r.stats()["unique_2xx"]
            time.sleep(5)
            during = r.stats()["unique_2xx"] - at_down
            m.cmd("allup")
            run.summary["outage_s"] = round(time.monotonic() - t0, 2)
            prod.finish(60)
            recs = h.wait_delivered(r, h.ids(P, N), 60, alive=[b, r])
        lost, dups = h.summarize(run, h.ids(P, N), recs, delivered_at_down=at_down,
                                 delivered_during_outage=during)
        h.check(at_down < N, "all delivered before the outage: not mid-stream")
        h.check(not lost, "lost %d events" % len(lost))
        h.check(run.summary["unverified"] == 0, "unverified requests")


if __name__ == "__main__":
    h.main(test)
