'use strict'
// Reading the striping messages of the control channel (lib/stripes/messages.ts): hostile input.
const test = require('tape')
const fc = require('fast-check')
const { lib } = require('./fakes')
const { parseStripeMessage, STRIPE_MESSAGE_TYPES, MAX_SDP_LENGTH, MAX_CANDIDATE_LENGTH } = lib('stripes/messages.js')
const { MAX_STRIPES, STRIPES_VERSION } = lib('stripes/constants.js')

/** A fast-check property as one tape assertion (fails with the counterexample). */
function holds (t, property, options = {}) {
  const details = fc.check(property, options)
  t.notOk(details.failed, details.failed ? `counterexample ${fc.stringify(details.counterexample)}: ${details.errorInstance || details.error || 'false'}` : `holds over ${details.numRuns} runs`)
}

const TYPES = ['stripes', 'stripe', 'stripe-close', 'framed']
const isProtocolError = r => r instanceof Error && r.code === 'ERR_STRIPE_PROTOCOL'
const isIndex = k => Number.isSafeInteger(k) && k >= 1 && k < MAX_STRIPES
const own = (o, keys) => Object.keys(o).sort().join() === [...keys].sort().join()

/** Whether `m` is a message within the documented bounds, built of its checked fields only. */
function validMessage (m) {
  if (m === null || typeof m !== 'object' || Object.getPrototypeOf(m) !== Object.prototype) return false
  switch (m.t) {
    case 'stripes':
      return own(m, ['t', 'v', 'max', 'auto']) && m.v === STRIPES_VERSION && Number.isSafeInteger(m.max) &&
        m.max >= 1 && m.max <= MAX_STRIPES && typeof m.auto === 'boolean'
    case 'stripe':
      return own(m, ['t', 'k', 's']) && isIndex(m.k) && validSignal(m.s)
    case 'stripe-close':
      return own(m, ['t', 'k']) && isIndex(m.k)
    case 'framed':
      return own(m, ['t', 'at']) && Number.isSafeInteger(m.at) && m.at >= 0
    default:
      return false
  }
}

function validSignal (s) {
  if (s === null || typeof s !== 'object' || Object.getPrototypeOf(s) !== Object.prototype) return false
  if (s.type === 'offer' || s.type === 'answer') {
    return own(s, ['type', 'sdp']) && typeof s.sdp === 'string' && s.sdp.length > 0 && s.sdp.length <= MAX_SDP_LENGTH
  }
  if (s.type !== 'candidate' || !own(s, ['type', 'candidate'])) return false
  const c = s.candidate
  return c !== null && typeof c === 'object' && own(c, ['candidate', 'sdpMid', 'sdpMLineIndex']) &&
    typeof c.candidate === 'string' && c.candidate.length <= MAX_CANDIDATE_LENGTH &&
    (c.sdpMid === null || (typeof c.sdpMid === 'string' && c.sdpMid.length <= 64)) &&
    (c.sdpMLineIndex === null || (Number.isSafeInteger(c.sdpMLineIndex) && c.sdpMLineIndex >= 0 && c.sdpMLineIndex <= 64))
}

/** Never throws; a valid message or a coded error. */
function checked (input) {
  let result
  try {
    result = parseStripeMessage(input)
  } catch (err) {
    throw new Error(`threw ${err && err.message}`)
  }
  if (!(validMessage(result) || isProtocolError(result))) throw new Error(`returned ${fc.stringify(result)}`)
  return result
}

// Values that are near the bounds, of the wrong type, or strange.
const odd = fc.oneof(
  fc.constantFrom(0, 1, -1, 7, 8, 9, 1.5, -0, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), '1', '', 'offer', true, false, null, undefined, [], {}, [1], { 0: 1 }),
  fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(Object.create(null)),
  fc.jsonValue({ maxDepth: 3 })
)
const huge = fc.integer({ min: 1, max: 4 }).map(n => 'a'.repeat(MAX_SDP_LENGTH - 2 + n))
const signalArb = fc.oneof(
  fc.record({ type: fc.constantFrom('offer', 'answer', 'candidate', 'pranswer', 'rollback', odd), sdp: fc.oneof(fc.string(), huge, odd) }, { requiredKeys: [] }),
  fc.record({
    type: fc.constant('candidate'),
    candidate: fc.oneof(odd, fc.record({
      candidate: fc.oneof(fc.string(), fc.constant('c'.repeat(MAX_CANDIDATE_LENGTH)), fc.constant('c'.repeat(MAX_CANDIDATE_LENGTH + 1)), odd),
      sdpMid: fc.oneof(fc.string(), fc.constant('m'.repeat(65)), odd),
      sdpMLineIndex: fc.oneof(fc.integer({ min: -2, max: 70 }), odd)
    }, { requiredKeys: [] }))
  }),
  odd
)
/** Objects with `t` among the known types and random, bounded or odd fields. */
const messageArb = fc.record({
  t: fc.constantFrom(...TYPES),
  v: fc.oneof(fc.constant(STRIPES_VERSION), odd),
  max: fc.oneof(fc.integer({ min: -2, max: 12 }), odd),
  auto: fc.oneof(fc.boolean(), odd),
  k: fc.oneof(fc.integer({ min: -1, max: 9 }), odd),
  s: signalArb,
  at: fc.oneof(fc.maxSafeNat(), fc.integer({ min: -5, max: 5 }), odd),
  extra: odd
}, { requiredKeys: ['t'] })

