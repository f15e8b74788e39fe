'use strict'
// Shared by the room tests in Chromium (test/room-browser.test.js,
// test/media/room-browser-media.test.js): an HTTP server on loopback serving
// the room test page and the browser build, with duplex-peer/server under
// /signal (room relay at /signal/rooms), and pages opened on it.
const fs = require('fs')
const http = require('http')
const path = require('path')
const { attachPeerServer } = require('../../dist/server')

const root = path.join(__dirname, '..', '..')
const FILES = {
  '/room.html': [path.join(__dirname, 'room-page.html'), 'text/html'],
  '/room-page.js': [path.join(__dirname, 'room-page.js'), 'text/javascript'],
  '/browser/room.mjs': [path.join(root, 'dist', 'browser', 'room.mjs'), 'text/javascript']
}

/** Starts the server; resolves with `{ origin, relay, stats(), close() }`. */
async function startRoomServer () {
  const httpServer = http.createServer((req, res) => {
    const file = FILES[new URL(req.url, 'http://localhost').pathname]
    if (file) {
      res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' })
      res.end(fs.readFileSync(file[0]))
    } else if (!req.url.startsWith('/signal')) {
      res.writeHead(404).end()
    }
  })
  const peerServer = attachPeerServer(httpServer, { path: '/signal' })
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(0, '127.0.0.1', resolve)
  })
  const { port } = httpServer.address()
  return {
    origin: `http://127.0.0.1:${port}`,
    relay: `ws://127.0.0.1:${port}${peerServer.roomsPath}`,
    stats: () => peerServer.roomStats,
    async close () {
      await new Promise(resolve => peerServer.close(() => resolve()))
      httpServer.closeAllConnections?.()
      await new Promise(resolve => httpServer.close(() => resolve()))
    }
  }
}

/** Opens the room test page in `browser` (from launchChromium()), logging its console into `logs`. */
async function openRoomPage (browser, server, logs, label) {
  const page = await browser.context.newPage()
  page.on('console', message => logs.push(`[${label} console.${message.type()}] ${message.text()}`))
  page.on('pageerror', err => logs.push(`[${label} pageerror] ${err.message}`))
  await page.goto(`${server.origin}/room.html`)
  await page.waitForFunction(() => window.pageReady === true)
  return page
}

module.exports = { startRoomServer, openRoomPage }
