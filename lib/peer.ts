/**
 * The `Peer`: one RTCPeerConnection and its data channel as a Node Duplex
 * stream, with simple-peer 9.x's API. This file wires the parts together;
 * each concern lives in its own module.
 */
import { Duplex } from 'readable-stream'
import { Buffer } from 'buffer'
import createDebug = require('debug')
import {
  DEFAULT_CONFIG, ICE_COMPLETE_TIMEOUT, CHANNEL_HIGH_WATER_MARK, CHANNEL_LOW_WATER_MARK,
  DRAIN_POLL_INTERVAL, STREAM_CHUNK_SIZE, DEFAULT_MAX_MESSAGE_SIZE, DEBUG_NAMESPACE, DISCONNECT_TIMEOUT
} from './constants'
import { makeError, ErrorCode, type PeerError, type ErrorCodeValue } from './errors'
import { resolveWebRTC, isWebRTCImplementation, releaseConnection, type WebRTCImplementation } from './webrtc'
import { parseSignal, type SignalData } from './signal'
import { ChannelSender, sizeOf, type Message } from './sender'
import { IceCandidates } from './ice'
import { Negotiation } from './negotiation'
import { MediaSenders, RemoteMedia, checkOwnMedia } from './media'
import { checkConfiguration } from './validation'
import { FlowControl, CHANNEL_PROTOCOL, CONTROL_LABEL, CONTROL_GRACE } from './flow'
import { StripeManager, normaliseStripes, type StripeHost } from './stripes/manager'
import { STRIPE_LABEL } from './stripes/constants'
import { noStripesReply } from './stripes/messages'
import { collectStats, type StatsReport } from './stats'
import { DataChannelLink, readLabel, readProtocol } from './channel'
import { settleTransport, type SettleHost } from './settle'
import { lookupAddresses } from './addresses'
import { Timers } from './timers'
import { randomHex, call, rethrow } from './util'
import { endSides, endAfterClose } from './stream-end'
import type { PeerOptions, SendData, AddressInfo } from './options'
import { trackConnection } from './exit'

export type { PeerOptions, SendData, AddressInfo }

/** Where the connection stands. */
type Phase =
  /** Signaling and ICE under way. */
  | 'connecting'
  /** ICE and channel are up; the selected addresses are being read. */
  | 'resolving'
  /** `connect` has been emitted. */
  | 'connected'
  /** `end()` finished: the channel is closing. */
  | 'closing'
  /**
   * `destroy()` was called (the stream's `destroyed` is true); the teardown
   * runs one microtask later, as simple-peer's does.
   */
  | 'destroying'
  /** Torn down: the connection, the channel and every timer are released. */
  | 'closed'

const defaultConfig: RTCConfiguration = DEFAULT_CONFIG

/**
 * A WebRTC peer connection with a data channel, exposed as a Duplex stream.
 *
 * Besides the methods below, a peer has every method of a Node.js Duplex
 * stream: `write()`, `end()`, `pipe()`, `destroy()`, `setEncoding()`, ...
 * Writes made before `connect` are held and sent once connected; `end()`
 * closes the connection once everything written has been sent;
 * `destroy([err])` closes it at once (with `err`, an `error` event comes
 * first), and `close` follows in both cases. The events a peer emits are
 * listed under {@link Peer.on | on()}.
 *
 * @example
 * ```js
 * const Peer = require('duplex-peer')
 * const a = new Peer({ initiator: true })
 * const b = new Peer()
 * a.on('signal', data => b.signal(data))
 * b.on('signal', data => a.signal(data))
 * a.on('connect', () => a.write('hello'))
 * b.on('data', data => console.log(String(data)))
 * ```
 */
class Peer extends Duplex {
  /**
   * Default `RTCPeerConnection` configuration, under every peer's `config`
   * option. Assign to it to change the default for peers created afterwards.
   * @defaultValue `{ iceServers: [{ urls: ['stun:stun.l.google.com:19302', 'stun:global.stun.twilio.com:3478'] }], sdpSemantics: 'unified-plan' }`
   * @example
   * ```js
   * Peer.config = { iceServers: [{ urls: 'stun:stun.example.com:3478' }] }
   * ```
   */
  static config: RTCConfiguration = defaultConfig
  /**
   * Default data channel options, used when a peer has no `channelConfig`.
   * @defaultValue `{}`
   */
  static channelConfig: RTCDataChannelInit = {}
  private static webrtcSupportOverride: boolean | undefined

  /**
   * Whether a WebRTC implementation is available: the browser's, or `@roamhq/wrtc` in Node.
   * Reading it may load `@roamhq/wrtc`.
   * @example
   * ```js
   * if (!Peer.WEBRTC_SUPPORT) showMessage('This browser cannot make WebRTC connections.')
   * ```
   */
  static get WEBRTC_SUPPORT (): boolean {
    return Peer.webrtcSupportOverride ?? resolveWebRTC() !== null
  }

  /** Overrides the detection from then on (e.g. `false`, to test a page's fallback). */
  static set WEBRTC_SUPPORT (value: boolean) {
    Peer.webrtcSupportOverride = value
  }

