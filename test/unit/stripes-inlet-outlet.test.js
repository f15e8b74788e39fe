'use strict'
// The two ends of a striped stream against fake channels: StripedOutlet
// (lib/stripes/outlet.ts) frames and spreads, StripeInlet (lib/stripes/inlet.ts)
// puts back in order.
const test = require('tape')
const fc = require('fast-check')
const { lib, FakeChannel, recorder } = require('./fakes')
const { StripedOutlet } = lib('stripes/outlet.js')
const { StripeInlet } = lib('stripes/inlet.js')
const { encodeFrame, decodeFrame, FRAME_HEADER_BYTES, FLAG_MESSAGE, FLAG_TEXT } = lib('stripes/reassembly.js')
const { STRIPE_STALL_TIMEOUT } = lib('stripes/constants.js')

/** A fast-check property as one tape assertion (fails with the counterexample). */
function holds (t, property, options = {}) {
  const details = fc.check(property, options)
  t.notOk(details.failed, details.failed ? `counterexample ${fc.stringify(details.counterexample)}: ${details.errorInstance || details.error || 'false'}` : `holds over ${details.numRuns} runs`)
}

const frames = channel => channel.sent.map(f => decodeFrame(f))
const text = c => (typeof c === 'string' ? c : Buffer.from(c).toString())
const seqs = channel => frames(channel).map(f => f.seq)

/** An outlet from stream byte `at` on `n` fake channels, with a clock the test moves. */
function outletOn (n, { at = 0, maxMessageSize } = {}) {
  const clock = { now: 1000 }
  const host = recorder(['debug', 'stalled'])
  const outlet = new StripedOutlet(at, host, () => clock.now)
  const channels = Array.from({ length: n }, () => new FakeChannel())
  channels.forEach((c, k) => outlet.add(k, c, maxMessageSize))
  return { outlet, channels, host, clock }
}

test('outlet: each message becomes a numbered frame; text and whole messages are flagged', t => {
  const { outlet, channels } = outletOn(1)
  outlet.send(Buffer.from('abc'), false)
  outlet.send('hé', true)
  outlet.send(Uint8Array.from([1, 2]), true)
  outlet.send('', true)
  const got = frames(channels[0])
  t.deepEqual(got.map(f => f.seq), [0, 1, 2, 3], 'numbered from 0')
  t.deepEqual(got.map(f => f.flags), [0, FLAG_MESSAGE | FLAG_TEXT, FLAG_MESSAGE, FLAG_MESSAGE | FLAG_TEXT])
  t.deepEqual(got.map(f => Buffer.from(f.payload).toString('latin1')), ['abc', Buffer.from('hé').toString('latin1'), '\x01\x02', ''])
  t.equal(outlet.unackedBytes, 3 + 3 + 2, 'payload bytes, UTF-8 for text')
  t.end()
})

test('outlet: frames spread over the stripes; messageLimit leaves room for the header', t => {
  const { outlet, channels } = outletOn(3, { maxMessageSize: 16 * 1024 })
  t.equal(outlet.messageLimit, 16 * 1024 - FRAME_HEADER_BYTES)
  for (let i = 0; i < 300; i++) outlet.send(Buffer.alloc(1000, i), false)
  t.ok(channels.every(c => c.sent.length > 50), `every stripe takes frames (${channels.map(c => c.sent.length)})`)
  const all = channels.flatMap(seqs).sort((a, b) => a - b)
  t.deepEqual(all, Array.from({ length: 300 }, (_, i) => i), 'each frame once')
  t.equal(outlet.bufferedAmount, channels.reduce((n, c) => n + c.bufferedAmount, 0), 'bufferedAmount is the channels\' sum')
  const small = outletOn(2).outlet
  small.add(5, new FakeChannel(), 1000)
  t.equal(small.messageLimit, 1000 - FRAME_HEADER_BYTES, 'the smallest stripe\'s limit')
  t.deepEqual(small.ids, [0, 1, 5])
  t.end()
})

