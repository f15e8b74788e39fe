'use strict'
// Property-based: whatever signal() is given, it never throws, and every
// 'error' the peer emits carries an ERR_ code. Random inputs go to fresh
// peers, to peers mid-connection with a real partner, and (as mangled SDP)
// to a peer receiving a real offer.
const test = require('tape')
const fc = require('fast-check')
const path = require('path')
const { spawn } = require('child_process')
const { Peer, LOOPBACK, connected, closed, once } = require('./helpers')
const { parseSignal } = require('../dist/lib/signal')

/** Hang detector for a whole property (not a speed check). */
const WATCHDOG = 120000

// Exceptions that escape to the event loop (a listener, a microtask, a
// rejected promise nobody handles) are crashes in a real application:
// recorded while a property runs, and every property requires that none happened.
const escaped = []

/** Records escaping exceptions until the test ends (only then: other test files may share this process). */
function watchEscapes (t) {
  const onException = err => escaped.push(['uncaughtException', String(err && err.stack || err)])
  const onRejection = err => escaped.push(['unhandledRejection', String(err && err.stack || err)])
  escaped.length = 0
  process.on('uncaughtException', onException)
  process.on('unhandledRejection', onRejection)
  t.teardown(() => {
    process.removeListener('uncaughtException', onException)
    process.removeListener('unhandledRejection', onRejection)
  })
}

const delay = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Runs `node args` and resolves with how it ended and what it printed. */
function runNode (args) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    // A watchdog, not a timing assertion: a child that never exits fails the test.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60000)
    child.on('exit', (code, signal) => { clearTimeout(watchdog); resolve({ code, signal, out }) })
  })
}

/** A real offer and a real answer, made once by a real pair. */
let REAL = null
async function realDescriptions () {
  if (REAL) return REAL
  const a = new Peer({ ...LOOPBACK, initiator: true, trickle: false })
  const b = new Peer({ ...LOOPBACK, trickle: false })
  const offer = await new Promise(resolve => a.on('signal', s => s.type === 'offer' && resolve(s)))
  const answer = new Promise(resolve => b.on('signal', s => s.type === 'answer' && resolve(s)))
  b.signal(offer)
  REAL = { offer, answer: await answer }
  a.destroy(); b.destroy()
  await closed(a, b)
  return REAL
}

/** Checks one emitted error; returns a description of what is wrong with it, or null. */
function badError (err) {
  if (!(err instanceof Error)) return `not an Error: ${String(err)}`
  if (typeof err.code !== 'string') return `no string code: ${err.message}`
  if (!err.code.startsWith('ERR_')) return `code ${err.code} does not start with ERR_: ${err.message}`
  return null
}

