'use strict'
// Chunk framing and in-order reassembly of striped streams (lib/stripes/reassembly.ts).
const test = require('tape')
const fc = require('fast-check')
const { lib } = require('./fakes')
const { Reassembler, encodeFrame, decodeFrame, FRAME_HEADER_BYTES, FLAG_MESSAGE, FLAG_TEXT } = lib('stripes/reassembly.js')

/** A fast-check property as one tape assertion (fails with the counterexample). */
function holds (t, property, options = {}) {
  const details = fc.check(property, options)
  t.notOk(details.failed, details.failed ? `counterexample ${fc.stringify(details.counterexample)}: ${details.errorInstance || details.error || 'false'}` : `holds over ${details.numRuns} runs`)
}

const BIG = { maxHeldBytes: Infinity, maxHeldChunks: 1 << 20 }
const chunk = (seq, text = String(seq), flags = 0) => ({ seq, flags, payload: Buffer.from(text) })

/**
 * Chunks 0..n-1 spread over `stripes` stripes by `assign`, each stripe keeping
 * its own order (as an ordered data channel does); `picks` chooses which
 * stripe delivers next; `dupes` re-sends some chunks on some stripe.
 */
function interleave (n, stripes, assign, picks, dupes) {
  const queues = Array.from({ length: stripes }, () => [])
  for (let seq = 0; seq < n; seq++) queues[assign[seq % assign.length] % stripes].push(seq)
  for (const [seq, on] of dupes) if (seq < n) queues[on % stripes].push(seq)
  const order = []
  let p = 0
  while (queues.some(q => q.length > 0)) {
    const open = queues.filter(q => q.length > 0)
    order.push(open[(picks[p++ % Math.max(1, picks.length)] || 0) % open.length].shift())
  }
  return order
}

test('stripes: any interleaving across stripes, with re-sent duplicates, reassembles in order, each chunk once', t => {
  holds(t, fc.property(
    fc.nat(300), fc.integer({ min: 1, max: 8 }),
    fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), fc.array(fc.nat(), { maxLength: 200 }),
    fc.array(fc.tuple(fc.nat(300), fc.nat()), { maxLength: 40 }),
    (n, stripes, assign, picks, dupes) => {
      const r = new Reassembler(BIG)
      const out = []
      let duplicates = 0
      for (const seq of interleave(n, stripes, assign, picks, dupes)) {
        const result = r.push(chunk(seq))
        if (result.kind === 'delivered') out.push(...result.delivered.map(c => c.payload.toString()))
        else if (result.kind === 'duplicate') duplicates++
        else if (result.kind !== 'held') return false
      }
      const expected = Array.from({ length: n }, (_, i) => String(i))
      return JSON.stringify(out) === JSON.stringify(expected) &&
        duplicates === dupes.filter(([seq]) => seq < n).length &&
        r.heldChunks === 0 && r.heldBytes === 0 && r.expected === n &&
        r.deliveredBytes === expected.join('').length
    }), { numRuns: 300 })
  t.end()
})

test('stripes: the next expected chunk is always taken; out-of-order ones only within the limits', t => {
  const r = new Reassembler({ maxHeldBytes: 10, maxHeldChunks: 3 })
  t.equal(r.push(chunk(1, 'aaaa')).kind, 'held')
  t.equal(r.push(chunk(2, 'bbbb')).kind, 'held')
  t.equal(r.push(chunk(3, 'ccc')).kind, 'overflow', 'over the byte bound')
  t.equal(r.push(chunk(4, 'c')).kind, 'overflow', 'too far ahead of the next expected')
  t.equal(r.push(chunk(3, 'cc')).kind, 'held', 'fits exactly')
  t.equal(r.heldBytes, 10)
  t.equal(r.push(chunk(2, 'bbbb')).kind, 'duplicate', 'already held')
  const done = r.push(chunk(0, 'zzzzzzzzzzzzzzzzzzzz'))
  t.equal(done.kind, 'delivered', 'the next expected one goes through even when larger than the bound')
  t.deepEqual(done.delivered.map(c => c.seq), [0, 1, 2, 3])
  t.equal(r.heldBytes, 0)
  t.equal(r.push(chunk(2)).kind, 'duplicate', 'already delivered')
  t.equal(r.push(chunk(-1)).kind, 'invalid')
  t.equal(r.push(chunk(1.5)).kind, 'invalid')
  t.equal(r.push(null).kind, 'invalid')
  t.equal(r.push({ seq: 4, flags: 0, payload: 'text' }).kind, 'invalid')
  t.end()
})

test('stripes: held bytes and chunks never pass their bounds, whatever arrives', t => {
  holds(t, fc.property(
    fc.nat(64), fc.integer({ min: 1, max: 16 }),
    fc.array(fc.tuple(fc.nat(40), fc.nat(12)), { maxLength: 300 }),
    (maxHeldBytes, maxHeldChunks, arrivals) => {
      const r = new Reassembler({ maxHeldBytes, maxHeldChunks })
      for (const [seq, size] of arrivals) {
        r.push({ seq, flags: 0, payload: new Uint8Array(size) })
        if (r.heldBytes > maxHeldBytes || r.heldChunks > maxHeldChunks) return false
      }
      return true
    }), { numRuns: 300 })
  t.end()
})

test('stripes: frames round-trip; anything else decodes to null, never throws', t => {
  holds(t, fc.property(
    fc.maxSafeNat(), fc.constantFrom(0, FLAG_MESSAGE, FLAG_MESSAGE | FLAG_TEXT), fc.uint8Array({ maxLength: 64 }),
    (seq, flags, payload) => {
      const back = decodeFrame(encodeFrame({ seq, flags, payload }))
      return back !== null && back.seq === seq && back.flags === flags && Buffer.compare(Buffer.from(back.payload), Buffer.from(payload)) === 0
    }))
  t.equal(decodeFrame(new Uint8Array(FRAME_HEADER_BYTES - 1)), null, 'too short')
  t.equal(decodeFrame(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0])), null, 'past the safe integers')
  t.equal(decodeFrame(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1, 4])), null, 'unknown flag')
  t.equal(decodeFrame('not bytes'), null, 'not bytes')
  t.deepEqual(decodeFrame(Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 2, 0, 7])), { seq: 0x100000002, flags: 0, payload: Uint8Array.from([7]) }, 'big-endian high and low words')
  holds(t, fc.property(fc.uint8Array({ maxLength: 32 }), bytes => {
    const c = decodeFrame(bytes)
    return c === null || (Number.isSafeInteger(c.seq) && (c.flags & ~3) === 0)
  }))
  t.throws(() => encodeFrame({ seq: -1, flags: 0, payload: new Uint8Array(0) }), RangeError)
  t.throws(() => encodeFrame({ seq: 0, flags: 8, payload: new Uint8Array(0) }), RangeError)
  t.end()
})
