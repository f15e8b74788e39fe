/**
 * Framing and in-order reassembly of the chunks of a striped stream (see
 * `manager.ts`). Pure: no channels, no timers. The sender numbers chunks
 * from 0 (`outlet.ts`); the receiver accepts them from any stripe in any
 * order, drops duplicates (re-sends after a stripe failed), and hands back
 * the in-order prefix. What it holds out of order is bounded.
 */

/** Bytes of a frame header: `u32 seqHigh, u32 seqLow, u8 flags`. */
export const FRAME_HEADER_BYTES = 9
/** Flag: the chunk is a whole `send()` message, to be delivered as one event. */
export const FLAG_MESSAGE = 1
/** Flag: the message is text (UTF-8 payload), not binary. */
export const FLAG_TEXT = 2
const KNOWN_FLAGS = FLAG_MESSAGE | FLAG_TEXT
const TWO_32 = 0x100000000

/** One numbered chunk of the stream. */
export interface Chunk {
  /** Sequence number: a safe integer, 0 for the first framed chunk. */
  readonly seq: number
  /** {@link FLAG_MESSAGE} and {@link FLAG_TEXT}. */
  readonly flags: number
  readonly payload: Uint8Array
}

/** Frames a chunk for a stripe's data channel. Throws a `RangeError` on a bad sequence number or flags (a bug, not input). */
export function encodeFrame (chunk: Chunk): Uint8Array {
  if (!Number.isSafeInteger(chunk.seq) || chunk.seq < 0) throw new RangeError('bad sequence number')
  if ((chunk.flags & ~KNOWN_FLAGS) !== 0) throw new RangeError('bad flags')
  const frame = new Uint8Array(FRAME_HEADER_BYTES + chunk.payload.byteLength)
  const view = new DataView(frame.buffer)
  view.setUint32(0, Math.floor(chunk.seq / TWO_32))
  view.setUint32(4, chunk.seq % TWO_32)
  view.setUint8(8, chunk.flags)
  frame.set(chunk.payload, FRAME_HEADER_BYTES)
  return frame
}

/**
 * Reads a frame from the remote. `null` if it is not one: too short, a
 * sequence number past `Number.MAX_SAFE_INTEGER`, or unknown flags. The
 * payload is a view into `frame`, not a copy.
 */
export function decodeFrame (frame: Uint8Array): Chunk | null {
  if (!(frame instanceof Uint8Array) || frame.byteLength < FRAME_HEADER_BYTES) return null
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const high = view.getUint32(0)
  const seq = high * TWO_32 + view.getUint32(4)
  if (!Number.isSafeInteger(seq)) return null
  const flags = view.getUint8(8)
  if ((flags & ~KNOWN_FLAGS) !== 0) return null
  return { seq, flags, payload: frame.subarray(FRAME_HEADER_BYTES) }
}

/** What {@link Reassembler.push} did with a chunk. */
export type PushResult =
  /** Delivered at once, with any held chunks it made contiguous (`delivered` in order). */
  | { kind: 'delivered', delivered: Chunk[] }
  /** Held until the chunks before it arrive. */
  | { kind: 'held' }
  /** Already delivered or already held: dropped. */
  | { kind: 'duplicate' }
  /** Out of order and past the bounds: dropped; the remote broke the window (a protocol error). */
  | { kind: 'overflow' }
  /** Not a chunk (bad sequence number or payload): dropped. */
  | { kind: 'invalid' }

/** Bounds of what a {@link Reassembler} holds out of order. */
export interface ReassemblerLimits {
  /** Most payload bytes held out of order. */
  maxHeldBytes: number
  /** Most chunks held out of order, and how far ahead of the next expected a sequence number may be. */
  maxHeldChunks: number
}

/** In-order reassembly of numbered chunks arriving on several stripes. */
export class Reassembler {
  private readonly limits: ReassemblerLimits
  private readonly held = new Map<number, Chunk>()
  private next = 0
  private heldBytesCount = 0
  private deliveredBytesCount = 0

  constructor (limits: ReassemblerLimits) {
    if (!(limits.maxHeldBytes >= 0) || !Number.isSafeInteger(limits.maxHeldChunks) || limits.maxHeldChunks < 0) {
      throw new RangeError('bad reassembler limits')
    }
    this.limits = { ...limits }
  }

  /** Sequence number of the next chunk to deliver. */
  get expected (): number { return this.next }
  /** Payload bytes held out of order. */
  get heldBytes (): number { return this.heldBytesCount }
  /** Chunks held out of order. */
  get heldChunks (): number { return this.held.size }
  /** Payload bytes delivered in order so far (what `fin` is compared with). */
  get deliveredBytes (): number { return this.deliveredBytesCount }

  /**
   * Takes a chunk from any stripe. The next expected chunk is always
   * delivered (never refused for lack of room), so a full buffer cannot
   * deadlock; anything else is held only within the limits.
   */
  push (chunk: Chunk): PushResult {
    if (chunk === null || typeof chunk !== 'object' || !Number.isSafeInteger(chunk.seq) || chunk.seq < 0 ||
        !(chunk.payload instanceof Uint8Array)) {
      return { kind: 'invalid' }
    }
    if (chunk.seq < this.next || this.held.has(chunk.seq)) return { kind: 'duplicate' }
    if (chunk.seq === this.next) {
      const delivered: Chunk[] = [chunk]
      this.advance(chunk)
      for (let c = this.held.get(this.next); c !== undefined; c = this.held.get(this.next)) {
        this.held.delete(c.seq)
        this.heldBytesCount -= c.payload.byteLength
        delivered.push(c)
        this.advance(c)
      }
      return { kind: 'delivered', delivered }
    }
    const size = chunk.payload.byteLength
    // At most `maxHeldChunks` ahead of the next expected, so at most that many held.
    if (chunk.seq - this.next > this.limits.maxHeldChunks || this.heldBytesCount + size > this.limits.maxHeldBytes) {
      return { kind: 'overflow' }
    }
    this.held.set(chunk.seq, chunk)
    this.heldBytesCount += size
    return { kind: 'held' }
  }

  private advance (chunk: Chunk): void {
    this.next = chunk.seq + 1
    this.deliveredBytesCount += chunk.payload.byteLength
  }
}
