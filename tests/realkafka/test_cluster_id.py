#!/usr/bin/env python3
"""The harness's own KRaft cluster ids. URL-safe base64 starts with '-' once in 64 draws, and
StorageTool's argument parser then read `-t -xyz…` as a missing value, so one realkafka run in
about 64 failed before any test began (it happened in CI). This checks that drawn ids never
start with '-', and that `format` takes an id that does (it is passed as --cluster-id=ID)."""

import os

import realkafka as rk

h = rk.h
kc = rk.kc
DRAWS = 20000


def test(run):
    dashed = [cid for cid in (kc.cluster_id() for _ in range(DRAWS)) if cid.startswith("-")]
    h.check(not dashed, "cluster_id() drew %d ids starting with '-' in %d: %s"
            % (len(dashed), DRAWS, dashed[:3]))
    c = kc.Cluster(os.path.join(run.tmp, "kafka"), nodes=1, log=h.log)
    try:
        c.cluster_id = "-" + c.cluster_id[1:]  # the case the draw now avoids
        try:
            c.format()
        except kc.ClusterError as e:
            raise h.TestFailure("format with cluster id %s: %s" % (c.cluster_id, e))
        meta = os.path.join(c.nodes[1].data, "meta.properties")
        with open(meta) as f:
            text = f.read()
        h.check("cluster.id=%s\n" % c.cluster_id in text,
                "meta.properties does not hold cluster.id=%s: %r" % (c.cluster_id, text))
        run.summary.update({"draws": DRAWS, "formatted_id": c.cluster_id})
    finally:
        c.close()


if __name__ == "__main__":
    h.main(test, timeout=90)
