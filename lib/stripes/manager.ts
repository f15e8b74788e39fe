/**
 * Striped streams: one `Peer` stream carried over several
 * `RTCPeerConnection`s ("stripes"), so that a long or lossy path is not
 * capped by one SCTP association's window and its response to loss. The
 * application sees one Duplex stream and signals exactly as before.
 *
 * ## Agreeing on a count
 * Only between two duplex-peers with the control channel of `flow.ts`. When
 * it opens, a side whose `stripes` option is not 1 sends
 * `{ t: 'stripes', v: 1, max, auto }`. The count is the smaller `max`; until a
 * side has sent its own and read the remote's, it stays at one connection. So
 * simple-peer (no control channel), an older duplex-peer (ignores the
 * message) and `stripes: 1` (sends nothing: the wire is byte for byte as
 * before) all fall back silently. Until the count is known (at most
 * {@link STRIPE_AGREE_TIMEOUT} ms after connecting) the peer's channel is
 * kept to a small buffer: what goes unframed crosses the first connection
 * ahead of everything framed.
 *
 * ## Channels and connections
 * Stripe 0 is a second data channel on the peer's own connection, labelled
 * `duplex-peer/stripe` and opened by the non-initiator next to the control
 * channel. Stripes 1..N-1 are extra connections (`connection.ts`), made by
 * the initiator only (no glare) with the peer's `config` and `wrtc`, and
 * signaled over the control channel: `{ t: 'stripe', k, s }` with `s` an
 * offer, answer or candidate. Media stays on the peer's own connection.
 *
 * ## Switching to frames
 * Each side's sender switches on its own once the count is agreed and stripe
 * 0 is open (with `'auto'` on a loopback-class round trip, only once a second
 * stripe opens, which then never happens): it sends `{ t: 'framed', at }`, `at` being the bytes it sent on
 * the peer's data channel until then, and from then on every message (a
 * piece of the byte stream, or a whole `send()` message) is a numbered frame
 * on a stripe channel (`outlet.ts`); extra stripes join as they open. The
 * peer's data channel only ever carries unframed bytes, and stripe channels
 * only frames, so nothing has to be told apart. The receiver delivers frames
 * in order once `at` unframed bytes have arrived (`inlet.ts`).
 *
 * ## Scheduling
 * A receiver acknowledges what arrives on each stripe (a decimal text message
 * on that stripe's channel, at most one per 10 ms). From
 * those acks the sender knows each stripe's bytes in flight and delivery
 * rate, and gives each frame to the stripe that would deliver it first,
 * within a per-stripe cap of about half a second of its rate
 * (`scheduler.ts`): a slow or lossy stripe holds only its own share.
 *
 * ## Windows, failure and re-sending
 * The stream-wide window of `flow.ts` still applies, scaled by the stripes
 * open; the receiver accepts up to its own `max` times the window, and at
 * most {@link MAX_FRAMES_AHEAD} frames (a burst of tiny `send()` messages
 * would otherwise be thousands). A frame is kept until the remote's credit
 * covers it; a stripe that fails (its connection or channel fails or closes,
 * ICE stays disconnected, its acks stop for `STRIPE_STALL_TIMEOUT` ms
 * while frames wait, or it breaks the protocol) is closed,
 * `{ t: 'stripe-close', k }` is sent, and its unacknowledged frames go again
 * on the others; the receiver drops duplicates. Before that, a stripe whose
 * acks have not moved for 2 s or more is benched (`outlet.ts`): what it has
 * not acknowledged goes again on the others, so that it does not hold up
 * in-order delivery, and it gets no new frames until it has caught up.
 * Losing the peer's own connection ends the peer, as before; with no stripe
 * left at all, frames wait a few seconds for that end before the peer fails
 * with `ERR_DATA_CHANNEL`. `end()` stays lossless: `fin` counts stream bytes,
 * framed or not.
 *
 * ## `'auto'`
 * The initiator decides (`auto.ts`): one connection, never more on a
 * loopback-class round trip, otherwise more while measured throughput rises.
 * Its decisions go to `debug` and to the `stripes` report of `getStats()`.
 */
