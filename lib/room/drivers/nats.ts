/**
 * `NatsDriver`: a signaling driver on NATS core pub/sub. In Node it uses
 * `@nats-io/transport-node` (an optional peer dependency, loaded only
 * here); in browsers pass `connect: wsconnect` from `@nats-io/nats-core`
 * (its WebSocket client). The NATS client reconnects and subscribes again
 * on its own; the driver is `'active'` while connected. A room topic is the
 * subject `{prefix}.{topic in base64url}` (topics are arbitrary strings,
 * subjects are not).
 */
import { EventEmitter } from 'events'
import createDebug = require('debug')
import { DEBUG_NAMESPACE } from '../../constants'
import { requireOptional } from '../../optional'
import type { Driver, DriverState, MessageHandler } from './driver'
import { roomError, RoomErrorCode } from '../errors'

const debug = createDebug(DEBUG_NAMESPACE + ':room:nats')

/** The part of a NATS message the driver uses. */
export interface NatsMessageLike {
  /** The payload. */
  readonly data: Uint8Array
}

/** The part of a NATS subscription the driver uses. */
export interface NatsSubscriptionLike {
  /** Ends the subscription. */
  unsubscribe (): void
}

/** The part of a NATS connection (`@nats-io/nats-core`'s `NatsConnection`) the driver uses. */
export interface NatsConnectionLike {
  /** Publishes `payload` on `subject`. */
  publish (subject: string, payload: Uint8Array): void
  /** Subscribes to `subject`, calling `callback` with each message. */
  subscribe (subject: string, options: { callback: (err: Error | null, msg: NatsMessageLike) => void }): NatsSubscriptionLike
  /** Resolves once the server processed everything sent so far. */
  flush (): Promise<void>
  /** Closes the connection. */
  close (): Promise<void>
  /** Connection status changes. */
  status (): AsyncIterable<{ type: string }>
}

/** Options of {@link NatsDriver}. */
export interface NatsDriverOptions {
  /** The server(s), e.g. `nats://localhost:4222` (or `ws://` URLs with `wsconnect`). */
  servers: string | string[]
  /** First token(s) of the subjects, so that rooms share a NATS with other uses. Default `'duplex-peer.room'`. */
  prefix?: string
  /** Largest payload `publish()` accepts (bytes). Default `65536`. */
  maxMessageSize?: number
  /**
   * Connects to NATS (given the servers and reconnection settings).
   * Default: `connect` of `@nats-io/transport-node`. In browsers: `wsconnect` of `@nats-io/nats-core`.
   */
  connect?: (options: Record<string, unknown>) => Promise<NatsConnectionLike>
}

/** A {@link Driver} on NATS core pub/sub. */
export class NatsDriver extends EventEmitter implements Driver {
  /** The NATS server(s). */
  readonly servers: string[]
  private readonly prefix: string
  private readonly maxMessageSize: number
  private readonly subscriptions = new Map<string, { handler: MessageHandler, sub: NatsSubscriptionLike | null }>()
  private connection: NatsConnectionLike | null = null
  private current: DriverState = 'inactive'
  private closed = false
  private readonly connect: (options: Record<string, unknown>) => Promise<NatsConnectionLike>
  private attempts = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null

