'use strict'
// Property-based: what a cluster node reads from Redis (its channel, held
// lists) is hostile until parsed. The parser never throws and lets through
// only messages a client could have sent; a live node fed garbage through
// Redis keeps relaying, and its clients only ever see well-formed messages.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, fn) => tape(name, { timeout: 180e3 }, fn)
const fc = require('fast-check')
const { parseClusterMessage, parseHeld, encodeRelayed, envelope } = require('../dist/lib/server/cluster/messages')
const { isValidId } = require('../dist/lib/server/protocol')
const { startRedis } = require('./cluster/servers')
const { startNode } = require('./cluster/helpers')
const { registered } = require('./peerjs/helpers')

const MAX_ID = 128
const TYPES = ['OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', 'EXPIRE']
const id = fc.stringMatching(/^[A-Za-z0-9]{1,8}([_-][A-Za-z0-9]{1,8}){0,2}$/)
const relayed = fc.record({ type: fc.constantFrom(...TYPES), src: id, dst: id, payload: fc.option(fc.jsonValue(), { nil: undefined }) })
  .map(m => { if (m.payload === undefined) delete m.payload; return m })
/** Near-misses of real messages, JSON in general, and plain strings. */
const hostile = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map(v => JSON.stringify(v)),
  fc.record({ k: fc.constantFrom('msg', 'evict', 'ping', 'x'), m: fc.anything(), id: fc.anything(), n: fc.anything() }, { requiredKeys: [] })
    .map(v => { try { return JSON.stringify(v) } catch { return '{}' } }),
  fc.record({ type: fc.oneof(fc.constantFrom(...TYPES, 'HEARTBEAT', 'OPEN'), fc.anything()), src: fc.anything(), dst: fc.anything(), payload: fc.anything() }, { requiredKeys: [] })
    .map(v => { try { return JSON.stringify({ k: 'msg', m: v }) } catch { return '{}' } })
)

/** A parsed message is one a client could have caused. */
function wellFormed (parsed) {
  if (parsed === null) return true
  if (parsed.kind === 'msg') return TYPES.includes(parsed.message.type) && isValidId(parsed.message.src, MAX_ID) && isValidId(parsed.message.dst, MAX_ID)
  if (parsed.kind === 'evict') return isValidId(parsed.id, MAX_ID)
  if (parsed.kind === 'ping') return Number.isSafeInteger(parsed.n) && parsed.n >= 0
  return false
}

test('cluster fuzz: the parser of cluster messages never throws and lets only well-formed messages through', t => {
  fc.assert(fc.property(hostile, text => wellFormed(parseClusterMessage(text, MAX_ID))), { numRuns: 3000 })
  t.pass('hostile channel messages: never a throw, never a malformed result')
  fc.assert(fc.property(fc.anything(), value => parseClusterMessage(value, MAX_ID) === null && parseHeld(value, MAX_ID) === null || typeof value === 'string'))
  t.pass('non-strings are refused')
  fc.assert(fc.property(hostile, text => {
    const held = parseHeld(text, MAX_ID)
    return held === null || (TYPES.includes(held.type) && isValidId(held.src, MAX_ID) && isValidId(held.dst, MAX_ID))
  }), { numRuns: 3000 })
  t.pass('hostile held entries: the same')
  fc.assert(fc.property(relayed, m => {
    const back = parseClusterMessage(envelope(encodeRelayed(m)), MAX_ID)
    return back !== null && back.kind === 'msg' && JSON.stringify(back.message) === JSON.stringify(m) &&
      JSON.stringify(parseHeld(encodeRelayed(m), MAX_ID)) === JSON.stringify(m)
  }))
  t.pass('every well-formed message survives encoding and parsing unchanged')
  t.equal(parseClusterMessage('{"k":"msg","m":{"type":"HEARTBEAT","src":"a","dst":"b"}}', MAX_ID), null, 'a type clients cannot relay is refused')
  t.equal(parseClusterMessage('{"k":"evict","id":"no spaces  twice"}', MAX_ID), null, 'an invalid id is refused')
  t.end()
})

test('cluster fuzz: a live node fed garbage through Redis keeps relaying; clients see only well-formed messages', async t => {
  const escaped = []
  const onEscape = err => escaped.push(String(err && err.stack || err))
  process.on('uncaughtException', onEscape)
  process.on('unhandledRejection', onEscape)
  const redis = await startRedis()
  const n1 = await startNode({ redis: redis.url })
  const n2 = await startNode({ redis: redis.url })
  const a = await registered(n1.port, { id: 'a' })
  const b = await registered(n2.port, { id: 'b' })
  const admin = require('redis').createClient({ url: redis.url })
  await admin.connect()
  const channels = await admin.sendCommand(['PUBSUB', 'CHANNELS', 'duplex-peer:peerjs:chan:*'])
  t.equal(channels.length, 2, 'both nodes\' channels found')
  const samples = fc.sample(hostile, 500)
  for (const text of samples) {
    for (const channel of channels) await admin.publish(channel, text)
    await admin.rPush('duplex-peer:peerjs:held:late', text)
  }
  await admin.zAdd('duplex-peer:peerjs:deadlines', { score: 0, value: 'also-late' })
  await admin.rPush('duplex-peer:peerjs:held:also-late', samples.slice(0, 50))
  a.send({ type: 'OFFER', dst: 'b', payload: 'marker' })
  for (;;) {
    const m = await b.next()
    if (m.payload === 'marker') break
    t.ok(TYPES.includes(m.type) && isValidId(m.src, MAX_ID) && m.dst === 'b', `b got only well-formed messages (${m.type} from ${m.src})`)
  }
  t.pass('node 1 → node 2 still relays after the garbage')
  const late = await registered(n1.port, { id: 'late' })
  late.send({ type: 'OFFER', dst: 'a', payload: 'marker' })
  for (;;) {
    const m = await a.next()
    if (m.payload === 'marker' && m.src === 'late') break
    if (m.type === 'OPEN' || m.type === 'ID-TAKEN' || m.type === 'ERROR') t.fail(`unexpected ${m.type}`)
  }
  let lateCount = 0
  while (late.inbox.length) {
    const m = late.inbox.shift()
    lateCount++
    if (!(TYPES.includes(m.type) && isValidId(m.src, MAX_ID) && m.dst === 'late')) t.fail(`late got ${JSON.stringify(m)}`)
  }
  t.pass(`a client claiming an id with a garbage held list registers; it got ${lateCount} well-formed messages of them`)
  // Sweeps run every 500 ms here; wait for some (a hang guard, not a speed check).
  let deadlines = -1
  for (let i = 0; i < 200 && deadlines !== 0; i++) {
    deadlines = await admin.zCard('duplex-peer:peerjs:deadlines')
    if (deadlines !== 0) await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(deadlines, 0, 'the garbage queue that was due was swept')
  t.deepEqual(escaped, [], 'no exception escaped')
  process.off('uncaughtException', onEscape)
  process.off('unhandledRejection', onEscape)
  await admin.destroy()
  for (const client of [a, b, late]) await client.close()
  await n1.close()
  await n2.close()
  await redis.close()
})
