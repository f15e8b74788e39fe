'use strict'
// Rooms: membership over time. Leaving is seen by the others at once
// (peer:leave, state 'closed'); a late peer:join listener gets the peers
// already there; updateMetadata() reaches the others; once connected, a room
// publishes nothing more to the broker; a driver that comes back announces
// again; options and calls out of order give coded errors.
const test = require('tape')
const { Room, MemoryDriver, MemoryHub, LOOPBACK, makeRooms, allConnected, messages, leaveAll, drained } = require('./room-helpers')

/** Resolves with the next emission of `event` on `room` matching `filter`. */
function next (room, event, filter = () => true) {
  return new Promise(resolve => {
    const on = arg => {
      if (!filter(arg)) return
      room.off(event, on)
      resolve(arg)
    }
    room.on(event, on)
  })
}

test('room leave: the others get peer:leave and connection:closed; the state goes to closed', async t => {
  t.timeoutAfter(60e3)
  const { rooms } = makeRooms(3)
  const [a, b, c] = rooms
  try {
    await Promise.all(rooms.map(room => room.join()))
    await Promise.all(rooms.map(room => allConnected(room, 2)))
    const cOnA = a.peers.get(c.localId)
    const cOnB = b.peers.get(c.localId)
    const closedOnA = next(a, 'connection:closed', e => e.peer === cOnA)
    const leaves = [a, b].map(room => next(room, 'peer:leave', e => e.peer.id === c.localId))
    const failures = []
    for (const room of [a, b]) room.on('connection:failed', e => failures.push(e))
    const ownLeaves = []
    c.on('peer:leave', e => ownLeaves.push(e.peer.id))
    await c.leave()
    t.deepEqual(ownLeaves.sort(), [a.localId, b.localId].sort(), 'the leaving room emits peer:leave for each peer it had')
    t.equal(c.peers.size, 0, 'and has no peers left')
    const [leftA, leftB] = await Promise.all(leaves)
    t.equal(leftA.peer, cOnA, 'a got peer:leave with the RoomPeer of c')
    t.equal(leftB.peer, cOnB, 'b got peer:leave with the RoomPeer of c')
    await closedOnA
    t.pass('a got connection:closed for c')
    t.equal(cOnA.state, 'closed', 'its state is closed')
    t.equal(cOnB.state, 'closed', 'on b too')
    t.notOk(a.peers.has(c.localId) || b.peers.has(c.localId), 'c is gone from room.peers')
    t.deepEqual(failures, [], 'no connection failed')
    t.ok(cOnA.peer.destroyed, 'the underlying Peer is destroyed')
    t.throws(() => cOnA.send('x'), err => err.code === 'ERR_PEER_CLOSED', 'sending to a closed peer: ERR_PEER_CLOSED')
    t.equal(a.peers.get(b.localId).state, 'connected', 'a and b stay connected')
    const got = messages(b, 1)
    a.send('still here')
    t.equal((await got)[0].data, 'still here', 'and still talk')
    await c.leave()
    t.pass('leave() twice is harmless')
    await c.join().then(() => t.fail('joined again'), err => t.equal(err.code, 'ERR_ALREADY_JOINED', 'a left room cannot be joined again: ERR_ALREADY_JOINED'))
  } finally {
    await leaveAll(rooms)
  }
})

