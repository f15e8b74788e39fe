/**
 * Labelled channels of one connection: each label opened (`room.open()`,
 * `roomPeer.channel()`) is a data channel of its own on the pair's
 * RTCPeerConnection, made `negotiated` (both ends create it with the same
 * id), so no renegotiation is needed and nothing goes through the broker.
 *
 * Ids come from {@link FIRST_CHANNEL_ID}..{@link LAST_CHANNEL_ID}, above the
 * ids the `Peer`'s own channels take, and only the pair's initiator allocates
 * them: the other side asks for a label (`rtc-channel` `ask`), the initiator
 * makes the channel and tells its id (`open`). A label is opened at most once
 * per pair and kind, so both sides opening it at the same moment get one
 * channel; the initiator's delivery options win. The other side confirms
 * it made its end (`made`); the initiator's end counts as open only then,
 * for a message sent on a negotiated channel whose far end does not exist
 * yet is lost.
 *
 * A channel for room messages (`frames`) has its own {@link SendQueue}
 * writing through a {@link ChannelWriter} (the `write()`/`drain` contract the
 * queue expects, kept under the channel's buffer limits); its frames arrive
 * at the same reassembly as those of the main channel. A `pipe` channel
 * carries a {@link ChannelStream}.
 */
import { EventEmitter } from 'events'
import { roomError, RoomErrorCode, type RoomError } from './errors'
import { SendQueue, type FrameWriter } from './scheduler'
import { ChannelStream } from './pipe'
import {
  FIRST_CHANNEL_ID, LAST_CHANNEL_ID, isUnreliable,
  type ChannelKind, type ChannelDelivery, type LinkMessage
} from './link-messages'

/** Above this many bytes in a channel's send buffer, its queue waits (libwebrtc closes a channel past 16 MiB). */
const HIGH_WATER_MARK = 1024 * 1024
/** The queue resumes once the buffer is at or below this. */
const LOW_WATER_MARK = 256 * 1024
/** How often a waiting writer looks at the buffer again (ms): `bufferedamountlow` is not fired reliably everywhere. */
const POLL_INTERVAL = 5

/** Protocol string of a labelled channel, by kind (informative: both ends know the kind from the `open`). */
const PROTOCOLS: Readonly<Record<ChannelKind, string>> = { frames: 'duplex-peer/room-frames', pipe: 'duplex-peer/room-pipe' }

/**
 * The {@link FrameWriter} of a labelled channel. Frames written before the
 * channel opens are held (the queue makes at most one ahead). `bufferedAmount`
 * can lag behind `send()`, so no more than the room left below the high-water
 * mark is sent between two readings of it.
 */
export class ChannelWriter extends EventEmitter implements FrameWriter {
  private credit = 0
  private held: Uint8Array[] = []
  private isOpen = false
  private closed = false
  private timer: ReturnType<typeof setTimeout> | null = null

  /**
   * @param channel the data channel
   * @param written called (a microtask later) with the transfer id of each
   * frame sent, for channels whose frames need no receipt (unreliable ones)
   */
  constructor (private readonly channel: RTCDataChannel, private readonly written: ((transfer: number) => void) | null) {
    super()
    try {
      channel.bufferedAmountLowThreshold = LOW_WATER_MARK
    } catch { /* polling covers it */ }
  }

  /** Queues a frame; `false` once the channel holds as much as it should (then wait for `drain`). */
  write (frame: Uint8Array): boolean {
    if (this.closed) return false
    if (!this.isOpen || this.held.length > 0) {
      this.held.push(frame)
      return false
    }
    this.send(frame)
    if (this.credit > 0) return true
    this.waitForRoom()
    return false
  }

  /** The channel opened: held frames go out. */
  opened (): void {
    if (this.isOpen || this.closed) return
    this.isOpen = true
    this.credit = HIGH_WATER_MARK
    const held = this.held
    this.held = []
    for (const frame of held) this.send(frame)
    if (this.credit > 0) this.emit('drain')
    else this.waitForRoom()
  }

  /** The channel's buffer went low. */
  bufferedLow (): void {
    if (this.timer !== null) this.check()
  }

