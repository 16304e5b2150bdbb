"""kafka-python 2.0.2 against a real Klamm broker process.

Run alone:  KLAMM_BROKER=build/klamm /usr/bin/python3 integration/python/test_kafka_python.py
(/usr/bin/python3 is Debian's, which has the `kafka` module from python3-kafka.)

Every test uses a topic of its own. The last line printed is
`kafka-python: N passed, N failed`, which integration/run.sh adds up.
"""

import collections
import os
import random
import signal
import sys
import time
import unittest

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import InvalidTopicError, TopicAlreadyExistsError, UnknownTopicOrPartitionError
from kafka.structs import OffsetAndMetadata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import klamm_broker  # noqa: E402
from klamm_broker import start_broker  # noqa: E402

MiB = 1024 * 1024
CONSUME_TIMEOUT_S = 60  # reading back one topic, at most
PREALLOCATE_STEP = 64 * MiB  # PLOG_PREALLOCATE_STEP: what log.preallocate reserves at a time
TOPIC_CONFIG, STATIC_BROKER_CONFIG = 1, 4  # DescribeConfigs' config_source ids

# A record as the test sends it; partition None lets the producer hash the key.
Record = collections.namedtuple("Record", "key value headers partition")


# ---- helpers ---------------------------------------------------------------------------

def create_topic(admin, name, partitions):
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                        timeout_ms=10000)


def topic_config(admin, topic, name):
    """(value, config_source) of one config of topic, from DescribeConfigs."""
    [response] = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, {name: None})])
    [(error_code, _message, _type, _name, entries)] = response.resources
    assert error_code == 0, "DescribeConfigs %s: error %d" % (topic, error_code)
    [entry] = [e for e in entries if e[0] == name]
    return entry[1], entry[3]


def allocated_bytes(broker, topic):
    """What the file system holds for partition 0's first segment (st_blocks: 512-byte units)
    and the segment's size."""
    st = os.stat(os.path.join(broker.log_dirs, "%s-0" % topic, "%020d.log" % 0))
    return st.st_blocks * 512, st.st_size


def delete_topic(admin, name):
    """DeleteTopics; returns [(topic, error_code)] (kafka-python raises on an error)."""
    response = admin.delete_topics([name], timeout_ms=10000)
    return [tuple(e[:2]) for e in response.topic_error_codes]


def commit_offset(bootstrap, group, topic, partition, offset):
    """A simple commit (no group membership) of one offset for `group`."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, client_id="it-committer",
                             request_timeout_ms=20000)
    try:
        tp = TopicPartition(topic, partition)
        consumer.commit({tp: OffsetAndMetadata(offset, None)})
        return consumer.committed(tp)
    finally:
        consumer.close()


def offsets_of(bootstrap, topic, partitions):
    """({partition: earliest}, {partition: latest}) by ListOffsets."""
    consumer = new_consumer(bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return ({tp.partition: o for tp, o in consumer.beginning_offsets(tps).items()},
                {tp.partition: o for tp, o in consumer.end_offsets(tps).items()})
    finally:
        consumer.close()


def keyed_records(count, partitions=3):
    """count records with unique keys and two headers each. Even ones name their
    partition, odd ones leave it to the producer's key hash."""
    records = []
    for i in range(count):
        records.append(Record(
            key=b"key-%04d" % i,
            value=b"value-%04d " % i + b"x" * (i % 50),
            headers=[("seq", b"%d" % i), ("source", b"kafka-python")],
            partition=(i % partitions) if i % 2 == 0 else None,
        ))
    return records


