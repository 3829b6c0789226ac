"""harness.py - start/stop the pieces of an outbound integration test (Python 3 stdlib only).

Pieces: wb-mock (a mock Kafka cluster process), receiver.js (a verifying webhook receiver),
the bridge (`webhook-bridge run -c bridge.yaml`), and wb-kafka (produce / consume / committed).

Binaries come from the environment (CTest sets them), else from ../../build-dev:
  WB_BRIDGE    path of webhook-bridge
  WB_MOCK      path of wb-mock
  WB_KAFKA     path of wb-kafka
  WB_RECEIVER  path of receiver.js (default: tests/tools/receiver.js)
  WB_NODE      node binary (default: node on PATH)
  WB_KEEP_TMP  set to keep the temporary directory of a run

Every wait is bounded; every process started here is stopped by its context manager.
A test is a function taking a Run; `main(test, timeout)` runs it, prints the summary line and
exits non-zero on failure.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _bin(env, default):
    return os.environ.get(env) or default


BUILD = os.environ.get("WB_BUILD_DIR") or os.path.join(SRC, "build-dev")
BRIDGE = _bin("WB_BRIDGE", os.path.join(BUILD, "webhook-bridge"))
MOCK = _bin("WB_MOCK", os.path.join(BUILD, "tests", "tools", "wb-mock"))
KAFKA = _bin("WB_KAFKA", os.path.join(BUILD, "tests", "tools", "wb-kafka"))
RECEIVER = _bin("WB_RECEIVER", os.path.join(SRC, "tests", "tools", "receiver.js"))
NODE = _bin("WB_NODE", shutil.which("node") or "node")


class TestFailure(Exception):
    pass


class ProcessDied(TestFailure):
    pass


class Skip(Exception):
    """Unused: kept so older scripts that import it still load."""


def log(msg):
    sys.stdout.write("[%7.2f] %s\n" % (time.monotonic() - _T0, msg))
    sys.stdout.flush()


_T0 = time.monotonic()


def check(cond, msg):
    """Raise TestFailure(msg) unless cond."""
    if not cond:
        raise TestFailure(msg)


# The sanitizer build runs the same tests (CTest sets WB_SLOW=1 there): every bound doubles.
SLOW = 2 if os.environ.get("WB_SLOW") == "1" else 1


def wait_until(pred, timeout, interval=0.1, what="condition", alive=()):
    """Poll pred() until truthy (returns its value) or timeout (raises TestFailure).
    alive: processes (Bridge/...) that must stay running meanwhile; a dead one fails at once."""
    timeout *= SLOW
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        for p in alive:
            p.assert_alive()
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def _readline(stream, timeout, what):
    """Read one line from a pipe with a bound (thread + join)."""
    out = []
    t = threading.Thread(target=lambda: out.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not out or not out[0]:
        raise TestFailure("no output from %s within %.0fs" % (what, timeout))
    return out[0].decode() if isinstance(out[0], bytes) else out[0]


def _stop(proc, sig=signal.SIGTERM, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------------------------
# ports


def reserve_port(port=0):
    """A socket bound to a free 127.0.0.1 port (port 0: any) and not listening; the port is
    its getsockname()[1]. While it is open, connections to the port are refused as if nothing
    listened, and the kernel gives the port to no other bind(0) or connect(): a port probed
    and closed at once could be taken by another process before the test binds it. It has
    SO_REUSEADDR, so a server that sets it too (receiver.js, nginx, http.server) can listen
    on the port while it is still held: close it once the server listens. The caller
    closes it."""
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


# --------------------------------------------------------------------------------------------
# wb-mock


class Mock:
    """A wb-mock process. .bootstrap, .cmd('alldown')."""

    def __init__(self, topics, brokers=3):
        args = [MOCK, "--brokers", str(brokers)]
        for name, parts in topics.items():
            args += ["--topic", "%s:%d" % (name, parts)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = _readline(self.proc.stdout, 10, "wb-mock").strip()
        if not line.startswith("bootstrap="):
            raise TestFailure("wb-mock said %r" % line)
        self.bootstrap = line.split("=", 1)[1]
        self._lock = threading.Lock()

    def cmd(self, line):
        with self._lock:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
            reply = _readline(self.proc.stdout, 10, "wb-mock command").strip()
        if reply != "ok":
            raise TestFailure("wb-mock %r: %s" % (line, reply))
        return reply

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                _stop(self.proc)


@contextlib.contextmanager
def mock(topics, brokers=3):
    m = Mock(topics, brokers)
    try:
        yield m
    finally:
        m.close()


# --------------------------------------------------------------------------------------------
# receiver.js


class Receiver:
    def __init__(self, tmp, latency_ms=None, status_plan=None, type_status=None,
                 fail_first=0, status=None, name="receiver", extra_secrets=(),
                 log_body=False, log_payload=False, port=0, secret=SECRET):
        self.log_path = os.path.join(tmp, name + ".jsonl")
        self.err_path = os.path.join(tmp, name + ".stderr")
        args = [NODE, RECEIVER, "--port", str(port), "--control-port", "0", "--secret", secret,
                "--log", self.log_path]
        if latency_ms:
            args += ["--latency-ms", latency_ms]
        if status_plan:
            args += ["--status-plan", json.dumps(status_plan)]
        if type_status:
            args += ["--type-status", json.dumps(type_status)]
        if fail_first:
            args += ["--fail-first", str(fail_first)]
        if status:
            args += ["--status", str(status)]
        for s in extra_secrets:  # verified too; the log's secret_index names the one that did
            args += ["--secret", s]
        if log_body:
            args += ["--log-body"]
        if log_payload:  # the whole verified body (a transform's output is no envelope)
            args += ["--log-payload"]
        env = dict(os.environ)
        env["NODE_PATH"] = os.path.join(SRC, "tests", "node_modules") + (
            os.pathsep + env["NODE_PATH"] if env.get("NODE_PATH") else "")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._err, env=env)
        try:
            self.port = int(_readline(self.proc.stdout, 10, "receiver.js").split("=")[1])
            self.control_port = int(_readline(self.proc.stdout, 5, "receiver.js").split("=")[1])
        except TestFailure:
            self._err.flush()
            raise TestFailure("receiver.js did not start: %s" % _tail(self.err_path))
        self.url = "http://127.0.0.1:%d/hook" % self.port

    def _http(self, method, path, body=None):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.control_port, timeout=5)
        try:
            c.request(method, path, body=json.dumps(body) if body is not None else None,
                      headers={"content-type": "application/json"})
            r = c.getresponse()
            return json.loads(r.read() or b"{}")
        finally:
            c.close()

    def stats(self):
        return self._http("GET", "/_stats")

    def control(self, **kw):
        return self._http("POST", "/_control", kw)

    def records(self):
        """Every request answered so far, in arrival order (t_us; the log itself is in answer
        order). status 0: the connection closed before the answer was sent."""
        out = []
        try:
            with open(self.log_path) as f:
                for line in f:
                    if line.endswith("\n"):
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        out.sort(key=lambda r: r["t_us"])
        return out

    def assert_alive(self):
        if self.proc.poll() is not None:
            raise ProcessDied("receiver.js exited %s: %s" % (self.proc.returncode,
                                                             _tail(self.err_path)))

    def close(self):
        _stop(self.proc)
        self._err.close()


@contextlib.contextmanager
def receiver(tmp, **kw):
    r = Receiver(tmp, **kw)
    try:
        yield r
    finally:
        r.close()


# --------------------------------------------------------------------------------------------
# bridge


def _tail(path, n=15):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return "\n    " + "\n    ".join(lines[-n:]) if lines else "(no output)"
    except FileNotFoundError:
        return "(no output file)"


def _yaml_str(s):
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def write_config(tmp, bootstrap, receiver_url, group=None, topics=("orders",),
                 dead_letter_topic="dlq", max_in_flight=1000, drain_timeout="10s",
                 concurrency=64, ordering="key", schedule=("0s", "200ms", "500ms"),
                 on_exhausted="dead-letter", timeout="5s", admin=False, name="bridge",
                 level="info", kafka_extra=None, loops=1, connector_extra="",
                 outbound_extra=""):
    """Write <tmp>/<name>.yaml and <tmp>/<name>-partner.yaml (the connector); returns the
    config path. kafka_extra: more librdkafka properties (e.g. message.timeout.ms)."""
    group = group or "wb-it-%d-%d" % (os.getpid(), int(time.time() * 1000) % 100000000)
    conn = os.path.join(tmp, name + "-partner.yaml")
    with open(conn, "w") as f:
        f.write("name: partner\n"
                "direction: outbound\n"
                "url: %s\n"
                "events: [\"*\"]\n"
                "signing: { scheme: standard-webhooks, secrets: [\"%s\"] }\n"
                "ordering: %s\n"
                "max_concurrency: %d\n"
                "timeout: %s\n"
                "retry: { schedule: [%s], on_exhausted: %s }\n"
                "allow_private_networks: true\n"
                % (receiver_url, SECRET, ordering, concurrency, timeout,
                   ", ".join(schedule), on_exhausted) + connector_extra)
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        # a short session so a killed member's partitions move in seconds, not 45 s
        props = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
        props.update(kafka_extra or {})
        extra = "".join(", %s: %s" % (k, _yaml_str(str(v))) for k, v in props.items())
        f.write("kafka: { bootstrap.servers: %s, group.id: %s, auto.offset.reset: earliest%s }\n"
                % (_yaml_str(bootstrap), _yaml_str(group), extra))
        f.write("outbound: { topics: [%s], dead_letter_topic: %s, "
                "max_in_flight_per_partition: %d, drain_timeout: %s, id_pointer: /id, "
                "loops: %d%s }\n"
                % (", ".join(topics), dead_letter_topic, max_in_flight, drain_timeout, loops,
                   (", " + outbound_extra) if outbound_extra else ""))
        f.write("log: { level: %s, format: json }\n" % level)
        if admin:
            f.write("admin: { listen: \"127.0.0.1:0\" }\n")
        f.write("connectors: [ %s ]\n" % _yaml_str(conn))
    return path


class Bridge:
    """`webhook-bridge run -c config`, stdout/stderr to <tmp>/<name>.{stdout,stderr}."""

    def __init__(self, tmp, config, name="bridge"):
        self.name = name
        self.out_path = os.path.join(tmp, name + ".stdout")
        self.err_path = os.path.join(tmp, name + ".stderr")
        self.config = config
        self.proc = None
        self.starts = 0
        self.start()

    def start(self):
        self.starts += 1
        mode = "ab" if self.starts > 1 else "wb"
        self._out = open(self.out_path, mode)
        self._err = open(self.err_path, mode)
        self.proc = subprocess.Popen([BRIDGE, "run", "-c", self.config], stdout=self._out,
                                     stderr=self._err)
        log("%s started (pid %d)" % (self.name, self.proc.pid))

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self):
        if not self.running():
            raise ProcessDied("%s exited with %s before the test was done; stderr:%s"
                              % (self.name, self.proc.returncode, _tail(self.err_path)))

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)
        log("%s killed -9" % self.name)

    def terminate(self, timeout):
        """SIGTERM and wait up to timeout; returns (exit code or None, seconds taken)."""
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t

    def close(self):
        _stop(self.proc, timeout=15)
        for f in (self._out, self._err):
            f.close()

    def stderr_tail(self, n=15):
        return _tail(self.err_path, n)


@contextlib.contextmanager
def bridge(tmp, config, name="bridge"):
    b = Bridge(tmp, config, name)
    try:
        yield b
    finally:
        b.close()


# --------------------------------------------------------------------------------------------
# wb-kafka


def _run(args, timeout, stdin=None):
    try:
        p = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure("%s timed out after %ss" % (" ".join(args[:2]), timeout))
    if p.returncode != 0:
        raise TestFailure("%s exited %d: %s" % (" ".join(args[:2]), p.returncode,
                                                p.stderr.decode(errors="replace")[-800:]))
    return p.stdout.decode()


def produce(bootstrap, topic, count, timeout=60, **kw):
    """Generated events (wb-kafka produce). kw: size, keys, types (list), rate, id_prefix,
    start, partition, manifest, header (list of 'k=v'), idempotent (bool). Returns the summary
    dict."""
    return json.loads(_run(_produce_args(bootstrap, topic, count, kw),
                           timeout).strip().splitlines()[-1])


def _produce_args(bootstrap, topic, count, kw):
    args = [KAFKA, "produce", "--bootstrap", bootstrap, "--topic", topic, "--count", str(count)]
    for k, v in kw.items():
        if v is None or v is False:
            continue
        opt = "--" + k.replace("_", "-")
        if v is True:  # a flag: idempotent=True -> --idempotent
            args.append(opt)
        elif k == "types":
            args += [opt, ",".join(v)]
        elif k in ("header", "kafka"):
            for h in v:
                args += ["--" + k, h]
        elif k == "rate":
            args += [opt, "%s/s" % v]
        else:
            args += [opt, str(v)]
    return args


class ProduceProc:
    """`wb-kafka produce` as a process that can be stopped early: stop() sends SIGTERM (it
    stops producing, waits for every delivery report) and returns its summary
    {"sent","acked","failed",...}; the events produced are ids(prefix, summary["sent"])."""

    def __init__(self, bootstrap, topic, count, **kw):
        self.proc = subprocess.Popen(_produce_args(bootstrap, topic, count, kw),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def running(self):
        return self.proc.poll() is None

    def stop(self, timeout=150):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.finish(timeout)

    def finish(self, timeout=150):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise TestFailure("wb-kafka produce did not finish within %ss" % timeout)
        lines = out.decode().strip().splitlines()
        if self.proc.returncode != 0 or not lines:
            raise TestFailure("wb-kafka produce exited %d: %s" % (
                self.proc.returncode, err.decode(errors="replace")[-800:]))
        return json.loads(lines[-1])

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class _Producer(threading.Thread):
    def __init__(self, args, kw):
        super().__init__(daemon=True)
        self.args, self.kw = args, kw
        self.result = self.error = None

    def run(self):
        try:
            self.result = produce(*self.args, **self.kw)
        except Exception as e:  # noqa: BLE001 - reported by the joiner
            self.error = e

    def finish(self, timeout=60):
        """Join; raise the producer's error; return its summary."""
        self.join(timeout)
        if self.is_alive():
            raise TestFailure("producer still running after %ss" % timeout)
        if self.error is not None:
            raise self.error
        return self.result


