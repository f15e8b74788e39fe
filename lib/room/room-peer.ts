/**
 * `RoomPeer`: one other member of a room, and this side's connection to it
 * (one `Peer`, one RTCPeerConnection). It owns the connection's state
 * machine and the framing of messages on the Peer's data channel.
 */
import { Peer } from '../peer'
import type { PeerError } from '../errors'
import type { SignalData } from '../signal'
import type { WebRTCImplementation } from '../webrtc'
import { roomError, RoomErrorCode, type RoomError } from './errors'
import { parseFrame, encodeControl } from './frames'
import type { MessageData } from './messages'
import { Receiver, type IncomingMessage } from './incoming'
import { encodeControlMessage, parseControlMessage, type ControlMessage } from './control'
import type { JsonValue } from './protocol'
import { SendQueue, type Outgoing } from './scheduler'
import { Liveness } from './liveness'
import { startTransfer, type SendOptions, type Transfer } from './transfer'
import { PeerLink, checkLabel, checkShareOptions, stopTracks, type LinkEvent, type RoomLinkState, type ShareOptions } from './link'
import type { ChannelDelivery } from './link-messages'
import type { ChannelStream } from './pipe'

export { DEFAULT_LABEL, type SendOptions } from './transfer'

/**
 * Where a connection to a room peer stands:
 * `new` → `connecting` → `connected` ⇄ `disconnected`; `failed` and `closed` are final.
 */
export type RoomPeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed'

/** The transitions each state allows. */
const TRANSITIONS: Readonly<Record<RoomPeerState, readonly RoomPeerState[]>> = {
  new: ['connecting', 'failed', 'closed'],
  connecting: ['connected', 'failed', 'closed'],
  connected: ['disconnected', 'failed', 'closed'],
  disconnected: ['connected', 'failed', 'closed'],
  failed: [],
  closed: []
}

/** Whether a signal starts or answers a negotiation (an offer, an answer, a request for one). */
function isNegotiation (data: SignalData): boolean {
  return data.type === 'offer' || data.type === 'answer' || data.type === 'renegotiate'
}

/** Whether a state is final. */
export function isFinal (state: RoomPeerState): boolean {
  return TRANSITIONS[state].length === 0
}

/** @internal What a RoomPeer needs from its room. */
export interface RoomPeerHost {
  /** Signaling data of the Peer, to deliver to the remote through the driver. */
  signal (peer: RoomPeer, data: SignalData): void
  /** The state changed (after `peer.state` was updated). */
  stateChanged (peer: RoomPeer, state: RoomPeerState, error?: RoomError | PeerError): void
  /** A message started arriving (its `START`); listeners run before this returns. */
  message (message: IncomingMessage): void
  /** A message being received failed (the sender aborted it, the connection closed, it broke the rules or limits). */
  messageFailed (peer: RoomPeer, label: string, error: RoomError): void
  /** The remote's metadata changed. */
  metadataChanged (peer: RoomPeer): void
  /** The next transfer id (unique in the room, so frames can be shared by several targets). */
  nextTransfer (): number
  /** Largest message sent or received (bytes of payload). */
  readonly maxMessageSize: number
  /** This side's current metadata, told to the remote when the connection opens. */
  localMetadata (): JsonValue
  /** Logs. */
  debug (format: string, ...args: unknown[]): void
  /** A labelled channel, media stream or track event of this peer. */
  linkEvent (peer: RoomPeer, event: LinkEvent): void
  /** What the room opened and shares, given to each peer once connected. */
  linkState (): RoomLinkState
}

/** @internal How a RoomPeer is made. */
export interface RoomPeerOptions {
  readonly id: string
  readonly metadata: JsonValue
  readonly initiator: boolean
  readonly config?: RTCConfiguration
  readonly wrtc?: WebRTCImplementation
  readonly connectionTimeout: number
  readonly maxMessageSize: number
  /** The `stripes` option of the `Peer`. */
  readonly stripes: number | 'auto'
}

/**
 * How long a connection may stay `disconnected` before this side restarts
 * ICE (ms; the non-initiator waits twice as long, so that normally only the
 * initiator restarts), at most 1/8 of `connectionTimeout`.
 */
