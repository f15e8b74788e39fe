/**
 * Control messages between two connected room peers, carried in `CONTROL`
 * frames on their data channel (UTF-8 JSON `{ type, ... }`). Once a pair is
 * connected, what they tell each other goes here, not through the broker.
 * - `metadata` `{ metadata }`: the sender's current metadata (presence), sent
 *   when the connection opens and on each `updateMetadata()`.
 */
import { MAX_METADATA_BYTES, parseJsonObject, type JsonValue } from './protocol'

/** A control message. */
export type ControlMessage = { readonly type: 'metadata', readonly metadata: JsonValue }

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
  return null
}
