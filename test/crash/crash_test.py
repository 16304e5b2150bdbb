#!/usr/bin/env python3
"""Crash test: acknowledged records survive SIGKILL, exactly once, at their acked offsets.

Why: a broker that answers acks=all must have the batch in its log (at least in the page
cache, which survives the death of the process) before it answers, and recovery after a
crash must keep everything acked, drop only a torn tail, and keep offsets contiguous.

How: PRODUCERS threads, each a raw-protocol client (test/crash/kafka_wire.py) so that it knows
exactly which Produce request was acked and at which base offset, writes keyed records
(key = unique sequence number, value derived from it) with acks=-1 to a 3-partition topic,
up to WINDOW requests pipelined on its connection, and never retries: a request without an
answer is "in doubt" and its sequence numbers are never sent again. Meanwhile the main
thread kills the broker with SIGKILL after a random delay, restarts it on the same port and
log.dirs (in some rounds first killing that restart again within 30 ms, while it recovers
the log), checks (before the producers may reconnect) that the log end offsets cover
everything acked so far, and kills again,
ROUNDS times. After the final restart everything is read back (Fetch, no group) and checked:
every acked record at its acked offset exactly once, no record twice anywhere, every batch's
CRC-32C valid, offsets contiguous from 0 to the high watermark, values intact, per-partition
order kept; then a graceful stop must exit 0 and a restart must serve the very same log.

Environment: CRASH_SEED (replay a run), CRASH_ROUNDS (default 10, at least 5),
KLAMM_BROKER (binary, default build/klamm). Bounded: about 1-2 minutes, 170 s at most.
Output ends with `crash-test: rounds=R acked=A found=F lost=L duplicated=D` and
`crash-test: N passed, N failed`; the exit status is 1 on any loss, duplicate or failed check.
"""

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "integration", "python"))

import kafka_wire as kw  # noqa: E402
from klamm_broker import Broker, BrokerError  # noqa: E402

TOPIC = "crash-test"
PARTITIONS = 3
WINDOW = 4                  # produce requests in flight on the one connection
MAX_RECORDS_PER_BATCH = 5
TOTAL_DEADLINE_S = 170      # the whole test, whatever happens
RECONNECT_PAUSE_S = 0.02
FINAL_PRODUCE_S = 0.5       # producing after the final restart, before reading back
SEGMENT_BYTES = 65536       # small segments: crashes also hit rolls and index writes
PRODUCERS = 2               # connections producing at once, each with its own sequences
SEQ_SPACE = 1 << 40         # producer i's sequence numbers start at i * SEQ_SPACE
EARLY_KILL_SHARE = 0.3      # rounds that also kill a restart while it recovers the log

start_time = time.monotonic()


def time_left():
    return TOTAL_DEADLINE_S - (time.monotonic() - start_time)


def key_of(seq):
    return b"%d" % seq


def value_of(seq):
    """Derived from seq, 20..260 bytes, so a corrupted or misplaced value is noticed."""
    h = hashlib.sha256(key_of(seq)).hexdigest().encode()
    return b"v%d:" % seq + (h * 4)[: 16 + seq % 240]


class CrashBroker(Broker):
    def command(self):
        return super().command() + ["--override", "log.segment.bytes=%d" % SEGMENT_BYTES,
                                    "--override", "log.index.interval.bytes=1024"]

    def start_and_kill_early(self, delay):
        """Spawn the broker and SIGKILL it after delay seconds, ready or not: a crash
        during startup, i.e. during log recovery. Returns True if it was still running."""
        with open(self.log_path, "ab") as log:
            log.write(("----- early start, SIGKILL after %.3f s\n" % delay).encode())
            log.flush()
            proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log)
        time.sleep(delay)
        running = proc.poll() is None
        proc.kill()
        proc.wait(timeout=10)
        return running


