/** PeerJS's error types and its error class. */

/** `err.type` of errors a {@link Peer} emits, as in PeerJS 1.5. */
export const PeerErrorType = {
  /** No WebRTC implementation was found. */
  BrowserIncompatible: 'browser-incompatible',
  /** `connect()` or `call()` after `disconnect()`. */
  Disconnected: 'disconnected',
  /** The id given to the constructor is not valid. */
  InvalidID: 'invalid-id',
  /** The server does not know the key. */
  InvalidKey: 'invalid-key',
  /** The connection to the server was lost. */
  Network: 'network',
  /** The peer to connect to is not connected to the server. */
  PeerUnavailable: 'peer-unavailable',
  /** Kept from PeerJS; never emitted here. */
  SslUnavailable: 'ssl-unavailable',
  /** The server refused, or could not be reached for an id. */
  ServerError: 'server-error',
  /** The WebSocket to the server failed to connect. */
  SocketError: 'socket-error',
  /** The server closed the WebSocket before accepting the client. */
  SocketClosed: 'socket-closed',
  /** The id is in use. */
  UnavailableID: 'unavailable-id',
  /** The WebRTC implementation failed (SDP or candidate refused). */
  WebRTC: 'webrtc'
} as const

/** One of {@link PeerErrorType}'s values. */
export type PeerErrorTypeValue = typeof PeerErrorType[keyof typeof PeerErrorType]

/** `err.type` of errors a connection emits. */
export const ConnectionErrorType = {
  /** ICE failed. */
  NegotiationFailed: 'negotiation-failed',
  /** The connection closed under way. */
  ConnectionClosed: 'connection-closed',
  /** `send()` before the `open` event. */
  NotOpenYet: 'not-open-yet',
  /** The value is too large for the serialization. */
  MessageToBig: 'message-too-big'
} as const

/** One of {@link ConnectionErrorType}'s values. */
export type ConnectionErrorTypeValue = typeof ConnectionErrorType[keyof typeof ConnectionErrorType]

/** An `Error` with PeerJS's `type`. */
export class PeerError<T extends string = string> extends Error {
  /** What went wrong, e.g. `'peer-unavailable'`. */
  readonly type: T

  constructor (type: T, cause: Error | string) {
    super(typeof cause === 'string' ? cause : cause.message)
    this.name = 'PeerError'
    this.type = type
    if (typeof cause !== 'string') (this as { cause?: unknown }).cause = cause
  }
}

/**
 * Emits `error` only if someone listens, as PeerJS's emitter does: an error
 * nobody handles is logged, not thrown out of a network callback.
 */
export function emitError (emitter: { listenerCount (event: string): number, emit (event: string, ...args: unknown[]): boolean },
  error: PeerError, log: (message: string) => void): void {
  if (emitter.listenerCount('error') > 0) emitter.emit('error', error)
  else log(`unhandled error (${error.type}): ${error.message}`)
}