/** Builds the arbitraries, given a real offer and answer to mangle and misuse. */
function arbitraries ({ offer, answer }) {
  const json = fc.jsonValue({ maxDepth: 3 })
  const anything = fc.anything({
    maxDepth: 2,
    withNullPrototype: true,
    withBigInt: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withBoxedValues: true,
    withSparseArray: true,
    withDate: true
  })
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }))

  const lines = offer.sdp.split('\r\n')
  const mangledSdp = fc.record({
    base: fc.constantFrom(offer.sdp, answer.sdp),
    drop: fc.array(fc.nat(), { maxLength: 5 }),
    insert: fc.array(fc.tuple(fc.nat(), text), { maxLength: 4 }),
    truncate: fc.option(fc.nat({ max: offer.sdp.length }))
  }).map(({ base, drop, insert, truncate }) => {
    const out = base.split('\r\n')
    for (const i of drop) out.splice(i % out.length, 1)
    for (const [i, line] of insert) out.splice(i % (out.length + 1), 0, line)
    const sdp = out.join('\r\n')
    return truncate === null ? sdp : sdp.slice(0, truncate)
  })
  const sdpGarbage = fc.oneof(
    mangledSdp,
    text,
    fc.constantFrom('v=0', 'v=0\r\n', 'garbage', '\r\n\r\n', lines.slice(0, 4).join('\r\n'), offer.sdp.replace(/\r\n/g, '\n'))
  )

  const candidateLine = fc.record({
    foundation: fc.oneof(fc.nat().map(String), text),
    component: fc.oneof(fc.constantFrom('1', '2'), fc.integer().map(String), text),
    protocol: fc.constantFrom('udp', 'tcp', 'UDP', 'sctp', ''),
    priority: fc.oneof(fc.nat().map(String), fc.integer().map(String), text),
    address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('127.0.0.1', '::1', '1f2e3d4c.local', '', '999.1.1.1'), text),
    port: fc.oneof(fc.integer({ min: -10, max: 70000 }).map(String), text),
    type: fc.constantFrom('host', 'srflx', 'prflx', 'relay', 'bogus', ''),
    tail: fc.oneof(fc.constant(''), fc.constant(' generation 0 ufrag abcd network-id 1'), text.map(s => ' ' + s))
  }).map(c => `candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}${c.tail}`)
  const candidateText = fc.oneof(candidateLine, text, fc.constant(''))
  const sdpMid = fc.oneof(fc.constantFrom('0', '1', ''), text, fc.integer(), fc.constant(null), json)
  const sdpMLineIndex = fc.oneof(fc.integer({ min: -2, max: 3 }), fc.integer(), fc.double(), fc.constant(null), text, json)
  const candidateObject = fc.record({
    candidate: fc.oneof(candidateText, json),
    sdpMid,
    sdpMLineIndex,
    usernameFragment: fc.oneof(text, fc.constant(null), json)
  }, { requiredKeys: [] })

  const description = fc.record({
    type: fc.oneof(fc.constantFrom('offer', 'answer', 'pranswer', 'rollback'), text, json),
    sdp: fc.oneof(fc.constantFrom(offer.sdp, answer.sdp), sdpGarbage, json)
  }, { requiredKeys: ['sdp'] })

  const transceiverRequest = fc.record({
    kind: fc.oneof(fc.constantFrom('audio', 'video'), text, json),
    init: fc.oneof(json, fc.record({
      direction: fc.oneof(fc.constantFrom('sendrecv', 'sendonly', 'recvonly', 'inactive', 'stopped'), text, json),
      streams: fc.oneof(fc.constant([]), json),
      sendEncodings: fc.oneof(fc.constant([]), json)
    }, { requiredKeys: [] }))
  }, { requiredKeys: [] })

  const shaped = fc.oneof(
    // Descriptions, with right and wrong types: {type:'answer', sdp: 42}, {sdp:'garbage'}, an answer before any offer...
    { weight: 3, arbitrary: description },
    fc.record({ type: fc.constantFrom('answer', 'offer'), sdp: fc.oneof(fc.integer(), fc.boolean(), json) }),
    fc.constant({ sdp: 'garbage' }),
    fc.constant({ type: 'answer', sdp: answer.sdp }),
    fc.constant({ type: 'offer', sdp: offer.sdp }),
    // Candidates: nested as simple-peer sends them, flattened, or broken.
    { weight: 3, arbitrary: fc.record({ type: fc.constantFrom('candidate', 'offer', 'bogus'), candidate: candidateObject }, { requiredKeys: ['candidate'] }) },
    { weight: 2, arbitrary: fc.record({ candidate: candidateText, sdpMid, sdpMLineIndex }, { requiredKeys: ['candidate'] }) },
    fc.record({ candidate: json }),
    // Renegotiation and transceiver requests.
    fc.record({ renegotiate: fc.oneof(fc.constantFrom(true, 'x', 1), json) }),
    fc.record({ type: fc.constant('renegotiate'), renegotiate: json }),
    { weight: 2, arbitrary: fc.record({ type: fc.constant('transceiverRequest'), transceiverRequest: fc.oneof(transceiverRequest, json) }, { requiredKeys: ['transceiverRequest'] }) },
    // Several requests in one object.
    fc.record({
      type: fc.oneof(fc.constantFrom('offer', 'answer', 'candidate'), text),
      sdp: fc.oneof(sdpGarbage, json),
      candidate: candidateObject,
      renegotiate: json,
      transceiverRequest
    }, { requiredKeys: [] })
  )

  const input = fc.oneof(
    { weight: 12, arbitrary: shaped },
    { weight: 4, arbitrary: shaped.map(s => JSON.stringify(s)) },
    { weight: 2, arbitrary: json },
    { weight: 1, arbitrary: fc.json() },
    { weight: 2, arbitrary: text },
    { weight: 1, arbitrary: sdpGarbage },
    { weight: 1, arbitrary: anything }
  )
  return { input, text, shaped }
}

