#!/usr/bin/python3
"""Partner isolation (issue 8): two connectors on the same topic, each its own cursor.

Partner B refuses connections (its port is reserved: bound, nothing listening) and has a long
retry schedule that never dead-letters (on_exhausted: block), with a small window so its
partitions pause. Partner A must receive all of its events at full speed meanwhile, and A's
group must commit them all while B's committed offsets stay behind. Then B comes back (a
receiver starts on its port) and receives its whole backlog: nothing lost, per-key order kept,
the webhook-ids the events' own ids.

Before the per-connector cursor this failed: one shared window and one committed offset, so a
partner that was down held back every other partner (measured: 12 of 160 events in 40 s)."""

import time

import harness as h

N, KEYS, PARTS, P = 1200, 30, 4, "iso-"


def order_violations(recs):
    seen, last, violations = set(), {}, 0
    for x in recs:
        if x["id"] in seen or not (200 <= x["status"] < 300):
            continue
        seen.add(x["id"])
        if x["per_key_seq"] <= last.get(x["key"], -1):
            violations += 1
        last[x["key"]] = x["per_key_seq"]
    return violations


def test(run):
    # B's port stays reserved (bound, not listening: connections are refused) for the whole
    # outage, so no other process can take it before B's receiver starts on it ~30 s later
    with h.reserve_port() as b_hold, h.mock({"orders": PARTS, "dlq": 1}) as m, \
            h.receiver(run.tmp, name="a") as ra:
        b_port = b_hold.getsockname()[1]
        b_url = "http://127.0.0.1:%d/hook" % b_port
        cfg = h.write_config(run.tmp, m.bootstrap, ra.url, max_in_flight=40)
        ca = h.write_connector(run.tmp, "a", ra.url, extra=["ordering: key",
                                                             "max_concurrency: 32"])
        cb = h.write_connector(run.tmp, "b", b_url, schedule=("1s", "2s"),
                               on_exhausted="block",
                               extra=["ordering: key", "max_concurrency: 8",
                                      "circuit_breaker: { failures: 5, cooldown: 2s }"])
        h.set_connectors(cfg, [ca, cb])
        h.produce(m.bootstrap, "orders", N, keys=KEYS, size=300, id_prefix=P)
        ends = {}
        for x in h.consume(m.bootstrap, "orders"):
            ends[x["partition"]] = max(ends.get(x["partition"], 0), x["offset"] + 1)
        with h.bridge(run.tmp, cfg) as b:
            t0 = time.monotonic()
            recs_a = h.wait_delivered(ra, h.ids(P, N), 30, alive=[b, ra],
                                      what="partner A's %d events while B is down" % N)
            a_secs = time.monotonic() - t0
            ga, gb = h.connector_group(cfg, "a"), h.connector_group(cfg, "b")
            h.wait_until(lambda: h.committed(m.bootstrap, ga, "orders") == ends, 15,
                         interval=0.5, what="A's group committed to the end offsets",
                         alive=[b])
            committed_b = h.committed(m.bootstrap, gb, "orders")
            behind = sum(ends[p] - max(committed_b.get(p, 0), 0) for p in ends)
            run.summary.update({"a_seconds_while_b_down": round(a_secs, 2),
                                "b_behind_while_down": behind})
            h.check(behind >= N - PARTS * 40,
                    "B's group committed past records B never received: %d behind of %d"
                    % (behind, N))
            # B comes back on its port
            with h.receiver(run.tmp, name="b", port=b_port) as rb:
                b_hold.close()  # B listens: the reservation has done its job
                t1 = time.monotonic()
                recs_b = h.wait_delivered(rb, h.ids(P, N), 60, alive=[b, rb],
                                          what="partner B's backlog after it came back")
                run.summary["b_backlog_seconds"] = round(time.monotonic() - t1, 2)
                h.wait_until(lambda: h.committed(m.bootstrap, gb, "orders") == ends, 15,
                             interval=0.5, what="B's group committed to the end offsets",
                             alive=[b])
        ok_a = [x["t_us"] for x in recs_a if 200 <= x["status"] < 300]
        span_a = (max(ok_a) - min(ok_a)) / 1e6
        run.summary["a_first_to_last_s"] = round(span_a, 2)
        lost_a = [i for i in h.ids(P, N) if i not in h.delivered(recs_a)]
        lost_b, dups_b, unverified_b = h.account(h.ids(P, N), recs_b)
        h.check_ids_are_event_ids(recs_a, P)
        h.check_ids_are_event_ids(recs_b, P)
        va, vb = order_violations(recs_a), order_violations(recs_b)
        run.summary.update({"lost_a": len(lost_a), "lost_b": len(lost_b),
                            "duplicated_b": dups_b, "order_violations": [va, vb]})
        h.check(not lost_a and not lost_b, "lost %d / %d" % (len(lost_a), len(lost_b)))
        h.check(va == 0 and vb == 0, "per-key order broken %d / %d times" % (va, vb))
        h.check(unverified_b == 0, "unverified requests at B")
        # "full speed": A was not held back by B's outage: its first to last delivery takes
        # about a second here; B's retries every 1-2 s would stretch it to minutes if they
        # held A's window (they did before the per-connector cursor).
        h.check(span_a < 10, "partner A took %.1f s from its first to its last delivery while "
                "B was down" % span_a)


if __name__ == "__main__":
    h.main(test, timeout=140)
