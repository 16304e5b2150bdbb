"""A minimal raw Kafka protocol client for the crash and load tests (test/crash, test/load).

Why raw: a real client (kafka-python, librdkafka) retries, buffers and batches on its own,
so a test cannot tell exactly which produce request the broker acknowledged and at which
offset. Here every request is built by hand, one request = one frame, and every answer is
parsed field by field, so the tests know precisely what was acked.

It covers only the non-flexible versions the tests use: ApiVersions v0-2, Metadata v1,
CreateTopics v0, ListOffsets v1, Produce v3-8, Fetch v4-11, plus v2 record batches with a
CRC-32C computed here (Castagnoli polynomial, table driven). Pure Python, standard library.
"""

import socket
import struct
import time

# ---- CRC-32C (Castagnoli), reflected polynomial 0x82F63B78 ---------------------------------

_CRC32C_POLY = 0x82F63B78


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _CRC32C_POLY if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value

# ---- API keys ----------------------------------------------------------------------------

PRODUCE, FETCH, LIST_OFFSETS, METADATA, API_VERSIONS, CREATE_TOPICS = 0, 1, 2, 3, 18, 19
ERR_TOPIC_ALREADY_EXISTS = 36


class WireError(Exception):
    """A malformed or unexpected answer (not a socket error: those stay OSError)."""


# ---- primitive encoding --------------------------------------------------------------------

def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def bytes_(b):
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items, enc):
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(enc(x) for x in items)


def varint(v):
    """Zigzag varint (Kafka records use signed varints everywhere)."""
    z = (v << 1) ^ (v >> 63)
    z &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