/** Calls peer.signal(input); returns the exception if it threw. */
function feed (peer, input) {
  try {
    peer.signal(input)
    return null
  } catch (err) {
    return err
  }
}

function describeInput (input) {
  try {
    const s = JSON.stringify(input)
    if (s !== undefined) return s.length > 300 ? s.slice(0, 300) + '...' : s
  } catch {}
  return String(input)
}

function report (t, result, what) {
  t.notOk(result.failed, what)
  if (result.failed) t.comment(fc.defaultReportMessage(result))
  t.comment(`seed ${result.seed}, ${result.numRuns} runs`)
}

let arbs = null
test('setup: a real offer and answer to build inputs from', async t => {
  const real = await realDescriptions()
  t.equal(real.offer.type, 'offer')
  t.equal(real.answer.type, 'answer')
  arbs = arbitraries(real)
})

test('fresh peers: signal() never throws, errors carry ERR_ codes, calls after destroy() are ignored', async t => {
  t.timeoutAfter(WATCHDOG)
  watchEscapes(t)
  let live = 0
  let afterDestroy = 0
  const codes = new Map()
  const property = fc.asyncProperty(
    fc.record({
      initiator: fc.boolean(),
      trickle: fc.boolean(),
      inputs: fc.array(arbs.input, { minLength: 1, maxLength: 3 }),
      wait: fc.constantFrom(0, 1, 5, 15),
      later: fc.array(arbs.input, { maxLength: 2 })
    }),
    async ({ initiator, trickle, inputs, wait, later }) => {
      const escapedBefore = escaped.length
      const peer = new Peer({ ...LOOPBACK, initiator, trickle })
      const errors = []
      peer.on('error', err => errors.push(err))
      const problems = []

      // The first input reaches a live peer; parseSignal's verdict says what must happen.
      const first = inputs[0]
      const invalid = parseSignal(first) === null
      for (const input of inputs) {
        if (!peer.destroyed) live++
        const thrown = feed(peer, input)
        if (thrown) problems.push(`signal(${describeInput(input)}) threw ${thrown && thrown.stack}`)
      }
      if (invalid && !peer.destroyed) problems.push(`invalid first input ${describeInput(first)} did not destroy the peer`)

      await delay(wait)
      const done = closed(peer)
      // A peer that destroyed itself may still have its error on the way (next tick).
      const destroyedByUs = !peer.destroyed
      peer.destroy()
      const errorsAtDestroy = errors.length
      for (const input of later) {
        afterDestroy++
        const thrown = feed(peer, input)
        if (thrown) problems.push(`signal() after destroy threw ${thrown && thrown.stack}`)
      }
      await done
      await delay(1)

      for (const err of errors) {
        const bad = badError(err)
        if (bad) problems.push(bad)
        else codes.set(err.code, (codes.get(err.code) || 0) + 1)
      }
      if (errors.length > 1) problems.push(`${errors.length} errors emitted: ${errors.map(e => e.code).join(', ')}`)
      if (invalid && (errors.length !== 1 || errors[0].code !== 'ERR_SIGNALING')) {
        problems.push(`invalid first input ${describeInput(first)} gave ${errors.map(e => e.code).join(', ') || 'no error'} instead of ERR_SIGNALING`)
      }
      if (destroyedByUs && errors.length > errorsAtDestroy) problems.push(`an error was emitted after destroy(): ${errors[errors.length - 1].code}`)
      if (escaped.length > escapedBefore) problems.push(`escaped: ${JSON.stringify(escaped.slice(escapedBefore))}`)
      if (problems.length) throw new Error(problems.join('\n'))
    }
  )
  const result = await fc.check(property, { numRuns: 1000 })
  report(t, result, 'property holds for every input')
  t.ok(live >= 1000, `at least 1,000 inputs reached live fresh peers (${live}), ${afterDestroy} more after destroy()`)
  t.comment(`error codes seen: ${JSON.stringify(Object.fromEntries(codes))}`)
  t.deepEqual(escaped, [], 'nothing escaped to the event loop')
})

