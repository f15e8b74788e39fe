/**
 * Flow control and a lossless end between two duplex-peers.
 *
 * A WebRTC data channel has no receive-side backpressure, and closing it can
 * discard bytes still inside the SCTP stack. When both ends are duplex-peers
 * they open a second, small channel for control messages (JSON text):
 *
 * - `{ t: 'credit', n }`: the receiver has consumed `n` bytes in all; the
 *   sender may have at most {@link RECEIVE_WINDOW} bytes beyond that in flight.
 * - `{ t: 'fin', n }`: the sender has sent `n` bytes in all and wants to close.
 * - `{ t: 'finack' }`: the receiver has received all `n` bytes.
 *
 * How the ends find each other without changing anything simple-peer sees:
 * the initiator labels its data channel's protocol {@link CHANNEL_PROTOCOL};
 * a duplex-peer non-initiator that sees it opens the control channel. A
 * simple-peer on either end never opens or receives one, and then the peer
 * works as before. An initiator that announced the protocol gives the control
 * channel {@link CONTROL_GRACE} ms after connecting to show up before an
 * `end()` goes ahead without it.
 */
import type { ChannelSender } from './sender'
import { releaseChannel } from './channel'

/** Protocol string of the data channel an initiating duplex-peer opens. */
export const CHANNEL_PROTOCOL = 'duplex-peer/1'
/** Label of the control channel. */
export const CONTROL_LABEL = 'duplex-peer/control'
/** How long after connecting an initiator waits for a control channel that may never come (ms). */
export const CONTROL_GRACE = 1000
/** Bytes a sender may have in flight beyond what the receiver has consumed. */
export const RECEIVE_WINDOW = 2 * 1024 * 1024

/** What flow control needs from its peer. */
export interface FlowHost {
  readonly sender: ChannelSender
  debug (format: string, ...args: unknown[]): void
  /** Bytes received and already read by the application, given `received` in all; `null` if unknown. */
  consumed (received: number): number | null
  /** The control channel opened (striped streams start their agreement here). */
  opened? (): void
  /** The remote has consumed `n` bytes of this side's stream in all. */
  credited? (n: number): void
  /** Whether a credit is due though less than a quarter window was consumed (many small frames, see `lib/stripes/`). */
  creditDue? (): boolean
  /** A credit was sent. */
  creditSent? (): void
  /** A message of another kind than flow control's own (striped streams, see `lib/stripes/manager.ts`); unparsed. */
  other? (message: Record<string, unknown>): void
}

type ControlMessage = { t: 'credit', n: number } | { t: 'fin', n: number } | { t: 'finack' }

/** Where flow control stands. */
export type FlowState =
  /** No control channel expected: the remote is not a duplex-peer, or not known to be one yet. */
  | 'none'
  /** A control channel may still arrive (until {@link FlowControl.expect}'s deadline). */
  | 'expected'
  /** The control channel is open: credits flow. */
  | 'open'
  /** This side's `fin` is out: credits still flow until the remote's own `fin` is acknowledged. */
  | 'finishing'
  /** Stopped: the control channel closed or failed, or the peer was destroyed. */
  | 'stopped'

export class FlowControl {
  private readonly host: FlowHost
  private channel: RTCDataChannel | null = null
  private state: FlowState = 'none'
  private received = 0
  private reported = -1
  /** The remote's `fin`: acknowledge once this many bytes have arrived. */
  private finTarget: number | null = null
  /**
   * The remote's `fin` was acknowledged: it sends nothing more, so credits are
   * of no use to it, and it may close at any moment. Nothing is sent from then
   * on: a send that races the remote's close can crash @roamhq/wrtc (its
   * `send()` reads the native channel that its signaling thread clears on close).
   */
  private remoteFinished = false
  private finWaiter: ((acknowledged: boolean) => void) | null = null
  /** The remote's last credit (`null` before the first). */
  private lastCredit: number | null = null
  private windowSize = RECEIVE_WINDOW
  /** Until when a control channel may still arrive (ms since epoch); 0: none expected. */
  private expectedUntil = 0
  /** A `finish` waiting for the control channel to open. */
  private pendingFinish: { done: (acknowledged: boolean) => void, timer: ReturnType<typeof setTimeout> | null } | null = null

  constructor (host: FlowHost) {
    this.host = host
  }

  /**
   * Bytes this side may have in flight beyond the remote's last credit:
   * {@link RECEIVE_WINDOW}, larger once a stream is striped (both ends agree on it).
   */
  get window (): number { return this.windowSize }
  set window (size: number) {
    this.windowSize = size
    if (this.lastCredit !== null) this.host.sender.setWindowEnd(this.lastCredit + size)
  }

  /**
   * Sends a message of another kind on the control channel (see
   * {@link FlowHost.other}); `false` when it could not be sent.
   */
  sendControl (message: Record<string, unknown>): boolean {
    if (!this.open || !this.channel || this.remoteFinished) return false
    return this.send(message as unknown as ControlMessage)
  }

