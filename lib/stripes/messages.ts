/**
 * The striping messages of the control channel (see `lib/stripes/manager.ts`), read
 * from the remote: hostile until {@link parseStripeMessage} accepts them.
 */
import { makeError, ErrorCode, type PeerError } from '../errors'
import { MAX_STRIPES, STRIPES_VERSION } from './constants'

/** A signal for one stripe connection, in simple-peer's shape. */
export type StripeSignal =
  | { type: 'offer' | 'answer', sdp: string }
  | { type: 'candidate', candidate: { candidate: string, sdpMid?: string | null, sdpMLineIndex?: number | null } }

/** Striping messages added to the control channel. */
export type StripeMessage =
  /** The sender allows up to `max` connections; `auto` when it lets the initiator choose how many to use. */
  | { t: 'stripes', v: number, max: number, auto: boolean }
  /** Signaling of stripe connection `k` (1..max-1). */
  | { t: 'stripe', k: number, s: StripeSignal }
  /** The sender closed stripe `k` (it failed, or `'auto'` dropped it). */
  | { t: 'stripe-close', k: number }
  /** The sender's stream bytes from `at` on travel as frames on the stripes. */
  | { t: 'framed', at: number }

/**
 * The answer of a peer that does not stripe (`stripes: 1`) to the remote's
 * `stripes` message, so that the remote need not wait to learn it; `null` for
 * any other message. Only ever sent to a peer that asked.
 */
export function noStripesReply (message: Record<string, unknown>): StripeMessage | null {
  return message.t === 'stripes' ? { t: 'stripes', v: STRIPES_VERSION, max: 1, auto: false } : null
}

/** Longest SDP accepted in a stripe signal (characters). */
export const MAX_SDP_LENGTH = 64 * 1024
/** Longest ICE candidate line accepted (characters). */
export const MAX_CANDIDATE_LENGTH = 1024

/** The message types this module reads; anything else is not a striping message. */
export const STRIPE_MESSAGE_TYPES: ReadonlySet<unknown> = new Set(['stripes', 'stripe', 'stripe-close', 'framed'])

const invalid = (what: string): PeerError => makeError(`invalid striping message: ${what}`, ErrorCode.STRIPE_PROTOCOL)

const isIndex = (k: unknown): k is number => Number.isSafeInteger(k) && (k as number) >= 1 && (k as number) < MAX_STRIPES

/**
 * Checks a control message whose `t` is one of {@link STRIPE_MESSAGE_TYPES}.
 * Returns the message, rebuilt from its checked fields only, or an
 * `ERR_STRIPE_PROTOCOL` error saying what is wrong. Never throws.
 */
export function parseStripeMessage (message: Record<string, unknown>): StripeMessage | PeerError {
  switch (message.t) {
    case 'stripes': {
      const { v, max, auto } = message
      if (v !== STRIPES_VERSION) return invalid('unknown version')
      if (!Number.isSafeInteger(max) || (max as number) < 1) return invalid('bad max')
      if (auto !== undefined && typeof auto !== 'boolean') return invalid('bad auto')
      return { t: 'stripes', v, max: Math.min(max as number, MAX_STRIPES), auto: auto === true }
    }
    case 'stripe': {
      if (!isIndex(message.k)) return invalid('bad stripe index')
      const s = parseSignal(message.s)
      return s instanceof Error ? s : { t: 'stripe', k: message.k, s }
    }
    case 'stripe-close':
      return isIndex(message.k) ? { t: 'stripe-close', k: message.k } : invalid('bad stripe index')
    case 'framed':
      return Number.isSafeInteger(message.at) && (message.at as number) >= 0
        ? { t: 'framed', at: message.at as number }
        : invalid('bad switch point')
    default:
      return invalid('unknown type')
  }
}

function parseSignal (s: unknown): StripeSignal | PeerError {
  if (s === null || typeof s !== 'object') return invalid('signal is not an object')
  const { type, sdp, candidate } = s as Record<string, unknown>
  if (type === 'offer' || type === 'answer') {
    if (typeof sdp !== 'string' || sdp.length === 0 || sdp.length > MAX_SDP_LENGTH) return invalid('bad sdp')
    return { type, sdp }
  }
  if (type === 'candidate') {
    if (candidate === null || typeof candidate !== 'object') return invalid('bad candidate')
    const c = candidate as Record<string, unknown>
    if (typeof c.candidate !== 'string' || c.candidate.length > MAX_CANDIDATE_LENGTH) return invalid('bad candidate')
    if (c.sdpMid != null && (typeof c.sdpMid !== 'string' || c.sdpMid.length > 64)) return invalid('bad sdpMid')
    if (c.sdpMLineIndex != null && (!Number.isSafeInteger(c.sdpMLineIndex) || (c.sdpMLineIndex as number) < 0 || (c.sdpMLineIndex as number) > 64)) {
      return invalid('bad sdpMLineIndex')
    }
    return {
      type,
      candidate: {
        candidate: c.candidate,
        sdpMid: (c.sdpMid) ?? null,
        sdpMLineIndex: (c.sdpMLineIndex as number | null | undefined) ?? null
      }
    }
  }
  return invalid('unknown signal type')
}
