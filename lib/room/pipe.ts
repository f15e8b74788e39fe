/**
 * `ChannelStream`: what `roomPeer.channel(label)` returns, a Node Duplex
 * (readable-stream, as `Peer`) of bytes over one negotiated data channel of
 * its own, for protocols that just want a pipe.
 *
 * Bytes go as binary messages; the two ends keep each other in step with
 * small text messages (JSON) on the same channel:
 * - `{ t: 'credit', n }`: the reader has consumed `n` bytes in all; the
 *   writer keeps at most {@link PIPE_WINDOW} bytes beyond that in flight, so
 *   a slow reader slows the writer (backpressure end to end) and neither
 *   side buffers more than the window.
 * - `{ t: 'fin', n }`: the writer ended after `n` bytes in all.
 * - `{ t: 'finack' }`: the reader has all `n` bytes (its readable side ends).
 *
 * `end()` completes once the other end confirmed every byte; the channel is
 * closed once both directions ended, by the side that sees both first.
 * Closing it earlier (a `destroy()`, the connection going) fails the other
 * end with `ERR_CHANNEL_CLOSED`.
 */
import { Duplex } from 'readable-stream'
import { Buffer } from 'buffer'
import { roomError, RoomErrorCode } from './errors'

/** Bytes a writer may have in flight beyond what the reader consumed. */
export const PIPE_WINDOW = 1024 * 1024
/** The reader reports consumption in steps of this many bytes (less than the window, so a writer never waits forever). */
const REPORT_STEP = PIPE_WINDOW / 4
/** Largest message sent (the size every WebRTC implementation accepts). */
const PIPE_CHUNK = 64 * 1024
/** Above this many bytes in the channel's send buffer, writes wait (libwebrtc closes a channel past 16 MiB). */
const HIGH_WATER_MARK = 1024 * 1024
/** How often a waiting writer looks at the channel again (ms): `bufferedamountlow` is not fired reliably everywhere. */
const POLL_INTERVAL = 5

type PipeControl = { t: 'credit', n: number } | { t: 'fin', n: number } | { t: 'finack' }

