'use strict'
// Negotiation (lib/negotiation.ts) against a fake RTCPeerConnection and a
// fake clock.
const test = require('tape')
const { lib, withClock, settle, FakePeerConnection, recorder, OFFER_SDP, ANSWER_SDP } = require('./fakes')
const { Negotiation } = lib('negotiation.js')

function setup (options = {}) {
  const pc = new FakePeerConnection()
  const host = recorder(['signal', 'fail', 'remoteDescriptionSet', 'answered', 'negotiated', 'debug'], {
    pc,
    wrtc: {},
    initiator: true,
    trickle: true,
    allowHalfTrickle: false,
    offerOptions: { offerToReceiveAudio: false },
    answerOptions: {},
    gatheringComplete: false,
    sdpTransform: sdp => sdp,
    stable: () => false,
    ...options
  })
  const negotiation = new Negotiation(host)
  const pcCalls = name => pc.calls.filter(c => c[0] === name).map(c => c[1])
  return { negotiation, host, pc, pcCalls }
}

/** Lets a negotiation run: the batching microtask, the offer timer, the promise callbacks. */
async function run (clock) {
  await settle()
  clock.tick(0)
  await settle()
}

test('negotiation: the initiator makes one offer for every change in a tick', t => withClock(async clock => {
  const { negotiation, host, pcCalls } = setup()
  negotiation.needed()
  negotiation.needed()
  negotiation.needed()
  t.deepEqual(pcCalls('createOffer'), [], 'not synchronously')
  await run(clock)
  t.deepEqual(pcCalls('createOffer'), [{ offerToReceiveAudio: false }], 'one offer, with the offer options')
  t.equal(pcCalls('setLocalDescription').length, 1, 'set as local description')
  t.deepEqual(host.called('signal'), [[{ type: 'offer', sdp: OFFER_SDP }]], 'and signalled')
  t.deepEqual(host.called('fail'), [], 'no failure')
  negotiation.onSignalingState('stable')
  await run(clock)
  t.equal(pcCalls('createOffer').length, 1, 'nothing was queued behind it')
  t.equal(host.called('negotiated').length, 1, 'negotiated once stable')
}))

test('negotiation: a change while one is in flight is queued until stable', t => withClock(async clock => {
  const { negotiation, host, pcCalls } = setup()
  negotiation.needed()
  await run(clock)
  negotiation.needed()
  await run(clock)
  t.equal(pcCalls('createOffer').length, 1, 'no second offer while the first is out')
  negotiation.onSignalingState('have-local-offer')
  await run(clock)
  t.equal(pcCalls('createOffer').length, 1, 'a state other than stable changes nothing')
  negotiation.onSignalingState('stable')
  t.deepEqual(host.called('negotiated'), [], 'not reported as negotiated: one is queued')
  await run(clock)
  t.equal(pcCalls('createOffer').length, 2, 'the queued one goes once stable')
  negotiation.onSignalingState('stable')
  await run(clock)
  t.equal(host.called('negotiated').length, 1, 'stable with nothing queued: negotiated')
  t.equal(pcCalls('createOffer').length, 2, 'and no further offer')
}))

test('negotiation: the host\'s stable() asking for more makes another negotiation', t => withClock(async clock => {
  let removals = true
  const { negotiation, host, pcCalls } = setup({ stable: () => { const r = removals; removals = false; return r } })
  negotiation.needed()
  await run(clock)
  negotiation.onSignalingState('stable')
  await run(clock)
  t.equal(pcCalls('createOffer').length, 2, 'removals done when stable are negotiated')
  t.deepEqual(host.called('negotiated'), [], 'not reported as negotiated meanwhile')
}))

test('negotiation: the non-initiator drops its first request and asks the initiator for later ones', t => withClock(async clock => {
  const { negotiation, host, pcCalls } = setup({ initiator: false })
  negotiation.needed()
  await run(clock)
  t.deepEqual(host.called('signal'), [], 'the first (from the constructor) is dropped')
  negotiation.needed()
  await run(clock)
  t.deepEqual(host.called('signal'), [[{ type: 'renegotiate', renegotiate: true }]], 'a later one asks the initiator')
  t.deepEqual(pcCalls('createOffer'), [], 'and makes no offer')
}))

test('negotiation: a remote offer is applied and answered; a repeat is ignored', t => withClock(async clock => {
  const { negotiation, host, pcCalls } = setup({ initiator: false, answerOptions: { voiceActivityDetection: false } })
  const offer = { type: 'offer', sdp: OFFER_SDP.replace('c=IN IP4 0.0.0.0', 'c=IN IP6 192.0.2.2') }
  negotiation.setRemoteDescription(offer)
  negotiation.setRemoteDescription({ ...offer })
  await run(clock)
  const applied = pcCalls('setRemoteDescription')
  t.equal(applied.length, 1, 'applied once: the repeat is ignored')
  t.ok(applied[0].sdp.includes('c=IN IP4 192.0.2.2'), 'with its connection line repaired')
  t.equal(host.called('remoteDescriptionSet').length, 1, 'the host is told')
  t.deepEqual(pcCalls('createAnswer'), [{ voiceActivityDetection: false }], 'answered with the answer options')
  t.deepEqual(host.called('signal'), [[{ type: 'answer', sdp: ANSWER_SDP }]], 'the answer is signalled')
  t.equal(host.called('answered').length, 1, 'and the host told it answered')

  const withCtor = setup({ wrtc: { RTCSessionDescription: class { constructor (init) { this.wrapped = init } } } })
  withCtor.negotiation.setRemoteDescription({ type: 'answer', sdp: ANSWER_SDP })
  await run(clock)
  t.ok(withCtor.pcCalls('setRemoteDescription')[0].wrapped, 'the implementation\'s RTCSessionDescription is used when it has one')
  t.deepEqual(withCtor.pcCalls('createAnswer'), [], 'an answer is not answered')
}))

