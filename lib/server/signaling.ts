/**
 * The WebSocket side of the PeerServer protocol: registering clients (`OPEN`,
 * `ID-TAKEN`, `ERROR`), relaying `OFFER`/`ANSWER`/`CANDIDATE`/`LEAVE`/`EXPIRE`
 * between them, holding messages for peers not connected yet, and dropping
 * clients that stop sending heartbeats. Every refusal is an `ERROR` message
 * to the client; nothing a client sends can throw.
 *
 * In a cluster (a {@link SharedStore}), ids are claimed in the store before
 * `OPEN`, messages for clients of other nodes and held messages go through
 * it, and messages from other nodes arrive from it; this node's own sockets
 * stay in its {@link Realm}.
 */
import { EventEmitter } from 'events'
import type { IncomingMessage } from 'http'
import { WebSocket, type RawData } from 'ws'
import { Client } from './client'
import { Realm } from './realm'
import { HeldMessages } from './held'
import { RateLimiter } from './rate-limit'
import type { ResolvedOptions } from './options'
import type { ClaimOutcome, SharedStore, SharedStoreEvents } from './store'
import { encodeRelayed } from './cluster/messages'
import { MessageType } from '../peerserver-protocol'
import { Errors, isValidId, isValidToken, parseClientMessage, serverMessage, errorMessage, type RelayedMessage } from './protocol'

/** WebSocket close codes used when the server drops a client. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  /** The cluster's store is unreachable: the client may try again. */
  TRY_AGAIN_LATER: 1013
} as const

/** A client whose id is being claimed in the shared store. */
interface PendingClaim {
  readonly token: string
  socket: WebSocket
  /** Messages for it that arrived meanwhile, oldest first. */
  readonly buffer: RelayedMessage[]
}

/** Makes the shared store of a cluster, given what it must tell this node. */
export type SharedStoreFactory = (events: SharedStoreEvents) => SharedStore

export class Signaling extends EventEmitter {
  readonly realm = new Realm()
  readonly held: HeldMessages
  /** The cluster's shared store, `null` on a server of its own. */
  readonly store: SharedStore | null
  private readonly options: ResolvedOptions
  private readonly pending = new Map<string, PendingClaim>()
  private aliveTimer: ReturnType<typeof setInterval> | null = null
  private readonly sockets = new Set<WebSocket>()
  private closed = false

  constructor (options: ResolvedOptions, makeStore?: SharedStoreFactory) {
    super()
    this.options = options
    this.store = makeStore
      ? makeStore({
        deliver: message => this.relay(message, undefined, true),
        evict: id => this.evict(id),
        lost: id => this.lost(id),
        clients: () => [...this.realm.all()]
      })
      : null
    this.held = new HeldMessages(options.expire_timeout, options.max_held_messages, options.max_held_bytes,
      (dst, messages) => this.expired(dst, messages))
    const every = Math.min(5000, Math.max(50, Math.floor(options.alive_timeout / 4)))
    this.aliveTimer = setInterval(() => this.checkAlive(), every)
    if (typeof this.aliveTimer.unref === 'function') this.aliveTimer.unref()
  }

