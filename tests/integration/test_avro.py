#!/usr/bin/python3
"""Avro end to end (issue 4): order.paid records encoded by an independent implementation
(python3-avro), framed Confluent-style (0x00, 4-byte id from schemas/manifest.json), with
`schema_registry: { dir: schemas/ }` and two connectors on order.paid:
- `plain` (no contract) receives the writer's record as JSON (v2 for v2 records, v1 for v1);
- `pinned` (`contract: order.paid@1`) receives exactly what python3-avro gives reading the
  record with the v1 schema as reader (new fields gone, BNPL/GIFT_CARD -> OTHER), field by
  field; decimals as strings, timestamp-millis as RFC 3339, enums as strings.
Bad records: a record written with inventory.low v1 (id 201) but typed order.paid cannot
resolve to order.paid@1 -> the pinned delivery is dead-lettered with reason `schema...`
(plain still receives it); garbage after a valid frame and a frame with an unknown id ->
dead-lettered (reason `schema...`) by each connector that subscribes to order.paid (each
connector is its own cursor and parks its own copy, named in wb-connector, so a redrive goes
to that connector only); every partition's committed offset reaches its end in both
connectors' groups."""

import base64
import datetime
import decimal
import json
import os
import random

import avro_encode as ae
import harness as h

NV2, NV1 = 30, 6
METHODS = ["CARD", "BANK_TRANSFER", "WALLET", "OTHER", "BNPL", "GIFT_CARD"]
V1 = ae.schema_path("order.paid", 1)
V2 = ae.schema_path("order.paid", 2)