const RESTART_GRACE = 1000

/** Most transfers a peer may have in progress towards us at once. */
const MAX_INCOMING_TRANSFERS = 256

/** Another member of the room. Made by the room; found in `room.peers` and in events. */
export class RoomPeer {
  /** The member's id (unique in the room). */
  readonly id: string
  /** The underlying connection, a `Peer` (destroyed once the state is final). */
  readonly peer: Peer
  private current: RoomPeerState = 'new'
  private meta: JsonValue
  private readonly host: RoomPeerHost
  private readonly receiver: Receiver
  private timer: ReturnType<typeof setTimeout> | null = null
  private restartTimer: ReturnType<typeof setTimeout> | null = null
  /** Until when signaling goes through the broker although connected (ms since epoch; see `signal()`). */
  private brokerUntil = 0
  private readonly initiator: boolean
  private readonly connectionTimeout: number
  private readonly queue: SendQueue
  /** Transfers to this peer not yet confirmed, by id. */
  private readonly outgoing = new Map<number, Outgoing>()
  /** Tells a remote that went silent (its process killed) within `connectionTimeout`. */
  private readonly liveness: Liveness
  /** Over the connection once it is up: signaling, labelled channels, media (link.ts). */
  private readonly link: PeerLink
  /** The queue of each transfer sent on a labelled channel. */
  private readonly routes = new WeakMap<Outgoing, SendQueue>()
  /** Labels shared with this peer alone whose stream is managed. */
  private readonly managed = new Set<string>()

  /** @internal */
  constructor (host: RoomPeerHost, options: RoomPeerOptions) {
    this.host = host
    this.id = options.id
    this.meta = options.metadata
    this.connectionTimeout = options.connectionTimeout
    this.initiator = options.initiator
    this.receiver = new Receiver(this, { maxMessageSize: options.maxMessageSize, maxTransfers: MAX_INCOMING_TRANSFERS }, {
      control: message => this.sendControl(message),
      message: message => host.message(message),
      failed: (message, error) => {
        host.debug('peer %s: transfer %d on %s failed: %s', this.id, message.transfer, message.label, error.message)
        host.messageFailed(this, message.label, error)
      },
      debug: (format, ...args) => host.debug(`peer %s: ${format}`, this.id, ...args)
    })
    this.peer = new Peer({
      initiator: options.initiator,
      config: options.config,
      wrtc: options.wrtc,
      objectMode: true,
      stripes: options.stripes
    })
    this.link = new PeerLink({
      peer: this.peer,
      initiator: options.initiator,
      sendFrame: frame => { if (!isFinal(this.current) && !this.peer.destroyed) this.peer.send(frame) },
      frames: bytes => this.onData(bytes),
      queueClosed: (queue, error) => this.failQueued(queue, error),
      unreliableSent: transfer => this.onTransferControl({ type: 'received', transfer }),
      event: event => host.linkEvent(this, event),
      debug: (format, ...args) => host.debug(`peer %s: ${format}`, this.id, ...args)
    }, () => host.linkState())
    this.peer.on('signal', data => this.onLocalSignal(data))
    this.peer.on('connect', () => this.onConnect())
    this.peer.on('data', (data: Uint8Array | string) => this.onData(data))
    this.peer.on('iceStateChange', state => this.onIceState(state))
    this.peer.on('error', err => this.finish('failed', err))
    this.peer.on('close', () => this.finish('closed'))
    this.queue = new SendQueue(this.peer, (format, ...args) => host.debug(`peer %s: ${format}`, this.id, ...args))
    this.liveness = new Liveness(options.connectionTimeout, {
      ping: () => this.sendControl({ type: 'ping' }),
      expired: silent => {
        host.debug('peer %s: nothing heard for %d ms: gone', this.id, silent)
        this.finish('closed')
      }
    })
  }

  /** The member's metadata, as it last told. */
  get metadata (): JsonValue {
    return this.meta
  }

  /** Where the connection stands. */
  get state (): RoomPeerState {
    return this.current
  }