  /** A WebSocket connected at `{path}/peerjs`: register its client or refuse it. */
  accept (socket: WebSocket, req: IncomingMessage): void {
    // An unhandled socket error would crash the process: handle first.
    socket.on('error', err => this.safeEmit('error', err))
    if (this.closed) {
      socket.close(CloseCode.GOING_AWAY)
      return
    }
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))

    let params: URLSearchParams
    try {
      params = new URL(req.url ?? '', 'http://localhost').searchParams
    } catch {
      params = new URLSearchParams()
    }
    const id = params.get('id')
    const token = params.get('token')
    const key = params.get('key')
    if (!id || !token || !key) return this.refuse(socket, Errors.INVALID_WS_PARAMETERS)
    if (key !== this.options.key) return this.refuse(socket, Errors.INVALID_KEY)
    if (!isValidId(id, this.options.max_id_length)) return this.refuse(socket, Errors.INVALID_ID)
    if (!isValidToken(token)) return this.refuse(socket, Errors.INVALID_TOKEN)

    const existing = this.realm.get(id)
    const claiming = this.pending.get(id)
    if (claiming) {
      if (claiming.token !== token) return this.idTaken(socket)
      // The same client again while its first socket registers: the new one replaces it.
      const old = claiming.socket
      claiming.socket = socket
      if (old !== socket) old.close(CloseCode.NORMAL, 'Replaced by a new connection')
      return
    }
    if (existing) {
      if (existing.token !== token) return this.idTaken(socket)
      // The same client again (a reconnect): the new socket replaces the old one.
      const old = existing.socket
      existing.socket = socket
      existing.lastPing = Date.now()
      if (old && old !== socket) old.close(CloseCode.NORMAL, 'Replaced by a new connection')
      this.attach(existing, socket)
      return
    }
    if (this.realm.size + this.pending.size >= this.options.concurrent_limit) return this.refuse(socket, Errors.CONNECTION_LIMIT_EXCEED)
    if (this.store) return this.claim(this.store, id, token, socket)
    const client = new Client(id, token, socket)
    this.realm.add(client)
    this.attach(client, socket)
  }

  /** Claims `id` cluster-wide; registers the client once the claim is granted. */
  private claim (store: SharedStore, id: string, token: string, socket: WebSocket): void {
    const entry: PendingClaim = { token, socket, buffer: [] }
    this.pending.set(id, entry)
    const settle = (): boolean => {
      if (this.pending.get(id) !== entry) return false
      this.pending.delete(id)
      return true
    }
    store.claim(id, token).then(outcome => {
      if (!settle()) return
      try {
        this.claimed(store, id, token, entry, outcome)
      } catch (err) {
        // Not reachable by design; a bug here must not take the server down.
        this.safeEmit('error', err)
      }
    }, () => {
      if (!settle()) return
      this.refuse(entry.socket, Errors.STORE_UNAVAILABLE, CloseCode.TRY_AGAIN_LATER)
      for (const message of entry.buffer) this.relay(message, undefined, true)
    })
  }

  /** The claim of `id` was answered. */
  private claimed (store: SharedStore, id: string, token: string, entry: PendingClaim, outcome: ClaimOutcome): void {
    const current = entry.socket
    if (outcome.status === 'taken') {
      this.idTaken(current)
      for (const message of entry.buffer) this.relay(message, undefined, true)
      return
    }
    const waiting = [...outcome.held, ...entry.buffer]
    if (this.closed || current.readyState !== WebSocket.OPEN) {
      // Gone while claiming: free the id and hold its messages again.
      store.release(id, token)
      for (const message of waiting) this.relay(message, undefined, true)
      return
    }
    const client = new Client(id, token, current)
    this.realm.add(client)
    this.attach(client, current)
    for (const message of waiting) this.relay(message)
  }

  /** Another node took `id` over (same id and token): this node's socket for it closes. */
  private evict (id: string): void {
    const client = this.realm.get(id)
    if (!client) return
    const socket = client.socket
    this.unregister(client)
    socket?.close(CloseCode.NORMAL, 'Replaced by a new connection')
  }

  /** After an outage of the store, another node holds `id`: this node's client of it goes. */
  private lost (id: string): void {
    const client = this.realm.get(id)
    if (!client) return
    const socket = client.socket
    this.unregister(client)
    if (socket) this.idTaken(socket)
  }

  /** Closes every socket and stops the timers. */
  close (): void {
    if (this.closed) return
    this.closed = true
    if (this.aliveTimer) clearInterval(this.aliveTimer)
    this.aliveTimer = null
    this.held.clear()
    for (const socket of this.sockets) {
      try { socket.close(CloseCode.GOING_AWAY, 'Server closing') } catch { /* already closed */ }
    }
    // Sockets that do not finish the closing handshake soon are cut.
    const sockets = [...this.sockets]
    const timer = setTimeout(() => { for (const socket of sockets) socket.terminate() }, 1000)
    if (typeof timer.unref === 'function') timer.unref()
  }

  private attach (client: Client, socket: WebSocket): void {
    const limiter = new RateLimiter(this.options.rate_limit, this.options.rate_burst)
    socket.on('close', () => {
      if (client.socket === socket) this.unregister(client)
    })
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (client.socket !== socket) return
      try {
        this.onMessage(client, socket, limiter, data, isBinary)
      } catch (err) {
        // Not reachable by design; a bug here must not take the server down.
        sendIfOpen(socket, errorMessage('Internal server error'))
        this.safeEmit('error', err)
      }
    })
    sendIfOpen(socket, serverMessage(MessageType.OPEN))
    this.safeEmit('connection', client)
    for (const message of this.held.take(client.id)) this.relay(message)
  }

  private onMessage (client: Client, socket: WebSocket, limiter: RateLimiter, data: RawData, _isBinary: boolean): void {
    if (!limiter.take()) return this.refuse(socket, `${Errors.RATE_LIMIT} (${this.options.rate_limit} messages per second)`)
    const size = byteLength(data)
    if (size > this.options.max_message_size) {
      return this.refuse(socket, `${Errors.MESSAGE_TOO_LARGE} (${size} bytes, limit ${this.options.max_message_size})`, CloseCode.TOO_BIG)
    }
    const parsed = parseClientMessage(toText(data), client.id, this.options.max_id_length)
    if (!parsed.ok) {
      sendIfOpen(socket, errorMessage(parsed.error))
      return
    }
    if (parsed.type === MessageType.HEARTBEAT) {
      client.lastPing = Date.now()
      this.safeEmit('message', client, { type: parsed.type, src: client.id })
      return
    }
    if (parsed.dst === undefined) {
      // LEAVE without a recipient: the client is leaving.
      this.unregister(client)
      socket.close(CloseCode.NORMAL, 'Left')
      return
    }
    const message: RelayedMessage = { type: parsed.type, src: client.id, dst: parsed.dst, payload: parsed.payload }
    this.safeEmit('message', client, message)
    this.relay(message, size)
  }

  /**
   * Delivers `message`, or holds it for a recipient not connected yet.
   * `notHere`: in a cluster, the message came from the store, so the store
   * must not send it back to this node if the recipient has gone.
   */
  private relay (message: RelayedMessage, size?: number, notHere = false): void {
    const recipient = this.realm.get(message.dst)
    if (recipient) {
      if (recipient.sendText(JSON.stringify(message))) return
      // The recipient is registered but cannot take messages: it is gone.
      recipient.socket?.terminate()
      this.unregister(recipient)
      if (message.type !== MessageType.LEAVE && message.type !== MessageType.EXPIRE) {
        const leave: RelayedMessage = { type: MessageType.LEAVE, src: message.dst, dst: message.src }
        if (this.store) this.relay(leave)
        else this.realm.get(message.src)?.sendText(JSON.stringify(leave))
      }
      return
    }
    if (this.store) {
      const claiming = this.pending.get(message.dst)
      if (claiming) claiming.buffer.push(message)
      else this.route(this.store, message, size, notHere)
      return
    }
    if (message.type === MessageType.LEAVE || message.type === MessageType.EXPIRE) return
    const bytes = size ?? Buffer.byteLength(JSON.stringify(message))
    const refused = this.held.hold(message, bytes)
    if (refused) {
      this.realm.get(message.src)?.sendText(errorMessage(`${Errors.HOLD_FULL} (${message.dst})`))
    }
  }

  /** Sends `message` through the store; the sender hears of what could not be done. */
  private route (store: SharedStore, message: RelayedMessage, size: number | undefined, notHere: boolean): void {
    const bytes = size ?? Buffer.byteLength(encodeRelayed(message))
    store.route(message, bytes, notHere).then(outcome => {
      if (outcome === 'queue-full' || outcome === 'server-full') {
        this.realm.get(message.src)?.sendText(errorMessage(`${Errors.HOLD_FULL} (${message.dst})`))
      }
    }, () => {
      this.realm.get(message.src)?.sendText(errorMessage(`${Errors.STORE_UNAVAILABLE} (${message.type} to ${message.dst} not delivered)`))
    })
  }

  /** Messages for `dst` expired: each sender hears it once. */
  private expired (dst: string, messages: RelayedMessage[]): void {
    const told = new Set<string>()
    for (const message of messages) {
      if (told.has(message.src)) continue
      told.add(message.src)
      this.realm.get(message.src)?.sendText(JSON.stringify({ type: MessageType.EXPIRE, src: dst, dst: message.src }))
    }
  }

  private checkAlive (): void {
    const now = Date.now()
    for (const client of [...this.realm.all()]) {
      if (now - client.lastPing < this.options.alive_timeout) continue
      const socket = client.socket
      this.unregister(client)
      if (socket) {
        sendIfOpen(socket, errorMessage('No heartbeat: disconnected'))
        socket.close(CloseCode.GOING_AWAY, 'No heartbeat')
      }
    }
  }

  /**
   * The client has no socket any more: it leaves the realm (unless a newer
   * client holds its id) and `disconnect` is reported, once.
   */
  private unregister (client: Client): void {
    client.socket = null
    if (!this.realm.remove(client)) return
    this.store?.release(client.id, client.token)
    this.safeEmit('disconnect', client)
  }

  /** Sends an `ERROR` and closes the socket. */
  /** Tells a socket its id is held by another client (`ID-TAKEN`) and closes it. */
  private idTaken (socket: WebSocket): void {
    sendIfOpen(socket, serverMessage(MessageType.ID_TAKEN, { msg: Errors.ID_TAKEN }))
    socket.close(CloseCode.POLICY, 'ID is taken')
  }

  private refuse (socket: WebSocket, msg: string, code: number = CloseCode.POLICY): void {
    sendIfOpen(socket, errorMessage(msg))
    try {
      socket.close(code, msg.slice(0, 120))
    } catch {
      socket.terminate()
    }
  }

  /** Emits, except `error` with no listener (which would throw). */
  private safeEmit (event: string, ...args: unknown[]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return
    try {
      this.emit(event, ...args)
    } catch (err) {
      // An application listener threw: report it without disturbing the protocol.
      queueMicrotask(() => { throw err })
    }
  }
}

/** Sends `text` if the socket is open; a closing socket drops it. */
function sendIfOpen (socket: WebSocket, text: string): void {
  if (socket.readyState !== WebSocket.OPEN) return
  try { socket.send(text) } catch { /* closing */ }
}

function byteLength (data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0)
  return data instanceof ArrayBuffer ? data.byteLength : data.length
}

function toText (data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
