#!/usr/bin/python3
"""Filters and transforms end to end (issue 13), on the per-connector engine.

Two connectors read `orders`:
- `plain`: no filter, no transform: receives every record as the usual envelope (and so shows
  that a hostile event for `shaped` never holds another partner back);
- `shaped`: filter + transform, both written so that the EVENT decides what happens:
    filter     if .data.mode == "spin" then (last(range(1e15)) > 0)          # runs past the budget
               elif .data.mode == "hog" then ([range(1e9)] | length > 0)    # hits the memory cap
               elif .data.mode == "null" then .data.nothing                 # not a boolean
               else (.data.amount | tonumber) >= 100 end                    # jq error on "abc"
    transform  if .data.mode == "scalar" then .data.order_id                # not an object
               else {kind: .type, order: .data.order_id, at: .timestamp,
                     cents: ((.data.amount | tonumber) * 100 | round),
                     tag: .data.tags[]} end                                 # 0 or 2 tags: no /
                                                                            # several values
The receiver verifies every request with the official standardwebhooks SDK, so a 2xx proves the
signature covers the transformed body; the webhook-id stays the record's ce_id. Expected:
- ok-*: `shaped` receives exactly the transformed object, verified, webhook-id = ce_id;
- low-*: amount < 100 -> filtered: terminal for `shaped` (never delivered, never
  dead-lettered), counted as filtered;
- each error class -> one dead-letter record for `shaped` with wb-error-reason `transform...`
  and jq's message; `plain` still gets it;
- every partition's committed offset reaches its end (filtered and dead-lettered records are
  terminal), and the sandbox worker was respawned after the budget and memory kills."""

import json

import harness as h

FILTER = ('if .data.mode == "spin" then (last(range(1e15)) > 0) '
          'elif .data.mode == "hog" then ([range(1e9)] | length > 0) '
          'elif .data.mode == "null" then .data.nothing '
          'else (.data.amount | tonumber) >= 100 end')
TRANSFORM = ('if .data.mode == "scalar" then .data.order_id '
             'else {kind: .type, order: .data.order_id, at: .timestamp, '
             'cents: ((.data.amount | tonumber) * 100 | round), tag: .data.tags[]} end')

# The time budget is wall-clock: on a loaded machine `hog` can take well over a second to
# reach the memory cap, so the budget is wide enough that memory always wins there, while
# `spin` (which never allocates much) still runs into it.
JQ_BUDGET_MS = 5000

# id -> (data, expected dead-letter message fragment or None)
BAD = {
    "bad-budget": ({"mode": "spin"}, "exceeded the %d ms budget" % JQ_BUDGET_MS),
    "bad-memory": ({"mode": "hog"}, "memory limit"),
    "bad-nonbool": ({"mode": "null", "amount": "150"}, "filter must yield true or false, got null"),
    "bad-jqerror": ({"amount": "abc", "tags": ["x"]}, "filter: Invalid numeric literal"),
    "bad-novalue": ({"amount": "150", "tags": []}, "transform yielded no value"),
    "bad-several": ({"amount": "150", "tags": ["a", "b"]}, "transform yielded several values"),
    "bad-scalar": ({"mode": "scalar", "amount": "150", "order_id": "o"},
                   "transform must yield an object, got string"),
}


def rec(eid, data, key="k"):
    return {"key": key, "value": dict(data, id=eid),
            "headers": {"event-type": "order.paid", "ce_id": eid}}


