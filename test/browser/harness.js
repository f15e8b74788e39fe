'use strict'
// Drives the browser tests: headless Chromium (Debian's, through
// playwright-core) on one side, a duplex-peer in Node on the other, signaling
// through the WebSocket relay of server.js.
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('crypto')
const WebSocket = require('ws')
const { Peer, LOOPBACK } = require('../helpers')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic'
]

/** Launches headless Chromium with a fresh profile. Resolves with its context and `close()`. */
async function launchChromium () {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run \`bash .ci/run\` (it installs Debian's chromium) or set CHROMIUM_PATH`)
  }
  const { chromium } = require('playwright-core')
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-chromium-'))
  let context
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS
    })
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true })
    throw err
  }
  return {
    context,
    version: context.browser()?.version() ?? null,
    async close () {
      try {
        await context.close()
      } finally {
        fs.rmSync(userDataDir, { recursive: true, force: true })
      }
    }
  }
}

/** Reads exact byte counts from a peer's byte stream, whatever the chunking. */
function byteReader (peer) {
  const chunks = []
  let length = 0
  let waiting = null
  const check = () => {
    if (!waiting || length < waiting.size) return
    const { size, resolve } = waiting
    waiting = null
    const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length)
    chunks.length = 0
    length = all.length - size
    if (length > 0) chunks.push(all.subarray(size))
    resolve(all.subarray(0, size))
  }
  peer.on('data', data => {
    chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data))
    length += data.length
    check()
  })
  return { read: size => new Promise(resolve => { waiting = { size, resolve }; check() }) }
}

/**
 * The Node side of a session (see page.js): a non-initiating duplex-peer.
 * It answers the browser's greeting, checks `bulk` bytes if asked, and hands
 * a received video track to `watchTrack` (which resolves once it has seen
 * frames). Resolves once the browser has ended the stream and the peer closed.
 */
function nodeSession ({ relay, bulk, watchTrack }) {
  const ws = new WebSocket(relay)
  const peer = new Peer({ ...LOOPBACK })
  const result = { errors: [] }
  peer.on('signal', data => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(data)) })
  ws.on('message', data => { if (!peer.destroyed) peer.signal(JSON.parse(data.toString())) })
  const failed = new Promise((resolve, reject) => {
    peer.on('error', err => { result.errors.push(err.code); reject(err) })
    ws.on('error', reject)
  })
  const tracks = []
  const frames = new Promise(resolve => {
    peer.on('track', (track, stream) => {
      tracks.push({ kind: track.kind, streamId: stream.id })
      if (watchTrack && tracks.length === 1) resolve(watchTrack(track))
    })
  })
  const closed = new Promise(resolve => peer.once('close', resolve))
  const ended = new Promise(resolve => peer.once('end', resolve))
  const reader = byteReader(peer)

  const session = (async () => {
    await new Promise(resolve => peer.once('connect', resolve))
    result.localAddress = peer.localAddress
    result.remoteAddress = peer.remoteAddress
    result.greeting = (await reader.read('hello from the browser'.length)).toString()
    peer.write('hello from node')
    if (bulk > 0) {
      const bytes = await reader.read(bulk)
      result.receivedBytes = bytes.length
      result.receivedSha256 = crypto.createHash('sha256').update(bytes).digest('hex')
      peer.write(`received ${bytes.length} bytes, sha256 ${result.receivedSha256}`)
    }
    if (watchTrack) {
      result.frames = await frames
      result.tracks = tracks
      peer.write('frames received')
    }
    await ended
    result.ended = true
    await closed
    result.closed = true
    return result
  })()
  const done = Promise.race([session, failed])
  return {
    peer,
    done,
    stop () {
      peer.destroy()
      ws.close()
    }
  }
}

/**
 * Opens `pathname` of the test server (server.js) in a new page of `browser`
 * (from launchChromium()); the page's console and errors go into `logs`.
 */
async function openPage (browser, server, pathname, logs) {
  const page = await browser.context.newPage()
  page.on('console', message => logs.push(`[console.${message.type()}] ${message.text()}`))
  page.on('pageerror', err => logs.push(`[pageerror] ${err.message}`))
  try {
    await page.goto(`${server.origin}${pathname}`)
  } catch (err) {
    await page.close()
    throw err
  }
  return page
}

/**
 * One session between a page loading `lib`'s standalone script
 * (`duplex-peer` or `simple-peer`) and a duplex-peer in Node. Resolves with
 * both sides' results; on failure, the page's console is printed as comments.
 */
async function runSession (t, { browser, server, lib, bulk = 0, seed = 1, media = false, watchTrack = null }) {
  const logs = []
  const page = await openPage(browser, server, `/${lib}.html`, logs)
  const room = crypto.randomBytes(6).toString('hex')
  let node = null
  try {
    node = nodeSession({ relay: server.relay(room), bulk, watchTrack })
    const browserSide = page.evaluate(options => window.runSession(options), { relay: server.relay(room), bulk, seed, media })
    browserSide.catch(() => {})
    node.done.catch(() => {})
    const [browserResult, nodeResult] = await Promise.all([browserSide, node.done])
    return { browser: browserResult, node: nodeResult }
  } catch (err) {
    for (const line of logs) t.comment(line)
    throw err
  } finally {
    if (node) node.stop()
    await page.close()
  }
}

module.exports = { launchChromium, openPage, runSession, byteReader, CHROMIUM }
