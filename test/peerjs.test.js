'use strict'
// duplex-peer/peerjs: PeerJS 1.5's API between two Node peers, through duplex-peer/server.
const test = require('tape')
const crypto = require('crypto')
const { Readable, Writable } = require('stream')
const { Peer, DataConnection } = require('../dist/peerjs.js')
const { HOST, RTC_CONFIG, startServer, openPeer, once, nextError, collect } = require('./peerjs/helpers')

/** Values each serialization carries, and what arrives for them. */
const SAMPLES = {
  binary: [
    ['hello', 'hello'],
    [42, 42],
    [-7.25, -7.25],
    [null, null],
    [true, true],
    [{ nested: { list: [1, 'two', false] }, n: 1e12 }, { nested: { list: [1, 'two', false] }, n: 1e12 }],
    [Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3])]
  ],
  json: [
    ['hello', 'hello'],
    [{ a: [1, 2, { b: null }] }, { a: [1, 2, { b: null }] }],
    [null, null],
    [3.5, 3.5]
  ],
  raw: [
    ['text stays text', 'text stays text'],
    [Buffer.from('bytes'), Buffer.from('bytes')],
    [new Uint8Array([9, 8, 7]).buffer, Buffer.from([9, 8, 7])]
  ]
}
SAMPLES['binary-utf8'] = SAMPLES.binary
SAMPLES.none = SAMPLES.raw

async function pairOfPeers (port) {
  const a = await openPeer(port)
  const b = await openPeer(port)
  return [a, b]
}

test('open: an id from the server, or the one asked for; properties', async t => {
  const server = await startServer()
  const given = new Peer('my-own id_1', { host: HOST, port: server.port, config: RTC_CONFIG })
  t.equal(given.id, 'my-own id_1', 'a given id is set at once')
  t.equal(given.open, false, 'not open yet')
  t.equal(await once(given, 'open'), 'my-own id_1', 'open with the given id')
  const fresh = new Peer({ host: HOST, port: server.port, config: RTC_CONFIG })
  t.equal(fresh.id, null, 'no id before the server gives one')
  const id = await once(fresh, 'open')
  t.match(id, /^[0-9a-f-]{36}$/, 'open with a server id')
  t.equal(fresh.id, id, 'id property set')
  t.ok(fresh.open && !fresh.disconnected && !fresh.destroyed, 'open, not disconnected, not destroyed')
  t.deepEqual(server.instance.clients.sort(), [id, 'my-own id_1'].sort(), 'both registered on the server')
  given.destroy()
  fresh.destroy()
  t.ok(fresh.destroyed && fresh.disconnected, 'destroyed')
  await server.close()
})

for (const serialization of Object.keys(SAMPLES)) {
  test(`data both ways with serialization "${serialization}", label and metadata seen on the other side`, async t => {
    const server = await startServer()
    const [a, b] = await pairOfPeers(server.port)
    const metadata = { user: 'alice', tags: ['x', 'y'] }
    const conn = a.connect(b.id, { serialization, label: 'chat-1', metadata, reliable: true })
    const incoming = await once(b, 'connection')
    t.equal(incoming.peer, a.id, 'remote sees who connects')
    t.equal(incoming.label, 'chat-1', 'label')
    t.deepEqual(incoming.metadata, metadata, 'metadata')
    t.equal(incoming.serialization, serialization === 'none' ? 'raw' : serialization, 'serialization')
    t.equal(incoming.reliable, true, 'reliable')
    t.equal(incoming.connectionId, conn.connectionId, 'same connection id on both sides')
    await Promise.all([once(conn, 'open'), once(incoming, 'open')])
    t.ok(conn.open && incoming.open, 'both open')

    const samples = SAMPLES[serialization]
    const atB = collect(incoming, samples.length)
    for (const [value] of samples) conn.send(value)
    t.deepEqual(await atB, samples.map(s => s[1]), 'a → b')
    const atA = collect(conn, samples.length)
    for (const [value] of samples) incoming.send(value)
    t.deepEqual(await atA, samples.map(s => s[1]), 'b → a')

    t.deepEqual(Object.keys(a.connections), [b.id], 'connections lists the remote id')
    const closing = once(incoming, 'close')
    conn.close()
    await closing
    t.pass('closing one side closes the other')
    t.deepEqual(Object.keys(a.connections), [], 'closed connections are forgotten')
    a.destroy(); b.destroy()
    await server.close()
  })
}

test('binary: a 4 MiB message arrives intact both ways (chunked)', async t => {
  const server = await startServer()
  const [a, b] = await pairOfPeers(server.port)
  const conn = a.connect(b.id)
  const incoming = await once(b, 'connection')
  t.equal(conn.reliable, false, 'PeerJS default: not ordered')
  await once(conn, 'open')
  const big = crypto.randomBytes(4 * 1024 * 1024)
  const digest = crypto.createHash('sha256').update(big).digest('hex')
  conn.send(big)
  const got = await once(incoming, 'data')
  t.equal(got.length, big.length, '4 MiB arrived')
  t.equal(crypto.createHash('sha256').update(got).digest('hex'), digest, 'intact')
  incoming.send({ file: big })
  const back = await once(conn, 'data')
  t.ok(Buffer.isBuffer(back.file) && back.file.equals(big), 'and back, inside an object')
  a.destroy(); b.destroy()
  await server.close()
})