function parsePipeControl (text: string): PipeControl | null {
  if (text.length > 256) return null
  let obj: unknown
  try {
    obj = JSON.parse(text)
  } catch {
    return null
  }
  if (obj === null || typeof obj !== 'object') return null
  const { t, n } = obj as { t?: unknown, n?: unknown }
  if (t === 'finack') return { t }
  if ((t === 'credit' || t === 'fin') && typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return { t, n }
  return null
}

/**
 * A byte stream to one room peer over a data channel of its own (see the
 * module comment). Made by `roomPeer.channel(label)`; both ends calling it
 * with the same label get the two ends of one channel.
 */
export class ChannelStream extends Duplex {
  /** The label given to `channel()`. */
  readonly label: string
  private channel: RTCDataChannel | null = null
  private isOpen = false
  private sent = 0
  private credited = 0
  private received = 0
  private reported = 0
  private remoteFin: number | null = null
  private readableDone = false
  private finSent = false
  private finAcked = false
  private finCallback: ((err?: Error | null) => void) | null = null
  private waiting: (() => void) | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly gone: () => void
  /** @internal Whether the application has it (from `channel()`): only then is a failure an `error` event. */
  claimed = false

  /** @internal Made by the peer's channel registry; `gone` is called once when it is destroyed. */
  constructor (label: string, gone: () => void) {
    super({ allowHalfOpen: true, readableHighWaterMark: REPORT_STEP, writableHighWaterMark: PIPE_CHUNK })
    this.label = label
    this.gone = gone
  }

  /** @internal The negotiated channel was made. */
  attach (channel: RTCDataChannel): void {
    if (this.destroyed) return
    this.channel = channel
  }

  /** @internal The channel opened, at both ends. */
  opened (): void {
    if (this.isOpen || this.destroyed) return
    this.isOpen = true
    this.wake()
  }

  /** @internal The channel's send buffer went low. */
  bufferedLow (): void {
    this.wake()
  }

  /** @internal A message arrived on the channel. */
  onMessage (data: unknown): void {
    if (this.destroyed) return
    if (typeof data === 'string') {
      const control = parsePipeControl(data)
      if (control) this.onControl(control)
      return
    }
    const bytes = data instanceof ArrayBuffer
      ? Buffer.from(data)
      : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : null
    if (!bytes || this.readableDone) return
    this.received += bytes.length
    this.push(bytes)
  }

  /** @internal The channel closed (either side, or the connection went). */
  channelClosed (): void {
    this.isOpen = false
    this.channel = null
    this.clearTimer()
    if (this.destroyed) return
    const writableDone = this.finSent || this.writableFinished
    if (this.readableDone && writableDone) {
      // The other side closes only once it has all our bytes: a lost `finack` is no loss.
      this.finAcked = true
      this.completeFinal()
      return
    }
    this.fail(roomError(`channel ${this.label} closed before both sides ended`, RoomErrorCode.CHANNEL_CLOSED))
  }

  /** @internal Destroys it, with `error` if the application has it (nobody would hear it otherwise). */
  fail (error: Error): void {
    if (this.claimed) this.destroy(error)
    else this.destroy()
  }

  /** Reads from the receive buffer (see `stream.Readable#read`); reading makes room the writer is told about. */
  override read (size?: number): Buffer | string | null {
    const chunk = super.read(size) as Buffer | string | null
    this.report()
    return chunk
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _read (): void {
    this.report()
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _write (chunk: unknown, _encoding: string, cb: (err?: Error | null) => void): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
    this.sendFrom(bytes, 0, cb)
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _final (cb: (err?: Error | null) => void): void {
    const finish = (): void => {
      if (this.destroyed) return
      if (!this.isOpen || !this.channel) {
        this.waitFor(finish)
        return
      }
      this.finCallback = cb
      this.finSent = true
      this.sendText({ t: 'fin', n: this.sent })
      if (this.finAcked) this.completeFinal()
    }
    finish()
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _destroy (err: Error | null, cb: (err: Error | null) => void): void {
    this.clearTimer()
    this.waiting = null
    const channel = this.channel
    this.channel = null
    this.isOpen = false
    if (channel) {
      try { channel.close() } catch { /* already closed */ }
    }
    this.gone()
    cb(err)
  }

  private sendFrom (bytes: Buffer, offset: number, cb: (err?: Error | null) => void): void {
    while (offset < bytes.length) {
      if (this.destroyed) return
      const channel = this.channel
      if (!this.isOpen || !channel || this.sent - this.credited >= PIPE_WINDOW || bufferedAmount(channel) >= HIGH_WATER_MARK) {
        this.waitFor(() => this.sendFrom(bytes, offset, cb))
        return
      }
      const piece = bytes.subarray(offset, offset + Math.min(PIPE_CHUNK, PIPE_WINDOW - (this.sent - this.credited)))
      try {
        channel.send(piece as Uint8Array<ArrayBuffer>)
      } catch (err) {
        cb(roomError(err, RoomErrorCode.CHANNEL_CLOSED))
        return
      }
      this.sent += piece.length
      offset += piece.length
    }
    cb()
  }

  private onControl (control: PipeControl): void {
    switch (control.t) {
      case 'credit':
        if (control.n > this.credited && control.n <= this.sent) {
          this.credited = control.n
          this.wake()
        }
        return
      case 'fin':
        if (this.remoteFin !== null) return
        this.remoteFin = control.n
        this.checkRemoteFin()
        return
      case 'finack':
        if (!this.finSent) return
        this.finAcked = true
        this.completeFinal()
    }
  }

  private checkRemoteFin (): void {
    if (this.remoteFin === null || this.readableDone || this.received < this.remoteFin) return
    this.readableDone = true
    this.sendText({ t: 'finack' })
    this.push(null)
    this.maybeClose()
  }

  private completeFinal (): void {
    const cb = this.finCallback
    this.finCallback = null
    if (cb) cb()
    this.maybeClose()
  }

  /** Both directions ended: close the channel (the other end sees its close as the end, see {@link channelClosed}). */
  private maybeClose (): void {
    if (!this.readableDone || !this.finAcked || !this.channel) return
    const channel = this.channel
    this.channel = null
    this.isOpen = false
    try { channel.close() } catch { /* already closed */ }
  }

  private report (): void {
    if (!this.isOpen || this.remoteFin !== null || this.destroyed) return
    const consumed = this.received - this.readableLength
    if (consumed - this.reported < REPORT_STEP) return
    this.reported = consumed
    this.sendText({ t: 'credit', n: consumed })
  }

  private sendText (control: PipeControl): void {
    const channel = this.channel
    if (!channel || channel.readyState !== 'open') return
    try {
      channel.send(JSON.stringify(control))
    } catch {
      // The channel is closing: its close event follows.
    }
  }

  private waitFor (next: () => void): void {
    this.waiting = next
    if (this.timer === null) this.timer = setTimeout(() => { this.timer = null; this.wake() }, POLL_INTERVAL)
  }

  private wake (): void {
    const next = this.waiting
    if (!next) return
    this.waiting = null
    this.clearTimer()
    next()
  }

  private clearTimer (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}

function bufferedAmount (channel: RTCDataChannel): number {
  try {
    return channel.bufferedAmount
  } catch {
    return 0
  }
}
