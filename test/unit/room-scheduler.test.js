'use strict'
// The room's send queue (lib/room/scheduler.ts) and shared sources
// (lib/room/sources.ts) against a fake writer: frames of several transfers
// go out round-robin, a source is pulled only when a frame is wanted, and
// nothing is made while the writer is full.
const test = require('tape')
const { EventEmitter } = require('events')
const { lib } = require('./fakes')
const { SendQueue, Outgoing } = lib('room/scheduler.js')
const { SharedSource } = lib('room/sources.js')
const { parseFrame, encodeLabel, PayloadKind, PIECE_SIZE } = lib('room/frames.js')

/** Lets pending promise callbacks run (the queue awaits its sources). */
const settle = () => new Promise(resolve => setImmediate(resolve))

/** A writer that takes `room` frames, then returns false until drain(). */
class FakeWriter extends EventEmitter {
  constructor (room = Infinity) {
    super()
    this.room = room
    this.frames = []
  }

  write (frame) {
    this.frames.push(parseFrame(frame))
    return this.frames.length < this.room
  }

  drain (more) {
    this.room = this.frames.length + more
    this.emit('drain')
  }
}

/** A source of `pieces` full pieces of bytes, counting pulls. */
function countingSource (pieces, total = null) {
  const source = {
    kind: PayloadKind.BYTES,
    total,
    pulls: 0,
    cancelled: null,
    pull () {
      if (source.pulls >= pieces) return Promise.resolve(null)
      source.pulls++
      return Promise.resolve(new Uint8Array(PIECE_SIZE).fill(source.pulls))
    },
    cancel (reason) { source.cancelled = reason }
  }
  return source
}

function outgoing (id, source, lead = 16, log = []) {
  const shared = new SharedSource(source, lead)
  return new Outgoing(id, source.kind, encodeLabel('l'), shared, {
    progress: (current, total) => log.push(['progress', id, current, total]),
    received: () => log.push(['received', id]),
    failed: error => log.push(['failed', id, error.code])
  })
}

test('send queue: a message added during a long transfer goes out after at most one of its frames', async t => {
  const writer = new FakeWriter(5)
  const queue = new SendQueue(writer, () => {})
  const big = countingSource(50)
  const long = outgoing(1, big)
  queue.add(long)
  await settle()
  const before = writer.frames.length
  t.equal(before, 5, 'the long transfer is under way, the writer full')
  const small = { kind: PayloadKind.TEXT, total: 2, pull: (() => { let done = false; return () => Promise.resolve(done ? null : (done = true, new TextEncoder().encode('hi'))) })(), cancel () {} }
  queue.add(outgoing(2, small))
  writer.drain(Infinity)
  await settle()
  const at = writer.frames.findIndex(f => f.transfer === 2)
  t.ok(at >= before && at <= before + 1, `the short one is written within one frame of the long one (frame ${at}, added at ${before})`)
  // 50 pieces are more than the receiver's first credit: grant the rest.
  long.grant(50 * PIECE_SIZE)
  queue.resume(long)
  while (writer.frames.filter(f => f.transfer === 1).length < 51) await settle()
  const bigFrames = writer.frames.filter(f => f.transfer === 1)
  t.deepEqual([bigFrames[0].type, bigFrames[0].total, bigFrames[bigFrames.length - 1].type], ['start', null, 'end'], 'a source of unknown length: START, CHUNKs, END')
  t.equal(bigFrames.slice(0, -1).reduce((n, f) => n + f.payload.byteLength, 0), 50 * PIECE_SIZE, 'all its bytes')
})

test('send queue: nothing is made or pulled while the writer is full; drain resumes', async t => {
  const writer = new FakeWriter(3)
  const queue = new SendQueue(writer, () => {})
  const source = countingSource(20)
  queue.add(outgoing(1, source))
  for (let i = 0; i < 5; i++) await settle()
  t.equal(writer.frames.length, 3, 'stops at the writer\'s limit')
  t.ok(source.pulls <= 4, `the source was pulled ${source.pulls} times (at most one frame ahead, plus what one pull gives)`)
  writer.drain(2)
  for (let i = 0; i < 5; i++) await settle()
  t.equal(writer.frames.length, 5, 'drain lets exactly what the writer takes through')
})

test('send queue: cancel sends ABORT only if the remote saw the transfer; close stops everything', async t => {
  const writer = new FakeWriter(1)
  const queue = new SendQueue(writer, () => {})
  const log = []
  const seen = countingSource(10)
  const unseen = countingSource(10)
  const a = outgoing(1, seen, 16, log)
  const b = outgoing(2, unseen, 16, log)
  queue.add(a)
  queue.add(b)
  await settle()
  t.deepEqual(writer.frames.map(f => [f.type, f.transfer]), [['start', 1]], 'one frame, then full')
  queue.cancel(a, 'stop')
  queue.cancel(b, 'stop')
  t.ok(seen.cancelled && unseen.cancelled, 'both sources are cancelled')
  writer.drain(5)
  await settle()
  t.deepEqual(writer.frames.slice(1).map(f => [f.type, f.transfer, f.reason]), [['abort', 1, 'stop']], 'ABORT only for the transfer whose START went out')
  queue.close()
  const c = countingSource(3)
  queue.add(outgoing(3, c))
  await settle()
  t.equal(writer.frames.length, 2, 'a closed queue writes nothing')
})

test('shared source: read once for two targets; the fastest runs at most `lead` pieces ahead', async t => {
  const source = countingSource(10)
  const shared = new SharedSource(source, 3)
  const fast = {}
  const slow = {}
  shared.join(fast)
  shared.join(slow)
  const got = []
  for (let i = 0; i < 3; i++) got.push(await shared.piece(fast, i))
  let fourth = null
  shared.piece(fast, 3).then(p => { fourth = p })
  await settle()
  t.equal(fourth, null, 'the fastest waits at the lead')
  t.equal(source.pulls, 3, 'and nothing more is read')
  t.equal(await shared.piece(slow, 0), got[0], 'the slowest gets the same piece')
  await settle()
  t.ok(fourth instanceof Uint8Array && fourth[0] === 4, 'then the fastest moves on')
  shared.leave(slow, new Error('gone'))
  t.equal(source.cancelled, null, 'a source still wanted by a target is not cancelled')
  shared.leave(fast, new Error('gone'))
  t.ok(source.cancelled, 'the last target leaving cancels it')
})
