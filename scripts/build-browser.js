#!/usr/bin/env node
'use strict'
// Browser builds, made with esbuild from the TypeScript sources. Every
// dependency is bundled in, so they need no Node built-in and no polyfill,
// and @roamhq/wrtc is left out (lib/node-webrtc.browser.ts replaces
// lib/node-webrtc.ts):
//
//   dist/duplex-peer.min.js       standalone minified script: globals `DuplexPeer` and `SimplePeer`
//   dist/browser/duplex-peer.mjs  ES module for bundlers (exports: "browser" + "import")
//   dist/browser/duplex-peer.cjs  CommonJS module for bundlers (exports: "browser" + "require")
//   dist/browser/peerjs.cjs       duplex-peer/peerjs for bundlers (exports: "browser"), with the
//                                 browser's WebSocket in place of the `ws` package
//   dist/browser/room.mjs         duplex-peer/room as an ES module (exports: "browser" + "import"),
//                                 also loadable by a page as <script type="module">
//   dist/browser/room.cjs         duplex-peer/room for bundlers (exports: "browser" + "require");
//                                 both with the browser's WebSocket in place of `ws`, and no server code
//
// Usage: node scripts/build-browser.js   (npm run build:browser, part of npm run build)
const path = require('path')
const esbuild = require('esbuild')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')

/**
 * Swaps lib/node-webrtc.ts (which requires @roamhq/wrtc) for lib/node-webrtc.browser.ts,
 * and lib/exit.ts (Node's process exit; v8 and vm) for lib/exit.browser.ts.
 */
const browserWebRTC = {
  name: 'browser-webrtc',
  setup (build) {
    build.onResolve({ filter: /^\.\/node-webrtc$/ }, args => ({
      path: path.join(args.resolveDir, 'node-webrtc.browser.ts')
    }))
    build.onResolve({ filter: /^\.\.?\/exit$/ }, args => {
      const resolved = path.join(args.resolveDir, args.path)
      if (resolved !== path.join(root, 'lib', 'exit')) return undefined
      return { path: path.join(root, 'lib', 'exit.browser.ts') }
    })
    // Safety net: nothing else may bring it in.
    build.onResolve({ filter: /^@roamhq\/wrtc/ }, args => ({
      errors: [{ text: `${args.path} must not be part of a browser build (imported by ${args.importer})` }]
    }))
  }
}

/**
 * A peer only needs readable-stream's Duplex. The package's entry also loads
 * pipeline, compose, Transform, the stream/promises API and the experimental
 * Readable operators (map, filter, toArray, ...): about 5 KB gzipped that a
 * peer never uses. Browser builds take Duplex (with Readable and Writable)
 * alone, plus the two helpers the entry installs that they rely on; and they
 * leave out the static `from()` helpers, meaningless on a Peer.
 */
const NOT_INCLUDED = { './from': 'Readable.from()', './duplexify': 'Duplex.from()' }

const duplexOnly = {
  name: 'readable-stream-duplex-only',
  setup (build) {
    const streams = path.dirname(require.resolve('readable-stream/lib/internal/streams/duplex.js'))
    build.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'readable-stream', namespace: 'duplex-only' }))
    build.onLoad({ filter: /.*/, namespace: 'duplex-only' }, () => ({
      // As readable-stream's lib/stream.js does.
      contents: `
        const { Buffer } = require('buffer')
        const { Stream } = require('./legacy')
        Stream._isUint8Array = function isUint8Array (value) { return value instanceof Uint8Array }
        Stream._uint8ArrayToBuffer = function _uint8ArrayToBuffer (chunk) {
          return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        }
        module.exports = { Duplex: require('./duplex') }
      `,
      resolveDir: streams,
      loader: 'js'
    }))
    build.onResolve({ filter: /^\.\/(from|duplexify)$/ }, args => {
      if (args.resolveDir !== streams) return undefined
      return { path: args.path, namespace: 'not-included' }
    })
    build.onLoad({ filter: /.*/, namespace: 'not-included' }, args => ({
      contents: `module.exports = function () { throw new Error(${JSON.stringify(`${NOT_INCLUDED[args.path]} is not included in duplex-peer's browser build`)}) }`,
      loader: 'js'
    }))
  }
}

