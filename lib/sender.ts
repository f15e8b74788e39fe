/**
 * The data channel's send path: a queue in front of `RTCDataChannel.send()`.
 *
 * - Byte-stream writes are coalesced into, or split to, messages of `chunkSize`
 *   bytes, so small writes do not pay per-message costs and large ones never
 *   exceed the channel's maximum message size.
 * - Messages (`send()`, object-mode writes) go out one each, in order with the bytes.
 * - The channel's send buffer is kept under `highWaterMark`, and no more than
 *   that is sent between two readings of it. Waiting for it to drain uses
 *   `bufferedamountlow` where it works and polls as well, because some
 *   implementations stop firing that event.
 */
import { Buffer } from 'buffer'
import { makeError, ErrorCode, type PeerError } from './errors'
import { rethrow } from './util'

/** What can be handed to `RTCDataChannel.send()`. */
export type Message = string | Uint8Array | Blob

type Callback = (err?: Error | null) => void

interface Item {
  data: Message
  /** Bytes of a byte stream: may be merged with neighbours or split. */
  stream: boolean
  /** A Blob whose bytes are being read; the queue waits for it. */
  reading?: boolean
}

/**
 * Where messages go instead of the channel once {@link ChannelSender.divert}
 * was called (striped streams, see `lib/stripes/manager.ts`).
 */
export interface Outlet {
  /** Bytes in the outlet's own send buffers. */
  readonly bufferedAmount: number
  /** Largest message the outlet takes. */
  readonly messageLimit: number
  /** Bytes it adds to each message: stream bytes go in pieces this much under `chunkSize`. */
  readonly overhead: number
  /** Whether it takes no more messages for now, whatever the bytes (too many are unacknowledged). */
  readonly blocked: boolean
  /** Bytes that may be handed over now, before its buffers are read again. */
  room (): number
  /** Hands over one message; `whole` when it is a message rather than stream bytes. Throws when it cannot. */
  send (data: string | Uint8Array, whole: boolean): void
}

/** Settings of a {@link ChannelSender}. */
export interface SenderOptions {
  chunkSize: number
  highWaterMark: number
  lowWaterMark: number
  pollInterval: number
  /** Called once when the channel refuses a message; the sender stops after it. */
  onError: (err: PeerError) => void
}

/** The state of the channel as the sender sees it. */
export type SenderState = 'waiting' | 'open' | 'closed'

export class ChannelSender {
  private readonly opts: SenderOptions
  private channel: RTCDataChannel | null = null
  private state: SenderState = 'waiting'
  private readonly queue: Item[] = []
  private queuedBytes = 0
  /** Offset already sent of the first queued item, when it is a partly sent stream chunk. */
  private headOffset = 0
  /** Write callbacks waiting for their bytes to reach the channel and the buffer to drain. */
  private callbacks: Callback[] = []
  /** Callbacks waiting for everything to leave the send buffer. */
  private flushCallbacks: Callback[] = []
  private pollTimer: ReturnType<typeof setTimeout> | null = null
  private flushScheduled: ReturnType<typeof setTimeout> | null = null
  /** Bytes that may still be sent before waiting for the channel's buffer (see {@link refill}). */
  private credit = 0
  /** Bytes sent since the buffer was last read: they may not show in `bufferedAmount` yet. */
  private sentSinceRefill = 0
  /** Bytes handed to the channel since it opened. */
  private sent = 0
  /** The remote lets us send up to this many bytes in all (flow control; unlimited without it). */
  private windowEnd = Infinity
  private maxMessageSize: number
  /** Reads the connection's maximum message size; called once, when first needed (see {@link open}). */
  private readMaxMessageSize: (() => number | undefined) | null = null
  /** Where messages go after {@link divert}; `null`: the channel. */
  private outlet: Outlet | null = null
  /** The channel's buffer limit set by {@link limit}; `null`: the high-water mark. */
  private limitBytes: number | null = null

  constructor (opts: SenderOptions, maxMessageSize: number) {
    this.opts = opts
    this.maxMessageSize = maxMessageSize
  }

  /** Whether {@link open} was called and the sender is not closed. */
  get opened (): boolean { return this.state === 'open' }

  /** Bytes queued here and not yet handed to the channel. */
  get pendingBytes (): number { return this.queuedBytes - this.headOffset }

