#!/usr/bin/python3
"""Connector lifecycle (issue 8), one bridge process throughout:

1. remove: connector B is taken out of the config (SIGHUP) after it delivered a first batch;
   more events are produced: A receives them, B nothing. Its group keeps its offsets.
2. re-add: B is put back (SIGHUP): it resumes where it stopped and receives everything in
   between, nothing lost, nothing of the first batch again (its offsets were committed when it
   was drained out).
3. start: <time>: a new connector C with a fresh group and `start:` set between two batches
   receives exactly the events from then on.
Reloads are applied without a restart (same pid) and move nothing between connectors."""

import datetime
import time

import harness as h

N1, N2, N3, P = 200, 150, 120, "lc-"


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test(run):
    with h.mock({"orders": 3, "dlq": 1}) as m, h.receiver(run.tmp, name="a") as ra, \
            h.receiver(run.tmp, name="b") as rb, h.receiver(run.tmp, name="c") as rc:
        cfg = h.write_config(run.tmp, m.bootstrap, ra.url, drain_timeout="5s")
        ca = h.write_connector(run.tmp, "a", ra.url)
        cb = h.write_connector(run.tmp, "b", rb.url)
        h.set_connectors(cfg, [ca, cb])
        with h.bridge(run.tmp, cfg) as b:
            pid = b.pid
            h.produce(m.bootstrap, "orders", N1, keys=10, id_prefix=P)
            h.wait_delivered(ra, h.ids(P, N1), 30, alive=[b])
            h.wait_delivered(rb, h.ids(P, N1), 30, alive=[b])
            gb = h.connector_group(cfg, "b")
            ends1 = {}
            for x in h.consume(m.bootstrap, "orders"):
                ends1[x["partition"]] = max(ends1.get(x["partition"], 0), x["offset"] + 1)

            # 1. remove B
            h.set_connectors(cfg, [ca])
            h.hup(b)
            h.wait_until(lambda: "connector b removed" in open(b.err_path).read(), 10,
                         what="the reload removing b", alive=[b])
            # the removal drained b and committed its terminal prefix: the first batch's end
            h.wait_until(lambda: {p: o for p, o in h.committed(m.bootstrap, gb, "orders").items()
                                  if p in ends1} == ends1, 10, interval=0.3,
                         what="b's group keeping its offsets at the first batch's end %r"
                         % ends1, alive=[b])
            b_before = len(rb.records())
            h.produce(m.bootstrap, "orders", N2, keys=10, id_prefix=P, start=N1)
            h.wait_delivered(ra, h.ids(P, N1 + N2), 30, alive=[b])
            time.sleep(1.0)
            h.check(len(rb.records()) == b_before,
                    "removed connector b received %d requests" % (len(rb.records()) - b_before))

            # 2. add B back: it resumes at its committed offsets
            h.set_connectors(cfg, [ca, cb])
            h.hup(b)
            recs_b = h.wait_delivered(rb, h.ids(P, N1 + N2), 30, alive=[b],
                                      what="b's backlog after it was re-added")
            second = [x for x in recs_b[b_before:] if 200 <= x["status"] < 300]
            again = [x["id"] for x in second if int(x["id"][len(P):]) < N1]
            run.summary.update({"b_after_readd": len(second), "b_first_batch_again": len(again)})
            h.check(not again, "b received %d events of the first batch again (e.g. %s)"
                    % (len(again), again[:3]))
            h.check(len(second) == N2, "b received %d events after re-adding, want %d"
                    % (len(second), N2))

            # 3. start: <time> for a new connector (fresh group)
            time.sleep(1.1)
            t_start = time.time()
            time.sleep(1.1)
            h.produce(m.bootstrap, "orders", N3, keys=10, id_prefix=P, start=N1 + N2)
            cc = h.write_connector(run.tmp, "c", rc.url, extra=["start: %s" % rfc3339(t_start)])
            h.set_connectors(cfg, [ca, cb, cc])
            h.hup(b)
            later = h.ids(P, N3, start=N1 + N2)
            recs_c = h.wait_delivered(rc, later, 30, alive=[b], what="c's events since start")
            time.sleep(1.0)
            recs_c = rc.records()
            early = [x["id"] for x in recs_c if int(x["id"][len(P):]) < N1 + N2]
            run.summary.update({"c_received": len(h.delivered(recs_c)), "c_early": len(early),
                                "same_pid": b.pid == pid})
            h.check(not early, "c (start: %s) received %d earlier events" % (rfc3339(t_start),
                                                                           len(early)))
            h.check(len(h.delivered(recs_c)) == N3, "c received %d events, want %d"
                    % (len(h.delivered(recs_c)), N3))
            h.check(b.pid == pid and b.running(), "the reloads restarted the bridge")
            lost_a = [i for i in h.ids(P, N1 + N2 + N3) if i not in h.delivered(ra.records())]
            h.wait_until(lambda: not [i for i in h.ids(P, N1 + N2 + N3)
                                      if i not in h.delivered(ra.records())], 20,
                         what="a received every event", alive=[b])
            run.summary["a_lost_during"] = len(lost_a)


if __name__ == "__main__":
    h.main(test, timeout=120)
