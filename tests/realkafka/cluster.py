"""cluster.py - a 3-node Apache Kafka KRaft cluster on loopback for the realkafka tests.

Python 3 stdlib only; it runs `java` (the broker jars fetched by tests/realkafka/fetch.sh) and
reads metadata with `kcat -L -J` (Debian's kcat, already a test dependency).

    with cluster.Cluster(workdir) as c:       # format + start 3 combined broker+controllers
        c.bootstrap                           # "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
        c.leader("orders", 0)                 # node id leading that partition
        c.kill9(node); c.start_node(node)     # SIGKILL a JVM, start it again (same data)
        c.rolling_restart()                   # controlled shutdown + restart, one at a time

Each node is broker and controller (process.roles=broker,controller, static quorum of the three),
listens on two free loopback ports picked at start, keeps its data, its server.properties, its
log4j2 file log and the JVM's stdout in <workdir>/node-<id>/. Heaps are small (-Xmx384m,
SerialGC, C1 only) so three JVMs, the bridge and the test tools fit this 2-core machine.

Nothing outlives the controller: close() (also run by atexit and on SIGTERM/SIGINT/SIGHUP)
kills every JVM it started, and each JVM is started with PR_SET_PDEATHSIG=SIGKILL, so even a
SIGKILL of the Python process takes the brokers with it. PR_SET_PDEATHSIG fires when the
*thread* that forked the JVM exits: start nodes from the main thread (or a thread that outlives
them), which is what every method here does when called from the main thread.

Environment: WB_RK_KAFKA_LIBS (folder of the broker jars, required), WB_RK_JAVA (java binary,
default `java` on PATH), WB_RK_KCAT (default `kcat`), WB_RK_HEAP (default 384m).
"""

import atexit
import base64
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

# Broker settings every node gets; the tests' durability promises rest on the first three.
BASE_PROPS = {
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "offsets.topic.replication.factor": "3",
    "offsets.topic.num.partitions": "6",          # 50 by default: slow to create on 2 cores
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "transaction.state.log.num.partitions": "3",
    "group.initial.rebalance.delay.ms": "0",      # a group forms at once, not after 3 s
    "num.partitions": "1",
    "auto.create.topics.enable": "false",         # tests create their topics (RF 3) first
    "unclean.leader.election.enable": "false",
    "num.network.threads": "2",
    "num.io.threads": "2",
    "num.replica.fetchers": "1",
    "background.threads": "2",
    "log.cleaner.threads": "1",
    "log.cleaner.dedupe.buffer.size": "8388608",  # 128 MiB by default: a third of the heap
    # a killed broker is fenced (its leaderships move, it leaves the ISRs) after 6 s
    "broker.session.timeout.ms": "6000",
    "broker.heartbeat.interval.ms": "1000",
    "replica.lag.time.max.ms": "10000",
    "controller.quorum.election.timeout.ms": "1000",
    "controller.quorum.fetch.timeout.ms": "2000",
    "controlled.shutdown.enable": "true",
}

