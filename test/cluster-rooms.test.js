'use strict'
// The room relay of a cluster: WebSocketDrivers on different nodes reach
// each other through Redis, and 4 room peers on 2 nodes meet in one room.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, fn) => tape(name, { timeout: 180e3 }, fn)
const { WebSocketDriver, Room } = require('../dist/room')
const { parseBridgeMessage, encodeBridgeMessage } = require('../dist/lib/server/cluster/room-bridge')
const fc = require('fast-check')
const { LOOPBACK, allConnected, messages, leaveAll, allState, until } = require('./room-helpers')
const { startRedis } = require('./cluster/servers')
const { startNode } = require('./cluster/helpers')

const bytes = text => Buffer.from(text, 'utf8')


test('cluster rooms: a message published on node 1 reaches node 2\'s subscribers once, in order, and nobody else', async t => {
  const redis = await startRedis()
  const nodes = [await startNode({ redis: redis.url }), await startNode({ redis: redis.url })]
  const url = node => `ws://127.0.0.1:${node.port}/rooms`
  const a = new WebSocketDriver(url(nodes[0]))
  const b = new WebSocketDriver(url(nodes[1]))
  const c = new WebSocketDriver(url(nodes[1]))
  try {
    await allState([a, b, c], 'active')
    const got = { a: [], b: [], c: [] }
    const record = who => data => got[who].push(Buffer.from(data).toString())
    await a.subscribe('t', record('a'))
    await b.subscribe('t', record('b'))
    await c.subscribe('other', record('c'))
    for (let i = 0; i < 100; i++) await a.publish('t', bytes(String(i)))
    await b.publish('t', bytes('from b'))
    await until(() => got.b.includes('from b') && got.a.includes('from b') && got.b.length >= 101)
    const expected = Array.from({ length: 100 }, (_, i) => String(i))
    t.deepEqual(got.b.filter(m => m !== 'from b'), expected, 'node 2\'s subscriber got node 1\'s 100 messages once each, in order')
    t.deepEqual(got.a.filter(m => m !== 'from b'), expected, 'the publisher got its own, once each (not echoed back through Redis)')
    t.equal(got.a.filter(m => m === 'from b').length, 1, 'node 1\'s subscriber got node 2\'s message once')
    await c.publish('other', bytes('marker'))
    await until(() => got.c.includes('marker'))
    t.deepEqual(got.c, ['marker'], 'a client of another topic got nothing of t')
  } finally {
    await Promise.all([a.close(), b.close(), c.close()])
    for (const node of nodes) await node.close()
    await redis.close()
  }
})

test('cluster rooms: 4 room peers on 2 nodes meet in one room and chat', async t => {
  t.timeoutAfter(60e3)
  const redis = await startRedis()
  const nodes = [await startNode({ redis: redis.url }), await startNode({ redis: redis.url })]
  const id = `cluster-${Math.random().toString(36).slice(2)}`
  const drivers = [0, 1, 2, 3].map(i => new WebSocketDriver(`ws://127.0.0.1:${nodes[i % 2].port}/rooms`))
  const rooms = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: 20e3 }))
  try {
    await allState(drivers, 'active')
    await Promise.all(rooms.map((room, i) => room.join({ name: `p${i}` })))
    await Promise.all(rooms.map(room => allConnected(room, 3)))
    t.pass('each of the 4 rooms (2 per node) has 3 connected peers')
    const chats = rooms.map(room => messages(room, 3, 'chat'))
    rooms.forEach((room, i) => room.send(`hello from p${i}`, { label: 'chat' }))
    const received = await Promise.all(chats)
    received.forEach((events, i) => {
      t.deepEqual(events.map(e => e.data).sort(), rooms.map((_, j) => `hello from p${j}`).filter((_, j) => j !== i), `p${i} got the chat of the three others`)
    })
  } finally {
    await leaveAll(rooms)
    await Promise.all(drivers.map(d => d.close()))
    for (const node of nodes) await node.close()
    await redis.close()
  }
})

test('cluster rooms: the parser of room messages from Redis never throws and round-trips', t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), raw => {
    const parsed = parseBridgeMessage(raw)
    return parsed === null || (parsed.node.length > 0 && parsed.topic.length > 0)
  }), { numRuns: 5000 })
  t.pass('any bytes: null or a message with a node and a topic')
  fc.assert(fc.property(fc.stringMatching(/^[0-9a-f-]{1,36}$/), fc.uint8Array({ minLength: 1, maxLength: 255 }), fc.uint8Array({ maxLength: 300 }), (node, topic, payload) => {
    const parsed = parseBridgeMessage(encodeBridgeMessage(node, topic, payload))
    return parsed.node === node && Buffer.from(parsed.topic).equals(Buffer.from(topic)) && Buffer.from(parsed.payload).equals(Buffer.from(payload))
  }))
  t.pass('encoded messages parse back unchanged')
  t.equal(parseBridgeMessage('text'), null, 'a string is refused')
  t.end()
})
