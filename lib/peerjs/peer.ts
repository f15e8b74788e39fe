/**
 * `Peer` with PeerJS 1.5's API: registers an id with a PeerServer, opens data
 * connections and calls to other ids, and takes theirs. Each connection runs
 * on one of our engine peers (lib/peer.ts).
 */
import { EventEmitter } from 'events'
import { Peer as Engine } from '../peer'
import type { WebRTCImplementation } from '../webrtc'
import { resolveWebRTC } from '../webrtc'
import { SignalingSocket, type ServerMessage } from './socket'
import { retrieveId, listAllPeers, type ApiAddress } from './api'
import { DataConnection, type DataConnectionOptions } from './data-connection'
import { MediaConnection, type CallOptions } from './media-connection'
import { PeerError, PeerErrorType, emitError, type PeerErrorTypeValue } from './errors'
import { randomToken, type ConnectionHost } from './connection'
import { Logger } from './logger'
import { wireName } from './serialization'
import { MessageType, LEGACY_INVALID_KEY, followsIdRule } from '../peerserver-protocol'

/** Options of `new Peer([id], options)` (`PeerOptions` in duplex-peer/peerjs). */
export interface PeerJSOptions {
  /** Server host. Default `'0.peerjs.com'` (PeerJS's cloud server); `'/'` is the page's host. */
  host?: string
  /** Server port. Default `443`. */
  port?: number
  /** Path the server is mounted at. Default `'/'`. */
  path?: string
  /** Server key. Default `'peerjs'`. */
  key?: string
  /** Whether to use TLS (`https:`/`wss:`). Default: as the page is, `false` in Node, `true` for the cloud server. */
  secure?: boolean
  /** Secret that lets this client reconnect under its id. Default: random. */
  token?: string
  /** `RTCPeerConnection` configuration (ICE servers ...). Default: the engine's (public STUN). */
  config?: RTCConfiguration
  /** Log level: 0 none, 1 errors, 2 warnings, 3 everything. Default 0. */
  debug?: number
  /** Heartbeat interval (ms). Default 5000. */
  pingInterval?: number
  /** Referrer policy of the HTTP requests (browsers). */
  referrerPolicy?: ReferrerPolicy
  /** A WebRTC implementation (e.g. `require('@roamhq/wrtc')`). Default: the browser's, else `@roamhq/wrtc`. */
  wrtc?: WebRTCImplementation
  /**
   * Striped streams for data connections: the engine `Peer`'s `stripes`
   * option (at most 8 connections, or `'auto'`), used when the other side is
   * a duplex-peer that allows it too. Media connections do not use it. Not in PeerJS.
   * @defaultValue `1` (one connection per data connection)
   */
  stripes?: number | 'auto'
}

/** PeerJS's cloud server. */
export const CLOUD_HOST = '0.peerjs.com'
const CLOUD_PORT = 443
/** Most messages kept for connections that do not exist yet. */
const MAX_LOST_MESSAGES = 1000

/** A data or media connection. */
export type Connection = DataConnection | MediaConnection

/**
 * Where a peer is with the server:
 *
 *   connecting    getting an id, or registering it (at first, and after `reconnect()`)
 *   open          registered: the `open` event came
 *   disconnected  left the server (`disconnect()`, a lost socket, a refusal); `reconnect()` goes back to connecting
 *   destroyed     for good (`destroy()`); it was disconnected first
 */
type ServerState = 'connecting' | 'open' | 'disconnected' | 'destroyed'

/** Checks an id as PeerJS does: letters and digits, with single spaces, `_` or `-` between. */
export function validateId (id: string): boolean {
  return !id || followsIdRule(id)
}

/**
 * A peer known to the server by its id.
 *
 * @example
 * ```js
 * const { Peer } = require('duplex-peer/peerjs')
 * const peer = new Peer('alice', { host: 'localhost', port: 9000 })
 * peer.on('open', id => {
 *   const conn = peer.connect('bob')
 *   conn.on('open', () => conn.send({ hello: 'bob' }))
 * })
 * ```
 */
