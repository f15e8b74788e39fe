'use strict'
// duplex-peer/server as a cluster on one Redis: nodes (in this process) that
// behave as one PeerServer. Each test starts its own redis-server.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, fn) => tape(name, { timeout: 180e3 }, fn)
const { startRedis } = require('./cluster/servers')
const { startNode, sleep } = require('./cluster/helpers')
const { wsClient, registered, get, startServer } = require('./peerjs/helpers')

/** A Redis and `count` nodes on it; `close()` stops them all. */
async function cluster (count, options = {}) {
  const redis = await startRedis()
  const nodes = []
  for (let i = 0; i < count; i++) nodes.push(await startNode({ redis: redis.url, ...options }))
  return {
    redis,
    nodes,
    ports: nodes.map(n => n.port),
    async close () {
      for (const node of nodes) await node.close()
      await redis.close()
    }
  }
}

test('cluster: ID-TAKEN across nodes; the same token takes over through another node', async t => {
  const c = await cluster(2)
  const [p1, p2] = c.ports
  const first = await registered(p1, { id: 'alice', token: 't1' })
  const other = wsClient(p2, { id: 'alice', token: 't2' })
  t.deepEqual(await other.next(), { type: 'ID-TAKEN', payload: { msg: 'ID is taken' } }, 'another token on node 2: ID-TAKEN')
  t.equal((await other.closed).code, 1008, 'and that socket is closed')

  const again = await registered(p2, { id: 'alice', token: 't1' })
  t.pass('the same token through node 2: OPEN')
  const closed = await first.closed
  t.equal(closed.code, 1000, 'the socket on node 1 is closed')
  t.equal(closed.reason, 'Replaced by a new connection', 'as replaced')

  const bob = await registered(p1, { id: 'bob' })
  bob.send({ type: 'OFFER', dst: 'alice', payload: { n: 1 } })
  t.deepEqual(await again.next(), { type: 'OFFER', src: 'bob', dst: 'alice', payload: { n: 1 } }, 'messages for the id now reach node 2')
  await again.close()
  await bob.close()
  await c.close()
})

test('cluster: OFFER/ANSWER/CANDIDATE/LEAVE across nodes, in the order each sender sent them', async t => {
  const c = await cluster(3, { rate_limit: 100000, rate_burst: 100000 })
  const [p1, p2, p3] = c.ports
  const a = await registered(p1, { id: 'a' })
  const b = await registered(p2, { id: 'b' })
  const d = await registered(p3, { id: 'd' })
  a.send({ type: 'OFFER', dst: 'b', payload: { sdp: 'offer' } })
  t.deepEqual(await b.next(), { type: 'OFFER', src: 'a', dst: 'b', payload: { sdp: 'offer' } }, 'OFFER node 1 → node 2')
  b.send({ type: 'ANSWER', dst: 'a', payload: { sdp: 'answer' } })
  t.deepEqual(await a.next(), { type: 'ANSWER', src: 'b', dst: 'a', payload: { sdp: 'answer' } }, 'ANSWER node 2 → node 1')

  const count = 300
  for (let i = 0; i < count; i++) {
    a.send({ type: 'CANDIDATE', dst: 'b', payload: { i, from: 'a' } })
    d.send({ type: 'CANDIDATE', dst: 'b', payload: { i, from: 'd' } })
  }
  a.send({ type: 'LEAVE', dst: 'b' })
  const seen = { a: [], d: [] }
  let leave = null
  while (seen.a.length + seen.d.length < 2 * count || !leave) {
    const m = await b.next()
    if (m.type === 'LEAVE') leave = m
    else if (m.type !== 'CANDIDATE') {
      t.fail(`unexpected ${JSON.stringify(m)}`)
      break
    } else if (leave === null || m.src === 'd') seen[m.payload.from].push(m.payload.i)
    else t.fail('a message of a after its LEAVE')
  }
  const inOrder = list => list.length === count && list.every((v, i) => v === i)
  t.ok(inOrder(seen.a), `${count} CANDIDATEs from node 1 in order`)
  t.ok(inOrder(seen.d), `${count} CANDIDATEs from node 3 in order`)
  t.deepEqual(leave, { type: 'LEAVE', src: 'a', dst: 'b' }, 'LEAVE across nodes, after them')
  for (const client of [a, b, d]) await client.close()
  await c.close()
})