  /** The channel closed: no more writing. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.held = []
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.emit('close')
  }

  private send (frame: Uint8Array): void {
    try {
      this.channel.send(frame as Uint8Array<ArrayBuffer>)
    } catch {
      // Closing: its close event follows, and the queue is closed then.
      return
    }
    this.credit -= frame.byteLength
    const notify = this.written
    if (notify && frame.byteLength >= 6) {
      const transfer = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(2)
      queueMicrotask(() => notify(transfer))
    }
  }

  private waitForRoom (): void {
    if (this.timer !== null || this.closed) return
    this.timer = setTimeout(() => this.check(), POLL_INTERVAL)
  }

  private check (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.closed) return
    let buffered = 0
    try {
      buffered = this.channel.bufferedAmount
    } catch { /* unknown: take it as empty */ }
    if (buffered > LOW_WATER_MARK) {
      this.waitForRoom()
      return
    }
    this.credit = HIGH_WATER_MARK - buffered
    this.emit('drain')
  }
}

/** What the channels of a connection need from their room peer. */
export interface ChannelsHost {
  /** Whether this side allocates channel ids (the pair's initiator). */
  readonly initiator: boolean
  /** The connection (`null` once closed). */
  pc (): RTCPeerConnection | null
  /** Sends a control message to the remote (over the main channel). */
  control (message: LinkMessage): void
  /** Frames that arrived on a `frames` channel. */
  frames (bytes: Uint8Array): void
  /** A `frames` channel was made, opened or closed. */
  event (type: 'new' | 'open' | 'close', label: string): void
  /** A `frames` channel closed: transfers still being written on `queue` fail with `error`. */
  queueClosed (queue: SendQueue, error: RoomError): void
  /** A frame of transfer `transfer` went out on an unreliable channel: it is done. */
  unreliableSent (transfer: number): void
  /** Logs. */
  debug (format: string, ...args: unknown[]): void
}

/** One labelled channel of a connection. */
interface Entry {
  readonly kind: ChannelKind
  readonly label: string
  delivery: ChannelDelivery
  /** The channel id, once allocated (by the initiator) or told (to the other side). */
  id: number | null
  channel: RTCDataChannel | null
  writer: ChannelWriter | null
  queue: SendQueue | null
  pipe: ChannelStream | null
  /** The channel's own `open` came. */
  localOpen: boolean
  /** The far end exists: always on the side that was told the id; on the initiator, once `made` came. */
  farEnd: boolean
  /** Reported open (both of the above). */
  ready: boolean
}

/** Where a transfer on a label goes when the label has a channel. */
export interface ChannelRoute {
  readonly queue: SendQueue
  readonly delivery: ChannelDelivery
}

function key (kind: ChannelKind, label: string): string {
  return `${kind}\u0000${label}`
}

/** The labelled channels of one connection (see the module comment). */
export class PeerChannels {
  private readonly entries = new Map<string, Entry>()
  private readonly ids = new Set<number>()
  private cursor = FIRST_CHANNEL_ID
  private live = false
  private stopped = false

  constructor (private readonly host: ChannelsHost) {}

  /** Labels with a `frames` channel on this connection (made, maybe not open yet). */
  get labels (): string[] {
    return [...this.entries.values()].filter(e => e.kind === 'frames' && e.channel !== null).map(e => e.label)
  }

  /** Number of labelled channels made on this connection (both kinds). */
  get size (): number {
    return [...this.entries.values()].filter(e => e.channel !== null).length
  }

  /** The id of the channel of `label` (`null` if none was made). */
  idOf (kind: ChannelKind, label: string): number | null {
    const entry = this.entries.get(key(kind, label))
    return entry?.channel ? entry.id : null
  }

  /**
   * Opens `label` (idempotent): the initiator makes the channel now, the
   * other side asks for it. Before the connection is up, it is done once
   * connected. Throws `ERR_TOO_MANY_CHANNELS` when no id is left.
   */
  open (kind: ChannelKind, label: string, delivery: ChannelDelivery): void {
    if (this.stopped) return
    const k = key(kind, label)
    if (this.entries.has(k)) return
    const entry: Entry = { kind, label, delivery, id: null, channel: null, writer: null, queue: null, pipe: null, localOpen: false, farEnd: false, ready: false }
    this.entries.set(k, entry)
    if (this.live) this.start(entry)
  }

  /** Closes the channel of `label`, if any (both ends see it close). */
  close (kind: ChannelKind, label: string): void {
    const entry = this.entries.get(key(kind, label))
    if (!entry) return
    if (entry.pipe && !entry.pipe.destroyed) {
      entry.pipe.destroy()
      return
    }
    const channel = entry.channel
    this.closed(entry)
    if (channel) {
      try { channel.close() } catch { /* already closed */ }
    }
  }

