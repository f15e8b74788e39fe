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
 *   the label (L bytes of UTF-8), then the first payload bytes (maybe none).
 * - `CHUNK`: payload bytes that follow the transfer's previous frame.
 * - `END`: the end of a transfer of unknown length (announced with the reserved total).
 * - `ABORT`: the sender gave up the transfer; the rest is a UTF-8 reason.
 * - `CONTROL`: a room control message (UTF-8 JSON), e.g. presence.
 *
 * A transfer of known length is complete when its payload bytes reach the
 * total. Every frame from the network is untrusted: {@link parseFrame}
 * checks bounds and returns `null` for anything malformed; it never throws.
 */
import { concatBytes } from '../util'

/** Version of the frame format (byte 0 of every frame). */
export const FRAME_VERSION = 1

/** Largest frame sent: the message size every WebRTC implementation accepts (RFC 8841's default). */
export const MAX_FRAME_SIZE = 64 * 1024

/** Largest label, in bytes of UTF-8. */
export const MAX_LABEL_BYTES = 255

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
const START_HEADER = HEADER + 1 + 1 + 8

/**
 * Payload bytes a sender puts in one frame when it cuts a source into
 * pieces: small enough that a piece fits a `START` with the longest label.
 */
export const PIECE_SIZE = MAX_FRAME_SIZE - START_HEADER - MAX_LABEL_BYTES

/** The high and low words announcing a total of unknown length. */
const UNKNOWN = 0xffffffff
/** Largest total length (`Number.MAX_SAFE_INTEGER`). */
const MAX_TOTAL = Number.MAX_SAFE_INTEGER
const TWO_32 = 2 ** 32

