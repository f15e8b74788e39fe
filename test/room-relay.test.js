'use strict'
// The room relay of duplex-peer/server (at {path}/rooms) and the
// WebSocketDriver of duplex-peer/room: a message reaches only the other
// subscribers of its topic; abuse closes the offending client with the
// documented code and never crashes the server; the frame parser survives
// any bytes; and rooms meet through a real server, surviving its restart.
const test = require('tape')
const fc = require('fast-check')
const WebSocket = require('ws')
const { PeerServer, RelayCloseCode, RelayOp } = require('../dist/server')
const { WebSocketDriver } = require('../dist/room')
const { parseRelayFrame, encodeRelayFrame } = require('../dist/lib/room/drivers/relay-protocol')
const { Room, LOOPBACK, allConnected, messages, leaveAll } = require('./room-helpers')

const HOST = '127.0.0.1'

function startServer (options = {}, port = 0) {
  return new Promise((resolve, reject) => {
    const instance = PeerServer({ port, host: HOST, ...options }, server => {
      resolve({ instance, port: server.address().port, close: () => new Promise(r => instance.close(() => r())) })
    })
    instance.once('error', reject)
  })
}

const bytes = text => Buffer.from(text, 'utf8')
const frame = (op, topic, payload) => Buffer.from(encodeRelayFrame(op, bytes(topic), payload && bytes(payload)))

/** A raw relay client: `next()` resolves with the next frame parsed, `closed` with the close code. */
function rawClient (port) {
  const ws = new WebSocket(`ws://${HOST}:${port}/rooms`)
  const queue = []
  const waiting = []
  ws.on('message', (data, isBinary) => {
    const parsed = isBinary ? parseRelayFrame(new Uint8Array(data), 'relay') : 'text'
    const item = typeof parsed === 'string' ? { error: parsed } : { op: parsed.op, topic: Buffer.from(parsed.topic).toString(), payload: Buffer.from(parsed.payload).toString() }
    const w = waiting.shift()
    if (w) w(item)
    else queue.push(item)
  })
  ws.on('error', () => {})
  const client = {
    ws,
    opened: new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('close', code => reject(new Error(`closed ${code}`))) }),
    closed: new Promise(resolve => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    next: () => queue.length ? Promise.resolve(queue.shift()) : new Promise(resolve => waiting.push(resolve)),
    send: data => ws.send(data),
    async subscribe (topic) {
      ws.send(frame(RelayOp.SUBSCRIBE, topic))
      const ack = await client.next()
      if (ack.op !== RelayOp.SUBSCRIBED || ack.topic !== topic) throw new Error(`expected SUBSCRIBED ${topic}, got ${JSON.stringify(ack)}`)
    },
    publish: (topic, payload) => ws.send(frame(RelayOp.PUBLISH, topic, payload)),
    close: () => { ws.close(); return client.closed }
  }
  return client
}

async function connected (port, n) {
  const clients = Array.from({ length: n }, () => rawClient(port))
  await Promise.all(clients.map(c => c.opened))
  return clients
}

/** The relay still relays: two fresh clients exchange a message. */
async function stillWorks (t, port) {
  const [a, b] = await connected(port, 2)
  await a.subscribe('check')
  await b.subscribe('check')
  a.publish('check', 'ok')
  const got = await b.next()
  t.equal(got.payload, 'ok', 'the relay still relays')
  await Promise.all([a.close(), b.close()])
}

test('relay: a message reaches every other subscriber of its topic, and nobody else', async t => {
  const server = await startServer()
  try {
    const [a, b, c] = await connected(server.port, 3)
    await a.subscribe('t1')
    await b.subscribe('t1')
    await b.subscribe('t2')
    await c.subscribe('t2')
    a.publish('t1', 'hi')
    t.deepEqual(await b.next(), { op: RelayOp.MESSAGE, topic: 't1', payload: 'hi' }, 'b (subscribed to t1) gets it')
    // Each client's frames are relayed in order: the next frame each one gets
    // would be `hi` had it been delivered there.
    b.publish('t1', 'second')
    t.equal((await a.next()).payload, 'second', 'a, the publisher, did not get its own message')
    a.publish('t2', 'for t2')
    t.equal((await c.next()).payload, 'for t2', 'c (t2 only) did not get the t1 message; a publishes on t2 without subscribing')
    t.equal((await b.next()).payload, 'for t2', 'b gets t2 as well')
    b.send(frame(RelayOp.UNSUBSCRIBE, 't1'))
    b.send(frame(RelayOp.UNSUBSCRIBE, 'never-subscribed'))
    // Once c has b's next message, the relay has processed b's unsubscribes (one socket is read in order).
    b.publish('t2', 'sync')
    t.equal((await c.next()).payload, 'sync', 'b still publishes on t2')
    a.publish('t1', 'after')
    a.publish('t2', 'marker')
    t.equal((await b.next()).payload, 'marker', 'after unsubscribing t1, b gets no t1 message')
    t.equal(server.instance.roomStats.clients, 3, 'three relay clients')
    t.equal(server.instance.roomStats.topics, 2, 'two topics')
    await Promise.all([a.close(), b.close(), c.close()])
    await until(() => server.instance.roomStats.clients === 0)
    t.deepEqual(server.instance.roomStats, { clients: 0, topics: 0 }, 'closed clients leave no topic behind')
  } finally {
    await server.close()
  }
})

