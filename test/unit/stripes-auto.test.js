'use strict'
// `stripes: 'auto'`: how many connections to use, from measured throughput (lib/stripes/auto.ts).
const test = require('tape')
const fc = require('fast-check')
const { lib } = require('./fakes')
const { AutoStripes } = lib('stripes/auto.js')
const { AUTO_BUSY_BYTES, AUTO_MIN_RTT, AUTO_MIN_GAIN, MAX_STRIPES } = lib('stripes/constants.js')

/** A fast-check property as one tape assertion (fails with the counterexample). */
function holds (t, property, options = {}) {
  const details = fc.check(property, options)
  t.notOk(details.failed, details.failed ? `counterexample ${fc.stringify(details.counterexample)}: ${details.errorInstance || details.error || 'false'}` : `holds over ${details.numRuns} runs`)
}

const MB = 1e6
const WAN_RTT = 0.05

/**
 * Runs `periods` periods on a path where `throughput(open)` bytes move per
 * period with `open` connections, every wanted connection opening at once
 * (unless `opens(count)` says how many open). Returns the decisions and counts.
 */
function run (auto, periods, throughput, { rtt = WAN_RTT, opens = count => count } = {}) {
  const log = []
  let open = 1
  for (let i = 0; i < periods; i++) {
    const decision = auto.period(throughput(open), rtt, open)
    log.push({ ...decision, count: auto.count, state: auto.state })
    open = Math.min(auto.count, opens(auto.count))
  }
  return log
}
const counts = log => log.filter(d => d.action !== 'hold').map(d => `${d.action} ${d.count}`)

test('auto: a loopback-class round trip settles at 1 without adding', t => {
  const auto = new AutoStripes(8)
  const log = run(auto, 20, () => 100 * MB, { rtt: AUTO_MIN_RTT / 4 })
  t.deepEqual(counts(log), [], 'never adds or drops')
  t.equal(auto.count, 1)
  t.equal(auto.state, 'settled', 'settled on the first busy period')
  t.equal(log[0].state, 'settled')
  t.ok(/loopback/.test(log[0].reason), log[0].reason)
  t.equal(log[5].reason, 'settled', 'then holds')
  // Just at the bound is not loopback-class.
  const wan = new AutoStripes(8)
  wan.period(100 * MB, AUTO_MIN_RTT, 1)
  t.equal(wan.state, 'measuring', `a ${AUTO_MIN_RTT * 1000} ms round trip is measured`)
  t.end()
})

test('auto: an unknown round trip waits, then decides on the first known one', t => {
  const auto = new AutoStripes(4)
  t.equal(auto.period(MB, null, 1).reason, 'round trip time unknown')
  t.equal(auto.period(MB, null, 1).reason, 'round trip time unknown')
  t.equal(auto.state, 'measuring')
  t.equal(auto.period(MB, WAN_RTT, 1).reason, 'measuring', 'first sample')
  t.equal(auto.period(MB, null, 1).reason, 'round trip time unknown', 'needed on every period at 1')
  t.equal(auto.period(MB, WAN_RTT, 1).action, 'add', 'second sample')
  t.equal(auto.period(MB, null, 4).reason, 'ramping up', 'not needed past 1')
  t.equal(auto.period(MB, null, 4).reason, 'measuring')
  t.end()
})

test('auto: idle periods never add, whatever the round trip', t => {
  const auto = new AutoStripes(8)
  const log = run(auto, 50, () => AUTO_BUSY_BYTES - 1)
  t.deepEqual(counts(log), [])
  t.ok(log.every(d => d.reason === 'idle'), 'each one is idle')
  t.equal(auto.count, 1)
  t.equal(auto.state, 'measuring', 'still measuring: the stream may get busy later')
  // Idle periods between busy ones are skipped, not averaged in.
  const mixed = new AutoStripes(8)
  t.equal(mixed.period(10 * MB, WAN_RTT, 1).action, 'hold')
  for (let i = 0; i < 5; i++) t.equal(mixed.period(0, WAN_RTT, 1).reason, 'idle')
  const added = mixed.period(10 * MB, WAN_RTT, 1)
  t.equal(added.action, 'add', 'two busy periods, idle ones in between')
  t.ok(added.reason.startsWith('10000000 B/period'), `averaged over the busy ones only: ${added.reason}`)
  t.end()
})

