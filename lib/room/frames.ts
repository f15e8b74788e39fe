/**
 * The framing of room messages on a peer's data channel. Each data channel
 * message is one frame; a room message (a transfer) is one or more frames.
 * Frames of different transfers may interleave on one channel, so a short
 * message need not wait behind a long one; the frames of one transfer come
 * in order (the channel is ordered and reliable).
 *
 * Layout (integers big-endian):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 1 | format version, {@link FRAME_VERSION} |
 * | 1 | 1 | frame type ({@link FrameType}) |
 * | 2 | 4 | transfer id (u32, chosen by the sender, unique among its unfinished transfers on this connection; 0 for `CONTROL`) |
 *
 * then by type:
 * - `START` (first frame of a transfer): kind (u8, {@link PayloadKind}),
 *   label length L (u8), total payload length (u32 high, u32 low: at most
 *   2^53 - 1; both `0xffffffff`: a stream of unknown length, ended by `END`),
 *   info length I (u16, at most {@link MAX_INFO_BYTES}; 0: no info), the
 *   label (L bytes of UTF-8), the info (I bytes of UTF-8 JSON: the sender's
 *   `info` option), then the first payload bytes (maybe none).
 * - `CHUNK`: payload bytes that follow the transfer's previous frame.
 * - `END`: the end of a transfer of unknown length (announced with the reserved total).
 * - `ABORT`: the sender gave up the transfer; the rest is a UTF-8 reason.
 * - `CONTROL`: a room control message (UTF-8 JSON), e.g. presence.
 *
 * A transfer of known length is complete when its payload bytes reach the
 * total. The payload bytes of a transfer are flow-controlled by the
 * receiver: the sender may send {@link RECEIVE_WINDOW} bytes of it at first
 * and then as many more as the receiver grants (`credit` control messages,
 * see control.ts) as its reader consumes them; `START`, `END` and `ABORT`
 * need no credit. Every frame from the network is untrusted: {@link parseFrame}
 * checks bounds and returns `null` for anything malformed; it never throws.
 */
import type { JsonValue } from './protocol'

/** Version of the frame format (byte 0 of every frame). */
export const FRAME_VERSION = 2

/** Largest frame sent: the message size every WebRTC implementation accepts (RFC 8841's default). */
export const MAX_FRAME_SIZE = 64 * 1024

/** Largest label, in bytes of UTF-8. */
export const MAX_LABEL_BYTES = 255

/** Largest `info` of a transfer, in bytes of UTF-8 JSON. */
export const MAX_INFO_BYTES = 16 * 1024

/**
 * Payload bytes of a transfer that may be on their way to the receiver but
 * not yet read by its reader: the sender's credit when a transfer starts,
 * and what the receiver keeps granting as its reader consumes the bytes
 * (so it buffers at most this much of each transfer).
 */
export const RECEIVE_WINDOW = 1024 * 1024

/** Frame types (byte 1). */
export const FrameType = {
  START: 1,
  CHUNK: 2,
  END: 3,
  ABORT: 4,
  CONTROL: 5
} as const

/** How a transfer's payload is to be read. */
export const PayloadKind = {
  /** Bytes, received as a `Uint8Array`. */
  BYTES: 1,
  /** A string, as UTF-8. */
  TEXT: 2,
  /** A JSON value, as UTF-8 JSON text. */
  JSON: 3
} as const

/** One of the {@link PayloadKind} values. */
export type PayloadKindValue = typeof PayloadKind[keyof typeof PayloadKind]

/** Length of the common header. */
const HEADER = 6
/** Length of a `START` frame's header before the label. */
const START_HEADER = HEADER + 1 + 1 + 8 + 2

/**
 * Payload bytes a sender puts in one frame when it cuts a source into
 * pieces: small enough that a piece fits a `START` with the longest label
 * and no info (with an info it may not: then the `START` goes out alone and
 * the piece follows in a `CHUNK`).
 */
export const PIECE_SIZE = MAX_FRAME_SIZE - START_HEADER - MAX_LABEL_BYTES

