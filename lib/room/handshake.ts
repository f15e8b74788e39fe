/**
 * The authenticated handshake of room signaling, and the per-pair encryption
 * of everything after it. One `Handshake` per joined `Room`.
 *
 * Each join makes a new session: an ECDH P-256 key pair. Two sessions meet in
 * four messages (wire format in `codec.ts`, keys in `crypto.ts`), A being the
 * session that announced and B one already in the room:
 *
 * 1. `announce` A → room topic: A's public key `pA`, nonce `nA`, time, and
 *    A's id sealed under the announce key (from the room secret: only
 *    members with the same room id and password can read it).
 * 2. `hello` B → A: `pB`, `nB`, and B's proof: the HMAC, under the proof key
 *    (room secret), of the transcript (room topic, `pA`, `nA`, `pB`, `nB`);
 *    B's id and metadata sealed under the pair key of (`pA`, `pB`).
 * 3. `confirm` A → B: A's proof over the same transcript (a different
 *    label), A's metadata sealed under the pair key. Sent only if A's
 *    `verify` admits B.
 * 4. `accept` B → A, sealed under the pair key, once B's `verify` admitted A.
 *
 * B admits A (the room adds it: `peer:join`, connection) on a valid
 * `confirm`, A admits B on `accept`; WebRTC signaling and `leave` follow,
 * sealed under the pair key. Each proof covers the other side's fresh nonce,
 * so it cannot be replayed, and both public keys, so a key swapped by the
 * broker fails it; the pair key also depends on the room secret. A sealed
 * box authenticates its context as additional data (topic, sender and
 * recipient keys, transcript); each side numbers what it sends to the other
 * session (the counter is sealed), and a message whose counter is not greater
 * than the last one taken is a replay, dropped. Announces older or newer
 * than {@link ANNOUNCE_WINDOW} are dropped, and so is an announce nonce seen
 * before.
 *
 * Everything delivered is untrusted: {@link Handshake.receive} never throws;
 * what it cannot use is dropped with a debug line.
 */
import type { SignalData } from '../signal'
import {
  deriveRoomKeys, generateSessionKeys, derivePairKey, fingerprint, seal, open, prove, checkProof,
  randomBytes, toBase64, utf8, NONCE_BYTES, type RoomKeys, type SessionKeys
} from './crypto'
import { encodeEnvelope, parseEnvelope, type AnnounceEnvelope, type ConfirmEnvelope, type HelloEnvelope, type PairEnvelope } from './codec'
import { encodePeerMessage, parseJsonObject, parsePeerMessage, isPeerId, type JsonValue, type PeerMessage } from './protocol'

/** What `verify` is told of a peer that wants to connect. */
export interface VerifyInfo {
  /** The peer's id. */
  readonly id: string
  /** The peer's metadata, as it joined with it (authenticated by the handshake, not by the broker). */
  readonly metadata: JsonValue
}

/** The `verify` option of a room: `true` admits the peer; anything else, a throw or a rejection refuses it. */
export type VerifyFunction = (peer: VerifyInfo) => boolean | Promise<boolean>

/** How far an announce's time may be from ours (either way), in ms. */
export const ANNOUNCE_WINDOW = 10 * 60e3

/** Most announce nonces remembered (to drop a replayed announce). */
const MAX_SEEN = 4096

/** How many of our own latest announces a hello may answer. */
const OWN_ANNOUNCES = 4

/** @internal What a handshake needs from its room. */
export interface HandshakeHost {
  /** Publishes what `make()` returns (nothing if `null`) on `topic`, after what was published before. */
  publish (topic: string | Promise<string>, make: () => Promise<Uint8Array | null>): Promise<void>
  /** The peer topic of `id`. */
  topicOf (id: string): Promise<string>
  /** A peer proved itself and was verified on both sides: add it to the room (or replace an older session of it). */
  admit (id: string, metadata: JsonValue, session: string): void
  /** Signaling data from session `session` of peer `id`. */
  signal (id: string, session: string, data: SignalData): void
  /** Session `session` of peer `id` left. */
  leave (id: string, session: string): void
  /** This side's metadata (sent in the handshake). */
  localMetadata (): JsonValue
  /** Whether the room still takes messages. */
  listening (): boolean
  /** A publication failed. */
  fail (err: unknown): void
  /** Logs. */
  debug (format: string, ...args: unknown[]): void
}

