/**
 * A PeerJS data connection over one of our engine peers, and a Node Duplex
 * stream at the same time: `send()` and the `data` event work as in PeerJS,
 * and `write()`/`pipe()` send each chunk as one message with the connection's
 * serialization.
 */
import { Duplex } from 'readable-stream'
import { Buffer } from 'buffer'
import { Peer as Engine } from '../peer'
import { ErrorCode, type PeerError as EngineError } from '../errors'
import { Negotiator } from './negotiator'
import { createSerializer, wireName, EncodeError, type Serializer, type WireMessage, type Decoded } from './serialization'
import { PeerError, ConnectionErrorType, emitError, type ConnectionErrorTypeValue } from './errors'
import { reportEngineError, randomToken, type ConnectionHost } from './connection'
import type { ServerMessage } from './socket'
import { MessageType } from '../peerserver-protocol'

/** Options of `peer.connect(id, options)`. */
export interface DataConnectionOptions {
  /** Label of the data channel. Default: the connection id. */
  label?: string
  /** Anything JSON can carry, handed to the other side with the offer. */
  metadata?: unknown
  /** `'binary'` (default), `'binary-utf8'`, `'json'` or `'raw'` (`'none'` is the same). */
  serialization?: string
  /**
   * Whether messages arrive in the order sent (an ordered channel). Default
   * `false`, as in PeerJS; set it for streams and files. Delivery is reliable either way.
   */
  reliable?: boolean
}

/** The offer that opened an incoming connection. @internal */
export interface IncomingOffer {
  connectionId: string
  payload: Record<string, unknown>
}

/** `null` messages go through the readable side as this marker; `data` listeners get `null`. */
const NULL_MESSAGE: symbol = Symbol('null message')

/** A data connection to one remote peer. */
export class DataConnection extends Duplex {
  /** Prefix of generated connection ids. */
  static readonly ID_PREFIX = 'dc_'
  /** What `read()` and async iteration give for a `null` message (`data` listeners get `null` itself). */
  static readonly NULL: symbol = NULL_MESSAGE

  /** Always `'data'`. */
  readonly type = 'data' as const
  /** The id of the remote peer. */
  readonly peer: string
  /** Identifies this connection between the two peers. */
  readonly connectionId: string
  /** Label of the data channel. */
  readonly label: string
  /** Metadata the initiating side gave. */
  readonly metadata: unknown
  /** The serialization: `'binary'`, `'binary-utf8'`, `'json'` or `'raw'`. */
  readonly serialization: string
  /** Whether the channel is ordered. */
  readonly reliable: boolean
  /** The engine peer underneath (a duplex-peer `Peer`). */
  readonly engine: Engine

  private _isOpen = false
  private readonly host: ConnectionHost
  private readonly serializer: Serializer
  private readonly negotiator: Negotiator
  private engineClosed = false
  private remoteDone = false

  /** Made by `peer.connect()` and for incoming connections; not meant to be called directly. @internal */
  constructor (peer: string, host: ConnectionHost, options: DataConnectionOptions = {}, incoming?: IncomingOffer) {
    super({ objectMode: true, allowHalfOpen: false })
    this.peer = peer
    this.host = host
    this.connectionId = incoming?.connectionId ?? DataConnection.ID_PREFIX + randomToken()
    this.label = options.label || this.connectionId
    this.metadata = options.metadata
    this.reliable = !!options.reliable
    const name = wireName(options.serialization) ?? 'binary'
    this.serialization = name
    this.serializer = createSerializer(name, { bytes: data => Buffer.from(data.buffer, data.byteOffset, data.byteLength) })

    this.engine = new Engine({
      initiator: !incoming,
      objectMode: true,
      channelName: this.label,
      channelConfig: { ordered: this.reliable },
      ...(host.rtcConfig ? { config: host.rtcConfig } : {}),
      ...(host.wrtc ? { wrtc: host.wrtc } : {}),
      ...(host.stripes !== undefined ? { stripes: host.stripes } : {})
    })
    this.negotiator = new Negotiator(this.engine, {
      connectionId: this.connectionId,
      kind: 'data',
      offerFields: () => ({
        label: this.label,
        reliable: this.reliable,
        serialization: this.serialization,
        metadata: this.metadata,
        browser: 'duplex-peer'
      }),
      send: (type, payload) => host.sendSignal(peer, type, payload),
      log: message => host.logger.log(message)
    })
    this.engine.once('connect', () => {
      if (this.destroyed) return
      this._isOpen = true
      this.emit('open')
      // Messages can arrive before the engine's `connect` (it first looks up
      // addresses); they wait in its buffer so that, as in PeerJS, `open`
      // comes first and a `data` listener may reply with `send()` at once.
      this.engine.on('data', (message: Buffer | string) => this.onMessage(message))
    })
    this.engine.on('iceStateChange', (state: RTCIceConnectionState) => this.emit('iceStateChanged', state))
    this.engine.on('error', (err: EngineError) => reportEngineError(err, peer, this._isOpen, host, (type, message) => this.fail(type, message)))
    this.engine.on('close', () => this.onEngineClose())

    if (incoming) this.handleMessage({ type: MessageType.OFFER, payload: incoming.payload })
    for (const message of host.takeLostMessages(this.connectionId)) this.handleMessage(message)
  }