  /** The byte stream of `label`, opening its channel if need be. */
  pipe (label: string): ChannelStream {
    const k = key('pipe', label)
    const existing = this.entries.get(k)
    if (existing?.pipe) {
      existing.pipe.claimed = true
      return existing.pipe
    }
    this.open('pipe', label, { ordered: true })
    const entry = this.entries.get(k)
    if (!entry) throw roomError('the connection is closed', RoomErrorCode.PEER_CLOSED)
    const pipe = this.makePipe(entry)
    pipe.claimed = true
    return pipe
  }

  /** Where a transfer on `label` goes: its channel's queue, or `null` for the main channel. */
  route (label: string): ChannelRoute | null {
    const entry = this.entries.get(key('frames', label))
    if (!entry || !entry.queue) return null
    return { queue: entry.queue, delivery: entry.delivery }
  }

  /** The connection is up: channels opened before are made (or asked for). */
  connected (): void {
    if (this.live || this.stopped) return
    this.live = true
    for (const entry of [...this.entries.values()]) this.start(entry)
  }

  /** A control message about channels from the remote. */
  onMessage (message: Extract<LinkMessage, { type: 'rtc-channel' }>): void {
    if (this.stopped) return
    const k = key(message.kind, message.label)
    const entry = this.entries.get(k)
    if (message.op === 'ask') {
      if (!this.host.initiator) {
        this.host.debug('channel request for %s from the initiator dropped', message.label)
        return
      }
      if (entry && entry.id !== null) {
        this.tellOpen(entry)
        return
      }
      const asked: Entry = entry ?? { kind: message.kind, label: message.label, delivery: message.delivery, id: null, channel: null, writer: null, queue: null, pipe: null, localOpen: false, farEnd: false, ready: false }
      this.entries.set(k, asked)
      this.start(asked)
      return
    }
    if (message.op === 'made') {
      if (!this.host.initiator || !entry || entry.id !== message.id || !entry.channel) {
        this.host.debug('channel %s: confirmation of id %d dropped', message.label, message.id)
        return
      }
      entry.farEnd = true
      this.onOpen(entry)
      return
    }
    if (this.host.initiator) {
      this.host.debug('channel id for %s from the other side dropped: this side allocates', message.label)
      return
    }
    if (entry && entry.id !== null) {
      if (entry.id !== message.id) this.host.debug('channel %s: id %d told, %d in use; ignored', message.label, message.id, entry.id)
      return
    }
    if (this.ids.has(message.id)) {
      this.host.debug('channel %s: id %d already in use; ignored', message.label, message.id)
      return
    }
    const opened: Entry = entry ?? { kind: message.kind, label: message.label, delivery: message.delivery, id: null, channel: null, writer: null, queue: null, pipe: null, localOpen: false, farEnd: false, ready: false }
    opened.delivery = message.delivery
    opened.id = message.id
    opened.farEnd = true
    this.entries.set(k, opened)
    this.make(opened)
    if (opened.channel) this.host.control({ type: 'rtc-channel', op: 'made', kind: opened.kind, label: opened.label, id: message.id, delivery: opened.delivery })
  }

  /** The connection is gone: every channel is closed, pipes not ended fail with `error`. */
  stop (error: RoomError): void {
    if (this.stopped) return
    this.stopped = true
    for (const entry of [...this.entries.values()]) {
      const pipe = entry.pipe
      const channel = entry.channel
      if (pipe && !pipe.destroyed) pipe.fail(error)
      this.closed(entry, error)
      if (channel) {
        try { channel.close() } catch { /* already closed */ }
      }
    }
  }

  private start (entry: Entry): void {
    if (this.host.initiator) {
      if (entry.id === null) {
        const id = this.allocate()
        if (id === null) {
          this.entries.delete(key(entry.kind, entry.label))
          this.host.debug('no channel id left for %s', entry.label)
          if (entry.pipe) entry.pipe.fail(roomError('no channel id left on this connection', RoomErrorCode.TOO_MANY_CHANNELS))
          return
        }
        entry.id = id
        this.make(entry)
      }
      if (entry.channel) this.tellOpen(entry)
    } else if (entry.id === null) {
      this.host.control({ type: 'rtc-channel', op: 'ask', kind: entry.kind, label: entry.label, delivery: entry.delivery })
    }
  }

