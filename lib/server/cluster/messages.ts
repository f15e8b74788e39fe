/**
 * What nodes of a cluster send each other through Redis, and the checking of
 * it. Everything read from Redis is treated as hostile until parsed here: a
 * node must not crash, or relay something a client could not have sent,
 * because of what another process wrote.
 */
import { MessageType } from '../../peerserver-protocol'
import { isValidId, type RelayedMessage } from '../protocol'

/** A message on a node's channel. */
export type ClusterMessage =
  /** A client message for a client of this node. */
  | { kind: 'msg', message: RelayedMessage }
  /** Another node took over `id` (same id and token): close this node's socket for it. */
  | { kind: 'evict', id: string }
  /** The node's own watchdog ping (its subscription works). */
  | { kind: 'ping', n: number }

/** Types that travel between nodes (the relayed ones, and `EXPIRE` from the sweeper). */
const RELAYED_TYPES: ReadonlySet<string> = new Set([
  MessageType.OFFER, MessageType.ANSWER, MessageType.CANDIDATE, MessageType.LEAVE, MessageType.EXPIRE
])

/** The text of a relayed message, as held in Redis and carried in `msg`. */
export function encodeRelayed (message: RelayedMessage): string {
  return JSON.stringify(message.payload === undefined
    ? { type: message.type, src: message.src, dst: message.dst }
    : { type: message.type, src: message.src, dst: message.dst, payload: message.payload })
}

/** A `msg` envelope around the text of a relayed message. */
export function envelope (relayedText: string): string {
  return `{"k":"msg","m":${relayedText}}`
}

/** A watchdog ping. */
export function pingMessage (n: number): string {
  return JSON.stringify({ k: 'ping', n })
}

function parseJson (text: unknown): unknown {
  if (typeof text !== 'string') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Checks a relayed message (already decoded); `null` if it is not one. */
export function checkRelayed (value: unknown, maxIdLength: number): RelayedMessage | null {
  if (!isRecord(value)) return null
  const { type, src, dst, payload } = value
  if (typeof type !== 'string' || !RELAYED_TYPES.has(type)) return null
  if (!isValidId(src, maxIdLength) || !isValidId(dst, maxIdLength)) return null
  const message: RelayedMessage = { type: type as RelayedMessage['type'], src, dst }
  if (payload !== undefined) message.payload = payload
  return message
}

/** Reads a held message (an entry of a held list); `null` if it is malformed. */
export function parseHeld (text: unknown, maxIdLength: number): RelayedMessage | null {
  return checkRelayed(parseJson(text), maxIdLength)
}

/** Reads a message from a node's channel; `null` if it is malformed. */
export function parseClusterMessage (text: unknown, maxIdLength: number): ClusterMessage | null {
  const value = parseJson(text)
  if (!isRecord(value)) return null
  switch (value.k) {
    case 'msg': {
      const message = checkRelayed(value.m, maxIdLength)
      return message ? { kind: 'msg', message } : null
    }
    case 'evict':
      return isValidId(value.id, maxIdLength) ? { kind: 'evict', id: value.id } : null
    case 'ping':
      return typeof value.n === 'number' && Number.isSafeInteger(value.n) && value.n >= 0 ? { kind: 'ping', n: value.n } : null
    default:
      return null
  }
}