/** Resolves once `check()` holds (polled). */
async function until (check) {
  while (!check()) await new Promise(resolve => setTimeout(resolve, 10))
}

test('relay abuse: each refusal closes only the offender, with its code', async t => {
  const server = await startServer({ rooms: { max_message_size: 100, max_subscriptions: 3, max_topic_length: 16, rate_limit: 20, rate_burst: 10, max_clients: 8 } })
  try {
    const cases = [
      ['a text frame', c => c.send('{"op":"subscribe"}'), RelayCloseCode.MALFORMED],
      ['an empty frame', c => c.send(Buffer.alloc(0)), RelayCloseCode.MALFORMED],
      ['an unknown operation', c => c.send(Buffer.from([9, 1, 65])), RelayCloseCode.MALFORMED],
      ['a server operation from a client', c => c.send(frame(RelayOp.MESSAGE, 'x', 'y')), RelayCloseCode.MALFORMED],
      ['a topic length beyond the frame', c => c.send(Buffer.from([RelayOp.SUBSCRIBE, 5, 65])), RelayCloseCode.MALFORMED],
      ['a zero-length topic', c => c.send(Buffer.from([RelayOp.PUBLISH, 0, 65])), RelayCloseCode.MALFORMED],
      ['a subscribe with a payload', c => c.send(frame(RelayOp.SUBSCRIBE, 'x', 'extra')), RelayCloseCode.MALFORMED],
      ['a topic above max_topic_length', c => c.send(frame(RelayOp.SUBSCRIBE, 'x'.repeat(17))), RelayCloseCode.TOPIC_TOO_LONG],
      ['a payload above max_message_size', c => c.publish('x', 'y'.repeat(101)), RelayCloseCode.TOO_BIG],
      ['a frame far above the limit (ws refuses it)', c => c.send(Buffer.alloc(64 * 1024, 3)), RelayCloseCode.TOO_BIG],
      ['a fourth subscription', async c => { for (const topic of ['s1', 's2', 's3']) await c.subscribe(topic); c.send(frame(RelayOp.SUBSCRIBE, 's4')) }, RelayCloseCode.TOO_MANY_SUBSCRIPTIONS],
      ['a flood', c => { for (let i = 0; i < 50; i++) c.publish('x', 'flood') }, RelayCloseCode.RATE_LIMIT]
    ]
    const [bystander] = await connected(server.port, 1)
    await bystander.subscribe('x')
    for (const [what, act, code] of cases) {
      const [client] = await connected(server.port, 1)
      await act(client)
      const closed = await client.closed
      t.equal(closed.code, code, `${what}: closed with ${code} (${closed.reason})`)
    }
    t.equal(server.instance.roomStats.clients, 1, 'only the bystander is left')
    // What reached the bystander: some of the flood (at most its burst of 10), nothing refused.
    const [marker] = await connected(server.port, 1)
    marker.publish('x', 'marker')
    let flood = 0
    for (;;) {
      const got = await bystander.next()
      if (got.payload === 'marker') break
      if (got.payload === 'flood') flood++
      else t.fail(`the bystander got ${JSON.stringify(got)}`)
    }
    t.ok(flood >= 1 && flood <= 10, `the bystander got ${flood} flood messages (the burst), then the rest was refused`)

    // The client cap.
    const more = await connected(server.port, 6)
    const extra = rawClient(server.port)
    t.equal((await extra.closed).code, RelayCloseCode.FULL, `a client above max_clients: closed with ${RelayCloseCode.FULL}`)
    await Promise.all([...more, marker, bystander].map(c => c.close()))
    await stillWorks(t, server.port)
  } catch (err) {
    t.error(err)
  } finally {
    await server.close()
  }
})

