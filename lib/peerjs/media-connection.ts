/**
 * A PeerJS media connection (a call) over one of our engine peers. The caller
 * makes the offer with its stream; the callee's engine starts only when it
 * calls `answer()`, as in PeerJS, and candidates that came before wait.
 */
import { EventEmitter } from 'events'
import { Peer as Engine } from '../peer'
import type { PeerError as EngineError } from '../errors'
import { Negotiator } from './negotiator'
import { PeerError, emitError, type ConnectionErrorTypeValue } from './errors'
import { reportEngineError, randomToken, type ConnectionHost } from './connection'
import type { ServerMessage } from './socket'
import { MessageType } from '../peerserver-protocol'

/** Options of `peer.call(id, stream, options)`. */
export interface CallOptions {
  /** Anything JSON can carry, handed to the other side with the offer. */
  metadata?: unknown
  /** Rewrites each local SDP before it is used. */
  sdpTransform?: (sdp: string) => string
}

/** Options of `mediaConnection.answer(stream, options)`. */
export interface AnswerOptions {
  /** Rewrites each local SDP before it is used. */
  sdpTransform?: (sdp: string) => string
}

/** The offer that opened an incoming call. @internal */
export interface IncomingCall {
  connectionId: string
  payload: Record<string, unknown>
}

/** A media connection to one remote peer. */
export class MediaConnection extends EventEmitter {
  /** Prefix of generated connection ids. */
  static readonly ID_PREFIX = 'mc_'

  /** Always `'media'`. */
  readonly type = 'media' as const
  /** The id of the remote peer. */
  readonly peer: string
  /** Identifies this connection between the two peers. */
  readonly connectionId: string
  /** Metadata the caller gave. */
  readonly metadata: unknown
  /** Label of the data channel that travels with the call. */
  readonly label: string

  private _isOpen = false
  private closed = false
  private _engine: Engine | null = null
  private _localStream: MediaStream | null = null
  private _remoteStream: MediaStream | null = null
  private negotiator: Negotiator | null = null
  private readonly host: ConnectionHost
  private readonly incoming: IncomingCall | undefined
  private pending: ServerMessage[] = []

  /** Made by `peer.call()` and for incoming calls; not meant to be called directly. @internal */
  constructor (peer: string, host: ConnectionHost, stream: MediaStream | null, options: CallOptions = {}, incoming?: IncomingCall) {
    super()
    this.peer = peer
    this.host = host
    this.incoming = incoming
    this.connectionId = incoming?.connectionId ?? MediaConnection.ID_PREFIX + randomToken()
    this.label = this.connectionId
    this.metadata = incoming ? incoming.payload.metadata : options.metadata
    if (!incoming && stream) this.start(stream, options.sdpTransform)
  }

  /** Whether the call is up (answered, on either side). */
  get open (): boolean { return this._isOpen }

  /** The stream this side sends. */
  get localStream (): MediaStream | null { return this._localStream }

  /** The stream the other side sends, once it arrived. */
  get remoteStream (): MediaStream | null { return this._remoteStream }

  /** The `RTCPeerConnection` (`null` before `answer()` and once closed). */
  get peerConnection (): RTCPeerConnection | null { return this._engine?._pc ?? null }

  /** The data channel that travels with the call. */
  get dataChannel (): RTCDataChannel | null { return this._engine?._channel ?? null }

  /** The engine peer underneath, once started. */
  get engine (): Engine | null { return this._engine }

  /**
   * Accepts an incoming call, sending `stream` (or nothing: receive only).
   * A second call is ignored with a warning.
   */
  answer (stream?: MediaStream, options: AnswerOptions = {}): void {
    if (!this.incoming || this._engine || this.closed) {
      this.host.logger.warn(`call ${this.connectionId}: answer() ignored (not an incoming call, answered already, or closed)`)
      return
    }
    this.start(stream ?? null, options.sdpTransform)
    this.handle({ type: MessageType.OFFER, payload: this.incoming.payload })
    const waiting = [...this.pending, ...this.host.takeLostMessages(this.connectionId)]
    this.pending = []
    for (const message of waiting) this.handle(message)
    this._isOpen = true
  }

