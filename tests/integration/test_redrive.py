#!/usr/bin/python3
"""`webhook-bridge redrive` (issue 11): partner a answers 400 to return.received (dead-lettered
with wb-connector a); partner b takes everything. Then a is "fixed" (restarted on its port,
still refusing one id), and:
- redrive delivers exactly a's dead-lettered records, once, with their original webhook-ids,
  only to a (b gets nothing); the one still refused is parked again with wb-redrive-count: 1
  and the new reason;
- a second identical redrive sends nothing (its progress was committed);
- --dry-run counts and sends nothing;
- bad input: unknown connector and an unparsable --since exit 2; a dead-letter record with
  missing headers (no wb-webhook-id) is reported by offset, not sent, and the run exits 1;
  a record of a connector the config no longer has is reported and left in place."""

import json
import subprocess
import time

import harness as h

N, P = 120, "rd-"
TYPES = ["order.paid", "return.received", "lead.created"]


def redrive(cfg, *args, timeout=60):
    p = subprocess.run([h.BRIDGE, "redrive", "-c", cfg] + list(args), capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def test(run):
    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, name="a1",
                       type_status=[{"type": "return.received", "status": 400}]) as ra1, \
            h.receiver(run.tmp, name="b") as rb:
        port_a = ra1.port  # a1 binds its own port: none probed free and bound later
        url_a = "http://127.0.0.1:%d/hook" % port_a
        cfg = h.write_config(run.tmp, m.bootstrap, url_a)
        ca = h.write_connector(run.tmp, "a", url_a)
        cb = h.write_connector(run.tmp, "b", rb.url)
        h.set_connectors(cfg, [ca, cb])
        returns = [i for i in h.ids(P, N) if int(i[len(P):]) % 3 == 1]
        with h.bridge(run.tmp, cfg) as b:
            h.produce(m.bootstrap, "orders", N, id_prefix=P, keys=15, types=TYPES)
            h.wait_delivered(rb, h.ids(P, N), 30, alive=[b])
            dlq = h.wait_until(lambda: (lambda d: d if len(d) >= len(returns) else None)(
                h.consume(m.bootstrap, "dlq", timeout=3)), 30, interval=0.5,
                what="a's %d dead letters" % len(returns), alive=[b])
        h.check(sorted(d["headers"]["wb-webhook-id"] for d in dlq) == sorted(returns),
                "dead letters are not a's return.received: %r" % [d["headers"] for d in dlq[:2]])
        # a is fixed, but still refuses one id
        still = returns[0]
        # two records to report: one without wb-webhook-id, one of a connector that is gone
        h.produce_records(m.bootstrap, "dlq", [
            {"key": "x", "value": json.dumps({"id": "broken"}),
             "headers": {"wb-connector": "a", "wb-event-type": "t"}},
            {"key": "y", "value": json.dumps({"id": "gone"}),
             "headers": {"wb-connector": "retired-partner", "wb-webhook-id": "gone-1",
                         "wb-event-type": "t"}}])
        # a2 takes a1's port: held from the moment a1 is gone until a2 listens on it
        ra1.close()
        hold_a = h.reserve_port(port_a)
        with h.receiver(run.tmp, name="a2", port=port_a,
                        type_status=[]) as ra2:
            hold_a.close()
            nb = len(rb.records())
            for args, want in ((["--connector", "nope"], "unknown connector"),
                               (["--since", "last tuesday"], "unparsable time")):
                rc, out, err = redrive(cfg, *args)
                h.check(rc == 2 and want in err, "redrive %r: exit %d: %r" % (args, rc,
                                                                             err[-300:]))
            rc, out, err = redrive(cfg, "--dry-run")
            h.check("would send %d" % len(returns) in out, "dry run: %r %r" % (out, err[-300:]))
            time.sleep(0.5)
            h.check(not ra2.records(), "the dry run sent something")
            # the real run; make one id fail again (a 400 for that id only)
            rc, out, err = redrive_with_refusal(cfg, ra2, still, run)
            run.summary["first_redrive"] = out.strip()
            recs = ra2.records()
            got = {x["id"]: x for x in recs}
            h.check(set(got) == set(returns), "redriven ids %d, want %d: extra %r"
                    % (len(got), len(returns), sorted(set(got) - set(returns))[:3]))
            ok = [x for x in recs if 200 <= x["status"] < 300]
            h.check(len(ok) == len(returns) - 1, "%d delivered on redrive, want %d"
                    % (len(ok), len(returns) - 1))
            h.check(all(x["verified"] for x in recs), "a redriven request did not verify")
            h.check(all(x["type"] == "return.received" for x in recs),
                    "the event type changed on redrive")
            h.check(len(rb.records()) == nb, "b received %d requests from the redrive"
                    % (len(rb.records()) - nb))
            h.check(rc == 1, "a run with a record missing its headers must exit 1, got %d" % rc)
            h.check("lacks a usable wb-webhook-id" in err, "the broken record was not reported")
            h.check("retired-partner" in err, "the orphaned record was not reported")
            dlq2 = h.consume(m.bootstrap, "dlq", timeout=3)
            again = [d for d in dlq2 if d["headers"].get("wb-webhook-id") == still and
                     d["headers"].get("wb-redrive-count")]
            h.check(len(again) == 1 and again[0]["headers"]["wb-redrive-count"] == "1",
                    "the record failing again is not back with wb-redrive-count 1: %r"
                    % [d["headers"] for d in again])
            h.check(again[0]["headers"].get("wb-connector") == "a", "re-parked for %r"
                    % again[0]["headers"].get("wb-connector"))
            # a second run: nothing of a's is sent twice (the re-parked one is new: it fails
            # again and is parked again, which is what the operator asked for)
            n2 = len(ra2.records())
            rc2, out2, err2 = redrive_with_refusal(cfg, ra2, still, run)
            run.summary["second_redrive"] = out2.strip()
            second = ra2.records()[n2:]
            twice = [x["id"] for x in second if x["id"] != still]
            h.check(not twice, "the second redrive sent %d records again: %r"
                    % (len(twice), twice[:3]))
        run.summary.update({"dead_letters": len(returns), "redriven": len(got)})


def redrive_with_refusal(cfg, rcv, refused_id, run):
    """A redrive while rcv answers 400 to refused_id (and 2xx to the rest)."""
    rcv.control(id_status={refused_id: 400})
    return redrive(cfg)


if __name__ == "__main__":
    h.main(test, timeout=170)
