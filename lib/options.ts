/**
 * The options of `new Peer(opts)`, and the plain types of the Peer's public
 * API (what `send()` takes, what `address()` returns).
 */
import type { DuplexOptions } from 'readable-stream'
import type { WebRTCImplementation } from './webrtc'

/**
 * Options of `new Peer(opts)`. Every one is optional. Any other option is
 * passed to the underlying `Duplex` stream (from `readable-stream`), e.g.
 * `highWaterMark`, `readableObjectMode` or `writableObjectMode`; as in
 * simple-peer, `allowHalfOpen` defaults to `false`: when one side ends, the
 * whole connection closes.
 *
 * @example
 * ```js
 * const peer = new Peer({
 *   initiator: location.hash === '#init',
 *   config: { iceServers: [{ urls: 'stun:stun.example.com:3478' }] },
 *   objectMode: true
 * })
 * ```
 */
export interface PeerOptions extends DuplexOptions {
  /**
   * Whether this peer starts the connection (makes the offer). Exactly one of
   * the two peers must be the initiator.
   * @defaultValue `false`
   */
  initiator?: boolean
  /**
   * Options of the data channel (`RTCDataChannelInit`: `ordered`,
   * `maxRetransmits`, `negotiated`, `id`, ...).
   * @defaultValue {@link Peer.channelConfig} (`{}`)
   */
  channelConfig?: RTCDataChannelInit
  /**
   * Label of the data channel. Only the initiator's is used; the other peer
   * takes the label of the channel it receives.
   * @defaultValue 20 random bytes, as 40 hex digits (`crypto.getRandomValues()`)
   */
  channelName?: string
  /**
   * `RTCPeerConnection` configuration. Its keys are merged over
   * {@link Peer.config}, so giving `iceServers` replaces the default STUN
   * servers (`iceServers: []` uses none). An invalid ICE server list gives
   * `ERR_PC_CONSTRUCTOR`.
   * @defaultValue {@link Peer.config}: two public STUN servers
   * @example A TURN server, for peers behind symmetric NATs
   * ```js
   * new Peer({ config: { iceServers: [{ urls: 'turn:turn.example.com:3478', username: 'user', credential: 'secret' }] } })
   * ```
   */
  config?: RTCConfiguration
  /**
   * Options given to `createOffer()`.
   * @defaultValue `{}`
   */
  offerOptions?: RTCOfferOptions
  /**
   * Options given to `createAnswer()`.
   * @defaultValue `{}`
   */
  answerOptions?: RTCAnswerOptions
  /**
   * Rewrites each local SDP before it is applied and signaled. If it throws
   * or returns invalid SDP, the peer fails with `ERR_CREATE_OFFER` /
   * `ERR_CREATE_ANSWER` or `ERR_SET_LOCAL_DESCRIPTION`.
   * @defaultValue `sdp => sdp` (unchanged)
   * @example Stereo Opus
   * ```js
   * new Peer({ sdpTransform: sdp => sdp.replace('useinbandfec=1', 'useinbandfec=1; stereo=1') })
   * ```
   */
  sdpTransform?: (sdp: string) => string
  /**
   * A media stream to send from the start.
   * @defaultValue `undefined`: no media
   * @example
   * ```js
   * const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true })
   * const peer = new Peer({ initiator: true, stream })
   * ```
   */
  stream?: MediaStream
  /**
   * Media streams to send from the start (takes precedence over `stream`).
   * @defaultValue `[]`
   */
  streams?: MediaStream[]
  /**
   * Send ICE candidates in `signal` events as they are found (`true`), or
   * wait for gathering to end and signal one SDP with the candidates inside.
   * @defaultValue `true`
   */
  trickle?: boolean
  /**
   * With `trickle: false`, keep the `a=ice-options:trickle` line in the SDP,
   * so a trickling remote may still send candidates.
   * @defaultValue `false`
   */
  allowHalfTrickle?: boolean
  /**
   * With `trickle: false`, how long (ms) to wait for ICE gathering before
   * signaling with the candidates found so far (an `iceTimeout` event is
   * emitted).
   * @defaultValue `5000`
   */
  iceCompleteTimeout?: number
  /**
   * How long (ms) ICE may stay `disconnected` before the peer is destroyed with
   * `ERR_ICE_CONNECTION_FAILURE`. `0` waits for the implementation to report
   * `failed` (as simple-peer does). Not in simple-peer.
   * @defaultValue `5000`
   */
  disconnectTimeout?: number
  /**
   * Striped streams: how many `RTCPeerConnection`s (this peer's own
   * included, at most 8) the stream may be carried over, or `'auto'` to add
   * them while throughput keeps rising (never on loopback-class round trips).
   * Only between two duplex-peers that both allow more than 1, and then the
   * smaller count is used; the extra connections are signaled inside the
   * first one, so nothing changes for signaling. The application still sees
   * one stream, in order; media stays on the first connection. Worth it on
   * long or lossy paths, where one connection's SCTP window caps throughput.
   * Counts above 8 mean 8; anything other than a number of at least 1 or
   * `'auto'` means 1. Not in simple-peer.
   * @defaultValue `1` (one connection, exactly as without the option)
   * @example
   * ```js
   * const peer = new Peer({ initiator: true, stripes: 4 })
   * ```
   */
  stripes?: number | 'auto'
  /**
   * A WebRTC implementation: an object with `RTCPeerConnection`, and
   * optionally `RTCSessionDescription` and `RTCIceCandidate`.
   * @defaultValue the browser's; in Node, `@roamhq/wrtc` (loaded on first need)
   * @example
   * ```js
   * const wrtc = require('@roamhq/wrtc')
   * const peer = new Peer({ wrtc })
   * ```
   */
  wrtc?: WebRTCImplementation
  /**
   * Keep message boundaries: each write is sent as one message, and each
   * message arrives as one `data` event (a string if it was sent as a
   * string, otherwise a Buffer), instead of a byte stream.
   * @defaultValue `false`
   * @example
   * ```js
   * const peer = new Peer({ objectMode: true })
   * peer.on('data', message => console.log(typeof message)) // 'string' for a string sent
   * ```
   */
  objectMode?: boolean
}

/** What `send()` accepts. */
export type SendData = string | ArrayBuffer | ArrayBufferView | Blob

/** The local address of the connection, as `address()` returns it. */
export interface AddressInfo {
  /** Local port of the selected candidate pair; `undefined` until `connect`. */
  port: number | undefined
  /** `'IPv4'` or `'IPv6'`; `undefined` until `connect`. */
  family: string | undefined
  /** Local IP address of the selected candidate pair; `undefined` until `connect`. */
  address: string | undefined
}
