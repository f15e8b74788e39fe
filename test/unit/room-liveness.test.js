'use strict'
// Liveness of a connected room peer (lib/room/liveness.ts) on a fake clock:
// pings go out only when nothing was sent for an interval, anything heard
// keeps the remote alive, and silence for the whole timeout expires it once.
const test = require('tape')
const { lib, withClock } = require('./fakes')
const { Liveness } = lib('room/liveness.js')

function watch (timeout) {
  const events = { pings: 0, expired: [] }
  const liveness = new Liveness(timeout, {
    ping: () => { events.pings++ },
    expired: silent => events.expired.push(silent)
  })
  return { liveness, events }
}

test('liveness: a silent remote expires once, after the timeout, with pings sent meanwhile', t => withClock(async clock => {
  const { liveness, events } = watch(4000)
  clock.tick(10000)
  t.equal(events.pings, 0, 'nothing before start()')
  liveness.start()
  clock.tick(3999)
  t.deepEqual(events.expired, [], 'not expired before the timeout')
  t.equal(events.pings, 3, 'a ping each quarter of the timeout while nothing else was sent')
  clock.tick(1)
  t.deepEqual(events.expired, [4000], 'expired at the timeout, with the silence measured')
  clock.tick(20000)
  t.equal(events.expired.length, 1, 'expired once')
  t.equal(clock.pending, 0, 'no timer left')
}))

test('liveness: anything heard keeps the remote alive; anything sent makes a ping unneeded', t => withClock(async clock => {
  const { liveness, events } = watch(4000)
  liveness.start()
  for (let i = 0; i < 10; i++) {
    clock.tick(900)
    liveness.heard()
    liveness.sent()
  }
  t.deepEqual(events.expired, [], 'a remote heard from every 900 ms never expires')
  t.equal(events.pings, 0, 'no ping while something is sent every 900 ms')
  clock.tick(3000)
  t.ok(events.pings >= 1, 'a ping once sending stopped')
  t.deepEqual(events.expired, [], 'not expired 3 s after it was last heard')
  liveness.stop()
  clock.tick(10000)
  t.deepEqual(events.expired, [], 'never expires once stopped')
  t.equal(clock.pending, 0, 'stop() leaves no timer')
}))

test('liveness: the ping interval is at most 5 s, at least 1 ms', t => withClock(async clock => {
  const long = watch(60000)
  long.liveness.start()
  clock.tick(5000)
  t.equal(long.events.pings, 1, 'one ping after 5 s with a 60 s timeout')
  long.liveness.stop()
  const short = watch(1)
  short.liveness.start()
  clock.tick(1)
  t.deepEqual(short.events.expired, [1], 'a 1 ms timeout expires after 1 ms')
}))

test('liveness: expiry comes when the silence reaches the timeout, not at the next ping', t => withClock(async clock => {
  const { liveness, events } = watch(10000)
  liveness.start()
  clock.tick(2300)
  liveness.heard()
  clock.tick(9999)
  t.deepEqual(events.expired, [], 'not 1 ms before')
  clock.tick(1)
  t.deepEqual(events.expired, [10000], 'exactly timeout ms after the remote was last heard')
}))