  /** Whether the channel is open. */
  get open (): boolean { return this._isOpen }

  /** The data channel (`null` before it exists and once closed). */
  get dataChannel (): RTCDataChannel | null { return this.engine._channel }

  /** The `RTCPeerConnection` (`null` once closed). */
  get peerConnection (): RTCPeerConnection | null { return this.engine._pc }

  /** Bytes written but not yet sent. */
  get bufferSize (): number { return this.engine.destroyed ? 0 : this.engine.bufferSize }

  /**
   * Sends one value, as PeerJS does: emits `error` (`not-open-yet`) before the
   * `open` event, and `message-too-big` for a value the serialization refuses.
   */
  send (data: unknown, _chunked?: boolean): void {
    if (!this._isOpen) {
      this.fail(ConnectionErrorType.NotOpenYet, 'Connection is not open. You should listen for the `open` event before sending messages.')
      return
    }
    if (this.serializer.isAsync(data)) {
      this.serializer.encodeAsync(data).then(messages => this.sendMessages(messages), err => this.encodeFailed(err))
      return
    }
    let messages: WireMessage[]
    try {
      messages = this.serializer.encode(data)
    } catch (err) {
      // A value the serialization cannot carry is the caller's mistake: thrown, as PeerJS does.
      if (!(err instanceof EncodeError) || err.reason !== 'message-too-big') throw err
      this.encodeFailed(err)
      return
    }
    this.sendMessages(messages)
  }

  /**
   * Closes the connection. With `{ flush: true }` the other side is asked to
   * close once it has everything sent before (with `raw`, the stream is ended instead).
   */
  close (options?: { flush?: boolean }): void {
    if (options?.flush && !this.destroyed) {
      const message = this.serializer.closeMessage()
      if (message) this.sendMessages([message])
      else this.end()
      return
    }
    this.destroy()
  }

  /** A server message for this connection. @internal */
  handleMessage (message: ServerMessage): void {
    if (this.destroyed) return
    if (!this.negotiator.receive(message.type, message.payload)) {
      this.host.logger.warn(`connection ${this.connectionId}: ignoring a malformed ${message.type}`)
    }
  }

  /** @internal */
  override _read (): void {
    if (this.engine.isPaused()) this.engine.resume()
  }

  /** @internal */
  override _write (chunk: unknown, _encoding: string, cb: (err?: Error | null) => void): void {
    if (this.serializer.isAsync(chunk)) {
      this.serializer.encodeAsync(chunk).then(messages => this.writeMessages(messages, cb), err => cb(err as Error))
      return
    }
    let messages: WireMessage[]
    try {
      messages = this.serializer.encode(chunk)
    } catch (err) {
      cb(err as Error)
      return
    }
    this.writeMessages(messages, cb)
  }

