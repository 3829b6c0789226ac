#!/usr/bin/python3
"""Schema Registry client (issue 4) against a local test server implementing
GET /schemas/ids/{id} ({"schema": "<avsc>"}; unknown: 404 {"error_code":40403}), with no local
schemas folder: every request carries the configured bearer token; exactly one request per
id over many records (cached); an unknown id -> dead-letter with reason `schema` (one request,
the 40403 is cached too); the server stopped mid-run -> records with a new id wait (neither
delivered nor dead-lettered nor skipped), and are delivered once it is back."""

import base64
import datetime
import decimal
import http.server
import json
import threading
import time

import avro_encode as ae
import harness as h

TOKEN = "registry-test-token-0123456789"
V1 = ae.schema_path("order.paid", 1)
V2 = ae.schema_path("order.paid", 2)
N1, N2 = 25, 15


class Registry:
    """A tiny threaded registry on a fixed port; start()/stop() may repeat."""

    def __init__(self):
        with open(ae.SCHEMAS + "/manifest.json") as f:
            man = json.load(f)
        self.by_id = {}
        for event, versions in man.items():
            for v, sid in versions.items():
                with open(ae.schema_path(event, int(v))) as f:
                    self.by_id[sid] = f.read()
        self.requests, self.unauthorized = {}, 0
        self.port, self.srv, self.th = 0, None, None
        self.hold = None  # while stopped: the port, reserved (connections refused)

    def start(self):
        reg = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.headers.get("Authorization") != "Bearer " + TOKEN:
                    reg.unauthorized += 1
                    return self.answer(401, {"error_code": 40101, "message": "unauthorized"})
                parts = self.path.split("/")
                if len(parts) != 4 or parts[1:3] != ["schemas", "ids"]:
                    return self.answer(404, {"error_code": 404, "message": "no such path"})
                sid = int(parts[3])
                reg.requests[sid] = reg.requests.get(sid, 0) + 1
                if sid not in reg.by_id:
                    return self.answer(404, {"error_code": 40403,
                                             "message": "Schema %d not found" % sid})
                return self.answer(200, {"schema": reg.by_id[sid]})

            def answer(self, status, doc):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.port = self.srv.server_address[1]
        self.th = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.th.start()
        if self.hold:
            self.hold.close()
            self.hold = None

    def stop(self):
        """Stops serving; the port stays reserved until start() or close(), so no other
        process takes it meanwhile and connections to it are refused."""
        self.srv.shutdown()
        self.srv.server_close()
        if not self.hold:
            self.hold = h.reserve_port(self.port)
        self.th.join(5)

    def close(self):
        if self.hold:
            self.hold.close()
            self.hold = None


def order(i, v2):
    d = {"event_id": "00000000-0000-4000-8000-%012d" % i, "order_id": "o%d" % i,
         "customer_id": "c%d" % i, "amount": decimal.Decimal(i * 101).scaleb(-2),
         "currency": "EUR", "payment_method": "CARD",
         "paid_at": datetime.datetime(2026, 11, 23, tzinfo=datetime.timezone.utc),
         "coupon_code": None, "lines": []}
    if v2:
        d.update(sales_channel="web", tax_amount=None)
    return d


def rec(i, sid, schema, v2, eid=None):
    d = order(i, v2)
    payload = ae.frame(sid, ae.encode(schema, d))
    return {"key": "k%d" % (i % 4), "value_b64": base64.b64encode(payload).decode(),
            "headers": {"event-type": "order.paid", "ce_id": eid or d["event_id"]}}


