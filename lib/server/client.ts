/** One registered client: its id, token and current WebSocket. */
import { WebSocket } from 'ws'

/** A client as the server's events hand it out (the shape of `peer`'s `IClient`). */
export interface PeerServerClient {
  /** The client's id. */
  getId (): string
  /** The secret token it registered with. */
  getToken (): string
  /** Its WebSocket, `null` once it has gone. */
  getSocket (): WebSocket | null
  /** When it last sent a heartbeat (ms since the epoch). */
  getLastPing (): number
  /** Sends it a message (JSON-encoded). */
  send (data: unknown): void
}

/** Above this many bytes waiting in a client's socket, the client is dropped as not reading. */
export const SLOW_CLIENT_BYTES = 4 * 1024 * 1024

export class Client implements PeerServerClient {
  readonly id: string
  readonly token: string
  socket: WebSocket | null
  lastPing = Date.now()

  constructor (id: string, token: string, socket: WebSocket) {
    this.id = id
    this.token = token
    this.socket = socket
  }

  getId (): string { return this.id }
  getToken (): string { return this.token }
  getSocket (): WebSocket | null { return this.socket }
  getLastPing (): number { return this.lastPing }

  send (data: unknown): void {
    this.sendText(JSON.stringify(data))
  }

  /**
   * Sends a text frame. `false` if the socket is not open, or is so far
   * behind that the client is cut off.
   */
  sendText (text: string): boolean {
    const socket = this.socket
    if (!socket || socket.readyState !== WebSocket.OPEN) return false
    if (socket.bufferedAmount > SLOW_CLIENT_BYTES) {
      socket.terminate()
      return false
    }
    try {
      socket.send(text)
      return true
    } catch {
      return false
    }
  }
}
