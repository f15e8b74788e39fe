'use strict'
// Choosing a stripe for each frame from acknowledged delivery (lib/stripes/scheduler.ts).
const test = require('tape')
const fc = require('fast-check')
const { lib } = require('./fakes')
const { StripeScheduler, DEFAULT_SCHEDULER_OPTIONS } = lib('stripes/scheduler.js')

const KIB = 1024
const FRAME = 16 * KIB + 9
const { horizon: HORIZON, minCap: MIN_CAP, maxCap: MAX_CAP } = DEFAULT_SCHEDULER_OPTIONS

/** A fast-check property as one tape assertion (fails with the counterexample). */
function holds (t, property, options = {}) {
  const details = fc.check(property, options)
  t.notOk(details.failed, details.failed ? `counterexample ${fc.stringify(details.counterexample)}: ${details.errorInstance || details.error || 'false'}` : `holds over ${details.numRuns} runs`)
}

/**
 * Stripes that deliver at `links[i].rate` (bytes/s, one frame after another)
 * and acknowledge each frame `links[i].delay` seconds after it was delivered,
 * fed by a sender that always has frames of `FRAME` bytes: after each ack it
 * hands over frames for as long as `pick()` names a stripe. Event-driven up
 * to `seconds`. From `warm` seconds on it records, per stripe, the bytes
 * delivered and the most seconds of its true rate it held in flight; and it
 * checks every hand-over against the caps.
 */
function simulate (links, seconds, { warm = 3, options } = {}) {
  const s = new StripeScheduler(options)
  const state = links.map(() => ({ free: 0, queue: [], handed: 0, acked: 0, delivered: 0, worstHold: 0 }))
  const problems = []
  links.forEach((_, id) => s.add(id, 0))
  const end = seconds * 1000

  const fill = now => {
    for (let id = s.pick(FRAME); id !== null; id = s.pick(FRAME)) {
      const before = s.inFlight(id)
      s.handed(id, FRAME, now)
      const link = links[id]
      const st = state[id]
      st.handed += FRAME
      if (s.inFlight(id) !== st.handed - st.acked) problems.push(`stripe ${id}: inFlight ${s.inFlight(id)}, expected ${st.handed - st.acked}`)
      // Over its cap only by the rule that a stripe with nothing in flight always takes a frame.
      if (before > 0 && s.inFlight(id) > s.cap(id)) problems.push(`stripe ${id}: ${s.inFlight(id)} in flight over cap ${s.cap(id)} at ${now} ms`)
      const start = Math.max(st.free, now)
      st.free = start + FRAME * 1000 / link.rate
      st.queue.push({ delivered: st.free, ack: st.free + link.delay * 1000, total: st.handed })
      if (now >= warm * 1000) st.worstHold = Math.max(st.worstHold, s.inFlight(id) / link.rate)
    }
  }

  fill(0)
  for (;;) {
    let next = null
    for (let id = 0; id < links.length; id++) {
      const head = state[id].queue[0]
      if (head && (next === null || head.ack < state[next].queue[0].ack)) next = id
    }
    if (next === null) { problems.push('nothing in flight'); break }
    const { delivered, ack, total } = state[next].queue.shift()
    if (ack > end) break
    if (delivered >= warm * 1000) state[next].delivered += FRAME
    state[next].acked = total
    if (!s.acked(next, total, ack)) problems.push(`stripe ${next}: ack ${total} refused`)
    fill(ack)
  }
  return { scheduler: s, state, problems }
}

/** Stripes of 100 kB/s to 20 MB/s with round trips below the horizon (0 to 200 ms). */
const linksArb = fc.array(fc.record({
  rate: fc.integer({ min: 100e3, max: 20e6 }),
  delay: fc.integer({ min: 0, max: 200 }).map(ms => ms / 1000)
}), { minLength: 1, maxLength: 6 })

test('scheduler: stripes of any speeds and delays are all kept busy, never over their caps', t => {
  const seconds = 8
  const warm = 3
  holds(t, fc.property(linksArb, links => {
    const { state, problems } = simulate(links, seconds, { warm })
    if (problems.length > 0) throw new Error(problems.slice(0, 3).join('; '))
    // Each stripe delivered at least 90 % of what it could have after the warm-up:
    // a slow one does not hold the others back, a fast one is not starved.
    links.forEach((link, id) => {
      const could = link.rate * (seconds - warm)
      if (state[id].delivered < 0.9 * could) throw new Error(`stripe ${id} delivered ${state[id].delivered} of ${Math.round(could)}`)
    })
    return true
  }), { numRuns: 40 })
  t.end()
})

