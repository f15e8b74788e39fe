'use strict'
// Rooms, security, property-based: the envelope and peer-message parsers
// take any input without throwing; a started handshake takes any bytes and
// any well-formed-but-wrong envelope without throwing or admitting anyone;
// and live connected rooms (with and without a password) shrug off garbage,
// forged envelopes and tampered copies of real messages from a hostile
// broker on every topic they listen to.
const test = require('tape')
const fc = require('fast-check')
const { parseEnvelope, encodeEnvelope } = require('../dist/lib/room/codec')
const { parsePeerMessage, encodePeerMessage, roomTopic, peerTopic, MAX_MESSAGE_BYTES } = require('../dist/lib/room/protocol')
const { toBase64, fromBase64 } = require('../dist/lib/room/crypto')
const { Room, MemoryDriver, MemoryHub, LOOPBACK, allConnected, messages, leaveAll } = require('./room-helpers')
const { TapDriver, fakeMember, settled } = require('./room-security-helpers')

const RUNS = 200
const enc = new TextEncoder()
const dec = new TextDecoder()
const bytesOf = n => fc.uint8Array({ minLength: n, maxLength: n })
const box = fc.uint8Array({ minLength: 28, maxLength: 300 })
const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/)
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)

async function validKeys (n) {
  const keys = []
  for (let i = 0; i < n; i++) {
    const pair = await globalThis.crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])
    keys.push(new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', pair.publicKey)))
  }
  return keys
}

/** Envelopes of every kind with fields of the right shape; `keys` and `prints` mix real values in. */
function envelopes (keys = [], prints = [], nonces = []) {
  const key = keys.length ? fc.oneof(bytesOf(65), fc.constantFrom(...keys)) : bytesOf(65)
  const print = prints.length ? fc.oneof(hex32, fc.constantFrom(...prints)) : hex32
  const nonce = nonces.length ? fc.oneof(bytesOf(16), fc.constantFrom(...nonces)) : bytesOf(16)
  return fc.oneof(
    fc.record({ k: fc.constant('announce'), p: key, n: nonce, t: fc.oneof(fc.constant(Date.now()), fc.nat()), b: box }),
    fc.record({ k: fc.constant('hello'), p: key, n: nonce, r: nonce, m: bytesOf(32), b: box }),
    fc.record({ k: fc.constant('confirm'), f: print, r: nonce, m: bytesOf(32), b: box }),
    fc.record({ k: fc.constant('pair'), f: print, b: box })
  )
}