export class Peer extends EventEmitter {
  /** The default key. */
  static readonly DEFAULT_KEY = 'peerjs'

  private _id: string | null = null
  private lastServerId: string | null = null
  private state: ServerState = 'connecting'
  private readonly _connections = new Map<string, Connection[]>()
  private readonly lostMessages = new Map<string, ServerMessage[]>()
  private lostCount = 0
  private readonly _options: Required<Pick<PeerJSOptions, 'host' | 'port' | 'path' | 'key' | 'token' | 'debug' | 'secure' | 'pingInterval'>> & PeerJSOptions
  private readonly socket: SignalingSocket
  private readonly logger: Logger
  private readonly host: ConnectionHost

  /** Connects to the server, with `id` if given, else one the server hands out. */
  constructor (id?: string | PeerJSOptions, options?: PeerJSOptions) {
    super()
    let userId: string | undefined
    if (id && typeof id === 'object') options = id
    else if (id !== undefined && id !== null) userId = String(id)
    const given: PeerJSOptions = { ...options }
    const hostOption = given.host === '/' && typeof location !== 'undefined' ? location.hostname : (given.host ?? CLOUD_HOST)
    let path = given.path ?? '/'
    if (!path.startsWith('/')) path = '/' + path
    if (!path.endsWith('/')) path += '/'
    const secure = given.secure ?? (hostOption === CLOUD_HOST ? true : (typeof location !== 'undefined' && location.protocol === 'https:'))
    this._options = {
      ...given,
      host: hostOption,
      port: given.port ?? CLOUD_PORT,
      path,
      key: given.key ?? Peer.DEFAULT_KEY,
      token: given.token ?? randomToken(),
      debug: given.debug ?? 0,
      secure,
      pingInterval: given.pingInterval ?? 5000
    }
    this.logger = new Logger(this._options.debug)
    this.socket = new SignalingSocket(this._options, this._options.pingInterval)
    this.socket.on('message', (message: ServerMessage) => this.handleServerMessage(message))
    this.socket.on('close', (info: { opened: boolean, error?: string, code?: number }) => this.onSocketClose(info))
    const peer = this
    this.host = {
      get rtcConfig () { return peer._options.config },
      get wrtc () { return peer._options.wrtc },
      get stripes () { return peer._options.stripes },
      logger: this.logger,
      sendSignal: (dst, type, payload) => this.socket.send({ type, payload, dst }),
      takeLostMessages: connectionId => this.takeLostMessages(connectionId),
      removeConnection: connection => this.removeConnection(connection as Connection),
      webrtcError: err => this.emitPeerError(PeerErrorType.WebRTC, err.message)
    }

    if (!resolveWebRTC(this._options.wrtc)) {
      this.delayedAbort(PeerErrorType.BrowserIncompatible, 'The current browser does not support WebRTC')
      return
    }
    if (userId !== undefined && !validateId(userId)) {
      this.delayedAbort(PeerErrorType.InvalidID, `ID "${userId}" is invalid`)
      return
    }
    if (userId) {
      this.initialize(userId)
    } else {
      retrieveId(this.apiAddress).then(
        fresh => { if (this.state === 'connecting') this.initialize(fresh) },
        (err: Error) => this.abort(PeerErrorType.ServerError, err.message)
      )
    }
  }

  /** This peer's id: `null` until the server has given or accepted it, and after `disconnect()`. */
  get id (): string | null { return this._id }

  /** The options in effect. */
  get options (): Readonly<PeerJSOptions> { return this._options }

  /** Whether the server has accepted this peer (the `open` event). */
  get open (): boolean { return this.state === 'open' }

  /** Whether the connection to the server is gone (existing peer connections may still be up); also once destroyed. */
  get disconnected (): boolean { return this.state === 'disconnected' || this.state === 'destroyed' }

  /** Whether this peer and all its connections are closed for good. */
  get destroyed (): boolean { return this.state === 'destroyed' }

