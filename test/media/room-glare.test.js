'use strict'
// Rooms, glare: 4 peers all open the same label and share a stream at the
// same moment. Each pair ends with exactly one channel for the label (the
// same id on both ends, one in each connection's stats), every stream
// reaches every other peer once, and nothing deadlocks. Then a join racing
// a share: the newcomer gets the stream once.
const test = require('tape')
const { makeRooms, allConnected, leaveAll } = require('../room-helpers')
const { camera, firstFrame } = require('./helpers')

const N = 4

/** Resolves with the first `count` events `event` of `room`. */
function collect (room, event, count, filter = () => true) {
  return new Promise(resolve => {
    const got = []
    const listener = e => {
      if (!filter(e)) return
      got.push(e)
      if (got.length === count) {
        room.off(event, listener)
        resolve(got)
      }
    }
    room.on(event, listener)
  })
}

/** Stats of a connection's data channels, read again until `ready(stats)` holds (stats are cached for a moment). */
async function channelStats (roomPeer, ready) {
  for (;;) {
    const reports = (await roomPeer.peer.getStats()).filter(r => r.type === 'data-channel')
    if (ready(reports)) return reports
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

test('room glare: 4 peers open the same label and share a stream at once: one channel per pair, every stream arrives', async t => {
  t.timeoutAfter(90e3)
  const { rooms } = makeRooms(N)
  const cams = rooms.map(() => camera())
  const media = rooms.map(room => { const events = []; room.on('stream:add', e => events.push(e)); return events })
  const news = rooms.map(room => { const events = []; room.on('channel:new', e => events.push(e)); return events })
  try {
    await Promise.all(rooms.map(room => room.join()))
    await Promise.all(rooms.map(room => allConnected(room, N - 1)))
    const opens = rooms.map(room => collect(room, 'channel:open', N - 1, e => e.label === 'chat'))
    const streams = rooms.map(room => collect(room, 'stream:add', N - 1))
    // All at the same moment (one turn of the event loop).
    rooms.forEach((room, i) => {
      room.open({ label: 'chat' })
      room.share({ label: 'cam', stream: cams[i].stream })
    })
    await Promise.all(opens)
    t.pass('every room saw the chat channel open to each of the 3 others')
    const arrived = await Promise.all(streams)
    arrived.forEach((events, i) => {
      const from = events.map(e => e.peer.id).sort()
      const expected = rooms.filter((_, j) => j !== i).map(r => r.localId).sort()
      t.deepEqual(from, expected, `p${i}: one stream from each of the 3 others`)
      t.ok(events.every(e => e.label === 'cam' && e.stream.id === cams[rooms.findIndex(r => r.localId === e.peer.id)].stream.id), `p${i}: each under its label, the sender's stream`)
    })
    const frame = await firstFrame(arrived[0][0].stream.getTracks()[0])
    t.equal(frame.width, 160, 'frames flow on a stream that came through the glare')

    for (const room of rooms) {
      for (const [id, peer] of room.peers) {
        const back = rooms.find(r => r.localId === id).peers.get(room.localId)
        const mine = peer.link.channels.idOf('frames', 'chat')
        const theirs = back.link.channels.idOf('frames', 'chat')
        if (mine === null || mine !== theirs) t.fail(`pair ${room.localId.slice(0, 6)}|${id.slice(0, 6)}: ids ${mine} and ${theirs}`)
        if (peer.link.channels.size !== 1) t.fail(`connection ${room.localId.slice(0, 6)}→${id.slice(0, 6)} made ${peer.link.channels.size} labelled channels`)
      }
    }
    t.pass('each pair has one chat channel, the same id at both ends, and no other labelled channel')
    news.forEach((events, i) => t.equal(events.length, N - 1, `p${i}: channel:new once per peer`))
    const counts = []
    for (const room of rooms) {
      for (const peer of room.peers.values()) {
        const stats = await channelStats(peer, reports => reports.some(r => r.label === 'chat'))
        counts.push(stats.filter(r => r.label === 'chat').length)
      }
    }
    t.deepEqual(counts, Array(N * (N - 1)).fill(1), 'every connection\'s stats show exactly one chat channel')
    t.ok(media.every(events => events.length === N - 1), 'no stream arrived twice')

    // Chat on the label still works both ways on every pair.
    const chats = rooms.map(room => collect(room, 'channel:message', N - 1, e => e.label === 'chat'))
    rooms.forEach((room, i) => room.send(`hi from p${i}`, { label: 'chat' }))
    const said = await Promise.all(chats)
    t.ok(said.every(events => events.length === N - 1), 'a message from each peer reached each other on the chat channel')
  } finally {
    cams.forEach(cam => cam.stop())
    await leaveAll(rooms)
  }
})

test('room glare: a join racing a share: the newcomer and the others each get the stream once', async t => {
  t.timeoutAfter(90e3)
  const { rooms } = makeRooms(4)
  const [a, b, c, d] = rooms
  const cam = camera()
  const got = rooms.map(room => { const events = []; room.on('stream:add', e => events.push(e)); return events })
  try {
    await Promise.all([a, b, c].map(room => room.join()))
    await Promise.all([a, b, c].map(room => allConnected(room, 2)))
    const arrivals = [b, c, d].map(room => collect(room, 'stream:add', 1))
    // d joins while a shares.
    const joined = d.join()
    a.share({ label: 'cam', stream: cam.stream })
    await joined
    const events = await Promise.all(arrivals)
    t.ok(events.every(([e]) => e.peer.id === a.localId && e.label === 'cam' && e.stream.id === cam.stream.id), 'b, c and the newcomer d each get a\'s stream under its label')
    await Promise.all(rooms.map(room => allConnected(room, 3)))
    t.equal((await firstFrame(events[2][0].stream.getTracks()[0])).width, 160, 'frames reach the newcomer')
    // A round trip from a to each: a duplicate announcement would have come before it.
    const marks = [b, c, d].map(room => collect(room, 'channel:message', 1, e => e.label === 'mark'))
    a.send('mark', { label: 'mark' })
    await Promise.all(marks)
    t.deepEqual(got.map(events => events.length), [0, 1, 1, 1], 'each of the others got the stream exactly once')
  } finally {
    cam.stop()
    await leaveAll(rooms)
  }
})
