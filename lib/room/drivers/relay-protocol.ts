/**
 * The wire format of the room relay of `duplex-peer/server` (at
 * `{path}/rooms`), shared by the server and {@link WebSocketDriver}. Every
 * message is one binary WebSocket frame:
 *
 * ```
 * byte 0        operation (RelayOp)
 * byte 1        topic length L in bytes, 1..255
 * bytes 2..2+L  topic (UTF-8 as sent; the relay compares bytes)
 * bytes 2+L..   payload (PUBLISH and MESSAGE only; may be empty)
 * ```
 *
 * Client to relay: `SUBSCRIBE`, `UNSUBSCRIBE` (no payload), `PUBLISH`.
 * Relay to client: `SUBSCRIBED` (the subscription is in place), `MESSAGE`
 * (a payload published on a subscribed topic by another client).
 * The relay closes a misbehaving client with one of {@link RelayCloseCode}.
 * This module has no dependencies, so browser builds can use it.
 */

/** Operation codes (byte 0 of each frame). */
export const RelayOp = {
  /** Client: subscribe to the topic. */
  SUBSCRIBE: 1,
  /** Client: drop the subscription to the topic. */
  UNSUBSCRIBE: 2,
  /** Client: publish the payload on the topic. */
  PUBLISH: 3,
  /** Relay: a payload published on a topic this client subscribed to. */
  MESSAGE: 16,
  /** Relay: the subscription to the topic is in place. */
  SUBSCRIBED: 17
} as const

/** One of the {@link RelayOp} values. */
export type RelayOpValue = typeof RelayOp[keyof typeof RelayOp]

/** WebSocket close codes the relay uses. */
export const RelayCloseCode = {
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** A frame larger than the relay's limit (sent by `ws` itself). */
  TOO_BIG: 1009,
  /** A frame that is not a relay message (text frame, unknown operation, bad topic, payload on a non-publish). */
  MALFORMED: 4400,
  /** A topic longer than the relay's `max_topic_length`. */
  TOPIC_TOO_LONG: 4414,
  /** More subscriptions than the relay's `max_subscriptions`. */
  TOO_MANY_SUBSCRIPTIONS: 4409,
  /** More messages than the relay's rate limit allows. */
  RATE_LIMIT: 4429,
  /** The relay has as many clients as it accepts. */
  FULL: 4503
} as const

/** Longest topic the wire format can carry (bytes). */
export const MAX_TOPIC_BYTES = 255

/** A frame as {@link parseRelayFrame} reads it. */
export interface RelayFrame {
  /** The operation. */
  op: RelayOpValue
  /** The topic's bytes, as a binary-safe string key (one char per byte). */
  key: string
  /** The topic's bytes. */
  topic: Uint8Array
  /** The payload (empty for operations without one). */
  payload: Uint8Array
}

/** Why a frame was refused. */
export type RelayParseError = 'malformed' | 'topic-too-long'

const CLIENT_OPS = new Set<number>([RelayOp.SUBSCRIBE, RelayOp.UNSUBSCRIBE, RelayOp.PUBLISH])
const SERVER_OPS = new Set<number>([RelayOp.MESSAGE, RelayOp.SUBSCRIBED])
const WITH_PAYLOAD = new Set<number>([RelayOp.PUBLISH, RelayOp.MESSAGE])

/**
 * Reads one frame. `from` says which side sent it (`'client'`: the relay
 * parsing; `'relay'`: a driver parsing). Never throws: anything else than a
 * well-formed frame gives an error string.
 */
export function parseRelayFrame (bytes: Uint8Array, from: 'client' | 'relay', maxTopicLength: number = MAX_TOPIC_BYTES): RelayFrame | RelayParseError {
  if (!(bytes instanceof Uint8Array) || bytes.length < 3) return 'malformed'
  const op = bytes[0]
  if (!(from === 'client' ? CLIENT_OPS : SERVER_OPS).has(op)) return 'malformed'
  const length = bytes[1]
  if (length === 0 || 2 + length > bytes.length) return 'malformed'
  if (length > maxTopicLength) return 'topic-too-long'
  if (!WITH_PAYLOAD.has(op) && bytes.length !== 2 + length) return 'malformed'
  const topic = bytes.subarray(2, 2 + length)
  let key = ''
  for (let i = 0; i < topic.length; i++) key += String.fromCharCode(topic[i])
  return { op: op as RelayOpValue, key, topic, payload: bytes.subarray(2 + length) }
}

/** Makes one frame; `topic` is its UTF-8 bytes (1..255 of them). */
export function encodeRelayFrame (op: RelayOpValue, topic: Uint8Array, payload?: Uint8Array): Uint8Array {
  if (topic.length === 0 || topic.length > MAX_TOPIC_BYTES) throw new RangeError('a relay topic is 1 to 255 bytes')
  const size = 2 + topic.length + (payload ? payload.length : 0)
  const frame = new Uint8Array(size)
  frame[0] = op
  frame[1] = topic.length
  frame.set(topic, 2)
  if (payload) frame.set(payload, 2 + topic.length)
  return frame
}