test('auto: throughput rising with connections goes 1→4→8 and settles at the maximum', t => {
  const auto = new AutoStripes(8)
  const log = run(auto, 40, open => open * MB)
  t.deepEqual(counts(log), ['add 4', 'add 8'])
  t.equal(auto.count, 8)
  t.equal(auto.state, 'settled')
  t.ok(/maximum/.test(log.filter(d => d.state === 'settled')[0].reason), 'settled: the maximum')
  const three = new AutoStripes(3)
  t.deepEqual(counts(run(three, 40, open => open * MB)), ['add 3'], 'up to the agreed maximum, not past it')
  const six = new AutoStripes(6)
  t.deepEqual(counts(run(six, 40, open => open * MB)), ['add 4', 'add 6'], 'doubling stops at the agreed maximum')
  t.equal(three.count, 3)
  const one = new AutoStripes(1)
  t.deepEqual(counts(run(one, 10, open => open * MB)), [], 'a maximum of 1 never adds')
  t.equal(one.state, 'settled')
  t.end()
})

test('auto: a gain below 15 % drops back to the previous count and settles', t => {
  // Linear to 4 connections, then flat.
  const auto = new AutoStripes(8)
  const log = run(auto, 40, open => Math.min(open, 4) * MB)
  t.deepEqual(counts(log), ['add 4', 'add 8', 'drop 4'])
  t.equal(auto.count, 4)
  t.equal(auto.state, 'settled')
  t.ok(log.slice(log.findIndex(d => d.action === 'drop') + 1).every(d => d.action === 'hold' && d.reason === 'settled'), 'then holds')
  // Just under and just over the bound.
  const under = new AutoStripes(8)
  t.deepEqual(counts(run(under, 20, open => (open === 1 ? 100 : 100 * (1 + AUTO_MIN_GAIN) - 1) * MB / 10)), ['add 4', 'drop 1'], 'just under: back to 1')
  const over = new AutoStripes(2)
  t.deepEqual(counts(run(over, 20, open => (open === 1 ? 100 : 100 * (1 + AUTO_MIN_GAIN) + 1) * MB / 10)), ['add 2'], 'just over: kept')
  t.equal(over.count, 2)
  t.end()
})

test('auto: connections failing to open do not block it (rampWaits)', t => {
  const auto = new AutoStripes(8)
  // Only the peer's own connection ever opens.
  const log = run(auto, 30, open => open * MB, { opens: () => 1 })
  const added = log.findIndex(d => d.action === 'add')
  t.ok(added >= 0, 'it adds')
  const waits = log.slice(added + 1).filter(d => /waiting for 3 connections to open/.test(d.reason)).length
  t.equal(waits, 4, 'waits a few periods for them')
  t.deepEqual(counts(log), ['add 4', 'drop 1'], 'then measures what it has: no gain, back to 1')
  t.equal(auto.state, 'settled', 'and settles, not stuck ramping')
  t.end()
})

const periodArb = fc.record({
  bytes: fc.oneof(fc.nat(2 * AUTO_BUSY_BYTES), fc.integer({ min: AUTO_BUSY_BYTES, max: 1e9 }), fc.constant(0)),
  rtt: fc.oneof(fc.constant(null), fc.double({ min: 0, max: 2, noNaN: true })),
  open: fc.integer({ min: 0, max: 10 })
})

test('auto: whatever is measured, the count stays within 1..max; add raises it, drop lowers it, settled holds', t => {
  holds(t, fc.property(fc.integer({ min: 1, max: MAX_STRIPES }), fc.array(periodArb, { maxLength: 80 }), (max, periods) => {
    const auto = new AutoStripes(max)
    for (const { bytes, rtt, open } of periods) {
      const before = auto.count
      const wasSettled = auto.state === 'settled'
      const d = auto.period(bytes, rtt, open)
      if (!(auto.count >= 1 && auto.count <= max && Number.isInteger(auto.count))) throw new Error(`count ${auto.count}`)
      if (typeof d.reason !== 'string' || d.reason.length === 0) throw new Error('no reason')
      if (d.action === 'add' && !(d.count > before && d.count === auto.count)) throw new Error(`add ${before} → ${d.count}`)
      if (d.action === 'drop' && !(d.count < before && d.count === auto.count)) throw new Error(`drop ${before} → ${d.count}`)
      if (d.action === 'hold' && auto.count !== before) throw new Error('hold changed the count')
      if (wasSettled && d.action !== 'hold') throw new Error('acted once settled')
    }
    return true
  }), { numRuns: 1000 })
  t.end()
})

test('auto: with throughput that keeps rising, it reaches the maximum in a bounded number of periods', t => {
  holds(t, fc.property(fc.integer({ min: 2, max: MAX_STRIPES }), fc.double({ min: WAN_RTT / 10, max: 1, noNaN: true }), (max, rtt) => {
    const auto = new AutoStripes(max)
    run(auto, 4 * 5, open => open * 10 * MB, { rtt })
    return auto.count === max && auto.state === 'settled'
  }), { numRuns: 200 })
  t.end()
})
