'use strict'
// Rooms across Node and Chromium (playwright-core, Debian's chromium): two
// Node rooms and two pages loading the browser build of duplex-peer/room
// (dist/browser/room.mjs), in one room through the room relay of
// duplex-peer/server (WebSocketDriver, the browser's WebSocket in the pages).
// 64 MiB to everyone from a Node peer and from a page (SHA-256 on each
// receiver, progress to the total per target); an abort mid-way from each
// side; chat afterwards. Then two pages meeting through a
// BroadcastChannelDriver (same origin, no server).
const test = require('tape')
const { startRoomServer, openRoomPage } = require('./browser/room-server')
const { Room, WebSocketDriver } = require('../dist/room')
const { launchChromium } = require('./browser/harness')
const { LOOPBACK, allConnected, leaveAll, sha256, patternBytes } = require('./room-helpers')

const WATCHDOG = 300e3
const MIB = 1024 * 1024
const BULK = 64 * MIB

let server = null
let browser = null

const startServer = startRoomServer
const openPage = (logs, label) => openRoomPage(browser, server, logs, label)

/** Resolves with what a Node room received, as the page records it. */
function recorder (room) {
  const received = []
  room.on('channel:message', async ({ peer, label, data }) => {
    try {
      const value = await data
      if (typeof value === 'string') received.push({ from: peer.metadata.name, label, text: value })
      else received.push({ from: peer.metadata.name, label, length: value.byteLength, sha256: sha256(value) })
    } catch (err) {
      failed(peer.metadata.name, label, err.code)
    }
  })
  room.on('channel:error', ({ peer, label, error }) => failed(peer.metadata.name, label, error.code))
  // A failed message is told by channel:error, and (receiving as a stream) by its data rejecting: counted once.
  function failed (from, label, error) {
    if (!received.some(r => r.from === from && r.label === label)) received.push({ from, label, error })
  }
  return received
}

/** Sends from a Node room as the page's sendBytes() does. */
async function nodeSend (room, { size, seed, label, abortAt }) {
  const bytes = patternBytes(size, seed)
  const controller = new AbortController()
  const transfer = room.send(bytes, { label, signal: controller.signal })
  const progress = {}
  let code = null
  try {
    for await (const { peer, current, total } of transfer) {
      progress[peer.metadata.name] = { current, total }
      if (abortAt !== undefined && current >= abortAt && !controller.signal.aborted) controller.abort()
    }
    await transfer
  } catch (err) {
    code = err.code
  }
  return { sha256: sha256(bytes), progress, code }
}

