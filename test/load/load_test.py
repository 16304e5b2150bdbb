#!/usr/bin/env python3
"""Load test: 1,000 concurrent client connections, each a full produce/fetch round trip.

Why: the broker serves every connection from one poll(2) loop; this shows that it holds
1,000 live connections at once, answers each of them correctly and in order, and is still
healthy afterwards — not just that it survives one client at a time.

How: one thread, non-blocking sockets and `selectors` (no client library: the raw protocol
of test/crash/kafka_wire.py, record batches with a CRC-32C computed in Python). Every one
of the CONNECTIONS connections does
    ApiVersions v2  -> wait until ALL connections got their ApiVersions answer (a barrier:
                       the broker then holds 1,000 answered connections at the same time)
    Metadata v1     -> the topic is there with a leader for every partition
    Produce v8      -> acks=1, one v2 batch of RECORDS records (keys and values unique to
                       the connection) to partition i % PARTITIONS; error 0, a base offset
    Fetch v11       -> from that base offset: the very batch comes back, CRC valid, records
                       equal to what was sent, at base offset .. base offset + RECORDS - 1
and stays open until every connection has finished. Then a fresh client must still get
ApiVersions, Metadata and ListOffsets answers, the log end offsets must add up to exactly
what was acked, and SIGTERM must stop the broker cleanly.

Limits: the test raises its own RLIMIT_NOFILE (resource.setrlimit) and starts the broker
with a raised one too (preexec_fn), since 1,000 sockets exceed the usual soft limit of
1,024. The broker's max.connections defaults to 1000, exactly the test's count: any other
connection still open or not yet reaped (the launcher's readiness probe, topic creation)
would push one of the 1,000 over the limit, so the broker is started with
--override max.connections=1100 (printed in the output).

Environment: LOAD_CONNECTIONS (default 1000), KLAMM_BROKER (binary, default build/klamm).
Bounded: 60 s for the connections' work, about 75 s in all.
Output: `load-test: connections=1000 ok=N failed=M seconds=S` and a final
`load-test: N passed, N failed`; the exit status is 1 if any check failed.
"""

import collections
import errno
import os
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(REPO, "test", "crash"))
sys.path.insert(0, os.path.join(REPO, "integration", "python"))

import kafka_wire as kw  # noqa: E402
from klamm_broker import Broker, BrokerError  # noqa: E402

CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS") or 1000)
MAX_CONNECTIONS = 1100       # broker's max.connections (its default, 1000, is too tight)
NOFILE = 4096                # open-file limit for the test and for the broker
FD_HEADROOM = 20             # descriptors besides the sockets: listener, logs, stdio
TOPIC = "load-test"
PARTITIONS = 8
RECORDS = 3                  # records in each connection's batch
WORK_DEADLINE_S = 60         # all connections' work, from the first connect()
CONNECT_BURST = 100          # connect() calls between two selector polls