test('relay abuse: a client that does not read is cut off; the others keep getting messages', async t => {
  const server = await startServer({ rooms: { max_buffered_bytes: 256 * 1024, rate_limit: 10000, rate_burst: 10000 } })
  try {
    const [publisher, slow, reader] = await connected(server.port, 3)
    await slow.subscribe('big')
    await reader.subscribe('big')
    slow.ws._socket.pause() // stops reading: the relay's buffer for it grows
    const chunk = 'z'.repeat(60 * 1024)
    let sent = 0
    let read = 0
    const reading = (async () => { for (;;) { if ((await reader.next()).payload === 'end') return; read++ } })()
    while (server.instance.roomStats.clients === 3 && sent < 3000) {
      publisher.publish('big', chunk)
      sent++
      if (sent % 20 === 0) await new Promise(resolve => setTimeout(resolve, 5))
    }
    t.equal(server.instance.roomStats.clients, 2, `the client that does not read was cut off (after ${sent} messages of 60 KiB)`)
    publisher.publish('big', 'end')
    await reading
    t.equal(read, sent, 'the reading subscriber got every message')
    slow.ws._socket.resume()
    t.equal((await slow.closed).code, 1006, 'the slow client sees its connection cut')
    await Promise.all([publisher.close(), reader.close()])
  } finally {
    await server.close()
  }
})

test('relay: a client that does not answer pings is cut off; one that does stays', async t => {
  const server = await startServer({ rooms: { ping_interval: 50 } })
  try {
    const [live] = await connected(server.port, 1)
    const mute = new WebSocket(`ws://${HOST}:${server.port}/rooms`, { autoPong: false })
    mute.on('error', () => {})
    let pings = 0
    mute.on('ping', () => { pings++ })
    const closed = new Promise(resolve => mute.once('close', code => resolve(code)))
    t.equal(await closed, 1006, 'the client that never answers is cut off')
    t.ok(pings >= 1, `after ${pings} ping(s)`)
    await live.subscribe('still') // the live client, pinged as often, is still served
    t.equal(server.instance.roomStats.clients, 1, 'the client that answers pings is still connected')
    await live.close()
  } finally {
    await server.close()
  }
})

test('relay: the frame parser never throws and reads back what encodeRelayFrame wrote', t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('client', 'relay'), fc.integer({ min: 1, max: 255 }), (data, from, max) => {
    const parsed = parseRelayFrame(data, from, max)
    if (typeof parsed === 'string') return parsed === 'malformed' || parsed === 'topic-too-long'
    return parsed.topic.length >= 1 && parsed.topic.length <= max && parsed.key.length === parsed.topic.length &&
      2 + parsed.topic.length + parsed.payload.length === data.length
  }), { numRuns: 2000 })
  fc.assert(fc.property(fc.constantFrom(RelayOp.SUBSCRIBE, RelayOp.UNSUBSCRIBE, RelayOp.PUBLISH), fc.uint8Array({ minLength: 1, maxLength: 255 }), fc.uint8Array({ maxLength: 300 }), (op, topic, payload) => {
    const withPayload = op === RelayOp.PUBLISH
    const parsed = parseRelayFrame(encodeRelayFrame(op, topic, withPayload ? payload : undefined), 'client')
    return typeof parsed !== 'string' && parsed.op === op && Buffer.from(parsed.topic).equals(Buffer.from(topic)) &&
      Buffer.from(parsed.payload).equals(withPayload ? Buffer.from(payload) : Buffer.alloc(0))
  }), { numRuns: 1000 })
  t.equal(parseRelayFrame('not bytes', 'client'), 'malformed', 'a string is malformed')
  t.equal(parseRelayFrame(null, 'client'), 'malformed', 'null is malformed')
  t.pass('2000 random frames parsed without throwing; 1000 round trips')
  t.end()
})

