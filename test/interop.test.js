'use strict'
// duplex-peer against simple-peer 9.11.1 on the data path: both roles, trickle on
// and off, exact bytes both ways, 4 MiB each way, and the shape of every signal.
const test = require('tape')
const SimplePeer = require('simple-peer')
const wrtc = require('@roamhq/wrtc')
const { Peer, LOOPBACK, connected, closed, once, sha256, patternBytes } = require('./helpers')

const BIG = 4 * 1024 * 1024
/** simple-peer sends each write as one message and dies above ~256 KiB: feed it small pieces. */
const SIMPLE_PEER_PIECE = 16 * 1024
/** Generous hang detector for the long tests (not a speed check). */
const WATCHDOG = 120000

/**
 * A duplex-peer and a simple-peer wired to each other. Every signal is
 * recorded as emitted (before delivery) so its shape can be checked.
 */
function mixedPair ({ duplexInitiates, trickle }) {
  const ours = new Peer({ ...LOOPBACK, initiator: duplexInitiates, trickle })
  const theirs = new SimplePeer({ ...LOOPBACK, initiator: !duplexInitiates, trickle, wrtc })
  const ourSignals = []
  const theirSignals = []
  const errors = []
  ours.on('signal', s => { ourSignals.push(s); if (!theirs.destroyed) theirs.signal(s) })
  theirs.on('signal', s => { theirSignals.push(s); if (!ours.destroyed) ours.signal(s) })
  ours.on('error', err => errors.push(['duplex-peer', err.code, err.message]))
  theirs.on('error', err => errors.push(['simple-peer', err.code, err.message]))
  return { ours, theirs, ourSignals, theirSignals, errors }
}

/** Describes a signal's exact shape: its keys (sorted), the type of each value, and the `type` field itself. */
function shapeOf (signal) {
  const describe = (obj) => '{' + Object.keys(obj).sort().map(key => {
    const value = obj[key]
    if (key === 'type') return `type:${JSON.stringify(value)}`
    if (value && typeof value === 'object' && !Array.isArray(value)) return `${key}:${describe(value)}`
    return `${key}:${value === null ? 'null' : typeof value}`
  }).join(',') + '}'
  return describe(signal)
}

function uniqueShapes (signals) {
  return [...new Set(signals.map(shapeOf))].sort()
}

const SHAPE = {
  offer: '{sdp:string,type:"offer"}',
  answer: '{sdp:string,type:"answer"}',
  candidate: '{candidate:{candidate:string,sdpMLineIndex:number,sdpMid:string},type:"candidate"}',
  renegotiate: '{renegotiate:boolean,type:"renegotiate"}'
}

/** Resolves with the concatenation of everything `peer` receives, once `size` bytes arrived. */
function collect (peer, size) {
  return new Promise(resolve => {
    const chunks = []
    let total = 0
    const onData = chunk => {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
      chunks.push(buf)
      total += buf.length
      if (total >= size) {
        peer.removeListener('data', onData)
        resolve(Buffer.concat(chunks))
      }
    }
    peer.on('data', onData)
  })
}

/** Writes `pieces` in order, waiting for 'drain' whenever write() says to. */
async function writeAll (stream, pieces) {
  for (const piece of pieces) {
    if (stream.destroyed) throw new Error('stream destroyed while writing')
    if (!stream.write(piece)) {
      await new Promise((resolve, reject) => {
        const onDrain = () => { stream.removeListener('close', onClose); resolve() }
        const onClose = () => { stream.removeListener('drain', onDrain); reject(new Error('stream closed while waiting for drain')) }
        stream.once('drain', onDrain)
        stream.once('close', onClose)
      })
    }
  }
}

/** Splits `buf` into pieces of the given sizes, cycling through them. */
function split (buf, sizes) {
  const pieces = []
  let offset = 0
  for (let i = 0; offset < buf.length; i++) {
    const size = sizes[i % sizes.length]
    pieces.push(buf.subarray(offset, offset + size))
    offset += size
  }
  return pieces
}

