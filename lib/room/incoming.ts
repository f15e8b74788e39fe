/**
 * The receiving side of transfers on one connection. A transfer from the
 * remote becomes an {@link IncomingMessage} as soon as its `START` frame
 * arrives, before its payload: the room emits it as `channel:message`, and
 * the application reads its `data` as a stream, awaits it whole, or
 * declines or cancels it.
 *
 * Flow control: the sender may have {@link RECEIVE_WINDOW} bytes of a
 * transfer on their way at first; as the reader consumes bytes, the
 * {@link Receiver} grants the sender as many more (`credit` control
 * messages). So the bytes of a transfer held here, received but not yet
 * read, never exceed the window, and a reader that does not read holds up
 * only its own transfer. A sender that sends past its credit breaks the
 * protocol: the transfer is refused.
 */
import { Readable } from 'readable-stream'
import { roomError, RoomErrorCode, type RoomError } from './errors'
import { RECEIVE_WINDOW, type Frame, type PayloadKindValue } from './frames'
import { decodePayload, type ReceivedData } from './messages'
import type { ControlMessage } from './control'
import type { JsonValue } from './protocol'
import type { RoomPeer } from './room-peer'
import { concatBytes } from '../util'

/** What a {@link Receiver} needs from its connection. */
export interface ReceiverHooks {
  /** Sends a control message to the remote (the sender of the transfers). */
  control (message: ControlMessage): void
  /** A message started: emit it (`channel:message`). Listeners run before this returns. */
  message (message: IncomingMessage): void
  /** A message failed for a reason this side did not ask for (the sender aborted it, the connection closed, it broke the rules or limits). */
  failed (message: IncomingMessage, error: RoomError): void
  /** Logs. */
  debug (format: string, ...args: unknown[]): void
}

/** Limits of a {@link Receiver}. */
export interface ReceiverLimits {
  /** Largest message buffered whole (awaited, or read by the room for a listener that did not read it), and most bytes of such messages being put together at once; streamed reads have no limit. */
  readonly maxMessageSize: number
  /** Most transfers being received at once; a `START` beyond is refused. */
  readonly maxTransfers: number
}

/** Where a message stands on the wire. */
type Phase = 'receiving' | 'complete' | 'failed'

/**
 * How its data is read: `open` (nobody said yet), `accepted` (`accept()`:
 * the application will read the stream later), `stream` (the application
 * reads the stream), `whole` (read whole for the Promise), `declined`.
 */
type Mode = 'open' | 'accepted' | 'stream' | 'whole' | 'declined'

/**
 * A received message's payload: a web `ReadableStream` of its bytes
 * (`Uint8Array` chunks) that is also a Promise of the whole value, decoded
 * as it was sent (a string, a JSON value, or a `Uint8Array` for bytes, a
 * `Blob` or a stream). Read it one way: as a stream (`getReader()`,
 * `for await`, `pipeTo()`, or {@link IncomingData.nodeStream} for a Node
 * `Readable`), with backpressure and no size limit; or await it, which
 * buffers it whole, up to the room's `maxMessageSize`.
 *
 * Reading errors, and the Promise rejects, with a coded error:
 * `ERR_TRANSFER_ABORTED` (the sender aborted), `ERR_TRANSFER_CANCELLED`
 * (`cancel()` on this side), `ERR_TRANSFER_DECLINED` (`decline()`),
 * `ERR_PEER_CLOSED` (the connection closed first), `ERR_TRANSFER_REFUSED`
 * (the sender broke the protocol, or too many transfers at once),
 * `ERR_MESSAGE_TOO_LARGE` (awaited whole, over `maxMessageSize`),
 * `ERR_INVALID_DATA` (text or JSON that does not decode), `ERR_ALREADY_READ`
 * (awaited after it was read as a stream).
 */
export class IncomingData extends ReadableStream<Uint8Array> implements PromiseLike<ReceivedData> {
  private readonly owner: IncomingMessage

  /** @internal Made by the receiver. */
  constructor (owner: IncomingMessage) {
    super({
      start: controller => owner.attach(controller),
      pull: controller => owner.pull(controller),
      cancel: reason => owner.readerCancelled(reason)
    }, { highWaterMark: 0 })
    this.owner = owner
  }