test('relay: random frames from live clients close them with a documented code, never crash the server', async t => {
  const server = await startServer({ rooms: { max_message_size: 512, max_subscriptions: 4, max_topic_length: 32 } })
  const codes = new Set(Object.values(RelayCloseCode))
  const seen = new Set()
  try {
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.tuple(fc.constantFrom(1, 2, 3, 16, 17), fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 600 }))
        .map(([op, topic, payload]) => Buffer.concat([Buffer.from([op, topic.length]), topic, payload]))
    ), { minLength: 1, maxLength: 8 }), async frames => {
      const [client] = await connected(server.port, 1)
      for (const data of frames) client.send(data)
      client.send(Buffer.from([RelayOp.SUBSCRIBE, 1, 65])) // a valid frame last: it is answered unless the client was closed
      const outcome = await Promise.race([client.closed.then(c => ({ closed: c.code })), (async () => { for (;;) { const f = await client.next(); if (f.op === RelayOp.SUBSCRIBED && f.topic === 'A') return { open: true } } })()])
      if (outcome.closed !== undefined) {
        seen.add(outcome.closed)
        return codes.has(outcome.closed)
      }
      await client.close()
      return true
    }), { numRuns: 60 })
    t.pass(`60 runs of random frames; close codes seen: ${[...seen].sort().join(', ')}`)
    await stillWorks(t, server.port)
  } finally {
    await server.close()
  }
})

test('WebSocketDriver: bad options and arguments are coded errors', async t => {
  t.throws(() => new WebSocketDriver('http://x'), e => e.code === 'ERR_INVALID_OPTION', 'a non-ws URL')
  t.throws(() => new WebSocketDriver({ url: 'ws://127.0.0.1:1/rooms', maxMessageSize: -1 }), e => e.code === 'ERR_INVALID_OPTION', 'a negative maxMessageSize')
  const driver = new WebSocketDriver({ url: `ws://${HOST}:1/rooms`, maxMessageSize: 10 })
  t.equal(driver.state, 'inactive', 'inactive while not connected')
  await driver.subscribe('', () => {}).then(() => t.fail('empty topic accepted'), e => t.equal(e.code, 'ERR_INVALID_OPTION', 'an empty topic'))
  await driver.subscribe('x'.repeat(300), () => {}).then(() => t.fail('long topic accepted'), e => t.equal(e.code, 'ERR_INVALID_OPTION', 'a topic over 255 bytes'))
  await driver.publish('t', new Uint8Array(11)).then(() => t.fail('big message accepted'), e => t.equal(e.code, 'ERR_MESSAGE_TOO_LARGE', 'a message above maxMessageSize'))
  await driver.publish('t', 'text').then(() => t.fail('text accepted'), e => t.equal(e.code, 'ERR_INVALID_DATA', 'a string instead of bytes'))
  await driver.close()
  await driver.publish('t', new Uint8Array(1)).then(() => t.fail('closed driver published'), e => t.equal(e.code, 'ERR_DRIVER_CLOSED', 'publish after close'))
  t.throws(() => PeerServer({ port: 0, rooms: { max_topic_length: 300 } }), /rooms.max_topic_length/, 'server option rooms.max_topic_length above 255')
  t.throws(() => PeerServer({ port: 0, rooms: { nope: 1 } }), /rooms.nope/, 'an unknown relay option')
  t.throws(() => PeerServer({ port: 0, rooms: 'yes' }), /option rooms/, 'rooms of the wrong type')
  const off = await startServer({ rooms: false })
  const refused = rawClient(off.port)
  await refused.opened.then(() => t.fail('connected to a disabled relay'), () => t.pass('rooms: false: no relay at /rooms'))
  t.equal(off.instance.roomStats, null, 'no relay statistics')
  await off.close()
})

test('WebSocketDriver: delivery on a relay follows the driver contract', async t => {
  const server = await startServer()
  const url = `ws://${HOST}:${server.port}/rooms`
  const a = new WebSocketDriver(url)
  const b = new WebSocketDriver(url)
  try {
    await allState([a, b], 'active')
    const got = { a: [], b: [] }
    const record = (who, topic) => data => got[who].push(`${topic}:${Buffer.from(data).toString()}`)
    await a.subscribe('t', record('a', 't'))
    await a.subscribe('u', record('a', 'u'))
    await b.subscribe('t', record('b', 't'))
    t.equal(server.instance.roomStats.topics, 2, 'the subscriptions are in place when subscribe() resolves')
    const has = (who, item) => until(() => got[who].includes(item))
    await b.publish('t', bytes('one'))
    await Promise.all([has('a', 't:one'), has('b', 't:one')])
    await a.publish('u', bytes('two')) // b is not subscribed to u
    await a.publish('t', bytes('mark')) // once b has this, the relay has passed on "two" (one socket is read in order)
    await has('b', 't:mark')
    await b.unsubscribe('t')
    await b.subscribe('u', record('b', 'u')) // resolves once the relay confirms: the unsubscribe before it is done
    await a.publish('t', bytes('three')) // b unsubscribed
    await a.publish('u', bytes('end'))
    await Promise.all([has('a', 'u:end'), has('b', 'u:end')])
    t.deepEqual(got.a, ['t:one', 'u:two', 't:mark', 't:three', 'u:end'], 'a got what b published, and its own messages (the publisher\'s subscription included)')
    t.deepEqual(got.b, ['t:one', 't:mark', 'u:end'], 'b got its own message, nothing on u before subscribing, nothing on t after unsubscribing')
  } finally {
    await Promise.all([a.close(), b.close()])
    await server.close()
  }
})

