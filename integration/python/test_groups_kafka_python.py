"""Consumer groups with kafka-python 2.0.2 against a real Klamm broker process.

Run alone:  KLAMM_BROKER=build/klamm /usr/bin/python3 integration/python/test_groups_kafka_python.py
One test:   ... test_groups_kafka_python.py MembershipTest.test_killed_member_is_evicted_after_session_timeout

What is covered: the group protocol as a real client drives it (FindCoordinator, JoinGroup,
SyncGroup, Heartbeat, LeaveGroup), committed offsets (OffsetCommit / OffsetFetch) surviving
a broker restart, and the admin calls (ListGroups, DescribeGroups, OffsetFetch for all
partitions, DeleteGroups).

Group members run in subprocesses of this file (`--member`, see run_member below), so that
a test can kill one with SIGKILL, the way a crashed client disappears, and because a
kafka-python consumer only rejoins a group from inside its own poll() loop. Each member
prints every rebalance (partitions revoked, partitions assigned) as a JSON line.

Session timeouts are the broker's minimum (6 s) and heartbeats go every second, so a
rebalance after a crash takes seconds, not minutes. Every wait is bounded.

The last line printed is `kafka-python groups: N passed, N failed` (integration/run.sh adds it up).
"""

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import unittest

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import GroupIdNotFoundError, NonEmptyGroupError, NoError
from kafka.structs import OffsetAndMetadata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import klamm_broker  # noqa: E402
from klamm_broker import start_broker  # noqa: E402

THIS_FILE = os.path.abspath(__file__)
PARTITIONS = 3
ALL_PARTITIONS = frozenset(range(PARTITIONS))

SESSION_TIMEOUT_MS = 6000   # the broker's group.min.session.timeout.ms
HEARTBEAT_MS = 1000
REBALANCE_TIMEOUT_MS = 10000  # kafka-python sends max.poll.interval.ms as the rebalance timeout

ASSIGNMENT_TIMEOUT_S = 30   # two members joining and syncing, at most
MEMBER_EXIT_TIMEOUT_S = 15  # a member closing (LeaveGroup) and exiting
CONSUME_TIMEOUT_S = 30      # reading a known number of records
QUIET_PERIOD_S = 2          # after the expected records: nothing else may arrive

# Settings every group consumer in this file uses.
GROUP_CONSUMER_CONFIG = dict(
    session_timeout_ms=SESSION_TIMEOUT_MS,
    heartbeat_interval_ms=HEARTBEAT_MS,
    max_poll_interval_ms=REBALANCE_TIMEOUT_MS,
    request_timeout_ms=SESSION_TIMEOUT_MS + 5000,  # kafka-python wants it above the session timeout
    auto_offset_reset="earliest",
    enable_auto_commit=False,
)


# ---- a group member in a subprocess --------------------------------------------------------

def run_member(bootstrap, group, topic, client_id):
    """Body of `test_groups_kafka_python.py --member ...`: join the group and print
    {"assigned": [...]} after every rebalance (even when the partitions stay the same) and
    {"revoked": [...]} before each rejoin. A line "close" on stdin (or stdin reaching its
    end) makes it close the consumer, which sends LeaveGroup."""

    class PrintRebalances(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            print(json.dumps({"revoked": sorted(tp.partition for tp in revoked)}), flush=True)

        def on_partitions_assigned(self, assigned):
            print(json.dumps({"assigned": sorted(tp.partition for tp in assigned)}), flush=True)

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, client_id=client_id,
                             **GROUP_CONSUMER_CONFIG)
    consumer.subscribe([topic], listener=PrintRebalances())
    while True:
        consumer.poll(timeout_ms=100)
        readable, _, _ = select.select([sys.stdin], [], [], 0)
        if readable:
            line = sys.stdin.readline()
            if line == "" or line.strip() == "close":
                consumer.close()  # LeaveGroup
                print(json.dumps({"closed": True}), flush=True)
                return 0