/** @internal Options of a handshake. */
export interface HandshakeOptions {
  readonly roomId: string
  readonly password?: string
  readonly localId: string
  readonly verify?: VerifyFunction
  /** Most remote sessions remembered at once. */
  readonly maxSessions: number
}

/** What this side knows of one remote session (one key pair). */
interface Session {
  readonly fingerprint: string
  readonly publicKey: Uint8Array
  readonly key: CryptoKey
  /** The peer id of the session, once a sealed message told it. */
  id: string | null
  /** Messages sealed for it so far (the last counter used). */
  sent: number
  /** The greatest counter taken from it. */
  received: number
  /** As responder: the hello we sent (our nonce) and the announce nonce it answered. */
  hello: { readonly ours: Uint8Array, readonly theirs: Uint8Array } | null
  /** As announcer: we sent `confirm` and wait for `accept`, with its metadata. */
  awaiting: { readonly metadata: JsonValue } | null
  /** Whether the room was told to admit it. */
  admitted: boolean
}

/** @internal The handshake and pair encryption of one joined room. */
export class Handshake {
  private readonly options: HandshakeOptions
  private readonly host: HandshakeHost
  private keys: RoomKeys | null = null
  private local: SessionKeys | null = null
  private roomTopic = ''
  private ownTopic = ''
  /** Remote sessions by fingerprint, oldest first. */
  private readonly sessions = new Map<string, Session>()
  /** Announce nonces taken, with their time. */
  private readonly seen = new Map<string, number>()
  /** Our latest announce nonces (base64url). */
  private readonly announced: string[] = []

  /** A handshake for one join; nothing happens until {@link Handshake.start}. */
  constructor (options: HandshakeOptions, host: HandshakeHost) {
    this.options = options
    this.host = host
  }

  /** Derives the room keys and makes this session's key pair. */
  async start (roomTopic: string, ownTopic: string): Promise<void> {
    this.roomTopic = roomTopic
    this.ownTopic = ownTopic
    this.keys = await deriveRoomKeys(this.options.roomId, this.options.password)
    this.local = await generateSessionKeys()
  }

  /** This session's key fingerprint (after `start()`). */
  get fingerprint (): string {
    return this.local?.fingerprint ?? ''
  }

  /** Publishes an announce on the room topic. */
  announce (): Promise<void> {
    return this.host.publish(this.roomTopic, async () => {
      const { keys, local } = this.ready()
      const n = randomBytes(NONCE_BYTES)
      const nonce = toBase64(n)
      this.announced.push(nonce)
      if (this.announced.length > OWN_ANNOUNCES) this.announced.shift()
      const t = Date.now()
      const b = await seal(keys.announce, utf8(JSON.stringify({ from: this.options.localId })), this.announceData(local.publicKey, n, t))
      return encodeEnvelope({ k: 'announce', p: local.publicKey, n, t, b })
    })
  }

  /** Sends WebRTC signaling data to session `session` of peer `id`. */
  sendSignal (id: string, session: string, data: SignalData): Promise<void> {
    return this.sendPair(session, id, { type: 'signal', from: this.options.localId, to: id, data })
  }

  /** Tells session `session` of peer `id` that we leave. */
  sendLeave (id: string, session: string): Promise<void> {
    return this.sendPair(session, id, { type: 'leave', from: this.options.localId, to: id })
  }

  /** The sessions we confirmed that have not accepted yet (they may have added us already), as `[id, session]`. */
  confirmed (): Array<[string, string]> {
    const out: Array<[string, string]> = []
    for (const session of this.sessions.values()) {
      if (session.awaiting && session.id !== null && !session.admitted) out.push([session.id, session.fingerprint])
    }
    return out
  }

