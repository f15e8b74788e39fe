/**
 * What a connected pair does without the broker: its further signaling,
 * its labelled channels and its media, all told over the connection itself
 * (control messages of link-messages.ts). `PeerLink` is the part of a
 * `RoomPeer` that does it; `RoomLinks` keeps what a room opened and shares,
 * so peers connecting later get it too, and `room.ready()`.
 */
import type { Peer } from '../peer'
import type { SignalData } from '../signal'
import { roomError, RoomErrorCode, type RoomError } from './errors'
import { encodeControl, MAX_FRAME_SIZE, PIECE_SIZE } from './frames'
import { SendQueue, type Outgoing } from './scheduler'
import { PeerChannels } from './channels'
import { PeerMedia } from './media'
import type { ChannelStream } from './pipe'
import {
  encodeLinkMessage, parseLinkMessage, readDelivery, isLabel, isUnreliable,
  type ChannelDelivery, type LinkMessage
} from './link-messages'

/** Options of `room.open()`. */
export interface ChannelOptions {
  /** The label: messages sent with it go on this channel. 1 to 255 bytes of UTF-8. */
  label: string
  /** Whether messages arrive in the order sent. @defaultValue `true` */
  ordered?: boolean
  /** Unreliable channel: most retransmissions of a message (not with `maxPacketLifeTime`). Such a channel carries only messages that fit one frame. */
  maxRetransmits?: number
  /** Unreliable channel: longest time a message is retransmitted, in ms (not with `maxRetransmits`). Such a channel carries only messages that fit one frame. */
  maxPacketLifeTime?: number
}

/** Options of `room.share()` and `roomPeer.share()`. */
export interface ShareOptions {
  /** The label the others see the stream under (`stream:add`); sharing again under a label replaces its stream. */
  label: string
  /** The stream whose tracks are sent. */
  stream: MediaStream
  /** Stop the stream's tracks when it is unshared, replaced, or the room is left. @defaultValue `false` */
  managed?: boolean
}

/** Largest payload an unreliable channel carries: what one `START` frame holds with any label. */
export const MAX_UNRELIABLE_PAYLOAD = PIECE_SIZE

/** Checks `room.open()`'s options; throws `ERR_INVALID_OPTION`. */
export function checkChannelOptions (options: unknown): { label: string, delivery: ChannelDelivery } {
  if (options === null || typeof options !== 'object') throw roomError('open() takes an options object with a label', RoomErrorCode.INVALID_OPTION)
  const obj = options as Record<string, unknown>
  if (!isLabel(obj.label)) throw roomError('label must be a string of 1 to 255 bytes of UTF-8', RoomErrorCode.INVALID_OPTION)
  const delivery = readDelivery(obj)
  if (typeof delivery === 'string') throw roomError(delivery, RoomErrorCode.INVALID_OPTION)
  return { label: obj.label, delivery }
}

/** Checks a label argument; throws `ERR_INVALID_OPTION`. */
export function checkLabel (label: unknown): string {
  if (!isLabel(label)) throw roomError('label must be a string of 1 to 255 bytes of UTF-8', RoomErrorCode.INVALID_OPTION)
  return label
}

/** Checks `share()`'s options; throws `ERR_INVALID_OPTION`. */
export function checkShareOptions (options: unknown): { label: string, stream: MediaStream, managed: boolean } {
  if (options === null || typeof options !== 'object') throw roomError('share() takes an options object with a label and a stream', RoomErrorCode.INVALID_OPTION)
  const { label, stream, managed } = options as Record<string, unknown>
  const checked = checkLabel(label)
  if (stream === null || typeof stream !== 'object' || typeof (stream as MediaStream).getTracks !== 'function' || typeof (stream as MediaStream).id !== 'string') {
    throw roomError('stream must be a MediaStream', RoomErrorCode.INVALID_OPTION)
  }
  if (managed !== undefined && typeof managed !== 'boolean') throw roomError('managed must be a boolean', RoomErrorCode.INVALID_OPTION)
  return { label: checked, stream: stream as MediaStream, managed: managed === true }
}

/** Stops every track of a stream (a managed stream being let go). */
export function stopTracks (stream: MediaStream): void {
  for (const track of stream.getTracks()) {
    try { track.stop() } catch { /* already stopped */ }
  }
}