test('scheduler: a stripe holds at most about `horizon` seconds of its delivery rate (or its least cap)', t => {
  holds(t, fc.property(linksArb, links => {
    const { state, scheduler } = simulate(links, 6)
    links.forEach((link, id) => {
      // Its least cap, or one frame over it (a frame goes to an empty stripe), may be more than `horizon` of a slow stripe;
      // a stripe whose acks take long gets a longer horizon (twice its shortest ack delay).
      const bound = Math.max(scheduler.horizonOf(id) * 1.25, MIN_CAP / link.rate, FRAME / link.rate)
      if (state[id].worstHold > bound) throw new Error(`stripe ${id} held ${state[id].worstHold.toFixed(3)} s of data, bound ${bound.toFixed(3)} s`)
    })
    return true
  }), { numRuns: 40 })
  // The other way round: a slow stripe next to fast ones holds little.
  const { state, scheduler } = simulate([{ rate: 20e6, delay: 0.02 }, { rate: 200e3, delay: 0.1 }, { rate: 10e6, delay: 0.05 }], 6)
  t.ok(state[1].worstHold <= MIN_CAP / 200e3 + 0.01, `the 200 kB/s stripe held at most ${state[1].worstHold.toFixed(3)} s (its least cap: ${(MIN_CAP / 200e3).toFixed(3)} s)`)
  t.equal(scheduler.cap(1), MIN_CAP, 'a slow stripe gets the least cap')
  t.ok(state[0].worstHold <= HORIZON * 1.25, `the 20 MB/s stripe held at most ${state[0].worstHold.toFixed(3)} s`)
  t.end()
})

test('scheduler: measured rates converge to the true delivery rates; caps follow within their bounds', t => {
  holds(t, fc.property(linksArb, links => {
    const { scheduler } = simulate(links, 8)
    links.forEach((link, id) => {
      const error = Math.abs(scheduler.rate(id) - link.rate) / link.rate
      if (error > 0.1) throw new Error(`stripe ${id}: measured ${Math.round(scheduler.rate(id))} B/s for ${link.rate}`)
      const cap = scheduler.cap(id)
      const horizon = scheduler.horizonOf(id)
      if (!(horizon >= HORIZON)) throw new Error(`stripe ${id}: horizon ${horizon}`)
      if (cap !== Math.min(MAX_CAP, Math.max(MIN_CAP, scheduler.rate(id) * horizon))) throw new Error(`stripe ${id}: cap ${cap}, horizon ${horizon}`)
    })
    return true
  }), { numRuns: 40 })
  const { scheduler } = simulate([{ rate: 2e6, delay: 0.05 }, { rate: 40e6, delay: 0.01 }], 6)
  t.ok(Math.abs(scheduler.rate(0) - 2e6) / 2e6 < 0.1, `2 MB/s measured at ${Math.round(scheduler.rate(0))} B/s`)
  t.equal(scheduler.horizonOf(0), HORIZON, 'acks within a quarter second: the default horizon')
  t.equal(scheduler.cap(0), scheduler.rate(0) * HORIZON, 'cap = rate x horizon in between the bounds')
  t.ok(scheduler.cap(0) > MIN_CAP && scheduler.cap(0) < MAX_CAP, 'a 2 MB/s stripe has a cap between the bounds')
  t.equal(scheduler.cap(1), MAX_CAP, 'a 40 MB/s stripe gets the most cap')
  t.end()
})

test('scheduler: a stripe whose rate drops is found out and holds little after', t => {
  // Stripe 1 delivers at 10 MB/s, then from 3 s at 300 kB/s.
  const s = new StripeScheduler()
  s.add(0, 0); s.add(1, 0)
  const rate = (id, now) => (id === 0 ? 5e6 : now < 3000 ? 10e6 : 300e3)
  const links = [{ free: 0, queue: [], handed: 0 }, { free: 0, queue: [], handed: 0 }]
  let worstLate = 0
  const fill = now => {
    for (let id = s.pick(FRAME); id !== null; id = s.pick(FRAME)) {
      s.handed(id, FRAME, now)
      const l = links[id]
      l.handed += FRAME
      l.free = Math.max(l.free, now) + FRAME * 1000 / rate(id, Math.max(l.free, now))
      l.queue.push({ ack: l.free + 20, total: l.handed })
      if (id === 1 && now > 6000) worstLate = Math.max(worstLate, s.inFlight(1))
    }
  }
  fill(0)
  for (;;) {
    const id = links[0].queue[0].ack <= links[1].queue[0].ack ? 0 : 1
    const { ack, total } = links[id].queue.shift()
    if (ack > 10000) break
    s.acked(id, total, ack)
    fill(ack)
  }
  t.ok(Math.abs(s.rate(1) - 300e3) / 300e3 < 0.1, `the slowed stripe measured at ${Math.round(s.rate(1))} B/s`)
  t.ok(worstLate <= MIN_CAP + FRAME, `and holds at most its least cap once found out (${worstLate} bytes)`)
  t.end()
})