  /** Short random id, used in debug logs. */
  readonly _id: string
  /** Whether this peer makes the offers. */
  readonly initiator: boolean
  /** Label of the data channel (`null` on the non-initiator until the channel arrives). */
  channelName: string | null
  /** Data channel options in use. */
  readonly channelConfig: RTCDataChannelInit
  /** Whether the data channel is negotiated out of band: `channelConfig.negotiated`, as given. */
  readonly channelNegotiated: boolean | undefined
  /** `RTCPeerConnection` configuration in use. */
  readonly config: RTCConfiguration
  /** Options given to `createOffer()`. */
  readonly offerOptions: RTCOfferOptions
  /** Options given to `createAnswer()`. */
  readonly answerOptions: RTCAnswerOptions
  /** Rewrites each local SDP. */
  readonly sdpTransform: (sdp: string) => string
  /** Media streams given at construction. */
  readonly streams: MediaStream[]
  /** Whether candidates are trickled: the `trickle` option as given (any falsy value turns trickle off), `true` when absent. */
  readonly trickle: boolean
  /** Whether the trickle option stays in non-trickle SDP: the option as given, `false` when absent. */
  readonly allowHalfTrickle: boolean
  /** ICE gathering timeout for non-trickle signaling (ms). */
  readonly iceCompleteTimeout: number
  /** How long ICE may stay disconnected before the peer gives up (ms; 0: never). */
  readonly disconnectTimeout: number
  /** Address of the remote end of the selected candidate pair, once connected. */
  remoteAddress: string | undefined = undefined
  /** Family (`'IPv4'` or `'IPv6'`) of {@link remoteAddress}. */
  remoteFamily: string | undefined = undefined
  /** Port of the remote end, once connected. */
  remotePort: number | undefined = undefined
  /** Local address of the selected candidate pair, once connected. */
  localAddress: string | undefined = undefined
  /** Family of {@link localAddress}. */
  localFamily: string | undefined = undefined
  /** Local port, once connected. */
  localPort: number | undefined = undefined
  /** The underlying connection (`null` once destroyed). */
  _pc: RTCPeerConnection | null = null

  private readonly wrtc: WebRTCImplementation | null
  private readonly log: createDebug.Debugger
  private phase: Phase = 'connecting'
  private iceReady = false
  private readonly sender: ChannelSender
  private readonly ice: IceCandidates
  private readonly negotiation: Negotiation
  private readonly flow: FlowControl
  private readonly media = new MediaSenders()
  private readonly remoteMedia = new RemoteMedia()
  private readonly link: DataChannelLink
  /** Striped streams (`stripes` option other than 1); `null`: one connection, as before. */
  private readonly stripes: StripeManager | null = null
  /** Every timer of the peer's own; the teardown clears them all. */
  private readonly timers = new Timers<'address' | 'settle' | 'disconnect'>()
  /** This initiator offered flow control to the other end (see flow.ts). */
  private announced = false