def raise_nofile():
    """Soft (and if needed hard) RLIMIT_NOFILE to at least NOFILE; returns the new soft."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def _broker_limits():
    """preexec_fn of the broker: the same raised limit, whatever the parent had."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(soft, NOFILE)
    if hard != resource.RLIM_INFINITY:
        target = min(target, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class LoadBroker(Broker):
    def command(self):
        return super().command() + ["--override", "max.connections=%d" % MAX_CONNECTIONS]

    def start(self):
        # Broker.start spawns with subprocess.Popen; add the preexec_fn for this call only.
        real_popen = subprocess.Popen

        def popen(*args, **kwargs):
            kwargs.setdefault("preexec_fn", _broker_limits)
            return real_popen(*args, **kwargs)

        subprocess.Popen = popen
        try:
            super().start()
        finally:
            subprocess.Popen = real_popen

    def nofile_limit(self):
        try:
            with open("/proc/%d/limits" % self.process.pid) as f:
                for line in f:
                    if line.startswith("Max open files"):
                        return int(line.split()[3])
        except (OSError, ValueError, IndexError, AttributeError):
            pass
        return None


class Client:
    """One connection's state machine: step names the answer it waits for."""

    def __init__(self, index, port):
        self.index = index
        self.partition = index % PARTITIONS
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rc = self.sock.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, os.strerror(rc))
        self.step = "connect"
        self.out = bytearray()
        self.inbuf = bytearray()
        self.next_id = 1
        self.expect = None           # (correlation id, api key, version)
        self.error = None
        self.base_offset = None
        self.records = [(b"c%d-r%d" % (index, j), b"value of connection %d record %d" % (index, j))
                        for j in range(RECORDS)]

    def queue(self, api_key, version, body):
        cid = self.next_id
        self.next_id += 1
        self.out += kw.request_frame(api_key, version, cid, body, client_id="load-%d" % self.index)
        self.expect = (cid, api_key, version)

    def take_answer(self):
        """A complete answer from inbuf as a Reader at its body, or None."""
        if len(self.inbuf) < 4:
            return None
        size = struct.unpack_from(">i", self.inbuf)[0]
        if size < 4 or size > 64 << 20:
            raise kw.WireError("absurd answer size %d" % size)
        if len(self.inbuf) < 4 + size:
            return None
        data = bytes(self.inbuf[4:4 + size])
        del self.inbuf[:4 + size]
        cid = struct.unpack_from(">i", data)[0]
        if self.expect is None or cid != self.expect[0]:
            raise kw.WireError("unexpected correlation id %d (want %s)" % (cid, self.expect))
        self.expect = None
        return kw.Reader(data, 4)

    # ---- the steps ----------------------------------------------------------------------

    def start(self):
        self.queue(kw.API_VERSIONS, 2, kw.api_versions_body())
        self.step = "api_versions"

    def on_answer(self, r):
        """Handle the answer of the current step; returns the next step's name."""
        if self.step == "api_versions":
            err, apis = kw.parse_api_versions(r, 2)
            if err != 0:
                raise kw.WireError("ApiVersions error %d" % err)
            for key, (lo, hi) in ((kw.METADATA, (1, 1)), (kw.PRODUCE, (8, 8)),
                                  (kw.FETCH, (11, 11))):
                have = apis.get(key)
                if have is None or have[0] > lo or have[1] < hi:
                    raise kw.WireError("api %d versions %s lack %s" % (key, have, (lo, hi)))
            return "barrier"
        if self.step == "metadata":
            md = kw.parse_metadata_v1(r)
            err, parts = md["topics"].get(TOPIC, (-1, []))
            leaders = {p: leader for p, e, leader in parts or [] if e == 0}
            if err != 0 or leaders.get(self.partition, -1) < 0 or not md["brokers"]:
                raise kw.WireError("metadata: topic error %d, partitions %s" % (err, parts))
            batch = kw.record_batch(self.records)
            self.batch_size = len(batch)
            self.queue(kw.PRODUCE, 8, kw.produce_body(TOPIC, [(self.partition, batch)], acks=1))
            return "produce"
        if self.step == "produce":
            err, base = kw.parse_produce(r, 8).get(self.partition, (-1, -1))
            if err != 0 or base < 0:
                raise kw.WireError("produce: error %d base offset %d" % (err, base))
            self.base_offset = base
            # max bytes = this batch's size: the answer need not carry the other
            # connections' batches behind it (parsing those made the test O(n^2))
            self.queue(kw.FETCH, 11, kw.fetch_body(11, TOPIC, [(self.partition, base)],
                                                    max_wait_ms=500, min_bytes=1,
                                                    max_bytes=self.batch_size,
                                                    partition_max_bytes=self.batch_size))
            return "fetch"
        if self.step == "fetch":
            d = kw.parse_fetch(r, 11).get(self.partition)
            if d is None or d["error"] != 0:
                raise kw.WireError("fetch: %s" % d)
            batches, _partial = kw.parse_batches(d["records"])
            mine = [b for b in batches if b["base_offset"] == self.base_offset]
            if not mine:
                raise kw.WireError("fetch at %d: no batch there (got %s)" % (
                    self.base_offset, [b["base_offset"] for b in batches][:5]))
            b = mine[0]
            want = [(self.base_offset + j, k, v) for j, (k, v) in enumerate(self.records)]
            if not b["crc_ok"] or b["records"] != want:
                raise kw.WireError("fetch: batch differs (crc ok %s)" % b["crc_ok"])
            return "done"
        raise kw.WireError("answer in step %s" % self.step)


