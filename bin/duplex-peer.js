#!/usr/bin/env node
'use strict'
// duplex-peer: netcat over WebRTC, with peers found by id through a PeerServer.
//
//   duplex-peer server [--port 9000]
//   duplex-peer receive [--id ID] [--server URL] [> FILE]
//   duplex-peer send FILE [--to ID] [--server URL]
//
// One side waits under an id, the other connects to that id (`send --to` or
// `receive --from`). The file travels over a WebRTC data channel; the
// receiver checks its SHA-256 on arrival. Progress goes to stderr.

const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const { parseArgs } = require('util')

const DEFAULT_SERVER = 'http://127.0.0.1:9000/'
/** Exit codes. */
const EXIT = { OK: 0, FAILED: 1, USAGE: 2, SERVER: 3, PEER: 4 }
/** How long to wait for the WebRTC connection once the peer is known (ms). */
const OPEN_TIMEOUT = 30000
const CHUNK = 64 * 1024

const USAGE = `Usage:
  duplex-peer server [--port 9000] [--host ::] [--path /] [--key peerjs] [--allow-discovery]
      Runs a signaling server (PeerServer protocol; PeerJS clients can use it too).

  duplex-peer receive [--id ID] [--from ID] [--out FILE] [--server URL] [> FILE]
      Receives one file. Without --from, waits under ID (or an id the server
      hands out) for a sender; with --from, fetches from a waiting sender.
      Writes the data to stdout, or to --out FILE.

  duplex-peer send FILE [--to ID] [--id ID] [--server URL]
      Sends FILE. With --to, sends to a waiting receiver; without, waits under
      ID (or an id the server hands out) for a receiver.

Options:
  --server URL   signaling server, e.g. http://host:9000/ or https://host/path?key=KEY
                 (default $DUPLEX_PEER_SERVER or ${DEFAULT_SERVER})
  --no-stun      no STUN servers (local networks only)
  --quiet        no progress output
  -h, --help     this text
  -v, --version  the version

Exit status: 0 done, 1 transfer failed, 2 usage or file error, 3 server unreachable
or refused, 4 peer unavailable or WebRTC connection failed.`

class CliError extends Error {
  constructor (message, code) {
    super(message)
    this.code = code
  }
}

function main (argv) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        path: { type: 'string' },
        key: { type: 'string', short: 'k' },
        'allow-discovery': { type: 'boolean' },
        'expire-timeout': { type: 'string' },
        server: { type: 'string', short: 's' },
        id: { type: 'string' },
        to: { type: 'string' },
        from: { type: 'string' },
        out: { type: 'string', short: 'o' },
        'no-stun': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' }
      }
    })
  } catch (err) {
    return fail(new CliError(`${err.message}\n\n${USAGE}`, EXIT.USAGE))
  }
  const { values, positionals } = parsed
  if (values.version) {
    process.stdout.write(require('../package.json').version + '\n')
    return
  }
  const [command, ...rest] = positionals
  if (values.help || !command) {
    process.stdout.write(USAGE + '\n')
    if (!values.help) process.exitCode = EXIT.USAGE
    return
  }
  // `serve` is an alias of `server`.
  const run = { server: serve, serve, send, receive }[command]
  if (!run) return fail(new CliError(`Unknown command "${command}"\n\n${USAGE}`, EXIT.USAGE))
  Promise.resolve().then(() => run(values, rest)).then(code => {
    if (typeof code === 'number') exit(code)
  }, fail)
}

// ---- serve -----------------------------------------------------------------