import type { ChannelSender } from '../sender'
import type { FlowControl } from '../flow'
import { RECEIVE_WINDOW } from '../flow'
import { makeError, ErrorCode, type PeerError } from '../errors'
import type { WebRTCImplementation } from '../webrtc'
import type { Buffer } from 'buffer'
import { Timers } from '../timers'
import { releaseChannel } from '../channel'
import { AUTO_MIN_RTT, AUTO_PERIOD, CREDIT_FRAMES, MAX_FRAMES_AHEAD, MAX_STRIPES, STRIPE_AGREE_TIMEOUT, STRIPE_LABEL, STRIPE_WATCH_INTERVAL, STRIPES_VERSION } from './constants'
import { parseStripeMessage, STRIPE_MESSAGE_TYPES, type StripeMessage, type StripeSignal } from './messages'
import { StripeConnection, readRoundTripTime } from './connection'
import { StripedOutlet } from './outlet'
import { StripeInlet } from './inlet'
import { AutoStripes } from './auto'

/** The `stripes` option: how many connections a peer may use (1: just its own), or `'auto'`. */
export type StripesOption = number | 'auto'

/** What the stripes of a peer need from it. */
export interface StripeHost {
  readonly initiator: boolean
  readonly wrtc: WebRTCImplementation
  readonly config: RTCConfiguration
  readonly sender: ChannelSender
  readonly flow: FlowControl
  /** The peer's own connection (`null` once destroyed). */
  readonly pc: RTCPeerConnection | null
  /** Stream bytes sent and received so far (for `'auto'`). */
  readonly movedBytes: number
  /** The next piece of the stream, from frames. */
  deliver (chunk: Buffer | string): void
  /** A stripe channel's send buffer went low. */
  drained (): void
  /** The stream cannot go on (every stripe failed while frames waited). */
  failed (err: PeerError): void
  debug (format: string, ...args: unknown[]): void
}

/** The striping report added to `peer.getStats()`. */
export interface StripeStats {
  type: 'stripes'
  id: 'stripes'
  timestamp: number
  /** The option as given (normalised). */
  option: StripesOption
  /** Connections both sides allow (1 until agreed). */
  agreed: number
  /** Whether `'auto'` decides the count. */
  auto: boolean
  /** Indices of the stripes whose channels are open (0: the peer's own connection). */
  open: number[]
  /** Whether this side sends frames (it switched). */
  framed: boolean
  /** Open stripes benched for stalling: their frames were sent again on the others, and they get no new ones until they deliver again. */
  benched: number[]
  /** Frames sent again on another stripe because theirs stalled, in all. */
  hedged: number
  /** The latest decisions of `'auto'`, oldest first. */
  decisions: string[]
}

/** Normalises the `stripes` option: an integer 1..{@link MAX_STRIPES}, or `'auto'`; anything else is 1. */
export function normaliseStripes (value: unknown): StripesOption {
  if (value === 'auto') return 'auto'
  if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, Math.min(MAX_STRIPES, Math.floor(value)))
  return 1
}

/** Longest wait (ms) before a receiver acknowledges what arrived on a stripe; acks in between are merged. */
const ACK_DELAY = 10

/** How long (ms) a stream with no stripe left waits for the peer to end before failing it. */
const ORPHAN_TIMEOUT = 5000

/** The peer's channel buffer (bytes) until the count is agreed. */
const UNAGREED_HIGH_WATER_MARK = 64 * 1024