test('outlet: a removed stripe\'s unacknowledged frames go again on the others, in order; acknowledged ones do not', t => {
  const { outlet, channels, host } = outletOn(3, { at: 100 })
  for (let i = 0; i < 60; i++) outlet.send(Buffer.alloc(10, i), false)
  t.equal(outlet.unackedBytes, 600)
  const onOne = seqs(channels[1])
  t.ok(onOne.length > 0, 'stripe 1 carried frames')
  // The remote consumed the stream up to byte 100 + 10 * 20 + 5: frames 0..19 done with.
  outlet.acknowledge(305)
  t.equal(outlet.unackedBytes, 400, 'frames wholly below the credit are freed; one partly below is kept')
  const before = channels.map(c => c.sent.length)
  outlet.remove(1)
  t.deepEqual(outlet.ids, [0, 2])
  const resent = [0, 2].flatMap(k => channels[k].sent.slice(before[k])).map(f => decodeFrame(f).seq).sort((a, b) => a - b)
  t.deepEqual(resent, onOne.filter(s => s >= 20), 'exactly its frames from 20 on')
  const again = [0, 2].flatMap(k => channels[k].sent.slice(before[k]))
  t.ok(again.every(f => channels[1].sent.some(g => Buffer.compare(Buffer.from(f), Buffer.from(g)) === 0)), 'byte for byte the same frames')
  t.equal(channels[1].sent.length, onOne.length, 'nothing more on the removed stripe')
  t.ok(host.called('debug').some(([format]) => /dropped/.test(format)), 'logged')
  outlet.remove(1)
  t.equal([0, 2].reduce((n, k) => n + channels[k].sent.length, 0), before[0] + before[2] + resent.length, 'removing it again does nothing')
  outlet.acknowledge(700)
  t.equal(outlet.unackedBytes, 0, 'everything consumed')
  const left = channels.map(c => c.sent.length)
  outlet.remove(2)
  t.equal(channels[0].sent.length, left[0], 'nothing to re-send once acknowledged')
  t.end()
})

test('outlet: acknowledge() frees frames and keeps the queue compact over a long stream', t => {
  const { outlet } = outletOn(2)
  let n = 0
  for (let i = 0; i < 5000; i++) {
    outlet.send(Buffer.alloc(7), false)
    n += 7
    if (i % 3 === 0) outlet.acknowledge(n - 7)
  }
  t.equal(outlet.unackedBytes, 14, 'the last two frames (the last credit covered all but one before them)')
  outlet.acknowledge(n)
  t.equal(outlet.unackedBytes, 0)
  outlet.acknowledge(n - 100)
  t.equal(outlet.unackedBytes, 0, 'an older credit changes nothing')
  outlet.send(Buffer.alloc(3), false)
  t.equal(outlet.unackedBytes, 3)
  t.end()
})

test('outlet: with no stripe left, frames wait and go out on the next stripe added', t => {
  const { outlet } = outletOn(2)
  outlet.send(Buffer.from('x'), false)
  outlet.remove(0)
  t.deepEqual(outlet.ids, [1], 'stripe 1 still takes the frames')
  t.doesNotThrow(() => outlet.remove(1), 'the last stripe removed with frames unacknowledged: no throw')
  t.deepEqual(outlet.ids, [], 'none left')
  t.doesNotThrow(() => outlet.send('y', true), 'sending with no stripe does not throw')
  t.equal(outlet.room(), 0, 'no room with no stripe')
  const late = new FakeChannel()
  outlet.add(5, late, undefined)
  t.deepEqual(frames(late).map(f => f.seq).sort(), [0, 1], 'both waiting frames went out on the new stripe')
  t.end()
})

test('outlet: a stripe whose send throws is dropped and its frames go elsewhere', t => {
  const { outlet, channels, host } = outletOn(3)
  for (let i = 0; i < 30; i++) outlet.send(Buffer.alloc(100, i), false)
  const onTwo = seqs(channels[2])
  channels[2].failSend = new Error('closing')
  for (let i = 30; i < 60; i++) outlet.send(Buffer.alloc(100, i), false)
  t.ok(host.called('stalled').some(([k, reason]) => k === 2 && /send failed: closing/.test(reason)), 'reported as stalled')
  t.notOk(outlet.ids.includes(2), 'dropped')
  const elsewhere = [0, 1].flatMap(k => seqs(channels[k]))
  t.ok(onTwo.every(s => elsewhere.includes(s)), 'its frames re-sent on the others')
  t.ok(Array.from({ length: 60 }, (_, i) => i).every(s => elsewhere.includes(s)), 'every frame is on a live stripe')
  channels[0].failSend = new Error('gone')
  channels[1].failSend = new Error('gone too')
  t.doesNotThrow(() => { for (let i = 0; i < 10; i++) outlet.send(Buffer.alloc(100), false) }, 'every stripe failing is not thrown: frames wait')
  t.deepEqual(outlet.ids, [], 'all dropped')
  t.ok(host.called('stalled').some(([k]) => k === 0), 'stripe 0 reported too (the manager decides)')
  t.end()
})

