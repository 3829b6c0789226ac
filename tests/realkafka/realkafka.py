"""realkafka.py - what the realkafka tests add to tests/integration/harness.py: a 3-node Apache
Kafka cluster per test script (cluster.py), an independent Kafka client to read back what the
bridge wrote and committed (kafka-python: pure Python, no librdkafka), and a webhook sender that
behaves like a partner (retries on 503/409 after Retry-After, keeps every answer).

Scripts run with the cached venv's python through tests/realkafka/run (CTest does that).
"""

import contextlib
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness as h  # noqa: E402
import cluster as kc  # noqa: E402

try:
    import kafka  # noqa: E402  kafka-python, from the venv fetch.sh made
except ImportError as e:  # a missing tool fails the suite, it never skips it
    print("FAIL realkafka: kafka-python is not importable (%s): run tests/realkafka/fetch.sh "
          "and start the script through tests/realkafka/run" % e)
    print("0 passed, 1 failed")
    sys.exit(1)

# --------------------------------------------------------------------------------------------
# the cluster


@contextlib.contextmanager
def kafka_cluster(run, topics, props=None):
    """Start a 3-node cluster in <run.tmp>/kafka, create `topics` ({name: partitions}, RF 3,
    min.insync.replicas 2), yield it, and stop every JVM on the way out."""
    c = kc.Cluster(os.path.join(run.tmp, "kafka"), props=props, log=h.log)
    try:
        try:
            c.start()
            t0 = time.monotonic()
            for name, parts in topics.items():
                c.create_topic(name, parts)
        except kc.ClusterError as e:
            raise h.TestFailure("Kafka cluster: %s" % e)
        run.summary["cluster_start_s"] = round(c.start_s, 1)
        run.summary["topics_create_s"] = round(time.monotonic() - t0, 1)
        yield c
    finally:
        c.close()


def leader_kill(c, topic, partition, restart_after=None):
    """kill -9 the node leading topic/partition, wait until another node leads it; with
    restart_after (seconds) start the killed node again after that long. Returns
    (killed node, new leader, seconds from the kill to the new leader)."""
    old = c.leader(topic, partition)
    h.check(old not in (None, -1), "%s/%d has no leader" % (topic, partition))
    c.kill9(old)
    t0 = time.monotonic()
    new = c.wait_leader_moved(topic, partition, old, timeout=60)
    took = time.monotonic() - t0
    h.log("leader of %s/%d: %d -> %d after %.1fs" % (topic, partition, old, new, took))
    if restart_after is not None:
        time.sleep(restart_after)
        c.start_node(old)
    return old, new, took


# --------------------------------------------------------------------------------------------
# independent client (kafka-python)


def _hdrs(headers):
    return {k: (v.decode("utf-8", errors="replace") if v is not None else None)
            for k, v in (headers or [])}