  /** Like `Promise.then()`: the whole value (reads the stream whole, unless it was read already). */
  then<T = ReceivedData, E = never> (onFulfilled?: ((value: ReceivedData) => T | PromiseLike<T>) | null, onRejected?: ((reason: RoomError) => E | PromiseLike<E>) | null): Promise<T | E> {
    return this.owner.whole().then(onFulfilled, onRejected)
  }

  /** Like `Promise.catch()`. */
  catch<E = never> (onRejected?: ((reason: RoomError) => E | PromiseLike<E>) | null): Promise<ReceivedData | E> {
    return this.owner.whole().catch(onRejected)
  }

  /** Like `Promise.finally()`. */
  finally (onFinally?: (() => void) | null): Promise<ReceivedData> {
    return this.owner.whole().finally(onFinally)
  }

  /**
   * The bytes as a Node-style `Readable` (from `readable-stream`, so it also
   * works in browsers), with backpressure. It locks this stream; destroying
   * it before its end cancels the message (`ERR_TRANSFER_CANCELLED` on both
   * sides). Throws a `TypeError` if the stream is already being read.
   * @example
   * ```js
   * room.on('channel:message', ({ info, data }) => {
   *   data.nodeStream().pipe(fs.createWriteStream(info.name))
   * })
   * ```
   */
  nodeStream (): Readable {
    const reader = this.getReader()
    let reading = false
    return new Readable({
      read () {
        if (reading) return
        reading = true
        reader.read().then(({ done, value }) => {
          reading = false
          this.push(done ? null : value)
        }, (err: unknown) => {
          reading = false
          this.destroy(err instanceof Error ? err : new Error(String(err)))
        })
      },
      destroy (err, callback) {
        reader.cancel(err ?? undefined).then(() => callback(err), () => callback(err))
      }
    })
  }
}

/**
 * A message being received: the `channel:message` event. It is emitted when
 * the message starts, before its payload has arrived. Its functions are
 * bound, so they can be destructured.
 *
 * What happens by default: if, when the listeners return, nobody has read
 * `data`, awaited it, or called `accept()` or `decline()`, the room reads
 * it whole (up to its `maxMessageSize`; beyond, the message is refused and
 * the sender gets `ERR_TRANSFER_REFUSED`) and keeps the value for whoever
 * awaits `data` later. So a listener that wants the stream must start
 * reading it, or call `accept()`, before it returns (before its first `await`).
 */
export class IncomingMessage {
  /** The sender. */
  readonly peer: RoomPeer
  /** The label it was sent with. */
  readonly label: string
  /** The `info` it was sent with (a JSON value), or `undefined` if none. */
  readonly info: JsonValue | undefined
  /** The payload's length in bytes, or `null` if the sender did not know it (a stream). */
  readonly total: number | null
  /** The payload: a web `ReadableStream` of bytes that is also a Promise of the whole value. */
  readonly data: IncomingData

  /**
   * Keeps the message for reading its stream later (after the listener
   * returned): the room does not read it whole, and the sender sends only
   * as fast as the stream is read. Accepting is otherwise the default.
   */
  readonly accept = (): void => {
    if (this.mode === 'open') this.mode = 'accepted'
  }

  /**
   * Refuses the message before reading it: the sender's transfer to this
   * peer rejects with `ERR_TRANSFER_DECLINED` and sends no more (its other
   * targets still get it); `data` errors with `ERR_TRANSFER_DECLINED`. Once
   * reading started, it is the same as {@link IncomingMessage.cancel}.
   * Does nothing once the message failed.
   */
  readonly decline = (reason?: string): void => {
    if (this.mode === 'stream' || this.mode === 'whole') {
      this.cancel(reason)
      return
    }
    if (this.phase === 'failed') return
    const text = typeof reason === 'string' ? reason.slice(0, 1024) : ''
    this.mode = 'declined'
    this.answer({ type: 'declined', transfer: this.transfer, reason: text })
    this.fail(roomError(`the message was declined${text ? `: ${text}` : ''}`, RoomErrorCode.TRANSFER_DECLINED))
  }

