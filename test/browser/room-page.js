// The browser side of test/room-browser.test.js: a member of a room, driven
// by the test through `window.*` functions. It loads the browser build of
// duplex-peer/room (dist/browser/room.mjs) as an ES module.
import { Room, WebSocketDriver, BroadcastChannelDriver } from '/browser/room.mjs'

/** Same bytes as patternBytes() in test/helpers.js (xorshift32, little-endian). */
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

/** What this page received: chat lines, files (length and SHA-256), failures. */
window.received = []
let room = null
let driver = null

/** A failed message is told by channel:error, and (receiving as a stream) by its data rejecting: recorded once. */
function failed (from, label, error) {
  if (!window.received.some(r => r.from === from && r.label === label)) window.received.push({ from, label, error })
}

const nameOf = peer => (peer.metadata && peer.metadata.name) || peer.id

/** Joins room `id` as `name`, through the relay at `relay` or, with `broadcast`, a BroadcastChannelDriver. */
window.joinRoom = async ({ relay, broadcast, id, name }) => {
  driver = broadcast ? new BroadcastChannelDriver({ prefix: broadcast }) : new WebSocketDriver(relay)
  room = new Room({ id, driver, config: { iceServers: [] }, connectionTimeout: 30e3 })
  room.on('channel:message', async ({ peer, label, data }) => {
    const from = nameOf(peer)
    try {
      const value = await data
      if (typeof value === 'string') window.received.push({ from, label, text: value })
      else window.received.push({ from, label, length: value.byteLength, sha256: await sha256(value) })
    } catch (err) {
      failed(from, label, err.code || err.message)
    }
  })
  room.on('channel:error', ({ peer, label, error }) => failed(nameOf(peer), label, error.code))
  const me = await room.join({ name })
  return { id: me.id, driver: driver.constructor.name }
}

/** Resolves once `n` peers are connected; with their names. */
window.connected = n => new Promise((resolve, reject) => {
  const check = () => {
    const peers = [...room.peers.values()]
    if (peers.length === n && peers.every(p => p.state === 'connected')) {
      room.off('connection:connected', check)
      resolve(peers.map(nameOf).sort())
    }
  }
  room.on('connection:connected', check)
  room.on('connection:failed', ({ peer, error }) => reject(new Error(`connection to ${nameOf(peer)} failed: ${error.code}`)))
  check()
})

window.chat = text => room.send(text, { label: 'chat' }).then(() => true)

/**
 * Sends `size` pattern bytes to everyone on `label`; with `abortAt`, aborts
 * once a target has been handed that many bytes. Resolves with the SHA-256
 * sent, the last progress per target, and the error code (if it failed).
 */
window.sendBytes = async ({ size, seed, label, abortAt }) => {
  const bytes = patternBytes(size, seed)
  const controller = new AbortController()
  const transfer = room.send(bytes, { label, signal: controller.signal })
  const progress = {}
  let code = null
  try {
    for await (const { peer, current, total } of transfer) {
      progress[nameOf(peer)] = { current, total }
      if (abortAt !== undefined && current >= abortAt && !controller.signal.aborted) controller.abort()
    }
    await transfer
  } catch (err) {
    code = err.code || err.message
  }
  return { sha256: await sha256(bytes), progress, code }
}

/** Media events of the room, as `{ name, from, label, kinds }`. */
window.mediaEvents = []
const remoteStreams = new Map()

/** Starts recording media events (call after joinRoom). */
window.watchMedia = () => {
  for (const name of ['stream:add', 'stream:remove']) {
    room.on(name, ({ peer, label, stream }) => {
      window.mediaEvents.push({ name, from: nameOf(peer), label, kinds: stream.getTracks().map(t => t.kind) })
      if (name === 'stream:add') remoteStreams.set(`${nameOf(peer)}/${label}`, stream)
    })
  }
  return true
}

/** Shares a canvas captureStream() (320x240, a light frame with a moving dark square) as `label`. */
window.shareCanvas = label => {
  const canvas = document.createElement('canvas')
  canvas.width = 320
  canvas.height = 240
  const ctx = canvas.getContext('2d')
  let n = 0
  const draw = () => {
    ctx.fillStyle = 'rgb(200, 200, 200)'
    ctx.fillRect(0, 0, 320, 240)
    ctx.fillStyle = 'rgb(40, 40, 40)'
    ctx.fillRect((n++ * 4) % 288, 100, 32, 32)
  }
  draw()
  setInterval(draw, 40)
  room.share({ label, stream: canvas.captureStream(25) })
  return true
}

/** Plays the stream `from` shared as `label` in a video element; resolves with its frame size once frames come. */
window.playRemote = async (from, label) => {
  const stream = remoteStreams.get(`${from}/${label}`)
  if (!stream) throw new Error(`no stream ${label} from ${from}`)
  const video = document.createElement('video')
  video.muted = true
  video.autoplay = true
  video.srcObject = stream
  document.body.appendChild(video)
  await video.play()
  while (video.videoWidth === 0) await new Promise(resolve => setTimeout(resolve, 50))
  return { width: video.videoWidth, height: video.videoHeight }
}

window.leaveRoom = async () => {
  await room.leave()
  await driver.close()
  return true
}

window.pageReady = true
