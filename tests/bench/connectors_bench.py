#!/usr/bin/python3
"""connectors_bench.py - what N outbound connectors on one bridge cost.

  /usr/bin/python3 tests/bench/connectors_bench.py [--connectors 100] [--events 1000]
      [--partitions 4] [--concurrency 8] [--loops 1] [--compare 1,10 --deliveries 40000]

Every connector subscribes to the same topic (each is its own consumer group, so each one
fetches the topic itself), all deliver to one nginx (`return 204`, keep-alive). E events are
produced before the bridge starts; the run ends when nginx logged N x E requests.
Printed per run: connectors, deliveries, deliveries/s (first to last request), bridge CPU
(utime+stime) per delivered webhook, peak RSS (VmHWM), peak thread count of the bridge
process (ours: loops + sampler + producer + admin; librdkafka's: about brokers + 2 per
consumer), and the same figures for nginx's own ceiling measured by wrk in the same run.
--compare A,B: two runs with the same total number of deliveries (--deliveries), A and B
connectors, and the ratio of their CPU per delivered webhook.
Figures are printed, never asserted."""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import outbound_bench as ob  # noqa: E402  (nginx, wrk, wb-mock, wb-kafka helpers)


def status_field(pid, name):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def write_config(tmp, bootstrap, port, n, a):
    files = []
    for i in range(n):
        path = os.path.join(tmp, "c%03d.yaml" % i)
        with open(path, "w") as f:
            f.write("name: partner-%03d\ndirection: outbound\nurl: http://127.0.0.1:%d/hook\n"
                    "events: [\"*\"]\nsigning: { scheme: standard-webhooks, secrets: [\"%s\"] }\n"
                    "ordering: key\nmax_concurrency: %d\nstart: earliest\ntimeout: 10s\n"
                    "retry: { schedule: [0s, 200ms, 500ms, 1s], on_exhausted: dead-letter }\n"
                    "allow_private_networks: true\n" % (i, port, ob.SECRET, a.concurrency))
        files.append(path)
    cfg = os.path.join(tmp, "bridge.yaml")
    with open(cfg, "w") as f:
        f.write("kafka: { bootstrap.servers: \"%s\", group.id: \"wb-cbench-%d-%d\", "
                "fetch.wait.max.ms: \"10\" }\n" % (bootstrap, os.getpid(), n))
        f.write("outbound: { topics: [orders], dead_letter_topic: dlq, "
                "max_in_flight_per_partition: 500, drain_timeout: 10s, id_pointer: /id, "
                "loops: %d }\n" % a.loops)
        f.write("log: { level: warn, format: json }\n")
        f.write("connectors: [ %s ]\n" % ", ".join('"%s"' % p for p in files))
    return cfg


def one_run(a, n, events, tmp):
    ng = ob.Nginx(tmp, workers=1)
    mock, bootstrap = ob.start_mock(a.partitions)
    bridge = None
    try:
        man = os.path.join(tmp, "m%d.tsv" % n)
        ob.produce(bootstrap, events, a.size, 100, man, "c%d-" % n)
        cfg = write_config(tmp, bootstrap, ng.port, n, a)
        err = open(os.path.join(tmp, "bridge-%d.stderr" % n), "wb")
        t0 = time.monotonic()
        bridge = subprocess.Popen([ob.BRIDGE, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                                  stderr=err)
        want = n * events
        threads = 0
        deadline = t0 + a.timeout
        while ng.lines() < want:
            if bridge.poll() is not None:
                raise SystemExit("the bridge exited %s (see %s)" % (bridge.returncode, err.name))
            if time.monotonic() > deadline:
                raise SystemExit("timed out: %d of %d deliveries" % (ng.lines(), want))
            threads = max(threads, status_field(bridge.pid, "Threads"))
            time.sleep(0.2)
        threads = max(threads, status_field(bridge.pid, "Threads"))
        cpu = ob.cpu_s(bridge.pid)
        rss = status_field(bridge.pid, "VmHWM")
        ng.stop()
        times = [t for t, _ in ob.read_access(ng.log)]
        span = max(times) - min(times) if times else float("nan")
        return {"connectors": n, "deliveries": len(times), "per_second": len(times) / span,
                "cpu_us_per_delivery": cpu * 1e6 / max(1, len(times)), "peak_rss_mib":
                rss / 1024.0, "peak_threads": threads, "seconds": time.monotonic() - t0}
    finally:
        if bridge and bridge.poll() is None:
            bridge.terminate()
            try:
                bridge.wait(20)
            except subprocess.TimeoutExpired:
                bridge.kill()
        mock.stdin.close()
        mock.wait(10)
        ng.stop()


def show(r):
    print("connectors %4d: %7d deliveries  %8.0f/s  %6.1f us CPU/delivery  peak RSS %6.1f MiB  "
          "peak threads %4d  (%.1f s)" % (r["connectors"], r["deliveries"], r["per_second"],
                                          r["cpu_us_per_delivery"], r["peak_rss_mib"],
                                          r["peak_threads"], r["seconds"]))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connectors", type=int, default=100)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--deliveries", type=int, default=40000)
    ap.add_argument("--compare", default="")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--loops", type=int, default=1)
    ap.add_argument("--size", type=int, default=450)
    ap.add_argument("--timeout", type=int, default=600)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="wb-cbench-")
    ng = ob.Nginx(tmp, workers=1)
    ceiling, _ = ob.wrk_ceiling(ng, tmp, a.size)
    ng.stop()
    print("nginx ceiling (wrk -t1 -c64, same POST): %.0f req/s" % ceiling)
    if a.compare:
        counts = [int(x) for x in a.compare.split(",")]
        runs = []
        for n in counts:
            d = os.path.join(tmp, "run%d" % n)
            os.makedirs(d)
            runs.append(one_run(a, n, a.deliveries // n, d))
            show(runs[-1])
        base = runs[0]["cpu_us_per_delivery"]
        for r in runs[1:]:
            print("CPU per delivered webhook, %d vs %d connectors: x%.2f"
                  % (r["connectors"], runs[0]["connectors"], r["cpu_us_per_delivery"] / base))
    else:
        r = one_run(a, a.connectors, a.events, tmp)
        show(r)
        print("threads per connector (librdkafka's consumer threads): about %.1f"
              % (r["peak_threads"] / max(1, r["connectors"])))


if __name__ == "__main__":
    main()
