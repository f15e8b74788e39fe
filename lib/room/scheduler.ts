/**
 * The sending side of transfers on one connection. Each transfer to a peer
 * is an {@link Outgoing}, which makes its frames one at a time, reading its
 * source only when the next frame is wanted. A peer's {@link SendQueue}
 * writes the frames of its transfers round-robin, one frame of each in
 * turn, so a short message waits behind at most one frame of each transfer
 * already running; and it stops writing while the channel is full (the
 * `Peer`'s `write()` returned `false`) until it drains. Each transfer also
 * has credit from its receiver (flow control): one that has none is set
 * aside (parked) until the receiver grants more, and the others go on.
 */
import { encodeAbort, encodeChunk, encodeEnd, encodeStart, startRoom, RECEIVE_WINDOW, type PayloadKindValue } from './frames'
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
  /** Payload bytes the receiver lets us send now. */
  private credit = RECEIVE_WINDOW
  /** A piece taken from the source that did not fit the credit (or the `START`) yet. */
  private held: Uint8Array | null = null

  constructor (
    /** The transfer id (the same for every target of a transfer). */
    readonly transfer: number,
    private readonly kind: PayloadKindValue,
    private readonly label: Uint8Array,
    private readonly source: SharedSource,
    private readonly hooks: OutgoingHooks,
    /** The transfer's `info` as UTF-8 JSON, carried in its `START`. */
    private readonly info: Uint8Array | null = null
  ) {
    source.join(this)
  }

  /**
   * Whether a frame can be made now: not finished, and either the `START`
   * is still to come or the receiver's credit covers the next piece (a
   * piece is at most about 64 KiB, the credit window 1 MiB).
   */
  get ready (): boolean {
    if (this.finished) return false
    if (!this.started) return true
    if (this.held) return this.held.byteLength <= this.credit
    return this.credit > 0
  }

  /** Payload bytes the receiver lets it send now. */
  get window (): number {
    return this.credit
  }

  /** The receiver granted `bytes` more (kept below 2^53). */
  grant (bytes: number): void {
    if (!Number.isFinite(bytes) || bytes <= 0) return
    this.credit = Math.min(Number.MAX_SAFE_INTEGER, this.credit + bytes)
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
    const total = this.source.source.total
    let piece: Uint8Array | null
    if (this.held) {
      piece = this.held
      this.held = null
    } else {
      piece = await this.source.piece(this, this.seq)
      if (this.stopped) return null
      this.seq++
      const size = piece?.byteLength ?? 0
      if (total !== null && (this.sent + size > total || (piece === null && this.sent < total))) {
        throw roomError(`the source gave ${piece === null ? 'less' : 'more'} than its ${total} bytes`, RoomErrorCode.SOURCE_FAILED)
      }
    }
    const bytes = piece?.byteLength ?? 0
    let frame: Uint8Array
    if (!this.started) {
      this.started = true
      if (piece !== null && bytes > 0 && (bytes > this.credit || bytes > startRoom(this.label, this.info))) {
        // The START goes out alone; the piece follows as a CHUNK.
        this.held = piece
        return encodeStart(this.transfer, this.kind, this.label, total, EMPTY, this.info)
      }
      frame = encodeStart(this.transfer, this.kind, this.label, total, piece ?? EMPTY, this.info)
    } else if (piece === null) {
      frame = encodeEnd(this.transfer)
      this.written = true
    } else if (bytes > this.credit) {
      // No credit for it yet: the queue sets this transfer aside until there is.
      this.held = piece
      return null
    } else {
      frame = encodeChunk(this.transfer, piece)
    }
    this.sent += bytes
    this.credit -= bytes
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
    this.held = null
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
 * for its `drain` whenever `write()` returns `false`. A transfer without
 * credit from its receiver is parked until {@link SendQueue.resume} finds it
 * ready again, so a slow reader holds up only its own transfer.
 */
export class SendQueue {
  private active: Outgoing[] = []
  private readonly parked = new Set<Outgoing>()
  private urgent: Uint8Array[] = []
  private running = false
  private closed = false
  private wake: (() => void) | null = null

  constructor (private readonly writer: FrameWriter, private readonly debug: (format: string, ...args: unknown[]) => void) {}

  /** Transfers with frames still to write (parked ones included). */
  get size (): number {
    return this.active.length + this.parked.size
  }

  /** Transfers waiting for credit from their receiver. */
  get waiting (): number {
    return this.parked.size
  }

  /** Puts a parked transfer back in turn if it can go on (after its receiver granted credit). */
  resume (outgoing: Outgoing): void {
    if (!this.parked.has(outgoing) || !outgoing.ready) return
    this.parked.delete(outgoing)
    this.active.push(outgoing)
    this.pump()
  }

  /** Stops a transfer the remote already knows is over (it declined or cancelled it): no `ABORT` is sent. */
  remove (outgoing: Outgoing, error: RoomError): void {
    this.active = this.active.filter(o => o !== outgoing)
    this.parked.delete(outgoing)
    outgoing.stop(error)
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
    this.parked.delete(outgoing)
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
    this.parked.clear()
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
        if (!from.ready) {
          if (!from.finished) this.parked.add(from)
          continue
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
        if (!from.finished) {
          if (from.ready) this.active.push(from)
          else this.parked.add(from)
        }
        if (frame === null) continue
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