  /**
   * Creates a peer. Throws `ERR_WEBRTC_SUPPORT` if no WebRTC implementation is
   * found; other failures are emitted as `error` events.
   */
  constructor (opts: PeerOptions = {}) {
    const options: PeerOptions = { allowHalfOpen: false, ...opts }
    super(options)

    this._id = randomHex(4).slice(0, 7)
    this.log = createDebug(DEBUG_NAMESPACE)
    this.initiator = !!options.initiator
    this.channelName = this.initiator ? (options.channelName || randomHex(20)) : null
    this.channelConfig = options.channelConfig || Peer.channelConfig
    this.channelNegotiated = this.channelConfig.negotiated
    this.config = { ...Peer.config, ...options.config }
    this.offerOptions = options.offerOptions || {}
    this.answerOptions = options.answerOptions || {}
    this.sdpTransform = options.sdpTransform || (sdp => sdp)
    this.streams = options.streams || (options.stream ? [options.stream] : [])
    // Kept as given (`null` stays `null`), as simple-peer keeps them; only their truthiness is used.
    this.trickle = options.trickle !== undefined ? options.trickle : true
    this.allowHalfTrickle = options.allowHalfTrickle !== undefined ? options.allowHalfTrickle : false
    this.iceCompleteTimeout = options.iceCompleteTimeout || ICE_COMPLETE_TIMEOUT
    this.disconnectTimeout = typeof options.disconnectTimeout === 'number' && options.disconnectTimeout >= 0
      ? options.disconnectTimeout
      : DISCONNECT_TIMEOUT
    this._debug('new peer %o', { initiator: this.initiator, trickle: this.trickle })

    // `wrtc` absent, `undefined` or `null`: find one (bittorrent-tracker passes
    // `wrtc: undefined`). Given but unusable: a mistake, reported below as
    // simple-peer 9.11.1 reports it (`error` with ERR_PC_CONSTRUCTOR).
    const unusable = options.wrtc != null && !isWebRTCImplementation(options.wrtc)
    this.wrtc = unusable ? null : resolveWebRTC(options.wrtc)
    if (!this.wrtc && !unusable) {
      throw makeError(
        typeof window === 'undefined'
          ? 'No WebRTC support: Specify `opts.wrtc` option in this environment'
          : 'No WebRTC support: Not a supported browser',
        ErrorCode.WEBRTC_SUPPORT
      )
    }

    this.sender = new ChannelSender({
      chunkSize: STREAM_CHUNK_SIZE,
      highWaterMark: CHANNEL_HIGH_WATER_MARK,
      lowWaterMark: CHANNEL_LOW_WATER_MARK,
      pollInterval: DRAIN_POLL_INTERVAL,
      onError: err => this.destroy(err)
    }, DEFAULT_MAX_MESSAGE_SIZE)
    this.ice = new IceCandidates(this.iceHost())
    this.negotiation = new Negotiation(this.negotiationHost())
    this.flow = new FlowControl({
      sender: this.sender,
      debug: (format, ...args) => this._debug(format, ...args),
      consumed: received => {
        if (!this.readableObjectMode) return received - this.readableLength
        return this.readableLength === 0 ? received : null
      },
      opened: () => this.stripes?.controlOpened(),
      credited: n => this.stripes?.credited(n),
      creditDue: () => this.stripes?.creditDue() ?? false,
      creditSent: () => this.stripes?.creditSent(),
      other: message => {
        if (this.stripes) return this.stripes.onControl(message)
        const reply = noStripesReply(message)
        if (reply) this.flow.sendControl(reply)
      }
    })
    const stripes = normaliseStripes(options.stripes)
    if (stripes !== 1 && this.wrtc) this.stripes = new StripeManager(stripes, this.stripeHost())
    this.link = new DataChannelLink(this.channelHost())
    this.once('finish', () => this.closeGracefully())

    if (!this.wrtc) {
      this.destroy(makeError('The `wrtc` option has no usable RTCPeerConnection constructor: pass the WebRTC module itself (in Node, the exports of the wrtc package), or leave the option out', ErrorCode.PC_CONSTRUCTOR))
      return
    }
    const invalid = checkConfiguration(this.config)
    if (invalid) {
      this.destroy(makeError(invalid, ErrorCode.PC_CONSTRUCTOR))
      return
    }
    let pc: RTCPeerConnection
    try {
      pc = new this.wrtc.RTCPeerConnection(this.config)
    } catch (err) {
      this.destroy(makeError(err, ErrorCode.PC_CONSTRUCTOR))
      return
    }
    this._pc = pc
    trackConnection(pc) // exit safety (exit.ts): a natural exit must not crash in wrtc's finalizers
    pc.oniceconnectionstatechange = () => this.onIceStateChange()
    pc.onicegatheringstatechange = () => this.onIceStateChange()
    pc.onconnectionstatechange = () => this.onConnectionStateChange()
    pc.onsignalingstatechange = () => this.onSignalingStateChange()
    pc.onicecandidate = event => { if (!this.destroyed) this.ice.onLocalCandidate(event.candidate) }
    pc.ontrack = event => this.onTrack(event)

    try {
      pc.ondatachannel = event => this.onDataChannel(event.channel)
      if (this.initiator || this.channelNegotiated) {
        // The protocol tells a duplex-peer on the other end that it may open a control channel (see flow.ts).
        const announce = this.initiator && !this.channelNegotiated && !this.channelConfig.protocol
        const init = announce ? { ...this.channelConfig, protocol: CHANNEL_PROTOCOL } : this.channelConfig
        this.announced = announce
        if (!announce) this.stripes?.unavailable('no control channel with a negotiated or labelled channel')
        this.setupChannel(pc.createDataChannel(this.channelName ?? '', init))
      }
    } catch (err) {
      this.destroy(makeError(err, ErrorCode.DATA_CHANNEL))
      return
    }
    try {
      for (const stream of this.streams) this.addStream(stream)
    } catch (err) {
      const code = (err as PeerError).code === ErrorCode.FOREIGN_MEDIA ? ErrorCode.FOREIGN_MEDIA : ErrorCode.DATA_CHANNEL
      this.destroy(makeError(err, code))
      return
    }
    this._debug('initial negotiation')
    this.negotiation.needed()
  }

  /** The data channel (`null` until it exists, and once destroyed). */
  get _channel (): RTCDataChannel | null {
    return this.link.channel
  }

  /**
   * Whether `destroy()` has been called and the teardown, one microtask later,
   * has not run yet (as simple-peer's flag of the same name). Meanwhile
   * `send()`, `signal()` and the media methods do nothing.
   */
  get destroying (): boolean {
    return this.phase === 'destroying'
  }

  /** Bytes written but not yet sent: queued here plus the channel's own buffer. */
  get bufferSize (): number {
    return this.sender.pendingBytes + this.sender.inFlight
  }

  /** Whether the peer is connected and its data channel open. */
  get connected (): boolean {
    // In the tick of destroy(), a connected peer still says so, as simple-peer's does.
    const connected = this.phase === 'connected' || (this.phase === 'destroying' && this.sender.opened)
    return connected && this.link.isOpen
  }

  /** The local address of the connection, like `net.Socket#address()`. */
  address (): AddressInfo {
    return { port: this.localPort, family: this.localFamily, address: this.localAddress }
  }

  /**
   * Hands signaling data from the other peer to this one: an object emitted by
   * its `signal` event, or that object's JSON text. Invalid data destroys the
   * peer with `ERR_SIGNALING`; nothing is thrown. Ignored once destroyed.
   * @example
   * ```js
   * socket.on('message', text => peer.signal(text))     // JSON text or the parsed object
   * peer.on('signal', data => socket.send(JSON.stringify(data)))
   * ```
   */
  signal (data: SignalData | string | Record<string, unknown>): void {
    if (this.destroyed || !this._pc) {
      this._debug('signal() ignored: peer is destroyed')
      return
    }
    const parsed = parseSignal(data)
    if (!parsed) {
      this.destroy(makeError('signal() called with invalid signal data', ErrorCode.SIGNALING))
      return
    }
    this._debug('signal()')
    if (parsed.renegotiate && this.initiator) {
      this._debug(parsed.iceRestart ? 'got request to restart ICE' : 'got request to renegotiate')
      if (parsed.iceRestart === true) this.negotiation.restartIce()
      else this.negotiation.needed()
    }
    if (parsed.transceiverRequest && this.initiator) {
      this._debug('got request for a transceiver')
      this.addTransceiver(parsed.transceiverRequest.kind, parsed.transceiverRequest.init)
    }
    if (parsed.candidate) this.ice.addRemote(parsed.candidate)
    if (parsed.description) this.negotiation.setRemoteDescription(parsed.description)
  }

