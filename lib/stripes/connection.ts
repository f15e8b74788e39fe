/**
 * One extra connection of a striped stream: an `RTCPeerConnection` with one
 * ordered, reliable data channel labelled {@link STRIPE_LABEL}, signaled
 * inside the peer's own connection (its control channel). No media, no
 * renegotiation: whatever goes wrong with it is a failure of this stripe only.
 */
import { trackConnection } from '../exit'
import { Timers } from '../timers'
import { releaseChannel } from '../channel'
import { releaseConnection, type WebRTCImplementation } from '../webrtc'
import { STRIPE_LABEL, STRIPE_OPEN_TIMEOUT, STRIPE_DISCONNECT_TIMEOUT } from './constants'
import type { StripeSignal } from './messages'

/** Where a stripe connection stands. */
export type StripeConnectionState = 'connecting' | 'open' | 'closed'

/** What a stripe connection needs from its manager. */
export interface StripeConnectionHost {
  readonly wrtc: WebRTCImplementation
  readonly config: RTCConfiguration
  /** Sends a signal for this stripe to the remote. */
  signal (k: number, s: StripeSignal): void
  /** The stripe's channel is open. */
  opened (k: number, channel: RTCDataChannel, maxMessageSize: number | undefined): void
  /** The stripe failed or closed (once; not after {@link StripeConnection.close}). */
  failed (k: number, reason: string): void
  debug (format: string, ...args: unknown[]): void
}

export class StripeConnection {
  readonly k: number
  private readonly host: StripeConnectionHost
  private pc: RTCPeerConnection | null = null
  private channel: RTCDataChannel | null = null
  private state: StripeConnectionState = 'connecting'
  private remoteSet = false
  private readonly pendingCandidates: RTCIceCandidateInit[] = []
  /** Local candidates held until the description is signaled; `null` once it is. */
  private localCandidates: StripeSignal[] | null = []
  private readonly timers = new Timers<'open' | 'disconnect'>()

  /** Makes the connection; the side that offers ({@link offer}) creates the channel. */
  constructor (k: number, host: StripeConnectionHost) {
    this.k = k
    this.host = host
    const pc = new host.wrtc.RTCPeerConnection(host.config)
    this.pc = pc
    trackConnection(pc)
    pc.onicecandidate = event => {
      if (this.state === 'closed') return
      const c = event.candidate
      if (!c || !c.candidate) return
      const signal: StripeSignal = { type: 'candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } }
      // A candidate found before the offer or answer went out waits for it (the remote drops a candidate of an unknown stripe).
      if (this.localCandidates) this.localCandidates.push(signal)
      else this.host.signal(k, signal)
    }
    pc.oniceconnectionstatechange = () => this.onIceState()
    pc.onconnectionstatechange = () => {
      if (this.pc?.connectionState === 'failed') this.fail('connection failed')
    }
    pc.ondatachannel = event => {
      if (this.channel || event.channel.label !== STRIPE_LABEL) return
      this.attach(event.channel)
    }
    this.timers.set('open', STRIPE_OPEN_TIMEOUT, () => this.fail('did not open in time'))
  }

  /** Where this stripe stands. */
  get current (): StripeConnectionState { return this.state }

  private get isClosed (): boolean { return this.state === 'closed' }

  /** Creates the channel and sends the offer (the initiator's side). */
  offer (): void {
    const pc = this.pc
    if (!pc) return
    this.attach(pc.createDataChannel(STRIPE_LABEL, { ordered: true }))
    pc.createOffer()
      .then(async offer => {
        if (this.isClosed) return
        await pc.setLocalDescription(offer)
        // The description createOffer() gave, not pc.localDescription (a torn read while ICE gathers).
        if (!this.isClosed) this.described({ type: 'offer', sdp: offer.sdp ?? '' })
      })
      .catch(err => this.fail(`offer failed: ${(err as Error).message}`))
  }

  /** A signal from the remote for this stripe. */
  onSignal (s: StripeSignal): void {
    const pc = this.pc
    if (!pc || this.state === 'closed') return
    if (s.type === 'candidate') {
      if (this.remoteSet) this.addCandidate(s.candidate)
      else this.pendingCandidates.push(s.candidate)
      return
    }
    if (this.remoteSet) return this.fail(`unexpected ${s.type}`)
    this.remoteSet = true
    const answering = s.type === 'offer'
    pc.setRemoteDescription({ type: s.type, sdp: s.sdp })
      .then(async () => {
        for (const c of this.pendingCandidates.splice(0)) this.addCandidate(c)
        if (!answering || this.isClosed) return
        const answer = await pc.createAnswer()
        if (this.isClosed) return
        await pc.setLocalDescription(answer)
        if (!this.isClosed) this.described({ type: 'answer', sdp: answer.sdp ?? '' })
      })
      .catch(err => this.fail(`${s.type} refused: ${(err as Error).message}`))
  }

  /** Closes the connection; no more calls to the host. */
  close (): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.timers.clearAll()
    const channel = this.channel
    this.channel = null
    if (channel) releaseChannel(channel)
    const pc = this.pc
    this.pc = null
    if (pc) releaseConnection(pc)
  }

  private attach (channel: RTCDataChannel): void {
    this.channel = channel
    channel.binaryType = 'arraybuffer'
    channel.onopen = () => {
      if (this.state !== 'connecting') return
      this.state = 'open'
      this.timers.clear('open')
      let max: number | undefined
      try { max = this.pc?.sctp?.maxMessageSize } catch { /* unknown */ }
      this.host.opened(this.k, channel, max)
    }
    channel.onclose = () => this.fail('channel closed')
    channel.onerror = () => this.fail('channel failed')
  }

  /** Signals the local description, then the candidates found before it. */
  private described (s: StripeSignal): void {
    this.host.signal(this.k, s)
    const held = this.localCandidates ?? []
    this.localCandidates = null
    for (const c of held) this.host.signal(this.k, c)
  }

  private addCandidate (candidate: RTCIceCandidateInit): void {
    this.pc?.addIceCandidate(candidate).catch(err => this.host.debug('stripe %d: candidate refused: %s', this.k, (err as Error).message))
  }

  private onIceState (): void {
    const state = this.pc?.iceConnectionState
    if (state === 'failed' || state === 'closed') return this.fail(`ICE ${state}`)
    if (state === 'disconnected') {
      this.timers.set('disconnect', STRIPE_DISCONNECT_TIMEOUT, () => this.fail(`ICE disconnected for ${STRIPE_DISCONNECT_TIMEOUT} ms`))
    } else {
      this.timers.clear('disconnect')
    }
  }

  private fail (reason: string): void {
    if (this.state === 'closed') return
    this.close()
    this.host.failed(this.k, reason)
  }
}

/** The RTT (seconds) of `pc`'s selected candidate pair, if known. */
export async function readRoundTripTime (pc: RTCPeerConnection): Promise<number | null> {
  try {
    const stats = await pc.getStats()
    let rtt: number | null = null
    stats.forEach((report: Record<string, unknown>) => {
      if (report.type === 'candidate-pair' && (report.nominated || report.selected || report.state === 'succeeded') &&
          typeof report.currentRoundTripTime === 'number') {
        rtt = rtt === null ? report.currentRoundTripTime : Math.min(rtt, report.currentRoundTripTime)
      }
    })
    return rtt
  } catch {
    return null
  }
}
