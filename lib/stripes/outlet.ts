/**
 * The sending side of a striped stream: once the peer's sender is diverted
 * here, each message it hands over becomes a numbered frame, goes on the
 * stripe that would drain it first (`scheduler.ts`), and is kept until the
 * remote's credit shows it was consumed, so that a stripe that fails can have
 * its frames re-sent on the others.
 *
 * A stripe that stalls (a lost retransmission backs SCTP off for seconds)
 * holds up in-order delivery on all the others. Once its acks have not moved
 * for its hedge delay (at least 2 s: `StripeScheduler.hedgeDelayOf()`), it is
 * benched: the frames it has not acknowledged are sent again on the other
 * stripes, and it gets no new ones until it has acknowledged everything it
 * was given. The receiver drops whichever copy comes second. If its acks do
 * not move at all for {@link STRIPE_STALL_TIMEOUT}, it is dropped.
 */
import { Buffer } from 'buffer'
import type { Outlet } from '../sender'
import { MAX_FRAMES_AHEAD, STRIPE_STALL_TIMEOUT } from './constants'
import { encodeFrame, FLAG_MESSAGE, FLAG_TEXT, FRAME_HEADER_BYTES } from './reassembly'
import { StripeScheduler } from './scheduler'

/** What the outlet tells its manager. */
export interface OutletHost {
  debug (format: string, ...args: unknown[]): void
  /** Stripe `k` stopped taking data (its send failed, or it stalled): drop it. */
  stalled (k: number, reason: string): void
}

interface Stripe {
  channel: RTCDataChannel
  maxMessageSize: number
}

interface Sent {
  frame: Uint8Array
  stripe: number
  /** Stream offset just past this frame's payload. */
  end: number
  /** Bytes handed to its stripe once it was: the stripe's acks reaching this mean it arrived there. */
  mark: number
}

/** The stripe of a frame that waits for one (none is open). */
const PARKED = -1

/** Default largest message of a stripe whose connection does not say. */
const DEFAULT_STRIPE_MESSAGE_SIZE = 64 * 1024

export class StripedOutlet implements Outlet {
  private readonly host: OutletHost
  private readonly stripes = new Map<number, Stripe>()
  private readonly scheduler = new StripeScheduler()
  /** Frames not yet known to be consumed, oldest first. */
  private unacked: Sent[] = []
  private unackedHead = 0
  private nextSeq = 0
  /** Frames sent again because their stripe stalled, in all. */
  private hedgedFrames = 0
  /** Stream offset of the next frame's payload (the switch point, at first). */
  private offset: number
  private readonly now: () => number

  /** `at`: stream bytes sent unframed before the switch. */
  constructor (at: number, host: OutletHost, now: () => number = Date.now) {
    this.offset = at
    this.host = host
    this.now = now
  }

  /** Open stripes, by index. */
  get ids (): number[] { return [...this.stripes.keys()] }

  /** Stripes benched for stalling, by index. */
  get benched (): number[] { return this.ids.filter(k => this.scheduler.benched(k)) }

  /** Frames sent again because their stripe stalled, in all. */
  get hedged (): number { return this.hedgedFrames }

  /** Payload bytes sent and not yet acknowledged. */
  get unackedBytes (): number {
    const first = this.unacked[this.unackedHead]
    return first ? this.offset - (first.end - (first.frame.byteLength - FRAME_HEADER_BYTES)) : 0
  }

  get bufferedAmount (): number {
    let total = 0
    for (const s of this.stripes.values()) total += buffered(s.channel)
    return total
  }

  /** The frame header: a piece of the byte stream and its header make one `chunkSize` message. */
  get overhead (): number { return FRAME_HEADER_BYTES }

  get messageLimit (): number {
    let limit = Infinity
    for (const s of this.stripes.values()) limit = Math.min(limit, s.maxMessageSize)
    return (Number.isFinite(limit) ? limit : DEFAULT_STRIPE_MESSAGE_SIZE) - FRAME_HEADER_BYTES
  }

  /** Starts sending on stripe `k`, whose channel is open. */
  add (k: number, channel: RTCDataChannel, maxMessageSize: number | undefined): void {
    this.stripes.set(k, {
      channel,
      maxMessageSize: maxMessageSize && maxMessageSize > FRAME_HEADER_BYTES ? maxMessageSize : DEFAULT_STRIPE_MESSAGE_SIZE
    })
    this.scheduler.add(k, this.now())
    this.replace(PARKED)
  }

