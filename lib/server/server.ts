/**
 * The signaling server: an HTTP(S) server carrying the PeerServer HTTP API and
 * its WebSocket at `{path}/peerjs`, built on `ws`.
 */
import { EventEmitter } from 'events'
import * as http from 'http'
import * as https from 'https'
import type { AddressInfo } from 'net'
import type { Duplex } from 'stream'
import { randomUUID } from 'crypto'
import { WebSocketServer, type ServerOptions as WebSocketServerOptions } from 'ws'
import { resolveOptions, type PeerServerOptions, type ResolvedOptions } from './options'
import { createHttpHandler } from './http'
import { Signaling, type SharedStoreFactory } from './signaling'
import { Relay, type RelayStats } from './relay'
import type { PeerServerClient } from './client'
import type { RelayedMessage } from './protocol'

/**
 * Frames up to this many times `max_message_size` are read, so that the client
 * can be told why its message is refused; a larger frame closes the socket
 * with code 1009.
 */
const FRAME_CAP_FACTOR = 4

/** A message as the `message` event reports it. */
export interface PeerServerMessage {
  /** The message type (`HEARTBEAT`, `OFFER`, `ANSWER`, `CANDIDATE`, `LEAVE`, `EXPIRE`). */
  type: RelayedMessage['type']
  /** The sender's id. */
  src: string
  /** The recipient's id (none for `HEARTBEAT`). */
  dst?: string
  /** What the sender attached. */
  payload?: unknown
}

/**
 * A running signaling server. Events, as `peer`'s: `connection` (a client
 * registered), `disconnect` (it left), `message` (it sent something), `error`.
 */
export class PeerServerInstance extends EventEmitter {
  /** The options in effect. */
  readonly options: ResolvedOptions
  /** The HTTP(S) server. */
  readonly server: http.Server | https.Server
  /** The path of the WebSocket (`{path}/peerjs`). */
  readonly socketPath: string
  /** The path of the room relay's WebSocket (`{path}/rooms`), `null` if the relay is off. */
  readonly roomsPath: string | null
  private readonly signaling: Signaling
  private readonly wss: WebSocketServer
  private readonly relay: Relay | null = null
  private readonly relayWss: WebSocketServer | null = null
  private readonly ownsServer: boolean
  private readonly onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void
  private readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void
  private closing = false
  /**
   * Resolves once the server can serve: at once on a server of its own; in
   * a cluster, once Redis was reached (until then, clients are refused
   * with an `ERROR`). {@link PeerServer} listens only then.
   */
  readonly ready: Promise<void>

  /** Use {@link PeerServer} or {@link attachPeerServer}. */
  constructor (server: http.Server | https.Server | null, options: PeerServerOptions = {}) {
    super()
    this.options = resolveOptions(options)
    this.ownsServer = !server
    this.server = server ?? (this.options.ssl ? https.createServer(this.options.ssl) : http.createServer())
    this.socketPath = (this.options.path === '/' ? '' : this.options.path) + '/peerjs'
    this.signaling = new Signaling(this.options, this.options.redis ? redisStoreFactory(this.options, this.options.redis) : undefined)
    this.ready = this.signaling.store ? this.signaling.store.ready : Promise.resolve()
    for (const event of ['connection', 'disconnect', 'message', 'error']) {
      this.signaling.on(event, (...args: unknown[]) => {
        if (event === 'error' && this.listenerCount('error') === 0) return
        this.emit(event, ...args)
      })
    }

    const wsOptions: WebSocketServerOptions = {
      noServer: true,
      // Messages up to a few times the limit are read, so the client can be told why it is refused.
      maxPayload: this.options.max_message_size * FRAME_CAP_FACTOR,
      perMessageDeflate: false
    }
    this.wss = this.options.createWebSocketServer ? this.options.createWebSocketServer(wsOptions) : new WebSocketServer(wsOptions)
    this.wss.on('error', err => { if (this.listenerCount('error') > 0) this.emit('error', err) })
    const relayOptions = this.options.rooms
    this.roomsPath = relayOptions ? (this.options.path === '/' ? '' : this.options.path) + '/rooms' : null
    if (relayOptions) {
      const onError = (err: unknown): void => { if (this.listenerCount('error') > 0) this.emit('error', err) }
      const store = this.signaling.store
      // In a cluster, rooms fan out to the other nodes through the same Redis.
      this.relay = new Relay(relayOptions, onError, store?.roomBridge ? deliver => store.roomBridge!(deliver) : undefined)
      const relayWsOptions: WebSocketServerOptions = { noServer: true, maxPayload: Relay.maxFrame(relayOptions), perMessageDeflate: false }
      this.relayWss = this.options.createWebSocketServer ? this.options.createWebSocketServer(relayWsOptions) : new WebSocketServer(relayWsOptions)
      this.relayWss.on('error', onError)
    }

    const api = createHttpHandler({
      options: this.options,
      freshId: () => {
        const generate = this.options.generateClientId ?? randomUUID
        return this.signaling.store ? this.signaling.store.freshId(generate) : this.signaling.realm.freshId(generate)
      },
      ids: () => this.signaling.store ? this.signaling.store.ids() : this.signaling.realm.ids()
    })
    this.onRequest = (req, res) => {
      // A request a listener added before this one already answered is left alone.
      if (res.headersSent || res.writableEnded) return
      if (api(req, res)) return
      if (this.ownsServer) {
        res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': '9' })
        res.end('Not Found')
      }
    }
    this.onUpgrade = (req, socket, head) => {
      let pathname = ''
      try { pathname = new URL(req.url ?? '', 'http://localhost').pathname } catch { /* not ours */ }
      if (this.relay && this.relayWss && this.roomsPath && (pathname === this.roomsPath || pathname === this.roomsPath + '/')) {
        const relay = this.relay
        socket.on('error', () => socket.destroy())
        this.relayWss.handleUpgrade(req, socket, head, ws => relay.accept(ws))
        return
      }
      if (pathname !== this.socketPath && pathname !== this.socketPath + '/') {
        // Leave other paths to the application's own upgrade listeners, if it has any.
        if (this.server.listenerCount('upgrade') <= 1) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
        }
        return
      }
      socket.on('error', () => socket.destroy())
      this.wss.handleUpgrade(req, socket, head, ws => this.signaling.accept(ws, req))
    }
    this.server.on('request', this.onRequest)
    this.server.on('upgrade', this.onUpgrade)
  }

  /** Whether {@link close} was called. */
  get closed (): boolean { return this.closing }

  /** The ids of the connected clients. */
  get clients (): string[] { return this.signaling.realm.ids() }

  /** Clients and topics of the room relay (`null` if it is off). */
  get roomStats (): RelayStats | null { return this.relay ? this.relay.stats() : null }

  /** The address the server listens on (`null` before it does). */
  address (): AddressInfo | string | null { return this.server.address() }

  /**
   * Stops the server: every client socket is closed and, if this server made
   * the HTTP server, that is closed too. `callback` runs once it is done.
   */
  close (callback?: (err?: Error) => void): void {
    if (this.closing) {
      if (callback) setImmediate(callback)
      return
    }
    this.closing = true
    this.signaling.close()
    const store = this.signaling.store
    if (store) {
      const done = callback
      callback = err => { store.close().then(() => done?.(err), () => done?.(err)) }
    }
    this.relay?.close()
    this.relayWss?.close()
    this.server.off('request', this.onRequest)
    this.server.off('upgrade', this.onUpgrade)
    this.wss.close()
    if (!this.ownsServer || !this.server.listening) {
      if (callback) setImmediate(callback)
      return
    }
    this.server.close(err => callback?.(err ?? undefined))
    // Keep-alive HTTP connections would hold `close` up.
    const server = this.server as http.Server & { closeIdleConnections?: () => void }
    server.closeIdleConnections?.()
  }
}

