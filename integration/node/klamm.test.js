'use strict'
// KafkaJS 2.2.4 against a real Klamm broker process (node:test).
//
// Run alone:  KLAMM_BROKER=build/klamm node --test integration/node/klamm.test.js
//
// The tests run in order and build on each other: the topics produced to early on are
// read again after the broker restarts at the end. KafkaJS consumers always join a
// consumer group, so every read also exercises FindCoordinator, JoinGroup, SyncGroup,
// Heartbeat, OffsetFetch/OffsetCommit and LeaveGroup.

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Kafka, logLevel, CompressionTypes } = require('kafkajs')
const { Broker } = require('./broker')

const MiB = 1024 * 1024
const TEST_TIMEOUT_MS = 60000
const CONSUME_TIMEOUT_MS = 30000

let broker // the Broker process
let kafka // a KafkaJS client for it
let admin
let producer
let groupCount = 0

// topic -> { partition -> [{ offset, key, value, headers }] }: what each topic must hold,
// filled in as the tests produce (offsets are the ones the broker acknowledged).
const expected = {}

function newClient () {
  return new Kafka({
    clientId: 'klamm-it',
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, // failures surface as thrown errors
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } // fail fast
  })
}

async function connectClients () {
  kafka = newClient()
  admin = kafka.admin()
  producer = kafka.producer({ allowAutoTopicCreation: false })
  await admin.connect()
  await producer.connect()
}

async function disconnectClients () {
  if (producer) await producer.disconnect().catch(() => {})
  if (admin) await admin.disconnect().catch(() => {})
  producer = admin = null
}

// Send messages (each names its partition) with acks=-1 and record where the broker put
// them: the result has one baseOffset per partition, and the n-th message of that
// partition in this send gets baseOffset + n.
async function produce (topic, messages, options = {}) {
  const result = await producer.send({ topic, messages, acks: -1, ...options })
  const base = {}
  for (const r of result) {
    assert.equal(r.errorCode, 0, `produce error on partition ${r.partition}`)
    base[r.partition] = BigInt(r.baseOffset)
  }
  const acked = []
  const seen = {}
  for (const m of messages) {
    assert.ok(m.partition in base, `no produce result for partition ${m.partition}`)
    const n = seen[m.partition] = (seen[m.partition] ?? -1) + 1
    acked.push({ ...m, offset: String(base[m.partition] + BigInt(n)) })
  }
  expected[topic] ??= {}
  for (const m of acked) {
    (expected[topic][m.partition] ??= []).push({
      offset: m.offset,
      key: m.key == null ? null : Buffer.from(m.key),
      value: m.value == null ? null : Buffer.from(m.value),
      headers: m.headers ?? {}
    })
  }
  return acked
}

// Read `count` messages of topic from the beginning with a new consumer group.
// Returns { partition -> [{ offset, key, value, headers }] } in the order received.
async function consumeAll (topic, count, options = {}) {
  const consumer = kafka.consumer({
    groupId: `it-${topic}-${++groupCount}`,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 250,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    ...options
  })
  const received = {}
  let total = 0
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `timed out after ${CONSUME_TIMEOUT_MS} ms with ${total} of ${count} messages of ${topic}`)),
      CONSUME_TIMEOUT_MS)
      consumer.on(consumer.events.CRASH, event => {
        clearTimeout(timer)
        reject(event.payload.error)
      })
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          const { offset, key, value, headers } = message
          ;(received[partition] ??= []).push({ offset, key, value, headers })
          if (++total >= count) {
            clearTimeout(timer)
            resolve()
          }
        }
      }).catch(error => {
        clearTimeout(timer)
        reject(error)
      })
    })
  } finally {
    await consumer.disconnect()
  }
  return received
}

function headerBuffers (headers) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]))
}

// Reading topic from the beginning gives exactly what was acknowledged, partition by
// partition, at the same offsets, in the order sent.
async function assertTopicReadsBack (topic, consumerOptions = {}) {
  const want = expected[topic]
  assert.ok(want, `nothing was produced to ${topic} (an earlier test failed)`)
  const count = Object.values(want).reduce((sum, list) => sum + list.length, 0)
  const got = await consumeAll(topic, count, consumerOptions)
  for (const partition of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const w = (want[partition] ?? []).map(m => ({ ...m, headers: headerBuffers(m.headers) }))
    const g = got[partition] ?? []
    assert.equal(g.length, w.length, `message count of ${topic}/${partition}`)
    for (let i = 0; i < w.length; i++) {
      assert.deepEqual(g[i], w[i], `${topic}/${partition}, message ${i}`)
    }
  }
}

// Each partition's acknowledged offsets are 0, 1, 2, ... in send order (new topic).
function assertOffsetsDense (topic) {
  for (const [partition, list] of Object.entries(expected[topic])) {
    assert.deepEqual(list.map(m => m.offset), list.map((_, i) => String(i)),
      `acked offsets of ${topic}/${partition}`)
  }
}

// it() that remembers failures, so that the broker's log is printed once at the end.
let failures = 0
function step (name, fn) {
  it(name, { timeout: TEST_TIMEOUT_MS }, async () => {
    failures++
    await fn()
    failures--
  })
}

