'use strict'
// Rooms, security: what the broker sees of signaling (nothing in clear), the
// password (a stranger never connects, nobody sees it), an active broker
// swapping public keys, replayed messages, verify(), and a peer that joins
// again with the same peerId replacing its old entry.
const test = require('tape')
const { Room, MemoryDriver, MemoryHub, LOOPBACK, allConnected, messages, leaveAll } = require('./room-helpers')
const { TapDriver, settled } = require('./room-security-helpers')
const { toBase64 } = require('../dist/lib/room/crypto')

const dec = new TextDecoder()

function roomId () {
  return `room-${Math.random().toString(36).slice(2)}`
}

function makeRoom (hub, id, log, options = {}, rewrite) {
  const driver = log ? new TapDriver(hub, log, rewrite) : new MemoryDriver(hub)
  return new Room({ id, driver, ...LOOPBACK, connectionTimeout: 20e3, ...options })
}

/** Records the ids of `peer:join` and `peer:leave` events of `room` in `log`. */
function track (room, log) {
  room.on('peer:join', ({ peer }) => log.push(`join ${peer.id}`))
  room.on('peer:leave', ({ peer }) => log.push(`leave ${peer.id}`))
}

/** Collects exceptions and rejections that escape, until `stop()`. */
function escapes () {
  const escaped = []
  const onEscape = err => escaped.push(String((err && err.stack) || err))
  process.on('uncaughtException', onEscape)
  process.on('unhandledRejection', onEscape)
  return {
    escaped,
    stop () {
      process.removeListener('uncaughtException', onEscape)
      process.removeListener('unhandledRejection', onEscape)
    }
  }
}

test('room security: the broker sees no SDP, candidate, metadata, room id or peer id in clear', async t => {
  t.timeoutAfter(60e3)
  const hub = new MemoryHub()
  const id = roomId()
  const log = []
  const rooms = [0, 1, 2].map(() => makeRoom(hub, id, log))
  try {
    const names = ['ann-Zq9xWvKp', 'bob-Zq9xWvKp', 'cat-Zq9xWvKp']
    await Promise.all(rooms.map((room, i) => room.join({ name: names[i] })))
    await Promise.all(rooms.map(room => allConnected(room, 2)))
    rooms[0].updateMetadata({ name: 'ann-again-Zq9xWvKp' })
    const got = messages(rooms[1], 1)
    rooms[0].send('over the connection')
    await got
    await leaveAll(rooms)
    t.ok(log.length >= 3 + 6 * 2, `the tap saw the signaling (${log.length} messages)`)
    const text = log.map(({ topic, bytes }) => `${topic}\n${dec.decode(bytes)}`).join('\n')
    t.ok(text.includes('"k":"announce"') && text.includes('"k":"hello"') && text.includes('"k":"confirm"') && text.includes('"k":"pair"'), 'the tap saw announces, hellos, confirms and pair messages')
    // (Needles long enough not to turn up by chance in base64 or hex.)
    for (const needle of ['v=0', 'a=candidate', 'ice-ufrag', 'candidate', 'metadata', 'Zq9xWvKp', id, ...rooms.map(r => r.localId)]) {
      t.notOk(text.includes(needle), `${JSON.stringify(needle)} appears nowhere in what was published`)
    }
  } finally {
    await leaveAll(rooms)
  }
})

test('room security: a peer with the wrong password never connects, and nobody sees it', async t => {
  t.timeoutAfter(90e3)
  const hub = new MemoryHub()
  const id = roomId()
  const events = { a: [], b: [], c: [], d: [] }
  const a = makeRoom(hub, id, null, { password: 'right horse battery' })
  const b = makeRoom(hub, id, null, { password: 'right horse battery' })
  const c = makeRoom(hub, id, null, { password: 'wrong horse battery' })
  const d = makeRoom(hub, id, null, { password: 'right horse battery' })
  const rooms = [a, b, c, d]
  track(a, events.a)
  track(b, events.b)
  track(c, events.c)
  track(d, events.d)
  const e = escapes()
  try {
    await a.join({ name: 'a' })
    await b.join({ name: 'b' })
    await c.join({ name: 'c' })
    await d.join({ name: 'd' })
    await Promise.all([a, b, d].map(room => allConnected(room, 2)))
    await settled(hub)
    t.deepEqual([...a.peers.keys()].sort(), [b.localId, d.localId].sort(), 'a connected to b and d, the peers with the password')
    t.ok(allPresent(b, [a, d]) && allPresent(d, [a, b]), 'b and d too')
    t.equal(c.peers.size, 0, 'the peer with the wrong password has no peers')
    t.deepEqual(events.c, [], 'and saw no peer:join')
    t.notOk([...events.a, ...events.b, ...events.d].some(x => x.includes(c.localId)), 'no peer:join for it anywhere')
    const got = messages(b, 1)
    a.send('members only')
    t.equal((await got)[0].data, 'members only', 'the members talk')
    t.deepEqual(e.escaped, [], 'nothing was thrown')
  } finally {
    e.stop()
    await leaveAll(rooms)
  }
})

