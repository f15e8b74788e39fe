'use strict'
// Rooms: a mesh of 6 Node peers meeting through a MemoryDriver in one
// process. Every pair connects exactly once; messages reach everyone, or only
// the peers in `to`; strings, JSON values and bytes arrive as sent, and a
// 1 MiB message arrives intact.
const test = require('tape')
const { makeRooms, allConnected, messages, leaveAll, sha256, patternBytes } = require('./room-helpers')

const N = 6

test('room mesh: 6 peers, every pair connects once; messages reach all, or only their targets', async t => {
  t.timeoutAfter(60e3)
  const { rooms } = makeRooms(N)
  // Connections made per unordered pair, per side.
  const made = new Map()
  for (const room of rooms) {
    room.on('connection:new', ({ peer }) => {
      const key = [room.localId, peer.id].sort().join('|')
      made.set(key, (made.get(key) || 0) + 1)
    })
  }
  try {
    const joined = await Promise.all(rooms.map((room, i) => room.join({ name: `p${i}` })))
    t.deepEqual(joined.map(j => j.id), rooms.map(r => r.localId), 'join() resolves with the local id')
    t.deepEqual(joined.map(j => j.metadata), rooms.map((r, i) => ({ name: `p${i}` })), 'and the metadata')
    await Promise.all(rooms.map(room => allConnected(room, N - 1)))
    t.pass(`all ${N} rooms have ${N - 1} connected peers`)

    t.equal(made.size, N * (N - 1) / 2, 'one entry per unordered pair')
    t.ok([...made.values()].every(count => count === 2), 'each pair made exactly one connection on each side')
    for (const room of rooms) {
      for (const [id, peer] of room.peers) {
        const other = rooms.find(r => r.localId === id)
        const back = other.peers.get(room.localId)
        if (peer.peer.initiator === back.peer.initiator) t.fail(`both sides of ${room.localId}|${id} have initiator=${peer.peer.initiator}`)
        if (peer.peer.initiator !== room.localId > id) t.fail('the greater id initiates')
        if (JSON.stringify(peer.metadata) !== JSON.stringify({ name: `p${rooms.indexOf(other)}` })) t.fail(`metadata of ${id} seen by ${room.localId}: ${JSON.stringify(peer.metadata)}`)
      }
    }
    t.pass('exactly one side of each pair initiated (the greater id); each side sees the other\'s metadata')

    // Chat: each room sends to everyone.
    const chats = rooms.map(room => messages(room, N - 1, 'chat'))
    rooms.forEach((room, i) => room.send(`hello from p${i}`, { label: 'chat' }))
    const received = await Promise.all(chats)
    received.forEach((events, i) => {
      const from = events.map(e => e.peer.id).sort()
      const expected = rooms.filter((_, j) => j !== i).map(r => r.localId).sort()
      t.deepEqual(from, expected, `p${i} got one chat message from each of the 5 others`)
      t.ok(events.every(e => e.data === `hello from p${rooms.findIndex(r => r.localId === e.peer.id)}`), `p${i}: each says who sent it`)
    })

    // `to`: p0 sends to p1 and p2 only, then a marker to all. Channels are
    // ordered, so a peer that gets the marker first never got the targeted one.
    const [p0, p1, p2] = rooms
    const seen = rooms.map(room => messages(room, 1, 'marker'))
    const targeted = rooms.map(() => [])
    rooms.forEach((room, i) => room.on('channel:message', e => { if (e.label === 'secret') targeted[i].push(e) }))
    p0.send({ secret: true, n: [1, 2, 3] }, { label: 'secret', to: [p1.localId, p2.localId] })
    p0.send('marker', { label: 'marker' })
    await Promise.all(seen.slice(1))
    t.equal(targeted[1].length, 1, 'p1 (in `to`) got the message')
    t.equal(targeted[2].length, 1, 'p2 (in `to`) got the message')
    t.deepEqual(await targeted[1][0].data, { secret: true, n: [1, 2, 3] }, 'a JSON value arrives as the value')
    t.deepEqual(targeted.slice(3).map(list => list.length), [0, 0, 0], 'p3, p4, p5 (not in `to`) did not')
    t.equal(targeted[0].length, 0, 'the sender does not get its own message')

    // Kinds: each arrives as what was sent.
    const kinds = messages(p1, 5, 'kinds')
    p0.peers.get(p1.localId).send('text', { label: 'kinds' })
    p0.peers.get(p1.localId).send(Buffer.from('buffer'), { label: 'kinds' })
    p0.send(new Uint8Array([1, 2, 3]), { label: 'kinds', to: p1.localId })
    p0.send(42, { label: 'kinds', to: p1.localId })
    p0.send('', { label: 'kinds', to: p1.localId })
    const k = (await kinds).map(e => e.data)
    t.equal(k[0], 'text', 'a string arrives as a string')
    t.ok(k[1] instanceof Uint8Array && Buffer.from(k[1]).toString() === 'buffer', 'a Buffer arrives as bytes')
    t.ok(k[2] instanceof Uint8Array && Buffer.from(k[2]).equals(Buffer.from([1, 2, 3])), 'a Uint8Array arrives as bytes')
    t.equal(k[3], 42, 'a number arrives as a number (JSON)')
    t.equal(k[4], '', 'an empty string arrives')

    // A large message: 1 MiB to everyone, many frames, checked by SHA-256.
    const big = patternBytes(1024 * 1024 + 17, 7)
    const bigs = rooms.slice(0, N - 1).map(room => messages(room, 1, 'file'))
    rooms[N - 1].send(big, { label: 'file' })
    const got = await Promise.all(bigs)
    for (const [i, [event]] of got.entries()) {
      t.ok(event.data instanceof Uint8Array && event.data.byteLength === big.length && sha256(event.data) === sha256(big), `p${i} got the ${big.length}-byte message intact (SHA-256)`)
    }

    t.throws(() => p0.send(undefined), /send\(\) takes/, 'send(undefined) throws')
    t.throws(() => p0.send('x', { label: 'x'.repeat(256) }), err => err.code === 'ERR_INVALID_OPTION', 'a label over 255 bytes: ERR_INVALID_OPTION')
    t.throws(() => p0.send('x', { to: 5 }), err => err.code === 'ERR_INVALID_OPTION', 'to of the wrong type: ERR_INVALID_OPTION')
  } finally {
    await leaveAll(rooms)
  }
  t.ok(rooms.every(room => room.peers.size === 0 && !room.joined), 'after leave(), no room has peers')
})
