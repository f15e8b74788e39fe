'use strict'
// peer.restartIce(): an ICE restart on the same connection, from either
// side, keeps the data channel and everything written; after a cut of the
// link long enough for ICE to call it disconnected, a restart brings the
// connection back through new candidates (the relay follows the new ones).
const test = require('tape')
const crypto = require('crypto')
const { Peer, LOOPBACK, closed, once, patternBytes, sha256 } = require('./helpers')
const { Link } = require('./faults/link')
const { parseSignal } = require('../dist/lib/signal')

function receiveAll (peer) {
  const hash = crypto.createHash('sha256')
  let bytes = 0
  peer.on('data', d => { hash.update(d); bytes += d.length })
  return once(peer, 'end').then(() => ({ bytes, digest: hash.digest('hex') }))
}

/** Two peers connected through the fault relay; `errors` collects what either emits. */
async function linkedPair () {
  const link = await new Link().start()
  const a = new Peer({ ...LOOPBACK, initiator: true })
  const b = new Peer({ ...LOOPBACK })
  link.wire(a, b)
  const errors = []
  a.on('error', e => errors.push(e)); b.on('error', e => errors.push(e))
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  return { link, a, b, errors }
}

/** The ICE ufrag of a local description (read while the connection is stable). */
function ufrag (peer) {
  const m = /a=ice-ufrag:(\S+)/.exec(peer._pc.localDescription.sdp)
  return m && m[1]
}

function iceState (peer, wanted) {
  return new Promise(resolve => {
    // Already there (on a loaded machine ICE may call a link disconnected before the cut): no change will say so.
    const now = peer._pc && peer._pc.iceConnectionState
    if (wanted.includes(now)) return resolve(now)
    const check = state => { if (wanted.includes(state)) { peer.off('iceStateChange', check); resolve(state) } }
    peer.on('iceStateChange', check)
  })
}

/** Resolves once both peers' signaling is stable again after an offer went out. */
function renegotiated (a, b) {
  return Promise.all([a, b].map(p => new Promise(resolve => {
    const pc = p._pc
    const on = () => { if (pc.signalingState === 'stable') { pc.removeEventListener('signalingstatechange', on); resolve() } }
    pc.addEventListener('signalingstatechange', on)
  })))
}

test('signal: a renegotiate request may ask for an ICE restart; nothing else does', t => {
  t.deepEqual(parseSignal({ type: 'renegotiate', renegotiate: true, iceRestart: true }), { renegotiate: true, iceRestart: true })
  t.deepEqual(parseSignal({ type: 'renegotiate', renegotiate: true }), { renegotiate: true })
  t.deepEqual(parseSignal({ type: 'renegotiate', renegotiate: true, iceRestart: 'yes' }), { renegotiate: true }, 'only `true` counts')
  t.equal(parseSignal({ iceRestart: true }), null, 'iceRestart alone asks for nothing')
  t.end()
})

for (const side of ['initiator', 'non-initiator']) {
  test(`restartIce() from the ${side}: new ICE credentials, the stream goes on intact`, async t => {
    const { link, a, b, errors } = await linkedPair()
    const before = [ufrag(a), ufrag(b)]
    const data = patternBytes(8 * 1024 * 1024, 7)
    const arrival = receiveAll(b)
    a.write(data.subarray(0, 4 * 1024 * 1024))
    const again = renegotiated(a, b)
    ;(side === 'initiator' ? a : b).restartIce()
    await again
    const after = [ufrag(a), ufrag(b)]
    t.notEqual(after[0], before[0], 'the initiator has new ICE credentials')
    t.notEqual(after[1], before[1], 'the non-initiator has new ICE credentials')
    a.end(data.subarray(4 * 1024 * 1024))
    const { bytes, digest } = await arrival
    t.equal(bytes, data.length, 'every byte arrived')
    t.equal(digest, sha256(data), 'SHA-256 matches')
    await closed(a, b)
    t.deepEqual(errors, [], 'no errors')
    link.close()
  })
}

test('restartIce() after a cut: ICE comes back through the new candidates, nothing written is lost', async t => {
  t.timeoutAfter(120e3)
  const { link, a, b, errors } = await linkedPair()
  const first = link.real.a.ufrag
  const data = patternBytes(2 * 1024 * 1024, 9)
  const arrival = receiveAll(b)
  a.write(data.subarray(0, 1024 * 1024))
  link.down = true
  t.equal(await iceState(a, ['disconnected', 'failed']), 'disconnected', 'the cut makes ICE call the link disconnected')
  a.write(data.subarray(1024 * 1024))
  const back = iceState(a, ['connected', 'completed'])
  link.down = false
  a.restartIce()
  await back
  t.notEqual(link.real.a.ufrag, first, 'the link now carries the candidates of the new ICE generation')
  a.end()
  const { bytes, digest } = await arrival
  t.equal(bytes, data.length, 'every byte arrived, those written during the cut too')
  t.equal(digest, sha256(data), 'SHA-256 matches')
  await closed(a, b)
  t.deepEqual(errors, [], 'no errors')
  link.close()
})

test('restartIce() after destroy throws ERR_DESTROYED', t => {
  const p = new Peer({ ...LOOPBACK })
  p.destroy()
  p.once('close', () => {
    t.throws(() => p.restartIce(), e => e.code === 'ERR_DESTROYED')
    t.end()
  })
})
