/**
 * The server's side of the PeerServer protocol, as the `peer` package 1.x
 * speaks it and PeerJS 1.5 clients expect it: the texts of its errors, and the
 * checking of what a client sends. The message types and the id rule, which
 * the client shares, are in lib/peerserver-protocol.ts.
 */
import { MessageType, followsIdRule, type MessageTypeValue } from '../peerserver-protocol'

/** Types a client may send; all but `HEARTBEAT` are relayed to `dst`. */
export const CLIENT_TYPES: ReadonlySet<string> = new Set([
  MessageType.HEARTBEAT, MessageType.OFFER, MessageType.ANSWER,
  MessageType.CANDIDATE, MessageType.LEAVE, MessageType.EXPIRE
])

/** A message as relayed between clients. */
export interface RelayedMessage {
  /** The message type. */
  type: MessageTypeValue
  /** The sender's id, always set by the server. */
  src: string
  /** The recipient's id. */
  dst: string
  /** Whatever the sender attached (SDP, candidate, ...), passed on untouched. */
  payload?: unknown
}

/** The error texts of `peer` 1.x, which clients may show or match, and ours. */
export const Errors = {
  /** The key is not the server's (`peer`'s text). */
  INVALID_KEY: 'Invalid key provided',
  /** The token is malformed. */
  INVALID_TOKEN: 'Invalid token provided',
  /** `id`, `token` or `key` missing from the WebSocket URL (`peer`'s text). */
  INVALID_WS_PARAMETERS: 'No id, token, or key supplied to websocket server',
  /** `concurrent_limit` reached (`peer`'s text). */
  CONNECTION_LIMIT_EXCEED: 'Server has reached its concurrent user limit',
  /** Payload of `ID-TAKEN` (`peer`'s text). */
  ID_TAKEN: 'ID is taken',
  /** The id is malformed or too long. */
  INVALID_ID: 'Invalid id provided',
  /** A message above `max_message_size`; the socket is closed. */
  MESSAGE_TOO_LARGE: 'Message too large',
  /** More messages than `rate_limit` allows; the socket is closed. */
  RATE_LIMIT: 'Rate limit exceeded',
  /** A message that is not JSON. */
  NOT_JSON: 'Invalid message: not JSON',
  /** A message that is not an object with a string `type`. */
  NOT_OBJECT: 'Invalid message: not an object with a string type',
  /** A type clients may not send. */
  UNKNOWN_TYPE: 'Invalid message: unknown type',
  /** `dst` missing, or not a valid id. */
  INVALID_DST: 'Invalid message: missing or invalid dst',
  /** `src` given, and not the sender's own id. */
  SPOOFED_SRC: 'Invalid message: src is not your id',
  /** The held messages for a recipient, or in all, are at their limit. */
  HOLD_FULL: 'Too many messages held for a peer that is not connected',
  /** In a cluster: Redis cannot be reached, so the server cannot register the client or deliver the message. */
  STORE_UNAVAILABLE: 'Signaling store unavailable, try again'
} as const

/** A message the client sent, checked. */
export type ParsedClientMessage =
  | { ok: true, type: MessageTypeValue, dst: string | undefined, payload: unknown }
  | { ok: false, error: string }

/** Checks ids, as PeerJS does (letters and digits, single spaces, `_` or `-` between), plus a length limit. */
export function isValidId (id: unknown, maxLength: number): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= maxLength && followsIdRule(id)
}

/** Tokens are opaque; printable ASCII without spaces, 1 to 128 characters. */
export function isValidToken (token: unknown): token is string {
  return typeof token === 'string' && /^[\x21-\x7e]{1,128}$/.test(token)
}

/** Reads one text message from a client registered as `ownId`. */
export function parseClientMessage (text: string, ownId: string, maxIdLength: number): ParsedClientMessage {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return { ok: false, error: Errors.NOT_JSON }
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: false, error: Errors.NOT_OBJECT }
  const message = data as Record<string, unknown>
  const type = message.type
  if (typeof type !== 'string') return { ok: false, error: Errors.NOT_OBJECT }
  if (!CLIENT_TYPES.has(type)) return { ok: false, error: `${Errors.UNKNOWN_TYPE} ${JSON.stringify(type.slice(0, 32))}` }
  if (message.src !== undefined && message.src !== null && message.src !== ownId) return { ok: false, error: Errors.SPOOFED_SRC }
  const dst = message.dst
  if (type === MessageType.HEARTBEAT) return { ok: true, type, dst: undefined, payload: undefined }
  if (dst === undefined || dst === null) {
    // `LEAVE` without a recipient means the client itself leaves.
    if (type === MessageType.LEAVE) return { ok: true, type, dst: undefined, payload: undefined }
    return { ok: false, error: Errors.INVALID_DST }
  }
  if (!isValidId(dst, maxIdLength)) return { ok: false, error: Errors.INVALID_DST }
  return { ok: true, type: type as MessageTypeValue, dst, payload: message.payload }
}

/** The text of a server → client message. */
export function serverMessage (type: MessageTypeValue, payload?: unknown): string {
  return JSON.stringify(payload === undefined ? { type } : { type, payload })
}

/** The text of an `ERROR`. */
export function errorMessage (msg: string): string {
  return serverMessage(MessageType.ERROR, { msg })
}
