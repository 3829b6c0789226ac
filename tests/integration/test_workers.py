#!/usr/bin/python3
"""outbound.loops: 2 — connectors spread over two event-loop threads (each connector on one of
them, by a hash of its name): two connectors landing on different loops both receive every
event, per-key order kept for each, and SIGTERM drains both loops."""

import re

import harness as h

N, KEYS, P = 1500, 40, "wk-"


def fnv_loop(name, loops):
    """The loop a connector runs on: FNV-1a 32 of its name, modulo the loop count."""
    v = 2166136261
    for ch in name.encode():
        v = ((v ^ ch) * 16777619) & 0xFFFFFFFF
    return v % loops


def order_violations(recs):
    seen, last, violations = set(), {}, 0
    for x in recs:
        if x["id"] in seen:
            continue
        seen.add(x["id"])
        if x["per_key_seq"] <= last.get(x["key"], -1):
            violations += 1
        last[x["key"]] = x["per_key_seq"]
    return violations


def test(run):
    # two names that hash to different loops
    names = ["partner"]
    for cand in ("warehouse", "erp", "crm", "ledger", "shipping"):
        if fnv_loop(cand, 2) != fnv_loop("partner", 2):
            names.append(cand)
            break
    h.check(len(names) == 2, "no second connector name on the other loop")
    with h.mock({"orders": 6, "dlq": 1}) as m, \
            h.receiver(run.tmp, latency_ms="0-10", name="r0") as r0, \
            h.receiver(run.tmp, latency_ms="0-10", name="r1") as r1:
        cfg = h.write_config(run.tmp, m.bootstrap, r0.url, concurrency=32, ordering="key",
                             loops=2)
        conns = [h.write_connector(run.tmp, n, r.url, extra=["ordering: key",
                                                              "max_concurrency: 32"])
                 for n, r in zip(names, (r0, r1))]
        h.set_connectors(cfg, conns)
        h.produce(m.bootstrap, "orders", N, keys=KEYS, size=300, id_prefix=P)
        with h.bridge(run.tmp, cfg) as b:
            recs0 = h.wait_delivered(r0, h.ids(P, N), 60, alive=[b, r0, r1])
            recs1 = h.wait_delivered(r1, h.ids(P, N), 60, alive=[b, r0, r1])
            rc, took = b.terminate(20)
        log = open(b.err_path).read()
        placed = dict(re.findall(r"connector (\S+) runs on outbound loop (\d+)", log))
        v0, v1 = order_violations(recs0), order_violations(recs1)
        lost0, _ = h.summarize(run, h.ids(P, N), recs0)
        lost1 = [i for i in h.ids(P, N) if i not in h.delivered(recs1)]
        run.summary.update({"connectors": names, "loops": placed, "order_violations": [v0, v1],
                            "lost_second": len(lost1), "exit": rc, "sigterm_s": round(took, 1)})
        h.check("2 outbound loop(s)" in log, "the bridge did not start two loops")
        h.check(sorted(placed.values()) == ["0", "1"],
                "the two connectors should run on different loops: %r" % placed)
        h.check(not lost0 and not lost1, "lost %d / %d events" % (len(lost0), len(lost1)))
        h.check(not v0 and not v1, "per-key order broken %d / %d times" % (v0, v1))
        h.check(rc == 0, "SIGTERM exit %r" % rc)


if __name__ == "__main__":
    h.main(test)