def read_topic(bootstrap, topic, timeout=60):
    """Every record of topic up to its high watermark (what acks=all made durable), read with
    kafka-python, as dicts {partition, offset, key, value (str), headers {name: str},
    timestamp}, in partition/offset order."""
    consumer = kafka.KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                                   enable_auto_commit=False, request_timeout_ms=30000)
    try:
        deadline = time.monotonic() + timeout
        parts = None
        while not parts:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                h.check(time.monotonic() < deadline, "no partitions for %s" % topic)
                time.sleep(0.3)
        tps = [kafka.TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out = []
        while any(consumer.position(tp) < end[tp] for tp in tps):
            h.check(time.monotonic() < deadline, "reading %s: still short of the end offsets "
                    "%r after %ds" % (topic, {tp.partition: end[tp] for tp in tps}, timeout))
            for tp, msgs in consumer.poll(timeout_ms=500).items():
                for m in msgs:
                    if m.offset >= end[tp]:
                        continue
                    out.append({"partition": m.partition, "offset": m.offset,
                                "key": m.key.decode("utf-8", errors="replace")
                                if m.key is not None else None,
                                "value": m.value.decode("utf-8", errors="replace")
                                if m.value is not None else None,
                                "headers": _hdrs(m.headers), "timestamp": m.timestamp})
        out.sort(key=lambda r: (r["partition"], r["offset"]))
        return out
    finally:
        consumer.close()


def end_offsets(bootstrap, topic):
    """{partition: high watermark} of topic (kafka-python)."""
    consumer = kafka.KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                                   enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [kafka.TopicPartition(topic, p) for p in sorted(parts)]
        return {tp.partition: off for tp, off in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


class Admin:
    """A kafka-python admin client kept open for repeated committed-offset reads."""

    def __init__(self, bootstrap):
        self.admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap.split(","),
                                            request_timeout_ms=10000)

    def committed(self, group, topic):
        """{partition: committed offset} of group on topic (missing: nothing committed)."""
        offs = self.admin.list_group_offsets({group: None}).get(group, {})
        return {tp.partition: om.offset for tp, om in offs.items()
                if tp.topic == topic and om.offset >= 0}

    def close(self):
        self.admin.close()


def committed(bootstrap, group, topic):
    a = Admin(bootstrap)
    try:
        return a.committed(group, topic)
    finally:
        a.close()


def wait_committed_to_end(bootstrap, group, topic, timeout, alive=()):
    """Until the group's committed offset of every partition of topic equals its end offset
    (everything terminal and committed); returns (committed, end)."""
    end = end_offsets(bootstrap, topic)
    a = Admin(bootstrap)
    state = {}
    try:
        def done():
            state["c"] = a.committed(group, topic)
            return all(state["c"].get(p) == e for p, e in end.items() if e > 0)
        try:
            h.wait_until(done, timeout, interval=0.5, alive=alive,
                         what="group %s committed to the end of %s" % (group, topic))
        except h.TestFailure as e:
            raise h.TestFailure("%s: committed %r, end %r" % (e, state.get("c"), end))
        return state["c"], end
    finally:
        a.close()


# --------------------------------------------------------------------------------------------
# outbound checks


def per_key_order(records, positions):
    """Violations of per-key order among first 2xx arrivals: [(key, previous, this)]. The
    promise is offset order per key, so with positions ({id: (partition, offset)}, read back
    from the topic) offsets are compared; without, the generator's per_key_seq."""
    seen, last, bad = set(), {}, []
    for x in records:
        if not (200 <= x["status"] < 300) or x["id"] in seen:
            continue
        seen.add(x["id"])
        now = positions[x["id"]] if positions else x["per_key_seq"]
        prev = last.get(x["key"])
        if prev is not None and now <= prev:
            bad.append((x["key"], prev, now))
        last[x["key"]] = now
    return bad


def check_outbound(summary, rcv_records, expected, prefix, dup_bound, positions=None):
    """The standard outbound verdict on receiver records: lost 0, duplicates <= dup_bound, each
    with the event's own webhook-id (the id field, so stable across replays), every request
    verified by the SDK, per-key order kept (see per_key_order). Fills the dict `summary`."""
    lost, dups, unverified = h.account(expected, rcv_records)
    summary.update({"expected": len(expected), "delivered": len(h.delivered(rcv_records)),
                    "lost": len(lost), "duplicated": dups, "duplicate_bound": dup_bound,
                    "unverified": unverified, "requests": len(rcv_records)})
    h.check_ids_are_event_ids(rcv_records, prefix)
    h.check(not lost, "lost %d events, e.g. %s" % (len(lost), lost[:5]))
    h.check(dups <= dup_bound, "%d duplicates > bound %d" % (dups, dup_bound))
    h.check(unverified == 0, "%d unverified requests" % unverified)
    bad = per_key_order(rcv_records, positions)
    summary["order_violations"] = len(bad)
    h.check(not bad, "per-key order broken %d times, e.g. %r" % (len(bad), bad[:3]))


def source_positions(bootstrap, topic, expected):
    """Read topic back (kafka-python) and check the test producer's side: every expected event
    is there exactly once (the producer is idempotent, so a leader move does not write a batch
    twice or reorder a key). Returns {event id: (partition, offset)}."""
    pos, twice = {}, []
    for x in read_topic(bootstrap, topic):
        try:
            eid = json.loads(x["value"])["id"]
        except (ValueError, TypeError, KeyError):
            continue
        if eid in pos:
            twice.append(eid)
        pos.setdefault(eid, (x["partition"], x["offset"]))
    missing = [i for i in expected if i not in pos]
    h.check(not missing, "%d acked events are not in %s, e.g. %s"
            % (len(missing), topic, missing[:5]))
    h.check(not twice, "%d events are in %s twice, e.g. %s" % (len(twice), topic, twice[:5]))
    return pos


# --------------------------------------------------------------------------------------------
# inbound: a partner that retries


class Sender(threading.Thread):
    """Posts webhooks msg ids `ids` (body {"id","type","seq"}) to /webhooks/<connector> one
    after another on a keep-alive connection, like a partner: a 503 or 409 (or a connection
    error) is retried after Retry-After (capped at 2 s) until a 2xx, within `deadline_s`.
    Keeps every answer: .accepted {msg_id: (status, body dict)}, .attempts [(msg_id, status)]."""

    def __init__(self, port, connector, ids, deadline_s=120, rate=None):
        super().__init__(daemon=True)
        self.port, self.connector, self.ids = port, connector, list(ids)
        self.deadline = time.monotonic() + deadline_s
        self.rate = rate
        self.accepted, self.attempts, self.error = {}, [], None
        self.sent_ids = []               # ids posted so far (a stopped sender posts fewer)
        self.slowest_s = 0.0             # longest time from first post to 2xx of one webhook
        self._halt = threading.Event()

    def stop(self):
        """Post no new webhook; the one being posted is still retried until accepted."""
        self._halt.set()

    def body(self, msg_id, seq):
        return json.dumps({"id": "evt-" + msg_id, "type": "partner.event", "seq": seq,
                           "msg": msg_id}).encode()

    def run(self):
        import http.client
        conn = None
        try:
            for seq, msg_id in enumerate(self.ids):
                if self._halt.is_set():
                    break
                t_first = time.monotonic()
                t_next = t_first + (1.0 / self.rate if self.rate else 0)
                body = self.body(msg_id, seq)
                self.sent_ids.append(msg_id)
                while True:
                    if time.monotonic() > self.deadline:
                        raise h.TestFailure("inbound %s not accepted before the deadline "
                                            "(answers: %r)" % (msg_id, self.attempts[-3:]))
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    try:
                        st, hdrs, text = h.post_webhook(self.port, self.connector, msg_id, body,
                                                        conn=conn)
                    except (OSError, http.client.HTTPException) as e:
                        self.attempts.append((msg_id, "error: %s" % e))
                        conn = None
                        time.sleep(0.2)
                        continue
                    self.attempts.append((msg_id, st))
                    if 200 <= st < 300:
                        self.accepted[msg_id] = (st, json.loads(text or "{}"))
                        self.slowest_s = max(self.slowest_s, time.monotonic() - t_first)
                        break
                    h.check(st in (503, 409), "inbound %s answered %d: %s"
                            % (msg_id, st, text[:300]))
                    try:
                        wait = float(hdrs.get("retry-after", "1"))
                    except ValueError:
                        wait = 1.0
                    time.sleep(min(max(wait, 0.1), 2.0))
                delay = t_next - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        except Exception as e:  # noqa: BLE001 - reported by finish()
            self.error = e
        finally:
            if conn is not None:
                conn.close()

    def finish(self, timeout):
        self.join(timeout)
        h.check(not self.is_alive(), "inbound sender still running after %ds" % timeout)
        if self.error is not None:
            raise self.error


def check_inbound(summary, senders, records, topic):
    """Every 2xx is backed by Kafka: the record at the (topic, partition, offset) a 200 named
    holds that webhook (ce_id), and every accepted webhook is in the topic (`records`, read
    back with kafka-python). Fills the dict `summary`; returns how many accepted webhooks are
    in the topic more than once."""
    accepted, attempts = {}, []
    for s in senders:
        accepted.update(s.accepted)
        attempts += s.attempts
    by_pos = {(r["partition"], r["offset"]): r for r in records}
    by_id = {}
    for r in records:
        by_id.setdefault(r["headers"].get("ce_id"), []).append(r)
    wrong, missing = [], []
    for msg_id, (st, doc) in accepted.items():
        if msg_id not in by_id:
            missing.append(msg_id)
        if "offset" in doc:  # a duplicate's 200 names no position
            rec = by_pos.get((doc.get("partition"), doc.get("offset")))
            h.check(doc.get("topic") == topic, "%s: 200 names topic %r" % (msg_id, doc))
            if rec is None or rec["headers"].get("ce_id") != msg_id:
                wrong.append((msg_id, doc, rec and rec["headers"].get("ce_id")))
    dups = sum(len(v) - 1 for k, v in by_id.items() if k in accepted and len(v) > 1)
    statuses = {}
    for _, st in attempts:
        key = str(st) if isinstance(st, int) else "conn_error"
        statuses[key] = statuses.get(key, 0) + 1
    sent = sum(len(s.sent_ids) for s in senders)
    summary.update({
        "sent": sent, "accepted": len(accepted),
        "slowest_accept_s": round(max(s.slowest_s for s in senders), 2),
        "answers": statuses, "in_kafka": len(set(by_id) & set(accepted)),
        "lost": len(missing), "kafka_duplicates": dups, "wrong_offset": len(wrong)})
    h.check(len(accepted) == sent, "%d of %d webhooks accepted" % (len(accepted), sent))
    h.check(not missing, "%d webhooks answered 2xx are not in %s, e.g. %s"
            % (len(missing), topic, missing[:5]))
    h.check(not wrong, "%d 2xx answers name a position that does not hold the webhook, e.g. "
            "%r" % (len(wrong), wrong[:3]))
    return dups