test('negotiation: failures become coded errors', t => withClock(async clock => {
  const cases = [
    ['createOffer rejects', s => { s.pc.fail.createOffer = new Error('x') }, s => s.negotiation.needed(), 'ERR_CREATE_OFFER'],
    ['createOffer throws', s => { s.pc.throws.createOffer = new Error('x') }, s => s.negotiation.needed(), 'ERR_CREATE_OFFER'],
    ['sdpTransform throws', s => { s.host.sdpTransform = () => { throw new Error('x') } }, s => s.negotiation.needed(), 'ERR_CREATE_OFFER'],
    ['setLocalDescription rejects', s => { s.pc.fail.setLocalDescription = new Error('x') }, s => s.negotiation.needed(), 'ERR_SET_LOCAL_DESCRIPTION'],
    ['setRemoteDescription rejects', s => { s.pc.fail.setRemoteDescription = new Error('x') }, s => s.negotiation.setRemoteDescription({ type: 'offer', sdp: OFFER_SDP }), 'ERR_SET_REMOTE_DESCRIPTION'],
    ['an unknown media type', () => {}, s => s.negotiation.setRemoteDescription({ type: 'offer', sdp: OFFER_SDP + 'm=bogus 9 X 0\r\n' }), 'ERR_SET_REMOTE_DESCRIPTION'],
    ['createAnswer rejects', s => { s.pc.fail.createAnswer = 'not an Error' }, s => s.negotiation.setRemoteDescription({ type: 'offer', sdp: OFFER_SDP }), 'ERR_CREATE_ANSWER']
  ]
  for (const [name, arrange, act, code] of cases) {
    const s = setup()
    arrange(s)
    act(s)
    await run(clock)
    const failures = s.host.called('fail').map(([err]) => err.code)
    t.deepEqual(failures, [code], `${name}: ${code}`)
    t.ok(s.host.called('fail')[0][0] instanceof Error, `${name}: an Error`)
  }
  const s = setup()
  s.negotiation.setRemoteDescription({ type: 'offer', sdp: OFFER_SDP + 'm=bogus 9 X 0\r\n' })
  t.deepEqual(s.pcCalls('setRemoteDescription'), [], 'an unknown media type never reaches the implementation')
}))

test('negotiation: without trickle the description waits for gathering and is read then', t => withClock(async clock => {
  const { negotiation, host, pc } = setup({ trickle: false })
  const gathered = { type: 'offer', sdp: OFFER_SDP.replace('a=mid:0', 'a=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 5000 typ host') }
  pc.gathered = gathered
  negotiation.needed()
  await run(clock)
  t.deepEqual(host.called('signal'), [], 'nothing signalled while gathering')
  const local = pc.calls.find(c => c[0] === 'setLocalDescription')[1]
  t.notOk(local.sdp.includes('a=ice-options:trickle'), 'the trickle option is removed')
  negotiation.onGatheringDone()
  t.deepEqual(host.called('signal'), [[{ type: 'offer', sdp: gathered.sdp }]], 'the complete description once gathered')
  negotiation.onGatheringDone()
  t.equal(host.called('signal').length, 1, 'once')

  const half = setup({ trickle: false, allowHalfTrickle: true, gatheringComplete: true })
  half.negotiation.needed()
  await run(clock)
  t.equal(half.host.called('signal').length, 1, 'gathering already complete: signalled at once')
  t.ok(half.pc.calls.find(c => c[0] === 'setLocalDescription')[1].sdp.includes('a=ice-options:trickle'), 'allowHalfTrickle keeps the option')
}))

test('negotiation: without trickle, a localDescription that cannot be read falls back to the description as set', t => withClock(async clock => {
  const { negotiation, host, pc } = setup({ trickle: false, allowHalfTrickle: true })
  negotiation.needed()
  await run(clock)
  Object.defineProperty(pc, 'localDescription', { get () { throw new Error('torn') } })
  negotiation.onGatheringDone()
  t.deepEqual(host.called('signal'), [[{ type: 'offer', sdp: OFFER_SDP }]], 'the description as set')
}))

test('negotiation: nothing happens after stop', t => withClock(async clock => {
  const stopped = setup()
  stopped.negotiation.needed()
  await settle()
  t.equal(clock.pending, 1, 'the offer timer is set')
  stopped.negotiation.stop()
  t.equal(clock.pending, 0, 'stop clears it')
  await run(clock)
  t.deepEqual(stopped.pcCalls('createOffer'), [], 'no offer')

  const inFlight = setup()
  inFlight.pc.fail.setLocalDescription = new Error('late')
  inFlight.negotiation.needed()
  await settle()
  clock.tick(0)
  inFlight.negotiation.stop()
  await settle()
  t.deepEqual(inFlight.host.called('fail'), [], 'a failure after stop is not reported')
  inFlight.negotiation.needed()
  inFlight.negotiation.negotiate()
  inFlight.negotiation.onSignalingState('stable')
  inFlight.negotiation.setRemoteDescription({ type: 'answer', sdp: ANSWER_SDP })
  await run(clock)
  t.equal(inFlight.pcCalls('createOffer').length, 1, 'no new negotiation')
  t.deepEqual(inFlight.host.called('negotiated'), [], 'no state change')
  t.deepEqual(inFlight.host.called('remoteDescriptionSet'), [], 'a remote description applied after stop is not reported')
  t.deepEqual(inFlight.host.called('signal'), [], 'nothing signalled')
}))