def produce_async(bootstrap, topic, count, **kw):
    """produce() on a thread; returns it (call .finish())."""
    t = _Producer((bootstrap, topic, count), kw)
    t.start()
    return t


def produce_records(bootstrap, topic, records, timeout=30, kafka=()):
    """records: list of {"key","value","headers","partition"} (value may be a dict).
    kafka: librdkafka properties for wb-kafka's producer ("message.max.bytes=2000000")."""
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    args = [KAFKA, "produce", "--bootstrap", bootstrap, "--topic", topic, "--stdin"]
    for kv in kafka:
        args += ["--kafka", kv]
    return json.loads(_run(args, timeout, stdin=data).strip().splitlines()[-1])


def consume(bootstrap, topic, timeout=10, count=None, eof=True, group=None):
    """Every record of topic (from the beginning), as dicts."""
    args = [KAFKA, "consume", "--bootstrap", bootstrap, "--topic", topic,
            "--timeout", "%ss" % timeout]
    if count:
        args += ["--count", str(count)]
    if eof:
        args += ["--eof"]
    if group:
        args += ["--group", group]
    out = _run(args, timeout + 15)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def committed(bootstrap, group, topic, timeout=10):
    """{partition(int): committed offset} (negative: none)."""
    out = _run([KAFKA, "committed", "--bootstrap", bootstrap, "--group", group, "--topic",
                topic, "--timeout", "%ss" % timeout], timeout + 10)
    return {int(k): v for k, v in json.loads(out).items()}


