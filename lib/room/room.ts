/**
 * `Room`: peers meet by room id through a signaling driver, and each pair
 * connects directly with one `Peer`. The room keeps the membership
 * (`room.peers`), relays signaling between pairs until they are connected,
 * and carries labelled messages over the connections.
 */
import { EventEmitter } from 'events'
import createDebug = require('debug')
import { DEBUG_NAMESPACE } from '../constants'
import type { PeerError } from '../errors'
import type { SignalData } from '../signal'
import type { WebRTCImplementation } from '../webrtc'
import { randomHex, rethrow } from '../util'
import { MAX_STRIPES } from '../stripes/constants'
import type { Driver, DriverState } from './drivers/driver'
import { roomError, RoomErrorCode, type RoomError } from './errors'
import {
  normalizeMetadata, roomTopic, peerTopic, isInitiator, isPeerId,
  MAX_MESSAGE_BYTES, type JsonValue
} from './protocol'
import { Handshake, type VerifyFunction } from './handshake'
import { RoomPeer, isFinal, type RoomPeerHost, type RoomPeerState } from './room-peer'
import { startTransfer, type SendOptions, type Transfer } from './transfer'
import type { MessageData } from './messages'
import type { RoomEventMap } from './events'
import { RoomLinks, checkChannelOptions, checkLabel, checkShareOptions, stopTracks, type ChannelOptions, type LinkEvent, type ShareOptions } from './link'

/** Options of `new Room()`. */
export interface RoomOptions {
  /** The room's name: peers with the same id (on the same broker) meet. Sent to the broker only hashed. */
  id: string
  /**
   * How peers meet: a signaling driver, e.g. `new MemoryDriver()`. The room
   * does not close it. Rooms may share a driver if their ids differ (a
   * driver has one handler per topic).
   */
  driver: Driver
  /**
   * `RTCPeerConnection` configuration of every connection, merged over `Peer.config`.
   * @defaultValue `Peer.config` (public STUN servers)
   */
  config?: RTCConfiguration
  /** A WebRTC implementation, as `Peer`'s `wrtc` option. @defaultValue the browser's, or `@roamhq/wrtc` in Node */
  wrtc?: WebRTCImplementation
  /** How long a connection to a peer may take before it fails with `ERR_CONNECTION_TIMEOUT` (ms). @defaultValue `30000` */
  connectionTimeout?: number
  /**
   * Largest message sent, and largest message received whole (awaited, or
   * read by the room for a listener that did not read it), in bytes of
   * payload. A message read as a stream has no limit. @defaultValue 64 MiB
   */
  maxMessageSize?: number
  /** Most other peers at once; announces beyond are ignored. @defaultValue `64` */
  maxPeers?: number
  /**
   * The room's password: only peers with the same password can read its
   * announces, answer them, or prove themselves in the handshake, so a peer
   * without it never connects and the others never see it (no `peer:join`).
   * It also binds the peers' public keys, so a broker cannot substitute its
   * own. Never sent, in clear or not. @defaultValue none (see the README's
   * "Security": signaling is encrypted, but an active broker that knows the
   * room id can intercept it)
   */
  password?: string
  /**
   * Called for each peer that proved itself, before any connection to it is
   * made: `true` admits it; anything else, a throw or a rejection refuses it
   * (no `peer:join`, no connection; on its side neither). The handshake waits
   * for it; other signaling does not. It may be asked more than once about one
   * peer (e.g. when two peers join at the same moment, or one joins again).
   */
  verify?: VerifyFunction
  /**
   * This peer's id in the room (letters, digits, `_`, `-`; 1 to 64), e.g. a
   * stable user id: when a peer joins again with the same id (after a reload),
   * its new session replaces the old entry in the others' rooms (`peer:leave`
   * for the old one, then `peer:join`). Two live peers must not share an id.
   * @defaultValue 32 random hex digits, new for each `Room`
   */
  peerId?: string
  /**
   * Striped streams: the `stripes` option of every connection's `Peer`, an
   * integer from 1 to 8 (how many `RTCPeerConnection`s, the first included,
   * may carry it) or `'auto'`. Used with a peer whose room allows it too (the
   * smaller count wins). It stripes what travels on the connection's own
   * stream: `send()` with a label not opened with `open()`, and the room's
   * own control messages. Labels opened with `open()` and the byte streams
   * of `roomPeer.channel()` have data channels of their own on the first
   * connection and are never striped; media stays on the first connection.
   * @defaultValue `1` (one connection per peer)
   */
  stripes?: number | 'auto'
}