  /**
   * Stops receiving the message, at any time: the sender's transfer to this
   * peer rejects with `ERR_TRANSFER_CANCELLED` and sends no more; `data`
   * errors (and its Promise rejects) with `ERR_TRANSFER_CANCELLED`. Cancelling
   * the stream (`reader.cancel()`, leaving a `for await` early, destroying
   * the `nodeStream()`) does the same. Once the whole payload arrived, it
   * only drops what was not read yet. Does nothing once the message failed.
   */
  readonly cancel = (reason?: string): void => {
    if (this.phase === 'failed') return
    const text = typeof reason === 'string' ? reason.slice(0, 1024) : ''
    this.answer({ type: 'cancelled', transfer: this.transfer, reason: text })
    this.fail(roomError(`the message was cancelled by the receiver${text ? `: ${text}` : ''}`, RoomErrorCode.TRANSFER_CANCELLED))
  }

  private phase: Phase = 'receiving'
  private mode: Mode = 'open'
  private readonly queue: Uint8Array[] = []
  private queued = 0
  /** Payload bytes arrived. */
  private arrived = 0
  /** Payload bytes handed to the reader. */
  private read = 0
  /** Payload bytes the sender may send in all (its credit so far). */
  private granted = RECEIVE_WINDOW
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null
  private wakeReader: (() => void) | null = null
  private value: Promise<ReceivedData> | null = null
  private failure: RoomError | null = null
  /** Whether the sender got our last word on it (`received`, `refused`, `declined` or `cancelled`). */
  private answered = false

  /** @internal Made by the receiver at a `START`. */
  constructor (
    private readonly receiver: Receiver,
    /** @internal */
    readonly transfer: number,
    private readonly kind: PayloadKindValue,
    label: string,
    info: JsonValue | undefined,
    total: number | null
  ) {
    this.peer = receiver.peer
    this.label = label
    this.info = info
    this.total = total
    this.data = new IncomingData(this)
  }

  /** @internal Bytes received and not yet read (at most the window, for a sender that keeps the rules). */
  get buffered (): number {
    return this.queued
  }

  /** @internal Payload bytes that arrived so far. */
  get received (): number {
    return this.arrived
  }

  /** @internal */
  attach (controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller
  }

