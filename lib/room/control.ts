/**
 * Control messages between two connected room peers, carried in `CONTROL`
 * frames on their data channel (UTF-8 JSON `{ type, ... }`). Once a pair is
 * connected, what they tell each other goes here, not through the broker.
 * - `metadata` `{ metadata }`: the sender's current metadata (presence), sent
 *   when the connection opens and on each `updateMetadata()`.
 * - `received` `{ transfer }`: a transfer from the remote arrived whole.
 * - `refused` `{ transfer, reason }`: a transfer from the remote was refused
 *   or dropped (over the limits, malformed); the sender stops it.
 * - `credit` `{ transfer, bytes }`: the receiver's reader consumed bytes of a
 *   transfer from the remote, which may send `bytes` more (flow control).
 * - `declined` `{ transfer, reason }`: the receiver does not want a transfer
 *   (`decline()`); the sender stops it (`ERR_TRANSFER_DECLINED`).
 * - `cancelled` `{ transfer, reason }`: the receiver stopped a transfer while
 *   it was being received (`cancel()`); the sender stops it (`ERR_TRANSFER_CANCELLED`).
 *
 * - `ping` `{}`: nothing else was sent for a while; tells the remote this
 *   side is alive (see liveness.ts).
 *
 * `transfer` always names a transfer of the side the message is sent to.
 */
import { MAX_METADATA_BYTES, parseJsonObject, type JsonValue } from './protocol'

/** A control message. */
export type ControlMessage =
  | { readonly type: 'metadata', readonly metadata: JsonValue }
  | { readonly type: 'received', readonly transfer: number }
  | { readonly type: 'refused', readonly transfer: number, readonly reason: string }
  | { readonly type: 'ping' }
  | { readonly type: 'credit', readonly transfer: number, readonly bytes: number }
  | { readonly type: 'declined', readonly transfer: number, readonly reason: string }
  | { readonly type: 'cancelled', readonly transfer: number, readonly reason: string }

/** Largest grant in one `credit` message. */
export const MAX_CREDIT = 2 ** 32

/** Largest control message accepted, in bytes. */
export const MAX_CONTROL_BYTES = MAX_METADATA_BYTES + 1024

const encoder = new TextEncoder()

/** Serializes a control message. */
export function encodeControlMessage (message: ControlMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message))
}

/** Reads a control message, or returns `null` for anything malformed or unknown. Never throws. */
export function parseControlMessage (bytes: Uint8Array): ControlMessage | null {
  if (bytes.byteLength > MAX_CONTROL_BYTES) return null
  const obj = parseJsonObject(bytes)
  if (!obj) return null
  if (obj.type === 'metadata' && obj.metadata !== undefined) return { type: 'metadata', metadata: obj.metadata as JsonValue }
  if (obj.type === 'ping') return { type: 'ping' }
  const transfer = obj.transfer
  if (typeof transfer !== 'number' || !Number.isInteger(transfer) || transfer < 1 || transfer > 0xffffffff) return null
  if (obj.type === 'received') return { type: 'received', transfer }
  if (obj.type === 'refused' && typeof obj.reason === 'string') return { type: 'refused', transfer, reason: obj.reason.slice(0, 1024) }
  if (obj.type === 'credit') {
    const bytes = obj.bytes
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_CREDIT) return null
    return { type: 'credit', transfer, bytes }
  }
  if ((obj.type === 'declined' || obj.type === 'cancelled') && (obj.reason === undefined || typeof obj.reason === 'string')) {
    return { type: obj.type, transfer, reason: (obj.reason ?? '').slice(0, 1024) }
  }
  return null
}