test('outlet: stripe acks are checked; a stripe with no ack moving on for long is reported stalled (not stripe 0)', t => {
  const { outlet, channels, host, clock } = outletOn(2)
  for (let i = 0; i < 4; i++) outlet.send(Buffer.alloc(100), false)
  const onOne = channels[1].sent.reduce((n, f) => n + f.byteLength, 0)
  const onZero = channels[0].sent.reduce((n, f) => n + f.byteLength, 0)
  t.ok(onOne > 0 && onZero > 0, 'both carry frames')
  t.equal(outlet.onAck(1, onOne + 1), false, 'more than was sent on it')
  t.equal(outlet.onAck(1, onOne), true)
  t.equal(outlet.onAck(1, 0), false, 'going back')
  t.ok(outlet.room() > 0, 'room left')
  clock.now += STRIPE_STALL_TIMEOUT + 1
  outlet.room()
  t.deepEqual(host.called('stalled'), [], 'stripe 1 acknowledged everything; stripe 0 is watched by the peer')
  outlet.send(Buffer.alloc(100), false)
  outlet.send(Buffer.alloc(100), false)
  clock.now += STRIPE_STALL_TIMEOUT + 1
  outlet.room()
  t.deepEqual(host.called('stalled').map(c => c[0]), [1], 'stripe 1 stalled')
  t.end()
})

test('outlet: a stripe whose frames are overdue is benched: what it has not acknowledged goes on the others, it gets nothing new until it catches up', t => {
  const { outlet, channels, host, clock } = outletOn(3)
  const size = f => f.byteLength
  const total = k => channels[k].sent.reduce((n, f) => n + size(f), 0)
  for (let i = 0; i < 30; i++) outlet.send(Buffer.alloc(1000, i), false)
  const onOne = seqs(channels[1])
  t.ok(onOne.length >= 4, `stripe 1 carried frames (${onOne.length})`)
  // Stripes 0 and 2 acknowledge all they got; stripe 1 only its first two frames.
  outlet.onAck(0, total(0))
  outlet.onAck(2, total(2))
  const firstTwo = channels[1].sent.slice(0, 2).reduce((n, f) => n + size(f), 0)
  outlet.onAck(1, firstTwo)
  clock.now += 999
  outlet.room()
  t.deepEqual(outlet.benched, [], 'not before its hedge delay')
  const before = channels.map(c => c.sent.length)
  clock.now += 1500
  outlet.room()
  t.deepEqual(outlet.benched, [1], 'overdue: benched')
  t.deepEqual(host.called('stalled'), [], 'not dropped: its acks moved less than the stall timeout ago')
  const again = [0, 2].flatMap(k => channels[k].sent.slice(before[k])).map(f => decodeFrame(f).seq).sort((a, b) => a - b)
  t.deepEqual(again, onOne.slice(2), 'the frames it had not acknowledged went again on the others')
  t.equal(outlet.hedged, onOne.length - 2, 'hedged counts them')
  t.equal(channels[1].sent.length, before[1], 'nothing was sent again on it')
  const onOneNow = channels[1].sent.length
  for (let i = 30; i < 60; i++) outlet.send(Buffer.alloc(1000, i), false)
  t.equal(channels[1].sent.length, onOneNow, 'no new frame on a benched stripe')
  outlet.room()
  t.equal(outlet.hedged, onOne.length - 2, 'and it is not hedged twice')
  outlet.onAck(1, total(1) - 1)
  t.deepEqual(outlet.benched, [1], 'still benched while it has bytes in flight')
  outlet.onAck(1, total(1))
  t.deepEqual(outlet.benched, [], 'caught up: back in use')
  t.ok(host.called('debug').some(([format]) => /benched/.test(format)), 'logged')
  outlet.onAck(0, total(0))
  outlet.onAck(2, total(2))
  for (let i = 60; i < 90; i++) outlet.send(Buffer.alloc(1000, i), false)
  t.ok(channels[1].sent.length > onOneNow, 'it takes frames again')
  t.end()
})