class Member:
    """The test's handle on one member subprocess."""

    def __init__(self, broker, group, topic, client_id):
        self.client_id = client_id
        self.assigned = None  # what it owns now: a frozenset of partitions (empty while rejoining)
        self.rebalances = 0   # how many assignments it has received
        self.lines = queue.Queue()
        self.stderr_path = os.path.join(broker.work_dir, "%s.stderr" % client_id)
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-u", THIS_FILE, "--member", broker.bootstrap, group, topic, client_id],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for line in self.process.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)  # the process ended

    def update(self, timeout):
        """Take what the member printed (waiting at most timeout s for the first line)."""
        try:
            event = self.lines.get(timeout=timeout)
            while True:
                if event is None:
                    raise AssertionError("member %s exited unexpectedly:\n%s"
                                         % (self.client_id, self.stderr_text()))
                if "assigned" in event:
                    self.assigned = frozenset(event["assigned"])
                    self.rebalances += 1
                elif "revoked" in event:
                    self.assigned = frozenset()
                event = self.lines.get_nowait()
        except queue.Empty:
            pass

    def close(self):
        """Close the consumer (it sends LeaveGroup) and wait for the process to exit."""
        self.process.stdin.write(b"close\n")
        self.process.stdin.flush()
        self.process.wait(timeout=MEMBER_EXIT_TIMEOUT_S)
        if self.process.returncode != 0:
            raise AssertionError("member %s exited with status %s:\n%s"
                                 % (self.client_id, self.process.returncode, self.stderr_text()))

    def kill(self):
        """SIGKILL: the member vanishes without a LeaveGroup, like a crashed client."""
        self.process.kill()
        self.process.wait(timeout=MEMBER_EXIT_TIMEOUT_S)

    def cleanup(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=MEMBER_EXIT_TIMEOUT_S)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def stderr_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]


def wait_until(members, condition, timeout_s, what):
    """Update every member until condition() holds; fail after timeout_s seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        for m in members:
            m.update(timeout=0.05)
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError("not within %d s: %s; assignments: %s" % (
                timeout_s, what, {m.client_id: sorted(m.assigned or []) for m in members}))


def split_disjointly(a, b):
    """Both members own partitions, none twice, and together all of them."""
    return (bool(a.assigned) and bool(b.assigned) and not (a.assigned & b.assigned)
            and a.assigned | b.assigned == ALL_PARTITIONS)


# ---- producing and consuming known records -------------------------------------------------

def create_topic(bootstrap, name, partitions=PARTITIONS):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                            timeout_ms=10000)
    finally:
        admin.close()


def produce(bootstrap, topic, values_by_partition):
    """Send {partition: [value, ...]} with acks=all; return {partition: [acked offset, ...]}."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=15000,
                             max_block_ms=15000)
    try:
        futures = {p: [producer.send(topic, value=v, partition=p) for v in values]
                   for p, values in values_by_partition.items()}
        producer.flush(timeout=30)
        return {p: [f.get(timeout=30).offset for f in fs] for p, fs in futures.items()}
    finally:
        producer.close(timeout=10)


def numbered_values(tag, per_partition):
    return {p: [b"%s-p%d-%02d" % (tag, p, i) for i in range(per_partition)] for p in range(PARTITIONS)}


def group_consumer(bootstrap, group, topic, client_id="it-group-consumer"):
    return KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, client_id=client_id,
                         **GROUP_CONSUMER_CONFIG)


def consume(consumer, count):
    """Poll until count records arrived, then QUIET_PERIOD_S longer to catch any extra ones.
    Returns {partition: [(offset, value), ...]}."""
    received = {p: [] for p in range(PARTITIONS)}
    total = 0
    deadline = time.monotonic() + CONSUME_TIMEOUT_S
    quiet_until = None
    while time.monotonic() < deadline and (quiet_until is None or time.monotonic() < quiet_until):
        for tp, records in consumer.poll(timeout_ms=200).items():
            for r in records:
                received[tp.partition].append((r.offset, r.value))
                total += 1
        if total >= count and quiet_until is None:
            quiet_until = time.monotonic() + QUIET_PERIOD_S
    return received