def order(i, rnd, v2=True):
    ts = datetime.datetime(2026, 11, 23, 17, 44, 6, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(milliseconds=rnd.randrange(0, 10 ** 9))
    lines = [{"sku": "SKU-%d-%d" % (i, k), "quantity": rnd.randrange(1, 9),
              "unit_price": decimal.Decimal(rnd.randrange(-500, 100000)).scaleb(-2)}
             for k in range(rnd.randrange(0, 4))]
    d = {"event_id": "00000000-0000-4000-8000-%012d" % i, "order_id": "ord-%d" % i,
         "customer_id": "cust-\u00e9-%d" % i,
         "amount": decimal.Decimal(rnd.randrange(-100, 10 ** 9)).scaleb(-2),
         "currency": rnd.choice(["EUR", "USD", "JPY"]),
         "payment_method": METHODS[i % (6 if v2 else 4)], "paid_at": ts,
         "coupon_code": None if i % 3 else "SAVE%d" % i, "lines": lines}
    if v2:
        d["sales_channel"] = rnd.choice(["web", "app", "store"])
        d["tax_amount"] = None if i % 2 else decimal.Decimal(rnd.randrange(0, 99999)).scaleb(-2)
    return d


# (webhook-id, connector) of every dead-letter record
WANT_DLQ = sorted([("bad-resolve", "pinned"), ("bad-garbage", "plain"),
                   ("bad-garbage", "pinned"), ("bad-unknown-id", "plain"),
                   ("bad-unknown-id", "pinned")])


def rec(key, payload, eid, etype="order.paid"):
    return {"key": key, "value_b64": base64.b64encode(payload).decode(),
            "headers": {"event-type": etype, "ce_id": eid}}


def test(run):
    rnd = random.Random(4)
    records, expect_plain, expect_pinned = [], {}, {}
    for i in range(NV2 + NV1):
        v2 = i < NV2
        schema = V2 if v2 else V1
        d = order(i, rnd, v2)
        body = ae.encode(schema, d)
        eid = d["event_id"]
        records.append(rec("k%d" % (i % 5), ae.frame(ae.manifest_id("order.paid", 2 if v2
                                                                    else 1), body), eid))
        expect_plain[eid] = ae.to_json(schema, ae.resolve(schema, schema, body))
        expect_pinned[eid] = ae.to_json(V1, ae.resolve(schema, V1, body))
    # bad ones
    inv = ae.encode(ae.schema_path("inventory.low", 1), _inventory())
    bad_resolve = "bad-resolve"
    records.append(rec("kx", ae.frame(ae.manifest_id("inventory.low", 1), inv), bad_resolve))
    good = ae.encode(V2, order(999, rnd))
    records.append(rec("kx", ae.frame(ae.manifest_id("order.paid", 2), good[:7] +
                                      b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
                       "bad-garbage"))
    records.append(rec("kx", ae.frame(999999, good), "bad-unknown-id"))
    total = len(records)

    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, name="plain", log_body=True) as rp, \
            h.receiver(run.tmp, name="pinned", log_body=True) as rv:
        cfg = h.write_config(run.tmp, m.bootstrap, rp.url,
                             outbound_extra="commit_interval: %dms" % 200)
        c1 = h.write_connector(run.tmp, "plain", rp.url, events='["order.paid"]')
        c2 = h.write_connector(run.tmp, "pinned", rv.url, events='["order.paid"]',
                               extra=["contract: order.paid@1"])
        h.set_connectors(cfg, [c1, c2], ["schema_registry: { dir: %s }"
                                         % json.dumps(ae.SCHEMAS)])
        h.produce_records(m.bootstrap, "orders", records)
        src = h.consume(m.bootstrap, "orders")
        h.check(len(src) == total, "source holds %d records, want %d" % (len(src), total))
        ends = {}
        for x in src:
            ends[x["partition"]] = max(ends.get(x["partition"], 0), x["offset"] + 1)
        with h.bridge(run.tmp, cfg) as b:
            plain_ids = list(expect_plain) + [bad_resolve]
            rp_recs = h.wait_delivered(rp, plain_ids, 40, alive=[b, rp, rv])
            rv_recs = h.wait_delivered(rv, list(expect_pinned), 40, alive=[b, rp, rv])
            dlq = h.wait_until(lambda: (lambda d: d if len(d) >= len(WANT_DLQ) else None)(
                h.consume(m.bootstrap, "dlq", timeout=3)), 30, interval=0.5,
                what="%d dead-letter records" % len(WANT_DLQ), alive=[b])
            for conn in ("plain", "pinned"):
                group = h.connector_group(cfg, conn)
                h.wait_until(lambda: h.committed(m.bootstrap, group, "orders") == ends, 20,
                             interval=0.5, what="%s: committed offsets at the ends %r"
                             % (conn, ends), alive=[b])
        parked = sorted((d["headers"].get("ce_id"), d["headers"].get("wb-connector"))
                        for d in dlq)
        by_id = {d["headers"].get("ce_id"): d for d in dlq}
        run.summary.update({"produced": total, "plain_delivered": len(h.delivered(rp_recs)),
                            "pinned_delivered": len(h.delivered(rv_recs)),
                            "dead_letters": len(dlq),
                            "reasons": {k: v["headers"].get("wb-error-reason", "")[:120]
                                        for k, v in by_id.items()}})
        h.check(parked == WANT_DLQ, "dead-letter records %r, want %r" % (parked, WANT_DLQ))
        for d in dlq:
            hd = d["headers"]
            h.check(hd.get("wb-error-reason", "").startswith("schema"),
                    "%s: reason %r does not start with 'schema'"
                    % (hd.get("ce_id"), hd.get("wb-error-reason")))
        # the bad ones reached no receiver except the plain copy of bad-resolve
        for recs, allowed in ((rp_recs, {bad_resolve}), (rv_recs, set())):
            extra = {x["id"] for x in recs if x["id"].startswith("bad-")} - allowed
            h.check(not extra, "bad records delivered: %r" % extra)
        mismatches = []
        for name, recs, expect in (("plain", rp_recs, expect_plain),
                                   ("pinned", rv_recs, expect_pinned)):
            got = {x["id"]: x["data"] for x in recs if 200 <= x["status"] < 300}
            for eid, want in expect.items():
                have = got.get(eid)
                if have != want:
                    diff = sorted(k for k in set(want) | set(have or {})
                                  if (have or {}).get(k, "<missing>") != want.get(k, "<missing>"))
                    mismatches.append((name, eid, diff, {k: ((have or {}).get(k), want.get(k))
                                                         for k in diff[:3]}))
        run.summary["mismatches"] = len(mismatches)
        h.check(not mismatches, "%d payloads differ from python3-avro's, e.g. %r"
                % (len(mismatches), mismatches[:3]))
        # the pinned ones really are v1: no v2-only field, widened symbols mapped to default
        v2_fields = {"sales_channel", "tax_amount"}
        for x in rv_recs:
            h.check(not v2_fields & set(x["data"]), "pinned got v2 fields: %r" % x["data"])
        h.check(any(x["data"].get("payment_method") == "OTHER" and
                    expect_plain[x["id"]]["payment_method"] in ("BNPL", "GIFT_CARD")
                    for x in rv_recs), "no BNPL/GIFT_CARD record mapped to OTHER")


def _inventory():
    s = ae.load(ae.schema_path("inventory.low", 1))
    return _sample(s)


def _sample(s):
    """A valid datum for any schema (deterministic)."""
    t = s.type
    lt = s.props.get("logicalType") if hasattr(s, "props") else None
    if t == "record":
        return {f.name: _sample(f.type) for f in s.fields}
    if t == "union":
        return _sample(s.schemas[0]) if s.schemas[0].type != "null" else None
    if lt == "decimal":
        return decimal.Decimal("1.00")
    if lt in ("timestamp-millis", "timestamp-micros"):
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    if lt == "date":
        return datetime.date(2026, 1, 1)
    if lt == "uuid":
        return "00000000-0000-4000-8000-000000000001"
    return {"string": "x", "int": 1, "long": 1, "boolean": True, "float": 1.0,
            "double": 1.0, "bytes": b"x", "null": None, "enum": s.symbols[0] if t == "enum"
            else None, "array": [], "map": {}, "fixed": b"\0" * getattr(s, "size", 0)}[t]


if __name__ == "__main__":
    h.main(test)