test('stripe messages: arbitrary JSON never throws; a valid message or ERR_STRIPE_PROTOCOL', t => {
  holds(t, fc.property(fc.jsonValue(), value => {
    checked(value !== null && typeof value === 'object' ? value : { t: value })
    return true
  }), { numRuns: 1000 })
  holds(t, fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), value => { checked(value); return true }), { numRuns: 500 })
  t.end()
})

test('stripe messages: known types with random fields: never throws; valid results stay within their bounds', t => {
  let valid = 0
  holds(t, fc.property(messageArb, m => {
    if (validMessage(checked(m))) valid++
    return true
  }), { numRuns: 3000 })
  t.ok(valid > 100, `the fields reach valid messages too (${valid} of 3000)`)
  t.end()
})

test('stripe messages: parsed from JSON text, prototype keys are own data, never read through', t => {
  const cases = [
    '{"t":"stripes","v":1,"max":4,"__proto__":{"auto":true}}',
    '{"t":"stripe-close","__proto__":{"k":2}}',
    '{"t":"framed","constructor":{"prototype":{"at":5}}}',
    '{"t":"stripe","k":1,"s":{"type":"offer","__proto__":{"sdp":"x"}}}',
    '{"t":"stripe","k":1,"s":{"type":"candidate","candidate":{"__proto__":{"candidate":"x"}}}}',
    '{"t":"stripe","k":1,"s":{"__proto__":{"type":"offer"},"sdp":"x"}}'
  ]
  for (const text of cases) {
    const r = checked(JSON.parse(text))
    if (text.includes('"max":4')) t.deepEqual(r, { t: 'stripes', v: 1, max: 4, auto: false }, 'auto from __proto__ is not read')
    else t.ok(isProtocolError(r), `${text}: ${r.message}`)
  }
  t.equal(Object.prototype.auto, undefined, 'Object.prototype untouched')
  holds(t, fc.property(
    fc.constantFrom(...TYPES), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'), odd,
    (type, key, value) => {
      const m = JSON.parse(`{"t":${JSON.stringify(type)},${JSON.stringify(key)}:${JSON.stringify(value === undefined ? null : value) ?? 'null'}}`)
      checked(m)
      return true
    }), { numRuns: 500 })
  t.end()
})

test('stripe messages: huge strings are refused, not copied through', t => {
  const big = 'x'.repeat(MAX_SDP_LENGTH + 1)
  t.ok(isProtocolError(checked({ t: 'stripe', k: 1, s: { type: 'offer', sdp: big } })), 'an sdp over the limit')
  t.deepEqual(checked({ t: 'stripe', k: 1, s: { type: 'offer', sdp: big.slice(1) } }).s.sdp.length, MAX_SDP_LENGTH, 'exactly at the limit')
  t.ok(isProtocolError(checked({ t: 'stripe', k: 1, s: { type: 'candidate', candidate: { candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH + 1) } } })), 'a candidate over the limit')
  t.ok(isProtocolError(checked({ t: 'stripe', k: 1, s: { type: 'candidate', candidate: { candidate: '', sdpMid: 'm'.repeat(65) } } })), 'an sdpMid over 64')
  t.ok(isProtocolError(checked({ t: 'x'.repeat(1e6) })), 'a huge type')
  t.ok(isProtocolError(checked({ t: 'framed', at: '9'.repeat(1e5) })), 'a huge numeric string')
  t.end()
})

