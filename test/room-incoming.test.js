'use strict'
// Rooms: the receiving side of transfers, between real peers. channel:message
// comes at a transfer's start with its info; data is read as a web stream or
// a Node Readable with backpressure (the sender never runs more than the
// receive window ahead of the reader), or awaited whole; decline and cancel
// stop a transfer on both sides with coded errors while other transfers go
// on; an abort or a closed connection errors the receiver's stream; hostile
// frames and control messages are shrugged off.
const test = require('tape')
const crypto = require('crypto')
const fc = require('fast-check')
const { Readable, Writable } = require('stream')
const { pipeline } = require('stream/promises')
const { RECEIVE_WINDOW } = require('../dist/room')
const { encodeControl, encodeStart, encodeChunk, encodeLabel, encodeInfo, PayloadKind, PIECE_SIZE } = require('../dist/lib/room/frames')
const { encodeControlMessage } = require('../dist/lib/room/control')
const { makeRooms, allConnected, messages, leaveAll, sha256, patternBytes } = require('./room-helpers')

const MiB = 1024 * 1024

/** A Node Readable that yields `data` in pieces of `size` bytes. */
function chunked (data, size) {
  return Readable.from((function * () {
    for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size)
  })())
}

/** Resolves with the next `channel:message` of `room` on `label`, calling `take(event)` inside the listener (to start reading before it returns). */
function nextMessage (room, label, take = () => {}) {
  return new Promise(resolve => {
    const onMessage = event => {
      if (event.label !== label) return
      room.off('channel:message', onMessage)
      take(event)
      resolve(event)
    }
    room.on('channel:message', onMessage)
  })
}

/** Lets the event loop run a little (a slow reader). */
const pause = () => new Promise(resolve => setTimeout(resolve, 1))

/** The error a promise rejects with (or null). */
const rejection = promise => Promise.resolve(promise).then(() => null, err => err)

let rooms, a, b, c, bOnA, cOnA

test('room incoming: setup (3 peers)', async t => {
  t.timeoutAfter(30e3)
  ;({ rooms } = makeRooms(3))
  ;[a, b, c] = rooms
  await Promise.all(rooms.map(room => room.join()))
  await Promise.all(rooms.map(room => allConnected(room, 2)))
  bOnA = a.peers.get(b.localId)
  cOnA = a.peers.get(c.localId)
  t.pass('connected')
})

test('room incoming: 32 MiB read slowly through the web stream: intact, the sender never more than the window ahead', async t => {
  t.timeoutAfter(120e3)
  const size = 32 * MiB
  const data = patternBytes(size, 21)
  let reader
  const started = nextMessage(b, 'web', event => { reader = event.data.getReader() })
  const transfer = bOnA.send(chunked(data, 65536), { label: 'web', info: { name: 'big.bin', size } })
  const event = await started
  t.deepEqual(event.info, { name: 'big.bin', size }, 'info arrives with the start')
  t.equal(event.total, null, 'a stream: no total')
  t.equal(event.peer.id, a.localId, 'from the sender')
  // Start reading once the sender used its window (by progress, not time), then read slowly.
  for await (const progress of transfer) {
    if (progress.current > RECEIVE_WINDOW - 2 * PIECE_SIZE) break
  }
  const hash = crypto.createHash('sha256')
  let read = 0
  let reads = 0
  let maxAhead = 0
  let maxBuffered = 0
  let notBytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (!(value instanceof Uint8Array)) notBytes++
    hash.update(value)
    read += value.byteLength
    maxAhead = Math.max(maxAhead, transfer.progress[0].current - read)
    maxBuffered = Math.max(maxBuffered, event.buffered)
    if (++reads % 8 === 0) await pause()
  }
  await transfer
  t.equal(hash.digest('hex'), sha256(data), '32 MiB intact (SHA-256)')
  t.equal(notBytes, 0, 'every chunk is a Uint8Array')
  t.ok(maxAhead <= RECEIVE_WINDOW, `the sender handed at most ${maxAhead} bytes to the connection beyond what was read (window ${RECEIVE_WINDOW})`)
  t.ok(maxAhead > RECEIVE_WINDOW / 2, `and did use its window (${maxAhead})`)
  t.ok(maxBuffered <= RECEIVE_WINDOW, `the receiver held at most ${maxBuffered} bytes not yet read`)
  t.equal((await rejection(event.data)).code, 'ERR_ALREADY_READ', 'read as a stream: no whole value (ERR_ALREADY_READ)')
})