test('room presence: late peer:join listeners get the peers already there; updateMetadata reaches the others', async t => {
  t.timeoutAfter(60e3)
  const { rooms } = makeRooms(3)
  const [a, b, c] = rooms
  try {
    await Promise.all(rooms.map((room, i) => room.join({ name: `n${i}` })))
    await Promise.all(rooms.map(room => allConnected(room, 2)))

    const replayed = []
    a.on('peer:join', ({ peer }) => replayed.push(peer.id))
    let onceCalls = 0
    a.once('peer:join', () => onceCalls++)
    t.deepEqual(replayed, [], 'nothing is replayed inside on()')
    await Promise.resolve()
    t.deepEqual(replayed.sort(), [b.localId, c.localId].sort(), 'a late listener gets peer:join for each peer already there')
    t.equal(onceCalls, 1, 'a late once() listener gets one')

    const updates = [b, c].map(room => next(room, 'peer:update', e => e.peer.id === a.localId))
    a.updateMetadata({ name: 'n0', status: 'away' })
    t.deepEqual(a.metadata, { name: 'n0', status: 'away' }, 'room.metadata is the new value')
    for (const [i, update] of (await Promise.all(updates)).entries()) {
      t.deepEqual(update.metadata, { name: 'n0', status: 'away' }, `${i ? 'c' : 'b'} got peer:update with the new metadata`)
      t.deepEqual(update.peer.metadata, { name: 'n0', status: 'away' }, 'and peer.metadata is updated')
    }
    t.throws(() => a.updateMetadata(() => 1), err => err.code === 'ERR_INVALID_OPTION', 'metadata that is not JSON: ERR_INVALID_OPTION')
    t.throws(() => a.updateMetadata('x'.repeat(20000)), err => err.code === 'ERR_INVALID_OPTION', 'metadata over 16 KiB: ERR_INVALID_OPTION')
  } finally {
    await leaveAll(rooms)
  }
})

test('room signaling: connected peers publish nothing more; a driver back to active announces again', async t => {
  t.timeoutAfter(60e3)
  const { hub, rooms, drivers } = makeRooms(3)
  const [a, b, c] = rooms
  try {
    await Promise.all(rooms.map(room => room.join()))
    await Promise.all(rooms.map(room => allConnected(room, 2)))
    // Let trickled candidates still under way reach the hub.
    await waitGathered(rooms)
    await drained(rooms, () => hub.published)
    const before = hub.published
    const got = messages(b, 1)
    a.send('hi')
    await got
    a.updateMetadata({ away: true })
    await next(c, 'peer:update')
    t.equal(hub.published, before, 'messages and metadata updates between connected peers go over their connections, not the broker')

    // The driver goes inactive and comes back: the room announces again;
    // peers already connected ignore it (no new connection, no new hello).
    const news = []
    for (const room of rooms) room.on('connection:new', e => news.push(e))
    const driver = drivers[0]
    driver.suspend()
    driver.resume()
    await drained(rooms, () => hub.published)
    t.equal(hub.published, before + 1, 'one announce was published')
    t.deepEqual(news, [], 'no new connection for peers already connected')
  } finally {
    await leaveAll(rooms)
  }
})

test('room: a peer whose announce was lost is met when its driver comes back', async t => {
  t.timeoutAfter(60e3)
  const hub = new MemoryHub()
  const id = 'lost-announce'
  const driverB = new MemoryDriver(hub)
  const a = new Room({ id, driver: new MemoryDriver(hub), ...LOOPBACK })
  const b = new Room({ id, driver: driverB, ...LOOPBACK })
  try {
    await a.join()
    driverB.suspend()
    await b.join()
    t.equal(a.peers.size + b.peers.size, 0, 'while b\'s driver is inactive, nobody meets')
    driverB.resume()
    await Promise.all([allConnected(a, 1), allConnected(b, 1)])
    t.pass('a and b connect once b\'s driver is active again')
  } finally {
    await leaveAll([a, b])
  }
})