def connector_group(config_path, connector="partner"):
    """The consumer group of an outbound connector: its own cursor,
    "<kafka group.id>.<connector name>", or the group_id: its connector file sets. Every test
    that reads the bridge's committed offsets goes through here."""
    import re
    with open(config_path) as f:
        text = f.read()
    m = re.search(r"^connectors:\s*\[(.*)\]", text, re.M)
    for path in (json.loads("[%s]" % m.group(1)) if m else []):
        try:
            with open(path) as f:
                conn = f.read()
        except OSError:
            continue
        if re.search(r"^name:\s*%s\s*$" % re.escape(connector), conn, re.M):
            g = re.search(r"^group_id:\s*\"?([^\"\n]+)\"?\s*$", conn, re.M)
            if g:
                return g.group(1).strip()
    return "%s.%s" % (group_of(config_path), connector)


def group_of(config_path):
    with open(config_path) as f:
        for line in f:
            if "group.id" in line:
                return json.loads(line.split("group.id:")[1].split(",")[0].strip())
    raise TestFailure("no group.id in %s" % config_path)


# --------------------------------------------------------------------------------------------
# accounting


def delivered(records):
    """{id: number of 2xx answers} from receiver records."""
    out = {}
    for r in records:
        if 200 <= r["status"] < 300:
            out[r["id"]] = out.get(r["id"], 0) + 1
    return out


