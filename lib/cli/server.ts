/** `duplex-peer server` (or `serve`): runs a signaling server until SIGINT or SIGTERM. */
import { PeerServer, type PeerServerOptions, type PeerServerInstance } from '../../server'
import { CliError, EXIT, messageOf, type ExitCode } from './errors'
import type { CliValues } from './options'
import { demoHandler } from './demo'

/**
 * Starts the server; prints `listening on port PORT` on stdout once it
 * listens, then how to use it on stderr. Resolves with {@link EXIT.OK} once
 * stopped by SIGINT or SIGTERM; rejects with a {@link CliError} if it
 * cannot start.
 */
export function serve (values: CliValues): Promise<ExitCode> {
  const path = values.path || '/'
  const key = values.key || 'peerjs'
  const options: PeerServerOptions = {
    port: values.port !== undefined ? parseNumber(values.port, '--port') : 9000,
    path,
    key,
    allow_discovery: !!values['allow-discovery']
  }
  if (values.host) options.host = values.host
  if (values['expire-timeout']) options.expire_timeout = parseNumber(values['expire-timeout'], '--expire-timeout')
  if (values.redis) options.redis = values.redis
  if (values['redis-lease']) options.redis_lease = parseNumber(values['redis-lease'], '--redis-lease')
  let server: PeerServerInstance
  try {
    server = PeerServer(options)
  } catch (err) {
    throw new CliError(messageOf(err), EXIT.USAGE)
  }
  // Before the server's own listener, which leaves answered requests alone.
  if (values.demo) server.server.prependListener('request', demoHandler(path))
  return new Promise((resolve, reject) => {
    server.on('error', err => reject(new CliError(`Cannot start the server: ${err.message}`, EXIT.SERVER)))
    server.on('listening', () => {
      const address = server.address()
      const info = address !== null && typeof address === 'object' ? address : { address: '', port: options.port }
      const host = !info.address || info.address === '::' || info.address === '0.0.0.0' ? 'localhost' : info.address
      const shown = host.includes(':') ? `[${host}]` : host
      const base = `http://${shown}:${info.port}${path === '/' ? '/' : path.replace(/\/?$/, '/')}`
      // The first line is for scripts: the port.
      process.stdout.write(`listening on port ${info.port}\n`)
      process.stderr.write(`duplex-peer signaling server at ${base} (key "${key}")\n` +
        `  receive: npx duplex-peer receive --server ${base}${key === 'peerjs' ? '' : `?key=${key}`} > FILE\n` +
        (server.roomsPath ? `  rooms (WebSocketDriver): ws://${shown}:${info.port}${server.roomsPath}\n` : '') +
        (values.demo ? `  demo page: ${base}demo/   terminal: npx duplex-peer room --server ${base} --name NAME ROOM\n` : ''))
      if (!values.quiet) {
        server.on('connection', client => process.stderr.write(`+ ${client.getId()}\n`))
        server.on('disconnect', client => process.stderr.write(`- ${client.getId()}\n`))
      }
      const stop = (): void => server.close(() => resolve(EXIT.OK))
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  })
}

/** Reads a whole number ≥ 0 given to option `name`; a usage error otherwise. */
function parseNumber (text: string, name: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name} must be a whole number, got "${text}"`, EXIT.USAGE)
  return n
}