  /** The room no longer knows session `session` (it left or failed): a new handshake may admit it again. */
  forget (session: string): void {
    const known = this.sessions.get(session)
    if (known) known.admitted = false
  }

  /** Takes one delivered message. Never throws; drops what it cannot use with a debug line. */
  async receive (topic: string, bytes: Uint8Array): Promise<void> {
    if (!this.keys || !this.local) return
    const envelope = parseEnvelope(bytes)
    if (!envelope) return void this.drop('malformed signaling message of %d bytes', bytes.byteLength)
    try {
      if (topic === this.roomTopic) {
        if (envelope.k !== 'announce') return void this.drop('%s on the room topic', envelope.k)
        return await this.onAnnounce(envelope)
      }
      if (topic !== this.ownTopic) return void this.drop('message on an unknown topic')
      switch (envelope.k) {
        case 'hello': return await this.onHello(envelope)
        case 'confirm': return await this.onConfirm(envelope)
        case 'pair': return await this.onPair(envelope)
        default: return void this.drop('announce on a peer topic')
      }
    } catch (err) {
      void this.drop('%s failed: %s', envelope.k, err instanceof Error ? err.message : String(err))
    }
  }

  private async onAnnounce (envelope: AnnounceEnvelope): Promise<void> {
    const { keys, local } = this.ready()
    if (equal(envelope.p, local.publicKey)) return
    const now = Date.now()
    if (Math.abs(now - envelope.t) > ANNOUNCE_WINDOW) return void this.drop('announce out of the time window (%d ms off)', now - envelope.t)
    const nonce = toBase64(envelope.n)
    if (this.seen.has(nonce)) return void this.drop('replayed announce')
    const plain = await open(keys.announce, envelope.b, this.announceData(envelope.p, envelope.n, envelope.t))
    const from = plain && parseJsonObject(plain)?.from
    if (!isPeerId(from)) return void this.drop('announce not sealed for this room (another password?) or tampered')
    if (from === this.options.localId) return void this.drop('announce of another session with our id')
    this.remember(nonce, now)
    const session = await this.sessionOf(envelope.p)
    if (!session) return
    if (session.id !== null && session.id !== from) return void this.drop('announce of session %s under another id', session.fingerprint)
    session.id = from
    const ours = randomBytes(NONCE_BYTES)
    session.hello = { ours, theirs: envelope.n }
    const transcript = this.transcript(envelope.p, envelope.n, local.publicKey, ours)
    const topic = this.host.topicOf(from)
    this.host.publish(topic, async () => {
      const m = await prove(keys.proof, `hello proof\n${transcript}`)
      const message: PeerMessage = { type: 'hello', from: this.options.localId, to: from, counter: ++session.sent, metadata: this.host.localMetadata() }
      const b = await seal(session.key, encodePeerMessage(message), `hello\n${transcript}\n${await topic}`)
      return encodeEnvelope({ k: 'hello', p: local.publicKey, n: ours, r: envelope.n, m, b })
    }).catch(err => this.host.fail(err))
  }

  private async onHello (envelope: HelloEnvelope): Promise<void> {
    const { keys, local } = this.ready()
    if (!this.announced.includes(toBase64(envelope.r))) return void this.drop('hello that answers no announce of ours')
    const transcript = this.transcript(local.publicKey, envelope.r, envelope.p, envelope.n)
    if (!await checkProof(keys.proof, envelope.m, `hello proof\n${transcript}`)) {
      return void this.drop('hello with a wrong proof (another password, or a key swapped)')
    }
    const session = await this.sessionOf(envelope.p)
    if (!session) return
    const message = await this.openPeerMessage(session, envelope.b, `hello\n${transcript}\n${this.ownTopic}`, 'hello')
    if (!message || message.type !== 'hello') return
    const { from, metadata } = message
    // verify() may take its time: the handshake waits for it, other messages do not.
    this.afterVerify(from, metadata, () => {
      session.awaiting = { metadata }
      const topic = this.host.topicOf(from)
      this.host.publish(topic, async () => {
        const m = await prove(keys.proof, `confirm proof\n${transcript}`)
        const reply: PeerMessage = { type: 'confirm', from: this.options.localId, to: from, counter: ++session.sent, metadata: this.host.localMetadata() }
        const b = await seal(session.key, encodePeerMessage(reply), `confirm\n${transcript}\n${await topic}`)
        return encodeEnvelope({ k: 'confirm', f: local.fingerprint, r: envelope.n, m, b })
      }).catch(err => this.host.fail(err))
    })
  }

