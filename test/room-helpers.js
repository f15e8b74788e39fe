'use strict'
// Shared helpers for the room tests: rooms of real peers in one process, on
// loopback, meeting through a MemoryDriver on a hub of their own.
const { Room, MemoryDriver, MemoryHub } = require('../dist/room')
const { LOOPBACK, sha256, patternBytes } = require('./helpers')

/** Makes `n` rooms with the same id, each with its driver, on a fresh hub (not joined). */
function makeRooms (n, options = {}) {
  const hub = new MemoryHub()
  const id = `room-${Math.random().toString(36).slice(2)}`
  const drivers = []
  const rooms = []
  for (let i = 0; i < n; i++) {
    drivers.push(new MemoryDriver(hub))
    rooms.push(new Room({ id, driver: drivers[i], ...LOOPBACK, connectionTimeout: 20e3, ...options }))
  }
  return { hub, rooms, drivers }
}

/** Resolves once `room` has `count` peers, every one connected. */
function allConnected (room, count) {
  const done = () => room.peers.size === count && [...room.peers.values()].every(p => p.state === 'connected')
  return new Promise((resolve, reject) => {
    if (done()) return resolve()
    const check = () => {
      if (!done()) return
      room.off('connection:connected', check)
      room.off('connection:failed', failed)
      resolve()
    }
    const failed = ({ peer, error }) => reject(new Error(`connection to ${peer.id} failed: ${error.code} ${error.message}`))
    room.on('connection:connected', check)
    room.on('connection:failed', failed)
  })
}

/**
 * Resolves with the next `count` `channel:message` events of `room` on
 * `label` (all of them if no label), in the order they started, once each
 * arrived whole: `{ peer, label, info, total, data, message }` with `data`
 * the whole value (awaited) and `message` the event itself.
 */
function messages (room, count, label) {
  return new Promise((resolve, reject) => {
    const got = []
    const onMessage = event => {
      if (label !== undefined && event.label !== label) return
      got.push(event)
      if (got.length === count) {
        room.off('channel:message', onMessage)
        Promise.all(got.map(e => e.data)).then(values => resolve(got.map((e, i) => ({
          peer: e.peer, label: e.label, info: e.info, total: e.total, data: values[i], message: e
        }))), reject)
      }
    }
    room.on('channel:message', onMessage)
  })
}

/** Leaves every room and resolves once every underlying Peer has closed. */
async function leaveAll (rooms) {
  const peers = rooms.flatMap(room => [...room.peers.values()].map(p => p.peer))
  await Promise.all(rooms.map(room => room.leave()))
  await Promise.all(peers.map(peer => peer._pc === null ? null : new Promise(resolve => peer.once('close', resolve))))
}

/**
 * Resolves once every message the rooms queued for the broker has been
 * published: a room seals each one (WebCrypto, asynchronous) in order before
 * it reaches its driver, so under load a signal queued before the connections
 * came up can be published well after. `count()` reads the number published
 * so far; this waits on each room's private outbound chain until it stays put.
 */
async function drained (rooms, count) {
  for (;;) {
    const before = count()
    await Promise.all(rooms.map(room => room.outbound))
    await new Promise(resolve => setImmediate(resolve))
    if (count() === before) return
  }
}

/** A MemoryDriver that counts what it publishes (`published`). */
class CountingDriver extends MemoryDriver {
  constructor (hub) {
    super(hub)
    this.published = 0
  }

  publish (topic, bytes) {
    this.published++
    return super.publish(topic, bytes)
  }
}

/**
 * Runs `fn(rooms)` with `n` rooms (makeRooms) joined and all connected to
 * each other, then leaves them all, whether `fn` succeeded or not.
 */
async function withMesh (n, fn, options) {
  const { rooms } = makeRooms(n, options)
  try {
    await Promise.all(rooms.map(room => room.join()))
    await Promise.all(rooms.map(room => allConnected(room, n - 1)))
    return await fn(rooms)
  } finally {
    await leaveAll(rooms)
  }
}

/** Resolves once every driver's state is `state` (e.g. `active`: connected, subscriptions confirmed). */
function allState (drivers, state) {
  return Promise.all(drivers.map(driver => driver.state === state ? null : new Promise(resolve => {
    const on = s => { if (s === state) { driver.off('state', on); resolve() } }
    driver.on('state', on)
  })))
}

/** Polls `check` (every 20 ms) until it is true. */
async function until (check) {
  while (!check()) await new Promise(resolve => setTimeout(resolve, 20))
}

module.exports = { drained, allState, until, withMesh, CountingDriver, Room, MemoryDriver, MemoryHub, LOOPBACK, makeRooms, allConnected, messages, leaveAll, sha256, patternBytes }
