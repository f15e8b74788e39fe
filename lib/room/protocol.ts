/**
 * The room signaling protocol: how peers meet through a driver.
 *
 * What a room says to another is a {@link PeerMessage} (`hello`, `confirm`,
 * `accept`, `signal`, `leave`, numbered by a counter), and, to the whole
 * room, an announce of its id. None of it goes out in clear: each is sealed
 * in an envelope (`codec.ts`) by the handshake (`handshake.ts`), which also
 * decides who is admitted. The {@link SignalingMessage} shapes (`announce`,
 * `hello`, `signal`, `leave` as plain JSON) describe the same exchanges
 * without their cryptographic fields; {@link parseMessage} reads them.
 *
 * A joining peer announces itself once on the room topic, and again only
 * when its driver comes back to active (messages may have been lost
 * meanwhile); never periodically. Each peer already there answers on the
 * announcer's peer topic; the handshake and then WebRTC signaling of a pair
 * go on the recipient's peer topic; `leave` is sent to each member on its
 * own topic, so the others close their connection to it at once.
 *
 * Topics are SHA-256 hashes, so the broker does not see room names: the room
 * topic hashes the room id, a peer topic hashes the room topic and the peer
 * id. Of each pair, the peer with the greater id (compared as strings) makes
 * the offer, so two peers that meet each other at the same moment never
 * both offer (no glare).
 *
 * Everything delivered is untrusted: the parsers check sizes, types and
 * fields and return `null` for anything else; they never throw.
 */
import { parseSignal, type SignalData } from '../signal'

/** Version of the protocol, the `v` field of every message. */
export const PROTOCOL_VERSION = 1

/** Largest signaling message accepted or sent, in bytes (an SDP with many candidates fits well). */
export const MAX_MESSAGE_BYTES = 64 * 1024

/** Largest metadata, in bytes of its JSON text. */
export const MAX_METADATA_BYTES = 16 * 1024

/** What a peer id looks like: 1 to 64 letters, digits, `_` or `-` (rooms make 32 hex digits). */
export const PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** A JSON value: what metadata and JSON messages are. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** `announce`: a peer joined (room topic). */
export interface AnnounceMessage { readonly type: 'announce', readonly from: string, readonly metadata: JsonValue }
/** `hello`: the reply to an announce (the announcer's peer topic). */
export interface HelloMessage { readonly type: 'hello', readonly from: string, readonly to: string, readonly metadata: JsonValue }
/** `signal`: WebRTC signaling data for one peer (its peer topic). */
export interface SignalMessage { readonly type: 'signal', readonly from: string, readonly to: string, readonly data: SignalData }
/** `leave`: a peer left (room topic). */
export interface LeaveMessage { readonly type: 'leave', readonly from: string }

/** A signaling message. */
export type SignalingMessage = AnnounceMessage | HelloMessage | SignalMessage | LeaveMessage

const encoder = new TextEncoder()

/** Serializes a message (the inverse of {@link parseMessage}). */
export function encodeMessage (message: SignalingMessage): Uint8Array {
  return encoder.encode(JSON.stringify({ v: PROTOCOL_VERSION, ...message }))
}

/** Whether `value` is a peer id. */
export function isPeerId (value: unknown): value is string {
  return typeof value === 'string' && PEER_ID_PATTERN.test(value)
}

/**
 * Reads `bytes` as a JSON object: strict UTF-8, then JSON, then not `null`,
 * an array or a primitive. `null` for anything else. Never throws.
 */
export function parseJsonObject (bytes: Uint8Array): Record<string, unknown> | null {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return null
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  return value as Record<string, unknown>
}

/**
 * Reads a delivered message: the typed message, or `null` for anything that
 * is not a well-formed message of this version (too large, not UTF-8, not
 * JSON, unknown type, missing or malformed field). Never throws.
 */