  private tellOpen (entry: Entry): void {
    if (entry.id === null) return
    this.host.control({ type: 'rtc-channel', op: 'open', kind: entry.kind, label: entry.label, id: entry.id, delivery: entry.delivery })
  }

  /** The next free id, round-robin (an id just closed is reused last). */
  private allocate (): number | null {
    const count = LAST_CHANNEL_ID - FIRST_CHANNEL_ID + 1
    for (let i = 0; i < count; i++) {
      const id = this.cursor
      this.cursor = id === LAST_CHANNEL_ID ? FIRST_CHANNEL_ID : id + 1
      if (!this.ids.has(id)) return id
    }
    return null
  }

  /** Makes this side's end of the negotiated channel. */
  private make (entry: Entry): void {
    const pc = this.host.pc()
    const id = entry.id
    if (!pc || id === null) return
    let channel: RTCDataChannel
    try {
      channel = pc.createDataChannel(entry.label, { ...entry.delivery, negotiated: true, id, protocol: PROTOCOLS[entry.kind] })
    } catch (err) {
      this.host.debug('channel %s (id %d) not made: %s', entry.label, id, err instanceof Error ? err.message : String(err))
      this.entries.delete(key(entry.kind, entry.label))
      if (entry.pipe) entry.pipe.fail(roomError(err, RoomErrorCode.CHANNEL_CLOSED))
      return
    }
    this.ids.add(id)
    entry.channel = channel
    channel.binaryType = 'arraybuffer'
    channel.onopen = () => {
      entry.localOpen = true
      this.onOpen(entry)
    }
    channel.onclose = () => { if (entry.channel === channel) this.closed(entry) }
    channel.onerror = () => this.host.debug('channel %s: error', entry.label)
    channel.onbufferedamountlow = () => {
      entry.writer?.bufferedLow()
      entry.pipe?.bufferedLow()
    }
    if (entry.kind === 'frames') {
      const unreliable = isUnreliable(entry.delivery)
      entry.writer = new ChannelWriter(channel, unreliable ? transfer => this.host.unreliableSent(transfer) : null)
      entry.queue = new SendQueue(entry.writer, (format, ...args) => this.host.debug(`channel ${entry.label}: ${format}`, ...args))
      channel.onmessage = event => {
        const data: unknown = event.data
        if (data instanceof ArrayBuffer) this.host.frames(new Uint8Array(data))
        else this.host.debug('channel %s: text message dropped', entry.label)
      }
      this.host.event('new', entry.label)
    } else {
      const pipe = this.makePipe(entry)
      channel.onmessage = event => pipe.onMessage(event.data)
      pipe.attach(channel)
    }
    if (channel.readyState === 'open') {
      entry.localOpen = true
      this.onOpen(entry)
    }
  }

  private makePipe (entry: Entry): ChannelStream {
    if (entry.pipe) return entry.pipe
    const pipe = new ChannelStream(entry.label, () => {
      if (this.entries.get(key(entry.kind, entry.label)) === entry) this.closed(entry)
    })
    entry.pipe = pipe
    if (entry.channel) pipe.attach(entry.channel)
    if (entry.ready) pipe.opened()
    return pipe
  }

  private onOpen (entry: Entry): void {
    if (!entry.channel || this.stopped || entry.ready || !entry.localOpen || !entry.farEnd) return
    entry.ready = true
    if (entry.writer) {
      entry.writer.opened()
      this.host.event('open', entry.label)
    }
    entry.pipe?.opened()
  }

  /** Forgets a channel (closed by either side, or being closed here). */
  private closed (entry: Entry, error?: RoomError): void {
    const k = key(entry.kind, entry.label)
    if (this.entries.get(k) === entry) this.entries.delete(k)
    const channel = entry.channel
    entry.channel = null
    if (channel) {
      channel.onopen = null
      channel.onclose = null
      channel.onmessage = null
      channel.onbufferedamountlow = null
    }
    if (entry.id !== null && channel) this.ids.delete(entry.id)
    const queue = entry.queue
    entry.queue = null
    if (queue) {
      queue.close()
      this.host.queueClosed(queue, error ?? roomError(`channel ${entry.label} closed`, RoomErrorCode.CHANNEL_CLOSED))
    }
    entry.writer?.close()
    if (entry.pipe && !entry.pipe.destroyed) entry.pipe.channelClosed()
    if (entry.kind === 'frames' && channel) this.host.event('close', entry.label)
  }
}