class Reader:
    """Sequential decoder over one answer; raises WireError when the answer is too short."""

    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise WireError("answer truncated at %d (+%d of %d)" % (self.pos, n, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self._take(1))[0]

    def i16(self):
        return struct.unpack(">h", self._take(2))[0]

    def i32(self):
        return struct.unpack(">i", self._take(4))[0]

    def u32(self):
        return struct.unpack(">I", self._take(4))[0]

    def i64(self):
        return struct.unpack(">q", self._take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self._take(n).decode("utf-8", "replace")

    def bytes_(self):
        n = self.i32()
        return None if n < 0 else self._take(n)

    def array(self, dec):
        n = self.i32()
        if n < 0:
            return None
        if n > 1_000_000:
            raise WireError("absurd array length %d" % n)
        return [dec(self) for _ in range(n)]

    def varint(self):
        shift, z = 0, 0
        for _ in range(10):
            b = self._take(1)[0]
            z |= (b & 0x7F) << shift
            if not b & 0x80:
                return (z >> 1) ^ -(z & 1)
            shift += 7
        raise WireError("varint longer than 10 bytes")

    def remaining(self):
        return len(self.data) - self.pos


# ---- v2 record batches ----------------------------------------------------------------------

def record_batch(records, base_timestamp=None):
    """One uncompressed v2 batch. records: list of (key bytes|None, value bytes|None)."""
    ts = int(time.time() * 1000) if base_timestamp is None else base_timestamp
    body = bytearray()
    for delta, (key, value) in enumerate(records):
        r = bytearray(i8(0))                      # record attributes
        r += varint(0)                            # timestamp delta
        r += varint(delta)                        # offset delta
        r += varint(-1) if key is None else varint(len(key)) + key
        r += varint(-1) if value is None else varint(len(value)) + value
        r += varint(0)                            # no headers
        body += varint(len(r)) + r
    after_crc = (i16(0)                           # attributes: no compression, create time
                 + i32(len(records) - 1)          # last offset delta
                 + i64(ts) + i64(ts)              # base / max timestamp
                 + i64(-1) + i16(-1) + i32(-1)    # producer id / epoch / base sequence
                 + i32(len(records)) + bytes(body))
    crc = crc32c(after_crc)
    after_length = i32(0) + i8(2) + struct.pack(">I", crc) + after_crc  # leader epoch, magic
    return i64(0) + i32(len(after_length)) + after_length


def parse_batches(data):
    """Parse a records field into batches. Each batch is a dict with base_offset,
    last_offset, crc_ok, magic and records [(offset, key, value)]. A partial batch at the
    end (allowed by the protocol when max_bytes cuts it) is dropped and counted."""
    batches, partial = [], 0
    pos = 0
    data = data or b""
    while pos < len(data):
        if len(data) - pos < 12:
            partial += 1
            break
        base_offset, length = struct.unpack_from(">qi", data, pos)
        if length < 49 or pos + 12 + length > len(data):
            partial += 1
            break
        r = Reader(data[pos:pos + 12 + length], 12)
        r.i32()                                   # partition leader epoch
        magic = r.i8()
        if magic != 2:
            raise WireError("batch at offset %d has magic %d" % (base_offset, magic))
        crc = r.u32()
        crc_ok = crc32c(data[pos + 21:pos + 12 + length]) == crc
        attributes = r.i16()
        last_delta = r.i32()
        r.i64(), r.i64(), r.i64(), r.i16(), r.i32()
        count = r.i32()
        records = []
        if attributes & 0x07:
            raise WireError("compressed batch (codec %d) not expected" % (attributes & 7))
        for _ in range(count):
            rlen = r.varint()
            rr = Reader(r._take(rlen))
            rr.i8()
            rr.varint()                            # timestamp delta
            odelta = rr.varint()
            klen = rr.varint()
            key = None if klen < 0 else rr._take(klen)
            vlen = rr.varint()
            value = None if vlen < 0 else rr._take(vlen)
            records.append((base_offset + odelta, key, value))
        batches.append({"base_offset": base_offset, "last_offset": base_offset + last_delta,
                        "crc_ok": crc_ok, "records": records, "count": count})
        pos += 12 + length
    return batches, partial


# ---- requests ---------------------------------------------------------------------------

def request_frame(api_key, version, correlation_id, body, client_id="klamm-test"):
    header = i16(api_key) + i16(version) + i32(correlation_id) + string(client_id)
    payload = header + body
    return i32(len(payload)) + payload


def api_versions_body(version=0):
    return b""


def metadata_body(topics):
    """Metadata v1 (topics None = all)."""
    return array(topics, string)


def create_topics_body(name, partitions, timeout_ms=10000):
    """CreateTopics v0: one topic, replication factor 1, no assignments, no configs."""
    topic = string(name) + i32(partitions) + i16(1) + array([], None) + array([], None)
    return i32(1) + topic + i32(timeout_ms)


def list_offsets_body(topic, partitions, timestamp=-1):
    """ListOffsets v1: timestamp -1 = latest, -2 = earliest."""
    parts = b"".join(i32(p) + i64(timestamp) for p in partitions)
    return i32(-1) + i32(1) + string(topic) + i32(len(partitions)) + parts


def produce_body(topic, partition_batches, acks, timeout_ms=10000):
    """Produce v3-8 (same layout): partition_batches = [(partition, records bytes)]."""
    parts = b"".join(i32(p) + bytes_(b) for p, b in partition_batches)
    return (string(None) + i16(acks) + i32(timeout_ms) + i32(1) + string(topic)
            + i32(len(partition_batches)) + parts)


def fetch_body(version, topic, partition_offsets, max_wait_ms=100, min_bytes=1,
               max_bytes=8 << 20, partition_max_bytes=4 << 20):
    """Fetch v4-11: partition_offsets = [(partition, fetch_offset)]."""
    out = i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(max_bytes) + i8(0)
    if version >= 7:
        out += i32(0) + i32(-1)                   # session id, epoch -1: no session
    parts = b""
    for p, off in partition_offsets:
        parts += i32(p)
        if version >= 9:
            parts += i32(-1)                      # current leader epoch
        parts += i64(off)
        if version >= 5:
            parts += i64(-1)                      # log start offset (consumers send -1)
        parts += i32(partition_max_bytes)
    out += i32(1) + string(topic) + i32(len(partition_offsets)) + parts
    if version >= 7:
        out += i32(0)                             # forgotten topics
    if version >= 11:
        out += string("")                         # rack id
    return out


# ---- answers ------------------------------------------------------------------------------

def parse_api_versions(r, version):
    error = r.i16()
    apis = r.array(lambda x: (x.i16(), x.i16(), x.i16()))
    if version >= 1:
        r.i32()
    return error, {k: (lo, hi) for k, lo, hi in apis or []}


def parse_metadata_v1(r):
    brokers = r.array(lambda x: (x.i32(), x.string(), x.i32(), x.string()))
    controller = r.i32()

    def partition(x):
        err, idx, leader = x.i16(), x.i32(), x.i32()
        x.array(lambda y: y.i32())
        x.array(lambda y: y.i32())
        return idx, err, leader

    def topic(x):
        err, name = x.i16(), x.string()
        x.i8()                                    # is_internal
        return name, err, x.array(partition)

    topics = r.array(topic)
    return {"brokers": brokers, "controller": controller,
            "topics": {name: (err, parts) for name, err, parts in topics or []}}


def parse_create_topics_v0(r):
    return {name: err for name, err in r.array(lambda x: (x.string(), x.i16())) or []}


def parse_list_offsets_v1(r):
    out = {}
    for _topic, parts in r.array(lambda x: (x.string(), x.array(
            lambda y: (y.i32(), y.i16(), y.i64(), y.i64())))) or []:
        for p, err, _ts, off in parts or []:
            out[p] = (err, off)
    return out


def parse_produce(r, version):
    """-> {partition: (error, base_offset)}"""
    out = {}

    def part(x):
        p, err, base = x.i32(), x.i16(), x.i64()
        x.i64()                                   # log append time
        if version >= 5:
            x.i64()                               # log start offset
        if version >= 8:
            x.array(lambda y: (y.i32(), y.string()))
            x.string()
        return p, err, base

    for _topic, parts in r.array(lambda x: (x.string(), x.array(part))) or []:
        for p, err, base in parts or []:
            out[p] = (err, base)
    r.i32()                                       # throttle time
    return out


def parse_fetch(r, version):
    """-> {partition: {error, high_watermark, records}}"""
    r.i32()                                       # throttle time
    if version >= 7:
        top_err = r.i16()
        r.i32()                                   # session id
        if top_err:
            raise WireError("fetch top-level error %d" % top_err)
    out = {}

    def part(x):
        p, err, hw = x.i32(), x.i16(), x.i64()
        x.i64()                                   # last stable offset
        if version >= 5:
            x.i64()                               # log start offset
        x.array(lambda y: (y.i64(), y.i64()))     # aborted transactions
        if version >= 11:
            x.i32()                               # preferred read replica
        return p, {"error": err, "high_watermark": hw, "records": x.bytes_()}

    for _topic, parts in r.array(lambda x: (x.string(), x.array(part))) or []:
        for p, d in parts or []:
            out[p] = d
    return out


# ---- a blocking connection ---------------------------------------------------------------

class Connection:
    """One blocking TCP connection; send() and recv() may be pipelined (answers come back
    in request order). Every socket operation has a timeout."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.next_id = 1
        self.pending = []                         # (correlation id, api key, version)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, api_key, version, body):
        cid = self.next_id
        self.next_id += 1
        self.sock.sendall(request_frame(api_key, version, cid, body))
        self.pending.append((cid, api_key, version))
        return cid

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionResetError("broker closed the connection")
            buf += chunk
        return bytes(buf)

    def recv(self):
        """The next answer: (correlation id, api key, version, Reader positioned at body)."""
        size = struct.unpack(">i", self._recv_exact(4))[0]
        if size < 4 or size > 256 << 20:
            raise WireError("absurd answer size %d" % size)
        data = self._recv_exact(size)
        cid = struct.unpack_from(">i", data)[0]
        want, api_key, version = self.pending.pop(0)
        if cid != want:
            raise WireError("correlation id %d, expected %d" % (cid, want))
        return cid, api_key, version, Reader(data, 4)

    def call(self, api_key, version, body):
        self.send(api_key, version, body)
        return self.recv()[3]


def create_topic(conn, name, partitions):
    """CreateTopics v0; returns the error code (0 or 36 = already exists are fine)."""
    r = conn.call(CREATE_TOPICS, 0, create_topics_body(name, partitions))
    return parse_create_topics_v0(r).get(name, -1)


def wait_topic_ready(conn, name, partitions, timeout_s=10.0):
    """Poll Metadata v1 until every partition of name has a leader (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        md = parse_metadata_v1(conn.call(METADATA, 1, metadata_body([name])))
        err, parts = md["topics"].get(name, (-1, []))
        if err == 0 and len(parts or []) == partitions and all(
                e == 0 and leader >= 0 for _p, e, leader in parts):
            return True
        time.sleep(0.05)
    return False