test('cluster: held OFFERs and CANDIDATEs are delivered through another node, in order', async t => {
  t.timeoutAfter(60e3)
  // A long expiry: the messages must still be held when 'late' connects, however loaded the machine.
  const c = await cluster(3, { expire_timeout: 60000 })
  const [p1, p2, p3] = c.ports
  const a = await registered(p1, { id: 'a' })
  const e = await registered(p3, { id: 'e' })
  a.send({ type: 'OFFER', dst: 'late', payload: { n: 1 } })
  a.send({ type: 'CANDIDATE', dst: 'late', payload: { n: 2 } })
  e.send({ type: 'OFFER', dst: 'late', payload: { n: 3 } })
  // Wait until all three are held in Redis, so that the claim through node 2 is what delivers them.
  const redis = require('redis').createClient({ url: c.redis.url })
  await redis.connect()
  await until(async () => await redis.lLen('duplex-peer:peerjs:held:late') === 3)
  await redis.destroy()
  const late = await registered(p2, { id: 'late' })
  const got = [await late.next(), await late.next(), await late.next()]
  t.deepEqual(got.filter(m => m.src === 'a').map(m => m.payload.n), [1, 2], 'held messages of node 1\'s client, in order, on node 2')
  t.deepEqual(got.filter(m => m.src === 'e').map(m => m.payload.n), [3], 'and node 3\'s')
  for (const client of [a, e, late]) await client.close()
  await c.close()
})

test('cluster: a message for a peer that never comes ends in exactly one EXPIRE per sender, cluster-wide', async t => {
  t.timeoutAfter(60e3)
  const c = await cluster(3, { expire_timeout: 300 })
  const [p1, p2, p3] = c.ports
  const a = await registered(p1, { id: 'a' })
  const e = await registered(p3, { id: 'e' })
  const marker = await registered(p2, { id: 'marker' })
  for (let i = 0; i < 5; i++) a.send({ type: 'CANDIDATE', dst: 'absent', payload: { i } })
  e.send({ type: 'OFFER', dst: 'absent', payload: {} })
  t.deepEqual(await a.next('EXPIRE'), { type: 'EXPIRE', src: 'absent', dst: 'a' }, 'a, on node 1, gets EXPIRE')
  t.deepEqual(await e.next('EXPIRE'), { type: 'EXPIRE', src: 'absent', dst: 'e' }, 'e, on node 3, gets EXPIRE')
  // Three nodes sweep; give a second EXPIRE every chance to come, then check behind a marker.
  await sleep(4 * 300)
  marker.send({ type: 'OFFER', dst: 'a', payload: 'marker' })
  marker.send({ type: 'OFFER', dst: 'e', payload: 'marker' })
  for (const [name, client] of [['a', a], ['e', e]]) {
    const before = []
    for (;;) {
      const m = await client.next()
      if (m.payload === 'marker') break
      before.push(m)
    }
    t.deepEqual(before, [], `${name}: no second EXPIRE`)
  }
  for (const client of [a, e, marker]) await client.close()
  await c.close()
})

test('cluster: held-message caps hold cluster-wide', async t => {
  const c = await cluster(2, { max_held_messages: 3, expire_timeout: 60000 })
  const [p1, p2] = c.ports
  const a = await registered(p1, { id: 'a' })
  const b = await registered(p2, { id: 'b' })
  a.send({ type: 'OFFER', dst: 'nobody', payload: 1 })
  a.send({ type: 'OFFER', dst: 'nobody', payload: 2 })
  b.send({ type: 'OFFER', dst: 'nobody', payload: 3 })
  b.send({ type: 'OFFER', dst: 'nobody', payload: 4 })
  const refused = await b.next('ERROR')
  t.match(refused.payload.msg, /^Too many messages held/, 'the 4th message for one peer, sent through another node, is refused')
  const nobody = await registered(p1, { id: 'nobody' })
  const got = [await nobody.next(), await nobody.next(), await nobody.next()]
  t.deepEqual(got.map(m => m.payload).sort(), [1, 2, 3], 'the three held ones are delivered')
  for (const client of [a, b, nobody]) await client.close()
  await c.close()
})