test('room incoming: 32 MiB read slowly through a Node Readable: intact, bounded', async t => {
  t.timeoutAfter(120e3)
  const size = 32 * MiB
  const data = patternBytes(size, 22)
  let readable
  const started = nextMessage(b, 'node', event => { readable = event.data.nodeStream() })
  const transfer = bOnA.send(new Blob([data]), { label: 'node' })
  const event = await started
  t.equal(event.total, size, 'a Blob: its total is known at the start')
  const hash = crypto.createHash('sha256')
  let written = 0
  let writes = 0
  let maxAhead = 0
  let maxBuffered = 0
  const sink = new Writable({
    write (chunk, encoding, callback) {
      hash.update(chunk)
      written += chunk.length
      maxAhead = Math.max(maxAhead, transfer.progress[0].current - written)
      maxBuffered = Math.max(maxBuffered, event.buffered)
      if (++writes % 8 === 0) setTimeout(callback, 1)
      else setImmediate(callback)
    }
  })
  await pipeline(readable, sink)
  await transfer
  t.equal(hash.digest('hex'), sha256(data), '32 MiB intact (SHA-256)')
  // Between the receiver and the sink: the Readable's and the Writable's buffers, a chunk over each.
  const bound = RECEIVE_WINDOW + readable.readableHighWaterMark + sink.writableHighWaterMark + 2 * PIECE_SIZE
  t.ok(maxAhead <= bound, `the sender ran at most ${maxAhead} bytes ahead of the sink (bound ${bound})`)
  t.ok(maxBuffered <= RECEIVE_WINDOW, `the receiver held at most ${maxBuffered} bytes not yet read`)
})

test('room incoming: decline: the sender gets ERR_TRANSFER_DECLINED for that peer only, and sends it no more', async t => {
  t.timeoutAfter(60e3)
  const data = patternBytes(8 * MiB, 23)
  let reason = null
  const declined = nextMessage(b, 'offer', event => event.decline(`no room for ${event.info.name}`))
  const atC = messages(c, 1, 'offer')
  const transfer = a.send(data, { label: 'offer', info: { name: 'movie.mkv' } })
  const error = await rejection(transfer)
  t.equal(error && error.code, 'ERR_TRANSFER_DECLINED', 'the transfer rejects with ERR_TRANSFER_DECLINED')
  t.ok(/no room for movie\.mkv/.test(error.message), 'with the reason')
  const event = await declined
  reason = await rejection(event.data)
  t.equal(reason && reason.code, 'ERR_TRANSFER_DECLINED', 'the declined data rejects with the same code')
  const [got] = await atC
  t.equal(sha256(got.data), sha256(data), 'the other target gets it intact')
  const forB = transfer.progress.find(p => p.peer === bOnA)
  const forC = transfer.progress.find(p => p.peer === cOnA)
  t.ok(forB.current <= RECEIVE_WINDOW, `at most the first window went to the declining peer (${forB.current})`)
  t.equal(forC.current, data.length, 'all of it to the other')
})

test('room incoming: cancel mid-way stops it on both sides; other transfers to the same and another peer complete', async t => {
  t.timeoutAfter(60e3)
  const big = patternBytes(16 * MiB, 24)
  const same = patternBytes(4 * MiB, 25)
  const other = patternBytes(4 * MiB, 26)
  let reader
  const started = nextMessage(b, 'x', event => { reader = event.data.getReader() })
  const sameArrived = messages(b, 1, 'y')
  const otherArrived = messages(c, 1, 'z')
  const source = chunked(big, 65536)
  const x = bOnA.send(source, { label: 'x' })
  const y = bOnA.send(same, { label: 'y' })
  const z = cOnA.send(other, { label: 'z' })
  const event = await started
  let read = 0
  while (read < 2 * MiB) read += (await reader.read()).value.byteLength
  event.cancel('seen enough')
  const receiverError = await rejection(reader.read())
  t.equal(receiverError && receiverError.code, 'ERR_TRANSFER_CANCELLED', 'the receiver\'s stream errors with ERR_TRANSFER_CANCELLED')
  const senderError = await rejection(x)
  t.equal(senderError && senderError.code, 'ERR_TRANSFER_CANCELLED', 'the sender\'s transfer rejects with ERR_TRANSFER_CANCELLED')
  t.ok(/seen enough/.test(senderError.message), 'with the reason')
  t.ok(source.destroyed, 'the sender let go of its source')
  t.ok(x.progress[0].current < big.length, `it stopped before the end (${x.progress[0].current} of ${big.length})`)
  await Promise.all([y, z])
  t.equal(sha256((await sameArrived)[0].data), sha256(same), 'another transfer to the same peer completes intact')
  t.equal(sha256((await otherArrived)[0].data), sha256(other), 'a transfer to another peer completes intact')
})

