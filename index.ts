/**
 * duplex-peer: a WebRTC peer as a Node duplex stream, with simple-peer 9.x's API.
 *
 * `require('duplex-peer')` returns the {@link Peer} constructor, as simple-peer's does;
 * `import Peer from 'duplex-peer'` works too. Types are under the `Peer` namespace
 * (`Peer.Options`, `Peer.Signal`, `Peer.Error`, ...).
 */
import { Peer } from './lib/peer'

export = Peer