  /** The open connections, by remote id. */
  get connections (): Record<string, Connection[]> {
    const out: Record<string, Connection[]> = Object.create(null) as Record<string, Connection[]>
    for (const [id, list] of this._connections) out[id] = [...list]
    return out
  }

  /** Opens a data connection to peer `peer`. After `disconnect()`, emits `disconnected` and returns `undefined`. */
  connect (peer: string, options: DataConnectionOptions = {}): DataConnection | undefined {
    if (this.disconnected) return this.refuseDisconnected('connect')
    if (wireName(options.serialization) === null) throw new TypeError(`Unknown serialization "${String(options.serialization)}"`)
    const connection = new DataConnection(String(peer), this.host, options)
    this.addConnection(connection)
    return connection
  }

  /** Calls peer `peer`, sending `stream`. After `disconnect()`, emits `disconnected` and returns `undefined`. */
  call (peer: string, stream: MediaStream, options: CallOptions = {}): MediaConnection | undefined {
    if (this.disconnected) return this.refuseDisconnected('call')
    if (!stream) {
      this.logger.error('call() needs a MediaStream to send')
      return undefined
    }
    const connection = new MediaConnection(String(peer), this.host, stream, options)
    this.addConnection(connection)
    return connection
  }

  /** The connection to `peer` with id `connectionId`, or `null`. */
  getConnection (peer: string, connectionId: string): Connection | null {
    return this._connections.get(peer)?.find(c => c.connectionId === connectionId) ?? null
  }

  /** Leaves the server; open connections stay up. `reconnect()` may come back. */
  disconnect (): void {
    if (this.disconnected) return
    const currentId = this._id
    this.state = 'disconnected'
    this.socket.close()
    if (currentId) this.lastServerId = currentId
    this._id = null
    this.emit('disconnected', currentId)
  }

  /** Registers again with the id this peer had. Throws once destroyed, or if not disconnected. */
  reconnect (): void {
    if (this.state === 'destroyed') throw new Error('This peer cannot reconnect to the server. It has already been destroyed.')
    if (this.state !== 'disconnected') {
      if (this.state === 'connecting') {
        this.logger.error('reconnect() while still making the first connection')
        return
      }
      throw new Error(`Peer ${String(this._id)} cannot reconnect because it is not disconnected from the server!`)
    }
    if (!this.lastServerId) {
      this.logger.error('reconnect(): this peer never had an id')
      return
    }
    this.state = 'connecting'
    this.initialize(this.lastServerId)
  }

  /** Closes every connection and leaves the server, for good. */
  destroy (): void {
    if (this.state === 'destroyed') return
    this.disconnect()
    for (const list of [...this._connections.values()]) {
      for (const connection of [...list]) connection.close()
    }
    this._connections.clear()
    this.lostMessages.clear()
    this.lostCount = 0
    this.state = 'destroyed'
    this.emit('close')
  }

  /** Asks the server for the connected ids (it must allow discovery). */
  listAllPeers (cb: (ids: string[]) => void = () => {}): void {
    listAllPeers(this.apiAddress).then(ids => cb(ids), (err: Error) => this.abort(PeerErrorType.ServerError, err.message))
  }

  private get apiAddress (): ApiAddress {
    return this._options
  }

  private initialize (id: string): void {
    this._id = id
    this.socket.start(id, this._options.token)
  }

