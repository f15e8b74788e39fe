/**
 * What `send` and `receive` share: registering with the signaling server,
 * and opening the data connection to the other side.
 */
import { Peer, type PeerOptions, type PeerError, type DataConnection } from '../../peerjs'
import { CliError, EXIT } from './errors'
import { closeOnExit } from './exit'
import { DEFAULT_SERVER, type CliValues } from './options'
import { status } from './output'
import { MAX_STRIPES } from '../stripes/constants'

/** How long to wait for the WebRTC connection once the peer is known (ms). */
const OPEN_TIMEOUT = 30000

/** The signaling server, from `--server`. */
export interface ServerChoice {
  /** Options for `new Peer()`. */
  options: PeerOptions
  /** The server's URL, as messages show it. */
  shown: string
}

/**
 * Reads `--stripes`: an integer 1..{@link MAX_STRIPES} or `auto`; absent, 1.
 * Anything else is a usage error.
 */
export function stripesOption (values: CliValues): number | 'auto' {
  const text = values.stripes
  if (text === undefined) return 1
  if (text === 'auto') return 'auto'
  const count = /^[0-9]+$/.test(text) ? Number(text) : NaN
  if (!(count >= 1 && count <= MAX_STRIPES)) throw new CliError(`Invalid --stripes ${JSON.stringify(text)}: a number of connections from 1 to ${MAX_STRIPES}, or auto`, EXIT.USAGE)
  return count
}

/**
 * Reads `--server` (else `$DUPLEX_PEER_SERVER`, else {@link DEFAULT_SERVER}),
 * `--no-stun` and `--stripes` into PeerJS options.
 */
export function serverOptions (values: CliValues): ServerChoice {
  const stripes = stripesOption(values)
  const text = values.server || process.env.DUPLEX_PEER_SERVER || DEFAULT_SERVER
  let url: URL
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`)
  } catch {
    throw new CliError(`Invalid --server URL: ${text}`, EXIT.USAGE)
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:'
  const options: PeerOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : (secure ? 443 : 80),
    path: url.pathname || '/',
    secure,
    key: url.searchParams.get('key') || 'peerjs'
  }
  if (values['no-stun']) options.config = { iceServers: [] }
  if (stripes !== 1) options.stripes = stripes
  return { options, shown: `${url.protocol}//${url.host}${url.pathname}` }
}

/** A peer registered with the signaling server. */
export interface Registration {
  /** The peer, open. */
  peer: Peer
  /** Its id (the one asked for, or the one the server handed out). */
  id: string
  /** The server's URL, as messages show it. */
  shown: string
}

/**
 * Registers with the server, under `id` if given; resolves once the peer is
 * open. The peer is destroyed when the command exits.
 */
export function register (values: CliValues, id: string | undefined): Promise<Registration> {
  const { options, shown } = serverOptions(values)
  const peer = id ? new Peer(id, options) : new Peer(options)
  closeOnExit(peer)
  return new Promise<Registration>((resolve, reject) => {
    peer.once('open', given => resolve({ peer, id: given, shown }))
    peer.once('error', err => reject(describePeerError(err, shown, id)))
  }).then(registration => {
    // From now on, server trouble does not matter to a running transfer; a missing peer does.
    peer.on('error', () => {})
    return registration
  })
}

/** Explains a PeerJS error: `server` is the server's URL, `id` ours, `remote` the peer we tried to reach. */
export function describePeerError (err: PeerError, server: string, id: string | undefined, remote?: string): CliError {
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

/**
 * Opens the data connection: to `remote` if given, else waits for someone to
 * connect, after printing `waitingHint(id)` (what to run on the other side).
 * Resolves once the connection is open.
 */
export function link (registration: Registration, values: CliValues, remote: string | undefined, waitingHint: (id: string) => string): Promise<DataConnection> {
  const { peer, id, shown } = registration
  return new Promise<DataConnection>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const watch = (conn: DataConnection): void => {
      timer = setTimeout(() => reject(new CliError(`Could not open a WebRTC connection to "${conn.peer}" within ${OPEN_TIMEOUT / 1000} s (firewall? try a STUN/TURN server)`, EXIT.PEER)), OPEN_TIMEOUT)
      timer.unref()
      conn.once('open', () => {
        clearTimeout(timer)
        resolve(conn)
      })
      conn.once('error', err => {
        if (err.type === 'negotiation-failed') reject(new CliError(`WebRTC connection to "${conn.peer}" failed: ${err.message}`, EXIT.PEER))
      })
    }
    if (remote) {
      peer.on('error', err => {
        if (err.type === 'peer-unavailable') reject(describePeerError(err, shown, id, remote))
      })
      const conn = peer.connect(remote, { serialization: 'raw', reliable: true, label: 'duplex-peer-file' })
      // No connection only if the peer has lost the server (or was destroyed) since it opened.
      if (!conn) return reject(new CliError(`Cannot connect to "${remote}": the connection to the signaling server at ${shown} is lost.`, EXIT.FAILED))
      watch(conn)
    } else {
      status(values.quiet, waitingHint(id))
      peer.once('connection', conn => {
        status(values.quiet, `Peer "${conn.peer}" connected.`)
        watch(conn)
      })
    }
  })
}

/** Runs `start(done)`; resolves when it calls back or the connection closes, whichever comes first. */
export function untilClosedOr (conn: DataConnection, start: (done: () => void) => void): Promise<void> {
  return new Promise(resolve => {
    if (conn.destroyed) return resolve()
    const closed = (): void => resolve()
    conn.once('close', closed)
    start(() => {
      conn.removeListener('close', closed)
      resolve()
    })
  })
}
