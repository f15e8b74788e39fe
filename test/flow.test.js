'use strict'
// Flow control between two duplex-peers (lib/flow.ts): a slow or paused reader
// holds the writer back, and memory stays bounded on both sides.
const test = require('tape')
const { Peer, LOOPBACK, pair, connected, closed, once, wire, gibibyteSource } = require('./helpers')
const { RECEIVE_WINDOW } = require('../dist/lib/flow')

const CHANNEL_HIGH_WATER_MARK = 1024 * 1024

function waitFor (check) {
  return new Promise(resolve => {
    const poll = () => check() ? resolve() : setTimeout(poll, 20)
    poll()
  })
}

test('1 GiB offered to a paused reader: the writer waits, memory stays within the marks', async t => {
  const [a, b] = pair()
  await connected(a, b)
  b.pause()
  const { source, offered } = gibibyteSource(3)
  source.pipe(a)
  // Wait until the reader's buffer stops growing: the writer is held back.
  let last = -1
  await waitFor(() => { const now = b.readableLength; const still = now === last && now > 0; last = now; return still })
  await new Promise(resolve => setTimeout(resolve, 300))
  const receiverBuffered = b.readableLength
  const senderBuffered = a.bufferSize + a.writableLength
  t.ok(receiverBuffered <= RECEIVE_WINDOW + 256 * 1024, `receiver holds ${receiverBuffered} bytes (window ${RECEIVE_WINDOW})`)
  t.ok(senderBuffered <= CHANNEL_HIGH_WATER_MARK + a.writableHighWaterMark + 256 * 1024, `sender holds ${senderBuffered} bytes`)
  t.ok(offered() < 16 * 1024 * 1024, `only ${offered()} of 1 GiB was taken from the source`)
  // Reading again lets the transfer go on.
  const before = offered()
  let got = 0
  b.on('data', d => { got += d.length })
  b.resume()
  await waitFor(() => offered() > before + 8 * 1024 * 1024)
  t.ok(got > receiverBuffered, 'the transfer resumed once the reader read')
  source.unpipe(a)
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('a slow reader receives everything, in order', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const { Writable } = require('stream')
  const crypto = require('crypto')
  const total = 6 * 1024 * 1024
  const data = require('./helpers').patternBytes(total, 31)
  const hash = crypto.createHash('sha256')
  let got = 0
  let maxBuffered = 0
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write (chunk, _enc, cb) {
      hash.update(chunk); got += chunk.length
      maxBuffered = Math.max(maxBuffered, b.readableLength)
      setTimeout(cb, 2) // a slow consumer
    }
  })
  b.pipe(sink)
  a.end(data)
  await once(sink, 'finish')
  t.equal(got, total, 'all bytes')
  t.equal(hash.digest('hex'), require('./helpers').sha256(data), 'SHA-256 matches')
  t.ok(maxBuffered <= RECEIVE_WINDOW + 256 * 1024, `receiver buffered at most ${maxBuffered} bytes`)
  await closed(a, b)
})

test('flow control is used only between duplex-peers; with a user channel protocol it stays off', async t => {
  const a = new Peer({ ...LOOPBACK, initiator: true, channelConfig: { protocol: 'chat' } })
  const b = new Peer(LOOPBACK)
  wire(a, b)
  await connected(a, b)
  t.equal(b._channel.protocol, 'chat', 'the user protocol is kept')
  const data = Buffer.alloc(3 * 1024 * 1024, 9)
  let got = 0
  b.on('data', d => { got += d.length })
  a.end(data)
  await closed(a, b)
  t.equal(got, data.length, 'end() still delivers everything (transport settle)')
})
