#!/usr/bin/python3
"""The bridge under valgrind (memcheck) through a whole outbound run: deliveries with
concurrency, a permanent failure parked on the dead-letter topic, a retried 503, then a
graceful SIGTERM. Passes only when valgrind reports no error and no definitely-lost block
(librdkafka's and OpenSSL's process-lifetime allocations are 'still reachable', not errors)."""

import os
import re
import stat

import harness as h

P = "vg-"
N = 200


def records():
    out = []
    for i in range(N):
        etype = "return.received" if i == 7 else "order.paid"
        out.append({"key": "k%d" % (i % 13), "headers": {"event-type": etype},
                    "value": {"id": "%s%d" % (P, i), "type": etype, "key": "k%d" % (i % 13),
                              "seq": i, "per_key_seq": 0}})
    return out


def test(run):
    vg_log = os.path.join(run.tmp, "valgrind.log")
    wrapper = os.path.join(run.tmp, "bridge-under-valgrind")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --quiet --error-exitcode=99 --leak-check=full "
                "--errors-for-leak-kinds=definite --show-leak-kinds=definite "
                "--log-file=%s %s \"$@\"\n" % (vg_log, h.BRIDGE))
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
    real, h.BRIDGE = h.BRIDGE, wrapper
    try:
        types = [{"type": "return.received", "status": 400}]
        plan = [{"count": 1, "status": 503, "retry_after": "1"}]
        with h.mock({"orders": 4, "dlq": 1}) as m, \
                h.receiver(run.tmp, type_status=types, status_plan=plan) as r:
            cfg = h.write_config(run.tmp, m.bootstrap, r.url, concurrency=8,
                                 schedule=("0s", "200ms"), drain_timeout="20s")
            h.produce_records(m.bootstrap, "orders", records())
            with h.bridge(run.tmp, cfg) as b:
                ok_ids = [P + str(i) for i in range(N) if i != 7]
                h.wait_delivered(r, ok_ids, 60, alive=[b, r])
                h.wait_until(lambda: h.consume(m.bootstrap, "dlq", timeout=3), 30,
                             interval=0.5, what="the dead-letter record", alive=[b])
                rc, took = b.terminate(40)
                run.summary["exit"] = rc
                run.summary["sigterm_s"] = round(took, 1)
                h.check(rc == 0, "bridge under valgrind exited %r (99 = valgrind found errors);"
                        " see %s" % (rc, vg_log))
    finally:
        h.BRIDGE = real
    h.check(os.path.exists(vg_log), "valgrind did not run (no %s)" % vg_log)
    text = open(vg_log).read()
    errors = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    run.summary["valgrind_errors"] = int(errors[-1]) if errors else 0
    h.check("Invalid" not in text and "uninitialised" not in text and
            "definitely lost" not in text, "valgrind reported problems:\n%s" % text[-3000:])


if __name__ == "__main__":
    h.main(test, timeout=170)