def produce(bootstrap, topic, records, **config):
    """Send records with acks=all; return the broker's RecordMetadata of each, in order."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", client_id="it-producer",
                             request_timeout_ms=15000, max_block_ms=15000, **config)
    try:
        futures = [producer.send(topic, key=r.key, value=r.value, headers=r.headers,
                                 partition=r.partition) for r in records]
        producer.flush(timeout=30)
        return [f.get(timeout=30) for f in futures]
    finally:
        producer.close(timeout=10)


def new_consumer(bootstrap, **config):
    """A consumer without a group: partitions are assign()ed, nothing is committed."""
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         client_id="it-consumer", request_timeout_ms=20000,
                         consumer_timeout_ms=10000, **config)


def consume_all(bootstrap, topic, end_offsets, **config):
    """Read each partition of topic from its beginning up to end_offsets[partition].
    Returns {partition: [ConsumerRecord, ...]} in the order the consumer saw them."""
    consumer = new_consumer(bootstrap, **config)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(end_offsets)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        received = {p: [] for p in end_offsets}

        def complete():
            return all(end_offsets[p] == 0 or (received[p] and received[p][-1].offset + 1 >= end_offsets[p])
                       for p in end_offsets)

        deadline = time.monotonic() + CONSUME_TIMEOUT_S
        while not complete() and time.monotonic() < deadline:
            got_any = False
            for message in consumer:  # ends after consumer_timeout_ms without a record
                got_any = True
                received[message.partition].append(message)
                if complete() or time.monotonic() >= deadline:
                    break
            if not got_any:
                break
        return received
    finally:
        consumer.close()


def end_offsets_of(metadata, partitions):
    """The log end offset each partition must have after these acked records."""
    ends = {p: 0 for p in range(partitions)}
    for m in metadata:
        ends[m.partition] = max(ends[m.partition], m.offset + 1)
    return ends


def snapshot(received):
    """Everything the consumer read, as plain comparable tuples."""
    return {p: [(m.offset, m.key, m.value, list(m.headers)) for m in messages]
            for p, messages in received.items()}


# ---- assertions ------------------------------------------------------------------------

class KafkaTestCase(unittest.TestCase):
    broker = None  # the broker this test talks to; its log is shown if the test fails

    def assertAckedOffsetsDense(self, metadata):
        """On a new topic, each partition's acked offsets are 0, 1, 2, ... in send order."""
        by_partition = collections.defaultdict(list)
        for m in metadata:
            by_partition[m.partition].append(m.offset)
        for partition, offsets in by_partition.items():
            self.assertEqual(offsets, list(range(len(offsets))),
                             "acked offsets of partition %d" % partition)

    def assertReadBackIdentical(self, sent, metadata, received):
        """Every acked record was read back exactly once, at its acked partition and offset,
        with the same key, value and headers, in the order it was sent."""
        self.assertEqual(len(sent), len(metadata))
        expected = collections.defaultdict(list)
        for record, m in zip(sent, metadata):
            if record.partition is not None:
                self.assertEqual(m.partition, record.partition, "acked partition of %r" % (record.key,))
            expected[m.partition].append((m.offset, record.key, record.value, list(record.headers)))
        actual = snapshot(received)
        for partition in sorted(set(expected) | set(actual)):
            want, got = expected.get(partition, []), actual.get(partition, [])
            self.assertEqual(len(got), len(want), "record count of partition %d" % partition)
            for w, g in zip(want, got):
                self.assertEqual(g, w, "partition %d, offset %d" % (partition, w[0]))


# ---- one broker, many topics -------------------------------------------------------------

