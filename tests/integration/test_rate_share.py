#!/usr/bin/python3
"""rate_limit is the deployment's (issue 8): two replicas (two bridge processes, the same
config, so one group for the connector) share a connector with `rate_limit: 20/s`; each
replica sends its share (the fraction of the connector's partitions it owns), so the partner
sees at most the limit (+10%) -- not twice it. Measured over whole seconds once both replicas
own partitions, from the receiver's arrival times."""

import re
import time

import harness as h

RATE, N, P, PARTS = 20, 300, "rs-", 4


def test(run):
    with h.mock({"orders": PARTS, "dlq": 1}) as m, h.receiver(run.tmp) as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, concurrency=8)
        with open(cfg) as f:
            conn = [l for l in f.read().splitlines() if l.startswith("connectors:")][0]
        part = conn.split("[", 1)[1].split("]", 1)[0].strip().strip('"')
        with open(part, "a") as f:
            f.write("rate_limit: %d/s\n" % RATE)
        with h.bridge(run.tmp, cfg, name="r1") as b1, h.bridge(run.tmp, cfg, name="r2") as b2:

            def owned(b):
                got = re.findall(rb"assigned \d+ partition\(s\) \((\d+) now\)",
                                 open(b.err_path, "rb").read())
                return int(got[-1]) if got else 0

            h.wait_until(lambda: owned(b1) > 0 and owned(b2) > 0 and
                         owned(b1) + owned(b2) == PARTS, 30, interval=0.2,
                         what="both replicas owning partitions", alive=[b1, b2])
            run.summary["owned"] = [owned(b1), owned(b2)]
            time.sleep(2.5)  # the share is recomputed on the next gauge tick
            h.produce(m.bootstrap, "orders", N, id_prefix=P, keys=40)
            recs = h.wait_delivered(r, h.ids(P, N), 60, alive=[b1, b2, r])
        ok = sorted(x["t_us"] for x in recs if 200 <= x["status"] < 300)
        lost, dups = h.summarize(run, h.ids(P, N), recs)
        # whole seconds after the first one (a bucket may start full: one second's burst)
        t0 = ok[0] + 1_000_000
        t1 = ok[-1]
        window = [t for t in ok if t0 <= t <= t1]
        secs = (t1 - t0) / 1e6
        rate = len(window) / secs if secs > 0 else float("inf")
        # the busiest single second too
        busiest = max(sum(1 for t in window if s <= t < s + 1_000_000)
                      for s in range(int(t0), int(t1) - 999_999, 250_000)) if secs > 1 else 0
        run.summary.update({"rate_per_s": round(rate, 2), "window_s": round(secs, 1),
                            "busiest_second": busiest, "limit": RATE})
        h.check(not lost, "lost %d events" % len(lost))
        h.check(rate <= RATE * 1.1, "the partner saw %.1f/s over %.1f s, limit %d/s (+10%%)"
                % (rate, secs, RATE))
        h.check(rate >= RATE * 0.6, "the replicas sent only %.1f/s of %d/s: shares too small"
                % (rate, RATE))


if __name__ == "__main__":
    h.main(test, timeout=150)