  /**
   * Connects to NATS (a server URL, or the options). Throws
   * `ERR_MISSING_DEPENDENCY` in Node if `@nats-io/transport-node` is not
   * installed and no `connect` is given.
   */
  constructor (options: string | NatsDriverOptions) {
    super()
    const opts: NatsDriverOptions = typeof options === 'string' ? { servers: options } : options
    const servers = opts ? (Array.isArray(opts.servers) ? opts.servers : [opts.servers]) : []
    if (servers.length === 0 || !servers.every(s => typeof s === 'string' && s !== '')) {
      throw roomError('NatsDriver needs a server URL', RoomErrorCode.INVALID_OPTION)
    }
    const prefix = opts.prefix ?? 'duplex-peer.room'
    if (typeof prefix !== 'string' || !/^[^\s*>.]+(\.[^\s*>.]+)*$/.test(prefix)) {
      throw roomError('NatsDriver option prefix must be dot-separated subject tokens without wildcards', RoomErrorCode.INVALID_OPTION)
    }
    const max = opts.maxMessageSize ?? 64 * 1024
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
      throw roomError('NatsDriver option maxMessageSize must be a positive integer', RoomErrorCode.INVALID_OPTION)
    }
    if (opts.connect !== undefined && typeof opts.connect !== 'function') {
      throw roomError('NatsDriver option connect must be a function', RoomErrorCode.INVALID_OPTION)
    }
    this.servers = servers
    this.prefix = prefix
    this.maxMessageSize = max
    this.connect = opts.connect ??
      requireOptional<{ connect: (options: Record<string, unknown>) => Promise<NatsConnectionLike> }>('@nats-io/transport-node', 'NatsDriver').connect
    this.attempt()
  }

  /** `'active'` while connected to NATS. */
  get state (): DriverState {
    return this.current
  }

  /** Subscribes to `topic` (replacing an earlier handler); resolves once the server has it, or at once while not connected. */
  async subscribe (topic: string, onMessage: MessageHandler): Promise<void> {
    if (this.closed) throw roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED)
    const subject = this.subject(topic)
    if (typeof onMessage !== 'function') throw roomError('subscribe needs a handler', RoomErrorCode.INVALID_OPTION)
    const existing = this.subscriptions.get(topic)
    if (existing) {
      existing.handler = onMessage
      return
    }
    const entry: { handler: MessageHandler, sub: NatsSubscriptionLike | null } = { handler: onMessage, sub: null }
    this.subscriptions.set(topic, entry)
    const connection = this.connection
    if (!connection) return
    entry.sub = this.natsSubscribe(connection, topic, subject)
    await connection.flush().catch(() => {})
  }

  /** Drops the subscription to `topic`. */
  unsubscribe (topic: string): Promise<void> {
    const existing = this.subscriptions.get(topic)
    if (!existing) return Promise.resolve()
    this.subscriptions.delete(topic)
    try { existing.sub?.unsubscribe() } catch { /* closed */ }
    return Promise.resolve()
  }

  /**
   * Publishes `bytes` on `topic` (its own subscription included, as NATS
   * does by default). While inactive the message is lost (at most once).
   */
  publish (topic: string, bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED))
    let subject: string
    try { subject = this.subject(topic) } catch (err) { return Promise.reject(err) }
    if (!(bytes instanceof Uint8Array)) return Promise.reject(roomError('publish needs bytes', RoomErrorCode.INVALID_DATA))
    if (bytes.length > this.maxMessageSize) {
      return Promise.reject(roomError(`message of ${bytes.length} bytes, limit ${this.maxMessageSize}`, RoomErrorCode.MESSAGE_TOO_LARGE))
    }
    const connection = this.connection
    if (this.current !== 'active' || !connection) {
      debug('inactive: message on %s dropped', topic)
      return Promise.resolve()
    }
    try {
      // A copy: the client may keep the bytes until they are written.
      connection.publish(subject, new Uint8Array(bytes))
    } catch (err) {
      debug('publish on %s lost: %s', topic, err instanceof Error ? err.message : String(err))
    }
    return Promise.resolve()
  }

  /** Disconnects for good; `state` stays `'inactive'`. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.subscriptions.clear()
    this.setState('inactive')
    const connection = this.connection
    this.connection = null
    if (connection) await connection.close().catch(() => {})
  }

  /** Tries to connect; until the first connection succeeds, tries again with backoff (the client reconnects by itself after that). */
  private attempt (): void {
    this.retryTimer = null
    if (this.closed) return
    this.connect({ servers: this.servers, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 })
      .then(connection => this.connected(connection), err => {
        debug('cannot connect: %s', err instanceof Error ? err.message : String(err))
        if (this.closed) return
        const delay = Math.min(100 * 2 ** Math.min(this.attempts++, 5), 2000)
        this.retryTimer = setTimeout(() => this.attempt(), delay)
      })
  }

  private connected (connection: NatsConnectionLike): void {
    if (this.closed) {
      connection.close().catch(() => {})
      return
    }
    this.connection = connection
    for (const [topic, entry] of this.subscriptions) entry.sub = this.natsSubscribe(connection, topic, this.subject(topic))
    void this.watch(connection)
    connection.flush().then(() => { if (this.connection === connection) this.setState('active') }, () => {})
  }

  /** Follows the connection's status: inactive while disconnected, active again once reconnected (NATS subscribes again itself). */
  private async watch (connection: NatsConnectionLike): Promise<void> {
    try {
      for await (const status of connection.status()) {
        if (this.closed || this.connection !== connection) return
        if (status.type === 'disconnect' || status.type === 'reconnecting') this.setState('inactive')
        else if (status.type === 'reconnect') {
          await connection.flush().catch(() => {})
          if (!this.closed && this.connection === connection) this.setState('active')
        } else if (status.type === 'close') {
          this.setState('inactive')
          return
        }
      }
    } catch (err) {
      debug('status: %s', err instanceof Error ? err.message : String(err))
    }
  }

  private natsSubscribe (connection: NatsConnectionLike, topic: string, subject: string): NatsSubscriptionLike {
    return connection.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return debug('subscription %s: %s', topic, err.message)
        this.deliver(topic, msg.data)
      }
    })
  }

  private deliver (topic: string, data: Uint8Array): void {
    const entry = this.subscriptions.get(topic)
    if (!entry || this.current !== 'active') return
    try {
      entry.handler(new Uint8Array(data))
    } catch (err) {
      // A handler's exception is the application's: surface it outside the driver.
      queueMicrotask(() => { throw err })
    }
  }

  private subject (topic: unknown): string {
    if (typeof topic !== 'string' || topic === '') throw roomError('a topic is a non-empty string', RoomErrorCode.INVALID_OPTION)
    return `${this.prefix}.${base64url(topic)}`
  }

  private setState (state: DriverState): void {
    if (state === this.current) return
    this.current = state
    this.emit('state', state)
  }
}

/** The base64url form of a string's UTF-8 bytes (valid in a NATS subject token; in Node and browsers). */
function base64url (text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