test('envelope and peer-message parsers: never throw; null for garbage; round-trip', t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), bytes => {
    const e = parseEnvelope(bytes)
    const m = parsePeerMessage(bytes)
    return (e === null || typeof e.k === 'string') && (m === null || typeof m.type === 'string')
  }), { numRuns: RUNS * 3 })
  fc.assert(fc.property(fc.jsonValue(), value => {
    const bytes = enc.encode(JSON.stringify(value))
    return parseEnvelope(bytes) === null || typeof value === 'object'
  }), { numRuns: RUNS })
  fc.assert(fc.property(envelopes(), e => {
    const parsed = parseEnvelope(encodeEnvelope(e))
    return parsed !== null && JSON.stringify(encodeEnvelope(parsed)) === JSON.stringify(encodeEnvelope(e))
  }), { numRuns: RUNS })
  // One field broken: null, or still the same kind; never a throw.
  fc.assert(fc.property(envelopes(), fc.constantFrom('v', 'k', 'p', 'n', 't', 'r', 'm', 'f', 'b'), fc.anything(), (e, field, junk) => {
    const obj = JSON.parse(dec.decode(encodeEnvelope(e)))
    obj[field] = junk
    let bytes
    try { bytes = enc.encode(JSON.stringify(obj)) } catch { return true }
    const parsed = parseEnvelope(bytes)
    return parsed === null || parsed.k === obj.k
  }), { numRuns: RUNS })
  const peerMessage = fc.oneof(
    fc.record({ type: fc.constantFrom('hello', 'confirm'), from: id, to: id, counter: fc.integer({ min: 1 }), metadata: fc.jsonValue({ maxDepth: 3 }) }),
    fc.record({ type: fc.constantFrom('accept', 'leave'), from: id, to: id, counter: fc.integer({ min: 1 }) }),
    fc.record({ type: fc.constant('signal'), from: id, to: id, counter: fc.integer({ min: 1 }), data: fc.record({ type: fc.constantFrom('offer', 'answer'), sdp: fc.string({ minLength: 1 }) }) })
  )
  fc.assert(fc.property(peerMessage, m => {
    const parsed = parsePeerMessage(encodePeerMessage(m))
    return parsed !== null && JSON.stringify(parsed) === JSON.stringify(JSON.parse(JSON.stringify(m)))
  }), { numRuns: RUNS })
  t.equal(parseEnvelope(enc.encode(JSON.stringify({ v: 1, k: 'pair', f: 'a'.repeat(32), b: toBase64(new Uint8Array(27)) }))), null, 'a box shorter than IV and tag is refused')
  t.equal(parseEnvelope(enc.encode(JSON.stringify({ v: 1, k: 'hello', p: toBase64(new Uint8Array(64)), n: 'AAAAAAAAAAAAAAAAAAAAAA', r: 'AAAAAAAAAAAAAAAAAAAAAA', m: toBase64(new Uint8Array(32)), b: toBase64(new Uint8Array(40)) }))), null, 'a key of the wrong length is refused')
  const big = encodeEnvelope({ k: 'pair', f: 'a'.repeat(32), b: new Uint8Array(50 * 1024) })
  t.ok(big.byteLength > MAX_MESSAGE_BYTES && parseEnvelope(big) === null, 'an envelope over the size bound is refused')
  t.notEqual(parseEnvelope(encodeEnvelope({ k: 'pair', f: 'a'.repeat(32), b: new Uint8Array(40 * 1024) })), null, 'one under it is read')
  t.equal(fromBase64('a'), null, 'base64 of an impossible length is refused')
  t.equal(fromBase64('ab+/'), null, 'base64 that is not base64url is refused')
  t.equal(parsePeerMessage(enc.encode('{"type":"accept","from":"a","to":"b","counter":0}')), null, 'a counter of 0 is refused')
  t.end()
})

test('a started handshake takes any bytes and forged envelopes on any topic: no throw, nobody admitted', async t => {
  t.timeoutAfter(120e3)
  const hub = new MemoryHub()
  const member = await fakeMember(new MemoryDriver(hub), 'fuzz-room', 'target', { password: 'pw' })
  const keys = await validKeys(3)
  const topics = [member.topic, member.own, 'elsewhere']
  let threw = 0
  await fc.assert(fc.asyncProperty(fc.constantFrom(...topics), fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 3 }).map(v => enc.encode(JSON.stringify(v))),
    envelopes(keys, [member.handshake.fingerprint]).map(encodeEnvelope)
  ), async (topic, bytes) => {
    try {
      await member.handshake.receive(topic, bytes)
    } catch {
      threw++
    }
    return true
  }), { numRuns: RUNS * 2 })
  t.equal(threw, 0, 'receive() never threw or rejected')
  t.deepEqual(member.admitted, [], 'nobody was admitted')
})

