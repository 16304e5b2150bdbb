'use strict'
// Consumer groups with KafkaJS 2.2.4 against a real Klamm broker process (node:test).
//
// Run alone:  cd integration/node && KLAMM_BROKER=../../build/klamm node --test groups.test.js
//
// Covers the group protocol as KafkaJS drives it (FindCoordinator, JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup), committed offsets (OffsetCommit / OffsetFetch) surviving a
// broker restart, and the admin calls listGroups, describeGroups and fetchOffsets.
//
// One broker for the whole file; every test has a topic and a group of its own. The two
// restart tests come last because they restart that broker. Session timeouts are the
// broker's minimum (6 s) with a heartbeat every second, so rebalances take seconds.

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const { describe, it, before, after, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const { Kafka, logLevel, AssignerProtocol } = require('kafkajs')
const { Broker } = require('./broker')

const PARTITIONS = [0, 1, 2]
const TEST_TIMEOUT_MS = 60000
const ASSIGNMENT_TIMEOUT_MS = 30000 // two members joining and syncing, at most
const CONSUME_TIMEOUT_MS = 30000
const QUIET_PERIOD_MS = 2000 // after the expected records: nothing else may arrive
const GROUP_SETTINGS = {
  sessionTimeout: 6000, // the broker's group.min.session.timeout.ms
  heartbeatInterval: 1000,
  rebalanceTimeout: 10000,
  maxWaitTimeInMs: 250,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 }
}

let broker // the Broker process
const cleanups = [] // consumers / clients of the current test, disconnected after it

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

function client (clientId = 'klamm-it-groups') {
  return new Kafka({
    clientId,
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, // failures surface as thrown errors or CRASH events
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 }
  })
}

async function connectedAdmin () {
  const admin = client('klamm-it-admin').admin()
  await admin.connect()
  cleanups.push(() => admin.disconnect())
  return admin
}

async function createTopic (topic) {
  const admin = await connectedAdmin()
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], timeout: 10000 }), true)
}

// Send { partition: [value, ...] } with acks -1; returns { partition: [acked offset, ...] }.
async function produce (topic, valuesByPartition) {
  const producer = client('klamm-it-producer').producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const messages = []
    for (const [p, values] of Object.entries(valuesByPartition)) {
      for (const value of values) messages.push({ partition: Number(p), value })
    }
    const result = await producer.send({ topic, messages, acks: -1 })
    const offsets = {}
    for (const r of result) {
      assert.equal(r.errorCode, 0)
      offsets[r.partition] = valuesByPartition[r.partition].map((_, i) => Number(r.baseOffset) + i)
    }
    return offsets
  } finally {
    await producer.disconnect()
  }
}

function numberedValues (tag, perPartition) {
  return Object.fromEntries(PARTITIONS.map(p =>
    [p, Array.from({ length: perPartition }, (_, i) => `${tag}-p${p}-${String(i).padStart(2, '0')}`)]))
}