class Ledger:
    """What every producer sent and what the broker answered, shared under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}              # seq -> (partition, offset)
        self.acked_at = {}           # (partition, offset) -> seq, to catch overlapping acks
        self.sent_partition = {}     # seq -> partition, for every seq ever sent
        self.in_doubt = set()        # seqs sent without an answer (connection died)
        self.rejected = {}           # seq -> error code (answered with an error)
        self.broker_up = threading.Event()  # producers (re)connect only while it is set
        self.problems = []           # broken promises seen while producing
        self.wire_errors = []
        self.requests = self.answers = self.connections = 0

    def snapshot(self):
        """-> ({partition: highest acked offset}, number of acked records)"""
        with self.lock:
            last = {p: -1 for p in range(PARTITIONS)}
            for p, off in self.acked_at:
                last[p] = max(last[p], off)
            return last, len(self.acked)


def producer_of(seq):
    return seq // SEQ_SPACE


class Producer(threading.Thread):
    """Produces until stopped; survives the broker dying under it by reconnecting.
    Producer i uses the sequence numbers i*SEQ_SPACE, i*SEQ_SPACE+1, ..."""

    def __init__(self, index, port, seed, ledger):
        super().__init__(daemon=True)
        self.port = port
        self.rng = random.Random(seed)
        self.ledger = ledger
        self.stop_event = threading.Event()
        self.first_seq = self.next_seq = index * SEQ_SPACE

    def run(self):
        led = self.ledger
        while not self.stop_event.is_set() and time_left() > 5:
            if not led.broker_up.wait(timeout=0.5):
                continue
            try:
                conn = kw.Connection(self.port, timeout=5.0)
            except OSError:
                time.sleep(RECONNECT_PAUSE_S)
                continue
            with led.lock:
                led.connections += 1
            pending = []             # [(partition, [seqs])] in request order
            try:
                self._produce_on(conn, pending)
            except kw.WireError as e:
                with led.lock:
                    led.wire_errors.append(str(e))
            except OSError:
                pass                 # the broker died: expected
            finally:
                conn.close()
                with led.lock:
                    for _p, seqs in pending:
                        led.in_doubt.update(seqs)

    def _produce_on(self, conn, pending):
        led = self.ledger
        while not self.stop_event.is_set() and time_left() > 5:
            while len(pending) < WINDOW:
                p = self.rng.randrange(PARTITIONS)
                n = self.rng.randint(1, MAX_RECORDS_PER_BATCH)
                seqs = list(range(self.next_seq, self.next_seq + n))
                self.next_seq += n
                with led.lock:
                    for s in seqs:
                        led.sent_partition[s] = p
                    led.requests += 1
                pending.append((p, seqs))  # before sending: a failed send is in doubt too
                batch = kw.record_batch([(key_of(s), value_of(s)) for s in seqs])
                conn.send(kw.PRODUCE, 7, kw.produce_body(TOPIC, [(p, batch)], acks=-1))
            _cid, _api, version, r = conn.recv()
            result = kw.parse_produce(r, version)
            p, seqs = pending[0]
            err, base = result.get(p, (-1, -1))
            with led.lock:
                pending.pop(0)
                led.answers += 1
                if err != 0:
                    for s in seqs:
                        led.rejected[s] = err
                    continue
                for i, s in enumerate(seqs):
                    other = led.acked_at.get((p, base + i))
                    if other is not None:
                        led.problems.append("partition %d offset %d acked for seq %d and "
                                            "again for seq %d" % (p, base + i, other, s))
                    led.acked_at[(p, base + i)] = s
                    led.acked[s] = (p, base + i)


def read_all(port, hw_expect=None):
    """Fetch v4 every partition from offset 0 to its high watermark.
    -> ({partition: [batch]}, {partition: hw}, problems)"""
    conn = kw.Connection(port, timeout=10.0)
    out, hws, problems = {}, {}, []
    try:
        for p in range(PARTITIONS):
            batches, offset, hw = [], 0, None
            for _ in range(100000):          # bounded; each round trip advances or stops
                if time_left() < 2:
                    problems.append("partition %d: out of time while reading" % p)
                    break
                r = conn.call(kw.FETCH, 4, kw.fetch_body(4, TOPIC, [(p, offset)],
                                                         max_wait_ms=0, min_bytes=0,
                                                         partition_max_bytes=1 << 20))
                d = kw.parse_fetch(r, 4).get(p)
                if d is None or d["error"] != 0:
                    problems.append("partition %d: fetch at %d answered %s" % (p, offset, d))
                    break
                hw = d["high_watermark"]
                got, _partial = kw.parse_batches(d["records"])
                got = [b for b in got if b["last_offset"] >= offset]
                if not got:
                    if offset < hw:
                        problems.append("partition %d: no batch at %d below hw %d"
                                        % (p, offset, hw))
                    break
                batches.extend(got)
                offset = got[-1]["last_offset"] + 1
            out[p], hws[p] = batches, hw
    finally:
        conn.close()
    return out, hws, problems


def list_end_offsets(port):
    conn = kw.Connection(port, timeout=10.0)
    try:
        return kw.parse_list_offsets_v1(conn.call(
            kw.LIST_OFFSETS, 1, kw.list_offsets_body(TOPIC, list(range(PARTITIONS)), -1)))
    finally:
        conn.close()


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print("crash-test: ok   %s" % name)
        else:
            self.failed += 1
            print("crash-test: FAIL %s%s" % (name, (": " + detail) if detail else ""))
        sys.stdout.flush()
        return ok


def analyse(batches_by_p, hws, ledger, checks, label):
    """Check the log read back; returns (found, lost, duplicated, where) where
    where = {seq: [(partition, offset)]} for comparing two reads."""
    where = {}
    crc_bad, gaps, foreign, bad_value, wrong_partition, disorder = [], [], [], [], [], []
    for p in range(PARTITIONS):
        expect = 0
        prev_seq = {}                # producer -> its last sequence number in p
        for b in batches_by_p.get(p, []):
            if not b["crc_ok"]:
                crc_bad.append((p, b["base_offset"]))
            if b["base_offset"] != expect:
                gaps.append("p%d: batch at %d, expected %d" % (p, b["base_offset"], expect))
            offs = [o for o, _k, _v in b["records"]]
            if offs != list(range(b["base_offset"], b["last_offset"] + 1)):
                gaps.append("p%d: batch %d has record offsets %s" % (p, b["base_offset"], offs))
            expect = b["last_offset"] + 1
            for off, key, value in b["records"]:
                try:
                    seq = int(key)
                except (TypeError, ValueError):
                    foreign.append((p, off, key))
                    continue
                if seq not in ledger.sent_partition:
                    foreign.append((p, off, key))
                    continue
                if value != value_of(seq):
                    bad_value.append((p, off, seq))
                if ledger.sent_partition[seq] != p:
                    wrong_partition.append((p, off, seq))
                last = prev_seq.get(producer_of(seq), -1)
                if seq <= last:
                    disorder.append((p, off, seq, last))
                prev_seq[producer_of(seq)] = max(last, seq)
                where.setdefault(seq, []).append((p, off))
        if hws.get(p) is not None and expect != hws[p]:
            gaps.append("p%d: log ends at %d but high watermark is %d" % (p, expect, hws[p]))

    lost = [s for s, po in ledger.acked.items() if po not in where.get(s, [])]
    duplicated = [s for s, locs in where.items() if len(locs) > 1]
    found = len(ledger.acked) - len(lost)
    checks.check(not crc_bad, "%s: every batch's CRC-32C is valid" % label, str(crc_bad[:5]))
    checks.check(not gaps, "%s: offsets contiguous from 0 to the high watermark" % label,
                 "; ".join(gaps[:5]))
    checks.check(not foreign and not bad_value and not wrong_partition,
                 "%s: every record was sent, intact, to that partition" % label,
                 "foreign %s bad value %s wrong partition %s"
                 % (foreign[:3], bad_value[:3], wrong_partition[:3]))
    checks.check(not disorder, "%s: per-partition order of each producer kept" % label,
                 str(disorder[:5]))
    checks.check(not lost, "%s: every acked record at its acked offset" % label,
                 "; ".join("seq %d acked at %s found at %s" % (s, ledger.acked[s],
                                                               where.get(s, []))
                           for s in sorted(lost)[:5]))
    checks.check(not duplicated, "%s: no record twice" % label,
                 "; ".join("seq %d at %s" % (s, where[s]) for s in sorted(duplicated)[:5]))
    return found, len(lost), len(duplicated), where


def main():
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1 << 31))
    rounds = max(5, int(os.environ.get("CRASH_ROUNDS") or 10))
    rng = random.Random(seed)
    print("crash-test: seed=%d rounds=%d (replay with CRASH_SEED=%d; timing still varies)"
          % (seed, rounds, seed))
    checks = Checks()
    broker = CrashBroker()
    ledger = Ledger()
    producers = []
    done_rounds = 0
    try:
        broker.start()
        conn = kw.Connection(broker.port)
        try:
            err = kw.create_topic(conn, TOPIC, PARTITIONS)
            ready = err in (0, kw.ERR_TOPIC_ALREADY_EXISTS) and kw.wait_topic_ready(
                conn, TOPIC, PARTITIONS)
        finally:
            conn.close()
        if not checks.check(ready, "topic %s with %d partitions created" % (TOPIC, PARTITIONS),
                            "CreateTopics error %d" % err):
            return finish(checks, 0, ledger, 0, 0, 0, broker)

        producers = [Producer(i, broker.port, rng.randrange(1 << 31), ledger)
                     for i in range(PRODUCERS)]
        ledger.broker_up.set()
        for pr in producers:
            pr.start()
        leo_problems = []
        for rnd in range(1, rounds + 1):
            if time_left() < 40:
                print("crash-test: stopping after %d rounds: time budget" % done_rounds)
                break
            # Mostly mid-traffic; sometimes right after the start, while the producer
            # reconnects and the broker has just recovered.
            delay = rng.uniform(0.0, 0.1) if rng.random() < 0.25 else rng.uniform(0.1, 1.5)
            time.sleep(delay)
            ledger.broker_up.clear()            # no reconnect until the check below
            broker.stop(signal.SIGKILL)
            time.sleep(0.05)                    # answers read just before the kill land
            acked_end, nacked = ledger.snapshot()
            early = ""
            if rng.random() < EARLY_KILL_SHARE:
                d = rng.uniform(0.0, 0.03)
                early = " + killed again %.3f s into a restart (%s)" % (
                    d, "running" if broker.start_and_kill_early(d) else "had exited")
            broker.start()
            leo = list_end_offsets(broker.port)
            ledger.broker_up.set()
            short = {p: (leo.get(p), acked_end[p]) for p in range(PARTITIONS)
                     if leo.get(p, (-1, -1))[0] != 0 or leo[p][1] <= acked_end[p]}
            if short:
                leo_problems.append("round %d: partition -> (ListOffsets answer, last acked "
                                    "offset) %s" % (rnd, short))
            done_rounds += 1
            print("crash-test: round %d: killed after %.3f s%s, %d records acked so far, "
                  "log end offsets %s" % (rnd, delay, early, nacked,
                                          [leo.get(p, (None, None))[1]
                                           for p in range(PARTITIONS)]))
            sys.stdout.flush()
        time.sleep(FINAL_PRODUCE_S)
        for pr in producers:
            pr.stop_event.set()
        for pr in producers:
            pr.join(timeout=15)
        checks.check(not any(pr.is_alive() for pr in producers), "producers stopped")
        checks.check(done_rounds >= 5, "at least 5 kill/restart rounds", "%d" % done_rounds)
        checks.check(not leo_problems, "after every restart the log end covers all acks",
                     "; ".join(leo_problems[:3]))
        checks.check(not ledger.problems, "acked offsets never overlap",
                     "; ".join(ledger.problems[:3]))
        checks.check(not ledger.wire_errors, "every answer well-formed",
                     "; ".join(ledger.wire_errors[:3]))
        checks.check(len(ledger.acked) >= 100, "enough traffic (at least 100 acked records)",
                     "%d" % len(ledger.acked))

        batches, hws, problems = read_all(broker.port)
        checks.check(not problems, "final read complete", "; ".join(problems[:3]))
        found, lost, dup, where = analyse(batches, hws, ledger, checks, "after crashes")
        in_doubt_found = sum(1 for s in ledger.in_doubt if s in where)
        rejected_found = [s for s in ledger.rejected if s in where]
        checks.check(not rejected_found, "records answered with an error are not in the log",
                     "%d of %d, errors %s" % (len(rejected_found), len(ledger.rejected),
                                              sorted(set(ledger.rejected.values()))))
        print("crash-test: %.1f s; produced %d requests, %d answered, %d connections; %d "
              "records sent, %d in doubt (%d of them in the log), %d rejected"
              % (time.monotonic() - start_time, ledger.requests, ledger.answers, ledger.connections,
                 sum(pr.next_seq - pr.first_seq for pr in producers), len(ledger.in_doubt), in_doubt_found,
                 len(ledger.rejected)))

        # A graceful stop after crash recovery, then the same log again.
        try:
            broker.stop(signal.SIGTERM)
            graceful = True
            detail = ""
        except BrokerError as e:
            graceful, detail = False, str(e)
        checks.check(graceful, "graceful stop (SIGTERM) after crash recovery", detail)
        broker.start()
        batches2, hws2, problems2 = read_all(broker.port)
        same = (not problems2 and hws2 == hws and
                {p: [(b["base_offset"], b["records"]) for b in bs] for p, bs in batches.items()}
                == {p: [(b["base_offset"], b["records"]) for b in bs]
                    for p, bs in batches2.items()})
        checks.check(same, "after a graceful restart the log reads the same",
                     "hw %s vs %s %s" % (hws, hws2, problems2[:2]))
        return finish(checks, done_rounds, ledger, found, lost, dup, broker)
    except Exception as e:  # noqa: BLE001 — any surprise still ends in the summary lines
        traceback.print_exc(file=sys.stdout)
        checks.check(False, "test ran to the end", "%s: %s" % (type(e).__name__, e))
        return finish(checks, done_rounds, ledger, 0, -1, -1, broker)
    finally:
        for pr in producers:
            pr.stop_event.set()
        broker.close()


def finish(checks, rounds, ledger, found, lost, dup, broker):
    acked = len(ledger.acked)
    if checks.failed:
        print(broker.log_tail(30))
    print("crash-test: rounds=%d acked=%d found=%d lost=%d duplicated=%d"
          % (rounds, acked, found, lost, dup))
    print("crash-test: %d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed or lost or dup else 0


if __name__ == "__main__":
    sys.exit(main())
