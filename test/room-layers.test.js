'use strict'
// The browser build of duplex-peer/room (dist/browser/room.mjs and .cjs):
// client code only, with the browser's WebSocket in place of `ws`, nothing
// of the server, of @roamhq/wrtc or of Node's built-ins; and the package
// hands it to bundlers through the `browser` condition of exports["./room"].
const fs = require('fs')
const path = require('path')
const test = require('tape')
const esbuild = require('esbuild')

const root = path.join(__dirname, '..')
const NODE_BUILTINS = /^(node:)?(fs|net|tls|http|https|zlib|worker_threads|child_process|crypto|os|path|stream|util|url)$/

for (const format of ['esm', 'cjs']) {
  const file = `room.${format === 'esm' ? 'mjs' : 'cjs'}`
  test(`room layers: dist/browser/${file} has the room and its WebSocketDriver, no server file, no ws, no wrtc, no Node built-in`, async t => {
    const { builds } = require('../scripts/build-browser.js')
    const options = builds.find(o => String(o.outfile).endsWith(path.join('browser', file)))
    t.ok(options, `the ${file} build is configured`)
    t.equal(options.format, format, `as ${format}`)
    const result = await esbuild.build({ ...options, write: false, metafile: true, logLevel: 'silent' })
    const inputs = Object.keys(result.metafile.inputs)
    for (const needed of ['lib/room/room.ts', 'lib/room/drivers/websocket.ts', 'lib/room/drivers/broadcast-channel.ts', 'lib/node-webrtc.browser.ts']) {
      t.ok(inputs.includes(needed), `it includes ${needed}`)
    }
    t.deepEqual(inputs.filter(input => input.startsWith('lib/server/') || input.startsWith('lib/cli/')), [], 'no lib/server or lib/cli file')
    t.deepEqual(inputs.filter(input => /node_modules\/(ws|@roamhq)\//.test(input) || input === 'lib/node-webrtc.ts' || input === 'lib/exit.ts'), [],
      'nothing of ws or @roamhq/wrtc, nor the Node-only lib/node-webrtc.ts and lib/exit.ts')
    const askers = []
    const builtins = []
    for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
      for (const entry of imports) {
        if (entry.original === 'ws') askers.push(`${input} (${entry.kind})`)
        if (NODE_BUILTINS.test(entry.original ?? entry.path)) builtins.push(`${input}: ${entry.original ?? entry.path}`)
      }
    }
    t.deepEqual(askers, ['lib/peerjs/websocket.ts (require-call)'], 'ws is asked for only by the lazy require() that falls back to the browser\'s WebSocket')
    t.deepEqual(builtins, [], 'no Node built-in is imported')
    const code = fs.readFileSync(path.join(root, 'dist', 'browser', file), 'utf8')
    t.notOk(/\brequire\s*\(\s*["'`]|\bimport\s*\(\s*["'`]/.test(code), `${file} on disk: no require() or import() left`)
    if (format === 'esm') t.notOk(/^\s*import\s/m.test(code), `${file}: no import statement (a page can load it as it is)`)
  })
}

test('room layers: exports["./room"] gives browsers the browser build, Node the CommonJS build', t => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  const room = pkg.exports['./room']
  t.equal(Object.keys(room)[0], 'browser', 'the browser condition comes first')
  t.equal(room.browser.import.default, './dist/browser/room.mjs', 'browser + import: the ES module')
  t.equal(room.browser.default.default, './dist/browser/room.cjs', 'browser + require: the CommonJS bundle')
  t.equal(room.default, './dist/room.js', 'Node: the CommonJS build')
  for (const target of [room.browser.import.default, room.browser.default.default, room.types]) {
    t.ok(fs.existsSync(path.join(root, target)), `${target} is built`)
  }
  t.ok(pkg.files.includes('dist/browser/'), 'dist/browser/ is in the package')
  t.end()
})