// Poll condition() every 50 ms; fail after timeoutMs with describe()'s text.
async function waitUntil (condition, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${describe()}`)
    await sleep(50)
  }
}

// A running consumer in `groupId` subscribed to `topic`. member.assigned is the set of
// partitions of its latest GROUP_JOIN event (KafkaJS emits one after every SyncGroup);
// member.received collects { partition, offset, value } of every message.
async function startMember (groupId, topic, clientId, runOptions = {}) {
  const consumer = client(clientId).consumer({ groupId, ...GROUP_SETTINGS })
  const member = { clientId, consumer, assigned: null, memberId: null, crashed: null, received: [], disconnected: false }
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.assigned = new Set(payload.memberAssignment[topic] ?? [])
    member.memberId = payload.memberId
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => { member.crashed = payload.error })
  member.disconnect = async () => {
    if (!member.disconnected) {
      member.disconnected = true
      await consumer.disconnect() // sends LeaveGroup
    }
  }
  cleanups.push(member.disconnect)
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    ...runOptions,
    eachMessage: async ({ partition, message }) => {
      member.received.push({ partition, offset: Number(message.offset), value: message.value.toString() })
    }
  })
  return member
}

function assignments (members) {
  return members.map(m => `${m.clientId}: ${m.assigned ? [...m.assigned].sort().join(',') : 'none'}` +
    (m.crashed ? ` (crashed: ${m.crashed.message})` : '')).join('; ')
}

function splitDisjointly (a, b) {
  if (!a.assigned || !b.assigned || a.assigned.size === 0 || b.assigned.size === 0) return false
  const union = new Set([...a.assigned, ...b.assigned])
  return a.assigned.size + b.assigned.size === PARTITIONS.length && union.size === PARTITIONS.length
}

// Topic `name` with 3 partitions and two members of group `name`, each owning some partitions.
async function twoMembers (name) {
  await createTopic(name)
  const a = await startMember(name, name, 'member-a')
  const b = await startMember(name, name, 'member-b')
  await waitUntil(() => splitDisjointly(a, b), ASSIGNMENT_TIMEOUT_MS,
    () => `both members own partitions, disjointly, all 3 together (${assignments([a, b])})`)
  return [a, b]
}

// Wait until member has received `count` messages, then QUIET_PERIOD_MS more for extra ones.
async function receive (member, count) {
  await waitUntil(() => member.received.length >= count || member.crashed, CONSUME_TIMEOUT_MS,
    () => `${member.received.length} of ${count} messages arrived`)
  if (member.crashed) throw member.crashed
  await sleep(QUIET_PERIOD_MS)
  const byPartition = Object.fromEntries(PARTITIONS.map(p => [p, []]))
  for (const m of member.received) byPartition[m.partition].push([m.offset, m.value])
  return byPartition
}

// { partition: offset } of what admin.fetchOffsets reports for the group on topic.
async function committedOffsets (admin, groupId, topic) {
  const [result] = await admin.fetchOffsets({ groupId, topics: [topic] })
  assert.equal(result.topic, topic)
  return Object.fromEntries(result.partitions.map(p => [p.partition, Number(p.offset)]))
}

// it() that remembers failures, so that the broker's log is printed once at the end.
let failures = 0
function test (name, fn) {
  it(name, { timeout: TEST_TIMEOUT_MS }, async () => {
    failures++
    await fn()
    failures--
  })
}

describe('KafkaJS 2.2.4 consumer groups against Klamm', () => {
  before(async () => {
    broker = await Broker.start()
  }, { timeout: 30000 })

  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()().catch(() => {})
  }, { timeout: 30000 })

  after(async () => {
    if (failures > 0 && broker) process.stderr.write(broker.logTail() + '\n')
    if (broker) await broker.close()
  }, { timeout: 30000 })

  // Every partition of the topic goes to exactly one member of the group, and with two
  // members on three partitions both get some.
  test('two consumers in one group split 3 partitions disjointly', async () => {
    const [a, b] = await twoMembers('split')
    assert.deepEqual([...a.assigned, ...b.assigned].sort(), PARTITIONS)
  })

  // disconnect() sends LeaveGroup, so the coordinator rebalances at once and the remaining
  // member gets every partition, sooner than the leaver's session timeout.
  test('when one consumer disconnects the other gets all 3 partitions', async () => {
    const [a, b] = await twoMembers('leave')
    await a.disconnect()
    const started = Date.now()
    await waitUntil(() => b.assigned?.size === 3, ASSIGNMENT_TIMEOUT_MS,
      () => `member-b owns all partitions after member-a left (${assignments([b])})`)
    assert.ok(Date.now() - started < GROUP_SETTINGS.sessionTimeout,
      `rebalance after LeaveGroup took ${Date.now() - started} ms, as long as a session timeout`)
  })

  // DescribeGroups of a group whose rebalance is done: state Stable, protocol type
  // consumer, and each member with its client id and the partitions it was assigned.
  // ListGroups names the group.
  test('admin.describeGroups shows the members and state Stable; admin.listGroups lists the group', async () => {
    const [a, b] = await twoMembers('described')
    const admin = await connectedAdmin()
    const { groups: listed } = await admin.listGroups()
    assert.ok(listed.some(g => g.groupId === 'described' && g.protocolType === 'consumer'),
      `listGroups: ${JSON.stringify(listed)}`)

    const { groups: [group] } = await admin.describeGroups(['described'])
    assert.equal(group.errorCode, 0)
    assert.equal(group.groupId, 'described')
    assert.equal(group.state, 'Stable')
    assert.equal(group.protocolType, 'consumer')
    assert.equal(group.protocol, 'RoundRobinAssigner') // KafkaJS's default assignor
    const members = Object.fromEntries(group.members.map(m => [m.clientId, m]))
    assert.deepEqual(Object.keys(members).sort(), ['member-a', 'member-b'])
    for (const m of [a, b]) {
      assert.equal(members[m.clientId].memberId, m.memberId)
      const { assignment } = AssignerProtocol.MemberAssignment.decode(members[m.clientId].memberAssignment)
      assert.deepEqual(new Set(assignment.described), m.assigned,
        `describeGroups shows the partitions ${m.clientId} received`)
    }
  })

  // Committed offsets are durable and per group: after a broker restart a new consumer
  // in the group starts right after the last commit; nothing is skipped or read twice
  // (fromBeginning would re-read everything if the commit had been lost).
  async function checkResumesAfterRestart ({ topic, groupId, signal, commit }) {
    await createTopic(topic)
    const first = numberedValues('first', 10)
    assert.deepEqual(await produce(topic, first),
      Object.fromEntries(PARTITIONS.map(p => [p, [...Array(10).keys()]])))

    const reader = await startMember(groupId, topic, 'reader', commit === 'manual' ? { autoCommit: false } : {})
    const got = await receive(reader, 30)
    assert.deepEqual(got, Object.fromEntries(PARTITIONS.map(p => [p, first[p].map((v, i) => [i, v])])))
    let admin = await connectedAdmin()
    if (commit === 'manual') {
      // An earlier commit, then the real one: the last commit is what counts.
      await reader.consumer.commitOffsets(PARTITIONS.map(partition => ({ topic, partition, offset: '4' })))
      await reader.consumer.commitOffsets(PARTITIONS.map(partition => ({ topic, partition, offset: '10' })))
    } else {
      await waitUntil(async () => Object.values(await committedOffsets(admin, groupId, topic)).every(o => o === 10),
        CONSUME_TIMEOUT_MS, () => 'autoCommit committed offset 10 on every partition')
    }
    assert.deepEqual(await committedOffsets(admin, groupId, topic), { 0: 10, 1: 10, 2: 10 })
    await reader.disconnect()
    await admin.disconnect()

    await broker.restart(signal)

    admin = await connectedAdmin()
    assert.deepEqual(await committedOffsets(admin, groupId, topic), { 0: 10, 1: 10, 2: 10 },
      'admin.fetchOffsets after the restart')
    const second = numberedValues('second', 5)
    await produce(topic, second)
    const resumer = await startMember(groupId, topic, 'resumer')
    const resumed = await receive(resumer, 15)
    assert.deepEqual(resumed, Object.fromEntries(PARTITIONS.map(p => [p, second[p].map((v, i) => [10 + i, v])])))
  }

  test('consumer.commitOffsets survives a graceful restart (SIGTERM): a new consumer resumes after it', async () => {
    await checkResumesAfterRestart({ topic: 'resume-manual', groupId: 'resumers-manual', signal: 'SIGTERM', commit: 'manual' })
  })

  test('autoCommit offsets survive a crash restart (SIGKILL): a new consumer resumes after them', async () => {
    await checkResumesAfterRestart({ topic: 'resume-auto', groupId: 'resumers-auto', signal: 'SIGKILL', commit: 'auto' })
  })
})
