'use strict'
// In a real browser: headless Chromium loads the standalone script
// (dist/duplex-peer.min.js) and connects, through a WebSocket relay on
// loopback, to a duplex-peer in Node. Then the same page with simple-peer
// 9.11.1's own browser bundle. Video from the browser is in
// test/media/browser.test.js (wrtc's media objects keep a process alive).
const fs = require('fs')
const path = require('path')
const test = require('tape')
const { startServer } = require('./browser/server')
const { launchChromium, runSession } = require('./browser/harness')
const { patternBytes, sha256 } = require('./helpers')

const WATCHDOG = 180e3
const BULK = 16 * 1024 * 1024
const SEED = 0x5eed
let server = null
let browser = null

test('browser: the builds pull in neither @roamhq/wrtc nor Node built-ins', t => {
  const dist = path.join(__dirname, '..', 'dist')
  const esm = fs.readFileSync(path.join(dist, 'browser', 'duplex-peer.mjs'), 'utf8')
  const cjs = fs.readFileSync(path.join(dist, 'browser', 'duplex-peer.cjs'), 'utf8')
  const min = fs.readFileSync(path.join(dist, 'duplex-peer.min.js'), 'utf8')
  for (const [name, code] of [['duplex-peer.mjs', esm], ['duplex-peer.cjs', cjs], ['duplex-peer.min.js', min]]) {
    t.notOk(/["']@roamhq\/wrtc|wrtc\.node/.test(code), `${name}: no wrtc`)
    t.notOk(/\brequire\s*\(\s*["'`]|\bimport\s*\(\s*["'`]/.test(code), `${name}: no require() or import() left`)
  }
  t.notOk(/^\s*import\s/m.test(esm), 'duplex-peer.mjs: no import statements (self-contained)')
  // Browser builds take the smaller stand-ins of scripts/build-browser.js.
  const { sources } = JSON.parse(fs.readFileSync(path.join(dist, 'duplex-peer.min.js.map'), 'utf8'))
  t.ok(sources.some(s => s.endsWith('lib/debug.browser.ts')), 'duplex-peer.min.js: lib/debug.browser.ts in place of debug')
  const replaced = sources.filter(s => /node_modules\/(debug|ms|process)\/|readable-stream\/lib\/internal\/validators/.test(s))
  t.deepEqual(replaced, [], 'duplex-peer.min.js: none of debug, ms, process or readable-stream\'s validators')
  t.ok(/^export\s*\{[^}]*\bas default\b/m.test(esm), 'duplex-peer.mjs: a default export')
  t.end()
})

test('browser: start Chromium and the relay', async t => {
  t.timeoutAfter(WATCHDOG)
  server = await startServer()
  browser = await launchChromium()
  t.pass(`Chromium ${browser.version} is up; relay at ${server.origin}`)
})

for (const lib of ['duplex-peer', 'simple-peer']) {
  const script = lib === 'duplex-peer' ? 'dist/duplex-peer.min.js' : 'simple-peer 9.11.1 simplepeer.min.js'
  test(`browser: Chromium (${script}) ↔ duplex-peer in Node: data both ways, 16 MiB intact, clean end`, async t => {
    t.timeoutAfter(WATCHDOG)
    if (!browser) return t.fail('Chromium did not start')
    const expected = sha256(patternBytes(BULK, SEED))
    const { browser: page, node } = await runSession(t, { browser, server, lib, bulk: BULK, seed: SEED })
    if (lib === 'duplex-peer') {
      t.deepEqual(page.globals, { SimplePeer: 'function', DuplexPeer: 'function', same: true }, 'the script defines DuplexPeer, and SimplePeer as an alias')
    } else {
      t.deepEqual(page.globals, { SimplePeer: 'function', DuplexPeer: 'undefined', same: false }, 'simple-peer defines SimplePeer')
    }
    t.equal(page.webrtcSupport, true, 'WEBRTC_SUPPORT is true in Chromium')
    // The browser hides its addresses behind mDNS names, and stats keep the peer-reflexive one hidden too.
    t.ok(node.localAddress, `connected (Node end at ${node.localAddress}, browser end ${node.remoteAddress ?? 'not disclosed'})`)
    t.equal(node.greeting, 'hello from the browser', 'browser → Node')
    t.equal(page.greeting, 'hello from node', 'Node → browser')
    t.equal(node.receivedBytes, BULK, 'Node received 16 MiB')
    t.equal(page.sentSha256, expected, 'the browser sent the expected bytes')
    t.equal(node.receivedSha256, expected, 'Node received them intact (SHA-256)')
    t.ok(page.verdict.endsWith(expected), 'the browser got the verdict')
    t.ok(node.ended && node.closed, 'the browser ended the stream: Node saw end, then close')
    t.ok(page.closed, 'the browser peer closed')
    t.deepEqual(node.errors, [], 'no error in Node')
  })
}

test('browser: the ES module build imports natively and makes an offer', async t => {
  t.timeoutAfter(WATCHDOG)
  if (!browser) return t.fail('Chromium did not start')
  const page = await browser.context.newPage()
  try {
    await page.goto(`${server.origin}/duplex-peer.html`)
    const result = await page.evaluate(url => window.tryModule(url), `${server.origin}/browser/duplex-peer.mjs`)
    t.deepEqual(result, { type: 'function', webrtcSupport: true, signalType: 'offer', sameAsGlobal: false }, 'default export is the constructor; it signals an offer')
  } finally {
    await page.close()
  }
})

test('browser: logs are enabled with localStorage.debug, as with simple-peer', async t => {
  t.timeoutAfter(WATCHDOG)
  if (!browser) return t.fail('Chromium did not start')
  for (const setting of ['duplex-peer', 'duplex-peer*,-duplex-peer', null]) {
    const page = await browser.context.newPage()
    const logs = []
    page.on('console', message => { if (message.type() === 'debug') logs.push(message.text()) })
    try {
      await page.addInitScript(value => { if (value === null) localStorage.removeItem('debug'); else localStorage.setItem('debug', value) }, setting)
      await page.goto(`${server.origin}/duplex-peer.html`)
      await page.evaluate(() => new Promise(resolve => {
        const peer = new window.DuplexPeer({ initiator: true })
        peer.once('signal', () => { peer.destroy(); resolve() })
      }))
      await new Promise(resolve => setTimeout(resolve, 100))
      if (setting === 'duplex-peer') {
        // The console's raw text: the format, then its arguments.
        t.ok(logs.some(line => /^%cduplex-peer %c\[\w+\] new peer %o%c \+\d+ms color: /.test(line)), `localStorage.debug = '${setting}': '[id] new peer ...' on console.debug`)
        t.ok(logs.length > 1 && logs.every(line => /^%cduplex-peer %c\[\w+\] .*%c \+\d+m?s /.test(line)), 'each line: namespace, [id] message, +ms, styled as debug styles them')
      } else {
        t.deepEqual(logs, [], setting === null ? 'no localStorage.debug: no log' : `localStorage.debug = '${setting}': no log`)
      }
    } finally {
      await page.close()
    }
  }
})

test('browser: stop Chromium and the relay', async t => {
  if (browser) await browser.close()
  if (server) await server.close()
  browser = server = null
  t.pass('stopped')
})
