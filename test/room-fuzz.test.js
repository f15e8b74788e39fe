'use strict'
// Rooms, property-based: the signaling parser and the frame parser take any
// bytes without throwing and round-trip what the encoders make; and a live
// room shrugs off garbage and fake peers published by a hostile broker. (The
// receiving side's frames and control messages: test/unit/room-incoming.test.js.)
const test = require('tape')
const fc = require('fast-check')
const { parseMessage, encodeMessage, roomTopic, MAX_MESSAGE_BYTES } = require('../dist/lib/room/protocol')
const { parseFrame, encodeTransfer, encodeControl, encodeLabel, PayloadKind, MAX_FRAME_SIZE } = require('../dist/lib/room/frames')
const { parseControlMessage } = require('../dist/lib/room/control')
const { encodePayload, decodePayload } = require('../dist/lib/room/messages')
const { Room, MemoryDriver, LOOPBACK, makeRooms, allConnected, messages, leaveAll } = require('./room-helpers')
const { fakeMember } = require('./room-security-helpers')

const RUNS = 300
const enc = new TextEncoder()
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)
const signalData = fc.oneof(
  fc.record({ type: fc.constantFrom('offer', 'answer'), sdp: fc.string({ minLength: 1 }) }),
  fc.record({ candidate: fc.record({ candidate: fc.string(), sdpMid: fc.string(), sdpMLineIndex: fc.nat(8) }) }),
  fc.constant({ renegotiate: true })
)
const message = fc.oneof(
  fc.record({ type: fc.constant('announce'), from: id, metadata: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ type: fc.constant('hello'), from: id, to: id, metadata: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ type: fc.constant('signal'), from: id, to: id, data: signalData }),
  fc.record({ type: fc.constant('leave'), from: id })
)

test('signaling parser: never throws; returns null for garbage; round-trips valid messages', t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), bytes => {
    const parsed = parseMessage(bytes)
    return parsed === null || typeof parsed.type === 'string'
  }), { numRuns: RUNS })
  fc.assert(fc.property(fc.jsonValue(), value => {
    const parsed = parseMessage(enc.encode(JSON.stringify(value)))
    return parsed === null || ['announce', 'hello', 'signal', 'leave'].includes(parsed.type)
  }), { numRuns: RUNS })
  fc.assert(fc.property(message, m => {
    const parsed = parseMessage(encodeMessage(m))
    // JSON normalizes -0 to 0: compare through JSON.
    return parsed !== null && JSON.stringify(parsed) === JSON.stringify(JSON.parse(JSON.stringify(m)))
  }), { numRuns: RUNS })
  // Valid messages with one field broken or removed: null, never a throw.
  fc.assert(fc.property(message, fc.constantFrom('v', 'type', 'from', 'to', 'data', 'metadata'), fc.anything(), (m, key, junk) => {
    const broken = { v: 1, ...m, [key]: junk }
    let bytes
    try { bytes = enc.encode(JSON.stringify(broken)) } catch { return true }
    const parsed = parseMessage(bytes)
    return parsed === null || parsed.type === broken.type
  }), { numRuns: RUNS })
  t.equal(parseMessage(new Uint8Array(MAX_MESSAGE_BYTES + 1).fill(32)), null, 'a message over the size bound is refused')
  t.equal(parseMessage(enc.encode('['.repeat(60000))), null, 'deeply nested garbage is refused')
  t.equal(parseMessage(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d])), null, 'invalid UTF-8 is refused')
  t.equal(parseMessage(encodeMessage({ type: 'signal', from: 'a', to: 'b', data: { bogus: 1 } })), null, 'a signal without signaling data is refused')
  t.equal(parseMessage(enc.encode(JSON.stringify({ v: 2, type: 'leave', from: 'a' }))), null, 'another version is refused')
  t.equal(parseControlMessage(new Uint8Array([1, 2, 3])), null, 'control: garbage is refused')
  t.end()
})

const label = fc.string({ maxLength: 40 }).filter(l => encodeLabel(l) !== null)
const kind = fc.constantFrom(PayloadKind.BYTES, PayloadKind.TEXT, PayloadKind.JSON)

