'use strict'
// Rooms: media shared by label (room.share / room.unshare, roomPeer.share),
// stream:add|remove and track:add|remove with the label, managed streams,
// peers joining later, and the renegotiation going over the connection (the
// broker hears nothing once the pair is connected).
const test = require('tape')
const { Room, MemoryHub, LOOPBACK, makeRooms, allConnected, leaveAll, CountingDriver } = require('../room-helpers')
const { camera, firstFrame } = require('./helpers')

/** The next event `event` of `room` that passes `filter`. */
function next (room, event, filter = () => true) {
  return new Promise(resolve => {
    const listener = e => {
      if (!filter(e)) return
      room.off(event, listener)
      resolve(e)
    }
    room.on(event, listener)
  })
}

/** Records every media event of a room. */
function record (room) {
  const events = []
  for (const name of ['stream:add', 'stream:remove', 'track:add', 'track:remove']) {
    room.on(name, e => events.push({ name, peer: e.peer.id, label: e.label, stream: e.stream.id, track: e.track ? e.track.kind : undefined }))
  }
  return events
}

test('room media: share() reaches the peer with its label, frames flow, the broker hears nothing; unshare() and managed', async t => {
  t.timeoutAfter(60e3)
  const hub = new MemoryHub()
  const id = `room-${Math.random().toString(36).slice(2)}`
  const drivers = [new CountingDriver(hub), new CountingDriver(hub)]
  const rooms = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: 20e3 }))
  const [a, b] = rooms
  const cam = camera()
  const cam2 = camera(96, 64)
  try {
    await Promise.all(rooms.map(room => room.join()))
    await Promise.all(rooms.map(room => allConnected(room, 1)))
    await Promise.all(rooms.map(room => room.outbound))
    await new Promise(resolve => setImmediate(resolve))
    const mark = drivers.map(d => d.published)
    const events = record(b)

    const added = next(b, 'stream:add')
    const track = next(b, 'track:add')
    a.share({ label: 'camera', stream: cam.stream })
    const streamEvent = await added
    t.equal(streamEvent.peer.id, a.localId, 'stream:add names the sharing peer')
    t.equal(streamEvent.label, 'camera', 'and the label')
    t.equal(streamEvent.stream.id, cam.stream.id, 'and the stream (same id as the sender\'s)')
    const trackEvent = await track
    t.equal(trackEvent.label, 'camera', 'track:add has the label')
    t.equal(trackEvent.track.kind, 'video', 'and the video track')
    t.equal(trackEvent.stream, streamEvent.stream, 'and its stream')
    const frame = await firstFrame(trackEvent.track)
    t.deepEqual(frame, { width: cam.width, height: cam.height }, 'frames flow')
    t.equal(b.peers.get(a.localId).streams.get('camera'), streamEvent.stream, 'roomPeer.streams has it by label')
    t.deepEqual(drivers.map(d => d.published), mark, 'the renegotiation went over the connection: nothing published')

    // Replacing the label's stream: the old one goes, the new one comes.
    const removed = next(b, 'stream:remove')
    const replaced = next(b, 'stream:add')
    a.share({ label: 'camera', stream: cam2.stream, managed: true })
    t.equal((await removed).stream.id, cam.stream.id, 'sharing again under the label: stream:remove for the old stream')
    const second = await replaced
    t.equal(second.stream.id, cam2.stream.id, 'then stream:add for the new one')
    t.equal(cam.track.readyState, 'live', 'the replaced stream was not managed: its track still runs')

    const gone = next(b, 'stream:remove')
    a.unshare('camera')
    const removal = await gone
    t.equal(removal.label, 'camera', 'unshare(): stream:remove with the label')
    t.equal(cam2.track.readyState, 'ended', 'a managed stream has its tracks stopped on unshare()')
    t.deepEqual(events.map(e => `${e.name} ${e.label} ${e.stream === cam.stream.id ? 1 : 2}${e.track ? ' ' + e.track : ''}`), [
      'stream:add camera 1', 'track:add camera 1 video',
      'track:remove camera 1 video', 'stream:remove camera 1',
      'stream:add camera 2', 'track:add camera 2 video',
      'track:remove camera 2 video', 'stream:remove camera 2'
    ], 'the events, in order')
    t.deepEqual(drivers.map(d => d.published), mark, 'still nothing published')

    for (const bad of [null, {}, { label: 'x' }, { label: '', stream: cam.stream }, { label: 'x', stream: {} }, { label: 'x', stream: cam.stream, managed: 1 }]) {
      try {
        a.share(bad)
        t.fail('share() should throw')
      } catch (err) {
        t.equal(err.code, 'ERR_INVALID_OPTION', 'share() with bad options: ERR_INVALID_OPTION')
      }
    }
  } finally {
    cam.stop()
    cam2.stop()
    await leaveAll(rooms)
  }
})

