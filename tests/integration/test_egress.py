#!/usr/bin/python3
"""Egress guard end to end:
- a connector to http://127.0.0.1:PORT without allow_private_networks: every delivery refused
  at connect time, dead-lettered (one attempt, wb-error-reason names egress + loopback), the
  receiver sees nothing;
- the same URL with allow_cidrs [127.0.0.0/8]: delivered;
- a connector to http://metadata.test:PORT where metadata.test resolves (private mount
  namespace, bind-mounted /etc/hosts) to 169.254.169.254: refused, reason names link-local /
  cloud metadata. SKIP (printed) when unshare/mount is not permitted."""

import os
import shutil
import subprocess

import harness as h

N = 5


def events(prefix, etype, n):
    return [{"key": "k%d" % i, "headers": {"event-type": etype},
             "value": {"id": "%s%d" % (prefix, i), "type": etype, "key": "k%d" % i, "seq": i}}
            for i in range(n)]


def can_unshare(tmp):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    hosts = os.path.join(tmp, "probe-hosts")
    with open(hosts, "w") as f:
        f.write("169.254.169.254 metadata.test\n")
    try:
        p = subprocess.run(["unshare", "--mount", "sh", "-c",
                            "mount --bind %s /etc/hosts && getent hosts metadata.test" % hosts],
                           capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0 and b"169.254.169.254" in p.stdout


def test(run):
    types = [{"type": "to.loopback", "status": 204}]
    with h.mock({"orders": 1, "dlq": 1}) as m, h.receiver(run.tmp, type_status=types) as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url)
        url = "http://127.0.0.1:%d/hook" % r.port
        c_lo = h.write_connector(run.tmp, "lo", url, allow_private=False,
                                 events='["to.loopback"]')
        c_ok = h.write_connector(run.tmp, "cidr", url, allow_private=False,
                                 events='["to.allowed"]', extra=['allow_cidrs: ["127.0.0.0/8"]'])
        conns = [c_lo, c_ok]
        unshare_ok = can_unshare(run.tmp)
        if unshare_ok:
            conns.append(h.write_connector(run.tmp, "meta", "http://metadata.test:%d/hook"
                                           % r.port, allow_private=False,
                                           events='["to.metadata"]'))
        else:
            print("SKIP metadata.test -> 169.254.169.254 case: unshare --mount with a bind "
                  "mount of /etc/hosts is not permitted here")
        h.set_connectors(cfg, conns)
        recs = events("lo-", "to.loopback", N) + events("ok-", "to.allowed", N)
        if unshare_ok:
            recs += events("md-", "to.metadata", N)
        h.produce_records(m.bootstrap, "orders", recs)
        bridge_cfg = cfg
        if unshare_ok:
            hosts = os.path.join(run.tmp, "hosts")
            with open(hosts, "w") as f:
                f.write("127.0.0.1 localhost\n169.254.169.254 metadata.test\n")
            # the Bridge class runs BRIDGE run -c config: wrap it in a private mount namespace
            wrapper = os.path.join(run.tmp, "bridge-ns.sh")
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\nexec unshare --mount sh -c 'mount --bind %s /etc/hosts && "
                        "exec %s \"$@\"' sh \"$@\"\n" % (hosts, h.BRIDGE))
            os.chmod(wrapper, 0o755)
            h.BRIDGE = wrapper
        want_dlq = 2 * N if unshare_ok else N
        with h.bridge(run.tmp, bridge_cfg) as b:
            h.wait_delivered(r, h.ids("ok-", N), 30, alive=[b, r])
            dlq = h.wait_until(lambda: (lambda d: d if len(d) >= want_dlq else None)(
                h.consume(m.bootstrap, "dlq", timeout=3)), 30, interval=0.5,
                what="%d dead-letter records" % want_dlq, alive=[b])
        got = r.records()
        seen_ids = {x["id"] for x in got}
        by_conn = {}
        for d in dlq:
            by_conn.setdefault(d["headers"].get("wb-connector"), []).append(d)
        run.summary.update({"delivered_cidr": len(h.delivered(got)), "dead_letters": len(dlq),
                            "metadata_case": "run" if unshare_ok else "skipped",
                            "reasons": sorted({d["headers"].get("wb-error-reason", "")
                                               for d in dlq})})
        h.check(len(dlq) == want_dlq, "%d dead-letter records, want %d" % (len(dlq), want_dlq))
        h.check(not any(i.startswith("lo-") or i.startswith("md-") for i in seen_ids),
                "the receiver saw refused deliveries: %r" % sorted(seen_ids)[:5])
        h.check(set(h.delivered(got)) == set(h.ids("ok-", N)),
                "allow_cidrs connector: delivered %r" % sorted(h.delivered(got)))
        lo = by_conn.get("lo", [])
        h.check(len(lo) == N, "%d loopback dead letters, want %d" % (len(lo), N))
        for d in lo:
            reason = d["headers"].get("wb-error-reason", "")
            h.check("egress" in reason.lower() and "loopback" in reason.lower(),
                    "loopback refusal reason %r" % reason)
            h.check(d["headers"].get("wb-error-attempts") == "1",
                    "egress refusal retried: attempts %r" % d["headers"].get("wb-error-attempts"))
        if unshare_ok:
            md = by_conn.get("meta", [])
            h.check(len(md) == N, "%d metadata dead letters, want %d" % (len(md), N))
            for d in md:
                reason = d["headers"].get("wb-error-reason", "").lower()
                h.check("link-local" in reason and "metadata" in reason,
                        "metadata refusal reason %r" % reason)


if __name__ == "__main__":
    h.main(test)