async function teardown (t, pair) {
  const { ours, theirs } = pair
  const done = closed(ours, theirs)
  ours.destroy()
  theirs.destroy()
  await done
  t.ok(ours.destroyed && theirs.destroyed, 'both peers destroyed and closed')
}

for (const duplexInitiates of [true, false]) {
  for (const trickle of [true, false]) {
    const name = `${duplexInitiates ? 'duplex-peer initiates' : 'simple-peer initiates'}, trickle ${trickle ? 'on' : 'off'}`

    test(`${name}: connect, exact bytes both ways, signal shapes, renegotiation`, async t => {
      t.timeoutAfter(WATCHDOG)
      const pair = mixedPair({ duplexInitiates, trickle })
      const { ours, theirs, ourSignals, theirSignals, errors } = pair

      // Written before connect: duplex-peer queues it.
      const early = Buffer.from('early bird ')
      ours.write(early)
      await connected(ours, theirs)
      t.ok(ours.connected, 'duplex-peer connected')
      t.ok(theirs.connected, 'simple-peer connected')

      // Signals emitted up to the connection.
      const sdpType = duplexInitiates ? 'offer' : 'answer'
      const descriptions = ourSignals.filter(s => s.type === sdpType)
      t.equal(descriptions.length, 1, `duplex-peer sent exactly one ${sdpType}`)
      if (trickle) {
        t.deepEqual(uniqueShapes(ourSignals), [SHAPE.candidate, SHAPE[sdpType]].sort(), 'duplex-peer signals have simple-peer\'s shapes, and only those')
        t.ok(ourSignals.some(s => s.type === 'candidate'), 'duplex-peer trickled candidates')
        const theirCandidates = theirSignals.filter(s => s.type === 'candidate')
        t.ok(theirCandidates.length > 0, 'simple-peer trickled candidates')
        t.deepEqual(uniqueShapes(ourSignals.filter(s => s.type === 'candidate')), uniqueShapes(theirCandidates),
          'candidate signals are shaped exactly as simple-peer\'s own')
      } else {
        t.deepEqual(ourSignals.map(shapeOf), [SHAPE[sdpType]], `without trickle duplex-peer sent only its ${sdpType}`)
        t.ok(!theirSignals.some(s => s.type === 'candidate'), 'simple-peer did not trickle either')
        t.ok(/\r\na=candidate:/.test(descriptions[0].sdp), 'our SDP carries the candidates')
        t.ok(!/a=ice-options:trickle/.test(descriptions[0].sdp), 'our SDP has no trickle option')
      }
      const ourDescription = descriptions[0]
      const theirDescription = theirSignals.find(s => s.type === (duplexInitiates ? 'answer' : 'offer'))
      t.deepEqual(Object.keys(ourDescription).sort(), Object.keys(theirDescription).sort(), 'description keys equal simple-peer\'s')

      // Exact bytes, both ways.
      const allBytes = Buffer.alloc(512)
      for (let i = 0; i < allBytes.length; i++) allBytes[i] = i & 0xff
      const text = 'héllo, wörld ✓ 🚀 \u0000 end'
      const typed = new Uint8Array([0, 255, 1, 254, 127, 128])
      const expectedAtTheirs = Buffer.concat([early, allBytes, Buffer.from(text, 'utf8'), Buffer.from(typed)])
      const expectedAtOurs = Buffer.concat([Buffer.from(typed), Buffer.from(text, 'utf8'), allBytes])
      const atTheirs = collect(theirs, expectedAtTheirs.length)
      const atOurs = collect(ours, expectedAtOurs.length)
      ours.write(allBytes)
      ours.write(text)
      ours.write(Buffer.from(typed))
      theirs.write(Buffer.from(typed))
      theirs.write(text)
      theirs.write(allBytes)
      const gotTheirs = await atTheirs
      const gotOurs = await atOurs
      t.equal(gotTheirs.length, expectedAtTheirs.length, 'simple-peer got the right number of bytes')
      t.ok(gotTheirs.equals(expectedAtTheirs), 'simple-peer got exactly our bytes, in order')
      t.equal(gotOurs.length, expectedAtOurs.length, 'duplex-peer got the right number of bytes')
      t.ok(gotOurs.equals(expectedAtOurs), 'duplex-peer got exactly simple-peer\'s bytes, in order')

      // Renegotiation started from our side.
      const before = ourSignals.length
      const negotiated = Promise.all([once(ours, 'negotiated'), once(theirs, 'negotiated')])
      ours.negotiate()
      await negotiated
      const later = ourSignals.slice(before)
      if (duplexInitiates) {
        t.equal(later.filter(s => s.type === 'offer').length, 1, 'the initiator made one new offer')
        t.deepEqual(uniqueShapes(later.filter(s => s.type !== 'candidate')), [SHAPE.offer], 'new offer shaped as simple-peer\'s')
      } else {
        const requests = later.filter(s => s.type === 'renegotiate')
        t.equal(requests.length, 1, 'the non-initiator asked once for a negotiation')
        t.deepEqual(Object.keys(requests[0]).sort(), ['renegotiate', 'type'], 'renegotiate signal has exactly simple-peer\'s keys')
        t.equal(requests[0].renegotiate, true, 'renegotiate: true')
        t.ok(later.some(s => s.type === 'answer'), 'and answered the offer simple-peer made for it')
        t.deepEqual(uniqueShapes(later.filter(s => s.type !== 'candidate')), [SHAPE.answer, SHAPE.renegotiate].sort(), 'renegotiation signals shaped as simple-peer\'s')
      }
      if (trickle) {
        for (const s of later.filter(s => s.type === 'candidate')) t.equal(shapeOf(s), SHAPE.candidate, 'candidate during renegotiation')
      } else {
        t.ok(!later.some(s => s.type === 'candidate'), 'still no trickled candidates')
      }

      // Data still flows after the renegotiation.
      const echo = collect(ours, 4)
      const ping = collect(theirs, 4)
      ours.write('ping')
      t.equal(String(await ping), 'ping', 'duplex-peer -> simple-peer after renegotiation')
      theirs.write('pong')
      t.equal(String(await echo), 'pong', 'simple-peer -> duplex-peer after renegotiation')

      t.deepEqual(errors, [], 'no errors on either side')
      await teardown(t, pair)
    })

    test(`${name}: 4 MiB each way at once, SHA-256 checked`, async t => {
      t.timeoutAfter(WATCHDOG)
      const pair = mixedPair({ duplexInitiates, trickle })
      const { ours, theirs, errors } = pair
      await connected(ours, theirs)

      const fromOurs = patternBytes(BIG, duplexInitiates ? 11 : 12)
      const fromTheirs = patternBytes(BIG, trickle ? 21 : 22)
      t.notEqual(sha256(fromOurs), sha256(fromTheirs), 'the two payloads differ')
      const atTheirs = collect(theirs, BIG)
      const atOurs = collect(ours, BIG)
      // Our writes vary in size, including pieces far above simple-peer's message limit.
      const ourPieces = split(fromOurs, [1, 1000, 16384, 65535, 65537, 300000, 1048576, 7])
      const theirPieces = split(fromTheirs, [SIMPLE_PEER_PIECE])
      await Promise.all([writeAll(ours, ourPieces), writeAll(theirs, theirPieces)])

      const [gotTheirs, gotOurs] = await Promise.all([atTheirs, atOurs])
      t.equal(gotTheirs.length, BIG, 'simple-peer received exactly 4 MiB')
      t.equal(sha256(gotTheirs), sha256(fromOurs), 'simple-peer received our bytes intact (SHA-256)')
      t.equal(gotOurs.length, BIG, 'duplex-peer received exactly 4 MiB')
      t.equal(sha256(gotOurs), sha256(fromTheirs), 'duplex-peer received simple-peer\'s bytes intact (SHA-256)')
      t.deepEqual(errors, [], 'no errors on either side')
      await teardown(t, pair)
    })
  }
}