  private handleServerMessage (message: ServerMessage): void {
    const payload = message.payload
    const src = typeof message.src === 'string' ? message.src : undefined
    switch (message.type) {
      case MessageType.OPEN:
        this.lastServerId = this._id
        this.state = 'open'
        this.emit('open', this._id)
        return
      case MessageType.ERROR:
        this.abort(PeerErrorType.ServerError, readMsg(payload) ?? 'The server reported an error')
        return
      case MessageType.ID_TAKEN:
        this.abort(PeerErrorType.UnavailableID, `ID "${String(this._id)}" is taken`)
        return
      case LEGACY_INVALID_KEY:
        this.abort(PeerErrorType.InvalidKey, `API KEY "${this._options.key}" is invalid`)
        return
      case MessageType.LEAVE:
        if (!src) return
        this.logger.log(`${src} left`)
        this.closeConnectionsTo(src, () => true)
        return
      case MessageType.EXPIRE:
        if (!src) return
        // The offer never reached `src`: connections to it that are not up yet never will be.
        this.closeConnectionsTo(src, connection => !connection.open)
        this.emitPeerError(PeerErrorType.PeerUnavailable, `Could not connect to peer ${src}`)
        return
      case MessageType.OFFER:
        if (src) this.onOffer(src, payload)
        return
      default:
        if (!src || !payload || typeof payload !== 'object') {
          this.logger.warn(`malformed ${message.type} message from the server`)
          return
        }
        this.routeToConnection(src, message)
    }
  }

  private onOffer (src: string, payload: unknown): void {
    if (!payload || typeof payload !== 'object') return
    const body = payload as Record<string, unknown>
    const connectionId = typeof body.connectionId === 'string' ? body.connectionId : null
    if (!connectionId) {
      this.logger.warn(`offer from ${src} without a connection id`)
      return
    }
    const existing = this.getConnection(src, connectionId)
    if (existing) {
      this.logger.warn(`offer for existing connection ${connectionId}: replacing it`)
      existing.close()
    }
    if (body.type === 'media') {
      const call = new MediaConnection(src, this.host, null, {}, { connectionId, payload: body })
      this.addConnection(call)
      this.takeLostMessages(connectionId).forEach(message => call.handleMessage(message))
      this.emit('call', call)
    } else if (body.type === 'data') {
      const serialization = typeof body.serialization === 'string' ? body.serialization : 'binary'
      if (wireName(serialization) === null) {
        this.logger.warn(`offer from ${src} with unknown serialization "${serialization}": ignored`)
        return
      }
      let connection: DataConnection
      try {
        connection = new DataConnection(src, this.host, {
          label: typeof body.label === 'string' ? body.label : undefined,
          metadata: body.metadata,
          serialization,
          reliable: !!body.reliable
        }, { connectionId, payload: body })
      } catch (err) {
        this.emitPeerError(PeerErrorType.WebRTC, (err as Error).message)
        return
      }
      this.addConnection(connection)
      this.emit('connection', connection)
    } else {
      this.logger.warn(`offer from ${src} of unknown type ${String(body.type)}`)
    }
  }

  private routeToConnection (src: string, message: ServerMessage): void {
    const connectionId = (message.payload as { connectionId?: unknown }).connectionId
    if (typeof connectionId !== 'string') {
      this.logger.warn(`${message.type} from ${src} without a connection id`)
      return
    }
    const connection = this.getConnection(src, connectionId)
    if (connection) {
      connection.handleMessage(message)
      return
    }
    if (this.lostCount >= MAX_LOST_MESSAGES) return
    const list = this.lostMessages.get(connectionId) ?? []
    list.push(message)
    this.lostMessages.set(connectionId, list)
    this.lostCount++
  }

  private takeLostMessages (connectionId: string): ServerMessage[] {
    const list = this.lostMessages.get(connectionId)
    if (!list) return []
    this.lostMessages.delete(connectionId)
    this.lostCount -= list.length
    return list
  }

  private addConnection (connection: Connection): void {
    const list = this._connections.get(connection.peer) ?? []
    list.push(connection)
    this._connections.set(connection.peer, list)
  }

  private removeConnection (connection: Connection): void {
    const list = this._connections.get(connection.peer)
    if (list) {
      const at = list.indexOf(connection)
      if (at !== -1) list.splice(at, 1)
      if (list.length === 0) this._connections.delete(connection.peer)
    }
    const lost = this.lostMessages.get(connection.connectionId)
    if (lost) {
      this.lostMessages.delete(connection.connectionId)
      this.lostCount -= lost.length
    }
  }