function allPresent (room, others) {
  return others.every(other => room.peers.get(other.localId)?.state === 'connected')
}

test('room security: an active broker swapping public keys in announce and hello gets no connection (password)', async t => {
  t.timeoutAfter(90e3)
  const attacker = await globalThis.crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])
  const attackerKey = toBase64(new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', attacker.publicKey)))
  let swapped = 0
  const swap = (topic, bytes) => {
    let envelope
    try { envelope = JSON.parse(dec.decode(bytes)) } catch { return bytes }
    if (envelope.k !== 'announce' && envelope.k !== 'hello') return bytes
    swapped++
    return new TextEncoder().encode(JSON.stringify({ ...envelope, p: attackerKey }))
  }
  const hub = new MemoryHub()
  const id = roomId()
  const log = []
  const password = { password: 'correct horse' }
  // a and b publish through the swapping broker; e and f through an honest one.
  const a = makeRoom(hub, id, log, password, swap)
  const b = makeRoom(hub, id, log, password, swap)
  const e = makeRoom(hub, id, null, password)
  const f = makeRoom(hub, id, null, password)
  const rooms = [a, b, e, f]
  const events = []
  for (const room of rooms) track(room, events)
  const esc = escapes()
  try {
    // One after the other: a and b announce (2 swapped; a drops b's, whose
    // key no longer matches its seal), and each of them answers e and f (4).
    for (const room of rooms) await room.join()
    await allConnected(e, 1)
    await allConnected(f, 1)
    await settled(hub)
    t.equal(swapped, 6, 'the broker swapped keys in every announce and hello of a and b')
    t.equal(a.peers.size + b.peers.size, 0, 'a and b, whose keys were swapped, connected to nobody')
    t.deepEqual([...e.peers.keys()], [f.localId], 'e connected only to f (the honest pair)')
    t.deepEqual(events.filter(x => x.startsWith('join')).sort(), [`join ${e.localId}`, `join ${f.localId}`].sort(), 'the only peer:join are of e and f, to each other')
    t.deepEqual(esc.escaped, [], 'nothing was thrown')
  } finally {
    esc.stop()
    await leaveAll(rooms)
  }
})

test('room security: every captured message replayed after connection changes nothing', async t => {
  t.timeoutAfter(90e3)
  const hub = new MemoryHub()
  const id = roomId()
  const log = []
  const rooms = [0, 1, 2].map(() => makeRoom(hub, id, log, { password: 'pw' }))
  const events = []
  for (const room of rooms) track(room, events)
  const esc = escapes()
  try {
    await Promise.all(rooms.map((room, i) => room.join({ n: i })))
    await Promise.all(rooms.map(room => allConnected(room, 2)))
    await settled(hub)
    const before = rooms.map(room => [...room.peers.values()])
    const joins = events.length
    // Count the signaling data that reaches the connections from now on.
    let signals = 0
    for (const peers of before) {
      for (const p of peers) {
        const signal = p.peer.signal.bind(p.peer)
        p.peer.signal = data => { signals++; return signal(data) }
      }
    }
    const captured = log.slice()
    const evil = new MemoryDriver(hub)
    for (let round = 0; round < 2; round++) {
      for (const { topic, bytes } of captured) await evil.publish(topic, bytes)
    }
    await settled(hub)
    t.ok(captured.length >= 3 + 6 * 2, `${captured.length} messages replayed twice`)
    t.deepEqual(events.slice(joins), [], 'no peer:join or peer:leave after the replay')
    t.equal(signals, 0, 'no replayed signaling data reached a connection')
    t.ok(rooms.every((room, i) => room.peers.size === 2 && [...room.peers.values()].every((p, j) => p === before[i][j] && p.state === 'connected')),
      'every room has the same two peers, connected')
    const got = messages(rooms[2], 2)
    rooms[0].send('still here')
    rooms[1].send('me too')
    t.deepEqual((await got).map(m => m.data).sort(), ['me too', 'still here'], 'and they still talk')
    t.deepEqual(esc.escaped, [], 'nothing was thrown')
  } finally {
    esc.stop()
    await leaveAll(rooms)
  }
})

