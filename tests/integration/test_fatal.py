#!/usr/bin/python3
"""A fatal librdkafka error (issue 9 item 10): the broker answers the bridge's first Produce
with OUT_OF_ORDER_SEQUENCE_NUMBER, which makes the idempotent producer fatal (librdkafka's
RD_KAFKA_RESP_ERR__FATAL: the instance can write nothing more). The bridge must not log and
carry on: /readyz turns 503 naming the fatal error, it drains and exits non-zero within the
drain bound, and a restart (healthy broker) parks the record, nothing lost."""

import json
import time

import harness as h

PRODUCE_API, OUT_OF_ORDER_SEQUENCE_NUMBER = 0, 45


def test(run):
    with h.mock({"orders": 1, "dlq": 1}) as m, h.receiver(run.tmp) as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, admin=True, drain_timeout="3s")
        h.produce_records(m.bootstrap, "orders", [
            {"key": "k", "value": "this is not json", "headers": {"event-type": "t"}},
            {"key": "k", "value": json.dumps({"id": "ft-0", "type": "t"})}])
        m.cmd("errors %d 1 %d" % (PRODUCE_API, OUT_OF_ORDER_SEQUENCE_NUMBER))
        b = h.Bridge(run.tmp, cfg)
        try:
            port = h.admin_port(b)
            t0 = time.monotonic()
            seen = {}

            def unready():
                st, body = h.http_get(port, "/readyz", timeout=2)
                if st == 503 and '"fatal":"' in body and '"fatal":"ok"' not in body:
                    seen["body"] = body
                    return True
                return not b.running()  # exited before we saw it: checked below
            h.wait_until(unready, 20, interval=0.05, what="/readyz 503 naming the fatal error")
            rc = b.proc.wait(20)
            took = time.monotonic() - t0
            err = open(b.err_path).read()
            run.summary.update({"exit": rc, "exit_after_s": round(took, 1),
                                "readyz": seen.get("body", "")[:160]})
            h.check("fatal: kafka producer" in err, "the fatal error was not logged as such")
            h.check("OUT_OF_ORDER_SEQUENCE_NUMBER" in seen.get("body", ""),
                    "/readyz does not say which error: %r" % seen.get("body"))
            h.check(rc not in (0, None), "exit status %r after a fatal error" % rc)
            h.check(took < 15, "exited %.1f s after the fatal error" % took)
        finally:
            b.close()
        # a restart against the healthy broker parks the record and delivers the other
        with h.bridge(run.tmp, cfg) as b2:
            h.wait_delivered(r, ["ft-0"], 20, alive=[b2])
            dlq = h.wait_until(lambda: h.consume(m.bootstrap, "dlq", timeout=3), 20,
                               interval=0.5, what="the poison record parked", alive=[b2])
            h.check(len(dlq) == 1 and dlq[0]["headers"].get("wb-error-reason", "")
                    .startswith("decode"), "dead letters after the restart: %r" % dlq)


if __name__ == "__main__":
    h.main(test, timeout=90)