  /**
   * Sends `data` to this peer: a string, bytes or a JSON value, a `Blob`, a
   * web `ReadableStream` or a Node `Readable` (read as it is sent); it
   * arrives as `channel:message` with what was sent (a stream as bytes).
   * Sent once connected if called before. Returns the {@link Transfer}: a
   * Promise that resolves once the peer confirmed it has it all, and an
   * async iterable of progress. Throws `ERR_INVALID_DATA` for a value that
   * is none of these, `ERR_INVALID_OPTION` for a bad label or signal,
   * `ERR_MESSAGE_TOO_LARGE` above the room's `maxMessageSize`,
   * `ERR_PEER_CLOSED` once the connection is closed or failed.
   */
  send (data: MessageData, options: SendOptions = {}): Transfer {
    if (isFinal(this.current)) throw roomError(`peer ${this.id} is ${this.current}`, RoomErrorCode.PEER_CLOSED)
    return startTransfer(data, options, [this], this.host.nextTransfer(), this.host.maxMessageSize)
  }

  /** @internal Queues a transfer's frames to this peer (made by `startTransfer()`). */
  enqueueTransfer (outgoing: Outgoing): void {
    if (isFinal(this.current)) {
      outgoing.fail(roomError(`peer ${this.id} is ${this.current}`, RoomErrorCode.PEER_CLOSED))
      return
    }
    const route = this.link.route(outgoing)
    if (route instanceof Error) {
      outgoing.fail(route)
      return
    }
    this.outgoing.set(outgoing.transfer, outgoing)
    if (route) this.routes.set(outgoing, route)
    ;(route ?? this.queue).add(outgoing)
  }

  /** @internal Stops a transfer to this peer; the peer gets an `ABORT` if it saw any of it. */
  cancelTransfer (outgoing: Outgoing, reason: string): void {
    if (this.outgoing.get(outgoing.transfer) === outgoing) this.outgoing.delete(outgoing.transfer)
    this.queueOf(outgoing).cancel(outgoing, reason)
  }

  /** The send queue a transfer is on: its labelled channel's, or the main one. */
  private queueOf (outgoing: Outgoing): SendQueue {
    return this.routes.get(outgoing) ?? this.queue
  }

  /**
   * A byte stream to this peer: a Node Duplex (readable-stream, as `Peer`)
   * over a data channel of its own for `label`, with backpressure both ways
   * and an `end()` that completes once the peer has every byte. The peer
   * gets the other end from its own `channel(label)` with our id (both may
   * call it first; bytes wait for it). Another call with the label returns
   * the same stream until it closes. Throws `ERR_INVALID_OPTION` for a bad
   * label, `ERR_PEER_CLOSED` once the connection is closed or failed.
   * @example
   * ```js
   * const pipe = room.peers.get(id).channel('sync')
   * pipe.write(update)
   * pipe.on('data', bytes => apply(bytes))
   * ```
   */
  channel (label: string): ChannelStream {
    const checked = checkLabel(label)
    if (isFinal(this.current)) throw roomError(`peer ${this.id} is ${this.current}`, RoomErrorCode.PEER_CLOSED)
    return this.link.pipe(checked)
  }

  /**
   * Shares `stream` with this peer under `label` (replacing the stream the
   * label shared): it gets `stream:add` and `track:add` with the label.
   * Sent once connected if called before. With `managed`, the stream's
   * tracks are stopped when it is unshared or replaced, or the connection
   * closes. Throws
   * `ERR_INVALID_OPTION`, `ERR_PEER_CLOSED`, or the `Peer`'s media errors.
   */
  share (options: ShareOptions): void {
    const { label, stream, managed } = checkShareOptions(options)
    if (isFinal(this.current)) throw roomError(`peer ${this.id} is ${this.current}`, RoomErrorCode.PEER_CLOSED)
    const previous = this.link.media.shared.get(label)
    const wasManaged = this.managed.has(label)
    this.link.media.share(label, stream)
    if (managed) this.managed.add(label)
    else this.managed.delete(label)
    if (previous && previous !== stream && wasManaged) stopTracks(previous)
  }

