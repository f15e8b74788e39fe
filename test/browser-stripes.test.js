'use strict'
// Striped streams between a real browser and Node: headless Chromium loads
// the standalone script (dist/duplex-peer.min.js, the browser's own WebRTC)
// and connects, through the WebSocket relay of test/browser/server.js, to a
// duplex-peer in Node (@roamhq/wrtc); both sides `stripes: 4`. Once with the
// page initiating and once with Node initiating: 4 stripes open and framed on
// both sides, 16 MiB each way at once arrive intact (SHA-256 on each
// receiver). Then send() messages in objectMode keep their boundaries and
// order across the stripes.
const crypto = require('crypto')
const test = require('tape')
const WebSocket = require('ws')
const { startServer } = require('./browser/server')
const { launchChromium, openPage, byteReader } = require('./browser/harness')
const { Peer, LOOPBACK, patternBytes, sha256 } = require('./helpers')
const { stripesReport, striped } = require('./stripes-helpers')

const WATCHDOG = 240e3
const STRIPES = 4
const BULK = 16 * 1024 * 1024
const PAGE_SEED = 0x0b5e
const NODE_SEED = 0x70de
const ALL_OPEN = [0, 1, 2, 3]
let server = null
let browser = null

/** A duplex-peer in Node signaling through `relay`. `connected` resolves on connect; `failed` rejects on an error. */
async function nodePeer ({ relay, initiator, objectMode }) {
  const ws = new WebSocket(relay)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const peer = new Peer({ ...LOOPBACK, initiator, stripes: STRIPES, objectMode })
  const errors = []
  peer.on('signal', data => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(data)) })
  ws.on('message', data => { if (!peer.destroyed) peer.signal(JSON.parse(data.toString())) })
  const failed = new Promise((resolve, reject) => {
    peer.on('error', err => { errors.push(err.code); reject(err) })
    ws.on('error', reject)
  })
  failed.catch(() => {})
  const ended = new Promise(resolve => peer.once('end', resolve))
  const closed = new Promise(resolve => peer.once('close', resolve))
  const connected = new Promise(resolve => peer.once('connect', resolve))
  return {
    peer,
    errors,
    connected,
    ended,
    closed,
    /** `promise`, or the peer's error if one comes first. */
    watched: promise => Promise.race([promise, failed]),
    stop () {
      peer.destroy()
      ws.close()
    }
  }
}

/**
 * Connects the striping page and a Node peer (the page initiating if
 * `pageInitiates`), then runs `body(page, node)`. On failure the page's
 * console is printed as comments; the page and the Node peer are always
 * stopped.
 */
async function session (t, { pageInitiates, objectMode = false }, body) {
  const logs = []
  const page = await openPage(browser, server, '/duplex-peer-stripes.html', logs)
  const relay = server.relay(crypto.randomBytes(6).toString('hex'))
  let node = null
  try {
    const pageConnected = page.evaluate(options => window.stripes.connect(options), { relay, initiator: pageInitiates, stripes: STRIPES, objectMode })
    pageConnected.catch(() => {})
    node = await nodePeer({ relay, initiator: !pageInitiates, objectMode })
    await Promise.all([pageConnected, node.watched(node.connected)])
    await body(page, node)
  } catch (err) {
    for (const line of logs) t.comment(line)
    throw err
  } finally {
    if (node) node.stop()
    await page.evaluate(() => window.stripes.stop()).catch(() => {})
    await page.close()
  }
}

/** Waits for 4 stripes open and framed on both sides; checks both reports. */
async function bothStriped (t, page, node) {
  const [pageReport, nodeReport] = await Promise.all([
    page.evaluate(open => window.stripes.striped(open), STRIPES),
    node.watched(striped(node.peer, STRIPES))
  ])
  for (const [side, report] of [['browser', pageReport], ['Node', nodeReport]]) {
    t.equal(report.agreed, STRIPES, `${side}: ${STRIPES} stripes agreed`)
    t.equal(report.framed, true, `${side}: sends frames`)
    t.deepEqual([...report.open].sort(), ALL_OPEN, `${side}: stripes ${ALL_OPEN.join(', ')} open`)
  }
}

test('browser stripes: start Chromium and the relay', async t => {
  t.timeoutAfter(WATCHDOG)
  server = await startServer()
  browser = await launchChromium()
  t.pass(`Chromium ${browser.version} is up; relay at ${server.origin}`)
})