/** Waits until every member has an entry on `label` from `from` (a file, or an error). */
async function arrived (members, label, from) {
  for (;;) {
    const lists = await Promise.all(members.map(m => m.received()))
    const found = lists.map(list => list.find(r => r.label === label && r.from === from))
    if (found.every(Boolean)) return found
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

test('room browser: start Chromium and duplex-peer/server', async t => {
  t.timeoutAfter(WATCHDOG)
  server = await startServer()
  browser = await launchChromium()
  t.pass(`Chromium ${browser.version} is up; room relay at ${server.relay}`)
})

test('room browser: 2 Node rooms + 2 Chromium pages through the relay: 64 MiB to all from each side, aborts from each side, chat after', async t => {
  t.timeoutAfter(WATCHDOG)
  if (!browser) return t.fail('Chromium did not start')
  const logs = []
  const id = `mixed-${Math.random().toString(36).slice(2)}`
  const drivers = [new WebSocketDriver(server.relay), new WebSocketDriver(server.relay)]
  const rooms = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: 30e3 }))
  const nodeReceived = rooms.map(recorder)
  const pages = []
  try {
    pages.push(await openPage(logs, 'page1'), await openPage(logs, 'page2'))
    await Promise.all(rooms.map((room, i) => room.join({ name: `node${i + 1}` })))
    const joined = await Promise.all(pages.map((page, i) => page.evaluate(o => window.joinRoom(o), { relay: server.relay, id, name: `page${i + 1}` })))
    t.deepEqual(joined.map(j => j.driver), ['WebSocketDriver', 'WebSocketDriver'], 'the pages joined through WebSocketDriver on the browser\'s WebSocket')
    const seen = await Promise.all(pages.map(page => page.evaluate(() => window.connected(3))))
    await Promise.all(rooms.map(room => allConnected(room, 3)))
    t.deepEqual(seen, [['node1', 'node2', 'page2'], ['node1', 'node2', 'page1']], 'each page is connected to the three others')
    t.deepEqual(rooms.map(room => [...room.peers.values()].map(p => p.metadata.name).sort()), [['node2', 'page1', 'page2'], ['node1', 'page1', 'page2']], 'each Node room is connected to the three others')

    const members = [
      ...rooms.map((room, i) => ({ name: `node${i + 1}`, received: async () => nodeReceived[i] })),
      ...pages.map((page, i) => ({ name: `page${i + 1}`, received: () => page.evaluate(() => window.received) }))
    ]
    const others = name => members.filter(m => m.name !== name)
    const full = { current: BULK, total: BULK }

    // 64 MiB from node1 to everyone.
    const fromNode = await nodeSend(rooms[0], { size: BULK, seed: 1, label: 'bulk-node' })
    t.equal(fromNode.code, null, 'node1: the transfer resolved (every target confirmed receipt)')
    t.deepEqual(fromNode.progress, { node2: full, page1: full, page2: full }, 'node1: progress reached 64 MiB for each target')
    const atNode = await arrived(others('node1'), 'bulk-node', 'node1')
    t.deepEqual(atNode.map(r => [r.length, r.sha256]), Array(3).fill([BULK, fromNode.sha256]), 'node2, page1 and page2 each got the 64 MiB intact (SHA-256)')

    // 64 MiB from page1 to everyone.
    const fromPage = await pages[0].evaluate(o => window.sendBytes(o), { size: BULK, seed: 2, label: 'bulk-page' })
    t.equal(fromPage.sha256, sha256(patternBytes(BULK, 2)), 'page1 sent the expected bytes')
    t.equal(fromPage.code, null, 'page1: the transfer resolved')
    t.deepEqual(fromPage.progress, { node1: full, node2: full, page2: full }, 'page1: progress reached 64 MiB for each target')
    const atPage = await arrived(others('page1'), 'bulk-page', 'page1')
    t.deepEqual(atPage.map(r => [r.length, r.sha256]), Array(3).fill([BULK, fromPage.sha256]), 'node1, node2 and page2 each got the 64 MiB intact (SHA-256)')

    // Aborts mid-way: from a Node sender, then from a page.
    const abortedNode = await nodeSend(rooms[1], { size: BULK, seed: 3, label: 'abort-node', abortAt: 8 * MIB })
    t.equal(abortedNode.code, 'ERR_TRANSFER_ABORTED', 'node2: the aborted transfer rejects with ERR_TRANSFER_ABORTED')
    t.ok(Object.values(abortedNode.progress).every(p => p.current < BULK), 'node2: no target had it all')
    const failedAtNode = await arrived(others('node2'), 'abort-node', 'node2')
    t.deepEqual(failedAtNode.map(r => r.error), Array(3).fill('ERR_TRANSFER_ABORTED'), 'node1, page1 and page2 each got a failure (ERR_TRANSFER_ABORTED), no message')
    const abortedPage = await pages[1].evaluate(o => window.sendBytes(o), { size: BULK, seed: 4, label: 'abort-page', abortAt: 8 * MIB })
    t.equal(abortedPage.code, 'ERR_TRANSFER_ABORTED', 'page2: the aborted transfer rejects with ERR_TRANSFER_ABORTED')
    t.ok(Object.values(abortedPage.progress).every(p => p.current < BULK), 'page2: no target had it all')
    const failedAtPage = await arrived(others('page2'), 'abort-page', 'page2')
    t.deepEqual(failedAtPage.map(r => r.error), Array(3).fill('ERR_TRANSFER_ABORTED'), 'node1, node2 and page1 each got a failure (ERR_TRANSFER_ABORTED), no message')

    // The room carries on.
    await rooms[1].send('still here from node2', { label: 'chat' })
    await pages[1].evaluate(() => window.chat('still here from page2'))
    const chatNode = await arrived(others('node2'), 'chat', 'node2')
    const chatPage = await arrived(others('page2'), 'chat', 'page2')
    t.deepEqual(chatNode.map(r => r.text), Array(3).fill('still here from node2'), 'a chat line from node2 after its abort reaches everyone')
    t.deepEqual(chatPage.map(r => r.text), Array(3).fill('still here from page2'), 'a chat line from page2 after its abort reaches everyone')
    const all = await Promise.all(members.map(m => m.received()))
    // node1: bulk-page, abort-node, abort-page, 2 chats; node2: bulk-node, bulk-page, abort-page, 1 chat; and so on.
    t.deepEqual(all.map(list => list.length), [5, 4, 5, 4], 'nothing else arrived (no message from an aborted transfer)')
  } catch (err) {
    for (const line of logs) t.comment(line)
    throw err
  } finally {
    await Promise.all(pages.map(page => page.evaluate(() => window.leaveRoom()).catch(() => {})))
    await leaveAll(rooms)
    await Promise.all(drivers.map(d => d.close()))
    await Promise.all(pages.map(page => page.close()))
  }
})