/** The high and low words announcing a total of unknown length. */
const UNKNOWN = 0xffffffff
/** Largest total length (`Number.MAX_SAFE_INTEGER`). */
const MAX_TOTAL = Number.MAX_SAFE_INTEGER
const TWO_32 = 2 ** 32

/** A parsed frame. */
export type Frame =
  | { readonly type: 'start', readonly transfer: number, readonly kind: PayloadKindValue, readonly label: string, readonly total: number | null, readonly info: JsonValue | undefined, readonly payload: Uint8Array }
  | { readonly type: 'chunk', readonly transfer: number, readonly payload: Uint8Array }
  | { readonly type: 'end', readonly transfer: number }
  | { readonly type: 'abort', readonly transfer: number, readonly reason: string }
  | { readonly type: 'control', readonly payload: Uint8Array }

const encoder = new TextEncoder()

/** The UTF-8 bytes of a label, or `null` if it is too long. */
export function encodeLabel (label: string): Uint8Array | null {
  const bytes = encoder.encode(label)
  return bytes.byteLength <= MAX_LABEL_BYTES ? bytes : null
}

/**
 * The UTF-8 JSON bytes of a transfer's `info`, or `null` if it is not a JSON
 * value (`undefined`, a function, a cycle) or longer than {@link MAX_INFO_BYTES}.
 */
export function encodeInfo (info: unknown): Uint8Array | null {
  let text: string | undefined
  try {
    text = JSON.stringify(info)
  } catch {
    return null
  }
  if (text === undefined) return null
  const bytes = encoder.encode(text)
  return bytes.byteLength <= MAX_INFO_BYTES ? bytes : null
}

/** How many payload bytes fit in a `START` frame after a label and an info of these lengths. */
export function startRoom (label: Uint8Array, info: Uint8Array | null): number {
  return MAX_FRAME_SIZE - START_HEADER - label.byteLength - (info?.byteLength ?? 0)
}

function header (type: number, transfer: number, size: number): { frame: Uint8Array, view: DataView } {
  const frame = new Uint8Array(size)
  const view = new DataView(frame.buffer)
  frame[0] = FRAME_VERSION
  frame[1] = type
  view.setUint32(2, transfer)
  return { frame, view }
}

/**
 * Splits one message into frames of at most `frameSize` bytes: a `START`
 * carrying the kind, label, total length and the first bytes, then `CHUNK`s.
 * `label` must pass {@link encodeLabel}; `transfer` is a u32.
 */
export function encodeTransfer (transfer: number, kind: PayloadKindValue, label: Uint8Array, payload: Uint8Array, frameSize: number = MAX_FRAME_SIZE, info: Uint8Array | null = null): Uint8Array[] {
  const startHeader = START_HEADER + label.byteLength + (info?.byteLength ?? 0)
  if (frameSize <= startHeader) throw new RangeError(`frame size ${frameSize} leaves no room for payload`)
  const firstBytes = Math.min(payload.byteLength, frameSize - startHeader)
  const frames = [encodeStart(transfer, kind, label, payload.byteLength, payload.subarray(0, firstBytes), info)]
  for (let offset = firstBytes; offset < payload.byteLength; offset += frameSize - HEADER) {
    const part = payload.subarray(offset, Math.min(payload.byteLength, offset + frameSize - HEADER))
    const { frame } = header(FrameType.CHUNK, transfer, HEADER + part.byteLength)
    frame.set(part, HEADER)
    frames.push(frame)
  }
  return frames
}

/**
 * A `START` frame: `total` payload bytes will follow in all (`null`: unknown,
 * the transfer ends with an `END`), `first` of them in this frame. `label`
 * must pass {@link encodeLabel}, `info` (if any) {@link encodeInfo}; `first`
 * must fit in {@link startRoom} bytes.
 */
