/**
 * Media of one connection, by label. Sharing a `MediaStream` under a label
 * tells the remote the label of the stream's id (`rtc-media` `add`, a
 * control message), then adds its tracks to the `Peer`, whose renegotiation
 * (offers made by the initiator only, over the connection once connected)
 * carries them. The control message goes first on the same ordered channel
 * as the renegotiation, so the remote knows the label before the tracks
 * arrive; tracks that arrive before their label (shared before the
 * connection was up) wait for it.
 */
import type { Peer } from '../peer'
import type { LinkMessage } from './link-messages'

/** Most remote streams a connection keeps track of (labels told ahead of their tracks included). */
const MAX_REMOTE_STREAMS = 256

/** What the media of a connection need from their room peer. */
export interface MediaHost {
  /** The connection. */
  readonly peer: Peer
  /** Sends a control message to the remote. */
  control (message: LinkMessage): void
  /** A remote stream was shared with us (`add`) or stopped (`remove`). */
  stream (op: 'add' | 'remove', label: string, stream: MediaStream): void
  /** A track of a remote stream arrived (`add`), or its stream stopped (`remove`). */
  track (op: 'add' | 'remove', label: string, track: MediaStreamTrack, stream: MediaStream): void
  /** Logs. */
  debug (format: string, ...args: unknown[]): void
}

/** A stream this side shares on the connection. */
interface LocalShare {
  readonly stream: MediaStream
  /** Whether its tracks were given to the `Peer` (and the label told). */
  sent: boolean
}

/** A stream the remote shares. */
interface RemoteShare {
  label: string | null
  stream: MediaStream | null
  /** Tracks announced with `track:add`. */
  readonly announced: Set<MediaStreamTrack>
  /** Tracks arrived, not yet announced. */
  readonly fresh: MediaStreamTrack[]
  /** Whether `stream:add` was emitted. */
  added: boolean
}

/** The media of one connection (see the module comment). */
export class PeerMedia {
  private readonly local = new Map<string, LocalShare>()
  private readonly remote = new Map<string, RemoteShare>()
  private live = false
  private flushing = false

  constructor (private readonly host: MediaHost) {}

  /** The labels this side shares on the connection, with their streams. */
  get shared (): ReadonlyMap<string, MediaStream> {
    return new Map([...this.local].map(([label, share]) => [label, share.stream]))
  }

  /** The streams the remote shares with us (announced with `stream:add`), by label. */
  get received (): ReadonlyMap<string, MediaStream> {
    const streams = new Map<string, MediaStream>()
    for (const share of this.remote.values()) {
      if (share.added && share.label !== null && share.stream) streams.set(share.label, share.stream)
    }
    return streams
  }

  /** Whether `label` is shared with the same stream already. */
  has (label: string, stream: MediaStream): boolean {
    return this.local.get(label)?.stream === stream
  }

  /**
   * Shares `stream` under `label` (replacing what the label shared). Sent
   * now if connected, else once connected. Throws the `Peer`'s coded errors
   * (e.g. `ERR_SENDER_ALREADY_ADDED` for a stream shared under another label).
   */
  share (label: string, stream: MediaStream): void {
    const current = this.local.get(label)
    if (current?.stream === stream) return
    if (current) this.unshare(label)
    const share: LocalShare = { stream, sent: false }
    this.local.set(label, share)
    if (this.live) this.send(label, share)
  }

  /** Stops sharing `label`; `false` if it was not shared. */
  unshare (label: string): boolean {
    const share = this.local.get(label)
    if (!share) return false
    this.local.delete(label)
    if (share.sent && !this.host.peer.destroyed) {
      this.host.control({ type: 'rtc-media', op: 'remove', label, stream: share.stream.id })
      try {
        this.host.peer.removeStream(share.stream)
      } catch (err) {
        this.host.debug('unshare %s: %s', label, err instanceof Error ? err.message : String(err))
      }
    }
    return true
  }

  /** The connection is up: what was shared before goes out. */
  connected (): void {
    if (this.live) return
    this.live = true
    for (const [label, share] of this.local) {
      if (share.sent) continue
      try {
        this.send(label, share)
      } catch (err) {
        this.local.delete(label)
        this.host.debug('share %s failed: %s', label, err instanceof Error ? err.message : String(err))
      }
    }
  }

  /** A control message about media from the remote. */
  onMessage (message: Extract<LinkMessage, { type: 'rtc-media' }>): void {
    const share = this.remote.get(message.stream)
    if (message.op === 'add') {
      if (!share && this.remote.size >= MAX_REMOTE_STREAMS) {
        this.host.debug('media label for stream %s dropped: %d streams known', message.stream, MAX_REMOTE_STREAMS)
        return
      }
      const entry = share ?? this.newRemote()
      if (entry.label !== null && entry.label !== message.label && entry.added) this.removeRemote(message.stream, entry)
      const fresh = entry.added && entry.label !== message.label ? this.newRemote() : entry
      fresh.label = message.label
      this.remote.set(message.stream, fresh)
      this.schedule()
      return
    }
    if (!share || share.label !== message.label) return
    this.removeRemote(message.stream, share)
  }

  /** A remote track arrived (the `Peer`'s `track` event). */
  onTrack (track: MediaStreamTrack, stream: MediaStream): void {
    const entry = this.remote.get(stream.id) ?? this.newRemote()
    this.remote.set(stream.id, entry)
    entry.stream = stream
    if (entry.announced.has(track) || entry.fresh.includes(track)) return
    entry.fresh.push(track)
    this.schedule()
  }

  /** Forgets everything (the connection is gone). */
  stop (): void {
    this.live = false
    this.local.clear()
    this.remote.clear()
  }

  private send (label: string, share: LocalShare): void {
    this.host.control({ type: 'rtc-media', op: 'add', label, stream: share.stream.id })
    this.host.peer.addStream(share.stream)
    share.sent = true
  }

  private newRemote (): RemoteShare {
    return { label: null, stream: null, announced: new Set(), fresh: [], added: false }
  }

  private removeRemote (id: string, share: RemoteShare): void {
    if (this.remote.get(id) === share) this.remote.delete(id)
    if (!share.added || share.label === null || !share.stream) return
    for (const track of share.announced) this.host.track('remove', share.label, track, share.stream)
    this.host.stream('remove', share.label, share.stream)
  }

  /** Announces what arrived, a microtask later: the tracks of one negotiation arrive together. */
  private schedule (): void {
    if (this.flushing) return
    this.flushing = true
    queueMicrotask(() => {
      this.flushing = false
      this.flush()
    })
  }

  private flush (): void {
    for (const share of [...this.remote.values()]) {
      if (share.label === null || !share.stream || share.fresh.length === 0) continue
      const label = share.label
      const stream = share.stream
      if (!share.added) {
        share.added = true
        this.host.stream('add', label, stream)
      }
      const fresh = share.fresh.splice(0)
      for (const track of fresh) {
        share.announced.add(track)
        this.host.track('add', label, track, stream)
      }
    }
  }
}
