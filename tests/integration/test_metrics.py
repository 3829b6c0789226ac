#!/usr/bin/python3
"""/metrics during and after a delivery run: every scrape parses strictly as Prometheus text;
counters move while events flow; at the end the delivered counter equals the receiver's unique
2xx ids, records consumed == N, the latency histogram count == delivered, the partition
stored/committed offset gauges reach the end offsets (== wb-kafka committed), /healthz 200,
and no label value carries an event id or key."""

import json

import harness as h

P = "mt-"
N = 400
PARTS = 3


def test(run):
    with h.mock({"orders": PARTS, "dlq": 1}) as m, \
            h.receiver(run.tmp, latency_ms="2-8") as r:
        cfg = h.write_config(run.tmp, m.bootstrap, r.url, admin=True,
                             outbound_extra="commit_interval: %dms" % 200)
        group = h.connector_group(cfg, "partner")
        with h.bridge(run.tmp, cfg) as b:
            port = h.admin_port(b)
            st, body = h.http_get(port, "/healthz")
            h.check(st == 200, "/healthz answered %s: %s" % (st, body))
            first = h.scrape(port)
            d0 = h.metric(first, "webhook_bridge_deliveries_total", connector="partner",
                          outcome="delivered") or 0
            prod = h.produce_async(m.bootstrap, "orders", N, id_prefix=P, keys=50, rate=200)
            # during the run: the delivered counter moves while the receiver is still short
            seen = []

            def moving():
                p = h.scrape(port)
                d = h.metric(p, "webhook_bridge_deliveries_total", connector="partner",
                             outcome="delivered") or 0
                seen.append(d)
                return d > d0 and d < N and r.stats()["unique_2xx"] < N
            h.wait_until(moving, 30, interval=0.1, what="the delivered counter moving mid-run",
                         alive=[b, r])
            scrapes = 1 + len(seen)
            prod.finish(60)
            recs = h.wait_delivered(r, h.ids(P, N), 40, alive=[b, r])
            ends = {}
            for x in h.consume(m.bootstrap, "orders"):
                ends[x["partition"]] = max(ends.get(x["partition"], 0), x["offset"] + 1)
            h.check(sum(ends.values()) == N, "source topic holds %d records" % sum(ends.values()))

            def final():
                p = h.scrape(port)
                for part, end in ends.items():
                    for g in ("webhook_bridge_connector_stored_offset",
                              "webhook_bridge_connector_committed_offset"):
                        v = h.metric(p, g, connector="partner", topic="orders",
                                     partition=str(part))
                        if v != end:
                            return None
                return p
            try:
                p = h.wait_until(final, 20, interval=0.3,
                                 what="stored/committed offset gauges at the end offsets %r"
                                 % ends, alive=[b])
            except h.TestFailure:
                p = h.scrape(port)
                got = [(n, l, v) for n, l, v in p["samples"] if n.startswith(
                    "webhook_bridge_connector_")]
                raise h.TestFailure("offset gauges never reached %r: %r" % (ends, got))
            scrapes += 1
            comm = h.committed(m.bootstrap, group, "orders")
            h.check(comm == ends, "committed offsets %r != end offsets %r" % (comm, ends))
            recs = r.records()
            uniq = h.delivered(recs)
            delivered = h.metric(p, "webhook_bridge_deliveries_total", connector="partner",
                                 outcome="delivered")
            consumed = h.metric(p, "webhook_bridge_records_consumed_total", connector="partner")
            lat = h.metric(p, "webhook_bridge_delivery_latency_seconds_count",
                           connector="partner")
            attempts = h.metric(p, "webhook_bridge_delivery_attempts_total", connector="partner")
            requests_2xx = sum(1 for x in recs if 200 <= x["status"] < 300)
            run.summary.update({"N": N, "scrapes": scrapes, "delivered_metric": delivered,
                                "receiver_unique_2xx": len(uniq), "receiver_2xx": requests_2xx,
                                "consumed_metric": consumed, "latency_count": lat,
                                "attempts_metric": attempts, "requests": len(recs),
                                "families": len(p["types"])})
            h.check(len(uniq) == N, "receiver saw %d unique ids, want %d" % (len(uniq), N))
            h.check(delivered == len(uniq), "deliveries_total{delivered} %s != receiver's "
                    "unique deliveries %d" % (delivered, len(uniq)))
            h.check(consumed == N, "records_consumed_total %s != %d" % (consumed, N))
            h.check(lat == delivered, "latency histogram count %s != delivered %s"
                    % (lat, delivered))
            h.check(attempts is not None and attempts >= len(recs) - 0,
                    "attempts_total %s < receiver requests %d" % (attempts, len(recs)))
            for fam in ("webhook_bridge_deliveries_total", "webhook_bridge_delivery_attempts_total",
                        "webhook_bridge_delivery_latency_seconds",
                        "webhook_bridge_records_consumed_total"):
                base = fam[:-len("_total")] if fam.endswith("_total") else fam
                h.check(p["types"].get(fam) or p["types"].get(base),
                        "no TYPE line for %s" % fam)
            h.check(h.metric(p, "webhook_bridge_build_info") is not None, "no build_info")
            # bounded labels: no event id, key or payload in any label value
            keys = {x["key"] for x in recs if x.get("key")}
            bad = [(n, l) for n, l, _ in p["samples"] for v in l.values()
                   if v.startswith(P) or v in keys or v in uniq]
            h.check(not bad, "labels carry ids/keys: %r" % bad[:3])
            series = len(p["samples"])
            run.summary["series"] = series
            h.check(series < 1000, "%d series: label sets not bounded?" % series)
            st, body = h.http_get(port, "/healthz")
            h.check(st == 200, "/healthz answered %s at the end" % st)
            st, body = h.http_get(port, "/readyz")
            h.check(st == 200, "/readyz answered %s at the end: %s" % (st, body))
            run.summary["readyz"] = json.loads(body).get("status")


if __name__ == "__main__":
    h.main(test)
