#!/usr/bin/python3
"""A breaker that recovers (issue 8): a partner answers 503 + `Retry-After: 1` for one second
while events flow. The breaker (failures: 3, cooldown: 60s) opens, but its open period starts
short and honours Retry-After: deliveries resume within a few seconds of the burst's end, not
after the 60 s cooldown, and nothing is lost (retries, no dead letters)."""

import time

import harness as h

N, P = 600, "br-"
RESUME_BOUND_S = 5.0


def test(run):
    with h.mock({"orders": 2, "dlq": 1}) as m, h.receiver(run.tmp) as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, concurrency=8,
                             schedule=("0s", "200ms", "500ms", "1s"), on_exhausted="block")
        with open(cfg) as f:
            conn = [l for l in f.read().splitlines() if l.startswith("connectors:")][0]
        part = conn.split("[", 1)[1].split("]", 1)[0].strip().strip('"')
        with open(part, "a") as f:
            f.write("circuit_breaker: { failures: 3, cooldown: 60s }\n")
        with h.bridge(run.tmp, cfg) as b:
            prod = h.produce_async(m.bootstrap, "orders", N, id_prefix=P, keys=20, rate=100)
            h.wait_until(lambda: r.stats()["unique_2xx"] >= 100, 30, interval=0.05,
                         alive=[b, r], what="deliveries flowing before the burst")
            r.control(status=503, retry_after="1", status_for_ms=1000)
            t_burst = time.monotonic()
            time.sleep(1.0)
            t_end = time.monotonic()
            # first 2xx after the burst ended
            n0 = r.stats()["unique_2xx"]
            h.wait_until(lambda: r.stats()["unique_2xx"] > n0 + 5, 30, interval=0.05,
                         alive=[b, r], what="deliveries resuming after the 503 burst")
            resumed = time.monotonic() - t_end
            prod.finish(60)
            recs = h.wait_delivered(r, h.ids(P, N), 40, alive=[b, r])
        lost, dups = h.summarize(run, h.ids(P, N), recs)
        n503 = sum(1 for x in recs if x["status"] == 503)
        log = open(b.err_path).read()
        run.summary.update({"resumed_after_s": round(resumed, 2), "answered_503": n503,
                            "burst_s": round(t_end - t_burst, 2)})
        h.check(n503 > 0, "the burst produced no 503 answers")
        h.check(not lost, "lost %d events" % len(lost))
        h.check("dead-lettered" not in log, "something was dead-lettered")
        h.check(resumed < RESUME_BOUND_S, "deliveries resumed %.1f s after the burst ended "
                "(bound %.0f s; the breaker's cooldown is 60 s)" % (resumed, RESUME_BOUND_S))


if __name__ == "__main__":
    h.main(test, timeout=120)