def test(run):
    ok = {"ok-%d" % i: {"amount": "%d.25" % (100 + i), "order_id": "ord-%d" % i,
                        "tags": ["t%d" % i]} for i in range(20)}
    low = {"low-%d" % i: {"amount": "%d.00" % i, "order_id": "ord-l%d" % i, "tags": ["x"]}
           for i in range(5)}
    records = [rec(eid, d, "k%d" % (n % 4)) for n, (eid, d) in enumerate(ok.items())]
    records += [rec(eid, d) for eid, d in low.items()]
    records += [rec(eid, d, "kb") for eid, (d, _) in BAD.items()]
    total = len(records)

    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, name="plain", log_body=True) as rp, \
            h.receiver(run.tmp, name="shaped", log_payload=True) as rs:
        cfg = h.write_config(run.tmp, m.bootstrap, rp.url, admin=True,
                             outbound_extra="commit_interval: %dms" % 200)
        c1 = h.write_connector(run.tmp, "plain", rp.url, events='["order.paid"]')
        c2 = h.write_connector(run.tmp, "shaped", rs.url, events='["order.paid"]',
                               extra=["filter: %s" % json.dumps(FILTER),
                                      "transform: %s" % json.dumps(TRANSFORM)])
        h.set_connectors(cfg, [c1, c2])
        with open(cfg) as f:
            text = f.read()
        # a small memory cap so the hostile events fail fast; the budget is JQ_BUDGET_MS
        text = text.replace("outbound: { ", "outbound: { jq_budget: %dms, jq_memory: 96MiB, "
                            % JQ_BUDGET_MS, 1)
        with open(cfg, "w") as f:
            f.write(text)
        h.produce_records(m.bootstrap, "orders", records)
        ends = {}
        for x in h.consume(m.bootstrap, "orders"):
            ends[x["partition"]] = max(ends.get(x["partition"], 0), x["offset"] + 1)
        with h.bridge(run.tmp, cfg) as b:
            every = list(ok) + list(low) + list(BAD)
            rp_recs = h.wait_delivered(rp, every, 40, alive=[b, rp, rs])
            rs_recs = h.wait_delivered(rs, list(ok), 40, alive=[b, rp, rs])
            dlq = h.wait_until(lambda: (lambda d: d if len(d) >= len(BAD) else None)(
                h.consume(m.bootstrap, "dlq", timeout=3)), 40, interval=0.5,
                what="%d dead-letter records" % len(BAD), alive=[b])
            for conn in ('plain', 'shaped'):  # each connector commits in its own group
                group = h.connector_group(cfg, conn)
                h.wait_until(lambda: {p: o for p, o in h.committed(m.bootstrap, group, "orders").items()
                                  if o >= 0} == ends, 30,
                             interval=0.5, what="%s: committed offsets at the ends %r"
                             % (conn, ends), alive=[b])
            metrics = h.scrape(h.admin_port(b))
        by_id = {d["headers"].get("ce_id"): d for d in dlq}
        run.summary.update({"produced": total, "plain": len(h.delivered(rp_recs)),
                            "shaped": len(h.delivered(rs_recs)), "dead_letters": len(dlq),
                            "reasons": {k: v["headers"].get("wb-error-reason", "")[:100]
                                        for k, v in by_id.items()}})
        # plain got everything, hostile ones included
        h.check(len(h.delivered(rp_recs)) == total, "plain: %d of %d" %
                (len(h.delivered(rp_recs)), total))
        # shaped: exactly the transformed bodies, verified by the SDK, webhook-id = ce_id
        got = {x["id"]: x for x in rs_recs if 200 <= x["status"] < 300}
        h.check(set(got) == set(ok), "shaped received %r" % sorted(set(got) ^ set(ok)))
        for eid, d in ok.items():
            x = got.get(eid)
            if not x:
                continue
            h.check(x["verified"], "%s: signature did not verify over the transformed body" % eid)
            p = x.get("payload") or {}
            want = {"kind": "order.paid", "order": d["order_id"],
                    "cents": round(float(d["amount"]) * 100), "tag": d["tags"][0]}
            h.check({k: p.get(k) for k in want} == want, "%s: payload %r, want %r" % (eid, p, want))
            h.check(set(p) == set(want) | {"at"}, "%s: keys %r" % (eid, sorted(p)))
        # filtered: neither delivered nor dead-lettered
        for eid in low:
            h.check(eid not in got and eid not in by_id, "%s: filtered record leaked" % eid)
        # every error class: dead-lettered for shaped, reason transform + jq's message
        h.check(len(dlq) == len(BAD), "%d dead letters, want %d: %r" % (len(dlq), len(BAD),
                                                                         sorted(by_id)))
        for eid, (_, msg) in BAD.items():
            d = by_id.get(eid)
            h.check(d is not None, "%s not dead-lettered" % eid)
            if not d:
                continue
            hd = d["headers"]
            reason = hd.get("wb-error-reason", "")
            h.check(reason.startswith("transform"), "%s: reason %r" % (eid, reason))
            h.check(msg in reason, "%s: reason %r lacks %r" % (eid, reason, msg))
            h.check(hd.get("wb-connector") == "shaped", "%s: connector %r" % (eid,
                                                                             hd.get("wb-connector")))
        filtered = h.metric(metrics, "webhook_bridge_deliveries_total", connector="shaped",
                            outcome="filtered")
        h.check(filtered == len(low), "filtered metric %r, want %d" % (filtered, len(low)))


if __name__ == "__main__":
    h.main(test, timeout=95)
