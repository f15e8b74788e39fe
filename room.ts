/**
 * duplex-peer/room: peers meet by room id through a signaling driver, and
 * each pair connects directly with a duplex-peer `Peer`. See the README's
 * "Rooms" section.
 *
 * @example
 * ```js
 * const { Room, MemoryDriver } = require('duplex-peer/room')
 * const room = new Room({ id: 'lobby', driver: new MemoryDriver() })
 * room.on('channel:message', ({ peer, label, data }) => console.log(peer.id, label, data))
 * await room.join({ name: 'ann' })
 * room.send('hello everyone')
 * ```
 */
export { Room, type RoomOptions, type RoomSendOptions, type LocalPeer } from './lib/room/room'
export type {
  RoomEventMap, PeerEvent, FailedEvent, UpdateEvent, MessageEvent, MessageErrorEvent,
  ChannelEvent, StreamEvent, TrackEvent
} from './lib/room/events'
export type { ChannelOptions, ShareOptions } from './lib/room/link'
export { ChannelStream } from './lib/room/pipe'
export { Transfer, type TransferProgress, type TransferResult } from './lib/room/transfer'
export type { ReadableLike } from './lib/room/sources'
export { RoomPeer, DEFAULT_LABEL, type RoomPeerState, type SendOptions } from './lib/room/room-peer'
export type { Driver, DriverState, MessageHandler } from './lib/room/drivers/driver'
export { MemoryDriver, MemoryHub } from './lib/room/drivers/memory'
export { RoomErrorCode, type RoomError, type RoomErrorCodeValue } from './lib/room/errors'
export type { JsonValue } from './lib/room/protocol'
export type { VerifyFunction, VerifyInfo } from './lib/room/handshake'
export type { MessageData, ReceivedData } from './lib/room/messages'
export { IncomingMessage, IncomingData } from './lib/room/incoming'
export { RECEIVE_WINDOW, MAX_INFO_BYTES } from './lib/room/frames'
export { WebSocketDriver, type WebSocketDriverOptions } from './lib/room/drivers/websocket'
export { BroadcastChannelDriver, type BroadcastChannelDriverOptions, type BroadcastChannelLike } from './lib/room/drivers/broadcast-channel'
export { RedisDriver, type RedisDriverOptions } from './lib/room/drivers/redis'
export {
  NatsDriver, type NatsDriverOptions, type NatsConnectionLike, type NatsSubscriptionLike, type NatsMessageLike
} from './lib/room/drivers/nats'
