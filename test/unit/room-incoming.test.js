'use strict'
// The receiving side of room transfers (lib/room/incoming.ts) against fake
// hooks, and the sender's credit (lib/room/scheduler.ts) against a fake
// writer: messages start before their bytes, are read as streams or whole,
// the receiver grants credit as its reader consumes and never holds more
// than the window of a transfer, decline and cancel answer the sender, and
// hostile frames and control messages never throw.
const test = require('tape')
const fc = require('fast-check')
const { EventEmitter } = require('events')
const { lib } = require('./fakes')
const { Receiver } = lib('room/incoming.js')
const { SendQueue, Outgoing } = lib('room/scheduler.js')
const { SharedSource } = lib('room/sources.js')
const {
  parseFrame, encodeTransfer, encodeLabel, encodeInfo, encodeStart, encodeChunk, encodeEnd, encodeAbort,
  PayloadKind, PIECE_SIZE, RECEIVE_WINDOW, MAX_INFO_BYTES
} = lib('room/frames.js')
const { parseControlMessage, encodeControlMessage, MAX_CREDIT } = lib('room/control.js')

const RUNS = 200
const enc = new TextEncoder()
const settle = () => new Promise(resolve => setImmediate(resolve))

/** A receiver with recording hooks; `onMessage` is the `channel:message` listener. */
function makeReceiver ({ maxMessageSize = 64 * 1024 * 1024, maxTransfers = 16, onMessage = () => {} } = {}) {
  const log = { control: [], messages: [], failed: [] }
  const receiver = new Receiver({ id: 'remote' }, { maxMessageSize, maxTransfers }, {
    control: message => log.control.push(message),
    message: message => {
      log.messages.push(message)
      onMessage(message)
    },
    failed: (message, error) => log.failed.push([message.transfer, error.code]),
    debug: () => {}
  })
  const push = bytes => {
    const frame = parseFrame(bytes)
    if (frame) receiver.push(frame)
    return frame
  }
  return { receiver, log, push }
}

const credits = (log, transfer) => log.control.filter(m => m.type === 'credit' && m.transfer === transfer).reduce((n, m) => n + m.bytes, 0)
const answers = (log, transfer) => log.control.filter(m => m.type !== 'credit' && m.transfer === transfer).map(m => m.type)
const bytesOf = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255)

test('incoming: a message is emitted at its START, with label, info and total, before its bytes', async t => {
  const { log, push } = makeReceiver({ onMessage: m => m.accept() })
  push(encodeStart(7, PayloadKind.TEXT, encodeLabel('chat'), 5, new Uint8Array(0), encodeInfo({ name: 'x.txt' })))
  t.equal(log.messages.length, 1, 'emitted at the START')
  const [message] = log.messages
  t.deepEqual([message.label, message.info, message.total, message.received], ['chat', { name: 'x.txt' }, 5, 0], 'label, info, total; nothing received yet')
  t.ok(message.data instanceof ReadableStream, 'data is a web ReadableStream')
  t.equal(typeof message.data.then, 'function', 'and a thenable')
  push(encodeChunk(7, enc.encode('hello')))
  t.equal(await message.data, 'hello', 'awaited: the string')
  t.deepEqual(answers(log, 7), ['received'], 'the sender is told it was received')
  push(encodeStart(8, PayloadKind.BYTES, encodeLabel('x'), null, new Uint8Array(0)))
  t.equal(log.messages[1].info, undefined, 'no info: undefined')
  t.equal(log.messages[1].total, null, 'a stream: total null')
})

