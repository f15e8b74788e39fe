'use strict'
// Interop with the real thing: our Node peer (duplex-peer/peerjs) and PeerJS
// 1.5.5's browser bundle in Chromium, through peer@1.0.2's server and through ours.
const test = require('tape')
const { startServer, startReferenceServer, openPeer, once, collect, RTC_CONFIG } = require('./peerjs/helpers')
const { available, startBrowser, describe } = require('./peerjs/browser')
const { patternBytes } = require('./helpers')

const SERVERS = { 'duplex-peer/server': startServer, 'peer@1.0.2': startReferenceServer }

/**
 * Values per serialization, as page.js describes them (bytes as { __bytes }).
 * No top-level null: PeerJS 1.5.5 throws receiving one (it reads `null.__peerData`).
 */
const VALUES = {
  binary: ['text ✓', 7, -1.5, { a: [1, 'b', null], n: 2.5 }, { __bytes: [1, 2, 3] }],
  json: ['text ✓', 12, { a: [1, 'b', null] }],
  raw: ['text ✓', { __bytes: [4, 5, 6] }]
}
VALUES['binary-utf8'] = VALUES.binary

/** The Node-side value for a described one. */
function revive (value) {
  if (value && typeof value === 'object' && value.__bytes) return Buffer.from(value.__bytes)
  if (Array.isArray(value)) return value.map(revive)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]))
  return value
}

const MiB4 = 4 * 1024 * 1024

for (const [serverName, start] of Object.entries(SERVERS)) {
  test(`PeerJS in Chromium ↔ duplex-peer/peerjs in Node, through ${serverName}`, { skip: !available }, async t => {
    const server = await start()
    const browser = await startBrowser()
    const { page } = browser
    const browserOptions = { host: '127.0.0.1', port: server.port, secure: false, config: RTC_CONFIG }
    const browserId = await page.evaluate(options => window.h.start(undefined, options), browserOptions)
    t.ok(browserId, `the browser peer has id ${browserId} from the server`)
    const node = await openPeer(server.port, 'node-side')
    node.on('error', err => t.comment(`node peer error: ${err.type}: ${err.message}`))

    for (const serialization of Object.keys(VALUES)) {
      const values = VALUES[serialization]
      // The browser connects to us.
      const incomingP = once(node, 'connection')
      const fromBrowser = await page.evaluate(([id, options]) => window.h.connect(id, options),
        ['node-side', { serialization, label: `b-${serialization}`, metadata: { from: 'browser', s: serialization }, reliable: true }])
      const incoming = await incomingP
      t.equal(incoming.label, `b-${serialization}`, `${serialization}, browser connects: label seen in Node`)
      t.deepEqual(incoming.metadata, { from: 'browser', s: serialization }, `${serialization}, browser connects: metadata seen in Node`)
      if (!incoming.open) await once(incoming, 'open')
      const gotInNode = collect(incoming, values.length)
      await page.evaluate(([id, v]) => window.h.send(id, v), [fromBrowser.connectionId, values])
      t.deepEqual((await gotInNode).map(describe), values, `${serialization}: browser → Node`)
      for (const value of values) incoming.send(revive(value))
      t.deepEqual(await page.evaluate(([id, n]) => window.h.received(id, n), [fromBrowser.connectionId, values.length]), values, `${serialization}: Node → browser`)
      incoming.close()

      // We connect to the browser.
      const conn = node.connect(browserId, { serialization, label: `n-${serialization}`, metadata: { from: 'node' }, reliable: true })
      const seen = await page.evaluate(() => window.h.nextConnection())
      t.equal(seen.label, `n-${serialization}`, `${serialization}, Node connects: label seen in the browser`)
      t.deepEqual(seen.metadata, { from: 'node' }, `${serialization}, Node connects: metadata seen in the browser`)
      t.equal(seen.serialization, serialization === 'binary-utf8' ? 'binary' : serialization, `${serialization}: the browser uses it`)
      if (!conn.open) await once(conn, 'open')
      for (const value of values) conn.send(revive(value))
      t.deepEqual(await page.evaluate(([id, n]) => window.h.received(id, n), [seen.connectionId, values.length]), values, `${serialization}: Node → browser`)
      const back = collect(conn, values.length)
      await page.evaluate(([id, v]) => window.h.send(id, v), [seen.connectionId, values])
      t.deepEqual((await back).map(describe), values, `${serialization}: browser → Node`)
      conn.close()
    }

    // 4 MiB binary messages, chunked by each side, both ways.
    const conn = node.connect(browserId)
    conn.on('error', err => t.comment(`connection error: ${err.type}: ${err.message}`))
    conn.on('iceStateChanged', state => { if (state === 'disconnected' || state === 'failed') t.comment(`ice: ${state}`) })
    const seen = await page.evaluate(() => window.h.nextConnection())
    if (!conn.open) await once(conn, 'open')
    const big = patternBytes(MiB4, 7)
    conn.send(big)
    t.deepEqual(await page.evaluate(id => window.h.received(id, 1), seen.connectionId), [describe(big)], '4 MiB Node → browser, intact')
    const back = collect(conn, 1)
    await page.evaluate(id => window.h.send(id, [{ __pattern: 4 * 1024 * 1024, seed: 9 }]), seen.connectionId)
    t.deepEqual((await back).map(describe), [describe(patternBytes(MiB4, 9))], '4 MiB browser → Node, intact')

    node.destroy()
    await browser.close()
    await server.close()
  })
}

