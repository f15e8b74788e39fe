'use strict'
/**
 * Room measurements (duplex-peer/room), each in a process of its own, all
 * rooms of one measurement in that process, meeting through a MemoryDriver:
 *
 *   node bench/room.js mesh N                time until N peers are all connected
 *   node bench/room.js fanout K MiB          one peer streams MiB to K others at once:
 *                                            MB/s per target, and RSS sampled every 100 ms
 *   node bench/room.js latency MiB [N]       N 1 KiB messages (default 200), one every
 *                                            20 ms, on the label of a MiB transfer
 *                                            running meanwhile (0: none): p50/p99
 *
 * Each prints one line of JSON. The streams sent are Node Readables that
 * hand out slices of one 4 MiB pool, so the source itself holds no more
 * than that; receivers read the incoming streams and count the bytes.
 */
const crypto = require('crypto')
const { Readable } = require('stream')
const { settle, withTimeout, sleep, MIB } = require('./common')
const { Room, MemoryDriver, MemoryHub } = require('../dist/room')

const LOOPBACK = { config: { iceServers: [] } }
const PIECE = 64 * 1024
const SAMPLE_MS = 100

/** `n` rooms of one id on a fresh hub, joined, and the time until every one sees all others connected. */
async function mesh (n, options = {}) {
  const hub = new MemoryHub()
  const id = `bench-${crypto.randomBytes(6).toString('hex')}`
  const rooms = []
  for (let i = 0; i < n; i++) {
    rooms.push(new Room({ id, driver: new MemoryDriver(hub), connectionTimeout: 60e3, ...LOOPBACK, ...options }))
  }
  const t0 = performance.now()
  await Promise.all(rooms.map(room => room.join({ i: rooms.indexOf(room) })))
  await withTimeout(Promise.all(rooms.map(room => allConnected(room, n - 1))), 120e3, 'the mesh did not form')
  return { rooms, ms: performance.now() - t0 }
}

function allConnected (room, count) {
  const done = () => room.peers.size === count && [...room.peers.values()].every(p => p.state === 'connected')
  return new Promise((resolve, reject) => {
    if (done()) return resolve()
    const check = () => { if (done()) { room.off('connection:connected', check); resolve() } }
    room.on('connection:connected', check)
    room.on('connection:failed', ({ peer, error }) => reject(new Error(`${peer.id}: ${error.code}`)))
  })
}

/** A Node Readable of `total` bytes, slices of one pool. */
function source (total, pool) {
  let sent = 0
  return new Readable({
    highWaterMark: PIECE,
    read () {
      if (sent >= total) return this.push(null)
      const n = Math.min(PIECE, total - sent)
      const offset = sent % (pool.length - PIECE)
      sent += n
      this.push(pool.subarray(offset, offset + n))
    }
  })
}

/** Reads what arrived (a stream, or a whole value) and resolves with its byte length. */
async function consume (data) {
  if (data && typeof data.getReader === 'function') {
    const reader = data.getReader()
    let n = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return n
      n += value.byteLength
    }
  }
  const value = await data
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
}

async function leaveAll (rooms) {
  await Promise.all(rooms.map(room => room.leave()))
  await sleep(200)
}

function rssSampler () {
  const samples = []
  const take = () => samples.push(process.memoryUsage().rss)
  take()
  const timer = setInterval(take, SAMPLE_MS)
  return {
    stop () {
      clearInterval(timer)
      take()
      return { startMiB: samples[0] / MIB, peakMiB: Math.max(...samples) / MIB, endMiB: samples[samples.length - 1] / MIB }
    }
  }
}

