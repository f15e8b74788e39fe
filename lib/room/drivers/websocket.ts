/**
 * `WebSocketDriver`: a signaling driver on the room relay of
 * `duplex-peer/server` (`ws://host:port{path}/rooms`). It reconnects with
 * backoff when the connection is lost and subscribes again to every topic;
 * it is `'active'` once connected with every subscription in place. In
 * Node it uses the `ws` package, in browsers the global `WebSocket`.
 */
import { EventEmitter } from 'events'
import createDebug = require('debug')
import { DEBUG_NAMESPACE } from '../../constants'
import { resolveWebSocket } from '../../peerjs/websocket'
import type { Driver, DriverState, MessageHandler } from './driver'
import { roomError, RoomErrorCode } from '../errors'
import { MAX_TOPIC_BYTES, RelayOp, encodeRelayFrame, parseRelayFrame } from './relay-protocol'

const debug = createDebug(DEBUG_NAMESPACE + ':room:websocket')

/** Options of {@link WebSocketDriver}. */
export interface WebSocketDriverOptions {
  /** The relay's URL, e.g. `ws://localhost:9000/rooms` (`{path}/rooms` of the server). */
  url: string
  /** First delay (ms) before reconnecting; doubled at each failed attempt. Default `250`. */
  minReconnectDelay?: number
  /** Longest delay (ms) between reconnection attempts. Default `10000`. */
  maxReconnectDelay?: number
  /** A connection attempt not open within this many ms is abandoned and tried again. Default `10000`. */
  connectTimeout?: number
  /** Largest payload `publish()` accepts (bytes); keep it at most the relay's `max_message_size`. Default `65536`. */
  maxMessageSize?: number
  /** A WebSocket constructor to use instead of the browser's or `ws`. */
  WebSocket?: new (url: string) => unknown
}

/** The part of the WebSocket API the driver uses (the browser's and `ws`'s). */
interface BinarySocket {
  readonly readyState: number
  binaryType: string
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code?: number, reason?: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  send (data: Uint8Array): void
  close (code?: number, reason?: string): void
}

type BinarySocketConstructor = new (url: string) => BinarySocket

const OPEN = 1
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A {@link Driver} on the room relay of `duplex-peer/server`. */
export class WebSocketDriver extends EventEmitter implements Driver {
  /** The relay's URL. */
  readonly url: string
  private readonly minDelay: number
  private readonly maxDelay: number
  private readonly maxMessageSize: number
  private readonly connectTimeout: number
  private readonly Socket: BinarySocketConstructor
  private readonly subscriptions = new Map<string, MessageHandler>()
  /** Subscriptions sent and not acknowledged yet, with who waits for them. */
  private readonly pending = new Map<string, Array<() => void>>()
  private socket: BinarySocket | null = null
  private current: DriverState = 'inactive'
  private closed = false
  private attempts = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private openTimer: ReturnType<typeof setTimeout> | null = null

  /** Connects to the relay at `url` (a URL string or the options). */
  constructor (options: string | WebSocketDriverOptions) {
    super()
    const opts: WebSocketDriverOptions = typeof options === 'string' ? { url: options } : options
    if (!opts || typeof opts.url !== 'string' || !/^wss?:\/\//i.test(opts.url)) {
      throw roomError('WebSocketDriver needs a ws: or wss: URL', RoomErrorCode.INVALID_OPTION)
    }
    this.url = opts.url
    this.minDelay = positive(opts.minReconnectDelay, 250, 'minReconnectDelay')
    this.maxDelay = Math.max(this.minDelay, positive(opts.maxReconnectDelay, 10000, 'maxReconnectDelay'))
    this.maxMessageSize = positive(opts.maxMessageSize, 64 * 1024, 'maxMessageSize')
    this.connectTimeout = positive(opts.connectTimeout, 10000, 'connectTimeout')
    if (opts.WebSocket !== undefined && typeof opts.WebSocket !== 'function') {
      throw roomError('WebSocketDriver option WebSocket must be a constructor', RoomErrorCode.INVALID_OPTION)
    }
    this.Socket = (opts.WebSocket ?? resolveWebSocket()) as unknown as BinarySocketConstructor
    this.connect()
  }