test('send() before open: not-open-yet; a JSON value too big: message-too-big', async t => {
  const server = await startServer()
  const [a, b] = await pairOfPeers(server.port)
  const conn = a.connect(b.id, { serialization: 'json' })
  const early = nextError(conn)
  conn.send('too early')
  t.equal((await early).type, 'not-open-yet', 'not-open-yet')
  await once(conn, 'open')
  const big = nextError(conn)
  conn.send('x'.repeat(20000))
  t.equal((await big).type, 'message-too-big', 'message-too-big')
  t.ok(conn.open, 'the connection stays open')
  t.throws(() => a.connect(b.id, { serialization: 'msgpack-ish' }), /Unknown serialization/, 'unknown serialization refused')
  a.destroy(); b.destroy()
  await server.close()
})

test('peer-unavailable when the other id is not connected (server holds the offer, then EXPIRE)', async t => {
  const server = await startServer({ expire_timeout: 300 })
  const a = await openPeer(server.port)
  const conn = a.connect('nobody-here')
  const err = await nextError(a)
  t.equal(err.type, 'peer-unavailable', 'peer-unavailable')
  t.match(err.message, /nobody-here/, err.message)
  await new Promise(resolve => setImmediate(resolve))
  t.ok(conn.destroyed, 'the pending connection is closed')
  t.ok(a.open, 'the peer stays open')
  a.destroy()
  await server.close()
})

test('unavailable-id, invalid-id, server-error (refused key), socket-error and server-error (unreachable)', async t => {
  const server = await startServer()
  const first = await openPeer(server.port, 'taken')
  const second = new Peer('taken', { host: HOST, port: server.port })
  const closed = once(second, 'close')
  const taken = await nextError(second)
  t.equal(taken.type, 'unavailable-id', 'unavailable-id')
  await closed
  t.ok(second.destroyed, 'a peer that never opened is destroyed (close event)')

  const invalid = new Peer('not valid!', { host: HOST, port: server.port })
  t.equal((await nextError(invalid)).type, 'invalid-id', 'invalid-id')

  const wrongKey = new Peer('somebody', { host: HOST, port: server.port, key: 'other' })
  const refused = await nextError(wrongKey)
  t.equal(refused.type, 'server-error', 'server-error for an ERROR from the server')
  t.match(refused.message, /Invalid key/, refused.message)

  const noId = new Peer({ host: HOST, port: server.port, key: 'other' })
  t.equal((await nextError(noId)).type, 'server-error', 'server-error when the server refuses an id')

  first.destroy()
  await server.close()

  const gone = new Peer('lonely', { host: HOST, port: server.port })
  const socketError = await nextError(gone)
  t.equal(socketError.type, 'socket-error', 'socket-error when the server cannot be reached')
  t.match(socketError.message, /Could not connect to the server/, socketError.message)
  const goneNoId = new Peer({ host: HOST, port: server.port })
  const serverError = await nextError(goneNoId)
  t.equal(serverError.type, 'server-error', 'server-error when no id can be had')
  t.match(serverError.message, /Could not get an ID/, serverError.message)
})

test('network error and disconnected when the server goes away; open connections survive', async t => {
  const server = await startServer()
  const [a, b] = await pairOfPeers(server.port)
  const conn = a.connect(b.id, { reliable: true })
  const incoming = await once(b, 'connection')
  await once(conn, 'open')
  const idBefore = a.id
  const errA = nextError(a)
  const disconnected = once(a, 'disconnected')
  const bError = nextError(b)
  await server.close()
  t.equal((await errA).type, 'network', 'network error')
  t.equal(await disconnected, idBefore, 'disconnected event with the id it had')
  await bError
  t.ok(a.disconnected && !a.destroyed && a.id === null, 'disconnected, not destroyed, id cleared')
  const echo = once(incoming, 'data')
  conn.send('still here')
  t.equal(await echo, 'still here', 'the peer-to-peer connection still works')
  const refused = nextError(a)
  t.equal(a.connect(b.id), undefined, 'connect() after disconnect returns nothing')
  t.equal((await refused).type, 'disconnected', 'and emits disconnected')
  a.destroy(); b.destroy()
  t.ok(conn.destroyed && incoming.destroyed, 'destroy closes the connections')
})

test('disconnect() and reconnect() keep the id; destroy() closes the remote side too', async t => {
  const server = await startServer()
  const [a, b] = await pairOfPeers(server.port)
  const id = a.id
  a.disconnect()
  t.ok(a.disconnected && a.id === null, 'disconnected')
  t.throws(() => b.reconnect(), /not disconnected/, 'reconnect() of a connected peer throws')
  a.reconnect()
  t.equal(await once(a, 'open'), id, 'reopened with the same id')
  const conn = a.connect(b.id)
  const incoming = await once(b, 'connection')
  await once(incoming, 'open')
  const remoteClosed = once(incoming, 'close')
  a.destroy()
  await remoteClosed
  t.pass('the remote connection closes')
  t.throws(() => a.reconnect(), /destroyed/, 'reconnect() after destroy throws')
  t.ok(conn.destroyed, 'local connection closed')
  b.destroy()
  await server.close()
})