def run_clients(port, checks):
    """Drive CONNECTIONS clients to the end; returns (clients, seconds, peak open)."""
    sel = selectors.DefaultSelector()
    clients = []
    t0 = time.monotonic()
    deadline = t0 + WORK_DEADLINE_S
    active = 0                       # neither failed nor done
    live = 0                         # not failed (done ones stay open)
    at_barrier = 0                   # live and waiting at the barrier
    peak_open = 0
    barrier_waiting = []
    barrier_released = False
    step_counts = collections.Counter()

    def fail(c, why):
        nonlocal active, live, at_barrier
        if c.error is None and c.step != "done":
            c.error = "%s: %s" % (c.step, why)
            active -= 1
            live -= 1
            if c.step == "barrier":
                at_barrier -= 1
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass

    def want(c):
        events = selectors.EVENT_READ
        if c.out or c.step == "connect":
            events |= selectors.EVENT_WRITE
        sel.modify(c.sock, events, c)

    def release_barrier():
        nonlocal barrier_released, at_barrier
        barrier_released = True
        at_barrier = 0
        for c in barrier_waiting:
            if c.error is None:
                c.step = "metadata"
                c.queue(kw.METADATA, 1, kw.metadata_body([TOPIC]))
                want(c)
        barrier_waiting.clear()

    next_index = 0
    for _ in range(10_000_000):      # bounded by the deadline below as well
        now = time.monotonic()
        if now > deadline:
            break
        # open connections in bursts, so the broker's accept loop keeps up
        for _ in range(CONNECT_BURST):
            if next_index >= CONNECTIONS:
                break
            try:
                c = Client(next_index, port)
            except OSError as e:
                c = None
                checks.note("connect() of connection %d failed: %s" % (next_index, e))
            next_index += 1
            if c is None:
                continue
            clients.append(c)
            active += 1
            live += 1
            sel.register(c.sock, selectors.EVENT_WRITE, c)
        peak_open = max(peak_open, live)
        if next_index >= CONNECTIONS and active == 0:
            break
        if (not barrier_released and next_index >= CONNECTIONS and at_barrier > 0
                and at_barrier == live):
            release_barrier()
        for key, events in sel.select(timeout=0.05):
            c = key.data
            try:
                if c.step == "connect":
                    rc = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if rc != 0:
                        raise OSError(rc, os.strerror(rc))
                    c.start()
                if events & selectors.EVENT_WRITE and c.out:
                    n = c.sock.send(c.out)
                    del c.out[:n]
                if events & selectors.EVENT_READ:
                    chunk = c.sock.recv(65536)
                    if not chunk:
                        raise ConnectionResetError("broker closed the connection")
                    c.inbuf += chunk
                    r = c.take_answer()
                    if r is not None:
                        step_counts[c.step] += 1
                        c.step = c.on_answer(r)
                        if c.step == "barrier":
                            barrier_waiting.append(c)
                            at_barrier += 1
                            if barrier_released:
                                release_barrier()
                        elif c.step == "done":
                            active -= 1
                if c.error is None and c.step != "done":
                    want(c)
                elif c.step == "done":
                    sel.modify(c.sock, selectors.EVENT_READ, c)  # still open, idle
            except (OSError, kw.WireError) as e:
                fail(c, "%s: %s" % (type(e).__name__, e))
    seconds = time.monotonic() - t0
    for c in clients:
        if c.error is None and c.step != "done":
            c.error = "%s: not finished within %d s" % (c.step, WORK_DEADLINE_S)
    sel.close()
    # Before closing anything: finished connections the broker has not closed (a socket the
    # peer closed, or one with unsolicited bytes, polls readable).
    probe = selectors.DefaultSelector()
    done = [c for c in clients if c.step == "done" and c.error is None]
    for c in done:
        probe.register(c.sock, selectors.EVENT_READ, c)
    readable = probe.select(timeout=0.2)
    probe.close()
    still_open = len(done) - len(readable)
    return clients, seconds, peak_open, still_open, step_counts


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print("load-test: ok   %s" % name)
        else:
            self.failed += 1
            print("load-test: FAIL %s%s" % (name, (": " + detail) if detail else ""))
        sys.stdout.flush()
        return ok

    def note(self, text):
        print("load-test: note %s" % text)


