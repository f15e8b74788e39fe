/**
 * The room relay: a topic publish/subscribe hub on its own WebSocket path
 * (`{path}/rooms`), the broker of `duplex-peer/room`'s `WebSocketDriver`.
 * A message published on a topic goes to every other client subscribed to
 * it, never to one that is not. Wire format and close codes:
 * `lib/room/drivers/relay-protocol.ts`. Nothing a client sends can throw:
 * a misbehaving client is closed with a code that says why.
 */
import { WebSocket, type RawData } from 'ws'
import { RateLimiter } from './rate-limit'
import type { ResolvedRelayOptions } from './options'
import { RelayCloseCode, RelayOp, encodeRelayFrame, parseRelayFrame } from '../room/drivers/relay-protocol'

/** One connected relay client. */
interface RelayClient {
  readonly socket: WebSocket
  readonly limiter: RateLimiter
  /** Topic keys this client is subscribed to. */
  readonly topics: Set<string>
  alive: boolean
}

/**
 * The relay's link to the other nodes of a cluster (lib/server/cluster/room-bridge.ts):
 * what local clients publish goes out, what other nodes published comes in.
 */
export interface RelayBridge {
  /** This node has subscribers of `key`: resolves once messages of other nodes on it will arrive. */
  subscribe (key: string): Promise<void>
  /** This node has no subscriber of `key` any more. */
  unsubscribe (key: string): void
  /** A local client published on `key` (`topic` its bytes). */
  publish (key: string, topic: Uint8Array, payload: Uint8Array): void
  /** Disconnects. */
  close (): void
}

/** Makes a bridge, given how to hand the relay what other nodes published. */
export type RelayBridgeFactory = (deliver: (topic: Uint8Array, payload: Uint8Array) => void) => RelayBridge

/** Statistics of a relay (for tests and diagnostics). */
export interface RelayStats {
  /** Connected clients. */
  clients: number
  /** Topics with at least one subscriber. */
  topics: number
}

export class Relay {
  private readonly options: ResolvedRelayOptions
  private readonly clients = new Set<RelayClient>()
  private readonly topics = new Map<string, Set<RelayClient>>()
  private readonly pingTimer: ReturnType<typeof setInterval>
  private readonly onError: (err: unknown) => void
  private readonly bridge: RelayBridge | null
  private closed = false

  constructor (options: ResolvedRelayOptions, onError: (err: unknown) => void, makeBridge?: RelayBridgeFactory) {
    this.options = options
    this.onError = onError
    this.bridge = makeBridge ? makeBridge((topic, payload) => this.fromCluster(topic, payload)) : null
    this.pingTimer = setInterval(() => this.ping(), options.ping_interval)
    if (typeof this.pingTimer.unref === 'function') this.pingTimer.unref()
  }

  /** Largest frame the relay reads (`ws` closes the socket with 1009 above it). */
  static maxFrame (options: ResolvedRelayOptions): number {
    return 2 + options.max_topic_length + options.max_message_size
  }

  /** Counts of clients and topics. */
  stats (): RelayStats {
    return { clients: this.clients.size, topics: this.topics.size }
  }

  /** A WebSocket connected at `{path}/rooms`. */
  accept (socket: WebSocket): void {
    socket.on('error', () => { /* the socket closes; ws reports oversized frames this way */ })
    if (this.closed) return close(socket, RelayCloseCode.GOING_AWAY, 'Server closing')
    if (this.clients.size >= this.options.max_clients) return close(socket, RelayCloseCode.FULL, 'Too many clients')
    const client: RelayClient = {
      socket,
      limiter: new RateLimiter(this.options.rate_limit, this.options.rate_burst),
      topics: new Set(),
      alive: true
    }
    this.clients.add(client)
    socket.on('pong', () => { client.alive = true })
    socket.on('close', () => this.drop(client))
    socket.on('message', (data: RawData, isBinary: boolean) => {
      try {
        this.onMessage(client, data, isBinary)
      } catch (err) {
        // Not reachable by design; a bug here must not take the server down.
        this.onError(err)
        close(socket, 1011, 'Internal error')
      }
    })
  }