/** The events a peer's link reports to its room. */
export type LinkEvent =
  | { readonly type: 'channel:new' | 'channel:open' | 'channel:close', readonly label: string }
  | { readonly type: 'stream:add' | 'stream:remove', readonly label: string, readonly stream: MediaStream }
  | { readonly type: 'track:add' | 'track:remove', readonly label: string, readonly track: MediaStreamTrack, readonly stream: MediaStream }

/** What a `PeerLink` needs from its room peer. */
export interface PeerLinkHost {
  /** The connection. */
  readonly peer: Peer
  /** Whether this side is the pair's initiator (it allocates channel ids). */
  readonly initiator: boolean
  /** Sends a `CONTROL` frame on the main channel (dropped once closed). */
  sendFrame (frame: Uint8Array): void
  /** Frames that arrived on a labelled channel, for the same reassembly as the main channel's. */
  frames (bytes: Uint8Array): void
  /** Transfers still being written on `queue` fail with `error` (its channel closed). */
  queueClosed (queue: SendQueue, error: RoomError): void
  /** Transfer `transfer` went out whole on an unreliable channel. */
  unreliableSent (transfer: number): void
  /** Reports an event to the room. */
  event (event: LinkEvent): void
  /** Logs. */
  debug (format: string, ...args: unknown[]): void
}

/** Room-wide state every peer link starts from once connected. */
export interface RoomLinkState {
  /** Labels the room opened, with their delivery options. */
  readonly channels: ReadonlyMap<string, ChannelDelivery>
  /** Streams the room shares, by label. */
  readonly shares: ReadonlyMap<string, MediaStream>
}

/** The part of a room peer that works over the connection once it is up (see the module comment). */
export class PeerLink {
  private live = false
  private stopped = false
  readonly channels: PeerChannels
  readonly media: PeerMedia

  constructor (private readonly host: PeerLinkHost, private readonly room: () => RoomLinkState) {
    this.channels = new PeerChannels({
      initiator: host.initiator,
      pc: () => host.peer._pc,
      control: message => this.control(message),
      frames: bytes => host.frames(bytes),
      event: (type, label) => host.event({ type: `channel:${type}`, label }),
      queueClosed: (queue, error) => host.queueClosed(queue, error),
      unreliableSent: transfer => host.unreliableSent(transfer),
      debug: (format, ...args) => host.debug(format, ...args)
    })
    this.media = new PeerMedia({
      peer: host.peer,
      control: message => this.control(message),
      stream: (op, label, stream) => host.event({ type: `stream:${op}`, label, stream }),
      track: (op, label, track, stream) => host.event({ type: `track:${op}`, label, track, stream }),
      debug: (format, ...args) => host.debug(format, ...args)
    })
    host.peer.on('track', (track: MediaStreamTrack, stream: MediaStream) => { if (!this.stopped) this.media.onTrack(track, stream) })
  }

  /**
   * Signaling data of the `Peer`: sent over the connection once it is up
   * (`true`); `false` before (the room sends it through the broker).
   */
  signal (data: SignalData): boolean {
    if (!this.live || this.stopped) return false
    const frame = encodeControl(encodeLinkMessage({ type: 'rtc-signal', data }))
    if (frame.byteLength > MAX_FRAME_SIZE) {
      this.host.debug('signal of %d bytes too large for a frame: sent through the broker', frame.byteLength)
      return false
    }
    this.host.sendFrame(frame)
    return true
  }

  /** The connection is up: from now on signaling goes over it; what the room opened and shares follows. */
  connected (): void {
    if (this.live || this.stopped) return
    this.live = true
    const room = this.room()
    for (const [label, delivery] of room.channels) this.channels.open('frames', label, delivery)
    for (const [label, stream] of room.shares) {
      try {
        this.media.share(label, stream)
      } catch (err) {
        this.host.debug('share %s: %s', label, err instanceof Error ? err.message : String(err))
      }
    }
    this.channels.connected()
    this.media.connected()
  }

