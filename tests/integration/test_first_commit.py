#!/usr/bin/python3
"""A new connector (start: latest, no commit in its group yet) whose partner is down from the
first event, restarted before anything was delivered: after the restart it delivers every
event, none is skipped.

A group without a committed offset starts where auto.offset.reset says; with `latest` a
restart would begin at the log end and skip every record fetched but never delivered. So the
first record a cursor takes is committable at once (its own offset: where the cursor stood),
and the restart starts there."""

import harness as h

N, P, PARTS = 100, "fc-", 2


def test(run):
    with h.mock({"orders": PARTS, "dlq": 1}) as m, h.receiver(run.tmp) as r:
        r.control(status=503)
        # long retry gaps: every record is waiting for its second attempt at the restart
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, schedule=("0s", "60s", "60s"),
                             drain_timeout="2s", connector_extra="start: latest\n")
        group = h.connector_group(cfg)
        with h.bridge(run.tmp, cfg) as b:
            h.wait_until(lambda: any("assigned %d partition(s)" % PARTS in x
                                     for x in h.log_lines(b)), 20, interval=0.1, alive=[b],
                         what="the assignment")
            # a stream: `latest` is resolved a moment after the assignment, and the events
            # after that point are the ones the connector owes the partner
            prod = h.produce_async(m.bootstrap, "orders", N, keys=10, id_prefix=P, rate=25)
            h.wait_until(lambda: r.stats()["received"] >= 5, 20, interval=0.1, alive=[b, r],
                         what="first (failing) attempts")
            prod.finish(30)
            try:  # checked after the restart: a bridge without the fix never commits here
                h.wait_until(lambda: all(v >= 0 for v in
                                         h.committed(m.bootstrap, group, "orders").values()),
                             5, interval=0.2, alive=[b], what="a committed position")
            except h.ProcessDied:
                raise
            except h.TestFailure:
                pass
            rc, _ = b.terminate(20)
            h.check(rc == 0, "exit %s on SIGTERM" % rc)
        committed = h.committed(m.bootstrap, group, "orders")
        h.check(r.stats()["unique_2xx"] == 0, "delivered before the restart: the test is moot")
        first = min(x["seq"] for x in r.records())  # the first event after `latest`
        owed = h.ids(P, N)[first:]
        r.control(status=None)  # the partner is back
        with h.bridge(run.tmp, cfg, name="again") as b2:
            try:
                h.wait_delivered(r, owed, 20, alive=[b2, r])
            except h.ProcessDied:
                raise
            except h.TestFailure:
                pass  # counted below
            recs = r.records()
        lost, dups = h.summarize(run, owed, recs, committed_at_restart=committed,
                                 first_seq=first)
        h.check(not lost, "lost %d events, e.g. %s" % (len(lost), lost[:5]))
        h.check(all(v >= 0 for v in committed.values()),
                "no committed position at the restart: %r" % committed)
        h.check(run.summary["unverified"] == 0, "unverified requests")


if __name__ == "__main__":
    h.main(test)