export function encodeStart (transfer: number, kind: PayloadKindValue, label: Uint8Array, total: number | null, first: Uint8Array, info: Uint8Array | null = null): Uint8Array {
  const infoBytes = info?.byteLength ?? 0
  const startHeader = START_HEADER + label.byteLength + infoBytes
  const { frame, view } = header(FrameType.START, transfer, startHeader + first.byteLength)
  frame[6] = kind
  frame[7] = label.byteLength
  view.setUint32(8, total === null ? UNKNOWN : Math.floor(total / TWO_32))
  view.setUint32(12, total === null ? UNKNOWN : total % TWO_32)
  view.setUint16(16, infoBytes)
  frame.set(label, START_HEADER)
  if (info) frame.set(info, START_HEADER + label.byteLength)
  frame.set(first, startHeader)
  return frame
}

/** A `CHUNK` frame carrying `payload` (not empty, at most {@link PIECE_SIZE} bytes). */
export function encodeChunk (transfer: number, payload: Uint8Array): Uint8Array {
  const { frame } = header(FrameType.CHUNK, transfer, HEADER + payload.byteLength)
  frame.set(payload, HEADER)
  return frame
}

/** The `END` frame of a transfer of unknown length. */
export function encodeEnd (transfer: number): Uint8Array {
  return header(FrameType.END, transfer, HEADER).frame
}

/** An `ABORT` frame with a reason (cut to 1 KiB). */
export function encodeAbort (transfer: number, reason: string): Uint8Array {
  const text = encoder.encode(reason.slice(0, 1024))
  const { frame } = header(FrameType.ABORT, transfer, HEADER + text.byteLength)
  frame.set(text, HEADER)
  return frame
}

/** A `CONTROL` frame carrying `payload`. */
export function encodeControl (payload: Uint8Array): Uint8Array {
  const { frame } = header(FrameType.CONTROL, 0, HEADER + payload.byteLength)
  frame.set(payload, HEADER)
  return frame
}

/**
 * Reads one frame as received, or returns `null` if it is not a well-formed
 * frame of this version. Payloads are views into `bytes`. Never throws.
 */
export function parseFrame (bytes: Uint8Array): Frame | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < HEADER || bytes.byteLength > MAX_FRAME_SIZE) return null
  if (bytes[0] !== FRAME_VERSION) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const transfer = view.getUint32(2)
  switch (bytes[1]) {
    case FrameType.START: {
      if (bytes.byteLength < START_HEADER) return null
      const kind = bytes[6]
      if (kind !== PayloadKind.BYTES && kind !== PayloadKind.TEXT && kind !== PayloadKind.JSON) return null
      const labelLength = bytes[7]
      const high = view.getUint32(8)
      const low = view.getUint32(12)
      const unknown = high === UNKNOWN && low === UNKNOWN
      const total = unknown ? null : high * TWO_32 + low
      if (total !== null && total > MAX_TOTAL) return null
      const infoLength = view.getUint16(16)
      if (infoLength > MAX_INFO_BYTES) return null
      const labelEnd = START_HEADER + labelLength
      const infoEnd = labelEnd + infoLength
      if (bytes.byteLength < infoEnd) return null
      let label: string
      let info: JsonValue | undefined
      try {
        const decoder = new TextDecoder('utf-8', { fatal: true })
        label = decoder.decode(bytes.subarray(START_HEADER, labelEnd))
        if (infoLength > 0) info = JSON.parse(decoder.decode(bytes.subarray(labelEnd, infoEnd))) as JsonValue
      } catch {
        return null
      }
      const payload = bytes.subarray(infoEnd)
      if (total !== null && payload.byteLength > total) return null
      return { type: 'start', transfer, kind, label, total, info, payload }
    }
    case FrameType.CHUNK:
      if (bytes.byteLength === HEADER) return null
      return { type: 'chunk', transfer, payload: bytes.subarray(HEADER) }
    case FrameType.END:
      return bytes.byteLength === HEADER ? { type: 'end', transfer } : null
    case FrameType.ABORT: {
      try {
        return { type: 'abort', transfer, reason: new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER)) }
      } catch {
        return null
      }
    }
    case FrameType.CONTROL:
      return transfer === 0 ? { type: 'control', payload: bytes.subarray(HEADER) } : null
    default:
      return null
  }
}
