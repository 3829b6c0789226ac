#!/usr/bin/python3
"""SIGTERM mid-stream: the bridge drains and exits 0 within drain_timeout; a restart delivers
the rest with no duplicates."""

import time

import harness as h

N, P, DRAIN_S, WINDOW = 5000, "st-", 10, 100


def test(run):
    with h.mock({"orders": 4, "dlq": 1}) as m, h.receiver(run.tmp, latency_ms="2-10") as r:
        # a small window so the drain (which finishes every fetched record) stays mid-stream
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, drain_timeout="%ds" % DRAIN_S,
                             max_in_flight=WINDOW)
        h.produce(m.bootstrap, "orders", N, keys=20, size=300, id_prefix=P)
        with h.bridge(run.tmp, cfg) as b:
            h.wait_until(lambda: r.stats()["unique_2xx"] >= 1000, 40, interval=0.02,
                         alive=[b, r], what="1000 deliveries before SIGTERM")
            before = r.stats()["unique_2xx"]
            rc, took = b.terminate(DRAIN_S + 3)
            at_term = r.stats()["unique_2xx"]
            run.summary.update({"exit_code": rc, "drain_s": round(took, 2),
                                "delivered_at_sigterm": before,
                                "delivered_during_drain": at_term - before})
            h.check(rc is not None, "still running %ds after SIGTERM" % (DRAIN_S + 3))
            h.check(rc == 0, "exit code %s after SIGTERM; stderr:%s" % (rc, b.stderr_tail()))
            h.check(at_term < N, "all delivered before SIGTERM: not mid-stream")
            time.sleep(0.5)
            h.check(r.stats()["unique_2xx"] == at_term, "deliveries after the bridge exited")
            b.start()
            recs = h.wait_delivered(r, h.ids(P, N), 60, alive=[b, r])
        lost, dups = h.summarize(run, h.ids(P, N), recs)
        h.check(not lost, "lost %d events" % len(lost))
        h.check(dups == 0, "%d duplicates after a graceful stop" % dups)
        h.check(run.summary["unverified"] == 0, "unverified requests")


if __name__ == "__main__":
    h.main(test)
