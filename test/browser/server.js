'use strict'
// A small HTTP server on loopback for the browser tests: it serves the test
// page with the bundle under test and the scripts driving it, and relays
// signaling over WebSockets (`/relay/<room>`: what one member of a room
// sends, the other receives).
const fs = require('fs')
const http = require('http')
const path = require('path')
const { WebSocketServer } = require('ws')

const root = path.join(__dirname, '..', '..')

/** Bundles a page can load, by URL path. */
const FILES = {
  '/duplex-peer.min.js': path.join(root, 'dist', 'duplex-peer.min.js'),
  '/duplex-peer.min.js.map': path.join(root, 'dist', 'duplex-peer.min.js.map'),
  '/browser/duplex-peer.mjs': path.join(root, 'dist', 'browser', 'duplex-peer.mjs'),
  '/simplepeer.min.js': path.join(path.dirname(require.resolve('simple-peer/package.json')), 'simplepeer.min.js'),
  '/page.js': path.join(__dirname, 'page.js'),
  '/stripes-page.js': path.join(__dirname, 'stripes-page.js')
}
/** Pages by URL path: the bundle under test and the scripts driving it. */
const PAGES = {
  '/duplex-peer.html': { bundle: 'duplex-peer.min.js', scripts: ['page.js'] },
  '/simple-peer.html': { bundle: 'simplepeer.min.js', scripts: ['page.js'] },
  '/duplex-peer-stripes.html': { bundle: 'duplex-peer.min.js', scripts: ['page.js', 'stripes-page.js'] }
}
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json', '.html': 'text/html' }

/** Starts the server on 127.0.0.1 and an ephemeral port. Resolves with its URLs and `close()`. */
async function startServer () {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost')
    let body
    let type
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end()
      return
    }
    if (PAGES[url.pathname]) {
      const { bundle, scripts } = PAGES[url.pathname]
      body = fs.readFileSync(path.join(__dirname, 'page.html'), 'utf8')
        .replace('__BUNDLE__', bundle)
        .replace('<script src="/__SCRIPTS__"></script>', scripts.map(s => `<script src="/${s}"></script>`).join('\n'))
      type = TYPES['.html']
    } else if (FILES[url.pathname]) {
      body = fs.readFileSync(FILES[url.pathname])
      type = TYPES[path.extname(url.pathname)]
    } else {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
    res.end(body)
  })
  const wss = new WebSocketServer({ noServer: true })
  const rooms = new Map()
  server.on('upgrade', (req, socket, head) => {
    const match = /^\/relay\/([\w-]+)$/.exec(req.url)
    if (!match) return socket.destroy()
    wss.handleUpgrade(req, socket, head, ws => join(match[1], ws))
  })

  function join (room, ws) {
    const members = rooms.get(room) || []
    if (members.length >= 2) return ws.close(1008, 'room is full')
    members.push({ ws, queue: [] })
    rooms.set(room, members)
    ws.on('message', (data, isBinary) => {
      const other = members.find(m => m.ws !== ws)
      const message = isBinary ? data : data.toString()
      // Held until the other member joins.
      if (other) other.ws.send(message)
      else members.find(m => m.ws === ws).queue.push(message)
    })
    ws.on('close', () => {
      members.splice(members.findIndex(m => m.ws === ws), 1)
      if (members.length === 0) rooms.delete(room)
    })
    if (members.length === 2) {
      for (const [from, to] of [[members[0], members[1]], [members[1], members[0]]]) {
        for (const message of from.queue.splice(0)) to.ws.send(message)
      }
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    relay: room => `ws://127.0.0.1:${port}/relay/${room}`,
    close () {
      for (const client of wss.clients) client.terminate()
      wss.close()
      server.closeAllConnections?.()
      return new Promise(resolve => server.close(() => resolve()))
    }
  }
}

module.exports = { startServer }
