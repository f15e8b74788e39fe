'use strict'
// The data channel's send path: splitting, coalescing, backpressure, message boundaries.
const test = require('tape')
const crypto = require('crypto')
const { Readable, Writable } = require('stream')
const { pair, connected, closed, once, sha256, patternBytes } = require('./helpers')

function collect (peer, size) {
  const hash = crypto.createHash('sha256')
  let got = 0
  return new Promise((resolve, reject) => {
    const onData = chunk => {
      hash.update(chunk)
      got += chunk.length
      if (got >= size) {
        peer.removeListener('data', onData)
        resolve({ got, digest: hash.digest('hex') })
      }
    }
    peer.on('data', onData)
    peer.once('error', reject)
  })
}

test('a single 1 MiB write arrives intact and the channel stays open', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const data = patternBytes(1024 * 1024, 7)
  const arrival = collect(b, data.length)
  a.write(data)
  const { got, digest } = await arrival
  t.equal(got, data.length, 'every byte arrived')
  t.equal(digest, sha256(data), 'SHA-256 matches')
  t.ok(a.connected && b.connected, 'both still connected')
  t.equal(a._channel.readyState, 'open', 'channel still open')
  // The channel still works after the big write.
  const next = once(b, 'data')
  a.write('after')
  t.equal(String(await next), 'after', 'a later write arrives too')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('writes made before connect are delivered after it, in order', async t => {
  const [a, b] = pair()
  const parts = [Buffer.from('one,'), Buffer.from('two,'), patternBytes(300 * 1024, 3), Buffer.from('end')]
  for (const part of parts) a.write(part)
  const whole = Buffer.concat(parts)
  t.notOk(a.connected, 'not connected yet when written')
  const { got, digest } = await collect(b, whole.length)
  t.equal(got, whole.length, 'byte count')
  t.equal(digest, sha256(whole), 'content and order')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('write() returns false while the channel is full, and drain follows', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const chunk = patternBytes(1024, 9)
  let writes = 0
  while (a.write(chunk)) writes++
  const queued = (writes + 1) * chunk.length
  t.ok(queued >= 1024 * 1024, `write() kept returning true until the channel buffer was high (${queued} bytes)`)
  t.ok(queued < 16 * 1024 * 1024, 'and returned false well before the 16 MiB at which libwebrtc closes a channel')
  t.ok(a.bufferSize > 0, `bytes are buffered (bufferSize ${a.bufferSize})`)
  const total = queued
  const arrival = collect(b, total)
  await once(a, 'drain')
  t.pass('drain emitted')
  const { got } = await arrival
  t.equal(got, total, 'everything written arrived')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('256 MiB piped through one pair arrives intact, with end() closing both sides', async t => {
  const [a, b] = pair()
  const SIZE = 256 * 1024 * 1024
  const block = patternBytes(1024 * 1024, 11)
  let produced = 0
  const sourceHash = crypto.createHash('sha256')
  const source = new Readable({
    read () {
      if (produced >= SIZE) return this.push(null)
      // Uneven chunk sizes exercise coalescing and splitting.
      const size = Math.min(SIZE - produced, [1000, 70000, 1024 * 1024, 16384][produced % 4] || 4096)
      const offset = produced % block.length
      const piece = Buffer.from(block.subarray(offset, Math.min(offset + size, block.length)))
      produced += piece.length
      sourceHash.update(piece)
      this.push(piece)
    }
  })
  const sinkHash = crypto.createHash('sha256')
  let received = 0
  const sink = new Writable({
    write (chunk, _enc, cb) { sinkHash.update(chunk); received += chunk.length; cb() }
  })
  const finished = once(sink, 'finish')
  source.pipe(a)
  b.pipe(sink)
  await finished
  t.equal(received, SIZE, 'all 256 MiB arrived')
  t.equal(sinkHash.digest('hex'), sourceHash.digest('hex'), 'SHA-256 matches')
  await closed(a, b)
  t.pass('both peers closed after end()')
})

test('send() keeps message boundaries and accepts every binary type', async t => {
  const [a, b] = pair({ objectMode: true }, { objectMode: true })
  await connected(a, b)
  const received = []
  b.on('data', d => received.push(d))
  const u16 = new Uint16Array([1, 2, 3])
  const messages = ['text', Buffer.from([1, 2, 3]), new Uint8Array([4, 5]).buffer, u16, new DataView(new ArrayBuffer(2))]
  if (typeof Blob !== 'undefined') messages.push(new Blob([Buffer.from('blob!')]))
  for (const m of messages) a.send(m)
  a.send('last')
  while (received.length < messages.length + 1) await once(b, 'data')
  t.equal(received[0], 'text', 'string arrives as a string in object mode')
  t.deepEqual([...received[1]], [1, 2, 3], 'Buffer')
  t.deepEqual([...received[2]], [4, 5], 'ArrayBuffer')
  t.deepEqual([...received[3]], [...Buffer.from(u16.buffer)], 'typed array view')
  t.equal(received[4].length, 2, 'DataView')
  if (typeof Blob !== 'undefined') t.equal(String(received[5]), 'blob!', 'Blob, in order')
  t.equal(received[received.length - 1], 'last', 'order kept')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('object mode keeps write boundaries', async t => {
  const [a, b] = pair({ objectMode: true }, { objectMode: true })
  await connected(a, b)
  const sizes = [1, 100, 5000, 65536, 200000]
  const received = []
  b.on('data', d => received.push(d))
  for (const size of sizes) a.write(patternBytes(size, size))
  while (received.length < sizes.length) await once(b, 'data')
  t.deepEqual(received.map(d => d.length), sizes, 'one message per write, same sizes')
  t.ok(received.every((d, i) => d.equals(patternBytes(sizes[i], sizes[i]))), 'same contents')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('send() above the maximum message size fails with a code and the connection stays up', async t => {
  const [a, b] = pair()
  await connected(a, b)
  try {
    a.send(Buffer.alloc(4 * 1024 * 1024))
    t.fail('should throw')
  } catch (err) {
    t.equal(err.code, 'ERR_MESSAGE_TOO_LARGE', 'coded error')
  }
  try {
    a.send({ not: 'data' })
    t.fail('should throw')
  } catch (err) {
    t.equal(err.code, 'ERR_INVALID_DATA', 'coded error for a wrong type')
  }
  t.ok(a.connected, 'still connected')
  const next = once(b, 'data')
  a.send('still works')
  t.equal(String(await next), 'still works', 'channel still delivers')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('stream messages never exceed the maximum message size the remote advertises', async t => {
  // The remote (a browser or another implementation may do so) announces 16 KiB in its SDP.
  const limit = 16 * 1024
  const small = sdp => sdp.replace(/a=max-message-size:\d+/g, `a=max-message-size:${limit}`)
  const [a, b] = pair({}, { sdpTransform: small })
  await connected(a, b)
  const sizes = []
  const channel = a._channel
  const send = channel.send
  channel.send = function (data) {
    sizes.push(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength)
    return send.call(this, data)
  }
  const big = patternBytes(1024 * 1024)
  const smalls = Array.from({ length: 40 }, (_, i) => patternBytes(5000 + i))
  const total = big.length + smalls.reduce((n, c) => n + c.length, 0)
  const received = collect(b, total)
  a.write(big)
  for (const chunk of smalls) a.write(chunk)
  const { got, digest } = await received
  t.equal(got, total, 'every byte arrived')
  t.equal(digest, sha256(Buffer.concat([big, ...smalls])), 'in order and intact')
  t.ok(sizes.length > 0, 'messages were sent')
  t.ok(Math.max(...sizes) <= limit, `largest message ${Math.max(...sizes)} bytes, limit ${limit}`)
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('many small writes are coalesced and arrive intact', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const parts = []
  for (let i = 0; i < 20000; i++) parts.push(Buffer.from(`line ${i}\n`))
  const whole = Buffer.concat(parts)
  let messages = 0
  const arrival = collect(b, whole.length)
  b.on('data', () => messages++)
  for (const p of parts) a.write(p)
  const { got, digest } = await arrival
  t.equal(got, whole.length, 'byte count')
  t.equal(digest, sha256(whole), 'content')
  t.ok(messages < parts.length / 10, `${parts.length} writes arrived as ${messages} messages`)
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('destroy() releases pending writes with an error instead of leaving them hanging', async t => {
  const [a, b] = pair()
  // Not connected: these writes wait.
  const results = []
  a.write(Buffer.alloc(1000), err => results.push(err))
  a.write(Buffer.alloc(1000), err => results.push(err))
  a.on('error', () => {})
  a.destroy()
  b.destroy()
  await closed(a, b)
  await new Promise(resolve => setImmediate(resolve))
  t.equal(results.length, 2, 'both write callbacks were called')
  t.ok(results.every(err => err && err.code), 'each with a coded error')
})