for (const pageInitiates of [true, false]) {
  const who = pageInitiates ? 'the page initiates' : 'Node initiates'
  test(`browser stripes: Chromium ↔ Node with stripes: 4 (${who}): 4 stripes on both sides, 16 MiB each way at once intact, clean end`, async t => {
    t.timeoutAfter(WATCHDOG)
    if (!browser) return t.fail('Chromium did not start')
    const fromPage = patternBytes(BULK, PAGE_SEED)
    const fromNode = patternBytes(BULK, NODE_SEED)
    await session(t, { pageInitiates }, async (page, node) => {
      await bothStriped(t, page, node)
      const reader = byteReader(node.peer)
      const [pageResult, nodeReceived] = await Promise.all([
        page.evaluate(options => window.stripes.exchange(options), { size: BULK, seed: PAGE_SEED }),
        node.watched(Promise.all([
          new Promise((resolve, reject) => node.peer.write(fromNode, err => err ? reject(err) : resolve())),
          reader.read(BULK)
        ]).then(([, bytes]) => bytes))
      ])
      t.equal(pageResult.sentSha256, sha256(fromPage), 'the browser sent the expected bytes')
      t.equal(nodeReceived.length, BULK, 'Node received 16 MiB')
      t.equal(sha256(nodeReceived), sha256(fromPage), 'Node received the browser\'s bytes intact (SHA-256)')
      t.equal(pageResult.receivedBytes, BULK, 'the browser received 16 MiB')
      t.equal(pageResult.receivedSha256, sha256(fromNode), 'the browser received Node\'s bytes intact (SHA-256, crypto.subtle)')
      const after = await page.evaluate(() => window.stripes.report())
      t.deepEqual([...after.open].sort(), ALL_OPEN, `browser: still ${STRIPES} stripes open after the transfer`)
      t.equal(after.framed, true, 'browser: still framed')
      const nodeAfter = await stripesReport(node.peer)
      t.deepEqual([...nodeAfter.open].sort(), ALL_OPEN, `Node: still ${STRIPES} stripes open after the transfer`)
      // The page ends the stream: Node sees the end, and both close.
      const order = []
      for (const event of ['finish', 'end', 'close']) node.peer.on(event, () => order.push(event))
      const pageEnd = await page.evaluate(() => window.stripes.end())
      await node.watched(Promise.all([node.ended, node.closed]))
      t.ok(pageEnd.closed, 'the browser peer closed after end()')
      // Which of 'close' and 'end' comes first is as with one connection (not checked here).
      t.deepEqual([...order].sort(), ['close', 'end', 'finish'], 'Node saw the stream end, finished its own side and closed, each once')
      t.deepEqual(node.errors, [], 'no error in Node')
    })
  })
}

/** 200 messages: bytes of sizes from 1 byte to 60000, and some strings. */
function messageList () {
  const sizes = [1, 2, 100, 1199, 4096, 16384, 16385, 30000, 60000, 7]
  const messages = []
  for (let i = 0; i < 200; i++) {
    if (i % 9 === 4) messages.push({ text: `message ${i}: ${'é✓'.repeat(i)}` })
    else messages.push({ size: sizes[i % sizes.length] + (i % 13), seed: i + 1 })
  }
  return messages
}

test('browser stripes: objectMode, 200 send() messages from the page arrive whole and in order', async t => {
  t.timeoutAfter(WATCHDOG)
  if (!browser) return t.fail('Chromium did not start')
  const messages = messageList()
  await session(t, { pageInitiates: true, objectMode: true }, async (page, node) => {
    await bothStriped(t, page, node)
    const got = []
    const all = new Promise(resolve => node.peer.on('data', data => {
      got.push(data)
      if (got.length === messages.length) resolve()
    }))
    await page.evaluate(list => window.stripes.sendMessages(list), messages)
    await node.watched(all)
    const expected = messages.map(m => m.text !== undefined ? { text: m.text } : { length: m.size, sha256: sha256(patternBytes(m.size, m.seed)) })
    const seen = got.map(d => typeof d === 'string' ? { text: d } : { length: d.length, sha256: sha256(d) })
    t.equal(got.length, messages.length, `${messages.length} messages arrived`)
    t.deepEqual(seen, expected, 'each whole (same length and SHA-256, strings as strings), in the order sent')
    const after = await page.evaluate(() => window.stripes.report())
    t.deepEqual([...after.open].sort(), ALL_OPEN, `browser: still ${STRIPES} stripes open`)
    t.deepEqual(node.errors, [], 'no error in Node')
  })
})

test('browser stripes: stop Chromium and the relay', async t => {
  if (browser) await browser.close()
  if (server) await server.close()
  browser = server = null
  t.pass('stopped')
})
