'use strict'
// Rooms: the sending side of transfers. Transfers interleave frame by frame
// (a short message overtakes a long one on the same label), streams are read
// only as they are sent, a transfer resolves once its targets confirmed
// receipt, reports progress, and can be aborted on both sides.
const test = require('tape')
const { Readable } = require('stream')
const { Room, MemoryDriver, LOOPBACK, makeRooms, allConnected, messages, leaveAll, sha256, patternBytes } = require('./room-helpers')

/** A Node Readable that yields `data` in pieces of `size` bytes. */
function chunked (data, size) {
  return Readable.from((function * () {
    for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size)
  })())
}

const MiB = 1024 * 1024
let hub, rooms, a, b, c, bOnA

test('room transfer: setup (3 peers)', async t => {
  t.timeoutAfter(30e3)
  ;({ hub, rooms } = makeRooms(3, { maxMessageSize: 80 * MiB }))
  ;[a, b, c] = rooms
  await Promise.all(rooms.map(room => room.join()))
  await Promise.all(rooms.map(room => allConnected(room, 2)))
  bOnA = a.peers.get(b.localId)
  t.pass('connected')
})

test('room transfer: 1 KiB sent during a 64 MiB transfer on the same label arrives first', async t => {
  t.timeoutAfter(60e3)
  const big = patternBytes(64 * MiB, 7)
  const small = patternBytes(1024, 8)
  // In the order they arrived whole (both start at once: channel:message comes at a transfer's start).
  const arrived = []
  let seen = 0
  const got = new Promise(resolve => {
    const onMessage = event => {
      if (event.label !== 'bulk') return
      if (++seen === 2) b.off('channel:message', onMessage)
      event.data.then(value => {
        arrived.push(value)
        if (arrived.length === 2) resolve(arrived)
      })
    }
    b.on('channel:message', onMessage)
  })
  const bigTransfer = bOnA.send(big, { label: 'bulk' })
  const smallTransfer = bOnA.send(small, { label: 'bulk' })
  const [first, second] = await got
  t.equal(first.byteLength, 1024, 'the 1 KiB message arrives first')
  t.equal(sha256(first), sha256(small), 'intact')
  t.equal(second.byteLength, 64 * MiB, 'then the 64 MiB one')
  t.equal(sha256(second), sha256(big), 'intact')
  await Promise.all([bigTransfer, smallTransfer])
  t.pass('both transfers resolve')
})

test('room transfer: a 16 MiB Node Readable arrives intact, read lazily; resolves after receipt; progress to the total', async t => {
  t.timeoutAfter(60e3)
  const size = 16 * MiB
  const chunk = 64 * 1024
  const data = patternBytes(size, 3)
  let pulled = 0
  let maxAhead = 0
  let sent = 0
  const stream = Readable.from((function * () {
    for (let offset = 0; offset < size; offset += chunk) {
      pulled += chunk
      maxAhead = Math.max(maxAhead, pulled - sent)
      yield data.subarray(offset, offset + chunk)
    }
  })())
  let arrived = null
  b.once('channel:message', event => { arrived = event })
  const transfer = bOnA.send(stream, { label: 'file' })
  const seen = []
  let held = 0
  for await (const progress of transfer) {
    seen.push(progress)
    sent = progress.current
    held = Math.max(held, bOnA.peer.writableLength)
  }
  await transfer
  t.ok(arrived, 'the message had arrived when the transfer resolved')
  t.equal(arrived.label, 'file', 'on its label')
  t.equal(sha256(await arrived.data), sha256(data), '16 MiB intact (SHA-256)')
  t.ok(seen.every(p => p.peer === bOnA && p.label === 'file'), 'progress names the peer and label')
  t.ok(seen.every((p, i) => i === 0 || p.current >= seen[i - 1].current), 'progress is monotonic')
  const last = seen[seen.length - 1]
  t.deepEqual([last.current, last.total], [size, size], 'progress reaches the total')
  t.ok(seen.slice(0, -1).every(p => p.total === null), 'the total of a stream is unknown until it ends')
  t.ok(maxAhead <= 3 * MiB, `the source was read at most ${maxAhead} bytes ahead of what was sent (bound 3 MiB)`)
  t.ok(held <= 2 * bOnA.peer.writableHighWaterMark, `the Peer held at most ${held} frames not yet taken by the channel (backpressure)`)
})