def fresh_client(port, acked_records):
    """A new client after the load: ApiVersions, Metadata, ListOffsets. Returns a problem
    text or None."""
    conn = kw.Connection(port, timeout=10.0)
    try:
        err, apis = kw.parse_api_versions(conn.call(kw.API_VERSIONS, 0, kw.api_versions_body()), 0)
        if err != 0 or kw.PRODUCE not in apis:
            return "ApiVersions error %d, apis %s" % (err, sorted(apis))
        md = kw.parse_metadata_v1(conn.call(kw.METADATA, 1, kw.metadata_body([TOPIC])))
        if md["topics"].get(TOPIC, (-1,))[0] != 0:
            return "Metadata: %s" % md["topics"]
        ends = kw.parse_list_offsets_v1(conn.call(
            kw.LIST_OFFSETS, 1, kw.list_offsets_body(TOPIC, list(range(PARTITIONS)), -1)))
        total = sum(off for err, off in ends.values() if err == 0)
        if len(ends) != PARTITIONS or total != acked_records:
            return "log end offsets %s add up to %d, acked %d" % (ends, total, acked_records)
        return None
    finally:
        conn.close()


def main():
    checks = Checks()
    soft = raise_nofile()
    print("load-test: connections=%d, RLIMIT_NOFILE raised to %d (test and broker), broker "
          "started with --override max.connections=%d (its default, 1000, would leave no "
          "headroom above the test's 1,000)" % (CONNECTIONS, soft, MAX_CONNECTIONS))
    checks.check(soft >= CONNECTIONS + FD_HEADROOM, "open-file limit of the test >= %d" % (
        CONNECTIONS + FD_HEADROOM), "%d" % soft)
    broker = LoadBroker()
    ok = failed = 0
    seconds = 0.0
    try:
        broker.start()
        limit = broker.nofile_limit()
        checks.check(limit is not None and limit >= CONNECTIONS + FD_HEADROOM,
                     "open-file limit of the broker >= %d" % (CONNECTIONS + FD_HEADROOM),
                     "%s" % limit)
        conn = kw.Connection(broker.port)
        try:
            err = kw.create_topic(conn, TOPIC, PARTITIONS)
            ready = err in (0, kw.ERR_TOPIC_ALREADY_EXISTS) and kw.wait_topic_ready(
                conn, TOPIC, PARTITIONS)
        finally:
            conn.close()
        checks.check(ready, "topic %s with %d partitions created" % (TOPIC, PARTITIONS),
                     "CreateTopics error %d" % err)

        clients, seconds, peak, still_open, steps = run_clients(broker.port, checks)
        ok = sum(1 for c in clients if c.step == "done" and c.error is None)
        failed = CONNECTIONS - ok
        reasons = collections.Counter(c.error.split(":")[0] + ": " + c.error.split(": ", 1)[-1][:80]
                                      for c in clients if c.error)
        checks.check(len(clients) == CONNECTIONS, "%d connections opened" % CONNECTIONS,
                     "%d" % len(clients))
        checks.check(peak == CONNECTIONS, "all %d open at the same time" % CONNECTIONS,
                     "peak %d" % peak)
        checks.check(steps["api_versions"] == CONNECTIONS,
                     "every connection answered ApiVersions (then a barrier)",
                     "%d" % steps["api_versions"])
        checks.check(failed == 0, "every connection: Metadata, Produce acks=1, Fetch of its "
                     "own batch", "; ".join("%dx %s" % (n, r) for r, n in reasons.most_common(5)))
        checks.check(still_open == ok, "finished connections still open (not closed by the "
                     "broker) at the end",
                     "%d of %d" % (still_open, ok))
        checks.check(broker.process.poll() is None, "broker still running after the load")
        for c in clients:
            c.sock.close()
        time.sleep(0.2)
        problem = fresh_client(broker.port, ok * RECORDS)
        checks.check(problem is None, "a fresh client is answered afterwards; log end "
                     "offsets add up to the %d acked records" % (ok * RECORDS), problem or "")
        log = broker.log_text()
        checks.check("closing new connection" not in log,
                     "no connection refused by max.connections")
        try:
            broker.stop(signal.SIGTERM)
            stopped, detail = True, ""
        except BrokerError as e:
            stopped, detail = False, str(e)
        checks.check(stopped, "graceful stop (SIGTERM) after the load", detail)
    except Exception as e:  # noqa: BLE001 — any surprise still ends in the summary lines
        traceback.print_exc(file=sys.stdout)
        checks.check(False, "test ran to the end", "%s: %s" % (type(e).__name__, e))
    finally:
        if checks.failed:
            print(broker.log_tail(30))
        broker.close()
    print("load-test: connections=%d ok=%d failed=%d seconds=%.1f"
          % (CONNECTIONS, ok, failed, seconds))
    print("load-test: %d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
