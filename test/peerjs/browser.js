'use strict'
// Debian Chromium, driven by playwright-core, with PeerJS 1.5.5's browser
// bundle and the remote control in page.js, served from loopback.
const fs = require('fs')
const path = require('path')
const http = require('http')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
  // Host candidates as plain addresses: @roamhq/wrtc cannot resolve mDNS (.local) names.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // A fake camera for getUserMedia, without a permission prompt.
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required'
]

/** Whether the browser tests can run here. */
const available = fs.existsSync(CHROMIUM)

const FILES = {
  '/peerjs.js': require.resolve('peerjs/dist/peerjs.js'),
  '/page.js': path.join(__dirname, 'page.js')
}

/**
 * Bundles duplex-peer/peerjs for the browser (global `DuplexPeerJS`), as
 * scripts/build-browser.js does for the engine. Resolves with the file's path.
 */
async function bundleOurs (dir) {
  const esbuild = require('esbuild')
  const outfile = path.join(dir, 'duplex-peer-peerjs.js')
  await esbuild.build({
    entryPoints: [path.join(__dirname, '..', '..', 'peerjs.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'DuplexPeerJS',
    target: ['es2020'],
    outfile,
    logLevel: 'warning',
    // The browser build's own mapping of the Node-only modules (lib/node-webrtc.ts, lib/exit.ts).
    plugins: [require('../../scripts/build-browser').browserWebRTC]
  })
  return outfile
}

/**
 * Starts Chromium on a page with PeerJS loaded (and, with `ours`, our client
 * bundled for the browser). Resolves with { page, close() }.
 */
async function startBrowser ({ ours = false } = {}) {
  const { chromium } = require('playwright-core')
  const os = require('os')
  const tmp = ours ? fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-bundle-')) : null
  const files = { ...FILES }
  if (ours) files['/ours.js'] = await bundleOurs(tmp)
  const site = http.createServer((req, res) => {
    const file = files[req.url]
    if (file) {
      res.writeHead(200, { 'Content-Type': 'application/javascript' })
      res.end(fs.readFileSync(file))
      return
    }
    res.writeHead(200, { 'Content-Type': 'text/html' })
    res.end('<!doctype html><title>peerjs interop</title><script src="/peerjs.js"></script>' +
      (ours ? '<script src="/ours.js"></script>' : '') + '<script src="/page.js"></script>')
  })
  await new Promise(resolve => site.listen(0, '127.0.0.1', resolve))
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  const page = await browser.newPage()
  page.on('pageerror', err => console.error('# page error:', err.message))
  const url = `http://127.0.0.1:${site.address().port}/`
  await page.goto(url)
  const pages = [page]
  return {
    page,
    /** Opens another page of the same site in the same browser: a second, independent client. */
    async newPage () {
      const other = await browser.newPage()
      other.on('pageerror', err => console.error('# page error:', err.message))
      await other.goto(url)
      pages.push(other)
      return other
    },
    async close () {
      for (const p of pages) await p.evaluate(() => window.h.destroy()).catch(() => {})
      await browser.close()
      await new Promise(resolve => site.close(resolve))
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
    }
  }
}

/** Describes a received value the way page.js does, for comparing. */
function describe (value) {
  const crypto = require('crypto')
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    if (value.length <= 64) return { __bytes: Array.from(value) }
    return { __size: value.length, __sha256: crypto.createHash('sha256').update(value).digest('hex') }
  }
  if (Array.isArray(value)) return value.map(describe)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]))
  return value
}

module.exports = { available, startBrowser, describe }