  /** Bytes in the channel's own send buffer. */
  get bufferedAmount (): number {
    const own = this.channel ? safeNumber(() => this.channel!.bufferedAmount) : 0
    return this.outlet ? own + this.outlet.bufferedAmount : own
  }

  /**
   * Keeps the channel's buffer under `bytes` instead of the high-water mark
   * (`null`: back to the high-water mark). Writes are still queued, and the
   * writer is held back as by a full buffer.
   */
  limit (bytes: number | null): void {
    if (this.limitBytes === bytes) return
    this.limitBytes = bytes
    if (this.state !== 'open') return
    this.refill()
    this.pump()
  }

  /**
   * From the next message on, hands messages to `outlet` instead of the
   * channel. Returns the bytes sent on the channel until then: the switch
   * point, at a message boundary.
   */
  divert (outlet: Outlet): number {
    const at = this.sent
    this.outlet = outlet
    if (this.state === 'open') {
      this.refill()
      this.pump()
    }
    return at
  }

  /** Bytes handed to the channel so far. */
  get totalSent (): number { return this.sent }

  /**
   * The remote's receive window: sending stops once `end` bytes in all have
   * been sent, until the window moves on.
   */
  setWindowEnd (end: number): void {
    this.windowEnd = end
    if (this.state !== 'open') return
    this.refill()
    this.pump()
  }

  /** Bytes handed to the channel and not known to have left it. */
  get inFlight (): number { return Math.max(this.bufferedAmount, this.sentSinceRefill) }

  /** Largest message the channel accepts, as far as is known. */
  get messageLimit (): number {
    this.resolveMessageLimit()
    return this.outlet ? Math.min(this.maxMessageSize, this.outlet.messageLimit) : this.maxMessageSize
  }

  /** Uses `channel` from now on; sending starts at {@link open}. */
  attach (channel: RTCDataChannel): void {
    this.channel = channel
    try {
      if (typeof channel.bufferedAmountLowThreshold === 'number') {
        channel.bufferedAmountLowThreshold = this.opts.lowWaterMark
      }
    } catch { /* not settable here: polling covers it */ }
  }

  /**
   * The channel is open: send what is queued. `maxMessageSize` is the
   * connection's limit, or a function that reads it when it is first needed
   * (in @roamhq/wrtc, `pc.sctp` is a blocking native call of ~0.4 ms: not
   * something to do before `connect`).
   */
  open (maxMessageSize: number | (() => number | undefined) | undefined): void {
    if (this.state !== 'waiting') return
    if (typeof maxMessageSize === 'function') this.readMaxMessageSize = maxMessageSize
    else if (maxMessageSize && maxMessageSize > 0) this.maxMessageSize = maxMessageSize
    this.state = 'open'
    this.refill()
    this.pump()
  }

  /** Called on the channel's `bufferedamountlow` event. */
  onBufferedAmountLow (): void {
    if (this.state !== 'open') return
    this.refill()
    this.pump()
  }