test('frame parser: never throws on any bytes; round-trips frames', t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), bytes => {
    const frame = parseFrame(bytes)
    return frame === null || typeof frame.type === 'string'
  }), { numRuns: RUNS * 3 })
  // Frames with a valid header and random rest.
  fc.assert(fc.property(fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 64 }), (type, rest) => {
    const frame = parseFrame(new Uint8Array([1, type, 0, 0, 0, 1, ...rest]))
    return frame === null || typeof frame.type === 'string'
  }), { numRuns: RUNS * 3 })
  fc.assert(fc.property(fc.nat(), kind, label, fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 400, max: 2000 }), (transfer, k, l, payload, size) => {
    const frames = encodeTransfer(transfer, k, encodeLabel(l), payload, size)
    if (!frames.every(f => f.byteLength <= size)) return false
    const parsed = frames.map(parseFrame)
    if (parsed[0].type !== 'start' || parsed[0].label !== l || parsed[0].kind !== k || parsed[0].total !== payload.byteLength) return false
    if (!parsed.slice(1).every(f => f.type === 'chunk' && f.transfer === transfer)) return false
    const joined = Buffer.concat(parsed.map(f => f.payload))
    return joined.equals(Buffer.from(payload))
  }), { numRuns: RUNS })
  t.equal(parseFrame(new Uint8Array(MAX_FRAME_SIZE + 1).fill(1)), null, 'a frame over the size bound is refused')
  t.equal(parseFrame(encodeControl(enc.encode('{}'))).type, 'control', 'a control frame parses')
  t.end()
})

test('payloads: strings, bytes and JSON values round-trip; bad payloads are reported, not thrown', t => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.uint8Array(), fc.jsonValue()), value => {
    const { kind: k, payload } = encodePayload(value)
    const decoded = decodePayload(k, payload)
    return JSON.stringify(decoded.data) === JSON.stringify(value instanceof Uint8Array ? value : JSON.parse(JSON.stringify(value)))
  }), { numRuns: RUNS })
  fc.assert(fc.property(kind, fc.uint8Array({ maxLength: 100 }), (k, bytes) => {
    const decoded = decodePayload(k, bytes)
    return 'data' in decoded || typeof decoded.error === 'string'
  }), { numRuns: RUNS })
  t.equal(encodePayload(undefined), null, 'undefined is not a payload')
  t.equal(encodePayload(() => 1), null, 'a function is not a payload')
  const cyclic = {}
  cyclic.self = cyclic
  t.equal(encodePayload(cyclic), null, 'a cyclic object is not a payload')
  t.end()
})

test('a live room shrugs off garbage and fake peers from a hostile broker', async t => {
  t.timeoutAfter(60e3)
  const { hub, rooms } = makeRooms(2)
  const [a, b] = rooms
  // A room of its own, with a short connection timeout, for the fake peer
  // (real connections get the default, so a loaded machine does not fail them).
  const lonely = new Room({ id: 'lonely', driver: new MemoryDriver(hub), ...LOOPBACK, connectionTimeout: 300 })
  const escaped = []
  const onEscape = err => escaped.push(String(err && err.stack || err))
  process.on('uncaughtException', onEscape)
  process.on('unhandledRejection', onEscape)
  try {
    await Promise.all([...rooms, lonely].map(room => room.join()))
    await Promise.all(rooms.map(room => allConnected(room, 1)))
    const evil = new MemoryDriver(hub)
    const topic = await roomTopic(a.id)
    // Garbage and near-valid messages on the room topic.
    const garbage = fc.sample(fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.jsonValue().map(v => enc.encode(JSON.stringify(v))),
      message.map(m => { const bytes = encodeMessage({ ...m, type: 'signal', to: a.localId }); return bytes })
    ), 300)
    for (const bytes of garbage) await evil.publish(topic, bytes)
    // A leave forged for an unknown id, and one fake peer that never answers.
    await evil.publish(topic, encodeMessage({ type: 'leave', from: 'nobody' }))
    const failed = new Promise(resolve => lonely.on('connection:failed', e => { if (e.peer.id === 'fakepeer') resolve(e) }))
    const left = new Promise(resolve => lonely.on('peer:leave', e => { if (e.peer.id === 'fakepeer') resolve(e) }))
    // (Signaling is sealed: the fake peer speaks the handshake, then goes silent.)
    const fake = await fakeMember(new MemoryDriver(hub), 'lonely', 'fakepeer')
    await fake.announce()
    const failure = await failed
    t.equal(failure.error.code, 'ERR_CONNECTION_TIMEOUT', 'a fake peer that never answers fails with ERR_CONNECTION_TIMEOUT')
    await left
    t.notOk(lonely.peers.has('fakepeer'), 'and is removed (peer:leave)')
    t.equal(failure.peer.state, 'failed', 'its state is failed')
    t.equal(a.peers.get(b.localId).state, 'connected', 'a and b stay connected')
    const got = messages(b, 1)
    a.send('ok')
    t.equal((await got)[0].data, 'ok', 'and still talk')
    t.deepEqual(escaped, [], 'nothing was thrown')
  } finally {
    process.removeListener('uncaughtException', onEscape)
    process.removeListener('unhandledRejection', onEscape)
    await leaveAll([...rooms, lonely])
  }
})