def account(expected_ids, records):
    """(lost ids, duplicate count, unverified count) of a run."""
    got = delivered(records)
    lost = [i for i in expected_ids if i not in got]
    dups = sum(n - 1 for n in got.values() if n > 1)
    unverified = sum(1 for r in records if not r["verified"])
    return lost, dups, unverified


def ids(prefix, count, start=0):
    return ["%s%d" % (prefix, i) for i in range(start, start + count)]


# --------------------------------------------------------------------------------------------
# runner


class Run:
    """What a test gets: tmp dir and a summary dict it fills (printed at the end)."""

    def __init__(self, name):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="wb-%s-" % name)
        self.summary = {}


def preflight(needs_bridge=True):
    missing = [p for p in ((BRIDGE,) if needs_bridge else ()) + (MOCK, KAFKA, RECEIVER)
               if not os.path.exists(p)]
    if missing:
        raise TestFailure("missing binaries: %s (build first, or set WB_BRIDGE/WB_MOCK/"
                          "WB_KAFKA)" % ", ".join(missing))
    if not needs_bridge:
        return
    # Fail fast and clearly when the bridge has no `run` command yet.
    p = subprocess.run([BRIDGE, "run", "--help"], capture_output=True, timeout=10)
    text = (p.stdout + p.stderr).decode(errors="replace")
    if p.returncode != 0:
        raise TestFailure("`webhook-bridge run --help` failed: %s"
                          % (text.strip().splitlines() or ["(no output)"])[0][:200])


