'use strict'
// BroadcastChannelDriver: the driver contract (as MemoryDriver keeps it);
// the main thread and two worker threads of one Node process exchanging over
// it; and rooms meeting through it (chat, a transfer checked by SHA-256).
const path = require('path')
const test = require('tape')
const { Worker } = require('worker_threads')
const { Room, BroadcastChannelDriver } = require('../dist/room')
const { LOOPBACK, allConnected, leaveAll, sha256, patternBytes } = require('./room-helpers')
const { member } = require('./room/broadcast-worker')

const WORKER = path.join(__dirname, 'room', 'broadcast-worker.js')
const BULK = 4 * 1024 * 1024
const SEED = 0xb0ca
const nextTurn = () => new Promise(resolve => setTimeout(resolve, 20))
const uniquePrefix = () => `test-${Math.random().toString(36).slice(2)}:`

test('BroadcastChannelDriver: own messages echoed, others\' delivered as copies, in order, never inside publish()', async t => {
  const prefix = uniquePrefix()
  const a = new BroadcastChannelDriver({ prefix })
  const b = new BroadcastChannelDriver({ prefix })
  const got = { a: [], b: [] }
  await a.subscribe('t', bytes => got.a.push(Buffer.from(bytes).toString()))
  await b.subscribe('t', bytes => got.b.push(Buffer.from(bytes).toString()))
  const sent = Buffer.from('one')
  await a.publish('t', sent)
  t.deepEqual(got.a, [], 'nothing delivered inside publish()')
  sent.write('xxx')
  await a.publish('t', Buffer.from('two'))
  await b.publish('t', Buffer.from('three'))
  while (got.a.length < 3 || got.b.length < 3) await nextTurn()
  t.deepEqual(got.a.filter(m => m !== 'three'), ['one', 'two'], 'a hears its own messages, in order, as published (a copy)')
  t.deepEqual(got.b.filter(m => m !== 'three'), ['one', 'two'], 'b hears a\'s messages in order')
  t.ok(got.a.includes('three') && got.b.includes('three'), 'both hear b\'s message')
  t.equal(a.state, 'active', 'active')
  await Promise.all([a.close(), b.close()])
})

test('BroadcastChannelDriver: nothing after unsubscribe or close; other prefixes and topics are apart; bad input is a coded error', async t => {
  const prefix = uniquePrefix()
  const a = new BroadcastChannelDriver({ prefix })
  const b = new BroadcastChannelDriver({ prefix })
  const other = new BroadcastChannelDriver({ prefix: uniquePrefix() })
  const got = []
  await b.subscribe('t', bytes => got.push(['b', Buffer.from(bytes).toString()]))
  await b.subscribe('u', bytes => got.push(['b/u', Buffer.from(bytes).toString()]))
  await other.subscribe('t', bytes => got.push(['other', Buffer.from(bytes).toString()]))
  await a.publish('t', Buffer.from('first'))
  while (got.length < 1) await nextTurn()
  await b.unsubscribe('t')
  await a.publish('t', Buffer.from('after unsubscribe'))
  await a.publish('u', Buffer.from('on u'))
  while (got.length < 2) await nextTurn()
  await nextTurn()
  t.deepEqual(got, [['b', 'first'], ['b/u', 'on u']], 'only b\'s live subscriptions of the same prefix hear')
  const states = []
  a.on('state', s => states.push(s))
  await a.close()
  t.deepEqual(states, ['inactive'], 'close() emits state inactive')
  t.equal(a.state, 'inactive', 'inactive once closed')
  const codes = async promise => promise.then(() => 'resolved', err => err.code)
  t.equal(await codes(a.publish('t', Buffer.from('x'))), 'ERR_DRIVER_CLOSED', 'publish after close')
  t.equal(await codes(a.subscribe('t', () => {})), 'ERR_DRIVER_CLOSED', 'subscribe after close')
  t.equal(await codes(b.publish('', Buffer.from('x'))), 'ERR_INVALID_OPTION', 'empty topic')
  t.equal(await codes(b.publish('t', 'text')), 'ERR_INVALID_DATA', 'not bytes')
  t.equal(await codes(b.publish('t', new Uint8Array(64 * 1024 + 1))), 'ERR_MESSAGE_TOO_LARGE', 'over 64 KiB')
  t.equal(await codes(b.subscribe('t', null)), 'ERR_INVALID_OPTION', 'no handler')
  t.throws(() => new BroadcastChannelDriver({ BroadcastChannel: 42 }), /BroadcastChannel/, 'a constructor that is not one')
  try { new BroadcastChannelDriver({ prefix: 7 }) } catch (err) { t.equal(err.code, 'ERR_INVALID_OPTION', 'a prefix that is not a string') }
  await Promise.all([b.close(), other.close()])
})

/** Starts a member in a worker thread; `next(type)` resolves with its next message of that type. */
function startWorker (workerData) {
  const worker = new Worker(WORKER, { workerData })
  const queue = []
  const waiting = []
  worker.on('message', message => {
    const i = waiting.findIndex(w => w.type === message.type)
    if (i >= 0) waiting.splice(i, 1)[0].resolve(message)
    else queue.push(message)
  })
  const exited = new Promise(resolve => worker.once('exit', resolve))
  worker.on('error', err => { for (const w of waiting.splice(0)) w.reject(err) })
  return {
    exited,
    post: message => worker.postMessage(message),
    next (type) {
      const i = queue.findIndex(m => m.type === type)
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0])
      return new Promise((resolve, reject) => waiting.push({ type, resolve, reject }))
    }
  }
}