  /** `'active'` while connected with every subscription in place. */
  get state (): DriverState {
    return this.current
  }

  /** Subscribes to `topic` (replacing an earlier handler); resolves once the relay confirms, or at once while inactive. */
  subscribe (topic: string, onMessage: MessageHandler): Promise<void> {
    if (this.closed) return Promise.reject(roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED))
    let bytes: Uint8Array
    try { bytes = topicBytes(topic) } catch (err) { return Promise.reject(err) }
    if (typeof onMessage !== 'function') return Promise.reject(roomError('subscribe needs a handler', RoomErrorCode.INVALID_OPTION))
    this.subscriptions.set(topic, onMessage)
    const socket = this.socket
    if (!socket || socket.readyState !== OPEN) return Promise.resolve()
    return new Promise(resolve => {
      this.waitFor(topic, resolve)
      this.sendFrame(encodeRelayFrame(RelayOp.SUBSCRIBE, bytes))
    })
  }

  /** Drops the subscription to `topic`. */
  unsubscribe (topic: string): Promise<void> {
    if (!this.subscriptions.delete(topic)) return Promise.resolve()
    if (this.socket && this.socket.readyState === OPEN) this.sendFrame(encodeRelayFrame(RelayOp.UNSUBSCRIBE, topicBytes(topic)))
    return Promise.resolve()
  }

  /**
   * Publishes `bytes` on `topic`: the relay passes them to the other
   * subscribers, and this driver to its own subscription, if it has one.
   * While inactive the message is lost (delivery is at most once).
   */
  publish (topic: string, bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(roomError('the driver is closed', RoomErrorCode.DRIVER_CLOSED))
    let name: Uint8Array
    try { name = topicBytes(topic) } catch (err) { return Promise.reject(err) }
    if (!(bytes instanceof Uint8Array)) return Promise.reject(roomError('publish needs bytes', RoomErrorCode.INVALID_DATA))
    if (bytes.length > this.maxMessageSize) {
      return Promise.reject(roomError(`message of ${bytes.length} bytes, limit ${this.maxMessageSize}`, RoomErrorCode.MESSAGE_TOO_LARGE))
    }
    if (this.current !== 'active') {
      debug('inactive: message on %s dropped', topic)
      return Promise.resolve()
    }
    this.sendFrame(encodeRelayFrame(RelayOp.PUBLISH, name, bytes))
    if (this.subscriptions.has(topic)) {
      const copy = new Uint8Array(bytes)
      setTimeout(() => this.deliver(topic, copy), 0)
    }
    return Promise.resolve()
  }

  /** Disconnects for good; `state` stays `'inactive'`. */
  close (): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    this.subscriptions.clear()
    this.release()
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.clearOpenTimer()
    const socket = this.socket
    this.socket = null
    if (socket) {
      try { socket.close(1000, 'Closed') } catch { /* not open yet */ }
    }
    this.setState('inactive')
    return Promise.resolve()
  }

  private connect (): void {
    this.timer = null
    if (this.closed) return
    let socket: BinarySocket
    try {
      socket = new this.Socket(this.url)
    } catch (err) {
      debug('cannot connect to %s: %s', this.url, err instanceof Error ? err.message : String(err))
      this.retry()
      return
    }
    socket.binaryType = 'arraybuffer'
    this.socket = socket
    socket.onerror = () => { /* followed by close */ }
    this.openTimer = setTimeout(() => {
      this.openTimer = null
      if (this.socket !== socket) return
      debug('no connection to %s within %d ms', this.url, this.connectTimeout)
      this.socket = null
      try { socket.close() } catch { /* not open */ }
      this.retry()
    }, this.connectTimeout)
    socket.onopen = () => {
      if (this.socket !== socket) return
      this.clearOpenTimer()
      this.resubscribe()
    }
    socket.onmessage = event => {
      if (this.socket === socket) this.onFrame(event.data)
    }
    socket.onclose = event => {
      if (this.socket !== socket) return
      debug('relay connection closed (%s %s)', event.code, event.reason ?? '')
      this.socket = null
      this.clearOpenTimer()
      this.release()
      this.setState('inactive')
      this.retry()
    }
  }

  private clearOpenTimer (): void {
    if (this.openTimer) clearTimeout(this.openTimer)
    this.openTimer = null
  }

  /** Subscribes again to every topic; active once the relay confirmed them all. */
  private resubscribe (): void {
    const topics = [...this.subscriptions.keys()]
    let left = topics.length
    const done = (): void => {
      if (--left > 0 || this.closed || !this.socket || this.socket.readyState !== OPEN) return
      this.attempts = 0
      this.setState('active')
    }
    if (topics.length === 0) {
      left = 1
      done()
      return
    }
    for (const topic of topics) {
      this.waitFor(topic, done)
      this.sendFrame(encodeRelayFrame(RelayOp.SUBSCRIBE, topicBytes(topic)))
    }
  }

  private onFrame (data: unknown): void {
    let bytes: Uint8Array
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data)
    else if (data instanceof Uint8Array) bytes = data
    else return debug('non-binary frame from the relay ignored')
    const frame = parseRelayFrame(bytes, 'relay')
    if (typeof frame === 'string') return debug('malformed frame from the relay ignored')
    const topic = decoder.decode(frame.topic)
    if (frame.op === RelayOp.SUBSCRIBED) {
      const waiting = this.pending.get(topic)
      this.pending.delete(topic)
      for (const resolve of waiting ?? []) resolve()
      return
    }
    this.deliver(topic, new Uint8Array(frame.payload))
  }

  private deliver (topic: string, payload: Uint8Array): void {
    const handler = this.subscriptions.get(topic)
    if (!handler || this.current !== 'active') return
    try {
      handler(payload)
    } catch (err) {
      // A handler's exception is the application's: surface it outside the driver.
      queueMicrotask(() => { throw err })
    }
  }

  private waitFor (topic: string, resolve: () => void): void {
    const list = this.pending.get(topic) ?? []
    list.push(resolve)
    this.pending.set(topic, list)
  }

  /** Resolves whoever waits for a subscription: the connection is gone, it will be made again on reconnection. */
  private release (): void {
    const waiting = [...this.pending.values()].flat()
    this.pending.clear()
    for (const resolve of waiting) resolve()
  }

  private retry (): void {
    if (this.closed || this.timer) return
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** Math.min(this.attempts, 30))
    this.attempts++
    const delay = base / 2 + Math.random() * base / 2
    debug('reconnecting to %s in %d ms', this.url, Math.round(delay))
    this.timer = setTimeout(() => this.connect(), delay)
  }

  private sendFrame (frame: Uint8Array): void {
    const socket = this.socket
    if (!socket || socket.readyState !== OPEN) return
    try { socket.send(frame) } catch (err) { debug('send failed: %s', err instanceof Error ? err.message : String(err)) }
  }

  private setState (state: DriverState): void {
    if (state === this.current) return
    this.current = state
    this.emit('state', state)
  }
}

/** The topic's UTF-8 bytes; a coded error if it is empty or too long for the relay. */
function topicBytes (topic: unknown): Uint8Array {
  if (typeof topic !== 'string' || topic === '') throw roomError('a topic is a non-empty string', RoomErrorCode.INVALID_OPTION)
  const bytes = encoder.encode(topic)
  if (bytes.length > MAX_TOPIC_BYTES) throw roomError(`topic longer than ${MAX_TOPIC_BYTES} bytes`, RoomErrorCode.INVALID_OPTION)
  return bytes
}

function positive (value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw roomError(`WebSocketDriver option ${name} must be a positive number`, RoomErrorCode.INVALID_OPTION)
  }
  return value
}