test('outlet: the last stripe not benched is not benched, whatever its delay', t => {
  const { outlet, channels, clock } = outletOn(2)
  for (let i = 0; i < 10; i++) outlet.send(Buffer.alloc(1000, i), false)
  clock.now += 2500
  outlet.room()
  t.equal(outlet.benched.length, 1, 'one of two benched')
  const sent = channels.map(c => c.sent.length)
  clock.now += 2000
  outlet.room()
  t.equal(outlet.benched.length, 1, 'the other one is not')
  t.deepEqual(channels.map(c => c.sent.length), sent, 'and nothing more was sent')
  t.end()
})

test('inlet and outlet: with stripes benched and their late copies arriving too, the receiver gets exactly the stream', t => {
  let hedgedRuns = 0
  holds(t, fc.property(
    fc.integer({ min: 2, max: 5 }),
    fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 80 }),
    fc.array(fc.record({ stripe: fc.nat(4), late: fc.boolean(), at: fc.nat(79) }), { maxLength: 6 }),
    (n, sizes, stalls) => {
      const { outlet, channels, clock } = outletOn(n)
      const { inlet: rx, out } = inlet(1 << 24)
      rx.release()
      rx.onFramed(0)
      const delivered = channels.map(() => 0)
      const late = []
      const expected = []
      const stalled = new Set(stalls.map(s => s.stripe % n))
      const deliver = (k, keepLate) => {
        const c = channels[k]
        for (; delivered[k] < c.sent.length; delivered[k]++) {
          const f = c.sent[delivered[k]]
          if (keepLate) late.push([k, f])
          else rx.onFrame(k, ab(f))
        }
      }
      sizes.forEach((size, i) => {
        const payload = Buffer.alloc(size, i)
        expected.push(payload)
        outlet.send(payload, false)
        for (let k = 0; k < n; k++) {
          if (stalled.has(k)) { deliver(k, true); continue }
          deliver(k, false)
          outlet.onAck(k, channels[k].sent.slice(0, delivered[k]).reduce((m, f) => m + f.byteLength, 0))
        }
        if (stalls.some(s => s.at === i)) {
          clock.now += 3000
          outlet.room()
        }
      })
      clock.now += 3000
      outlet.room()
      for (let k = 0; k < n; k++) if (!stalled.has(k)) deliver(k, false)
      // The stalled stripes deliver at last, copies of what went elsewhere too.
      for (const [k, f] of late) rx.onFrame(k, ab(f))
      for (let k = 0; k < n; k++) deliver(k, false)
      if (outlet.hedged > 0) hedgedRuns++
      return Buffer.compare(Buffer.concat(out()), Buffer.concat(expected)) === 0
    }), { numRuns: 200 })
  t.ok(hedgedRuns > 20, `frames were sent again in ${hedgedRuns} runs`)
  t.end()
})

/** An inlet with a large window, recording what it delivers and reports. */
function inlet (maxBytes = 1 << 20) {
  const host = recorder(['deliver', 'violated'])
  return { inlet: new StripeInlet(maxBytes, 8192, host), host, out: () => host.called('deliver').map(([c]) => c) }
}
const frame = (seq, payload, flags = 0) => encodeFrame({ seq, flags, payload: Buffer.from(payload) })
/** As a channel delivers it: an ArrayBuffer of just the frame. */
const ab = f => f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength)

test('inlet: delivers in order, only once released and once the switch point is reached', t => {
  const { inlet: i, out, host } = inlet()
  i.onFrame(1, ab(frame(1, 'cd')))
  i.onFrame(0, ab(frame(0, 'ab')))
  t.deepEqual(out(), [], 'the switch point is not known')
  t.equal(i.onFramed(5), null)
  t.deepEqual(out(), [], 'not released')
  i.onRaw(3)
  i.release()
  t.deepEqual(out(), [], '3 of 5 unframed bytes')
  t.equal(i.framedBytes, 0, 'none delivered yet')
  i.onRaw(2)
  t.deepEqual(out().map(text), ['ab', 'cd'], 'at the switch point: in order')
  t.equal(i.framedBytes, 4)
  i.onFrame(2, new Uint8Array(frame(2, 'ef')))
  t.deepEqual(out().map(text), ['ab', 'cd', 'ef'], 'then at once (a typed array is taken too)')
  t.deepEqual(host.called('violated'), [])
  t.end()
})