  /**
   * A control payload from the remote: handled if it is one of this
   * module's (`true`), else left to the room peer (`false`).
   */
  onControl (payload: Uint8Array): boolean {
    const message = parseLinkMessage(payload)
    if (!message) return false
    if (this.stopped) return true
    switch (message.type) {
      case 'rtc-signal':
        if (!this.host.peer.destroyed) this.host.peer.signal(message.data)
        return true
      case 'rtc-channel':
        this.channels.onMessage(message)
        return true
      case 'rtc-media':
        this.media.onMessage(message)
        return true
    }
  }

  /**
   * Where a transfer goes: its label's channel queue, `null` for the main
   * channel, or an `ERR_UNRELIABLE_MESSAGE` error for a message an
   * unreliable channel cannot carry.
   */
  route (outgoing: Outgoing): SendQueue | RoomError | null {
    const route = this.channels.route(outgoing.labelText)
    if (!route) return null
    if (isUnreliable(route.delivery)) {
      const total = outgoing.total
      if (total === null || total > MAX_UNRELIABLE_PAYLOAD) {
        return roomError(`label ${outgoing.labelText} is an unreliable channel: it carries only messages of up to ${MAX_UNRELIABLE_PAYLOAD} bytes, not ${total === null ? 'streams' : `${total} bytes`}`, RoomErrorCode.UNRELIABLE_MESSAGE)
      }
    }
    return route.queue
  }

  /** The byte stream of `label` to this peer (see {@link ChannelStream}). */
  pipe (label: string): ChannelStream {
    if (this.stopped) throw roomError('the connection is closed', RoomErrorCode.PEER_CLOSED)
    return this.channels.pipe(label)
  }

  /** The connection is gone. */
  stop (): void {
    if (this.stopped) return
    this.stopped = true
    this.channels.stop(roomError('the connection closed', RoomErrorCode.PEER_CLOSED))
    this.media.stop()
  }

  private control (message: LinkMessage): void {
    if (this.stopped) return
    this.host.sendFrame(encodeControl(encodeLinkMessage(message)))
  }
}

/** A `room.ready()` waiting. */
interface ReadyWaiter {
  readonly done: () => boolean
  readonly resolve: () => void
  readonly reject: (error: RoomError) => void
}

/** The room-wide side: labels opened, streams shared, `ready()` waiters. */
export class RoomLinks implements RoomLinkState {
  /** Labels the room opened. */
  readonly channels = new Map<string, ChannelDelivery>()
  /** Streams the room shares, by label. */
  readonly shares = new Map<string, MediaStream>()
  /** Labels whose stream the room stops when it lets it go. */
  private readonly managed = new Set<string>()
  private waiters: ReadyWaiter[] = []

  /** Remembers a shared stream; returns the stream it replaces, if any. */
  share (label: string, stream: MediaStream, managed: boolean): MediaStream | undefined {
    const previous = this.shares.get(label)
    this.shares.set(label, stream)
    if (managed) this.managed.add(label)
    else this.managed.delete(label)
    return previous
  }

  /** Whether the stream shared under `label` is managed. */
  isManaged (label: string): boolean {
    return this.managed.has(label)
  }

  /** Forgets `label`; returns its stream and whether it was managed. */
  unshare (label: string): { stream: MediaStream, managed: boolean } | null {
    const stream = this.shares.get(label)
    if (!stream) return null
    const managed = this.managed.has(label)
    this.shares.delete(label)
    this.managed.delete(label)
    return { stream, managed }
  }

  /** Waits for `done()` (checked now and on each {@link check}). */
  wait (done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ done, resolve, reject }))
  }

  /** Something changed: resolves the waiters that are done. */
  check (): void {
    if (this.waiters.length === 0) return
    const waiting = this.waiters
    this.waiters = []
    for (const waiter of waiting) {
      if (waiter.done()) waiter.resolve()
      else this.waiters.push(waiter)
    }
  }

  /** The room left: waiters reject; managed streams are stopped. */
  stop (error: RoomError): void {
    const waiting = this.waiters
    this.waiters = []
    for (const waiter of waiting) waiter.reject(error)
    for (const label of this.managed) {
      const stream = this.shares.get(label)
      if (stream) stopTracks(stream)
    }
    this.managed.clear()
    this.shares.clear()
    this.channels.clear()
  }
}
