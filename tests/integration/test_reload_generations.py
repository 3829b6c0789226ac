#!/usr/bin/python3
"""Config generations (issue 9 item 6): a reload changes a connector's URL and secret while
its deliveries are retrying (the old partner answers 503): every queued and retrying delivery
goes to the NEW URL, signed with the NEW secret, from its next attempt (the new partner only
knows the new secret: an old-secret request would fail its verification); nothing goes to the
old partner after the reload settled. Then 30 more SIGHUPs: the old generations are freed
(webhook_bridge_config_generations stays at 2 -- the running one and the one the inbound
listener routes with -- instead of growing by one per reload)."""

import time

import harness as h

N, P = 40, "rg-"
NEW_SECRET = "whsec_TmV3U2VjcmV0Rm9yVGhlTmV3UGFydG5lcjEyMzQ="[:38]


def test(run):
    with h.mock({"orders": 2, "dlq": 1}) as m, \
            h.receiver(run.tmp, name="old", status=503) as old, \
            h.receiver(run.tmp, name="new", secret=NEW_SECRET) as new:
        cfg = h.write_config(run.tmp, m.bootstrap, old.url, admin=True)
        conn = h.write_connector(run.tmp, "partner", old.url, schedule=("300ms", "500ms"),
                                 on_exhausted="block")
        h.set_connectors(cfg, [conn])
        with h.bridge(run.tmp, cfg) as b:
            port = h.admin_port(b)
            h.produce(m.bootstrap, "orders", N, id_prefix=P, keys=N)
            h.wait_until(lambda: len({x["id"] for x in old.records()}) >= N, 30,
                         interval=0.2, alive=[b], what="every event retrying at the old partner")
            h.write_connector(run.tmp, "partner", new.url, secret=NEW_SECRET,
                              schedule=("300ms", "500ms"), on_exhausted="block")
            h.hup(b)
            recs = h.wait_delivered(new, h.ids(P, N), 30, alive=[b],
                                    what="the retrying deliveries at the new partner")
            t_settled = time.monotonic()
            n_old = len(old.records())
            time.sleep(2.0)
            late_old = len(old.records()) - n_old
            bad = [x for x in recs if not x["verified"]]
            run.summary.update({"delivered_new": len(h.delivered(recs)),
                                "old_requests_after_settle": late_old,
                                "unverified_at_new": len(bad)})
            h.check(not bad, "%d requests at the new partner did not verify with the new "
                    "secret" % len(bad))
            h.check(late_old == 0, "%d requests still went to the old URL" % late_old)
            gens0 = h.metric(h.scrape(port), "webhook_bridge_config_generations")
            for i in range(30):
                h.hup(b)
                time.sleep(0.15)
            time.sleep(1.5)
            gens = h.metric(h.scrape(port), "webhook_bridge_config_generations")
            run.summary.update({"generations_before": gens0, "generations_after_30_hups": gens})
            h.check(gens is not None and gens <= 2, "%s configuration generations alive after 30 "
                    "reloads (leak)" % gens)
            h.check(b.running(), "the bridge died")
            del t_settled


if __name__ == "__main__":
    h.main(test, timeout=100)