  /** Bytes received from the remote so far. */
  get receivedBytes (): number { return this.received }

  /** Whether the control channel is open (credits and `fin` can be sent). */
  private get open (): boolean {
    return this.state === 'open' || this.state === 'finishing'
  }

  /**
   * A control channel may arrive until `until` (ms since epoch; `Infinity`
   * when it surely will): a `finish` before then waits for it.
   */
  expect (until: number): void {
    if (this.open || this.state === 'stopped') return
    this.expectedUntil = until
    this.state = until > 0 ? 'expected' : 'none'
  }

  /** Uses `channel` (the control channel, from either side) from now on. */
  attach (channel: RTCDataChannel): void {
    if (this.channel) return
    this.channel = channel
    channel.onopen = () => this.onOpen()
    channel.onmessage = event => this.onMessage(event.data)
    channel.onclose = () => { this.host.debug('control channel closed'); this.stop() }
    channel.onerror = () => { this.host.debug('control channel failed'); this.stop() }
    let state: string | undefined
    try { state = channel.readyState } catch { /* onopen will tell */ }
    if (state === 'open') this.onOpen()
  }

  private onOpen (): void {
    if (this.open || this.state === 'stopped' || !this.channel) return
    this.state = 'open'
    this.host.debug('flow control on')
    this.reportConsumed(true)
    this.host.opened?.()
    const pending = this.pendingFinish
    this.pendingFinish = null
    if (pending) {
      if (pending.timer) clearTimeout(pending.timer)
      this.finish(pending.done)
    }
  }

  /** Counts bytes that arrived on the data channel. */
  onReceived (bytes: number): void {
    this.received += bytes
    this.checkFin()
  }

  /** The application read some of what arrived: maybe tell the sender. */
  reportConsumed (force = false): void {
    if (!this.open || this.remoteFinished) return
    const consumed = this.host.consumed(this.received)
    if (consumed === null || consumed === this.reported) return
    if (force || consumed - this.reported >= RECEIVE_WINDOW / 4 || this.host.creditDue?.() === true) {
      this.reported = consumed
      this.send({ t: 'credit', n: consumed })
      this.host.creditSent?.()
    }
  }

  /**
   * After the last write: asks the remote to confirm it received everything.
   * `done(true)` once it has; `done(false)` at once when there is no control
   * channel, or if it closes first.
   */
  finish (done: (acknowledged: boolean) => void): void {
    if (!this.open) {
      const wait = this.expectedUntil - Date.now()
      if (wait <= 0 || this.pendingFinish) return done(false)
      // The control channel is on its way (it opens about a round trip after the data channel).
      const timer = Number.isFinite(wait)
        ? setTimeout(() => { this.pendingFinish = null; done(false) }, wait)
        : null
      this.pendingFinish = { done, timer }
      return
    }
    this.state = 'finishing'
    this.finWaiter = done
    this.host.debug('fin: sent %d bytes', this.host.sender.totalSent)
    this.send({ t: 'fin', n: this.host.sender.totalSent })
  }

  /** Stops: a pending `finish` is told it was not acknowledged. */
  stop (): void {
    this.state = 'stopped'
    this.expectedUntil = 0
    const pending = this.pendingFinish
    this.pendingFinish = null
    if (pending) {
      if (pending.timer) clearTimeout(pending.timer)
      pending.done(false)
    }
    const channel = this.channel
    this.channel = null
    if (channel) releaseChannel(channel)
    const waiter = this.finWaiter
    this.finWaiter = null
    if (waiter) waiter(false)
  }

  private onMessage (data: unknown): void {
    if (typeof data !== 'string') return
    let message: ControlMessage | null
    try {
      message = JSON.parse(data) as ControlMessage | null
    } catch {
      return
    }
    // The remote's input: `null` (or any non-object) would throw below, in a channel event handler.
    if (message === null || typeof message !== 'object') return
    if (message.t === 'credit' && typeof message.n === 'number') {
      this.lastCredit = message.n
      this.host.sender.setWindowEnd(message.n + this.windowSize)
      this.host.credited?.(message.n)
    } else if (message.t === 'fin' && typeof message.n === 'number') {
      this.finTarget = message.n
      this.checkFin()
    } else if (message.t === 'finack') {
      this.host.debug('finack')
      const waiter = this.finWaiter
      this.finWaiter = null
      if (waiter) waiter(true)
    } else if (this.host.other && this.state !== 'stopped') {
      this.host.other(message)
    }
  }

  private checkFin (): void {
    if (this.finTarget === null || this.received < this.finTarget) return
    this.finTarget = null
    this.remoteFinished = true
    this.host.debug('all %d bytes received: finack', this.received)
    this.send({ t: 'finack' })
  }

  private send (message: ControlMessage): boolean {
    try {
      if (!this.channel) return false
      this.channel.send(JSON.stringify(message))
      return true
    } catch (err) {
      this.host.debug('control message not sent: %s', (err as Error).message)
      return false
    }
  }
}
