'use strict'
// The server's HeldMessages (lib/server/held.ts) and RateLimiter
// (lib/server/rate-limit.ts), with a fake clock.
const test = require('tape')
const { lib, withClock } = require('./fakes')
const { HeldMessages } = lib('server/held.js')
const { RateLimiter } = lib('server/rate-limit.js')

const message = (dst, n) => ({ type: 'OFFER', src: 'a', dst, payload: n })

test('held: messages are handed over in order, once', t => withClock(clock => {
  const expired = []
  const held = new HeldMessages(5000, 10, 1000, (dst, messages) => expired.push([dst, messages]))
  t.equal(held.hold(message('b', 1), 10), null, 'held')
  t.equal(held.hold(message('c', 2), 10), null, 'held for another peer')
  t.equal(held.hold(message('b', 3), 10), null, 'a second one held')
  t.deepEqual(held.take('b').map(m => m.payload), [1, 3], 'b gets its own, oldest first')
  t.deepEqual(held.take('b'), [], 'and only once')
  t.deepEqual(held.take('nobody'), [], 'nothing for a peer with none')
  clock.tick(5000)
  t.deepEqual(expired.map(([dst, messages]) => [dst, messages.map(m => m.payload)]), [['c', [2]]], 'what was taken does not expire; the rest does')
  t.equal(clock.pending, 0, 'no timer left')
}))

test('held: messages expire together, timeout ms after the first', t => withClock(clock => {
  const expired = []
  const held = new HeldMessages(5000, 10, 1000, (dst, messages) => expired.push([dst, messages.map(m => m.payload)]))
  held.hold(message('b', 1), 1)
  clock.tick(3000)
  held.hold(message('b', 2), 1)
  clock.tick(1999)
  t.deepEqual(expired, [], 'not before the timeout')
  clock.tick(1)
  t.deepEqual(expired, [['b', [1, 2]]], 'both at the first one\'s timeout, in one call')
  t.deepEqual(held.take('b'), [], 'gone once expired')
  held.hold(message('b', 3), 1)
  clock.tick(5000)
  t.deepEqual(expired[1], ['b', [3]], 'a new queue gets its own timeout')
}))

test('held: the per-peer and total limits refuse, and space comes back', t => withClock(clock => {
  const held = new HeldMessages(5000, 2, 100, () => {})
  t.equal(held.hold(message('b', 1), 40), null, 'first')
  t.equal(held.hold(message('b', 2), 40), null, 'second')
  t.equal(held.hold(message('b', 3), 1), 'queue-full', 'a third for the same peer: queue-full')
  t.equal(held.hold(message('c', 4), 21), 'server-full', 'over the total bytes: server-full')
  t.equal(held.hold(message('c', 5), 20), null, 'up to the total bytes: held')
  held.take('b')
  t.equal(held.hold(message('d', 6), 80), null, 'bytes taken are free again')
  clock.tick(5000)
  t.equal(held.hold(message('e', 7), 100), null, 'and bytes expired')
  held.clear()
  t.equal(clock.pending, 0, 'clear drops every timer')
  t.equal(held.hold(message('f', 8), 100), null, 'and every byte')
  held.clear()
}))

test('rate limiter: a burst at once, then rate per second', t => {
  let now = 0
  const limiter = new RateLimiter(10, 3, () => now)
  const takes = n => Array.from({ length: n }, () => limiter.take())
  t.deepEqual(takes(4), [true, true, true, false], 'the burst, then refused')
  now += 99
  t.deepEqual(takes(1), [false], 'less than one token\'s time later: still refused')
  now += 1
  t.deepEqual(takes(2), [true, false], 'one token per 1000/rate ms')
  now += 10_000
  t.deepEqual(takes(4), [true, true, true, false], 'tokens never pile up past the burst')
  now -= 5000
  t.deepEqual(takes(1), [false], 'a clock that goes back gives no tokens')
  now += 100
  t.deepEqual(takes(1), [true], 'and time counts again from there')
  t.end()
})

test('rate limiter: Date.now by default', t => withClock(clock => {
  const limiter = new RateLimiter(1, 1)
  t.equal(limiter.take(), true, 'the burst')
  t.equal(limiter.take(), false, 'then none')
  clock.tick(1000)
  t.equal(limiter.take(), true, 'a second later, one more')
}))