test('inlet: release, switch point and raw bytes in any order', t => {
  for (const order of [['release', 'framed', 'raw'], ['raw', 'framed', 'release'], ['framed', 'raw', 'release'], ['release', 'raw', 'framed']]) {
    const { inlet: i, out } = inlet()
    i.onFrame(0, ab(frame(0, 'x')))
    const steps = { release: () => i.release(), framed: () => i.onFramed(2), raw: () => i.onRaw(2) }
    order.forEach((step, n) => {
      steps[step]()
      if (n < 2 && out().length > 0) t.fail(`delivered after ${order.slice(0, n + 1)}`)
    })
    t.deepEqual(out().map(text), ['x'], order.join(', '))
  }
  const { inlet: zero, out } = inlet()
  zero.release()
  zero.onFramed(0)
  zero.onFrame(0, ab(frame(0, 'y')))
  t.deepEqual(out().map(text), ['y'], 'a switch point of 0 needs no raw bytes')
  t.end()
})

test('inlet: whole text messages come out as strings, others as Buffers; duplicates are dropped', t => {
  const { inlet: i, out, host } = inlet()
  i.release(); i.onFramed(0)
  i.onFrame(0, ab(frame(0, 'hé', FLAG_MESSAGE | FLAG_TEXT)))
  i.onFrame(0, ab(frame(1, 'bin', FLAG_MESSAGE)))
  i.onFrame(1, ab(frame(1, 'bin', FLAG_MESSAGE)))
  i.onFrame(1, ab(frame(0, 'hé', FLAG_MESSAGE | FLAG_TEXT)))
  i.onFrame(1, ab(frame(3, 'z')))
  i.onFrame(0, ab(frame(3, 'z')))
  i.onFrame(0, ab(frame(2, 'y')))
  const got = out()
  t.equal(got[0], 'hé', 'a string')
  t.ok(Buffer.isBuffer(got[1]) && got[1].toString() === 'bin', 'a Buffer')
  t.deepEqual(got.map(text), ['hé', 'bin', 'y', 'z'], 'each once, in order')
  t.deepEqual(host.called('violated'), [], 'duplicates are not violations')
  t.end()
})

test('inlet: violations: not a frame, past the window; a second switch point is an error', t => {
  const { inlet: i, host, out } = inlet(100)
  i.onFrame(3, 'text')
  i.onFrame(3, new ArrayBuffer(FRAME_HEADER_BYTES - 1))
  i.onFrame(4, ab(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0x80])))
  i.onFrame(5, { byteLength: 20 })
  t.deepEqual(host.called('violated').map(([k, err]) => [k, err.code, err.message.includes('not a frame')]),
    [[3, 'ERR_STRIPE_PROTOCOL', true], [3, 'ERR_STRIPE_PROTOCOL', true], [4, 'ERR_STRIPE_PROTOCOL', true], [5, 'ERR_STRIPE_PROTOCOL', true]])
  host.calls.length = 0
  i.onFrame(1, ab(frame(1, 'a'.repeat(60))))
  i.onFrame(2, ab(frame(2, 'b'.repeat(41))))
  t.deepEqual(host.called('violated').map(([k, err]) => [k, err.code, /window/.test(err.message)]), [[2, 'ERR_STRIPE_PROTOCOL', true]], 'more held out of order than the window')
  host.calls.length = 0
  i.onFrame(1, ab(frame(1e6, 'c')))
  t.deepEqual(host.called('violated').map(([k]) => k), [1], 'too far ahead')
  host.calls.length = 0
  // Frames waiting for the switch point count against the window too.
  i.onFrame(0, ab(frame(0, 'd'.repeat(30))))
  t.deepEqual(host.called('violated'), [], 'the next expected frame is taken')
  i.onFrame(0, ab(frame(2, 'e'.repeat(11))))
  t.deepEqual(host.called('violated').map(([k]) => k), [0], 'past the window with what waits for the switch point')
  t.deepEqual(out(), [])
  t.equal(i.onFramed(0), null)
  const second = i.onFramed(0)
  t.ok(second instanceof Error && second.code === 'ERR_STRIPE_PROTOCOL' && /second/.test(second.message), 'second switch point')
  t.end()
})

/**
 * Property: the outlet sends `stream` (after `at` unframed bytes) in random
 * chunks on random stripes; frames arrive in a random interleaving (each
 * stripe in its own order), stripes fail at random points (losing what they
 * had not delivered, their unacknowledged frames re-sent), stripe acks and
 * credits flow back. The inlet delivers exactly the stream, in order.
 */
