/**
 * The events of a `Room` and what each carries (`RoomEventMap`): one place
 * for the types an application listens with.
 */
import type { PeerError } from '../errors'
import type { RoomError } from './errors'
import type { JsonValue } from './protocol'
import type { RoomPeer } from './room-peer'
import type { IncomingMessage } from './incoming'

/** An event about one peer. */
export interface PeerEvent {
  /** The peer. */
  readonly peer: RoomPeer
}

/** `connection:failed`: the connection failed, with why. */
export interface FailedEvent extends PeerEvent {
  /** Why: `ERR_CONNECTION_TIMEOUT`, or the `Peer`'s error. */
  readonly error: RoomError | PeerError
}

/** `peer:update`: a peer's metadata changed. */
export interface UpdateEvent extends PeerEvent {
  /** The new metadata (also `peer.metadata`). */
  readonly metadata: JsonValue
}

/**
 * `channel:message`: a message is arriving (emitted at its start, before
 * its payload): `{ peer, label, info, total, data, accept(), decline(), cancel() }`,
 * where `data` is a web `ReadableStream` of the bytes that is also a Promise
 * of the whole value. See {@link IncomingMessage}.
 */
export type MessageEvent = IncomingMessage

/** `channel:error`: a message being received failed (e.g. the sender aborted it: `ERR_TRANSFER_ABORTED`). */
export interface MessageErrorEvent extends PeerEvent {
  /** The label it was sent with. */
  readonly label: string
  /** Why it failed. */
  readonly error: RoomError
}

/** `channel:new`, `channel:open`, `channel:close`: a labelled channel to a peer was made, opened or closed. */
export interface ChannelEvent extends PeerEvent {
  /** The channel's label. */
  readonly label: string
}

/** `stream:add`, `stream:remove`: a peer shared a stream with us, or stopped. */
export interface StreamEvent extends PeerEvent {
  /** The label it shares the stream under. */
  readonly label: string
  /** The remote stream. */
  readonly stream: MediaStream
}

/** `track:add`, `track:remove`: a track of a peer's shared stream arrived, or its stream stopped. */
export interface TrackEvent extends StreamEvent {
  /** The remote track. */
  readonly track: MediaStreamTrack
}

/** The events of a room and their arguments. */
export interface RoomEventMap {
  /** A peer is in the room (`room.peers` has it); replayed to a new listener for each peer already there. */
  'peer:join': [event: PeerEvent]
  /** A peer is gone from the room: it left, or its connection closed or failed. */
  'peer:leave': [event: PeerEvent]
  /** A peer's metadata changed (`updateMetadata()` on its side). */
  'peer:update': [event: UpdateEvent]
  /** A connection to a new peer was made (state `new`). */
  'connection:new': [event: PeerEvent]
  /** The connection is being established (state `connecting`). */
  'connection:connecting': [event: PeerEvent]
  /** The connection is up (state `connected`); messages flow. */
  'connection:connected': [event: PeerEvent]
  /** ICE lost the link (state `disconnected`); it may come back. */
  'connection:disconnected': [event: PeerEvent]
  /** The connection failed (state `failed`); `peer:leave` follows. */
  'connection:failed': [event: FailedEvent]
  /** The connection was closed (state `closed`): the peer left, or this room did. */
  'connection:closed': [event: PeerEvent]
  /**
   * A message is arriving: emitted at its start, before its payload. Read
   * `data` as a stream, await it whole, or `accept()`, `decline()` or
   * `cancel()` it (see {@link IncomingMessage}).
   */
  'channel:message': [event: MessageEvent]
  /**
   * A message being received failed for a reason this side did not ask for:
   * the sender aborted it (`ERR_TRANSFER_ABORTED`), the connection closed
   * (`ERR_PEER_CLOSED`), it broke the protocol (`ERR_TRANSFER_REFUSED`), or
   * it was read whole over `maxMessageSize` (`ERR_MESSAGE_TOO_LARGE`).
   */
  'channel:error': [event: MessageErrorEvent]
  /** A data channel of its own for a label was made to a peer (`room.open()` on either side). */
  'channel:new': [event: ChannelEvent]
  /** A labelled channel opened: messages with its label go on it from now on. */
  'channel:open': [event: ChannelEvent]
  /** A labelled channel closed (`room.close()` on either side, or the connection went). */
  'channel:close': [event: ChannelEvent]
  /** A peer shared a stream with us (`share()`); its tracks follow as `track:add`. */
  'stream:add': [event: StreamEvent]
  /** A peer stopped sharing a stream (`unshare()`, or a replacing `share()`). */
  'stream:remove': [event: StreamEvent]
  /** A track of a stream a peer shares arrived. */
  'track:add': [event: TrackEvent]
  /** A track of a stream a peer stopped sharing (before its `stream:remove`). */
  'track:remove': [event: TrackEvent]
  /**
   * Something failed after `join()` outside any one connection: the driver
   * could not publish (`ERR_DRIVER`), or a connection could not be made at all
   * (e.g. `ERR_WEBRTC_SUPPORT`). Emitted only if listened to.
   */
  error: [error: RoomError | PeerError]
}
