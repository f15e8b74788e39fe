/**
 * Options of the signaling server: those of the `peer` package 1.x, with the
 * same names and defaults, plus limits that protect the server.
 */
import type { ServerOptions as WebSocketServerOptions, WebSocketServer } from 'ws'
import { MAX_TOPIC_BYTES } from '../room/drivers/relay-protocol'

/** Which origins may call the HTTP API from a browser. */
export interface CorsOptions {
  /**
   * `true` (default) allows any origin, answering with the request's own;
   * `false` sends no CORS headers; a string or list allows those origins only.
   */
  origin?: boolean | string | string[]
}

/** Options of {@link PeerServer}, all optional. */
export interface PeerServerOptions {
  /** Port to listen on. Default `9000`; `0` picks a free one. */
  port?: number
  /** Address to listen on. Default `'::'` (every address, IPv4 included where the system allows). */
  host?: string
  /** Path the server is mounted at. Default `'/'`. The WebSocket is at `{path}/peerjs`. */
  path?: string
  /** The key clients must give. Default `'peerjs'`. */
  key?: string
  /** How long (ms) a message for a peer that is not connected is held before its sender gets `EXPIRE`. Default `5000`. */
  expire_timeout?: number
  /** A client that has sent no `HEARTBEAT` for this long (ms) is disconnected. Default `90000`. */
  alive_timeout?: number
  /** Most clients connected at once. Default `5000`. */
  concurrent_limit?: number
  /** Whether `GET {path}/{key}/peers` lists the connected ids. Default `false`. */
  allow_discovery?: boolean
  /** Accepted for compatibility with `peer`; this server does not use client addresses. */
  proxied?: boolean | string
  /** Accepted for compatibility with `peer`; held messages expire on their own timer here. */
  cleanup_out_msgs?: number
  /** TLS key and certificate: the server is then HTTPS and the WebSocket `wss:`. */
  ssl?: {
    /** The private key (PEM). */
    key: string | Buffer
    /** The certificate (PEM). */
    cert: string | Buffer
  }
  /** Makes the ids that `GET {path}/{key}/id` hands out. Default: random UUIDs. */
  generateClientId?: () => string
  /** Makes the WebSocket server, given `ws` options (with `noServer: true`). Default: `new WebSocketServer(options)`. */
  createWebSocketServer?: (options: WebSocketServerOptions) => WebSocketServer
  /** CORS of the HTTP API. Default `{ origin: true }`. */
  corsOptions?: CorsOptions
  /** Largest message (bytes) a client may send. Default `65536`. */
  max_message_size?: number
  /** Messages per second a connection may send on average. Default `100`. */
  rate_limit?: number
  /** Messages a connection may send in a burst above {@link rate_limit}. Default `200`. */
  rate_burst?: number
  /** Most messages held for one peer that is not connected. Default `100`. */
  max_held_messages?: number
  /** Most bytes held for peers that are not connected, in all. Default `8 MiB`. */
  max_held_bytes?: number
  /** Longest id accepted (characters). Default `128`. */
  max_id_length?: number
  /**
   * The room relay at `{path}/rooms` (the broker of `duplex-peer/room`'s
   * `WebSocketDriver`): `true` (default) with the default limits, an object
   * to change them, `false` to turn it off.
   */
  rooms?: boolean | RoomRelayOptions
  /**
   * Runs this server as one node of a cluster sharing state through Redis
   * (`redis://host:6379`, `rediss://` for TLS; needs the `redis` package).
   * Every node given the same Redis and `key` serves the same peers: ids are
   * unique cluster-wide and messages reach a peer whichever node it is on.
   * Default: none (everything in this process's memory).
   */
  redis?: string
  /**
   * With {@link redis}: how long (ms) a node that stopped answering (killed,
   * or cut off from Redis) keeps its ids; they are free afterwards. Nodes
   * renew it every third of it. Default `15000`.
   */
  redis_lease?: number
}

/** Limits of the room relay, all optional. */
export interface RoomRelayOptions {
  /** Longest topic (bytes, at most 255). Default `128`. */
  max_topic_length?: number
  /** Largest payload a client may publish (bytes). Default `65536`. */
  max_message_size?: number
  /** Most topics one client may subscribe to at once. Default `64`. */
  max_subscriptions?: number
  /** Messages per second a client may send on average. Default `100`. */
  rate_limit?: number
  /** Messages a client may send in a burst above {@link rate_limit}. Default `200`. */
  rate_burst?: number
  /** Most relay clients connected at once. Default `5000`. */
  max_clients?: number
  /** A client with more than this many bytes waiting in its socket is cut off as not reading. Default `4 MiB`. */
  max_buffered_bytes?: number
  /** A client that has not answered a WebSocket ping for this long (ms) is cut off. Default `30000`. */
  ping_interval?: number
}

/** The relay limits in effect. */
export type ResolvedRelayOptions = Required<RoomRelayOptions>

/** The relay's defaults. */
export const RELAY_DEFAULTS: Readonly<ResolvedRelayOptions> = Object.freeze({
  max_topic_length: 128,
  max_message_size: 64 * 1024,
  max_subscriptions: 64,
  rate_limit: 100,
  rate_burst: 200,
  max_clients: 5000,
  max_buffered_bytes: 4 * 1024 * 1024,
  ping_interval: 30000
})

