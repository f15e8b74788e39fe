'use strict'
// Shared helpers for the tests: real peers in one process over loopback.
const crypto = require('crypto')
const { Readable } = require('stream')
const Peer = require('..')

/** Options every test peer gets: no STUN servers (no internet here). */
const LOOPBACK = { config: { iceServers: [] } }

/** Wires two peers' signal events to each other. */
function wire (a, b) {
  a.on('signal', data => { if (!b.destroyed) b.signal(data) })
  b.on('signal', data => { if (!a.destroyed) a.signal(data) })
}

/** Makes a connected-to-be pair: `a` initiates. */
function pair (optsA = {}, optsB = {}, Ctor = Peer, CtorB = Ctor) {
  const a = new Ctor({ ...LOOPBACK, initiator: true, ...optsA })
  const b = new CtorB({ ...LOOPBACK, ...optsB })
  wire(a, b)
  return [a, b]
}

/** Resolves once both peers emitted `connect`. */
function connected (...peers) {
  return Promise.all(peers.map(p => p.connected ? Promise.resolve() : new Promise((resolve, reject) => {
    p.once('connect', resolve)
    p.once('error', reject)
  })))
}

/** Resolves once every peer emitted `close`. */
function closed (...peers) {
  return Promise.all(peers.map(p => new Promise(resolve => {
    if (p.destroyed && p._pc === null) return setImmediate(resolve)
    p.once('close', resolve)
  })))
}

/** Resolves with the next emission of `event` on `emitter` (first argument). */
function once (emitter, event) {
  return new Promise(resolve => emitter.once(event, resolve))
}

function sha256 (buf) {
  return crypto.createHash('sha256').update(buf).digest('hex')
}

/** Deterministic pseudo-random bytes (fast, for large transfers). */
function patternBytes (size, seed = 1) {
  const out = Buffer.allocUnsafe(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out.writeUInt32LE(x >>> 0, i)
  }
  for (let i = size - (size % 4); i < size; i++) out[i] = i & 0xff
  return out
}

/**
 * A source that offers up to 1 GiB of 64 KiB blocks filled with `fill`, as
 * fast as it is read: for a paused reader's backpressure. `offered()` says
 * how many bytes it has handed out so far.
 */
function gibibyteSource (fill) {
  const block = Buffer.alloc(64 * 1024, fill)
  let offered = 0
  const source = new Readable({
    read () {
      if (offered >= 1024 * 1024 * 1024) return this.push(null)
      offered += block.length
      this.push(block)
    }
  })
  return { source, offered: () => offered }
}

module.exports = { Peer, LOOPBACK, wire, pair, connected, closed, once, sha256, patternBytes, gibibyteSource }
