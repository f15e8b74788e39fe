'use strict'
// The PeerServer protocol is shared by the client (lib/peerjs/) and the
// server (lib/server/) through lib/peerserver-protocol.ts alone, and the
// browser build of duplex-peer/peerjs takes that file but nothing of the
// server and not the `ws` package.
const fs = require('fs')
const path = require('path')
const test = require('tape')
const esbuild = require('esbuild')

const root = path.join(__dirname, '..')
const SHARED = 'lib/peerserver-protocol.ts'

/** The import specifiers of a TypeScript source. */
function importsOf (file) {
  const text = fs.readFileSync(path.join(root, file), 'utf8')
  return [...text.matchAll(/\bfrom\s+'([^']+)'|\brequire\(\s*'([^']+)'\s*\)/g)].map(m => m[1] ?? m[2])
}

function sourcesIn (dir) {
  return fs.readdirSync(path.join(root, dir)).filter(name => name.endsWith('.ts')).map(name => `${dir}/${name}`)
}

test('layers: client and server share lib/peerserver-protocol.ts, and only it', t => {
  t.deepEqual(importsOf(SHARED), [], `${SHARED} imports nothing`)
  const client = sourcesIn('lib/peerjs')
  const server = sourcesIn('lib/server')
  t.ok(client.length > 5 && server.length > 5, `${client.length} client and ${server.length} server sources checked`)
  t.deepEqual(client.filter(file => importsOf(file).some(spec => /(^|\/)server(\/|$)/.test(spec))), [], 'no client file imports the server')
  t.deepEqual(server.filter(file => importsOf(file).some(spec => /(^|\/)peerjs(\/|$)/.test(spec))), [], 'no server file imports the client')
  const usesShared = file => importsOf(file).includes('../peerserver-protocol')
  t.ok(client.some(usesShared), 'the client uses the shared module')
  t.ok(server.some(usesShared), 'the server uses the shared module')
  t.end()
})

test('layers: the browser build of duplex-peer/peerjs has the protocol module, no server file and no ws', async t => {
  const { builds } = require('../scripts/build-browser.js')
  const peerjs = builds.find(options => String(options.outfile).endsWith(path.join('browser', 'peerjs.cjs')))
  t.ok(peerjs, 'the peerjs browser build is configured')
  const result = await esbuild.build({ ...peerjs, write: false, metafile: true, logLevel: 'silent' })
  const inputs = Object.keys(result.metafile.inputs)
  t.ok(inputs.includes(SHARED), `it includes ${SHARED}`)
  t.deepEqual(inputs.filter(input => input.startsWith('lib/server/')), [], 'no lib/server file')
  // The build answers `ws` with a stub that throws: only the lazy require()
  // of lib/peerjs/websocket.ts (which falls back to the browser's WebSocket)
  // may ask for it.
  const askers = []
  for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
    for (const entry of imports) if (entry.original === 'ws') askers.push(`${input} (${entry.kind})`)
  }
  t.deepEqual(askers, ['lib/peerjs/websocket.ts (require-call)'], 'ws is asked for only by the lazy require() in lib/peerjs/websocket.ts')
  t.deepEqual(inputs.filter(input => /node_modules\/ws\//.test(input)), [], 'nothing of the ws package')
})
