'use strict'
// duplex-peer/peerjs clients on two nodes of a cluster (child processes on
// one Redis) find each other and exchange data over WebRTC.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, fn) => tape(name, { timeout: 180e3 }, fn)
const crypto = require('crypto')
const { startRedis } = require('./cluster/servers')
const { startNodeProcess } = require('./cluster/helpers')
const { openPeer, once, collect } = require('./peerjs/helpers')

test('cluster: duplex-peer/peerjs on node 1 and node 2 connect and exchange data (SHA-256)', async t => {
  const redis = await startRedis()
  const n1 = await startNodeProcess({ redis: redis.url })
  const n2 = await startNodeProcess({ redis: redis.url })
  const alice = await openPeer(n1.port)
  const bob = await openPeer(n2.port, 'bob')
  t.match(alice.id, /^[0-9a-f-]{36}$/, 'node 1 handed out an id')

  for (const serialization of ['binary', 'json']) {
    const conn = alice.connect('bob', { serialization, label: `l-${serialization}`, metadata: { s: serialization } })
    const incoming = await once(bob, 'connection')
    t.deepEqual(incoming.metadata, { s: serialization }, `${serialization}: the offer crossed nodes with its metadata`)
    await once(conn, 'open')
    const back = once(conn, 'data')
    const there = once(incoming, 'data')
    conn.send({ hello: serialization })
    t.deepEqual(await there, { hello: serialization }, `${serialization}: alice → bob`)
    incoming.send({ back: serialization })
    t.deepEqual(await back, { back: serialization }, `${serialization}: bob → alice`)
    conn.close()
    await once(incoming, 'close')
  }

  const conn = alice.connect('bob', { serialization: 'binary' })
  const incoming = await once(bob, 'connection')
  await once(conn, 'open')
  const chunks = Array.from({ length: 16 }, () => crypto.randomBytes(128 * 1024))
  const sent = crypto.createHash('sha256')
  const arrived = collect(incoming, chunks.length)
  for (const chunk of chunks) {
    sent.update(chunk)
    conn.send(chunk)
  }
  const received = crypto.createHash('sha256')
  for (const chunk of await arrived) received.update(Buffer.from(chunk))
  t.equal(received.digest('hex'), sent.digest('hex'), '2 MiB alice → bob: same SHA-256')

  alice.destroy()
  bob.destroy()
  await n1.close()
  await n2.close()
  await redis.close()
})