describe('KafkaJS 2.2.4 against Klamm', () => {
  before(async () => {
    broker = await Broker.start()
    await connectClients()
  }, { timeout: 30000 })

  after(async () => {
    await disconnectClients()
    if (failures > 0 && broker) process.stderr.write(broker.logTail() + '\n')
    if (broker) await broker.close()
  }, { timeout: 30000 })

  step('admin.createTopics creates a topic with 3 partitions', async () => {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'keyed', numPartitions: 3 }], timeout: 10000 }), true)
    assert.ok((await admin.listTopics()).includes('keyed'))
    const { topics: [topic] } = await admin.fetchTopicMetadata({ topics: ['keyed'] })
    assert.deepEqual(topic.partitions.map(p => p.partitionId).sort(), [0, 1, 2])
    for (const p of topic.partitions) assert.equal(p.partitionErrorCode, 0)
  })

  step('admin.createTopics of an existing topic reports it was not created', async () => {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'keyed', numPartitions: 3 }], timeout: 10000 }), false)
  })

  step('producer.send 1,000 keyed records with headers, acks -1', async () => {
    for (let chunk = 0; chunk < 10; chunk++) {
      const messages = []
      for (let i = chunk * 100; i < (chunk + 1) * 100; i++) {
        messages.push({
          partition: i % 3,
          key: `key-${i}`,
          value: `value-${i} ` + 'x'.repeat(i % 50),
          headers: { seq: String(i), source: 'kafkajs' }
        })
      }
      await produce('keyed', messages)
    }
    const counts = Object.values(expected.keyed).map(list => list.length)
    assert.deepEqual(counts, [334, 333, 333])
    assertOffsetsDense('keyed')
  })

  step('admin.fetchTopicOffsets: high watermarks equal the per-partition counts', async () => {
    const offsets = await admin.fetchTopicOffsets('keyed')
    const byPartition = Object.fromEntries(offsets.map(o => [o.partition, { low: o.low, high: o.high }]))
    assert.deepEqual(byPartition, {
      0: { low: '0', high: '334' },
      1: { low: '0', high: '333' },
      2: { low: '0', high: '333' }
    })
  })

  step('a consumer group reads all 1,000 back, identical and in order', async () => {
    await assertTopicReadsBack('keyed')
  })

  step('a 1 MiB value round-trips', async () => {
    await admin.createTopics({ topics: [{ topic: 'large', numPartitions: 1 }], timeout: 10000 })
    await produce('large', [
      { partition: 0, key: 'before', value: 'small' },
      { partition: 0, key: 'big', value: crypto.randomBytes(MiB), headers: { size: '1MiB' } },
      { partition: 0, key: 'after', value: 'small' }
    ])
    assertOffsetsDense('large')
    await assertTopicReadsBack('large', { maxBytesPerPartition: 4 * MiB, maxBytes: 8 * MiB })
  })

  step('a null key and an empty value round-trip', async () => {
    await admin.createTopics({ topics: [{ topic: 'edge-cases', numPartitions: 1 }], timeout: 10000 })
    await produce('edge-cases', [
      { partition: 0, key: null, value: Buffer.alloc(0) },
      { partition: 0, key: 'tombstone', value: null }
    ])
    await assertTopicReadsBack('edge-cases')
  })

  step('a gzip-compressed batch round-trips', async () => {
    await admin.createTopics({ topics: [{ topic: 'gzipped', numPartitions: 1 }], timeout: 10000 })
    const messages = []
    for (let i = 0; i < 300; i++) {
      messages.push({ partition: 0, key: `gz-${i}`, value: `compressible ${i} `.repeat(20), headers: { codec: 'gzip' } })
    }
    await produce('gzipped', messages, { compression: CompressionTypes.GZIP })
    assertOffsetsDense('gzipped')
    await assertTopicReadsBack('gzipped')
  })

  step('admin.deleteTopics removes a topic; created again it starts empty', async () => {
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }], timeout: 10000 })
    await produce('doomed', [
      { partition: 0, key: 'a', value: 'one' },
      { partition: 1, key: 'b', value: 'two' }
    ])
    await admin.deleteTopics({ topics: ['doomed'], timeout: 10000 })
    delete expected.doomed // nothing of it is left to read back
    assert.ok(!(await admin.listTopics()).includes('doomed'))
    assert.ok((await admin.listTopics()).includes('keyed'))
    // Deleting it again: UNKNOWN_TOPIC_OR_PARTITION (which KafkaJS retries, then gives up).
    await assert.rejects(admin.deleteTopics({ topics: ['doomed'], timeout: 10000 }),
      e => (e.type ?? e.cause?.type) === 'UNKNOWN_TOPIC_OR_PARTITION')
    assert.equal(await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }], timeout: 10000 }), true)
    const offsets = await admin.fetchTopicOffsets('doomed')
    assert.deepEqual(offsets.map(o => ({ partition: o.partition, low: o.low, high: o.high })),
      [{ partition: 0, low: '0', high: '0' }])
    const [first] = await produce('doomed', [{ partition: 0, key: 'c', value: 'new life' }])
    assert.equal(first.offset, '0')
    await assertTopicReadsBack('doomed')
  })

  step('after a restart (SIGTERM) everything reads back at the same offsets', async () => {
    const watermarks = async () => (await admin.fetchTopicOffsets('keyed'))
      .sort((a, b) => a.partition - b.partition)
    const before = await watermarks()
    await disconnectClients()
    await broker.restart('SIGTERM')
    await connectClients()
    assert.deepEqual(await watermarks(), before)
    for (const topic of Object.keys(expected)) await assertTopicReadsBack(topic)
    // The log goes on where it stopped: nothing is overwritten.
    const [next] = await produce('edge-cases', [{ partition: 0, key: 'next', value: 'after restart' }])
    assert.equal(next.offset, '2')
  })
})