  /** @internal The stream wants a chunk (a read is pending). */
  pull (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | undefined {
    if (this.mode === 'open' || this.mode === 'accepted') this.mode = 'stream'
    if (this.phase === 'failed') return undefined
    const chunk = this.queue.shift()
    if (chunk) {
      this.queued -= chunk.byteLength
      this.receiver.account(-chunk.byteLength)
      this.read += chunk.byteLength
      controller.enqueue(chunk)
      if (this.queue.length === 0 && this.phase === 'complete') controller.close()
      this.grant()
      return undefined
    }
    if (this.phase === 'complete') {
      controller.close()
      return undefined
    }
    return new Promise<void>(resolve => { this.wakeReader = resolve }).then(() => this.pull(controller))
  }

  /** @internal The reader cancelled the stream. */
  readerCancelled (reason: unknown): void {
    this.cancel(reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : undefined)
  }

  /** @internal The whole value, read once (by the first `then()`, or by the room for a listener that did not read). */
  whole (): Promise<ReceivedData> {
    if (this.value) return this.value
    if (this.mode === 'stream' || this.data.locked) {
      this.value = Promise.reject(roomError('the message was read as a stream: it has no whole value', RoomErrorCode.ALREADY_READ))
    } else if (this.failure) {
      this.value = Promise.reject(this.failure)
    } else {
      this.mode = 'whole'
      this.value = this.collect()
    }
    return this.value
  }

  /** @internal The listeners returned: read it whole if nobody took it. */
  settle (): void {
    if (this.mode !== 'open' || this.phase === 'failed' || this.data.locked) return
    this.whole().catch(() => {})
  }

  /** @internal Payload bytes from the sender; `false` if they break the rules (past the credit or the total). */
  push (bytes: Uint8Array): boolean {
    if (this.phase !== 'receiving') return true
    const size = bytes.byteLength
    if (this.arrived + size > this.granted) return false
    if (this.total !== null && this.arrived + size > this.total) return false
    this.arrived += size
    if (size > 0) {
      this.queue.push(bytes)
      this.queued += size
      this.receiver.account(size)
      this.wake()
    }
    return true
  }

  /** @internal Whether every byte announced arrived (a transfer of known length). */
  get full (): boolean {
    return this.total !== null && this.arrived === this.total
  }

  /**
   * @internal All the payload arrived. The sender is told it was received
   * now (it is all in the stream), or, when it is being read whole, once
   * the whole value is assembled within `maxMessageSize`.
   */
  complete (): void {
    if (this.phase !== 'receiving') return
    this.phase = 'complete'
    if (this.mode !== 'whole') this.answer({ type: 'received', transfer: this.transfer })
    this.wake()
  }

  /** Tells the sender our last word on the transfer, once, if it still waits for one. */
  private answer (message: ControlMessage): void {
    if (this.answered || this.phase === 'failed') return
    this.answered = true
    this.receiver.forget(this.transfer)
    this.receiver.hooks.control(message)
  }

  /** @internal The message failed: the stream errors, the value rejects, what was held is dropped. */
  fail (error: RoomError): void {
    if (this.phase === 'failed') return
    this.phase = 'failed'
    this.failure = error
    this.receiver.account(-this.queued)
    this.queue.length = 0
    this.queued = 0
    try {
      this.controller?.error(error)
    } catch {
      // Already closed or cancelled.
    }
    this.wake()
  }

  private wake (): void {
    const wake = this.wakeReader
    this.wakeReader = null
    if (wake) wake()
  }

  /** Grants the sender what the reader consumed, in steps of a quarter window. */
  private grant (): void {
    if (this.phase !== 'receiving') return
    let limit = this.read + RECEIVE_WINDOW
    if (this.total !== null) limit = Math.min(limit, this.total)
    const more = limit - this.granted
    if (more <= 0) return
    if (more < RECEIVE_WINDOW / 4 && limit !== this.total) return
    this.granted = limit
    this.receiver.hooks.control({ type: 'credit', transfer: this.transfer, bytes: more })
  }

  private async collect (): Promise<ReceivedData> {
    const max = this.receiver.limits.maxMessageSize
    if (this.total !== null && this.total > max) {
      throw this.refuse(roomError(`message of ${this.total} bytes is larger than maxMessageSize (${max})`, RoomErrorCode.MESSAGE_TOO_LARGE))
    }
    // Messages read whole at once hold at most maxMessageSize together.
    let reserved = 0
    const reserve = (bytes: number): void => {
      if (!this.receiver.reserve(bytes)) {
        throw this.refuse(roomError(`messages being read whole would hold more than maxMessageSize (${max}) at once`, RoomErrorCode.TRANSFER_REFUSED))
      }
      reserved += bytes
    }
    try {
      if (this.total !== null) reserve(this.total)
      const reader = this.data.getReader()
      const whole = this.total !== null ? new Uint8Array(this.total) : null
      const parts: Uint8Array[] = []
      let size = 0
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (whole) {
          whole.set(value, size)
        } else {
          if (size + value.byteLength > max) {
            throw this.refuse(roomError(`message over maxMessageSize (${max})`, RoomErrorCode.MESSAGE_TOO_LARGE))
          }
          reserve(value.byteLength)
          parts.push(value)
        }
        size += value.byteLength
      }
      this.answer({ type: 'received', transfer: this.transfer })
      const decoded = decodePayload(this.kind, whole ?? concatBytes(parts, size))
      if ('error' in decoded) throw roomError(`the message on ${this.label} cannot be read: ${decoded.error}`, RoomErrorCode.INVALID_DATA)
      return decoded.data
    } finally {
      this.receiver.release(reserved)
    }
  }

  /** Refuses it as too large to hold whole; the sender gets `ERR_TRANSFER_REFUSED`. */
  private refuse (error: RoomError): RoomError {
    this.answer({ type: 'refused', transfer: this.transfer, reason: error.message })
    if (this.phase !== 'failed') {
      this.fail(error)
      this.receiver.hooks.failed(this, error)
    }
    return error
  }
}

/**
 * Takes the data frames of one connection and turns them into
 * {@link IncomingMessage}s. Frames that break the rules (a chunk past the
 * credit or the announced total, an `END` of a transfer of known length, a
 * second `START` of a transfer in progress, a `START` beyond `maxTransfers`)
 * refuse the transfer: the sender gets `refused` and the message fails with
 * `ERR_TRANSFER_REFUSED`. Frames of transfers it does not know (already
 * finished, declined or cancelled while they were on their way) are
 * dropped. Never throws.
 */
