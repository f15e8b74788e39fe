'use strict'
// Real brokers for the cluster and room driver tests: a redis-server or a
// nats-server of its own, on a free loopback port, with a temporary
// directory; never the system service. Both can be stopped and started
// again on the same port (for the fault tests).
const { spawn } = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')

const HOST = '127.0.0.1'

/** A free loopback port (the OS picks it; it is released before use). */
function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** The path of a program: on PATH, or in /usr/sbin (where Debian puts nats-server). */
function which (name) {
  for (const dir of [...(process.env.PATH || '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    if (!dir) continue
    const file = path.join(dir, name)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return file
    } catch { /* not here */ }
  }
  return null
}

/** Resolves once something accepts TCP connections on `port` and `probe` (if given) succeeds. */
async function waitForPort (port, child, probe) {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${child.spawnfile} exited before it listened`)
    const ok = await new Promise(resolve => {
      const socket = net.connect(port, HOST)
      socket.once('connect', () => {
        if (!probe) {
          socket.destroy()
          return resolve(true)
        }
        probe(socket, resolve)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Answers PONG to PING: redis is loaded and serving. */
function redisProbe (socket, resolve) {
  let text = ''
  socket.on('data', data => {
    text += data
    if (text.includes('\r\n')) {
      socket.destroy()
      resolve(text.startsWith('+PONG'))
    }
  })
  socket.once('close', () => resolve(false))
  socket.write('PING\r\n')
}

/**
 * A broker process that can be started, stopped and restarted on the same
 * port. `args(port, dir)` makes its command line.
 */
function broker (name, program, args, probe) {
  return async function start () {
    const bin = which(program)
    if (!bin) throw new Error(`${program} is not installed (apt-get install ${name}; .ci/run does it)`)
    const port = await freePort()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `duplex-peer-${program}-`))
    let child = null
    const handle = {
      port,
      dir,
      /** Starts the process (again) and resolves once it answers. */
      async start () {
        if (child) return
        child = spawn(bin, args(port, dir), { stdio: ['ignore', 'ignore', 'pipe'] })
        child.stderr.resume()
        child.once('exit', () => { child = null })
        await waitForPort(port, child, probe)
      },
      /** Stops it (SIGKILL with `kill: true`) and resolves once it has exited. */
      stop ({ kill = false } = {}) {
        const running = child
        if (!running) return Promise.resolve()
        return new Promise(resolve => {
          running.once('exit', () => resolve())
          running.kill(kill ? 'SIGKILL' : 'SIGTERM')
        })
      },
      /** Stops it for good and removes its directory. */
      async close () {
        await handle.stop()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
    await handle.start()
    return handle
  }
}

/** Starts a redis-server of its own. Resolves with { port, url, start(), stop(), close() }. */
async function startRedis () {
  const handle = await broker('redis-server', 'redis-server', (port, dir) => [
    '--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'
  ], redisProbe)()
  handle.url = `redis://${HOST}:${handle.port}`
  return handle
}

/** Starts a nats-server of its own. Resolves with { port, url, start(), stop(), close() }. */
async function startNats () {
  const handle = await broker('nats-server', 'nats-server', (port) => ['-a', HOST, '-p', String(port)])()
  handle.url = `nats://${HOST}:${handle.port}`
  return handle
}

module.exports = { HOST, freePort, startRedis, startNats }