test('scheduler: acked() refuses impossible totals and leaves the stripe as it was', t => {
  const s = new StripeScheduler()
  s.add(1, 0)
  s.handed(1, 1000, 0)
  t.equal(s.acked(1, 1001, 10), false, 'more than was handed')
  t.equal(s.inFlight(1), 1000, 'nothing counted')
  t.equal(s.acked(1, 400, 20), true, 'a partial ack')
  t.equal(s.inFlight(1), 600)
  t.equal(s.acked(1, 399, 30), false, 'going back')
  t.equal(s.acked(1, -1, 30), false, 'negative')
  t.equal(s.acked(1, NaN, 30), false, 'not a number')
  t.equal(s.inFlight(1), 600, 'still 600 in flight')
  t.equal(s.acked(1, 400, 40), true, 'the same total again is harmless')
  t.equal(s.acked(1, 1000, 50), true, 'everything')
  t.equal(s.inFlight(1), 0)
  t.equal(s.acked(9, 5, 50), true, 'an unknown (removed) stripe: ignored, not a violation')
  t.equal(s.inFlight(9), 0)
  holds(t, fc.property(fc.array(fc.oneof(
    fc.record({ hand: fc.nat(5000) }),
    fc.record({ ack: fc.integer({ min: -10, max: 60000 }) })
  ), { maxLength: 60 }), ops => {
    const sc = new StripeScheduler()
    sc.add(0, 0)
    let handed = 0
    let acked = 0
    let now = 0
    for (const op of ops) {
      now += 7
      if ('hand' in op) {
        sc.handed(0, op.hand, now)
        handed += op.hand
      } else {
        const ok = sc.acked(0, op.ack, now)
        if (ok !== (op.ack >= acked && op.ack <= handed)) return false
        if (ok) acked = op.ack
      }
      if (sc.inFlight(0) !== handed - acked) return false
    }
    return true
  }), { numRuns: 300 })
  t.end()
})

test('scheduler: pick() takes the stripe that delivers soonest under its cap; an empty stripe is always eligible', t => {
  const s = new StripeScheduler({ minCap: 100, maxCap: 100, initialRate: 1000 })
  t.equal(s.pick(10), null, 'no stripes')
  t.equal(s.leastLoaded(), null, 'no stripes')
  t.equal(s.room(), 0)
  s.add(1, 0); s.add(2, 0)
  t.equal(s.cap(1), 100)
  t.equal(s.room(), 200, 'both caps free')
  s.handed(1, 95, 0)
  t.equal(s.pick(10), 2, 'the empty one')
  t.equal(s.room(), 105)
  s.handed(2, 95, 0)
  t.equal(s.pick(10), null, 'both would pass their caps')
  t.equal(s.pick(5), 1, 'a frame that fits goes (equal rates: the first of equal times)')
  t.equal(s.leastLoaded(), 1, 'leastLoaded ignores caps: the first of equal loads')
  s.handed(1, 5, 0)
  t.equal(s.room(), 5)
  t.equal(s.leastLoaded(), 2)
  s.remove(1)
  t.deepEqual(s.ids, [2])
  t.equal(s.pick(5), 2, 'not the removed one')
  t.equal(s.cap(1), 0, 'a removed stripe has no cap')
  t.equal(s.rate(1), null, 'nor a rate')
  s.acked(2, 95, 10)
  t.equal(s.pick(1000), 2, 'an empty stripe takes a frame larger than its cap')
  s.handed(2, 1000, 10)
  t.equal(s.pick(1), null, 'then nothing more')
  t.equal(s.room(), 0, 'room is never negative per stripe')
  s.handed(7, 10, 10)
  t.equal(s.inFlight(7), 0, 'unknown stripes are ignored')
  s.add(2, 20)
  t.equal(s.inFlight(2), 1000, 'adding a stripe twice keeps it as it was')
  t.end()
})

test('scheduler: a faster stripe is preferred in proportion to its rate', t => {
  // Stripe 0 measured faster than stripe 1: frames go to 0 until its time to
  // deliver what it holds matches 1's, then to both in proportion to rate.
  const s = new StripeScheduler({ initialRate: 1e6, minCap: 1e9, maxCap: 1e9 })
  s.add(0, 0); s.add(1, 0)
  // Stripe 0 delivers 400 kB in 100 ms while busy, stripe 1 100 kB.
  s.handed(0, 800e3, 0); s.handed(1, 800e3, 0)
  s.acked(0, 400e3, 100); s.acked(1, 100e3, 100)
  t.ok(s.rate(0) > s.rate(1), `rates ${Math.round(s.rate(0))} > ${Math.round(s.rate(1))}`)
  const picks = [0, 0]
  for (let i = 0; i < 2000; i++) {
    const id = s.pick(1000)
    picks[id]++
    s.handed(id, 1000, 100)
  }
  // Time to deliver (inFlight + size) / rate: equal after the hand-overs.
  const t0 = s.inFlight(0) / s.rate(0)
  const t1 = s.inFlight(1) / s.rate(1)
  t.ok(Math.abs(t0 - t1) <= 1000 / Math.min(s.rate(0), s.rate(1)), `times to drain level out (${t0.toFixed(4)} s, ${t1.toFixed(4)} s; picks ${picks})`)
  t.ok(picks[1] > 0 && picks[0] > picks[1], 'both picked, the faster more often')
  t.end()
})