# ---- the tests -------------------------------------------------------------------------------

class GroupTestCase(unittest.TestCase):
    broker = None  # the broker this test talks to; its log is shown if the test fails

    def start_member(self, group, topic, client_id):
        member = Member(self.broker, group, topic, client_id)
        self.addCleanup(member.cleanup)
        return member

    def admin(self):
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, client_id="it-admin",
                                 request_timeout_ms=15000)
        self.addCleanup(admin.close)
        return admin

    def two_members(self, name):
        """Topic `name` with 3 partitions and two members of group `name`, each owning some
        of them (waits for that)."""
        create_topic(self.broker.bootstrap, name)
        a = self.start_member(name, name, "member-a")
        b = self.start_member(name, name, "member-b")
        wait_until([a, b], lambda: split_disjointly(a, b), ASSIGNMENT_TIMEOUT_S,
                   "both members own partitions, disjointly, all 3 together")
        return a, b


class MembershipTest(GroupTestCase):
    """One broker; every test has a topic and a group of its own."""

    @classmethod
    def setUpClass(cls):
        cls.broker = start_broker()
        cls.addClassCleanup(cls.broker.close)

    def test_two_members_split_the_partitions_disjointly(self):
        # Kafka's core group guarantee: every partition of a subscribed topic goes to
        # exactly one member of the group, and with two members on 3 partitions both get work.
        a, b = self.two_members("split")
        self.assertEqual(a.assigned | b.assigned, ALL_PARTITIONS)
        self.assertFalse(a.assigned & b.assigned)

    def test_member_that_leaves_hands_its_partitions_to_the_other(self):
        # close() sends LeaveGroup, so the coordinator rebalances at once: the survivor owns
        # all 3 partitions well before the leaver's session timeout could have expired.
        a, b = self.two_members("leave")
        a.close()
        started = time.monotonic()
        wait_until([b], lambda: b.assigned == ALL_PARTITIONS, ASSIGNMENT_TIMEOUT_S,
                   "member-b owns all partitions after member-a left")
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, SESSION_TIMEOUT_MS / 1000,
                        "rebalance after LeaveGroup took %.1f s, as long as a session timeout" % elapsed)

    def test_killed_member_is_evicted_after_session_timeout(self):
        # A member that dies without LeaveGroup stops heartbeating; once its session
        # timeout expires the coordinator removes it and rebalances, and the survivor
        # takes over its partitions.
        a, b = self.two_members("killed")
        a.kill()
        started = time.monotonic()
        bound = SESSION_TIMEOUT_MS / 1000 + REBALANCE_TIMEOUT_MS / 1000
        wait_until([b], lambda: b.assigned == ALL_PARTITIONS, bound,
                   "member-b owns all partitions within the session timeout (+ rebalance) "
                   "after member-a was killed")
        print("(killed member evicted; survivor owned all partitions after %.1f s) "
              % (time.monotonic() - started), end="", file=sys.stderr, flush=True)

    def test_admin_lists_and_describes_a_stable_group(self):
        # ListGroups names every group the coordinator knows with its protocol type;
        # DescribeGroups of a group whose rebalance is done reports state Stable, the
        # assignor, and each member with its client id and the partitions it was given.
        a, b = self.two_members("described")
        admin = self.admin()
        self.assertIn(("described", "consumer"), admin.list_consumer_groups())

        [group] = admin.describe_consumer_groups(["described"])
        self.assertEqual(group.error_code, 0)
        self.assertEqual(group.group, "described")
        self.assertEqual(group.state, "Stable")
        self.assertEqual(group.protocol_type, "consumer")
        self.assertIn(group.protocol, ("range", "roundrobin"))  # kafka-python's assignors
        self.assertEqual(sorted(m.client_id for m in group.members), ["member-a", "member-b"])
        self.assertEqual(len({m.member_id for m in group.members}), 2, "distinct member ids")
        owned = {}
        for m in group.members:
            for topic, partitions in m.member_assignment.assignment:
                self.assertEqual(topic, "described")
                owned[m.client_id] = frozenset(partitions)
        self.assertEqual(owned, {"member-a": a.assigned, "member-b": b.assigned},
                         "DescribeGroups shows the assignments the members received")

    def test_admin_deletes_an_empty_group_but_not_a_live_one(self):
        # DeleteGroups removes a group that has no members, together with its committed
        # offsets; a group with live members is refused with GROUP_NOT_EMPTY.
        create_topic(self.broker.bootstrap, "deleted")
        produce(self.broker.bootstrap, "deleted", numbered_values(b"d", 2))
        consumer = group_consumer(self.broker.bootstrap, "deleted", "deleted")
        try:
            consume(consumer, 6)
            consumer.commit()
        finally:
            consumer.close()  # LeaveGroup: the group is now empty, with offsets
        admin = self.admin()
        self.assertIn(("deleted", "consumer"), admin.list_consumer_groups())
        self.assertEqual(admin.delete_consumer_groups(["deleted"]), [("deleted", NoError)])
        self.assertNotIn("deleted", [g for g, _ in admin.list_consumer_groups()])
        self.assertEqual(admin.list_consumer_group_offsets("deleted"), {},
                         "a deleted group has no committed offsets")

        live = self.start_member("deleted-live", "deleted", "member-live")
        wait_until([live], lambda: live.assigned == ALL_PARTITIONS, ASSIGNMENT_TIMEOUT_S,
                   "the only member owns every partition")
        [(group_id, error)] = admin.delete_consumer_groups(["deleted-live"])
        self.assertEqual((group_id, error), ("deleted-live", NonEmptyGroupError))
        self.assertIn("deleted-live", [g for g, _ in admin.list_consumer_groups()])