test('cluster: GET /peers lists every node\'s peers; GET /id never hands out an id in use', async t => {
  let next = 0
  const ids = ['used', 'used', 'fresh']
  const c = await cluster(2, { allow_discovery: true, generateClientId: () => ids[Math.min(next++, ids.length - 1)] })
  const [p1, p2] = c.ports
  const x = await registered(p1, { id: 'x' })
  const used = await registered(p2, { id: 'used' })
  const list = await (await get(p1, '/peerjs/peers')).json()
  t.deepEqual(list.sort(), ['used', 'x'], 'node 1 lists both nodes\' peers')
  t.deepEqual((await (await get(p2, '/peerjs/peers')).json()).sort(), ['used', 'x'], 'so does node 2')
  t.equal(await (await get(p1, '/peerjs/id')).text(), 'fresh', 'GET /id on node 1 skips an id held on node 2')
  await used.close()
  await x.close()
  const empty = await until(async () => {
    const now = await (await get(p1, '/peerjs/peers')).json()
    return now.length === 0 ? now : null
  })
  t.deepEqual(empty, [], 'ids leave the list when their clients leave')
  await c.close()
})

test('cluster: a node stopped cleanly frees its ids at once; a single server needs no Redis', async t => {
  const c = await cluster(2)
  const [p1, p2] = c.ports
  await registered(p2, { id: 'kept', token: 't1' })
  await c.nodes[1].close()
  const again = await registered(p1, { id: 'kept', token: 'other' })
  t.pass('after node 2 stopped, its id is free on node 1 (another token)')
  await again.close()
  await c.nodes[0].close()
  await c.redis.close()

  const single = await startServer()
  const only = await registered(single.port, { id: 'solo' })
  t.pass('a server without the redis option works on its own')
  await only.close()
  await single.close()
})

test('cluster: options are checked', t => {
  const { PeerServer } = require('../dist/server.js')
  t.throws(() => PeerServer({ port: 0, redis: 'http://x' }), /redis must be a redis:\/\/ or rediss:\/\/ URL/, 'not a Redis URL')
  t.throws(() => PeerServer({ port: 0, redis: 'redis://127.0.0.1:1', redis_lease: 5 }), /redis_lease must be an integer from 100/, 'a lease too short')
  t.end()
})

async function until (check, every = 50) {
  for (;;) {
    const value = await check()
    if (value) return value
    await sleep(every)
  }
}

test('cluster: without the redis option no Redis client is loaded; `duplex-peer server --redis` runs a node', async t => {
  const { spawn, execFileSync } = require('child_process')
  const path = require('path')
  const loaded = execFileSync(process.execPath, ['-e', `
    const { PeerServer } = require('./dist/server.js')
    const s = PeerServer({ port: 0, host: '127.0.0.1' }, () => {
      const redis = Object.keys(require.cache).filter(k => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(k))
      process.stdout.write(String(redis.length))
      s.close()
    })`], { cwd: path.join(__dirname, '..') }).toString()
  t.equal(loaded, '0', 'a single server loads no module of node-redis')

  const redis = await startRedis()
  const bin = path.join(__dirname, '..', 'bin', 'duplex-peer.js')
  const nodes = [0, 1].map(() => spawn(process.execPath, [bin, 'server', '--port', '0', '--host', '127.0.0.1', '--redis', redis.url, '--redis-lease', '3000', '--quiet'], { stdio: ['ignore', 'pipe', 'ignore'] }))
  const ports = await Promise.all(nodes.map(child => new Promise(resolve => {
    let out = ''
    child.stdout.on('data', data => {
      out += data
      const match = /listening on port (\d+)/.exec(out)
      if (match) resolve(Number(match[1]))
    })
  })))
  const a = await registered(ports[0], { id: 'cli-a' })
  const b = await registered(ports[1], { id: 'cli-b' })
  a.send({ type: 'OFFER', dst: 'cli-b', payload: 'through the CLI' })
  t.equal((await b.next()).payload, 'through the CLI', 'two CLI nodes on one Redis relay to each other')
  await a.close()
  await b.close()
  const codes = await Promise.all(nodes.map(child => new Promise(resolve => {
    child.once('exit', code => resolve(code))
    child.kill('SIGTERM')
  })))
  t.deepEqual(codes, [0, 0], 'and stop cleanly on SIGTERM')
  await redis.close()
})
