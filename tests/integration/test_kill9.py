#!/usr/bin/python3
"""kill -9 of the bridge mid-stream, restart: every event delivered at least once (lost = 0),
duplicates bounded by the in-flight window plus what one commit interval delivers, and a
duplicate carries the same webhook-id (the event's id field)."""

import harness as h

N, P, PARTS, WINDOW, COMMIT_MS = 5000, "k9-", 4, 250, 200


def test(run):
    with h.mock({"orders": PARTS, "dlq": 1}) as m, h.receiver(run.tmp, latency_ms="2-10") as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, max_in_flight=WINDOW,
                             outbound_extra="commit_interval: %dms" % COMMIT_MS)
        h.produce(m.bootstrap, "orders", N, keys=20, size=300, id_prefix=P)
        with h.bridge(run.tmp, cfg) as b:
            recs, at_kill, rate = h.kill9_midstream(b, r, h.ids(P, N), 1000)
        # bound: a window of undelivered gaps per partition + what one commit interval carries
        bound = PARTS * WINDOW + int(rate * COMMIT_MS / 1000.0) + 64
        lost, dups = h.summarize(run, h.ids(P, N), recs, delivered_at_kill=at_kill,
                                 rate_at_kill=int(rate), duplicate_bound=bound)
        h.check_ids_are_event_ids(recs, P)
        h.check(not lost, "lost %d events, e.g. %s" % (len(lost), lost[:5]))
        h.check(dups <= bound, "%d duplicates > bound %d" % (dups, bound))
        h.check(run.summary["unverified"] == 0, "unverified requests")


if __name__ == "__main__":
    h.main(test)