  /**
   * Queues stream bytes. `cb` runs once they are handed to the channel and its
   * buffer is below the high-water mark, so the Writable above applies backpressure.
   */
  writeBytes (chunks: Uint8Array[], cb: Callback): void {
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue
      this.queue.push({ data: chunk, stream: true })
      this.queuedBytes += chunk.byteLength
    }
    this.enqueued(cb)
  }

  /** Queues one message, sent as it is (split only if it cannot go as one). */
  writeMessage (data: Message, cb?: Callback): void {
    this.queue.push({ data, stream: false })
    this.queuedBytes += sizeOf(data)
    this.enqueued(cb)
  }

  /** Runs `cb` once nothing is queued and the channel's buffer is empty. */
  flush (cb: Callback): void {
    if (this.state === 'closed') return cb(makeError('the data channel is closed', ErrorCode.DATA_CHANNEL))
    this.flushCallbacks.push(cb)
    if (this.state === 'open') this.pump()
  }

  /** Stops for good: timers cleared, every waiting callback gets `err`. */
  close (err?: Error): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.clearTimers()
    this.queue.length = 0
    this.queuedBytes = 0
    this.headOffset = 0
    this.channel = null
    this.readMaxMessageSize = null // it holds the connection, which must be collectable once closed (exit.ts)
    const waiting = this.callbacks.concat(this.flushCallbacks)
    this.callbacks = []
    this.flushCallbacks = []
    const reason = err ?? makeError('the data channel closed before this write was sent', ErrorCode.DESTROYED)
    for (const cb of waiting) cb(reason)
  }

  private enqueued (cb?: Callback): void {
    if (cb) this.callbacks.push(cb)
    if (this.state !== 'open') return
    if (this.queuedBytes - this.headOffset >= this.opts.chunkSize || this.hasMessage()) {
      this.pump()
    } else {
      this.scheduleFlush()
    }
    // A write whose bytes only wait to be coalesced does not hold the writer back.
    if (this.credit > 0) this.releaseCallbacks()
  }

  private hasMessage (): boolean {
    for (const item of this.queue) if (!item.stream) return true
    return false
  }

  private scheduleFlush (): void {
    if (this.flushScheduled) return
    this.flushScheduled = later(() => {
      this.flushScheduled = null
      if (this.state === 'open') this.pump(true)
    })
  }

  /**
   * Hands queued data to the channel while there is credit. A partial stream
   * chunk is only sent when `partial` is set, or when there is nothing to gain
   * by waiting (a flush is pending).
   */
  private pump (partial = false): void {
    const channel = this.channel
    if (this.state !== 'open' || !channel) return
    const sendPartial = partial || this.flushCallbacks.length > 0
    while (this.queue.length > 0 && this.credit > 0 && !this.outlet?.blocked) {
      if (isBlob(this.queue[0].data)) {
        this.readBlob(this.queue[0])
        return
      }
      const head = this.queue[0]
      const message = this.nextMessage(sendPartial)
      if (message === null) break
      try {
        // `head.stream` is set by nextMessage() when a message had to go as stream bytes.
        if (this.outlet) this.outlet.send(message as string | Uint8Array, !head.stream)
        else channel.send(message as never)
      } catch (err) {
        this.fail(err)
        return
      }
      const size = sizeOf(message)
      this.credit -= size
      this.sentSinceRefill += size
      this.sent += size
    }
    if (this.state !== 'open') return
    if (this.credit > 0) {
      // Everything was handed over, or only a partial chunk waits to be
      // coalesced with later writes: writers may go on.
      this.releaseCallbacks()
      if (this.queue.length > 0) this.scheduleFlush()
    }
    if (this.flushCallbacks.length > 0 && this.queue.length === 0 && this.bufferedAmount === 0) {
      const cbs = this.flushCallbacks
      this.flushCallbacks = []
      for (const cb of cbs) cb()
    }
    if ((this.queue.length > 0 && (this.credit <= 0 || this.outlet?.blocked === true)) || this.callbacks.length > 0 || this.flushCallbacks.length > 0) {
      this.waitForDrain()
    }
  }

  /**
   * Credit is what may be sent before the channel's buffer is read again.
   * `bufferedAmount` can lag behind `send()` (implementations hand messages to
   * another thread first), so it is only trusted when read after a pause.
   */
  private refill (): void {
    const highWaterMark = this.limitBytes === null ? this.opts.highWaterMark : Math.min(this.limitBytes, this.opts.highWaterMark)
    const room = this.outlet ? this.outlet.room() : highWaterMark - this.bufferedAmount
    this.credit = Math.max(0, Math.min(room, this.windowEnd - this.sent))
    this.sentSinceRefill = 0
  }

  private resolveMessageLimit (): void {
    const read = this.readMaxMessageSize
    if (!read) return
    this.readMaxMessageSize = null
    let size: number | undefined
    try {
      size = read()
    } catch { /* unknown: keep the default */ }
    if (size && size > 0) this.maxMessageSize = size
  }

  /** Takes the next message off the queue, or `null` if only a partial chunk is left and it should wait. */
  private nextMessage (sendPartial: boolean): Message | null {
    this.resolveMessageLimit()
    const head = this.queue[0]
    const maxMessageSize = this.messageLimit
    if (!head.stream) {
      const size = sizeOf(head.data)
      if (size <= maxMessageSize) {
        this.queue.shift()
        this.queuedBytes -= size
        return head.data
      }
      // Too large to go as one message (the size was not known when it was queued):
      // send it as stream bytes rather than kill the channel.
      head.stream = true
      if (typeof head.data === 'string') head.data = Buffer.from(head.data)
    }
    const limit = Math.min(this.opts.chunkSize - (this.outlet ? this.outlet.overhead : 0), maxMessageSize)
    const available = this.queuedBytes - this.headOffset
    if (available < limit && !sendPartial && this.queue.every(item => item.stream)) return null
    const first = head.data as Uint8Array
    const firstLeft = first.byteLength - this.headOffset
    if (firstLeft >= limit || this.queue.length === 1 || !this.queue[1].stream) {
      // One item supplies the whole message: a view, no copy.
      const take = Math.min(firstLeft, limit)
      const view = first.subarray(this.headOffset, this.headOffset + take)
      this.consume(take)
      return view
    }
    // Coalesce several stream items into one message.
    let size = 0
    for (let i = 0; i < this.queue.length && size < limit; i++) {
      const item = this.queue[i]
      if (!item.stream) break
      size += (item.data as Uint8Array).byteLength - (i === 0 ? this.headOffset : 0)
    }
    size = Math.min(size, limit)
    const out = Buffer.allocUnsafe(size)
    let filled = 0
    while (filled < size) {
      const data = this.queue[0].data as Uint8Array
      const take = Math.min(data.byteLength - this.headOffset, size - filled)
      out.set(data.subarray(this.headOffset, this.headOffset + take), filled)
      filled += take
      this.consume(take)
    }
    return out
  }

  /**
   * Blobs are sent as their bytes (not every implementation sends a Blob):
   * the queue stops at one until it is read, so order is kept. What runs
   * after the read (write callbacks, `onError`) is application code: what it
   * throws is rethrown, not left as an unhandled rejection.
   */
  private readBlob (item: Item): void {
    if (item.reading) return
    item.reading = true
    const blob = item.data as Blob
    blob.arrayBuffer().then(buffer => {
      if (this.state === 'closed') return
      item.data = new Uint8Array(buffer)
      item.reading = false
      this.pump()
    }, err => {
      if (this.state !== 'closed') this.fail(err)
    }).catch(rethrow)
  }

  /** Marks `n` bytes of the head stream item as sent. */
  private consume (n: number): void {
    const head = this.queue[0]
    const size = (head.data as Uint8Array).byteLength
    if (this.headOffset + n >= size) {
      this.queue.shift()
      this.queuedBytes -= size
      this.headOffset = 0
    } else {
      this.headOffset += n
    }
  }

  private releaseCallbacks (): void {
    if (this.callbacks.length === 0) return
    const cbs = this.callbacks
    this.callbacks = []
    for (const cb of cbs) cb()
  }

  private waitForDrain (): void {
    if (this.pollTimer) return
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null
      this.refill()
      this.pump()
    }, this.opts.pollInterval)
  }

  private fail (err: unknown): void {
    const error = makeError(err, ErrorCode.DATA_CHANNEL)
    this.close(error)
    this.opts.onError(error)
  }

  private clearTimers (): void {
    if (this.pollTimer) clearTimeout(this.pollTimer)
    if (this.flushScheduled) cancelLater(this.flushScheduled)
    this.pollTimer = null
    this.flushScheduled = null
  }
}

/**
 * Runs `fn` after pending I/O, so writes made in the same round are coalesced:
 * `setImmediate` in Node, a zero timeout where there is none (browsers).
 */
const later: (fn: () => void) => ReturnType<typeof setTimeout> = typeof setImmediate === 'function'
  ? fn => setImmediate(fn) as unknown as ReturnType<typeof setTimeout>
  : fn => setTimeout(fn, 0)
const cancelLater: (handle: ReturnType<typeof setTimeout>) => void = typeof clearImmediate === 'function'
  ? handle => clearImmediate(handle as unknown as ReturnType<typeof setImmediate>)
  : handle => clearTimeout(handle)

/** Byte size of a message as the channel counts it. */
export function sizeOf (data: Message): number {
  if (typeof data === 'string') return Buffer.byteLength(data)
  if (data instanceof Uint8Array) return data.byteLength
  return data.size
}

function isBlob (data: Message): data is Blob {
  return typeof data !== 'string' && !(data instanceof Uint8Array)
}

function safeNumber (read: () => number): number {
  try {
    const n = read()
    return typeof n === 'number' && n >= 0 ? n : 0
  } catch {
    return 0
  }
}