  private closeConnectionsTo (peer: string, which: (connection: Connection) => boolean): void {
    for (const connection of [...(this._connections.get(peer) ?? [])]) {
      if (which(connection)) connection.close()
    }
  }

  private onSocketClose (info: { opened: boolean, error?: string, code?: number }): void {
    if (this.disconnected) return
    if (this.state === 'open') {
      this.emitPeerError(PeerErrorType.Network, 'Lost connection to server.')
      this.disconnect()
    } else if (info.opened) {
      this.abort(PeerErrorType.SocketClosed, `The server at ${this.socket.url} closed the connection${info.code ? ` (code ${info.code})` : ''}`)
    } else {
      this.abort(PeerErrorType.SocketError, `Could not connect to the server at ${this.socket.url}${info.error ? `: ${info.error}` : ''}`)
    }
  }

  /** `connect()` or `call()` after `disconnect()`: a `disconnected` error, and no connection. */
  private refuseDisconnected (method: 'connect' | 'call'): undefined {
    this.logger.warn(`${method}() after disconnect(): reconnect() first, or make a new Peer`)
    this.emitPeerError(PeerErrorType.Disconnected, 'Cannot connect to new Peer after disconnecting from server.')
    return undefined
  }

  private emitPeerError (type: PeerErrorTypeValue, message: string): void {
    emitError(this, new PeerError(type, message), text => this.logger.error(text))
  }

  /** Emits the error, then destroys the peer if it never registered, else disconnects it. */
  private abort (type: PeerErrorTypeValue, message: string): void {
    if (this.state === 'destroyed') return
    this.logger.error('aborting: ' + message)
    this.emitPeerError(type, message)
    if (!this.lastServerId) this.destroy()
    else this.disconnect()
  }

  private delayedAbort (type: PeerErrorTypeValue, message: string): void {
    setTimeout(() => this.abort(type, message), 0)
  }
}

/** Typed events of a {@link Peer}. */
export interface Peer {
  /** The server accepted this peer under `id`. */
  on (event: 'open', listener: (id: string) => void): this
  /** Another peer opened a data connection to this one. */
  on (event: 'connection', listener: (connection: DataConnection) => void): this
  /** Another peer calls: `answer()` to take the call. */
  on (event: 'call', listener: (call: MediaConnection) => void): this
  /** The peer was destroyed. */
  on (event: 'close', listener: () => void): this
  /** The connection to the server is gone (with the id it had). */
  on (event: 'disconnected', listener: (id: string | null) => void): this
  /** `err.type` says what: `peer-unavailable`, `unavailable-id`, `network`, `server-error`, ... */
  on (event: 'error', listener: (err: PeerError) => void): this
  /** Any other event. */
  on (event: string | symbol, listener: (...args: never[]) => void): this
  /** Once: the server accepted this peer. */
  once (event: 'open', listener: (id: string) => void): this
  /** Once: an incoming data connection. */
  once (event: 'connection', listener: (connection: DataConnection) => void): this
  /** Once: an incoming call. */
  once (event: 'call', listener: (call: MediaConnection) => void): this
  /** Once: the peer was destroyed. */
  once (event: 'close', listener: () => void): this
  /** Once: the connection to the server is gone. */
  once (event: 'disconnected', listener: (id: string | null) => void): this
  /** Once: an error. */
  once (event: 'error', listener: (err: PeerError) => void): this
  /** Once: any other event. */
  once (event: string | symbol, listener: (...args: never[]) => void): this
}

function readMsg (payload: unknown): string | undefined {
  if (payload && typeof payload === 'object' && typeof (payload as { msg?: unknown }).msg === 'string') return (payload as { msg: string }).msg
  return typeof payload === 'string' ? payload : undefined
}

/** Whether this environment has WebRTC (the browser's, or `@roamhq/wrtc` in Node). */
export function supportsWebRTC (): boolean {
  return Engine.WEBRTC_SUPPORT
}