/**
 * Smaller stand-ins, written for duplex-peer, for dependencies of which a
 * peer uses little (Node keeps the real packages):
 *
 *   debug                  lib/debug.browser.ts: namespaces from localStorage.debug
 *                          as before, console output as debug's (saves ~1.7 KB gzipped)
 *   process                only nextTick, which readable-stream uses, with the same
 *                          setTimeout scheduling (saves ~0.5 KB gzipped)
 *   readable-stream's      only the five validators Duplex, Readable and Writable
 *     internal/validators  call, same checks and errors (saves ~1.2 KB gzipped)
 */
const shims = path.join(__dirname, 'browser-shims')
const smallerDeps = {
  name: 'smaller-deps',
  setup (build) {
    build.onResolve({ filter: /^debug$/ }, () => ({ path: path.join(root, 'lib', 'debug.browser.ts') }))
    build.onResolve({ filter: /^process\/?$/ }, () => ({ path: path.join(shims, 'process.js') }))
    build.onResolve({ filter: /\/validators$/ }, args => {
      if (!/[\\/]readable-stream[\\/]lib[\\/]/.test(args.resolveDir)) return undefined
      return { path: path.join(shims, 'validators.js') }
    })
  }
}

/** In a browser the signaling socket is the browser's WebSocket: `ws` is never loaded. */
const noWs = {
  name: 'no-ws',
  setup (build) {
    build.onResolve({ filter: /^ws$/ }, () => ({ path: 'ws', namespace: 'no-ws' }))
    build.onLoad({ filter: /.*/, namespace: 'no-ws' }, () => ({
      contents: "throw new Error('in a browser duplex-peer uses the browser\\'s WebSocket')",
      loader: 'js'
    }))
  }
}

/** duplex-peer/room in a browser is a client only: nothing of lib/server/ may come in. */
const noServer = {
  name: 'no-server',
  setup (build) {
    build.onResolve({ filter: /(^|\/)server(\/|$)/ }, args => {
      if (!args.importer || args.importer.includes('node_modules')) return undefined
      return { errors: [{ text: `${args.path} must not be part of a browser build (imported by ${args.importer})` }] }
    })
  }
}

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  target: ['es2020'],
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [browserWebRTC, duplexOnly, smallerDeps]
}

const builds = [
  {
    ...common,
    stdin: {
      // `DuplexPeer`, and `SimplePeer` unless the page already has one: a page
      // written for simple-peer switches by changing its script tag.
      contents: [
        "import Peer = require('./index')",
        'const g = globalThis as Record<string, unknown>',
        'g.DuplexPeer = Peer',
        'if (g.SimplePeer === undefined) g.SimplePeer = Peer'
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'duplex-peer.global.ts',
      loader: 'ts'
    },
    format: 'iife',
    minify: true,
    sourcemap: true,
    outfile: path.join(dist, 'duplex-peer.min.js')
  },
  {
    ...common,
    stdin: {
      contents: "import { Peer } from './lib/peer'\nexport default Peer\n",
      resolveDir: root,
      sourcefile: 'duplex-peer.browser.ts',
      loader: 'ts'
    },
    format: 'esm',
    outfile: path.join(dist, 'browser', 'duplex-peer.mjs')
  },
  {
    ...common,
    entryPoints: [path.join(root, 'index.ts')],
    format: 'cjs',
    outfile: path.join(dist, 'browser', 'duplex-peer.cjs')
  },
  {
    ...common,
    plugins: [...common.plugins, noWs],
    entryPoints: [path.join(root, 'peerjs.ts')],
    format: 'cjs',
    outfile: path.join(dist, 'browser', 'peerjs.cjs')
  },
  {
    ...common,
    plugins: [...common.plugins, noWs, noServer],
    entryPoints: [path.join(root, 'room.ts')],
    format: 'esm',
    outfile: path.join(dist, 'browser', 'room.mjs')
  },
  {
    ...common,
    plugins: [...common.plugins, noWs, noServer],
    entryPoints: [path.join(root, 'room.ts')],
    format: 'cjs',
    outfile: path.join(dist, 'browser', 'room.cjs')
  }
]

// The options, for scripts that measure the builds (e.g. with a metafile).
module.exports = { builds, browserWebRTC }

if (require.main === module) {
  Promise.all(builds.map(options => esbuild.build(options))).catch(err => {
    console.error(err.message || err)
    process.exit(1)
  })
}