async function hostileBroker (t, options) {
  const hub = new MemoryHub()
  const id = `room-${Math.random().toString(36).slice(2)}`
  const log = []
  const rooms = [0, 1].map(() => new Room({ id, driver: new TapDriver(hub, log), ...LOOPBACK, connectionTimeout: 20e3, ...options }))
  const escaped = []
  const onEscape = err => escaped.push(String((err && err.stack) || err))
  process.on('uncaughtException', onEscape)
  process.on('unhandledRejection', onEscape)
  const events = []
  for (const room of rooms) {
    room.on('peer:join', ({ peer }) => events.push(`join ${peer.id}`))
    room.on('peer:leave', ({ peer }) => events.push(`leave ${peer.id}`))
  }
  try {
    await Promise.all(rooms.map(room => room.join({ secret: 'x' })))
    await Promise.all(rooms.map(room => allConnected(room, 1)))
    // Late ICE candidates are signaling too: let them through first.
    await settled(hub)
    const [a, b] = rooms
    const before = rooms.map(room => [...room.peers.values()][0])
    const joins = events.length
    let signals = 0
    for (const p of before) {
      const signal = p.peer.signal.bind(p.peer)
      p.peer.signal = data => { signals++; return signal(data) }
    }
    const topic = await roomTopic(id)
    const topics = [topic, ...await Promise.all(rooms.map(room => peerTopic(topic, room.localId)))]
    // Real values from the captured messages, for forgeries that get further.
    const captured = log.map(({ topic, bytes }) => ({ topic, envelope: JSON.parse(dec.decode(bytes)) }))
    const realKeys = captured.filter(c => c.envelope.p).map(c => fromBase64(c.envelope.p))
    const realPrints = captured.filter(c => c.envelope.f).map(c => c.envelope.f)
    const realNonces = captured.filter(c => c.envelope.n).map(c => fromBase64(c.envelope.n))
    // Tampered copies: one base64 character of one field changed, or a field taken from another message.
    const tampered = fc.tuple(fc.constantFrom(...captured), fc.constantFrom(...captured), fc.constantFrom('p', 'n', 'r', 'm', 'f', 'b', 't'), fc.nat(), fc.boolean()).map(([c, other, field, at, borrow]) => {
      const copy = { ...c.envelope }
      if (borrow) copy[field] = other.envelope[field]
      else if (typeof copy[field] === 'string' && copy[field].length) {
        const s = copy[field]
        const i = at % s.length
        copy[field] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
      }
      return { topic: c.topic, bytes: enc.encode(JSON.stringify(copy)) }
    })
    const anyTopic = fc.constantFrom(...topics)
    const hostile = fc.oneof(
      fc.tuple(anyTopic, fc.uint8Array({ maxLength: 300 })).map(([topic, bytes]) => ({ topic, bytes })),
      fc.tuple(anyTopic, fc.jsonValue({ maxDepth: 3 })).map(([topic, v]) => ({ topic, bytes: enc.encode(JSON.stringify(v)) })),
      fc.tuple(anyTopic, envelopes(realKeys, realPrints, realNonces)).map(([topic, e]) => ({ topic, bytes: encodeEnvelope(e) })),
      tampered
    )
    const evil = new MemoryDriver(hub)
    const sent = fc.sample(hostile, 600)
    for (const { topic, bytes } of sent) await evil.publish(topic, bytes)
    // And the captured messages themselves, as they were.
    for (const { topic, bytes } of log.slice()) await evil.publish(topic, bytes)
    // A round trip of chat through the connections, then a round of signaling
    // behind the garbage (a third peer joining) shows the garbage was taken.
    const c = new Room({ id, driver: new MemoryDriver(hub), ...LOOPBACK, connectionTimeout: 20e3, ...options })
    rooms.push(c)
    await c.join()
    await allConnected(c, 2)
    await Promise.all([a, b].map(room => allConnected(room, 2)))
    t.deepEqual(events.slice(joins).sort(), [`join ${c.localId}`, `join ${c.localId}`], `${sent.length + log.length} hostile messages: no peer:join or peer:leave but the new peer's`)
    t.equal(signals, 0, 'no forged, tampered or replayed signaling data reached the connection of the first two')
    t.ok(rooms.slice(0, 2).every((room, i) => room.peers.get(before[i].id) === before[i] && before[i].state === 'connected'), 'the first two keep their connection, same entry')
    const got = messages(b, 1)
    a.send('still fine')
    t.equal((await got)[0].data, 'still fine', 'and still talk')
    t.deepEqual(escaped, [], 'nothing was thrown')
  } finally {
    process.removeListener('uncaughtException', onEscape)
    process.removeListener('unhandledRejection', onEscape)
    await leaveAll(rooms)
  }
}

test('live rooms with a password shrug off garbage, forged envelopes and tampered messages', async t => {
  t.timeoutAfter(120e3)
  await hostileBroker(t, { password: 'fuzz' })
})

test('live rooms without a password shrug off garbage, forged envelopes and tampered messages', async t => {
  t.timeoutAfter(120e3)
  await hostileBroker(t, {})
})
