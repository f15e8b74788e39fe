'use strict'
// Signals delivered out of order, twice, or late: connect or fail with a code, never throw.
const test = require('tape')
const { Peer, LOOPBACK, connected, closed } = require('./helpers')

/** Two peers whose signals are collected instead of delivered. */
function unwired (optsA = {}, optsB = {}) {
  const a = new Peer({ ...LOOPBACK, initiator: true, ...optsA })
  const b = new Peer({ ...LOOPBACK, ...optsB })
  const fromA = []
  const fromB = []
  a.on('signal', s => fromA.push(s))
  b.on('signal', s => fromB.push(s))
  return { a, b, fromA, fromB }
}

function until (check) {
  return new Promise(resolve => {
    const poll = () => check() ? resolve() : setTimeout(poll, 10)
    poll()
  })
}

test('candidates delivered before the offer', async t => {
  const { a, b, fromA, fromB } = unwired()
  await until(() => fromA.some(s => s.type === 'offer') && fromA.some(s => s.type === 'candidate'))
  const candidates = fromA.filter(s => s.type === 'candidate')
  const offer = fromA.find(s => s.type === 'offer')
  for (const c of candidates) b.signal(c)
  b.signal(offer)
  // From now on, deliver directly in both directions.
  a.on('signal', s => b.signal(s))
  b.on('signal', s => a.signal(s))
  for (const s of fromB) a.signal(s)
  await connected(a, b)
  t.pass('connected')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('every signal delivered twice', async t => {
  const a = new Peer({ ...LOOPBACK, initiator: true })
  const b = new Peer(LOOPBACK)
  const errors = []
  a.on('error', e => errors.push(e)); b.on('error', e => errors.push(e))
  a.on('signal', s => { b.signal(s); b.signal(JSON.parse(JSON.stringify(s))) })
  b.on('signal', s => { a.signal(s); a.signal(s) })
  await connected(a, b)
  t.deepEqual(errors, [], 'no errors')
  const got = new Promise(resolve => b.once('data', resolve))
  a.write('after duplicates')
  t.equal(String(await got), 'after duplicates', 'data flows')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('signals delivered after a long delay, in reverse order', async t => {
  const { a, b, fromA, fromB } = unwired()
  await until(() => fromA.some(s => s.type === 'offer'))
  await new Promise(resolve => setTimeout(resolve, 1500))
  for (const s of fromA.slice().reverse()) b.signal(s)
  await until(() => fromB.some(s => s.type === 'answer'))
  await new Promise(resolve => setTimeout(resolve, 1500))
  for (const s of fromB.slice().reverse()) a.signal(s)
  a.on('signal', s => b.signal(s)); b.on('signal', s => a.signal(s))
  await connected(a, b)
  t.pass('connected')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('a renegotiate request racing the first offer', async t => {
  const a = new Peer({ ...LOOPBACK, initiator: true })
  const b = new Peer(LOOPBACK)
  const offers = []
  a.on('signal', s => { if (s.type === 'offer') offers.push(s); b.signal(s) })
  b.on('signal', s => a.signal(s))
  // Before anything was exchanged, the other side asks for a negotiation.
  a.signal({ type: 'renegotiate', renegotiate: true })
  await connected(a, b)
  t.ok(offers.length >= 1, `connected (${offers.length} offers)`)
  await new Promise(resolve => a._pc.signalingState === 'stable' ? resolve() : a.once('negotiated', resolve))
  t.equal(a._pc.signalingState, 'stable', 'ends stable')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('an answer before any offer, and an offer to the initiator mid-negotiation, fail with codes', async t => {
  const b = new Peer(LOOPBACK)
  const errB = new Promise(resolve => b.once('error', resolve))
  const other = new Peer({ ...LOOPBACK, initiator: true })
  const answerlessOffer = await new Promise(resolve => other.on('signal', s => s.type === 'offer' && resolve(s)))
  t.doesNotThrow(() => b.signal({ type: 'answer', sdp: answerlessOffer.sdp }))
  t.equal((await errB).code, 'ERR_SET_REMOTE_DESCRIPTION', 'answer before offer')
  const a = new Peer({ ...LOOPBACK, initiator: true })
  await new Promise(resolve => a.on('signal', s => s.type === 'offer' && resolve()))
  const errA = new Promise(resolve => a.once('error', resolve))
  t.doesNotThrow(() => a.signal(answerlessOffer))
  t.equal((await errA).code, 'ERR_SET_REMOTE_DESCRIPTION', 'offer in have-local-offer')
  other.destroy()
  await closed(a, b, other)
})
