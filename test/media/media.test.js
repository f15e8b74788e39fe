'use strict'
// Media and renegotiation between two duplex-peers.
const test = require('tape')
const { pair, connected, closed, once } = require('../helpers')
const { camera, firstFrame } = require('./helpers')

/** Resolves with the next `track` event's (track, stream). */
function nextTrack (peer) {
  return new Promise(resolve => peer.once('track', (track, stream) => resolve({ track, stream })))
}

function countOffers (peer) {
  const counter = { offers: 0 }
  peer.on('signal', s => { if (s.type === 'offer') counter.offers++ })
  return counter
}

test('initiator starts with a stream: the other side gets stream, track and frames', async t => {
  const cam = camera()
  const [a, b] = pair({ stream: cam.stream })
  const streams = []
  b.on('stream', s => streams.push(s))
  const { track, stream } = await nextTrack(b)
  t.equal(track.kind, 'video', 'video track')
  t.equal(stream.id, cam.stream.id, 'stream id carried over')
  const frame = await firstFrame(track)
  t.deepEqual(frame, { width: cam.width, height: cam.height }, 'frames flow')
  await connected(a, b)
  t.equal(streams.length, 1, 'one stream event')
  cam.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

test('both start with streams: one offer, each side receives the other', async t => {
  const camA = camera(); const camB = camera(96, 64)
  const [a, b] = pair({ stream: camA.stream }, { stream: camB.stream })
  const offers = countOffers(a)
  const [ta, tb] = await Promise.all([nextTrack(a), nextTrack(b)])
  t.equal(ta.stream.id, camB.stream.id, 'initiator got the non-initiator stream')
  t.equal(tb.stream.id, camA.stream.id, 'non-initiator got the initiator stream')
  const [fa, fb] = await Promise.all([firstFrame(ta.track), firstFrame(tb.track)])
  t.equal(fa.width, 96, 'frames from b reach a')
  t.equal(fb.width, 160, 'frames from a reach b')
  await connected(a, b)
  // Round trip over the data channel: any extra offer would have been made by now.
  const echo = once(a, 'data')
  b.on('data', d => b.write(d))
  a.write('ping')
  t.equal(String(await echo), 'ping', 'data channel works')
  t.equal(offers.offers, 1, 'exactly one offer was made')
  camA.stop(); camB.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

for (const side of ['initiator', 'non-initiator']) {
  test(`${side} adds a track mid-call: frames arrive on the other side`, async t => {
    const [a, b] = pair()
    await connected(a, b)
    const [adder, receiver] = side === 'initiator' ? [a, b] : [b, a]
    const cam = camera()
    const arrival = nextTrack(receiver)
    const streamEvent = once(receiver, 'stream')
    adder.addTrack(cam.track, cam.stream)
    const { track, stream } = await arrival
    t.equal(stream.id, cam.stream.id, 'track arrives with its stream')
    t.equal((await streamEvent).id, cam.stream.id, 'stream event')
    const frame = await firstFrame(track)
    t.equal(frame.width, cam.width, 'a frame pushed on one side came out on the other')
    cam.stop(); a.destroy(); b.destroy()
    await closed(a, b)
  })
}

test('addStream / removeStream / addStream of another stream, from the non-initiator', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const cam1 = camera(); const cam2 = camera(128, 96)
  let arrival = nextTrack(a)
  b.addStream(cam1.stream)
  t.equal((await arrival).stream.id, cam1.stream.id, 'first stream arrives')
  b.removeStream(cam1.stream)
  await once(b, 'negotiated')
  t.pass('renegotiated after remove')
  arrival = nextTrack(a)
  b.addStream(cam2.stream)
  const { track, stream } = await arrival
  t.equal(stream.id, cam2.stream.id, 'second stream arrives')
  t.equal((await firstFrame(track)).width, 128, 'its frames flow')
  cam1.stop(); cam2.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

test('glare: both sides add a track at the same moment', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const camA = camera(); const camB = camera(96, 64)
  const ta = nextTrack(a); const tb = nextTrack(b)
  a.addTrack(camA.track, camA.stream)
  b.addTrack(camB.track, camB.stream)
  const [ra, rb] = await Promise.all([ta, tb])
  t.equal(ra.stream.id, camB.stream.id, 'a got b\'s track')
  t.equal(rb.stream.id, camA.stream.id, 'b got a\'s track')
  const [fa, fb] = await Promise.all([firstFrame(ra.track), firstFrame(rb.track)])
  t.deepEqual([fa.width, fb.width], [96, 160], 'frames both ways')
  camA.stop(); camB.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

test('media errors are coded', async t => {
  const [a, b] = pair()
  const cam = camera()
  a.addTrack(cam.track, cam.stream)
  try { a.addTrack(cam.track, cam.stream); t.fail('should throw') } catch (err) { t.equal(err.code, 'ERR_SENDER_ALREADY_ADDED') }
  const other = camera()
  try { a.removeTrack(other.track, other.stream); t.fail('should throw') } catch (err) { t.equal(err.code, 'ERR_TRACK_NOT_ADDED') }
  try { a.replaceTrack(other.track, cam.track, other.stream); t.fail('should throw') } catch (err) { t.equal(err.code, 'ERR_TRACK_NOT_ADDED') }
  cam.stop(); other.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

test('replaceTrack swaps the source without renegotiating', async t => {
  const cam1 = camera(160, 120); const cam2 = camera(64, 48)
  const [a, b] = pair({ stream: cam1.stream })
  const { track } = await nextTrack(b)
  await connected(a, b)
  t.equal((await firstFrame(track)).width, 160, 'first source')
  const offers = countOffers(a)
  a.replaceTrack(cam1.track, cam2.track, cam1.stream)
  const { frameOfSize } = require('./helpers')
  t.equal((await frameOfSize(track, 64)).width, 64, 'frames of the new source arrive on the same remote track')
  t.equal(offers.offers, 0, 'no renegotiation')
  cam1.stop(); cam2.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

test('addTransceiver from the non-initiator sends a transceiverRequest the initiator honours', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const request = new Promise(resolve => b.on('signal', s => { if (s.type === 'transceiverRequest') resolve(s) }))
  b.addTransceiver('audio', { direction: 'recvonly' })
  const signal = await request
  t.deepEqual(signal, { type: 'transceiverRequest', transceiverRequest: { kind: 'audio', init: { direction: 'recvonly' } } }, 'simple-peer\'s wire format')
  await once(a, 'negotiated')
  const kinds = a._pc.getTransceivers().map(tr => tr.receiver.track.kind)
  t.ok(kinds.includes('audio'), 'initiator added an audio transceiver')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('many add/remove rounds from both sides end stable with the right tracks', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const cams = []
  for (let round = 0; round < 4; round++) {
    const [adder, receiver] = round % 2 ? [b, a] : [a, b]
    const cam = camera(32 + round * 16, 32)
    cams.push(cam)
    const arrival = nextTrack(receiver)
    adder.addStream(cam.stream)
    const { track, stream } = await arrival
    t.equal(stream.id, cam.stream.id, `round ${round}: stream arrived`)
    t.equal((await firstFrame(track)).width, 32 + round * 16, `round ${round}: frames`)
    adder.removeStream(cam.stream)
  }
  // A final change from each side, made while the last removal is negotiating.
  const last = camera(200, 100); cams.push(last)
  const arrival = nextTrack(a)
  b.addStream(last.stream)
  const { track } = await arrival
  t.equal((await firstFrame(track)).width, 200, 'last stream flows')
  if (a._pc.signalingState !== 'stable') await once(a, 'negotiated')
  t.equal(a._pc.signalingState, 'stable', 'initiator stable')
  t.equal(b._pc.signalingState, 'stable', 'non-initiator stable')
  const echo = once(a, 'data')
  b.on('data', d => b.write(d))
  a.write('still here')
  t.equal(String(await echo), 'still here', 'data channel still works')
  for (const cam of cams) cam.stop()
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('bytes piped during renegotiation arrive complete and in order', async t => {
  const crypto = require('crypto')
  const { patternBytes, sha256 } = require('../helpers')
  const [a, b] = pair()
  await connected(a, b)
  const SIZE = 32 * 1024 * 1024
  const data = patternBytes(SIZE, 5)
  const hash = crypto.createHash('sha256')
  let got = 0
  const done = new Promise(resolve => b.on('data', d => { hash.update(d); got += d.length; if (got === SIZE) resolve() }))
  let offset = 0
  const cams = []
  const writeMore = () => {
    while (offset < SIZE) {
      const end = Math.min(offset + 50000, SIZE)
      const ok = a.write(data.subarray(offset, end))
      offset = end
      if (!ok) return a.once('drain', writeMore)
    }
  }
  writeMore()
  // Renegotiate from both sides while the transfer runs.
  for (let i = 0; i < 3; i++) {
    const cam = camera(); cams.push(cam)
    const [adder, receiver] = i % 2 ? [a, b] : [b, a]
    const arrival = nextTrack(receiver)
    adder.addStream(cam.stream)
    await arrival
  }
  await done
  t.equal(got, SIZE, 'all bytes')
  t.equal(hash.digest('hex'), sha256(data), 'SHA-256 matches')
  for (const cam of cams) cam.stop()
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('a removed track can be added back to its stream', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const cam = camera(80, 60)
  let arrival = nextTrack(b)
  a.addTrack(cam.track, cam.stream)
  await arrival
  a.removeTrack(cam.track, cam.stream)
  await once(a, 'negotiated')
  arrival = nextTrack(b)
  a.addTrack(cam.track, cam.stream)
  const { track } = await arrival
  t.equal((await firstFrame(track)).width, 80, 'frames flow again after re-adding')
  cam.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

test('several changes in one tick make one offer', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const offers = countOffers(a)
  const cam1 = camera(); const cam2 = camera(64, 48)
  const seen = new Set()
  const bothArrived = new Promise(resolve => b.on('track', (track, stream) => { seen.add(stream.id); if (seen.size === 2) resolve() }))
  a.addStream(cam1.stream)
  a.addStream(cam2.stream)
  a.addTransceiver('audio')
  await once(a, 'negotiated')
  await bothArrived
  t.equal(offers.offers, 1, 'one offer for three changes')
  t.equal(a._pc.getTransceivers().length, 3, 'two video and one audio transceiver')
  cam1.stop(); cam2.stop(); a.destroy(); b.destroy()
  await closed(a, b)
})

for (const side of ['initiator', 'non-initiator']) {
  test(`negotiate() from the ${side} runs a negotiation that ends in negotiated`, async t => {
    const [a, b] = pair()
    await connected(a, b)
    const offers = countOffers(a)
    const requests = []
    b.on('signal', s => { if (s.type === 'renegotiate') requests.push(s) })
    const caller = side === 'initiator' ? a : b
    const negotiated = once(a, 'negotiated')
    caller.negotiate()
    await negotiated
    t.equal(offers.offers, 1, 'the initiator made one offer')
    t.deepEqual(requests, side === 'initiator' ? [] : [{ type: 'renegotiate', renegotiate: true }], 'the non-initiator asked with a renegotiate signal')
    a.destroy(); b.destroy()
    await closed(a, b)
  })
}
