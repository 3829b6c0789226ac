#!/usr/bin/python3
"""SIGTERM with attempts still running past the drain bound (issue 9 item 5): the partner
holds every request for 30 s, drain_timeout is 2 s. The bridge must abort the transfers,
release the records, commit only what was delivered and exit within the bound plus a small
grace -- not hang (librdkafka waits for messages still referenced). After a restart against a
fast partner every event is delivered: nothing lost."""

import time

import harness as h

N, P, DRAIN_S, GRACE_S = 60, "st-", 2, 6


def test_restart(run):
    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, latency_ms="30000", name="slow") as slow, \
            h.receiver(run.tmp, name="fast") as fast:
        cfg = h.write_config(run.tmp, m.bootstrap, slow.url, drain_timeout="%ds" % DRAIN_S,
                             timeout="60s", concurrency=16)
        h.produce(m.bootstrap, "orders", N, id_prefix=P, keys=30)
        with h.bridge(run.tmp, cfg) as b:
            h.wait_until(lambda: slow.stats()["received"] >= 10, 30, interval=0.1,
                         alive=[b], what="attempts in flight at the slow partner")
            t = time.monotonic()
            rc, took = b.terminate(DRAIN_S + GRACE_S + 10)
            run.summary.update({"exit": rc, "stop_s": round(took, 2)})
            h.check(rc is not None, "the bridge did not exit within %d s of SIGTERM"
                    % (DRAIN_S + GRACE_S + 10))
            h.check(took <= DRAIN_S + GRACE_S, "SIGTERM took %.1f s (drain %d s + grace %d s)"
                    % (took, DRAIN_S, GRACE_S))
            h.check(rc == 0, "exit %r after a bounded drain" % rc)
            # point the connector at a fast partner and restart: nothing was lost
            part = [l for l in open(cfg).read().splitlines() if l.startswith("connectors:")][0]
            path = part.split("[", 1)[1].split("]", 1)[0].strip().strip('"')
            text = open(path).read().replace(slow.url, fast.url)
            with open(path, "w") as f:
                f.write(text)
            b.start()
            recs = h.wait_delivered(fast, h.ids(P, N), 40, alive=[b])
        lost = [i for i in h.ids(P, N) if i not in h.delivered(recs)]
        run.summary.update({"lost": len(lost), "restart_after_s": round(time.monotonic() - t, 1)})
        h.check(not lost, "lost %d events" % len(lost))


if __name__ == "__main__":
    h.main(test_restart, timeout=90)