/** Options of `room.send()`. */
export interface RoomSendOptions extends SendOptions {
  /** The id, or ids, of the peers to send to. @defaultValue every peer of the room */
  to?: string | readonly string[]
}

/** What `join()` resolves with: this peer, as the others see it. */
export interface LocalPeer {
  /** This peer's id in the room. */
  readonly id: string
  /** This peer's metadata. */
  readonly metadata: JsonValue
}

/** Where the room stands. */
type Phase = 'idle' | 'joining' | 'joined' | 'left'

const DEFAULT_CONNECTION_TIMEOUT = 30e3
const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024
const DEFAULT_MAX_PEERS = 64

/**
 * A room of peers. Each pair of members connects directly (one `Peer` each);
 * the driver is used to meet and to set up connections.
 *
 * @example
 * ```js
 * const { Room, MemoryDriver } = require('duplex-peer/room')
 * const room = new Room({ id: 'lobby', driver: new MemoryDriver() })
 * room.on('peer:join', ({ peer }) => console.log(peer.id, 'is here'))
 * room.on('channel:message', ({ peer, data }) => console.log(peer.id, 'says', data))
 * await room.join({ name: 'ann' })
 * room.send('hello')
 * ```
 */
export class Room extends EventEmitter<RoomEventMap> {
  /** The room's id, as given. */
  readonly id: string
  /** This peer's id in the room (the `peerId` option, or random, made anew for each `Room`). */
  readonly localId: string
  private readonly driver: Driver
  private readonly config: RTCConfiguration | undefined
  private readonly wrtc: WebRTCImplementation | undefined
  private readonly connectionTimeout: number
  private readonly maxMessageSize: number
  private readonly maxPeers: number
  private readonly stripes: number | 'auto'
  private readonly handshake: Handshake
  /** The handshake session (remote key fingerprint) of each member. */
  private readonly sessions = new WeakMap<RoomPeer, string>()
  private readonly members = new Map<string, RoomPeer>()
  private readonly topics = new Map<string, Promise<string>>()
  private readonly log: createDebug.Debugger
  private readonly host: RoomPeerHost
  private phase: Phase = 'idle'
  private localMetadata: JsonValue = null
  private topic = ''
  private ownTopic = ''
  private inbound: Promise<void> = Promise.resolve()
  private outbound: Promise<void> = Promise.resolve()
  private transfers = 0
  /** Peers that said they leave: their end needs no new meeting. */
  private readonly departed = new WeakSet<RoomPeer>()
  private reannouncing = false
  private readonly links = new RoomLinks()
  private readonly onDriverState = (state: DriverState): void => {
    if (state !== 'active' || this.phase !== 'joined') return
    // Messages may have been lost while inactive: announce again; peers that know us ignore it.
    this.log('driver active again: announcing')
    this.handshake.announce().catch(err => this.fail(err))
  }

