/**
 * Offer/answer. As in simple-peer, only the initiator makes offers; the other
 * side asks for one with a `renegotiate` signal. Changes made in the same tick
 * are batched into one negotiation, and a change made while one is in flight is
 * queued and negotiated once the connection is stable again.
 */
import { makeError, ErrorCode, type ErrorCodeValue, type PeerError } from './errors'
import { removeTrickleOption, type SdpSignal, type RenegotiateSignal } from './signal'
import type { WebRTCImplementation } from './webrtc'
import { checkRemoteSdp, repairConnectionLines } from './validation'
import { call } from './util'
import { Timers } from './timers'

/** What negotiation needs from its peer. */
export interface NegotiationHost {
  readonly pc: RTCPeerConnection | null
  readonly wrtc: WebRTCImplementation
  readonly initiator: boolean
  readonly trickle: boolean
  readonly allowHalfTrickle: boolean
  readonly offerOptions: RTCOfferOptions
  readonly answerOptions: RTCAnswerOptions
  readonly gatheringComplete: boolean
  sdpTransform (sdp: string): string
  debug (...args: unknown[]): void
  signal (data: SdpSignal | RenegotiateSignal): void
  fail (err: PeerError): void
  /** A remote description was applied: held candidates may be added. */
  remoteDescriptionSet (): void
  /** The non-initiator answered: it may now ask for transceivers the offer lacked. */
  answered (): void
  /** A negotiation ended in `stable` with nothing queued. */
  negotiated (): void
  /** Signaling is stable again: removals that had to wait may be done. Returns true if any were. */
  stable (): boolean
}

/** Where the negotiation stands. */
export type NegotiationState =
  /** Nothing in flight. */
  | 'idle'
  /** An offer or a request for one is out; waiting for the connection to be stable. */
  | 'negotiating'
  /** Stopped for good (the peer was destroyed): nothing more is done. */
  | 'stopped'

export class Negotiation {
  private readonly host: NegotiationHost
  private phase: NegotiationState = 'idle'
  private queued = false
  private batched = false
  private first = true
  private readonly timers = new Timers<'offer'>()
  /** A description waiting for ICE gathering to end (non-trickle). */
  private waitingForGathering: (() => void) | null = null
  /** The last remote description applied, to ignore repeats. */
  private lastRemote: RTCSessionDescriptionInit | null = null
  /** The next offer restarts ICE (`restartIce()`). */
  private restartPending = false

  constructor (host: NegotiationHost) {
    this.host = host
  }

  private get stopped (): boolean { return this.phase === 'stopped' }

  /**
   * Something changed that needs negotiating. Every call in one tick makes one
   * negotiation. The non-initiator's first call (from its constructor) is
   * dropped: the initiator's first offer covers it.
   */
  needed (): void {
    if (this.batched || this.stopped) return
    this.batched = true
    queueMicrotask(() => {
      this.batched = false
      if (this.stopped) return
      if (this.host.initiator || !this.first) this.negotiate()
      else this.host.debug('non-initiator initial negotiation request discarded')
      this.first = false
    })
  }

  /** Starts a negotiation now, or queues one if another is in flight. */
  negotiate (): void {
    if (this.stopped) return
    if (this.phase === 'negotiating') {
      this.host.debug('already negotiating, queueing')
      this.queued = true
      return
    }
    this.phase = 'negotiating'
    if (this.host.initiator) {
      this.timers.set('offer', 0, () => this.createOffer())
    } else {
      this.host.debug('requesting negotiation from initiator')
      this.host.signal({ type: 'renegotiate', renegotiate: true })
    }
  }

  /**
   * Restarts ICE: the initiator's next offer (made now, or once the one in
   * flight is answered) gets `iceRestart`; the non-initiator asks the
   * initiator for such an offer.
   */
  restartIce (): void {
    if (this.stopped) return
    if (!this.host.initiator) {
      this.host.debug('requesting an ICE restart from initiator')
      this.host.signal({ type: 'renegotiate', renegotiate: true, iceRestart: true })
      return
    }
    this.restartPending = true
    this.needed()
  }