/** The options in effect: every default filled in. */
export interface ResolvedOptions extends Required<Omit<PeerServerOptions, 'ssl' | 'generateClientId' | 'createWebSocketServer' | 'rooms' | 'redis'>> {
  /** As given; `null` without a cluster. */
  redis: string | null
  /** The room relay's limits, `false` if it is off. */
  rooms: ResolvedRelayOptions | false
  /** As given. */
  ssl?: PeerServerOptions['ssl']
  /** As given. */
  generateClientId?: PeerServerOptions['generateClientId']
  /** As given. */
  createWebSocketServer?: PeerServerOptions['createWebSocketServer']
}

/** The defaults, as `peer` 1.x has them where it has them. */
export const DEFAULTS: Readonly<ResolvedOptions> = Object.freeze({
  port: 9000,
  host: '::',
  path: '/',
  key: 'peerjs',
  expire_timeout: 5000,
  alive_timeout: 90000,
  concurrent_limit: 5000,
  allow_discovery: false,
  proxied: false,
  cleanup_out_msgs: 1000,
  corsOptions: { origin: true },
  max_message_size: 64 * 1024,
  rate_limit: 100,
  rate_burst: 200,
  max_held_messages: 100,
  max_held_bytes: 8 * 1024 * 1024,
  max_id_length: 128,
  rooms: RELAY_DEFAULTS,
  redis: null,
  redis_lease: 15000
})

/**
 * Fills in the defaults and checks every option. Throws a `TypeError` naming
 * the first bad one: a server that starts misconfigured is worse than one that
 * does not start.
 */
export function resolveOptions (options: PeerServerOptions = {}): ResolvedOptions {
  const given: PeerServerOptions = {}
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) (given as Record<string, unknown>)[name] = value
  }
  const { rooms, ...rest } = given
  const resolved: ResolvedOptions = { ...DEFAULTS, ...rest, rooms: resolveRelayOptions(rooms) }
  // Ports often come from the environment, as text.
  if (typeof resolved.port === 'string' && /^\d+$/.test(resolved.port)) resolved.port = Number(resolved.port)
  resolved.path = normalizePath(resolved.path)
  checkInteger(resolved, 'port', 0, 65535)
  for (const name of ['expire_timeout', 'alive_timeout', 'concurrent_limit', 'max_message_size', 'rate_burst',
    'max_held_messages', 'max_held_bytes', 'max_id_length'] as const) {
    checkInteger(resolved, name, 1, Number.MAX_SAFE_INTEGER)
  }
  if (typeof resolved.rate_limit !== 'number' || !(resolved.rate_limit > 0)) {
    throw new TypeError(`PeerServer option rate_limit must be a positive number, got ${String(resolved.rate_limit)}`)
  }
  if (typeof resolved.key !== 'string' || resolved.key === '' || resolved.key.length > 256) {
    throw new TypeError('PeerServer option key must be a non-empty string of at most 256 characters')
  }
  if (typeof resolved.host !== 'string') throw new TypeError('PeerServer option host must be a string')
  if (resolved.generateClientId !== undefined && typeof resolved.generateClientId !== 'function') {
    throw new TypeError('PeerServer option generateClientId must be a function')
  }
  if (resolved.createWebSocketServer !== undefined && typeof resolved.createWebSocketServer !== 'function') {
    throw new TypeError('PeerServer option createWebSocketServer must be a function')
  }
  resolved.allow_discovery = !!resolved.allow_discovery
  if (resolved.redis !== null && (typeof resolved.redis !== 'string' || !/^rediss?:\/\/./.test(resolved.redis))) {
    throw new TypeError('PeerServer option redis must be a redis:// or rediss:// URL')
  }
  checkInteger(resolved, 'redis_lease', 100, 24 * 3600 * 1000)
  return resolved
}

/** The relay's limits from the `rooms` option (`false` when it is off). */
export function resolveRelayOptions (rooms: unknown): ResolvedRelayOptions | false {
  if (rooms === undefined || rooms === true) return { ...RELAY_DEFAULTS }
  if (rooms === false) return false
  if (typeof rooms !== 'object' || rooms === null || Array.isArray(rooms)) {
    throw new TypeError('PeerServer option rooms must be a boolean or an object of relay limits')
  }
  const resolved: Record<string, unknown> = { ...RELAY_DEFAULTS }
  for (const [name, value] of Object.entries(rooms)) {
    if (!(name in RELAY_DEFAULTS)) throw new TypeError(`PeerServer option rooms.${name} is not a relay option`)
    if (value !== undefined) resolved[name] = value
  }
  for (const name of Object.keys(RELAY_DEFAULTS)) {
    const value = resolved[name]
    if (name === 'rate_limit') {
      if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
        throw new TypeError(`PeerServer option rooms.rate_limit must be a positive number, got ${String(value)}`)
      }
      continue
    }
    const max = name === 'max_topic_length' ? MAX_TOPIC_BYTES : Number.MAX_SAFE_INTEGER
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      throw new TypeError(`PeerServer option rooms.${name} must be an integer from 1 to ${max}, got ${String(value)}`)
    }
  }
  return resolved as unknown as ResolvedRelayOptions
}

/** `'/'`, or the path with one leading and no trailing slash. */
export function normalizePath (path: unknown): string {
  if (typeof path !== 'string') throw new TypeError('PeerServer option path must be a string')
  const trimmed = path.replace(/\/+$/, '')
  if (trimmed === '') return '/'
  return trimmed.startsWith('/') ? trimmed : '/' + trimmed
}

function checkInteger (options: ResolvedOptions, name: keyof ResolvedOptions, min: number, max: number): void {
  const value = options[name]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    // The value as given, whatever it is (an option from a config file may be anything).
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    throw new TypeError(`PeerServer option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
}
