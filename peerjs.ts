/**
 * duplex-peer/peerjs: PeerJS 1.5's `Peer` API, in Node and in browsers, on
 * duplex-peer's engine. Talks to any PeerServer (the `peer` package, or
 * `duplex-peer/server`) and interoperates with PeerJS clients.
 *
 * @example
 * ```js
 * const { Peer } = require('duplex-peer/peerjs')
 * const peer = new Peer({ host: 'localhost', port: 9000 })
 * peer.on('connection', conn => conn.on('data', data => console.log(data)))
 * ```
 */
export { Peer, validateId, supportsWebRTC, CLOUD_HOST, type PeerJSOptions as PeerOptions, type Connection } from './lib/peerjs/peer'
export { DataConnection, type DataConnectionOptions } from './lib/peerjs/data-connection'
export { MediaConnection, type CallOptions, type AnswerOptions } from './lib/peerjs/media-connection'
export { PeerError, PeerErrorType, ConnectionErrorType, type PeerErrorTypeValue, type ConnectionErrorTypeValue } from './lib/peerjs/errors'
export { LogLevel } from './lib/peerjs/logger'
export { pack, unpack, type Packable, type UnpackOptions } from './lib/peerjs/binarypack'
export { CHUNK_SIZE } from './lib/peerjs/chunks'
export type { Serialization } from './lib/peerjs/serialization'
export type { WebRTCImplementation } from './lib/webrtc'
