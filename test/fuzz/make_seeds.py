#!/usr/bin/env python3
"""test/fuzz/make_seeds.py — write the hand-made seeds of the request-path fuzzer into
test/fuzz/corpus/hand-*.bin (one request frame each, without the int32 size prefix).

Why: the captured client requests (the other corpus files) cover what clients send on a
good day. These seeds reach the paths they do not: Produce with several valid batches
(real CRC-32C), acks=0, unknown partitions, a batch over the max.message.bytes of the
harness's topic "limited"; Fetch from offset 0 of every partition of
"topic" (reading back what the harness's warm-up Produce stored), a long poll that parks,
tiny max_bytes; ListOffsets by timestamp; Metadata v8 auto-creating topics; CreateTopics
with configs, a manual assignment and a duplicate name; DeleteTopics classic (v3, deleting
the harness's "topic") and flexible (v4, v5 with a duplicate, an empty and an unknown
name); ApiVersions v3 with tagged fields.
The fuzzer mutates from there. Re-run after changing this file:  python3 test/fuzz/make_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# ---- primitives (Kafka's classic and compact encodings) ------------------------------


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def nbytes(b):
    return i32(-1) if b is None else i32(len(b)) + b


def array(items):
    return i32(len(items)) + b"".join(items)


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def varint(v):      # zig-zag, 64-bit safe
    return uvarint((v << 1) ^ (v >> 63))


def compact_string(s):
    b = s.encode()
    return uvarint(len(b) + 1) + b


def header(api_key, version, correlation_id, client_id="seed", flexible=False):
    h = i16(api_key) + i16(version) + i32(correlation_id) + string(client_id)
    return h + (uvarint(0) if flexible else b"")

# ---- CRC-32C and v2 record batches ------------------------------------------------------


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def record(offset_delta, key, value, ts_delta=0):
    body = (i8(0) + varint(ts_delta) + varint(offset_delta)
            + (varint(-1) if key is None else varint(len(key)) + key)
            + varint(len(value)) + value + varint(0))
    return varint(len(body)) + body


def batch(records, base_ts=1700000000000):
    """A valid magic-2 batch, base offset 0 (the broker assigns the real one)."""
    recs = b"".join(record(i, k, v, i) for i, (k, v) in enumerate(records))
    n = len(records)
    after_crc = (i16(0) + i32(n - 1) + i64(base_ts) + i64(base_ts + n - 1)
                 + i64(-1) + i16(-1) + i32(-1) + i32(n) + recs)
    crc = crc32c(after_crc)
    batch_length = 4 + 1 + 4 + len(after_crc)      # leader epoch, magic, crc, rest
    return i64(0) + i32(batch_length) + i32(-1) + i8(2) + struct.pack(">I", crc) + after_crc

# ---- the seeds ----------------------------------------------------------------------------


def produce(version, acks, topics, cid):
    body = string(None) + i16(acks) + i32(30000)
    body += array([string(t) + array([i32(p) + nbytes(r) for p, r in parts])
                   for t, parts in topics])
    return header(0, version, cid) + body


def fetch(version, max_wait, min_bytes, max_bytes, topics, cid, forgotten=(), rack=""):
    body = i32(-1) + i32(max_wait) + i32(min_bytes) + i32(max_bytes) + i8(0)
    if version >= 7:
        body += i32(0) + i32(-1)
    parts = []
    for t, plist in topics:
        enc = []
        for p, off, pmax in plist:
            e = i32(p)
            if version >= 9:
                e += i32(-1)
            e += i64(off)
            if version >= 5:
                e += i64(-1)
            enc.append(e + i32(pmax))
        parts.append(string(t) + array(enc))
    body += array(parts)
    if version >= 7:
        body += array([string(t) + array([i32(p) for p in ps]) for t, ps in forgotten])
    if version >= 11:
        body += string(rack)
    return header(1, version, cid) + body


def list_offsets(version, topics, cid):
    body = i32(-1) + (i8(0) if version >= 2 else b"")
    enc = []
    for t, plist in topics:
        ps = []
        for p, ts in plist:
            ps.append(i32(p) + (i32(-1) if version >= 4 else b"") + i64(ts))
        enc.append(string(t) + array(ps))
    return header(2, version, cid) + body + array(enc)


def metadata_v8(names, cid):
    return header(3, 8, cid) + array([string(n) for n in names]) + i8(1) + i8(1) + i8(1)


def create_topics_v4(cid):
    def topic(name, parts, rf, assignment, configs):
        return (string(name) + i32(parts) + i16(rf)
                + array([i32(p) + array([i32(b) for b in brokers]) for p, brokers in assignment])
                + array([string(k) + string(v) for k, v in configs]))
    topics = [
        topic("new-topic", 2, 1, [], [("retention.ms", "60000"),
                                      ("cleanup.policy", "compact,delete"),
                                      ("max.message.bytes", "200")]),
        topic("assigned", -1, -1, [(0, [1]), (1, [1])], []),
        topic("dup", 1, 1, [], []),
        topic("dup", 1, 1, [], []),
        topic("topic", 1, 1, [], []),
        topic("bad config", 1, 1, [], [("segment.bytes", None)]),
    ]
    return header(19, 4, cid) + array(topics) + i32(5000) + i8(0)


def delete_topics(version, names, cid):
    if version >= 4:                                # flexible: header v2, compact, tags
        body = uvarint(len(names) + 1) + b"".join(compact_string(n) for n in names)
        return header(20, version, cid, flexible=True) + body + i32(5000) + uvarint(0)
    return header(20, version, cid) + array([string(n) for n in names]) + i32(5000)


def api_versions_v3(cid):
    h = i16(18) + i16(3) + i32(cid) + string("seed") + uvarint(1) + uvarint(7) + uvarint(2) + b"hi"
    return h + compact_string("klamm-seed") + compact_string("1.0.0") + uvarint(0)


def main():
    two = batch([(b"k1", b"one"), (b"k2", b"two")])
    one = batch([(None, b"three")])
    big = batch([(b"big", b"x" * 300)])         # over "limited"'s max.message.bytes=200
    seeds = {
        "hand-produce-v3-p0-two-batches": produce(3, 1, [("topic", [(0, two + one)])], 101),
        "hand-produce-v8-unknowns": produce(8, -1, [("topic", [(2, one), (7, one), (0, None)]),
                                                    ("nope", [(0, two)])], 102),
        "hand-produce-v5-acks0": produce(5, 0, [("topic", [(1, two)])], 103),
        "hand-produce-v7-limited": produce(7, 1, [("limited", [(0, one), (0, big)])], 111),
        "hand-fetch-v4-all-partitions": fetch(4, 0, 0, 1 << 20,
                                              [("topic", [(0, 0, 1 << 20), (1, 0, 1 << 20),
                                                          (2, 0, 1 << 20)])], 104),
        "hand-fetch-v11-limits": fetch(11, 0, 0, 1, [("topic", [(1, 0, 10), (1, 3, 10),
                                                                (2, 99, 10), (9, 0, 10)]),
                                                     ("nope", [(0, 0, 10)])], 105,
                                       forgotten=[("topic", [0])], rack="rack-a"),
        "hand-fetch-v11-longpoll": fetch(11, 500, 1000000, 1 << 20,
                                         [("topic", [(0, 0, 1 << 20)])], 106),
        "hand-list-offsets-v5": list_offsets(5, [("topic", [(1, 0), (1, -1), (1, -2), (1, -3),
                                                            (1, 1700000000001), (5, -1)])], 107),
        "hand-metadata-v8-autocreate": metadata_v8(["topic", "auto-made", "bad/name", ""], 108),
        "hand-create-topics-v4": create_topics_v4(109),
        "hand-api-versions-v3-tagged": api_versions_v3(110),
        "hand-delete-topics-v3": delete_topics(3, ["topic", "nope"], 112),
        "hand-delete-topics-v4-flexible": delete_topics(4, ["limited"], 113),
        "hand-delete-topics-v5-flexible": delete_topics(5, ["limited", "dup", "dup", "topic",
                                                            ""], 114),
    }
    os.makedirs(OUT, exist_ok=True)
    for name, frame in seeds.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(frame)
    print(f"make_seeds: wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