  /**
   * Sends one message over the data channel, keeping its boundary. Queued
   * until connected. Throws `ERR_MESSAGE_TOO_LARGE` for a message above the
   * channel's maximum size (the connection stays up), `ERR_INVALID_DATA` for a
   * value of another type, and `ERR_DESTROYED` after destroy.
   * @example
   * ```js
   * peer.send(JSON.stringify({ type: 'chat', text: 'hi' }))
   * peer.send(new Uint8Array([1, 2, 3]))
   * ```
   */
  send (chunk: SendData): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot send after peer is destroyed', ErrorCode.DESTROYED)
    const message = toMessage(chunk)
    const size = sizeOf(message)
    if (size > this.sender.messageLimit) {
      throw makeError(`message of ${size} bytes is larger than the channel's maximum of ${this.sender.messageLimit}`, ErrorCode.MESSAGE_TOO_LARGE)
    }
    this.sender.writeMessage(message)
  }

  /**
   * Adds an `RTCRtpTransceiver` (`kind` is `'audio'` or `'video'`). On the
   * non-initiator, this sends a request to the initiator, which adds it.
   * @example
   * ```js
   * peer.addTransceiver('video', { direction: 'recvonly' })
   * ```
   */
  addTransceiver (kind: string, init?: RTCRtpTransceiverInit): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot addTransceiver after peer is destroyed', ErrorCode.DESTROYED)
    this._debug('addTransceiver()')
    if (this.initiator) {
      try {
        this._pc!.addTransceiver(kind, init)
        this.negotiation.needed()
      } catch (err) {
        this.destroy(makeError(err, ErrorCode.ADD_TRANSCEIVER))
      }
    } else {
      this.emit('signal', { type: 'transceiverRequest', transceiverRequest: { kind, init } })
    }
  }

  /**
   * Sends every track of `stream`, then renegotiates.
   * @example
   * ```js
   * const stream = await navigator.mediaDevices.getUserMedia({ audio: true })
   * peer.addStream(stream)
   * ```
   */
  addStream (stream: MediaStream): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot addStream after peer is destroyed', ErrorCode.DESTROYED)
    this._debug('addStream()')
    for (const track of stream.getTracks()) this.addTrack(track, stream)
  }

  /**
   * Sends `track` as part of `stream`, then renegotiates. Throws
   * `ERR_SENDER_ALREADY_ADDED` if that pair is already being sent.
   */
  addTrack (track: MediaStreamTrack, stream: MediaStream): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot addTrack after peer is destroyed', ErrorCode.DESTROYED)
    this._debug('addTrack()')
    if (this.wrtc) checkOwnMedia(this.wrtc, track, stream)
    this.media.add(this._pc!, track, stream)
    this.negotiation.needed()
  }

  /**
   * Replaces `oldTrack` of `stream` with `newTrack` without renegotiating.
   * Throws `ERR_TRACK_NOT_ADDED` if `oldTrack` was never added to `stream`.
   * @example Switch cameras
   * ```js
   * const [newTrack] = (await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } })).getVideoTracks()
   * peer.replaceTrack(oldTrack, newTrack, stream)
   * ```
   */
  replaceTrack (oldTrack: MediaStreamTrack, newTrack: MediaStreamTrack | null, stream: MediaStream): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot replaceTrack after peer is destroyed', ErrorCode.DESTROYED)
    this._debug('replaceTrack()')
    const sender = this.media.get(oldTrack, stream)
    this.media.rename(oldTrack, newTrack)
    if (typeof sender.replaceTrack !== 'function') {
      this.destroy(makeError('replaceTrack is not supported in this browser', ErrorCode.UNSUPPORTED_REPLACETRACK))
      return
    }
    call(() => sender.replaceTrack(newTrack)).catch(err => this.destroy(makeError(err, ErrorCode.UNSUPPORTED_REPLACETRACK)))
  }

  /**
   * Stops sending `track` of `stream`, then renegotiates. Throws
   * `ERR_TRACK_NOT_ADDED` for a pair that was never added.
   */
  removeTrack (track: MediaStreamTrack, stream: MediaStream): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot removeTrack after peer is destroyed', ErrorCode.DESTROYED)
    this._debug('removeSender()')
    try {
      this.media.remove(this._pc!, track, stream)
    } catch (err) {
      if ((err as PeerError).code === ErrorCode.TRACK_NOT_ADDED) throw err
      this.destroy(err as PeerError)
      return
    }
    this.negotiation.needed()
  }

  /** Stops sending every track of `stream`. */
  removeStream (stream: MediaStream): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot removeStream after peer is destroyed', ErrorCode.DESTROYED)
    this._debug('removeStream()')
    for (const track of stream.getTracks()) this.removeTrack(track, stream)
  }

  /**
   * Starts a negotiation now (the non-initiator asks the initiator for one).
   * Changes to media negotiate by themselves; this is rarely needed.
   */
  negotiate (): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot negotiate after peer is destroyed', ErrorCode.DESTROYED)
    this.negotiation.negotiate()
  }

  /**
   * Restarts ICE on the same connection (new credentials, new candidates),
   * to heal a link that went `disconnected` or `failed` while the data
   * channel and media stay as they are. The initiator makes an offer with
   * `iceRestart`; the non-initiator asks the initiator for one (a
   * `renegotiate` signal with `iceRestart: true`). Signaling must work: the
   * new offer, answer and candidates travel through `signal` as usual. Not in
   * simple-peer: a simple-peer initiator takes the request as a plain
   * renegotiation. Throws `ERR_DESTROYED` once destroyed.
   */
  restartIce (): void {
    if (this.phase === 'destroying') return
    if (this.destroyed) throw makeError('cannot restartIce after peer is destroyed', ErrorCode.DESTROYED)
    this._debug('restartIce()')
    this.negotiation.restartIce()
  }

  /**
   * Connection statistics as flattened reports. Calls `cb(err, reports)` if
   * given, and returns a promise of the reports either way.
   * @example
   * ```js
   * const reports = await peer.getStats()
   * const pair = reports.find(r => r.type === 'candidate-pair' && r.nominated)
   * console.log(pair?.currentRoundTripTime)
   * ```
   */
  getStats (cb?: (err: Error | null, reports?: StatsReport[]) => void): Promise<StatsReport[]> {
    const pc = this._pc
    const stripes = this.stripes
    const result = pc
      ? call(() => collectStats(pc)).then(reports => stripes ? [...reports, stripes.stats() as unknown as StatsReport] : reports)
      : Promise.reject(makeError('cannot get stats after peer is destroyed', ErrorCode.DESTROYED))
    if (cb) {
      result.then(reports => cb(null, reports), (err: Error) => cb(err)).catch(rethrow)
      result.catch(() => {})
    }
    return result
  }

  /** Debug log line, prefixed with this peer's id. */
  _debug (format: string, ...args: unknown[]): void {
    this.log(`[${this._id}] ${format}`, ...args)
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _read (): void {
    // Messages are pushed as they arrive; nothing to fetch.
  }

  /**
   * Reads from the receive buffer (see `stream.Readable#read`). Every read,
   * including those `pipe()` and `data` listeners make, makes room that a
   * duplex-peer on the other end is told about (flow control, see flow.ts).
   */
  override read (size?: number): Buffer | string | null {
    // readable-stream's types say `any`: what was pushed, a Buffer or a string.
    const chunk = super.read(size) as Buffer | string | null
    this.flow?.reportConsumed()
    if (this.phase === 'closed') endAfterClose(this)
    return chunk
  }

  /**
   * Writes `chunk` (see `stream.Writable#write`). A write after `end()` fails
   * with `ERR_STREAM_WRITE_AFTER_END`, emitted as `error` and given to its
   * callback, as with simple-peer; the peer stays up, so everything written
   * before `end()` is still delivered.
   */
  override write (chunk: unknown, encoding?: string | ((error: Error | null | undefined) => void), cb?: (error: Error | null | undefined) => void): boolean {
    if (!this.writableEnded || this.destroyed) return super.write(chunk, encoding as string, cb)
    // readable-stream would destroy the peer with this error, dropping what is
    // still queued from before `end()`.
    const callback = typeof encoding === 'function' ? encoding : cb
    const err = makeError('write after end', ErrorCode.WRITE_AFTER_END)
    queueMicrotask(() => {
      this.emit('error', err)
      if (callback) callback(err)
    })
    return false
  }

  /** Ends the writable side (see `stream.Writable#end`); a chunk given after `end()` fails as a late {@link write} does. */
  override end (chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    if (this.writableEnded && !this.destroyed && chunk != null && typeof chunk !== 'function') {
      this.write(chunk)
      const callback = typeof encoding === 'function' ? encoding : cb
      return super.end(callback as (() => void) | undefined)
    }
    return super.end(chunk, encoding as string, cb as (() => void) | undefined)
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _write (chunk: unknown, _encoding: string, cb: (err?: Error | null) => void): void {
    this.enqueue([chunk], cb)
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _writev (chunks: Array<{ chunk: unknown, encoding: string }>, cb: (err?: Error | null) => void): void {
    this.enqueue(chunks.map(entry => entry.chunk), cb)
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _final (cb: (err?: Error | null) => void): void {
    if (this.phase === 'closing' || this.phase === 'closed' || !this._channel) return cb()
    const flush = (): void => this.sender.flush(err => {
      if (err || this.destroyed) return cb(this.destroyed ? null : err)
      // A duplex-peer confirms it has everything; with anyone else, wait for the transport to go quiet.
      this.flow.finish(acknowledged => {
        if (acknowledged || this.destroyed) cb()
        else settleTransport(this.settleHost(), () => cb())
      })
    })
    if (this.phase === 'connected') flush()
    else this.once('connect', flush)
  }

  /** Stream implementation (readable-stream calls it); not for applications. @internal */
  override _destroy (err: Error | null, cb: (err: Error | null) => void): void {
    this._debug('destroying (error: %s)', err && (err.message || err))
    // As in simple-peer, the teardown waits one microtask: events racing the
    // call still reach their handlers, and `_pc` and `_channel` stay readable
    // for the rest of the tick in which `destroy()` was called.
    this.phase = 'destroying'
    queueMicrotask(() => {
      endSides(this)
      this.tearDown()
      cb(err)
    })
  }

  /** Releases the connection, the channel and every timer; the peer is closed from here on. */
  private tearDown (): void {
    this._debug('destroy')
    this.phase = 'closed'
    this.iceReady = false
    this.timers.clearAll()
    this.negotiation?.stop()
    this.ice?.stop()
    this.sender?.close(makeError('peer was destroyed before this write was sent', ErrorCode.DESTROYED))
    this.flow?.stop()
    this.stripes?.close()
    this.media.clear()
    this.remoteMedia.clear()
    this.link?.detach()
    const pc = this._pc
    this._pc = null
    if (pc) releaseConnection(pc)
  }

  private enqueue (chunks: unknown[], cb: (err?: Error | null) => void): void {
    if (!this.readableObjectMode && !this.writableObjectMode) {
      this.sender.writeBytes(chunks as Uint8Array[], cb)
      return
    }
    let messages: Message[]
    try {
      messages = chunks.map(chunk => toMessage(chunk as SendData))
    } catch (err) {
      cb(err as PeerError)
      return
    }
    messages.forEach((message, i) => this.sender.writeMessage(message, i === messages.length - 1 ? cb : undefined))
  }

  private onDataChannel (channel: RTCDataChannel | null | undefined): void {
    if (this.destroyed) return
    if (channel && this._channel && readLabel(channel) === CONTROL_LABEL) {
      this.flow.attach(channel)
      return
    }
    if (channel && this._channel && this.stripes && readLabel(channel) === STRIPE_LABEL) {
      this.stripes.attachFrameChannel(channel)
      return
    }
    this.setupChannel(channel)
  }

  private setupChannel (channel: RTCDataChannel | null | undefined): void {
    if (this.destroyed) return
    if (!channel) {
      this.destroy(makeError('Data channel event is missing `channel` property', ErrorCode.DATA_CHANNEL))
      return
    }
    if (!this.link.attach(channel)) return
    this.channelName = channel.label
    this.sender.attach(channel)
    if (!this.initiator && !this.channelNegotiated && readProtocol(channel) === CHANNEL_PROTOCOL) {
      // The initiator is a duplex-peer: open the control channel now. (Opened
      // later, after `connect`, @roamhq/wrtc was seen to crash at process
      // exit in its connection finalizer, nearly always once a process had
      // made a few hundred peers.)
      this.flow.expect(Infinity)
      try {
        this.flow.attach(this._pc!.createDataChannel(CONTROL_LABEL, { ordered: true }))
        this.stripes?.createFrameChannel(this._pc!)
      } catch (err) {
        this.flow.expect(0)
        this._debug('no control channel: %s', (err as Error).message)
        this.stripes?.unavailable('no control channel')
      }
    } else if (!this.initiator) {
      this.stripes?.unavailable('the initiator is not a duplex-peer')
    }
  }

  /** A message from the channel, released by the link once this side has connected. */
  private deliver (chunk: Buffer | string, raw = true): void {
    if (this.destroyed) return
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
    this.flow.onReceived(bytes)
    this.push(chunk)
    this.flow.reportConsumed()
    // Frames that waited for these unframed bytes follow them.
    if (raw) this.stripes?.onRaw(bytes)
  }

  private onChannelClose (): void {
    if (this.destroyed) return
    this.phase = 'closing'
    this.link.release()
    if (this.readableLength > 0 && (this.readableFlowing !== null || this.listenerCount('readable') > 0)) {
      // readable-stream emits no `data` or `readable` after `close`: a reader
      // still busy with what arrived (a slow pipe, a pause) reads it all and
      // gets `end` first; the peer is destroyed then.
      this.once('end', () => this.destroy())
      this.push(null)
      return
    }
    // As with simple-peer, whatever `allowHalfOpen` says: destroyed, and the
    // teardown ends both sides (endSides). Unread data stays readable.
    this.destroy()
  }

  /** After `end()`: close the channel; destroy when it has closed, or after a timeout. */
  private closeGracefully (): void {
    if (this.destroyed) return
    this.phase = 'closing'
    if (!this.link.close(() => this.destroy())) this.destroy()
  }

  private onIceStateChange (): void {
    const pc = this._pc
    // Until the teardown (a microtask after destroy()), a state change is still reported, as by simple-peer.
    if (!pc || this.phase === 'closed') return
    const iceState = pc.iceConnectionState
    const gatheringState = pc.iceGatheringState
    this._debug('iceStateChange (connection: %s) (gathering: %s)', iceState, gatheringState)
    this.emit('iceStateChange', iceState, gatheringState)
    if (this.destroyed) return
    if (iceState === 'disconnected') this.startDisconnectTimer()
    else this.timers.clear('disconnect')
    if (iceState === 'connected' || iceState === 'completed') {
      this.iceReady = true
      this.maybeConnect()
    } else if (iceState === 'failed') {
      this.destroy(makeError('Ice connection failed.', ErrorCode.ICE_CONNECTION_FAILURE))
    } else if (iceState === 'closed') {
      this.destroy(makeError('Ice connection closed.', ErrorCode.ICE_CONNECTION_CLOSED))
    }
  }

  private startDisconnectTimer (): void {
    if (this.timers.has('disconnect') || this.disconnectTimeout === 0) return
    this.timers.set('disconnect', this.disconnectTimeout, () => {
      this.destroy(makeError(`Ice connection stayed disconnected for ${this.disconnectTimeout} ms.`, ErrorCode.ICE_CONNECTION_FAILURE))
    })
  }

  private onConnectionStateChange (): void {
    const pc = this._pc
    if (this.destroyed || !pc) return
    if (pc.connectionState === 'failed') {
      this.destroy(makeError('Connection failed.', ErrorCode.CONNECTION_FAILURE))
    }
  }

  private onSignalingStateChange (): void {
    const pc = this._pc
    if (this.destroyed || !pc) return
    const state = pc.signalingState
    this._debug('signalingStateChange %s', state)
    this.negotiation.onSignalingState(state)
    if (!this.destroyed) this.emit('signalingStateChange', state)
  }

  private onTrack (event: RTCTrackEvent): void {
    if (this.destroyed) return
    this._debug('on track')
    for (const stream of event.streams) {
      this.emit('track', event.track, stream)
      if (this.remoteMedia.isNewStream(stream)) {
        queueMicrotask(() => { if (!this.destroyed) this.emit('stream', stream) })
      }
    }
  }

  /** Both ICE and the channel are up: read the addresses, then emit `connect`. */
  private maybeConnect (): void {
    if (this.phase !== 'connecting' || !this.iceReady || this.link.current !== 'open') return
    this.phase = 'resolving'
    const peer = this
    lookupAddresses({
      get pc () { return peer._pc },
      get stopped () { return peer.destroyed },
      later: (ms, fn) => this.timers.set('address', ms, fn)
    }, found => {
      if (found) Object.assign(this, found)
      this.becomeConnected()
    })
  }

  private becomeConnected (): void {
    if (this.destroyed || this.phase !== 'resolving') return
    this.phase = 'connected'
    const pc = this._pc
    this.sender.open(() => pc?.sctp?.maxMessageSize)
    if (this.announced) this.flow.expect(Date.now() + CONTROL_GRACE)
    this._debug('connect')
    this.emit('connect')
    this.link.release()
    this.stripes?.release()
  }

  private fail (err: PeerError): void {
    if (!this.destroyed) this.destroy(err)
  }

  private channelHost (): ConstructorParameters<typeof DataChannelLink>[0] {
    return {
      debug: (format, ...args) => this._debug(format, ...args),
      opened: () => { if (!this.destroyed) this.maybeConnect() },
      message: chunk => this.deliver(chunk),
      closed: () => this.onChannelClose(),
      failed: err => this.destroy(err),
      drained: () => this.sender.onBufferedAmountLow()
    }
  }

  private stripeHost (): StripeHost {
    const peer = this
    return {
      initiator: this.initiator,
      wrtc: this.wrtc as WebRTCImplementation,
      config: this.config,
      sender: this.sender,
      flow: this.flow,
      get pc () { return peer._pc },
      get movedBytes () { return peer.sender.totalSent + peer.flow.receivedBytes },
      deliver: chunk => this.deliver(chunk, false),
      drained: () => this.sender.onBufferedAmountLow(),
      failed: err => this.fail(err),
      debug: (format, ...args) => this._debug(format, ...args)
    }
  }

  private settleHost (): SettleHost {
    const peer = this
    return {
      get pc () { return peer._pc },
      get stopped () { return peer.destroyed },
      get payloadBytes () { return peer.sender.totalSent },
      debug: (format, ...args) => this._debug(format, ...args),
      later: (ms, fn) => this.timers.set('settle', ms, fn)
    }
  }

  private iceHost (): ConstructorParameters<typeof IceCandidates>[0] {
    const peer = this
    return {
      get pc () { return peer._pc },
      get wrtc () { return peer.wrtc as WebRTCImplementation },
      trickle: !!this.trickle,
      iceCompleteTimeout: this.iceCompleteTimeout,
      debug: (...args: unknown[]) => this._debug(String(args[0]), ...args.slice(1)),
      signal: data => this.emitSignal(data),
      fail: err => this.fail(err),
      gatheringDone: timedOut => {
        if (this.destroyed) return
        if (timedOut) this.emit('iceTimeout')
        this.negotiation.onGatheringDone()
      }
    }
  }

  private negotiationHost (): ConstructorParameters<typeof Negotiation>[0] {
    const peer = this
    return {
      get pc () { return peer._pc },
      get wrtc () { return peer.wrtc as WebRTCImplementation },
      get gatheringComplete () { return peer.ice.gatheringComplete },
      initiator: this.initiator,
      trickle: !!this.trickle,
      allowHalfTrickle: !!this.allowHalfTrickle,
      offerOptions: this.offerOptions,
      answerOptions: this.answerOptions,
      sdpTransform: sdp => this.sdpTransform(sdp),
      debug: (...args: unknown[]) => this._debug(String(args[0]), ...args.slice(1)),
      signal: data => this.emitSignal(data),
      fail: err => this.fail(err),
      remoteDescriptionSet: () => this.ice.flushPending(),
      answered: () => { if (!this.initiator) this.requestMissingTransceivers() },
      negotiated: () => this.emit('negotiated'),
      stable: () => !!this._pc && this.media.flushAwaitingStable(this._pc)
    }
  }

  /**
   * Emits `signal`. Called from promise callbacks: an exception thrown by the
   * application's listener is rethrown on its own, as from any event listener,
   * rather than being taken for a negotiation failure.
   */
  private emitSignal (data: SignalData): void {
    if (this.destroyed) return
    try {
      this.emit('signal', data)
    } catch (err) {
      rethrow(err)
    }
  }

  /** Transceivers added here that the initiator's offer did not include: ask for them. */
  private requestMissingTransceivers (): void {
    const pc = this._pc
    if (!pc || typeof pc.getTransceivers !== 'function') return
    let transceivers: RTCRtpTransceiver[]
    try {
      transceivers = pc.getTransceivers()
    } catch {
      return
    }
    for (const transceiver of transceivers) {
      const marked = transceiver as RTCRtpTransceiver & { requested?: boolean }
      if (!transceiver.mid && transceiver.sender.track && !marked.requested) {
        marked.requested = true
        this.addTransceiver(transceiver.sender.track.kind)
      }
    }
  }
}

/** Typed events of a {@link Peer}, merged with the class. */
interface Peer {
  /**
   * `signal`: there is signaling data for the other peer. Carry `data` (or
   * `JSON.stringify(data)`) to it, by any means, and pass it to its
   * `signal()`. With trickle ICE there are several per connection, not just
   * the offer and the answer; deliver them all, in order.
   * @example
   * ```js
   * peer.on('signal', data => socket.send(JSON.stringify(data)))
   * ```
   */
  on (event: 'signal', listener: (data: SignalData) => void): this
  /** `connect`: the connection and the data channel are ready. Writes and sends made earlier go out now. */
  on (event: 'connect', listener: () => void): this
  /**
   * `data`: data from the other peer: a Buffer (a byte stream keeps no write
   * boundaries), or in object mode one message, a string or a Buffer.
   * @example
   * ```js
   * peer.on('data', data => console.log('got', data.length, 'bytes'))
   * ```
   */
  on (event: 'data', listener: (data: Buffer | string) => void): this
  /** `close`: the peer has closed, after an `end()` on either side, a `destroy()`, or an error. Emitted once. */
  on (event: 'close', listener: () => void): this
  /**
   * `error`: something failed and the peer is being destroyed; `err.code`
   * tells what (see {@link ErrorCode}). `close` follows.
   * @example
   * ```js
   * peer.on('error', err => console.error(err.code, err.message))
   * ```
   */
  on (event: 'error', listener: (err: PeerError) => void): this
  /**
   * `stream`: a remote `MediaStream` arrived (once per stream).
   * @example
   * ```js
   * peer.on('stream', stream => { video.srcObject = stream })
   * ```
   */
  on (event: 'stream', listener: (stream: MediaStream) => void): this
  /** `track`: a remote track arrived, with the stream it belongs to. */
  on (event: 'track', listener: (track: MediaStreamTrack, stream: MediaStream) => void): this
  /** `negotiated`: a negotiation ended with the connection in the `stable` signaling state. */
  on (event: 'negotiated', listener: () => void): this
  /** `iceStateChange`: the ICE connection state or the ICE gathering state changed. */
  on (event: 'iceStateChange', listener: (iceConnectionState: RTCIceConnectionState, iceGatheringState: RTCIceGatheringState) => void): this
  /** `iceTimeout`: with `trickle: false`, ICE gathering did not end within `iceCompleteTimeout`; the SDP was signaled with the candidates found so far. */
  on (event: 'iceTimeout', listener: () => void): this
  /** `signalingStateChange`: the `RTCPeerConnection`'s signaling state changed. */
  on (event: 'signalingStateChange', listener: (state: RTCSignalingState) => void): this
  /** Any other event: those of every Duplex stream (`end`, `finish`, `drain`, `pipe`, `unpipe`, `readable`, `pause`, `resume`). */
  on (event: string | symbol, listener: (...args: never[]) => void): this
  /** Like {@link Peer.on | on('signal')}, for the next emission only. */
  once (event: 'signal', listener: (data: SignalData) => void): this
  /** Like `on()` for `connect`, `close`, `negotiated` or `iceTimeout`, for the next emission only. */
  once (event: 'connect' | 'close' | 'negotiated' | 'iceTimeout', listener: () => void): this
  /** Like {@link Peer.on | on('data')}, for the next emission only. */
  once (event: 'data', listener: (data: Buffer | string) => void): this
  /** Like {@link Peer.on | on('error')}, for the next emission only. */
  once (event: 'error', listener: (err: PeerError) => void): this
  /** Like {@link Peer.on | on('stream')}, for the next emission only. */
  once (event: 'stream', listener: (stream: MediaStream) => void): this
  /** Like {@link Peer.on | on('track')}, for the next emission only. */
  once (event: 'track', listener: (track: MediaStreamTrack, stream: MediaStream) => void): this
  /** Like `on()`, for the next emission only. */
  once (event: string | symbol, listener: (...args: never[]) => void): this
}

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace Peer {
  /** Options of `new Peer(opts)`. */
  export type Options = PeerOptions
  /** A signaling object, as emitted by `signal` and accepted by `signal()`. */
  export type Signal = SignalData
  /** A coded error. */
  export type Error = PeerError
  /** The error codes. */
  export type Code = ErrorCodeValue
  /** What `send()` accepts. */
  export type Data = SendData
  /** A WebRTC implementation. */
  export type WebRTC = WebRTCImplementation
  /** A flattened stats report. */
  export type Stats = StatsReport
}

/** Turns what `send()` accepts into what the channel sends, without copying. */
function toMessage (chunk: SendData): Message {
  if (typeof chunk === 'string') return chunk
  if (chunk instanceof Uint8Array) return chunk
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk)
  if (typeof Blob !== 'undefined' && chunk instanceof Blob) return chunk
  throw makeError('send() takes a string, Buffer, ArrayBuffer, ArrayBufferView or Blob', ErrorCode.INVALID_DATA)
}

// A class that extends Duplex inherits readable-stream's statics, among them
// a `default` that is `Readable`: `mod.default || mod` (CommonJS/ESM interop
// helpers) would construct that. `Peer.default` is the Peer, and nothing else.
Object.defineProperty(Peer, 'default', { value: Peer, enumerable: false, writable: false, configurable: false })

export { Peer }
