/**
 * The receiving side of a striped stream: frames from every stripe are put
 * back in order (`reassembly.ts`) and delivered after the remote's unframed
 * bytes, once its switch point (`framed`) is known and reached.
 */
import { Buffer } from 'buffer'
import { makeError, ErrorCode, type PeerError } from '../errors'
import { Reassembler, decodeFrame, FLAG_MESSAGE, FLAG_TEXT, type Chunk } from './reassembly'

/** What the inlet tells its manager. */
export interface InletHost {
  /** The next piece of the stream, in order. */
  deliver (chunk: Buffer | string): void
  /** Stripe `k` broke the protocol: drop it. */
  violated (k: number, err: PeerError): void
}

export class StripeInlet {
  private readonly host: InletHost
  private readonly reassembler: Reassembler
  private readonly maxBytes: number
  private readonly maxFrames: number
  private framesOut = 0
  /** Unframed bytes delivered from the peer's own channel. */
  private raw = 0
  /** The remote's switch point; `null` until its `framed` arrives. */
  private at: number | null = null
  /** Whether the peer delivers at all yet (it has emitted `connect`). */
  private released = false
  /** In-order chunks waiting for the switch point. */
  private waiting: Chunk[] = []
  private waitingBytes = 0

  /**
   * `maxBytes`: most payload bytes held out of order, and most held in order
   * waiting for the switch point; `maxFrames`: most frames held either way.
   */
  constructor (maxBytes: number, maxFrames: number, host: InletHost) {
    this.host = host
    this.maxBytes = maxBytes
    this.maxFrames = maxFrames
    this.reassembler = new Reassembler({ maxHeldBytes: maxBytes, maxHeldChunks: maxFrames })
  }

  /** Frames delivered so far. */
  get deliveredFrames (): number { return this.framesOut }

  /** Payload bytes delivered from frames so far. */
  get framedBytes (): number { return this.reassembler.deliveredBytes - this.waitingBytes }

  /** The peer delivered `bytes` unframed bytes from its own channel. */
  onRaw (bytes: number): void {
    this.raw += bytes
    this.flush()
  }

  /** The remote's `framed` message. */
  onFramed (at: number): PeerError | null {
    if (this.at !== null) return makeError('second switch point', ErrorCode.STRIPE_PROTOCOL)
    this.at = at
    this.flush()
    return null
  }

  /** The peer has connected: deliver from now on. */
  release (): void {
    this.released = true
    this.flush()
  }

  /** A message that arrived on stripe `k`'s channel. */
  onFrame (k: number, data: unknown): void {
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null
    const chunk = bytes && decodeFrame(bytes)
    if (!chunk) return this.host.violated(k, makeError('not a frame', ErrorCode.STRIPE_PROTOCOL))
    if (chunk.payload.byteLength + this.waitingBytes > this.maxBytes || this.waiting.length >= this.maxFrames) {
      return this.host.violated(k, makeError('frames past the window', ErrorCode.STRIPE_PROTOCOL))
    }
    const result = this.reassembler.push(chunk)
    if (result.kind === 'overflow') return this.host.violated(k, makeError('frames past the window', ErrorCode.STRIPE_PROTOCOL))
    if (result.kind !== 'delivered') return
    for (const c of result.delivered) {
      this.waiting.push(c)
      this.waitingBytes += c.payload.byteLength
    }
    this.flush()
  }

  private flush (): void {
    if (!this.released || this.at === null || this.raw < this.at || this.waiting.length === 0) return
    const chunks = this.waiting
    this.waiting = []
    this.waitingBytes = 0
    for (const c of chunks) {
      this.framesOut++
      this.host.deliver(toChunk(c))
    }
  }
}

function toChunk (c: Chunk): Buffer | string {
  const payload = Buffer.from(c.payload.buffer, c.payload.byteOffset, c.payload.byteLength)
  return (c.flags & FLAG_MESSAGE) !== 0 && (c.flags & FLAG_TEXT) !== 0 ? payload.toString('utf8') : payload
}