  /** Stops sharing `label` with this peer (it gets `stream:remove`); a managed stream's tracks are stopped. */
  unshare (label: string): void {
    const checked = checkLabel(label)
    const stream = this.link.media.shared.get(checked)
    this.link.media.unshare(checked)
    if (stream && this.managed.delete(checked)) stopTracks(stream)
  }

  /** The streams this peer shares with us (announced with `stream:add`), by label. */
  get streams (): ReadonlyMap<string, MediaStream> {
    return this.link.media.received
  }

  /** Labels with a data channel of their own to this peer (`room.open()`). */
  get channels (): string[] {
    return this.link.channels.labels
  }

  /** @internal Opens a labelled channel to this peer (`room.open()`). */
  openChannel (label: string, delivery: ChannelDelivery): void {
    if (!isFinal(this.current)) this.link.channels.open('frames', label, delivery)
  }

  /** @internal Closes a labelled channel to this peer (`room.close()`). */
  closeChannel (label: string): void {
    this.link.channels.close('frames', label)
  }

  /** @internal Shares a room stream (`room.share()`); managed streams are the room's to stop. */
  shareRoomStream (label: string, stream: MediaStream): void {
    if (isFinal(this.current)) return
    this.managed.delete(label)
    this.link.media.share(label, stream)
  }

  /** @internal Stops sharing a room stream (`room.unshare()`). */
  unshareRoomStream (label: string, stream: MediaStream): void {
    if (this.link.media.has(label, stream)) this.link.media.unshare(label)
  }

  /** Transfers still being written on a labelled channel that closed fail. */
  private failQueued (queue: SendQueue, error: RoomError): void {
    for (const [transfer, outgoing] of this.outgoing) {
      if (this.routes.get(outgoing) !== queue || outgoing.finished) continue
      this.outgoing.delete(transfer)
      outgoing.fail(error)
    }
  }

  /** @internal Starts connecting. */
  start (): void {
    if (!this.transition('connecting')) return
    this.timer = setTimeout(() => {
      this.timer = null
      if (this.current === 'connecting') {
        this.finish('failed', roomError(`no connection to ${this.id} within ${this.connectionTimeout} ms`, RoomErrorCode.CONNECTION_TIMEOUT))
      }
    }, this.connectionTimeout)
  }

  /** @internal Signaling data from the remote. */
  signal (data: SignalData): void {
    if (isFinal(this.current)) return
    // The remote negotiates through the broker although we are connected: it
    // lost the link (an ICE restart): answer through the broker too for a
    // while. (Candidates of the first negotiation may still come this way.)
    if (this.current === 'connected' && isNegotiation(data)) this.brokerUntil = Date.now() + this.connectionTimeout
    this.peer.signal(data)
  }

  /** @internal Tells the remote our new metadata (if connected; otherwise it is told on connection). */
  sendMetadata (metadata: JsonValue): void {
    if (this.current !== 'connected' && this.current !== 'disconnected') return
    this.sendControl({ type: 'metadata', metadata })
  }

  private sendControl (message: ControlMessage): void {
    if (isFinal(this.current) || this.peer.destroyed) return
    this.liveness.sent()
    this.peer.send(encodeControl(encodeControlMessage(message)))
  }

  /** @internal Closes the connection (state `closed`, or `failed` with an error). */
  finish (state: 'closed' | 'failed', error?: RoomError | PeerError): void {
    if (isFinal(this.current)) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.clearRestart()
    this.liveness.stop()
    this.queue.close()
    const shared = this.link.media.shared
    this.link.stop()
    for (const label of this.managed) {
      const stream = shared.get(label)
      if (stream) stopTracks(stream)
    }
    this.managed.clear()
    const outgoing = [...this.outgoing.values()]
    this.outgoing.clear()
    this.transition(state, error)
    const closed = roomError(`the connection to ${this.id} is ${state}`, RoomErrorCode.PEER_CLOSED)
    this.receiver.close(closed)
    for (const transfer of outgoing) transfer.fail(closed)
    if (!this.peer.destroyed) this.peer.destroy()
  }

  private transition (to: RoomPeerState, error?: RoomError | PeerError): boolean {
    if (!TRANSITIONS[this.current].includes(to)) {
      this.host.debug('peer %s: no transition %s -> %s', this.id, this.current, to)
      return false
    }
    this.host.debug('peer %s: %s -> %s', this.id, this.current, to)
    this.current = to
    this.host.stateChanged(this, to, error)
    return true
  }

