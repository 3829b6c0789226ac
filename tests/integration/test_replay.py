#!/usr/bin/python3
"""`webhook-bridge replay` (issue 11): three batches of events (order.paid / inventory.low
alternating) are delivered live to connectors a and b. Then, with the live bridge still
running:
- replay --connector a --from T1 --to T2: exactly batch 2 arrives again at a (each id a
  second time, the same webhook-ids, signatures verified), nothing at b, and the live groups'
  committed offsets did not move;
- replay --connector a --from T1 --events 'order.*': batches 2 and 3, order.paid only;
- --dry-run counts what would be sent and sends nothing;
- bad input: unknown connector, unparsable time, --from after --to: exit 2 naming the
  problem, nothing sent;
- a partner that rejects the replayed events (HTTP 400): they are parked on the dead-letter
  topic with the reason, and the run ends normally saying so (regression: a reprocessing run
  has no engine behind it, and its dead-letter path reached for the engine's counters)."""

import os

import datetime
import json
import subprocess
import time

import harness as h

N1, N2, N3, P = 150, 120, 90, "rp-"
TYPES = ["order.paid", "inventory.low"]


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def replay(cfg, *args, timeout=60):
    p = subprocess.run([h.BRIDGE, "replay", "-c", cfg] + list(args), capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def counts(recs):
    out = {}
    for x in recs:
        if 200 <= x["status"] < 300:
            out[x["id"]] = out.get(x["id"], 0) + 1
    return out


def type_of(seq):
    return TYPES[seq % 2]


def test(run):
    with h.mock({"orders": 3, "dlq": 1}) as m, h.receiver(run.tmp, name="a") as ra, \
            h.receiver(run.tmp, name="b") as rb:
        cfg = h.write_config(run.tmp, m.bootstrap, ra.url)
        ca = h.write_connector(run.tmp, "a", ra.url)
        cb = h.write_connector(run.tmp, "b", rb.url)
        h.set_connectors(cfg, [ca, cb])
        all_ids = h.ids(P, N1 + N2 + N3)
        with h.bridge(run.tmp, cfg) as b:
            h.produce(m.bootstrap, "orders", N1, id_prefix=P, keys=20, types=TYPES)
            time.sleep(1.2)
            t1 = time.time()
            time.sleep(0.3)
            h.produce(m.bootstrap, "orders", N2, id_prefix=P, keys=20, types=TYPES, start=N1)
            time.sleep(0.3)
            t2 = time.time()
            time.sleep(1.2)
            h.produce(m.bootstrap, "orders", N3, id_prefix=P, keys=20, types=TYPES,
                      start=N1 + N2)
            h.wait_delivered(ra, all_ids, 30, alive=[b])
            h.wait_delivered(rb, all_ids, 30, alive=[b])
            time.sleep(1.0)  # the last commits
            ga, gb = h.connector_group(cfg, "a"), h.connector_group(cfg, "b")
            before = (h.committed(m.bootstrap, ga, "orders"),
                      h.committed(m.bootstrap, gb, "orders"))
            na, nb = len(ra.records()), len(rb.records())

            # bad input first: nothing may be sent
            for args, want in ((["--connector", "nope", "--from", "-1h"], "unknown connector"),
                               (["--connector", "a", "--from", "yesterday"], "unparsable time"),
                               (["--connector", "a", "--from", rfc3339(t2), "--to",
                                 rfc3339(t1)], "must be before")):
                rc, out, err = replay(cfg, *args)
                h.check(rc == 2 and want in err, "replay %r: exit %d, stderr %r" % (args, rc,
                                                                                   err[-300:]))
            rc, out, err = replay(cfg, "--connector", "a", "--from", rfc3339(t1), "--dry-run")
            h.check(rc == 0, "dry run exit %d: %s" % (rc, err[-500:]))
            h.check("would send %d" % (N2 + N3) in out, "dry run summary: %r" % out)
            time.sleep(0.5)
            h.check(len(ra.records()) == na, "the dry run sent something")

            # the window [T1, T2): batch 2, to a only
            rc, out, err = replay(cfg, "--connector", "a", "--from", rfc3339(t1), "--to",
                                  rfc3339(t2))
            run.summary["window_summary"] = out.strip()
            h.check(rc == 0, "replay exit %d: %s" % (rc, err[-500:]))
            time.sleep(0.5)
            again = counts(ra.records()[na:])
            want = set(h.ids(P, N2, start=N1))
            h.check(set(again) == want, "replayed %d ids, want batch 2 (%d); extra %r missing %r"
                    % (len(again), len(want), sorted(set(again) - want)[:3],
                       sorted(want - set(again))[:3]))
            h.check(all(v == 1 for v in again.values()), "a replayed id arrived twice")
            h.check(len(rb.records()) == nb, "b received %d requests from a's replay"
                    % (len(rb.records()) - nb))
            bad = [x for x in ra.records()[na:] if not x["verified"]]
            h.check(not bad, "%d replayed requests did not verify" % len(bad))
            after = (h.committed(m.bootstrap, ga, "orders"),
                     h.committed(m.bootstrap, gb, "orders"))
            h.check(after == before, "the live groups' offsets moved: %r -> %r" % (before, after))

            # --events: order.* from T1 on (batches 2 and 3)
            na2 = len(ra.records())
            rc, out, err = replay(cfg, "--connector", "a", "--from", rfc3339(t1), "--events",
                                  "order.*")
            h.check(rc == 0, "replay --events exit %d: %s" % (rc, err[-500:]))
            time.sleep(0.5)
            got = set(counts(ra.records()[na2:]))
            want = {i for i in h.ids(P, N2 + N3, start=N1)
                    if type_of(int(i[len(P):])) == "order.paid"}
            h.check(got == want, "--events order.* replayed %d ids, want %d" % (len(got),
                                                                                len(want)))
            run.summary.update({"window_replayed": len(again), "events_replayed": len(got),
                                "offsets_unchanged": after == before})
            h.check(b.running(), "the live bridge died")

            # a partner rejecting the replayed window: dead-lettered, not lost, no crash
            with h.receiver(run.tmp, name="rejecting", status=400) as rr:
                tmp2 = os.path.join(run.tmp, "rejecting")
                os.makedirs(tmp2, exist_ok=True)
                cfg2 = h.write_config(tmp2, m.bootstrap, rr.url)
                h.set_connectors(cfg2, [h.write_connector(tmp2, "a", rr.url)])
                dlq_before = len(h.consume(m.bootstrap, "dlq", timeout=3))
                rc, out, err = replay(cfg2, "--connector", "a", "--from", rfc3339(t1), "--to",
                                      rfc3339(t2))
                h.check(rc == 0, "rejected replay exit %d: %s" % (rc, err[-800:]))
                h.check("dead-lettered %d" % N2 in out, "rejected replay summary: %r" % out)
                dlq = h.wait_until(lambda: (lambda d: d if len(d) >= dlq_before + N2 else None)(
                    h.consume(m.bootstrap, "dlq", timeout=3)), 30, interval=0.5,
                    what="the rejected replay's dead letters")
                parked = {json.loads(d["value"])["id"] for d in dlq[dlq_before:]}
                h.check(parked == set(h.ids(P, N2, start=N1)),
                        "dead-lettered %d ids, want batch 2 (%d)" % (len(parked), N2))
                run.summary["rejected_dead_lettered"] = len(parked)


if __name__ == "__main__":
    h.main(test, timeout=150)