  private async onConfirm (envelope: ConfirmEnvelope): Promise<void> {
    const { keys, local } = this.ready()
    const session = this.sessions.get(envelope.f)
    const hello = session?.hello
    if (!session || !hello || !equal(hello.ours, envelope.r)) return void this.drop('confirm that answers no hello of ours')
    const transcript = this.transcript(session.publicKey, hello.theirs, local.publicKey, hello.ours)
    if (!await checkProof(keys.proof, envelope.m, `confirm proof\n${transcript}`)) {
      return void this.drop('confirm with a wrong proof (another password, or a key swapped)')
    }
    const message = await this.openPeerMessage(session, envelope.b, `confirm\n${transcript}\n${this.ownTopic}`, 'confirm')
    if (!message || message.type !== 'confirm') return
    session.hello = null
    const { from, metadata } = message
    this.afterVerify(from, metadata, () => {
      // `accept` is queued before the room adds the peer, so it goes out before any signal to it.
      this.sendPair(session.fingerprint, from, { type: 'accept', from: this.options.localId, to: from }).catch(err => this.host.fail(err))
      this.admit(session, metadata)
    })
  }

  private async onPair (envelope: PairEnvelope): Promise<void> {
    const session = this.sessions.get(envelope.f)
    if (!session) return void this.drop('message of an unknown session')
    const message = await this.openPeerMessage(session, envelope.b, this.pairData(this.ownTopic, envelope.f, this.ready().local.fingerprint), 'pair')
    if (!message) return
    const id = message.from
    switch (message.type) {
      case 'accept': {
        const awaiting = session.awaiting
        if (!awaiting) return void this.drop('accept of %s that answers no confirm', id)
        session.awaiting = null
        if (this.host.listening()) this.admit(session, awaiting.metadata)
        return
      }
      case 'signal':
        this.host.signal(id, session.fingerprint, message.data)
        return
      case 'leave':
        session.admitted = false
        this.host.leave(id, session.fingerprint)
        return
      default:
        this.drop('%s in a pair message', message.type)
    }
  }

  private admit (session: Session, metadata: JsonValue): void {
    if (session.id === null) return
    session.admitted = true
    this.host.admit(session.id, metadata, session.fingerprint)
  }

  /**
   * Opens a sealed peer message of `session`: the right kind, for us, from
   * the session's id (or its first message), with a counter greater than any
   * taken from it. `null` (with a debug line) otherwise.
   */
  private async openPeerMessage (session: Session, box: Uint8Array, data: string, kind: 'hello' | 'confirm' | 'pair'): Promise<PeerMessage | null> {
    const plain = await open(session.key, box, data)
    const message = plain && parsePeerMessage(plain)
    if (!message) return this.drop('%s not sealed for us, tampered or malformed', kind)
    if ((kind === 'pair') === (message.type === 'hello' || message.type === 'confirm') || (kind !== 'pair' && message.type !== kind)) {
      return this.drop('%s in a %s envelope', message.type, kind)
    }
    if (message.to !== this.options.localId) return this.drop('%s for another peer', message.type)
    if (message.from === this.options.localId || (session.id !== null && session.id !== message.from)) {
      return this.drop('%s of session %s under another id', message.type, session.fingerprint)
    }
    if (message.counter <= session.received) return this.drop('replayed %s (counter %d, last %d)', message.type, message.counter, session.received)
    session.received = message.counter
    session.id = message.from
    return message
  }

