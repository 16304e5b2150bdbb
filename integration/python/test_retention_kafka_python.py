"""Log retention seen by kafka-python 2.0.2: old segments deleted, the log start moved.

Run alone:  KLAMM_BROKER=build/klamm /usr/bin/python3 integration/python/test_retention_kafka_python.py

The broker runs with log.retention.check.interval.ms=500 and Kafka's default segment
settings (1 GiB, 7 days); each topic asks for what it needs through its own configs.

By size: the topic is created with retention.ms=1000 and segment.bytes=1024, so its
partition rolls every ~3 records although the broker's log.segment.bytes is 1 GiB. After
producing a few segments' worth of records and waiting past retention.ms plus a check
interval, every sealed segment is gone (the active one is never deleted),
beginning_offsets() reports the active segment's base offset, a fetch below it is
OFFSET_OUT_OF_RANGE, and the newest records are still readable — also after a restart.

By time: a topic with segment.ms=500 and retention.ms=3000 gets one record, then, after
a pause longer than segment.ms, another: the second append rolls (Kafka's
LogSegment.shouldRoll), so the first record's segment is sealed and retention deletes
it — a quiet partition does not keep its records in the active segment forever.

The last line printed is `kafka-python retention: N passed, N failed`, which
integration/run.sh adds up.
"""

import os
import signal
import sys
import time
import unittest

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import OffsetOutOfRangeError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import klamm_broker  # noqa: E402

SEGMENT_BYTES = 1024
SEGMENT_MS = 500
CHECK_INTERVAL_MS = 500
RETENTION_MS = 1000
RECORDS = 30
VALUE_BYTES = 200          # one record per batch (flushed one by one): ~3 batches a segment
WAIT_S = 20                # for retention to act, at most


class RetentionBroker(klamm_broker.Broker):
    """The launcher's broker with a fast retention check (segment sizes are per topic)."""

    def command(self):
        return super().command() + [
            "--override", "log.retention.check.interval.ms=%d" % CHECK_INTERVAL_MS,
        ]


def segment_files(broker, topic, ext=".log"):
    """The base offsets of the partition's segment files with that extension."""
    path = os.path.join(broker.log_dirs, "%s-0" % topic)
    return sorted(int(name[:-len(ext)]) for name in os.listdir(path)
                  if name.endswith(ext) and name[:-len(ext)].isdigit())