test('room media: a peer joining later gets what is shared; roomPeer.share() reaches one peer only', async t => {
  t.timeoutAfter(60e3)
  const { rooms } = makeRooms(3)
  const [a, b, c] = rooms
  const cam = camera()
  const solo = camera(96, 64)
  try {
    await Promise.all([a.join(), b.join()])
    await Promise.all([allConnected(a, 1), allConnected(b, 1)])
    const onB = next(b, 'stream:add')
    a.share({ label: 'camera', stream: cam.stream })
    await onB
    const onC = next(c, 'stream:add')
    await c.join()
    const late = await onC
    t.equal(late.peer.id, a.localId, 'the late peer gets the shared stream')
    t.equal(late.label, 'camera', 'under its label')
    const [lateTrack] = late.stream.getTracks()
    t.equal((await firstFrame(lateTrack)).width, cam.width, 'and its frames')

    await allConnected(c, 2)
    const bEvents = record(b)
    const toC = a.peers.get(c.localId)
    const got = next(c, 'stream:add', e => e.label === 'solo')
    toC.share({ label: 'solo', stream: solo.stream })
    const soloEvent = await got
    t.equal(soloEvent.stream.id, solo.stream.id, 'roomPeer.share(): that peer gets it')
    // A round trip on b's connection: anything shared with b would have been announced before it.
    const echo = next(b, 'channel:message', e => e.label === 'mark')
    a.send('mark', { label: 'mark', to: b.localId })
    await echo
    t.deepEqual(bEvents, [], 'the other peer got nothing')
  } finally {
    cam.stop()
    solo.stop()
    await leaveAll(rooms)
  }
})

test('room media: managed streams are stopped when the room is left, or unshared from one peer; others are not', async t => {
  t.timeoutAfter(60e3)
  const { rooms } = makeRooms(2)
  const [a, b] = rooms
  const managed = camera()
  const kept = camera()
  const perPeer = camera()
  try {
    await Promise.all(rooms.map(room => room.join()))
    await Promise.all(rooms.map(room => allConnected(room, 1)))
    const arrivals = new Promise(resolve => {
      const labels = new Set()
      b.on('stream:add', e => { labels.add(e.label); if (labels.size === 3) resolve() })
    })
    a.share({ label: 'managed', stream: managed.stream, managed: true })
    a.share({ label: 'kept', stream: kept.stream })
    const toB = a.peers.get(b.localId)
    toB.share({ label: 'solo', stream: perPeer.stream, managed: true })
    await arrivals
    t.pass('b got all three streams')
    const removed = next(b, 'stream:remove', e => e.label === 'solo')
    toB.unshare('solo')
    await removed
    t.equal(perPeer.track.readyState, 'ended', 'a managed per-peer stream is stopped by roomPeer.unshare()')
    t.equal(managed.track.readyState, 'live', 'the room\'s managed stream still runs')
    await a.leave()
    t.equal(managed.track.readyState, 'ended', 'leave() stops the room\'s managed stream')
    t.equal(kept.track.readyState, 'live', 'and not the others')
  } finally {
    managed.stop()
    kept.stop()
    perPeer.stop()
    await leaveAll(rooms)
  }
})
