'use strict'
// ChannelSender (lib/sender.ts) against a fake data channel and a fake clock.
const test = require('tape')
const { lib, withClock, settle, FakeChannel } = require('./fakes')
const { ChannelSender } = lib('sender.js')

const bytes = (s) => Buffer.from(s)
const text = (d) => (typeof d === 'string' ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString())

/** A sender on a fake channel: chunks of 16 bytes, at most 64 in the channel's buffer, polls every 50 ms. */
function setup ({ chunkSize = 16, highWaterMark = 64, max = 1024, countBuffered = true, onError } = {}) {
  const errors = []
  const sender = new ChannelSender({
    chunkSize,
    highWaterMark,
    lowWaterMark: 16,
    pollInterval: 50,
    onError: onError || (err => errors.push(err))
  }, max)
  const channel = new FakeChannel({ countBuffered })
  sender.attach(channel)
  return { sender, channel, errors }
}

test('sender: nothing goes out before open; queued writes go at open', t => withClock(clock => {
  const { sender, channel } = setup()
  t.equal(channel.bufferedAmountLowThreshold, 16, 'attach sets the low-water mark as the channel\'s threshold')
  let called = 0
  sender.writeBytes([bytes('abc')], () => called++)
  clock.tick(1000)
  t.deepEqual(channel.sent, [], 'nothing sent while waiting')
  t.equal(called, 0, 'the write is not confirmed while waiting')
  t.equal(sender.pendingBytes, 3, 'three bytes pending')
  sender.open(undefined)
  t.equal(called, 1, 'open confirms the write: its bytes only wait to be coalesced')
  t.deepEqual(channel.sent, [], 'a partial chunk waits for the end of the round')
  clock.runImmediates()
  t.deepEqual(channel.sent.map(text), ['abc'], 'then goes out')
  t.equal(sender.totalSent, 3, 'totalSent counts it')
  t.equal(sender.pendingBytes, 0, 'nothing pending')
}))

test('sender: small writes in one round are coalesced, large ones split at chunkSize without copying', t => withClock(clock => {
  const { sender, channel } = setup()
  sender.open(undefined)
  sender.writeBytes([bytes('ab')], () => {})
  sender.writeBytes([bytes('cd'), bytes('')], () => {})
  sender.writeBytes([bytes('ef')], () => {})
  t.deepEqual(channel.sent, [], 'nothing sent within the round')
  clock.runImmediates()
  t.deepEqual(channel.sent.map(text), ['abcdef'], 'one message for three writes')

  const big = Buffer.alloc(40, 7)
  sender.writeBytes([big], () => {})
  t.deepEqual(channel.sent.slice(1).map(d => d.byteLength), [16, 16], 'whole chunks go at once')
  t.equal(channel.sent[1].buffer, big.buffer, 'a chunk of one write is a view of it')
  clock.runImmediates()
  t.deepEqual(channel.sent.slice(1).map(d => d.byteLength), [16, 16, 8], 'the rest at the end of the round')
  t.equal(sender.totalSent, 46, 'totalSent')
}))

test('sender: messages go one each, in order with the bytes; one too large goes as bytes', t => withClock(clock => {
  const { sender, channel } = setup({ max: 4 })
  sender.open(undefined)
  sender.writeBytes([bytes('ab')], () => {})
  sender.writeMessage('hey')
  sender.writeBytes([bytes('cd')], () => {})
  t.deepEqual(channel.sent.map(text), ['ab', 'hey'], 'bytes before a message are not held back for coalescing')
  t.equal(typeof channel.sent[1], 'string', 'a string message stays a string')
  clock.runImmediates()
  t.deepEqual(channel.sent.map(text), ['ab', 'hey', 'cd'], 'bytes after it follow')
  channel.sent.length = 0
  sender.writeMessage('abcdefghij')
  clock.runImmediates()
  t.deepEqual(channel.sent.map(text), ['abcd', 'efgh', 'ij'], 'a message over the maximum message size is split')
  t.ok(channel.sent.every(d => typeof d !== 'string' && d.byteLength <= 4), 'as bytes, none over the limit')
}))

test('sender: the maximum message size read lazily, once, and applied', t => withClock(clock => {
  const { sender, channel } = setup()
  let reads = 0
  sender.open(() => { reads++; return 5 })
  t.equal(reads, 0, 'not read at open')
  sender.writeBytes([bytes('0123456789ab')], () => {})
  clock.runImmediates()
  t.equal(reads, 1, 'read when the first message is made')
  t.deepEqual(channel.sent.map(text), ['01234', '56789', 'ab'], 'messages of at most 5 bytes')
  t.equal(sender.messageLimit, 5, 'messageLimit')
  t.equal(reads, 1, 'read once only')

  const other = setup({ max: 7 })
  other.sender.open(() => { throw new Error('no sctp') })
  t.equal(other.sender.messageLimit, 7, 'a read that throws keeps the default')
}))

