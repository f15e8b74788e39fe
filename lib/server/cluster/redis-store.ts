/**
 * The shared store of a cluster of signaling servers on one Redis: id
 * claims with a node lease, message routing over each node's pub/sub
 * channel, held messages with cluster-wide expiry, the cluster's id list.
 *
 * Liveness: every node renews a lease (`lease` ms) every third of it; a node
 * whose lease lapsed (killed, or cut off from Redis) holds nothing any more:
 * its ids are free and messages to them are held, then expire.
 *
 * Faults: with Redis unreachable every method rejects at once (the caller
 * tells the client). When Redis is back, the next heartbeat finds out
 * whether the lease survived; if not (Redis restarted empty, or this node
 * was cut off longer than the lease) the node claims its clients' ids
 * again. A watchdog publishes to the node's own channel every heartbeat:
 * no listener means the subscription was lost, and it is made again.
 */
import { randomUUID } from 'crypto'
import createDebug = require('debug')
import type { RelayedMessage } from '../protocol'
import type { ClaimOutcome, RouteOutcome, SharedStore, SharedStoreEvents } from '../store'
import { createRedisClient, ScriptRunner, type RedisClientLike } from './connection'
import { encodeRelayed, parseClusterMessage, parseHeld, pingMessage } from './messages'
import * as scripts from './scripts'
import { RedisRoomBridge } from './room-bridge'
import type { RelayBridge } from '../relay'

const debug = createDebug('duplex-peer:cluster')

/** Settings of a {@link RedisStore}. */
export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL. */
  url: string
  /** Prefix of every key and channel (one cluster per prefix). */
  prefix: string
  /** Node lease (ms): a dead node's ids are free at most this long after it died. */
  lease: number
  /** How long (ms) messages are held. */
  expireTimeout: number
  /** Most messages held for one peer, cluster-wide. */
  maxHeldMessages: number
  /** Most bytes held in all, cluster-wide. */
  maxHeldBytes: number
  /** Longest valid id. */
  maxIdLength: number
}

/** Queues expired per sweep. */
const SWEEP_BATCH = 100

export class RedisStore implements SharedStore {
  readonly ready: Promise<void>
  /** This node's id in the cluster. */
  readonly node = randomUUID()
  private readonly options: RedisStoreOptions
  private readonly events: SharedStoreEvents
  private readonly client: RedisClientLike
  private subscriber: RedisClientLike
  private readonly scripts: ScriptRunner
  private readonly channel: string
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null
  private sweepTimer: ReturnType<typeof setInterval> | null = null
  /** The lease was renewed at least once: a lapsed one means claims were lost. */
  private leased = false
  /** Ids must be claimed again (a lapsed lease, or a lost subscription). */
  private reclaimNeeded = false
  private beating = false
  private sweeping = false
  private closed = false
  private pingSeq = 0

  constructor (options: RedisStoreOptions, events: SharedStoreEvents) {
    this.options = options
    this.events = events
    this.channel = `${options.prefix}chan:${this.node}`
    const onError = (err: unknown): void => { debug('redis: %s', (err as Error)?.message ?? err) }
    this.client = createRedisClient(options.url, onError)
    this.scripts = new ScriptRunner(this.client)
    this.subscriber = this.client.duplicate()
    this.subscriber.on('error', onError)
    // Back after an outage: find out at once whether the lease survived.
    this.client.on('ready', () => { if (this.leased) void this.heartbeat() })
    this.ready = this.start()
    this.ready.catch(() => { /* the caller reports it */ })
  }

  private async start (): Promise<void> {
    await this.client.connect()
    await this.subscriber.connect()
    await this.subscriber.subscribe(this.channel, message => this.onChannel(message))
    await this.heartbeat()
    if (this.closed) return
    this.heartbeatTimer = setInterval(() => { void this.heartbeat() }, Math.max(10, Math.floor(this.options.lease / 3)))
    const every = Math.min(1000, Math.max(20, Math.floor(this.options.expireTimeout / 10)))
    this.sweepTimer = setInterval(() => { void this.sweep() }, every)
    for (const timer of [this.heartbeatTimer, this.sweepTimer]) if (typeof timer.unref === 'function') timer.unref()
  }

  async claim (id: string, token: string): Promise<ClaimOutcome> {
    const reply = await this.scripts.run(scripts.CLAIM, [this.options.prefix, this.node, id, token, 'claim'])
    return this.claimOutcome(reply)
  }

  release (id: string, token: string): void {
    if (this.closed) return
    this.scripts.run(scripts.RELEASE, [this.options.prefix, this.node, id, token])
      .catch(err => debug('release %s: %s', id, (err as Error)?.message))
  }

  async route (message: RelayedMessage, bytes: number, notHere: boolean): Promise<RouteOutcome> {
    const holdable = message.type !== 'LEAVE' && message.type !== 'EXPIRE'
    const o = this.options
    const reply = await this.scripts.run(scripts.ROUTE, [
      o.prefix, message.dst, encodeRelayed(message), bytes, notHere ? this.node : '',
      holdable ? '1' : '0', o.maxHeldMessages, o.maxHeldBytes, o.expireTimeout
    ])
    switch (reply) {
      case 'sent': case 'held': case 'dropped': case 'queue-full': case 'server-full':
        return reply
      default:
        throw new Error(`Unexpected reply from Redis: ${String(reply).slice(0, 40)}`)
    }
  }