def main(test, timeout=85, needs_bridge=True):
    """Run test(run) with a hard time bound; print the summary; exit 0/1."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    run = Run(name)

    timeout *= SLOW

    def on_alarm(signum, frame):
        raise TestFailure("test exceeded its %ds bound" % timeout)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(timeout)
    ok = False
    try:
        preflight(needs_bridge)
        test(run)
        ok = True
    except TestFailure as e:
        print("FAIL %s: %s" % (name, e))
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    finally:
        signal.alarm(0)
    print("summary %s: %s" % (name, json.dumps(run.summary, sort_keys=True)))
    print("%d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
    if ok and not os.environ.get("WB_KEEP_TMP"):
        shutil.rmtree(run.tmp, ignore_errors=True)
    else:
        print("artifacts kept in %s" % run.tmp)
    sys.exit(0 if ok else 1)


def wait_delivered(rcv, expected_ids, timeout, alive=(), what=None):
    """Wait until every expected id got a 2xx at rcv (per its log); returns the records.
    On timeout raises TestFailure naming how many are still missing."""
    want = set(expected_ids)
    state = {"recs": []}

    def done():
        if rcv.stats()["unique_2xx"] < len(want):
            return False
        state["recs"] = rcv.records()
        got = delivered(state["recs"])
        return all(i in got for i in want)
    try:
        wait_until(done, timeout, interval=0.2, alive=alive,
                   what=what or "%d deliveries" % len(want))
    except ProcessDied:
        raise
    except TestFailure as e:
        recs = rcv.records()
        got = delivered(recs)
        missing = [i for i in expected_ids if i not in got]
        raise TestFailure("%s; %d of %d still undelivered (first: %s)"
                          % (e, len(missing), len(want), missing[:5]))
    return state["recs"]


def delivery_rate(rcv, seconds=0.3):
    """Unique 2xx deliveries per second at rcv, measured over `seconds` from now."""
    t0 = time.monotonic()
    n0 = rcv.stats()["unique_2xx"]
    time.sleep(seconds)
    return (rcv.stats()["unique_2xx"] - n0) / (time.monotonic() - t0)


def kill9_midstream(b, rcv, expected_ids, before, timeout=60, wait_before=40):
    """The bridge kill -9 scenario (tests/integration and tests/realkafka): once rcv has
    `before` deliveries, measure the rate, kill -9 the running Bridge b, restart it after
    0.5 s and wait until every expected id is delivered. Returns (receiver records,
    deliveries at the kill, deliveries/s just before it); b is running again."""
    wait_until(lambda: rcv.stats()["unique_2xx"] >= before, wait_before, interval=0.02,
               alive=[b, rcv], what="%d deliveries before the kill" % before)
    rate = delivery_rate(rcv)
    b.kill9()
    at_kill = rcv.stats()["unique_2xx"]
    check(at_kill < len(expected_ids), "all %d delivered before the kill: not mid-stream"
          % len(expected_ids))
    time.sleep(0.5)
    b.start()
    return wait_delivered(rcv, expected_ids, timeout, alive=[b, rcv]), at_kill, rate


def summarize(run, expected_ids, records, **extra):
    """Fill run.summary with the standard counts; returns (lost, dups)."""
    lost, dups, unverified = account(expected_ids, records)
    run.summary.update({"expected": len(expected_ids), "delivered": len(delivered(records)),
                        "lost": len(lost), "duplicated": dups, "unverified": unverified,
                        "requests": len(records)})
    run.summary.update(extra)
    return lost, dups


def check_ids_are_event_ids(records, prefix):
    """webhook-id must be the event's own id field (id_pointer /id): <prefix><seq>."""
    bad = [r for r in records if r.get("seq") is not None and r["id"] != "%s%d" % (prefix, r["seq"])]
    check(not bad, "webhook-id is not the event id for %d requests (e.g. %r)"
          % (len(bad), bad[:1]))


