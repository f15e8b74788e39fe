/**
 * A WebRTC peer as a Node.js Duplex stream, with simple-peer 9.x's API.
 *
 * `require('duplex-peer')` returns the {@link Peer} constructor itself, as
 * simple-peer's does; from ES modules and TypeScript, use the default import.
 * The types are also reachable through the {@link Peer} namespace:
 * `Peer.Options`, `Peer.Signal`, `Peer.Error`, `Peer.Code`, `Peer.Data`,
 * `Peer.WebRTC` and `Peer.Stats`.
 *
 * ```js
 * const Peer = require('duplex-peer')   // CommonJS
 * import Peer from 'duplex-peer'        // ES modules, TypeScript, bundlers
 * ```
 *
 * In a page without a bundler, `<script src="duplex-peer.min.js">` defines the
 * globals `DuplexPeer` and `SimplePeer` (the latter unless the page has one).
 *
 * @example Two peers in one process
 * ```js
 * const Peer = require('duplex-peer')
 * const alice = new Peer({ initiator: true })
 * const bob = new Peer()
 * // Carry every signal to the other peer, by any means (here: directly).
 * alice.on('signal', data => bob.signal(data))
 * bob.on('signal', data => alice.signal(data))
 * alice.on('connect', () => alice.write('hello, bob'))
 * bob.on('data', data => console.log(String(data)))
 * ```
 *
 * @packageDocumentation
 */
// The documentation's entry point (npm run docs). The package's own entry,
// index.ts, is `export = Peer`; this file names the same declarations so that
// every type a peer's API refers to is documented under its own name.
export { Peer } from '../../lib/peer'
export type { PeerOptions, SendData, AddressInfo } from '../../lib/peer'
export type { SignalData, SdpSignal, CandidateSignal, RenegotiateSignal, TransceiverRequestSignal } from '../../lib/signal'
export { ErrorCode } from '../../lib/errors'
export type { PeerError, ErrorCodeValue } from '../../lib/errors'
export type { WebRTCImplementation } from '../../lib/webrtc'
export type { StatsReport } from '../../lib/stats'
