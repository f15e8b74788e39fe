/**
 * Carries one connection's signaling between our engine and the PeerServer:
 * the engine's `offer`/`answer`/`candidate` signals become `OFFER`/`ANSWER`/
 * `CANDIDATE` messages with PeerJS's payloads, and back.
 *
 * PeerJS does not renegotiate: only the first offer goes out, and the
 * engine's requests to renegotiate are dropped. Candidates are held until the
 * description they belong to has been sent, so the other side never gets a
 * candidate before the description.
 */
import type { Peer as Engine } from '../peer'
import type { SignalData } from '../signal'
import { MessageType, type SignalMessageType } from '../peerserver-protocol'

/** Which kind of connection. */
export type ConnectionKind = 'data' | 'media'

/** What the negotiator sends through. */
export interface NegotiatorHost {
  readonly connectionId: string
  readonly kind: ConnectionKind
  /** Extra fields of the offer payload (metadata, label, ...). */
  offerFields (): Record<string, unknown>
  /** Sends a message to the remote peer through the server. */
  send (type: SignalMessageType, payload: Record<string, unknown>): void
  log (message: string): void
}

/** A description as PeerJS puts it in payloads. */
interface SdpPayload { type: 'offer' | 'answer', sdp: string }

export class Negotiator {
  private described = false
  private held: RTCIceCandidateInit[] = []

  constructor (private readonly engine: Engine, private readonly host: NegotiatorHost) {
    engine.on('signal', (data: SignalData) => this.onSignal(data))
  }

  /** Hands a server message's payload to the engine. Returns false if it is malformed. */
  receive (type: string, payload: unknown): boolean {
    if (!payload || typeof payload !== 'object') return false
    const body = payload as Record<string, unknown>
    if (type === MessageType.OFFER || type === MessageType.ANSWER) {
      const sdp = readSdp(body.sdp, type === MessageType.OFFER ? 'offer' : 'answer')
      if (!sdp) return false
      this.engine.signal(sdp)
      return true
    }
    if (type === MessageType.CANDIDATE) {
      const candidate = body.candidate
      if (!candidate || typeof candidate !== 'object') return false
      const init = candidate as RTCIceCandidateInit
      // An empty candidate marks the end of candidates: nothing to add.
      if (typeof init.candidate !== 'string' || init.candidate === '') return true
      this.engine.signal({ type: 'candidate', candidate: init })
      return true
    }
    return false
  }

  private onSignal (data: SignalData): void {
    const { connectionId, kind } = this.host
    if (data.type === 'offer' || data.type === 'answer') {
      if (this.described) {
        this.host.log(`connection ${connectionId}: not sending a second ${data.type} (PeerJS does not renegotiate)`)
        return
      }
      this.described = true
      const sdp: SdpPayload = { type: data.type, sdp: data.sdp }
      if (data.type === 'offer') {
        this.host.send(MessageType.OFFER, { sdp, type: kind, connectionId, ...this.host.offerFields() })
      } else {
        this.host.send(MessageType.ANSWER, { sdp, type: kind, connectionId })
      }
      const held = this.held
      this.held = []
      for (const candidate of held) this.sendCandidate(candidate)
      return
    }
    if (data.type === 'candidate') {
      if (this.described) this.sendCandidate(data.candidate)
      else this.held.push(data.candidate)
      return
    }
    this.host.log(`connection ${connectionId}: dropping a ${data.type} signal (PeerJS does not renegotiate)`)
  }

  private sendCandidate (candidate: RTCIceCandidateInit): void {
    this.host.send(MessageType.CANDIDATE, { candidate, type: this.host.kind, connectionId: this.host.connectionId })
  }
}

function readSdp (value: unknown, expected: 'offer' | 'answer'): SdpPayload | null {
  if (typeof value === 'string') return { type: expected, sdp: value }
  if (!value || typeof value !== 'object') return null
  const { type, sdp } = value as { type?: unknown, sdp?: unknown }
  if (typeof sdp !== 'string' || sdp === '') return null
  return { type: type === 'offer' || type === 'answer' ? type : expected, sdp }
}
