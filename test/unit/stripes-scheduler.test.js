'use strict'
// Choosing a stripe for each chunk by estimated drain rate (lib/stripes/scheduler.ts).
const test = require('tape')
const fc = require('fast-check')
const { lib } = require('./fakes')
const { StripeScheduler } = lib('stripes/scheduler.js')

const KIB = 1024

function holds (t, property, options = {}) {
  const details = fc.check(property, options)
  t.notOk(details.failed, details.failed ? `counterexample ${fc.stringify(details.counterexample)}: ${details.error || 'false'}` : `holds over ${details.numRuns} runs`)
}

/**
 * Simulates stripes that drain at `rates` (bytes/s) for `seconds`, in 10 ms
 * steps, with a sender that always has 64 KiB chunks to send. Returns the
 * bytes each stripe drained and whether a hand-over ever passed a stripe's
 * high-water mark.
 */
function simulate (rates, seconds, options) {
  const s = new StripeScheduler(options)
  const buffered = rates.map(() => 0)
  const drained = rates.map(() => 0)
  let overHighWater = false
  /** Longest a chunk handed over after the first second waits in its stripe's buffer, in s of that stripe's real rate, over its bound. */
  let worstWait = 0
  rates.forEach((_, id) => s.add(id, 0))
  for (let now = 0; now <= seconds * 1000; now += 10) {
    rates.forEach((rate, id) => {
      const out = Math.min(buffered[id], rate * 0.01)
      buffered[id] -= out
      drained[id] += out
      s.sample(id, buffered[id], now)
    })
    for (let id = s.pick(64 * KIB); id !== null; id = s.pick(64 * KIB)) {
      if (buffered[id] > 0 && buffered[id] + 64 * KIB > s.highWater(id)) overHighWater = true
      buffered[id] += 64 * KIB
      if (now >= 1000) {
        const bound = Math.max(0.25, 256 * KIB / rates[id], 64 * KIB / rates[id])
        worstWait = Math.max(worstWait, buffered[id] / rates[id] / bound)
      }
      s.handed(id, 64 * KIB)
    }
  }
  return { drained, overHighWater, worstWait, scheduler: s }
}

test('scheduler: stripes of any speeds are all kept busy (a slow one does not hold back the others), within their high-water marks', t => {
  holds(t, fc.property(fc.array(fc.integer({ min: 100e3, max: 20e6 }), { minLength: 1, maxLength: 8 }), rates => {
    const seconds = 10
    const { drained, overHighWater, worstWait } = simulate(rates, seconds)
    // Each stripe drains at least 90 % of what it could have, past a second of start-up,
    // and a chunk waits in a slow stripe no longer than the horizon (or its
    // minimum buffer at its rate), give or take the rate estimate.
    return !overHighWater && worstWait <= 1.2 && rates.every((rate, id) => drained[id] >= 0.9 * rate * (seconds - 1))
  }), { numRuns: 60 })
  t.end()
})

test('scheduler: the measured rate follows the drain rate; the high-water mark follows the rate within its bounds', t => {
  const { scheduler } = simulate([2e6, 200e3, 40e6], 5)
  t.ok(Math.abs(scheduler.rate(0) - 2e6) / 2e6 < 0.1, `stripe 0 measured at ${Math.round(scheduler.rate(0))} B/s`)
  t.ok(Math.abs(scheduler.rate(1) - 200e3) / 200e3 < 0.1, `stripe 1 measured at ${Math.round(scheduler.rate(1))} B/s`)
  t.equal(scheduler.highWater(1), 256 * KIB, 'a slow stripe gets the lower bound')
  t.equal(scheduler.highWater(2), 4 * 1024 * KIB, 'a fast one the upper bound')
  t.ok(scheduler.highWater(0) > 256 * KIB && scheduler.highWater(0) < 4 * 1024 * KIB, 'in between: rate x horizon')
  t.end()
})

test('scheduler: a removed stripe is never picked; with none, or all full, pick() is null', t => {
  const s = new StripeScheduler({ minHighWater: 100, maxHighWater: 100 })
  t.equal(s.pick(10), null, 'no stripes')
  s.add(1, 0); s.add(2, 0)
  s.handed(1, 95)
  t.equal(s.pick(10), 2, 'the empty one')
  s.handed(2, 95)
  t.equal(s.pick(10), null, 'both would pass their high-water mark')
  t.equal(s.pick(5), 1, 'a chunk that fits goes (equal rates: the first of equal times)')
  s.remove(1)
  t.equal(s.pick(5), 2, 'not the removed one')
  t.deepEqual(s.ids, [2])
  s.sample(2, 0, 1000)
  t.equal(s.pick(1000), 2, 'an empty stripe takes a chunk larger than its high-water mark')
  s.handed(7, 10); s.sample(7, 0, 10)
  t.equal(s.rate(7), null, 'unknown stripes are ignored')
  t.end()
})