  /** Makes a room; nothing happens until `join()`. Throws `ERR_INVALID_OPTION` for invalid options. */
  constructor (options: RoomOptions) {
    super()
    if (options === null || typeof options !== 'object') throw roomError('new Room() takes an options object', RoomErrorCode.INVALID_OPTION)
    const { id, driver, config, wrtc } = options
    if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
      throw roomError('id must be a string of 1 to 1024 characters', RoomErrorCode.INVALID_OPTION)
    }
    if (!isDriver(driver)) throw roomError('driver must be a signaling driver (subscribe, unsubscribe, publish, close, on, off, state)', RoomErrorCode.INVALID_OPTION)
    if (config !== undefined && (config === null || typeof config !== 'object')) throw roomError('config must be an object', RoomErrorCode.INVALID_OPTION)
    this.id = id
    this.driver = driver
    this.config = config
    this.wrtc = wrtc
    this.connectionTimeout = positive(options.connectionTimeout, DEFAULT_CONNECTION_TIMEOUT, 'connectionTimeout')
    this.maxMessageSize = positive(options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize')
    this.maxPeers = positive(options.maxPeers, DEFAULT_MAX_PEERS, 'maxPeers')
    this.stripes = stripesOption(options.stripes)
    const { password, verify, peerId } = options
    if (password !== undefined && (typeof password !== 'string' || password.length === 0)) {
      throw roomError('password must be a non-empty string', RoomErrorCode.INVALID_OPTION)
    }
    if (verify !== undefined && typeof verify !== 'function') throw roomError('verify must be a function', RoomErrorCode.INVALID_OPTION)
    if (peerId !== undefined && !isPeerId(peerId)) {
      throw roomError('peerId must be 1 to 64 letters, digits, _ or -', RoomErrorCode.INVALID_OPTION)
    }
    this.localId = peerId ?? randomHex(16)
    this.handshake = new Handshake({ roomId: id, password, verify, localId: this.localId, maxSessions: 4 * this.maxPeers + 16 }, {
      publish: (topic, make) => this.publish(topic, make),
      topicOf: peerId => this.topicOf(peerId),
      admit: (peerId, metadata, session) => this.admit(peerId, metadata, session),
      signal: (peerId, session, data) => this.memberOf(peerId, session)?.signal(data),
      leave: (peerId, session) => {
        const peer = this.memberOf(peerId, session)
        if (!peer) return
        this.departed.add(peer)
        peer.finish('closed')
      },
      localMetadata: () => this.localMetadata,
      listening: () => this.listening,
      fail: err => this.fail(err),
      debug: (format, ...args) => this.debug(format, ...args)
    })
    this.log = createDebug(`${DEBUG_NAMESPACE}:room`)
    this.host = {
      signal: (peer, data) => this.sendSignal(peer, data),
      stateChanged: (peer, state, error) => this.onStateChanged(peer, state, error),
      message: message => {
        this.fire('channel:message', message)
      },
      messageFailed: (peer, label, error) => this.fire('channel:error', { peer, label, error }),
      metadataChanged: peer => this.fire('peer:update', { peer, metadata: peer.metadata }),
      nextTransfer: () => this.nextTransfer(),
      maxMessageSize: this.maxMessageSize,
      localMetadata: () => this.localMetadata,
      debug: (format, ...args) => this.debug(format, ...args),
      linkEvent: (peer, event) => this.onLinkEvent(peer, event),
      linkState: () => this.links
    }
    this.on('newListener', (event, listener) => {
      if (event === 'peer:join') this.replayJoins(listener)
    })
  }

  /** The other members, by id (read-only). A peer is here from `peer:join` to `peer:leave`. */
  get peers (): ReadonlyMap<string, RoomPeer> {
    return this.members
  }

  /** This peer's metadata. */
  get metadata (): JsonValue {
    return this.localMetadata
  }

  /** Whether the room is joined (after `join()` resolved, until `leave()`). */
  get joined (): boolean {
    return this.phase === 'joined'
  }

  /**
   * Joins the room with `metadata` (a JSON value, at most 16 KiB as JSON),
   * which the others see as `peer.metadata`. Resolves once subscribed and
   * announced; connections to the peers there follow (`connection:connected`).
   * Rejects with `ERR_INVALID_OPTION` (bad metadata), `ERR_ALREADY_JOINED`
   * (a room is joined once) or `ERR_DRIVER`.
   */
  async join (metadata?: JsonValue): Promise<LocalPeer> {
    if (this.phase !== 'idle') throw roomError(`room ${this.id} was already joined`, RoomErrorCode.ALREADY_JOINED)
    const normalized = normalizeMetadata(metadata)
    if ('error' in normalized) throw roomError(normalized.error, RoomErrorCode.INVALID_OPTION)
    this.phase = 'joining'
    this.localMetadata = normalized.metadata
    try {
      this.topic = await roomTopic(this.id)
      this.ownTopic = await peerTopic(this.topic, this.localId)
      await this.handshake.start(this.topic, this.ownTopic)
      // Our own topic first: a hello may come as soon as the announce is out.
      await this.driver.subscribe(this.ownTopic, bytes => this.receive(this.ownTopic, bytes))
      await this.driver.subscribe(this.topic, bytes => this.receive(this.topic, bytes))
      if (this.phase !== 'joining') throw roomError('left while joining', RoomErrorCode.NOT_JOINED)
      this.driver.on('state', this.onDriverState)
      this.phase = 'joined'
      await this.handshake.announce()
    } catch (err) {
      await this.leave()
      // leave() may have run before the subscriptions were made (a leave() during join()).
      await this.unsubscribeAll()
      throw (err as RoomError).code === RoomErrorCode.NOT_JOINED ? err : roomError(err, RoomErrorCode.DRIVER)
    }
    this.log('%s joined %s', this.localId, this.topic)
    return { id: this.localId, metadata: this.localMetadata }
  }

