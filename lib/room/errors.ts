/**
 * The error codes of rooms. Every error a room emits or throws is an `Error`
 * with one of these in `code` (made by the core's `makeError`).
 */
import errCode = require('err-code')

/** Error codes used by `Room`, `RoomPeer` and the drivers. */
export const RoomErrorCode = {
  /** An option of `new Room()` or an argument of a method is invalid. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  /** `send()` of a value that is neither a string, bytes nor a JSON value. */
  INVALID_DATA: 'ERR_INVALID_DATA',
  /** The method needs a joined room (`join()` first, and not after `leave()`). */
  NOT_JOINED: 'ERR_NOT_JOINED',
  /** `join()` was called twice, or after `leave()`: a room is joined once. */
  ALREADY_JOINED: 'ERR_ALREADY_JOINED',
  /** The signaling driver failed to subscribe or publish. */
  DRIVER: 'ERR_DRIVER',
  /** A connection to a peer was not established within `connectionTimeout`. */
  CONNECTION_TIMEOUT: 'ERR_CONNECTION_TIMEOUT',
  /** `send()` of a message larger than the room's `maxMessageSize`. */
  MESSAGE_TOO_LARGE: 'ERR_MESSAGE_TOO_LARGE',
  /** `send()` to a peer whose connection is closed or failed. */
  PEER_CLOSED: 'ERR_PEER_CLOSED',
  /** The driver was closed. */
  DRIVER_CLOSED: 'ERR_DRIVER_CLOSED',
  /** A transfer was aborted: by the sender's `AbortSignal` (on both sides), or by the sender's failure. */
  TRANSFER_ABORTED: 'ERR_TRANSFER_ABORTED',
  /** The receiver refused or dropped a transfer (over its `maxMessageSize`, too many at once, malformed). */
  TRANSFER_REFUSED: 'ERR_TRANSFER_REFUSED',
  /** The stream or `Blob` being sent failed while it was read. */
  SOURCE_FAILED: 'ERR_SOURCE_FAILED',
  /** The receiver declined the message (`decline()` in its `channel:message` listener). */
  TRANSFER_DECLINED: 'ERR_TRANSFER_DECLINED',
  /** The receiver cancelled the message while receiving it (`cancel()`, or its reader cancelled the stream); on both sides. */
  TRANSFER_CANCELLED: 'ERR_TRANSFER_CANCELLED',
  /** A received message's data was read as a stream, so it has no whole value to await (or the reverse). */
  ALREADY_READ: 'ERR_ALREADY_READ',
  /** A labelled channel closed: transfers still being written on it fail, and so does its `peer.channel()` stream if it had not ended. */
  CHANNEL_CLOSED: 'ERR_CHANNEL_CLOSED',
  /** A message on an unreliable channel (`maxRetransmits` or `maxPacketLifeTime`) must fit one frame: streams and larger messages are refused. */
  UNRELIABLE_MESSAGE: 'ERR_UNRELIABLE_MESSAGE',
  /** A connection has no channel id left for another labelled channel (at most 512 at once per pair). */
  TOO_MANY_CHANNELS: 'ERR_TOO_MANY_CHANNELS'
} as const

/** One of the {@link RoomErrorCode} values. */
export type RoomErrorCodeValue = typeof RoomErrorCode[keyof typeof RoomErrorCode]

/** An `Error` carrying one of the room's codes. */
export interface RoomError extends Error {
  /** The machine-readable reason, e.g. `'ERR_NOT_JOINED'`. */
  code: RoomErrorCodeValue
}

/** Makes a coded room error; `cause` is a message, or an error whose message is kept. */
export function roomError (cause: unknown, code: RoomErrorCodeValue): RoomError {
  const message = cause instanceof Error ? cause.message : String(cause)
  return errCode(new Error(message), code) as RoomError
}
