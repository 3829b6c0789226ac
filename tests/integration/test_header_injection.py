#!/usr/bin/python3
"""Header injection from Kafka records (issue 9 item 2, outbound half).

A record's ce_id header, the value at `id_pointer` (a JSON "\\n" escape becomes a real
newline) and its traceparent header all end up in request headers. Values with control
characters must never split into new headers: the webhook-id falls back to the derived
"wb_" + sha256(topic/partition/offset) id, the traceparent to a fresh one, and the request
stays correctly signed. A raw receiver (Python's http.server, not the bridge's own code)
records every header line exactly as it arrived."""

import base64
import hashlib
import hmac
import http.server
import json
import re
import threading

import harness as h

INJECT = "X-Injected"


class Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []
    lock = threading.Lock()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        with Recorder.lock:
            Recorder.seen.append({"headers": [(k, v) for k, v in self.headers.items()],
                                  "body": body})
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def verify(secret, hdrs, body):
    """Standard Webhooks v1 check, done here by hand (independent of the bridge's code)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    msg = ("%s.%s." % (hdrs["webhook-id"], hdrs["webhook-timestamp"])).encode() + body
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return any(s == "v1," + want for s in hdrs.get("webhook-signature", "").split(" "))


def derived(topic, partition, offset):
    return "wb_" + hashlib.sha256(("%s/%d/%d" % (topic, partition, offset)).encode()
                                  ).hexdigest()[:32]


def test(run):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        url = "http://127.0.0.1:%d/hook" % srv.server_address[1]
        good_tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        recs = [
            # 0: ce_id with CRLF + a header of the record's choosing
            {"key": "k0", "partition": 0,
             "headers": {"ce_id": "evil\r\n%s: 1" % INJECT, "event-type": "order.paid"},
             "value": {"id": "body-0", "type": "order.paid"}},
            # 1: the id_pointer value (/id) with a JSON newline escape
            {"key": "k1", "partition": 0, "headers": {"event-type": "order.paid"},
             "value": {"id": "bad\n%s: 2" % INJECT, "type": "order.paid"}},
            # 2: traceparent with CRLF; a good ce_id stays
            {"key": "k2", "partition": 0,
             "headers": {"ce_id": "good-2", "traceparent": "00-abc\r\n%s: 3" % INJECT,
                         "event-type": "order.paid"},
             "value": {"id": "body-2", "type": "order.paid"}},
            # 3: everything fine: passed through unchanged
            {"key": "k3", "partition": 0,
             "headers": {"ce_id": "good-3", "traceparent": good_tp, "event-type": "order.paid"},
             "value": {"id": "body-3", "type": "order.paid"}},
            # 4: a lone CR and a DEL in the body id
            {"key": "k4", "partition": 0, "headers": {"event-type": "order.paid"},
             "value": {"id": "cr\rdel\x7f", "type": "order.paid"}},
        ]
        with h.mock({"orders": 1, "dlq": 1}) as m:
            cfg = h.write_config(run.tmp, m.bootstrap, url)
            h.produce_records(m.bootstrap, "orders", recs)
            with h.bridge(run.tmp, cfg) as b:
                h.wait_until(lambda: len(Recorder.seen) >= len(recs), 30,
                             what="%d requests at the raw receiver" % len(recs), alive=[b])
        with Recorder.lock:
            seen = list(Recorder.seen)
        by_id = {}
        for req in seen:
            names = [k.lower() for k, _ in req["headers"]]
            h.check(INJECT.lower() not in names,
                    "an injected header reached the partner: %r" % req["headers"])
            h.check(names.count("webhook-id") == 1, "webhook-id lines: %r" % req["headers"])
            hd = {k.lower(): v for k, v in req["headers"]}
            h.check(verify(h.SECRET, hd, req["body"]),
                    "signature does not verify for %r" % hd.get("webhook-id"))
            for k, v in req["headers"]:
                h.check(not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", k + v),
                        "control character in header %r: %r" % (k, v))
            by_id[hd["webhook-id"]] = hd
        run.summary.update({"requests": len(seen), "ids": sorted(by_id)})
        want = {derived("orders", 0, 0), derived("orders", 0, 1), "good-2", "good-3",
                derived("orders", 0, 4)}
        h.check(set(by_id) == want, "webhook-ids %r, want %r" % (sorted(by_id), sorted(want)))
        tp2 = by_id["good-2"].get("traceparent", "")
        h.check(re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", tp2) is not None,
                "fresh traceparent expected, got %r" % tp2)
        h.check(by_id["good-3"].get("traceparent") == good_tp,
                "a valid traceparent must pass unchanged: %r" % by_id["good-3"])
    finally:
        srv.shutdown()
        srv.server_close()


if __name__ == "__main__":
    h.main(test)