test('room security: verify() refuses peers before any connection; a throw or a rejection refuses too', async t => {
  t.timeoutAfter(90e3)
  const hub = new MemoryHub()
  const id = roomId()
  const asked = []
  const a = makeRoom(hub, id, null, {
    verify: info => {
      asked.push(info)
      if (info.metadata.name === 'mallory') return false
      if (info.metadata.name === 'trent') throw new Error('no trent')
      return Promise.resolve(true)
    }
  })
  const b = makeRoom(hub, id, null)
  const m = makeRoom(hub, id, null)
  const trentAsked = []
  const tr = makeRoom(hub, id, null, { verify: info => { trentAsked.push(info.id); return Promise.reject(new Error(`refused ${info.id}`)) } })
  const rooms = [a, b, m, tr]
  const events = new Map(rooms.map(room => [room, []]))
  for (const room of rooms) track(room, events.get(room))
  const esc = escapes()
  try {
    // In this order, ann's verify() is asked about trent (it throws), mallory
    // (false) and bob (true), and trent's about bob (it rejects).
    await tr.join({ name: 'trent' })
    await a.join({ name: 'ann' })
    await m.join({ name: 'mallory' })
    await b.join({ name: 'bob' })
    await allConnected(a, 1)
    await allConnected(b, 2)
    await settled(hub)
    t.deepEqual([...a.peers.keys()], [b.localId], 'a admitted only bob')
    t.deepEqual([...b.peers.keys()].sort(), [a.localId, m.localId].sort(), 'bob (no verify) has ann and mallory')
    t.deepEqual([...m.peers.keys()], [b.localId], 'mallory, refused by ann, has only bob: it never saw ann')
    t.equal(tr.peers.size, 0, 'trent, whose verify() rejects, has nobody')
    t.notOk(events.get(m).some(x => x.includes(a.localId)) || events.get(a).some(x => x.includes(m.localId)), 'no peer:join between ann and mallory on either side')
    t.notOk(events.get(tr).length || [a, b, m].some(room => events.get(room).some(x => x.includes(tr.localId))), 'no peer:join for or by trent')
    const names = asked.map(info => info.metadata.name).sort()
    t.deepEqual(names, ['bob', 'mallory', 'trent'], 'ann\'s verify() was asked about bob, mallory and trent')
    t.ok(trentAsked.includes(b.localId), 'trent\'s verify() was asked about bob')
    t.ok(asked.every(info => typeof info.id === 'string' && Object.keys(info).sort().join() === 'id,metadata'), 'with { id, metadata }')
    t.deepEqual(esc.escaped, [], 'nothing was thrown')
  } finally {
    esc.stop()
    await leaveAll(rooms)
  }
})