# --------------------------------------------------------------------------------------------
# admin endpoint, Prometheus text, signals (added for the operations tests)


def logged_port(b, pattern, what, timeout=15):
    """The port number the bridge b logged in a line matching pattern (bytes regex with one
    group), waiting up to timeout; used for listeners configured on port 0."""
    import re

    def find():
        for path in (b.err_path, b.out_path):
            try:
                with open(path, "rb") as f:
                    m = re.search(pattern, f.read())
            except FileNotFoundError:
                continue
            if m:
                return int(m.group(1))
        return None
    return wait_until(find, timeout, what="the %s port in the bridge log" % what, alive=[b])


def admin_port(b, timeout=15):
    """The admin port the bridge logged (`admin endpoint on port N`, admin.listen port 0)."""
    return logged_port(b, rb"admin endpoint on port (\d+)", "admin endpoint", timeout)


def http_get(port, path, timeout=5):
    """(status, body str) of GET http://127.0.0.1:port/path; (None, error) when unreachable."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", errors="replace")
    except OSError as e:
        return None, str(e)
    finally:
        c.close()


def _prom_unescape_label(s, i, line):
    """Parse a double-quoted label value starting at s[i] == '"'; returns (value, next index)."""
    check(i < len(s) and s[i] == '"', "label value not quoted: %r" % line)
    out, i = [], i + 1
    while True:
        check(i < len(s), "unterminated label value: %r" % line)
        ch = s[i]
        if ch == "\\":
            check(i + 1 < len(s) and s[i + 1] in '\\"n', "bad escape in label value: %r" % line)
            out.append({"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        elif ch == "\n":
            raise TestFailure("raw newline in label value: %r" % line)
        else:
            out.append(ch)
            i += 1


def _prom_value(tok, line):
    if tok in ("+Inf", "-Inf", "NaN"):
        return float(tok.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(tok)
    except ValueError:
        raise TestFailure("bad sample value %r: %r" % (tok, line))


def parse_prometheus(text):
    """Strict parser of the Prometheus text exposition format (0.0.4). Every line is checked:
    `# HELP name text`, `# TYPE name counter|gauge|histogram|summary|untyped`, other comments,
    and samples `name{label="value",...} value [timestamp]` with label escaping (\\\\, \\", \\n).
    Checks: names valid, TYPE before its samples and at most once per family, HELP once,
    a family's samples contiguous, no duplicate series, counters >= 0, histograms have
    cumulative buckets ending in le="+Inf" equal to _count, and a _sum.
    Returns {"types": {family: type}, "samples": [(name, {labels}, value)]}; raises TestFailure."""
    import re
    name_re = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
    label_re = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
    check(text.endswith("\n") or text == "", "exposition does not end with a newline")
    types, helps, samples, seen = {}, set(), [], set()
    families_done, current = set(), None

    def family_of(name):
        for suf in ("_bucket", "_sum", "_count", "_total", "_created"):
            if name.endswith(suf) and name[:-len(suf)] in types:
                return name[:-len(suf)]
        return name

    for line in text.split("\n")[:-1] if text else []:
        check(line == line.rstrip("\r"), "carriage return in line: %r" % line)
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                check(len(parts) >= 3 and name_re.fullmatch(parts[2]),
                      "bad %s line: %r" % (parts[1], line))
                fam = parts[2]
                if parts[1] == "TYPE":
                    check(len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram",
                                                           "summary", "untyped"),
                          "bad TYPE line: %r" % line)
                    check(fam not in types, "second TYPE for %s" % fam)
                    check(not any(family_of(s[0]) == fam or s[0] == fam for s in samples),
                          "TYPE for %s after its samples" % fam)
                    types[fam] = parts[3]
                else:
                    check(fam not in helps, "second HELP for %s" % fam)
                    helps.add(fam)
                    if len(parts) == 4:
                        h = parts[3]
                        check(not re.search(r"\\[^\\n]", h), "bad escape in HELP: %r" % line)
            continue
        m = name_re.match(line)
        check(m is not None, "sample line does not start with a metric name: %r" % line)
        name, i = m.group(0), m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            i += 1
            while True:
                check(i < len(line), "unterminated label set: %r" % line)
                if line[i] == "}":
                    i += 1
                    break
                lm = label_re.match(line, i)
                check(lm is not None, "bad label name at %d: %r" % (i, line))
                lname = lm.group(0)
                check(lname not in labels, "label %s twice: %r" % (lname, line))
                i = lm.end()
                check(i < len(line) and line[i] == "=", "no '=' after label: %r" % line)
                value, i = _prom_unescape_label(line, i + 1, line)
                labels[lname] = value
                check(i < len(line), "unterminated label set: %r" % line)
                if line[i] == ",":
                    i += 1
                else:
                    check(line[i] == "}", "expected ',' or '}': %r" % line)
        check(i < len(line) and line[i] == " ", "no space before the value: %r" % line)
        rest = line[i + 1:].split(" ")
        check(1 <= len(rest) <= 2 and rest[0] != "", "bad value part: %r" % line)
        value = _prom_value(rest[0], line)
        if len(rest) == 2:
            check(re.fullmatch(r"-?\d+", rest[1]), "bad timestamp: %r" % line)
        fam = family_of(name)
        if fam != current:
            check(fam not in families_done, "samples of %s are not contiguous" % fam)
            if current is not None:
                families_done.add(current)
            current = fam
        key = (name, tuple(sorted(labels.items())))
        check(key not in seen, "duplicate series: %r" % line)
        seen.add(key)
        t = types.get(fam, "untyped")
        if t == "counter":
            check(value >= 0, "negative counter: %r" % line)
        if t == "histogram":
            check(name in (fam + "_bucket", fam + "_sum", fam + "_count"),
                  "histogram %s has sample %s" % (fam, name))
            if name.endswith("_bucket"):
                check("le" in labels, "bucket without le: %r" % line)
        samples.append((name, labels, value))

    # histograms: per label set (minus le) cumulative buckets, +Inf == _count, _sum present
    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for name, labels, value in samples:
            if family_of(name) != fam:
                continue
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                s["buckets"].append((_prom_value(labels["le"], labels["le"]), value))
            elif name == fam + "_sum":
                s["sum"] = value
            else:
                s["count"] = value
        for rest, s in series.items():
            b = s["buckets"]
            check(b, "histogram %s%r has no buckets" % (fam, rest))
            check([x[0] for x in b] == sorted(x[0] for x in b),
                  "histogram %s buckets not in increasing le order" % fam)
            check(b[-1][0] == float("inf"), "histogram %s%r has no le=\"+Inf\"" % (fam, rest))
            for (_, a), (_, c) in zip(b, b[1:]):
                check(c >= a, "histogram %s%r buckets not cumulative: %r" % (fam, rest, b))
            check(s["count"] is not None and s["sum"] is not None,
                  "histogram %s%r lacks _count or _sum" % (fam, rest))
            check(b[-1][1] == s["count"], "histogram %s%r: +Inf bucket %s != _count %s"
                  % (fam, rest, b[-1][1], s["count"]))
    return {"types": types, "samples": samples}


def metric(parsed, name, **labels):
    """Sum of the samples named name whose labels include labels (None when there is none)."""
    vals = [v for n, l, v in parsed["samples"]
            if n == name and all(l.get(k) == w for k, w in labels.items())]
    return sum(vals) if vals else None


def scrape(port):
    """GET /metrics and parse it strictly; returns the parse (see parse_prometheus)."""
    st, body = http_get(port, "/metrics")
    check(st == 200, "/metrics answered %s: %s" % (st, body[:200]))
    return parse_prometheus(body)


def hup(b):
    """Send SIGHUP to a Bridge."""
    b.proc.send_signal(signal.SIGHUP)
    log("%s: SIGHUP" % b.name)


def log_lines(b):
    """The bridge's log lines so far (stderr then stdout), as str."""
    out = []
    for path in (b.err_path, b.out_path):
        try:
            with open(path, "rb") as f:
                out += f.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            pass
    return out


def write_connector(tmp, name, url, secret=SECRET, allow_private=True, extra=(),
                    schedule=("0s", "200ms", "500ms"), events='["*"]',
                    on_exhausted="dead-letter"):
    """Write <tmp>/conn-<name>.yaml (an outbound connector); returns its path.
    extra: more YAML lines (e.g. 'allow_cidrs: ["127.0.0.0/8"]', 'contract: order.paid@1')."""
    path = os.path.join(tmp, "conn-%s.yaml" % name)
    lines = ["name: %s" % name, "direction: outbound", "url: %s" % _yaml_str(url),
             "events: %s" % events,
             "signing: { scheme: standard-webhooks, secrets: [%s] }" % _yaml_str(secret),
             "timeout: 5s",
             "retry: { schedule: [%s], on_exhausted: %s }" % (", ".join(schedule),
                                                               on_exhausted)]
    if allow_private:
        lines.append("allow_private_networks: true")
    lines += list(extra)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)  # atomic: a reload never sees half a file
    return path