export class StripeManager {
  private readonly host: StripeHost
  private readonly option: StripesOption
  private readonly localMax: number
  private ownSent = false
  private remote: { max: number, auto: boolean } | null = null
  private agreed = 1
  private auto: AutoStripes | null = null
  private readonly connections = new Map<number, StripeConnection>()
  /** Open stripe channels: what the outlet starts with when this side switches. */
  private readonly open = new Map<number, { channel: RTCDataChannel, maxMessageSize: number | undefined }>()
  private frameChannel: RTCDataChannel | null = null
  private nextIndex = 1
  /** Stripe indices that had a connection (never reused). */
  private readonly used = new Set<number>()
  private outlet: StripedOutlet | null = null
  private readonly inlet: StripeInlet
  private readonly decisions: string[] = []
  private readonly timers = new Timers<'auto' | 'hold' | 'orphan'>()
  private lastMoved = 0
  private framesAtCredit = 0
  private watch: ReturnType<typeof setInterval> | null = null
  /** When this side switches to frames: once stripe 0 opens, or (`'auto'`) once a second stripe does. */
  private framing: 'now' | 'deferred' = 'now'
  private closed = false

  constructor (option: StripesOption, host: StripeHost) {
    this.host = host
    host.sender.limit(UNAGREED_HIGH_WATER_MARK)
    this.option = option
    this.localMax = option === 'auto' ? MAX_STRIPES : option
    this.inlet = new StripeInlet(RECEIVE_WINDOW * this.localMax, MAX_FRAMES_AHEAD, {
      deliver: chunk => this.host.deliver(chunk),
      violated: (k, err) => this.fail(k, err.message)
    })
  }

  /** Non-initiator, when the remote turned out to be a duplex-peer: opens stripe 0's channel on `pc`. */
  createFrameChannel (pc: RTCPeerConnection): void {
    this.attachFrameChannel(pc.createDataChannel(STRIPE_LABEL, { ordered: true }))
  }

  /** Stripe 0's channel, made here or received. */
  attachFrameChannel (channel: RTCDataChannel): void {
    if (this.frameChannel || this.closed) return
    this.frameChannel = channel
    channel.binaryType = 'arraybuffer'
    let opened = false
    const onOpen = (): void => {
      if (opened) return
      opened = true
      let max: number | undefined
      try { max = this.host.pc?.sctp?.maxMessageSize } catch { /* unknown */ }
      this.opened(0, channel, max)
    }
    channel.onopen = onOpen
    channel.onclose = () => this.fail(0, 'channel closed')
    channel.onerror = () => this.fail(0, 'channel failed')
    let state: string | undefined
    try { state = channel.readyState } catch { /* onopen will tell */ }
    if (state === 'open') onOpen()
  }

  /** The control channel opened: say what this side allows. */
  controlOpened (): void {
    if (this.closed || this.ownSent) return
    this.ownSent = this.host.flow.sendControl({ t: 'stripes', v: STRIPES_VERSION, max: this.localMax, auto: this.option === 'auto' })
    if (this.ownSent) this.agree()
    else this.unavailable('the control channel refused a message')
  }

  /** The remote cannot stripe (it is not a duplex-peer, or no control channel came): one connection. */
  unavailable (why: string): void {
    if (this.agreed > 1 || this.closed) return
    this.host.debug('stripes: %s: 1 connection', why)
    this.settled()
  }

  /** The count is known (or given up on): the peer's channel takes a full buffer again. */
  private settled (): void {
    this.timers.clear('hold')
    this.host.sender.limit(null)
  }

  /** A control message of a kind flow control does not know. */
  onControl (message: Record<string, unknown>): void {
    if (this.closed || !STRIPE_MESSAGE_TYPES.has(message.t)) return
    const parsed = parseStripeMessage(message)
    if (parsed instanceof Error) return this.host.debug('%s (%s)', parsed.message, parsed.code)
    this.handle(parsed)
  }

  /** The peer delivered `bytes` unframed bytes. */
  onRaw (bytes: number): void { this.inlet.onRaw(bytes) }