/** A parsed frame. */
export type Frame =
  | { readonly type: 'start', readonly transfer: number, readonly kind: PayloadKindValue, readonly label: string, readonly total: number | null, readonly payload: Uint8Array }
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
export function encodeTransfer (transfer: number, kind: PayloadKindValue, label: Uint8Array, payload: Uint8Array, frameSize: number = MAX_FRAME_SIZE): Uint8Array[] {
  const startHeader = START_HEADER + label.byteLength
  if (frameSize <= startHeader) throw new RangeError(`frame size ${frameSize} leaves no room for payload`)
  const firstBytes = Math.min(payload.byteLength, frameSize - startHeader)
  const { frame: start, view } = header(FrameType.START, transfer, startHeader + firstBytes)
  start[6] = kind
  start[7] = label.byteLength
  view.setUint32(8, Math.floor(payload.byteLength / TWO_32))
  view.setUint32(12, payload.byteLength % TWO_32)
  start.set(label, START_HEADER)
  start.set(payload.subarray(0, firstBytes), startHeader)
  const frames = [start]
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
 * must pass {@link encodeLabel}; `first` must fit in {@link MAX_FRAME_SIZE}.
 */
export function encodeStart (transfer: number, kind: PayloadKindValue, label: Uint8Array, total: number | null, first: Uint8Array): Uint8Array {
  const startHeader = START_HEADER + label.byteLength
  const { frame, view } = header(FrameType.START, transfer, startHeader + first.byteLength)
  frame[6] = kind
  frame[7] = label.byteLength
  view.setUint32(8, total === null ? UNKNOWN : Math.floor(total / TWO_32))
  view.setUint32(12, total === null ? UNKNOWN : total % TWO_32)
  frame.set(label, START_HEADER)
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
      const labelEnd = START_HEADER + labelLength
      if (bytes.byteLength < labelEnd) return null
      let label: string
      try {
        label = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(START_HEADER, labelEnd))
      } catch {
        return null
      }
      const payload = bytes.subarray(labelEnd)
      if (total !== null && payload.byteLength > total) return null
      return { type: 'start', transfer, kind, label, total, payload }
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

/** A transfer whose payload has fully arrived. */
export interface CompletedTransfer {
  readonly transfer: number
  readonly kind: PayloadKindValue
  readonly label: string
  readonly payload: Uint8Array
}

/** A transfer being received. */
interface Incoming {
  readonly kind: PayloadKindValue
  readonly label: string
  /** The announced total, or `null` for a transfer of unknown length. */
  readonly total: number | null
  /** Known total: the buffer allocated at `START`. */
  readonly payload: Uint8Array | null
  /** Unknown total: the pieces so far. */
  readonly pieces: Uint8Array[]
  received: number
}

/** Limits of a {@link Reassembler}. */
export interface ReassemblerLimits {
  /** Largest message accepted (bytes of payload); larger transfers are refused at their `START` (or when they pass it, if of unknown length). */
  readonly maxMessageSize: number
  /** Most transfers in progress at once; a `START` beyond is refused. */
  readonly maxTransfers: number
}

/** What a {@link Reassembler} tells besides completed transfers. */
export interface ReassemblerEvents {
  /** A frame broke the rules or a transfer went over the limits; `transfer` is set when a transfer was refused or dropped by this side. */
  drop (reason: string, transfer?: number): void
  /** The sender aborted a transfer in progress. */
  abort? (transfer: number, label: string, reason: string): void
}

/**
 * Puts transfers back together from interleaved frames of one connection.
 * Memory is bounded: a transfer of known length has its buffer allocated at
 * its `START` (its announced total, at most `maxMessageSize`), one of
 * unknown length grows as it arrives, and the bytes of unfinished transfers
 * together never exceed `maxMessageSize`. Frames that break the rules (a
 * chunk of an unknown transfer, a payload past its total, a transfer over
 * the limits) drop the transfer and are reported to `drop`.
 */
export class Reassembler {
  private readonly transfers = new Map<number, Incoming>()
  private pendingBytes = 0
  private readonly events: ReassemblerEvents

  constructor (private readonly limits: ReassemblerLimits, events: ReassemblerEvents | ((reason: string) => void)) {
    this.events = typeof events === 'function' ? { drop: events } : events
  }

  /** Number of transfers in progress. */
  get size (): number {
    return this.transfers.size
  }

  /** Bytes held for unfinished transfers (allocated or received). */
  get pending (): number {
    return this.pendingBytes
  }

  /** Takes one data frame; returns the transfer it completes, if any. */
  push (frame: Frame): CompletedTransfer | null {
    switch (frame.type) {
      case 'start': {
        if (this.transfers.has(frame.transfer)) this.drop(frame.transfer, 'a transfer restarted before it ended')
        const reserve = frame.total ?? 0
        if (reserve > this.limits.maxMessageSize) {
          this.events.drop(`transfer ${frame.transfer} of ${reserve} bytes is over the limit of ${this.limits.maxMessageSize}`, frame.transfer)
          return null
        }
        if (this.transfers.size >= this.limits.maxTransfers || this.pendingBytes + reserve > this.limits.maxMessageSize) {
          this.events.drop(`transfer ${frame.transfer} refused: too many bytes or transfers in progress`, frame.transfer)
          return null
        }
        const incoming: Incoming = {
          kind: frame.kind,
          label: frame.label,
          total: frame.total,
          payload: frame.total === null ? null : new Uint8Array(frame.total),
          pieces: [],
          received: 0
        }
        this.transfers.set(frame.transfer, incoming)
        this.pendingBytes += reserve
        return this.append(frame.transfer, incoming, frame.payload)
      }
      case 'chunk': {
        const incoming = this.transfers.get(frame.transfer)
        if (!incoming) {
          this.events.drop(`chunk of unknown transfer ${frame.transfer}`)
          return null
        }
        return this.append(frame.transfer, incoming, frame.payload)
      }
      case 'end': {
        const incoming = this.transfers.get(frame.transfer)
        if (!incoming) return null
        if (incoming.total !== null) {
          this.drop(frame.transfer, 'END of a transfer of known length')
          return null
        }
        return this.complete(frame.transfer, incoming, concatBytes(incoming.pieces, incoming.received))
      }
      case 'abort': {
        const incoming = this.transfers.get(frame.transfer)
        if (!incoming) return null
        this.release(frame.transfer, incoming)
        if (this.events.abort) this.events.abort(frame.transfer, incoming.label, frame.reason)
        else this.events.drop(`transfer ${frame.transfer} aborted by the sender: ${frame.reason}`)
        return null
      }
      default:
        return null
    }
  }

  /** Forgets every transfer in progress. */
  clear (): void {
    this.transfers.clear()
    this.pendingBytes = 0
  }

  private append (transfer: number, incoming: Incoming, bytes: Uint8Array): CompletedTransfer | null {
    if (incoming.total === null || incoming.payload === null) {
      if (bytes.byteLength === 0) return null
      if (this.pendingBytes + bytes.byteLength > this.limits.maxMessageSize) {
        this.drop(transfer, `over the limit of ${this.limits.maxMessageSize} bytes`)
        return null
      }
      incoming.pieces.push(bytes.slice())
      incoming.received += bytes.byteLength
      this.pendingBytes += bytes.byteLength
      return null
    }
    if (incoming.received + bytes.byteLength > incoming.total) {
      this.drop(transfer, 'more payload than announced')
      return null
    }
    incoming.payload.set(bytes, incoming.received)
    incoming.received += bytes.byteLength
    if (incoming.received < incoming.total) return null
    return this.complete(transfer, incoming, incoming.payload)
  }

  private complete (transfer: number, incoming: Incoming, payload: Uint8Array): CompletedTransfer {
    this.release(transfer, incoming)
    return { transfer, kind: incoming.kind, label: incoming.label, payload }
  }

  private release (transfer: number, incoming: Incoming): void {
    this.transfers.delete(transfer)
    this.pendingBytes -= incoming.total ?? incoming.received
  }

  private drop (transfer: number, reason: string): void {
    const incoming = this.transfers.get(transfer)
    if (!incoming) return
    this.release(transfer, incoming)
    this.events.drop(`transfer ${transfer} dropped: ${reason}`, transfer)
  }
}