  private sendPair (fingerprint: string, id: string, message: DistributiveOmit<PeerMessage, 'counter'>): Promise<void> {
    const topic = this.host.topicOf(id)
    return this.host.publish(topic, async () => {
      const session = this.sessions.get(fingerprint)
      if (!session) {
        this.host.debug('%s to %s not sent: its session is unknown', message.type, id)
        return null
      }
      const local = this.ready().local
      const plain = encodePeerMessage({ ...message, counter: ++session.sent })
      const b = await seal(session.key, plain, this.pairData(await topic, local.fingerprint, fingerprint))
      return encodeEnvelope({ k: 'pair', f: local.fingerprint, b })
    })
  }

  /** Runs `then` once `verify` admitted the peer, if the room still listens. */
  private afterVerify (id: string, metadata: JsonValue, then: () => void): void {
    this.verify(id, metadata).then(ok => {
      if (ok && this.host.listening()) then()
    }).catch(err => this.host.fail(err))
  }

  /** Calls `verify`: `true` admits; a throw, a rejection or anything else refuses. */
  private async verify (id: string, metadata: JsonValue): Promise<boolean> {
    const verify = this.options.verify
    if (!verify) return true
    try {
      if (await verify({ id, metadata }) === true) return true
      this.host.debug('peer %s refused by verify()', id)
    } catch (err) {
      this.host.debug('peer %s refused: verify() failed: %s', id, err instanceof Error ? err.message : String(err))
    }
    return false
  }

  /** The session of a public key, made (pair key derived) if new; `null` if the key is invalid or there are too many. */
  private async sessionOf (publicKey: Uint8Array): Promise<Session | null> {
    const { keys, local } = this.ready()
    const print = await fingerprint(publicKey)
    const known = this.sessions.get(print)
    if (known) return known
    const key = await derivePairKey(local, publicKey, keys)
    if (!key) return this.drop('invalid public key')
    if (this.sessions.has(print)) return this.sessions.get(print) ?? null
    if (this.sessions.size >= this.options.maxSessions) {
      const idle = [...this.sessions.values()].find(s => !s.admitted)
      if (!idle) return this.drop('too many sessions')
      this.sessions.delete(idle.fingerprint)
    }
    const session: Session = { fingerprint: print, publicKey, key, id: null, sent: 0, received: 0, hello: null, awaiting: null, admitted: false }
    this.sessions.set(print, session)
    return session
  }

  private remember (nonce: string, now: number): void {
    this.seen.set(nonce, now)
    if (this.seen.size <= MAX_SEEN) return
    for (const [key, time] of this.seen) {
      if (this.seen.size <= MAX_SEEN && now - time <= ANNOUNCE_WINDOW) break
      this.seen.delete(key)
    }
  }

  private transcript (announcerKey: Uint8Array, announcerNonce: Uint8Array, responderKey: Uint8Array, responderNonce: Uint8Array): string {
    return [this.roomTopic, toBase64(announcerKey), toBase64(announcerNonce), toBase64(responderKey), toBase64(responderNonce)].join('\n')
  }

  private announceData (publicKey: Uint8Array, nonce: Uint8Array, time: number): string {
    return `announce\n${this.roomTopic}\n${toBase64(publicKey)}\n${toBase64(nonce)}\n${time}`
  }

  private pairData (topic: string, sender: string, recipient: string): string {
    return `pair\n${topic}\n${sender}\n${recipient}`
  }

  private ready (): { keys: RoomKeys, local: SessionKeys } {
    if (!this.keys || !this.local) throw new Error('the handshake was not started')
    return { keys: this.keys, local: this.local }
  }

  private drop (format: string, ...args: unknown[]): null {
    this.host.debug(`dropped: ${format}`, ...args)
    return null
  }
}

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function equal (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