  /**
   * The peer connected: frames may be delivered. Until the count is agreed,
   * what goes unframed on the peer's channel is kept small (it would all
   * cross the first connection ahead of anything framed), for at most
   * {@link STRIPE_AGREE_TIMEOUT} ms.
   */
  release (): void {
    this.inlet.release()
    if (this.outlet || this.closed || this.timers.has('hold')) return
    this.timers.set('hold', STRIPE_AGREE_TIMEOUT, () => {
      if (this.agreed > 1) {
        this.host.debug('stripes: agreed, but no stripe open %d ms after connecting', STRIPE_AGREE_TIMEOUT)
        this.settled()
      } else {
        this.unavailable(`no agreement ${STRIPE_AGREE_TIMEOUT} ms after connecting`)
      }
    })
  }

  /** Whether enough frames were delivered since the last credit for another to be due. */
  creditDue (): boolean { return this.inlet.deliveredFrames - this.framesAtCredit >= CREDIT_FRAMES }

  /** A credit was sent. */
  creditSent (): void { this.framesAtCredit = this.inlet.deliveredFrames }

  /** The remote consumed `n` bytes of this side's stream. */
  credited (n: number): void { this.outlet?.acknowledge(n) }

  /** The striping report for `getStats()`. */
  stats (): StripeStats {
    return {
      type: 'stripes',
      id: 'stripes',
      timestamp: Date.now(),
      option: this.option,
      agreed: this.agreed,
      auto: this.auto !== null,
      open: [...this.open.keys()].sort((a, b) => a - b),
      framed: this.outlet !== null,
      benched: this.outlet?.benched ?? [],
      hedged: this.outlet?.hedged ?? 0,
      decisions: [...this.decisions]
    }
  }

  /** Teardown: every extra connection closed. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.timers.clearAll()
    if (this.watch) clearInterval(this.watch)
    this.watch = null
    for (const connection of this.connections.values()) connection.close()
    this.connections.clear()
    this.open.clear()
    const channel = this.frameChannel
    this.frameChannel = null
    if (channel) releaseChannel(channel)
  }

  private handle (message: StripeMessage): void {
    switch (message.t) {
      case 'stripes':
        if (this.remote) return this.host.debug('second stripes message ignored')
        this.remote = { max: message.max, auto: message.auto }
        this.agree()
        return
      case 'stripe':
        return this.onSignal(message.k, message.s)
      case 'stripe-close':
        this.host.debug('stripe %d closed by the remote', message.k)
        return this.drop(message.k, false)
      case 'framed': {
        this.host.debug('remote frames from byte %d', message.at)
        const err = this.inlet.onFramed(message.at)
        if (err) this.host.debug('%s (%s)', err.message, err.code)
      }
    }
  }

  private agree (): void {
    if (!this.ownSent || !this.remote || this.agreed > 1) return
    const count = Math.min(this.localMax, this.remote.max)
    if (count <= 1) return this.unavailable('the remote allows 1')
    this.agreed = count
    const auto = this.option === 'auto' || this.remote.auto
    this.host.debug('stripes: up to %d connections%s', count, auto ? ' (auto)' : '')
    if (auto) {
      // On a loopback-class round trip 'auto' stays at one connection: no frames until a
      // second connection opens, so the stream costs exactly what it did without stripes.
      this.framing = 'deferred'
      this.checkRoundTrip().catch(() => {})
    } else if (this.open.size > 0 && !this.outlet) {
      this.switchToFrames()
    }
    if (!this.host.initiator) return
    if (auto) {
      this.auto = new AutoStripes(count)
      this.lastMoved = this.host.movedBytes
      this.scheduleAuto()
    } else {
      this.grow(count)
    }
  }

  /** Initiator: opens extra connections until `count` are in use. */
  private grow (count: number): void {
    while (1 + this.connections.size < count && this.nextIndex < this.agreed) this.connect(this.nextIndex++)
  }