/** The Redis store of a cluster node (loads node-redis: only called with the `redis` option). */
function redisStoreFactory (options: ResolvedOptions, url: string): SharedStoreFactory {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RedisStore } = require('./cluster/redis-store') as typeof import('./cluster/redis-store')
  return events => new RedisStore({
    url,
    prefix: `duplex-peer:${options.key}:`,
    lease: options.redis_lease,
    expireTimeout: options.expire_timeout,
    maxHeldMessages: options.max_held_messages,
    maxHeldBytes: options.max_held_bytes,
    maxIdLength: options.max_id_length
  }, events)
}

/** Typed events of a {@link PeerServerInstance}. */
export interface PeerServerInstance {
  /** A client registered (`connection`), or left or was dropped (`disconnect`). */
  on (event: 'connection' | 'disconnect', listener: (client: PeerServerClient) => void): this
  /** A client sent a message (after it was checked). */
  on (event: 'message', listener: (client: PeerServerClient, message: PeerServerMessage) => void): this
  /** A socket or `listen` error. Never emitted for what clients send. */
  on (event: 'error', listener: (err: Error) => void): this
  /** The server listens (made by {@link PeerServer}). */
  on (event: 'listening', listener: () => void): this
  /** Any other event. */
  on (event: string | symbol, listener: (...args: never[]) => void): this
  /** Once: a client registered or left. */
  once (event: 'connection' | 'disconnect', listener: (client: PeerServerClient) => void): this
  /** Once: a client sent a message. */
  once (event: 'message', listener: (client: PeerServerClient, message: PeerServerMessage) => void): this
  /** Once: a socket or `listen` error. */
  once (event: 'error', listener: (err: Error) => void): this
  /** Once: the server listens. */
  once (event: 'listening', listener: () => void): this
  /** Once: any other event. */
  once (event: string | symbol, listener: (...args: never[]) => void): this
}

/**
 * Starts a signaling server speaking the PeerServer protocol of `peer` 1.x,
 * with the same options. `callback` gets the HTTP server once it listens.
 * Errors of `listen` (e.g. `EADDRINUSE`) are emitted as `error`.
 *
 * @example
 * ```js
 * const { PeerServer } = require('duplex-peer/server')
 * const server = PeerServer({ port: 9000, path: '/myapp' }, s => console.log('listening on', s.address().port))
 * ```
 */
export function PeerServer (options: PeerServerOptions = {}, callback?: (server: http.Server | https.Server) => void): PeerServerInstance {
  const instance = new PeerServerInstance(null, options)
  const server = instance.server
  server.once('error', err => {
    if (instance.listenerCount('error') > 0) instance.emit('error', err)
    else throw err
  })
  const listen = (): void => {
    server.listen(instance.options.port, instance.options.host, () => {
      instance.emit('listening')
      callback?.(server)
    })
  }
  if (!instance.options.redis) {
    listen()
    return instance
  }
  instance.ready.then(() => { if (!instance.closed) listen() }, err => {
    if (instance.closed) return
    if (instance.listenerCount('error') > 0) instance.emit('error', err)
    else throw err
  })
  return instance
}

/**
 * Adds the PeerServer protocol to an existing HTTP(S) server, under
 * `options.path` (the counterpart of `peer`'s `ExpressPeerServer`). Requests
 * outside that path are left to the server's other listeners.
 */
export function attachPeerServer (server: http.Server | https.Server, options: PeerServerOptions = {}): PeerServerInstance {
  return new PeerServerInstance(server, options)
}
