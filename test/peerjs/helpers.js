'use strict'
// Helpers for the signaling server and PeerJS client tests: servers on
// loopback (ours and the `peer` package's) and bare WebSocket clients.
const WebSocket = require('ws')
const { PeerServer } = require('../../dist/server.js')

const HOST = '127.0.0.1'
/** No STUN servers: everything is on loopback. */
const RTC_CONFIG = { iceServers: [] }

/** Starts our server on a free port. Resolves with { instance, port, close() }. */
function startServer (options = {}) {
  return new Promise((resolve, reject) => {
    const instance = PeerServer({ port: 0, host: HOST, ...options }, server => {
      resolve({ instance, port: server.address().port, close: () => new Promise(r => instance.close(() => r())) })
    })
    instance.once('error', reject)
  })
}

/**
 * Starts the `peer` package's server (peer@1.0.2) in a child process (its
 * timers would keep this one alive). Resolves with { port, close() }.
 */
function startReferenceServer (options = {}) {
  const { fork } = require('child_process')
  const path = require('path')
  const child = fork(path.join(__dirname, 'reference-server.js'), [JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('message', ({ port }) => resolve({
      port,
      close: () => new Promise(r => {
        if (child.exitCode !== null) return r()
        child.once('exit', () => r())
        child.kill()
      })
    }))
  })
}

/**
 * A bare WebSocket client of the PeerServer protocol. `next()` resolves with
 * the next message (optionally of a type); `closed` with { code, reason }.
 */
function wsClient (port, { id, token = 'tok', key = 'peerjs', path = '/', query } = {}) {
  const base = `ws://${HOST}:${port}${path === '/' ? '' : path}/peerjs`
  const params = query ?? `key=${encodeURIComponent(key)}&id=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}`
  const ws = new WebSocket(`${base}?${params}`)
  const inbox = []
  const waiters = []
  ws.on('message', data => {
    const message = JSON.parse(String(data))
    const at = waiters.findIndex(w => !w.type || w.type === message.type)
    if (at !== -1) waiters.splice(at, 1)[0].resolve(message)
    else inbox.push(message)
  })
  ws.on('error', () => {})
  const closed = new Promise(resolve => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })))
  const opened = new Promise(resolve => ws.on('open', resolve))
  return {
    ws,
    inbox,
    opened,
    closed,
    /** Resolves with the next message (of `type`, if given; others stay in the inbox). */
    next (type) {
      const at = inbox.findIndex(m => !type || m.type === type)
      if (at !== -1) return Promise.resolve(inbox.splice(at, 1)[0])
      return new Promise(resolve => waiters.push({ type, resolve }))
    },
    send (message) { ws.send(typeof message === 'string' ? message : JSON.stringify(message)) },
    close () { ws.close(); return closed }
  }
}

/** Opens a client and waits for OPEN. */
async function registered (port, options) {
  const client = wsClient(port, options)
  const first = await client.next()
  if (first.type !== 'OPEN') throw new Error(`expected OPEN, got ${JSON.stringify(first)}`)
  return client
}

function get (port, path, headers = {}) {
  return fetch(`http://${HOST}:${port}${path}`, { headers })
}

module.exports = { HOST, RTC_CONFIG, startServer, startReferenceServer, wsClient, registered, get }

/** A duplex-peer/peerjs Peer on loopback; resolves once it is open. */
function openPeer (port, id, options = {}) {
  const { Peer } = require('../../dist/peerjs.js')
  const opts = { host: HOST, port, config: RTC_CONFIG, ...options }
  const peer = id ? new Peer(id, opts) : new Peer(opts)
  return new Promise((resolve, reject) => {
    peer.once('open', () => resolve(peer))
    peer.once('error', reject)
  })
}

/** Resolves with the next `event` of `emitter` (its first argument). */
function once (emitter, event) {
  return new Promise(resolve => emitter.once(event, resolve))
}

/** Resolves with the next error of `emitter`. */
function nextError (emitter) {
  return once(emitter, 'error')
}

/** Resolves with `count` messages from `connection`, or with fewer if it closes first. */
function collect (connection, count) {
  return new Promise(resolve => {
    const got = []
    const done = () => {
      connection.removeListener('data', onData)
      connection.removeListener('close', done)
      resolve(got)
    }
    const onData = data => {
      got.push(data)
      if (got.length === count) done()
    }
    connection.on('data', onData)
    connection.on('close', done)
  })
}

module.exports.openPeer = openPeer
module.exports.once = once
module.exports.nextError = nextError
module.exports.collect = collect
