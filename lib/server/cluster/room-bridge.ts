/**
 * The room relay across a cluster: each node's relay passes what its
 * clients publish to Redis, and what other nodes published to its own
 * subscribers. A node subscribes in Redis to the topics its clients
 * subscribe to (channel `{prefix}room:{hex topic}`), and only those.
 *
 * On Redis a message is [node id length][node id][topic length][topic][payload];
 * a node ignores its own (its clients already had them) and anything
 * malformed (what comes from Redis is hostile until parsed).
 */
import createDebug = require('debug')
import type { RelayBridge } from '../relay'
import type { RedisClientLike } from './connection'

const debug = createDebug('duplex-peer:cluster:rooms')

/** A message read from Redis, checked. */
export interface BridgeMessage {
  readonly node: string
  readonly topic: Uint8Array
  readonly payload: Uint8Array
}

/** Encodes a message of `node` for Redis. */
export function encodeBridgeMessage (node: string, topic: Uint8Array, payload: Uint8Array): Buffer {
  const id = Buffer.from(node, 'latin1')
  if (id.length > 255 || topic.length > 255) throw new RangeError('node id or topic longer than 255 bytes')
  return Buffer.concat([Buffer.from([id.length]), id, Buffer.from([topic.length]), topic, payload])
}

/** Reads a message from Redis; `null` if it is malformed. */
export function parseBridgeMessage (bytes: unknown): BridgeMessage | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) return null
  const idLength = bytes[0]
  if (idLength === 0 || 1 + idLength + 1 > bytes.length) return null
  const topicLength = bytes[1 + idLength]
  const start = 2 + idLength
  if (topicLength === 0 || start + topicLength > bytes.length) return null
  return {
    node: Buffer.from(bytes.subarray(1, 1 + idLength)).toString('latin1'),
    topic: bytes.slice(start, start + topicLength),
    payload: bytes.slice(start + topicLength)
  }
}

/** The relay's link to the other nodes, on its own Redis connection. */
export class RedisRoomBridge implements RelayBridge {
  private readonly publisher: RedisClientLike
  private readonly subscriber: RedisClientLike
  private readonly prefix: string
  private readonly node: string
  private readonly deliver: (topic: Uint8Array, payload: Uint8Array) => void
  /** Topics (relay keys) wanted, with their subscription in progress or done. */
  private readonly wanted = new Map<string, Promise<void>>()
  private readonly connected: Promise<void>
  private readonly listener = (message: Buffer): void => this.onMessage(message)
  private closed = false

  /**
   * @param publisher - the node's command connection
   * @param subscriber - a connection of its own (not connected yet)
   * @param deliver - called with what another node published on a topic this node wants
   */
  constructor (publisher: RedisClientLike, subscriber: RedisClientLike, prefix: string, node: string,
    deliver: (topic: Uint8Array, payload: Uint8Array) => void) {
    this.publisher = publisher
    this.subscriber = subscriber
    this.prefix = prefix
    this.node = node
    this.deliver = deliver
    this.subscriber.on('error', (err: unknown) => debug('redis: %s', (err as Error)?.message ?? err))
    // Back after an outage: every wanted topic again (node-redis keeps only those it had confirmed).
    this.subscriber.on('ready', () => {
      for (const key of this.wanted.keys()) this.subscriber.subscribe(this.channel(key), this.listener, true).catch(() => {})
    })
    this.connected = this.subscriber.connect().then(() => {})
    this.connected.catch(() => {})
  }

  subscribe (key: string): Promise<void> {
    const existing = this.wanted.get(key)
    if (existing) return existing
    const done = this.connected
      .then(() => this.subscriber.subscribe(this.channel(key), this.listener, true))
      .catch(err => debug('subscribe: %s', (err as Error)?.message))
    this.wanted.set(key, done)
    return done
  }

  unsubscribe (key: string): void {
    if (!this.wanted.delete(key) || this.closed) return
    this.subscriber.unsubscribe(this.channel(key), this.listener, true).catch(() => {})
  }

  publish (key: string, topic: Uint8Array, payload: Uint8Array): void {
    if (this.closed) return
    this.publisher.sendCommand(['PUBLISH', this.channel(key), encodeBridgeMessage(this.node, topic, payload)])
      .catch(err => debug('publish lost: %s', (err as Error)?.message))
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.wanted.clear()
    try { this.subscriber.destroy() } catch { /* not connected */ }
  }

  private channel (key: string): string {
    return `${this.prefix}room:${Buffer.from(key, 'latin1').toString('hex')}`
  }

  private onMessage (bytes: Buffer): void {
    const message = parseBridgeMessage(bytes)
    if (!message) return debug('malformed room message ignored')
    if (message.node === this.node) return
    try {
      this.deliver(message.topic, message.payload)
    } catch (err) {
      debug('delivery failed: %s', (err as Error)?.message)
    }
  }
}