test('sender: the channel\'s buffer is kept under highWaterMark; writes wait for it to drain', t => withClock(clock => {
  const { sender, channel } = setup()
  sender.open(undefined)
  let called = 0
  sender.writeBytes([Buffer.alloc(100, 1)], () => called++)
  t.equal(channel.bufferedAmount, 64, 'sends up to the high-water mark')
  t.equal(called, 0, 'the write waits')
  t.equal(sender.inFlight, 64, 'inFlight')
  clock.tick(50)
  t.equal(channel.sent.length, 4, 'a poll with the buffer still full sends nothing')
  t.equal(called, 0, 'and the write still waits')
  channel.drain(48)
  sender.onBufferedAmountLow()
  t.equal(called, 1, 'bufferedamountlow: the write is confirmed once its bytes are handed over')
  clock.runImmediates()
  t.equal(channel.bytes().length, 100, 'all bytes sent')
  t.ok(channel.bytes().equals(Buffer.alloc(100, 1)), 'intact')

  // Without the event, polling finds the buffer drained.
  sender.writeBytes([Buffer.alloc(64, 2)], () => called++)
  t.equal(called, 1, 'the next write waits')
  channel.drain()
  clock.tick(49)
  t.equal(called, 1, 'until the poll')
  clock.tick(1)
  t.equal(called, 2, 'the poll sends and confirms')
}))

test('sender: no more than highWaterMark between two readings of a lagging bufferedAmount', t => withClock(clock => {
  const { sender, channel } = setup({ countBuffered: false })
  sender.open(undefined)
  sender.writeBytes([Buffer.alloc(200)], () => {})
  t.equal(channel.bytes().length, 64, 'one high-water mark at first, though bufferedAmount still reads 0')
  t.equal(sender.inFlight, 64, 'inFlight counts what was sent since the reading')
  clock.tick(50)
  t.equal(channel.bytes().length, 128, 'one more after the next reading')
}))

test('sender: the remote\'s window limits what is sent in all', t => withClock(clock => {
  const { sender, channel } = setup()
  sender.setWindowEnd(32)
  sender.open(undefined)
  sender.writeBytes([Buffer.alloc(100)], () => {})
  t.equal(sender.totalSent, 32, 'up to the window\'s end')
  channel.drain()
  clock.tick(200)
  t.equal(sender.totalSent, 32, 'a drained buffer does not move the window')
  sender.setWindowEnd(80)
  t.equal(sender.totalSent, 80, 'the window moving on does')
}))

test('sender: flush waits for the queue and the channel\'s buffer to empty', t => withClock(clock => {
  const { sender, channel } = setup()
  sender.open(undefined)
  sender.writeBytes([bytes('abc')], () => {})
  let flushed = 0
  sender.flush(() => flushed++)
  t.deepEqual(channel.sent.map(text), ['abc'], 'a partial chunk goes at once when a flush waits')
  clock.tick(50)
  t.equal(flushed, 0, 'not flushed while the channel holds bytes')
  channel.drain()
  clock.tick(50)
  t.equal(flushed, 1, 'flushed once the buffer is empty')
  clock.tick(500)
  t.equal(clock.pending, 0, 'no timer left once idle')
}))

test('sender: close stops for good and gives every waiting callback the error', t => withClock(clock => {
  const { sender, channel } = setup()
  sender.open(undefined)
  const results = []
  sender.writeBytes([Buffer.alloc(100)], err => results.push(err && err.code))
  sender.flush(err => results.push(err && err.code))
  t.ok(clock.pending > 0, 'a poll is scheduled')
  sender.close()
  t.deepEqual(results, ['ERR_DESTROYED', 'ERR_DESTROYED'], 'write and flush callbacks get ERR_DESTROYED')
  t.equal(clock.pending, 0, 'no timer survives close')
  t.equal(sender.pendingBytes, 0, 'the queue is dropped')
  sender.flush(err => results.push(err && err.code))
  t.equal(results[2], 'ERR_DATA_CHANNEL', 'a flush after close fails at once')
  const sent = channel.sent.length
  sender.onBufferedAmountLow()
  sender.setWindowEnd(1e9)
  clock.tick(1000)
  t.equal(channel.sent.length, sent, 'nothing more is sent')

  const other = setup()
  const mine = new Error('gone')
  let got = null
  other.sender.writeBytes([bytes('x')], err => { got = err })
  other.sender.close(mine)
  t.equal(got, mine, 'close(err) hands on that error')
}))

