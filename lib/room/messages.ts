/**
 * What `room.send()` takes and what `channel:message` gives: a string, bytes
 * or a JSON value, each arriving as what was sent.
 */
import { PayloadKind, type PayloadKindValue } from './frames'
import type { JsonValue } from './protocol'
import type { ReadableLike } from './sources'

/**
 * What can be sent: a string, bytes (`Uint8Array`, `Buffer`, another
 * `ArrayBufferView`, `ArrayBuffer`), a JSON value, a `Blob`, a web
 * `ReadableStream` or a Node `Readable` of bytes or strings (the last three
 * arrive as bytes).
 */
export type MessageData = string | Uint8Array | ArrayBufferView | ArrayBuffer | JsonValue | Blob | ReadableStream<unknown> | ReadableLike

/** What arrives: a string, a `Uint8Array`, or a JSON value (by what was sent). */
export type ReceivedData = string | Uint8Array | JsonValue

const encoder = new TextEncoder()

/**
 * The kind and payload bytes of `data`, or `null` if it is none of
 * {@link MessageData} (e.g. `undefined`, a function, a cyclic object).
 * Bytes are not copied.
 */
export function encodePayload (data: unknown): { kind: PayloadKindValue, payload: Uint8Array } | null {
  if (typeof data === 'string') return { kind: PayloadKind.TEXT, payload: encoder.encode(data) }
  if (data instanceof Uint8Array) return { kind: PayloadKind.BYTES, payload: data }
  if (ArrayBuffer.isView(data)) return { kind: PayloadKind.BYTES, payload: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
  if (data instanceof ArrayBuffer) return { kind: PayloadKind.BYTES, payload: new Uint8Array(data) }
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch {
    return null
  }
  if (text === undefined) return null
  return { kind: PayloadKind.JSON, payload: encoder.encode(text) }
}

/**
 * Turns a received payload back into the value sent, or `{ error }` if it
 * cannot be read as its kind (invalid UTF-8 or JSON). Never throws.
 */
export function decodePayload (kind: PayloadKindValue, payload: Uint8Array): { data: ReceivedData } | { error: string } {
  if (kind === PayloadKind.BYTES) return { data: payload }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload)
  } catch {
    return { error: 'payload is not UTF-8' }
  }
  if (kind === PayloadKind.TEXT) return { data: text }
  try {
    return { data: JSON.parse(text) as JsonValue }
  } catch {
    return { error: 'payload is not JSON' }
  }
}