test('stripe messages: each valid message, exactly', t => {
  t.deepEqual(parseStripeMessage({ t: 'stripes', v: 1, max: 4, auto: true }), { t: 'stripes', v: 1, max: 4, auto: true })
  t.deepEqual(parseStripeMessage({ t: 'stripes', v: 1, max: 3 }), { t: 'stripes', v: 1, max: 3, auto: false }, 'auto may be left out')
  t.deepEqual(parseStripeMessage({ t: 'stripes', v: 1, max: 1, auto: false }), { t: 'stripes', v: 1, max: 1, auto: false }, 'max 1 (the remote does not stripe)')
  t.deepEqual(parseStripeMessage({ t: 'stripes', v: 1, max: 1000 }), { t: 'stripes', v: 1, max: MAX_STRIPES, auto: false }, 'max clamped to MAX_STRIPES')
  t.deepEqual(parseStripeMessage({ t: 'stripes', v: 1, max: 2, auto: false, extra: { a: 1 } }), { t: 'stripes', v: 1, max: 2, auto: false }, 'unknown fields dropped')
  t.deepEqual(parseStripeMessage({ t: 'stripe', k: 1, s: { type: 'offer', sdp: 'v=0' } }), { t: 'stripe', k: 1, s: { type: 'offer', sdp: 'v=0' } })
  t.deepEqual(parseStripeMessage({ t: 'stripe', k: MAX_STRIPES - 1, s: { type: 'answer', sdp: 'v=0', x: 1 } }), { t: 'stripe', k: MAX_STRIPES - 1, s: { type: 'answer', sdp: 'v=0' } })
  t.deepEqual(
    parseStripeMessage({ t: 'stripe', k: 2, s: { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' } } }),
    { t: 'stripe', k: 2, s: { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } } })
  t.deepEqual(
    parseStripeMessage({ t: 'stripe', k: 3, s: { type: 'candidate', candidate: { candidate: '' } } }),
    { t: 'stripe', k: 3, s: { type: 'candidate', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null } } },
    'end of candidates: empty line, missing mid and index become null')
  t.deepEqual(parseStripeMessage({ t: 'stripe-close', k: 5 }), { t: 'stripe-close', k: 5 })
  t.deepEqual(parseStripeMessage({ t: 'framed', at: 0 }), { t: 'framed', at: 0 })
  t.deepEqual(parseStripeMessage({ t: 'framed', at: Number.MAX_SAFE_INTEGER }), { t: 'framed', at: Number.MAX_SAFE_INTEGER })
  t.deepEqual([...STRIPE_MESSAGE_TYPES].sort(), [...TYPES].sort(), 'the four types')
  t.end()
})

test('stripe messages: each invalid field, with its reason', t => {
  const bad = [
    [{ t: 'stripes', v: 2, max: 4 }, 'unknown version'],
    [{ t: 'stripes', max: 4 }, 'unknown version'],
    [{ t: 'stripes', v: 1, max: 0 }, 'bad max'],
    [{ t: 'stripes', v: 1, max: 2.5 }, 'bad max'],
    [{ t: 'stripes', v: 1, max: '4' }, 'bad max'],
    [{ t: 'stripes', v: 1, max: 4, auto: 'yes' }, 'bad auto'],
    [{ t: 'stripes', v: 1, max: 4, auto: null }, 'bad auto'],
    [{ t: 'stripe', k: 0, s: { type: 'offer', sdp: 'v=0' } }, 'bad stripe index'],
    [{ t: 'stripe', k: MAX_STRIPES, s: { type: 'offer', sdp: 'v=0' } }, 'bad stripe index'],
    [{ t: 'stripe', k: 1, s: 'offer' }, 'signal is not an object'],
    [{ t: 'stripe', k: 1, s: null }, 'signal is not an object'],
    [{ t: 'stripe', k: 1, s: { type: 'offer', sdp: '' } }, 'bad sdp'],
    [{ t: 'stripe', k: 1, s: { type: 'answer' } }, 'bad sdp'],
    [{ t: 'stripe', k: 1, s: { type: 'pranswer', sdp: 'v=0' } }, 'unknown signal type'],
    [{ t: 'stripe', k: 1, s: { type: 'candidate', candidate: 'candidate:1' } }, 'bad candidate'],
    [{ t: 'stripe', k: 1, s: { type: 'candidate', candidate: { candidate: 5 } } }, 'bad candidate'],
    [{ t: 'stripe', k: 1, s: { type: 'candidate', candidate: { candidate: '', sdpMid: 0 } } }, 'bad sdpMid'],
    [{ t: 'stripe', k: 1, s: { type: 'candidate', candidate: { candidate: '', sdpMLineIndex: -1 } } }, 'bad sdpMLineIndex'],
    [{ t: 'stripe', k: 1, s: { type: 'candidate', candidate: { candidate: '', sdpMLineIndex: 65 } } }, 'bad sdpMLineIndex'],
    [{ t: 'stripe-close', k: 1.5 }, 'bad stripe index'],
    [{ t: 'stripe-close' }, 'bad stripe index'],
    [{ t: 'framed', at: -1 }, 'bad switch point'],
    [{ t: 'framed', at: 2 ** 53 }, 'bad switch point'],
    [{ t: 'framed', at: '5' }, 'bad switch point'],
    [{ t: 'credit', n: 5 }, 'unknown type']
  ]
  for (const [message, reason] of bad) {
    const r = parseStripeMessage(message)
    t.ok(isProtocolError(r) && r.message.includes(reason), `${JSON.stringify(message)}: ${r && r.message}`)
  }
  t.end()
})

test('noStripesReply: a peer without stripes answers a stripes message with max 1, and nothing else', t => {
  const { noStripesReply } = lib('stripes/messages.js')
  t.deepEqual(noStripesReply({ t: 'stripes', v: 1, max: 4 }), { t: 'stripes', v: 1, max: 1, auto: false })
  for (const t2 of ['stripe', 'stripe-close', 'framed', 'credit', undefined]) t.equal(noStripesReply({ t: t2 }), null, `${t2}: no reply`)
  const reply = noStripesReply({ t: 'stripes' })
  t.ok(!(parseStripeMessage(reply) instanceof Error), 'the reply parses')
  t.end()
})
