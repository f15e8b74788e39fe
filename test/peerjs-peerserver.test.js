'use strict'
// duplex-peer/peerjs against the reference server, peer@1.0.2 (run in a child process).
const test = require('tape')
const crypto = require('crypto')
const { Peer } = require('../dist/peerjs.js')
const { HOST, startReferenceServer, openPeer, once, nextError, collect } = require('./peerjs/helpers')

test('through peer@1.0.2: ids, data with every serialization, metadata and label, 4 MiB', async t => {
  const server = await startReferenceServer()
  const a = await openPeer(server.port)
  const b = await openPeer(server.port, 'bob')
  t.match(a.id, /^[0-9a-f-]{36}$/, 'the reference server handed out an id')
  for (const serialization of ['binary', 'binary-utf8', 'json', 'raw']) {
    const conn = a.connect('bob', { serialization, label: `l-${serialization}`, metadata: { s: serialization }, reliable: true })
    const incoming = await once(b, 'connection')
    t.equal(incoming.label, `l-${serialization}`, `${serialization}: label`)
    t.deepEqual(incoming.metadata, { s: serialization }, `${serialization}: metadata`)
    await once(conn, 'open')
    const value = serialization === 'raw' ? 'plain text' : { hello: [1, 'two'] }
    const there = once(incoming, 'data')
    conn.send(value)
    t.deepEqual(await there, value, `${serialization}: a → b`)
    const back = once(conn, 'data')
    incoming.send(value)
    t.deepEqual(await back, value, `${serialization}: b → a`)
    conn.close()
    await once(incoming, 'close')
  }
  const conn = a.connect('bob')
  const incoming = await once(b, 'connection')
  await once(conn, 'open')
  const big = crypto.randomBytes(4 * 1024 * 1024)
  const arrived = collect(incoming, 1)
  conn.send(big)
  t.ok((await arrived)[0].equals(big), '4 MiB intact')
  a.destroy(); b.destroy()
  await server.close()
})

test('through peer@1.0.2: peer-unavailable and unavailable-id', async t => {
  const server = await startReferenceServer({ expire_timeout: 200, cleanup_out_msgs: 100 })
  const a = await openPeer(server.port, 'alice')
  a.connect('absent')
  t.equal((await nextError(a)).type, 'peer-unavailable', 'peer-unavailable')
  const twin = new Peer('alice', { host: HOST, port: server.port })
  t.equal((await nextError(twin)).type, 'unavailable-id', 'unavailable-id')
  a.destroy()
  await server.close()
})