  /**
   * Leaves the room: tells the others (they drop us at once), closes every
   * connection (`connection:closed` and `peer:leave` for each) and
   * unsubscribes. The driver stays open. Never rejects; a left room cannot
   * be joined again (make a new `Room`).
   */
  async leave (): Promise<void> {
    const phase = this.phase
    if (phase === 'left') return
    this.phase = 'left'
    if (phase === 'idle') return
    this.driver.off('state', this.onDriverState)
    if (phase === 'joined') {
      // Each member is told, sealed for it alone.
      const told: Promise<void>[] = []
      for (const peer of this.members.values()) {
        const session = this.sessions.get(peer)
        if (session !== undefined) told.push(this.handshake.sendLeave(peer.id, session).catch(err => this.debug('leave not published: %s', errorMessage(err))))
      }
      // And the peers halfway through the handshake, which may have added us already.
      for (const [id, session] of this.handshake.confirmed()) {
        told.push(this.handshake.sendLeave(id, session).catch(err => this.debug('leave not published: %s', errorMessage(err))))
      }
      await Promise.all(told)
    }
    for (const peer of [...this.members.values()]) peer.finish('closed')
    this.links.stop(roomError('the room was left', RoomErrorCode.NOT_JOINED))
    await this.unsubscribeAll()
    await this.outbound
  }

  private async unsubscribeAll (): Promise<void> {
    for (const topic of [this.topic, this.ownTopic]) {
      if (topic) await this.driver.unsubscribe(topic).catch(err => this.debug('unsubscribe failed: %s', errorMessage(err)))
    }
  }

