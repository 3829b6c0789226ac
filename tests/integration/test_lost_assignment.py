#!/usr/bin/python3
"""A lost assignment that comes straight back: the bridge resumes where it delivered, not at
its last commit.

librdkafka 2.0 (Debian 12's) declares the whole assignment lost when an offset commit is
answered ILLEGAL_GENERATION, which happens when a commit races a rebalance (librdkafka
#4059, fixed in 2.8.3). The member rejoins and, being the same member, usually gets the same
partitions back a moment later. Here the mock answers one commit with ILLEGAL_GENERATION
while events stream in; the commit interval is long (2 s), so a bridge that starts again at
its committed offsets delivers about two seconds of records a second time. The bridge must
instead resume each partition after what it delivered before the loss: duplicates stay
within what was still running at that moment, the resume is logged and counted, nothing is
lost, and the group commits to the end."""

import harness as h

N, P, PARTS, WINDOW, RATE, COMMIT_MS = 6000, "la-", 4, 50, 600, 2000


def test(run):
    with h.mock({"orders": PARTS, "dlq": 1}) as m, h.receiver(run.tmp, latency_ms="1-3") as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, max_in_flight=WINDOW, admin=True,
                             outbound_extra="commit_interval: %dms" % COMMIT_MS)
        group = h.connector_group(cfg)
        with h.bridge(run.tmp, cfg) as b:
            port = h.admin_port(b)
            prod = h.produce_async(m.bootstrap, "orders", N, keys=40, id_prefix=P, rate=RATE)
            h.wait_until(lambda: r.stats()["unique_2xx"] >= 1500, 30, interval=0.05,
                         alive=[b, r], what="1500 deliveries before the fault")
            h.wait_until(lambda: sum(max(v, 0) for v in
                                     h.committed(m.bootstrap, group, "orders").values()) > 0,
                         10, interval=0.1, alive=[b, r], what="a first commit")
            # OffsetCommit is API key 8; 22 = ILLEGAL_GENERATION: the next commit fails
            m.cmd("errors 8 1 22")
            at_fault = r.stats()["unique_2xx"]
            h.wait_until(lambda: any(": lost " in x for x in h.log_lines(b)), 20,
                         interval=0.1, alive=[b, r], what="the assignment lost")
            prod.finish(30)
            recs = h.wait_delivered(r, h.ids(P, N), 40, alive=[b, r])
            h.wait_until(lambda: sum(h.committed(m.bootstrap, group, "orders").values()) == N,
                         20, interval=0.3, alive=[b], what="offsets committed to the end")
            lines = h.log_lines(b)
            resumed = h.metric(h.scrape(port), "webhook_bridge_connector_resumed_records_total",
                               connector="partner")
        lost_lines = [x for x in lines if "partition(s)" in x and ": lost " in x]
        resumes = [x for x in lines if "is back: resuming" in x]
        # what may come twice: the records still running when the assignment was lost
        bound = PARTS * WINDOW
        lost, dups = h.summarize(run, h.ids(P, N), recs, delivered_at_fault=at_fault,
                                 lost_assignments=len(lost_lines), resumes=len(resumes),
                                 resumed_records=resumed,
                                 duplicate_bound=bound)
        h.check(at_fault < N, "all delivered before the fault: not mid-stream")
        h.check(lost_lines, "the injected ILLEGAL_GENERATION did not lose the assignment")
        h.check(not lost, "lost %d events, e.g. %s" % (len(lost), lost[:5]))
        h.check(dups <= bound, "%d duplicates > bound %d (re-read from the last commit?)"
                % (dups, bound))
        h.check(resumes, "no partition logged its resume")
        h.check(resumed and resumed > 0, "webhook_bridge_connector_resumed_records_total = %r"
                % resumed)
        h.check_ids_are_event_ids(recs, P)
        h.check(run.summary["unverified"] == 0, "unverified requests")


if __name__ == "__main__":
    h.main(test)