class BrokerRestartTest(GroupTestCase):
    """Each test has a broker of its own, which it restarts."""

    def setUp(self):
        self.broker = start_broker()
        self.addCleanup(self.broker.close)  # runs last: members are cleaned up before it

    def test_members_rejoin_after_broker_restart(self):
        # Group membership lives in the coordinator's memory only: after a restart it does
        # not know the members, answers their heartbeats with UNKNOWN_MEMBER_ID, and they
        # join again as new members and split the partitions again.
        a, b = self.two_members("rejoin")
        rebalances_before = (a.rebalances, b.rebalances)
        self.broker.restart(signal.SIGTERM)
        wait_until([a, b], lambda: (a.rebalances > rebalances_before[0] and b.rebalances > rebalances_before[1]
                                    and split_disjointly(a, b)),
                   ASSIGNMENT_TIMEOUT_S, "both members were assigned partitions again after the restart")

    def check_resumes_after_restart(self, sig):
        bootstrap = self.broker.bootstrap
        tps = [TopicPartition("resume", p) for p in range(PARTITIONS)]
        create_topic(bootstrap, "resume")
        first = numbered_values(b"first", 10)
        self.assertEqual(produce(bootstrap, "resume", first), {p: list(range(10)) for p in range(PARTITIONS)})

        consumer = group_consumer(bootstrap, "resumers", "resume")
        try:
            got = consume(consumer, 30)
            self.assertEqual(got, {p: list(enumerate(first[p])) for p in range(PARTITIONS)})
            # Two commits: an explicit, earlier one, then the consumer's positions. The
            # later commit is the one that counts.
            consumer.commit({tp: OffsetAndMetadata(4, "early") for tp in tps})
            consumer.commit()
            self.assertEqual({tp.partition: consumer.committed(tp) for tp in tps}, {0: 10, 1: 10, 2: 10})
        finally:
            consumer.close()

        self.broker.restart(sig)

        # The admin client reads the committed offsets back (OffsetFetch, all partitions).
        committed = self.admin().list_consumer_group_offsets("resumers")
        self.assertEqual({tp: o.offset for tp, o in committed.items()}, {tp: 10 for tp in tps})

        second = numbered_values(b"second", 5)
        self.assertEqual(produce(bootstrap, "resume", second),
                         {p: list(range(10, 15)) for p in range(PARTITIONS)})
        consumer = group_consumer(bootstrap, "resumers", "resume", client_id="it-resumer")
        try:
            got = consume(consumer, 15)
        finally:
            consumer.close()
        # auto_offset_reset is earliest: had the commit been lost, the first ten records
        # would come again. Exactly the records after the commit arrive, each once.
        self.assertEqual(got, {p: [(10 + i, v) for i, v in enumerate(second[p])] for p in range(PARTITIONS)})

    def test_new_consumer_resumes_after_commit_across_graceful_restart_sigterm(self):
        # Offsets committed with OffsetCommit are durable: after a clean restart a new
        # member of the group starts right after the last committed offset.
        self.check_resumes_after_restart(signal.SIGTERM)

    def test_new_consumer_resumes_after_commit_across_crash_restart_sigkill(self):
        # The same when the broker is killed: an acknowledged commit must survive a crash.
        self.check_resumes_after_restart(signal.SIGKILL)

    def test_deleted_group_stays_deleted_after_crash_restart(self):
        # A consumer that assign()s its partitions never joins, yet may still store offsets
        # in an empty group (Kafka's "standalone" consumer), metadata string included.
        # DeleteGroups of one such group is durable: after a crash it is still gone, while
        # the other group and its offsets are untouched. Unknown groups: GROUP_ID_NOT_FOUND.
        bootstrap = self.broker.bootstrap
        create_topic(bootstrap, "standalone")
        tps = [TopicPartition("standalone", p) for p in range(PARTITIONS)]
        for group in ("kept", "doomed"):
            consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                     request_timeout_ms=15000)
            try:
                consumer.assign(tps)
                consumer.commit({tp: OffsetAndMetadata(3 + tp.partition, "%s-%d" % (group, tp.partition))
                                 for tp in tps})
            finally:
                consumer.close()
        admin = self.admin()
        [kept] = admin.describe_consumer_groups(["kept"])
        self.assertEqual((kept.state, kept.members), ("Empty", []), "offsets only, no members")
        self.assertEqual(admin.delete_consumer_groups(["doomed", "never-existed"]),
                         [("doomed", NoError), ("never-existed", GroupIdNotFoundError)])

        self.broker.restart(signal.SIGKILL)

        admin = self.admin()
        groups = [g for g, _ in admin.list_consumer_groups()]
        self.assertIn("kept", groups)
        self.assertNotIn("doomed", groups)
        self.assertEqual(admin.list_consumer_group_offsets("doomed"), {})
        self.assertEqual(admin.list_consumer_group_offsets("kept"),
                         {tp: OffsetAndMetadata(3 + tp.partition, "kept-%d" % tp.partition) for tp in tps})


# ---- runner: prints the broker log of failed tests and a countable summary ----------------

class ResultWithBrokerLogs(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.failed_brokers = []

    def _remember(self, test):
        broker = getattr(test, "broker", None)
        # A failed setUpClass is reported without its test case: show every broker's log.
        for b in [broker] if broker is not None else klamm_broker.all_brokers:
            if b not in self.failed_brokers:
                self.failed_brokers.append(b)

    def addError(self, test, err):
        super().addError(test, err)
        self._remember(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._remember(test)


def main():
    if sys.argv[1:2] == ["--member"]:
        return run_member(*sys.argv[2:6])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so atexit stops the brokers
    module = sys.modules[__name__]
    names = sys.argv[1:]
    loader = unittest.defaultTestLoader
    suite = loader.loadTestsFromNames(names, module) if names else loader.loadTestsFromModule(module)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=ResultWithBrokerLogs)
    result = runner.run(suite)
    for broker in result.failed_brokers:
        print(broker.log_tail(), file=sys.stderr)
    failed = len({t.id() for t, _ in result.failures + result.errors}) + len(result.unexpectedSuccesses)
    passed = result.testsRun - len(result.skipped) - failed
    print("kafka-python groups: %d passed, %d failed" % (max(passed, 0), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