export class Receiver {
  private readonly transfers = new Map<number, IncomingMessage>()
  private bufferedBytes = 0
  private wholeBytes = 0

  constructor (
    /** @internal The sender. */
    readonly peer: RoomPeer,
    /** @internal */
    readonly limits: ReceiverLimits,
    /** @internal */
    readonly hooks: ReceiverHooks
  ) {}

  /** Transfers being received. */
  get size (): number {
    return this.transfers.size
  }

  /** Bytes received and not yet read, over all messages of this connection. */
  get buffered (): number {
    return this.bufferedBytes
  }

  /** Takes one data frame (`start`, `chunk`, `end`, `abort`). */
  push (frame: Frame): void {
    switch (frame.type) {
      case 'start': {
        const old = this.transfers.get(frame.transfer)
        if (old) this.refuse(old, 'a transfer restarted before it ended')
        if (this.transfers.size >= this.limits.maxTransfers) {
          this.hooks.debug('transfer %d refused: %d transfers in progress', frame.transfer, this.transfers.size)
          this.hooks.control({ type: 'refused', transfer: frame.transfer, reason: 'too many transfers in progress' })
          return
        }
        const message = new IncomingMessage(this, frame.transfer, frame.kind, frame.label, frame.info, frame.total)
        this.transfers.set(frame.transfer, message)
        this.hooks.message(message)
        message.settle()
        if (this.transfers.get(frame.transfer) === message) this.take(message, frame.payload)
        return
      }
      case 'chunk': {
        const message = this.transfers.get(frame.transfer)
        if (!message) {
          this.hooks.debug('chunk of unknown transfer %d dropped', frame.transfer)
          return
        }
        this.take(message, frame.payload)
        return
      }
      case 'end': {
        const message = this.transfers.get(frame.transfer)
        if (!message) return
        if (message.total !== null) {
          this.refuse(message, 'END of a transfer of known length')
          return
        }
        this.finish(message)
        return
      }
      case 'abort': {
        const message = this.transfers.get(frame.transfer)
        if (!message) return
        this.forget(frame.transfer)
        const error = roomError(`the sender aborted the message${frame.reason ? `: ${frame.reason}` : ''}`, RoomErrorCode.TRANSFER_ABORTED)
        message.fail(error)
        this.hooks.failed(message, error)
        return
      }
      default:
        return
    }
  }

  /** The connection closed: every message still arriving fails with `error` (`ERR_PEER_CLOSED`). */
  close (error: RoomError): void {
    const messages = [...this.transfers.values()]
    this.transfers.clear()
    for (const message of messages) {
      message.fail(error)
      this.hooks.failed(message, error)
    }
  }

  /** @internal No more frames of this transfer are expected. */
  forget (transfer: number): void {
    this.transfers.delete(transfer)
  }

  /** @internal Sets aside `bytes` for a message read whole; `false` if that would pass `maxMessageSize` in all. */
  reserve (bytes: number): boolean {
    if (this.wholeBytes + bytes > this.limits.maxMessageSize) return false
    this.wholeBytes += bytes
    return true
  }

  /** @internal Gives back bytes set aside by {@link Receiver.reserve}. */
  release (bytes: number): void {
    this.wholeBytes -= bytes
  }

  /** Bytes set aside for messages being read whole (at most `maxMessageSize`). */
  get reserved (): number {
    return this.wholeBytes
  }

  /** @internal Counts bytes held (+) or read or dropped (-). */
  account (bytes: number): void {
    this.bufferedBytes += bytes
  }

  private take (message: IncomingMessage, payload: Uint8Array): void {
    if (!message.push(payload)) {
      this.refuse(message, `more payload than ${message.received + payload.byteLength > (message.total ?? Infinity) ? 'announced' : 'granted'}`)
      return
    }
    if (message.full) this.finish(message)
  }

  private finish (message: IncomingMessage): void {
    this.forget(message.transfer)
    message.complete()
  }

  private refuse (message: IncomingMessage, reason: string): void {
    this.forget(message.transfer)
    this.hooks.debug('transfer %d refused: %s', message.transfer, reason)
    this.hooks.control({ type: 'refused', transfer: message.transfer, reason })
    const error = roomError(`the message broke the protocol: ${reason}`, RoomErrorCode.TRANSFER_REFUSED)
    message.fail(error)
    this.hooks.failed(message, error)
  }
}