test('inlet and outlet: random chunking, stripes, arrival order, failures and duplicates → exactly the bytes, in order', t => {
  const op = fc.oneof(
    { weight: 6, arbitrary: fc.record({ send: fc.integer({ min: 0, max: 300 }) }) },
    { weight: 8, arbitrary: fc.record({ receive: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ fail: fc.nat(), keep: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ dupe: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ release: fc.constant(true) }) }
  )
  holds(t, fc.property(
    fc.integer({ min: 1, max: 6 }), fc.nat(500), fc.uint8Array({ minLength: 0, maxLength: 4000 }), fc.array(op, { maxLength: 150 }),
    (stripes, at, stream, ops) => {
      const clock = { now: 0 }
      const outlet = new StripedOutlet(at, { debug () {}, stalled () {} }, () => clock.now)
      const sink = recorder(['deliver', 'violated'])
      const i = new StripeInlet(1 << 20, 8192, sink)
      const lanes = new Map()
      for (let k = 0; k < stripes; k++) {
        const channel = new FakeChannel()
        lanes.set(k, { channel, next: 0, lost: Infinity, received: 0 })
        outlet.add(k, channel, 1024)
      }
      let offset = 0
      let rawDelivered = 0
      let consumed = 0
      const rawAt = Math.floor(at / 2)
      const pending = () => [...lanes.entries()].filter(([, l]) => l.next < Math.min(l.channel.sent.length, l.lost))
      const receive = pick => {
        const open = pending()
        if (open.length === 0) return
        const [k, l] = open[pick % open.length]
        const f = l.channel.sent[l.next++]
        i.onFrame(k, f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength))
        l.received += f.byteLength
        if (!outlet.onAck(k, l.received)) throw new Error(`ack ${l.received} refused on ${k}`)
        consumed = sink.called('deliver').reduce((n, [c]) => n + c.length, 0)
        outlet.acknowledge(at + consumed)
      }
      // Part of the unframed prefix arrives before the switch point is known, the rest later.
      i.onRaw(rawAt)
      rawDelivered = rawAt
      i.onFramed(at)
      for (const o of ops) {
        clock.now += 10
        if ('send' in o) {
          const n = Math.min(o.send, outlet.messageLimit, stream.length - offset)
          if (n > 0) outlet.send(stream.slice(offset, offset + n), false)
          offset += n
        } else if ('receive' in o) {
          receive(o.receive)
        } else if ('fail' in o) {
          const live = outlet.ids
          if (live.length < 2) continue
          const k = live[o.fail % live.length]
          const l = lanes.get(k)
          // What it had not delivered by now, beyond `keep` frames, is lost.
          l.lost = Math.min(l.channel.sent.length, l.next + o.keep % 4)
          outlet.remove(k)
        } else if ('dupe' in o) {
          // A frame that arrived already comes again (as a re-send racing the original).
          const from = [...lanes.values()].filter(l => l.next > 0)
          if (from.length === 0) continue
          const l = from[o.dupe % from.length]
          const f = l.channel.sent[o.dupe % l.next]
          i.onFrame(7, f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength))
        } else if (o.release) {
          i.release()
          if (rawDelivered < at) { i.onRaw(at - rawDelivered); rawDelivered = at }
        }
      }
      for (; offset < stream.length; offset += outlet.messageLimit) outlet.send(stream.slice(offset, offset + outlet.messageLimit), false)
      i.release()
      if (rawDelivered < at) i.onRaw(at - rawDelivered)
      for (let n = 0; pending().length > 0; n++) receive(n)
      outlet.acknowledge(at + sink.called('deliver').reduce((n, [c]) => n + c.length, 0))
      if (sink.called('violated').length > 0) throw new Error(`violation ${sink.called('violated')[0][1].message}`)
      const got = Buffer.concat(sink.called('deliver').map(([c]) => c))
      if (Buffer.compare(got, Buffer.from(stream)) !== 0) throw new Error(`delivered ${got.length} bytes of ${stream.length}, or not the same`)
      if (outlet.unackedBytes !== 0) throw new Error(`${outlet.unackedBytes} bytes still unacknowledged`)
      if (i.framedBytes !== stream.length) throw new Error(`framedBytes ${i.framedBytes} of ${stream.length}`)
      return true
    }), { numRuns: 300 })
  t.end()
})