  /** Closes every client and stops the timer. */
  close (): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.pingTimer)
    this.bridge?.close()
    const sockets = [...this.clients].map(client => client.socket)
    for (const socket of sockets) close(socket, RelayCloseCode.GOING_AWAY, 'Server closing')
    for (const client of [...this.clients]) this.drop(client)
    const timer = setTimeout(() => { for (const socket of sockets) socket.terminate() }, 1000)
    if (typeof timer.unref === 'function') timer.unref()
  }

  private onMessage (client: RelayClient, data: RawData, isBinary: boolean): void {
    if (!this.clients.has(client)) return
    if (!client.limiter.take()) {
      return this.refuse(client, RelayCloseCode.RATE_LIMIT, `Rate limit (${this.options.rate_limit} messages per second)`)
    }
    if (!isBinary) return this.refuse(client, RelayCloseCode.MALFORMED, 'Relay messages are binary frames')
    const bytes = toBytes(data)
    const frame = parseRelayFrame(bytes, 'client', this.options.max_topic_length)
    if (frame === 'topic-too-long') {
      return this.refuse(client, RelayCloseCode.TOPIC_TOO_LONG, `Topic longer than ${this.options.max_topic_length} bytes`)
    }
    if (frame === 'malformed') return this.refuse(client, RelayCloseCode.MALFORMED, 'Malformed relay message')
    if (frame.payload.length > this.options.max_message_size) {
      return this.refuse(client, RelayCloseCode.TOO_BIG, `Message larger than ${this.options.max_message_size} bytes`)
    }
    switch (frame.op) {
      case RelayOp.SUBSCRIBE: {
        if (!client.topics.has(frame.key)) {
          if (client.topics.size >= this.options.max_subscriptions) {
            return this.refuse(client, RelayCloseCode.TOO_MANY_SUBSCRIPTIONS, `More than ${this.options.max_subscriptions} subscriptions`)
          }
          client.topics.add(frame.key)
          const set = this.topics.get(frame.key) ?? new Set<RelayClient>()
          set.add(client)
          this.topics.set(frame.key, set)
        }
        const subscribed = encodeRelayFrame(RelayOp.SUBSCRIBED, frame.topic)
        if (!this.bridge) {
          this.send(client, subscribed)
          return
        }
        // In a cluster, confirmed once other nodes' messages on it will arrive too.
        this.bridge.subscribe(frame.key).then(() => { if (this.clients.has(client)) this.send(client, subscribed) }, () => {})
        return
      }
      case RelayOp.UNSUBSCRIBE:
        this.unsubscribe(client, frame.key)
        return
      case RelayOp.PUBLISH: {
        this.bridge?.publish(frame.key, frame.topic, frame.payload)
        const set = this.topics.get(frame.key)
        if (!set) return
        const out = encodeRelayFrame(RelayOp.MESSAGE, frame.topic, frame.payload)
        for (const other of [...set]) {
          if (other !== client && other.topics.has(frame.key)) this.send(other, out)
        }
      }
    }
  }

  /** Sends a frame; a client too far behind is cut off. */
  private send (client: RelayClient, frame: Uint8Array): void {
    const socket = client.socket
    if (socket.readyState !== WebSocket.OPEN) return
    if (socket.bufferedAmount > this.options.max_buffered_bytes) {
      socket.terminate()
      this.drop(client)
      return
    }
    try { socket.send(frame) } catch { /* closing */ }
  }

  private unsubscribe (client: RelayClient, key: string): void {
    if (!client.topics.delete(key)) return
    const set = this.topics.get(key)
    if (!set) return
    set.delete(client)
    if (set.size > 0) return
    this.topics.delete(key)
    this.bridge?.unsubscribe(key)
  }

  /** What a client of another node published: to every subscriber here. */
  private fromCluster (topic: Uint8Array, payload: Uint8Array): void {
    if (this.closed || payload.length > this.options.max_message_size || topic.length > this.options.max_topic_length) return
    let key = ''
    for (let i = 0; i < topic.length; i++) key += String.fromCharCode(topic[i])
    const set = this.topics.get(key)
    if (!set) return
    const out = encodeRelayFrame(RelayOp.MESSAGE, topic, payload)
    for (const client of [...set]) this.send(client, out)
  }

  private drop (client: RelayClient): void {
    if (!this.clients.delete(client)) return
    for (const key of [...client.topics]) this.unsubscribe(client, key)
  }

  private refuse (client: RelayClient, code: number, reason: string): void {
    this.drop(client)
    close(client.socket, code, reason)
  }

  /** Pings every client; one that did not answer the previous ping is cut off. */
  private ping (): void {
    for (const client of [...this.clients]) {
      if (!client.alive) {
        client.socket.terminate()
        this.drop(client)
        continue
      }
      client.alive = false
      try { client.socket.ping() } catch { /* closing */ }
    }
  }
}

function close (socket: WebSocket, code: number, reason: string): void {
  try {
    socket.close(code, reason)
  } catch {
    socket.terminate()
  }
}

function toBytes (data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}