test('room security: joining again with the same peerId replaces the old entry; an old announce replayed evicts nobody', async t => {
  t.timeoutAfter(90e3)
  const hub = new MemoryHub()
  const id = roomId()
  const log = []
  const a = makeRoom(hub, id, null)
  const bob1 = makeRoom(hub, id, log, { peerId: 'bob' })
  const bob2 = makeRoom(hub, id, log, { peerId: 'bob' })
  const events = []
  track(a, events)
  const rooms = [a, bob1, bob2]
  let c
  const esc = escapes()
  try {
    t.equal(bob1.localId, 'bob', 'peerId is the local id')
    await a.join()
    await bob1.join({ incarnation: 1 })
    await allConnected(a, 1)
    const old = a.peers.get('bob')
    const oldAnnounce = log.find(({ bytes }) => dec.decode(bytes).includes('"k":"announce"'))
    t.ok(oldAnnounce, 'bob\'s first announce was captured')
    // bob "reloads": its first session goes silent (its driver is lost) and a new one joins.
    bob1.driver.suspend()
    const left = new Promise(resolve => a.on('peer:leave', e => { if (e.peer === old) resolve() }))
    await bob2.join({ incarnation: 2 })
    await left
    await allConnected(a, 1)
    const fresh = a.peers.get('bob')
    t.notEqual(fresh, old, 'a has a new entry for bob')
    t.equal(old.state, 'closed', 'the old one was closed')
    t.deepEqual(fresh.metadata, { incarnation: 2 }, 'the new one is the new session')
    t.equal(a.peers.size, 1, 'a has one entry for bob, never two')
    t.deepEqual(events, ['join bob', 'leave bob', 'join bob'], 'peer:join, peer:leave of the old entry, peer:join of the new')

    // The old announce replayed: to a (seen before) and to c (never seen): nobody is evicted.
    c = makeRoom(hub, id, null)
    rooms.push(c)
    await c.join()
    await allConnected(c, 2)
    const cBob = c.peers.get('bob')
    const evil = new MemoryDriver(hub)
    await evil.publish(oldAnnounce.topic, oldAnnounce.bytes)
    await settled(hub)
    t.equal(a.peers.get('bob'), fresh, 'the replayed old announce did not evict bob from a')
    t.equal(c.peers.get('bob'), cBob, 'nor from c, which had never seen it')
    t.equal(fresh.state, 'connected', 'bob stays connected')
    t.equal(c.peers.size, 2, 'c has a and bob, once each')
    t.deepEqual(events, ['join bob', 'leave bob', 'join bob', `join ${c.localId}`], 'a saw only c join since')
    t.deepEqual(esc.escaped, [], 'nothing was thrown')
  } finally {
    esc.stop()
    await leaveAll(rooms)
  }
})

test('room security: options are checked', t => {
  const driver = new MemoryDriver(new MemoryHub())
  for (const [options, what] of [
    [{ password: '' }, 'an empty password'],
    [{ password: 42 }, 'a password that is not a string'],
    [{ verify: 'yes' }, 'a verify that is not a function'],
    [{ peerId: 'has space' }, 'a peerId with a space'],
    [{ peerId: 'x'.repeat(65) }, 'a peerId over 64 characters'],
    [{ peerId: '' }, 'an empty peerId']
  ]) {
    try {
      // eslint-disable-next-line no-new
      new Room({ id: 'r', driver, ...options })
      t.fail(`${what} was taken`)
    } catch (err) {
      t.equal(err.code, 'ERR_INVALID_OPTION', `${what}: ERR_INVALID_OPTION`)
    }
  }
  t.equal(new Room({ id: 'r', driver, peerId: 'Ann_1-x' }).localId, 'Ann_1-x', 'a valid peerId is taken')
  t.end()
})

test('room security: a peer that leaves halfway through the handshake is dropped at once by the side that added it', async t => {
  t.timeoutAfter(30e3)
  const hub = new MemoryHub()
  const id = roomId()
  // b's connection timeout is longer than this test: only a leave can remove a.
  const b = makeRoom(hub, id, null, { connectionTimeout: 120e3 })
  let a = null
  const leaveOnConfirm = (topic, bytes) => {
    if (dec.decode(bytes).includes('"k":"confirm"')) queueMicrotask(() => { a.leave() })
    return bytes
  }
  a = makeRoom(hub, id, [], {}, leaveOnConfirm)
  try {
    await b.join()
    const joined = new Promise(resolve => b.on('peer:join', e => resolve(e.peer)))
    const left = new Promise(resolve => b.on('peer:leave', e => resolve(e.peer)))
    await a.join()
    const peer = await joined
    t.equal(peer.id, a.localId, 'b added a on its confirm')
    t.equal(await left, peer, 'and dropped it on its leave (peer:leave)')
    t.equal(peer.state, 'closed', 'closed, not failed')
    t.equal(b.peers.size, 0, 'b has nobody')
  } finally {
    await leaveAll([a, b])
  }
})
