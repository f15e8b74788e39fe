/**
 * The client's WebSocket to the PeerServer: `{ws|wss}://host:port{path}peerjs?key=&id=&token=`,
 * heartbeats while open, messages queued until it is.
 */
import { EventEmitter } from 'events'
import { resolveWebSocket, WEBSOCKET_OPEN, type WebSocketLike } from './websocket'
import { MessageType, type MessageTypeValue } from '../peerserver-protocol'

/** Protocol version sent to the server, as PeerJS 1.5.5 does. */
export const CLIENT_VERSION = '1.5.5'

/** A message from the server. */
export interface ServerMessage {
  type: string
  src?: string
  dst?: string
  payload?: unknown
}

/** Where the signaling socket is. */
export interface SocketAddress {
  secure: boolean
  host: string
  port: number
  /** With leading and trailing slash. */
  path: string
  key: string
}

/**
 * `{scheme}://host:port` of the server, with an IPv6 address in brackets;
 * `scheme` takes an `s` when the address is secure (`wss`, `https`).
 */
export function serverOrigin (address: SocketAddress, scheme: 'ws' | 'http'): string {
  const host = address.host.includes(':') && !address.host.startsWith('[') ? `[${address.host}]` : address.host
  return `${scheme}${address.secure ? 's' : ''}://${host}:${address.port}`
}

/** Most messages queued while the socket is not open. */
const MAX_QUEUED = 1000

/**
 * Events: `message` (a parsed {@link ServerMessage}), and `close` with
 * `{ opened, error, code }` once the socket is gone on its own (not by `close()`).
 */
export class SignalingSocket extends EventEmitter {
  private socket: WebSocketLike | null = null
  private queue: string[] = []
  private heartbeat: ReturnType<typeof setTimeout> | null = null
  private readonly baseUrl: string
  private readonly pingInterval: number

  constructor (address: SocketAddress, pingInterval = 5000) {
    super()
    this.pingInterval = pingInterval
    this.baseUrl = `${serverOrigin(address, 'ws')}${address.path}peerjs?key=${encodeURIComponent(address.key)}`
  }

  /** The URL without the query, for messages. */
  get url (): string { return this.baseUrl.replace(/\?.*$/, '') }

  /** Opens the socket as `id`. Does nothing if one is open or opening. */
  start (id: string, token: string): void {
    if (this.socket) return
    const url = `${this.baseUrl}&id=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}&version=${CLIENT_VERSION}`
    let socket: WebSocketLike
    try {
      const WebSocket = resolveWebSocket()
      socket = new WebSocket(url)
    } catch (err) {
      queueMicrotask(() => this.emit('close', { opened: false, error: (err as Error).message }))
      return
    }
    this.socket = socket
    let opened = false
    let failure: string | undefined
    socket.onopen = () => {
      if (this.socket !== socket) return
      opened = true
      this.scheduleHeartbeat()
      const queued = this.queue
      this.queue = []
      for (const text of queued) this.sendText(text)
    }
    socket.onmessage = event => {
      if (this.socket !== socket) return
      let message: unknown
      try {
        message = JSON.parse(typeof event.data === 'string' ? event.data : String(event.data))
      } catch {
        return
      }
      if (message && typeof message === 'object' && typeof (message as ServerMessage).type === 'string') {
        this.emit('message', message)
      }
    }
    socket.onerror = event => {
      failure = event.message || (event.error instanceof Error ? event.error.message : undefined) || 'WebSocket error'
    }
    socket.onclose = event => {
      if (this.socket !== socket) return
      this.cleanup()
      this.emit('close', { opened, error: failure, code: event.code })
    }
  }

  /** Sends a message now, or once the socket opens. */
  send (message: { type: MessageTypeValue, dst?: string, payload?: unknown }): void {
    const text = JSON.stringify(message)
    if (this.socket && this.socket.readyState === WEBSOCKET_OPEN) this.sendText(text)
    else if (this.queue.length < MAX_QUEUED) this.queue.push(text)
  }

  /** Closes the socket; no `close` event follows. Queued messages are dropped. */
  close (): void {
    this.queue = []
    this.cleanup()
  }

  private sendText (text: string): void {
    try {
      this.socket?.send(text)
    } catch { /* closing: the close event follows */ }
  }

  private scheduleHeartbeat (): void {
    this.heartbeat = setTimeout(() => {
      this.heartbeat = null
      if (!this.socket || this.socket.readyState !== WEBSOCKET_OPEN) return
      this.sendText(JSON.stringify({ type: MessageType.HEARTBEAT }))
      this.scheduleHeartbeat()
    }, this.pingInterval)
  }

  private cleanup (): void {
    if (this.heartbeat) clearTimeout(this.heartbeat)
    this.heartbeat = null
    const socket = this.socket
    this.socket = null
    if (!socket) return
    socket.onopen = null
    socket.onmessage = null
    socket.onclose = null
    socket.onerror = () => {}
    try { socket.close() } catch { /* already closed */ }
  }
}