async function fanout (k, mib) {
  const total = Math.round(mib * MIB)
  const { rooms } = await mesh(k + 1, { maxMessageSize: Number.MAX_SAFE_INTEGER })
  const [sender, ...receivers] = rooms
  const pool = crypto.randomBytes(4 * MIB)
  const finished = new Map()
  const t0 = performance.now()
  const received = receivers.map(room => new Promise((resolve, reject) => {
    room.once('channel:message', event => {
      consume(event.data).then(n => {
        finished.set(room.localId, performance.now() - t0)
        resolve(n)
      }, reject)
    })
  }))
  await settle(100)
  const rss = rssSampler()
  const transfer = sender.send(source(total, pool), { label: 'bulk' })
  const perTarget = new Map()
  const progress = (async () => {
    for await (const p of transfer) perTarget.set(p.peer.id, p.current)
  })()
  const sizes = await withTimeout(Promise.all(received), 900e3, 'the fan-out stalled')
  await withTimeout(transfer, 60e3, 'the sender got no receipt')
  await progress
  const memory = rss.stop()
  const ms = Math.max(...finished.values())
  await leaveAll(rooms)
  if (sizes.some(n => n !== total)) throw new Error(`received ${sizes.join(', ')} of ${total} bytes`)
  return {
    targets: k,
    bytes: total,
    ms,
    mbpsPerTarget: total / 1e6 / (ms / 1000),
    progressComplete: [...perTarget.values()].every(n => n === total) && perTarget.size === k,
    ...memory
  }
}

function quantile (values, q) {
  const v = values.slice().sort((x, y) => x - y)
  const i = Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))
  return v[i]
}

async function latency (mib, count) {
  const { rooms } = await mesh(2, { maxMessageSize: Number.MAX_SAFE_INTEGER })
  const [a, b] = rooms
  const total = Math.round(mib * MIB)
  const label = 'chat'
  const message = crypto.randomBytes(1024)
  // Messages are told apart by size: the transfer is never 1 KiB.
  const arrivals = []
  let transferReceived = null
  const transferArrived = new Promise(resolve => {
    b.on('channel:message', event => {
      consume(event.data).then(n => {
        if (n === message.length) arrivals.push(performance.now())
        else resolve((transferReceived = n))
      }, err => console.error('receive failed:', err.message))
    })
  })
  let transfer = null
  if (total > 0) {
    transfer = a.send(source(total, crypto.randomBytes(4 * MIB)), { label })
    // Let the transfer get going before the first message.
    await sleep(500)
  }
  const sent = []
  for (let i = 0; i < count; i++) {
    sent.push(performance.now())
    a.send(message, { label })
    await sleep(20)
  }
  const t0 = performance.now()
  while (arrivals.length < count) {
    if (performance.now() - t0 > 120e3) throw new Error(`${arrivals.length} of ${count} messages arrived`)
    await sleep(10)
  }
  // Messages on one label keep no order against each other here, only each one's own bytes:
  // pair them by order of arrival, which for equal 1 KiB messages is the order sent.
  const lat = sent.map((t, i) => arrivals[i] - t)
  const inFlight = transfer ? transferReceived === null : false
  if (transfer) {
    await withTimeout(transferArrived, 900e3, 'the transfer stalled')
    await transfer
  }
  await leaveAll(rooms)
  return { transferBytes: total, transferReceived, messagesBeforeTransferEnded: inFlight, messages: count, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99) }
}

async function main () {
  const [mode, a, b] = process.argv.slice(2)
  let result
  if (mode === 'mesh') {
    const { rooms, ms } = await mesh(Number(a) || 4)
    await leaveAll(rooms)
    result = { peers: Number(a) || 4, ms }
  } else if (mode === 'fanout') {
    result = await fanout(Number(a) || 1, Number(b) || 64)
  } else if (mode === 'latency') {
    result = await latency(Number(a) || 0, Number(b) || 200)
  } else {
    throw new Error('usage: node bench/room.js mesh N | fanout K MiB | latency MiB [N]')
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}

main().then(() => process.exit(0), err => {
  process.stdout.write(JSON.stringify({ error: err.message }) + '\n')
  process.exit(1)
})
