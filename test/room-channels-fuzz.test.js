'use strict'
// Rooms, property-based: the control messages of channels, media and
// signaling over the connection (link-messages.ts) are parsed without ever
// throwing, garbage gives null, and what the encoder makes reads back; a
// live connection shrugs off malformed ones sent by its peer.
const test = require('tape')
const fc = require('fast-check')
const { parseLinkMessage, encodeLinkMessage, FIRST_CHANNEL_ID, LAST_CHANNEL_ID } = require('../dist/lib/room/link-messages')
const { encodeControl } = require('../dist/lib/room/frames')
const { makeRooms, allConnected, messages, leaveAll, withMesh } = require('./room-helpers')

const RUNS = 300
const enc = new TextEncoder()
const label = fc.string({ minLength: 1, maxLength: 40 })
const delivery = fc.oneof(
  fc.record({ ordered: fc.boolean() }),
  fc.record({ ordered: fc.boolean(), maxRetransmits: fc.nat(65535) }),
  fc.record({ ordered: fc.boolean(), maxPacketLifeTime: fc.nat(65535) })
)
const linkMessage = fc.oneof(
  fc.record({ type: fc.constant('rtc-signal'), data: fc.oneof(fc.record({ type: fc.constantFrom('offer', 'answer'), sdp: fc.string({ minLength: 1 }) }), fc.constant({ type: 'renegotiate', renegotiate: true })) }),
  fc.record({ type: fc.constant('rtc-channel'), op: fc.constant('ask'), kind: fc.constantFrom('frames', 'pipe'), label, delivery }),
  fc.record({ type: fc.constant('rtc-channel'), op: fc.constantFrom('open', 'made'), kind: fc.constantFrom('frames', 'pipe'), label, id: fc.integer({ min: FIRST_CHANNEL_ID, max: LAST_CHANNEL_ID }), delivery }),
  fc.record({ type: fc.constant('rtc-media'), op: fc.constantFrom('add', 'remove'), label, stream: fc.string({ minLength: 1, maxLength: 64 }) })
)

test('link messages: never throw; garbage is null; valid messages round-trip', t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), bytes => {
    parseLinkMessage(bytes)
  }), { numRuns: RUNS })
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), value => {
    const parsed = parseLinkMessage(enc.encode(JSON.stringify(value)))
    return parsed === null || ['rtc-signal', 'rtc-channel', 'rtc-media'].includes(parsed.type)
  }), { numRuns: RUNS })
  fc.assert(fc.property(linkMessage, message => {
    const parsed = parseLinkMessage(encodeLinkMessage(message))
    if (JSON.stringify(parsed) !== JSON.stringify(message)) throw new Error(`${JSON.stringify(message)} read back as ${JSON.stringify(parsed)}`)
  }), { numRuns: RUNS })
  const bad = [
    { type: 'rtc-channel', op: 'open', kind: 'frames', label: 'x', id: 511 },
    { type: 'rtc-channel', op: 'open', kind: 'frames', label: 'x', id: 1024 },
    { type: 'rtc-channel', op: 'open', kind: 'frames', label: 'x', id: 600.5 },
    { type: 'rtc-channel', op: 'ask', kind: 'other', label: 'x' },
    { type: 'rtc-channel', op: 'ask', kind: 'frames', label: '' },
    { type: 'rtc-channel', op: 'ask', kind: 'frames', label: 'x'.repeat(256) },
    { type: 'rtc-channel', op: 'ask', kind: 'frames', label: 'x', maxRetransmits: 1, maxPacketLifeTime: 1 },
    { type: 'rtc-channel', op: 'ask', kind: 'frames', label: 'x', ordered: 'no' },
    { type: 'rtc-media', op: 'add', label: 'x', stream: '' },
    { type: 'rtc-media', op: 'replace', label: 'x', stream: 's' },
    { type: 'rtc-signal', data: { nothing: true } },
    { type: 'rtc-signal', data: 'offer' }
  ]
  for (const message of bad) t.equal(parseLinkMessage(enc.encode(JSON.stringify(message))), null, `rejected: ${JSON.stringify(message).slice(0, 90)}`)
  t.end()
})

test('link messages: a connection takes malformed or out-of-turn ones from its peer and carries on', async t => {
  t.timeoutAfter(60e3)
  await withMesh(2, async rooms => {
    const [a, b] = rooms
    const toB = a.peers.get(b.localId)
    const initiatorSide = toB.peer.initiator
    const send = message => toB.peer.send(encodeControl(enc.encode(JSON.stringify(message))))
    const errors = []
    b.on('error', err => errors.push(err))
    // Out of turn: the initiator asking, the non-initiator telling ids, confirmations of unknown channels, media of unknown streams.
    send({ type: 'rtc-channel', op: initiatorSide ? 'ask' : 'open', kind: 'frames', label: 'x', id: 600 })
    send({ type: 'rtc-channel', op: 'made', kind: 'frames', label: 'nothing', id: 700 })
    send({ type: 'rtc-media', op: 'remove', label: 'cam', stream: 'unknown' })
    send({ type: 'rtc-media', op: 'add', label: 'cam', stream: 'unknown' })
    send({ type: 'rtc-channel', op: 'open' })
    const got = messages(b, 1, 'after')
    a.send('still here', { label: 'after' })
    t.equal((await got)[0].data, 'still here', 'the connection still carries messages')
    t.equal(b.peers.get(a.localId).state, 'connected', 'and stays connected')
    t.equal(b.peers.get(a.localId).link.channels.size, 0, 'no channel was made by out-of-turn messages')
    t.deepEqual(errors, [], 'no error on the room')
  })
})
