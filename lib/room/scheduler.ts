/**
 * The sending side of transfers on one connection. Each transfer to a peer
 * is an {@link Outgoing}, which makes its frames one at a time, reading its
 * source only when the next frame is wanted. A peer's {@link SendQueue}
 * writes the frames of its transfers round-robin, one frame of each in
 * turn, so a short message waits behind at most one frame of each transfer
 * already running; and it stops writing while the channel is full (the
 * `Peer`'s `write()` returned `false`) until it drains.
 */
import { encodeAbort, encodeChunk, encodeEnd, encodeStart, type PayloadKindValue } from './frames'
import { roomError, RoomErrorCode, type RoomError } from './errors'
import type { SharedSource } from './sources'

/** What an {@link Outgoing} tells its transfer. */
export interface OutgoingHooks {
  /** `current` payload bytes were handed to the channel, of `total` (`null` while unknown). */
  progress (current: number, total: number | null): void
  /** The remote confirmed it has the whole message. */
  received (): void
  /** This target's part of the transfer failed. */
  failed (error: RoomError): void
}

const EMPTY = new Uint8Array(0)

/** One transfer to one peer: its frames, made as they are needed. */
export class Outgoing {
  private seq = 0
  private sent = 0
  private started = false
  private written = false
  private stopped = false

  constructor (
    /** The transfer id (the same for every target of a transfer). */
    readonly transfer: number,
    private readonly kind: PayloadKindValue,
    private readonly label: Uint8Array,
    private readonly source: SharedSource,
    private readonly hooks: OutgoingHooks
  ) {
    source.join(this)
  }

  /** The transfer's label, as text. */
  get labelText (): string {
    return new TextDecoder().decode(this.label)
  }

  /** The payload length, or `null` for a stream of unknown length. */
  get total (): number | null {
    return this.source.source.total
  }

  /** Whether a frame of it was made (so the remote knows the transfer). */
  get begun (): boolean {
    return this.started
  }

  /** Whether all its frames were made, or it was stopped. */
  get finished (): boolean {
    return this.written || this.stopped
  }

  /**
   * The next frame, or `null` if there is none (all made, or stopped).
   * Rejects with a coded error if the source failed or gave other than it announced.
   */
  async next (): Promise<Uint8Array | null> {
    if (this.finished) return null
    const piece = await this.source.piece(this, this.seq)
    if (this.stopped) return null
    this.seq++
    const total = this.source.source.total
    const bytes = piece?.byteLength ?? 0
    if (total !== null && (this.sent + bytes > total || (piece === null && this.sent < total))) {
      throw roomError(`the source gave ${piece === null ? 'less' : 'more'} than its ${total} bytes`, RoomErrorCode.SOURCE_FAILED)
    }
    let frame: Uint8Array
    if (!this.started) {
      this.started = true
      frame = encodeStart(this.transfer, this.kind, this.label, total, piece ?? EMPTY)
    } else if (piece === null) {
      frame = encodeEnd(this.transfer)
      this.written = true
    } else {
      frame = encodeChunk(this.transfer, piece)
    }
    this.sent += bytes
    if (total !== null && this.sent === total) this.written = true
    return frame
  }

  /** @internal The frame last made was handed to the channel. */
  wrote (): void {
    const total = this.source.source.total ?? (this.written ? this.sent : null)
    this.hooks.progress(this.sent, total)
  }

  /** Stops making frames and lets go of the source. */
  stop (reason: Error): void {
    if (this.stopped) return
    this.stopped = true
    this.source.leave(this, reason)
  }

  /** The remote has it all. */
  received (): void {
    this.stop(roomError('received', RoomErrorCode.TRANSFER_ABORTED))
    this.hooks.received()
  }

  /** This target's part failed. */
  fail (error: RoomError): void {
    this.stop(error)
    this.hooks.failed(error)
  }
}

/** Where a {@link SendQueue} writes frames: an object-mode `Peer`. */
export interface FrameWriter {
  /** Queues a frame; `false` once the writer holds as much as it should (then wait for `drain`). */
  write (frame: Uint8Array): boolean
  /** Listens once for `drain` (room again) or `close` (no more writing). */
  once (event: 'drain' | 'close', listener: () => void): unknown
  /** Stops listening. */
  removeListener (event: 'drain' | 'close', listener: () => void): unknown
}

/**
 * Writes the frames of one peer's transfers, round-robin, with backpressure.
 * At most one frame is made ahead of the writer; the writer (the `Peer`)
 * holds what it was given until the channel takes it, and the queue waits
 * for its `drain` whenever `write()` returns `false`.
 */
export class SendQueue {
  private active: Outgoing[] = []
  private urgent: Uint8Array[] = []
  private running = false
  private closed = false
  private wake: (() => void) | null = null

  constructor (private readonly writer: FrameWriter, private readonly debug: (format: string, ...args: unknown[]) => void) {}

  /** Transfers with frames still to write. */
  get size (): number {
    return this.active.length
  }

  /** Adds a transfer; its frames go out in turn with the others'. */
  add (outgoing: Outgoing): void {
    if (this.closed) return
    this.active.push(outgoing)
    this.pump()
  }

  /** Stops a transfer; if the remote has seen any of it, an `ABORT` with `reason` follows. */
  cancel (outgoing: Outgoing, reason: string): void {
    this.active = this.active.filter(o => o !== outgoing)
    const tell = outgoing.begun
    outgoing.stop(roomError(reason, RoomErrorCode.TRANSFER_ABORTED))
    if (tell && !this.closed) {
      this.urgent.push(encodeAbort(outgoing.transfer, reason))
      this.pump()
    }
  }

  /** Stops everything (the connection is gone); transfers are not told. */
  close (): void {
    this.closed = true
    this.active = []
    this.urgent = []
    if (this.wake) this.wake()
  }

  private pump (): void {
    if (this.running || this.closed) return
    this.running = true
    this.loop().catch(err => {
      this.running = false
      this.debug('send queue stopped: %s', err instanceof Error ? err.message : String(err))
    })
  }

  /** Returns in the same turn as its last look at the queue; `running` is cleared there, so an add() after it starts a new run. */
  private async loop (): Promise<void> {
    while (!this.closed) {
      let frame: Uint8Array | null
      let from: Outgoing | null = null
      const abort = this.urgent.shift()
      if (abort) {
        frame = abort
      } else {
        from = this.active.shift() ?? null
        if (!from) {
          this.running = false
          return
        }
        try {
          frame = await from.next()
        } catch (err) {
          const error = err as RoomError
          this.cancel(from, error.message)
          from.fail(error)
          continue
        }
        if (this.closed) break
        if (frame === null) continue
        if (!from.finished) this.active.push(from)
      }
      const more = this.writer.write(frame)
      if (from) from.wrote()
      if (!more) await this.drained()
    }
    this.running = false
  }

  private drained (): Promise<void> {
    return new Promise(resolve => {
      const done = (): void => {
        this.writer.removeListener('drain', done)
        this.writer.removeListener('close', done)
        this.wake = null
        resolve()
      }
      this.wake = done
      this.writer.once('drain', done)
      this.writer.once('close', done)
    })
  }
}