test('room incoming: the sender\'s abort errors the receiver\'s stream with ERR_TRANSFER_ABORTED', async t => {
  t.timeoutAfter(60e3)
  const controller = new AbortController()
  let reader
  const started = nextMessage(b, 'abort', event => { reader = event.data.getReader() })
  const transfer = bOnA.send(chunked(patternBytes(16 * MiB, 27), 65536), { label: 'abort', signal: controller.signal })
  await started
  let read = 0
  let error = null
  for (;;) {
    try {
      const { done, value } = await reader.read()
      if (done) break
      read += value.byteLength
      if (read >= MiB && !controller.signal.aborted) controller.abort()
    } catch (err) {
      error = err
      break
    }
  }
  t.equal(error && error.code, 'ERR_TRANSFER_ABORTED', `the receiver's stream errors with ERR_TRANSFER_ABORTED (after ${read} bytes)`)
  t.equal((await rejection(transfer)).code, 'ERR_TRANSFER_ABORTED', 'the sender\'s transfer rejects with it too')
})

test('room incoming: a paused reader holds up only its own transfer; a 1 KiB message on the same label overtakes it', async t => {
  t.timeoutAfter(60e3)
  const big = patternBytes(16 * MiB, 28)
  const toC = patternBytes(2 * MiB, 29)
  let reader
  const started = nextMessage(b, 'pause', event => { reader = event.data.getReader() })
  const transfer = bOnA.send(chunked(big, 65536), { label: 'pause' })
  const event = await started
  // Wait (by progress, not time) until the sender has used its window.
  for await (const progress of transfer) {
    if (progress.current > RECEIVE_WINDOW - 2 * PIECE_SIZE) break
  }
  const small = patternBytes(1024, 30)
  const smallArrived = messages(b, 1, 'pause')
  const smallTransfer = bOnA.send(small, { label: 'pause' })
  const [got] = await smallArrived
  await smallTransfer
  t.equal(sha256(got.data), sha256(small), 'the 1 KiB message on the same label arrives whole and is confirmed')
  const otherPeer = messages(c, 1, 'meanwhile')
  await cOnA.send(toC, { label: 'meanwhile' })
  t.equal(sha256((await otherPeer)[0].data), sha256(toC), 'a transfer to another peer completes meanwhile')
  t.notOk(transfer.settled, 'the big transfer waits for its reader')
  t.ok(transfer.progress[0].current <= RECEIVE_WINDOW, `the sender handed at most the window to the connection (${transfer.progress[0].current})`)
  t.ok(event.buffered <= RECEIVE_WINDOW && event.buffered > 0, `the receiver holds ${event.buffered} bytes for it, at most the window`)
  const hash = crypto.createHash('sha256')
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    hash.update(value)
  }
  await transfer
  t.equal(hash.digest('hex'), sha256(big), 'once read, it completes intact')
})

test('room incoming: send options: info must be a JSON value of at most 16 KiB', t => {
  t.throws(() => bOnA.send('x', { info: 'i'.repeat(17000) }), err => err.code === 'ERR_INVALID_OPTION', 'info over 16 KiB: ERR_INVALID_OPTION')
  t.throws(() => bOnA.send('x', { info: () => 1 }), err => err.code === 'ERR_INVALID_OPTION', 'a function: ERR_INVALID_OPTION')
  const cyclic = {}
  cyclic.self = cyclic
  t.throws(() => a.send('x', { info: cyclic }), err => err.code === 'ERR_INVALID_OPTION', 'a cycle: ERR_INVALID_OPTION')
  t.end()
})