def set_connectors(config, paths, extra_lines=()):
    """Point bridge config `config` (from write_config) at the connector files `paths` and
    append extra top-level YAML lines (e.g. schema_registry)."""
    with open(config) as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("connectors:")]
    lines.append("connectors: [ %s ]" % ", ".join(_yaml_str(p) for p in paths))
    lines += list(extra_lines)
    with open(config, "w") as f:
        f.write("\n".join(lines) + "\n")
    return config


# --------------------------------------------------------------------------------------------
# consumer groups and inbound webhooks (shared with tests/realkafka/)


def sign_standard(msg_id, ts, body, secret=SECRET):
    """The Standard Webhooks `webhook-signature` value (v1, HMAC-SHA256 of id.ts.body)."""
    import base64
    import hashlib
    import hmac
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, b"%s.%d.%s" % (msg_id.encode(), ts, body), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def write_inbound_connector(tmp, name, topic, key="/id", secret=SECRET, extra=()):
    """Write <tmp>/in-<name>.yaml (a standard-webhooks inbound connector); returns its path."""
    path = os.path.join(tmp, "in-%s.yaml" % name)
    lines = ["name: %s" % name, "direction: inbound", "topic: %s" % topic,
             "verify: { scheme: standard-webhooks, secrets: [%s] }" % _yaml_str(secret),
             "key: %s" % key] + list(extra)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def inbound_port(b, timeout=15):
    """The inbound listener port the bridge logged (`inbound listener on port N`)."""
    return logged_port(b, rb"inbound listener on port (\d+)", "inbound", timeout)


def post_webhook(port, connector, msg_id, body, secret=SECRET, conn=None, timeout=30):
    """POST a Standard Webhooks request to /webhooks/<connector>; returns (status, headers
    {lower-case name: value}, body str). conn: a keep-alive http.client.HTTPConnection to reuse
    (it is reset on a connection error, so the caller's next request reconnects)."""
    import http.client
    ts = int(time.time())
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/webhooks/%s" % connector, body=body,
                  headers={"content-type": "application/json", "webhook-id": msg_id,
                           "webhook-timestamp": str(ts),
                           "webhook-signature": sign_standard(msg_id, ts, body, secret)})
        r = c.getresponse()
        text = r.read().decode(errors="replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, text
    except (OSError, http.client.HTTPException):
        c.close()
        raise
    finally:
        if own:
            c.close()