test('incoming: read as a stream, the receiver grants credit as it reads and holds at most the window', async t => {
  const size = 5 * RECEIVE_WINDOW + 12345
  const data = bytesOf(size, 3)
  let message
  const { receiver, log, push } = makeReceiver({ onMessage: m => { message = m; m.accept() } })
  push(encodeStart(1, PayloadKind.BYTES, encodeLabel('f'), null, new Uint8Array(0)))
  const reader = message.data.getReader()
  // A sender that keeps the rules: sends while it has credit.
  let sent = 0
  let maxBuffered = 0
  const send = () => {
    const limit = RECEIVE_WINDOW + credits(log, 1)
    while (sent < size && sent < limit) {
      const n = Math.min(PIECE_SIZE, size - sent, limit - sent)
      push(encodeChunk(1, data.subarray(sent, sent + n)))
      sent += n
      maxBuffered = Math.max(maxBuffered, receiver.buffered, message.buffered)
    }
    if (sent === size && !send.ended) {
      send.ended = true
      push(encodeEnd(1))
    }
  }
  send()
  t.ok(sent <= RECEIVE_WINDOW && sent > 0, `before any read, the sender could send the window only (${sent})`)
  const parts = []
  let read = 0
  let overGranted = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    parts.push(value)
    read += value.byteLength
    if (credits(log, 1) > read) overGranted = true
    send()
  }
  const got = Buffer.concat(parts)
  t.ok(got.equals(Buffer.from(data)), `all ${size} bytes, in order`)
  t.notOk(overGranted, 'never granted past what was read plus the window')
  t.ok(credits(log, 1) >= size - RECEIVE_WINDOW, 'and granted what the sender needed')
  t.ok(maxBuffered <= RECEIVE_WINDOW, `held at most ${maxBuffered} bytes not yet read (window ${RECEIVE_WINDOW})`)
  t.equal(receiver.buffered, 0, 'nothing held at the end')
  t.deepEqual(answers(log, 1), ['received'], 'received, once')
  t.equal(await message.data.then(() => 'value', err => err.code), 'ERR_ALREADY_READ', 'no whole value after a stream read')
})

test('incoming: a sender past its credit or its total is refused; END of a known length too', async t => {
  const { log, push } = makeReceiver({ onMessage: m => m.accept() })
  push(encodeStart(1, PayloadKind.BYTES, encodeLabel('a'), null, new Uint8Array(0)))
  for (let sent = 0; sent < RECEIVE_WINDOW; sent += PIECE_SIZE) push(encodeChunk(1, new Uint8Array(Math.min(PIECE_SIZE, RECEIVE_WINDOW - sent))))
  t.deepEqual(answers(log, 1), [], 'the window is within the rules')
  push(encodeChunk(1, new Uint8Array(1)))
  t.deepEqual(answers(log, 1), ['refused'], 'one byte past the credit: refused')
  t.equal(await log.messages[0].data.then(() => null, err => err.code), 'ERR_TRANSFER_REFUSED', 'its data rejects with ERR_TRANSFER_REFUSED')
  t.deepEqual(log.failed, [[1, 'ERR_TRANSFER_REFUSED']], 'reported as failed (channel:error)')
  push(encodeChunk(1, new Uint8Array(10)))
  t.deepEqual(answers(log, 1), ['refused'], 'later frames of it are dropped without a word')

  push(encodeStart(2, PayloadKind.BYTES, encodeLabel('a'), 4, new Uint8Array(3)))
  push(encodeChunk(2, new Uint8Array(2)))
  t.deepEqual(answers(log, 2), ['refused'], 'past the announced total: refused')
  push(encodeStart(3, PayloadKind.BYTES, encodeLabel('a'), 4, new Uint8Array(1)))
  push(encodeEnd(3))
  t.deepEqual(answers(log, 3), ['refused'], 'END of a known length: refused')
  push(encodeStart(4, PayloadKind.BYTES, encodeLabel('a'), 4, new Uint8Array(1)))
  push(encodeStart(4, PayloadKind.BYTES, encodeLabel('a'), 4, new Uint8Array(1)))
  t.deepEqual(answers(log, 4), ['refused'], 'a START of a transfer in progress refuses the old one')
  t.equal(log.messages.filter(m => m.transfer === 4).length, 2, 'and starts the new one')
})

test('incoming: decline and cancel answer the sender; the data fails with the same code', async t => {
  const { log, push } = makeReceiver({
    onMessage: m => {
      if (m.label === 'no') m.decline('not wanted')
      else m.accept()
    }
  })
  push(encodeStart(1, PayloadKind.TEXT, encodeLabel('no'), 3, enc.encode('abc')))
  t.deepEqual(log.control.filter(m => m.transfer === 1), [{ type: 'declined', transfer: 1, reason: 'not wanted' }], 'declined in the listener: the sender is told, and never that it was received')
  t.equal(await log.messages[0].data.then(() => null, err => err.code), 'ERR_TRANSFER_DECLINED', 'its data rejects with ERR_TRANSFER_DECLINED')

  push(encodeStart(2, PayloadKind.BYTES, encodeLabel('yes'), null, bytesOf(1000, 1)))
  const message = log.messages[1]
  const reader = message.data.getReader()
  const first = await reader.read()
  t.equal(first.value.byteLength, 1000, 'reading')
  message.cancel('enough')
  t.deepEqual(log.control.filter(m => m.transfer === 2 && m.type !== 'credit'), [{ type: 'cancelled', transfer: 2, reason: 'enough' }], 'cancel: the sender is told')
  t.equal(await reader.read().then(() => null, err => err.code), 'ERR_TRANSFER_CANCELLED', 'the reader errors with ERR_TRANSFER_CANCELLED')
  message.cancel('again')
  message.decline('late')
  t.equal(log.control.filter(m => m.transfer === 2 && m.type !== 'credit').length, 1, 'once only')
  t.deepEqual(log.failed, [], 'decline and cancel on this side are not reported as failures')

  push(encodeStart(3, PayloadKind.BYTES, encodeLabel('yes'), null, bytesOf(10, 1)))
  const r3 = log.messages[2].data.getReader()
  await r3.read()
  await r3.cancel(new Error('reader gave up'))
  t.deepEqual(answers(log, 3), ['cancelled'], 'cancelling the stream cancels the message')
})