test('room incoming: hostile control messages and frames on a live connection never throw; credit overruns are refused', async t => {
  t.timeoutAfter(60e3)
  const escaped = []
  const onEscape = err => escaped.push(String((err && err.stack) || err))
  process.on('uncaughtException', onEscape)
  process.on('unhandledRejection', onEscape)
  const failures = []
  const onError = e => failures.push(e.error.code)
  b.on('channel:error', onError)
  const enc = new TextEncoder()
  const raw = bOnA.peer // a's Peer to b: what it sends, b's room reads as frames
  try {
    const controls = fc.sample(fc.oneof(
      fc.record({ type: fc.constantFrom('credit', 'received', 'refused', 'declined', 'cancelled'), transfer: fc.oneof(fc.integer(), fc.double(), fc.string()), bytes: fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 60)), reason: fc.oneof(fc.string(), fc.integer()) }),
      fc.jsonValue()
    ), 300)
    for (const message of controls) raw.send(encodeControl(enc.encode(JSON.stringify(message))))
    for (const bytes of fc.sample(fc.uint8Array({ maxLength: 200 }), 200)) raw.send(bytes)
    for (const id of [1, 2, 3, 0xffffffff]) {
      raw.send(encodeControl(encodeControlMessage({ type: 'credit', transfer: id, bytes: 2 ** 32 })))
      raw.send(encodeChunk(id + 0x70000000, new Uint8Array(10)))
    }
    // A transfer that sends past its credit.
    const fakeId = 0xfffffff0
    let reader
    const started = nextMessage(b, 'hostile', event => { reader = event.data.getReader() })
    raw.send(encodeStart(fakeId, PayloadKind.BYTES, encodeLabel('hostile'), null, new Uint8Array(0), encodeInfo({ evil: true })))
    const event = await started
    for (let sent = 0; sent <= RECEIVE_WINDOW; sent += PIECE_SIZE) raw.send(encodeChunk(fakeId, new Uint8Array(PIECE_SIZE)))
    t.deepEqual(event.info, { evil: true }, 'its info arrives')
    const error = await rejection(reader.closed)
    t.equal(error && error.code, 'ERR_TRANSFER_REFUSED', 'a sender past its credit (to a reader that does not read): the message fails with ERR_TRANSFER_REFUSED')
    t.ok(event.buffered <= RECEIVE_WINDOW, 'having held no more than the window')
    const after = messages(b, 1, 'after')
    await bOnA.send('still here', { label: 'after' })
    t.equal((await after)[0].data, 'still here', 'the connection carries on')
    t.equal(bOnA.state, 'connected', 'and stays connected')
    t.ok(failures.every(code => /^ERR_/.test(code)), `failures reported on channel:error are coded (${[...new Set(failures)].join(', ')})`)
    t.deepEqual(escaped, [], 'nothing was thrown')
  } finally {
    b.off('channel:error', onError)
    process.removeListener('uncaughtException', onEscape)
    process.removeListener('unhandledRejection', onEscape)
  }
})

test('room incoming: a sender that leaves mid-transfer errors the receiver\'s stream with ERR_PEER_CLOSED', async t => {
  t.timeoutAfter(30e3)
  const bOnC = c.peers.get(b.localId)
  const stream = new Readable({ read () {} })
  stream.push(patternBytes(200000, 31))
  let reader
  const started = nextMessage(b, 'leaving', event => { reader = event.data.getReader() })
  const transfer = bOnC.send(stream, { label: 'leaving' })
  await started
  const first = await reader.read()
  t.ok(first.value.byteLength > 0, 'some bytes arrived')
  const failed = new Promise(resolve => b.on('channel:error', function onError (e) {
    if (e.label !== 'leaving') return
    b.off('channel:error', onError)
    resolve(e)
  }))
  await c.leave()
  let error = null
  try {
    for (;;) if ((await reader.read()).done) break
  } catch (err) {
    error = err
  }
  t.equal(error && error.code, 'ERR_PEER_CLOSED', 'the receiver\'s stream errors with ERR_PEER_CLOSED')
  t.equal((await failed).error.code, 'ERR_PEER_CLOSED', 'and channel:error tells')
  t.equal((await rejection(transfer)).code, 'ERR_PEER_CLOSED', 'the sender\'s transfer rejects with ERR_PEER_CLOSED')
})

test('room incoming: teardown', async t => {
  await leaveAll(rooms)
  t.pass('all rooms left')
})