class ProduceConsumeTest(KafkaTestCase):

    @classmethod
    def setUpClass(cls):
        cls.broker = start_broker()
        cls.addClassCleanup(cls.broker.close)  # runs even if setUpClass fails below
        cls.admin = KafkaAdminClient(bootstrap_servers=cls.broker.bootstrap, client_id="it-admin",
                                     request_timeout_ms=15000)
        cls.addClassCleanup(cls.admin.close)

    def test_create_topic_with_three_partitions(self):
        create_topic(self.admin, "created", 3)
        self.assertIn("created", self.admin.list_topics())
        [topic] = self.admin.describe_topics(["created"])
        self.assertEqual(topic["error_code"], 0)
        self.assertEqual(sorted(p["partition"] for p in topic["partitions"]), [0, 1, 2])
        for p in topic["partitions"]:
            self.assertEqual(p["error_code"], 0)
            self.assertGreaterEqual(p["leader"], 0, "partition %d has a leader" % p["partition"])

    def test_creating_an_existing_topic_fails(self):
        create_topic(self.admin, "twice", 1)
        with self.assertRaises(TopicAlreadyExistsError):
            create_topic(self.admin, "twice", 1)

    def test_invalid_topic_names_are_rejected(self):
        for name in ["has space", "slash/in/name", "..", "x" * 250]:
            with self.subTest(name=name[:20]):
                with self.assertRaises(InvalidTopicError):
                    create_topic(self.admin, name, 1)
        self.assertNotIn("has space", self.admin.list_topics())

    def test_thousand_keyed_records_with_headers_round_trip(self):
        create_topic(self.admin, "keyed", 3)
        sent = keyed_records(1000)
        metadata = produce(self.broker.bootstrap, "keyed", sent)
        self.assertTrue(all(m.topic == "keyed" for m in metadata))
        self.assertAckedOffsetsDense(metadata)
        received = consume_all(self.broker.bootstrap, "keyed", end_offsets_of(metadata, 3))
        self.assertReadBackIdentical(sent, metadata, received)

    def test_list_offsets_earliest_and_latest(self):
        create_topic(self.admin, "offsets", 3)
        # 7 records into partition 0, 3 into partition 1, none into partition 2.
        sent = [Record(b"k%d" % i, b"v%d" % i, [], 0 if i < 7 else 1) for i in range(10)]
        metadata = produce(self.broker.bootstrap, "offsets", sent)
        consumer = new_consumer(self.broker.bootstrap)
        try:
            tps = [TopicPartition("offsets", p) for p in range(3)]
            earliest = consumer.beginning_offsets(tps)
            latest = consumer.end_offsets(tps)
        finally:
            consumer.close()
        self.assertEqual({tp.partition: o for tp, o in earliest.items()}, {0: 0, 1: 0, 2: 0})
        self.assertEqual({tp.partition: o for tp, o in latest.items()}, {0: 7, 1: 3, 2: 0})
        self.assertEqual({tp.partition: o for tp, o in latest.items()}, end_offsets_of(metadata, 3))

    def test_one_mebibyte_value(self):
        create_topic(self.admin, "large", 1)
        big = random.Random(42).randbytes(MiB)
        sent = [Record(b"before", b"small", [], 0),
                Record(b"big", big, [("size", b"1MiB")], 0),
                Record(b"after", b"small", [], 0)]
        metadata = produce(self.broker.bootstrap, "large", sent, max_request_size=4 * MiB)
        self.assertEqual([m.offset for m in metadata], [0, 1, 2])
        received = consume_all(self.broker.bootstrap, "large", {0: 3},
                               max_partition_fetch_bytes=4 * MiB, fetch_max_bytes=8 * MiB)
        self.assertReadBackIdentical(sent, metadata, received)

    def test_null_key_empty_value_and_null_value(self):
        create_topic(self.admin, "edge-cases", 1)
        sent = [Record(None, b"", [], 0),              # null key, empty value
                Record(b"tombstone", None, [], 0),     # null value
                Record(b"", b"empty key", [("empty", b"")], 0)]
        metadata = produce(self.broker.bootstrap, "edge-cases", sent)
        received = consume_all(self.broker.bootstrap, "edge-cases", end_offsets_of(metadata, 1))
        self.assertReadBackIdentical(sent, metadata, received)
        first = received[0][0]
        self.assertIsNone(first.key, "null key stays null, not empty")
        self.assertEqual(first.value, b"", "empty value stays empty, not null")
        self.assertIsNone(received[0][1].value, "null value stays null")

    def test_delete_topic_then_create_it_again_empty(self):
        create_topic(self.admin, "doomed", 2)
        sent = [Record(b"d%d" % i, b"v%d" % i, [], i % 2) for i in range(10)]
        produce(self.broker.bootstrap, "doomed", sent)
        self.assertEqual(commit_offset(self.broker.bootstrap, "doomed-group", "doomed", 0, 3), 3)

        self.assertEqual(delete_topic(self.admin, "doomed"), [("doomed", 0)])
        self.assertNotIn("doomed", self.admin.list_topics())
        with self.assertRaises(UnknownTopicOrPartitionError):
            delete_topic(self.admin, "doomed")
        # Kafka removes the committed offsets of a deleted topic (OffsetFetch, all of them).
        self.assertEqual(self.admin.list_consumer_group_offsets("doomed-group"), {})

        create_topic(self.admin, "doomed", 1)
        self.assertIn("doomed", self.admin.list_topics())
        self.assertEqual(offsets_of(self.broker.bootstrap, "doomed", 1), ({0: 0}, {0: 0}))
        [m] = produce(self.broker.bootstrap, "doomed", [Record(b"new", b"life", [], 0)])
        self.assertEqual(m.offset, 0)
        received = consume_all(self.broker.bootstrap, "doomed", {0: 1})
        self.assertEqual([(r.key, r.value) for r in received[0]], [(b"new", b"life")])

    def test_gzip_batch_round_trip(self):
        create_topic(self.admin, "gzipped", 1)
        sent = [Record(b"gz-%03d" % i, (b"compressible %d " % i) * 20, [("codec", b"gzip")], 0)
                for i in range(300)]
        # linger + a large batch.size put the 300 records into one or a few gzip batches.
        metadata = produce(self.broker.bootstrap, "gzipped", sent, compression_type="gzip",
                           linger_ms=100, batch_size=MiB)
        self.assertAckedOffsetsDense(metadata)
        received = consume_all(self.broker.bootstrap, "gzipped", {0: 300})
        self.assertReadBackIdentical(sent, metadata, received)