test('incoming: a message nobody reads is read whole by the room; over maxMessageSize it is refused', async t => {
  const { receiver, log, push } = makeReceiver({ maxMessageSize: 3000 })
  push(encodeStart(1, PayloadKind.JSON, encodeLabel('j'), null, enc.encode('{"a":')))
  push(encodeChunk(1, enc.encode('[1,2]}')))
  push(encodeEnd(1))
  await settle()
  t.deepEqual(answers(log, 1), ['received'], 'read whole and confirmed without anybody awaiting it')
  t.deepEqual(await log.messages[0].data, { a: [1, 2] }, 'a later await gets the value')
  t.throws(() => log.messages[0].data.getReader(), TypeError, 'its stream is taken')

  push(encodeStart(2, PayloadKind.BYTES, encodeLabel('big'), 5000, new Uint8Array(10)))
  t.deepEqual(answers(log, 2), ['refused'], 'a known length over maxMessageSize: refused at once')
  t.equal(await log.messages[1].data.then(() => null, err => err.code), 'ERR_MESSAGE_TOO_LARGE', 'its data rejects with ERR_MESSAGE_TOO_LARGE')

  push(encodeStart(3, PayloadKind.BYTES, encodeLabel('big'), null, new Uint8Array(2000)))
  push(encodeChunk(3, new Uint8Array(2000)))
  push(encodeEnd(3))
  await settle()
  t.deepEqual(answers(log, 3), ['refused'], 'a stream passing maxMessageSize: refused, never confirmed')
  t.deepEqual(log.failed.map(f => f[1]), ['ERR_MESSAGE_TOO_LARGE', 'ERR_MESSAGE_TOO_LARGE'], 'both reported')

  // Read whole at once: together at most maxMessageSize.
  push(encodeStart(5, PayloadKind.BYTES, encodeLabel('w'), 2000, new Uint8Array(10)))
  push(encodeStart(6, PayloadKind.BYTES, encodeLabel('w'), 2000, new Uint8Array(10)))
  t.deepEqual([answers(log, 5), answers(log, 6)], [[], ['refused']], 'two messages read whole that together pass maxMessageSize: the second is refused')
  t.equal(await log.messages[log.messages.length - 1].data.then(() => null, err => err.code), 'ERR_TRANSFER_REFUSED', 'with ERR_TRANSFER_REFUSED')
  push(encodeChunk(5, new Uint8Array(1990)))
  t.equal((await log.messages[log.messages.length - 2].data).byteLength, 2000, 'the first one completes')
  t.equal(receiver.reserved, 0, 'and gives back what it set aside')
  push(encodeStart(7, PayloadKind.BYTES, encodeLabel('w'), 2000, new Uint8Array(2000)))
  t.equal((await log.messages[log.messages.length - 1].data).byteLength, 2000, 'so another fits again')

  push(encodeStart(4, PayloadKind.TEXT, encodeLabel('bad'), 2, new Uint8Array([0xff, 0xfe])))
  t.equal(await log.messages[log.messages.length - 1].data.then(() => null, err => err.code), 'ERR_INVALID_DATA', 'text that is not UTF-8: ERR_INVALID_DATA')
})

