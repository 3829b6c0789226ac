#!/usr/bin/python3
"""Plain JSON events under contract (issue 13), on the per-connector engine.

order.paid events are produced as plain JSON (the schemas/README.md mapping of a datum, the
shape an Avro record decodes to), naming their writer version three ways: a "schema_version"
field, a ce_dataschema header, or nothing (the newest local version applies). Two
connectors:
- `plain` (no contract) receives each event's JSON as it was produced;
- `pinned` (`contract: order.paid@1`) receives exactly what python3-avro (an independent
  implementation) gives reading the v2 datum with the v1 schema as reader: the v2-only
  fields gone, BNPL/GIFT_CARD mapped to the enum default OTHER; v1 events unchanged.
Bad events -> one dead-letter record for `pinned` with wb-error-reason `schema...` naming the
field at fault: a missing field, a wrong type, an unknown version; `plain` still receives
them. Every partition's committed offset reaches its end."""

import datetime
import decimal
import json
import random

import avro_encode as ae
import harness as h

V1 = ae.schema_path("order.paid", 1)
V2 = ae.schema_path("order.paid", 2)
METHODS = ["CARD", "BANK_TRANSFER", "WALLET", "OTHER", "BNPL", "GIFT_CARD"]


def order(i, rnd, v2=True):
    ts = datetime.datetime(2026, 11, 23, 17, 44, 6, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(milliseconds=rnd.randrange(0, 10 ** 9))
    d = {"event_id": "00000000-0000-4000-8000-%012d" % i, "order_id": "ord-%d" % i,
         "customer_id": "cust-%d" % i,
         "amount": decimal.Decimal(rnd.randrange(1, 10 ** 7)).scaleb(-2),
         "currency": "EUR", "payment_method": METHODS[i % (6 if v2 else 4)], "paid_at": ts,
         "coupon_code": None if i % 3 else "SAVE%d" % i,
         "lines": [{"sku": "SKU-%d" % i, "quantity": 1 + i % 5,
                    "unit_price": decimal.Decimal(rnd.randrange(1, 99999)).scaleb(-2)}]}
    if v2:
        d["sales_channel"] = rnd.choice(["web", "app"])
        d["tax_amount"] = None if i % 2 else decimal.Decimal(rnd.randrange(0, 9999)).scaleb(-2)
    return d


def rec(eid, body, key, headers=None):
    hd = {"event-type": "order.paid", "ce_id": eid}
    hd.update(headers or {})
    return {"key": key, "value": body, "headers": hd}


def test(run):
    rnd = random.Random(13)
    records, expect_plain, expect_pinned = [], {}, {}
    for i in range(30):
        v2 = i < 24
        schema = V2 if v2 else V1
        d = order(i, rnd, v2)
        eid = d["event_id"]
        body = ae.to_json(schema, d)  # the JSON event, as a JSON producer writes it
        headers = None
        how = i % 3
        if how == 0:
            body = dict(body, schema_version=2 if v2 else 1)
        elif how == 1:
            headers = {"ce_dataschema": "https://schemas.example.com/order.paid/v%d.avsc"
                       % (2 if v2 else 1)}
        elif not v2:
            body = dict(body, schema_version=1)  # v1 must say so: the newest is v2
        records.append(rec(eid, body, "k%d" % (i % 4), headers))
        expect_plain[eid] = body
        expect_pinned[eid] = ae.to_json(V1, ae.resolve(schema, V1, ae.encode(schema, d)))
    base = ae.to_json(V2, order(900, rnd))
    bad = {
        "bad-missing": (dict({k: v for k, v in base.items() if k != "order_id"},
                             schema_version=2), "field 'order_id'"),
        "bad-type": (dict(base, amount=12.5, schema_version=2), "field 'amount'"),
        "bad-version": (dict(base, schema_version=9), "schema_version"),
        "bad-enum": (dict(base, payment_method="CASH", schema_version=2),
                     "field 'payment_method'"),
    }
    for eid, (body, _) in bad.items():
        records.append(rec(eid, body, "kb"))
    total = len(records)

    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, name="plain", log_body=True) as rp, \
            h.receiver(run.tmp, name="pinned", log_body=True) as rv:
        cfg = h.write_config(run.tmp, m.bootstrap, rp.url,
                             outbound_extra="commit_interval: %dms" % 200)
        c1 = h.write_connector(run.tmp, "plain", rp.url, events='["order.paid"]')
        c2 = h.write_connector(run.tmp, "pinned", rv.url, events='["order.paid"]',
                               extra=["contract: order.paid@1"])
        h.set_connectors(cfg, [c1, c2], ["schema_registry: { dir: %s }" % json.dumps(ae.SCHEMAS)])
        h.produce_records(m.bootstrap, "orders", records)
        ends = {}
        for x in h.consume(m.bootstrap, "orders"):
            ends[x["partition"]] = max(ends.get(x["partition"], 0), x["offset"] + 1)
        with h.bridge(run.tmp, cfg) as b:
            rp_recs = h.wait_delivered(rp, list(expect_plain) + list(bad), 40, alive=[b, rp, rv])
            rv_recs = h.wait_delivered(rv, list(expect_pinned), 40, alive=[b, rp, rv])
            dlq = h.wait_until(lambda: (lambda d: d if len(d) >= len(bad) else None)(
                h.consume(m.bootstrap, "dlq", timeout=3)), 30, interval=0.5,
                what="%d dead-letter records" % len(bad), alive=[b])
            for conn in ('plain', 'pinned'):  # each connector commits in its own group
                group = h.connector_group(cfg, conn)
                h.wait_until(lambda: {p: o for p, o in h.committed(m.bootstrap, group, "orders").items()
                                  if o >= 0} == ends, 20,
                             interval=0.5, what="%s: committed offsets at the ends %r"
                             % (conn, ends), alive=[b])
        by_id = {d["headers"].get("ce_id"): d for d in dlq}
        run.summary.update({"produced": total, "plain": len(h.delivered(rp_recs)),
                            "pinned": len(h.delivered(rv_recs)), "dead_letters": len(dlq),
                            "reasons": {k: v["headers"].get("wb-error-reason", "")[:120]
                                        for k, v in by_id.items()}})
        mismatches = []
        for name, recs, expect in (("plain", rp_recs, expect_plain),
                                   ("pinned", rv_recs, expect_pinned)):
            got = {x["id"]: x["data"] for x in recs if 200 <= x["status"] < 300}
            for eid, want in expect.items():
                if got.get(eid) != want:
                    mismatches.append((name, eid, got.get(eid), want))
        run.summary["mismatches"] = len(mismatches)
        h.check(not mismatches, "%d payloads differ, e.g. %r" % (len(mismatches), mismatches[:2]))
        # exactly the v1 fields for the pinned partner, whatever the producer wrote
        v1_fields = set(json.load(open(V1))["fields"][i]["name"]
                        for i in range(len(json.load(open(V1))["fields"])))
        for x in rv_recs:
            if 200 <= x["status"] < 300:
                h.check(set(x["data"]) == v1_fields, "%s: pinned got fields %r" %
                        (x["id"], sorted(x["data"])))
        h.check(len(dlq) == len(bad), "%d dead letters, want %d: %r" % (len(dlq), len(bad),
                                                                         sorted(by_id)))
        for eid, (_, field) in bad.items():
            d = by_id.get(eid)
            h.check(d is not None, "%s not dead-lettered" % eid)
            if not d:
                continue
            reason = d["headers"].get("wb-error-reason", "")
            h.check(reason.startswith("schema"), "%s: reason %r" % (eid, reason))
            h.check(field in reason, "%s: reason %r does not name %s" % (eid, reason, field))
            h.check(d["headers"].get("wb-connector") == "pinned", "%s: dead-lettered for %r"
                    % (eid, d["headers"].get("wb-connector")))
        h.check(not {x["id"] for x in rv_recs if x["id"].startswith("bad-")},
                "bad events reached the pinned partner")


if __name__ == "__main__":
    h.main(test, timeout=95)