def produce_one_by_one(bootstrap, topic, count):
    """Send and flush each record alone, so each is its own batch; return their offsets."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0,
                             request_timeout_ms=15000, max_block_ms=15000)
    try:
        offsets = []
        for i in range(count):
            value = b"record-%03d " % i + b"x" * VALUE_BYTES
            offsets.append(producer.send(topic, value=value, partition=0).get(timeout=30).offset)
        return offsets
    finally:
        producer.close(timeout=10)


def new_consumer(bootstrap, **config):
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         request_timeout_ms=20000, consumer_timeout_ms=10000, **config)


def read_from(bootstrap, tp, offset, end):
    """The values of offsets [offset, end) of tp."""
    consumer = new_consumer(bootstrap)
    try:
        consumer.assign([tp])
        consumer.seek(tp, offset)
        values = []
        deadline = time.monotonic() + 30
        while consumer.position(tp) < end and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend((r.offset, r.value) for r in records)
        return values
    finally:
        consumer.close()


class RetentionTest(unittest.TestCase):
    def setUp(self):
        self.broker = RetentionBroker()
        try:
            self.broker.start()
        except BaseException:
            self.broker.close()
            raise
        self.topic = "retention-%d" % int(time.time() * 1000)
        self.tp = TopicPartition(self.topic, 0)

    def tearDown(self):
        self.broker.close()

    def create_topic(self, **configs):
        configs = configs or {"segment.bytes": str(SEGMENT_BYTES)}
        configs.setdefault("retention.ms", str(RETENTION_MS))
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=15000)
        try:
            admin.create_topics([NewTopic(self.topic, num_partitions=1, replication_factor=1,
                                          topic_configs=configs)],
                                timeout_ms=10000)
        finally:
            admin.close()

    def beginning(self):
        consumer = new_consumer(self.broker.bootstrap)
        try:
            return consumer.beginning_offsets([self.tp])[self.tp]
        finally:
            consumer.close()

    def wait_for_log_start(self, at_least):
        deadline = time.monotonic() + WAIT_S
        start = self.beginning()
        while start < at_least and time.monotonic() < deadline:
            time.sleep(0.25)
            start = self.beginning()
        return start

    def test_old_segments_are_deleted_and_the_log_start_moves(self):
        self.create_topic()
        offsets = produce_one_by_one(self.broker.bootstrap, self.topic, RECORDS)
        self.assertEqual(offsets, list(range(RECORDS)))
        before = segment_files(self.broker, self.topic)
        self.assertGreater(len(before), 3, "expected several segments of %d bytes" % SEGMENT_BYTES)
        active = before[-1]

        start = self.wait_for_log_start(active)
        self.assertEqual(start, active, "every sealed segment is past retention.ms")
        for ext in (".log", ".index", ".timeindex"):
            self.assertEqual(segment_files(self.broker, self.topic, ext), [active],
                             "only the active segment's %s file is left" % ext)
        self.assertIn("Deleting segment", self.broker.log_text())

        # The newest records are still there.
        values = read_from(self.broker.bootstrap, self.tp, start, RECORDS)
        self.assertEqual([o for o, _ in values], list(range(start, RECORDS)))
        self.assertTrue(values[-1][1].startswith(b"record-%03d " % (RECORDS - 1)))

        # Below the log start: OFFSET_OUT_OF_RANGE, raised when no reset policy applies...
        consumer = new_consumer(self.broker.bootstrap, auto_offset_reset="none")
        try:
            consumer.assign([self.tp])
            consumer.seek(self.tp, 0)
            with self.assertRaises(OffsetOutOfRangeError):
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    consumer.poll(timeout_ms=500)
        finally:
            consumer.close()
        # ...and with auto.offset.reset=earliest the consumer jumps to the log start.
        consumer = new_consumer(self.broker.bootstrap, auto_offset_reset="earliest")
        try:
            consumer.assign([self.tp])
            consumer.seek(self.tp, 0)
            first = None
            deadline = time.monotonic() + 15
            while first is None and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=500).values():
                    first = first if first is not None else records[0].offset
            self.assertEqual(first, start)
        finally:
            consumer.close()

        # The deletion is on disk: after a restart the log still starts there.
        self.broker.restart()
        self.assertEqual(self.beginning(), start)
        values = read_from(self.broker.bootstrap, self.tp, start, RECORDS)
        self.assertEqual(len(values), RECORDS - start)


    def test_segment_ms_rolls_a_quiet_partition_so_retention_can_delete(self):
        # retention.ms well above the pause, so the sealed segment is seen before it goes
        self.create_topic(**{"segment.ms": str(SEGMENT_MS), "retention.ms": str(SEGMENT_MS * 6)})
        self.assertEqual(produce_one_by_one(self.broker.bootstrap, self.topic, 1), [0])
        time.sleep(SEGMENT_MS / 1000 * 2)
        self.assertEqual(segment_files(self.broker, self.topic), [0], "no roll without an append")
        self.assertEqual(produce_one_by_one(self.broker.bootstrap, self.topic, 1), [1])
        self.assertEqual(segment_files(self.broker, self.topic), [0, 1],
                         "the append after segment.ms went into a new segment")
        self.assertEqual(self.wait_for_log_start(1), 1, "the sealed segment is past retention.ms")
        self.assertEqual(segment_files(self.broker, self.topic), [1])
        values = read_from(self.broker.bootstrap, self.tp, 1, 2)
        self.assertEqual([o for o, _ in values], [1])


class ResultWithBrokerLogs(unittest.TextTestResult):
    """Prints the broker's log tail of each failed test."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.failed_brokers = []

    def _remember(self, test):
        broker = getattr(test, "broker", None)
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
    print("kafka-python retention: %d passed, %d failed" % (max(passed, 0), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
