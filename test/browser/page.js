/* global SimplePeer */
// The browser side of test/browser.test.js and test/media/browser.test.js.
// It connects to a peer in Node through the WebSocket relay, with whichever
// bundle the page loaded, through the global `SimplePeer` only: a page written
// for simple-peer works unchanged with duplex-peer's script.
'use strict'

/** Same bytes as patternBytes() in test/helpers.js. */
function patternBytes (size, seed) {
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let x = seed >>> 0 || 1
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    view.setUint32(i, x >>> 0, true)
  }
  for (let i = size - (size % 4); i < size; i++) out[i] = i & 0xff
  return out
}

async function sha256 (bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  return Array.from(digest, b => b.toString(16).padStart(2, '0')).join('')
}

/** A video track drawn on a canvas: a light grey frame with a moving dark square. */
function canvasStream () {
  const canvas = document.getElementById('camera')
  const ctx = canvas.getContext('2d')
  let n = 0
  const draw = () => {
    ctx.fillStyle = 'rgb(200, 200, 200)'
    ctx.fillRect(0, 0, canvas.width, canvas.height)
    ctx.fillStyle = 'rgb(40, 40, 40)'
    ctx.fillRect((n++ * 4) % (canvas.width - 32), 100, 32, 32)
  }
  draw()
  const timer = setInterval(draw, 40)
  const stream = canvas.captureStream(25)
  return { stream, width: canvas.width, height: canvas.height, stop () { clearInterval(timer); stream.getTracks().forEach(t => t.stop()) } }
}

/**
 * Reads text from the byte stream: `read(expected)` takes exactly as many
 * characters as `expected` has (writes may arrive split or coalesced) and
 * rejects if they differ.
 */
function textReader (peer) {
  let text = ''
  let waiting = null
  const check = () => {
    if (!waiting || text.length < waiting.expected.length) return
    const { expected, resolve, reject } = waiting
    waiting = null
    const got = text.slice(0, expected.length)
    text = text.slice(expected.length)
    if (got === expected) resolve(got)
    else reject(new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`))
  }
  peer.on('data', data => { text += new TextDecoder().decode(data); check() })
  return {
    read (expected) {
      return new Promise((resolve, reject) => { waiting = { expected, resolve, reject }; check() })
    }
  }
}

/** Writes `bytes` in 64 KiB pieces, waiting for `drain` when the stream asks. */
async function writeAll (peer, bytes) {
  const piece = 64 * 1024
  for (let offset = 0; offset < bytes.length; offset += piece) {
    if (!peer.write(bytes.subarray(offset, offset + piece))) {
      await new Promise(resolve => peer.once('drain', resolve))
    }
  }
}

/**
 * Runs one session with the peer in Node. Options: `relay` (WebSocket URL),
 * `bulk` (bytes to send, 0 for none), `seed`, `media` (send a canvas track).
 * Resolves with what the browser saw; rejects on a peer error.
 */
window.runSession = async function runSession ({ relay, bulk, seed, media }) {
  const result = {
    globals: {
      SimplePeer: typeof window.SimplePeer,
      DuplexPeer: typeof window.DuplexPeer,
      same: window.DuplexPeer === window.SimplePeer
    },
    webrtcSupport: SimplePeer.WEBRTC_SUPPORT
  }
  const ws = new WebSocket(relay)
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('relay: could not connect')) })

  const camera = media ? canvasStream() : null
  const peer = new SimplePeer({
    initiator: true,
    config: { iceServers: [] },
    ...(camera ? { stream: camera.stream } : {})
  })
  const failed = new Promise((resolve, reject) => peer.on('error', err => reject(new Error(`peer error ${err.code}: ${err.message}`))))
  failed.catch(() => {})
  const closed = new Promise(resolve => peer.on('close', resolve))
  peer.on('signal', data => ws.send(JSON.stringify(data)))
  ws.onmessage = event => peer.signal(JSON.parse(event.data))

  const session = (async () => {
    await new Promise(resolve => peer.once('connect', resolve))
    const reader = textReader(peer)
    // Greetings, both ways: the Node side answers once it has ours.
    peer.write('hello from the browser')
    result.greeting = await reader.read('hello from node')

    if (bulk > 0) {
      const bytes = patternBytes(bulk, seed)
      result.sentSha256 = await sha256(bytes)
      await writeAll(peer, bytes)
      result.verdict = await reader.read(`received ${bulk} bytes, sha256 ${result.sentSha256}`)
    }
    if (camera) {
      // Node reports once it has decoded frames of our track.
      result.media = await reader.read('frames received')
    }
    // End cleanly: the Node side sees the stream end, and both close.
    peer.end()
    await closed
    result.closed = true
  })()
  try {
    await Promise.race([session, failed])
  } finally {
    if (camera) camera.stop()
    peer.destroy()
    ws.close()
  }
  return result
}

/** The ES module build, imported natively (no bundler): a peer makes an offer. */
window.tryModule = async function tryModule (url) {
  const { default: Peer } = await import(url)
  const peer = new Peer({ initiator: true, config: { iceServers: [] } })
  const signal = await new Promise((resolve, reject) => {
    peer.once('signal', resolve)
    peer.once('error', reject)
  })
  peer.destroy()
  return { type: typeof Peer, webrtcSupport: Peer.WEBRTC_SUPPORT, signalType: signal.type, sameAsGlobal: Peer === window.DuplexPeer }
}