  /** Ends the call. */
  close (): void {
    if (this.closed) return
    this.closed = true
    const wasOpen = this._isOpen
    this._isOpen = false
    this.pending = []
    const engine = this._engine
    this._engine = null
    if (engine && !engine.destroyed) engine.destroy()
    this._localStream = null
    this._remoteStream = null
    this.host.removeConnection(this)
    if (wasOpen) this.emit('close')
  }

  /** A server message for this call. @internal */
  handleMessage (message: ServerMessage): void {
    if (this.closed) return
    if (!this._engine) {
      // Not answered yet: keep candidates for then.
      if (this.pending.length < 500) this.pending.push(message)
      return
    }
    if (message.type === MessageType.ANSWER) this._isOpen = true
    this.handle(message)
  }

  private handle (message: ServerMessage): void {
    if (!this.negotiator?.receive(message.type, message.payload)) {
      this.host.logger.warn(`call ${this.connectionId}: ignoring a malformed ${message.type}`)
    }
  }

  private start (stream: MediaStream | null, sdpTransform: ((sdp: string) => string) | undefined): void {
    this._localStream = stream
    const engine = new Engine({
      initiator: !this.incoming,
      channelName: this.label,
      ...(stream ? { stream } : {}),
      ...(sdpTransform ? { sdpTransform: (sdp: string) => sdpTransform(sdp) || sdp } : {}),
      ...(this.host.rtcConfig ? { config: this.host.rtcConfig } : {}),
      ...(this.host.wrtc ? { wrtc: this.host.wrtc } : {})
    })
    this._engine = engine
    this.negotiator = new Negotiator(engine, {
      connectionId: this.connectionId,
      kind: 'media',
      offerFields: () => ({ metadata: this.metadata, browser: 'duplex-peer' }),
      send: (type, payload) => this.host.sendSignal(this.peer, type, payload),
      log: message => this.host.logger.log(message)
    })
    engine.on('stream', (remote: MediaStream) => {
      if (this.closed) return
      this._remoteStream = remote
      this.emit('stream', remote)
    })
    engine.on('connect', () => { if (!this.closed) this.emit('willCloseOnRemote') })
    engine.on('iceStateChange', (state: RTCIceConnectionState) => this.emit('iceStateChanged', state))
    engine.on('error', (err: EngineError) => reportEngineError(err, this.peer, this._isOpen, this.host, (type, message) => this.fail(type, message)))
    engine.on('close', () => this.close())
  }

  private fail (type: ConnectionErrorTypeValue, message: string): void {
    emitError(this, new PeerError(type, message), text => this.host.logger.warn(`call ${this.connectionId}: ${text}`))
  }
}

/** Typed events of a {@link MediaConnection}. */
export interface MediaConnection {
  /** The other side's stream arrived. */
  on (event: 'stream', listener: (stream: MediaStream) => void): this
  /** The call ended. */
  on (event: 'close' | 'willCloseOnRemote', listener: () => void): this
  /** `err.type`: `negotiation-failed` or `connection-closed`. */
  on (event: 'error', listener: (err: PeerError) => void): this
  /** ICE connection state changed. */
  on (event: 'iceStateChanged', listener: (state: RTCIceConnectionState) => void): this
  /** Any other event. */
  on (event: string | symbol, listener: (...args: never[]) => void): this
  /** Once: the other side's stream arrived. */
  once (event: 'stream', listener: (stream: MediaStream) => void): this
  /** Once: the call ended. */
  once (event: 'close' | 'willCloseOnRemote', listener: () => void): this
  /** Once: an error. */
  once (event: 'error', listener: (err: PeerError) => void): this
  /** Once: any other event. */
  once (event: string | symbol, listener: (...args: never[]) => void): this
}