test('room transfer: a web ReadableStream of unknown length, and an empty one', async t => {
  t.timeoutAfter(30e3)
  const size = 3 * MiB + 12345
  const data = patternBytes(size, 11)
  let offset = 0
  let step = 1
  const stream = new ReadableStream({
    pull (controller) {
      if (offset >= size) return controller.close()
      step = (step * 7919) % 100003 + 1
      controller.enqueue(data.subarray(offset, offset + step))
      offset += step
    }
  })
  const got = messages(b, 2, 'web')
  const transfer = bOnA.send(stream, { label: 'web' })
  const empty = bOnA.send(new ReadableStream({ start (controller) { controller.close() } }), { label: 'web' })
  await Promise.all([transfer, empty])
  const received = await got
  const byLength = received.map(e => e.data.byteLength).sort((x, y) => x - y)
  t.deepEqual(byLength, [0, size], 'both arrive, as bytes')
  t.equal(sha256(received.find(e => e.data.byteLength === size).data), sha256(data), 'intact (SHA-256)')
  const [last] = transfer.progress
  t.deepEqual([last.current, last.total], [size, size], 'progress ends at the length')
})

test('room transfer: a Blob is read as it is sent, its length known from the start', async t => {
  t.timeoutAfter(30e3)
  const data = patternBytes(MiB + 17, 13)
  const got = messages(b, 1, 'blob')
  const transfer = bOnA.send(new Blob([data.subarray(0, 1000), data.subarray(1000)]), { label: 'blob' })
  const totals = new Set()
  for await (const progress of transfer) totals.add(progress.total)
  await transfer
  t.deepEqual([...totals], [MiB + 17], 'every progress update has the total')
  t.equal(sha256((await got)[0].data), sha256(data), 'intact (SHA-256)')
})

test('room transfer: one stream to two peers; both get it whole', async t => {
  t.timeoutAfter(30e3)
  const size = 8 * MiB
  const data = patternBytes(size, 5)
  const stream = chunked(data, 100000)
  const got = [messages(b, 1, 'fan'), messages(c, 1, 'fan')]
  const transfer = a.send(stream, { label: 'fan' })
  await transfer
  const [[atB], [atC]] = await Promise.all(got)
  t.equal(sha256(atB.data), sha256(data), 'the first target has it intact')
  t.equal(sha256(atC.data), sha256(data), 'the second too')
  t.deepEqual(transfer.progress.map(p => [p.current, p.total]), [[size, size], [size, size]], 'progress per target ends at the total')
})

test('room transfer: abort mid-way rejects on the sender and fails the message on the receiver', async t => {
  t.timeoutAfter(30e3)
  const size = 32 * MiB
  const data = patternBytes(size, 9)
  const stream = chunked(data, 65536)
  const controller = new AbortController()
  let delivered = false
  let dataError = null
  const onMessage = e => { if (e.label === 'abort') e.data.then(() => { delivered = true }, err => { dataError = err }) }
  b.on('channel:message', onMessage)
  const failed = new Promise(resolve => b.once('channel:error', resolve))
  const transfer = bOnA.send(stream, { label: 'abort', signal: controller.signal })
  let error = null
  try {
    for await (const progress of transfer) {
      if (progress.current >= 2 * MiB) controller.abort()
    }
  } catch (err) {
    error = err
  }
  t.equal(error && error.code, 'ERR_TRANSFER_ABORTED', 'progress iteration throws the coded error')
  const rejected = await transfer.then(() => null, err => err)
  t.equal(rejected && rejected.code, 'ERR_TRANSFER_ABORTED', 'the transfer rejects with ERR_TRANSFER_ABORTED')
  const event = await failed
  t.equal(event.peer.id, a.localId, 'the receiver gets channel:error from the sender')
  t.equal(event.label, 'abort', 'for the label')
  t.equal(event.error.code, 'ERR_TRANSFER_ABORTED', 'with ERR_TRANSFER_ABORTED')
  t.ok(stream.destroyed, 'the source stream was destroyed')

  // The connection carries on.
  const after = messages(b, 1, 'after')
  await bOnA.send('still here', { label: 'after' })
  t.equal((await after)[0].data, 'still here', 'later messages still arrive')
  b.off('channel:message', onMessage)
  t.notOk(delivered, 'the aborted message was never delivered')
  t.equal(dataError && dataError.code, 'ERR_TRANSFER_ABORTED', 'its data rejected with ERR_TRANSFER_ABORTED')

  const pre = new AbortController()
  pre.abort()
  const code = await bOnA.send('x', { signal: pre.signal }).then(() => null, err => err.code)
  t.equal(code, 'ERR_TRANSFER_ABORTED', 'a signal aborted already rejects at once')
  t.throws(() => bOnA.send('x', { signal: {} }), err => err.code === 'ERR_INVALID_OPTION', 'a signal that is not an AbortSignal: ERR_INVALID_OPTION')
  t.throws(() => bOnA.send(Symbol('x')), err => err.code === 'ERR_INVALID_DATA', 'data of no kind: ERR_INVALID_DATA')
})