test('incoming: abort from the sender and a closed connection fail the messages in progress', async t => {
  const { receiver, log, push } = makeReceiver({ onMessage: m => m.accept() })
  push(encodeStart(1, PayloadKind.BYTES, encodeLabel('a'), null, new Uint8Array(5)))
  push(encodeStart(2, PayloadKind.BYTES, encodeLabel('b'), null, new Uint8Array(5)))
  push(encodeStart(3, PayloadKind.BYTES, encodeLabel('c'), 5, new Uint8Array(5)))
  push(encodeAbort(1, 'stop'))
  const reader = log.messages[0].data.getReader()
  t.equal(await reader.read().then(() => null, err => err.code), 'ERR_TRANSFER_ABORTED', 'abort: the stream errors with ERR_TRANSFER_ABORTED')
  const { roomError } = lib('room/errors.js')
  receiver.close(roomError('gone', 'ERR_PEER_CLOSED'))
  t.equal(await log.messages[1].data.then(() => null, err => err.code), 'ERR_PEER_CLOSED', 'closed: ERR_PEER_CLOSED')
  t.equal((await log.messages[2].data).byteLength, 5, 'a message that had arrived whole is kept')
  t.deepEqual(log.failed, [[1, 'ERR_TRANSFER_ABORTED'], [2, 'ERR_PEER_CLOSED']], 'both reported')
  t.equal(receiver.size, 0, 'nothing in progress')
})

test('incoming: interleaved transfers come back whole, awaited or streamed', async t => {
  const kind = fc.constantFrom(PayloadKind.BYTES, PayloadKind.TEXT)
  const transfers = fc.array(fc.tuple(kind, fc.uint8Array({ maxLength: 2500 }), fc.boolean(), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })), { minLength: 1, maxLength: 6 })
  await fc.assert(fc.asyncProperty(transfers, fc.array(fc.nat(), { maxLength: 200 }), async (list, picks) => {
    const queues = list.map(([k, payload, , info]) => {
      const bytes = k === PayloadKind.TEXT ? enc.encode(Buffer.from(payload).toString('hex')) : payload
      return encodeTransfer(100 + list.indexOf(list.find(x => x[1] === payload)), k, encodeLabel('l'), bytes, 700, info === undefined ? null : encodeInfo(info))
    })
    // Distinct ids, whatever the payloads.
    queues.forEach((q, i) => { for (const f of q) new DataView(f.buffer).setUint32(2, 100 + i) })
    const results = []
    const { log, push, receiver } = makeReceiver({
      onMessage: m => {
        const [k, payload, streamed, info] = list[m.transfer - 100]
        if (JSON.stringify(m.info) !== JSON.stringify(info)) results.push(Promise.resolve(false))
        const expected = k === PayloadKind.TEXT ? Buffer.from(payload).toString('hex') : Buffer.from(payload)
        if (streamed) {
          results.push(new Response(m.data).arrayBuffer().then(b => Buffer.from(b).equals(Buffer.from(k === PayloadKind.TEXT ? enc.encode(expected) : expected))))
        } else {
          results.push(m.data.then(v => k === PayloadKind.TEXT ? v === expected : Buffer.from(v).equals(expected)))
        }
      }
    })
    let p = 0
    while (queues.some(q => q.length)) {
      const live = queues.filter(q => q.length)
      push(live[(picks[p++] || 0) % live.length].shift())
    }
    const ok = await Promise.all(results)
    await settle()
    return ok.length === list.length && ok.every(Boolean) && receiver.size === 0 &&
      list.every((_, i) => answers(log, 100 + i).join() === 'received')
  }), { numRuns: RUNS })
  t.pass('every interleaving delivers every message intact, and each is confirmed once')
})