  /**
   * Stops sending on stripe `k` and sends its unacknowledged frames again on
   * the others. With no stripe left, frames wait for one to be added: the
   * last to go is the peer's own connection, whose end ends the peer.
   */
  remove (k: number): void {
    if (!this.stripes.delete(k)) return
    this.scheduler.remove(k)
    const moved = this.replace(k)
    if (moved > 0) this.host.debug('stripe %d dropped: %d frames sent again', k, moved)
  }

  /**
   * Places again every unacknowledged frame last sent on `k` ({@link PARKED}:
   * on none) that `k` has not acknowledged receiving (`received`: its acks).
   */
  private replace (k: number, received = -1): number {
    let moved = 0
    for (let i = this.unackedHead; i < this.unacked.length; i++) {
      const sent = this.unacked[i]
      if (sent.stripe !== k || sent.mark <= received) continue
      this.put(sent)
      moved++
    }
    return moved
  }

  /** Sends `sent` on the best stripe, and notes where. */
  private put (sent: Sent): void {
    sent.stripe = this.place(sent.frame)
    sent.mark = sent.stripe === PARKED ? 0 : this.scheduler.handedOf(sent.stripe)
  }

  /**
   * Stripe `k` stalled: benches it and sends what it has not acknowledged
   * again on the others. Not when no other stripe could take them.
   */
  private hedge (k: number, waited: number): void {
    if (this.ids.every(id => id === k || this.scheduler.benched(id))) return
    this.scheduler.bench(k, true)
    const moved = this.replace(k, this.scheduler.ackedOf(k))
    this.hedgedFrames += moved
    this.host.debug('stripe %d: no ack for %d ms: benched, %d frames sent again on the others', k, waited, moved)
  }

  /** The remote consumed `n` stream bytes in all: frames wholly below it are done with. */
  acknowledge (n: number): void {
    while (this.unackedHead < this.unacked.length && this.unacked[this.unackedHead].end <= n) this.unackedHead++
    if (this.unackedHead > 1024 && this.unackedHead * 2 > this.unacked.length) {
      this.unacked = this.unacked.slice(this.unackedHead)
      this.unackedHead = 0
    }
  }

  /** Past the frame bound: nothing more until a credit frees some (see {@link MAX_FRAMES_AHEAD}). */
  get blocked (): boolean {
    return this.unacked.length - this.unackedHead >= MAX_FRAMES_AHEAD
  }

  room (): number {
    const now = this.now()
    for (const k of this.stripes.keys()) {
      const waited = this.scheduler.waiting(k, now)
      // The peer's own connection is watched by the peer; an extra one that stalls is dropped.
      if (k !== 0 && waited > STRIPE_STALL_TIMEOUT) {
        this.host.stalled(k, `no ack for ${waited} ms`)
        continue
      }
      if (!this.scheduler.benched(k) && waited > this.scheduler.hedgeDelayOf(k)) this.hedge(k, waited)
    }
    return this.scheduler.room()
  }

  /**
   * The remote's ack on stripe `k`: `total` frame bytes received on it in all.
   * `false` if it acknowledges more than was sent, or goes back.
   */
  onAck (k: number, total: number): boolean {
    if (!this.scheduler.acked(k, total, this.now())) return false
    if (this.scheduler.benched(k) && this.scheduler.inFlight(k) === 0) {
      this.scheduler.bench(k, false)
      this.host.debug('stripe %d: caught up: back in use', k)
    }
    return true
  }

  send (data: string | Uint8Array, whole: boolean): void {
    const text = typeof data === 'string'
    const payload = text ? Buffer.from(data) : data
    const flags = whole ? FLAG_MESSAGE | (text ? FLAG_TEXT : 0) : 0
    const frame = encodeFrame({ seq: this.nextSeq++, flags, payload })
    this.offset += payload.byteLength
    const sent: Sent = { frame, stripe: PARKED, end: this.offset, mark: 0 }
    this.put(sent)
    this.unacked.push(sent)
  }

  /**
   * Sends `frame` on the best stripe; returns its index, or {@link PARKED}
   * when there is none. A stripe whose send throws is dropped.
   */
  private place (frame: Uint8Array): number {
    for (;;) {
      const k = this.scheduler.pick(frame.byteLength) ?? this.scheduler.leastLoaded()
      if (k === null) return PARKED
      const stripe = this.stripes.get(k)!
      try {
        stripe.channel.send(frame as never)
        this.scheduler.handed(k, frame.byteLength, this.now())
        return k
      } catch (err) {
        // Its other frames go elsewhere; then this one, on the next turn.
        this.remove(k)
        this.host.stalled(k, `send failed: ${(err as Error).message}`)
      }
    }
  }
}

function buffered (channel: RTCDataChannel): number {
  try {
    const n = channel.bufferedAmount
    return typeof n === 'number' && n >= 0 ? n : 0
  } catch {
    return 0
  }
}
