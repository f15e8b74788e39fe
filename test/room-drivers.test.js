'use strict'
// RedisDriver and NatsDriver of duplex-peer/room against real brokers (a
// redis-server and a nats-server of their own): the driver contract, 4 room
// peers meeting through each, a broker restart, and coded errors.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, fn) => tape(name, { timeout: 180e3 }, fn)
const { RedisDriver, NatsDriver, Room } = require('../dist/room')
const { requireOptional } = require('../dist/lib/optional')
const { LOOPBACK, allConnected, messages, leaveAll, allState, until } = require('./room-helpers')
const { startRedis, startNats } = require('./cluster/servers')

const bytes = text => Buffer.from(text, 'utf8')


const BROKERS = [
  { name: 'RedisDriver', start: startRedis, make: url => new RedisDriver(url) },
  { name: 'NatsDriver', start: startNats, make: url => new NatsDriver(url) }
]

for (const broker of BROKERS) {
  test(`${broker.name}: delivery follows the driver contract`, async t => {
    const server = await broker.start()
    const a = broker.make(server.url)
    const b = broker.make(server.url)
    try {
      await allState([a, b], 'active')
      const got = { a: [], b: [] }
      const record = (who, topic) => data => got[who].push(`${topic}:${Buffer.from(data).toString()}`)
      await a.subscribe('t', record('a', 't'))
      await a.subscribe('u ü/*>.', record('a', 'u ü/*>.'))
      await b.subscribe('t', record('b', 't'))
      const has = (who, item) => until(() => got[who].includes(item))
      await b.publish('t', bytes('one'))
      await Promise.all([has('a', 't:one'), has('b', 't:one')])
      await a.publish('u ü/*>.', bytes('two')) // b is not subscribed to it; any string is a topic
      await a.publish('t', bytes('mark'))
      await has('b', 't:mark')
      await b.unsubscribe('t')
      await b.subscribe('u ü/*>.', record('b', 'u ü/*>.'))
      await a.publish('t', bytes('three'))
      await a.publish('u ü/*>.', bytes('end'))
      await Promise.all([has('a', 'u ü/*>.:end'), has('b', 'u ü/*>.:end')])
      t.deepEqual(got.a, ['t:one', 'u ü/*>.:two', 't:mark', 't:three', 'u ü/*>.:end'], 'a got what b published and its own messages, in order')
      t.deepEqual(got.b, ['t:one', 't:mark', 'u ü/*>.:end'], 'b: its own message, nothing before subscribing, nothing after unsubscribing')

      const order = []
      await b.subscribe('seq', data => order.push(Number(Buffer.from(data).toString())))
      for (let i = 0; i < 300; i++) await a.publish('seq', bytes(String(i)))
      await until(() => order.length === 300)
      t.ok(order.every((v, i) => v === i), '300 messages of one publisher arrive in order')
      const received = []
      await b.subscribe('copy', data => received.push(data))
      const sent = new Uint8Array([1, 2, 3])
      await a.publish('copy', sent)
      sent[0] = 9
      await until(() => received.length === 1)
      t.deepEqual([...received[0]], [1, 2, 3], 'the receiver\'s bytes are its own')
    } finally {
      await Promise.all([a.close(), b.close()])
      await server.close()
    }
  })

  test(`${broker.name}: 4 room peers meet through it; the broker restarts, the drivers come back`, async t => {
    t.timeoutAfter(60e3)
    const server = await broker.start()
    const id = `drivers-${Math.random().toString(36).slice(2)}`
    const drivers = [0, 1, 2].map(() => broker.make(server.url))
    const rooms = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: 20e3 }))
    try {
      await allState(drivers, 'active')
      await Promise.all(rooms.map((room, i) => room.join({ name: `p${i}` })))
      await Promise.all(rooms.map(room => allConnected(room, 2)))
      t.pass('3 rooms: each has 2 connected peers')

      const down = allState(drivers, 'inactive')
      await server.stop()
      await down
      t.pass('broker stopped: every driver is inactive')
      await server.start()
      await allState(drivers, 'active')
      t.pass('broker restarted on the same port: every driver is active again')

      const driver = broker.make(server.url)
      drivers.push(driver)
      const newcomer = new Room({ id, driver, ...LOOPBACK, connectionTimeout: 20e3 })
      rooms.push(newcomer)
      await allState([driver], 'active')
      await newcomer.join({ name: 'p3' })
      await Promise.all(rooms.map(room => allConnected(room, 3)))
      t.pass('a 4th room joining after the restart connects to all three (their subscriptions are back)')
      const chats = rooms.map(room => messages(room, 3, 'chat'))
      rooms.forEach((room, i) => room.send(`hello from p${i}`, { label: 'chat' }))
      const received = await Promise.all(chats)
      received.forEach((events, i) => {
        t.deepEqual(events.map(e => e.data).sort(), rooms.map((_, j) => `hello from p${j}`).filter((_, j) => j !== i), `p${i} got the chat of the three others`)
      })
    } finally {
      await leaveAll(rooms)
      await Promise.all(drivers.map(d => d.close()))
      await server.close()
    }
  })
}

test('RedisDriver and NatsDriver: bad options and arguments are coded errors; a missing client package is named', async t => {
  t.throws(() => new RedisDriver('http://x'), e => e.code === 'ERR_INVALID_OPTION', 'RedisDriver: a non-redis URL')
  t.throws(() => new RedisDriver({ url: 'redis://127.0.0.1:1', maxMessageSize: 0 }), e => e.code === 'ERR_INVALID_OPTION', 'RedisDriver: maxMessageSize 0')
  t.throws(() => new NatsDriver({ servers: [] }), e => e.code === 'ERR_INVALID_OPTION', 'NatsDriver: no server')
  t.throws(() => new NatsDriver({ servers: 'nats://127.0.0.1:1', prefix: 'a.*' }), e => e.code === 'ERR_INVALID_OPTION', 'NatsDriver: a wildcard prefix')
  for (const driver of [new RedisDriver({ url: 'redis://127.0.0.1:1', maxMessageSize: 10 }), new NatsDriver({ servers: 'nats://127.0.0.1:1', maxMessageSize: 10 })]) {
    const name = driver.constructor.name
    t.equal(driver.state, 'inactive', `${name}: inactive while not connected`)
    await driver.subscribe('', () => {}).then(() => t.fail('empty topic accepted'), e => t.equal(e.code, 'ERR_INVALID_OPTION', `${name}: an empty topic`))
    await driver.publish('t', new Uint8Array(11)).then(() => t.fail('big message accepted'), e => t.equal(e.code, 'ERR_MESSAGE_TOO_LARGE', `${name}: a message above maxMessageSize`))
    await driver.publish('t', 'text').then(() => t.fail('text accepted'), e => t.equal(e.code, 'ERR_INVALID_DATA', `${name}: a string instead of bytes`))
    await driver.close()
    await driver.publish('t', new Uint8Array(1)).then(() => t.fail('closed driver published'), e => t.equal(e.code, 'ERR_DRIVER_CLOSED', `${name}: publish after close`))
  }
  t.throws(() => requireOptional('duplex-peer-no-such-package', 'Something'),
    e => e.code === 'ERR_MISSING_DEPENDENCY' && /npm install duplex-peer-no-such-package/.test(e.message), 'a missing optional package: ERR_MISSING_DEPENDENCY naming it')
})