test('incoming, fuzz: hostile frames never throw; the receiver keeps its bounds; failures are coded', async t => {
  const codes = new Set(['ERR_TRANSFER_REFUSED', 'ERR_TRANSFER_ABORTED', 'ERR_MESSAGE_TOO_LARGE', 'ERR_INVALID_DATA', 'ERR_ALREADY_READ', 'ERR_TRANSFER_CANCELLED', 'ERR_TRANSFER_DECLINED'])
  const tr = fc.nat(5)
  const anyFrame = fc.oneof(
    fc.tuple(tr, fc.constantFrom(1, 2, 3), fc.option(fc.nat(300000), { nil: null }), fc.uint8Array({ maxLength: 300 }), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: null }))
      .map(([id, k, total, payload, info]) => encodeStart(id, k, encodeLabel('x'), total === null ? null : Math.max(total, payload.byteLength), payload, info === null ? null : encodeInfo(info))),
    fc.tuple(tr, fc.integer({ min: 1, max: PIECE_SIZE })).map(([id, n]) => encodeChunk(id, new Uint8Array(n))),
    tr.map(id => encodeEnd(id)),
    tr.map(id => encodeAbort(id, 'x')),
    fc.uint8Array({ maxLength: 64 }).map(rest => new Uint8Array([2, 1, 0, 0, 0, 1, ...rest])),
    fc.uint8Array({ maxLength: 64 })
  )
  const action = fc.constantFrom('accept', 'decline', 'cancel', 'read', 'await', 'nothing')
  await fc.assert(fc.asyncProperty(fc.array(anyFrame, { maxLength: 80 }), fc.array(action, { maxLength: 20 }), async (frames, actions) => {
    let n = 0
    const errors = []
    const { receiver, log, push } = makeReceiver({
      maxMessageSize: 100000,
      maxTransfers: 3,
      onMessage: m => {
        const what = actions[n++ % Math.max(1, actions.length)] || 'nothing'
        if (what === 'accept') m.accept()
        else if (what === 'decline') m.decline()
        else if (what === 'cancel') m.cancel()
        else if (what === 'read') new Response(m.data).arrayBuffer().catch(err => errors.push(err))
        else if (what === 'await') m.data.catch(err => errors.push(err))
      }
    })
    for (const bytes of frames) {
      push(bytes)
      if (receiver.size > 3 || receiver.buffered < 0 || receiver.reserved > 100000 || receiver.reserved < 0) return false
      if (log.messages.some(m => m.buffered > RECEIVE_WINDOW)) return false
    }
    await settle()
    if (!log.failed.every(([, code]) => codes.has(code))) return false
    return errors.every(err => codes.has(err.code))
  }), { numRuns: RUNS })
  t.pass('no throw, at most maxTransfers in progress, at most the window held per message, every failure coded')
})

test('control messages: credit, declined and cancelled parse; hostile ones are refused', t => {
  t.deepEqual(parseControlMessage(enc.encode('{"type":"credit","transfer":7,"bytes":65536}')), { type: 'credit', transfer: 7, bytes: 65536 }, 'credit parses')
  t.deepEqual(parseControlMessage(enc.encode('{"type":"declined","transfer":7,"reason":"no"}')), { type: 'declined', transfer: 7, reason: 'no' }, 'declined parses')
  t.deepEqual(parseControlMessage(enc.encode('{"type":"cancelled","transfer":7}')), { type: 'cancelled', transfer: 7, reason: '' }, 'cancelled without a reason parses')
  t.deepEqual(parseControlMessage(enc.encode('{"type":"received","transfer":7}')), { type: 'received', transfer: 7 }, 'received parses')
  t.deepEqual(parseControlMessage(enc.encode('{"type":"refused","transfer":7,"reason":"no"}')), { type: 'refused', transfer: 7, reason: 'no' }, 'refused parses')
  const bad = [
    '{"type":"credit","transfer":7,"bytes":-5}', '{"type":"credit","transfer":7,"bytes":0}', '{"type":"credit","transfer":7,"bytes":1.5}',
    `{"type":"credit","transfer":7,"bytes":${MAX_CREDIT + 1}}`, '{"type":"credit","transfer":7,"bytes":1e400}', '{"type":"credit","transfer":7,"bytes":"5"}',
    '{"type":"credit","transfer":-1,"bytes":5}', '{"type":"credit","transfer":4294967296,"bytes":5}', '{"type":"declined","transfer":7,"reason":5}',
    '{"type":"cancelled","transfer":0}', '{"type":"received"}', '{"type":"refused","transfer":3}'
  ]
  for (const text of bad) t.equal(parseControlMessage(enc.encode(text)), null, `refused: ${text}`)
  fc.assert(fc.property(fc.record({ type: fc.constantFrom('credit', 'declined', 'cancelled', 'received', 'refused'), transfer: fc.anything(), bytes: fc.anything(), reason: fc.anything() }, { requiredKeys: ['type'] }), obj => {
    let bytes
    try { bytes = enc.encode(JSON.stringify(obj)) } catch { return true }
    const parsed = parseControlMessage(bytes)
    if (parsed === null) return true
    if (!Number.isInteger(parsed.transfer) || parsed.transfer < 1 || parsed.transfer > 0xffffffff) return false
    return parsed.type !== 'credit' || (Number.isInteger(parsed.bytes) && parsed.bytes >= 1 && parsed.bytes <= MAX_CREDIT)
  }), { numRuns: RUNS * 3 })
  t.equal(encodeInfo(undefined), null, 'info: undefined is none')
  t.equal(encodeInfo('x'.repeat(MAX_INFO_BYTES)), null, 'info over 16 KiB is refused')
  t.ok(encodeInfo({ name: 'a' }) instanceof Uint8Array, 'a JSON value is info')
  t.ok(encodeControlMessage({ type: 'credit', transfer: 1, bytes: 2 }) instanceof Uint8Array, 'encodes')
  t.end()
})