test('WebSocketDriver: a connection that never opens is abandoned and tried again', async t => {
  t.timeoutAfter(10e3)
  const net = require('net')
  const sockets = []
  const hole = net.createServer(socket => { sockets.push(socket); socket.on('error', () => {}) }) // accepts, never answers
  await new Promise(resolve => hole.listen(0, HOST, resolve))
  const driver = new WebSocketDriver({ url: `ws://${HOST}:${hole.address().port}/rooms`, connectTimeout: 50, minReconnectDelay: 10, maxReconnectDelay: 20 })
  await until(() => sockets.length >= 3)
  t.equal(driver.state, 'inactive', `still inactive after ${sockets.length} attempts`)
  await driver.close()
  for (const socket of sockets) socket.destroy()
  await new Promise(resolve => hole.close(resolve))
})

/** Resolves once every driver's state is `state`. */
function allState (drivers, state) {
  return Promise.all(drivers.map(driver => driver.state === state ? null : new Promise(resolve => {
    const on = s => { if (s === state) { driver.off('state', on); resolve() } }
    driver.on('state', on)
  })))
}

test('rooms through a real server: 3 rooms mesh and chat; the server restarts, the drivers come back and resubscribe', async t => {
  t.timeoutAfter(25e3)
  let server = await startServer()
  const port = server.port
  const url = `ws://${HOST}:${port}/rooms`
  const id = `relay-${Math.random().toString(36).slice(2)}`
  const drivers = [0, 1, 2].map(() => new WebSocketDriver({ url, minReconnectDelay: 50, maxReconnectDelay: 200 }))
  const rooms = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: 15e3 }))
  const late = []
  try {
    await allState(drivers, 'active')
    await Promise.all(rooms.map((room, i) => room.join({ name: `p${i}` })))
    await Promise.all(rooms.map(room => allConnected(room, 2)))
    t.pass('3 rooms over the relay: each has 2 connected peers')
    const chats = rooms.map(room => messages(room, 2, 'chat'))
    rooms.forEach((room, i) => room.send(`hello from p${i}`, { label: 'chat' }))
    const received = await Promise.all(chats)
    received.forEach((events, i) => {
      t.deepEqual(events.map(e => e.data).sort(), rooms.map((_, j) => `hello from p${j}`).filter((_, j) => j !== i), `p${i} got the chat of the two others`)
    })

    const down = allState(drivers, 'inactive')
    await server.close()
    await down
    t.pass('server stopped: every driver is inactive')
    server = await startServer({}, port)
    await allState(drivers, 'active')
    t.pass('server restarted on the same port: every driver is active again')
    t.ok(server.instance.roomStats.topics >= 4, `the drivers subscribed again (${server.instance.roomStats.topics} topics: the room's and each peer's own)`)

    // A newcomer meets all three through the new server: their subscriptions are in place.
    const driver = new WebSocketDriver({ url })
    late.push(driver)
    const newcomer = new Room({ id, driver, ...LOOPBACK, connectionTimeout: 15e3 })
    rooms.push(newcomer)
    await allState([driver], 'active')
    await newcomer.join({ name: 'p3' })
    await Promise.all(rooms.map(room => allConnected(room, 3)))
    t.pass('a room joining after the restart connects to all three')
    const hello = messages(newcomer, 3, 'chat')
    rooms.slice(0, 3).forEach((room, i) => room.send(`again from p${i}`, { label: 'chat' }))
    t.equal((await hello).length, 3, 'and gets their chat')
  } finally {
    await leaveAll(rooms)
    await Promise.all([...drivers, ...late].map(d => d.close()))
    await server.close()
  }
})
