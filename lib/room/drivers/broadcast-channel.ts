/**
 * `BroadcastChannelDriver`: a signaling driver for the contexts of one
 * origin in a browser (tabs, windows, iframes, workers), or the worker
 * threads of one Node process. It needs no server: each topic is a
 * `BroadcastChannel` named after it, which every context of the same origin
 * (or process) that opened the same name hears.
 */
import { EventEmitter } from 'events'
import type { Driver, DriverState, MessageHandler } from './driver'
import { roomError, RoomErrorCode } from '../errors'

/** Options of {@link BroadcastChannelDriver}. */
export interface BroadcastChannelDriverOptions {
  /**
   * Prefix of the channel names (a channel is `prefix + topic`), to keep
   * apart several applications of one origin. @defaultValue `'duplex-peer/room:'`
   */
  prefix?: string
  /** A `BroadcastChannel` constructor to use instead of the global one. */
  BroadcastChannel?: new (name: string) => BroadcastChannelLike
}

/** The part of the `BroadcastChannel` API the driver uses (the browser's and Node's). */
export interface BroadcastChannelLike {
  /** Called with each message another channel of the same name posted. */
  onmessage: ((event: { data: unknown }) => void) | null
  /** Sends a structured clone of `message` to every other channel of the same name. */
  postMessage (message: unknown): void
  /** Stops the channel. */
  close (): void
}

type ChannelConstructor = new (name: string) => BroadcastChannelLike

/** Longest topic accepted (characters), as the relay's limit in bytes. */
const MAX_TOPIC_LENGTH = 256
/** Largest message `publish()` accepts (bytes), as the WebSocket relay's default. */
const MAX_MESSAGE_SIZE = 64 * 1024

/**
 * A {@link Driver} on `BroadcastChannel`s. Like {@link MemoryDriver} it is
 * `'active'` from the start until closed, delivers its own messages to its
 * own subscriptions (a `BroadcastChannel` does not hear itself), never
 * inside `publish()`, and gives every subscriber its own copy.
 *
 * @example
 * ```js
 * const { Room, BroadcastChannelDriver } = require('duplex-peer/room')
 * const room = new Room({ id: 'lobby', driver: new BroadcastChannelDriver() })
 * await room.join({ name: 'tab 1' })
 * ```
 */
export class BroadcastChannelDriver extends EventEmitter implements Driver {
  /** Prefix of the channel names. */
  readonly prefix: string
  private readonly Channel: ChannelConstructor
  private readonly channels = new Map<string, { channel: BroadcastChannelLike, handler: MessageHandler }>()
  private closed = false

  /** Makes the driver; throws `ERR_INVALID_OPTION` if there is no `BroadcastChannel` (Node before 18, old browsers). */
  constructor (options: BroadcastChannelDriverOptions = {}) {
    super()
    if (options === null || typeof options !== 'object') throw roomError('BroadcastChannelDriver options must be an object', RoomErrorCode.INVALID_OPTION)
    const prefix = options.prefix ?? 'duplex-peer/room:'
    if (typeof prefix !== 'string') throw roomError('BroadcastChannelDriver option prefix must be a string', RoomErrorCode.INVALID_OPTION)
    const Channel = options.BroadcastChannel ?? (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel
    if (typeof Channel !== 'function') throw roomError('BroadcastChannel is not available here', RoomErrorCode.INVALID_OPTION)
    this.prefix = prefix
    this.Channel = Channel as ChannelConstructor
  }

  /** `'active'` until closed. */
  get state (): DriverState {
    return this.closed ? 'inactive' : 'active'
  }

  /** Subscribes to `topic` (replacing an earlier handler for it). */
  subscribe (topic: string, onMessage: MessageHandler): Promise<void> {
    if (this.closed) return Promise.reject(roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED))
    const invalid = checkTopic(topic)
    if (invalid) return Promise.reject(invalid)
    if (typeof onMessage !== 'function') return Promise.reject(roomError('subscribe needs a handler', RoomErrorCode.INVALID_OPTION))
    const existing = this.channels.get(topic)
    if (existing) {
      existing.handler = onMessage
      return Promise.resolve()
    }
    const channel = new this.Channel(this.prefix + topic)
    const entry = { channel, handler: onMessage }
    channel.onmessage = event => {
      const bytes = toBytes(event.data)
      if (!bytes) return
      if (this.channels.get(topic) === entry) this.deliver(entry.handler, bytes)
    }
    this.channels.set(topic, entry)
    return Promise.resolve()
  }

  /** Drops the subscription to `topic`. */
  unsubscribe (topic: string): Promise<void> {
    const entry = this.channels.get(topic)
    if (entry) {
      this.channels.delete(topic)
      entry.channel.onmessage = null
      entry.channel.close()
    }
    return Promise.resolve()
  }

  /**
   * Publishes a copy of `bytes` on `topic`, to every other context's
   * subscription and to this driver's own. Rejects with `ERR_DRIVER_CLOSED`
   * once closed, `ERR_INVALID_DATA` if `bytes` is not a `Uint8Array`, and
   * `ERR_MESSAGE_TOO_LARGE` above 64 KiB.
   */
  publish (topic: string, bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED))
    const invalid = checkTopic(topic)
    if (invalid) return Promise.reject(invalid)
    if (!(bytes instanceof Uint8Array)) return Promise.reject(roomError('publish needs bytes', RoomErrorCode.INVALID_DATA))
    if (bytes.byteLength > MAX_MESSAGE_SIZE) {
      return Promise.reject(roomError(`message of ${bytes.byteLength} bytes, limit ${MAX_MESSAGE_SIZE}`, RoomErrorCode.MESSAGE_TOO_LARGE))
    }
    // An ArrayBuffer of its own (a Buffer's slice() would share its pool), cloned by postMessage.
    const copy = new ArrayBuffer(bytes.byteLength)
    new Uint8Array(copy).set(bytes)
    const own = this.channels.get(topic)
    if (own) {
      // Posted on a channel of the subscription's, the message reaches every other
      // context; this context hears it through its own copy, on a later turn.
      own.channel.postMessage(copy)
      const mine = new Uint8Array(copy.slice(0))
      setTimeout(() => { if (this.channels.get(topic) === own) this.deliver(own.handler, mine) }, 0)
      return Promise.resolve()
    }
    const channel = new this.Channel(this.prefix + topic)
    try {
      channel.postMessage(copy)
    } finally {
      channel.close()
    }
    return Promise.resolve()
  }

  /** Closes every channel; the driver is `'inactive'` from then on. */
  close (): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    for (const topic of [...this.channels.keys()]) void this.unsubscribe(topic)
    this.emit('state', 'inactive')
    return Promise.resolve()
  }

  private deliver (handler: MessageHandler, bytes: Uint8Array): void {
    if (this.closed) return
    try {
      handler(bytes)
    } catch (err) {
      // A handler's exception is the application's: surface it outside the driver.
      queueMicrotask(() => { throw err })
    }
  }
}

function checkTopic (topic: unknown): Error | null {
  if (typeof topic !== 'string' || topic === '' || topic.length > MAX_TOPIC_LENGTH) {
    return roomError(`a topic is a string of 1 to ${MAX_TOPIC_LENGTH} characters`, RoomErrorCode.INVALID_OPTION)
  }
  return null
}

/** The bytes of a message heard on a channel, or `null` for anything else (posted by someone else). */
function toBytes (data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (data instanceof Uint8Array) return data
  return null
}
