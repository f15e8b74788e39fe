/* global peerjs, crypto */
'use strict'
// Runs in Chromium next to PeerJS 1.5.5's browser bundle: a small remote
// control for the interop tests (driven with page.evaluate).
window.h = (() => {
  let peer = null
  const conns = new Map()
  const incoming = []
  const waiters = []
  const calls = []
  const callWaiters = []

  function track (conn) {
    const entry = { conn, received: [], waiters: [] }
    conns.set(conn.connectionId, entry)
    conn.on('data', data => {
      entry.received.push(data)
      for (const w of entry.waiters.splice(0)) w()
    })
    conn.on('close', () => { entry.closed = true; for (const w of entry.waiters.splice(0)) w() })
    return entry
  }

  function info (conn) {
    return { connectionId: conn.connectionId, peer: conn.peer, label: conn.label, metadata: conn.metadata, serialization: conn.serialization, reliable: conn.reliable }
  }

  /** Deterministic bytes, the same as patternBytes() in test/helpers.js. */
  function patternBytes (size, seed) {
    const out = new Uint8Array(size)
    const view = new DataView(out.buffer)
    let x = (seed >>> 0) || 1
    for (let i = 0; i + 4 <= size; i += 4) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5
      view.setUint32(i, x >>> 0, true)
    }
    for (let i = size - (size % 4); i < size; i++) out[i] = i & 0xff
    return out
  }

  async function describe (value) {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      if (bytes.length <= 64) return { __bytes: Array.from(bytes) }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
      return { __size: bytes.length, __sha256: Array.from(digest, b => b.toString(16).padStart(2, '0')).join('') }
    }
    if (Array.isArray(value)) return Promise.all(value.map(describe))
    if (value && typeof value === 'object') {
      const out = {}
      for (const key of Object.keys(value)) out[key] = await describe(value[key])
      return out
    }
    return value
  }

  function revive (value) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if (value.__bytes) return new Uint8Array(value.__bytes).buffer
      if (value.__pattern) return patternBytes(value.__pattern, value.seed || 1)
      const out = {}
      for (const key of Object.keys(value)) out[key] = revive(value[key])
      return out
    }
    if (Array.isArray(value)) return value.map(revive)
    return value
  }

  return {
    /** Starts a peer: PeerJS's, or with `impl` 'duplex-peer' ours (bundled for the browser). */
    start (id, options, impl) {
      const Ctor = impl === 'duplex-peer' ? window.DuplexPeerJS.Peer : peerjs.Peer
      return new Promise((resolve, reject) => {
        peer = id ? new Ctor(id, options) : new Ctor(options)
        peer.on('open', resolve)
        peer.on('error', err => { window.lastError = { type: err.type, message: err.message }; reject(new Error(`${err.type}: ${err.message}`)) })
        peer.on('connection', conn => {
          track(conn)
          // Report each connection once: under load, PeerJS 1.5.5 in Chromium was
          // seen to emit 'open' a second time for a connection already open.
          let reported = false
          conn.on('open', () => {
            if (reported) return
            reported = true
            const waiter = waiters.shift()
            if (waiter) waiter(info(conn))
            else incoming.push(info(conn))
          })
        })
        peer.on('call', call => {
          const waiter = callWaiters.shift()
          if (waiter) waiter(call)
          else calls.push(call)
        })
      })
    },
    nextConnection () {
      if (incoming.length) return Promise.resolve(incoming.shift())
      return new Promise(resolve => waiters.push(resolve))
    },
    connect (id, options) {
      return new Promise((resolve, reject) => {
        const conn = peer.connect(id, options)
        track(conn)
        conn.on('open', () => resolve(info(conn)))
        conn.on('error', err => reject(new Error(err.type)))
      })
    },
    send (connectionId, values) {
      const { conn } = conns.get(connectionId)
      for (const value of values) conn.send(revive(value))
    },
    async received (connectionId, count) {
      const entry = conns.get(connectionId)
      while (entry.received.length < count && !entry.closed) await new Promise(resolve => entry.waiters.push(resolve))
      return describe(entry.received.splice(0, count))
    },
    close (connectionId) { conns.get(connectionId).conn.close() },
    async call (id, metadata) {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false })
      const call = peer.call(id, stream, { metadata })
      return new Promise(resolve => call.on('stream', remote => resolve(watch(remote))))
    },
    async answerNextCall (withStream) {
      const call = calls.length ? calls.shift() : await new Promise(resolve => callWaiters.push(resolve))
      const stream = withStream ? await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false }) : undefined
      const remote = new Promise(resolve => call.on('stream', resolve))
      call.answer(stream)
      const metadata = call.metadata
      if (!withStream) return { metadata }
      return { metadata, ...(await watch(await remote)) }
    },
    destroy () { if (peer) peer.destroy() }
  }

  /** Waits for the remote video to play real frames; reports its size. */
  function watch (stream) {
    const video = document.createElement('video')
    video.muted = true
    video.autoplay = true
    video.srcObject = stream
    document.body.appendChild(video)
    return new Promise(resolve => {
      const check = () => {
        if (video.videoWidth > 0 && video.readyState >= 2) resolve({ width: video.videoWidth, height: video.videoHeight, tracks: stream.getTracks().map(t => t.kind) })
        else requestAnimationFrame(check)
      }
      check()
    })
  }
})()