test('scheduler: waiting() measures how long in-flight data has gone without an ack moving on', t => {
  const s = new StripeScheduler()
  s.add(0, 0)
  t.equal(s.waiting(0, 500), 0, 'nothing in flight')
  s.handed(0, 100, 1000)
  t.equal(s.waiting(0, 1500), 500)
  s.handed(0, 100, 1200)
  t.equal(s.waiting(0, 1500), 500, 'more data does not restart the wait')
  s.acked(0, 50, 1600)
  t.equal(s.waiting(0, 1700), 100, 'an ack moving on restarts it')
  s.acked(0, 50, 1800)
  t.equal(s.waiting(0, 1900), 300, 'the same total again does not')
  s.acked(0, 200, 2000)
  t.equal(s.waiting(0, 5000), 0, 'all acknowledged: not waiting')
  t.equal(s.waiting(3, 5000), 0, 'unknown stripe')
  t.end()
})

test('scheduler: on a round trip longer than the horizon, the rate is still found (the horizon grows with the ack delay)', t => {
  const { scheduler } = simulate([{ rate: 10e6, delay: 0.6 }], 20)
  t.ok(scheduler.horizonOf(0) >= 1.2, `horizon ${scheduler.horizonOf(0).toFixed(3)} s: at least twice the 0.6 s delay`)
  t.ok(Math.abs(scheduler.rate(0) - 10e6) / 10e6 < 0.2, `10 MB/s measured at ${Math.round(scheduler.rate(0))} B/s`)
  t.end()
})

test('scheduler: hedgeDelayOf() is twice what a frame should take (its cap\'s worth plus the ack delay), at least the floor', t => {
  const s = new StripeScheduler()
  s.add(0, 0)
  s.handed(0, 100, 1000)
  s.acked(0, 100, 1400)
  const floor = DEFAULT_SCHEDULER_OPTIONS.hedgeDelay
  t.equal(s.hedgeDelayOf(0), Math.max(floor, 2 * (1000 * s.horizonOf(0) + 400)), 'the horizon plus the shortest ack delay (400 ms here), twice')
  const far = new StripeScheduler()
  far.add(0, 0)
  far.handed(0, 100, 0)
  far.acked(0, 100, 2000)
  t.equal(far.hedgeDelayOf(0), 2 * (1000 * far.horizonOf(0) + 2000), 'a long ack delay raises it')
  t.ok(far.horizonOf(0) >= 4, 'with the horizon')
  const slow = new StripeScheduler({ initialRate: 50e3 })
  slow.add(0, 0)
  t.equal(slow.cap(0), MIN_CAP, 'a slow stripe is held at the least cap')
  t.equal(slow.hedgeDelayOf(0), 2 * 1000 * MIN_CAP / 50e3, 'and may take that cap\'s worth of its rate, twice')
  const fresh = new StripeScheduler({ hedgeDelay: 5000 })
  fresh.add(0, 0)
  t.equal(fresh.hedgeDelayOf(0), 5000, 'never below the floor')
  t.end()
})

test('scheduler: a benched stripe gets no frames and counts for no room, unless every stripe is benched', t => {
  const s = new StripeScheduler()
  s.add(0, 0)
  s.add(1, 0)
  const roomOfBoth = s.room()
  s.bench(1, true)
  t.ok(s.benched(1) && !s.benched(0), 'benched() says which')
  t.equal(s.room(), roomOfBoth / 2, 'only stripe 0\'s room')
  for (let i = 0; i < 20; i++) {
    const k = s.pick(FRAME) ?? s.leastLoaded()
    t.equal(k, 0, `frame ${i} on stripe 0`)
    s.handed(k, FRAME, i)
  }
  s.bench(0, true)
  t.equal(s.leastLoaded(), 1, 'all benched: the least loaded of all')
  t.ok(s.room() > 0, 'and room again')
  s.bench(0, false)
  s.bench(1, false)
  t.equal(s.pick(FRAME), 1, 'back in use: the empty stripe')
  t.equal(s.handedOf(0), 20 * FRAME, 'handedOf()')
  t.equal(s.ackedOf(0), 0, 'ackedOf()')
  t.end()
})
