/* global DuplexPeer, patternBytes, sha256, writeAll */
// The browser side of test/browser-stripes.test.js: a duplex-peer with
// `stripes` on, the browser's own WebRTC, signaling through the WebSocket
// relay. The test drives it step by step through `window.stripes`. Uses
// patternBytes(), sha256() and writeAll() of page.js, loaded before it.
'use strict'

let peer = null
let ws = null
let failure = null
let closed = null
/** Everything received, in order (bytes or, in objectMode, messages). */
const received = []
let receivedBytes = 0
let onReceived = null

/** Rejects with the peer's error, if it has one; else resolves with `promise`. */
function watched (promise) {
  return Promise.race([promise, failure])
}

/** The `stripes` report of the peer's getStats(), or null. */
async function stripesReport () {
  const reports = await peer.getStats()
  const report = reports.find(r => r.type === 'stripes')
  return report ? JSON.parse(JSON.stringify(report)) : null
}

window.stripes = {
  /**
   * Connects a duplex-peer with `stripes` to the peer in Node through `relay`.
   * Resolves once it is connected.
   */
  async connect ({ relay, initiator, stripes, objectMode }) {
    ws = new WebSocket(relay)
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('relay: could not connect')) })
    peer = new DuplexPeer({ initiator, stripes, objectMode, config: { iceServers: [] } })
    failure = new Promise((resolve, reject) => peer.on('error', err => reject(new Error(`peer error ${err.code}: ${err.message}`))))
    failure.catch(() => {})
    closed = new Promise(resolve => peer.on('close', resolve))
    peer.on('signal', data => ws.send(JSON.stringify(data)))
    ws.onmessage = event => { if (!peer.destroyed) peer.signal(JSON.parse(event.data)) }
    peer.on('data', data => {
      received.push(data)
      receivedBytes += data.length
      if (onReceived) onReceived()
    })
    await watched(new Promise(resolve => peer.once('connect', resolve)))
  },

  /** Resolves with the `stripes` report once it shows framing on and `open` stripes open. */
  async striped (open) {
    for (;;) {
      const report = await watched(stripesReport())
      if (report && report.framed && report.open.length >= open) return report
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  },

  /** The `stripes` report now. */
  report: stripesReport,

  /**
   * Writes `size` patterned bytes (`seed`) while receiving `size` bytes.
   * Resolves with the SHA-256 of each.
   */
  async exchange ({ size, seed }) {
    const bytes = patternBytes(size, seed)
    const sentSha256 = await sha256(bytes)
    const all = new Promise(resolve => {
      onReceived = () => { if (receivedBytes >= size) resolve() }
      onReceived()
    })
    await watched(Promise.all([writeAll(peer, bytes), all]))
    onReceived = null
    const got = new Uint8Array(receivedBytes)
    let offset = 0
    for (const chunk of received.splice(0)) {
      got.set(chunk, offset)
      offset += chunk.length
    }
    receivedBytes = 0
    return { sentSha256, receivedBytes: got.length, receivedSha256: await sha256(got.subarray(0, size)) }
  },

  /**
   * Sends one message per entry of `messages` with send(): `{ size, seed }`
   * for patterned bytes, `{ text }` for a string. Waits for the channel's
   * buffer to go low every 1 MiB.
   */
  async sendMessages (messages) {
    let since = 0
    for (const message of messages) {
      if (message.text !== undefined) {
        peer.send(message.text)
        since += message.text.length
      } else {
        peer.send(patternBytes(message.size, message.seed))
        since += message.size
      }
      if (since >= 1024 * 1024) {
        since = 0
        await watched(new Promise(resolve => setTimeout(resolve, 0)))
        while (peer.bufferSize > 1024 * 1024) await watched(new Promise(resolve => setTimeout(resolve, 20)))
      }
    }
  },

  /** Ends the stream; resolves once the peer closed. */
  async end () {
    peer.end()
    await watched(closed)
    return { closed: true }
  },

  /** Destroys the peer and closes the relay (idempotent). */
  stop () {
    if (peer) peer.destroy()
    if (ws) ws.close()
  }
}
