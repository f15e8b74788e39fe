/**
 * ICE candidates: the local ones become `candidate` signals (trickle) or wait
 * inside the SDP (non-trickle); remote ones are held until a remote
 * description exists, then added.
 */
import { makeError, ErrorCode, type PeerError } from './errors'
import type { WebRTCImplementation } from './webrtc'
import type { CandidateSignal } from './signal'
import { call } from './util'
import { Timers } from './timers'

/** What the candidate handler needs from its peer. */
export interface IceHost {
  readonly pc: RTCPeerConnection | null
  readonly wrtc: WebRTCImplementation
  readonly trickle: boolean
  readonly iceCompleteTimeout: number
  debug (...args: unknown[]): void
  signal (data: CandidateSignal): void
  fail (err: PeerError): void
  /** Gathering ended, or was cut short by the timeout (`timedOut`). */
  gatheringDone (timedOut: boolean): void
}

export class IceCandidates {
  private readonly host: IceHost
  private pending: RTCIceCandidateInit[] = []
  /** Whether a remote description has been applied. */
  private remoteSet = false
  private complete = false
  private readonly timers = new Timers<'gathering'>()

  constructor (host: IceHost) {
    this.host = host
  }

  /** Whether local gathering has ended (or timed out). */
  get gatheringComplete (): boolean { return this.complete }

  /** Handles the connection's `icecandidate` event. */
  onLocalCandidate (candidate: RTCIceCandidate | null | undefined): void {
    if (candidate && candidate.candidate) {
      if (this.host.trickle) {
        this.host.signal({
          type: 'candidate',
          candidate: { candidate: candidate.candidate, sdpMLineIndex: candidate.sdpMLineIndex ?? undefined, sdpMid: candidate.sdpMid ?? undefined }
        })
      }
      this.startTimer()
    } else if (!this.complete) {
      this.finish(false)
    }
  }

  /**
   * A remote candidate: added now if a remote description is set, else held.
   * Whether one is set is tracked here ({@link flushPending}) rather than read
   * from `pc.remoteDescription`: in @roamhq/wrtc every read of it is a blocking
   * call to the signaling thread that serializes the whole SDP, twice over.
   */
  addRemote (candidate: RTCIceCandidateInit): void {
    if (!this.host.pc) return
    if (this.remoteSet) this.add(candidate)
    else this.pending.push(candidate)
  }

  /** A remote description is set: adds the held candidates, and later ones at once. */
  flushPending (): void {
    this.remoteSet = true
    const held = this.pending
    this.pending = []
    for (const candidate of held) this.add(candidate)
  }

  /** Clears the gathering timer. */
  stop (): void {
    this.timers.clearAll()
    this.pending = []
  }

  private add (init: RTCIceCandidateInit): void {
    const pc = this.host.pc
    if (!pc) return
    let candidate: RTCIceCandidateInit | RTCIceCandidate = init
    try {
      const Ctor = this.host.wrtc.RTCIceCandidate
      if (Ctor) candidate = new Ctor(init)
    } catch (err) {
      this.host.fail(makeError(err, ErrorCode.ADD_ICE_CANDIDATE))
      return
    }
    call(() => pc.addIceCandidate(candidate)).catch(err => {
      if (!this.host.pc) return
      if (isUnresolvableCandidate(candidate)) {
        this.host.debug('ignoring unsupported ICE candidate', init.candidate)
      } else {
        this.host.fail(makeError(err, ErrorCode.ADD_ICE_CANDIDATE))
      }
    })
  }

  private startTimer (): void {
    if (this.timers.has('gathering') || this.complete) return
    this.timers.set('gathering', this.host.iceCompleteTimeout, () => {
      if (!this.complete) this.finish(true)
    })
  }

  private finish (timedOut: boolean): void {
    this.complete = true
    this.timers.clear('gathering')
    this.host.gatheringDone(timedOut)
  }
}

/** mDNS (`.local`) and address-less candidates may be rejected harmlessly. */
function isUnresolvableCandidate (candidate: RTCIceCandidateInit | RTCIceCandidate): boolean {
  const address = (candidate as { address?: unknown }).address
  if (typeof address === 'string') return address === '' || address.endsWith('.local')
  const text = typeof candidate.candidate === 'string' ? candidate.candidate : ''
  const parts = text.split(' ')
  const host = parts.length > 4 ? parts[4] : ''
  return host === '' || host.endsWith('.local')
}
