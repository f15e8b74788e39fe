/**
 * The signaling objects on the wire, exactly as simple-peer 9.x sends them,
 * and the parsing of whatever the application hands to `signal()`.
 */

/** An SDP offer or answer. */
export interface SdpSignal {
  /** Which kind of session description. */
  type: 'offer' | 'answer' | 'pranswer' | 'rollback'
  /** The session description. */
  sdp: string
}

/** One trickled ICE candidate. */
export interface CandidateSignal {
  /** Always `'candidate'`. */
  type: 'candidate'
  /** The candidate, as `RTCIceCandidate#toJSON()` gives it. */
  candidate: RTCIceCandidateInit
}

/** The non-initiator asks the initiator to make a new offer. */
export interface RenegotiateSignal {
  /** Always `'renegotiate'`. */
  type: 'renegotiate'
  /** Always `true`. */
  renegotiate: true
  /**
   * `true` when the offer asked for must restart ICE (`peer.restartIce()` on
   * the non-initiator; a duplex-peer extension, which simple-peer ignores).
   */
  iceRestart?: true
}

/** The non-initiator asks the initiator to add a transceiver. */
export interface TransceiverRequestSignal {
  /** Always `'transceiverRequest'`. */
  type: 'transceiverRequest'
  /** The transceiver wanted. */
  transceiverRequest: {
    /** `'audio'` or `'video'`. */
    kind: string,
    /** Its `RTCRtpTransceiverInit`, if any. */
    init?: RTCRtpTransceiverInit
  }
}

/**
 * Anything a peer emits in its `signal` event, for the application to carry
 * to the other peer. The objects are simple-peer 9.x's, so either end may be
 * a simple-peer.
 * @example
 * ```json
 * { "type": "candidate", "candidate": { "candidate": "candidate:1 1 udp 2122260223 192.0.2.2 54321 typ host", "sdpMid": "0", "sdpMLineIndex": 0 } }
 * ```
 */
export type SignalData = SdpSignal | CandidateSignal | RenegotiateSignal | TransceiverRequestSignal

/** What a received signal asks for, once checked. */
export interface ParsedSignal {
  renegotiate: boolean
  /** Present when the renegotiation asked for must restart ICE. */
  iceRestart?: true
  transceiverRequest?: { kind: string, init?: RTCRtpTransceiverInit }
  candidate?: RTCIceCandidateInit
  description?: RTCSessionDescriptionInit
}

const SDP_TYPES = new Set(['offer', 'answer', 'pranswer', 'rollback'])

/**
 * Reads `signal()`'s argument. Strings are JSON (unparsable text counts as an
 * empty object, as in simple-peer). Returns `null` when the data asks for
 * nothing a peer understands, which is a signaling error.
 */
export function parseSignal (input: unknown): ParsedSignal | null {
  let data: unknown = input
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data)
    } catch {
      data = {}
    }
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null
  const obj = data as Record<string, unknown>
  const parsed: ParsedSignal = { renegotiate: !!obj.renegotiate }
  if (parsed.renegotiate && obj.iceRestart === true) parsed.iceRestart = true

  const request = obj.transceiverRequest
  if (request && typeof request === 'object' && typeof (request as { kind?: unknown }).kind === 'string') {
    const { kind, init } = request as { kind: string, init?: unknown }
    parsed.transceiverRequest = { kind, init: init && typeof init === 'object' ? init : undefined }
  }

  const candidate = obj.candidate
  if (candidate && typeof candidate === 'object') {
    parsed.candidate = candidate
  } else if (typeof candidate === 'string' && candidate) {
    // Some signaling layers flatten the candidate object.
    parsed.candidate = {
      candidate,
      sdpMid: typeof obj.sdpMid === 'string' ? obj.sdpMid : undefined,
      sdpMLineIndex: typeof obj.sdpMLineIndex === 'number' ? obj.sdpMLineIndex : undefined
    }
  }

  if (obj.sdp) {
    if (typeof obj.sdp !== 'string' || typeof obj.type !== 'string' || !SDP_TYPES.has(obj.type)) return null
    parsed.description = { type: obj.type as RTCSdpType, sdp: obj.sdp }
  }

  if (!parsed.renegotiate && !parsed.transceiverRequest && !parsed.candidate && !parsed.description) return null
  return parsed
}

/** Removes the trickle ICE option from an SDP, for peers that do not trickle. */
export function removeTrickleOption (sdp: string): string {
  return sdp.replace(/a=ice-options:trickle\s\n/g, '')
}
