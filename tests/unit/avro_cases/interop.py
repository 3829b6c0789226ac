#!/usr/bin/python3
"""Independent Avro implementation (Debian python3-avro) for the interop tests.

  interop.py encode <schemas-dir> <event> <version> <id> <case>   -> hex of a framed record
  interop.py decode <schemas-dir> <event> <version> <hex>          -> JSON (bridge mapping)

Records are built here with Python types (Decimal, datetime) so the encoding is python-avro's
own, not the bridge's. decode prints the datum with the bridge's documented JSON mapping
(decimal -> string, timestamp-millis -> RFC 3339, bytes -> base64) for field-by-field compare.
"""
import base64
import datetime
import decimal
import io
import json
import struct
import sys

import avro.io
import avro.schema

UTC = datetime.timezone.utc


def load(d, event, version):
    with open(f"{d}/{event}/v{version}.avsc") as f:
        return avro.schema.parse(f.read())


CASES = {
    ("order.paid", "1", "basic"): {
        "event_id": "6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d", "order_id": "ord_1001",
        "customer_id": "cus_77", "amount": decimal.Decimal("1234.50"), "currency": "EUR",
        "payment_method": "CARD",
        "paid_at": datetime.datetime(2026, 11, 23, 17, 44, 6, 123000, tzinfo=UTC),
        "coupon_code": None,
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": decimal.Decimal("600.00")},
                  {"sku": "SKU-\u00e9\u20ac", "quantity": 1, "unit_price": decimal.Decimal("34.50")}],
    },
    ("order.paid", "2", "basic"): {
        "event_id": "6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d", "order_id": "ord_1002",
        "customer_id": "cus_78", "amount": decimal.Decimal("-0.05"), "currency": "USD",
        "payment_method": "BNPL",
        "paid_at": datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        "coupon_code": "WELCOME\"10\n",
        "lines": [],
        "sales_channel": "pos", "tax_amount": decimal.Decimal("99999999.99"),
    },
    ("lead.created", "2", "basic"): {
        "event_id": "00000000-0000-4000-8000-000000000001", "lead_id": "lead_9",
        "email": "ana@example.com", "contact_name": "Ana Lima", "company": None,
        "source": "REFERRAL", "score": 42,
        "created_at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "phone": "+351 912",
    },
    ("lead.created", "1", "basic"): {
        "event_id": "00000000-0000-4000-8000-000000000002", "lead_id": "lead_8",
        "email": "bo@example.com", "full_name": "Bo Chen", "company": "Acme",
        "source": "EVENT", "score": -3,
        "created_at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    },
    ("contract.signed", "1", "basic"): {
        "event_id": "00000000-0000-4000-8000-000000000003", "contract_id": "c_1",
        "customer_id": "cus_1", "plan": "ANNUAL", "value": decimal.Decimal("12000.00"),
        "currency": "GBP",
        "signed_at": datetime.datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC),
        "starts_on": datetime.date(2026, 12, 1),
        "signatory": {"name": "Dee", "email": "dee@example.com", "title": "CFO"},
        "document_sha256": bytes(range(32)),
        "signature": {"provider": "docusign", "reference": "env-1"},
    },
}


def to_json(schema, v):
    t = schema.type
    lt = schema.get_prop("logicalType")
    if isinstance(schema, avro.schema.UnionSchema):
        if v is None:
            return None
        branches = schema.schemas
        nullable = len(branches) == 2 and any(b.type == "null" for b in branches)
        for b in branches:
            if b.type != "null" and _fits(b, v):
                inner = to_json(b, v)
                if nullable:
                    return inner
                name = b.fullname if hasattr(b, "fullname") and b.type in ("record", "enum", "fixed") else b.type
                return {name: inner}
        raise ValueError("no branch")
    if t == "record":
        return {f.name: to_json(f.type, v[f.name]) for f in schema.fields}
    if t == "array":
        return [to_json(schema.items, x) for x in v]
    if t == "map":
        return {k: to_json(schema.values, x) for k, x in v.items()}
    if lt == "decimal" or isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, datetime.datetime):
        v = v.astimezone(UTC)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (v.microsecond // 1000)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if t in ("bytes", "fixed"):
        return base64.b64encode(v).decode()
    return v


def _fits(b, v):
    if b.type == "record":
        return isinstance(v, dict)
    if b.type == "string":
        return isinstance(v, str)
    return True


def main():
    mode, d, event, version = sys.argv[1:5]
    schema = load(d, event, version)
    if mode == "encode":
        sid, case = int(sys.argv[5]), sys.argv[6]
        buf = io.BytesIO()
        buf.write(b"\x00" + struct.pack(">I", sid))
        avro.io.DatumWriter(schema).write(CASES[(event, version, case)], avro.io.BinaryEncoder(buf))
        print(buf.getvalue().hex())
    elif mode == "decode":
        raw = bytes.fromhex(sys.argv[5])
        assert raw[0] == 0, "magic byte"
        body = io.BytesIO(raw[5:])
        datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(body))
        assert body.read() == b"", "trailing bytes"
        print(json.dumps({"id": struct.unpack(">I", raw[1:5])[0], "value": to_json(schema, datum)},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
