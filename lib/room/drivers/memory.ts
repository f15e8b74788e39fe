/**
 * `MemoryDriver`: a signaling driver for peers in one process (tests, demos,
 * several rooms in one program). Drivers made on the same {@link MemoryHub}
 * reach each other; `new MemoryDriver()` uses {@link MemoryHub.default}.
 */
import { EventEmitter } from 'events'
import type { Driver, DriverState, MessageHandler } from './driver'
import { roomError, RoomErrorCode } from '../errors'

/** One subscription of one driver to one topic. */
interface Subscription {
  readonly driver: MemoryDriver
  readonly topic: string
  readonly handler: MessageHandler
}

/** A message on its way, with the subscriptions it is for. */
interface Delivery {
  readonly bytes: Uint8Array
  readonly to: Subscription[]
}

/**
 * An in-process broker. Messages are delivered in publication order, on a
 * later turn of the event loop (never inside `publish()`), each subscriber
 * getting its own copy of the bytes.
 */
export class MemoryHub {
  /** The hub of drivers made with no hub given. */
  static readonly default = new MemoryHub()

  private readonly topics = new Map<string, Set<Subscription>>()
  private readonly queue: Delivery[] = []
  private scheduled = false

  /** Number of topics with at least one subscriber (for tests and diagnostics). */
  get topicCount (): number {
    return this.topics.size
  }

  private count = 0

  /** Number of messages published on this hub so far (for tests and diagnostics). */
  get published (): number {
    return this.count
  }

  /** @internal */
  add (topic: string, subscription: Subscription): void {
    const set = this.topics.get(topic) ?? new Set<Subscription>()
    for (const existing of set) if (existing.driver === subscription.driver) set.delete(existing)
    set.add(subscription)
    this.topics.set(topic, set)
  }

  /** @internal */
  remove (topic: string, driver: MemoryDriver): void {
    const set = this.topics.get(topic)
    if (!set) return
    for (const existing of set) if (existing.driver === driver) set.delete(existing)
    if (set.size === 0) this.topics.delete(topic)
  }

  /** @internal */
  publish (topic: string, bytes: Uint8Array): void {
    this.count++
    const set = this.topics.get(topic)
    if (!set || set.size === 0) return
    this.queue.push({ bytes: new Uint8Array(bytes), to: [...set] })
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.drain())
    }
  }

  private drain (): void {
    this.scheduled = false
    const batch = this.queue.splice(0, this.queue.length)
    for (const { bytes, to } of batch) {
      for (const subscription of to) {
        if (!subscription.driver.isSubscribed(subscription)) continue
        try {
          subscription.handler(new Uint8Array(bytes))
        } catch (err) {
          // A handler's exception is the application's: surface it, outside the hub's loop.
          queueMicrotask(() => { throw err })
        }
      }
    }
  }
}

/** A {@link Driver} on an in-process {@link MemoryHub}. Active from creation until `close()`. */
export class MemoryDriver extends EventEmitter implements Driver {
  private readonly hub: MemoryHub
  private readonly subscriptions = new Map<string, Subscription>()
  private current: DriverState = 'active'
  private closed = false

  /** A driver on `hub` ({@link MemoryHub.default} if none is given). */
  constructor (hub: MemoryHub = MemoryHub.default) {
    super()
    this.hub = hub
  }

  /** `'active'` until closed or {@link suspend | suspended}. */
  get state (): DriverState {
    return this.current
  }

  /** @internal Whether `subscription` is still this driver's live subscription. */
  isSubscribed (subscription: Subscription): boolean {
    return this.current === 'active' && this.subscriptions.get(subscription.topic) === subscription
  }

  /** Subscribes to `topic` (replacing an earlier handler for it). */
  subscribe (topic: string, onMessage: MessageHandler): Promise<void> {
    if (this.closed) return Promise.reject(roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED))
    const subscription: Subscription = { driver: this, topic, handler: onMessage }
    this.subscriptions.set(topic, subscription)
    this.hub.add(topic, subscription)
    return Promise.resolve()
  }

  /** Drops the subscription to `topic`. */
  unsubscribe (topic: string): Promise<void> {
    this.subscriptions.delete(topic)
    this.hub.remove(topic, this)
    return Promise.resolve()
  }

  /** Publishes a copy of `bytes` on `topic`. Rejects with `ERR_DRIVER_CLOSED` once closed. */
  publish (topic: string, bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED))
    // While suspended the message is lost, as it would be on a broken link.
    if (this.current === 'active') this.hub.publish(topic, bytes)
    return Promise.resolve()
  }

  /** Unsubscribes from everything; the driver is inactive from then on. */
  close (): Promise<void> {
    if (this.closed) return Promise.resolve()
    for (const topic of [...this.subscriptions.keys()]) this.hub.remove(topic, this)
    this.subscriptions.clear()
    this.closed = true
    this.setState('inactive')
    return Promise.resolve()
  }

  /**
   * Simulates a lost connection to the broker (for tests): messages published
   * or delivered meanwhile are lost, and `state` becomes `'inactive'`.
   */
  suspend (): void {
    if (!this.closed) this.setState('inactive')
  }

  /** Ends a {@link suspend}: `state` becomes `'active'` again; subscriptions are kept. */
  resume (): void {
    if (!this.closed) this.setState('active')
  }

  private setState (state: DriverState): void {
    if (state === this.current) return
    this.current = state
    this.emit('state', state)
  }
}