test('duplex-peer/peerjs bundled for the browser, in Chromium ↔ duplex-peer/peerjs in Node', { skip: !available }, async t => {
  const server = await startServer()
  const browser = await startBrowser({ ours: true })
  const { page } = browser
  const browserId = await page.evaluate(options => window.h.start('ours-in-browser', options, 'duplex-peer'),
    { host: '127.0.0.1', port: server.port, secure: false, config: RTC_CONFIG })
  t.equal(browserId, 'ours-in-browser', 'our client opens in the browser')
  const node = await openPeer(server.port)
  for (const serialization of ['binary', 'json', 'raw']) {
    const values = VALUES[serialization]
    const conn = node.connect(browserId, { serialization, label: `o-${serialization}`, metadata: { s: serialization }, reliable: true })
    const seen = await page.evaluate(() => window.h.nextConnection())
    t.deepEqual([seen.label, seen.metadata], [`o-${serialization}`, { s: serialization }], `${serialization}: label and metadata`)
    if (!conn.open) await once(conn, 'open')
    for (const value of values) conn.send(revive(value))
    t.deepEqual(await page.evaluate(([id, n]) => window.h.received(id, n), [seen.connectionId, values.length]), values, `${serialization}: Node → browser`)
    const back = collect(conn, values.length)
    await page.evaluate(([id, v]) => window.h.send(id, v), [seen.connectionId, values])
    t.deepEqual((await back).map(describe), values, `${serialization}: browser → Node`)
    conn.close()
  }
  const conn = node.connect(browserId)
  const seen = await page.evaluate(() => window.h.nextConnection())
  if (!conn.open) await once(conn, 'open')
  const back = collect(conn, 1)
  await page.evaluate(id => window.h.send(id, [{ __pattern: 4 * 1024 * 1024, seed: 3 }]), seen.connectionId)
  t.deepEqual((await back).map(describe), [describe(patternBytes(MiB4, 3))], '4 MiB browser → Node, intact')
  node.destroy()
  await browser.close()
  await server.close()
})

test('two PeerJS clients in Chromium, brokered by duplex-peer/server', { skip: !available }, async t => {
  const server = await startServer()
  const browser = await startBrowser()
  const a = browser.page
  const b = await browser.newPage()
  const options = { host: '127.0.0.1', port: server.port, secure: false, config: RTC_CONFIG }
  t.equal(await a.evaluate(o => window.h.start('alice', o), options), 'alice', 'first client opens as alice')
  t.equal(await b.evaluate(o => window.h.start('bob', o), options), 'bob', 'second client opens as bob')
  for (const serialization of ['binary', 'json', 'raw']) {
    const values = VALUES[serialization]
    const seenP = a.evaluate(() => window.h.nextConnection())
    const fromBob = await b.evaluate(([id, o]) => window.h.connect(id, o),
      ['alice', { serialization, label: `ab-${serialization}`, metadata: { n: serialization } }])
    const seen = await seenP
    t.deepEqual([seen.peer, seen.label, seen.metadata], ['bob', `ab-${serialization}`, { n: serialization }],
      `${serialization}: alice sees bob's connection with its label and metadata`)
    await b.evaluate(([id, v]) => window.h.send(id, v), [fromBob.connectionId, values])
    t.deepEqual(await a.evaluate(([id, n]) => window.h.received(id, n), [seen.connectionId, values.length]), values, `${serialization}: bob → alice`)
    await a.evaluate(([id, v]) => window.h.send(id, v), [seen.connectionId, values])
    t.deepEqual(await b.evaluate(([id, n]) => window.h.received(id, n), [fromBob.connectionId, values.length]), values, `${serialization}: alice → bob`)
  }
  const seenP = a.evaluate(() => window.h.nextConnection())
  const fromBob = await b.evaluate(id => window.h.connect(id, {}), 'alice')
  const seen = await seenP
  await b.evaluate(([id, size]) => window.h.send(id, [{ __pattern: size, seed: 5 }]), [fromBob.connectionId, MiB4])
  t.deepEqual(await a.evaluate(id => window.h.received(id, 1), seen.connectionId), [describe(patternBytes(MiB4, 5))], '4 MiB bob → alice, intact')
  await browser.close()
  await server.close()
})