test('close({ flush: true }): the other side gets everything sent before, then closes', async t => {
  const server = await startServer()
  const [a, b] = await pairOfPeers(server.port)
  const conn = a.connect(b.id, { reliable: true })
  const incoming = await once(b, 'connection')
  await once(conn, 'open')
  const got = []
  incoming.on('data', d => got.push(d))
  for (let i = 0; i < 20; i++) conn.send({ i })
  conn.close({ flush: true })
  await once(incoming, 'close')
  t.deepEqual(got.map(m => m.i), [...Array(20).keys()], 'all 20 messages, in order')
  await new Promise(resolve => setImmediate(resolve))
  a.destroy(); b.destroy()
  await server.close()
})

for (const serialization of ['raw', 'binary']) {
  test(`a DataConnection is a Duplex: a stream is piped in and out intact (${serialization})`, async t => {
    const server = await startServer()
    const [a, b] = await pairOfPeers(server.port)
    const conn = a.connect(b.id, { reliable: true, serialization })
    t.ok(conn instanceof DataConnection && typeof conn.pipe === 'function', 'a stream')
    const incoming = await once(b, 'connection')
    const data = crypto.randomBytes(3 * 1024 * 1024 + 123)
    const hash = crypto.createHash('sha256')
    let bytes = 0
    const sink = new Writable({
      objectMode: true,
      write (chunk, _enc, cb) { bytes += chunk.length; hash.update(chunk); cb() }
    })
    const done = once(sink, 'finish')
    incoming.pipe(sink)
    let offset = 0
    const source = new Readable({
      read () {
        const next = data.subarray(offset, offset + 64 * 1024)
        offset += next.length
        this.push(next.length ? next : null)
      }
    })
    source.pipe(conn)
    await done
    t.equal(bytes, data.length, 'every byte arrived, and the stream ended')
    t.equal(hash.digest('hex'), crypto.createHash('sha256').update(data).digest('hex'), 'intact')
    a.destroy(); b.destroy()
    await server.close()
  })
}

test('listAllPeers with discovery', async t => {
  const server = await startServer({ allow_discovery: true })
  const [a, b] = await pairOfPeers(server.port)
  const ids = await new Promise(resolve => a.listAllPeers(resolve))
  t.deepEqual(ids.sort(), [a.id, b.id].sort(), 'both ids listed')
  a.destroy(); b.destroy()
  await server.close()
})

test('errors with nobody listening are not thrown', async t => {
  const server = await startServer({ expire_timeout: 100 })
  const a = await openPeer(server.port)
  a.removeAllListeners('error')
  const conn = a.connect('absent-peer')
  conn.send('before open: not-open-yet, unheard')
  await once(conn, 'close')
  t.pass('peer-unavailable with no error listener: no exception')
  a.destroy()
  await server.close()
})

test('socket-closed when the server closes the socket without accepting; webrtc for an offer that cannot be applied', async t => {
  const WebSocket = require('ws')
  const rude = new WebSocket.Server({ host: HOST, port: 0 })
  await once(rude, 'listening')
  rude.on('connection', socket => socket.close())
  const peer = new Peer('someone', { host: HOST, port: rude.address().port })
  const err = await nextError(peer)
  t.equal(err.type, 'socket-closed', 'socket-closed')
  t.ok(peer.destroyed, 'destroyed: it never opened')
  await new Promise(resolve => rude.close(resolve))

  const server = await startServer()
  const { registered } = require('./peerjs/helpers')
  const target = await openPeer(server.port, 'target')
  const raw = await registered(server.port, { id: 'mischief' })
  const connections = []
  target.on('connection', c => connections.push(c))
  raw.send({ type: 'OFFER', dst: 'target', payload: { type: 'data', connectionId: 'dc_bad', serialization: 'binary', sdp: { type: 'offer', sdp: 'this is not SDP' } } })
  const webrtc = await nextError(target)
  t.equal(webrtc.type, 'webrtc', 'webrtc error for an unusable offer')
  raw.send({ type: 'OFFER', dst: 'target', payload: { type: 'data', connectionId: 'dc_odd', serialization: 'msgpack-9000', sdp: { type: 'offer', sdp: 'v=0' } } })
  raw.send({ type: 'OFFER', dst: 'target', payload: 'not an object' })
  raw.send({ type: 'CANDIDATE', dst: 'target', payload: { connectionId: 'dc_nothing', candidate: { candidate: 'x' } } })
  raw.send({ type: 'ANSWER', dst: 'target' })
  // A round trip: the messages above have reached the target.
  const echo = await openPeer(server.port)
  const conn = echo.connect('target')
  await once(target, 'connection')
  t.deepEqual(connections.map(c => c.connectionId), ['dc_bad', conn.connectionId], 'odd offers were ignored; the peer still takes connections')
  t.ok(target.open, 'and stays open')
  target.destroy(); echo.destroy()
  await raw.close()
  await server.close()
})