  private connect (k: number): StripeConnection | null {
    let connection: StripeConnection
    try {
      connection = new StripeConnection(k, {
        wrtc: this.host.wrtc,
        config: this.host.config,
        signal: (index, s) => { this.host.flow.sendControl({ t: 'stripe', k: index, s }) },
        opened: (index, channel, max) => this.opened(index, channel, max),
        failed: (index, reason) => this.fail(index, reason),
        debug: (format, ...args) => this.host.debug(format, ...args)
      })
    } catch (err) {
      this.host.debug('stripe %d: no connection: %s', k, (err as Error).message)
      return null
    }
    this.connections.set(k, connection)
    this.used.add(k)
    if (this.host.initiator) connection.offer()
    return connection
  }

  private onSignal (k: number, s: StripeSignal): void {
    let connection = this.connections.get(k)
    if (!connection) {
      // Only the initiator offers, and only within the agreed count; an index is never reused.
      // (Offers may arrive in any order: each is made and sent asynchronously.)
      if (this.host.initiator || s.type !== 'offer' || k >= this.agreed || this.used.has(k)) {
        return this.host.debug('stripe %d: unexpected %s ignored', k, s.type)
      }
      const made = this.connect(k)
      if (!made) return
      connection = made
    }
    connection.onSignal(s)
  }

  private opened (k: number, channel: RTCDataChannel, maxMessageSize: number | undefined): void {
    if (this.closed) return
    this.host.debug('stripe %d open', k)
    let received = 0
    let ackPending = false
    const ack = (): void => {
      ackPending = false
      if (this.closed || !this.open.has(k)) return
      try { channel.send(String(received)) } catch { /* closing: the remote's stall check covers it */ }
    }
    channel.onmessage = event => {
      const data: unknown = event.data
      if (typeof data === 'string') return this.onAck(k, data)
      if (!(data instanceof ArrayBuffer)) return this.fail(k, 'not a frame')
      this.inlet.onFrame(k, data)
      received += data.byteLength
      // Stripe acks: what arrived on this stripe, for the sender's scheduler (scheduler.ts);
      // at most one per ACK_DELAY ms (each send is a blocking call into the native library).
      if (!ackPending) {
        ackPending = true
        setTimeout(ack, ACK_DELAY)
      }
    }
    channel.onbufferedamountlow = () => this.host.drained()
    this.open.set(k, { channel, maxMessageSize })
    if (this.outlet) {
      this.timers.clear('orphan')
      this.outlet.add(k, channel, maxMessageSize)
      this.resizeWindow()
      this.host.drained()
    } else if (this.agreed > 1 && (this.framing === 'now' || this.open.size >= 2)) {
      this.switchToFrames()
    }
  }

  /** `'auto'`: frames from stripe 0 on unless the round trip is loopback-class (or unknown). */
  private async checkRoundTrip (): Promise<void> {
    const pc = this.host.pc
    const rtt = pc ? await readRoundTripTime(pc) : null
    if (this.closed || this.outlet) return
    if (rtt !== null && rtt >= AUTO_MIN_RTT) {
      this.framing = 'now'
      if (this.open.size > 0) this.switchToFrames()
    } else {
      this.host.debug('stripes auto: round trip %s: no frames until a second connection opens', rtt === null ? 'unknown' : `${(rtt * 1000).toFixed(1)} ms`)
      this.settled()
    }
  }

  private onAck (k: number, text: string): void {
    const total = text.length <= 16 && /^[0-9]+$/.test(text) ? Number(text) : NaN
    if (!this.outlet || !Number.isSafeInteger(total) || !this.outlet.onAck(k, total)) {
      return this.fail(k, `bad ack ${JSON.stringify(text.slice(0, 20))}`)
    }
    this.host.drained()
  }

