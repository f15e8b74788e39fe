/**
 * `RedisDriver`: a signaling driver on Redis pub/sub, through node-redis
 * (the `redis` package, an optional peer dependency loaded only here). Two
 * connections: one publishes, one subscribes. Both reconnect on their own
 * and node-redis subscribes again; the driver is `'active'` while both are
 * connected. A room topic is the channel `{prefix}{topic}`.
 */
import { EventEmitter } from 'events'
import createDebug = require('debug')
import { DEBUG_NAMESPACE } from '../../constants'
import { requireOptional } from '../../optional'
import type { Driver, DriverState, MessageHandler } from './driver'
import { roomError, RoomErrorCode } from '../errors'

const debug = createDebug(DEBUG_NAMESPACE + ':room:redis')

/** Options of {@link RedisDriver}. */
export interface RedisDriverOptions {
  /** The Redis URL, e.g. `redis://localhost:6379` (`rediss://` for TLS). */
  url: string
  /** Prefix of the channels, so that rooms share a Redis with other uses. Default `'duplex-peer:room:'`. */
  prefix?: string
  /** Largest payload `publish()` accepts (bytes). Default `65536`. */
  maxMessageSize?: number
}

/** The part of a node-redis client the driver uses. */
interface RedisClientLike {
  readonly isReady: boolean
  connect (): Promise<unknown>
  on (event: string, listener: (...args: unknown[]) => void): unknown
  publish (channel: string, message: Buffer): Promise<unknown>
  subscribe (channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>
  unsubscribe (channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>
  duplicate (): RedisClientLike
  destroy (): void
}

interface RedisModuleLike {
  createClient (options: Record<string, unknown>): RedisClientLike
}

/** A {@link Driver} on Redis pub/sub. */
export class RedisDriver extends EventEmitter implements Driver {
  /** The Redis URL. */
  readonly url: string
  private readonly prefix: string
  private readonly maxMessageSize: number
  private readonly publisher: RedisClientLike
  private readonly subscriber: RedisClientLike
  /** Per topic: the handler, and the listener given to node-redis (one per topic, so subscribing again never doubles it). */
  private readonly subscriptions = new Map<string, { handler: MessageHandler, listener: (message: Buffer) => void }>()
  private current: DriverState = 'inactive'
  private closed = false

  /**
   * Connects to Redis at `url` (a URL string or the options). Throws
   * `ERR_MISSING_DEPENDENCY` if the `redis` package is not installed.
   */
  constructor (options: string | RedisDriverOptions) {
    super()
    const opts: RedisDriverOptions = typeof options === 'string' ? { url: options } : options
    if (!opts || typeof opts.url !== 'string' || !/^rediss?:\/\/./i.test(opts.url)) {
      throw roomError('RedisDriver needs a redis: or rediss: URL', RoomErrorCode.INVALID_OPTION)
    }
    if (opts.prefix !== undefined && typeof opts.prefix !== 'string') {
      throw roomError('RedisDriver option prefix must be a string', RoomErrorCode.INVALID_OPTION)
    }
    const max = opts.maxMessageSize ?? 64 * 1024
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
      throw roomError('RedisDriver option maxMessageSize must be a positive integer', RoomErrorCode.INVALID_OPTION)
    }
    this.url = opts.url
    this.prefix = opts.prefix ?? 'duplex-peer:room:'
    this.maxMessageSize = max
    const redis = requireOptional<RedisModuleLike>('redis', 'RedisDriver')
    this.publisher = redis.createClient({
      url: this.url,
      // While disconnected a message is lost at once (at most once), never queued for later.
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 8), 5000) }
    })
    this.subscriber = this.publisher.duplicate()
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (err: unknown) => debug('redis: %s', err instanceof Error ? err.message : String(err)))
      client.on('end', () => this.update())
      client.on('reconnecting', () => this.update())
    }
    this.publisher.on('ready', () => this.update())
    // Active only once every subscription is in place again.
    this.subscriber.on('ready', () => { void this.resubscribe() })
    this.start().catch(err => debug('cannot connect: %s', err instanceof Error ? err.message : String(err)))
  }

  /** `'active'` while both connections to Redis are up. */
  get state (): DriverState {
    return this.current
  }

  /** Subscribes to `topic` (replacing an earlier handler); resolves once Redis confirmed, or at once while inactive. */
  async subscribe (topic: string, onMessage: MessageHandler): Promise<void> {
    if (this.closed) throw roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED)
    checkTopic(topic)
    if (typeof onMessage !== 'function') throw roomError('subscribe needs a handler', RoomErrorCode.INVALID_OPTION)
    const existing = this.subscriptions.get(topic)
    if (existing) {
      this.subscriptions.set(topic, { handler: onMessage, listener: existing.listener })
      return
    }
    const listener = (message: Buffer): void => this.deliver(topic, message)
    this.subscriptions.set(topic, { handler: onMessage, listener })
    if (!this.subscriber.isReady) return
    try {
      await this.subscriber.subscribe(this.prefix + topic, listener, true)
    } catch (err) {
      // The connection dropped meanwhile: subscribed again once it is back.
      debug('subscribe %s: %s', topic, err instanceof Error ? err.message : String(err))
    }
  }

  /** Drops the subscription to `topic`. */
  async unsubscribe (topic: string): Promise<void> {
    const existing = this.subscriptions.get(topic)
    if (!existing) return
    this.subscriptions.delete(topic)
    if (!this.subscriber.isReady) return
    await this.subscriber.unsubscribe(this.prefix + topic, existing.listener, true).catch(() => {})
  }

  /**
   * Publishes `bytes` on `topic` (its own subscription included, as Redis
   * does). While inactive the message is lost (delivery is at most once).
   */
  async publish (topic: string, bytes: Uint8Array): Promise<void> {
    if (this.closed) throw roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED)
    checkTopic(topic)
    if (!(bytes instanceof Uint8Array)) throw roomError('publish needs bytes', RoomErrorCode.INVALID_DATA)
    if (bytes.length > this.maxMessageSize) {
      throw roomError(`message of ${bytes.length} bytes, limit ${this.maxMessageSize}`, RoomErrorCode.MESSAGE_TOO_LARGE)
    }
    if (this.current !== 'active') {
      debug('inactive: message on %s dropped', topic)
      return
    }
    try {
      await this.publisher.publish(this.prefix + topic, Buffer.from(bytes))
    } catch (err) {
      debug('publish on %s lost: %s', topic, err instanceof Error ? err.message : String(err))
    }
  }

  /** Disconnects for good; `state` stays `'inactive'`. */
  close (): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    this.subscriptions.clear()
    for (const client of [this.subscriber, this.publisher]) {
      try { client.destroy() } catch { /* not connected */ }
    }
    this.setState('inactive')
    return Promise.resolve()
  }

  private async start (): Promise<void> {
    await this.publisher.connect()
    await this.subscriber.connect()
  }

  /** After a (re)connection: every topic subscribed (node-redis keeps those it knew; this adds the rest). */
  private async resubscribe (): Promise<void> {
    for (const [topic, { listener }] of [...this.subscriptions]) {
      if (this.closed || !this.subscriber.isReady) return
      await this.subscriber.subscribe(this.prefix + topic, listener, true).catch(() => {})
    }
    this.update()
  }

  private deliver (topic: string, message: Buffer): void {
    const subscription = this.subscriptions.get(topic)
    if (!subscription || this.current !== 'active') return
    try {
      subscription.handler(new Uint8Array(message))
    } catch (err) {
      // A handler's exception is the application's: surface it outside the driver.
      queueMicrotask(() => { throw err })
    }
  }

  private update (): void {
    if (this.closed) return
    this.setState(this.publisher.isReady && this.subscriber.isReady ? 'active' : 'inactive')
  }

  private setState (state: DriverState): void {
    if (state === this.current) return
    this.current = state
    this.emit('state', state)
  }
}

function checkTopic (topic: unknown): void {
  if (typeof topic !== 'string' || topic === '') throw roomError('a topic is a non-empty string', RoomErrorCode.INVALID_OPTION)
}
