'use strict'
// Rooms heal a network blip on the same connection: when the link between
// two members is cut long enough for ICE to call it disconnected, the room
// restarts ICE, and once the link is back the same connection (the same
// Peer, no peer:leave) carries on; a message sent during the cut arrives.
// A connection that does not come back is dropped within connectionTimeout
// and the two meet again with a new one.
const test = require('tape')
const { Link } = require('./faults/link')
const { Room, MemoryDriver, MemoryHub, allConnected, leaveAll, sha256, patternBytes } = require('./room-helpers')

async function linkedRooms (connectionTimeout) {
  const link = await new Link().start()
  const hub = new MemoryHub()
  const id = `heal-${Math.random().toString(36).slice(2)}`
  // The initiator is the peer with the greater id; which room stands at which
  // side of the link does not matter, each gets the implementation for its side.
  const rooms = ['a', 'b'].map(side => new Room({ id, driver: new MemoryDriver(hub), config: { iceServers: [] }, wrtc: link.wrtcFor(side), connectionTimeout }))
  await Promise.all(rooms.map(r => r.join()))
  await Promise.all(rooms.map(r => allConnected(r, 1)))
  return { link, rooms }
}

function next (room, event) {
  return new Promise(resolve => room.once(event, resolve))
}

test('rooms: a cut link is healed by an ICE restart on the same connection', async t => {
  const { link, rooms } = await linkedRooms(30000)
  const [a, b] = rooms
  const peerAB = a.peers.get(b.localId)
  const connection = peerAB.peer
  const leaves = []
  for (const r of rooms) r.on('peer:leave', e => leaves.push(e.peer.id))
  const initiator = [a, b].map(r => [...r.peers.values()][0].peer).find(p => p.initiator)
  const ufrag = () => /a=ice-ufrag:(\S+)/.exec(initiator._pc.localDescription.sdp)[1]
  const before = ufrag()

  link.down = true
  await Promise.all([next(a, 'connection:disconnected'), next(b, 'connection:disconnected')])
  t.pass('both sides see the connection disconnected')
  const data = patternBytes(256 * 1024, 3)
  const got = new Promise(resolve => b.once('channel:message', e => resolve(e.data)))
  const transfer = a.send(data, { label: 'during-the-cut' })
  const back = Promise.all([next(a, 'connection:connected'), next(b, 'connection:connected')])
  // Let the restart go out while the link is still cut, then bring it back.
  await new Promise(resolve => setTimeout(resolve, 2500))
  link.down = false
  await back
  t.notEqual(ufrag(), before, 'ICE was restarted (new credentials)')
  t.equal(a.peers.get(b.localId), peerAB, 'the same room peer')
  t.equal(peerAB.peer, connection, 'on the same connection')
  t.equal(sha256(await got), sha256(data), 'the message sent during the cut arrives intact')
  await transfer
  t.deepEqual(leaves, [], 'no peer:leave on either side')
  await leaveAll(rooms)
  link.close()
})

test('rooms: a link that stays cut ends the connection within connectionTimeout; the peers meet again when it is back', async t => {
  const { link, rooms } = await linkedRooms(3000)
  const [a, b] = rooms
  const first = a.peers.get(b.localId)
  const gone = Promise.all([
    new Promise(resolve => a.once('peer:leave', resolve)),
    new Promise(resolve => b.once('peer:leave', resolve))
  ])
  link.down = true
  await gone
  t.equal(first.state, 'closed', 'the lost connection is closed')
  t.equal(a.peers.size + b.peers.size, 0, 'each side dropped the other')
  // Attempts made while the link is still cut fail (ERR_CONNECTION_TIMEOUT)
  // and are tried again: wait for one that connects.
  const met = Promise.all(rooms.map(r => new Promise(resolve => {
    const check = () => { if ([...r.peers.values()].some(p => p.state === 'connected')) { r.off('connection:connected', check); resolve() } }
    r.on('connection:connected', check)
  })))
  link.down = false
  await met
  t.notEqual(a.peers.get(b.localId), first, 'a new connection replaced the lost one')
  const got = new Promise(resolve => b.once('channel:message', e => resolve(e.data)))
  a.send('hello again')
  t.equal(await got, 'hello again', 'and carries messages')
  await leaveAll(rooms)
  link.close()
})