export function parseMessage (bytes: Uint8Array): SignalingMessage | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0 || bytes.byteLength > MAX_MESSAGE_BYTES) return null
  const obj = parseJsonObject(bytes)
  if (!obj) return null
  if (obj.v !== PROTOCOL_VERSION || !isPeerId(obj.from)) return null
  const from = obj.from
  switch (obj.type) {
    case 'announce':
      return isMetadata(obj.metadata) ? { type: 'announce', from, metadata: obj.metadata } : null
    case 'hello':
      return isPeerId(obj.to) && isMetadata(obj.metadata) ? { type: 'hello', from, to: obj.to, metadata: obj.metadata } : null
    case 'signal': {
      const data = obj.data
      if (!isPeerId(obj.to) || data === null || typeof data !== 'object' || Array.isArray(data) || !parseSignal(data)) return null
      return { type: 'signal', from, to: obj.to, data: data as SignalData }
    }
    case 'leave':
      return { type: 'leave', from }
    default:
      return null
  }
}

/**
 * A message between two sessions that share a pair key, as it is inside its
 * sealed box (see `codec.ts`): `hello` and `confirm` carry the sender's
 * metadata, `accept` ends a handshake, `signal` carries WebRTC signaling
 * data, `leave` says the sender left. `counter` counts the messages of the
 * sender's session to the recipient's from 1, so a replayed one is dropped.
 */
export type PeerMessage =
  | { readonly type: 'hello' | 'confirm', readonly from: string, readonly to: string, readonly counter: number, readonly metadata: JsonValue }
  | { readonly type: 'accept' | 'leave', readonly from: string, readonly to: string, readonly counter: number }
  | { readonly type: 'signal', readonly from: string, readonly to: string, readonly counter: number, readonly data: SignalData }

/** Serializes a peer message (the inverse of {@link parsePeerMessage}). */
export function encodePeerMessage (message: PeerMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message))
}

/** Reads a decrypted peer message: `null` for anything malformed. Never throws. */
export function parsePeerMessage (bytes: Uint8Array): PeerMessage | null {
  const obj = parseJsonObject(bytes)
  if (!obj || !isPeerId(obj.from) || !isPeerId(obj.to)) return null
  const { from, to, counter } = obj
  if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) return null
  switch (obj.type) {
    case 'hello':
    case 'confirm':
      return isMetadata(obj.metadata) ? { type: obj.type, from, to, counter, metadata: obj.metadata } : null
    case 'accept':
    case 'leave':
      return { type: obj.type, from, to, counter }
    case 'signal': {
      const data = obj.data
      if (data === null || typeof data !== 'object' || Array.isArray(data) || !parseSignal(data)) return null
      return { type: 'signal', from, to, counter, data: data as SignalData }
    }
    default:
      return null
  }
}

/** Whether `value` (just parsed from JSON) is acceptable metadata: present, and within {@link MAX_METADATA_BYTES}. */
function isMetadata (value: unknown): value is JsonValue {
  if (value === undefined) return false
  return encoder.encode(JSON.stringify(value)).byteLength <= MAX_METADATA_BYTES
}

/**
 * Checks and copies metadata given by the application: a JSON value (checked
 * by a JSON round trip) of at most {@link MAX_METADATA_BYTES}; `undefined`
 * becomes `null`. Never throws.
 * @returns the normalized copy, or what is wrong with it
 */
export function normalizeMetadata (value: unknown): { metadata: JsonValue } | { error: string } {
  if (value === undefined) return { metadata: null }
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    return { error: `metadata is not JSON-serializable: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (text === undefined) return { error: 'metadata is not a JSON value' }
  if (encoder.encode(text).byteLength > MAX_METADATA_BYTES) return { error: `metadata is larger than ${MAX_METADATA_BYTES} bytes of JSON` }
  return { metadata: JSON.parse(text) as JsonValue }
}

/** Lowercase hex SHA-256 of `text` (WebCrypto: Node 20+ and browsers). */
export async function sha256Hex (text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text))
  return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('')
}

/** The driver topic of a room: its id, hashed. */
export function roomTopic (roomId: string): Promise<string> {
  return sha256Hex(`duplex-peer/room/v${PROTOCOL_VERSION}\n${roomId}`)
}

/** The driver topic where a peer of a room receives messages addressed to it. */
export function peerTopic (room: string, peerId: string): Promise<string> {
  return sha256Hex(`${room}\n${peerId}`)
}

/** Whether `local` makes the offer to `remote`: the greater id does. */
export function isInitiator (local: string, remote: string): boolean {
  return local > remote
}