test('room transfer: a stream that fails rejects with ERR_SOURCE_FAILED and aborts on the receiver', async t => {
  t.timeoutAfter(30e3)
  const stream = new Readable({ read () {} })
  stream.push(patternBytes(200000, 2))
  const failed = new Promise(resolve => b.once('channel:error', resolve))
  const transfer = bOnA.send(stream, { label: 'broken' })
  for await (const progress of transfer) {
    if (progress.current > 0) break
  }
  t.ok(transfer.progress[0].current > 0, 'some bytes went out')
  stream.destroy(new Error('disk on fire'))
  const code = await transfer.then(() => null, err => err.code)
  t.equal(code, 'ERR_SOURCE_FAILED', 'the transfer rejects with ERR_SOURCE_FAILED')
  t.equal((await failed).error.code, 'ERR_TRANSFER_ABORTED', 'the receiver gets ERR_TRANSFER_ABORTED')
})

test('room transfer: a peer that closes mid-transfer fails it with ERR_PEER_CLOSED', async t => {
  t.timeoutAfter(30e3)
  const stream = new Readable({ read () {} })
  stream.push(patternBytes(100000, 4))
  const cOnA = a.peers.get(c.localId)
  const transfer = cOnA.send(stream, { label: 'gone' })
  for await (const progress of transfer) {
    if (progress.current > 0) break
  }
  t.ok(transfer.progress[0].current > 0, 'some bytes went out')
  await c.leave()
  const code = await transfer.then(() => null, err => err.code)
  t.equal(code, 'ERR_PEER_CLOSED', 'the transfer rejects with ERR_PEER_CLOSED')
  t.ok(stream.destroyed, 'and the source is let go')
})

test('room transfer: a receiver that refuses a message (over its maxMessageSize) fails it with ERR_TRANSFER_REFUSED', async t => {
  t.timeoutAfter(30e3)
  const d = new Room({ id: a.id, driver: new MemoryDriver(hub), ...LOOPBACK, connectionTimeout: 20e3, maxMessageSize: MiB })
  rooms.push(d)
  const aSeesD = new Promise(resolve => a.on('connection:connected', function onConnected ({ peer }) {
    if (peer.id !== d.localId) return
    a.off('connection:connected', onConnected)
    resolve()
  }))
  await d.join()
  await Promise.all([allConnected(d, 2), aSeesD])
  const dOnA = a.peers.get(d.localId)
  const known = await dOnA.send(new Uint8Array(2 * MiB), { label: 'big' }).then(() => null, err => err.code)
  t.equal(known, 'ERR_TRANSFER_REFUSED', 'a known length over the limit is refused at its start')
  const stream = Readable.from((function * () { for (let i = 0; i < 64; i++) yield patternBytes(65536, i + 1) })())
  const unknown = await dOnA.send(stream, { label: 'big' }).then(() => null, err => err.code)
  t.equal(unknown, 'ERR_TRANSFER_REFUSED', 'a stream is refused when it passes the limit')
  t.ok(stream.destroyed, 'and its source is let go')
  const after = messages(d, 1, 'small')
  await dOnA.send('fits', { label: 'small' })
  t.equal((await after)[0].data, 'fits', 'the connection carries on')
})

test('room transfer: teardown', async t => {
  await leaveAll(rooms)
  t.pass('all rooms left')
})
