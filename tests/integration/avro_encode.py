"""avro_encode.py - an independent Avro implementation (Debian's python3-avro) for the
integration tests: encode records, frame them Confluent-style, and compute what a reader
schema resolves them to, mapped to JSON per schemas/README.md ("Avro -> JSON mapping").

    frame(schema_id, avro_bytes)          -> b"\\x00" + 4-byte big-endian id + bytes
    encode(schema_path, datum)            -> Avro binary (python values: Decimal, datetime)
    resolve(writer_path, reader_path, b)  -> python values read with reader's schema
    to_json(schema_path, value)           -> the JSON shape the bridge promises
    manifest_id(event, version)           -> id from schemas/manifest.json
"""

import datetime
import decimal
import io
import json
import os
import struct

import avro.errors
import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "schemas")


def schema_path(event, version):
    return os.path.join(SCHEMAS, event, "v%d.avsc" % version)


def manifest_id(event, version):
    with open(os.path.join(SCHEMAS, "manifest.json")) as f:
        return json.load(f)[event][str(version)]


def load(path):
    with open(path) as f:
        return avro.schema.parse(f.read())


def frame(schema_id, payload):
    return b"\x00" + struct.pack(">I", schema_id) + payload


def encode(path, datum):
    s = load(path)
    out = io.BytesIO()
    avro.io.DatumWriter(s).write(datum, avro.io.BinaryEncoder(out))
    return out.getvalue()


class _Reader(avro.io.DatumReader):
    """python3-avro 1.11.1 predates the spec's enum default on resolution (Avro 1.9+:
    a symbol the reader lacks becomes the reader's default); add it."""

    def read_enum(self, writers_schema, readers_schema, decoder):
        index = decoder.read_int()
        if index >= len(writers_schema.symbols):
            raise avro.errors.SchemaResolutionException("enum index out of range",
                                                        writers_schema, readers_schema)
        sym = writers_schema.symbols[index]
        if sym in readers_schema.symbols:
            return sym
        default = readers_schema.props.get("default")
        if default in readers_schema.symbols:
            return default
        raise avro.errors.SchemaResolutionException("symbol %s not in the reader" % sym,
                                                    writers_schema, readers_schema)


def resolve(writer_path, reader_path, payload):
    r = _Reader(load(writer_path), load(reader_path))
    return r.read(avro.io.BinaryDecoder(io.BytesIO(payload)))


def _json(schema, v):
    t = schema.type
    lt = schema.props.get("logicalType") if hasattr(schema, "props") else None
    if t == "union":
        if v is None:
            return None
        branches = [b for b in schema.schemas if b.type != "null"]
        nullable = len(schema.schemas) == 2 and len(branches) == 1
        for b in branches:
            try:
                out = _json(b, v)
            except (TypeError, ValueError, AttributeError):
                continue
            if nullable:
                return out
            name = b.fullname if hasattr(b, "fullname") and b.type in (
                "record", "enum", "fixed") else b.type
            return {name: out}
        raise ValueError("no union branch for %r" % (v,))
    if t == "record":
        return {f.name: _json(f.type, v[f.name]) for f in schema.fields}
    if t == "array":
        return [_json(schema.items, x) for x in v]
    if t == "map":
        return {k: _json(schema.values, x) for k, x in v.items()}
    if lt == "decimal":
        if not isinstance(v, decimal.Decimal):
            raise TypeError("decimal wanted")
        scale = schema.props.get("scale", 0)
        q = decimal.Decimal(1).scaleb(-scale)
        return format(v.quantize(q), "f")
    if lt == "timestamp-millis":
        if not isinstance(v, datetime.datetime):
            raise TypeError("datetime wanted")
        v = v.astimezone(datetime.timezone.utc)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (v.microsecond // 1000)
    if lt == "date":
        return v.isoformat()
    if t == "enum" or t == "string":
        if not isinstance(v, str):
            raise TypeError("string wanted")
        return v
    if t in ("int", "long"):
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError("int wanted")
        return v
    if t == "boolean":
        return bool(v)
    if t in ("float", "double"):
        return v if v == v and abs(v) != float("inf") else None
    if t in ("bytes", "fixed"):
        import base64
        return base64.b64encode(v).decode()
    if t == "null":
        return None
    raise ValueError("unhandled Avro type %s" % t)


def to_json(path, value):
    return _json(load(path), value)