function serve (values) {
  const { PeerServer } = require('../dist/server.js')
  const options = {
    port: values.port !== undefined ? parseNumber(values.port, '--port') : 9000,
    path: values.path || '/',
    key: values.key || 'peerjs',
    allow_discovery: !!values['allow-discovery']
  }
  if (values.host) options.host = values.host
  if (values['expire-timeout']) options.expire_timeout = parseNumber(values['expire-timeout'], '--expire-timeout')
  let server
  try {
    server = PeerServer(options)
  } catch (err) {
    throw new CliError(err.message, EXIT.USAGE)
  }
  return new Promise((resolve, reject) => {
    server.on('error', err => reject(new CliError(`Cannot start the server: ${err.message}`, EXIT.SERVER)))
    server.on('listening', () => {
      const address = server.address()
      const host = !address.address || address.address === '::' || address.address === '0.0.0.0' ? 'localhost' : address.address
      const shown = host.includes(':') ? `[${host}]` : host
      const base = `http://${shown}:${address.port}${options.path === '/' ? '/' : options.path.replace(/\/?$/, '/')}`
      // The first line is for scripts: the port.
      process.stdout.write(`listening on port ${address.port}\n`)
      process.stderr.write(`duplex-peer signaling server at ${base} (key "${options.key}")\n` +
        `  receive: npx duplex-peer receive --server ${base}${options.key === 'peerjs' ? '' : `?key=${options.key}`} > FILE\n`)
      if (!values.quiet) {
        server.on('connection', c => process.stderr.write(`+ ${c.getId()}\n`))
        server.on('disconnect', c => process.stderr.write(`- ${c.getId()}\n`))
      }
      const stop = () => server.close(() => resolve(EXIT.OK))
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  })
}

// ---- send and receive ---------------------------------------------------------

/** Reads --server into PeerJS options. */
function serverOptions (values) {
  const text = values.server || process.env.DUPLEX_PEER_SERVER || DEFAULT_SERVER
  let url
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`)
  } catch {
    throw new CliError(`Invalid --server URL: ${text}`, EXIT.USAGE)
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:'
  const options = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : (secure ? 443 : 80),
    path: url.pathname || '/',
    secure,
    key: url.searchParams.get('key') || 'peerjs'
  }
  if (values['no-stun']) options.config = { iceServers: [] }
  return { options, shown: `${url.protocol}//${url.host}${url.pathname}` }
}

/** Registers with the server; resolves with the open Peer. */
function register (values, id) {
  const { Peer } = require('../dist/peerjs.js')
  const { options, shown } = serverOptions(values)
  const peer = id ? new Peer(id, options) : new Peer(options)
  peers.add(peer)
  return new Promise((resolve, reject) => {
    peer.once('open', () => resolve({ peer, shown }))
    peer.once('error', err => reject(describePeerError(err, shown, id)))
  }).then(result => {
    // From now on, server trouble does not matter to a running transfer; a missing peer does.
    peer.on('error', () => {})
    return result
  })
}

function describePeerError (err, server, id, remote) {
  switch (err.type) {
    case 'peer-unavailable':
      return new CliError(`Peer "${remote}" is not connected to the signaling server at ${server}. Is the other side running, with the same --server?`, EXIT.PEER)
    case 'unavailable-id':
      return new CliError(`The id "${id}" is already in use on ${server}. Choose another --id.`, EXIT.SERVER)
    case 'invalid-id':
      return new CliError(`Invalid id "${id}": use letters, digits, and single - _ or spaces between them.`, EXIT.USAGE)
    case 'socket-error':
    case 'server-error':
    case 'network':
    case 'socket-closed':
      return new CliError(`Cannot use the signaling server at ${server}: ${err.message}`, EXIT.SERVER)
    default:
      return new CliError(`${err.type}: ${err.message}`, EXIT.FAILED)
  }
}

/** Connects to `remote`, or waits for someone to connect; resolves with an open DataConnection. */
function link (peer, shown, values, remote, waitingHint) {
  return new Promise((resolve, reject) => {
    let timer = null
    const opened = conn => {
      clearTimeout(timer)
      resolve(conn)
    }
    const watch = conn => {
      timer = setTimeout(() => reject(new CliError(`Could not open a WebRTC connection to "${conn.peer}" within ${OPEN_TIMEOUT / 1000} s (firewall? try a STUN/TURN server)`, EXIT.PEER)), OPEN_TIMEOUT)
      timer.unref()
      conn.once('open', () => opened(conn))
      conn.once('error', err => {
        if (err.type === 'negotiation-failed') reject(new CliError(`WebRTC connection to "${conn.peer}" failed: ${err.message}`, EXIT.PEER))
      })
    }
    if (remote) {
      peer.on('error', err => {
        if (err.type === 'peer-unavailable') reject(describePeerError(err, shown, peer.id, remote))
      })
      const conn = peer.connect(remote, { serialization: 'raw', reliable: true, label: 'duplex-peer-file' })
      watch(conn)
    } else {
      status(values, waitingHint(peer.id))
      peer.once('connection', conn => {
        status(values, `Peer "${conn.peer}" connected.`)
        watch(conn)
      })
    }
  })
}

async function send (values, rest) {
  const file = rest[0]
  if (!file) throw new CliError(`send needs a FILE\n\n${USAGE}`, EXIT.USAGE)
  let stat
  try {
    stat = fs.statSync(file)
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, EXIT.USAGE)
  }
  if (!stat.isFile()) throw new CliError(`Not a file: ${file}`, EXIT.USAGE)
  const { peer, shown } = await register(values, values.id)
  const server = values.server ? ` --server ${values.server}` : ''
  const conn = await link(peer, shown, values, values.to,
    id => `Waiting for a receiver. On the other machine:\n  npx duplex-peer receive --from ${id}${server} > ${path.basename(file)}`)
  status(values, `Sending ${path.basename(file)} (${formatBytes(stat.size)}) to "${conn.peer}".`)

  const hash = crypto.createHash('sha256')
  const progress = new Progress(values, stat.size, 'sent')
  let verdict = null
  const answered = new Promise((resolve, reject) => {
    conn.on('data', data => {
      if (typeof data !== 'string') return
      let message
      try { message = JSON.parse(data) } catch { return }
      if (message.type === 'ok' || message.type === 'error') {
        verdict = message
        resolve(message)
      }
    })
    conn.once('close', () => {
      if (!verdict) reject(new CliError(`The connection to "${conn.peer}" closed before the receiver confirmed the file (${formatBytes(progress.done)} sent).`, EXIT.FAILED))
    })
  })
  answered.catch(() => {})

  conn.write(JSON.stringify({ type: 'file', name: path.basename(file), size: stat.size }))
  await new Promise((resolve, reject) => {
    const input = fs.createReadStream(file, { highWaterMark: CHUNK })
    input.on('error', err => reject(new CliError(`Cannot read ${file}: ${err.message}`, EXIT.FAILED)))
    input.on('data', chunk => {
      hash.update(chunk)
      const more = conn.write(chunk, () => progress.add(chunk.length))
      if (!more) {
        input.pause()
        conn.once('drain', () => input.resume())
      }
    })
    input.on('end', resolve)
    conn.once('close', () => reject(new CliError(`The connection to "${conn.peer}" closed during the transfer.`, EXIT.FAILED)))
  })
  const digest = hash.digest('hex')
  conn.write(JSON.stringify({ type: 'end', size: stat.size, sha256: digest }))
  const result = await answered
  progress.finish()
  conn.end()
  peer.destroy()
  if (result.type === 'ok') {
    status(values, `Done: ${formatBytes(stat.size)} sent, SHA-256 ${digest} confirmed by the receiver.`)
    return EXIT.OK
  }
  throw new CliError(`The receiver reports a failure: ${result.message}`, EXIT.FAILED)
}

async function receive (values) {
  const toTerminal = !values.out && process.stdout.isTTY
  if (toTerminal) throw new CliError('Refusing to write a file to the terminal: redirect stdout (> FILE) or use --out FILE.', EXIT.USAGE)
  const { peer, shown } = await register(values, values.id)
  const server = values.server ? ` --server ${values.server}` : ''
  const conn = await link(peer, shown, values, values.from,
    id => `Waiting for a sender. On the other machine:\n  npx duplex-peer send FILE --to ${id}${server}`)
  const output = values.out ? fs.createWriteStream(values.out) : process.stdout
  const outputFailed = new Promise((resolve, reject) => output.once('error', err => reject(new CliError(`Cannot write ${values.out || 'stdout'}: ${err.message}`, EXIT.FAILED))))
  outputFailed.catch(() => {})

  const hash = crypto.createHash('sha256')
  let header = null
  let received = 0
  let progress = null
  const result = await Promise.race([outputFailed, new Promise((resolve, reject) => {
    conn.on('data', data => {
      if (typeof data === 'string') {
        let message
        try { message = JSON.parse(data) } catch { return }
        if (message.type === 'file' && !header) {
          header = message
          progress = new Progress(values, message.size, 'received')
          status(values, `Receiving ${message.name} (${formatBytes(message.size)}) from "${conn.peer}".`)
        } else if (message.type === 'end') {
          resolve(message)
        }
        return
      }
      if (!header) return
      received += data.length
      hash.update(data)
      progress.add(data.length)
      if (!output.write(data)) {
        conn.pause()
        output.once('drain', () => conn.resume())
      }
    })
    conn.once('close', () => reject(new CliError(`The connection to "${conn.peer}" closed before the file was complete (${formatBytes(received)}${header ? ` of ${formatBytes(header.size)}` : ''} received).`, EXIT.FAILED)))
  })])
  progress && progress.finish()
  const digest = hash.digest('hex')
  await new Promise(resolve => output === process.stdout ? resolve() : output.end(resolve))
  const ok = received === result.size && digest === result.sha256
  const reply = ok ? { type: 'ok' } : { type: 'error', message: received !== result.size ? `size mismatch: ${received} of ${result.size} bytes` : 'SHA-256 mismatch' }
  await untilClosedOr(conn, done => conn.write(JSON.stringify(reply), done))
  await untilClosedOr(conn, done => conn.end(done))
  peer.destroy()
  if (!ok) throw new CliError(`Transfer corrupted: ${reply.message} (expected SHA-256 ${result.sha256}, got ${digest}).`, EXIT.FAILED)
  status(values, `Done: ${formatBytes(received)} received, SHA-256 ${digest} verified.`)
  return EXIT.OK
}

// ---- progress ------------------------------------------------------------------

class Progress {
  constructor (values, total, verb) {
    this.quiet = !!values.quiet
    this.total = total
    this.verb = verb
    this.done = 0
    this.start = Date.now()
    this.lastDraw = 0
    this.tty = !!process.stderr.isTTY
  }

  add (bytes) {
    this.done += bytes
    const now = Date.now()
    // A terminal is redrawn ten times a second; a log gets a line a second.
    if (now - this.lastDraw >= (this.tty ? 100 : 1000)) this.draw(now)
  }

  finish () {
    this.draw(Date.now(), true)
  }

  draw (now, final = false) {
    if (this.quiet) return
    this.lastDraw = now
    const seconds = Math.max(0.001, (now - this.start) / 1000)
    const rate = this.done / seconds
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1
    const width = 24
    const filled = Math.round(fraction * width)
    const eta = rate > 0 && !final ? formatDuration((this.total - this.done) / rate) : final ? formatDuration(seconds) : '--'
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
      `${formatBytes(this.done)} / ${formatBytes(this.total)} ${this.verb}  ${formatBytes(rate)}/s  ${final ? 'in' : 'ETA'} ${eta}`
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`)
    else process.stderr.write(line + '\n')
  }
}

function formatBytes (n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

function formatDuration (seconds) {
  if (!isFinite(seconds)) return '--'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
}

// ---- plumbing ------------------------------------------------------------------

/** Runs `start(done)`; resolves when it calls back or the connection closes, whichever comes first. */
function untilClosedOr (conn, start) {
  return new Promise(resolve => {
    if (conn.destroyed) return resolve()
    conn.once('close', resolve)
    start(() => {
      conn.removeListener('close', resolve)
      resolve()
    })
  })
}

function parseNumber (text, name) {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name} must be a whole number, got "${text}"`, EXIT.USAGE)
  return n
}

function status (values, message) {
  if (!values.quiet || /^Waiting/.test(message)) process.stderr.write(message + '\n')
}

function fail (err) {
  const code = err instanceof CliError ? err.code : EXIT.FAILED
  process.stderr.write(`duplex-peer: ${err instanceof CliError ? err.message : (err && err.stack) || err}\n`)
  exit(code)
}

/** Peers to close before exiting. */
const peers = new Set()

/**
 * Ends the process with `code`. Peers are destroyed and the process is left
 * to exit by itself once they have closed: calling process.exit() while
 * @roamhq/wrtc is still tearing a connection down can crash it. A timer
 * forces the exit if something still holds the process after a while.
 */
function exit (code) {
  process.exitCode = code
  for (const peer of peers) peer.destroy()
  peers.clear()
  setTimeout(() => process.exit(code), 5000).unref()
}

main(process.argv.slice(2))