test('peers mid-connection with a real partner: garbage never throws, errors carry ERR_ codes', async t => {
  t.timeoutAfter(WATCHDOG)
  watchEscapes(t)
  let fed = 0
  const codes = new Map()
  const property = fc.asyncProperty(
    fc.record({
      trickle: fc.boolean(),
      target: fc.constantFrom('initiator', 'non-initiator'),
      stage: fc.constantFrom('first-signal', 'description', 'connected'),
      inputs: fc.array(arbs.input, { minLength: 1, maxLength: 5 }),
      wait: fc.constantFrom(0, 10, 50)
    }),
    async ({ trickle, target, stage, inputs, wait }) => {
      const escapedBefore = escaped.length
      const a = new Peer({ ...LOOPBACK, initiator: true, trickle })
      const b = new Peer({ ...LOOPBACK, trickle })
      const victim = target === 'initiator' ? a : b
      const errors = { a: [], b: [] }
      a.on('error', err => errors.a.push(err))
      b.on('error', err => errors.b.push(err))
      const problems = []
      const garbage = () => {
        for (const input of inputs) {
          fed++
          const thrown = feed(victim, input)
          if (thrown) problems.push(`signal(${describeInput(input)}) threw ${thrown && thrown.stack}`)
        }
      }

      let fedGarbage = false
      let reached
      const stageReached = new Promise(resolve => { reached = resolve })
      let delivered = 0
      // Deliver signals, and feed the garbage right after the chosen one reaches the victim.
      const deliver = (to, s) => {
        if (to.destroyed) return
        const thrown = feed(to, s)
        if (thrown) problems.push(`real signal threw ${thrown && thrown.stack}`)
        if (to !== victim || fedGarbage) return
        delivered++
        if ((stage === 'first-signal' && delivered === 1) || (stage === 'description' && s.sdp)) {
          fedGarbage = true
          garbage()
          reached()
        }
      }
      a.on('signal', s => deliver(b, s))
      b.on('signal', s => deliver(a, s))
      const outcome = Promise.race([
        connected(a, b).then(() => 'connected', () => 'failed'),
        closed(victim).then(() => 'closed')
      ])
      if (stage === 'connected') {
        if (await outcome === 'connected') {
          fedGarbage = true
          garbage()
        }
      } else {
        await Promise.race([stageReached, outcome])
      }
      await delay(wait)

      const done = closed(a, b)
      a.destroy(); b.destroy()
      await done
      await delay(1)
      for (const err of [...errors.a, ...errors.b]) {
        const bad = badError(err)
        if (bad) problems.push(bad)
        else codes.set(err.code, (codes.get(err.code) || 0) + 1)
      }
      if (errors.a.length > 1 || errors.b.length > 1) problems.push(`several errors from one peer: ${[...errors.a, ...errors.b].map(e => e.code).join(', ')}`)
      if (!fedGarbage) problems.push(`stage ${stage} never reached`)
      if (escaped.length > escapedBefore) problems.push(`escaped: ${JSON.stringify(escaped.slice(escapedBefore))}`)
      if (problems.length) throw new Error(problems.join('\n'))
    }
  )
  const result = await fc.check(property, { numRuns: 90 })
  report(t, result, 'property holds for every input and stage')
  t.ok(fed >= 90, `${fed} garbage inputs fed mid-connection`)
  t.comment(`error codes seen: ${JSON.stringify(Object.fromEntries(codes))}`)
  t.deepEqual(escaped, [], 'nothing escaped to the event loop')
})

