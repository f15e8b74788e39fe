/**
 * duplex-peer/server: a signaling server speaking the PeerServer protocol of
 * the `peer` package 1.x, which PeerJS 1.5 clients (and `duplex-peer/peerjs`) use.
 *
 * @example
 * ```js
 * const { PeerServer } = require('duplex-peer/server')
 * PeerServer({ port: 9000 })
 * ```
 */
export { PeerServer, attachPeerServer, PeerServerInstance, type PeerServerMessage } from './lib/server/server'
export type { PeerServerOptions, CorsOptions, ResolvedOptions, RoomRelayOptions, ResolvedRelayOptions } from './lib/server/options'
export type { PeerServerClient } from './lib/server/client'
export { MessageType, type MessageTypeValue } from './lib/peerserver-protocol'
export { Errors, type RelayedMessage } from './lib/server/protocol'
export type { RelayStats } from './lib/server/relay'
export { RelayCloseCode, RelayOp } from './lib/room/drivers/relay-protocol'
