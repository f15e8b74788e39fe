'use strict'
// Faults of a cluster: a node killed with SIGKILL mid-signaling, Redis
// restarted (empty) mid-run, a subscription cut. Each test starts its own
// redis-server; the node that is killed is a child process.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, fn) => tape(name, { timeout: 180e3 }, fn)
const { startRedis } = require('./cluster/servers')
const { startNode, startNodeProcess, sleep, until } = require('./cluster/helpers')
const { wsClient, registered, get } = require('./peerjs/helpers')

/** Opens a client; resolves with it once OPEN, or `null` if the server said anything else first. */
async function tryRegister (port, options) {
  const client = wsClient(port, options)
  const first = await Promise.race([client.next(), client.closed.then(() => ({ type: 'CLOSED' }))])
  if (first.type === 'OPEN') return client
  client.ws.terminate()
  return null
}

/** Reads `client`'s messages up to one whose payload is `marker`; resolves with those before it. */
async function upTo (client, marker) {
  const before = []
  for (;;) {
    const m = await client.next()
    if (m.payload === marker) return before
    before.push(m)
  }
}

test('cluster faults: a node killed with SIGKILL mid-signaling; its ids are free within the lease', async t => {
  const redis = await startRedis()
  const options = { redis: redis.url, redis_lease: 1000, expire_timeout: 300, rate_limit: 10000, rate_burst: 10000 }
  const survivor = await startNode(options)
  const doomed = await startNodeProcess(options)
  const a = await registered(survivor.port, { id: 'a' })
  const b = await registered(survivor.port, { id: 'b' })
  const k = await registered(doomed.port, { id: 'k', token: 'first' })
  a.send({ type: 'OFFER', dst: 'k', payload: 'before' })
  t.equal((await k.next()).payload, 'before', 'node 2 relays before the kill')

  // Mid-signaling: a keeps sending candidates to k while node 2 dies.
  for (let i = 0; i < 50; i++) a.send({ type: 'CANDIDATE', dst: 'k', payload: { i } })
  await doomed.kill()
  t.ok((await k.closed).code !== 1000, 'k\'s socket to the killed node is cut')
  for (let i = 50; i < 60; i++) a.send({ type: 'CANDIDATE', dst: 'k', payload: { i } })
  t.deepEqual(await a.next('EXPIRE'), { type: 'EXPIRE', src: 'k', dst: 'a' }, 'messages to the dead node\'s client end in EXPIRE')

  const again = await until(() => tryRegister(survivor.port, { id: 'k', token: 'second' }), 100)
  t.pass('the dead node\'s id is free again (with another token) once its lease lapsed')
  a.send({ type: 'OFFER', dst: 'k', payload: 'after' })
  t.equal((await again.next()).payload, 'after', 'and reachable there')
  a.send({ type: 'OFFER', dst: 'b', payload: 'local' })
  t.equal((await b.next()).payload, 'local', 'the survivor kept working')
  const fresh = await get(survivor.port, '/peerjs/id')
  t.equal(fresh.status, 200, 'the survivor still hands out ids')

  for (const client of [a, b, again]) await client.close()
  await survivor.close()
  await redis.close()
})

test('cluster faults: Redis restarted empty mid-run: survivors keep working, ids are claimed again, nothing is delivered twice', async t => {
  const redis = await startRedis()
  const options = { redis: redis.url, redis_lease: 1000, allow_discovery: true }
  const n1 = await startNode(options)
  const n2 = await startNode(options)
  const a = await registered(n1.port, { id: 'a' })
  const c = await registered(n1.port, { id: 'c' })
  const b = await registered(n2.port, { id: 'b', token: 'tb' })
  a.send({ type: 'OFFER', dst: 'b', payload: 'up' })
  t.equal((await b.next()).payload, 'up', 'across nodes before the outage')

  await redis.stop()
  a.send({ type: 'OFFER', dst: 'c', payload: 'local during outage' })
  t.equal((await c.next()).payload, 'local during outage', 'a node still relays between its own clients')
  a.send({ type: 'OFFER', dst: 'b', payload: 'lost during outage' })
  const error = await a.next('ERROR')
  t.match(error.payload.msg, /^Signaling store unavailable/, 'the sender of a message that cannot be delivered gets ERROR')
  const refused = wsClient(n1.port, { id: 'newcomer' })
  t.match((await refused.next()).payload.msg, /^Signaling store unavailable/, 'a client registering during the outage gets ERROR')
  t.equal((await refused.closed).code, 1013, 'and is closed with 1013 (try again later)')
  t.equal((await get(n1.port, '/peerjs/id')).status, 503, 'GET /id answers 503 (it cannot check the id is free)')
  t.equal((await get(n1.port, '/peerjs/peers')).status, 503, 'GET /peers answers 503')

  await redis.start()
  const listed = await until(async () => {
    const response = await get(n1.port, '/peerjs/peers').catch(() => null)
    if (!response || response.status !== 200) return null
    const ids = (await response.json()).sort()
    return ids.length === 3 ? ids : null
  }, 100)
  t.deepEqual(listed, ['a', 'b', 'c'], 'both nodes claimed their clients\' ids again in the new Redis')
  const twin = wsClient(n1.port, { id: 'b', token: 'other' })
  t.equal((await twin.next()).type, 'ID-TAKEN', 'ids are unique again across nodes')

  for (let i = 0; i < 20; i++) a.send({ type: 'CANDIDATE', dst: 'b', payload: i })
  a.send({ type: 'CANDIDATE', dst: 'b', payload: 'marker' })
  const got = await upTo(b, 'marker')
  t.deepEqual(got.map(m => m.payload), Array.from({ length: 20 }, (_, i) => i), 'after the restart: each message once, in order, and none from the outage')

  b.send({ type: 'ANSWER', dst: 'a', payload: 'back' })
  t.equal((await a.next('ANSWER')).payload, 'back', 'node 2 → node 1 works again too (node 1 subscribed again)')
  for (const client of [a, b, c]) await client.close()
  await n1.close()
  await n2.close()
  await redis.close()
})

test('cluster faults: a node whose subscription is cut subscribes again', async t => {
  const redis = await startRedis()
  const options = { redis: redis.url, redis_lease: 600 }
  const n1 = await startNode(options)
  const n2 = await startNode(options)
  const a = await registered(n1.port, { id: 'a' })
  const b = await registered(n2.port, { id: 'b' })
  const admin = require('redis').createClient({ url: redis.url })
  await admin.connect()
  const killed = await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
  t.ok(Number(killed) >= 2, `the subscriptions of both nodes are cut (${killed})`)
  const marker = `m${Math.random()}`
  const seen = await until(async () => {
    a.send({ type: 'CANDIDATE', dst: 'b', payload: marker })
    await sleep(100)
    const at = b.inbox.findIndex(m => m.payload === marker)
    return at === -1 ? null : b.inbox.splice(0)
  }, 100)
  t.ok(seen.every(m => m.payload === marker), 'messages reach node 2 again')
  await admin.destroy()
  for (const client of [a, b]) await client.close()
  await n1.close()
  await n2.close()
  await redis.close()
})