test('room options and calls out of order: coded errors', async t => {
  const driver = new MemoryDriver(new MemoryHub())
  const codeOf = fn => { try { fn(); return null } catch (err) { return err.code } }
  t.equal(codeOf(() => new Room()), 'ERR_INVALID_OPTION', 'no options')
  t.equal(codeOf(() => new Room({ driver })), 'ERR_INVALID_OPTION', 'no id')
  t.equal(codeOf(() => new Room({ id: '', driver })), 'ERR_INVALID_OPTION', 'empty id')
  t.equal(codeOf(() => new Room({ id: 'r' })), 'ERR_INVALID_OPTION', 'no driver')
  t.equal(codeOf(() => new Room({ id: 'r', driver: {} })), 'ERR_INVALID_OPTION', 'not a driver')
  t.equal(codeOf(() => new Room({ id: 'r', driver, connectionTimeout: -1 })), 'ERR_INVALID_OPTION', 'negative connectionTimeout')
  t.equal(codeOf(() => new Room({ id: 'r', driver, maxMessageSize: NaN })), 'ERR_INVALID_OPTION', 'NaN maxMessageSize')
  const room = new Room({ id: 'r', driver, ...LOOPBACK })
  t.equal(codeOf(() => room.send('x')), 'ERR_NOT_JOINED', 'send() before join()')
  t.equal(codeOf(() => room.updateMetadata({})), 'ERR_NOT_JOINED', 'updateMetadata() before join()')
  await room.join()
  t.ok(room.joined, 'joined')
  await room.join().then(() => t.fail('joined twice'), err => t.equal(err.code, 'ERR_ALREADY_JOINED', 'join() twice: ERR_ALREADY_JOINED'))
  const other = new Room({ id: 'r', driver, ...LOOPBACK })
  await other.join(() => 1).then(() => t.fail('joined'), err => t.equal(err.code, 'ERR_INVALID_OPTION', 'join() with metadata that is not JSON: ERR_INVALID_OPTION'))
  await room.leave()
  const closedDriver = new MemoryDriver(new MemoryHub())
  await closedDriver.close()
  const late = new Room({ id: 'r', driver: closedDriver, ...LOOPBACK })
  await late.join().then(() => t.fail('joined'), err => t.equal(err.code, 'ERR_DRIVER', 'join() on a closed driver: ERR_DRIVER'))
  t.notOk(late.joined, 'and the room is not joined')
  const hub = new MemoryHub()
  const hasty = new Room({ id: 'r', driver: new MemoryDriver(hub), ...LOOPBACK })
  const joining = hasty.join()
  await hasty.leave()
  await joining.then(() => t.fail('joined'), err => t.equal(err.code, 'ERR_NOT_JOINED', 'leave() during join(): join() rejects with ERR_NOT_JOINED'))
  t.equal(hub.topicCount, 0, 'and no subscription is left behind')
})

test('MemoryDriver: delivers later, in order, copies, to subscribers only', async t => {
  const hub = new MemoryHub()
  const x = new MemoryDriver(hub)
  const y = new MemoryDriver(hub)
  const got = []
  await y.subscribe('t', bytes => got.push(bytes))
  const sent = new Uint8Array([1, 2, 3])
  await x.publish('t', sent)
  await x.publish('t', new Uint8Array([4]))
  await x.publish('other', new Uint8Array([5]))
  t.equal(got.length, 0, 'nothing is delivered inside publish()')
  sent[0] = 9
  await new Promise(resolve => setImmediate(resolve))
  t.deepEqual(got.map(b => [...b]), [[1, 2, 3], [4]], 'delivered in order, as they were when published, on the subscribed topic only')
  await y.unsubscribe('t')
  await x.publish('t', new Uint8Array([6]))
  await new Promise(resolve => setImmediate(resolve))
  t.equal(got.length, 2, 'nothing after unsubscribe')
  const states = []
  x.on('state', s => states.push(s))
  x.suspend(); x.resume(); await x.close()
  t.deepEqual(states, ['inactive', 'active', 'inactive'], 'state events')
  await x.publish('t', new Uint8Array(1)).then(() => t.fail('published'), err => t.equal(err.code, 'ERR_DRIVER_CLOSED', 'publish after close: ERR_DRIVER_CLOSED'))
})

/** Resolves once every Peer of the rooms has finished gathering ICE candidates. */
function waitGathered (rooms) {
  const peers = rooms.flatMap(room => [...room.peers.values()].map(p => p.peer))
  return Promise.all(peers.map(peer => new Promise(resolve => {
    const check = () => {
      if (!peer._pc || peer._pc.iceGatheringState === 'complete') {
        peer.off('iceStateChange', check)
        resolve()
      }
    }
    peer.on('iceStateChange', check)
    check()
  })))
}