/** A writer that takes every frame. */
class Writer extends EventEmitter {
  constructor () {
    super()
    this.frames = []
  }

  write (frame) {
    this.frames.push(parseFrame(frame))
    return true
  }
}

function piecesSource (pieces) {
  let pulled = 0
  return {
    kind: PayloadKind.BYTES,
    total: null,
    pull: () => Promise.resolve(pulled < pieces ? new Uint8Array(PIECE_SIZE).fill(++pulled) : null),
    cancel () {}
  }
}

test('send queue with credit: a transfer without credit is parked, the others go on; a grant resumes it', async t => {
  const writer = new Writer()
  const queue = new SendQueue(writer, () => {})
  const log = []
  const make = (id, source, info = null) => new Outgoing(id, source.kind, encodeLabel('l'), new SharedSource(source, 16), {
    progress: () => {},
    received: () => {},
    failed: error => log.push([id, error.code])
  }, info)
  const slow = make(1, piecesSource(40), encodeInfo({ name: 'big.bin' }))
  queue.add(slow)
  for (let i = 0; i < 40; i++) await settle()
  const bytes = id => writer.frames.filter(f => f.transfer === id).reduce((n, f) => n + (f.payload ? f.payload.byteLength : 0), 0)
  t.ok(bytes(1) <= RECEIVE_WINDOW && bytes(1) > RECEIVE_WINDOW - PIECE_SIZE, `it sent the window and stopped (${bytes(1)} of ${RECEIVE_WINDOW})`)
  t.deepEqual(writer.frames[0].info, { name: 'big.bin' }, 'the START carries the info')
  t.equal(queue.waiting, 1, 'and is parked')
  const fast = make(2, piecesSource(3))
  queue.add(fast)
  for (let i = 0; i < 10; i++) await settle()
  t.equal(writer.frames.filter(f => f.transfer === 2).map(f => f.type).join(), 'start,chunk,chunk,end', 'another transfer goes through meanwhile')
  const before = bytes(1)
  slow.grant(3 * PIECE_SIZE)
  queue.resume(slow)
  for (let i = 0; i < 20; i++) await settle()
  t.ok(bytes(1) - before <= 3 * PIECE_SIZE && bytes(1) > before, `a grant lets exactly that much more through (${bytes(1) - before})`)
  slow.grant(Number.MAX_SAFE_INTEGER)
  slow.grant(Number.MAX_SAFE_INTEGER)
  slow.grant(-5)
  slow.grant(NaN)
  t.equal(slow.window, Number.MAX_SAFE_INTEGER, 'credit saturates; negative and NaN grants are ignored')
  queue.resume(slow)
  for (let i = 0; i < 80; i++) await settle()
  t.equal(bytes(1), 40 * PIECE_SIZE, 'then it all goes')
  t.equal(writer.frames.filter(f => f.transfer === 1).pop().type, 'end', 'ending with END')
  queue.resume(make(3, piecesSource(1)))
  t.equal(queue.size, 0, 'resuming a transfer the queue does not hold does nothing')
  t.deepEqual(log, [], 'nothing failed')
})

test('send queue: a piece that does not fit the START with a long info follows in a CHUNK', async t => {
  const writer = new Writer()
  const queue = new SendQueue(writer, () => {})
  const source = { kind: PayloadKind.BYTES, total: PIECE_SIZE, pulled: false, pull () { if (this.pulled) return Promise.resolve(null); this.pulled = true; return Promise.resolve(new Uint8Array(PIECE_SIZE).fill(9)) }, cancel () {} }
  const info = encodeInfo('i'.repeat(MAX_INFO_BYTES - 2))
  const outgoing = new Outgoing(1, source.kind, encodeLabel('l'.repeat(255)), new SharedSource(source, 16), { progress () {}, received () {}, failed () {} }, info)
  queue.add(outgoing)
  for (let i = 0; i < 10; i++) await settle()
  t.deepEqual(writer.frames.map(f => [f.type, f.payload ? f.payload.byteLength : 0]), [['start', 0], ['chunk', PIECE_SIZE]], 'START alone, then the piece')
  t.equal(writer.frames[0].info.length, MAX_INFO_BYTES - 2, 'the info is whole')
})
