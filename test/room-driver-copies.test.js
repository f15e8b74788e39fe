'use strict'
// Drivers hand each subscriber bytes of its own: a Buffer published (a view
// into a pool Node reuses) and changed right after, or a received copy
// changed by one subscriber, never changes what another gets.
const test = require('tape')
const { MemoryDriver, MemoryHub, WebSocketDriver } = require('../dist/room')
const { PeerServer } = require('../dist/server')
const { allState } = require('./room-helpers')

/** Subscribes; resolves once subscribed with `{ got }`, a Promise of the first `count` messages. */
async function received (driver, topic, count) {
  const messages = []
  let done
  const got = new Promise(resolve => { done = resolve })
  await driver.subscribe(topic, bytes => {
    messages.push(bytes)
    if (messages.length === count) done(messages)
  })
  return { got }
}

async function check (t, name, a, b) {
  const topic = 'copies'
  const atA = (await received(a, topic, 1)).got
  const atB = (await received(b, topic, 1)).got
  await allState([a, b], 'active')
  const pool = Buffer.from('hello, subscribers')
  const message = pool.subarray(0, 5)
  await a.publish(topic, message)
  pool.fill(0x78)
  const [[own], [other]] = await Promise.all([atA, atB])
  t.equal(Buffer.from(own).toString(), 'hello', `${name}: the publisher's own copy is what was published`)
  t.equal(Buffer.from(other).toString(), 'hello', `${name}: another subscriber gets what was published`)
  own.fill(0)
  t.equal(Buffer.from(other).toString(), 'hello', `${name}: one subscriber changing its bytes changes no other's`)
}

test('drivers copy: MemoryDriver', async t => {
  const hub = new MemoryHub()
  const a = new MemoryDriver(hub)
  const b = new MemoryDriver(hub)
  await check(t, 'MemoryDriver', a, b)
  await a.close()
  await b.close()
})

test('drivers copy: WebSocketDriver', async t => {
  const server = await new Promise(resolve => {
    const instance = PeerServer({ port: 0, host: '127.0.0.1' }, s => resolve({ port: s.address().port, close: () => new Promise(r => instance.close(() => r())) }))
  })
  const url = `ws://127.0.0.1:${server.port}/rooms`
  const a = new WebSocketDriver(url)
  const b = new WebSocketDriver(url)
  await check(t, 'WebSocketDriver', a, b)
  await a.close()
  await b.close()
  await server.close()
})
