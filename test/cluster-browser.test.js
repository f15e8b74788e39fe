'use strict'
// A cluster of 3 nodes (child processes) on one Redis, with real PeerJS
// 1.5.5 in Chromium: a page on node 1 and duplex-peer/peerjs in Node on
// node 2 exchange data with every serialization; two pages, on nodes 1 and
// 3, connect to each other and make a media call.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, opts, fn) => tape(name, { timeout: 180e3, ...opts }, fn)
const { openPeer, once, collect, RTC_CONFIG } = require('./peerjs/helpers')
const { available, startBrowser, describe } = require('./peerjs/browser')
const { startRedis } = require('./cluster/servers')
const { startNodeProcess } = require('./cluster/helpers')

const VALUES = {
  binary: ['text ✓', 7, { a: [1, 'b', null], n: 2.5 }, { __bytes: [1, 2, 3] }],
  'binary-utf8': ['text ✓', { a: [1] }],
  json: ['text ✓', 12, { a: [1, 'b', null] }],
  raw: ['text ✓', { __bytes: [4, 5, 6] }]
}

function revive (value) {
  if (value && typeof value === 'object' && value.__bytes) return Buffer.from(value.__bytes)
  if (Array.isArray(value)) return value.map(revive)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]))
  return value
}

test('cluster: PeerJS in Chromium on node 1 ↔ duplex-peer/peerjs on node 2; two pages on nodes 1 and 3 (data and a media call)', { skip: !available }, async t => {
  t.timeoutAfter(120e3)
  const redis = await startRedis()
  const nodes = []
  for (let i = 0; i < 3; i++) nodes.push(await startNodeProcess({ redis: redis.url }))
  const browser = await startBrowser()
  const options = port => ({ host: '127.0.0.1', port, secure: false, config: RTC_CONFIG })
  try {
    const { page } = browser
    const browserId = await page.evaluate(o => window.h.start(undefined, o), options(nodes[0].port))
    t.ok(browserId, `the page has id ${browserId} from node 1`)
    const node = await openPeer(nodes[1].port, 'node-side')

    for (const [serialization, values] of Object.entries(VALUES)) {
      const incomingP = once(node, 'connection')
      const fromBrowser = await page.evaluate(([id, o]) => window.h.connect(id, o), ['node-side', { serialization, label: `b-${serialization}`, metadata: { s: serialization } }])
      const incoming = await incomingP
      t.deepEqual(incoming.metadata, { s: serialization }, `${serialization}: the page's offer reached node 2's client with its metadata`)
      if (!incoming.open) await once(incoming, 'open')
      const gotInNode = collect(incoming, values.length)
      await page.evaluate(([id, v]) => window.h.send(id, v), [fromBrowser.connectionId, values])
      t.deepEqual((await gotInNode).map(describe), values, `${serialization}: browser → Node`)
      for (const value of values) incoming.send(revive(value))
      t.deepEqual(await page.evaluate(([id, n]) => window.h.received(id, n), [fromBrowser.connectionId, values.length]), values, `${serialization}: Node → browser`)
      incoming.close()
    }
    const conn = node.connect(browserId, { serialization: 'binary' })
    const seen = await page.evaluate(() => window.h.nextConnection())
    t.equal(seen.peer, 'node-side', 'Node on node 2 connects to the page on node 1')
    if (!conn.open) await once(conn, 'open')
    conn.send({ __none: 'hello' })
    t.deepEqual(await page.evaluate(id => window.h.received(id, 1), seen.connectionId), [{ __none: 'hello' }], 'and its message arrives')
    conn.close()
    node.destroy()

    const other = await browser.newPage()
    const otherId = await other.evaluate(o => window.h.start('page-three', o), options(nodes[2].port))
    t.equal(otherId, 'page-three', 'a second page registers through node 3')
    const opened = await page.evaluate(([id]) => window.h.connect(id, { serialization: 'json' }), [otherId])
    const there = await other.evaluate(() => window.h.nextConnection())
    t.equal(there.peer, browserId, 'the page on node 1 connects to the page on node 3')
    await page.evaluate(([id]) => window.h.send(id, [{ ping: 1 }]), [opened.connectionId])
    t.deepEqual(await other.evaluate(id => window.h.received(id, 1), there.connectionId), [{ ping: 1 }], 'data between the two pages')
    const answered = other.evaluate(() => window.h.answerNextCall(true))
    const remote = await page.evaluate(([id]) => window.h.call(id, { via: 'cluster' }), [otherId])
    const answer = await answered
    t.deepEqual(answer.metadata, { via: 'cluster' }, 'a media call crosses nodes with its metadata')
    t.ok(remote.width > 0 && answer.width > 0, `both pages play the other's video (${remote.width}x${remote.height}, ${answer.width}x${answer.height})`)
  } finally {
    await browser.close()
    for (const n of nodes) await n.close()
    await redis.close()
  }
})