// @roamhq/wrtc serves one thread of a process only (a second thread using it
// aborts the process), so Node worker threads exchange over the driver what
// a room's signaling would, and WebRTC rooms over it are tested in one thread
// below and in Chromium (test/room-browser.test.js).
test('BroadcastChannelDriver: the main thread and two worker threads: chat reaches everyone, 4 MiB in 60 KiB messages arrives in order (SHA-256)', async t => {
  t.timeoutAfter(120e3)
  const prefix = uniquePrefix()
  const received = []
  const main = await member('main', prefix, event => received.push(event))
  const workers = ['w1', 'w2'].map(name => startWorker({ name, prefix }))
  try {
    await Promise.all(workers.map(w => w.next('ready')))
    await main.chat('hello from main')
    for (const [i, w] of workers.entries()) w.post({ type: 'chat', text: `hello from w${i + 1}` })
    const chats = await Promise.all(workers.map(async w => [await w.next('message'), await w.next('message')]))
    while (received.length < 2) await nextTurn()
    t.deepEqual(received.map(m => `${m.from}: ${m.text}`).sort(), ['w1: hello from w1', 'w2: hello from w2'], 'main got both workers\' lines')
    t.deepEqual(chats.map(pair => pair.map(m => `${m.from}: ${m.text}`).sort()), [
      ['main: hello from main', 'w2: hello from w2'],
      ['main: hello from main', 'w1: hello from w1']
    ], 'each worker got the lines of main and of the other worker')

    const expected = await main.send(BULK, SEED)
    t.equal(expected, sha256(patternBytes(BULK, SEED)), 'main sent the expected bytes')
    const got = await Promise.all(workers.map(w => w.next('message')))
    t.deepEqual(got.map(m => [m.from, m.bytes]), [['main', { length: BULK, sha256: expected }], ['main', { length: BULK, sha256: expected }]],
      'both workers got main\'s 4 MiB whole and in order')
    workers[1].post({ type: 'send', size: BULK, seed: SEED + 1 })
    const sent = await workers[1].next('sent')
    const atW1 = await workers[0].next('message')
    while (received.length < 3) await nextTurn()
    t.deepEqual(received[2], { type: 'message', to: 'main', from: 'w2', bytes: { length: BULK, sha256: sent.sha256 } }, 'main got w2\'s 4 MiB intact')
    t.deepEqual(atW1.bytes, { length: BULK, sha256: sent.sha256 }, 'w1 got w2\'s 4 MiB intact')
  } finally {
    for (const w of workers) w.post({ type: 'close' })
    await main.driver.close()
    await Promise.all(workers.map(w => w.exited))
  }
})

test('BroadcastChannelDriver: three rooms meet through it and connect: chat and a 4 MiB transfer to all, SHA-256 on each receiver', async t => {
  t.timeoutAfter(120e3)
  const id = `lobby-${Math.random().toString(36).slice(2)}`
  const prefix = uniquePrefix()
  const drivers = [0, 1, 2].map(() => new BroadcastChannelDriver({ prefix }))
  const rooms = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: 20e3 }))
  const received = rooms.map(() => [])
  rooms.forEach((room, i) => room.on('channel:message', async ({ peer, label, data }) => {
    const value = await data
    received[i].push({ from: peer.metadata.name, label, value })
  }))
  try {
    await Promise.all(rooms.map((room, i) => room.join({ name: `r${i}` })))
    await Promise.all(rooms.map(room => allConnected(room, 2)))
    t.deepEqual(rooms.map(room => [...room.peers.values()].map(p => p.metadata.name).sort()), [['r1', 'r2'], ['r0', 'r2'], ['r0', 'r1']], 'each room sees the two others, with their metadata')
    await Promise.all(rooms.map((room, i) => room.send(`hello from r${i}`, { label: 'chat' })))
    while (received.some(list => list.length < 2)) await nextTurn()
    t.deepEqual(received.map(list => list.map(m => m.value).sort()), [
      ['hello from r1', 'hello from r2'], ['hello from r0', 'hello from r2'], ['hello from r0', 'hello from r1']
    ], 'chat reached everyone')
    const bytes = patternBytes(BULK, SEED)
    const transfer = rooms[0].send(bytes, { label: 'files' })
    const last = new Map()
    for await (const { peer, current, total } of transfer) last.set(peer.metadata.name, [current, total])
    t.deepEqual(Object.fromEntries(last), { r1: [BULK, BULK], r2: [BULK, BULK] }, 'the sender\'s progress reached the total for each target')
    while (received.slice(1).some(list => list.length < 3)) await nextTurn()
    t.deepEqual(received.slice(1).map(list => sha256(list[2].value)), [sha256(bytes), sha256(bytes)], 'both receivers got the 4 MiB intact')
  } finally {
    await leaveAll(rooms)
    await Promise.all(drivers.map(d => d.close()))
  }
})