  async freshId (generate: () => string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const id = String(generate())
      if (await this.scripts.run(scripts.FREE, [this.options.prefix, id]) === 1) return id
    }
    throw new Error('generateClientId keeps returning ids in use')
  }

  async ids (): Promise<string[]> {
    const reply = await this.scripts.run(scripts.PEERS, [this.options.prefix])
    if (!Array.isArray(reply)) return []
    return [...new Set(reply.filter((id): id is string => typeof id === 'string'))]
  }

  roomBridge (deliver: (topic: Uint8Array, payload: Uint8Array) => void): RelayBridge {
    return new RedisRoomBridge(this.client, this.client.duplicate(), this.options.prefix, this.node, deliver)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    if (this.client.isReady) {
      // A clean stop frees this node's ids at once rather than after the lease.
      await this.scripts.run(scripts.LEAVE, [this.options.prefix, this.node]).catch(() => {})
    }
    this.subscriber.destroy()
    this.client.destroy()
  }

  private claimOutcome (reply: unknown): ClaimOutcome {
    if (!Array.isArray(reply)) throw new Error('Unexpected reply from Redis to a claim')
    if (reply[0] === 'taken') return { status: 'taken' }
    if (reply[0] !== 'claimed') throw new Error('Unexpected reply from Redis to a claim')
    const held: RelayedMessage[] = []
    for (const text of Array.isArray(reply[1]) ? reply[1] : []) {
      const message = parseHeld(text, this.options.maxIdLength)
      if (message) held.push(message)
    }
    return { status: 'claimed', held }
  }

  /** A message on this node's channel (from any process that can publish: checked). */
  private onChannel (text: string): void {
    const message = parseClusterMessage(text, this.options.maxIdLength)
    if (!message) {
      debug('ignored a malformed cluster message')
      return
    }
    try {
      if (message.kind === 'msg') this.events.deliver(message.message)
      else if (message.kind === 'evict') this.events.evict(message.id)
    } catch (err) {
      debug('delivery failed: %s', (err as Error)?.message)
    }
  }

  /** Renews the lease, checks the subscription, and claims the ids again if they were lost. */
  private async heartbeat (): Promise<void> {
    if (this.beating || this.closed) return
    this.beating = true
    try {
      const existed = await this.scripts.run(scripts.HEARTBEAT, [this.options.prefix, this.node, this.options.lease])
      if (this.leased && existed !== 1) {
        debug('lease had lapsed: claiming the ids again')
        this.reclaimNeeded = true
      }
      this.leased = true
      await this.watchdog()
      if (this.reclaimNeeded) await this.reclaim()
    } catch (err) {
      debug('heartbeat: %s', (err as Error)?.message)
    } finally {
      this.beating = false
    }
  }

  /** Publishes to the own channel: if nobody listens, subscribes again (a new connection if need be). */
  private async watchdog (): Promise<void> {
    const listeners = await this.client.sendCommand(['PUBLISH', this.channel, pingMessage(this.pingSeq++)])
    if (listeners !== 0 || this.closed) return
    debug('subscription lost: subscribing again')
    try {
      await this.subscriber.unsubscribe(this.channel)
      await this.subscriber.subscribe(this.channel, message => this.onChannel(message))
    } catch {
      const old = this.subscriber
      this.subscriber = this.client.duplicate()
      this.subscriber.on('error', (err: unknown) => debug('redis: %s', (err as Error)?.message))
      try { old.destroy() } catch { /* gone */ }
      await this.subscriber.connect()
      await this.subscriber.subscribe(this.channel, message => this.onChannel(message))
    }
    // Messages published while nobody listened were held: take them.
    this.reclaimNeeded = true
  }

  /** Claims every id of this node's clients again; those another node holds now are lost. */
  private async reclaim (): Promise<void> {
    for (const { id, token } of [...this.events.clients()]) {
      const reply = await this.scripts.run(scripts.CLAIM, [this.options.prefix, this.node, id, token, 'reclaim'])
      const outcome = this.claimOutcome(reply)
      if (outcome.status === 'taken') {
        this.events.lost(id)
        continue
      }
      for (const message of outcome.held) this.events.deliver(message)
    }
    this.reclaimNeeded = false
  }

  /** Expires the queues that are due (atomically: one node takes each). */
  private async sweep (): Promise<void> {
    if (this.sweeping || this.closed) return
    this.sweeping = true
    try {
      while (!this.closed && await this.scripts.run(scripts.SWEEP, [this.options.prefix, SWEEP_BATCH]) === SWEEP_BATCH) { /* more due */ }
    } catch (err) {
      debug('sweep: %s', (err as Error)?.message)
    } finally {
      this.sweeping = false
    }
  }
}