# ---- restarts: each test has a broker of its own ------------------------------------------

class RestartTest(KafkaTestCase):

    def setUp(self):
        self.broker = start_broker()
        self.addCleanup(self.broker.close)

    def produce_everything(self):
        """Plain keyed records, a gzip batch and a null key / empty value on 'durable'."""
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=15000)
        try:
            create_topic(admin, "durable", 3)
        finally:
            admin.close()
        plain = keyed_records(300)
        gzipped = [Record(b"gz-%d" % i, b"zipped value %d" % i, [], i % 3) for i in range(60)]
        edge = [Record(None, b"", [], 2)]
        metadata = produce(self.broker.bootstrap, "durable", plain)
        metadata += produce(self.broker.bootstrap, "durable", gzipped, compression_type="gzip",
                            linger_ms=50)
        metadata += produce(self.broker.bootstrap, "durable", edge)
        return plain + gzipped + edge, metadata

    def list_offsets(self):
        consumer = new_consumer(self.broker.bootstrap)
        try:
            tps = [TopicPartition("durable", p) for p in range(3)]
            return ({tp.partition: o for tp, o in consumer.beginning_offsets(tps).items()},
                    {tp.partition: o for tp, o in consumer.end_offsets(tps).items()})
        finally:
            consumer.close()

    def check_survives_restart(self, sig):
        sent, metadata = self.produce_everything()
        ends = end_offsets_of(metadata, 3)
        before = consume_all(self.broker.bootstrap, "durable", ends)
        self.assertReadBackIdentical(sent, metadata, before)

        self.broker.restart(sig)

        self.assertEqual(self.list_offsets(), ({0: 0, 1: 0, 2: 0}, ends))
        after = consume_all(self.broker.bootstrap, "durable", ends)
        self.assertEqual(snapshot(after), snapshot(before))
        # The log goes on where it stopped: nothing is overwritten.
        [m] = produce(self.broker.bootstrap, "durable", [Record(b"next", b"after restart", [], 0)])
        self.assertEqual(m.offset, ends[0])

    def test_records_survive_graceful_restart_sigterm(self):
        self.check_survives_restart(signal.SIGTERM)

    def test_records_survive_crash_restart_sigkill(self):
        self.check_survives_restart(signal.SIGKILL)

    def check_preallocate(self, admin):
        """'lean' (preallocate=false) reserves nothing past its records and DescribeConfigs
        shows its override; 'plain' follows log.preallocate, Klamm's true."""
        self.assertEqual(topic_config(admin, "lean", "preallocate"), ("false", TOPIC_CONFIG))
        self.assertEqual(topic_config(admin, "plain", "preallocate"), ("true", STATIC_BROKER_CONFIG))
        for topic in ("lean", "plain"):
            produce(self.broker.bootstrap, topic, [Record(b"k", b"v" * 100, [], 0)])
        held, size = allocated_bytes(self.broker, "lean")
        self.assertEqual(held, (size + 4095) // 4096 * 4096, "lean: only the blocks of its records")
        held, size = allocated_bytes(self.broker, "plain")
        if held < PREALLOCATE_STEP:
            self.skipTest("this file system does not reserve with fallocate")

    def test_topic_preallocate_override_survives_crash_restart(self):
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=15000)
        try:
            admin.create_topics([NewTopic("lean", 1, 1, topic_configs={"preallocate": "false"}),
                                 NewTopic("plain", 1, 1)], timeout_ms=10000)
            self.check_preallocate(admin)
        finally:
            admin.close()
        self.broker.restart(signal.SIGKILL)
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=15000)
        try:
            self.check_preallocate(admin)
        finally:
            admin.close()

    def test_deleted_topic_stays_deleted_across_crash_restart_sigkill(self):
        # The deletion is durable before DeleteTopics answers: after a SIGKILL the topic,
        # its files and its committed offsets are still gone, and the name starts empty.
        sent, metadata = self.produce_everything()
        self.assertEqual(commit_offset(self.broker.bootstrap, "durable-group", "durable", 1, 7), 7)
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=15000)
        try:
            self.assertEqual(delete_topic(admin, "durable"), [("durable", 0)])
        finally:
            admin.close()

        self.broker.restart(signal.SIGKILL)

        leftovers = [e for e in os.listdir(self.broker.log_dirs) if e.startswith("durable-")]
        self.assertEqual(leftovers, [], "partition directories of the deleted topic")
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=15000)
        try:
            self.assertNotIn("durable", admin.list_topics())
            self.assertEqual(admin.list_consumer_group_offsets("durable-group"), {})
            create_topic(admin, "durable", 3)
        finally:
            admin.close()
        self.assertEqual(offsets_of(self.broker.bootstrap, "durable", 3),
                         ({0: 0, 1: 0, 2: 0}, {0: 0, 1: 0, 2: 0}))


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

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._remember(test)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so atexit stops the brokers
    module = sys.modules[__name__]
    names = sys.argv[1:]  # e.g. ProduceConsumeTest.test_gzip_batch_round_trip; none = all
    loader = unittest.defaultTestLoader
    suite = loader.loadTestsFromNames(names, module) if names else loader.loadTestsFromModule(module)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=ResultWithBrokerLogs)
    result = runner.run(suite)
    for broker in result.failed_brokers:
        print(broker.log_tail(), file=sys.stderr)
    # A test with failing subtests is listed once per subtest: count each test once.
    failed_tests = {getattr(test, "test_case", test).id() for test, _ in result.failures + result.errors}
    failed = len(failed_tests) + len(result.unexpectedSuccesses)
    passed = result.testsRun - len(result.skipped) - failed
    print("kafka-python: %d passed, %d failed" % (max(passed, 0), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