JVM_OPTS = ["-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            "-Djava.net.preferIPv4Stack=true"]

LOG4J2 = """status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {path}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.req.name = kafka.request.logger
logger.req.level = WARN
"""

_PR_SET_PDEATHSIG = 1


class ClusterError(Exception):
    pass


def _pdeathsig():
    """preexec_fn: the JVM gets SIGKILL when the thread that started it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # atexit/signal cleanup still applies


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1, below the kernel's ephemeral range: a killed
    broker restarts on its old ports, and a port from the ephemeral range could meanwhile be
    the local port of some client connection (EADDRINUSE)."""
    import random
    hi = _ephemeral_low() - 1
    lo = max(1024, hi - 12000)
    socks, ports = [], []
    try:
        for port in random.sample(range(lo, hi + 1), min(400, hi - lo + 1)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            socks.append(s)
            ports.append(port)
            if len(ports) == n:
                return ports
        raise ClusterError("no %d free ports in %d-%d" % (n, lo, hi))
    finally:
        for s in socks:
            s.close()


def cluster_id():
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).

    One id in 64 would start with '-', which StorageTool's argument parser reads as an
    option ("--cluster-id: expected one argument"); Kafka's own Uuid.randomUuid() draws
    again in that case, and so do we (format also passes it as --cluster-id=ID)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class Node:
    def __init__(self, node_id, workdir, port, controller_port):
        self.id = node_id
        self.dir = os.path.join(workdir, "node-%d" % node_id)
        self.data = os.path.join(self.dir, "data")
        self.port = port
        self.controller_port = controller_port
        self.props_path = os.path.join(self.dir, "server.properties")
        self.log4j_path = os.path.join(self.dir, "log4j2.properties")
        self.log_path = os.path.join(self.dir, "server.log")
        self.out_path = os.path.join(self.dir, "stdout.log")
        self.proc = None
        self.starts = 0

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    """A KRaft cluster of `nodes` combined broker+controller JVMs. See the module doc."""

    def __init__(self, workdir, nodes=3, props=None, libs=None, java=None, heap=None,
                 log=None):
        self.workdir = os.path.abspath(workdir)
        self.libs = libs or os.environ.get("WB_RK_KAFKA_LIBS")
        if not self.libs or not os.path.isdir(self.libs):
            raise ClusterError("no Kafka jars at %r: run tests/realkafka/fetch.sh (it sets "
                               "WB_RK_KAFKA_LIBS through tests/realkafka/env.sh)" % self.libs)
        self.java = java or os.environ.get("WB_RK_JAVA") or "java"
        self.kcat = os.environ.get("WB_RK_KCAT") or "kcat"
        self.heap = heap or os.environ.get("WB_RK_HEAP") or "384m"
        self.props = dict(BASE_PROPS)
        self.props.update(props or {})
        self._log = log or (lambda m: sys.stdout.write("[cluster] %s\n" % m))
        self.cluster_id = cluster_id()
        ports = free_ports(2 * nodes)
        self.nodes = {i: Node(i, self.workdir, ports[2 * (i - 1)], ports[2 * (i - 1) + 1])
                      for i in range(1, nodes + 1)}
        self.start_s = None
        self._lock = threading.Lock()
        self._closed = False
        atexit.register(self.close)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            prev = signal.getsignal(sig)
            signal.signal(sig, self._on_signal(prev))

    # ----------------------------------------------------------------------------------------
    # lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def _on_signal(self, prev):
        def handler(signum, frame):
            self.close()
            if callable(prev):
                prev(signum, frame)
            else:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
        return handler

    @property
    def bootstrap(self):
        return ",".join(n.address for n in self.nodes.values())

    def _classpath(self):
        return os.path.join(self.libs, "*")

    def _write_node_files(self, n):
        os.makedirs(n.dir, exist_ok=True)
        voters = ",".join("%d@127.0.0.1:%d" % (m.id, m.controller_port)
                          for m in self.nodes.values())
        props = {
            "process.roles": "broker,controller",
            "node.id": str(n.id),
            "controller.quorum.voters": voters,
            "listeners": "PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d"
                         % (n.port, n.controller_port),
            "advertised.listeners": "PLAINTEXT://127.0.0.1:%d" % n.port,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": n.data,
        }
        props.update(self.props)
        with open(n.props_path, "w") as f:
            for k in sorted(props):
                f.write("%s=%s\n" % (k, props[k]))
        with open(n.log4j_path, "w") as f:
            f.write(LOG4J2.format(path=n.log_path))

    def _jvm(self, n, main, args, out):
        cmd = [self.java, "-Xmx" + self.heap] + JVM_OPTS + [
            "-Dlog4j2.configurationFile=" + n.log4j_path, "-Dkafka.logs.dir=" + n.dir,
            "-cp", self._classpath(), main] + args
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)

    def format(self):
        """kafka.tools.StorageTool format on every node (in parallel), same cluster id."""
        procs = []
        for n in self.nodes.values():
            self._write_node_files(n)
            out = open(os.path.join(n.dir, "format.log"), "wb")
            procs.append((n, out, self._jvm(n, "kafka.tools.StorageTool",
                                            ["format", "--cluster-id=" + self.cluster_id, "-c",
                                             n.props_path], out)))
        failed = []
        for n, out, p in procs:
            try:
                rc = p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = "timeout"
            out.close()
            if rc != 0:
                failed.append("node %d: %s%s" % (n.id, rc, _tail(os.path.join(n.dir,
                                                                               "format.log"))))
        if failed:
            raise ClusterError("StorageTool format failed: " + "; ".join(failed))

    def start(self, timeout=150):
        """Format, start every node, wait until metadata lists all of them. Sets start_s."""
        t0 = time.monotonic()
        self.format()
        for n in self.nodes.values():
            self._spawn(n)
        self.wait_brokers(timeout=timeout)
        self.start_s = time.monotonic() - t0
        self._log("%d nodes up in %.1fs (cluster id %s, bootstrap %s)"
                  % (len(self.nodes), self.start_s, self.cluster_id, self.bootstrap))
        return self.start_s

    def _spawn(self, n):
        with self._lock:
            if self._closed:
                raise ClusterError("cluster closed")
            if n.running():
                raise ClusterError("node %d is already running" % n.id)
            n.starts += 1
            out = open(n.out_path, "ab")
            out.write(b"==== start %d\n" % n.starts)
            out.flush()
            n.proc = self._jvm(n, "kafka.Kafka", [n.props_path], out)
            out.close()  # the child holds its own descriptor
        self._log("node %d started (pid %d, %s)" % (n.id, n.proc.pid, n.address))

    def close(self):
        """Kill every JVM still running (SIGKILL: data on disk is of no further use)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for n in self.nodes.values():
                if n.proc is not None and n.proc.poll() is None:
                    try:
                        n.proc.kill()
                        n.proc.wait(20)
                    except (OSError, subprocess.TimeoutExpired):
                        pass

    # ----------------------------------------------------------------------------------------
    # faults

    def node(self, node_id):
        if node_id not in self.nodes:
            raise ClusterError("no node %r (nodes: %s)" % (node_id, sorted(self.nodes)))
        return self.nodes[node_id]

    def kill9(self, node_id):
        """SIGKILL one node's JVM (no controlled shutdown) and reap it."""
        n = self.node(node_id)
        if not n.running():
            raise ClusterError("node %d is not running" % node_id)
        n.proc.kill()
        n.proc.wait(20)
        self._log("node %d killed -9" % node_id)

    def stop_node(self, node_id, timeout=60):
        """SIGTERM: controlled shutdown (leaderships moved away first); SIGKILL after timeout.
        Returns the seconds it took."""
        n = self.node(node_id)
        t0 = time.monotonic()
        if n.running():
            n.proc.terminate()
            try:
                n.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._log("node %d ignored SIGTERM for %ds: SIGKILL" % (node_id, timeout))
                n.proc.kill()
                n.proc.wait(20)
        took = time.monotonic() - t0
        self._log("node %d stopped in %.1fs" % (node_id, took))
        return took

    def start_node(self, node_id, wait=True, timeout=90):
        """Start a stopped node on its old ports and data; optionally wait until metadata lists
        it again."""
        self._spawn(self.node(node_id))
        if wait:
            self.wait_brokers(timeout=timeout)

    def rolling_restart(self, timeout_each=120, settle=None):
        """Restart every node in turn, the way an operator does: controlled shutdown, start,
        wait until it is back and every partition is fully replicated again, then the next one.
        settle(node_id) is called after each node is back (e.g. to check progress).
        Returns {node_id: seconds from stop to fully replicated}."""
        took = {}
        for node_id in sorted(self.nodes):
            t0 = time.monotonic()
            self.stop_node(node_id)
            self.start_node(node_id, wait=True, timeout=timeout_each)
            self.wait_fully_replicated(timeout=timeout_each)
            took[node_id] = round(time.monotonic() - t0, 1)
            self._log("node %d restarted and back in every ISR after %.1fs"
                      % (node_id, took[node_id]))
            if settle:
                settle(node_id)
        return took

    # ----------------------------------------------------------------------------------------
    # metadata (kcat -L -J)

    def _alive_bootstrap(self):
        alive = [n.address for n in self.nodes.values() if n.running()]
        return ",".join(alive) or self.bootstrap

    def metadata(self, topic=None, timeout=10):
        """kcat's JSON metadata ({"brokers": [...], "topics": [...]}); None when no broker
        answered within timeout."""
        args = [self.kcat, "-b", self._alive_bootstrap(), "-L", "-J", "-m", str(timeout)]
        if topic:
            args += ["-t", topic]
        try:
            p = subprocess.run(args, capture_output=True, timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            return None
        if p.returncode != 0:
            return None
        try:
            return json.loads(p.stdout)
        except ValueError:
            return None

    def wait_brokers(self, nodes=None, timeout=90):
        """Until metadata lists every running node (or `nodes`) as a broker."""
        want = set(nodes or [n.id for n in self.nodes.values() if n.running()])
        deadline = time.monotonic() + timeout
        last = None
        while True:
            for n in self.nodes.values():
                if n.proc is not None and n.proc.poll() is not None and n.id in want:
                    raise ClusterError("node %d exited with %s while starting:%s"
                                       % (n.id, n.proc.returncode, _tail(n.out_path)
                                          + _tail(n.log_path)))
            md = self.metadata(timeout=3)
            if md:
                last = sorted(b["id"] for b in md.get("brokers", []))
                if want <= set(last):
                    return last
            if time.monotonic() >= deadline:
                raise ClusterError("brokers %s not all in metadata after %ds (last saw %s)"
                                   % (sorted(want), timeout, last))
            time.sleep(0.3)

    def partitions(self, topic):
        """{partition: {"leader": id, "replicas": [ids], "isr": [ids]}} of topic."""
        md = self.metadata(topic)
        if not md:
            raise ClusterError("no metadata for %s" % topic)
        for t in md.get("topics", []):
            if t.get("topic") == topic:
                if t.get("error"):
                    raise ClusterError("metadata for %s: %s" % (topic, t["error"]))
                return {p["partition"]: {"leader": p.get("leader"),
                                         "replicas": [r["id"] for r in p.get("replicas", [])],
                                         "isr": [r["id"] for r in p.get("isrs", [])]}
                        for p in t.get("partitions", [])}
        raise ClusterError("topic %s not in metadata" % topic)

    def leader(self, topic, partition):
        return self.partitions(topic)[partition]["leader"]

    def wait_leader_moved(self, topic, partition, old, timeout=60):
        """Until a live node other than `old` leads topic/partition; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                now = self.leader(topic, partition)
            except ClusterError:
                now = None
            if now not in (None, -1, old) and self.node(now).running():
                return now
            if time.monotonic() >= deadline:
                raise ClusterError("leader of %s/%d still %s after %ds" % (topic, partition,
                                                                           now, timeout))
            time.sleep(0.3)

    def under_replicated(self):
        """[(topic, partition, replicas, isr)] of partitions whose ISR lacks a replica."""
        md = self.metadata()
        if not md:
            raise ClusterError("no metadata")
        out = []
        for t in md.get("topics", []):
            for p in t.get("partitions", []):
                reps = sorted(r["id"] for r in p.get("replicas", []))
                isr = sorted(r["id"] for r in p.get("isrs", []))
                if reps != isr:
                    out.append((t["topic"], p["partition"], reps, isr))
        return out

    def wait_fully_replicated(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            try:
                bad = self.under_replicated()
            except ClusterError as e:
                bad = [str(e)]
            if not bad:
                return
            if time.monotonic() >= deadline:
                raise ClusterError("still under-replicated after %ds: %s" % (timeout, bad[:5]))
            time.sleep(0.5)

    # ----------------------------------------------------------------------------------------
    # Kafka's own command-line tools, from the same jars

    def tool(self, main, args, timeout=60):
        """Run a Kafka tool class (e.g. org.apache.kafka.tools.TopicCommand) against the
        cluster; returns its stdout; raises ClusterError on a non-zero exit."""
        cmd = [self.java, "-Xmx256m"] + JVM_OPTS + [
            "-Dlog4j2.configurationFile=" + self._tools_log4j(),
            "-cp", self._classpath(), main] + args
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ClusterError("%s timed out after %ds" % (main, timeout))
        if p.returncode != 0:
            raise ClusterError("%s %s exited %d: %s" % (main, " ".join(args[:3]), p.returncode,
                                                       p.stderr.decode(errors="replace")[-800:]))
        return p.stdout.decode(errors="replace")

    def _tools_log4j(self):
        """The tools log to <workdir>/tools.log, so their stdout is only their answer."""
        path = os.path.join(self.workdir, "tools-log4j2.properties")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(LOG4J2.format(path=os.path.join(self.workdir, "tools.log")))
        return path

    def create_topic(self, name, partitions, replication=3, configs=None, timeout=60):
        """Create a topic with Kafka's TopicCommand and wait until every partition has a
        leader and a full ISR."""
        args = ["--bootstrap-server", self._alive_bootstrap(), "--create", "--topic", name,
                "--partitions", str(partitions), "--replication-factor", str(replication)]
        for k, v in (configs or {}).items():
            args += ["--config", "%s=%s" % (k, v)]
        self.tool("org.apache.kafka.tools.TopicCommand", args, timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                parts = self.partitions(name)
            except ClusterError:
                parts = {}
            if len(parts) == partitions and all(
                    p["leader"] not in (None, -1) and len(p["isr"]) == replication
                    for p in parts.values()):
                return parts
            if time.monotonic() >= deadline:
                raise ClusterError("topic %s not ready after %ds: %r" % (name, timeout, parts))
            time.sleep(0.2)


def _tail(path, n=12):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    return ("\n    " + "\n    ".join(lines[-n:])) if lines else ""


# --------------------------------------------------------------------------------------------
# CLI: tests/realkafka/kafka-cluster


def _cli(argv):
    import argparse
    import shlex
    import tempfile
    ap = argparse.ArgumentParser(
        prog="kafka-cluster",
        description="Start a 3-node KRaft cluster on loopback and keep it until stdin closes "
                    "or Ctrl-C. Commands on stdin: topic NAME PARTITIONS | leader TOPIC P | "
                    "kill N | start N | stop N | roll | md | quit")
    ap.add_argument("--dir", help="work folder (default: a new temporary one, kept)")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--topic", action="append", default=[], metavar="NAME:PARTITIONS",
                    help="create a topic (RF 3) once the cluster is up; repeatable")
    a = ap.parse_args(argv)
    workdir = a.dir or tempfile.mkdtemp(prefix="wb-kafka-cluster-")
    c = Cluster(workdir, nodes=a.nodes)
    c.start()
    for spec in a.topic:
        name, _, parts = spec.partition(":")
        c.create_topic(name, int(parts or 1))
        print("topic %s created" % name, flush=True)
    print("bootstrap=%s" % c.bootstrap, flush=True)
    print("dir=%s" % workdir, flush=True)
    try:
        for line in sys.stdin:
            words = shlex.split(line)
            if not words:
                continue
            cmd, args = words[0], words[1:]
            try:
                if cmd == "quit":
                    break
                elif cmd == "topic":
                    c.create_topic(args[0], int(args[1]))
                elif cmd == "leader":
                    print(c.leader(args[0], int(args[1])))
                elif cmd == "kill":
                    c.kill9(int(args[0]))
                elif cmd == "stop":
                    c.stop_node(int(args[0]))
                elif cmd == "start":
                    c.start_node(int(args[0]))
                elif cmd == "roll":
                    print(json.dumps(c.rolling_restart()))
                elif cmd == "md":
                    print(json.dumps(c.metadata(), indent=1))
                else:
                    print("unknown command %r" % cmd)
                print("ok", flush=True)
            except (ClusterError, IndexError, ValueError) as e:
                print("error: %s" % e, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