  /** Applies a remote offer or answer; answers an offer. */
  setRemoteDescription (description: RTCSessionDescriptionInit): void {
    const pc = this.host.pc
    if (!pc) return
    // A signaling layer that delivers a message twice must not restart the negotiation.
    if (this.lastRemote && this.lastRemote.type === description.type && this.lastRemote.sdp === description.sdp) {
      this.host.debug('ignoring a repeated %s', description.type)
      return
    }
    this.lastRemote = description
    const invalid = checkRemoteSdp(description.sdp ?? '')
    if (invalid) {
      this.failWith(invalid, ErrorCode.SET_REMOTE_DESCRIPTION)
      return
    }
    const remote = { type: description.type, sdp: repairConnectionLines(description.sdp ?? '') }
    call(() => {
      const Ctor = this.host.wrtc.RTCSessionDescription
      return pc.setRemoteDescription(Ctor ? new Ctor(remote) : remote)
    }).then(() => {
      if (this.stopped) return
      this.host.remoteDescriptionSet()
      if (description.type === 'offer') this.createAnswer()
    }).catch(err => this.failWith(err, ErrorCode.SET_REMOTE_DESCRIPTION))
  }

  /** Signaling state changed. */
  onSignalingState (state: RTCSignalingState): void {
    if (this.stopped || state !== 'stable') return
    this.phase = 'idle'
    if (this.host.stable()) this.queued = true
    if (this.queued) {
      this.queued = false
      this.host.debug('flushing queued negotiation')
      this.needed()
    } else {
      this.host.debug('negotiated')
      this.host.negotiated()
    }
  }

  /** ICE gathering ended: a description held for it goes out. */
  onGatheringDone (): void {
    const send = this.waitingForGathering
    this.waitingForGathering = null
    if (send) send()
  }

  /** No more negotiation: timers cleared. */
  stop (): void {
    this.phase = 'stopped'
    this.timers.clearAll()
    this.waitingForGathering = null
  }

  private createOffer (): void {
    const pc = this.host.pc
    if (!pc || this.stopped) return
    const options = this.restartPending ? { ...this.host.offerOptions, iceRestart: true } : this.host.offerOptions
    if (this.restartPending) this.host.debug('offer restarts ICE')
    this.restartPending = false
    call(() => pc.createOffer(options)).then(
      offer => this.applyLocal(pc, offer, 'offer'),
      err => this.failWith(err, ErrorCode.CREATE_OFFER)
    ).catch(err => this.failWith(err, ErrorCode.CREATE_OFFER))
  }

  private createAnswer (): void {
    const pc = this.host.pc
    if (!pc || this.stopped) return
    call(() => pc.createAnswer(this.host.answerOptions)).then(
      answer => this.applyLocal(pc, answer, 'answer'),
      err => this.failWith(err, ErrorCode.CREATE_ANSWER)
    ).catch(err => this.failWith(err, ErrorCode.CREATE_ANSWER))
  }

  private applyLocal (pc: RTCPeerConnection, description: RTCSessionDescriptionInit, kind: 'offer' | 'answer'): void {
    if (this.stopped) return
    let sdp = description.sdp ?? ''
    if (!this.host.trickle && !this.host.allowHalfTrickle) sdp = removeTrickleOption(sdp)
    try {
      sdp = this.host.sdpTransform(sdp)
    } catch (err) {
      this.failWith(err, kind === 'offer' ? ErrorCode.CREATE_OFFER : ErrorCode.CREATE_ANSWER)
      return
    }
    const local = { type: description.type, sdp }
    call(() => pc.setLocalDescription(local)).then(() => {
      if (this.stopped) return
      const send = (): void => {
        if (this.stopped) return
        // With trickle, the description as set: candidates go out on their
        // own. Reading `pc.localDescription` while ICE gathers races with
        // the native thread adding candidates to it: @roamhq/wrtc serializes
        // it without a lock, and was seen to crash there, or to return a
        // torn SDP (`c=IN IP6 192.0.2.2`). Without trickle it is read once
        // gathering is complete, when nothing changes it any more.
        const current = this.host.trickle ? local : safeDescription(pc) ?? local
        this.host.debug('signal', kind)
        this.host.signal({ type: current.type, sdp: repairConnectionLines(current.sdp ?? '') })
        if (kind === 'answer') this.host.answered()
      }
      if (this.host.trickle || this.host.gatheringComplete) send()
      else this.waitingForGathering = send
    }, err => this.failWith(err, ErrorCode.SET_LOCAL_DESCRIPTION)).catch(err => this.failWith(err, ErrorCode.SET_LOCAL_DESCRIPTION))
  }

  private failWith (err: unknown, code: ErrorCodeValue): void {
    if (this.stopped) return
    this.host.fail(makeError(err, code))
  }
}

function safeDescription (pc: RTCPeerConnection): RTCSessionDescriptionInit | null {
  try {
    return pc.localDescription
  } catch {
    return null
  }
}