  /** @internal */
  override _final (cb: (err?: Error | null) => void): void {
    if (this.engine.destroyed) return cb()
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      cb()
    }
    this.engine.once('finish', finish)
    this.engine.once('close', finish)
    this.engine.end()
  }

  /** @internal */
  override _destroy (err: Error | null, cb: (err: Error | null) => void): void {
    this._isOpen = false
    this.host.removeConnection(this)
    if (!this.engine.destroyed) this.engine.destroy()
    cb(err)
  }

  /** Maps the `null` marker back to `null` for `data` listeners. */
  override emit (event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data' && args[0] === NULL_MESSAGE) args[0] = null
    return super.emit(event, ...args)
  }

  private writeMessages (messages: WireMessage[], cb: (err?: Error | null) => void): void {
    if (this.engine.destroyed) return cb(new PeerError(ConnectionErrorType.ConnectionClosed, 'The connection is closed'))
    messages.forEach((message, i) => {
      this.engine.write(message, i === messages.length - 1 ? (err?: Error | null) => cb(err) : undefined)
    })
  }

  private sendMessages (messages: WireMessage[]): void {
    for (const message of messages) {
      try {
        this.engine.send(message)
      } catch (err) {
        const code = (err as EngineError).code
        if (code === ErrorCode.MESSAGE_TOO_LARGE) this.fail(ConnectionErrorType.MessageToBig, (err as Error).message)
        else this.host.logger.warn(`connection ${this.connectionId}: send failed: ${(err as Error).message}`)
        return
      }
    }
  }

  private encodeFailed (err: unknown): void {
    if (err instanceof EncodeError && err.reason === 'message-too-big') this.fail(ConnectionErrorType.MessageToBig, err.message)
    else this.host.logger.error(`connection ${this.connectionId}: cannot send that value: ${(err as Error).message}`)
  }

  private onMessage (message: Buffer | string): void {
    if (this.destroyed) return
    let results: Decoded[]
    try {
      results = this.serializer.decode(message)
    } catch (err) {
      results = [{ kind: 'error', message: (err as Error).message }]
    }
    for (const result of results) {
      if (result.kind === 'close') {
        this.endReading()
        return
      }
      if (result.kind === 'error') {
        this.host.logger.warn(`connection ${this.connectionId}: ${result.message}`)
        continue
      }
      if (!this.push(result.value === null ? NULL_MESSAGE : result.value)) this.engine.pause()
    }
  }

  private onEngineClose (): void {
    if (this.engineClosed) return
    this.engineClosed = true
    this._isOpen = false
    this.endReading()
  }

  /** The other side is done: let a reader take what arrived before, then close. */
  private endReading (): void {
    if (this.destroyed || this.remoteDone) return
    this.remoteDone = true
    this._isOpen = false
    this.push(null)
    if (this.readableFlowing === null || this.readableLength === 0) this.destroy()
    else this.once('end', () => this.destroy())
  }

  private fail (type: ConnectionErrorTypeValue, message: string): void {
    emitError(this, new PeerError(type, message), text => this.host.logger.warn(`connection ${this.connectionId}: ${text}`))
  }
}

/** Typed events of a {@link DataConnection}. */
export interface DataConnection {
  /** The channel is open: `send()` may be used. */
  on (event: 'open', listener: () => void): this
  /** A value from the other side. */
  on (event: 'data', listener: (data: unknown) => void): this
  /** The connection closed. */
  on (event: 'close', listener: () => void): this
  /** `err.type`: `not-open-yet`, `message-too-big`, `negotiation-failed`, `connection-closed`. */
  on (event: 'error', listener: (err: PeerError) => void): this
  /** ICE connection state changed. */
  on (event: 'iceStateChanged', listener: (state: RTCIceConnectionState) => void): this
  /** Any other event (the Duplex stream's: `end`, `finish`, `drain`, ...). */
  on (event: string | symbol, listener: (...args: never[]) => void): this
  /** Once: the channel opened, or the connection closed. */
  once (event: 'open' | 'close', listener: () => void): this
  /** Once: a value from the other side. */
  once (event: 'data', listener: (data: unknown) => void): this
  /** Once: an error. */
  once (event: 'error', listener: (err: PeerError) => void): this
  /** Once: ICE connection state changed. */
  once (event: 'iceStateChanged', listener: (state: RTCIceConnectionState) => void): this
  /** Once: any other event. */
  once (event: string | symbol, listener: (...args: never[]) => void): this
}