  /**
   * Sends `data` to every peer of the room, or to those in `to`: a string,
   * bytes or a JSON value, a `Blob`, a web `ReadableStream` or a Node
   * `Readable` (read as fast as the slowest target takes it, never whole);
   * each gets `channel:message` with what was sent (a stream as bytes), on
   * `label`. Transfers interleave frame by frame, so a short message is not
   * held up behind a long one. Peers not yet connected get it once
   * connected; ids in `to` not in the room are skipped. Returns the
   * {@link Transfer}: a Promise that resolves once every target confirmed it
   * has it all, and an async iterable of progress per target. Throws
   * `ERR_NOT_JOINED`, `ERR_INVALID_DATA`, `ERR_INVALID_OPTION` or
   * `ERR_MESSAGE_TOO_LARGE`.
   * @example
   * ```js
   * room.send({ text: 'hi' }, { label: 'chat' })
   * await room.send(fs.createReadStream('photo.jpg'), { to: [alice.id, bob.id], label: 'files' })
   * ```
   */
  send (data: MessageData, options: RoomSendOptions = {}): Transfer {
    if (this.phase !== 'joined') throw roomError('send() needs a joined room', RoomErrorCode.NOT_JOINED)
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw roomError('send() options must be an object', RoomErrorCode.INVALID_OPTION)
    }
    const targets = this.targets(options.to)
    return startTransfer(data, options, targets, this.nextTransfer(), this.maxMessageSize)
  }

  /**
   * Replaces this peer's metadata (a JSON value, at most 16 KiB as JSON): each
   * connected peer gets `peer:update`, and peers connecting later get the new
   * value. Throws `ERR_NOT_JOINED` or `ERR_INVALID_OPTION`.
   */
  updateMetadata (metadata: JsonValue): void {
    if (this.phase !== 'joined') throw roomError('updateMetadata() needs a joined room', RoomErrorCode.NOT_JOINED)
    const normalized = normalizeMetadata(metadata)
    if ('error' in normalized) throw roomError(normalized.error, RoomErrorCode.INVALID_OPTION)
    this.localMetadata = normalized.metadata
    for (const peer of this.members.values()) peer.sendMetadata(this.localMetadata)
  }

  /**
   * Opens a data channel of its own for `label` to every peer (and to
   * peers connecting later): messages sent with the label go on it once it
   * is open (`channel:open`), so they do not wait behind other labels'
   * frames in the channel's buffer, and an unreliable label
   * (`maxRetransmits` or `maxPacketLifeTime`) may lose or reorder them. The
   * channels are negotiated in-band (no renegotiation, nothing through the
   * broker); both sides opening a label make one channel, with the options
   * of the pair's initiator. An unreliable channel carries only messages of
   * up to 64 KiB less a frame header (known length), else the transfer fails with
   * `ERR_UNRELIABLE_MESSAGE`. Opening an open label does nothing. Throws
   * `ERR_NOT_JOINED` or `ERR_INVALID_OPTION`.
   * @example
   * ```js
   * room.open({ label: 'cursor', ordered: false, maxRetransmits: 0 })
   * room.on('channel:open', ({ peer, label }) => console.log(label, 'open to', peer.id))
   * room.send({ x, y }, { label: 'cursor' })
   * ```
   */
  open (options: ChannelOptions): void {
    if (this.phase !== 'joined') throw roomError('open() needs a joined room', RoomErrorCode.NOT_JOINED)
    const { label, delivery } = checkChannelOptions(options)
    if (this.links.channels.has(label)) return
    this.links.channels.set(label, delivery)
    for (const peer of this.members.values()) {
      if (peer.state === 'connected' || peer.state === 'disconnected') peer.openChannel(label, delivery)
    }
  }

  /**
   * Closes the channel of `label` to every peer (`channel:close` on both
   * sides); messages with the label go on the main channel again. Transfers
   * still being written on it fail with `ERR_CHANNEL_CLOSED`. Throws
   * `ERR_INVALID_OPTION` for a bad label.
   */
  close (label: string): void {
    const checked = checkLabel(label)
    this.links.channels.delete(checked)
    for (const peer of this.members.values()) peer.closeChannel(checked)
  }

  /**
   * Shares a `MediaStream` with every peer (and peers joining later) under
   * `label`: each gets `stream:add` and `track:add` with the label. Sharing
   * under a label already shared replaces its stream (the others get
   * `track:remove`/`stream:remove`, then the new one). With `managed`, the
   * room stops the stream's tracks when it is unshared, replaced or the
   * room is left. Media go through each connection's renegotiation, over
   * the connection itself. Throws `ERR_NOT_JOINED` or `ERR_INVALID_OPTION`;
   * a peer that cannot take the stream gets `error` (if listened to).
   * @example
   * ```js
   * const stream = await navigator.mediaDevices.getUserMedia({ video: true })
   * room.share({ label: 'camera', stream, managed: true })
   * room.on('stream:add', ({ peer, label, stream }) => show(peer.id, label, stream))
   * ```
   */
  share (options: ShareOptions): void {
    if (this.phase !== 'joined') throw roomError('share() needs a joined room', RoomErrorCode.NOT_JOINED)
    const { label, stream, managed } = checkShareOptions(options)
    const wasManaged = this.links.isManaged(label)
    const previous = this.links.share(label, stream, managed)
    if (previous === stream) return
    for (const peer of this.members.values()) {
      try {
        peer.shareRoomStream(label, stream)
      } catch (err) {
        this.fail(err)
      }
    }
    if (previous && wasManaged) stopTracks(previous)
  }

  /** Stops sharing `label` with every peer (`stream:remove` on their side); a managed stream's tracks are stopped. Throws `ERR_INVALID_OPTION` for a bad label. */
  unshare (label: string): void {
    const checked = checkLabel(label)
    const shared = this.links.unshare(checked)
    if (!shared) return
    for (const peer of this.members.values()) peer.unshareRoomStream(checked, shared.stream)
    if (shared.managed) stopTracks(shared.stream)
  }

  /**
   * Resolves once at least `n` peers are connected; without `n`, once every
   * peer known now is connected (or gone). Rejects with `ERR_NOT_JOINED` if
   * the room is left first, `ERR_INVALID_OPTION` for a bad `n`.
   * @example
   * ```js
   * await room.join()
   * await room.ready(2) // two others are connected
   * ```
   */
  ready (n?: number): Promise<void> {
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 0)) {
      return Promise.reject(roomError('ready() takes a whole number of peers', RoomErrorCode.INVALID_OPTION))
    }
    if (this.phase === 'left') return Promise.reject(roomError('the room was left', RoomErrorCode.NOT_JOINED))
    const connected = (peer: RoomPeer): boolean => peer.state === 'connected'
    if (n !== undefined) return this.links.wait(() => [...this.members.values()].filter(connected).length >= n)
    const known = [...this.members.values()]
    return this.links.wait(() => known.every(peer => connected(peer) || isFinal(peer.state)))
  }

  private onLinkEvent (peer: RoomPeer, event: LinkEvent): void {
    if (this.members.get(peer.id) !== peer) return
    switch (event.type) {
      case 'channel:new':
      case 'channel:open':
      case 'channel:close':
        this.fire(event.type, { peer, label: event.label })
        return
      case 'stream:add':
      case 'stream:remove':
        this.fire(event.type, { peer, label: event.label, stream: event.stream })
        return
      case 'track:add':
      case 'track:remove':
        this.fire(event.type, { peer, label: event.label, track: event.track, stream: event.stream })
    }
  }

  /** Whether delivered messages are taken: once subscribed (while joining too), until `leave()`. */
  private get listening (): boolean {
    return this.phase === 'joining' || this.phase === 'joined'
  }

  private targets (to: string | readonly string[] | undefined): RoomPeer[] {
    const live = (peer: RoomPeer | undefined): peer is RoomPeer => peer !== undefined && !isFinal(peer.state)
    if (to === undefined) return [...this.members.values()].filter(live)
    const ids = typeof to === 'string' ? [to] : to
    if (!Array.isArray(ids) || !ids.every(id => typeof id === 'string')) {
      throw roomError('to must be a peer id or an array of peer ids', RoomErrorCode.INVALID_OPTION)
    }
    const targets: RoomPeer[] = []
    for (const id of new Set(ids)) {
      const peer = this.members.get(id)
      if (live(peer)) targets.push(peer)
      else this.debug('send: %s is not in the room, skipped', id)
    }
    return targets
  }

  /** Takes one delivered message, in order of delivery. */
  private receive (topic: string, bytes: Uint8Array): void {
    this.inbound = this.inbound.then(async () => {
      if (this.listening) await this.handshake.receive(topic, bytes)
    }).catch(err => this.debug('signaling message failed: %s', errorMessage(err)))
  }

  /** The member `id` if it is of handshake session `session`. */
  private memberOf (id: string, session: string): RoomPeer | undefined {
    const peer = this.members.get(id)
    if (peer && this.sessions.get(peer) === session) return peer
    this.debug('message of %s (session %s), not a member, dropped', id, session.slice(0, 7))
    return undefined
  }

  /** A peer passed the handshake (both sides verified it): add it, replacing an older session of the same id. */
  private admit (id: string, metadata: JsonValue, session: string): void {
    if (!this.listening || id === this.localId) return
    const known = this.members.get(id)
    if (known && this.sessions.get(known) === session) return
    if (known) {
      this.debug('%s joined again: its new session replaces the old entry', id)
      this.departed.add(known)
      known.finish('closed')
    }
    this.addPeer(id, metadata, session)
  }

  private addPeer (id: string, metadata: JsonValue, session: string): boolean {
    if (this.members.size >= this.maxPeers) {
      this.debug('peer %s ignored: the room has maxPeers (%d)', id, this.maxPeers)
      return false
    }
    let peer: RoomPeer
    try {
      peer = new RoomPeer(this.host, {
        id,
        metadata,
        initiator: isInitiator(this.localId, id),
        config: this.config,
        wrtc: this.wrtc,
        connectionTimeout: this.connectionTimeout,
        maxMessageSize: this.maxMessageSize,
        stripes: this.stripes
      })
    } catch (err) {
      this.fail(err)
      return false
    }
    this.members.set(id, peer)
    this.sessions.set(peer, session)
    this.fire('peer:join', { peer })
    this.fire('connection:new', { peer })
    peer.start()
    return true
  }

  private onStateChanged (peer: RoomPeer, state: RoomPeerState, error?: RoomError | PeerError): void {
    switch (state) {
      case 'failed':
        this.fire('connection:failed', { peer, error: error ?? roomError('connection failed', RoomErrorCode.DRIVER) })
        break
      case 'connecting':
      case 'connected':
      case 'disconnected':
      case 'closed':
        this.fire(`connection:${state}`, { peer })
        break
      default:
        break
    }
    if (isFinal(state) && this.members.get(peer.id) === peer) {
      this.members.delete(peer.id)
      this.topics.delete(peer.id)
      const session = this.sessions.get(peer)
      if (session !== undefined) this.handshake.forget(session)
      this.fire('peer:leave', { peer })
      if (!this.departed.has(peer)) this.reannounce()
    }
    this.links.check()
  }

  /**
   * A connection was lost (not left): announces this peer again, once for
   * any number of losses in one tick, so that a peer still there meets it
   * anew (a new connection) once it has noticed the loss too.
   */
  private reannounce (): void {
    if (this.reannouncing || this.phase !== 'joined') return
    this.reannouncing = true
    queueMicrotask(() => {
      this.reannouncing = false
      if (this.phase !== 'joined') return
      this.debug('a connection was lost: announcing again')
      this.handshake.announce().catch(err => this.fail(err))
    })
  }

  private sendSignal (peer: RoomPeer, data: SignalData): void {
    const session = this.sessions.get(peer)
    if (!this.listening || session === undefined) return
    this.handshake.sendSignal(peer.id, session, data).catch(err => this.fail(err))
  }

  /** Publishes what `make()` returns, after what was published before (order is kept through the encryption). */
  private publish (topic: string | Promise<string>, make: () => Promise<Uint8Array | null>): Promise<void> {
    const done = this.outbound.then(async () => {
      const name = await topic
      const bytes = await make()
      if (!bytes) return
      if (bytes.byteLength > MAX_MESSAGE_BYTES) {
        this.debug('message of %d bytes not sent: over %d', bytes.byteLength, MAX_MESSAGE_BYTES)
        return
      }
      await this.driver.publish(name, bytes)
    })
    this.outbound = done.catch(() => undefined)
    return done
  }

  private topicOf (id: string): Promise<string> {
    let topic = this.topics.get(id)
    if (!topic) {
      topic = peerTopic(this.topic, id)
      this.topics.set(id, topic)
    }
    return topic
  }

  private nextTransfer (): number {
    this.transfers = this.transfers >= 0xffffffff ? 1 : this.transfers + 1
    return this.transfers
  }

  /** Replays `peer:join` to a new listener for each peer already here (on the next microtask, once it is added). */
  private replayJoins (listener: (...args: never[]) => void): void {
    const present = [...this.members.values()]
    if (present.length === 0) return
    queueMicrotask(() => {
      for (const peer of present) {
        // `once()` adds a wrapper: call it, so it runs once and removes itself.
        const registered = this.rawListeners('peer:join').find(l => l === listener || (l as { listener?: unknown }).listener === listener)
        if (!registered) return
        if (this.members.get(peer.id) !== peer) continue
        try {
          registered.call(this, { peer })
        } catch (err) {
          rethrow(err)
        }
      }
    })
  }

  /** Emits, surfacing a listener's exception as an uncaught one instead of letting it break the room's state. */
  private fire<E extends keyof RoomEventMap> (event: E, ...args: RoomEventMap[E]): void {
    try {
      (this.emit as (event: E, ...args: RoomEventMap[E]) => boolean)(event, ...args)
    } catch (err) {
      rethrow(err)
    }
  }

  /** A failure after join: `error` if listened to, a debug line otherwise. Coded errors keep their code; others get `ERR_DRIVER`. */
  private fail (err: unknown): void {
    const error = isCoded(err) ? err : roomError(err, RoomErrorCode.DRIVER)
    this.debug('signaling failed: %s', error.message)
    if (this.listenerCount('error') > 0) this.fire('error', error)
  }

  private debug (format: string, ...args: unknown[]): void {
    this.log(`[${this.localId.slice(0, 7)}] ${format}`, ...args)
  }
}

function isCoded (err: unknown): err is RoomError | PeerError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string'
}

function isDriver (value: unknown): value is Driver {
  if (value === null || typeof value !== 'object') return false
  const d = value as Record<string, unknown>
  return ['subscribe', 'unsubscribe', 'publish', 'close', 'on', 'off'].every(name => typeof d[name] === 'function')
}

function positive (value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw roomError(`${name} must be a positive number`, RoomErrorCode.INVALID_OPTION)
  }
  return value
}

/** The `stripes` option: an integer 1..{@link MAX_STRIPES} or `'auto'` (default 1); anything else throws `ERR_INVALID_OPTION`. */
function stripesOption (value: unknown): number | 'auto' {
  if (value === undefined) return 1
  if (value === 'auto') return value
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_STRIPES) {
    throw roomError(`stripes must be an integer from 1 to ${MAX_STRIPES}, or 'auto'`, RoomErrorCode.INVALID_OPTION)
  }
  return value
}

function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
