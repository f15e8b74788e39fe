/**
 * The codec layer between the signaling protocol and the driver: the wire
 * format of what a room publishes. Every message is an *envelope*, a UTF-8
 * JSON object `{ v: 1, k, ... }` whose binary fields are base64url; what it
 * carries of the protocol ({@link SignalingMessage} fields: peer ids,
 * metadata, WebRTC signaling data) is always inside an AES-256-GCM box, so
 * the broker sees only public keys, nonces, fingerprints and ciphertext.
 *
 * - `announce` `{ p, n, t, b }` on the room topic: the announcer's public key
 *   `p`, a fresh nonce `n`, the time `t` (ms since 1970) and, sealed under the
 *   room's announce key, `{ from }` (its peer id).
 * - `hello` `{ p, n, r, m, b }` on the announcer's peer topic: the
 *   responder's public key and nonce, the announce nonce `r` it answers, its
 *   proof `m` (HMAC of the transcript under the room's proof key) and, sealed
 *   under the pair key, its peer message (`from`, `to`, counter, metadata).
 * - `confirm` `{ f, r, m, b }` on the responder's peer topic: the announcer's
 *   key fingerprint `f`, the hello nonce `r` it answers, its proof and its
 *   sealed peer message (with its metadata).
 * - `pair` `{ f, b }` on the recipient's peer topic: the sender's key
 *   fingerprint and a sealed peer message (`accept`, `signal`, `leave`).
 *
 * {@link parseEnvelope} checks sizes, types and lengths and returns `null`
 * for anything else; it never throws. The handshake and the replay checks
 * are in `handshake.ts`, the primitives in `crypto.ts`.
 */
import { fromBase64, toBase64, MIN_SEALED_BYTES, NONCE_BYTES, PROOF_BYTES, PUBLIC_KEY_BYTES } from './crypto'
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION, parseJsonObject } from './protocol'

/** `announce`: a session joined (room topic). */
export interface AnnounceEnvelope {
  readonly k: 'announce'
  /** The announcer's raw public key. */
  readonly p: Uint8Array
  /** The announce nonce. */
  readonly n: Uint8Array
  /** When it was made (ms since 1970, the announcer's clock). */
  readonly t: number
  /** `{ from }`, sealed under the announce key. */
  readonly b: Uint8Array
}

/** `hello`: the reply to an announce (the announcer's topic). */
export interface HelloEnvelope {
  readonly k: 'hello'
  /** The responder's raw public key. */
  readonly p: Uint8Array
  /** The responder's nonce. */
  readonly n: Uint8Array
  /** The announce nonce answered. */
  readonly r: Uint8Array
  /** The responder's proof. */
  readonly m: Uint8Array
  /** The responder's peer message, sealed under the pair key. */
  readonly b: Uint8Array
}

/** `confirm`: the announcer's answer to a hello (the responder's topic). */
export interface ConfirmEnvelope {
  readonly k: 'confirm'
  /** The announcer's key fingerprint. */
  readonly f: string
  /** The hello nonce answered. */
  readonly r: Uint8Array
  /** The announcer's proof. */
  readonly m: Uint8Array
  /** The announcer's peer message, sealed under the pair key. */
  readonly b: Uint8Array
}

/** `pair`: a peer message between two sessions that share a key (the recipient's topic). */
export interface PairEnvelope {
  readonly k: 'pair'
  /** The sender's key fingerprint. */
  readonly f: string
  /** The peer message, sealed under the pair key. */
  readonly b: Uint8Array
}

/** What a room publishes. */
export type Envelope = AnnounceEnvelope | HelloEnvelope | ConfirmEnvelope | PairEnvelope

/** What a key fingerprint looks like: 32 lowercase hex digits. */
const FINGERPRINT = /^[0-9a-f]{32}$/

/** Serializes an envelope (the inverse of {@link parseEnvelope}). */
export function encodeEnvelope (envelope: Envelope): Uint8Array {
  const fields: Record<string, string | number> = { v: PROTOCOL_VERSION, k: envelope.k }
  for (const [key, value] of Object.entries(envelope)) {
    if (key === 'k') continue
    fields[key] = value instanceof Uint8Array ? toBase64(value) : value as string | number
  }
  return new TextEncoder().encode(JSON.stringify(fields))
}

/**
 * Reads a delivered envelope: `null` for anything that is not a well-formed
 * envelope of this version (too large, not JSON, unknown kind, a field
 * missing, of the wrong type or length). Never throws.
 */
export function parseEnvelope (bytes: Uint8Array): Envelope | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0 || bytes.byteLength > MAX_MESSAGE_BYTES) return null
  const obj = parseJsonObject(bytes)
  if (!obj || obj.v !== PROTOCOL_VERSION) return null
  const b = fromBase64(obj.b)
  if (!b || b.byteLength < MIN_SEALED_BYTES) return null
  switch (obj.k) {
    case 'announce': {
      const p = sized(obj.p, PUBLIC_KEY_BYTES)
      const n = sized(obj.n, NONCE_BYTES)
      const t = obj.t
      if (!p || !n || typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) return null
      return { k: 'announce', p, n, t, b }
    }
    case 'hello': {
      const p = sized(obj.p, PUBLIC_KEY_BYTES)
      const n = sized(obj.n, NONCE_BYTES)
      const r = sized(obj.r, NONCE_BYTES)
      const m = sized(obj.m, PROOF_BYTES)
      return p && n && r && m ? { k: 'hello', p, n, r, m, b } : null
    }
    case 'confirm': {
      const r = sized(obj.r, NONCE_BYTES)
      const m = sized(obj.m, PROOF_BYTES)
      return isFingerprint(obj.f) && r && m ? { k: 'confirm', f: obj.f, r, m, b } : null
    }
    case 'pair':
      return isFingerprint(obj.f) ? { k: 'pair', f: obj.f, b } : null
    default:
      return null
  }
}

function isFingerprint (value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT.test(value)
}

function sized (value: unknown, length: number): Uint8Array | null {
  const bytes = fromBase64(value)
  return bytes && bytes.byteLength === length ? bytes : null
}