def test(run):
    reg = Registry()
    reg.start()
    id1, id2 = ae.manifest_id("order.paid", 1), ae.manifest_id("order.paid", 2)
    try:
        with h.mock({"orders": 2, "dlq": 1}) as m, h.receiver(run.tmp, log_body=True) as r:
            cfg = h.write_config(run.tmp, m.bootstrap, r.url)
            conn = h.write_connector(run.tmp, "partner", r.url, events='["order.paid"]')
            h.set_connectors(cfg, [conn], [
                "schema_registry: { url: %s, bearer_token: %s }"
                % (json.dumps("http://127.0.0.1:%d" % reg.port), json.dumps(TOKEN))])
            first = [rec(i, id2, V2, True) for i in range(N1)]
            first += [rec(900 + i, 987654, V2, True, "bad-unknown-%d" % i) for i in range(2)]
            h.produce_records(m.bootstrap, "orders", first)
            with h.bridge(run.tmp, cfg) as b:
                ids1 = [x["headers"]["ce_id"] for x in first[:N1]]
                h.wait_delivered(r, ids1, 30, alive=[b, r])
                dlq = h.wait_until(lambda: (lambda d: d if len(d) >= 2 else None)(
                    h.consume(m.bootstrap, "dlq", timeout=3)), 20, interval=0.5,
                    what="2 dead-letter records", alive=[b])
                reg.stop()
                h.log("registry stopped")
                second = [rec(100 + i, id1, V1, False) for i in range(N2)]
                # new id (v1): must wait for the registry
                h.produce_records(m.bootstrap, "orders", second)
                ids2 = [x["headers"]["ce_id"] for x in second]
                t_end = time.monotonic() + 5
                while time.monotonic() < t_end:
                    b.assert_alive()
                    time.sleep(0.25)
                early = set(h.delivered(r.records())) & set(ids2)
                dlq_down = h.consume(m.bootstrap, "dlq", timeout=3)
                reg.start()
                h.log("registry back on port %d" % reg.port)
                recs = h.wait_delivered(r, ids1 + ids2, 40, alive=[b, r])
                dlq_end = h.consume(m.bootstrap, "dlq", timeout=3)
                h.check(not any(TOKEN in l for l in h.log_lines(b)),
                        "the bearer token appears in the bridge log")
        run.summary.update({"requests_by_id": {str(k): v for k, v in reg.requests.items()},
                            "unauthorized": reg.unauthorized,
                            "delivered_while_down": len(early),
                            "dead_letters_while_down": len(dlq_down) - len(dlq),
                            "delivered": len(h.delivered(recs)),
                            "dead_letters": len(dlq_end)})
        h.check(reg.unauthorized == 0, "%d registry requests without the bearer token"
                % reg.unauthorized)
        h.check(reg.requests.get(id2) == 1, "%d requests for id %d over %d records, want 1"
                % (reg.requests.get(id2, 0), id2, N1))
        h.check(reg.requests.get(id1) == 1, "%d requests for id %d over %d records, want 1"
                % (reg.requests.get(id1, 0), id1, N2))
        h.check(reg.requests.get(987654) == 1, "%d requests for the unknown id over 2 records,"
                " want 1 (40403 cached)" % reg.requests.get(987654, 0))
        h.check(len(dlq) == 2 and all(d["headers"].get("wb-error-reason", "").startswith(
            "schema") and "40403" in d["headers"].get("wb-error-reason", "") for d in dlq),
            "unknown id dead letters: %r" % [d["headers"].get("wb-error-reason") for d in dlq])
        h.check(not early, "%d records with an unfetchable schema delivered while the "
                "registry was down" % len(early))
        h.check(len(dlq_down) == 2 and len(dlq_end) == 2,
                "records dead-lettered while the registry was down: %d -> %d -> %d"
                % (len(dlq), len(dlq_down), len(dlq_end)))
        got = {x["id"]: x["data"] for x in recs if 200 <= x["status"] < 300}
        for x in second:
            eid = x["headers"]["ce_id"]
            i = int(eid.rsplit("-", 1)[1])
            want = ae.to_json(V1, order(i, False))
            h.check(got.get(eid) == want, "%s: got %r want %r" % (eid, got.get(eid), want))
    finally:
        if reg.srv is not None:
            try:
                reg.stop()
            except Exception:  # noqa: BLE001 - already stopped
                pass
        reg.close()


if __name__ == "__main__":
    h.main(test)