test('room browser: two pages of one origin meet through a BroadcastChannelDriver (no server) and exchange chat and 8 MiB', async t => {
  t.timeoutAfter(WATCHDOG)
  if (!browser) return t.fail('Chromium did not start')
  const logs = []
  const pages = []
  const broadcast = `test-${Math.random().toString(36).slice(2)}:`
  const before = server.stats()
  try {
    pages.push(await openPage(logs, 'page1'), await openPage(logs, 'page2'))
    const joined = await Promise.all(pages.map((page, i) => page.evaluate(o => window.joinRoom(o), { broadcast, id: 'tabs', name: `tab${i + 1}` })))
    t.deepEqual(joined.map(j => j.driver), ['BroadcastChannelDriver', 'BroadcastChannelDriver'], 'both joined through BroadcastChannelDriver')
    const seen = await Promise.all(pages.map(page => page.evaluate(() => window.connected(1))))
    t.deepEqual(seen, [['tab2'], ['tab1']], 'the two pages connected')
    t.deepEqual(server.stats(), before, 'the room relay saw no new client or topic')
    await pages[0].evaluate(() => window.chat('hello tab2'))
    const sent = await pages[1].evaluate(o => window.sendBytes(o), { size: 8 * MIB, seed: 5, label: 'file' })
    t.deepEqual(sent.progress, { tab1: { current: 8 * MIB, total: 8 * MIB } }, 'tab2: progress reached the total')
    await pages[0].waitForFunction(() => window.received.length === 1)
    await pages[1].waitForFunction(() => window.received.length === 1)
    t.deepEqual(await pages[1].evaluate(() => window.received), [{ from: 'tab1', label: 'chat', text: 'hello tab2' }], 'tab2 got tab1\'s chat')
    t.deepEqual(await pages[0].evaluate(() => window.received), [{ from: 'tab2', label: 'file', length: 8 * MIB, sha256: sent.sha256 }], 'tab1 got the 8 MiB intact (SHA-256)')
  } catch (err) {
    for (const line of logs) t.comment(line)
    throw err
  } finally {
    await Promise.all(pages.map(page => page.evaluate(() => window.leaveRoom()).catch(() => {})))
    await Promise.all(pages.map(page => page.close()))
  }
})

test('room browser: stop Chromium and the server', async t => {
  if (browser) await browser.close()
  if (server) await server.close()
  browser = server = null
  t.pass('stopped')
})