  private onConnect (): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (!this.transition('connected')) return
    this.liveness.start()
    this.sendMetadata(this.host.localMetadata())
    this.link.connected()
  }

  private onIceState (state: RTCIceConnectionState): void {
    if (state === 'disconnected' && this.current === 'connected') {
      if (this.transition('disconnected')) this.scheduleRestart()
    } else if ((state === 'connected' || state === 'completed') && this.current === 'disconnected') {
      this.clearRestart()
      this.transition('connected')
    }
  }

  /**
   * A blip is healed first on the same connection: if it stays
   * `disconnected` for a moment, ICE is restarted (new candidates, through
   * the signaling). If that does not bring it back, the liveness watch ends
   * the connection within `connectionTimeout`, and the room meets the peer
   * again with a new one.
   */
  private scheduleRestart (): void {
    this.clearRestart()
    const grace = Math.max(1, Math.min(RESTART_GRACE, this.connectionTimeout / 8)) * (this.initiator ? 1 : 2)
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null
      if (this.current !== 'disconnected' || this.peer.destroyed) return
      this.host.debug('peer %s: still disconnected after %d ms: restarting ICE', this.id, grace)
      this.peer.restartIce()
    }, grace)
  }

  /**
   * Signaling of the Peer: over the connection while it is up, through the
   * broker while it is not (before it is made, and while ICE is being
   * restarted, when the connection cannot carry it).
   */
  private onLocalSignal (data: SignalData): void {
    if (isFinal(this.current)) return
    const overLink = this.current === 'connected' && Date.now() >= this.brokerUntil
    if (overLink && this.link.signal(data)) return
    this.host.signal(this, data)
  }

  private clearRestart (): void {
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = null
  }

  private onData (data: Uint8Array | string): void {
    if (isFinal(this.current)) return
    this.liveness.heard()
    if (typeof data === 'string') {
      this.host.debug('peer %s: text message dropped (rooms send frames as bytes)', this.id)
      return
    }
    const frame = parseFrame(data)
    if (!frame) {
      this.host.debug('peer %s: malformed frame of %d bytes dropped', this.id, data.byteLength)
      return
    }
    if (frame.type === 'control') {
      if (this.link.onControl(frame.payload)) return
      const message = parseControlMessage(frame.payload)
      if (!message) {
        this.host.debug('peer %s: malformed control message dropped', this.id)
        return
      }
      if (message.type === 'ping') return
      if (message.type !== 'metadata') {
        this.onTransferControl(message)
        return
      }
      if (JSON.stringify(message.metadata) === JSON.stringify(this.meta)) return
      this.meta = message.metadata
      this.host.metadataChanged(this)
      return
    }
    this.receiver.push(frame)
  }

  private onTransferControl (message: Exclude<ControlMessage, { type: 'metadata' | 'ping' }>): void {
    const outgoing = this.outgoing.get(message.transfer)
    if (!outgoing) {
      this.host.debug('peer %s: %s for unknown transfer %d dropped', this.id, message.type, message.transfer)
      return
    }
    if (message.type === 'credit') {
      outgoing.grant(message.bytes)
      this.queueOf(outgoing).resume(outgoing)
      return
    }
    this.outgoing.delete(message.transfer)
    if (message.type === 'received') {
      outgoing.received()
      return
    }
    if (message.type === 'declined' || message.type === 'cancelled') {
      const declined = message.type === 'declined'
      const error = roomError(`the peer ${message.type} the message${message.reason ? `: ${message.reason}` : ''}`, declined ? RoomErrorCode.TRANSFER_DECLINED : RoomErrorCode.TRANSFER_CANCELLED)
      this.queueOf(outgoing).remove(outgoing, error)
      outgoing.fail(error)
      return
    }
    this.queueOf(outgoing).cancel(outgoing, 'refused by the receiver')
    outgoing.fail(roomError(`the peer refused the message: ${message.reason}`, RoomErrorCode.TRANSFER_REFUSED))
  }
}
