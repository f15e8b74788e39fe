/**
 * Media bookkeeping: which sender carries which (track, stream) pair, and
 * which remote streams and tracks have been announced.
 */
import { makeError, ErrorCode } from './errors'

interface SenderEntry {
  sender: RTCRtpSender
  removed: boolean
}

export class MediaSenders {
  /** track → stream → sender. */
  private readonly senders = new Map<MediaStreamTrack, Map<MediaStream, SenderEntry>>()
  /** Senders whose removal had to wait for a stable signaling state. */
  private awaitingStable: RTCRtpSender[] = []

  /**
   * Adds `track` of `stream` to `pc`. Throws `ERR_SENDER_ALREADY_ADDED` if
   * that pair is being sent already. A pair that was removed may be added
   * again (simple-peer refused that with `ERR_SENDER_REMOVED`).
   */
  add (pc: RTCPeerConnection, track: MediaStreamTrack, stream: MediaStream): void {
    const byStream = this.senders.get(track) ?? new Map<MediaStream, SenderEntry>()
    const entry = byStream.get(stream)
    if (entry && !entry.removed) throw makeError('Track has already been added to that stream.', ErrorCode.SENDER_ALREADY_ADDED)
    const sender = pc.addTrack(track, stream)
    byStream.set(stream, { sender, removed: false })
    this.senders.set(track, byStream)
  }

  /** The sender of `track` in `stream`; throws `ERR_TRACK_NOT_ADDED` if there is none. */
  get (track: MediaStreamTrack, stream: MediaStream): RTCRtpSender {
    const entry = this.senders.get(track)?.get(stream)
    if (!entry) throw makeError('Cannot find a sender for that track and stream: it was never added.', ErrorCode.TRACK_NOT_ADDED)
    return entry.sender
  }

  /** From now on `newTrack` answers for the sender that carried `oldTrack`. */
  rename (oldTrack: MediaStreamTrack, newTrack: MediaStreamTrack | null): void {
    const byStream = this.senders.get(oldTrack)
    if (byStream && newTrack) this.senders.set(newTrack, byStream)
  }

  /**
   * Removes `track` of `stream` from `pc`. If the implementation asks to wait
   * for a stable state, the removal is done later by {@link flushAwaitingStable}.
   */
  remove (pc: RTCPeerConnection, track: MediaStreamTrack, stream: MediaStream): void {
    const entry = this.senders.get(track)?.get(stream)
    if (!entry) throw makeError('Cannot remove track that was never added.', ErrorCode.TRACK_NOT_ADDED)
    entry.removed = true
    try {
      pc.removeTrack(entry.sender)
    } catch (err) {
      if ((err as { name?: string }).name === 'NS_ERROR_UNEXPECTED') this.awaitingStable.push(entry.sender)
      else throw makeError(err, ErrorCode.REMOVE_TRACK)
    }
  }

  /** Does the removals that waited for a stable state; true if there were any. */
  flushAwaitingStable (pc: RTCPeerConnection): boolean {
    if (this.awaitingStable.length === 0) return false
    const waiting = this.awaitingStable
    this.awaitingStable = []
    for (const sender of waiting) {
      try { pc.removeTrack(sender) } catch { /* already gone */ }
    }
    return true
  }

  /** Forgets everything. */
  clear (): void {
    this.senders.clear()
    this.awaitingStable = []
  }
}

/** Remote streams and tracks already announced, so each is announced once. */
export class RemoteMedia {
  private readonly streams = new Set<string>()
  private readonly tracks = new Set<string>()

  /** True the first time a stream id is seen. */
  isNewStream (stream: MediaStream): boolean {
    if (this.streams.has(stream.id)) return false
    this.streams.add(stream.id)
    return true
  }

  /** True the first time a (track, stream) pair is seen. */
  isNewTrack (track: MediaStreamTrack, stream: MediaStream): boolean {
    const key = `${track.id}\u0000${stream.id}`
    if (this.tracks.has(key)) return false
    this.tracks.add(key)
    return true
  }

  /** Forgets everything. */
  clear (): void {
    this.streams.clear()
    this.tracks.clear()
  }
}

/**
 * Throws `ERR_FOREIGN_MEDIA` if `track` or `stream` was not made by `wrtc`
 * (when `wrtc` exposes its `MediaStreamTrack` / `MediaStream` classes, as
 * `@roamhq/wrtc` does). libwebrtc cannot send media objects of another copy of
 * the library, and an application with two copies installed would otherwise
 * get nothing from the far end and no word of why.
 */
export function checkOwnMedia (wrtc: { MediaStreamTrack?: unknown, MediaStream?: unknown }, track: MediaStreamTrack, stream: MediaStream): void {
  const foreign = (value: unknown, Ctor: unknown): boolean => typeof Ctor === 'function' && !(value instanceof Ctor)
  if (foreign(track, wrtc.MediaStreamTrack) || foreign(stream, wrtc.MediaStream)) {
    throw makeError(
      'This track or stream was made by another WebRTC implementation than the peer uses (two copies of the wrtc package?): ' +
      'create the peer with the `wrtc` option set to the copy that made the media',
      ErrorCode.FOREIGN_MEDIA
    )
  }
}