  private switchToFrames (): void {
    const at = this.host.sender.totalSent
    const outlet = new StripedOutlet(at, {
      debug: (format, ...args) => this.host.debug(format, ...args),
      stalled: (k, reason) => this.fail(k, reason)
    })
    for (const [k, { channel, maxMessageSize }] of this.open) outlet.add(k, channel, maxMessageSize)
    this.outlet = outlet
    this.host.flow.sendControl({ t: 'framed', at })
    this.host.debug('framing from byte %d on %d stripes', at, this.open.size)
    // Diverted before the window grows: a larger window sends at once, and nothing may go unframed past `at`.
    if (this.host.sender.divert(outlet) !== at) this.host.failed(makeError('stream bytes sent during the switch to frames', ErrorCode.DATA_CHANNEL))
    this.resizeWindow()
    this.settled()
    // The sender checks for stalled stripes whenever it waits for room; once it has nothing
    // left to send (its last frames lost on a cut stripe, say), this check still runs.
    this.watch = setInterval(() => { this.outlet?.room() }, STRIPE_WATCH_INTERVAL)
    if (typeof this.watch === 'object' && typeof this.watch.unref === 'function') this.watch.unref()
  }

  private resizeWindow (): void {
    this.host.flow.window = RECEIVE_WINDOW * Math.max(1, Math.min(this.agreed, this.open.size))
  }

  /** Stripe `k` failed here: drop it and tell the remote. */
  private fail (k: number, reason: string): void {
    if (this.closed) return
    this.host.debug('stripe %d failed: %s', k, reason)
    this.drop(k, true)
  }

  private drop (k: number, tell: boolean): void {
    if (this.closed) return
    const connection = this.connections.get(k)
    this.connections.delete(k)
    connection?.close()
    if (k === 0 && this.frameChannel) releaseChannel(this.frameChannel)
    const wasOpen = this.open.delete(k)
    if (tell && k !== 0) this.host.flow.sendControl({ t: 'stripe-close', k })
    if (!wasOpen || !this.outlet) return
    this.outlet.remove(k)
    this.resizeWindow()
    if (this.outlet.ids.length === 0) {
      // Frames wait for a stripe. When the peer's own connection is going, its end follows
      // shortly and ends the peer; if it does not, the stream cannot go on.
      this.timers.set('orphan', ORPHAN_TIMEOUT, () => {
        this.host.failed(makeError('every stripe of the stream closed', ErrorCode.DATA_CHANNEL))
      })
    }
  }

  private scheduleAuto (): void {
    this.timers.set('auto', AUTO_PERIOD, () => { this.autoPeriod().catch(() => {}) })
  }

  private async autoPeriod (): Promise<void> {
    const auto = this.auto
    const pc = this.host.pc
    if (!auto || !pc || this.closed) return
    const moved = this.host.movedBytes
    const bytes = moved - this.lastMoved
    this.lastMoved = moved
    const rtt = auto.state === 'measuring' && auto.count === 1 ? await readRoundTripTime(pc) : null
    if (this.closed) return
    const decision = auto.period(bytes, rtt, 1 + this.connections.size)
    if (decision.action !== 'hold' || decision.reason !== (this.lastReason ?? '')) {
      this.lastReason = decision.reason
      if (decision.action !== 'hold' || auto.state === 'settled') this.record(`${decision.action}: ${decision.reason}`)
      this.host.debug('stripes auto: %s: %s', decision.action, decision.reason)
    }
    if (decision.action === 'add') this.grow(decision.count)
    if (decision.action === 'drop') {
      for (const k of [...this.connections.keys()].sort((a, b) => b - a)) {
        if (1 + this.connections.size <= decision.count) break
        this.host.debug('stripe %d closed: auto found it not worth it', k)
        this.drop(k, true)
      }
    }
    if (auto.state !== 'settled') this.scheduleAuto()
  }

  private lastReason: string | null = null

  private record (decision: string): void {
    this.decisions.push(decision)
    if (this.decisions.length > 20) this.decisions.shift()
  }
}
