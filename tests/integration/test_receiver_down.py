#!/usr/bin/python3
"""The receiver goes down for 5 s while 500 events flow, then comes back: every event is
delivered, none lost, none dead-lettered."""

import time

import harness as h

N, P = 500, "rd-"


def test(run):
    with h.mock({"orders": 4, "dlq": 1}) as m, h.receiver(run.tmp, latency_ms="0-5") as r:
        # a schedule long enough to outlast the outage (connection refused is retryable)
        cfg = h.write_config(run.tmp, m.bootstrap, r.url,
                             schedule=("0s", "200ms", "500ms", "1s", "2s", "2s", "2s", "5s",
                                       "5s", "10s"))
        with h.bridge(run.tmp, cfg) as b:
            prod = h.produce_async(m.bootstrap, "orders", N, keys=20, id_prefix=P, rate=100)
            h.wait_until(lambda: r.stats()["unique_2xx"] >= 50, 20, alive=[b, r],
                         what="first deliveries")
            before = r.stats()["unique_2xx"]
            r.control(down=True)
            t_down = time.monotonic()
            time.sleep(5)
            r.control(down=False)
            down_s = time.monotonic() - t_down
            prod.finish(30)
            recs = h.wait_delivered(r, h.ids(P, N), 45, alive=[b, r])
            dlq = h.consume(m.bootstrap, "dlq", timeout=3)
        lost, dups = h.summarize(run, h.ids(P, N), recs, delivered_before_outage=before,
                                 outage_s=round(down_s, 2), dead_letters=len(dlq))
        h.check(before < N, "everything was delivered before the outage: test not meaningful")
        h.check(not lost, "lost %d events" % len(lost))
        h.check(not dlq, "%d events dead-lettered during the outage" % len(dlq))
        h.check(run.summary["unverified"] == 0, "unverified requests")


if __name__ == "__main__":
    h.main(test)