test('a real offer with random bytes inserted: ERR_SET_REMOTE_DESCRIPTION or applied, never a throw', async t => {
  t.timeoutAfter(WATCHDOG)
  watchEscapes(t)
  const { offer } = await realDescriptions()
  const outcomes = { rejected: 0, applied: 0 }
  const property = fc.asyncProperty(
    fc.array(fc.tuple(fc.nat({ max: offer.sdp.length }), fc.uint8Array({ minLength: 1, maxLength: 8 })), { minLength: 1, maxLength: 6 }),
    fc.boolean(),
    async (insertions, asString) => {
      const escapedBefore = escaped.length
      let sdp = offer.sdp
      // Insert from the end so earlier positions stay meaningful.
      for (const [at, bytes] of insertions.slice().sort((x, y) => y[0] - x[0])) {
        sdp = sdp.slice(0, at) + Buffer.from(bytes).toString('latin1') + sdp.slice(at)
      }
      const peer = new Peer(LOOPBACK)
      const errors = []
      peer.on('error', err => errors.push(err))
      const states = []
      peer.on('signalingStateChange', state => states.push(state))
      const problems = []
      const answered = new Promise(resolve => peer.on('signal', s => s.type === 'answer' && resolve()))
      const settled = new Promise(resolve => {
        peer.once('error', () => resolve('error'))
        peer.on('signalingStateChange', state => state === 'have-remote-offer' && resolve('applied'))
        answered.then(() => resolve('applied'))
      })
      const message = { type: 'offer', sdp }
      const thrown = feed(peer, asString ? JSON.stringify(message) : message)
      if (thrown) problems.push(`signal() threw ${thrown && thrown.stack}`)
      const how = await settled
      if (how === 'applied') {
        // Applied: an answer follows, or a failure with a code.
        await Promise.race([answered, once(peer, 'close')])
      }
      const done = closed(peer)
      peer.destroy()
      await done
      await delay(1)

      for (const err of errors) {
        const bad = badError(err)
        if (bad) problems.push(bad)
      }
      if (how === 'error') {
        outcomes.rejected++
        if (errors[0].code !== 'ERR_SET_REMOTE_DESCRIPTION') problems.push(`rejected with ${errors[0].code} (${errors[0].message}), not ERR_SET_REMOTE_DESCRIPTION`)
        if (states.includes('have-remote-offer')) problems.push('rejected, yet the offer was applied')
      } else {
        outcomes.applied++
      }
      if (escaped.length > escapedBefore) problems.push(`escaped: ${JSON.stringify(escaped.slice(escapedBefore))}`)
      if (problems.length) throw new Error(`${problems.join('\n')}\nSDP: ${JSON.stringify(sdp)}`)
    }
  )
  const result = await fc.check(property, { numRuns: 150 })
  report(t, result, 'every mangled offer was rejected with ERR_SET_REMOTE_DESCRIPTION or applied')
  t.comment(`rejected ${outcomes.rejected}, applied ${outcomes.applied}`)
  t.deepEqual(escaped, [], 'nothing escaped to the event loop')
})

test('an offer with an unknown media type: an error with a code or an answer, not a crash', async t => {
  // Run in a child process: the outcome being checked is whether the process survives.
  const script = `
    const Peer = require(${JSON.stringify(path.join(__dirname, '..'))})
    const cfg = { config: { iceServers: [] } }
    const a = new Peer({ ...cfg, initiator: true })
    a.on('signal', s => {
      if (s.type !== 'offer') return
      a.destroy()
      const b = new Peer(cfg)
      const finish = what => { console.log('outcome ' + what); b.destroy(); process.exit(0) }
      b.on('error', err => finish('error ' + err.code))
      b.on('signal', s => s.type === 'answer' && finish('answer'))
      try {
        b.signal({ type: 'offer', sdp: s.sdp.replace('m=application ', 'm=foo ') })
        console.log('signal returned')
      } catch (err) {
        console.log('signal threw ' + err.message)
      }
    })
  `
  const { code, signal, out } = await runNode(['-e', script])
  t.ok(out.includes('signal returned'), 'signal() returned without throwing')
  // @roamhq/wrtc accepts such an offer and then crashes the process inside
  // createAnswer(); lib/validation.ts rejects it before it gets there.
  t.equal(signal, null, 'the process was not killed by a signal')
  t.equal(code, 0, 'the process exited normally')
  t.ok(/outcome (error ERR_[A-Z_]+|answer)/.test(out), `an error with a code, or an answer (${out.trim().split('\n').pop()})`)
})