test('sender: a channel that refuses a message fails the sender once, with ERR_DATA_CHANNEL', t => withClock(clock => {
  const { sender, channel, errors } = setup()
  sender.open(undefined)
  channel.failSend = new Error('queue full')
  let got = null
  sender.writeBytes([Buffer.alloc(20)], err => { got = err })
  t.equal(errors.length, 1, 'onError once')
  t.equal(errors[0].code, 'ERR_DATA_CHANNEL', 'coded')
  t.equal(errors[0].message, 'queue full', 'with the channel\'s message')
  t.equal(got, errors[0], 'the write gets the same error')
  channel.failSend = null
  sender.writeMessage('more')
  clock.tick(1000)
  t.deepEqual(channel.sent, [], 'nothing sent after the failure')
  t.equal(errors.length, 1, 'no second onError')
}))

test('sender: a Blob goes as its bytes, in order', async t => withClock(async clock => {
  const { sender, channel } = setup()
  sender.open(undefined)
  sender.writeBytes([bytes('ab')], () => {})
  sender.writeMessage(new Blob(['XYZ']))
  sender.writeMessage('after')
  t.deepEqual(channel.sent.map(text), ['ab'], 'the queue stops at the Blob while it is read')
  await settle()
  t.deepEqual(channel.sent.map(text), ['ab', 'XYZ', 'after'], 'its bytes, then what followed')
  t.ok(channel.sent[1] instanceof Uint8Array, 'sent as bytes')

  const other = setup()
  other.sender.open(undefined)
  other.sender.writeMessage({ size: 3, arrayBuffer: () => Promise.reject(new Error('unreadable')) })
  await settle()
  t.deepEqual(other.errors.map(e => `${e.code} ${e.message}`), ['ERR_DATA_CHANNEL unreadable'], 'an unreadable Blob fails the sender')
}))

/** Catches what escapes as an exception and what is left as an unhandled rejection until `fn` resolves. */
async function escapes (fn) {
  const thrown = []
  const rejected = []
  const onThrow = err => thrown.push(err)
  const onReject = err => rejected.push(err)
  process.on('uncaughtException', onThrow)
  process.on('unhandledRejection', onReject)
  try {
    await fn()
    await new Promise(resolve => setTimeout(resolve, 10)) // unhandled rejections are reported after microtasks
  } finally {
    process.removeListener('uncaughtException', onThrow)
    process.removeListener('unhandledRejection', onReject)
  }
  return { thrown, rejected }
}

test('sender: what a callback run after a Blob read throws is rethrown, not a rejection', async t => {
  const flushError = new Error('thrown by a flush callback')
  const flushed = await escapes(async () => {
    const { sender } = setup({ countBuffered: false }) // the buffer reads empty: the flush completes after the read
    sender.open(undefined)
    sender.writeMessage(new Blob(['abc']))
    sender.flush(() => { throw flushError })
    await settle()
    sender.close()
  })
  t.deepEqual(flushed.thrown, [flushError], 'rethrown as an exception')
  t.deepEqual(flushed.rejected, [], 'no unhandled rejection')

  const listenerError = new Error('thrown by an error listener')
  const failed = await escapes(async () => {
    const { sender } = setup({ onError: () => { throw listenerError } })
    sender.open(undefined)
    sender.writeMessage({ size: 1, arrayBuffer: () => Promise.reject(new Error('unreadable')) })
    await settle()
  })
  t.deepEqual(failed.thrown, [listenerError], 'onError: rethrown as an exception')
  t.deepEqual(failed.rejected, [], 'onError: no unhandled rejection')
})

test('sender: a bufferedAmount that cannot be read counts as empty', t => withClock(clock => {
  const { sender, channel } = setup()
  Object.defineProperty(channel, 'bufferedAmount', { get () { throw new Error('native channel gone') }, configurable: true })
  t.equal(sender.bufferedAmount, 0, 'a throwing getter: 0')
  Object.defineProperty(channel, 'bufferedAmount', { get () { return -5 }, configurable: true })
  t.equal(sender.bufferedAmount, 0, 'a negative value: 0')
  Object.defineProperty(channel, 'bufferedAmount', { get () { return 42 }, configurable: true })
  t.equal(sender.bufferedAmount, 42, 'a real value as it is')
}))
